#include <gtest/gtest.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "common/file_system.h"
#include "thorough/bench.h"
#include "thorough/deployer.h"
#include "thorough/emulator.h"
#include "thorough/kube.h"
#include "thorough/kv_log.h"
#include "thorough/sse.h"
#include "thorough/stats.h"
#include "thorough/thorough.h"

namespace dyprof {
namespace {

TEST(Sse, SplitsEventsAcrossArbitraryChunks) {
  std::string stream = "data: {\"a\":1}\n\n: comment\r\ndata: x\r\ndata: y\r\n\r\nevent: e\ndata: [DONE]\n\n";
  for (size_t step : {1u, 3u, 7u, 1000u}) {
    SseParser p;
    std::vector<std::string> events;
    for (size_t i = 0; i < stream.size(); i += step)
      p.Feed(std::string_view(stream).substr(i, step), [&](const std::string& d) { events.push_back(d); });
    ASSERT_EQ(events.size(), 3u) << step;
    EXPECT_EQ(events[0], "{\"a\":1}");
    EXPECT_EQ(events[1], "x\ny");
    EXPECT_EQ(events[2], "[DONE]");
  }
}

TEST(Stats, PercentilesInterpolateLikeNumpy) {
  std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 3.7);
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 4);
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0);
  MetricSummary s = Summarize({10, 20, 30});
  EXPECT_DOUBLE_EQ(s.avg, 20);
  EXPECT_DOUBLE_EQ(s.p99, 29.8);
  EXPECT_EQ(s.ToJson("ms")["unit"], "ms");
}

TEST(Bench, SummaryUsesAiperfDefinitions) {
  BenchConfig c;
  std::vector<RequestRecord> recs(3);
  recs[0] = {true, false, "", 0.0, 1.0, 100, 400, 100, 4, 64};
  recs[1] = {true, false, "", 0.5, 2.0, 200, 500, 100, 4, 64};
  recs[2].error = "HTTP 500";
  BenchReport r = SummarizeRecords(c, recs);
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(r.errors, 1);
  EXPECT_DOUBLE_EQ(r.ttft.avg, 150);
  EXPECT_DOUBLE_EQ(r.output_token_throughput, 8 / 2.0);
  Json j = r.ToAiperfJson();
  EXPECT_DOUBLE_EQ(*AiperfMetric(j, "time_to_first_token", "avg"), 150);
  EXPECT_DOUBLE_EQ(*AiperfMetric(j, "output_token_throughput", "avg"), 4);
  Json body = BuildRequestBody(c, "a b");
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["ignore_eos"], true);
  EXPECT_EQ(body["min_tokens"], body["max_tokens"]);
}

TEST(KvLog, ParsesEachBackendsLine) {
  EXPECT_EQ(ParseKvCapacityFromLog(Backend::kVllm,
                                   "INFO x\nINFO Maximum concurrency for 40,960 tokens per request: 18.07x\n", 2),
            static_cast<int64_t>(40960 * 18.07) * 2);
  EXPECT_EQ(ParseKvCapacityFromLog(Backend::kSglang, "KV Cache is allocated. #tokens: 123456, K size: 1 GB", 4),
            123456 * 4);
  EXPECT_EQ(ParseKvCapacityFromLog(Backend::kTrtllm,
                                   "[TensorRT-LLM][INFO] Allocated 10.00 GiB for max tokens in paged KV cache (98304).", 0),
            98304);
  EXPECT_EQ(ParseKvCapacityFromLog(Backend::kVllm, "nothing here", 1), 0);
  // The emulator's lines round-trip.
  for (Backend b : {Backend::kVllm, Backend::kSglang, Backend::kTrtllm}) {
    int64_t got = ParseKvCapacityFromLog(b, KvCapacityLogLine(b, 500000, 40960, 12.5), 1);
    EXPECT_GE(got, 500000) << BackendName(b);
    EXPECT_LE(got, 500000 + 410) << BackendName(b);
  }
}

TEST(KvLog, DecodeSweepFollowsReference) {
  EXPECT_EQ(DecodeConcurrencySweep(1, 100, 6), (std::vector<int>{1, 20, 40, 60, 80, 100}));
  EXPECT_EQ(DecodeConcurrencySweep(1, 4, 6), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(DecodeConcurrencySweep(1, 5000, 2), (std::vector<int>{1, 2000}));
  EXPECT_TRUE(DecodeConcurrencySweep(1, 0, 6).empty());
}

TEST(Thorough, RowBuildersAndDepFormula) {
  ParallelSplit s;
  s.tp = 2;
  StageRow p = PrefillRowFromTtft(Backend::kVllm, s, 100, 4000);
  EXPECT_DOUBLE_EQ(p.seq_per_s, 10);
  EXPECT_DOUBLE_EQ(p.seq_per_s_per_gpu, 5);
  StageRow d = DecodeRowFromMeasurement(Backend::kVllm, s, 20, 1000, 64, 500);
  EXPECT_DOUBLE_EQ(d.seq_per_s, 4);
  EXPECT_DOUBLE_EQ(d.tokens_per_s_per_user, 50);
  EXPECT_DOUBLE_EQ(DepPrefillTtft(400, 10), (400 - 10 * 4 * 3) / 4.0);
}

TEST(CommandTemplate, ExpandsPlaceholdersWithoutAShell) {
  auto argv = ExpandCommandTemplate("vllm serve {model} --tp {tp} --port={port} 'a b;rm -rf /' \"x\\\"y\" $HOME",
                                    {{"model", "Qwen/Qwen3-32B"}, {"tp", "4"}, {"port", "8000"}});
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(*argv, (std::vector<std::string>{"vllm", "serve", "Qwen/Qwen3-32B", "--tp", "4", "--port=8000",
                                             "a b;rm -rf /", "x\"y", "$HOME"}));
  EXPECT_FALSE(ExpandCommandTemplate("x {nope}", {}).ok());
  EXPECT_FALSE(ExpandCommandTemplate("x 'open", {}).ok());
  EXPECT_FALSE(ExpandCommandTemplate("  ", {}).ok());
}

// A stand-in for the API server: DGDs become Ready after `ready_after` GETs (never when < 0).
class FakeApiServer {
 public:
  explicit FakeApiServer(int ready_after) : ready_after_(ready_after) {
    const std::string base = R"(/apis/nvidia.com/v1alpha1/namespaces/ns1/dynamographdeployments)";
    srv_.Post(base, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      auto j = Json::parse(req.body);
      std::string name = j["metadata"]["name"];
      objects_[name] = j;
      gets_[name] = 0;
      log_.push_back("create " + name + " auth=" + req.get_header_value("Authorization"));
      res.status = 201;
      res.set_content(j.dump(), "application/json");
    });
    srv_.Get(base + R"(/([a-z0-9-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      std::string name = req.matches[1];
      if (!objects_.count(name)) {
        res.status = 404;
        return;
      }
      Json j = objects_[name];
      if (ready_after_ >= 0 && ++gets_[name] > ready_after_)
        j["status"] = {{"state", "successful"}, {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
      else
        j["status"] = {{"state", "pending"}};
      log_.push_back("get " + name);
      res.set_content(j.dump(), "application/json");
    });
    srv_.Delete(base + R"(/([a-z0-9-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      std::string name = req.matches[1];
      log_.push_back("delete " + name);
      res.status = objects_.erase(name) ? 200 : 404;
    });
    srv_.Get("/api/v1/namespaces/ns1/pods", [this](const httplib::Request& req, httplib::Response& res) {
      std::string sel = req.get_param_value("labelSelector");
      std::lock_guard<std::mutex> l(mu_);
      log_.push_back("pods " + sel);
      Json items = Json::array();
      if (sel.find("decode") != std::string::npos) items.push_back({{"metadata", {{"name", "pod-d0"}}}});
      res.set_content(Json{{"items", items}}.dump(), "application/json");
    });
    srv_.Get(R"(/api/v1/namespaces/ns1/pods/([a-z0-9-]+)/log)", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("KV Cache is allocated. #tokens: 4242\n", "text/plain");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
  }
  ~FakeApiServer() {
    srv_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }
  size_t live() {
    std::lock_guard<std::mutex> l(mu_);
    return objects_.size();
  }

 private:
  int ready_after_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, Json> objects_;
  std::map<std::string, int> gets_;
  std::vector<std::string> log_;
};

DeploymentRequest KubeRequest(const std::string& dir) {
  DeploymentRequest r;
  r.name = "decode-tp2";
  r.role = "decode";
  r.work_dir = dir;
  r.dgd = {{"spec", {{"services", {{"Frontend", Json::object()}, {"VllmDecodeWorker", Json::object()}}}}}};
  return r;
}

TEST(KubeDeployer, CreatePollLogsDelete) {
  FakeApiServer api(2);
  HttplibClient http;
  RestKubeClient kube(&http, api.url(), "tok123");
  KubeDeployerOptions o;
  o.ns = "ns1";
  o.poll_interval_s = 0.02;
  o.timeout_s = 5;
  KubeDeployer dep(o, &kube, &http);
  std::string dir = ::testing::TempDir() + "/kube_ok";
  DeploymentRequest req = KubeRequest(dir);
  auto d = dep.Deploy(req, nullptr);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->url, "http://" + d->name + "-frontend.ns1.svc.cluster.local:8000");
  auto logs = dep.FetchLogs(req, *d);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(ParseKvCapacityFromLog(Backend::kSglang, *logs, 1), 4242);
  PosixFileSystem fs;
  EXPECT_TRUE(fs.IsFile(dir + "/" + d->name + "/vllmdecodeworker/0.log"));
  ASSERT_TRUE(dep.Remove(*d).ok());
  EXPECT_EQ(api.live(), 0u);
  auto log = api.log();
  ASSERT_GE(log.size(), 5u);
  EXPECT_EQ(log.front(), "create " + d->name + " auth=Bearer tok123");
  EXPECT_EQ(std::count(log.begin(), log.end(), "get " + d->name), 3);
  EXPECT_EQ(log.back(), "delete " + d->name);
}

TEST(KubeDeployer, TimeoutDeletesTheDeployment) {
  FakeApiServer api(-1);
  HttplibClient http;
  RestKubeClient kube(&http, api.url(), "");
  KubeDeployerOptions o;
  o.ns = "ns1";
  o.poll_interval_s = 0.02;
  o.timeout_s = 0.2;
  KubeDeployer dep(o, &kube, &http);
  auto d = dep.Deploy(KubeRequest(::testing::TempDir() + "/kube_to"), nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(api.live(), 0u);
  EXPECT_EQ(api.log().back().rfind("delete ", 0), 0u);
}

// An emulator serving on a loopback port from a thread of this process; Stop() (or the end of
// scope) stops it.
class ServingEmulator {
 public:
  explicit ServingEmulator(const EmulatorOptions& o) {
    auto emu = Emulator::Create(o, fs_);
    EXPECT_TRUE(emu.ok()) << emu.status().message();
    if (!emu.ok()) return;
    emu_ = std::move(*emu);
    auto port = emu_->Bind();
    EXPECT_TRUE(port.ok());
    port_ = port.ok() ? *port : 0;
    serve_ = std::thread([this] { emu_->Serve(); });
  }
  ~ServingEmulator() { Stop(); }
  void Stop() {
    if (!serve_.joinable()) return;
    emu_->Stop();
    serve_.join();
  }
  bool ok() const { return serve_.joinable(); }
  Emulator& emulator() { return *emu_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  PosixFileSystem fs_;
  std::unique_ptr<Emulator> emu_;
  int port_ = 0;
  std::thread serve_;
};

TEST(Emulator, BenchAgreesWithTheEmulatorsOwnTiming) {
  EmulatorOptions o;
  o.model = "Qwen/Qwen3-32B";
  o.split.tp = 2;
  o.port = 0;
  o.speedup = 4;
  o.http_threads = 64;
  ServingEmulator emu(o);
  ASSERT_TRUE(emu.ok());
  HttplibClient http;
  BenchConfig c;
  c.url = emu.url();
  c.model = o.model;
  c.isl = 256;
  c.osl = 24;
  c.concurrency = 4;
  c.requests = 12;
  c.time_scale = o.speedup;
  auto rep = RunBench(c, http);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->completed, 12);
  EXPECT_EQ(rep->prompt_tokens.avg, 256);
  EXPECT_EQ(rep->output_tokens.avg, 24);
  EmulatorStats s = emu.emulator().Stats();
  EXPECT_EQ(s.finished, 12);
  // The client times from before it sends to the first chunk it reads, the emulator from receipt
  // to the chunk it writes: the client's figure is the larger by the HTTP round trip and the
  // scheduling of its reader, which on a 2-core machine reaches ~1 ms of real time (× the speedup),
  // 2.2 ms with a build running beside the tests, and 4–9 ms at a load average of 13–26 from other
  // jobs on the machine. Allow 5 % or 10 real ms: a client that timed anything but the first chunk
  // would be off by whole inter-token latencies (23 of them to the last chunk).
  const double slack_ms = std::max(0.05 * s.avg_ttft_ms, 10.0 * o.speedup);
  EXPECT_GE(rep->ttft.avg, 0.99 * s.avg_ttft_ms);
  EXPECT_LE(rep->ttft.avg, s.avg_ttft_ms + slack_ms);
  EXPECT_NEAR(rep->itl.avg, s.avg_itl_ms, std::max(0.05 * s.avg_itl_ms, 0.5 * o.speedup));
  // The completions endpoint and an unreachable server are handled too.
  c.endpoint = "completions";
  c.requests = 2;
  EXPECT_EQ(RunBench(c, http)->completed, 2);
  emu.Stop();
  c.requests = 3;
  auto down = RunBench(c, http);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->completed, 0);
  EXPECT_EQ(down->errors + down->timeouts, 3);
}

// Run sizes beyond the bounds are argument errors before any prompt is made (an isl of 2e9 used
// to reserve ~14 GB per prompt, and every prompt of the run was made up front). An open loop of
// many short-lived arrivals finishes with one record each (its threads are detached and counted,
// not kept until the end).
TEST(Bench, BoundsAndAManyArrivalOpenLoop) {
  HttplibClient http;
  BenchConfig c;
  c.url = "http://127.0.0.1:9";  // discard port: nothing listens
  c.model = "m";
  c.timeout_s = 5;
  BenchConfig big = c;
  big.isl = kMaxBenchTokens + 1;
  ASSERT_FALSE(RunBench(big, http).ok());
  EXPECT_NE(RunBench(big, http).status().message().find("--isl and --osl must be at most"), std::string::npos);
  BenchConfig warm = c;
  warm.warmup = -1;
  EXPECT_FALSE(RunBench(warm, http).ok());
  BenchConfig timeout = c;
  timeout.timeout_s = 0;
  EXPECT_FALSE(RunBench(timeout, http).ok());
  BenchConfig open = c;
  open.request_rate = 1e6;
  open.requests = 2000;
  auto rep = RunBench(open, http);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->completed + rep->errors + rep->timeouts, 2000);
  EXPECT_EQ(rep->completed, 0);
}

// URLs: a port outside 1-65535 or not a number is refused (port 99999 used to reach connect() and
// fail as "Connection"); a bad --url fails before any request is sent.
TEST(Bench, BadUrlsAreRefusedUpFront) {
  EXPECT_TRUE(ParseUrl("http://127.0.0.1:65535/v1").ok());
  EXPECT_EQ(ParseUrl("127.0.0.1:8000")->port, 8000);  // no scheme: http
  for (const char* bad : {"http://127.0.0.1:99999", "http://h:0", "http://h:abc", "http://h:", "http://h:-1",
                          "ftp://h", "http://"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
  }
  EXPECT_NE(ParseUrl("http://h:99999").status().message().find("expected 1-65535"), std::string::npos);
  HttplibClient http;
  BenchConfig c;
  c.url = "http://127.0.0.1:99999";
  c.model = "m";
  auto r = RunBench(c, http);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--url: bad port"), std::string::npos) << r.status().message();
}

// Mistyped streaming flags get a 400 naming the field (the emulator answered 500 from an escaped
// JSON type error); a well-formed request on the same server still completes.
TEST(Emulator, MistypedStreamFlagsAreA400NamingTheField) {
  EmulatorOptions o;
  o.model = "Qwen/Qwen3-32B";
  o.port = 0;
  o.speedup = 50;
  ServingEmulator emu(o);
  ASSERT_TRUE(emu.ok());
  HttplibClient http;
  const std::string url = emu.url() + "/v1/completions";
  auto post = [&](const std::string& extra) {
    return http.Send("POST", url, R"({"model":"Qwen/Qwen3-32B","prompt":"a b c","max_tokens":2)" + extra + "}",
                     {{"Content-Type", "application/json"}});
  };
  auto bad = post(R"(,"stream":"yes")");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("stream: expected a boolean, found a string"), std::string::npos) << bad->body;
  auto bad_options = post(R"(,"stream":true,"stream_options":[1])");
  ASSERT_TRUE(bad_options.ok());
  EXPECT_EQ(bad_options->status, 400);
  EXPECT_NE(bad_options->body.find("stream_options: expected an object"), std::string::npos) << bad_options->body;
  auto good = post(R"(,"stream":false,"stream_options":null)");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200) << good->body;
}

// A deployer that never comes up (or reports an interrupt), counting what the sweep asked of it.
class RefusingDeployer : public Deployer {
 public:
  explicit RefusingDeployer(Status status) : status_(std::move(status)) {}
  Result<LiveDeployment> Deploy(const DeploymentRequest& r, const std::atomic<bool>*) override {
    roles.push_back(r.role);
    return status_;
  }
  Result<std::string> FetchLogs(const DeploymentRequest&, const LiveDeployment&) override { return std::string(); }
  bool IsHealthy(const LiveDeployment&) override { return false; }
  Status Remove(const LiveDeployment&) override { return Status::Ok(); }
  void RemoveAll() override { ++remove_all; }
  std::vector<std::string> roles;
  int remove_all = 0;

 private:
  Status status_;
};

DgdrSpec CurveSpec() {
  DgdrSpec spec;
  spec.model = "Qwen/Qwen3-32B";
  spec.backend = Backend::kVllm;
  spec.hardware = HardwareSpec{"h200_sxm", std::nullopt, 8, 8, std::nullopt, std::nullopt};
  return spec;
}

Decision DisaggDecision() {
  Decision d;
  d.produced = true;
  d.disagg = true;
  d.backend = Backend::kVllm;
  d.prefill.split.tp = 2;
  d.decode.split.tp = 4;
  return d;
}

TEST(ThoroughCurves, FailedDeploymentsSkipTheCurvesAndCleanUp) {
  MemFileSystem fs;
  Logger log;
  RefusingDeployer deployer(Status::Timeout("not ready within 1 s"));
  CurveOptions co;
  co.output_dir = "/out";
  co.max_context_length = 4096;
  co.prefill_granularity = 3;
  co.decode_granularity = 3;
  auto curves = MeasureThoroughCurves(CurveSpec(), DisaggDecision(), co, ThoroughOptions{}, fs, log, &deployer);
  ASSERT_TRUE(curves.ok()) << curves.status().message();
  EXPECT_TRUE(curves->empty());
  EXPECT_EQ(deployer.roles, (std::vector<std::string>{"prefill", "decode"}));  // each picked engine once
  EXPECT_GE(deployer.remove_all, 1);
  EXPECT_TRUE(fs.IsFile("/out/selected_prefill_interpolation/config.yaml"));
  EXPECT_FALSE(fs.IsFile("/out/selected_prefill_interpolation/raw_data.npz"));
  bool warned = false;
  for (const auto& w : log.warnings()) warned |= w.find("failed to deploy") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(ThoroughCurves, InterruptStopsTheSweep) {
  MemFileSystem fs;
  Logger log;
  RefusingDeployer deployer(Status::Interrupted("signal"));
  CurveOptions co;
  co.output_dir = "/out";
  co.max_context_length = 4096;
  co.prefill_granularity = 3;
  auto curves = MeasureThoroughCurves(CurveSpec(), DisaggDecision(), co, ThoroughOptions{}, fs, log, &deployer);
  ASSERT_FALSE(curves.ok());
  EXPECT_EQ(curves.status().code(), StatusCode::kInterrupted);
  EXPECT_EQ(deployer.roles, (std::vector<std::string>{"prefill"}));
  EXPECT_GE(deployer.remove_all, 1);
}

TEST(ThoroughCurves, TooSmallContextFailsBeforeDeploying) {
  MemFileSystem fs;
  Logger log;
  RefusingDeployer deployer(Status::Timeout("x"));
  CurveOptions co;
  co.output_dir = "/out";
  co.max_context_length = 600;
  auto curves = MeasureThoroughCurves(CurveSpec(), DisaggDecision(), co, ThoroughOptions{}, fs, log, &deployer);
  EXPECT_EQ(curves.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(deployer.roles.empty());
}

}  // namespace
}  // namespace dyprof

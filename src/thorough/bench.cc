#include "thorough/bench.h"

#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "thorough/process.h"
#include "thorough/sse.h"

namespace dyprof {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* const kWords[] = {"alpha", "bravo", "charlie", "delta", "echo",   "foxtrot", "golf",   "hotel",
                              "india", "juliet", "kilo",   "lima",  "mike",   "november", "oscar", "papa",
                              "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "yankee"};

// Text pieces of one SSE chunk (chat delta content or completion text); -1 when none.
int CountTokensInChunk(const Json& j, bool* has_text) {
  *has_text = false;
  if (!j.contains("choices") || !j["choices"].is_array()) return 0;
  for (const auto& c : j["choices"]) {
    const Json* text = nullptr;
    if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content")) text = &c["delta"]["content"];
    if (c.contains("text")) text = &c["text"];
    if (text && text->is_string() && !text->get<std::string>().empty()) *has_text = true;
  }
  return *has_text ? 1 : 0;
}

RequestRecord RunOne(const BenchConfig& c, HttpClient& http, const std::string& prompt) {
  RequestRecord rec;
  std::string path = c.endpoint == "completions" ? "/v1/completions" : "/v1/chat/completions";
  std::string body = BuildRequestBody(c, prompt).dump();
  SseParser parser;
  double first = -1, last = -1;
  int chunks = 0;
  int usage_completion = -1;
  bool done = false;
  std::string stream_error;
  rec.start_s = Now();
  double deadline = rec.start_s + c.timeout_s;
  auto on_data = [&](std::string_view bytes) {
    double t = Now();
    parser.Feed(bytes, [&](const std::string& data) {
      if (data == "[DONE]") {
        done = true;
        return;
      }
      auto j = ParseJson(data);
      if (!j.ok() || !j->is_object()) return;
      if (j->contains("error")) {
        stream_error = (*j)["error"].dump();
        return;
      }
      bool has_text = false;
      int n = CountTokensInChunk(*j, &has_text);
      if (has_text) {
        if (first < 0) first = t;
        last = t;
        chunks += n;
      }
      if (j->contains("usage") && (*j)["usage"].is_object()) {
        const Json& u = (*j)["usage"];
        if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
          rec.prompt_tokens = u["prompt_tokens"].get<int>();
        if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
          usage_completion = u["completion_tokens"].get<int>();
      }
    });
    if (c.cancel && c.cancel->load()) return false;
    return t < deadline;
  };
  auto r = http.Send("POST", c.url + path, body, {{"Accept", "text/event-stream"}}, on_data, c.timeout_s);
  rec.end_s = Now();
  if (!r.ok()) {
    rec.timed_out = r.status().code() == StatusCode::kTimeout || rec.end_s >= deadline;
    rec.error = rec.timed_out ? "timeout" : r.status().message();
    return rec;
  }
  if (r->status != 200) {
    rec.error = fmt::format("HTTP {}", r->status);
    return rec;
  }
  if (!stream_error.empty()) {
    rec.error = "stream error: " + stream_error;
    return rec;
  }
  if (first < 0) {
    rec.error = "no tokens in the response";
    return rec;
  }
  (void)done;
  rec.ok = true;
  rec.output_tokens = usage_completion > 0 ? usage_completion : chunks;
  rec.ttft_ms = (first - rec.start_s) * 1000.0 * c.time_scale;
  rec.e2e_ms = (last - rec.start_s) * 1000.0 * c.time_scale;
  rec.itl_ms = rec.output_tokens > 1 ? (rec.e2e_ms - rec.ttft_ms) / (rec.output_tokens - 1) : 0;
  return rec;
}

// The prompt of request `index` of `phase` (0 warm-up, 1 measured): made when the request is
// sent, from its own seeded generator, so a run never holds more than its in-flight prompts and
// the prompts do not depend on the order the client threads take them in.
std::string PromptFor(const BenchConfig& c, int phase, size_t index) {
  std::seed_seq seq{c.seed, static_cast<unsigned>(phase), static_cast<unsigned>(index),
                    static_cast<unsigned>(index >> 32)};
  std::mt19937 rng(seq);
  return SyntheticPrompt(c.isl, rng);
}

// Runs `count` requests of `phase` at the configured load. Closed loop: min(concurrency, count)
// client threads take the next request in turn. Open loop: one thread per arrival, detached, the
// phase ends when the last one has finished (finished threads release their stacks at once, so a
// long open-loop run does not pile up unjoined threads). Internal error when the system refuses
// to start a client thread.
Result<std::vector<RequestRecord>> RunPhase(const BenchConfig& c, HttpClient& http, int phase, size_t count,
                                            std::mt19937& rng) {
  std::vector<RequestRecord> records(count);
  if (count == 0) return records;
  std::mutex mu;
  std::condition_variable cv;
  size_t running = 0;
  auto finish = [&] {  // -> the threads still running
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();  // under the lock: the phase cannot end (and destroy cv) before this returns
    return --running;
  };
  auto start = [&](auto body) -> Status {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++running;
    }
    try {
      std::thread([body, finish]() mutable {
        body();
        finish();
      }).detach();
    } catch (const std::system_error& e) {
      const size_t still_running = finish();  // read under the lock, not racing the threads
      return Status::Internal(
          fmt::format("could not start a benchmark client thread ({} running): {}", still_running, e.what()));
    }
    return Status::Ok();
  };
  Status started = Status::Ok();
  std::atomic<size_t> next{0};  // closed loop: the next request to send (outlives the client threads)
  if (c.request_rate > 0) {
    std::exponential_distribution<double> gap(c.request_rate / std::max(c.time_scale, 1e-9));
    double t = Now();
    for (size_t i = 0; i < count && started.ok(); ++i) {
      if (c.cancel && c.cancel->load()) break;
      double wait = t - Now();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      started = start([&, i] { records[i] = RunOne(c, http, PromptFor(c, phase, i)); });
      t += gap(rng);
    }
  } else {
    const size_t workers = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(c.concurrency), count));
    for (size_t w = 0; w < workers && started.ok(); ++w) {
      started = start([&] {
        for (;;) {
          size_t i = next.fetch_add(1);
          if (i >= count || (c.cancel && c.cancel->load())) return;
          records[i] = RunOne(c, http, PromptFor(c, phase, i));
        }
      });
    }
    if (!started.ok()) next.store(count);  // the threads already running stop after their request
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return running == 0; });
  if (!started.ok()) return started;
  return records;
}

}  // namespace

std::string SyntheticPrompt(int tokens, std::mt19937& rng) {
  std::string s;
  s.reserve(static_cast<size_t>(tokens) * 7);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(std::size(kWords)) - 1);
  for (int i = 0; i < tokens; ++i) {
    if (i) s += ' ';
    s += kWords[pick(rng)];
  }
  return s;
}

Json BuildRequestBody(const BenchConfig& c, const std::string& prompt) {
  Json body = Json::object();
  body["model"] = c.model;
  if (c.endpoint == "completions") {
    body["prompt"] = prompt;
  } else {
    body["messages"] = Json::array({Json{{"role", "user"}, {"content", prompt}}});
  }
  body["stream"] = true;
  body["stream_options"] = Json{{"include_usage", true}};
  body["max_tokens"] = c.osl;
  body["min_tokens"] = c.osl;
  body["ignore_eos"] = true;
  return body;
}

BenchReport SummarizeRecords(const BenchConfig& config, std::vector<RequestRecord> records) {
  BenchReport r;
  r.config = config;
  std::vector<double> ttft, itl, e2e, out, prompt;
  double t0 = 0, t1 = 0;
  bool any = false;
  long long total_out = 0;
  for (const auto& rec : records) {
    if (!any || rec.start_s < t0) t0 = rec.start_s;
    if (!any || rec.end_s > t1) t1 = rec.end_s;
    any = true;
    if (!rec.ok) {
      if (rec.timed_out) ++r.timeouts;
      else ++r.errors;
      if (r.error_samples.size() < 5) r.error_samples.push_back(rec.error);
      continue;
    }
    ++r.completed;
    ttft.push_back(rec.ttft_ms);
    if (rec.output_tokens > 1) itl.push_back(rec.itl_ms);
    e2e.push_back(rec.e2e_ms);
    out.push_back(rec.output_tokens);
    total_out += rec.output_tokens;
    if (rec.prompt_tokens >= 0) prompt.push_back(rec.prompt_tokens);
  }
  r.duration_s = any ? (t1 - t0) * config.time_scale : 0;
  r.ttft = Summarize(ttft);
  r.itl = Summarize(itl);
  r.e2e = Summarize(e2e);
  r.output_tokens = Summarize(out);
  r.prompt_tokens = Summarize(prompt);
  if (r.duration_s > 0) {
    r.output_token_throughput = static_cast<double>(total_out) / r.duration_s;
    r.request_throughput = r.completed / r.duration_s;
  }
  r.records = std::move(records);
  return r;
}

Result<BenchReport> RunBench(const BenchConfig& config, HttpClient& http) {
  if (config.url.empty()) return Status::InvalidArgument("--url is required");
  if (auto url = ParseUrl(config.url); !url.ok()) return Status::InvalidArgument("--url: " + url.status().message());
  if (config.endpoint != "chat" && config.endpoint != "completions")
    return Status::InvalidArgument("--endpoint must be chat or completions");
  if (config.isl < 1 || config.osl < 1 || config.requests < 1)
    return Status::InvalidArgument("--isl, --osl and --requests must be positive");
  if (config.request_rate <= 0 && config.concurrency < 1)
    return Status::InvalidArgument("--concurrency must be positive");
  if (config.isl > kMaxBenchTokens || config.osl > kMaxBenchTokens)
    return Status::InvalidArgument(fmt::format("--isl and --osl must be at most {} tokens", kMaxBenchTokens));
  if (config.warmup < 0 || config.requests > kMaxBenchRequests || config.warmup > kMaxBenchRequests)
    return Status::InvalidArgument(
        fmt::format("--requests must be between 1 and {} and --warmup between 0 and {}", kMaxBenchRequests,
                    kMaxBenchRequests));
  if (!(config.timeout_s > 0)) return Status::InvalidArgument("--timeout-s must be positive");
  std::mt19937 rng(config.seed);  // arrival gaps of the open loop
  auto warm = RunPhase(config, http, 0, static_cast<size_t>(config.warmup), rng);
  if (!warm.ok()) return warm.status();
  if (config.cancel && config.cancel->load()) return Status::Interrupted("benchmark interrupted");
  auto records = RunPhase(config, http, 1, static_cast<size_t>(config.requests), rng);
  if (!records.ok()) return records.status();
  if (config.cancel && config.cancel->load()) return Status::Interrupted("benchmark interrupted");
  return SummarizeRecords(config, std::move(*records));
}

Json BenchReport::ToAiperfJson() const {
  Json j = Json::object();
  j["time_to_first_token"] = ttft.ToJson("ms");
  j["inter_token_latency"] = itl.ToJson("ms");
  j["request_latency"] = e2e.ToJson("ms");
  j["output_sequence_length"] = output_tokens.ToJson("tokens");
  if (prompt_tokens.count > 0) j["input_sequence_length"] = prompt_tokens.ToJson("tokens");
  j["output_token_throughput"] = Json{{"unit", "tokens/sec"}, {"avg", output_token_throughput}};
  j["request_throughput"] = Json{{"unit", "requests/sec"}, {"avg", request_throughput}};
  j["request_count"] = Json{{"unit", "requests"}, {"avg", completed}};
  j["error_request_count"] = Json{{"unit", "requests"}, {"avg", errors + timeouts}};
  j["timeout_request_count"] = Json{{"unit", "requests"}, {"avg", timeouts}};
  j["benchmark_duration"] = Json{{"unit", "sec"}, {"avg", duration_s}};
  j["errors"] = error_samples;
  j["input_config"] = Json{{"url", config.url},           {"model", config.model},     {"endpoint", config.endpoint},
                           {"isl", config.isl},           {"osl", config.osl},         {"concurrency", config.concurrency},
                           {"request_rate", config.request_rate}, {"requests", config.requests},
                           {"warmup", config.warmup},     {"seed", config.seed},       {"time_scale", config.time_scale}};
  return j;
}

std::string BenchReport::ToTable() const {
  std::string out = fmt::format("{:<28} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "metric", "avg", "min", "p50",
                                "p90", "p99", "max");
  auto row = [&](const char* name, const MetricSummary& s) {
    out += fmt::format("{:<28} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n", name, s.avg, s.min,
                       s.p50, s.p90, s.p99, s.max);
  };
  row("time_to_first_token (ms)", ttft);
  row("inter_token_latency (ms)", itl);
  row("request_latency (ms)", e2e);
  row("output_sequence_length", output_tokens);
  if (prompt_tokens.count > 0) row("input_sequence_length", prompt_tokens);
  out += fmt::format("{:<28} {:>10.2f}\n", "output_token_throughput/s", output_token_throughput);
  out += fmt::format("{:<28} {:>10.3f}\n", "request_throughput/s", request_throughput);
  out += fmt::format("{:<28} {:>10}\n", "completed", completed);
  out += fmt::format("{:<28} {:>10}\n", "errors", errors);
  out += fmt::format("{:<28} {:>10}\n", "timeouts", timeouts);
  for (const auto& e : error_samples) out += "  error: " + e + "\n";
  return out;
}

std::vector<std::string> AiperfArgs(const AiperfRun& r) {
  std::vector<std::string> a = {"aiperf", "profile", "--model", r.model, "--tokenizer", r.tokenizer,
                                "--endpoint-type", "chat", "--endpoint", "/v1/chat/completions", "--streaming",
                                "--url", r.url, "--extra-inputs", "ignore_eos:true", "--warmup-request-count",
                                std::to_string(r.warmup), "--artifact-dir", r.artifact_dir, "--random-seed",
                                std::to_string(r.seed), "--request-timeout-seconds", "1800",
                                "--synthetic-input-tokens-mean", std::to_string(r.isl),
                                "--synthetic-input-tokens-stddev", "0", "--output-tokens-mean", std::to_string(r.osl),
                                "--output-tokens-stddev", "0", "--extra-inputs", fmt::format("max_tokens:{}", r.osl),
                                "--extra-inputs", fmt::format("min_tokens:{}", r.osl), "--concurrency",
                                std::to_string(r.concurrency)};
  if (r.num_dataset_entries > 0) {
    a.push_back("--num-dataset-entries");
    a.push_back(std::to_string(r.num_dataset_entries));
  }
  a.push_back("--request-count");
  a.push_back(std::to_string(r.request_count));
  return a;
}

Result<Json> ReadAiperfExport(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::NotFound("no AIPerf artifacts in " + dir);
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->path().filename() == "profile_export_aiperf.json") {
      PosixFileSystem fs;
      DYPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(it->path().string()));
      return ParseJson(text);
    }
  }
  return Status::NotFound("profile_export_aiperf.json not found under " + dir);
}

Result<Json> RunAiperf(const AiperfRun& run, const std::atomic<bool>* cancel) {
  PosixFileSystem fs;
  DYPROF_RETURN_IF_ERROR(fs.MakeDirs(run.artifact_dir));
  PosixProcessRunner runner;
  DYPROF_ASSIGN_OR_RETURN(int pid, runner.Start(AiperfArgs(run), JoinPath(run.artifact_dir, "aiperf.log")));
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Status::Deployment("aiperf failed; see " + JoinPath(run.artifact_dir, "aiperf.log"));
      break;
    }
    if (cancel && cancel->load()) {
      runner.Stop(pid, 2);
      return Status::Interrupted("aiperf interrupted");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ReadAiperfExport(run.artifact_dir);
}

std::optional<double> AiperfMetric(const Json& j, const std::string& metric, const std::string& stat) {
  if (!j.is_object() || !j.contains(metric)) return std::nullopt;
  const Json& m = j[metric];
  if (m.is_object() && m.contains(stat) && m[stat].is_number()) return m[stat].get<double>();
  return std::nullopt;
}

}  // namespace dyprof

#include "thorough/thorough.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "perf/engine.h"
#include "render/render.h"
#include "search/rapid.h"
#include "thorough/bench.h"
#include "thorough/kv_log.h"

namespace dyprof {

namespace {

constexpr int kPrefillOsl = 5;
constexpr int kDepRequestRatio = 4;
constexpr int kWarmupPerDpRank = 3;

struct Candidate {
  std::string role;  // prefill | decode
  ParallelSplit split;
  std::string label;
  std::string work_dir;
  // Prediction.
  double pred_ttft_ms = 0;
  double pred_score = 0;  // best composite tokens/s/gpu this candidate reaches (predicted)
  bool deploy = true;
  std::string skip_reason;
  // Outcome.
  std::string status = "pending";  // measured | failed | skipped
  std::string error;
  std::vector<StageRow> rows;
  Json measurements = Json::array();
};

Json SplitJson(const ParallelSplit& s) {
  return Json{{"tp", s.tp}, {"pp", s.pp}, {"dp", s.dp}, {"moe_tp", s.moe_tp}, {"moe_ep", s.moe_ep}, {"label", s.Label()}};
}

Json StageJson(const StageRow& r) {
  return Json{{"ttft_ms", r.ttft_ms},
              {"tpot_ms", r.tpot_ms},
              {"seq_per_s", r.seq_per_s},
              {"seq_per_s_per_gpu", r.seq_per_s_per_gpu},
              {"tokens_per_s_per_user", r.tokens_per_s_per_user},
              {"concurrency", r.concurrency},
              {"bs", r.bs},
              {"global_bs", r.global_bs}};
}

// pick.json row of a measured configuration.
Json MeasuredRowJson(const ConfigRow& r) {
  Json j = ConfigRowJson(r);
  j["measured"] = true;
  return j;
}


// The candidate DGD: the disagg DGD for this engine with a 1-GPU placeholder for the other role,
// reduced to the one worker being measured (convert_config).
Json CandidateDgd(const DgdrSpec& spec, Backend backend, const Candidate& c, int isl, std::string* error) {
  Decision d;
  d.backend = backend;
  d.disagg = true;
  ParallelSplit one;
  d.prefill = MakeEnginePick(c.role == "prefill" ? c.split : one, 1, 1, isl);
  d.decode = MakeEnginePick(c.role == "decode" ? c.split : one, 1, c.role == "decode" ? 512 : 0, 0);
  RenderOptions ro;
  ro.dgdr_name = spec.dgdr_name.value_or("thorough");
  ro.dry_run = true;
  SequenceSuffixGenerator suffixes;
  DgdrSpec s = spec;
  s.features = {};
  auto rendered = RenderDeployment(s, d, ro, suffixes);
  if (!rendered.ok()) {
    *error = rendered.status().message();
    return Json::object();
  }
  Json dgd = rendered->Dgd();
  if (dgd.contains("spec") && dgd["spec"].contains("services") && dgd["spec"]["services"].is_object()) {
    Json& services = dgd["spec"]["services"];
    std::vector<std::string> drop;
    std::string other = c.role == "prefill" ? "decode" : "prefill";
    for (auto& [name, svc] : services.items()) {
      std::string sub = svc.is_object() ? svc.value("subComponentType", "") : "";
      std::string type = svc.is_object() ? svc.value("componentType", "") : "";
      if (sub == other || type == "planner") drop.push_back(name);
      if (sub == c.role && svc.is_object()) svc["replicas"] = 1;
    }
    for (const auto& n : drop) services.erase(n);
  }
  return dgd;
}

double Elapsed(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The deployer RunThorough and MeasureThoroughCurves use: the caller's, or one built from options
// (local processes or Kubernetes). Not movable: the deployer points at the members.
struct DeployerHandle {
  HttplibClient http;
  PosixProcessRunner runner;
  std::unique_ptr<KubeClient> kube;
  std::unique_ptr<Deployer> owned;
  Deployer* deployer = nullptr;
  DeployerHandle() = default;
  DeployerHandle(const DeployerHandle&) = delete;
  DeployerHandle& operator=(const DeployerHandle&) = delete;
};

Status InitDeployer(const ThoroughOptions& options, FileSystem& fs, Logger& log, Deployer* deployer_in,
                    DeployerHandle& h) {
  if (deployer_in) {
    h.deployer = deployer_in;
    return Status::Ok();
  }
  if (options.deployer == "kubernetes") {
    if (options.kube_api.empty()) return Status::InvalidArgument("--kube-api is required with --deployer kubernetes");
    std::string token_file = options.kube_token_file;
    if (token_file.empty() && fs.IsFile("/var/run/secrets/kubernetes.io/serviceaccount/token"))
      token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    std::string token;
    if (!token_file.empty()) {
      DYPROF_ASSIGN_OR_RETURN(token, fs.ReadFile(token_file));
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      log.AddSecret(token);
    }
    h.kube = std::make_unique<RestKubeClient>(&h.http, options.kube_api, token);
    KubeDeployerOptions ko;
    ko.ns = options.kube_namespace;
    ko.timeout_s = options.deployment_timeout_s;
    ko.poll_interval_s = options.kube_poll_interval_s;
    h.owned = std::make_unique<KubeDeployer>(ko, h.kube.get(), &h.http);
  } else if (options.deployer == "local") {
    LocalDeployerOptions lo;
    lo.command_template = options.deploy_command;
    lo.timeout_s = options.deployment_timeout_s;
    lo.speedup = options.emulator_speedup;
    h.owned = std::make_unique<LocalDeployer>(lo, &h.runner, &h.http);
  } else {
    return Status::InvalidArgument("--deployer must be local or kubernetes");
  }
  h.deployer = h.owned.get();
  return Status::Ok();
}

// Removes every deployment when it goes out of scope (success, error, interrupt).
struct RemoveAllOnExit {
  Deployer* d;
  ~RemoveAllOnExit() { d->RemoveAll(); }
};

// One benchmark point against a deployed engine: the native client (its AIPerf-format export is
// written to `dir`) or AIPerf itself.
class Bencher {
 public:
  Bencher(const DgdrSpec& spec, const ThoroughOptions& options, FileSystem& fs, HttpClient& http, double time_scale)
      : spec_(spec), options_(options), fs_(fs), http_(http), time_scale_(time_scale) {}

  Result<Json> Run(const std::string& url, int isl, int osl, int conc, int requests, int warmup, unsigned seed,
                   const std::string& dir, int entries) const {
    if (options_.benchmark_client == "aiperf") {
      AiperfRun r;
      r.model = spec_.model;
      r.tokenizer = ResolveModelPath(spec_);
      r.url = url;
      r.artifact_dir = dir;
      r.isl = isl;
      r.osl = osl;
      r.concurrency = conc;
      r.request_count = requests;
      r.warmup = warmup;
      r.num_dataset_entries = entries;
      r.seed = seed;
      return RunAiperf(r, options_.cancel);
    }
    BenchConfig bc;
    bc.url = url;
    bc.model = spec_.model;
    bc.isl = isl;
    bc.osl = osl;
    bc.concurrency = conc;
    bc.requests = requests;
    bc.warmup = warmup;
    bc.seed = seed;
    bc.time_scale = time_scale_;
    bc.cancel = options_.cancel;
    // Emulated time shrinks with the speedup, the client and HTTP overhead in real time does not.
    bc.timeout_s = std::max(1800 / std::max(time_scale_, 1.0), 120.0);
    DYPROF_ASSIGN_OR_RETURN(BenchReport rep, RunBench(bc, http_));
    Json j = rep.ToAiperfJson();
    DYPROF_RETURN_IF_ERROR(fs_.MakeDirs(dir));
    DYPROF_RETURN_IF_ERROR(fs_.WriteFileAtomic(JoinPath(dir, "profile_export_aiperf.json"), j.dump(2) + "\n"));
    if (rep.completed < requests)
      return Status::Deployment(fmt::format("{} of {} requests failed ({})", requests - rep.completed, requests,
                                            rep.error_samples.empty() ? "" : rep.error_samples.front()));
    return j;
  }

  // Prefill TTFT at `isl` (ms): one request with OSL 5; with attention DP, dp·4 requests at once
  // and the DEP formula.
  Result<double> PrefillTtft(const std::string& url, const ParallelSplit& split, int isl, const std::string& dir) const {
    const int dp = std::max(1, split.dp);
    const bool dep_mode = dp > 1;
    const int n = dep_mode ? dp * kDepRequestRatio : 1;
    DYPROF_ASSIGN_OR_RETURN(Json j, Run(url, isl, kPrefillOsl, n, n, kWarmupPerDpRank * dp, 100, dir, 0));
    double ttft = dep_mode ? DepPrefillTtft(AiperfMetric(j, "time_to_first_token", "max").value_or(0),
                                            AiperfMetric(j, "inter_token_latency", "avg").value_or(0))
                           : AiperfMetric(j, "time_to_first_token", "avg").value_or(0);
    if (!(ttft > 0)) return Status::Deployment("no TTFT measured");
    return ttft;
  }

  // Decode ITL (ms) and output throughput per GPU at concurrency n: a warm-up run with the same
  // seed fills the prefix cache so the measured run skips prefill.
  Result<std::pair<double, double>> DecodePoint(const std::string& url, const ParallelSplit& split, int isl, int osl,
                                                int n, unsigned seed, const std::string& dir) const {
    const int dp = std::max(1, split.dp);
    DYPROF_RETURN_IF_ERROR(Run(url, isl, osl, n, n, kWarmupPerDpRank * dp, seed, dir + "_warmup", n).status());
    DYPROF_ASSIGN_OR_RETURN(Json j, Run(url, isl, osl, n, n, kWarmupPerDpRank * dp, seed, dir, n));
    double itl = AiperfMetric(j, "inter_token_latency", "avg").value_or(0);
    double thpt = AiperfMetric(j, "output_token_throughput", "avg").value_or(0) / std::max(1, split.NumGpus());
    return std::make_pair(itl, thpt);
  }

 private:
  const DgdrSpec& spec_;
  const ThoroughOptions& options_;
  FileSystem& fs_;
  HttpClient& http_;
  double time_scale_;
};

// The deployment of one engine (a candidate, or a picked engine for the interpolation sweeps):
// prefill engines take one request (dp·4 with attention DP) with a token budget covering `isl`;
// decode engines 512 sequences. Writes the engine's DGD to {work_dir}/config.yaml.
DeploymentRequest EngineRequest(const DgdrSpec& spec, Backend backend, const Candidate& c, int isl, FileSystem& fs,
                                Logger& log) {
  DeploymentRequest req;
  req.name = fmt::format("{}-{}", c.role, c.label);
  req.role = c.role;
  req.model = spec.model;
  req.system = spec.hardware->gpu_sku.value_or("");
  req.backend = backend;
  req.split = c.split;
  req.max_batch_size = c.role == "prefill" ? 1 : 512;
  req.max_num_tokens = c.role == "prefill" ? std::max(isl, 1) : 512;
  if (c.role == "prefill" && c.split.dp > 1) req.max_batch_size = kDepRequestRatio;
  req.work_dir = c.work_dir;
  std::string dgd_error;
  req.dgd = CandidateDgd(spec, backend, c, isl, &dgd_error);
  if (!dgd_error.empty()) log.Warn("cannot render the " + c.role + " engine DGD for " + c.label + ": " + dgd_error);
  fs.WriteFileAtomic(JoinPath(c.work_dir, "config.yaml"), ToYaml(req.dgd));
  return req;
}

}  // namespace

StageRow PrefillRowFromTtft(Backend backend, const ParallelSplit& split, double ttft_ms, int isl) {
  StageRow r;
  r.backend = backend;
  r.split = split;
  r.bs = 1;
  r.global_bs = split.dp;
  r.ttft_ms = ttft_ms;
  r.seq_per_s = ttft_ms > 0 ? 1000.0 / ttft_ms * split.dp : 0;
  r.seq_per_s_per_gpu = r.seq_per_s / std::max(1, split.NumGpus());
  r.max_num_tokens = isl;
  return r;
}

StageRow DecodeRowFromMeasurement(Backend backend, const ParallelSplit& split, double itl_ms, double thpt_per_gpu,
                                  int concurrency, int osl) {
  StageRow r;
  r.backend = backend;
  r.split = split;
  r.tpot_ms = itl_ms;
  r.seq_per_s = thpt_per_gpu * split.NumGpus() / std::max(1, osl);
  r.seq_per_s_per_gpu = thpt_per_gpu / std::max(1, osl);
  r.global_bs = concurrency;
  r.concurrency = concurrency;
  r.bs = concurrency / std::max(1, split.dp);
  r.tokens_per_s_per_user = itl_ms > 0 ? 1000.0 / itl_ms : 0;
  return r;
}

double DepPrefillTtft(double ttft_max_ms, double itl_avg_ms) {
  return (ttft_max_ms - itl_avg_ms * (kPrefillOsl - 1) * (kDepRequestRatio - 1)) / kDepRequestRatio;
}

Result<StrategyOutcome> RunThorough(const DgdrSpec& spec, PickingMode mode, const ThoroughOptions& options,
                                    FileSystem& fs, Logger& log, const ThoroughProgress& progress,
                                    Deployer* deployer_in) {
  auto t0 = std::chrono::steady_clock::now();
  StrategyOutcome out;
  out.mode = mode;
  out.warnings.push_back("THOROUGH mode: only disagg configurations are supported.");
  log.Warn(out.warnings.back());
  const WorkloadSpec w = spec.WorkloadOrDefault();
  const SlaSpec sla = spec.SlaOrDefault();
  const int gpus_per_node = spec.hardware->num_gpus_per_node.value_or(8);
  const int total_gpus = spec.hardware->total_gpus.value_or(gpus_per_node);
  Backend backend = spec.backend;
  if (backend == Backend::kAuto) {
    backend = Backend::kVllm;
    out.warnings.push_back("THOROUGH mode needs a concrete backend; using vllm.");
    log.Warn(out.warnings.back());
  }
  out.decision.backend = backend;

  // Resolve the engine.
  std::string path = ResolveModelPath(spec);
  auto model = FindModel(path, fs);
  if (!model.ok() && path != spec.model) model = FindModel(spec.model, fs);
  if (!model.ok()) return Status::Unsupported("cannot enumerate thorough candidates: " + model.status().message());
  DYPROF_ASSIGN_OR_RETURN(SystemSpec system, FindSystem(spec.hardware->gpu_sku.value_or("")));
  if (spec.hardware->vram_mb) ApplyVramOverride(system, *spec.hardware->vram_mb);
  auto engine_or = PerfEngine::Create(*model, system, backend);
  if (!engine_or.ok())
    return Status::Unsupported("cannot enumerate thorough candidates: " + engine_or.status().message());
  const PerfEngine& engine = *engine_or;
  out.efficiency_source = std::string(engine.EfficiencySource());
  out.max_context_length = model->max_position_embeddings;

  // 1. Enumerate (dense: tp 1/2/4/8, no pp/dp; MoE: every split without pp) within one node.
  int max_gpus = std::min(gpus_per_node, total_gpus);
  bool moe = model->num_experts > 1;
  std::vector<ParallelSplit> splits;
  for (const auto& s : EnumerateSplits(*model, system, backend, max_gpus)) {
    if (s.pp != 1) continue;
    if (!moe && (s.dp != 1 || (s.tp != 1 && s.tp != 2 && s.tp != 4 && s.tp != 8))) continue;
    auto mem = engine.Memory(s);
    if (!mem.ok() || !mem->fits) continue;
    splits.push_back(s);
  }
  if (splits.empty()) {
    out.decision.produced = false;
    out.decision.pick_json = Json{{"mode", std::string(PickingModeName(mode))},
                                  {"error", "no parallel configuration fits the model on one node"}};
    return out;
  }
  std::vector<Candidate> prefill, decode;
  for (const auto& s : splits) {
    Candidate c;
    c.split = s;
    c.label = s.Label();
    c.role = "prefill";
    c.work_dir = JoinPath(options.output_dir, fmt::format("prefill_{}gpus_{}", s.NumGpus(), c.label));
    prefill.push_back(c);
    c.role = "decode";
    c.work_dir = JoinPath(options.output_dir, fmt::format("decode_{}gpus_{}", s.NumGpus(), c.label));
    decode.push_back(c);
  }

  // 2. Rank with the performance engine: predicted prefill rows, decode rows over the batch grid.
  LatencyTarget target;
  double ttft_target = std::numeric_limits<double>::infinity();
  if (sla.e2e_latency_ms) {
    target.request_latency_ms = sla.e2e_latency_ms;
  } else {
    target.tpot_ms = sla.itl_ms;
    if (sla.ttft_ms) ttft_target = *sla.ttft_ms;
  }
  const double tol = options.rank_tolerance;
  std::vector<StageRow> pred_p(prefill.size());
  std::vector<std::vector<StageRow>> pred_d(decode.size());
  for (size_t i = 0; i < prefill.size(); ++i) {
    auto p = engine.Prefill(prefill[i].split, prefill[i].split.dp, w.isl);
    double ttft = p.ok() ? p->latency_ms : 1e12;
    prefill[i].pred_ttft_ms = ttft;
    pred_p[i] = PrefillRowFromTtft(backend, prefill[i].split, ttft, w.isl);
  }
  for (size_t j = 0; j < decode.size(); ++j) {
    const auto& s = decode[j].split;
    auto mem = engine.Memory(s);
    int64_t kv = mem.ok() ? mem->max_kv_tokens * s.dp : 0;
    int max_conc = static_cast<int>(kv / std::max(1, w.isl + w.osl));
    for (int bs : DecodeBatchGrid(512)) {
      if (bs * s.dp > max_conc) break;
      auto d = engine.Decode(s, bs, w.isl, w.osl);
      if (!d.ok()) continue;
      double thpt_per_gpu = d->seq_per_s * w.osl / std::max(1, s.NumGpus());
      pred_d[j].push_back(DecodeRowFromMeasurement(backend, s, d->tpot_ms, thpt_per_gpu, bs * s.dp, w.osl));
    }
  }
  auto meets = [&](const ConfigRow& r, double slack) {
    if (r.ttft_ms > ttft_target * slack) return false;
    if (target.request_latency_ms && r.request_latency_ms > *target.request_latency_ms * slack) return false;
    if (!target.request_latency_ms && target.tpot_ms && r.tpot_ms > *target.tpot_ms * slack) return false;
    return true;
  };
  auto score = [&](size_t i, size_t j, bool with_sla) {
    double best = -1;
    for (const auto& d : pred_d[j]) {
      ConfigRow r = ComposeDisagg(pred_p[i], 1, d, 1, w.osl);
      if (with_sla && !meets(r, 1.0 + tol)) continue;
      double v = mode == PickingMode::kAutoscale ? 0
                                                 : ClusterThroughputPerGpu(r.tokens_per_s_per_gpu, r.num_total_gpus,
                                                                           total_gpus);
      best = std::max(best, v);
    }
    return best;
  };
  int skipped = 0;
  if (!options.exhaustive) {
    if (mode == PickingMode::kAutoscale) {
      // Each stage alone: best throughput per GPU among candidates that can meet their own target.
      double best_p = 0;
      for (size_t i = 0; i < prefill.size(); ++i)
        if (pred_p[i].ttft_ms <= ttft_target * (1 + tol)) best_p = std::max(best_p, pred_p[i].seq_per_s_per_gpu);
      for (size_t i = 0; i < prefill.size(); ++i) {
        prefill[i].pred_score = pred_p[i].seq_per_s_per_gpu;
        if (best_p > 0 && pred_p[i].ttft_ms > ttft_target * (1 + tol)) {
          prefill[i].deploy = false;
          prefill[i].skip_reason = fmt::format("predicted TTFT {:.1f} ms misses the {:.1f} ms target", pred_p[i].ttft_ms, ttft_target);
        } else if (best_p > 0 && pred_p[i].seq_per_s_per_gpu < best_p * (1 - tol)) {
          prefill[i].deploy = false;
          prefill[i].skip_reason = fmt::format("predicted {:.3f} req/s/GPU is below {:.0f}% of the best ({:.3f})",
                                               pred_p[i].seq_per_s_per_gpu, (1 - tol) * 100, best_p);
        }
      }
      double itl_t = target.tpot_ms.value_or(std::numeric_limits<double>::infinity());
      std::vector<double> best_d(decode.size(), -1);
      double best_all = 0;
      for (size_t j = 0; j < decode.size(); ++j) {
        for (const auto& d : pred_d[j])
          if (d.tpot_ms <= itl_t * (1 + tol)) best_d[j] = std::max(best_d[j], d.seq_per_s_per_gpu);
        best_all = std::max(best_all, best_d[j]);
      }
      for (size_t j = 0; j < decode.size(); ++j) {
        decode[j].pred_score = best_d[j];
        if (best_all > 0 && best_d[j] < best_all * (1 - tol)) {
          decode[j].deploy = false;
          decode[j].skip_reason = best_d[j] < 0 ? "predicted ITL misses the target at every batch size"
                                                : fmt::format("predicted {:.3f} req/s/GPU is below {:.0f}% of the best ({:.3f})",
                                                              best_d[j], (1 - tol) * 100, best_all);
        }
      }
    } else {
      // Best predicted pairing of every (prefill, decode) pair, scored once: with the SLA when any
      // pairing can meet it, else without.
      auto pair_scores = [&](bool with_sla) {
        std::vector<std::vector<double>> m(prefill.size(), std::vector<double>(decode.size()));
        for (size_t i = 0; i < prefill.size(); ++i)
          for (size_t j = 0; j < decode.size(); ++j) m[i][j] = score(i, j, with_sla);
        return m;
      };
      auto best_of = [](const std::vector<std::vector<double>>& m) {
        double best = -1;
        for (const auto& row : m)
          for (double v : row) best = std::max(best, v);
        return best;
      };
      std::vector<std::vector<double>> pairs = pair_scores(true);
      double best = best_of(pairs);
      if (best <= 0) {
        pairs = pair_scores(false);
        best = best_of(pairs);
      }
      auto rank = [&](Candidate& c, double s, const char* other_role) {
        c.pred_score = s;
        if (best > 0 && s < best * (1 - tol)) {
          c.deploy = false;
          c.skip_reason = s < 0 ? fmt::format("predicted to miss the SLA with every {} engine", other_role)
                                : fmt::format("best predicted pairing {:.1f} tokens/s/GPU is below {:.0f}% of the best ({:.1f})",
                                              s, (1 - tol) * 100, best);
        }
      };
      for (size_t i = 0; i < prefill.size(); ++i) {
        double s = -1;
        for (size_t j = 0; j < decode.size(); ++j) s = std::max(s, pairs[i][j]);
        rank(prefill[i], s, "decode");
      }
      for (size_t j = 0; j < decode.size(); ++j) {
        double s = -1;
        for (size_t i = 0; i < prefill.size(); ++i) s = std::max(s, pairs[i][j]);
        rank(decode[j], s, "prefill");
      }
    }
  }
  for (auto* list : {&prefill, &decode})
    for (auto& c : *list)
      if (!c.deploy) {
        c.status = "skipped";
        ++skipped;
        log.Info(fmt::format("Skipping {} candidate {} ({} GPUs): {}", c.role, c.label, c.split.NumGpus(), c.skip_reason));
      }
  int total_candidates = static_cast<int>(prefill.size() + decode.size());
  log.Info(fmt::format("Thorough candidates: {} prefill, {} decode; deploying {} of {} ({} skipped by ranking{})",
                       prefill.size(), decode.size(), total_candidates - skipped, total_candidates, skipped,
                       options.exhaustive ? ", --exhaustive" : ""));

  // 3. Deployer.
  DeployerHandle handle;
  DYPROF_RETURN_IF_ERROR(InitDeployer(options, fs, log, deployer_in, handle));
  Deployer* deployer = handle.deployer;
  RemoveAllOnExit cleanup{deployer};
  const Bencher bencher(spec, options, fs, handle.http, deployer->TimeScale());
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  std::mt19937 seed_rng(12345);

  auto write_result = [&](const Candidate& c) {
    Json j = {{"role", c.role},   {"label", c.label},   {"parallel", SplitJson(c.split)},
              {"num_gpus", c.split.NumGpus()}, {"status", c.status}};
    if (!c.error.empty()) j["error"] = c.error;
    if (!c.skip_reason.empty()) j["skip_reason"] = c.skip_reason;
    j["predicted"] = {{"ttft_ms", c.pred_ttft_ms}, {"score", c.pred_score}};
    Json rows = Json::array();
    for (const auto& r : c.rows) rows.push_back(StageJson(r));
    j["rows"] = rows;
    j["measurements"] = c.measurements;
    if (c.status != "skipped") {
      fs.MakeDirs(c.work_dir);
      fs.WriteFileAtomic(JoinPath(c.work_dir, "result.json"), j.dump(2) + "\n");
    }
    return j;
  };

  auto run_candidate = [&](Candidate& c, int index, int count) -> Status {
    ThoroughPhase phase = c.role == "prefill" ? ThoroughPhase::kSweepingPrefill : ThoroughPhase::kSweepingDecode;
    std::string msg = fmt::format("Benchmarking {} candidate {}/{}: {} ({} GPUs)", c.role, index, count, c.label,
                                  c.split.NumGpus());
    log.Info(msg);
    if (progress) progress(phase, msg);
    DYPROF_RETURN_IF_ERROR(fs.MakeDirs(c.work_dir));
    DeploymentRequest req = EngineRequest(spec, backend, c, w.isl, fs, log);
    auto dep = deployer->Deploy(req, options.cancel);
    if (!dep.ok()) {
      if (dep.status().code() == StatusCode::kInterrupted) return dep.status();
      c.status = "failed";
      c.error = dep.status().message();
      log.Warn(fmt::format("{} candidate {} failed to deploy: {}", c.role, c.label, c.error));
      return Status::Ok();
    }
    auto logs = deployer->FetchLogs(req, *dep);
    Status measured = Status::Ok();
    const int dp = std::max(1, c.split.dp);
    if (c.role == "prefill") {
      auto ttft = bencher.PrefillTtft(dep->url, c.split, w.isl, JoinPath(c.work_dir, fmt::format("aiperf_isl{}", w.isl)));
      if (ttft.ok()) {
        c.rows.push_back(PrefillRowFromTtft(backend, c.split, *ttft, w.isl));
        c.measurements.push_back({{"isl", w.isl}, {"ttft_ms", *ttft}});
      } else {
        measured = ttft.status();
      }
    } else {
      int64_t kv = logs.ok() ? ParseKvCapacityFromLog(backend, *logs, dp) : 0;
      int max_conc = static_cast<int>(kv / std::max(1, w.isl + w.osl));
      c.measurements.push_back({{"max_kv_tokens", kv}, {"max_concurrency", max_conc}});
      if (max_conc <= 0) measured = Status::Deployment("no KV capacity found in the worker log");
      for (int n : DecodeConcurrencySweep(dp, max_conc, options.decode_granularity)) {
        if (!measured.ok()) break;
        if (cancelled()) return Status::Interrupted("interrupted");
        unsigned seed = std::uniform_int_distribution<unsigned>(0, 1000000)(seed_rng);
        std::string dir = JoinPath(c.work_dir, fmt::format("aiperf_request{}_isl{}_osl{}_n{}", n, w.isl, w.osl, n));
        auto point = bencher.DecodePoint(dep->url, c.split, w.isl, w.osl, n, seed, dir);
        if (!point.ok()) {
          measured = point.status();
          break;
        }
        auto [itl, thpt] = *point;
        c.rows.push_back(DecodeRowFromMeasurement(backend, c.split, itl, thpt, n, w.osl));
        c.measurements.push_back({{"concurrency", n}, {"itl_ms", itl}, {"thpt_per_gpu", thpt}});
      }
    }
    deployer->Remove(*dep);
    if (cancelled()) return Status::Interrupted("interrupted");
    if (!measured.ok()) {
      if (measured.code() == StatusCode::kInterrupted) return measured;
      c.status = "failed";
      c.error = measured.message();
      c.rows.clear();
      log.Warn(fmt::format("{} candidate {} failed: {}", c.role, c.label, c.error));
    } else {
      c.status = "measured";
    }
    return Status::Ok();
  };

  // 4-6. Prefill then decode candidates, sequentially.
  auto sweep = [&](std::vector<Candidate>& list, ThoroughPhase phase, const char* message) -> Status {
    if (progress) progress(phase, message);
    log.Info(message);
    int count = 0, index = 0;
    for (const auto& c : list) count += c.deploy ? 1 : 0;
    for (auto& c : list) {
      if (!c.deploy) continue;
      if (cancelled()) return Status::Interrupted("interrupted by signal");
      DYPROF_RETURN_IF_ERROR(run_candidate(c, ++index, count));
      write_result(c);
    }
    // Every ranked candidate of this role failed: fall back to the ones ranking skipped, best
    // predicted score first, until one is measured (a pick needs one engine of each role).
    auto measured_any = [&] {
      return std::any_of(list.begin(), list.end(), [](const Candidate& c) { return c.status == "measured"; });
    };
    std::vector<Candidate*> fallback;
    for (auto& c : list)
      if (!c.deploy) fallback.push_back(&c);
    std::stable_sort(fallback.begin(), fallback.end(),
                     [](const Candidate* a, const Candidate* b) { return a->pred_score > b->pred_score; });
    for (Candidate* c : fallback) {
      if (measured_any()) break;
      if (cancelled()) return Status::Interrupted("interrupted by signal");
      log.Warn(fmt::format("Every ranked {} candidate failed; deploying the skipped candidate {} instead", c->role,
                           c->label));
      c->deploy = true;
      c->status = "pending";
      c->skip_reason.clear();
      --skipped;
      DYPROF_RETURN_IF_ERROR(run_candidate(*c, ++index, count + 1));
      write_result(*c);
    }
    return Status::Ok();
  };
  Status st = sweep(prefill, ThoroughPhase::kSweepingPrefill, "Sweeping parallelization strategies for prefill, measuring TTFT");
  if (st.ok()) st = sweep(decode, ThoroughPhase::kSweepingDecode, "Sweeping parallelization strategies for decode, measuring ITL");
  if (!st.ok()) {
    deployer->RemoveAll();
    if (cancelled()) return Status::Interrupted("interrupted by signal; every deployment was removed");
    return st;
  }

  // Summary of every candidate.
  Json summary = Json::object();
  summary["deployer"] = options.deployer;
  summary["exhaustive"] = options.exhaustive;
  summary["rank_tolerance"] = tol;
  summary["candidates"] = total_candidates;
  summary["deployed"] = total_candidates - skipped;
  summary["skipped"] = skipped;
  Json list = Json::array();
  std::vector<StageRow> prefill_rows, decode_rows;
  int failed = 0;
  for (auto* cl : {&prefill, &decode})
    for (const auto& c : *cl) {
      list.push_back(write_result(c));
      if (c.status == "failed") ++failed;
      auto& dst = c.role == "prefill" ? prefill_rows : decode_rows;
      dst.insert(dst.end(), c.rows.begin(), c.rows.end());
    }
  summary["failed"] = failed;
  summary["wall_time_s"] = Elapsed(t0);
  summary["results"] = list;
  fs.WriteFileAtomic(JoinPath(options.output_dir, "thorough_candidates.json"), summary.dump(2) + "\n");
  log.Info(fmt::format("Thorough sweep done in {:.1f} s: {} deployed, {} skipped, {} failed", Elapsed(t0),
                       total_candidates - skipped, skipped, failed));

  // 7. Empty → no DGD.
  if (prefill_rows.empty() || decode_rows.empty()) {
    out.decision.produced = false;
    out.decision.pick_json = Json{{"mode", std::string(PickingModeName(mode))},
                                  {"search_strategy", "thorough"},
                                  {"error", "no prefill or no decode candidate was measured"},
                                  {"thorough", summary}};
    return out;
  }

  // 8. Pick.
  PickResult pick;
  if (mode == PickingMode::kAutoscale) {
    pick = PickAutoscale(prefill_rows, decode_rows, sla.ttft_ms.value_or(ttft_target),
                         sla.itl_ms.value_or(target.request_latency_ms.value_or(0)), w.osl, options.top_n);
  } else {
    for (const auto& p : prefill_rows)
      for (const auto& d : decode_rows) out.disagg_rows.push_back(ComposeDisagg(p, 1, d, 1, w.osl));
    if (mode == PickingMode::kLoadMatch) {
      pick = PickLoadMatch(out.disagg_rows, target, LoadTarget{w.request_rate, w.concurrency}, total_gpus, options.top_n);
    } else {
      pick = PickDefault(out.disagg_rows, total_gpus, target, options.top_n);
    }
  }
  for (const auto& wmsg : pick.warnings) {
    out.warnings.push_back(wmsg);
    log.Warn(wmsg);
  }
  out.disagg_top = pick.top;
  out.disagg_best_throughput = pick.best_throughput;
  out.disagg_pareto = ParetoFrontier(out.disagg_rows);
  if (pick.top.empty()) {
    out.decision.produced = false;
    out.decision.pick_json = Json{{"mode", std::string(PickingModeName(mode))}, {"error", "no measured row"},
                                  {"thorough", summary}};
    return out;
  }
  const ConfigRow& c = pick.top.front();
  out.chosen = c;
  out.chosen_exp = "disagg";
  if (pick.all_exceeded)
    out.warnings.push_back("No measured configuration meets the SLA; picking the closest measured configuration.");
  Decision& d = out.decision;
  d.backend = backend;
  d.disagg = true;
  int replicas = mode == PickingMode::kAutoscale ? 1 : c.replicas;
  if (mode == PickingMode::kLoadMatch && c.total_gpus_needed > total_gpus)
    replicas = std::max(1, total_gpus / std::max(1, c.num_total_gpus));
  d.prefill = MakeEnginePick(c.prefill.split, c.prefill_workers * replicas, 1, std::max(w.isl, 1));
  d.decode = MakeEnginePick(c.decode.split, c.decode_workers * replicas, c.decode.bs, 0);
  Json pj = Json::object();
  pj["mode"] = std::string(PickingModeName(mode));
  pj["search_strategy"] = "thorough";
  pj["chosen_exp"] = "disagg";
  pj["backend"] = std::string(BackendName(backend));
  pj["chosen"] = MeasuredRowJson(c);
  pj["disagg_best_throughput"] = out.disagg_best_throughput;
  pj["efficiency_source"] = out.efficiency_source;
  Json alts = Json::array();
  for (const auto& r : pick.top) alts.push_back(MeasuredRowJson(r));
  pj["top"] = alts;
  pj["thorough"] = {{"candidates", total_candidates}, {"deployed", total_candidates - skipped},
                    {"skipped", skipped},              {"failed", failed},
                    {"wall_time_s", Elapsed(t0)},      {"exhaustive", options.exhaustive}};
  pj["warnings"] = out.warnings;
  d.pick_json = pj;
  out.search_ms = Elapsed(t0) * 1000;
  return out;
}

Result<PlannerCurves> MeasureThoroughCurves(const DgdrSpec& spec, const Decision& decision,
                                            const CurveOptions& curve_options, const ThoroughOptions& options,
                                            FileSystem& fs, Logger& log, Deployer* deployer_in) {
  if (!decision.produced || !decision.disagg)
    return Status::InvalidArgument("thorough interpolation sweeps need a disaggregated pick");
  PlannerCurves out;
  const WorkloadSpec w = spec.WorkloadOrDefault();
  out.sweep_max_context_length = SweepMaxContextLength(curve_options.max_context_length, w.isl);
  // The grids first: a context too small to sweep fails before anything is deployed.
  DYPROF_ASSIGN_OR_RETURN(std::vector<int> prefill_grid,
                          PrefillIslGrid(out.sweep_max_context_length, curve_options.prefill_granularity));
  DYPROF_ASSIGN_OR_RETURN(std::vector<int> decode_grid,
                          DecodeIslGrid(out.sweep_max_context_length, curve_options.decode_granularity));
  const Backend backend = decision.backend;
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  auto interrupted = [] { return Status::Interrupted("interrupted by signal; every deployment was removed"); };

  DeployerHandle handle;
  DYPROF_RETURN_IF_ERROR(InitDeployer(options, fs, log, deployer_in, handle));
  Deployer* deployer = handle.deployer;
  RemoveAllOnExit cleanup{deployer};
  const Bencher bencher(spec, options, fs, handle.http, deployer->TimeScale());
  std::vector<std::string> warnings;

  // Deploys the picked engine of `role` into {output_dir}/{dir_name}; a failure other than an
  // interrupt is a warning and no curve.
  auto deploy = [&](const std::string& role, const ParallelSplit& split, const char* dir_name, int isl,
                    DeploymentRequest& req) -> Result<std::optional<LiveDeployment>> {
    Candidate c;
    c.role = role;
    c.split = split;
    c.label = split.Label();
    c.work_dir = JoinPath(curve_options.output_dir, dir_name);
    DYPROF_RETURN_IF_ERROR(fs.MakeDirs(c.work_dir));
    req = EngineRequest(spec, backend, c, isl, fs, log);
    req.name = role + "-interp-" + c.label;
    log.Info(fmt::format("Deploying the picked {} engine {} ({} GPUs) for the interpolation sweep", role, c.label,
                         split.NumGpus()));
    auto dep = deployer->Deploy(req, options.cancel);
    if (!dep.ok()) {
      if (dep.status().code() == StatusCode::kInterrupted || cancelled()) return interrupted();
      warnings.push_back(fmt::format("{} interpolation skipped: the picked {} engine {} failed to deploy: {}", role,
                                     role, c.label, dep.status().message()));
      return std::optional<LiveDeployment>();
    }
    return std::optional<LiveDeployment>(*dep);
  };

  // Prefill: TTFT per ISL.
  {
    const ParallelSplit& split = decision.prefill.split;
    DeploymentRequest req;
    DYPROF_ASSIGN_OR_RETURN(auto dep, deploy("prefill", split, kPrefillCurveDir, prefill_grid.back(), req));
    if (dep) {
      PrefillCurve curve;
      const int num_gpus = std::max(1, split.NumGpus());
      for (int isl : prefill_grid) {
        if (cancelled()) return interrupted();
        auto ttft = bencher.PrefillTtft(dep->url, split, isl, JoinPath(req.work_dir, fmt::format("aiperf_isl{}", isl)));
        if (!ttft.ok()) {
          if (cancelled()) return interrupted();
          warnings.push_back(fmt::format("prefill TTFT measurement failed at ISL {}: {}", isl, ttft.status().message()));
          continue;
        }
        curve.isl.push_back(isl);
        curve.ttft_ms.push_back(*ttft);
        curve.thpt_per_gpu.push_back(isl / *ttft / num_gpus * 1000.0 * std::max(1, split.dp));
      }
      deployer->Remove(*dep);
      if (curve.isl.size() > 2) {
        DYPROF_RETURN_IF_ERROR(WritePrefillCurve(fs, req.work_dir, curve));
        log.Info(fmt::format("Prefill interpolation (measured): {} points (ISL {}-{}) for {} → {}", curve.isl.size(),
                             curve.isl.front(), curve.isl.back(), split.Label(), req.work_dir));
        out.prefill = std::move(curve);
      } else {
        warnings.push_back("Not enough data points to perform interpolation (need at least 3 points)");
      }
    }
  }

  // Decode: KV capacity from the log, then ITL / throughput per (ISL, concurrency).
  {
    const ParallelSplit& split = decision.decode.split;
    const int dp = std::max(1, split.dp);
    const int osl = kDecodeSweepOsl;
    DeploymentRequest req;
    DYPROF_ASSIGN_OR_RETURN(auto dep, deploy("decode", split, kDecodeCurveDir, w.isl, req));
    if (dep) {
      auto logs = deployer->FetchLogs(req, *dep);
      int64_t kv = logs.ok() ? ParseKvCapacityFromLog(backend, *logs, dp) : 0;
      DecodeCurve curve;
      curve.max_kv_tokens = kv;
      if (kv <= 0) {
        warnings.push_back("decode interpolation skipped: no KV capacity found in the decode worker log" +
                           (logs.ok() ? std::string() : " (" + logs.status().message() + ")"));
      }
      std::mt19937 seed_rng(12345);
      for (int isl : kv > 0 ? decode_grid : std::vector<int>{}) {
        int64_t max_concurrency = kv / (isl + osl);
        if (max_concurrency == 0) {
          warnings.push_back(fmt::format("max_kv_tokens {} is too small for isl {} + osl {}, skipping.", kv, isl, osl));
          break;
        }
        for (int n : NumRequestRange(dp, max_concurrency, curve_options.decode_granularity)) {
          if (cancelled()) return interrupted();
          unsigned seed = std::uniform_int_distribution<unsigned>(0, 1000000)(seed_rng);
          auto point = bencher.DecodePoint(dep->url, split, isl, osl, n, seed,
                                           JoinPath(req.work_dir, fmt::format("aiperf_isl{}_osl{}_n{}", isl, osl, n)));
          if (!point.ok() || !(point->first > 0) || !(point->second > 0)) {
            if (cancelled()) return interrupted();
            warnings.push_back(fmt::format("decode measurement failed at ISL {} n {}: {}", isl, n,
                                           point.ok() ? "no ITL/throughput measured" : point.status().message()));
            continue;
          }
          double ctx = isl + osl / 2.0;
          curve.kv_usage.push_back(ctx * n / static_cast<double>(kv));
          curve.context_length.push_back(ctx);
          curve.itl_ms.push_back(point->first);
          curve.thpt_per_gpu.push_back(point->second);
          curve.concurrency.push_back(n);
        }
      }
      deployer->Remove(*dep);
      if (!curve.kv_usage.empty()) {
        DYPROF_RETURN_IF_ERROR(WriteDecodeCurve(fs, req.work_dir, curve));
        log.Info(fmt::format("Decode interpolation (measured): {} points, max_kv_tokens {} for {} → {}",
                             curve.kv_usage.size(), curve.max_kv_tokens, split.Label(), req.work_dir));
        out.decode = std::move(curve);
      } else if (kv > 0) {
        warnings.push_back("decode interpolation produced no data points");
      }
    }
  }
  for (const auto& wmsg : warnings) log.Warn(wmsg);
  if (out.empty()) out.skipped = "no interpolation data points";
  return out;
}

}  // namespace dyprof

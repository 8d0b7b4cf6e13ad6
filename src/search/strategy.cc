#include "search/strategy.h"

#include "catalog/model_config.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "perf/batch.h"
#include "perf/engine.h"
#include "sim/sim.h"

namespace dyprof {

namespace {

std::vector<Backend> BackendsFor(Backend b) {
  if (b == Backend::kAuto) return {Backend::kTrtllm, Backend::kVllm, Backend::kSglang};
  return {b};
}

struct Resolved {
  ModelArch model;
  SystemSpec system;
};

Result<Resolved> Resolve(const DgdrSpec& spec, const FileSystem& fs) {
  Resolved r;
  std::string path = ResolveModelPath(spec);
  auto model = FindModel(path, fs);
  if (!model.ok() && path != spec.model) model = FindModel(spec.model, fs);
  if (!model.ok()) return model.status();
  r.model = *model;
  auto system = FindSystem(spec.hardware->gpu_sku.value_or(""));
  if (!system.ok()) return system.status();
  r.system = *system;
  if (spec.hardware->vram_mb) ApplyVramOverride(r.system, *spec.hardware->vram_mb);
  return r;
}


// The scheduler simulation of `c` (src/sim) under its own closed-loop load: an aggregated engine
// at bs x dp users, an xPyD set at the row's concurrency.
Result<SimResult> SimulateUnderLoad(const PerfEngine& engine, const ConfigRow& c, int isl, int osl) {
  if (c.disagg) {
    DisaggConfig dc;
    dc.prefill_split = c.prefill.split;
    dc.prefill_batch = 1;
    dc.prefill_workers = c.prefill_workers;
    dc.decode_split = c.decode.split;
    dc.decode_batch = c.decode.bs;
    dc.decode_workers = c.decode_workers;
    int concurrency = std::max(1, static_cast<int>(std::lround(c.concurrency)));
    return SimulateDisagg(engine, dc, concurrency, isl, osl);
  }
  return SimulateAgg(engine, c.split, std::max(1, c.bs * c.split.dp), isl, osl, c.ctx_tokens);
}

// pick.json's "load_simulation" object for a simulation's figures.
Json LoadSimulationJson(const SimResult& r) {
  auto dist = [](const Dist& d) { return Json{{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}}; };
  return {{"model", "scheduler simulation (closed loop at the configuration's concurrency)"},
          {"ttft_ms", dist(r.ttft_ms)},
          {"itl_ms", dist(r.itl_ms)},
          {"request_latency_ms", dist(r.e2e_ms)},
          {"queue_ms", dist(r.queue_ms)},
          {"achieved_concurrency", r.achieved_concurrency},
          {"request_rate", r.request_rate},
          {"preemptions", r.preemptions}};
}

// The picked configuration's load simulation for pick.json (null when it failed: best effort, an
// error only drops the figures); warns when a p90 misses the SLA.
Json LoadSimulation(const Result<SimResult>& r, const SlaSpec& sla, std::vector<std::string>& warnings) {
  if (!r.ok()) return Json();
  if (sla.ttft_ms && r->ttft_ms.p90 > *sla.ttft_ms)
    warnings.push_back(fmt::format("Under load the simulated p90 TTFT is {:.1f} ms, above the {:.1f} ms target.",
                                   r->ttft_ms.p90, *sla.ttft_ms));
  if (sla.itl_ms && r->itl_ms.p90 > *sla.itl_ms)
    warnings.push_back(fmt::format("Under load the simulated p90 ITL is {:.2f} ms, above the {:.2f} ms target.",
                                   r->itl_ms.p90, *sla.itl_ms));
  return LoadSimulationJson(*r);
}

// The engine of backend `b` among those searched (null when none).
const PerfEngine* EngineFor(const std::vector<PerfEngine>& engines, Backend b) {
  for (const auto& e : engines)
    if (e.backend() == b) return &e;
  return nullptr;
}

// Latency targets the re-ranking checks at p90; unset ones are not checked.
struct P90Targets {
  std::optional<double> ttft_ms, itl_ms, request_latency_ms;
};

SimVerdict VerdictOf(const Result<SimResult>& r, const P90Targets& t) {
  if (!r.ok()) return SimVerdict::kUnknown;
  if (t.ttft_ms && r->ttft_ms.p90 > *t.ttft_ms) return SimVerdict::kMisses;
  if (t.itl_ms && r->itl_ms.p90 > *t.itl_ms) return SimVerdict::kMisses;
  if (t.request_latency_ms && r->e2e_ms.p90 > *t.request_latency_ms) return SimVerdict::kMisses;
  return SimVerdict::kMeets;
}

std::string_view VerdictName(SimVerdict v) {
  switch (v) {
    case SimVerdict::kMeets: return "meets";
    case SimVerdict::kMisses: return "misses";
    case SimVerdict::kUnknown: break;
  }
  return "unknown";
}

// One top list after re-ranking: the simulations of its rows in the new order (nullopt past the
// re-ranked rows) and pick.json's record of the change.
struct RerankedList {
  std::vector<std::optional<Result<SimResult>>> sims;
  Json record = Json::object();
};

// Simulates the first n rows of `top` and re-orders it by RerankOrder.
RerankedList RerankTop(std::vector<ConfigRow>& top, int n, const std::vector<PerfEngine>& engines, int isl, int osl,
                       const P90Targets& targets) {
  RerankedList out;
  n = std::min<int>(n, static_cast<int>(top.size()));
  std::vector<std::optional<Result<SimResult>>> sims(top.size());
  std::vector<SimVerdict> verdicts;
  Json before = Json::array(), after = Json::array(), verdict_names = Json::array();
  for (int i = 0; i < n; ++i) {
    const PerfEngine* engine = EngineFor(engines, top[i].backend);
    sims[i] = engine ? SimulateUnderLoad(*engine, top[i], isl, osl)
                     : Result<SimResult>(Status::Internal("no engine for the row's backend"));
    verdicts.push_back(VerdictOf(*sims[i], targets));
  }
  for (const auto& r : top) before.push_back(r.Describe());
  std::vector<ConfigRow> rows;
  for (int i : RerankOrder(verdicts, static_cast<int>(top.size()))) {
    rows.push_back(top[i]);
    out.sims.push_back(sims[i]);
    after.push_back(top[i].Describe());
    if (i < n) verdict_names.push_back(std::string(VerdictName(verdicts[i])));
  }
  top = std::move(rows);
  out.record = {{"before", before}, {"after", after}, {"p90_sla", verdict_names}};
  return out;
}

// pick.json's "calibration" record (null when off), and the log line saying which family corrects
// each backend's aggregated rows.
Json CalibrationRecord(const StrategyOptions& options, const std::vector<PerfEngine>& engines, const SearchSpace& space,
                       Logger& log) {
  if (options.calibration == nullptr) return nullptr;
  Json record = {{"table", options.calibration_source},
                 {"agg", "not searched"},
                 {"disagg", "uncorrected (composed in another form than the table corrects)"},
                 {"load_simulation", "uncorrected"}};
  if (!space.agg) return record;
  Json& agg = record["agg"] = Json::object();
  for (const PerfEngine& engine : engines) {
    const std::string backend(BackendName(engine.backend()));
    const CalibrationKey key = EngineCalibrationKey(engine, ServingMode::kAgg, "");
    const CalibrationFactors f = options.calibration->Lookup(key, 1, space.isl, space.osl);
    if (!f.applied) {
      agg[backend] = nullptr;
      log.Info(fmt::format("Calibration: no measured family {} in {}; its aggregated candidates are the model's",
                           key.ToString(), options.calibration_source));
      continue;
    }
    agg[backend] = {{"family", f.family}, {"rows", f.rows}, {"ttft_corrected", !f.isl_unmeasured},
                    {"unmeasured_lengths", f.unmeasured_lengths.empty() ? Json(nullptr) : Json(f.unmeasured_lengths)}};
    log.Info(fmt::format("Calibration: aggregated {} candidates corrected by the measured family {} ({} rows){}",
                         backend, f.family, f.rows,
                         f.isl_unmeasured ? fmt::format(", TPOT only: ISL {} is not one it measured", space.isl)
                                          : std::string()));
  }
  return record;
}

// warn_and_update_sla: warn when the best achievable latency misses the target.
void WarnUnachievable(const ConfigRow& best, const SlaSpec& sla, std::vector<std::string>& warnings) {
  if (sla.ttft_ms && best.ttft_ms > *sla.ttft_ms)
    warnings.push_back(fmt::format("TTFT SLA {:.1f}ms is unachievable. Best achievable: {:.1f}ms. Updating SLA.",
                                   *sla.ttft_ms, best.ttft_ms));
  if (sla.itl_ms && best.tpot_ms > *sla.itl_ms)
    warnings.push_back(fmt::format("ITL SLA {:.1f}ms is unachievable. Best achievable: {:.1f}ms. Updating SLA.",
                                   *sla.itl_ms, best.tpot_ms));
  if (sla.e2e_latency_ms && best.request_latency_ms > *sla.e2e_latency_ms)
    warnings.push_back(fmt::format(
        "E2E latency SLA {:.1f}ms is unachievable. Best achievable: {:.1f}ms. Updating SLA.", *sla.e2e_latency_ms,
        best.request_latency_ms));
}

// pick_optimization_type: no SLA filter; throughput → cluster throughput desc, tpot asc;
// latency → tpot asc, throughput desc. One row per group.
PickResult PickOptimizationType(std::vector<ConfigRow> rows, OptimizationType type, int total_gpus, int top_n) {
  PickResult out;
  std::vector<ConfigRow> feasible;
  for (auto& r : rows) {
    if (!r.feasible) continue;
    r.tokens_per_s_per_gpu_cluster = ClusterThroughputPerGpu(r.tokens_per_s_per_gpu, r.num_total_gpus, total_gpus);
    r.replicas = total_gpus > 0 ? std::max(1, total_gpus / std::max(1, r.num_total_gpus)) : 1;
    r.total_gpus_needed = r.replicas * r.num_total_gpus;
    feasible.push_back(r);
  }
  auto better = [type](const ConfigRow& a, const ConfigRow& b) {
    if (type == OptimizationType::kThroughput) {
      if (a.tokens_per_s_per_gpu_cluster != b.tokens_per_s_per_gpu_cluster)
        return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
      return a.tpot_ms < b.tpot_ms;
    }
    if (a.tpot_ms != b.tpot_ms) return a.tpot_ms < b.tpot_ms;
    return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
  };
  std::stable_sort(feasible.begin(), feasible.end(), better);
  std::vector<std::string> seen;
  for (const auto& r : feasible) {
    if (std::find(seen.begin(), seen.end(), r.GroupLabel()) != seen.end()) continue;
    seen.push_back(r.GroupLabel());
    out.top.push_back(r);
    if (static_cast<int>(out.top.size()) >= top_n) break;
  }
  if (!out.top.empty())
    out.best_throughput = type == OptimizationType::kThroughput ? out.top[0].tokens_per_s_per_gpu_cluster
                                                                : 1.0 / std::max(out.top[0].tpot_ms, 1e-9);
  return out;
}

Status NaiveFallback(const DgdrSpec& spec, const FileSystem& fs, const std::string& why, StrategyOutcome& out) {
  Backend backend = spec.backend == Backend::kAuto ? Backend::kVllm : spec.backend;
  int gpus_per_node = spec.hardware->num_gpus_per_node.value_or(8);
  int total = spec.hardware->total_gpus.value_or(gpus_per_node);
  double vram = 141.0 * 1024 * 1024 * 1024;  // AIC's default when the system is unknown
  if (auto sys = FindSystem(spec.hardware->gpu_sku.value_or("")); sys.ok()) vram = sys->mem_capacity_bytes;
  if (spec.hardware->vram_mb) vram = *spec.hardware->vram_mb * 1024 * 1024;
  NaiveModelShape shape;
  auto src = FindModelSource(ResolveModelPath(spec), fs);
  if (!src.ok()) src = FindModelSource(spec.model, fs);
  if (!src.ok()) return src.status();
  // The naive fit reads any architecture, but not a broken config.json: a missing architectures
  // list or absurd sizes (hidden_size 1e300) fail here rather than yield a config sized on junk.
  const Json* quant = src->hf_quant_config ? &*src->hf_quant_config : nullptr;
  if (auto arch = ParseHfConfig(src->config, quant, src->hf_id); !arch.ok() && arch.status().code() == StatusCode::kInvalidSpec)
    return Status::InvalidSpec("model " + src->origin + ": " + arch.status().message());
  auto parsed = NaiveShapeFromConfig(src->config);
  if (!parsed.ok()) return parsed.status();
  shape = *parsed;
  auto sla = spec.SlaOrDefault();
  NaiveParallelismResult n = NaiveParallelism(shape, vram, gpus_per_node, total, sla.optimization_type);
  if (!n.fits)
    out.warnings.push_back(fmt::format(
        "Model needs about {:.1f} GiB (1.5 x weights) which needs tp{} but at most {} GPUs are usable; using tp{}.",
        n.required_bytes / (1024.0 * 1024 * 1024), n.tp, n.max_tp, n.selected));
  out.warnings.push_back(fmt::format(
      "The performance engine cannot model this request ({}); using the naive memory-fit configuration "
      "({} x{}). The SLA is unverified.",
      why, NaiveStrategyName(n.strategy), n.selected));
  Decision& d = out.decision;
  d.backend = backend;
  d.disagg = false;
  d.naive = true;
  d.agg = MakeEnginePick(n.split, std::max(1, total / std::max(1, n.selected)), 128, 0);
  out.chosen_exp = "agg";
  return Status::Ok();
}

}  // namespace

std::vector<int> RerankOrder(const std::vector<SimVerdict>& verdicts, int rows) {
  std::vector<int> order;
  const int n = std::min<int>(static_cast<int>(verdicts.size()), rows);
  for (SimVerdict group : {SimVerdict::kMeets, SimVerdict::kUnknown, SimVerdict::kMisses})
    for (int i = 0; i < n; ++i)
      if (verdicts[i] == group) order.push_back(i);
  for (int i = n; i < rows; ++i) order.push_back(i);
  return order;
}

bool SimulationSupported(const DgdrSpec& spec, const FileSystem& fs, std::string* why) {
  auto r = Resolve(spec, fs);
  if (!r.ok()) {
    if (why) *why = r.status().message();
    return false;
  }
  for (Backend b : BackendsFor(spec.backend)) {
    if (PerfEngine::Create(r->model, r->system, b).ok()) return true;
  }
  if (why) *why = "no backend can be simulated for this model and GPU";
  return false;
}

Result<StrategyOutcome> RunStrategy(const DgdrSpec& spec, PickingMode mode, const StrategyOptions& options,
                                    const FileSystem& fs, Logger& log) {
  StrategyOutcome out;
  out.mode = mode;
  const WorkloadSpec w = spec.WorkloadOrDefault();
  const SlaSpec sla = spec.SlaOrDefault();
  const int gpus_per_node = spec.hardware->num_gpus_per_node.value_or(8);
  const int total_gpus = spec.hardware->total_gpus.value_or(gpus_per_node);
  auto start = std::chrono::steady_clock::now();
  auto finish = [&](StrategyOutcome& o) {
    o.search_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    for (const auto& warning : o.warnings) log.Warn(warning);
  };

  if (options.dry_run) {
    out.decision.backend = spec.backend == Backend::kAuto ? Backend::kVllm : spec.backend;
    out.decision.produced = false;
    finish(out);
    return out;
  }

  std::string why;
  auto resolved = Resolve(spec, fs);
  std::optional<PerfEngine> probe;
  if (resolved.ok()) {
    out.max_context_length = resolved->model.max_position_embeddings;
    if (!resolved->model.catalog_note.empty()) log.Info("Model: " + resolved->model.catalog_note);
  } else {
    why = resolved.status().message();
  }
  std::vector<PerfEngine> engines;
  if (resolved.ok()) {
    Backend only = mode == PickingMode::kAutoscale && spec.backend == Backend::kAuto ? Backend::kVllm : spec.backend;
    for (Backend b : BackendsFor(only)) {
      auto e = PerfEngine::Create(resolved->model, resolved->system, b);
      if (e.ok()) engines.push_back(std::move(*e));
      else why = e.status().message();
    }
  }
  if (engines.empty()) {
    if (spec.search_strategy == SearchStrategy::kThorough)
      return Status::Unsupported("cannot enumerate thorough candidates: " + why);
    Status st = NaiveFallback(spec, fs, why, out);
    if (!st.ok()) return st;
    finish(out);
    return out;
  }
  out.efficiency_source = std::string(engines.front().EfficiencySource());
  if (out.efficiency_source != "measured-fit")
    out.warnings.push_back(fmt::format(
        "{} has no measured kernel tables; estimates use the roofline with efficiencies {} ({}), so expect larger "
        "errors.",
        resolved->system.name,
        engines.front().efficiency_system().empty() ? std::string("of the built-in defaults")
                                                    : "fitted on " + engines.front().efficiency_system(),
        out.efficiency_source));

  if (spec.search_strategy == SearchStrategy::kThorough) {
    out.warnings.push_back("THOROUGH mode: only disagg configurations are supported.");
    out.warnings.push_back(
        "Thorough deployment and benchmarking is not available in this build yet; candidates are ranked by the "
        "performance engine instead of measurements.");
  }

  // Latency targets: e2eLatency makes both placeholders the e2e value (reference §2.3).
  LatencyTarget target;
  double ttft_target = sla.ttft_ms.value_or(0);
  if (sla.e2e_latency_ms) {
    target.request_latency_ms = sla.e2e_latency_ms;
    ttft_target = *sla.e2e_latency_ms;
  } else {
    target.tpot_ms = sla.itl_ms;
  }
  const bool by_optimization_type =
      sla.optimization_type && !sla.e2e_latency_ms && !sla.ttft_set_explicitly && !sla.itl_set_explicitly;
  if (by_optimization_type) ttft_target = std::numeric_limits<double>::infinity();

  SearchSpace space;
  space.isl = w.isl;
  space.osl = w.osl;
  space.total_gpus = std::min(total_gpus, 128);
  space.gpus_per_node = gpus_per_node;
  space.ttft_target_ms = ttft_target;
  space.agg = mode != PickingMode::kAutoscale && spec.search_strategy == SearchStrategy::kRapid;
  space.disagg = true;
  space.calibration = options.calibration;
  Json calibration_json = CalibrationRecord(options, engines, space, log);
  std::vector<StageRow> prefill_rows, decode_rows;
  for (const auto& engine : engines) {
    SearchResult r = RunRapidSearch(engine, space);
    out.evaluations += r.evaluations;
    out.agg_rows.insert(out.agg_rows.end(), r.agg.begin(), r.agg.end());
    out.disagg_rows.insert(out.disagg_rows.end(), r.disagg.begin(), r.disagg.end());
    prefill_rows.insert(prefill_rows.end(), r.prefill.begin(), r.prefill.end());
    decode_rows.insert(decode_rows.end(), r.decode.begin(), r.decode.end());
  }
  log.Info(fmt::format("Evaluated {} engine configurations ({} agg rows, {} disagg rows)", out.evaluations,
                       out.agg_rows.size(), out.disagg_rows.size()));
  out.agg_pareto = ParetoFrontier(out.agg_rows);
  out.disagg_pareto = ParetoFrontier(out.disagg_rows);

  Decision& d = out.decision;
  if (mode == PickingMode::kAutoscale) {
    if (spec.features.planner && spec.features.planner->enable_throughput_scaling)
      out.warnings.push_back("Throughput-based planner scaling: only disagg mode is supported.");
    PickResult p = PickAutoscale(prefill_rows, decode_rows, sla.ttft_ms.value_or(ttft_target),
                                 sla.itl_ms.value_or(target.request_latency_ms.value_or(0)), w.osl, options.top_n);
    out.warnings.insert(out.warnings.end(), p.warnings.begin(), p.warnings.end());
    out.disagg_top = p.top;
    out.disagg_best_throughput = p.best_throughput;
    if (!p.top.empty()) {
      out.chosen = p.top.front();
      out.chosen_exp = "disagg";
    }
  } else {
    PickResult agg, dis;
    if (by_optimization_type) {
      agg = PickOptimizationType(out.agg_rows, *sla.optimization_type, total_gpus, options.top_n);
      dis = PickOptimizationType(out.disagg_rows, *sla.optimization_type, total_gpus, options.top_n);
    } else if (mode == PickingMode::kLoadMatch) {
      LoadTarget load{w.request_rate, w.concurrency};
      agg = PickLoadMatch(out.agg_rows, target, load, total_gpus, options.top_n);
      dis = PickLoadMatch(out.disagg_rows, target, load, total_gpus, options.top_n);
    } else {
      agg = PickDefault(out.agg_rows, total_gpus, target, options.top_n);
      dis = PickDefault(out.disagg_rows, total_gpus, target, options.top_n);
    }
    out.agg_top = agg.top;
    out.disagg_top = dis.top;
    out.agg_best_throughput = agg.best_throughput;
    out.disagg_best_throughput = dis.best_throughput;
    bool choose_disagg = !dis.top.empty() && (agg.top.empty() || dis.best_throughput > agg.best_throughput);
    if (!choose_disagg && !agg.top.empty() && spec.NeedsProfileData() && !dis.top.empty()) {
      out.warnings.push_back("Aggregated configuration wins, but planner/mocker profile data needs a disaggregated "
                             "deployment; using the best disaggregated configuration.");
      choose_disagg = true;
    }
    const PickResult& chosen = choose_disagg ? dis : agg;
    out.warnings.insert(out.warnings.end(), chosen.warnings.begin(), chosen.warnings.end());
    if (!chosen.top.empty()) {
      out.chosen = chosen.top.front();
      out.chosen_exp = choose_disagg ? "disagg" : "agg";
    }
  }

  // --rerank-top: the first rows of each top list simulated under their own load and re-ordered
  // (RerankOrder); the agg-vs-disagg choice stays, the pick becomes the first row of its mode.
  std::optional<RerankedList> agg_rerank, disagg_rerank;
  Json rerank_json;
  if (options.rerank_top > 0 && out.chosen) {
    P90Targets p90;
    if (!by_optimization_type) {  // as the pickers: an optimizationType alone ignores the default SLA
      p90.ttft_ms = sla.ttft_ms;
      p90.itl_ms = sla.itl_ms;
      p90.request_latency_ms = sla.e2e_latency_ms;
    }
    const std::string closed_form_pick = out.chosen->Describe();
    agg_rerank = RerankTop(out.agg_top, options.rerank_top, engines, w.isl, w.osl, p90);
    disagg_rerank = RerankTop(out.disagg_top, options.rerank_top, engines, w.isl, w.osl, p90);
    out.chosen = out.chosen_exp == "disagg" ? out.disagg_top.front() : out.agg_top.front();
    const std::string pick_now = out.chosen->Describe();
    Json targets = Json::object();
    if (p90.ttft_ms) targets["ttft_ms"] = *p90.ttft_ms;
    if (p90.itl_ms) targets["itl_ms"] = *p90.itl_ms;
    if (p90.request_latency_ms) targets["request_latency_ms"] = *p90.request_latency_ms;
    rerank_json = {{"top_n", options.rerank_top},
                   {"percentile", "p90"},
                   {"targets", targets},
                   {"agg", agg_rerank->record},
                   {"disagg", disagg_rerank->record},
                   {"pick_changed", pick_now != closed_form_pick}};
    log.Info(pick_now != closed_form_pick
                 ? fmt::format("Re-ranking the top {} by scheduler simulation (p90 vs SLA) changed the {} pick from "
                               "{} to {}",
                               options.rerank_top, out.chosen_exp, closed_form_pick, pick_now)
                 : fmt::format("Re-ranking the top {} by scheduler simulation (p90 vs SLA) kept the {} pick {}",
                               options.rerank_top, out.chosen_exp, pick_now));
  }

  if (!out.chosen) {
    d.produced = false;
    d.backend = engines.front().backend();
    // Say why: the closest any configuration came to the TTFT target.
    double best_ttft = std::numeric_limits<double>::infinity();
    for (const auto& r : out.agg_rows)
      if (r.ttft_ms > 0) best_ttft = std::min(best_ttft, r.ttft_ms);
    for (const auto& p : prefill_rows) best_ttft = std::min(best_ttft, p.ttft_ms * kAutoscaleTtftCorrection);
    std::string reason = std::isfinite(best_ttft)
                             ? fmt::format("no configuration meets the SLA: best achievable TTFT {:.1f} ms vs target "
                                           "{:.1f} ms (isl {}, {} GPUs)",
                                           best_ttft, ttft_target, w.isl, total_gpus)
                             : fmt::format("no configuration fits on {} x {}", total_gpus, *spec.hardware->gpu_sku);
    out.warnings.push_back(reason);
    d.pick_json = {{"mode", std::string(PickingModeName(mode))}, {"error", reason}, {"calibration", calibration_json}};
    finish(out);
    return out;
  }

  const ConfigRow& c = *out.chosen;
  WarnUnachievable(c, sla, out.warnings);
  if (mode == PickingMode::kAutoscale && c.num_total_gpus > total_gpus)
    out.warnings.push_back(fmt::format(
        "One prefill plus one decode engine of the autoscale pick need {} GPUs, more than the budget of {}; the "
        "planner cannot start both within the budget.",
        c.num_total_gpus, total_gpus));
  if (mode == PickingMode::kLoadMatch && c.total_gpus_needed > total_gpus)
    out.warnings.push_back(fmt::format(
        "Load target requires {} GPUs but only {} available. Consider adding more GPUs or reducing the load target.",
        c.total_gpus_needed, total_gpus));
  d.backend = c.backend;
  d.disagg = c.disagg;
  int replicas = c.replicas;
  if (mode == PickingMode::kAutoscale) replicas = 1;
  if (mode == PickingMode::kLoadMatch && c.total_gpus_needed > total_gpus) {
    replicas = std::max(1, total_gpus / std::max(1, c.num_total_gpus));
    out.warnings.push_back(fmt::format("Picked config requests {} GPUs but DGDR budget is {}; clamping generated "
                                       "deployment to budget.",
                                       c.total_gpus_needed, total_gpus));
  }
  if (c.disagg) {
    d.prefill = MakeEnginePick(c.prefill.split, c.prefill_workers * replicas, 1, std::max(w.isl, 1));
    d.decode = MakeEnginePick(c.decode.split, c.decode_workers * replicas, c.decode.bs, 0);
  } else {
    d.agg = MakeEnginePick(c.split, replicas, c.bs, c.ctx_tokens);
  }
  Json pick = Json::object();
  pick["mode"] = std::string(PickingModeName(mode));
  pick["chosen_exp"] = out.chosen_exp;
  pick["backend"] = std::string(BackendName(d.backend));
  pick["chosen"] = ConfigRowJson(c);
  pick["agg_best_throughput"] = out.agg_best_throughput;
  pick["disagg_best_throughput"] = out.disagg_best_throughput;
  if (out.agg_best_throughput > 0 && out.disagg_best_throughput > 0)
    pick["agg_vs_disagg_ratio"] = out.agg_best_throughput / out.disagg_best_throughput;
  pick["efficiency_source"] = out.efficiency_source;
  pick["calibration"] = calibration_json;
  // The pick's load simulation: the re-ranking's when it simulated the pick, else run now.
  const std::optional<RerankedList>& chosen_rerank = out.chosen_exp == "disagg" ? disagg_rerank : agg_rerank;
  Result<SimResult> chosen_sim = Status::Internal("not simulated");
  if (chosen_rerank && !chosen_rerank->sims.empty() && chosen_rerank->sims.front()) {
    chosen_sim = *chosen_rerank->sims.front();
  } else if (const PerfEngine* engine = EngineFor(engines, c.backend)) {
    chosen_sim = SimulateUnderLoad(*engine, c, w.isl, w.osl);
  }
  if (Json sim = LoadSimulation(chosen_sim, sla, out.warnings); !sim.is_null()) pick["load_simulation"] = sim;
  pick["evaluations"] = out.evaluations;
  Json alts = Json::array();
  auto add_top = [&alts](const std::vector<ConfigRow>& rows, const std::optional<RerankedList>& rerank) {
    for (size_t i = 0; i < rows.size(); ++i) {
      Json row = ConfigRowJson(rows[i]);
      if (rerank && i < rerank->sims.size() && rerank->sims[i] && rerank->sims[i]->ok())
        row["load_simulation"] = LoadSimulationJson(**rerank->sims[i]);
      alts.push_back(row);
    }
  };
  add_top(out.agg_top, agg_rerank);
  add_top(out.disagg_top, disagg_rerank);
  pick["top"] = alts;
  if (!rerank_json.is_null()) pick["rerank"] = rerank_json;
  d.pick_json = pick;
  finish(out);
  d.pick_json["warnings"] = out.warnings;
  return out;
}

}  // namespace dyprof

// `estimate`: one configuration → TTFT, TPOT, throughput, memory (static | agg | disagg), or a batch
// of silicon-format rows → PRED.csv (`--from-csv ROWS.csv --out PRED.csv`).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "cli/cli.h"
#include "common/document.h"
#include "common/file_system.h"
#include "perf/batch.h"
#include "perf/calibration.h"
#include "perf/csv.h"
#include "perf/engine.h"
#include "perf/perf_db.h"
#include "sim/estimate.h"

namespace dyprof {
namespace {

struct SplitFlags {
  int tp = 1, pp = 1, dp = 1, moe_tp = 0, moe_ep = 0;  // moe 0 = derive
  ParallelSplit ToSplit(bool moe) const { return SplitFromDegrees(tp, pp, dp, moe_tp, moe_ep, moe); }
};

struct EstimateFlags {
  std::string model, system, backend = "vllm", mode = "agg", quant, kv_quant, moe_quant, backend_version;
  std::string calibration = "shipped", calibration_table;
  std::string from_csv, recipes, out, perf_db, format = "table", latency_model = "hybrid";
  std::string moe_a2a_backend = "none";
  int requests_per_user = 0, warmup_per_user = -1;
  double arrival_rate = 0;
  double isl_spread = -1, osl_spread = -1;  // < 0: the simulation's fitted default
  double random_range_ratio = 0;            // > 0: request lengths drawn from [ratio x isl, isl] (and osl)
  int isl = 4000, osl = 1000, concurrency = 0, batch_size = 0, max_num_tokens = 0;
  SplitFlags split, prefill, decode;
  int prefill_batch = 1, prefill_workers = 0, decode_batch = 0, decode_workers = 0;  // workers 0 = derive (des) / 1
  int decode_max_batch = 0;  // 0 = the backend's default
  bool detail = false;
  SpeculativeFlags speculative;
};

const CLI::Range kDegreeRange = GpuCountRange();
const CLI::Range kCountRange = GpuCountRange(/*allow_zero=*/true);
const CLI::Range kTokensRange(1, kMaxSequenceTokens);
const CLI::Range kLoadRange(0, static_cast<int>(kMaxConcurrency));

void AddSplitFlags(CLI::App* app, SplitFlags& s, const std::string& prefix, const std::string& what) {
  app->add_option("--" + prefix + "tp", s.tp, what + "tensor parallel size")->check(kDegreeRange);
  app->add_option("--" + prefix + "pp", s.pp, what + "pipeline parallel size")->check(kDegreeRange);
  app->add_option("--" + prefix + "dp", s.dp, what + "attention data parallel size")->check(kDegreeRange);
  app->add_option("--" + prefix + "moe-tp", s.moe_tp, what + "expert tensor parallel size (default tp*dp/moe-ep)")
      ->check(kCountRange);
  app->add_option("--" + prefix + "moe-ep", s.moe_ep, what + "expert parallel size (default 1)")->check(kCountRange);
}

Json MetricsJson(const Metrics& m) {
  return Json{{"ttft_ms", m.ttft_ms},
              {"tpot_ms", m.tpot_ms},
              {"request_latency_ms", m.request_latency_ms},
              {"tokens_per_s", m.tokens_per_s},
              {"tokens_per_s_per_gpu", m.tokens_per_s_per_gpu},
              {"tokens_per_s_per_user", m.tokens_per_s_per_user},
              {"request_rate", m.request_rate},
              {"concurrency", m.concurrency},
              {"num_gpus", m.num_gpus}};
}

Json MemoryJson(const Result<MemoryBreakdown>& mem) {
  if (!mem.ok()) return Json{{"error", mem.status().message()}};
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  return Json{{"fits", mem->fits},
              {"rule", mem->rule},
              {"weights_gib_per_gpu", mem->weights_bytes / kGiB},
              {"activation_gib_per_gpu", mem->activation_bytes / kGiB},
              {"kv_pool_gib_per_gpu", mem->kv_pool_bytes / kGiB},
              {"memory_per_gpu_gib", (mem->NonKvBytes() + std::max(mem->kv_pool_bytes, 0.0)) / kGiB},
              {"kv_tokens_capacity", mem->max_kv_tokens},
              {"overflow", mem->overflow}};
}

Json BreakdownJson(const std::vector<OpTiming>& ops) {
  Json a = Json::array();
  for (const auto& o : ops) {
    a.push_back(Json{{"op", o.name}, {"ms", o.ms}, {"count", o.count}, {"source", OpSourceName(o.source)}});
  }
  return a;
}

Json SourcesJson(const std::vector<OpTiming>& ops) {
  Json s = Json::object();
  for (const auto& o : ops) s[o.name] = OpSourceName(o.source);
  return s;
}

// The calibration table estimate applies: --calibration-table's, else the shipped one; none with
// --calibration none, another latency model than hybrid or --perf-db (tables correct the hybrid
// model on the fitted efficiency grids, the one they are fitted on).
Result<const Calibration*> ChosenCalibration(const EstimateFlags& f, const FileSystem& fs, Calibration& loaded) {
  if (f.calibration != "shipped" || f.latency_model != "hybrid" || !f.perf_db.empty()) {
    return static_cast<const Calibration*>(nullptr);
  }
  if (f.calibration_table.empty()) return &Calibration::Shipped();
  DYPROF_ASSIGN_OR_RETURN(loaded, Calibration::Read(fs, f.calibration_table));
  return static_cast<const Calibration*>(&loaded);
}

// Where the applied table came from, for the output.
std::string CalibrationSource(const EstimateFlags& f) {
  return f.calibration_table.empty() ? std::string(kShippedCalibrationSource) : f.calibration_table;
}

// Why no table applies under --calibration shipped, for the output ("" when one does).
std::string NoCalibrationReason(const EstimateFlags& f) {
  if (f.latency_model != "hybrid") return "the table corrects --latency-model hybrid, not " + f.latency_model;
  if (!f.perf_db.empty()) return "the table corrects the fitted efficiency grids, not --perf-db";
  return "";
}

int RunBatch(const EstimateFlags& f) {
  PosixFileSystem fs;
  std::string recipes_summary;
  auto table = LoadSiliconRows(fs, f.from_csv, f.recipes, &recipes_summary);
  if (!table.ok()) {
    std::cerr << "error: " << table.status().message() << "\n";
    return 1;
  }
  if (!recipes_summary.empty()) std::cerr << recipes_summary << "\n";
  auto estimator_options = EstimatorOptions(f.latency_model, f.speculative, f.moe_a2a_backend);
  if (!estimator_options.ok()) {
    std::cerr << "error: " << estimator_options.status().message() << "\n";
    return 2;
  }
  PerfOptions opts = *estimator_options;
  BatchEstimator est(&fs, opts, f.perf_db);
  // The table corrects the hybrid latency model, the one it was fitted on (data/calibration/README.md).
  Calibration loaded;
  auto calibration = ChosenCalibration(f, fs, loaded);
  if (!calibration.ok()) {
    std::cerr << "error: " << calibration.status().message() << "\n";
    return 1;
  }
  est.set_calibration(*calibration);
  SimOptions so;
  so.requests_per_user = f.requests_per_user;
  so.warmup_per_user = f.warmup_per_user;
  so.isl_spread = f.isl_spread;
  so.osl_spread = f.osl_spread;
  UseLatencyModel(est, f.latency_model, so);
  std::string out = CsvLine({"id", "pred_ttft_ms", "pred_tpot_ms", "status", "error", "calibration"});
  int ok = 0, n = 0;
  for (size_t i = 0; i < table->num_rows(); ++i) {
    ++n;
    std::string id(table->Get(i, "id"));
    if (id.empty()) id = "row" + std::to_string(i + 1);
    auto req = RequestFromSiliconRow(*table, i);
    if (!req.ok()) {
      auto st = req.status().code() == StatusCode::kUnsupported ? EstimateStatus::kUnsupported : EstimateStatus::kError;
      out += CsvLine({id, "", "", std::string(EstimateStatusName(st)), req.status().message(), ""});
      continue;
    }
    EstimateOutcome o = est.Predict(*req);
    if (o.status == EstimateStatus::kOk) {
      ++ok;
      out += CsvLine({id, fmt::format("{:.4f}", o.metrics.ttft_ms), fmt::format("{:.4f}", o.metrics.tpot_ms), "ok", "",
                      o.calibration.family});
    } else {
      out += CsvLine({id, "", "", std::string(EstimateStatusName(o.status)), o.error, ""});
    }
  }
  if (f.out.empty() || f.out == "-") {
    std::cout << out;
  } else {
    auto st = fs.WriteFileAtomic(f.out, out);
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
    std::cerr << fmt::format("estimate: {} rows, {} predicted, written to {}\n", n, ok, f.out);
  }
  return 0;
}

int RunSingle(const EstimateFlags& f) {
  PosixFileSystem fs;
  if (f.model.empty() || f.system.empty()) {
    std::cerr << "error: estimate needs --model and --system (or --from-csv)\n";
    return 2;
  }
  Calibration loaded;
  auto table = ChosenCalibration(f, fs, loaded);  // read before the estimate: a bad file fails fast
  if (!table.ok()) {
    std::cerr << "error: " << table.status().message() << "\n";
    return 1;
  }
  auto model = FindModel(f.model, fs);
  if (!model.ok()) {
    std::cerr << "error: " << model.status().message() << "\n";
    return model.status().code() == StatusCode::kUnsupported ? 3 : 1;
  }
  auto system = FindSystem(f.system);
  if (!system.ok()) {
    std::cerr << "error: " << system.status().message() << "\n";
    return 1;
  }
  auto backend = ParseBackend(f.backend);
  if (!backend || *backend == Backend::kAuto) backend = Backend::kVllm;
  auto mode = ParseServingMode(f.mode);
  if (!mode) {
    std::cerr << "error: --mode must be static, agg or disagg\n";
    return 2;
  }
  if (f.decode_max_batch > 0) {  // a limit of the simulated decode workers, nothing else
    if (*mode != ServingMode::kDisagg) {
      std::cerr << "error: --decode-max-batch-size limits the decode workers of --mode disagg (got --mode " << f.mode
                << ")\n";
      return 2;
    }
    if (f.latency_model != "hybrid" && f.latency_model != "des") {
      std::cerr << "error: --decode-max-batch-size is modelled by the scheduler simulation (--latency-model hybrid "
                   "or des), not by --latency-model "
                << f.latency_model << "\n";
      return 2;
    }
    if (f.decode_batch > f.decode_max_batch) {
      std::cerr << "error: --decode-batch-size " << f.decode_batch << " is above --decode-max-batch-size "
                << f.decode_max_batch << "\n";
      return 2;
    }
  }
  ModelArch arch = *model;
  for (auto [flag, dst] : {std::pair{&f.quant, &arch.weight_quant}, std::pair{&f.moe_quant, &arch.moe_quant},
                           std::pair{&f.kv_quant, &arch.kv_quant}}) {
    if (flag->empty()) continue;
    auto q = ParseQuantName(*flag);
    if (!q) {
      std::cerr << "error: unknown quantization '" << *flag << "'\n";
      return 2;
    }
    *dst = *q;
    if (dst == &arch.weight_quant && f.moe_quant.empty() && arch.IsMoe()) arch.moe_quant = *q;
  }
  auto estimator_options = EstimatorOptions(f.latency_model, f.speculative, f.moe_a2a_backend);
  if (!estimator_options.ok()) {
    std::cerr << "error: " << estimator_options.status().message() << "\n";
    return 2;
  }
  PerfOptions opts = *estimator_options;
  if (!f.perf_db.empty()) {
    auto db = PerfDb::Load(f.perf_db, system->name, std::string(BackendName(*backend)), fs);
    if (!db.ok()) {
      std::cerr << "error: " << db.status().message() << "\n";
      return 1;
    }
    opts.perf_db = *db;
  }
  auto engine = PerfEngine::Create(arch, *system, *backend, opts);
  if (!engine.ok()) {
    std::cerr << "error: " << engine.status().message() << "\n";
    return 1;
  }
  const bool moe = arch.IsMoe();
  EstimateRequest r;
  r.model = f.model;
  r.system = system->name;
  r.backend = *backend;
  r.mode = *mode;
  r.isl = f.isl;
  r.osl = f.osl;
  // A benchmark's random lengths (the legacy benchmark_serving.py --random-range-ratio): predicted
  // at the mean request, simulated over the range.
  if (f.random_range_ratio > 0) UseBenchmarkLengths(r, f.isl, f.osl, f.random_range_ratio);
  r.max_num_tokens = f.max_num_tokens;
  ParallelSplit mem_split, breakdown_split;
  int breakdown_batch = 1;
  if (*mode == ServingMode::kDisagg) {
    r.disagg.prefill_split = f.prefill.ToSplit(moe);
    r.disagg.decode_split = f.decode.ToSplit(moe);
    r.disagg.prefill_batch = f.prefill_batch;
    r.disagg.prefill_workers = std::max(1, f.prefill_workers);
    r.disagg.decode_workers = std::max(1, f.decode_workers);
    r.concurrency = f.concurrency;
    // The running batch per decode rank: the one given, or the load's share; at most the decode
    // workers' max batch.
    const int given = f.decode_batch > 0 ? f.decode_batch : f.batch_size;
    r.disagg.decode_batch =
        given > 0 ? (f.decode_max_batch > 0 ? std::min(given, f.decode_max_batch) : given)
                  : DecodeBatchPerRank(f.concurrency, r.disagg.decode_workers, r.disagg.decode_split.dp,
                                       f.decode_max_batch);
    r.decode_max_batch = f.decode_max_batch;
    mem_split = r.disagg.decode_split;
    breakdown_split = r.disagg.decode_split;
    breakdown_batch = r.disagg.decode_batch;
  } else {
    r.split = f.split.ToSplit(moe);
    if (f.batch_size > 0) {
      r.batch = f.batch_size;
      r.concurrency = f.concurrency > 0 ? f.concurrency : static_cast<double>(f.batch_size) * r.split.dp;
    } else {
      r.concurrency = f.concurrency > 0 ? f.concurrency : 1;
      r.batch = std::max(1, static_cast<int>(std::ceil(r.concurrency / r.split.dp)));
    }
    mem_split = r.split;
    breakdown_split = r.split;
    breakdown_batch = r.batch;
  }
  if (Status valid = ValidateRequest(r); !valid.ok()) {
    std::cerr << "error: " << valid.message() << "\n";
    return 2;
  }
  const bool des = (f.latency_model == "des" && *mode != ServingMode::kStatic) ||
                   (f.latency_model == "hybrid" && *mode == ServingMode::kDisagg);
  SimResult sim;
  SimOptions so;
  so.requests_per_user = f.requests_per_user;
  so.warmup_per_user = f.warmup_per_user;
  so.rate_rps = f.arrival_rate;
  so.isl_spread = f.isl_spread;
  so.osl_spread = f.osl_spread;
  if (*mode == ServingMode::kDisagg && des) r.disagg_workers_known = f.decode_workers > 0 && f.prefill_workers > 0;
  auto metrics = des ? RunEstimateDes(*engine, r, so, &sim) : RunEstimate(*engine, r);
  if (!metrics.ok()) {
    std::cerr << "error: " << metrics.status().message() << "\n";
    return 1;
  }
  // The silicon calibration of the request's family (data/calibration/silicon.csv), if it has one.
  const Metrics uncalibrated = *metrics;
  CalibrationFactors calibration;
  if (*table != nullptr) {
    r.backend_version = f.backend_version;
    calibration = (*table)->Lookup(CalibrationKeyFor(r, *engine), CalibrationConcurrency(r, *metrics), r.isl, r.osl,
                                   CalibrationLayout(r));
    if (calibration.applied) {
      // Open loop only where the simulation ran Poisson arrivals (the closed form has no --arrival-rate).
      ApplyCalibration(calibration, r.osl, *metrics, /*closed_loop=*/!(des && f.arrival_rate > 0));
      if (des) {
        const double e2e_scale = uncalibrated.request_latency_ms > 0
                                     ? metrics->request_latency_ms / uncalibrated.request_latency_ms
                                     : 1.0;
        // The queueing is part of the TTFT: it moves with it.
        for (auto [d, k] : {std::pair{&sim.ttft_ms, calibration.ttft}, std::pair{&sim.queue_ms, calibration.ttft},
                            std::pair{&sim.itl_ms, calibration.tpot}, std::pair{&sim.tpot_ms, calibration.tpot},
                            std::pair{&sim.e2e_ms, e2e_scale}}) {
          d->mean *= k;
          d->p50 *= k;
          d->p90 *= k;
          d->p99 *= k;
        }
      }
    }
  }
  if (*mode == ServingMode::kDisagg && des) {
    // The simulated deployment: the worker counts it used (derived when not given) and the decode
    // batch per DP rank they imply.
    r.disagg.prefill_workers = sim.prefill_workers;
    r.disagg.decode_workers = sim.decode_workers;
    if (f.decode_batch <= 0 && f.batch_size <= 0 && f.concurrency > 0) {
      r.disagg.decode_batch =
          DecodeBatchPerRank(f.concurrency, sim.decode_workers, r.disagg.decode_split.dp, f.decode_max_batch);
    }
  }
  EngineLimits limits;
  limits.max_model_len = f.isl + f.osl;
  limits.max_batch_size = std::max(breakdown_batch, 1);
  if (f.max_num_tokens > 0) limits.max_num_tokens = f.max_num_tokens;
  auto mem = engine->Memory(mem_split, limits);
  std::vector<OpTiming> prefill_ops, decode_ops;
  auto pb = *mode == ServingMode::kDisagg ? r.disagg.prefill_split : breakdown_split;
  auto p_ops = engine->StaticBreakdown(pb, *mode == ServingMode::kDisagg ? r.disagg.prefill_batch : 1, r.isl, r.osl, true);
  auto d_ops = engine->StaticBreakdown(breakdown_split, breakdown_batch, r.isl, r.osl, false);
  if (p_ops.ok()) prefill_ops = *p_ops;
  if (d_ops.ok()) decode_ops = *d_ops;

  Json j = MetricsJson(*metrics);
  j["latency_model"] = des ? "des" : (f.latency_model == "aic" ? "aic" : "analytic");
  if (des) {
    auto dist = [](const Dist& d) { return Json{{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}}; };
    j["simulation"] = Json{{"ttft_ms", dist(sim.ttft_ms)},
                           {"itl_ms", dist(sim.itl_ms)},
                           {"tpot_ms", dist(sim.tpot_ms)},
                           {"e2e_ms", dist(sim.e2e_ms)},
                           {"queue_ms", dist(sim.queue_ms)},
                           {"achieved_concurrency", sim.achieved_concurrency},
                           {"requests_measured", sim.requests_measured},
                           {"preemptions", sim.preemptions},
                           {"mean_decode_batch", sim.mean_decode_batch}};
    if (*mode == ServingMode::kDisagg) j["simulation"]["kv_transfer_ms"] = sim.kv_transfer_ms;
  }
  if (calibration.applied) {
    j["calibration"] = Json{{"table", CalibrationSource(f)},
                            {"family", calibration.family},
                            {"rows", calibration.rows},
                            {"ttft_factor", calibration.ttft},
                            {"tpot_factor", calibration.tpot},
                            {"ttft_neighbours", calibration.ttft_neighbours},
                            {"ttft_neighbours_same_layout", calibration.ttft_neighbours_same_layout},
                            {"uncalibrated_ttft_ms", uncalibrated.ttft_ms},
                            {"uncalibrated_tpot_ms", uncalibrated.tpot_ms},
                            {"read_at_edge", calibration.read_at_edge.empty() ? Json(nullptr)
                                                                              : Json(calibration.read_at_edge)},
                            {"unmeasured_lengths", calibration.unmeasured_lengths.empty()
                                                       ? Json(nullptr)
                                                       : Json(calibration.unmeasured_lengths)}};
  } else {
    j["calibration"] = nullptr;
  }
  j["model"] = arch.hf_id;
  if (!arch.catalog_note.empty()) j["model_note"] = arch.catalog_note;
  j["system"] = system->name;
  j["backend"] = BackendName(*backend);
  if (!f.backend_version.empty()) j["backend_version"] = f.backend_version;
  j["mode"] = ServingModeName(*mode);
  j["isl"] = f.isl;
  j["osl"] = f.osl;
  if (f.random_range_ratio > 0) {
    j["random_range_ratio"] = f.random_range_ratio;
    j["mean_isl"] = r.isl;
    j["mean_osl"] = r.osl;
  }
  if (*mode == ServingMode::kDisagg) {
    j["prefill_parallel"] = r.disagg.prefill_split.ToString();
    j["decode_parallel"] = r.disagg.decode_split.ToString();
    j["prefill_workers"] = r.disagg.prefill_workers;
    j["decode_workers"] = r.disagg.decode_workers;
    j["decode_batch_size"] = r.disagg.decode_batch;
  } else {
    j["parallel"] = r.split.ToString();
    j["batch_size"] = r.batch;
  }
  j["kv_tokens_capacity"] = mem.ok() ? Json(mem->max_kv_tokens) : Json(nullptr);
  j["memory"] = MemoryJson(mem);
  j["efficiency_source"] = engine->EfficiencySource();
  j["efficiency_system"] = engine->efficiency_system();
  j["op_sources"] = SourcesJson(prefill_ops);
  for (const auto& o : decode_ops) j["op_sources"][o.name] = OpSourceName(o.source);
  if (f.detail) {
    j["breakdown"] = Json{{"prefill_step", BreakdownJson(prefill_ops)}, {"decode_step", BreakdownJson(decode_ops)}};
  }
  if (f.format == "json") {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::string out;
  out += fmt::format("model        {}\nsystem       {} ({} efficiency: {})\nbackend      {}\nmode         {}\n",
                     arch.hf_id, system->name, engine->EfficiencySource(), engine->efficiency_system().empty() ? "none" : engine->efficiency_system(),
                     BackendName(*backend), ServingModeName(*mode));
  if (!arch.catalog_note.empty()) out += fmt::format("model note   {}\n", arch.catalog_note);
  if (*mode == ServingMode::kDisagg) {
    out += fmt::format("parallel     prefill {} x{} (batch {}), decode {} x{} (batch {})\n",
                       r.disagg.prefill_split.ToString(), r.disagg.prefill_workers, r.disagg.prefill_batch,
                       r.disagg.decode_split.ToString(), r.disagg.decode_workers, r.disagg.decode_batch);
  } else {
    out += fmt::format("parallel     {} (batch {} per DP rank)\n", r.split.ToString(), r.batch);
  }
  out += fmt::format("isl/osl      {}/{}", f.isl, f.osl);
  if (f.random_range_ratio > 0) {
    out += fmt::format(" (each drawn from {:g}-1 of it: mean {}/{})", f.random_range_ratio, r.isl, r.osl);
  }
  out += "\n";
  if (calibration.applied) {
    out += fmt::format("calibration  {} ({} measured rows): TTFT x{:.3f} (model {:.2f} ms), TPOT x{:.3f} (model {:.3f} ms)",
                       calibration.family, calibration.rows, calibration.ttft, uncalibrated.ttft_ms, calibration.tpot,
                       uncalibrated.tpot_ms);
    if (calibration.ttft_neighbours > 0) {
      out += fmt::format("; TTFT from the family's line and its {} measured row{} at this ISL near this load{}",
                         calibration.ttft_neighbours, calibration.ttft_neighbours == 1 ? "" : "s",
                         calibration.ttft_neighbours_same_layout ? " with this layout" : "");
    }
    // Beyond the family's measurements the factors are the edge's; at an ISL the family has not
    // measured TTFT is left uncorrected (CalibrationFactors::unmeasured_lengths).
    if (!calibration.read_at_edge.empty()) {
      out += fmt::format("; beyond the family's measurements, read at their edge: {}", calibration.read_at_edge);
    }
    if (!calibration.unmeasured_lengths.empty()) {
      out += fmt::format("; lengths the family has not measured: {}", calibration.unmeasured_lengths);
    }
    if (calibration.isl_unmeasured) out += " (TTFT left uncorrected at that ISL)";
    out += "\n";
  } else if (f.calibration == "shipped") {
    const std::string why = NoCalibrationReason(f);
    out += fmt::format("calibration  none ({})\n",
                       why.empty() ? "no measured family in " + CalibrationSource(f) : why);
  }
  out += fmt::format("ttft_ms               {:.2f}\n", metrics->ttft_ms);
  out += fmt::format("tpot_ms               {:.3f}\n", metrics->tpot_ms);
  out += fmt::format("request_latency_ms    {:.1f}\n", metrics->request_latency_ms);
  out += fmt::format("tokens_per_s_per_gpu  {:.1f}\n", metrics->tokens_per_s_per_gpu);
  out += fmt::format("tokens_per_s_per_user {:.1f}\n", metrics->tokens_per_s_per_user);
  out += fmt::format("request_rate          {:.3f}\n", metrics->request_rate);
  out += fmt::format("num_gpus              {}\n", metrics->num_gpus);
  if (mem.ok()) {
    out += fmt::format("kv_tokens_capacity    {}\n", mem->max_kv_tokens);
    out += fmt::format("memory_per_gpu_gib    {:.1f} (weights {:.1f}){}\n",
                       (mem->NonKvBytes() + std::max(mem->kv_pool_bytes, 0.0)) / (1024.0 * 1024 * 1024),
                       mem->weights_bytes / (1024.0 * 1024 * 1024), mem->fits ? "" : "  DOES NOT FIT: " + mem->overflow);
  }
  if (des) {
    auto row = [](const char* name, const Dist& d) {
      return fmt::format("  {:<10} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n", name, d.mean, d.p50, d.p90, d.p99);
    };
    out += fmt::format("\nscheduler simulation ({} requests measured, achieved concurrency {:.1f}, {} preemptions)\n",
                       sim.requests_measured, sim.achieved_concurrency, sim.preemptions);
    out += fmt::format("  {:<10} {:>10} {:>10} {:>10} {:>10}\n", "ms", "mean", "p50", "p90", "p99");
    out += row("ttft", sim.ttft_ms) + row("itl", sim.itl_ms) + row("tpot", sim.tpot_ms) + row("e2e", sim.e2e_ms) +
           row("queue", sim.queue_ms);
    if (*mode == ServingMode::kDisagg) {
      out += fmt::format("  workers    {}P{}D, kv transfer {:.2f} ms\n", sim.prefill_workers, sim.decode_workers,
                         sim.kv_transfer_ms);
    }
  }
  if (f.detail) {
    for (const auto* ops : {&prefill_ops, &decode_ops}) {
      out += ops == &prefill_ops ? "\nprefill step ops (ms)\n" : "\ndecode step ops (ms)\n";
      for (const auto& o : *ops) out += fmt::format("  {:<26} {:>10.4f}  x{:<4} {}\n", o.name, o.ms, o.count, OpSourceName(o.source));
    }
  }
  std::cout << out;
  return 0;
}

}  // namespace

CommandRegistrar EstimateCommand() {
  return [](CLI::App& parent) -> CommandRegistration {
    auto* app = parent.add_subcommand("estimate", "Estimate TTFT/TPOT/throughput of one configuration, or of silicon-format CSV rows");
    auto f = std::make_shared<EstimateFlags>();
    app->add_option("--model", f->model, "Hugging Face id or local model directory");
    app->add_option("--system", f->system, "GPU system id (e.g. h200_sxm)");
    app->add_option("--backend", f->backend, "vllm | sglang | trtllm")->capture_default_str()
        ->check(CLI::IsMember({"vllm", "sglang", "trtllm", "auto"}, CLI::ignore_case));
    app->add_option("--backend-version", f->backend_version,
                    "Backend version: selects the calibration entry of that version (else all versions pooled)");
    app->add_option("--calibration", f->calibration,
                    "shipped (default: correct TTFT and TPOT by the measured family's factors in "
                    "data/calibration/silicon.csv, or in --calibration-table, when the table has the family; "
                    "--latency-model hybrid without --perf-db only, the model tables are fitted on) or none "
                    "(the model alone)")
        ->capture_default_str()->check(CLI::IsMember({"shipped", "none"}));
    app->add_option("--calibration-table", f->calibration_table,
                    "Calibration table to apply instead of the shipped one (written by accuracy --write-calibration "
                    "from your own measured rows)");
    app->add_option("--mode", f->mode, "static | agg | disagg")->capture_default_str()
        ->check(CLI::IsMember({"static", "agg", "disagg"}));
    app->add_option("--isl", f->isl, "Input tokens per request")->capture_default_str()->check(kTokensRange);
    app->add_option("--osl", f->osl, "Output tokens per request")->capture_default_str()->check(kTokensRange);
    app->add_option("--concurrency", f->concurrency, "Concurrent requests (agg: per engine; disagg: deployment)")
        ->check(kLoadRange);
    app->add_option("--batch-size", f->batch_size, "Batch per attention-DP rank (static/agg)")->check(kLoadRange);
    app->add_option("--max-num-tokens", f->max_num_tokens, "Chunked-prefill token budget per step (default: backend's)")
        ->check(CLI::Range(0, kMaxSequenceTokens));
    app->add_option("--quant", f->quant, "GEMM weight format: bf16, fp8, fp8_block, nvfp4, int4_wo");
    app->add_option("--moe-quant", f->moe_quant, "Expert weight format (default: --quant)");
    app->add_option("--kv-quant", f->kv_quant, "KV-cache format: bf16 or fp8");
    AddSplitFlags(app, f->split, "", "");
    AddSplitFlags(app, f->prefill, "prefill-", "disagg prefill worker: ");
    AddSplitFlags(app, f->decode, "decode-", "disagg decode worker: ");
    app->add_option("--prefill-batch-size", f->prefill_batch, "disagg: batch per prefill worker")->capture_default_str()
        ->check(CLI::Range(1, static_cast<int>(kMaxConcurrency)));
    app->add_option("--prefill-workers", f->prefill_workers, "disagg: prefill workers (default: derived by rate matching under des, else 1)")
        ->check(kCountRange);
    app->add_option("--decode-batch-size", f->decode_batch, "disagg: batch per decode DP rank (default from --concurrency)")
        ->check(kLoadRange);
    app->add_option("--decode-max-batch-size", f->decode_max_batch,
                    "disagg, simulation: running sequences per decode DP rank (the decode workers' max batch size; "
                    "requests beyond it wait for a slot before their first token; default: the backend's)")
        ->check(kLoadRange);
    app->add_option("--decode-workers", f->decode_workers, "disagg: decode workers (default: derived under des, else 1)")
        ->check(kCountRange);
    app->add_option("--perf-db", f->perf_db, "Directory of measured kernel tables (perfdb layout) to interpolate");
    app->add_option("--latency-model", f->latency_model,
                    "hybrid (default: closed form for agg, scheduler simulation for disagg), analytic/dyprof (closed form), des (scheduler simulation) or aic (AIC's composition)")
        ->capture_default_str()->check(CLI::IsMember({"hybrid", "des", "analytic", "dyprof", "aic"}));
    app->add_option("--requests-per-user", f->requests_per_user, "des: measured requests per benchmark user (0 = auto)")
        ->check(CLI::Range(0, kMaxSimulatedRequests));
    app->add_option("--warmup-per-user", f->warmup_per_user, "des: warm-up requests per user, dropped (-1 = default)")
        ->check(CLI::Range(-1, kMaxSimulatedRequests));
    app->add_option("--arrival-rate", f->arrival_rate, "des: Poisson arrivals at this rate (req/s) instead of a closed loop")
        ->check(CLI::Range(0.0, 1.0e6));
    auto* isl_spread = app->add_option("--isl-spread", f->isl_spread,
                    "des: each request's input length drawn uniformly within ±this fraction of --isl (0 = all equal; default: the fitted 0.05)")
        ->check(CLI::Range(0.0, 0.9));
    auto* osl_spread = app->add_option("--osl-spread", f->osl_spread,
                                       "des: the same for the output length around --osl")
                           ->check(CLI::Range(0.0, 0.9));
    auto* range_ratio = app->add_option("--random-range-ratio", f->random_range_ratio,
                    "Benchmark lengths: each request's input and output drawn uniformly from [R x --isl, --isl] and "
                    "[R x --osl, --osl], as the legacy benchmark_serving.py --random-range-ratio does (InferenceX and "
                    "srt-slurm sa-bench run 0.8; today's vllm bench serve centres its range instead): predicted at the "
                    "mean request, simulated over the range (at least the default ±5 % jitter)")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              return ParseRangeRatio(v) ? "" : "expected a number in (0, 1], found " + v;
            },
            "in (0, 1]"))
        ->excludes(isl_spread)
        ->excludes(osl_spread);
    app->add_option("--format", f->format, "table | json")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    app->add_flag("--detail", f->detail, "Per-op breakdown of one prefill and one decode step");
    AddSpeculativeFlags(app, &f->speculative);
    AddMoeA2aFlag(app, &f->moe_a2a_backend);
    auto* from_csv = app->add_option("--from-csv", f->from_csv,
                                     "Silicon-format rows to predict (columns of data/silicon/train.csv)");
    range_ratio->excludes(from_csv);  // rows carry their own (column random_range_ratio)
    app->add_option("--recipes", f->recipes,
                       "With --from-csv: CSV keyed by id whose non-empty fields complete or correct the rows")
        ->needs(from_csv);
    app->add_option("--out", f->out, "With --from-csv: PRED.csv (id,pred_ttft_ms,pred_tpot_ms,status,error,calibration: the calibration "
                    "entry applied, if any); default stdout");
    return {app, [f]() {
              if (!f->calibration_table.empty() && (f->calibration == "none" || f->latency_model != "hybrid")) {
                std::cerr << "error: --calibration-table names a table to apply to --latency-model hybrid; expected it "
                             "without --calibration none, with hybrid, found --calibration "
                          << f->calibration << " --latency-model " << f->latency_model << "\n";
                return 2;
              }
              return f->from_csv.empty() ? RunSingle(*f) : RunBatch(*f);
            }};
  };
}

}  // namespace dyprof

#include "perf/batch.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "common/strings.h"
#include "perf/perf_db.h"

namespace dyprof {

std::string_view ServingModeName(ServingMode m) {
  switch (m) {
    case ServingMode::kStatic: return "static";
    case ServingMode::kAgg: return "agg";
    case ServingMode::kDisagg: return "disagg";
  }
  return "agg";
}

std::optional<ServingMode> ParseServingMode(std::string_view s) {
  std::string l = ToLower(s);
  if (l == "static") return ServingMode::kStatic;
  if (l == "agg" || l == "aggregated") return ServingMode::kAgg;
  if (l == "disagg" || l == "disaggregated") return ServingMode::kDisagg;
  return std::nullopt;
}

std::optional<Quant> ParseQuantName(std::string_view s) {
  std::string l = ToLower(Trim(s));
  if (l == "bf16" || l == "bfloat16") return Quant::kBf16;
  if (l == "fp16" || l == "float16") return Quant::kFp16;
  if (l == "fp8" || l == "fp8_static" || l == "fp8_ootb") return Quant::kFp8;
  if (l == "fp8_block") return Quant::kFp8Block;
  if (l == "nvfp4" || l == "fp4" || l == "w4a16_nvfp4" || l == "nvfp4_wo") return Quant::kNvfp4;
  if (l == "mxfp4" || l == "w4a16_mxfp4" || l == "w4a8_mxfp4_mxfp8") return Quant::kMxfp4;
  if (l == "int4_wo" || l == "int4" || l == "w4afp8") return Quant::kInt4Wo;
  return std::nullopt;
}

std::string_view EstimateStatusName(EstimateStatus s) {
  switch (s) {
    case EstimateStatus::kOk: return "ok";
    case EstimateStatus::kUnsupported: return "unsupported";
    case EstimateStatus::kOom: return "oom";
    case EstimateStatus::kError: return "error";
  }
  return "error";
}

std::optional<double> SiliconConcurrency(std::string_view source) {
  constexpr std::string_view kKey = "silicon_concurrency=";
  size_t p = source.find(kKey);
  if (p == std::string_view::npos) return std::nullopt;
  p += kKey.size();
  size_t e = p;
  while (e < source.size() && (std::isdigit(static_cast<unsigned char>(source[e])) || source[e] == '.')) ++e;
  if (e == p) return std::nullopt;
  return std::strtod(std::string(source.substr(p, e - p)).c_str(), nullptr);
}

namespace {

// An integer field: nullopt when empty; error when not a number.
Result<std::optional<int>> IntField(const CsvTable& t, size_t i, const char* col) {
  std::string v = Trim(t.Get(i, col));
  if (v.empty()) return std::optional<int>();
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !std::isfinite(d)) {
    return Status::InvalidArgument(std::string("column ") + col + ": not a number: '" + v + "'");
  }
  if (std::fabs(d) > std::numeric_limits<int>::max()) {
    return Status::InvalidArgument(std::string("column ") + col + ": out of range: '" + v + "'");
  }
  return std::optional<int>(static_cast<int>(std::lround(d)));
}

// A column that must hold a whole number in [lo, hi] when present (no rounding: "2.6" is an error).
Result<std::optional<int>> BoundedIntField(const CsvTable& t, size_t i, const char* col, int lo, int hi) {
  std::string v = Trim(t.Get(i, col));
  if (v.empty()) return std::optional<int>();
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi) {
    return Status::InvalidArgument(fmt::format("column {}: expected an integer {}..{}, found '{}'", col, lo, hi, v));
  }
  return std::optional<int>(n);
}

double DoubleField(const CsvTable& t, size_t i, const char* col) {
  std::string v = Trim(t.Get(i, col));
  if (v.empty()) return std::nan("");
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  return end == v.c_str() ? std::nan("") : d;
}

int Or1(std::optional<int> v) { return v && *v >= 1 ? *v : 1; }

// Column random_range_ratio: nullopt when empty; a number in (0, 1] or an error.
Result<std::optional<double>> RangeRatioField(const CsvTable& t, size_t i) {
  std::string v = Trim(t.Get(i, "random_range_ratio"));
  if (v.empty()) return std::optional<double>();
  std::optional<double> ratio = ParseRangeRatio(v);
  if (!ratio) {
    return Status::InvalidArgument(fmt::format(
        "column random_range_ratio: expected a number in (0, 1] (the benchmark's shortest request over its "
        "longest), found '{}'",
        v));
  }
  return ratio;
}


}  // namespace

int BenchmarkMeanLength(int length, double range_ratio) {
  return std::max(1, static_cast<int>(std::lround(length * (1.0 + range_ratio) / 2.0)));
}

std::optional<double> ParseRangeRatio(const std::string& text) {
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(d > 0 && d <= 1)) return std::nullopt;
  return d;
}

void UseBenchmarkLengths(EstimateRequest& r, int isl, int osl, double range_ratio) {
  r.isl = BenchmarkMeanLength(isl, range_ratio);
  r.osl = BenchmarkMeanLength(osl, range_ratio);
  r.length_spread = (1.0 - range_ratio) / (1.0 + range_ratio);
}

int DecodeBatchPerRank(double concurrency, int decode_workers, int decode_dp, int decode_max_batch) {
  const double ranks = std::max(1.0, static_cast<double>(decode_workers) * decode_dp);
  int batch = std::max(1, static_cast<int>(std::ceil(concurrency / ranks)));
  if (decode_max_batch > 0) batch = std::min(batch, decode_max_batch);
  return batch;
}

Status ValidateRequest(const EstimateRequest& r) {
  for (auto [name, v] : {std::pair{"isl", r.isl}, std::pair{"osl", r.osl}}) {
    if (v < 1 || v > kMaxSequenceTokens) {
      return Status::InvalidArgument(fmt::format("{} must be between 1 and {} tokens (got {})", name,
                                                 kMaxSequenceTokens, v));
    }
  }
  if (!(r.concurrency >= 0) || r.concurrency > kMaxConcurrency || r.batch < 0 || r.batch > kMaxConcurrency) {
    return Status::InvalidArgument(fmt::format("concurrency and batch size must be between 0 (not given) and {} (got {} and {})",
                                               kMaxConcurrency, r.concurrency, r.batch));
  }
  double load = std::max<double>(r.concurrency, r.batch);
  if (r.mode == ServingMode::kDisagg) {
    load = std::max({load, static_cast<double>(r.disagg.prefill_batch), static_cast<double>(r.disagg.decode_batch)});
  }
  if (load * (static_cast<double>(r.isl) + r.osl) > kMaxTokensInFlight) {
    return Status::InvalidArgument(fmt::format("{} requests of {} + {} tokens hold more than {} tokens in flight", load,
                                               r.isl, r.osl, kMaxTokensInFlight));
  }
  if (r.mode != ServingMode::kDisagg) return CheckParallelLimits(r.split);
  const DisaggConfig& d = r.disagg;
  DYPROF_RETURN_IF_ERROR(CheckParallelLimits(d.prefill_split));
  DYPROF_RETURN_IF_ERROR(CheckParallelLimits(d.decode_split));
  if (d.prefill_workers < 1 || d.decode_workers < 1 || d.prefill_batch < 1 || d.decode_batch < 1 ||
      d.prefill_batch > kMaxConcurrency || d.decode_batch > kMaxConcurrency) {
    return Status::InvalidArgument(
        fmt::format("disagg worker counts must be >= 1 and batch sizes between 1 and {} (got prefill {} x batch {}, "
                    "decode {} x batch {})",
                    kMaxConcurrency, d.prefill_workers, d.prefill_batch, d.decode_workers, d.decode_batch));
  }
  const int64_t gpus = int64_t{d.prefill_split.NumGpus()} * d.prefill_workers +
                       int64_t{d.decode_split.NumGpus()} * d.decode_workers;
  if (gpus > kMaxGpus) {
    return Status::InvalidArgument(fmt::format("the disaggregated deployment uses {} GPUs, more than {}", gpus, kMaxGpus));
  }
  return Status::Ok();
}

Result<EstimateRequest> RequestFromSiliconRow(const CsvTable& t, size_t i) {
  EstimateRequest r;
  r.id = std::string(t.Get(i, "id"));
  r.model = Trim(t.Get(i, "model_path"));
  r.backend_version = Trim(t.Get(i, "backend_version"));
  r.system = Trim(t.Get(i, "system"));
  if (r.model.empty()) return Status::InvalidArgument("empty model_path");
  if (r.system.empty()) return Status::InvalidArgument("empty system");
  auto be = ParseBackend(Trim(t.Get(i, "backend")));
  if (!be || *be == Backend::kAuto) return Status::InvalidArgument("unknown backend '" + std::string(t.Get(i, "backend")) + "'");
  r.backend = *be;
  auto mode = ParseServingMode(Trim(t.Get(i, "mode")));
  if (!mode) return Status::InvalidArgument("unknown mode '" + std::string(t.Get(i, "mode")) + "'");
  r.mode = *mode;
  DYPROF_ASSIGN_OR_RETURN(auto isl, IntField(t, i, "isl"));
  DYPROF_ASSIGN_OR_RETURN(auto osl, IntField(t, i, "osl"));
  if (!isl || !osl || *isl < 1 || *osl < 1) return Status::InvalidArgument("isl/osl missing or < 1");
  r.isl = *isl;
  r.osl = *osl;
  DYPROF_ASSIGN_OR_RETURN(auto range_ratio, RangeRatioField(t, i));
  if (range_ratio) UseBenchmarkLengths(r, *isl, *osl, *range_ratio);
  for (auto [col, dst] : {std::pair{"gemm_quant_mode", &r.gemm_quant}, std::pair{"moe_quant_mode", &r.moe_quant}}) {
    std::string v = Trim(t.Get(i, col));
    if (v.empty()) continue;
    auto q = ParseQuantName(v);
    if (!q) return Status::Unsupported(std::string(col) + " '" + v + "' is not a format we model");
    *dst = q;
  }
  DYPROF_ASSIGN_OR_RETURN(r.mtp_draft_tokens, BoundedIntField(t, i, "mtp_draft_tokens", 0, 8));
  // Serving settings a benchmark recipe records (all optional; absent = the framework default).
  DYPROF_ASSIGN_OR_RETURN(auto budget, BoundedIntField(t, i, "max_num_tokens", 1, kMaxSequenceTokens));
  if (budget) r.max_num_tokens = *budget;
  DYPROF_ASSIGN_OR_RETURN(auto decode_max_batch,
                          BoundedIntField(t, i, "decode_max_batch_size", 1, static_cast<int>(kMaxConcurrency)));
  if (decode_max_batch) {
    if (r.mode != ServingMode::kDisagg) {
      return Status::InvalidArgument(fmt::format(
          "column decode_max_batch_size: {} given for a row of mode {} (expected empty: it limits the decode workers of a "
          "disaggregated deployment)",
          *decode_max_batch, ServingModeName(r.mode)));
    }
    r.decode_max_batch = *decode_max_batch;
  }
  DYPROF_ASSIGN_OR_RETURN(auto recv, BoundedIntField(t, i, "sched_recv_interval", 1, kMaxRecvIntervalIters));
  if (recv) r.admission.recv_interval_iters = *recv;
  if (recv && *recv > 1 && r.backend != Backend::kSglang) {
    return Status::InvalidArgument(fmt::format(
        "column sched_recv_interval: {} given for a {} row (expected 1 or empty: the receive interval is SGLang's)",
        *recv, BackendName(r.backend)));
  }
  DYPROF_ASSIGN_OR_RETURN(auto adp,
                          BoundedIntField(t, i, "adp_balance_timeout_iters", 0, kMaxAdpBalanceTimeoutIters));
  if (adp) r.admission.adp_balance_timeout_iters = *adp;
  if (adp && *adp > 0 && r.backend != Backend::kTrtllm) {
    return Status::InvalidArgument(fmt::format(
        "column adp_balance_timeout_iters: {} given for a {} row (expected 0 or empty: the attention-DP balance is "
        "TensorRT-LLM's)",
        *adp, BackendName(r.backend)));
  }
  if (std::string v = Trim(t.Get(i, "moe_a2a_backend")); !v.empty()) {
    if (v != "none" && v != "deepep") {
      return Status::InvalidArgument("column moe_a2a_backend: '" + v + "' (expected none or deepep)");
    }
    if (v == "deepep" && r.backend != Backend::kSglang) {
      return Status::InvalidArgument(fmt::format(
          "column moe_a2a_backend: deepep given for a {} row (expected none or empty: the flag is SGLang's)",
          BackendName(r.backend)));
    }
    r.moe_all_to_all = v == "deepep";
  }
  if (std::string v = Trim(t.Get(i, "mtp_acceptance")); !v.empty()) {
    if (r.mtp_draft_tokens == 0) {
      return Status::InvalidArgument("column mtp_acceptance: '" + v + "' given with mtp_draft_tokens 0 (no drafts to accept)");
    }
    auto acceptance = SpeculativeDecoding::ParseAcceptance(v);
    if (!acceptance.ok()) return Status::InvalidArgument("column mtp_acceptance: " + acceptance.status().message());
    r.mtp_acceptance = *std::move(acceptance);
  }
  auto conc = SiliconConcurrency(t.Get(i, "silicon_data_source"));
  // Checked before it sizes batches (a double beyond int would not convert).
  if (conc && !(*conc >= 0 && *conc <= kMaxConcurrency)) {
    return Status::InvalidArgument(fmt::format("silicon_concurrency must be between 1 and {} (got {})",
                                               kMaxConcurrency, *conc));
  }
  r.measured_ttft_ms = DoubleField(t, i, "silicon_ttft_ms");
  r.measured_tpot_ms = DoubleField(t, i, "silicon_tpot_ms");

  auto split_of = [&](const std::string& prefix) -> Result<ParallelSplit> {
    ParallelSplit s;
    DYPROF_ASSIGN_OR_RETURN(auto tp, IntField(t, i, (prefix + "tp_size").c_str()));
    DYPROF_ASSIGN_OR_RETURN(auto pp, IntField(t, i, (prefix + "pp_size").c_str()));
    DYPROF_ASSIGN_OR_RETURN(auto dp, IntField(t, i, (prefix + "attention_dp_size").c_str()));
    DYPROF_ASSIGN_OR_RETURN(auto mtp, IntField(t, i, (prefix + "moe_tp_size").c_str()));
    DYPROF_ASSIGN_OR_RETURN(auto mep, IntField(t, i, (prefix + "moe_ep_size").c_str()));
    if (!tp) return Status::InvalidArgument("column " + prefix + "tp_size is empty");
    s.tp = Or1(tp);
    s.pp = Or1(pp);
    s.dp = Or1(dp);
    s.moe_tp = Or1(mtp);
    s.moe_ep = Or1(mep);
    return s;
  };

  if (r.mode == ServingMode::kDisagg) {
    DYPROF_ASSIGN_OR_RETURN(r.disagg.prefill_split, split_of("prefill_"));
    DYPROF_ASSIGN_OR_RETURN(r.disagg.decode_split, split_of("decode_"));
    DYPROF_ASSIGN_OR_RETURN(auto pb, IntField(t, i, "prefill_batch_size"));
    DYPROF_ASSIGN_OR_RETURN(auto pw, IntField(t, i, "prefill_num_workers"));
    DYPROF_ASSIGN_OR_RETURN(auto db, IntField(t, i, "decode_batch_size"));
    DYPROF_ASSIGN_OR_RETURN(auto dw, IntField(t, i, "decode_num_workers"));
    r.disagg.prefill_batch = Or1(pb);
    r.disagg.prefill_workers = Or1(pw);
    r.disagg.decode_workers = Or1(dw);
    r.disagg_workers_known = pw && *pw >= 1 && dw && *dw >= 1;
    const int ddp = r.disagg.decode_split.dp;
    if (conc) {
      r.concurrency = *conc;
    } else if (db) {
      r.concurrency = static_cast<double>(*db) * r.disagg.decode_workers * ddp;
    } else {
      return Status::InvalidArgument("disagg row without silicon_concurrency or decode_batch_size");
    }
    if (db && *db >= 1) {
      r.disagg.decode_batch = *db;
    } else {
      r.disagg.decode_batch = DecodeBatchPerRank(r.concurrency, r.disagg.decode_workers, ddp, r.decode_max_batch);
    }
  } else {
    DYPROF_ASSIGN_OR_RETURN(r.split, split_of(""));
    DYPROF_ASSIGN_OR_RETURN(auto bs, IntField(t, i, "batch_size"));
    if (bs && *bs >= 1) {
      r.concurrency = static_cast<double>(*bs) * r.split.dp;
      r.batch = *bs;
    } else if (conc) {
      r.concurrency = *conc;
      r.batch = std::max(1, static_cast<int>(std::ceil(*conc / r.split.dp)));
    } else {
      return Status::InvalidArgument("agg row without batch_size or silicon_concurrency");
    }
  }
  DYPROF_RETURN_IF_ERROR(ValidateRequest(r));
  return r;
}

Result<Metrics> RunEstimate(const PerfEngine& engine, const EstimateRequest& r) {
  switch (r.mode) {
    case ServingMode::kStatic: {
      DYPROF_RETURN_IF_ERROR(engine.CheckSplit(r.split));
      int b = r.batch > 0 ? r.batch : std::max(1, static_cast<int>(std::ceil(r.concurrency / r.split.dp)));
      DYPROF_ASSIGN_OR_RETURN(StaticResult s, engine.Static(r.split, b, r.isl, r.osl));
      return s.m;
    }
    case ServingMode::kAgg: {
      DYPROF_RETURN_IF_ERROR(engine.CheckSplit(r.split));
      int conc = r.concurrency > 0 ? static_cast<int>(std::lround(r.concurrency)) : r.batch * r.split.dp;
      DYPROF_ASSIGN_OR_RETURN(AggResult a, engine.Aggregated(r.split, std::max(conc, 1), r.isl, r.osl, r.max_num_tokens, r.admission));
      return a.m;
    }
    case ServingMode::kDisagg: {
      DYPROF_RETURN_IF_ERROR(engine.CheckSplit(r.disagg.prefill_split));
      DYPROF_RETURN_IF_ERROR(engine.CheckSplit(r.disagg.decode_split));
      DYPROF_ASSIGN_OR_RETURN(DisaggResult d, engine.Disaggregated(r.disagg, r.isl, r.osl, r.concurrency));
      return d.m;
    }
  }
  return Status::Internal("unknown mode");
}

Result<const PerfEngine*> BatchEstimator::EngineFor(const EstimateRequest& r) {
  auto mit = models_.find(r.model);
  if (mit == models_.end()) mit = models_.emplace(r.model, FindModel(r.model, *fs_)).first;
  if (!mit->second.ok()) return mit->second.status();
  ModelArch arch = *mit->second;
  if (r.gemm_quant) arch.weight_quant = *r.gemm_quant;
  if (r.moe_quant && arch.IsMoe()) arch.moe_quant = *r.moe_quant;
  if (r.kv_quant) arch.kv_quant = *r.kv_quant;
  SpeculativeDecoding speculative = options_.speculative;
  if (r.mtp_draft_tokens) speculative.draft_tokens = *r.mtp_draft_tokens;
  if (r.mtp_acceptance) speculative.acceptance = *r.mtp_acceptance;
  std::string key = r.model + "|" + r.system + "|" + std::string(BackendName(r.backend)) + "|" +
                    std::string(QuantName(arch.weight_quant)) + "|" + std::string(QuantName(arch.moe_quant)) + "|" +
                    std::string(QuantName(arch.kv_quant)) + "|mtp" + std::to_string(speculative.draft_tokens);
  const bool moe_all_to_all = r.moe_all_to_all.value_or(options_.moe_all_to_all);
  if (moe_all_to_all) key += "|a2a";
  if (speculative.draft_tokens > 0) {
    for (double a : speculative.acceptance) key += fmt::format(",{}", a);
  }
  auto it = engines_.find(key);
  if (it == engines_.end()) {
    auto make = [&]() -> Result<PerfEngine> {
      DYPROF_ASSIGN_OR_RETURN(SystemSpec sys, FindSystem(r.system));
      PerfOptions opts = options_;
      opts.speculative = speculative;
      opts.moe_all_to_all = moe_all_to_all;
      if (!perf_db_dir_.empty()) {
        auto db = PerfDb::Load(perf_db_dir_, sys.name, std::string(BackendName(r.backend)), *fs_);
        if (db.ok()) opts.perf_db = *db;
      }
      return PerfEngine::Create(arch, sys, r.backend, opts);
    };
    it = engines_.emplace(key, std::make_unique<Result<PerfEngine>>(make())).first;
  }
  if (!it->second->ok()) return it->second->status();
  return &it->second->value();
}

void ApplyCalibration(const CalibrationFactors& f, int osl, Metrics& m, bool closed_loop) {
  const double old_latency_ms = m.request_latency_ms;
  const double old_ttft_ms = m.ttft_ms, old_tpot_ms = m.tpot_ms;
  m.ttft_ms *= f.ttft;
  m.tpot_ms *= f.tpot;
  m.request_latency_ms += (m.ttft_ms - old_ttft_ms) + (m.tpot_ms - old_tpot_ms) * std::max(osl - 1, 0);
  if (closed_loop && old_latency_ms > 0 && m.request_latency_ms > 0) {
    const double rate_scale = old_latency_ms / m.request_latency_ms;
    m.request_rate *= rate_scale;
    m.tokens_per_s *= rate_scale;
    m.tokens_per_s_per_gpu *= rate_scale;
  }
  if (m.tpot_ms > 0) m.tokens_per_s_per_user = 1000.0 / m.tpot_ms;
}

EstimateOutcome BatchEstimator::Predict(const EstimateRequest& r) {
  EstimateOutcome out;
  if (Status valid = ValidateRequest(r); !valid.ok()) {
    out.status = EstimateStatus::kError;
    out.error = valid.message();
    return out;
  }
  auto engine = EngineFor(r);
  if (!engine.ok()) {
    out.status = engine.status().code() == StatusCode::kUnsupported ? EstimateStatus::kUnsupported
                                                                     : EstimateStatus::kError;
    out.error = engine.status().message();
    return out;
  }
  const PerfEngine& e = **engine;
  // Clearly infeasible: the weights alone exceed the GPU (the measured row could not have run).
  auto check_weights = [&](const ParallelSplit& s) -> bool {
    return WeightBytesPerGpu(e.model(), s) < e.system().mem_capacity_bytes;
  };
  bool fits = r.mode == ServingMode::kDisagg
                  ? check_weights(r.disagg.prefill_split) && check_weights(r.disagg.decode_split)
                  : check_weights(r.split);
  if (!fits) {
    out.status = EstimateStatus::kOom;
    out.error = "weights exceed the GPU memory";
    return out;
  }
  auto m = runner_ ? runner_(e, r) : RunEstimate(e, r);
  if (!m.ok()) {
    out.status = m.status().code() == StatusCode::kUnsupported ? EstimateStatus::kUnsupported : EstimateStatus::kError;
    out.error = m.status().message();
    return out;
  }
  out.status = EstimateStatus::kOk;
  out.metrics = *m;
  if (calibration_ != nullptr) {
    out.calibration =
        calibration_->Lookup(CalibrationKeyFor(r, e), CalibrationConcurrency(r, out.metrics), r.isl, r.osl,
                             CalibrationLayout(r));
    if (out.calibration.applied) ApplyCalibration(out.calibration, r.osl, out.metrics, /*closed_loop=*/true);
  }
  return out;
}

CalibrationKey EngineCalibrationKey(const PerfEngine& engine, ServingMode mode, const std::string& backend_version) {
  CalibrationKey k;
  k.system = engine.system().name;
  k.backend = std::string(BackendName(engine.backend()));
  k.mode = std::string(ServingModeName(mode));
  k.model = engine.model().hf_id;
  k.precision = std::string(PrecisionFamily(engine.model().weight_quant));
  k.backend_version = backend_version;
  return k;
}

CalibrationKey CalibrationKeyFor(const EstimateRequest& r, const PerfEngine& engine) {
  return EngineCalibrationKey(engine, r.mode, r.backend_version);
}

std::string SweepId(const EstimateRequest& r) {
  std::string id = fmt::format("{}|{}|{}", ServingModeName(r.mode), r.isl, r.osl);
  id += r.mode == ServingMode::kDisagg
            ? "|p" + r.disagg.prefill_split.ToString() + "|d" + r.disagg.decode_split.ToString()
            : "|" + r.split.ToString();
  id += fmt::format("|mtp{}", r.mtp_draft_tokens.value_or(-1));
  return id;
}

std::string CalibrationLayout(const EstimateRequest& r) {
  return r.mode == ServingMode::kDisagg ? "" : r.split.ToString();
}

double CalibrationConcurrency(const EstimateRequest& r, const Metrics& m) {
  return r.concurrency > 0 ? r.concurrency : m.concurrency;
}

}  // namespace dyprof

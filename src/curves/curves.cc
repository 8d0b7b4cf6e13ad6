#include "curves/curves.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "curves/svg_plot.h"

namespace dyprof {

namespace {

// Python's range(start, stop, step) for step > 0.
std::vector<int> PyRange(int start, int stop, int step) {
  std::vector<int> v;
  for (int64_t x = start; x < stop; x += step) v.push_back(static_cast<int>(x));
  return v;
}

void Warn(std::vector<std::string>* warnings, std::string w) {
  if (warnings) warnings->push_back(std::move(w));
}

Json Array(const std::vector<double>& v) {
  Json a = Json::array();
  for (double d : v) a.push_back(d);
  return a;
}

}  // namespace

int SweepMaxContextLength(int max_position_embeddings, int isl) {
  if (max_position_embeddings > 0) return max_position_embeddings;
  return isl > 0 ? isl * 2 : 8192;
}

Result<std::vector<int>> PrefillIslGrid(int max_context_length, int granularity) {
  int max_ctx = max_context_length - kPrefillContextMargin;
  if (max_ctx <= 100)
    return Status::InvalidArgument(fmt::format(
        "max_context_length {} is too small to profile prefill (needs more than {} tokens)", max_context_length,
        100 + kPrefillContextMargin));
  if (granularity < 1) return Status::InvalidArgument("prefill interpolation granularity must be >= 1");
  int step = (max_ctx - 100) / granularity;
  if (step < 1)
    return Status::InvalidArgument(fmt::format(
        "prefill interpolation granularity {} is larger than the ISL span {}-{}", granularity, 100, max_ctx));
  return PyRange(100, max_ctx, step);
}

Result<std::vector<int>> DecodeIslGrid(int max_context_length, int granularity) {
  if (granularity < 1) return Status::InvalidArgument("decode interpolation granularity must be >= 1");
  int stop = max_context_length - kDecodeSweepOsl;
  int step = stop / granularity;
  if (step < 1 || stop <= 100)
    return Status::InvalidArgument(fmt::format(
        "max_context_length {} is too small to profile decode with granularity {}", max_context_length, granularity));
  return PyRange(100, stop, step);
}

std::vector<int> NumRequestRange(int attention_dp, int64_t engine_max_concurrency, int granularity) {
  const int64_t dp = std::max(attention_dp, 1);
  const int64_t c = std::min<int64_t>(engine_max_concurrency, kDecodeMaxConcurrency);
  const int64_t per_dp = c / dp;
  std::vector<int> out;
  if (per_dp <= 0) return out;
  if (per_dp < granularity || granularity <= 1) {
    if (granularity <= 1) return {static_cast<int>(dp)};
    for (int64_t i = 1; i <= per_dp; ++i) out.push_back(static_cast<int>(i * dp));
    return out;
  }
  const double step = static_cast<double>(per_dp - 1) / (granularity - 1);
  for (int i = 0; i < granularity; ++i)
    out.push_back(static_cast<int>(dp + static_cast<int64_t>(std::floor(i * step + 1e-9)) * dp));
  return out;
}

// ---- Curve data -----------------------------------------------------------------------------------

Json PrefillCurve::ToJson() const {
  return {{"prefill_isl", Array(isl)}, {"prefill_ttft", Array(ttft_ms)}, {"prefill_thpt_per_gpu", Array(thpt_per_gpu)}};
}

NpzEntries PrefillCurve::ToNpz() const {
  return {{"prefill_isl", NpyArray::Float64(isl)},
          {"prefill_ttft", NpyArray::Float64(ttft_ms)},
          {"prefill_thpt_per_gpu", NpyArray::Float64(thpt_per_gpu)}};
}

Json DecodeCurve::ToJson() const {
  return {{"x_kv_usage", Array(kv_usage)},
          {"y_context_length", Array(context_length)},
          {"z_itl", Array(itl_ms)},
          {"z_thpt_per_gpu", Array(thpt_per_gpu)},
          {"max_kv_tokens", max_kv_tokens}};
}

NpzEntries DecodeCurve::ToNpz() const {
  return {{"x_kv_usage", NpyArray::Float64(kv_usage)},
          {"y_context_length", NpyArray::Float64(context_length)},
          {"z_itl", NpyArray::Float64(itl_ms)},
          {"z_thpt_per_gpu", NpyArray::Float64(thpt_per_gpu)},
          {"max_kv_tokens", NpyArray::Int64({max_kv_tokens})}};
}

// ---- Sweeps ---------------------------------------------------------------------------------------

Result<PrefillCurve> SweepPrefill(const PerfEngine& engine, const ParallelSplit& split, int max_context_length,
                                  int granularity, std::vector<std::string>* warnings) {
  DYPROF_ASSIGN_OR_RETURN(std::vector<int> grid, PrefillIslGrid(max_context_length, granularity));
  PrefillCurve c;
  const int num_gpus = split.NumGpus();
  for (int isl : grid) {
    auto p = engine.Prefill(split, 1, isl);
    if (!p.ok()) {
      Warn(warnings, fmt::format("prefill estimate failed at ISL {}: {}", isl, p.status().message()));
      continue;
    }
    double ttft = p->latency_ms + engine.tuning().ttft_overhead_ms;
    if (!(ttft > 0)) continue;
    c.isl.push_back(isl);
    c.ttft_ms.push_back(ttft);
    c.thpt_per_gpu.push_back(isl / ttft / num_gpus * 1000.0 * split.dp);
  }
  return c;
}

Result<int64_t> EngineKvTokens(const PerfEngine& engine, const EnginePick& pick) {
  EngineLimits limits;
  if (pick.max_batch_size > 0) limits.max_batch_size = pick.max_batch_size;
  if (pick.max_num_tokens > 0) limits.max_num_tokens = pick.max_num_tokens;
  DYPROF_ASSIGN_OR_RETURN(MemoryBreakdown mem, engine.Memory(pick.split, limits));
  if (!mem.fits || mem.max_kv_tokens <= 0)
    return Status::Infeasible("decode engine " + pick.split.ToString() + " has no KV capacity: " + mem.overflow);
  return mem.max_kv_tokens * std::max(pick.split.dp, 1);
}

Result<DecodeCurve> SweepDecode(const PerfEngine& engine, const ParallelSplit& split, int64_t max_kv_tokens,
                                int max_context_length, int granularity, std::vector<std::string>* warnings) {
  if (max_kv_tokens <= 0) return Status::InvalidArgument("max_kv_tokens must be > 0");
  DYPROF_ASSIGN_OR_RETURN(std::vector<int> grid, DecodeIslGrid(max_context_length, granularity));
  DecodeCurve c;
  c.max_kv_tokens = max_kv_tokens;
  const int osl = kDecodeSweepOsl;
  const int dp = std::max(split.dp, 1);
  const int num_gpus = split.NumGpus();
  for (int isl : grid) {
    int64_t max_concurrency = max_kv_tokens / (isl + osl);
    if (max_concurrency == 0) {
      Warn(warnings, fmt::format("max_kv_tokens {} is too small for isl {} + osl {}, skipping.", max_kv_tokens, isl, osl));
      break;
    }
    for (int n : NumRequestRange(dp, max_concurrency, granularity)) {
      int per_rank = (n + dp - 1) / dp;
      auto d = engine.Decode(split, per_rank, isl, osl);
      if (!d.ok() || !(d->tpot_ms > 0)) {
        Warn(warnings, fmt::format("decode estimate failed at ISL {} n {}: {}", isl, n,
                                   d.ok() ? "non-positive ITL" : d.status().message()));
        continue;
      }
      double ctx = isl + osl / 2.0;
      c.kv_usage.push_back(ctx * n / static_cast<double>(max_kv_tokens));
      c.context_length.push_back(ctx);
      c.itl_ms.push_back(d->tpot_ms);
      c.thpt_per_gpu.push_back(n * 1000.0 / d->tpot_ms / num_gpus);
      c.concurrency.push_back(n);
    }
  }
  return c;
}

// ---- Plots ----------------------------------------------------------------------------------------

std::string PrefillTtftSvg(const PrefillCurve& c) {
  PlotSpec p;
  p.title = "Prefill TTFT vs ISL";
  p.x_label = "Input sequence length (tokens)";
  p.y_label = "TTFT (ms)";
  p.series.push_back({"", c.isl, c.ttft_ms});
  return RenderSvgPlot(p);
}

std::string PrefillThroughputSvg(const PrefillCurve& c) {
  PlotSpec p;
  p.title = "Prefill throughput per GPU vs ISL";
  p.x_label = "Input sequence length (tokens)";
  p.y_label = "Prefill throughput (tokens/s/GPU)";
  p.series.push_back({"", c.isl, c.thpt_per_gpu});
  return RenderSvgPlot(p);
}

namespace {

std::string DecodePlot(const DecodeCurve& c, const std::vector<double>& z, const std::string& title,
                       const std::string& y_label) {
  PlotSpec p;
  p.title = title;
  p.x_label = fmt::format("KV cache usage (fraction of {} tokens)", c.max_kv_tokens);
  p.y_label = y_label;
  std::map<double, PlotSeries> by_ctx;  // ordered by context length
  for (size_t i = 0; i < c.kv_usage.size(); ++i) {
    PlotSeries& s = by_ctx[c.context_length[i]];
    if (s.label.empty()) s.label = fmt::format("context {:.0f} tokens", c.context_length[i]);
    s.x.push_back(c.kv_usage[i]);
    s.y.push_back(z[i]);
  }
  for (auto& [ctx, s] : by_ctx) p.series.push_back(std::move(s));
  return RenderSvgPlot(p);
}

}  // namespace

std::string DecodeItlSvg(const DecodeCurve& c) {
  return DecodePlot(c, c.itl_ms, "Decode ITL vs KV cache usage", "ITL (ms)");
}

std::string DecodeThroughputSvg(const DecodeCurve& c) {
  return DecodePlot(c, c.thpt_per_gpu, "Decode throughput per GPU vs KV cache usage",
                    "Decode throughput (tokens/s/GPU)");
}

Status WritePrefillCurve(FileSystem& fs, const std::string& dir, const PrefillCurve& c) {
  DYPROF_RETURN_IF_ERROR(fs.MakeDirs(dir));
  DYPROF_ASSIGN_OR_RETURN(std::string npz, EncodeNpz(c.ToNpz()));
  DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, "raw_data.npz"), npz));
  DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, kPrefillTtftPlot), PrefillTtftSvg(c)));
  return fs.WriteFileAtomic(JoinPath(dir, kPrefillThptPlot), PrefillThroughputSvg(c));
}

Status WriteDecodeCurve(FileSystem& fs, const std::string& dir, const DecodeCurve& c) {
  DYPROF_RETURN_IF_ERROR(fs.MakeDirs(dir));
  DYPROF_ASSIGN_OR_RETURN(std::string npz, EncodeNpz(c.ToNpz()));
  DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, "raw_data.npz"), npz));
  DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, kDecodeItlPlot), DecodeItlSvg(c)));
  return fs.WriteFileAtomic(JoinPath(dir, kDecodeThptPlot), DecodeThroughputSvg(c));
}

// ---- Stage ----------------------------------------------------------------------------------------

Result<PlannerCurves> BuildPlannerCurves(const DgdrSpec& spec, const Decision& decision, const CurveOptions& options,
                                         FileSystem& fs, Logger& log) {
  PlannerCurves out;
  const WorkloadSpec w = spec.WorkloadOrDefault();
  out.sweep_max_context_length = SweepMaxContextLength(options.max_context_length, w.isl);
  auto skip = [&](std::string why) -> Result<PlannerCurves> {
    log.Info(why);
    out.skipped = std::move(why);
    return out;
  };
  if (!spec.NeedsProfileData()) return skip("Planner throughput scaling and mocker are off; no interpolation curves");
  if (!decision.produced) return skip("No configuration was picked; no interpolation curves");
  const SweepMode mode = spec.features.planner ? spec.features.planner->sweep_mode : SweepMode::kRapid;
  if (mode == SweepMode::kNone)
    return skip("pre_deployment_sweeping_mode is none; skipping interpolation curves");
  const bool mocker = spec.MockerEnabled();
  if (!decision.disagg && !mocker)
    return skip("Picked config is aggregated; skipping interpolation (the planner reads prefill/decode curves of "
                "disaggregated engines only)");
  if (mode == SweepMode::kThorough)
    log.Info("Thorough interpolation sweeps (deploy + benchmark) run with searchStrategy: thorough only; the curves "
             "come from the performance engine");

  // The engine for the resolved backend.
  std::string path = ResolveModelPath(spec);
  auto model = FindModel(path, fs);
  if (!model.ok() && path != spec.model) model = FindModel(spec.model, fs);
  auto system = FindSystem(spec.hardware ? spec.hardware->gpu_sku.value_or("") : "");
  Result<PerfEngine> engine = Status::Internal("unresolved");
  if (model.ok() && system.ok()) {
    if (spec.hardware && spec.hardware->vram_mb) ApplyVramOverride(*system, *spec.hardware->vram_mb);
    engine = PerfEngine::Create(*model, *system, decision.backend);
  }
  if (!engine.ok()) {
    std::string why = !model.ok() ? model.status().message()
                      : !system.ok() ? system.status().message()
                                     : engine.status().message();
    log.Warn("Cannot model the picked engines (" + why + "); the planner/mocker get no interpolation data");
    out.skipped = "performance engine unavailable: " + why;
    return out;
  }

  const EnginePick& prefill_pick = decision.disagg ? decision.prefill : decision.agg;
  const EnginePick& decode_pick = decision.disagg ? decision.decode : decision.agg;
  if (!decision.disagg)
    log.Info("Picked config is aggregated; the mocker's prefill/decode curves come from the aggregated engine");
  std::vector<std::string> warnings;

  DYPROF_ASSIGN_OR_RETURN(PrefillCurve prefill, SweepPrefill(*engine, prefill_pick.split, out.sweep_max_context_length,
                                                             options.prefill_granularity, &warnings));
  if (prefill.isl.size() > 2) {
    std::string dir = JoinPath(options.output_dir, kPrefillCurveDir);
    DYPROF_RETURN_IF_ERROR(WritePrefillCurve(fs, dir, prefill));
    log.Info(fmt::format("Prefill interpolation: {} points (ISL {}-{}) for {} → {}", prefill.isl.size(),
                         prefill.isl.front(), prefill.isl.back(), prefill_pick.split.Label(), dir));
    out.prefill = std::move(prefill);
  } else {
    warnings.push_back("Not enough data points to perform interpolation (need at least 3 points)");
  }

  auto kv = EngineKvTokens(*engine, decode_pick);
  if (!kv.ok()) {
    warnings.push_back("decode interpolation skipped: " + kv.status().message());
  } else {
    DYPROF_ASSIGN_OR_RETURN(DecodeCurve decode, SweepDecode(*engine, decode_pick.split, *kv,
                                                            out.sweep_max_context_length, options.decode_granularity,
                                                            &warnings));
    if (!decode.kv_usage.empty()) {
      std::string dir = JoinPath(options.output_dir, kDecodeCurveDir);
      DYPROF_RETURN_IF_ERROR(WriteDecodeCurve(fs, dir, decode));
      log.Info(fmt::format("Decode interpolation: {} points, max_kv_tokens {} for {} → {}", decode.kv_usage.size(),
                           decode.max_kv_tokens, decode_pick.split.Label(), dir));
      out.decode = std::move(decode);
    } else {
      warnings.push_back("decode interpolation produced no data points");
    }
  }
  for (const auto& wmsg : warnings) log.Warn(wmsg);
  if (out.empty()) out.skipped = "no interpolation data points";
  return out;
}

}  // namespace dyprof

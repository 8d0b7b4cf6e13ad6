// Planner interpolation curves (behaviour reference §4): the prefill TTFT / throughput curve over
// ISL and the decode ITL / throughput surface over (KV usage, context length) of the picked
// engines, computed with the performance engine (the reference's older rapid path used AIC the
// same way; with searchStrategy: thorough, src/thorough MeasureThoroughCurves fills the same
// structures from measurements of the deployed engines). Outputs, per §4 / §3.5:
//   {dir}/selected_prefill_interpolation/raw_data.npz  prefill_isl, prefill_ttft (ms),
//                                                       prefill_thpt_per_gpu (tokens/s/GPU)
//   {dir}/selected_decode_interpolation/raw_data.npz   x_kv_usage (0..1), y_context_length,
//                                                       z_itl (ms), z_thpt_per_gpu, max_kv_tokens
// (float64 arrays; max_kv_tokens a 1-element int64 array), SVG plots beside them, and the JSON
// objects of the planner-profile-data ConfigMap (prefill_raw_data.json / decode_raw_data.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/parallel.h"
#include "common/document.h"
#include "common/file_system.h"
#include "common/log.h"
#include "common/status.h"
#include "curves/npz.h"
#include "perf/engine.h"
#include "search/pick.h"
#include "spec/spec.h"

namespace dyprof {

inline constexpr int kPrefillContextMargin = 512;  // room for the chat template (profile_prefill.py)
inline constexpr int kDecodeSweepOsl = 500;        // profile_decode.py's fixed OSL
inline constexpr int kDecodeMaxConcurrency = 2000;  // DECODE_MAX_CONCURRENCY

// §2.2: the model's max_position_embeddings, else isl*2 when isl > 0, else 8192.
int SweepMaxContextLength(int max_position_embeddings, int isl);

// ---- Sample grids (pure; Python range semantics: start inclusive, stop exclusive) ----------------

// range(100, max_ctx-512, (max_ctx-512-100)//granularity). kInvalidArgument when max_ctx-512 <= 100
// (the reference's "too small to profile prefill"), granularity < 1, or the step is 0.
Result<std::vector<int>> PrefillIslGrid(int max_context_length, int granularity);
// range(100, max_ctx-500, (max_ctx-500)//granularity). kInvalidArgument when granularity < 1, the
// step is 0, or the range is empty.
Result<std::vector<int>> DecodeIslGrid(int max_context_length, int granularity);
// get_num_request_range: C = min(engine_max, 2000), P = C // dp; P < g → dp, 2dp, …, P·dp; else
// dp·(1 + floor(i·(P−1)/(g−1))) for i in 0..g−1. For dp = 1 this equals the reference exactly. For
// dp > 1 the reference multiplies the step by dp a second time, so its samples overshoot C (KV
// usage > 1, a concurrency the engine cannot hold); this port keeps every sample <= P·dp <= C on
// purpose. Empty when P == 0.
std::vector<int> NumRequestRange(int attention_dp, int64_t engine_max_concurrency, int granularity);

// ---- Curves ---------------------------------------------------------------------------------------

struct PrefillCurve {
  std::vector<double> isl;           // prefill_isl (tokens)
  std::vector<double> ttft_ms;       // prefill_ttft
  std::vector<double> thpt_per_gpu;  // prefill_thpt_per_gpu (tokens/s/GPU)

  Json ToJson() const;        // prefill_raw_data.json
  NpzEntries ToNpz() const;   // raw_data.npz entries, in the reference's key order
};

struct DecodeCurve {
  std::vector<double> kv_usage;        // x_kv_usage: (isl + osl/2)·n / max_kv_tokens
  std::vector<double> context_length;  // y_context_length: isl + osl/2
  std::vector<double> itl_ms;          // z_itl
  std::vector<double> thpt_per_gpu;    // z_thpt_per_gpu (output tokens/s/GPU)
  std::vector<int> concurrency;        // n of each point (not written; for plots and tests)
  int64_t max_kv_tokens = 0;

  Json ToJson() const;  // decode_raw_data.json (max_kv_tokens an int)
  NpzEntries ToNpz() const;
};

// TTFT of one request of each ISL on `split` (prefill step + the backend's per-request TTFT
// overhead); throughput isl/ttft/num_gpus·1000·dp. Points whose estimate fails are skipped (with a
// warning), as the reference skips failed measurements.
Result<PrefillCurve> SweepPrefill(const PerfEngine& engine, const ParallelSplit& split, int max_context_length,
                                  int granularity, std::vector<std::string>* warnings);

// KV capacity of the whole decode engine in tokens: the catalog's per-rank capacity (EngineMemory
// under the backend's memory rule, with the pick's batch limits) × attention-DP ranks, since the
// concurrency n of the sweep counts requests across all ranks. kInfeasible when the engine does
// not fit.
Result<int64_t> EngineKvTokens(const PerfEngine& engine, const EnginePick& pick);

// For each ISL of DecodeIslGrid and each n of NumRequestRange(dp, max_kv // (isl+500), g): ITL =
// mean decode step with ceil(n/dp) sequences per rank over a 500-token output, throughput
// n·1000/ITL/num_gpus. Stops at the first ISL where max_kv // (isl+500) == 0 (warning).
Result<DecodeCurve> SweepDecode(const PerfEngine& engine, const ParallelSplit& split, int64_t max_kv_tokens,
                                int max_context_length, int granularity, std::vector<std::string>* warnings);

// ---- Files ----------------------------------------------------------------------------------------

inline constexpr char kPrefillCurveDir[] = "selected_prefill_interpolation";
inline constexpr char kDecodeCurveDir[] = "selected_decode_interpolation";
inline constexpr char kPrefillTtftPlot[] = "prefill_ttft_interpolation.svg";
inline constexpr char kPrefillThptPlot[] = "prefill_throughput_interpolation.svg";
// Sic: the reference's file name is decode_itl_interplation.png; kept so tools looking for it match.
inline constexpr char kDecodeItlPlot[] = "decode_itl_interplation.svg";
inline constexpr char kDecodeThptPlot[] = "decode_throughput_interpolation.svg";

std::string PrefillTtftSvg(const PrefillCurve& c);
std::string PrefillThroughputSvg(const PrefillCurve& c);
std::string DecodeItlSvg(const DecodeCurve& c);         // one line per context length
std::string DecodeThroughputSvg(const DecodeCurve& c);  // one line per context length

// {dir}/raw_data.npz and the two plots of each curve (dir created).
Status WritePrefillCurve(FileSystem& fs, const std::string& dir, const PrefillCurve& c);
Status WriteDecodeCurve(FileSystem& fs, const std::string& dir, const DecodeCurve& c);

// ---- The pipeline stage ---------------------------------------------------------------------------

struct CurveOptions {
  std::string output_dir;
  int prefill_granularity = 16;
  int decode_granularity = 6;
  int max_context_length = 0;  // model max_position_embeddings; 0 → the §2.2 fallback from isl
};

struct PlannerCurves {
  std::optional<PrefillCurve> prefill;  // none: skipped or fewer than 3 points
  std::optional<DecodeCurve> decode;    // none: skipped or no point
  int sweep_max_context_length = 0;
  std::string skipped;                  // why nothing was built ("" when something was)
  bool empty() const { return !prefill && !decode; }
  Json PrefillJson() const { return prefill ? prefill->ToJson() : Json(); }
  Json DecodeJson() const { return decode ? decode->ToJson() : Json(); }
};

// Whether and how to build curves for `decision`:
//   - not needed (no mocker, no planner throughput scaling), dry-run-like decisions (!produced) and
//     pre_deployment_sweeping_mode none → skipped;
//   - disagg pick → prefill curve of decision.prefill, decode curve of decision.decode;
//   - agg pick → skipped (the reference logs "Picked config is aggregated ... skipping
//     interpolation"), except with the mocker enabled: its DGD is always the disagg prefill/decode
//     template, and without data it falls back to its built-in polynomial, so both curves come from
//     the agg engine (documented deviation);
//   - sweep mode thorough with a rapid search → same engine-based curves, with a note (measured
//     sweeps: MeasureThoroughCurves, used by the pipeline when searchStrategy is thorough).
// Resolves the model and system from the catalog, writes the files under options.output_dir and
// logs what it did.
Result<PlannerCurves> BuildPlannerCurves(const DgdrSpec& spec, const Decision& decision, const CurveOptions& options,
                                         FileSystem& fs, Logger& log);

}  // namespace dyprof

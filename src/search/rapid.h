// The rapid search: enumerate parallel splits, batch sizes and token budgets per backend, evaluate
// each with the performance engine, build aggregated rows and disaggregated xPyD rows with rate
// matching, and keep every evaluated configuration (with its rejection reason) for candidates.csv.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "catalog/system.h"
#include "perf/calibration.h"
#include "perf/engine.h"
#include "search/picking.h"
#include "search/rows.h"

namespace dyprof {

struct SearchSpace {
  int isl = 4000;
  int osl = 1000;
  int total_gpus = 8;        // GPU budget (per replica cap)
  int gpus_per_node = 8;
  double ttft_target_ms = 2000;  // hard filter at sweep time (agg TTFT, disagg corrected TTFT)
  bool agg = true;
  bool disagg = true;
  int max_batch_size = 512;  // agg concurrency per attention-DP rank / decode batch cap
  // Corrects the aggregated rows' closed-form TTFT and TPOT by their family's measured factors
  // (EngineCalibrationKey, all backend versions pooled, read at the row's concurrency and the
  // request's lengths) before the TTFT filter; null = uncorrected. Disaggregated rows are composed in
  // another form than the one the table was fitted on and stay uncorrected.
  const Calibration* calibration = nullptr;
};

struct SearchResult {
  std::vector<ConfigRow> agg;       // every evaluated aggregated configuration
  std::vector<ConfigRow> disagg;    // best xPyD row per decode candidate
  std::vector<StageRow> prefill;    // prefill engines alone (for autoscale)
  std::vector<StageRow> decode;     // decode engines alone (for autoscale)
  std::vector<std::string> notes;   // splits skipped and why
  int evaluations = 0;
};

// The parallel splits searched for `model` on `system` for `backend` within `max_gpus` GPUs per
// engine (AIC enumerate_parallel_config rules and backend constraints).
std::vector<ParallelSplit> EnumerateSplits(const ModelArch& model, const SystemSpec& system, Backend backend,
                                           int max_gpus);

// AIC's aggregated batch grid up to `max_batch`.
std::vector<int> AggBatchGrid(int max_batch);
// AIC's decode batch grid: 1..15, 16..30 step 2, 32..124 step 4, 128..504 step 8, 512.
std::vector<int> DecodeBatchGrid(int max_batch);
// Prefill token budgets: multiples of isl up to max(8192, 2*isl), plus chunked budgets.
std::vector<int> CtxTokenGrid(int isl);

// Runs the whole sweep for one backend's engine.
SearchResult RunRapidSearch(const PerfEngine& engine, const SearchSpace& space);

// Pareto frontier of rows on (tokens/s/user, tokens/s/gpu), both maximised; sorted by tokens/s/user.
std::vector<ConfigRow> ParetoFrontier(const std::vector<ConfigRow>& rows);

}  // namespace dyprof

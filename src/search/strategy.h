// The search strategy driver (rapid.py): resolves the model and GPU, runs the rapid search for each
// backend (or the naive memory-fit fallback when the engine cannot model the request), applies the
// picking mode, and returns the Decision plus every table the outputs need.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/log.h"
#include "search/pick.h"
#include "search/picking.h"
#include "search/rapid.h"
#include "spec/spec.h"

namespace dyprof {

struct StrategyOptions {
  int top_n = 5;
  bool dry_run = false;
  // Re-rank the first rerank_top rows of each mode's top list by a scheduler simulation under the
  // row's own load (p90 TTFT / ITL / E2E against the SLA); 0 = off. See RerankOrder.
  int rerank_top = 0;
  // The silicon calibration applied to the aggregated rows (SearchSpace::calibration), named by
  // calibration_source in pick.json and the log; null = none (--calibration none).
  const Calibration* calibration = nullptr;
  std::string calibration_source;
};

// What the strategy found, for pick.json, candidates.csv, pareto.csv and the summary.
struct StrategyOutcome {
  Decision decision;
  PickingMode mode = PickingMode::kDefault;
  std::vector<ConfigRow> agg_rows, disagg_rows;  // every evaluated configuration
  std::vector<ConfigRow> agg_top, disagg_top;    // picker output per serving mode
  std::vector<ConfigRow> agg_pareto, disagg_pareto;
  std::optional<ConfigRow> chosen;               // the picked row (none: naive, dry-run, or nothing)
  std::string chosen_exp;                        // "agg" | "disagg" | ""
  double agg_best_throughput = 0, disagg_best_throughput = 0;
  int evaluations = 0;
  double search_ms = 0;
  std::string efficiency_source;                 // perf engine's source ("measured-fit", ...)
  std::vector<std::string> warnings;             // also logged
  int max_context_length = 0;                    // model max_position_embeddings (fallback rule)
};

// A simulated configuration's p90 latencies against the SLA targets that are set.
enum class SimVerdict { kMeets, kUnknown, kMisses };  // kUnknown: the simulation failed

// The re-ranked order of a best-first list of `rows` rows whose first verdicts.size() were
// simulated: those that meet the SLA, then the unknown ones, then those that miss, each group in
// its original order; rows past verdicts.size() keep their places after them. Returns the original
// indices in the new order.
std::vector<int> RerankOrder(const std::vector<SimVerdict>& verdicts, int rows);

// Whether the performance engine can model spec's model × GPU × backend (AIC support check).
bool SimulationSupported(const DgdrSpec& spec, const FileSystem& fs, std::string* why);

// Runs the strategy of `spec` with `mode`. Infeasible SLA in rapid mode returns an outcome whose
// decision.produced is false (the pipeline turns that into a failed status); real errors are Status.
Result<StrategyOutcome> RunStrategy(const DgdrSpec& spec, PickingMode mode, const StrategyOptions& options,
                                    const FileSystem& fs, Logger& log);

}  // namespace dyprof

// The three picking algorithms of the reference (AIC sdk/picking.py, exact formulas):
//   default     max tokens/s/gpu_cluster under the SLA for the GPU budget
//   load_match  fewest GPUs that serve a target request rate or concurrency under the SLA
//   autoscale   best prefill engine and best decode engine, one worker each (TTFT x 1.8)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/rows.h"

namespace dyprof {

// The constraint the pickers filter on: TPOT (ITL) or whole-request latency, in ms.
struct LatencyTarget {
  std::optional<double> tpot_ms;
  std::optional<double> request_latency_ms;  // wins when set
};

struct PickResult {
  std::vector<ConfigRow> top;    // best first, at most top_n, one per group label
  bool all_exceeded = false;     // no row met the SLA; `top` holds the closest ones
  bool gpu_capped = false;       // load_match: the load needs more GPUs than the budget
  // The figure used to choose between agg and disagg: tokens/s/gpu_cluster (default),
  // 1/total_gpus_needed or the capped cluster throughput (load_match).
  double best_throughput = 0;
  std::vector<std::string> warnings;
};

// tokens/s/gpu * floor(total/gpus) * gpus / total (= tokens/s/gpu when total_gpus <= 0).
double ClusterThroughputPerGpu(double tokens_per_s_per_gpu, int gpus_per_replica, int total_gpus);

PickResult PickDefault(std::vector<ConfigRow> rows, int total_gpus, const LatencyTarget& target, int top_n = 5);

struct LoadTarget {
  std::optional<double> request_rate;  // req/s
  std::optional<double> concurrency;   // requests in flight
};

PickResult PickLoadMatch(std::vector<ConfigRow> rows, const LatencyTarget& target, const LoadTarget& load,
                         std::optional<int> max_total_gpus, int top_n = 5);

// Builds the xPyD row for `p` prefill workers of `prefill` and `d` decode workers of `decode`
// (AIC _build_disagg_summary_dict with degradation factors 0.9 and 0.92).
ConfigRow ComposeDisagg(const StageRow& prefill, int p, const StageRow& decode, int d, int osl);

constexpr double kPrefillDegradation = 0.9;
constexpr double kDecodeDegradation = 0.92;
constexpr double kAutoscaleTtftCorrection = 1.8;

PickResult PickAutoscale(const std::vector<StageRow>& prefill, const std::vector<StageRow>& decode,
                         double target_ttft_ms, double target_tpot_ms, int osl, int top_n = 5);

}  // namespace dyprof

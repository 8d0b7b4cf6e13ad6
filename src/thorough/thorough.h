// Thorough mode (reference §2.7): enumerate disaggregated prefill and decode candidates, rank them
// with the performance engine and deploy only those that can still win, measure prefill TTFT at the
// ISL and decode ITL/throughput over a concurrency sweep up to the KV capacity parsed from the
// worker log, build measured rows and pick with the three picking modes.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/log.h"
#include "curves/curves.h"
#include "search/picking.h"
#include "search/strategy.h"
#include "spec/spec.h"
#include "thorough/deployer.h"

namespace dyprof {

struct ThoroughOptions {
  std::string output_dir = "profiling_results";
  double deployment_timeout_s = 3600;
  int decode_granularity = 6;
  int top_n = 5;
  bool exhaustive = false;           // deploy every candidate (no ranking)
  double rank_tolerance = 0.25;      // a candidate within this share of the predicted best is deployed
  std::string deployer = "local";    // local | kubernetes
  std::string deploy_command;        // local template ("" → this binary's emulate)
  double emulator_speedup = 1.0;     // {speedup} in the local template; measured times × this
  std::string kube_api;              // e.g. http://127.0.0.1:8001 (kubectl proxy) or the API server
  std::string kube_namespace = "dynamo-sla-profiler";
  std::string kube_token_file;       // "" → the in-cluster service-account token when present
  double kube_poll_interval_s = 20;
  std::string benchmark_client = "native";  // native | aiperf
  const std::atomic<bool>* cancel = nullptr;  // SIGINT/SIGTERM flag
};

enum class ThoroughPhase { kSweepingPrefill, kSweepingDecode };
using ThoroughProgress = std::function<void(ThoroughPhase, const std::string& message)>;

// Runs thorough mode. `deployer` null → built from options. Deployments are removed on every path.
// kInterrupted when options.cancel was raised.
Result<StrategyOutcome> RunThorough(const DgdrSpec& spec, PickingMode mode, const ThoroughOptions& options,
                                    FileSystem& fs, Logger& log, const ThoroughProgress& progress,
                                    Deployer* deployer = nullptr);

// Thorough interpolation sweeps (reference §4.1–4.3) of a disaggregated pick, from measurements:
// deploys decision.prefill once into {output_dir}/selected_prefill_interpolation/ and measures the
// TTFT of each ISL of PrefillIslGrid (one request, OSL 5; the DEP formula with attention DP; one
// aiperf_isl{isl}/ per point), removes it; deploys decision.decode once into
// selected_decode_interpolation/, reads its KV capacity from the worker log and measures ITL and
// output throughput per GPU for each ISL of DecodeIslGrid × NumRequestRange (OSL 500;
// aiperf_isl{isl}_osl500_n{n}/), removes it. Writes raw_data.npz and the plots with the curves
// writers. A failed point is skipped; a failed deployment (timeout, crash) skips that curve with a
// warning, as the reference does. Every deployment is removed on every path; kInterrupted when
// options.cancel was raised. `deployer` null → built from options.
Result<PlannerCurves> MeasureThoroughCurves(const DgdrSpec& spec, const Decision& decision,
                                            const CurveOptions& curve_options, const ThoroughOptions& options,
                                            FileSystem& fs, Logger& log, Deployer* deployer = nullptr);

// Measured-row builders (reference aic_dataframe.py).
StageRow PrefillRowFromTtft(Backend backend, const ParallelSplit& split, double ttft_ms, int isl);
StageRow DecodeRowFromMeasurement(Backend backend, const ParallelSplit& split, double itl_ms, double thpt_per_gpu,
                                  int concurrency, int osl);
// DEP prefill: (ttft.max − itl.avg·(5−1)·(4−1)) / 4.
double DepPrefillTtft(double ttft_max_ms, double itl_avg_ms);

}  // namespace dyprof

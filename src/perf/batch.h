// Batch estimation over rows in the columns of ../shared/data/silicon/train.csv (aiconfigurator's
// silicon_sample.csv): one EstimateRequest per row, one prediction per row, nothing skipped.
//
// Row conventions (../shared/data/silicon/README.md):
//   concurrency    = silicon_concurrency=N inside silicon_data_source (else batch_size × dp for
//                    agg, decode_batch_size × workers × dp for disagg)
//   agg            engine concurrency = batch_size × attention_dp_size (batch_size is per DP rank);
//                  empty batch_size → the benchmark concurrency
//   disagg         missing worker counts → 1 prefill and 1 decode worker; missing decode batch →
//                  ceil(concurrency / (decode_workers × decode_dp)); missing prefill batch → 1
//   quant          gemm_quant_mode / moe_quant_mode override the checkpoint's formats when set
//   speculative    optional columns beyond train.csv's: mtp_draft_tokens (integer 0-8) and
//                  mtp_acceptance ("0.7,0.7,..."), per row, over the command's --mtp-* flags
//                  (accuracy --recipes supplies them for rows whose benchmark recipe ran MTP). Either
//                  may be given alone: the other comes from the flag; drafts beyond the listed
//                  acceptances are never accepted (as with the flag); acceptance with 0 drafts is an
//                  error
//   serving        optional scheduler settings of the benchmarked deployment (agg): max_num_tokens
//                  (the token budget, 1..2^24), sched_recv_interval (SGLang's
//                  --scheduler-recv-interval, 1..10000) and adp_balance_timeout_iters (TensorRT-LLM's
//                  attention_dp_config timeout with enable_balance, 0..100000); whole numbers only;
//                  a receive interval above 1 outside SGLang rows, or a balance timeout outside
//                  TensorRT-LLM rows, is an error; moe_a2a_backend (SGLang's --moe-a2a-backend:
//                  "none" or "deepep", SGLang rows only) over the command's flag
//   lengths        optional random_range_ratio r in (0, 1]: the benchmark drew each request's input and
//                  output lengths uniformly from [r x isl, isl] and [r x osl, osl] (the legacy
//                  benchmark_serving.py --random-range-ratio, as InferenceX runs it); the row is
//                  predicted at the mean lengths (1 + r) / 2 x isl, osl, and the simulation draws each
//                  request within ±(1 − r) / (1 + r) of them, which is that range (never less than
//                  its default ±5 % jitter)
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "catalog/parallel.h"
#include "common/file_system.h"
#include "common/status.h"
#include "perf/calibration.h"
#include "perf/csv.h"
#include "perf/engine.h"
#include "spec/spec.h"

namespace dyprof {

enum class ServingMode { kStatic, kAgg, kDisagg };
std::string_view ServingModeName(ServingMode m);  // "static", "agg", "disagg"
std::optional<ServingMode> ParseServingMode(std::string_view s);
std::optional<Quant> ParseQuantName(std::string_view s);  // "bf16"/"bfloat16", "fp8", "fp8_block", "nvfp4", ...

struct EstimateRequest {
  std::string id;
  std::string model;
  std::string system;
  Backend backend = Backend::kVllm;
  std::string backend_version;  // "" = unknown; keys the silicon calibration (perf/calibration.h)
  ServingMode mode = ServingMode::kAgg;
  int isl = 0, osl = 0;
  ParallelSplit split;   // static / agg
  int batch = 0;         // static: batch per DP rank; agg: 0 → concurrency
  double concurrency = 0;  // agg: per engine; disagg: whole deployment (0 = unknown)
  DisaggConfig disagg;
  bool disagg_workers_known = true;  // false: a silicon row without worker counts (defaults of 1 above)
  int max_num_tokens = 0;  // 0 → backend default (silicon column max_num_tokens)
  // Uniform ±fraction of isl and osl per simulated request, the benchmark's own (silicon column
  // random_range_ratio); < 0 → the simulation's options decide (SimOptions::isl_spread).
  double length_spread = -1;
  // Disagg: the decode workers' max running sequences per DP rank (silicon column
  // decode_max_batch_size; 0 → backend default). The simulation queues requests beyond it.
  int decode_max_batch = 0;
  // Admission holds of the deployment's scheduler (agg; silicon columns sched_recv_interval and
  // adp_balance_timeout_iters): the closed form adds their mean, the simulation runs them.
  AdmissionSettings admission;
  std::optional<Quant> gemm_quant, moe_quant, kv_quant;
  // The MoE all-to-all of the benchmarked deployment (silicon column moe_a2a_backend, SGLang's flag:
  // "deepep" true, "none" false); unset = the estimator's PerfOptions::moe_all_to_all.
  std::optional<bool> moe_all_to_all;
  // Speculative decoding for this request; unset = the estimator's PerfOptions::speculative.
  std::optional<int> mtp_draft_tokens;
  std::optional<std::vector<double>> mtp_acceptance;
  // Measured values (silicon rows); NaN when absent.
  double measured_ttft_ms = 0, measured_tpot_ms = 0;
};

// The loads this tool models; anything above is an input error rather than a prediction (and
// keeps token and GPU counts, and their products, inside `int`).
inline constexpr int kMaxSequenceTokens = 1 << 24;        // isl, osl each
inline constexpr double kMaxConcurrency = 1 << 20;        // concurrent requests, batch per rank
inline constexpr double kMaxTokensInFlight = 2147483647;  // concurrency x (isl + osl)

// InvalidArgument naming the field when a request is outside those limits, has a parallel split
// outside CheckParallelLimits, or a disaggregated deployment of more than kMaxGpus GPUs.
Status ValidateRequest(const EstimateRequest& r);

// The mean of lengths drawn uniformly from [range_ratio x length, length], rounded (at least 1).
int BenchmarkMeanLength(int length, double range_ratio);
// A benchmark's length range ratio from text: a number in (0, 1], else nullopt.
std::optional<double> ParseRangeRatio(const std::string& text);
// Sets `r` to a benchmark whose requests draw their lengths from [range_ratio x isl, isl] and
// [range_ratio x osl, osl]: the mean lengths, and the ± spread around them that is that range.
void UseBenchmarkLengths(EstimateRequest& r, int isl, int osl, double range_ratio);

// Requests running per decode DP rank when `concurrency` users share `decode_workers` workers of
// `decode_dp` ranks: ceil(concurrency / ranks), at least 1 and at most `decode_max_batch` when that
// is > 0 (the users beyond it wait for a slot).
int DecodeBatchPerRank(double concurrency, int decode_workers, int decode_dp, int decode_max_batch = 0);

// Row i of a silicon-format table. InvalidArgument for missing/garbled required fields.
Result<EstimateRequest> RequestFromSiliconRow(const CsvTable& table, size_t i);
// The N of "silicon_concurrency=N" in a provenance string, or nullopt.
std::optional<double> SiliconConcurrency(std::string_view source);

enum class EstimateStatus { kOk, kUnsupported, kOom, kError };
std::string_view EstimateStatusName(EstimateStatus s);  // "ok", "unsupported", "oom", "error"

struct EstimateOutcome {
  EstimateStatus status = EstimateStatus::kError;
  std::string error;
  Metrics metrics;             // calibrated when the estimator has a calibration with the family
  CalibrationFactors calibration;  // what was applied (applied = false: none)
};

// The calibration family of what `engine` predicts in `mode`: the engine's system (its catalog id,
// whatever alias named it), backend, model id and dense weight format, and `backend_version` ("" =
// unknown: the pooled entry).
CalibrationKey EngineCalibrationKey(const PerfEngine& engine, ServingMode mode, const std::string& backend_version);
// The calibration family of a request predicted with `engine`: EngineCalibrationKey at the request's
// mode and backend version.
CalibrationKey CalibrationKeyFor(const EstimateRequest& r, const PerfEngine& engine);
// The configuration sweep a request belongs to (CalibrationPoint::sweep): mode, lengths, layout
// (per worker role) and speculative decoding, but not the load or the worker counts.
std::string SweepId(const EstimateRequest& r);
// The layout a calibration lookup prefers TTFT residuals of (CalibrationPoint::layout): the
// engine's split of a request that is not disaggregated, else "".
std::string CalibrationLayout(const EstimateRequest& r);
// The load a calibration line is read at: the request's concurrency, else the metrics'.
double CalibrationConcurrency(const EstimateRequest& r, const Metrics& m);
// Multiplies TTFT and TPOT by the factors and moves the request latency with them; in a closed loop
// (a benchmark's fixed users) the throughput figures follow by Little's law, else they stay.
void ApplyCalibration(const CalibrationFactors& f, int osl, Metrics& m, bool closed_loop);

// Creates (and caches) engines per (model, system, backend, quant) and predicts requests.
class BatchEstimator {
 public:
  BatchEstimator(const FileSystem* fs, PerfOptions options, std::string perf_db_dir = "")
      : fs_(fs), options_(std::move(options)), perf_db_dir_(std::move(perf_db_dir)) {}
  EstimateOutcome Predict(const EstimateRequest& r);
  // Replaces RunEstimate for the prediction (the scheduler simulation, sim/estimate.h).
  using Runner = std::function<Result<Metrics>(const PerfEngine&, const EstimateRequest&)>;
  void set_runner(Runner runner) { runner_ = std::move(runner); }
  // Predictions of families the table knows are multiplied by its factors (null: none; the table
  // must outlive the estimator).
  void set_calibration(const Calibration* calibration) { calibration_ = calibration; }
  // The engine for a request (created on first use).
  Result<const PerfEngine*> EngineFor(const EstimateRequest& r);

 private:
  const FileSystem* fs_;
  PerfOptions options_;
  std::string perf_db_dir_;
  Runner runner_;
  const Calibration* calibration_ = nullptr;
  std::map<std::string, Result<ModelArch>> models_;
  std::map<std::string, std::unique_ptr<Result<PerfEngine>>> engines_;
};

// Runs the estimate for one request with a given engine (no memory check).
Result<Metrics> RunEstimate(const PerfEngine& engine, const EstimateRequest& r);

}  // namespace dyprof

// Load-aware latency from the scheduler simulation (sim/scheduler.h) with step durations from the
// performance engine: one aggregated engine or an xPyD disaggregated set, a closed-loop benchmark
// at a concurrency (or Poisson arrivals), percentiles of TTFT/ITL/E2E. The search re-ranks its top
// candidates with SimulateAgg / SimulateDisagg; `estimate` and `accuracy` use them by default
// (--latency-model des). Conventions: docs/perf-model.md "Scheduler simulation".
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "catalog/parallel.h"
#include "common/status.h"
#include "perf/engine.h"
#include "sim/scheduler.h"

namespace dyprof {

// Benchmark and engine settings of a simulation. Zero / negative = the backend default
// (SimDefaults::For).
struct SimOptions {
  // Closed loop: each of `concurrency` users sends warmup_per_user + requests_per_user requests.
  // requests_per_user 0 = auto: SimDefaults::requests_per_user, reduced (not below 2) so that the
  // run has at most max_total_requests requests.
  int requests_per_user = 0;
  int warmup_per_user = -1;
  int max_total_requests = 0;
  // Open loop instead: Poisson arrivals at rate_rps (requests/s), num_requests in total.
  double rate_rps = 0;
  int num_requests = 2000;
  int warmup_requests = 0;
  double isl_spread = -1, osl_spread = -1;  // uniform ±fraction (< 0 = SimDefaults)
  uint64_t seed = 1;
  int max_num_seqs = 0;                   // running sequences per DP rank
  // Disagg: running sequences per decode DP rank (the decode workers' max batch size; TensorRT-LLM
  // max_batch_size). Requests beyond it wait for a slot before their first token. 0 = max_num_seqs.
  int decode_max_num_seqs = 0;
  int64_t kv_tokens = 0;                  // per DP rank; 0 = the memory model; < 0 = unlimited
  double request_overhead_ms = -1;        // client/HTTP/tokenizer time in TTFT and E2E
  std::optional<SchedPolicy> policy;      // default: the engine's backend
  bool fast_forward = true;
  // Multipliers on the modelled step latency (< 0 = SimDefaults): the prefill part of a step (its
  // latency minus that of its decodes alone) and the decode part.
  double prefill_scale = -1, decode_scale = -1;
  // Which statistic Metrics carries (RunEstimateDes): 0 = SimDefaults, 1 = mean, 2 = median.
  int statistic = 0;
  // Refuse runs estimated above this many engine iterations (0 = kMaxSimulatedSteps).
  double max_steps = 0;
  // Admission holds of an aggregated engine (SimulateAgg; EngineConfig::recv_interval_iters,
  // adp_balance_timeout_iters; refused for the wrong backend as AdmissionSettings::Validate does).
  // Default: none.
  AdmissionSettings admission;
};

// Per-backend defaults of the simulation (docs/perf-model.md, "fitted constants").
struct SimDefaults {
  int max_num_seqs = 1024;
  int requests_per_user = 10;
  int warmup_per_user = 0;
  // Every user sends 10 requests up to 4,000 users: with fewer per user the burst of the first
  // wave (all users at t = 0) dominates the mean TTFT at high concurrency (4,000 in all had made
  // it 2 per user above 2,000 users; even disagg rows TTFT 57.2 -> 51.1 % with 10).
  int max_total_requests = 40000;
  double request_overhead_ms = 10;
  double prefill_scale = 1.0, decode_scale = 1.0;
  // An xPyD set: the frontend routes each request through a prefill worker, a KV handoff and a
  // decode worker (more hops than one engine), and its prefill workers run prefill-only steps.
  // Fitted on the even disagg rows of train.csv, separately from the aggregated constants.
  double disagg_request_overhead_ms = 100;
  double disagg_prefill_scale = 1.0;
  // The disaggregated decode workers' multiplier on Hopper (sm 9x), fitted apart from decode_scale
  // (which the mostly-Blackwell disagg rows set): against the op model, the Hopper rows' decode steps
  // run slower than the Blackwell rows' (docs/accuracy.md, eighth pass). < 0: decode_scale.
  double hopper_disagg_decode_scale = -1;
  bool median = false;
  // ±5 % uniform ISL/OSL jitter: breaks the lock-step waves a perfectly deterministic closed loop
  // keeps forever (real clients, networks and tokenizers jitter); the mean lengths are unchanged.
  double spread = 0.05;
  static SimDefaults For(Backend b);
  // The decode workers' multiplier of a disaggregated deployment on GPUs of compute capability
  // sm_version (x10: 90 Hopper, 100 Blackwell).
  // A `given` multiplier (>= 0, SimOptions::decode_scale) replaces it.
  double DisaggDecodeScale(int sm_version, double given = -1) const {
    if (given >= 0) return given;
    return sm_version / 10 == 9 && hopper_disagg_decode_scale >= 0 ? hopper_disagg_decode_scale : decode_scale;
  }
  // The ± fraction of the lengths requests are drawn within: the `given` one (>= 0,
  // SimOptions::isl_spread / osl_spread), else `spread`.
  double Spread(double given) const { return given >= 0 ? given : spread; }
};

// PerfEngine::StepLatencyMs for one split, cached by quantised shape: token counts and context
// lengths above 64 fall into log-spaced buckets 2.2 % wide (sequence counts are exact).
class PerfStepCost : public StepCost {
 public:
  PerfStepCost(const PerfEngine& engine, const ParallelSplit& split, double prefill_scale = 1.0,
               double decode_scale = 1.0)
      : engine_(engine), split_(split), prefill_scale_(prefill_scale), decode_scale_(decode_scale) {}
  double StepMs(const StepBatch& b) override;
  const Status& status() const { return status_; }
  size_t cache_size() const { return cache_.size(); }

 private:
  const PerfEngine& engine_;
  ParallelSplit split_;
  double prefill_scale_, decode_scale_;
  Status status_;
  std::unordered_map<uint64_t, double> cache_;
};

// What one simulation may be asked to run: the users of a closed loop, and the requests of a run
// (users × (warm-up + measured requests per user), or the open loop's requests). Larger runs are
// InvalidArgument (they would take minutes); the closed form has no such limit.
// The engine iterations a run needs are estimated from the requests, the lengths and how many
// sequences the engines hold at once; above kMaxSimulatedSteps (tens of seconds) it is refused too.
inline constexpr int kMaxSimulatedUsers = 100000;
inline constexpr int kMaxSimulatedRequests = 1000000;
inline constexpr double kMaxSimulatedSteps = 2e7;
// Every event visits every worker: a disaggregated deployment of more workers than this (prefill +
// decode, e.g. derived to seat many users at a small decode max batch) is refused too.
inline constexpr int kMaxSimulatedWorkers = 1024;

// One aggregated engine at `concurrency` closed-loop users (all DP ranks together).
// max_num_tokens <= 0: the backend's default token budget.
Result<SimResult> SimulateAgg(const PerfEngine& engine, const ParallelSplit& split, int concurrency, int isl,
                              int osl, int max_num_tokens = 0, const SimOptions& options = {});

// An xPyD deployment (config's splits and worker counts; batch sizes are not used: the schedulers
// form the batches) at `concurrency` closed-loop users.
Result<SimResult> SimulateDisagg(const PerfEngine& engine, const DisaggConfig& config, int concurrency, int isl,
                                 int osl, int max_num_tokens = 0, const SimOptions& options = {});

// KV-cache transfer time of one request from a prefill to a decode worker: isl × KV bytes per
// token of the whole model over the link (NVLink when the whole deployment sits in one NVLink
// domain, else the inter-node network) with the prefill worker's GPUs sending in parallel,
// plus 1 ms setup.
double KvTransferMs(const PerfEngine& engine, const DisaggConfig& config, int isl);

// Worker counts for a disagg deployment whose counts are not known (silicon rows that do not
// record them), for `concurrency` users: D decode workers sized as the benchmarked deployments were
// (total decode DP ranks = kCorpusDecodeRanksCoef · concurrency^kCorpusDecodeRanksConcExp ·
// dp^kCorpusDecodeRanksDpExp, dp = one worker's attention-DP size; fitted on the rows that record
// them), raised where needed so every DP rank holds its share of the users within its sequence
// limit (`decode_max_batch` when given, else the backend's) and KV pool (isl + osl tokens each),
// each DP rank then holding ceil(concurrency / ranks) requests; P prefill workers rate-matched to
// the decode side's request rate at that batch (P = ceil(decode req/s ÷ one prefill worker's req/s
// at full token budget)).
inline constexpr double kCorpusDecodeRanksCoef = 2.569;
inline constexpr double kCorpusDecodeRanksConcExp = 0.094;
inline constexpr double kCorpusDecodeRanksDpExp = 0.518;
struct WorkerCounts {
  int prefill_workers = 1, decode_workers = 1;
  int decode_batch = 1;  // requests per decode DP rank
};
// decode_scale >= 0 replaces the fitted decode multiplier (SimOptions::decode_scale), as in the
// simulation it sizes.
Result<WorkerCounts> DeriveWorkerCounts(const PerfEngine& engine, const DisaggConfig& config, int concurrency,
                                        int isl, int osl, int max_num_tokens = 0, int decode_max_batch = 0,
                                        double decode_scale = -1);

}  // namespace dyprof

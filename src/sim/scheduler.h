// Discrete-event simulation of LLM serving engines: the per-iteration scheduler of vLLM, SGLang and
// TensorRT-LLM (token budget, chunked prefill, decode-first or prefill-first, KV blocks with
// preemption), driven by a closed-loop benchmark client (N users) or Poisson arrivals, for one
// aggregated engine or an xPyD disaggregated set (prefill workers → KV transfer → decode workers).
//
// This header is the engine-independent core: step durations come from a StepCost (the
// performance engine through sim/sim.h, or a fake in tests). See docs/perf-model.md "Scheduler
// simulation" for the policies, the benchmark conventions and the simplifications.
//
// Units: ms, tokens, requests/s.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "perf/engine.h"
#include "spec/spec.h"

namespace dyprof {

// How an engine forms each iteration's batch.
//   kVllm   decode-first: running sequences first (decodes 1 token, partial prefills a chunk), then
//           waiting requests FCFS with chunked prefill, all within max_num_tokens; KV blocks on
//           demand; when a block cannot be allocated the most recently admitted sequence is
//           preempted (recompute).
//   kSglang prefill-first: whenever a waiting request can be admitted, the step is a prefill-only
//           batch (up to max_num_tokens = chunked_prefill_size, the last request chunked); otherwise
//           a decode-only step of every running sequence. Admission keeps a reserve of
//           reserve_ratio × remaining output tokens of the running requests; on KV exhaustion the
//           newest request is retracted.
//   kTrtllm in-flight batching: decodes first, then whole contexts that fit in the rest of
//           max_num_tokens (chunked only when a prompt alone exceeds it); KV for isl+osl reserved at
//           admission (GUARANTEED_NO_EVICT), so never preempts.
enum class SchedPolicy { kVllm, kSglang, kTrtllm };
std::string_view SchedPolicyName(SchedPolicy p);  // "vllm", "sglang", "trtllm"
SchedPolicy PolicyForBackend(Backend b);

// Duration of one iteration of one rank's batch. Non-const: implementations cache.
class StepCost {
 public:
  virtual ~StepCost() = default;
  virtual double StepMs(const StepBatch& batch) = 0;
};

struct EngineConfig {
  SchedPolicy policy = SchedPolicy::kVllm;
  int ranks = 1;               // attention-DP ranks (× pipeline micro-batches) stepping in lockstep
  int max_num_tokens = 8192;   // per rank per step
  int max_num_seqs = 1024;     // running sequences per rank
  int64_t kv_blocks = 0;       // per rank; 0 = unlimited
  int block_size = 16;         // tokens per KV block
  double reserve_ratio = 0.3;  // kSglang admission reserve (share of remaining output tokens)
  bool fast_forward = true;    // collapse runs of decode-only steps (exact; off only for tests)
  // Admission holds (perf/engine.h AdmissionSettings). recv_interval_iters N (SGLang's receive
  // skipper): while any rank has work, new requests wait in an inbox; before each iteration the
  // engine takes the inbox when the iterations since it last did weigh N or more, a decode-only
  // iteration weighing 1 and one with prefill work N (an idle engine takes arrivals at once).
  // adp_balance_timeout_iters T > 0 with ranks > 1 (TensorRT-LLM's attention-DP balance): while
  // some rank has no waiting context it could admit (none, or no free sequence slot) and every
  // rank has running requests, waiting contexts are not admitted, except on the T-th such
  // iteration in a row (the count restarts at every release).
  int recv_interval_iters = 1;
  int adp_balance_timeout_iters = 0;
};

// The benchmark client. Closed loop (rate_rps == 0): `users` users each send warmup_per_user +
// requests_per_user requests back to back (next one when the previous completes); the first
// warmup_per_user of every user are simulated but not measured. Open loop (rate_rps > 0):
// num_requests Poisson arrivals, the first warmup_requests not measured.
struct Workload {
  int isl = 1024, osl = 128;
  int users = 1;
  int requests_per_user = 4;
  int warmup_per_user = 0;
  double rate_rps = 0;
  int num_requests = 0;
  int warmup_requests = 0;
  double isl_spread = 0, osl_spread = 0;  // uniform ±fraction around isl / osl
  double request_overhead_ms = 0;         // client/HTTP/tokenizer time added to TTFT and E2E
  uint64_t seed = 1;
};

struct Dist {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

struct SimResult {
  Dist ttft_ms, itl_ms, tpot_ms, e2e_ms, queue_ms;  // itl: per token; tpot: per request (E2E−TTFT)/(OSL−1)
  double output_tokens_per_s = 0;  // measured requests' output tokens over the measurement window
  double request_rate = 0;         // measured requests / window
  double achieved_concurrency = 0; // Σ E2E / window (Little's law)
  double duration_ms = 0;          // measurement window: first measured arrival → last measured finish
  double sim_end_ms = 0;           // time of the last event
  int requests_total = 0, requests_measured = 0;
  int64_t steps = 0;               // iterations of all engines
  int64_t fast_forwarded_steps = 0;  // of those, run inside collapsed decode-only runs
  int64_t preemptions = 0;
  int64_t tokens_in = 0;           // prompt tokens of completed requests
  int64_t tokens_out = 0;          // output tokens of completed requests
  int64_t prefill_tokens_computed = 0;  // prompt tokens through prefill (≥ tokens_in with recompute)
  int64_t peak_kv_blocks = 0;      // max over ranks and time
  int64_t kv_blocks_capacity = 0;  // per rank (0 = unlimited)
  double mean_decode_batch = 0;    // per rank, over decode-carrying steps
  int prefill_workers = 0, decode_workers = 0;  // disagg
  double kv_transfer_ms = 0;       // disagg, per request
  // Metrics in the engine's convention: TTFT, TPOT (per-request) and E2E as means, or as medians
  // when `median` (the benchmark's reported statistic is not recorded for the silicon rows).
  Metrics ToMetrics(int osl, int num_gpus, bool median = false) const;
};

// One iteration, for tests and tracing (rank 0's batch; dur is the lockstep max).
struct StepRecord {
  int engine = 0;  // agg: 0; disagg: prefill workers 0..P−1, decode workers P..P+D−1
  double start_ms = 0, dur_ms = 0;
  int steps = 1;   // > 1: a fast-forwarded run of identical-shape decode steps
  StepBatch batch;
};

struct SimTrace {
  std::vector<StepRecord> steps;
  std::vector<int64_t> kv_used;  // rank-0 KV blocks used after every step
};

// One aggregated engine.
Result<SimResult> SimulateEngine(const EngineConfig& engine, StepCost& cost, const Workload& w,
                                 SimTrace* trace = nullptr);

// xPyD: requests queue for P prefill workers (routed to the least-loaded), their KV moves to one
// of D decode workers (kv_transfer_ms after the prefill step ends), and the decode worker admits
// them at its next iteration. The first token reaches the client at that admission.
struct DisaggEngines {
  EngineConfig prefill;
  int prefill_workers = 1;
  EngineConfig decode;
  int decode_workers = 1;
  double kv_transfer_ms = 0;  // per request
};
Result<SimResult> SimulateDisaggEngines(const DisaggEngines& d, StepCost& prefill_cost, StepCost& decode_cost,
                                        const Workload& w, SimTrace* trace = nullptr);

}  // namespace dyprof

// PerfEngine: the native latency model. One engine per (model, system, backend); it precomputes
// per-engine constants in Create() and then answers step, static, aggregated, prefill, decode and
// disaggregated queries for any ParallelSplit without allocating (except the optional breakdown).
//
// Composition (see docs/perf-model.md):
//   step latency  = Σ ops(per-layer op × layer count) + per-step framework overhead
//   static        : TTFT = prefill step of the whole batch, TPOT = mean decode step over the OSL
//   aggregated    : in-flight batching at a concurrency, mixed prefill+decode steps (AIC's mean-field
//                   composition, with fitted queueing terms for TTFT)
//   disaggregated : prefill workers + decode workers, xPyD rate matching (AIC's 0.9 / 0.92 factors)
// Units: ms for latencies, tokens, requests/s. TPOT = (E2E − TTFT)/(OSL − 1).
//
// The per-step function StepLatencyMs is the seam for a scheduler simulation (issue 9): a
// simulator can call it with the exact batch of each iteration instead of the closed forms here.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/memory.h"
#include "catalog/model.h"
#include "catalog/parallel.h"
#include "catalog/system.h"
#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

class FitTables;
class PerfDb;

// Where one op's latency came from.
enum class OpSource {
  kMeasuredFit,      // fitted efficiency of this system's own measured tables
  kBorrowedFit,      // roofline with the efficiency fitted on the nearest measured GPU
  kRoofline,         // roofline with default efficiency constants (no table for this op)
  kPerfDb,           // interpolated from --perf-db measured timings
  kAnalytic,         // memory-bound element-wise/embedding/p2p formula (no table by design)
};
std::string_view OpSourceName(OpSource s);  // "measured-fit", "roofline-borrowed", "roofline", "perf-db", "analytic"

// Framework behaviour per backend. Defaults per backend come from BackendTuning::For().
struct BackendTuning {
  double decode_step_overhead_ms = 0;  // CPU/scheduler time per CUDA-graph decode step
  double mixed_step_overhead_ms = 0;   // per step containing prefill (eager)
  double eager_layer_overhead_ms = 0;  // kernel launch overhead per layer on eager (prefill) steps
  double ttft_overhead_ms = 0;         // per request: tokenize, schedule, detokenize, network
  int default_max_num_tokens = 8192;   // chunked-prefill token budget per step
  // Serving-composition constants fitted on ../shared/data/silicon/train.csv (docs/perf-model.md):
  double tpot_scale = 1.0;             // agg/disagg TPOT multiplier on the modelled decode step
  double prefill_interference = 0.9;   // share of the amortised prefill work (b·prefill/OSL) in TPOT; For() sets it per backend
  double ttft_scale = 1.0;             // multiplier on the prefill part of TTFT
  double wave_fraction = 0.10;         // share of the other requests' prefill a request waits for
  bool cuda_graph_decode = true;
  static BackendTuning For(Backend b);
  static BackendTuning Aic();  // all zero: AIC's composition carries its own constants
};

// The batch one engine iteration processes (per attention-DP rank).
struct StepBatch {
  int prefill_seqs = 0;       // sequences with new prompt tokens this step
  int prefill_tokens = 0;     // new prompt tokens in total (chunk)
  int prefill_past = 0;       // tokens already cached per prefill sequence (chunked prefill / prefix)
  int decode_seqs = 0;        // sequences generating (with speculative decoding: verifying) tokens
  double decode_ctx = 0;      // mean KV length of the decode sequences
  bool logits_for_prefill = true;  // whether the prefill sequences produce a token (last chunk)
};

// One line of a per-op breakdown.
struct OpTiming {
  std::string name;
  double ms = 0;       // total over the step (per-layer latency × layer count)
  int count = 0;       // layer count / calls
  OpSource source = OpSource::kAnalytic;
};

struct Metrics {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double request_latency_ms = 0;   // TTFT + TPOT·(OSL−1)
  double tokens_per_s = 0;         // output tokens/s of the whole deployment
  double tokens_per_s_per_gpu = 0;
  double tokens_per_s_per_user = 0;  // 1000 / TPOT
  double request_rate = 0;         // requests/s
  int num_gpus = 0;
  double concurrency = 0;
};

struct StaticResult {
  Metrics m;
  double prefill_ms = 0;  // raw prefill step
  double decode_step_ms = 0;
};

struct AggResult {
  Metrics m;
  double mix_step_ms = 0;
  double decode_step_ms = 0;
  int mix_steps = 0;
  int decode_only_steps = 0;
  double admission_wait_ms = 0;  // the part of TTFT spent held by AdmissionSettings
};

// Largest admission settings accepted (AdmissionSettings::Validate, silicon columns).
inline constexpr int kMaxRecvIntervalIters = 10000;
inline constexpr int kMaxAdpBalanceTimeoutIters = 100000;

// Scheduler settings of a deployment that hold a new request back before its prefill, beyond the
// token budget. The defaults are the frameworks' own defaults (no hold).
struct AdmissionSettings {
  // SGLang --scheduler-recv-interval N: the scheduler takes new requests from its input queue
  // once N decode iterations have run since it last did (an iteration with prefill work, or an
  // idle loop, lets it take them at once). 1 = every iteration.
  int recv_interval_iters = 1;
  // TensorRT-LLM attention_dp_config {enable_balance: true, timeout_iters: T, batching_wait_iters:
  // 0} with attention DP: while some DP rank has no context request it can schedule and every rank
  // has running requests, new contexts are held; the T-th such iteration in a row releases them.
  // 0 = balancing off.
  int adp_balance_timeout_iters = 0;
  bool IsDefault() const { return recv_interval_iters == 1 && adp_balance_timeout_iters == 0; }
  // InvalidArgument naming the field unless 1 <= recv_interval_iters <= kMaxRecvIntervalIters and
  // 0 <= adp_balance_timeout_iters <= kMaxAdpBalanceTimeoutIters, and, for `backend`, unless a
  // receive interval above 1 is SGLang's and a balance timeout TensorRT-LLM's.
  Status Validate(Backend backend) const;
};

// Mean extra time a new request is held before admission under `a` (valid, see Validate), beyond
// the half iteration any arrival waits for the step in flight, for an engine whose iterations take
// `iteration_ms`, with `dp` attention-DP ranks each serving `requests_per_rank` closed-loop users
// whose requests take `request_latency_ms` end to end:
//   receive interval N: (N − 1)/2 iterations (polls every N decode iterations; an upper bound when
//   prefill iterations, after which SGLang polls at once, are frequent);
//   attention-DP balance: a renewal cycle that ends when all dp ranks have an arrival (independent
//   Poisson streams) or at the timeout; an arrival waits for its cycle's end, E[C²] / (2·E[C])
//   with C = min(T·iteration_ms, time until every rank has an arrival), less the half iteration.
double AdmissionWaitMs(const AdmissionSettings& a, double iteration_ms, int dp, int requests_per_rank,
                       double request_latency_ms);

struct PrefillResult {
  double latency_ms = 0;      // one prefill of `batch` requests
  double seq_per_s = 0;       // per worker
  int num_gpus = 0;
};

struct DecodeResult {
  double tpot_ms = 0;         // mean decode step
  double seq_per_s = 0;       // per worker, completed requests/s
  int num_gpus = 0;
};

struct DisaggResult {
  Metrics m;
  PrefillResult prefill;
  DecodeResult decode;
  int prefill_workers = 1, decode_workers = 1;
};

struct DisaggConfig {
  ParallelSplit prefill_split;
  int prefill_batch = 1;
  int prefill_workers = 1;
  ParallelSplit decode_split;
  int decode_batch = 1;      // per attention-DP rank of one decode worker
  int decode_workers = 1;
};

// Speculative decoding with a multi-token-prediction (MTP) draft module (DeepSeek/GLM
// num_nextn_predict_layers; AIC's --nextn / --nextn-accepted). Each decode step drafts
// `draft_tokens` tokens with the MTP module (one decoder layer per draft) and verifies them in one
// target step of 1 + draft_tokens tokens per sequence.
struct SpeculativeDecoding {
  int draft_tokens = 0;  // 0 = off
  // acceptance[i]: probability that draft token i+1 is accepted given drafts 1..i were (missing = 0).
  std::vector<double> acceptance;
  // Tokens a sequence gains per step: 1 + Σ_i Π_{j≤i} acceptance[j] over the draft tokens.
  double TokensPerStep() const;
  // InvalidArgument unless 0 <= draft_tokens <= 8 and every acceptance lies in [0, 1].
  Status Validate() const;
  // "0.85,0.6" → {0.85, 0.6}. InvalidArgument unless every item is a number in [0, 1].
  static Result<std::vector<double>> ParseAcceptance(std::string_view comma_separated);
};

struct PerfOptions {
  // Optional measured tables (`--perf-db DIR`), same layout as ../shared/data/perfdb/<system>.
  std::shared_ptr<const PerfDb> perf_db;
  // Overrides the fitted efficiency tables (tests); null = the embedded tables for the system.
  std::shared_ptr<const FitTables> fit;
  bool use_embedded_fit = true;
  // Use the fitted MoE grids (false: roofline with a fixed efficiency).
  bool use_fit_moe = true;
  std::optional<BackendTuning> tuning;
  // Multiplies every op (AIC's latency_correction_scale); 1.0 = none.
  double latency_scale = 1.0;
  // Serving composition: kDyprof (default: mean-field with M/D/1 queueing, fitted constants) or
  // kAic (AIC's closed forms: ctx_tokens = isl, TTFT queueing factor, disagg ×1.8), for comparison.
  enum class Composition { kDyprof, kAic };
  Composition composition = Composition::kDyprof;
  // Off by default. The closed forms divide the decode step by the tokens gained per step; the
  // scheduler simulation charges each simulated token that share of a step (sim/sim.h PerfStepCost).
  SpeculativeDecoding speculative;
  // SGLang's `--moe-a2a-backend deepep` (`estimate`/`accuracy --moe-a2a-backend deepep`): engines of
  // the shape UsesExpertAllToAll names send each token to the ranks of its top-k experts only, fp8
  // out and 16-bit back, instead of gathering every rank's tokens (AIC's MoEDispatch). Off by
  // default: the deployments `profile` renders do not ask for DeepEP, as the reference's do not.
  bool moe_all_to_all = false;
};

// Whether an engine of this shape can move its MoE tokens by expert all-to-all (DeepEP) rather than
// by gathering every attention-DP rank's tokens: SGLang's attention-DP engines whose experts are all
// expert-parallel (moe_ep = tp·dp) over more GPUs than one node holds. That is how SGLang's
// multi-node wide-EP benchmark recipes run (`--moe-a2a-backend deepep`; NVIDIA srt-slurm gb200-fp8
// decode `tp 32, dp 32, ep 32`). The model uses it where PerfOptions::moe_all_to_all asks.
bool UsesExpertAllToAll(Backend backend, const ParallelSplit& split, int gpus_per_node);
// Whether TensorRT-LLM moves this engine's MoE tokens by its multi-node NVLink (MNNVL) all-to-all:
// attention-DP engines whose experts are all expert-parallel (moe_ep = tp·dp) on a system whose NVLink
// domain spans nodes (GB200/GB300 NVL72) and holds the whole group. TensorRT-LLM picks it by itself
// there (fused MoE select_alltoall_method_type); elsewhere it gathers every rank's tokens.
bool UsesMnnvlAllToAll(Backend backend, const ParallelSplit& split, int gpus_per_node, int nvlink_domain_gpus);

class PerfEngine {
 public:
  static Result<PerfEngine> Create(const ModelArch& model, const SystemSpec& system, Backend backend,
                                   PerfOptions options = {});

  // Latency of one engine iteration. With speculative decoding every decode sequence verifies
  // 1 + draft tokens and the MTP module drafts them within the step. `detail`, when not null,
  // receives the per-op breakdown.
  Result<double> StepLatencyMs(const ParallelSplit& split, const StepBatch& batch,
                               std::vector<OpTiming>* detail = nullptr) const;

  // One static batch: TTFT = prefill of `batch` requests together; TPOT = mean decode step.
  Result<StaticResult> Static(const ParallelSplit& split, int batch, int isl, int osl) const;
  // In-flight batching at `concurrency` concurrent requests per engine (all DP ranks together).
  // max_num_tokens <= 0: the backend's default token budget. `admission` adds its hold to TTFT
  // (AdmissionWaitMs at the composed iteration time; not under Composition::kAic, AIC's own forms);
  // InvalidArgument when AdmissionSettings::Validate refuses it.
  Result<AggResult> Aggregated(const ParallelSplit& split, int concurrency, int isl, int osl,
                               int max_num_tokens = 0, const AdmissionSettings& admission = {}) const;
  Result<PrefillResult> Prefill(const ParallelSplit& split, int batch, int isl) const;
  // Decode worker at `batch` sequences per attention-DP rank, averaged over the OSL.
  Result<DecodeResult> Decode(const ParallelSplit& split, int batch, int isl, int osl) const;
  // Disaggregated deployment; `concurrency` > 0 adds the queueing term of TTFT for that load.
  Result<DisaggResult> Disaggregated(const DisaggConfig& config, int isl, int osl, double concurrency = 0) const;

  // Memory per GPU and KV capacity of one engine under the backend's memory rule (the catalog's
  // memory model), with the MTP draft layer's weights and KV when speculative decoding is on.
  Result<MemoryBreakdown> Memory(const ParallelSplit& split, const EngineLimits& limits = {}) const;
  // Whether `split` is valid for the model (divisibility, MoE split rule); OK or InvalidArgument.
  Status CheckSplit(const ParallelSplit& split) const;

  // Per-op breakdown of the static estimate (prefill and one mid-sequence decode step).
  Result<std::vector<OpTiming>> StaticBreakdown(const ParallelSplit& split, int batch, int isl, int osl,
                                                bool prefill) const;

  // Which efficiency source the engine's GEMMs use overall ("measured-fit", "roofline-borrowed", ...).
  std::string_view EfficiencySource() const;
  const std::string& efficiency_system() const { return eff_system_; }
  const ModelArch& model() const { return model_; }
  const SystemSpec& system() const { return system_; }
  Backend backend() const { return backend_; }
  const BackendTuning& tuning() const { return tuning_; }
  const SpeculativeDecoding& speculative() const { return options_.speculative; }

  struct Impl;  // precomputed constants (public for the .cc helpers)

 private:
  PerfEngine() = default;
  Result<AggResult> AggregatedAic(const ParallelSplit& split, int concurrency, int isl, int osl) const;
  ModelArch model_;
  SystemSpec system_;
  Backend backend_ = Backend::kVllm;
  BackendTuning tuning_;
  PerfOptions options_;
  std::string eff_system_;
  std::shared_ptr<const Impl> impl_;
  // The MTP draft module (one decoder layer of the model with its own head), when speculative
  // decoding is on.
  std::shared_ptr<const PerfEngine> draft_;
};

}  // namespace dyprof

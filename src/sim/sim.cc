#include "sim/sim.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "catalog/memory.h"

namespace dyprof {

SimDefaults SimDefaults::For(Backend b) {
  // max_num_seqs: vLLM V1 API-server default on ≥ 70 GiB GPUs (1024), SGLang max_running_requests
  // (bounded by KV in practice), TRT-LLM trtllm-serve max_batch_size (2048).
  // request_overhead_ms: see docs/perf-model.md "fitted constants" (held-out fit).
  SimDefaults d;
  switch (b) {
    case Backend::kVllm:
      d.max_num_seqs = 1024;
      d.request_overhead_ms = 10;
      d.prefill_scale = 1.0;
      d.decode_scale = 0.95;
      d.disagg_prefill_scale = 1.0;
      break;
    case Backend::kSglang:
      d.max_num_seqs = 1024;
      d.request_overhead_ms = 80;
      d.prefill_scale = 1.4;
      d.decode_scale = 0.95;  // re-gridded on even disagg rows after the fused MLA GEMM
      d.disagg_prefill_scale = 1.2;
      d.hopper_disagg_decode_scale = 1.05;  // even Hopper disagg rows (odd held out: TPOT 18.2 -> 15.9 %)
      break;
    case Backend::kTrtllm:
    case Backend::kAuto:
      d.max_num_seqs = 2048;
      d.request_overhead_ms = 40;
      d.prefill_scale = 1.4;
      d.decode_scale = 0.8;  // refitted on even Blackwell disagg rows with the MNNVL all-to-all (0.75 before)
      d.disagg_prefill_scale = 1.0;
      d.hopper_disagg_decode_scale = 0.95;  // even Hopper disagg rows (odd held out: TPOT 28.4 -> 11.0 %)
      break;
  }
  return d;
}

namespace {

// Log bucket of a positive count: exact up to 64, then 32 buckets per octave.
inline uint64_t Bucket(double x) {
  if (x <= 64) return static_cast<uint64_t>(std::max(0.0, std::round(x)));
  return 64 + static_cast<uint64_t>(std::lround(std::log2(x / 64.0) * 32.0));
}
inline double Unbucket(uint64_t b) {
  if (b <= 64) return static_cast<double>(b);
  return 64.0 * std::exp2((static_cast<double>(b) - 64) / 32.0);
}

int DefaultBudget(const PerfEngine& e, int max_num_tokens) {
  if (max_num_tokens > 0) return max_num_tokens;
  if (e.backend() == Backend::kSglang) {
    // SGLang's chunked_prefill_size by GPU memory (server_args: 8192 below 160 GB, 16384 above).
    return e.system().mem_capacity_bytes >= 160e9 ? 16384 : 8192;
  }
  return e.tuning().default_max_num_tokens;
}

struct Built {
  EngineConfig cfg;
  int64_t kv_tokens = 0;
};

Result<Built> BuildEngine(const PerfEngine& e, const ParallelSplit& split, int users_per_engine, int isl, int osl,
                          int max_num_tokens, const SimOptions& o) {
  DYPROF_RETURN_IF_ERROR(e.CheckSplit(split));
  const SimDefaults d = SimDefaults::For(e.backend());
  Built b;
  EngineConfig& c = b.cfg;
  c.policy = o.policy.value_or(PolicyForBackend(e.backend()));
  c.ranks = split.dp * split.pp;
  c.max_num_tokens = DefaultBudget(e, max_num_tokens);
  c.max_num_seqs = o.max_num_seqs > 0 ? o.max_num_seqs : d.max_num_seqs;
  c.fast_forward = o.fast_forward;
  // The longest request the workload draws (MakeWorkload's spreads), as SimulateEngine checks it
  // against the KV pool.
  const double spread = std::max(d.Spread(o.isl_spread), d.Spread(o.osl_spread));
  const int64_t longest = static_cast<int64_t>(std::ceil((isl + osl) * (1 + spread)));
  EngineLimits lim;
  lim.max_model_len = static_cast<int>(std::min<int64_t>(longest, std::numeric_limits<int>::max()));
  lim.max_num_tokens = c.max_num_tokens;
  lim.max_batch_size = std::max(1, std::min(c.max_num_seqs, (users_per_engine + split.dp - 1) / split.dp));
  auto mem = e.Memory(split, lim);
  if (mem.ok()) c.block_size = std::max(1, mem->block_size);
  if (o.kv_tokens > 0) {
    b.kv_tokens = o.kv_tokens;
  } else if (o.kv_tokens == 0 && mem.ok() && mem->fits) {
    // Per DP rank; pipeline micro-batches share the stage's pool.
    b.kv_tokens = mem->max_kv_tokens / std::max(1, split.pp);
  }
  // A pool smaller than the longest request (the memory model disagrees with a configuration that
  // ran): simulate without a KV limit rather than refuse.
  if (b.kv_tokens > 0 && b.kv_tokens < longest + c.block_size) b.kv_tokens = 0;
  c.kv_blocks = b.kv_tokens > 0 ? b.kv_tokens / c.block_size : 0;
  return b;
}

Workload MakeWorkload(const PerfEngine& e, int concurrency, int isl, int osl, const SimOptions& o, bool disagg) {
  const SimDefaults d = SimDefaults::For(e.backend());
  Workload w;
  w.isl = isl;
  w.osl = osl;
  w.users = std::max(1, concurrency);
  w.warmup_per_user = o.warmup_per_user >= 0 ? o.warmup_per_user : d.warmup_per_user;
  if (o.requests_per_user > 0) {
    w.requests_per_user = o.requests_per_user;
  } else {
    const int cap = o.max_total_requests > 0 ? o.max_total_requests : d.max_total_requests;
    w.requests_per_user = std::max(2, std::min(d.requests_per_user, cap / w.users));
  }
  w.rate_rps = o.rate_rps;
  w.num_requests = o.num_requests;
  w.warmup_requests = o.warmup_requests;
  w.isl_spread = d.Spread(o.isl_spread);
  w.osl_spread = d.Spread(o.osl_spread);
  w.seed = o.seed;
  w.request_overhead_ms = o.request_overhead_ms >= 0 ? o.request_overhead_ms
                          : disagg                     ? d.disagg_request_overhead_ms
                                                       : d.request_overhead_ms;
  return w;
}

int64_t WorkloadRequests(const Workload& w) {
  return w.rate_rps > 0 ? int64_t{w.num_requests} + w.warmup_requests
                        : int64_t{w.users} * (int64_t{w.warmup_per_user} + w.requests_per_user);
}

// The run a workload asks for stays within kMaxSimulatedUsers / kMaxSimulatedRequests.
Status CheckWorkloadSize(const Workload& w) {
  const bool open_loop = w.rate_rps > 0;
  if (!open_loop && w.users > kMaxSimulatedUsers) {
    return Status::InvalidArgument(fmt::format(
        "scheduler simulation: {} concurrent users is above its limit of {} (the closed-form latency model has "
        "no such limit)",
        w.users, kMaxSimulatedUsers));
  }
  const int64_t requests = WorkloadRequests(w);
  if (requests > kMaxSimulatedRequests) {
    return Status::InvalidArgument(fmt::format("scheduler simulation: {} requests is above its limit of {}", requests,
                                               kMaxSimulatedRequests));
  }
  return Status::Ok();
}

// Iterations simulated for the workload on `engines` copies of `c` (summed over the copies): the
// prompt chunks (prompts share a step while they fit the token budget) and, when decoding, `osl`
// steps per round of as many requests as one copy holds at once (sequence limit and KV pool).
double EstimatedSteps(const EngineConfig& c, int64_t engines, const Workload& w, bool prefill, bool decode) {
  const double requests = static_cast<double>(WorkloadRequests(w));
  const double ranks = std::max(1, c.ranks), copies = std::max<double>(1, static_cast<double>(engines));
  double steps = 0;
  if (prefill) steps += std::ceil(requests * w.isl / (static_cast<double>(c.max_num_tokens) * ranks));
  if (decode) {
    double per_rank = c.max_num_seqs;
    if (c.kv_blocks > 0) {
      per_rank = std::min(per_rank, std::max(1.0, static_cast<double>(c.kv_blocks) * c.block_size / (w.isl + w.osl)));
    }
    const double offered = (w.rate_rps > 0 ? requests : w.users) / copies;
    const double at_once = std::max(1.0, std::min(offered, per_rank * ranks));
    steps += copies * std::ceil(requests / copies / at_once) * w.osl;
  }
  return steps;
}

Status CheckSteps(double steps, const SimOptions& o) {
  const double limit = o.max_steps > 0 ? o.max_steps : kMaxSimulatedSteps;
  if (steps <= limit) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "scheduler simulation: about {:.3g} engine iterations is above its limit of {:.3g} (the closed-form latency "
      "model has no such limit)",
      steps, limit));
}

}  // namespace

double PerfStepCost::StepMs(const StepBatch& b) {
  const uint64_t ps = std::min(b.prefill_seqs, 4095);
  const uint64_t pt = b.prefill_tokens > 0 ? std::min<uint64_t>(Bucket(b.prefill_tokens), 1023) : 0;
  const uint64_t pp = b.prefill_past > 0 ? std::min<uint64_t>(Bucket(b.prefill_past), 1023) : 0;
  const uint64_t ds = std::min(b.decode_seqs, 65535);
  const uint64_t dc = b.decode_seqs > 0 ? std::min<uint64_t>(Bucket(b.decode_ctx), 1023) : 0;
  const uint64_t lg = b.prefill_seqs > 0 && b.logits_for_prefill ? 1 : 0;
  const uint64_t key = ps | pt << 12 | pp << 22 | ds << 32 | dc << 48 | lg << 58;
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  StepBatch q;
  q.prefill_seqs = static_cast<int>(ps);
  q.prefill_tokens = pt ? std::max(static_cast<int>(ps), static_cast<int>(std::lround(Unbucket(pt)))) : 0;
  q.prefill_past = pp ? static_cast<int>(std::lround(Unbucket(pp))) : 0;
  q.decode_seqs = static_cast<int>(ds);
  q.decode_ctx = dc ? Unbucket(dc) : 0;
  q.logits_for_prefill = lg != 0;
  // Speculative decoding: the engine's step verifies 1 + drafts tokens per decode sequence (drafting
  // included) and gains TokensPerStep() tokens. The scheduler advances one token per step, so the
  // decode part of a step is charged per token gained (mean TPOT and throughput exact; ITL smoothed).
  const double tokens_per_step = engine_.speculative().TokensPerStep();
  auto ms = engine_.StepLatencyMs(split_, q);
  double v = 1.0;
  if (ms.ok()) {
    double dec = 0;
    if (q.prefill_seqs > 0 && q.decode_seqs > 0) {
      StepBatch d = q;
      d.prefill_seqs = d.prefill_tokens = d.prefill_past = 0;
      auto dm = engine_.StepLatencyMs(split_, d);
      if (dm.ok()) dec = std::min(*dm, *ms);
    } else if (q.prefill_seqs == 0) {
      dec = *ms;
    }
    v = decode_scale_ * dec / tokens_per_step + prefill_scale_ * (*ms - dec);
  } else if (status_.ok()) {
    status_ = ms.status();
  }
  cache_.emplace(key, v);
  return v;
}

Result<SimResult> SimulateAgg(const PerfEngine& engine, const ParallelSplit& split, int concurrency, int isl, int osl,
                              int max_num_tokens, const SimOptions& options) {
  if (concurrency < 1 && options.rate_rps <= 0) return Status::InvalidArgument("sim: concurrency must be >= 1");
  DYPROF_RETURN_IF_ERROR(options.admission.Validate(engine.backend()));
  DYPROF_ASSIGN_OR_RETURN(Built b, BuildEngine(engine, split, concurrency, isl, osl, max_num_tokens, options));
  b.cfg.recv_interval_iters = options.admission.recv_interval_iters;
  b.cfg.adp_balance_timeout_iters = options.admission.adp_balance_timeout_iters;
  const SimDefaults sd = SimDefaults::For(engine.backend());
  PerfStepCost cost(engine, split, options.prefill_scale >= 0 ? options.prefill_scale : sd.prefill_scale,
                    options.decode_scale >= 0 ? options.decode_scale : sd.decode_scale);
  Workload w = MakeWorkload(engine, concurrency, isl, osl, options, /*disagg=*/false);
  DYPROF_RETURN_IF_ERROR(CheckWorkloadSize(w));
  DYPROF_RETURN_IF_ERROR(CheckSteps(EstimatedSteps(b.cfg, 1, w, true, true), options));
  DYPROF_ASSIGN_OR_RETURN(SimResult r, SimulateEngine(b.cfg, cost, w));
  DYPROF_RETURN_IF_ERROR(cost.status());
  return r;
}

double KvTransferMs(const PerfEngine& engine, const DisaggConfig& c, int isl) {
  const double per_token = KvBytesPerToken(engine.model(), ParallelSplit{});
  const SystemSpec& s = engine.system();
  const int gpus = c.prefill_split.NumGpus() * c.prefill_workers + c.decode_split.NumGpus() * c.decode_workers;
  const int domain = s.nvlink_domain_gpus > 0 ? s.nvlink_domain_gpus : 8;
  double bw = gpus <= domain ? s.intra_node_bw_bytes_per_s : s.inter_node_bw_bytes_per_s;
  if (bw <= 0) bw = 25e9;
  const double senders = std::max(1, c.prefill_split.tp * c.prefill_split.pp);
  return 1.0 + per_token * isl / (bw * senders) * 1e3;
}

Result<SimResult> SimulateDisagg(const PerfEngine& engine, const DisaggConfig& c, int concurrency, int isl, int osl,
                                 int max_num_tokens, const SimOptions& options) {
  if (concurrency < 1 && options.rate_rps <= 0) return Status::InvalidArgument("sim: concurrency must be >= 1");
  if (c.prefill_workers < 1 || c.decode_workers < 1) return Status::InvalidArgument("sim: worker counts must be >= 1");
  if (static_cast<int64_t>(c.prefill_workers) + c.decode_workers > kMaxSimulatedWorkers) {
    return Status::InvalidArgument(fmt::format(
        "scheduler simulation: {} prefill + {} decode workers is above its limit of {} workers (the closed-form "
        "latency model has no such limit)",
        c.prefill_workers, c.decode_workers, kMaxSimulatedWorkers));
  }
  const int per_p = (std::max(concurrency, 1) + c.prefill_workers - 1) / c.prefill_workers;
  const int per_d = (std::max(concurrency, 1) + c.decode_workers - 1) / c.decode_workers;
  DYPROF_ASSIGN_OR_RETURN(Built p, BuildEngine(engine, c.prefill_split, per_p, isl, osl, max_num_tokens, options));
  SimOptions decode_options = options;
  if (options.decode_max_num_seqs > 0) decode_options.max_num_seqs = options.decode_max_num_seqs;
  DYPROF_ASSIGN_OR_RETURN(Built d,
                          BuildEngine(engine, c.decode_split, per_d, isl, osl, max_num_tokens, decode_options));
  DisaggEngines de;
  de.prefill = p.cfg;
  de.prefill_workers = c.prefill_workers;
  de.decode = d.cfg;
  de.decode_workers = c.decode_workers;
  de.kv_transfer_ms = KvTransferMs(engine, c, isl);
  const SimDefaults sd = SimDefaults::For(engine.backend());
  const double ps = options.prefill_scale >= 0 ? options.prefill_scale : sd.disagg_prefill_scale;
  const double ds = sd.DisaggDecodeScale(engine.system().sm_version, options.decode_scale);
  PerfStepCost pc(engine, c.prefill_split, ps, ds), dc(engine, c.decode_split, ps, ds);
  Workload w = MakeWorkload(engine, concurrency, isl, osl, options, /*disagg=*/true);
  DYPROF_RETURN_IF_ERROR(CheckWorkloadSize(w));
  DYPROF_RETURN_IF_ERROR(CheckSteps(EstimatedSteps(p.cfg, c.prefill_workers, w, true, false) +
                                        EstimatedSteps(d.cfg, c.decode_workers, w, false, true),
                                    options));
  DYPROF_ASSIGN_OR_RETURN(SimResult r, SimulateDisaggEngines(de, pc, dc, w));
  DYPROF_RETURN_IF_ERROR(pc.status());
  DYPROF_RETURN_IF_ERROR(dc.status());
  return r;
}

Result<WorkerCounts> DeriveWorkerCounts(const PerfEngine& engine, const DisaggConfig& c, int concurrency, int isl,
                                        int osl, int max_num_tokens, int decode_max_batch, double decode_scale_override) {
  DYPROF_RETURN_IF_ERROR(engine.CheckSplit(c.prefill_split));
  DYPROF_RETURN_IF_ERROR(engine.CheckSplit(c.decode_split));
  const SimDefaults def = SimDefaults::For(engine.backend());
  const int ranks = c.decode_split.dp * c.decode_split.pp;
  const double ctx = isl + osl / 2.0;
  // The simulation's own step costs (fitted scales included), so the counts match what it simulates.
  const double decode_scale = def.DisaggDecodeScale(engine.system().sm_version, decode_scale_override);
  PerfStepCost dcost(engine, c.decode_split, def.disagg_prefill_scale, decode_scale);
  PerfStepCost pcost(engine, c.prefill_split, def.disagg_prefill_scale, decode_scale);
  auto decode_ms = [&](int b) -> Result<double> {
    StepBatch s;
    s.decode_seqs = b;
    s.decode_ctx = ctx;
    double v = dcost.StepMs(s);
    DYPROF_RETURN_IF_ERROR(dcost.status());
    return v;
  };
  WorkerCounts w;
  const int n = std::max(1, concurrency);
  // Decode side: how the benchmarked deployments were sized. Over the 199 disagg rows of train.csv
  // that record worker counts, total decode DP ranks (workers × dp) = 2.569 · concurrency^0.094 ·
  // dp^0.518 (log-space least squares, ×1.34 median residual, ×1.33 leaving one model × system out;
  // tools/fit_serving/fit_workers.py): wide attention-DP workers were deployed one or two at a time
  // whatever the load, tensor-parallel ones several at a time; batches grew with the load.
  const double total_ranks = kCorpusDecodeRanksCoef * std::pow(static_cast<double>(n), kCorpusDecodeRanksConcExp) *
                             std::pow(static_cast<double>(c.decode_split.dp), kCorpusDecodeRanksDpExp);
  w.decode_workers = std::max(1, static_cast<int>(std::lround(total_ranks / ranks)));
  // ... and never fewer than hold the load: the measured TTFTs of those rows show no wait for a
  // decode slot, so each DP rank held its share within its sequence limit and KV pool.
  EngineLimits lim;
  lim.max_model_len = isl + osl;
  lim.max_num_tokens = DefaultBudget(engine, max_num_tokens);
  const int max_seqs = decode_max_batch > 0 ? decode_max_batch : def.max_num_seqs;
  lim.max_batch_size = std::max(1, std::min(max_seqs, n));
  // (A given decode max batch seats the users even where the memory model says the split does not fit.)
  int64_t seqs_per_rank = decode_max_batch;
  if (auto mem = engine.Memory(c.decode_split, lim); mem.ok() && mem->fits) {
    const int64_t kv_per_rank = mem->max_kv_tokens / std::max(1, c.decode_split.pp);
    seqs_per_rank = std::min<int64_t>(max_seqs, kv_per_rank / std::max(1, isl + osl));
  }
  if (seqs_per_rank >= 1) {
    const int64_t needed_ranks = (n + seqs_per_rank - 1) / seqs_per_rank;
    w.decode_workers = std::max<int64_t>(w.decode_workers, (needed_ranks + ranks - 1) / ranks);
  }
  const int batch = std::max(1, (n + ranks * w.decode_workers - 1) / (ranks * w.decode_workers));
  DYPROF_ASSIGN_OR_RETURN(double tb, decode_ms(batch));
  // Decode side: every rank completes `batch` requests per osl steps.
  const double decode_rps = static_cast<double>(ranks) * w.decode_workers * batch * 1000.0 / (tb * std::max(osl, 1));
  // Prefill side: full token-budget steps.
  const int budget = DefaultBudget(engine, max_num_tokens);
  const int per_step = std::max(1, budget / std::max(isl, 1));
  StepBatch ps;
  ps.prefill_seqs = per_step;
  ps.prefill_tokens = per_step * std::min(isl, budget);
  const double tp = pcost.StepMs(ps);
  DYPROF_RETURN_IF_ERROR(pcost.status());
  const double chunks = std::ceil(static_cast<double>(isl) / budget);
  const double prefill_rps =
      static_cast<double>(per_step) * c.prefill_split.dp * c.prefill_split.pp * 1000.0 / (tp * chunks);
  w.prefill_workers = std::max(1, static_cast<int>(std::ceil(decode_rps / prefill_rps - 1e-9)));
  w.decode_batch = batch;
  return w;
}

}  // namespace dyprof

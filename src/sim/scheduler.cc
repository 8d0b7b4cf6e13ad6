#include "sim/scheduler.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>
#include <random>

#include <fmt/format.h>

namespace dyprof {

std::string_view SchedPolicyName(SchedPolicy p) {
  switch (p) {
    case SchedPolicy::kVllm: return "vllm";
    case SchedPolicy::kSglang: return "sglang";
    case SchedPolicy::kTrtllm: return "trtllm";
  }
  return "vllm";
}

SchedPolicy PolicyForBackend(Backend b) {
  switch (b) {
    case Backend::kSglang: return SchedPolicy::kSglang;
    case Backend::kTrtllm:
    case Backend::kAuto: return SchedPolicy::kTrtllm;
    case Backend::kVllm: return SchedPolicy::kVllm;
  }
  return SchedPolicy::kVllm;
}

Metrics SimResult::ToMetrics(int osl, int num_gpus, bool median) const {
  Metrics m;
  m.ttft_ms = median ? ttft_ms.p50 : ttft_ms.mean;
  m.tpot_ms = osl > 1 ? (median ? tpot_ms.p50 : tpot_ms.mean) : 0;
  m.request_latency_ms = median ? e2e_ms.p50 : e2e_ms.mean;
  m.tokens_per_s = output_tokens_per_s;
  m.num_gpus = num_gpus;
  m.tokens_per_s_per_gpu = num_gpus > 0 ? output_tokens_per_s / num_gpus : 0;
  m.tokens_per_s_per_user = m.tpot_ms > 0 ? 1000.0 / m.tpot_ms : 0;
  m.request_rate = request_rate;
  m.concurrency = achieved_concurrency;
  return m;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Req {
  int isl = 0, osl = 0, user = -1;
  bool warm = false;
  double arrival = 0, first_sched = -1, first_token = -1, finish = -1;
  int prompt = 0;       // tokens to compute before the next token (isl, or isl+gen after preemption)
  int ctx = 0;          // tokens whose KV is in the cache
  int gen = 0;          // output tokens produced
  int64_t blocks = 0;   // KV blocks held
  int rank = -1;
  bool prefilled = false;  // arrived at a decode worker with its prompt computed
};

// Log-spaced histogram for per-token ITL (weighted) percentiles: 0.5 % resolution.
class Histogram {
 public:
  void Add(double v, double w) {
    if (w <= 0) return;
    sum_ += v * w;
    n_ += w;
    int b = v <= kMin ? 0 : std::min(kBins - 1, static_cast<int>(std::log(v / kMin) / kStep) + 1);
    bins_[b] += w;
  }
  Dist Get() const {
    Dist d;
    if (n_ <= 0) return d;
    d.mean = sum_ / n_;
    d.p50 = Quantile(0.5);
    d.p90 = Quantile(0.9);
    d.p99 = Quantile(0.99);
    return d;
  }

 private:
  static constexpr int kBins = 4096;
  static constexpr double kMin = 1e-3, kStep = 0.005;
  double Quantile(double q) const {
    double target = q * n_, acc = 0;
    for (int b = 0; b < kBins; ++b) {
      acc += bins_[b];
      if (acc >= target) return b == 0 ? kMin : kMin * std::exp((b - 0.5) * kStep);
    }
    return kMin * std::exp(kBins * kStep);
  }
  std::vector<double> bins_ = std::vector<double>(kBins, 0.0);
  double sum_ = 0, n_ = 0;
};

Dist Summarise(std::vector<double> v) {
  Dist d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += x;
  d.mean = s / v.size();
  auto q = [&](double p) {
    double pos = p * (v.size() - 1);
    size_t i = static_cast<size_t>(pos);
    double f = pos - i;
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
  };
  d.p50 = q(0.5);
  d.p90 = q(0.9);
  d.p99 = q(0.99);
  return d;
}

enum class EvKind { kArrive, kDeliver };
struct Event {
  double t;
  int64_t seq;  // FIFO among equal times
  EvKind kind;
  int req;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

// Output of one engine step: requests that finished their prompt on a prefill-only worker, and
// requests that completed.
struct StepOut {
  std::vector<int> prefill_done;
  std::vector<int> finished;
};

struct Shared {
  std::vector<Req> reqs;
  Histogram itl;
  int64_t steps = 0, ff_steps = 0, preemptions = 0, prefill_tokens = 0, peak_kv = 0;
  double decode_batch_sum = 0;
  int64_t decode_batch_steps = 0;
  SimTrace* trace = nullptr;
};

class Engine {
 public:
  Engine(const EngineConfig& c, StepCost* cost, Shared* sh, int id, bool prefill_only)
      : c_(c), cost_(cost), sh_(sh), id_(id), prefill_only_(prefill_only), ranks_(std::max(1, c.ranks)) {}

  double free_at = 0;

  bool HasWork() const { return load_ > 0; }
  int Load() const { return load_; }

  void Submit(int q) {
    ++load_;
    if (c_.recv_interval_iters > 1 && Busy()) {
      inbox_.push_back(q);  // taken at the next polling iteration
      return;
    }
    TakeInbox();  // an idle scheduler polls at once, earlier arrivals first
    Place(q);
  }

  // Runs one iteration (or a fast-forwarded run of decode-only iterations ending at the first
  // boundary at or after `horizon`) starting at `now`. Returns the end time.
  double Step(double now, double horizon, StepOut* out) {
    if (recv_weight_ >= c_.recv_interval_iters || !Busy()) TakeInbox();
    hold_contexts_ = AdpHold();
    // A run never starts with a context waiting (FastForward refuses), so a hold cannot be skipped.
    if (c_.fast_forward && !prefill_only_) {
      double end = FastForward(now, horizon, out);
      if (end >= 0) return end;
    }
    double dur = 0;
    int decode_total = 0;
    bool prefill = false;
    for (size_t r = 0; r < ranks_.size(); ++r) {
      Form(ranks_[r]);
      StepBatch& b = ranks_[r].batch;
      if (b.prefill_seqs > 0 || b.decode_seqs > 0) dur = std::max(dur, cost_->StepMs(b));
      decode_total += b.decode_seqs;
      prefill = prefill || b.prefill_tokens > 0;
      if (b.decode_seqs > 0) {
        sh_->decode_batch_sum += b.decode_seqs;
        ++sh_->decode_batch_steps;
      }
    }
    const double end = now + dur;
    if (sh_->trace) sh_->trace->steps.push_back({id_, now, dur, 1, ranks_[0].batch});
    sh_->itl.Add(dur, decode_total);
    ++sh_->steps;
    recv_weight_ = prefill ? c_.recv_interval_iters : recv_weight_ + 1;
    for (auto& rk : ranks_) Apply(rk, now, end, out);
    Track();
    return end;
  }

 private:
  // Whether any rank holds a request (running or waiting); the inbox does not count.
  bool Busy() const {
    for (const auto& rk : ranks_) {
      if (!rk.waiting.empty() || !rk.running.empty()) return true;
    }
    return false;
  }

  // TensorRT-LLM's attention-DP balance for this iteration (EngineConfig): true = hold new contexts.
  bool AdpHold() {
    if (c_.adp_balance_timeout_iters <= 0 || ranks_.size() < 2) return false;
    bool all_contexts = true, all_running = true;
    for (const auto& rk : ranks_) {
      bool context = false;
      for (int q : rk.waiting) context = context || !R(q).prefilled;
      all_contexts = all_contexts && context && static_cast<int>(rk.running.size()) < c_.max_num_seqs;
      all_running = all_running && !rk.running.empty();
    }
    if (all_contexts) {
      adp_held_iters_ = 0;
      return false;
    }
    if (++adp_held_iters_ >= c_.adp_balance_timeout_iters || !all_running) {
      adp_held_iters_ = 0;
      return false;
    }
    return true;
  }

  // A poll of the input queue: every request in the inbox enters a rank; the weight restarts.
  void TakeInbox() {
    for (int q : inbox_) Place(q);
    inbox_.clear();
    recv_weight_ = 0;
  }

  void Place(int q) {
    int best = 0;
    size_t best_load = SIZE_MAX;
    for (size_t i = 0; i < ranks_.size(); ++i) {
      size_t l = ranks_[i].waiting.size() + ranks_[i].running.size();
      if (l < best_load) {
        best_load = l;
        best = static_cast<int>(i);
      }
    }
    R(q).rank = best;
    ranks_[best].waiting.push_back(q);
  }

  struct Item {
    int req;
    int tokens;  // prompt tokens this step; 0 = decode
  };
  struct Rank {
    std::deque<int> waiting;
    std::vector<int> running;  // admission order
    int64_t used = 0;
    std::vector<Item> items;
    StepBatch batch;
  };

  Req& R(int q) { return sh_->reqs[q]; }
  const Req& R(int q) const { return sh_->reqs[q]; }
  int64_t Blocks(int64_t tokens) const { return (tokens + c_.block_size - 1) / c_.block_size; }
  bool Limited() const { return c_.kv_blocks > 0; }
  int64_t Free(const Rank& rk) const { return Limited() ? c_.kv_blocks - rk.used : std::numeric_limits<int64_t>::max() / 4; }

  // Grows q's allocation to cover `tokens`; false when the rank has too few free blocks.
  bool Grow(Rank& rk, Req& q, int64_t tokens) {
    int64_t need = Blocks(tokens) - q.blocks;
    if (need <= 0) return true;
    if (need > Free(rk)) return false;
    q.blocks += need;
    rk.used += need;
    return true;
  }
  void Release(Rank& rk, Req& q) {
    rk.used -= q.blocks;
    q.blocks = 0;
  }
  // Preempts (recompute) the newest running request that is not scheduled this step.
  void Preempt(Rank& rk, int victim_pos) {
    int v = rk.running[victim_pos];
    Req& q = R(v);
    Release(rk, q);
    q.prompt = q.isl + q.gen;  // recompute prompt and generated tokens
    q.ctx = 0;
    q.prefilled = false;
    rk.running.erase(rk.running.begin() + victim_pos);
    rk.waiting.push_front(v);
    ++sh_->preemptions;
  }

  void AddPrefill(Rank& rk, int q, int n) {
    Req& r = R(q);
    rk.items.push_back({q, n});
    StepBatch& b = rk.batch;
    b.prefill_past = (b.prefill_past * b.prefill_seqs + r.ctx) / (b.prefill_seqs + 1);
    ++b.prefill_seqs;
    b.prefill_tokens += n;
    if (r.ctx + n >= r.prompt) b.logits_for_prefill = true;
  }
  void AddDecode(Rank& rk, int q) {
    Req& r = R(q);
    rk.items.push_back({q, 0});
    StepBatch& b = rk.batch;
    b.decode_ctx = (b.decode_ctx * b.decode_seqs + r.ctx + 1) / (b.decode_seqs + 1);
    ++b.decode_seqs;
  }
  int64_t ReserveFor(const Rank& rk) const {  // kSglang: KV kept back for the running requests' output
    double s = 0;
    for (int q : rk.running) s += R(q).osl - R(q).gen;
    return static_cast<int64_t>(std::ceil(c_.reserve_ratio * s / c_.block_size));
  }

  void Form(Rank& rk) {
    rk.items.clear();
    rk.batch = StepBatch{};
    rk.batch.logits_for_prefill = false;
    switch (c_.policy) {
      case SchedPolicy::kVllm:
      case SchedPolicy::kTrtllm: FormDecodeFirst(rk); break;
      case SchedPolicy::kSglang: FormPrefillFirst(rk); break;
    }
  }

  void FormDecodeFirst(Rank& rk) {
    const bool trt = c_.policy == SchedPolicy::kTrtllm;
    int budget = c_.max_num_tokens;
    bool preempted = false;
    for (size_t i = 0; i < rk.running.size() && budget > 0;) {
      int q = rk.running[i];
      Req& r = R(q);
      const bool prefill = r.ctx < r.prompt;
      const int n = prefill ? std::min(r.prompt - r.ctx, budget) : 1;
      if (!trt && !Grow(rk, r, r.ctx + n)) {
        // Out of KV: preempt the newest running request (possibly this one) and retry.
        preempted = true;
        int victim = static_cast<int>(rk.running.size()) - 1;
        Preempt(rk, victim);
        if (victim == static_cast<int>(i)) break;
        continue;
      }
      if (trt && !Grow(rk, r, r.ctx + n)) break;  // cannot happen: reserved at admission
      if (prefill) {
        AddPrefill(rk, q, n);
      } else {
        AddDecode(rk, q);
      }
      budget -= n;
      ++i;
    }
    if (preempted) return;
    while (!rk.waiting.empty() && budget > 0 && static_cast<int>(rk.running.size()) < c_.max_num_seqs) {
      int q = rk.waiting.front();
      Req& r = R(q);
      if (r.prefilled) {  // decode worker: KV arrives complete
        int64_t tokens = trt ? r.isl + r.osl : r.ctx + 1;
        if (!Grow(rk, r, tokens)) break;
        rk.waiting.pop_front();
        rk.running.push_back(q);
        AddDecode(rk, q);
        budget -= 1;
        continue;
      }
      if (hold_contexts_) break;  // attention-DP balance: contexts wait (AdpHold)
      const int rest = r.prompt - r.ctx;
      int n = std::min(rest, budget);
      if (trt && rest > n && rest <= c_.max_num_tokens) break;  // whole context must fit the budget
      int64_t tokens = trt ? r.isl + r.osl : r.ctx + n;
      if (!Grow(rk, r, tokens)) break;
      rk.waiting.pop_front();
      rk.running.push_back(q);
      AddPrefill(rk, q, n);
      budget -= n;
    }
  }

  void FormPrefillFirst(Rank& rk) {
    int budget = c_.max_num_tokens;
    // A chunked request in progress continues first.
    for (int q : rk.running) {
      Req& r = R(q);
      if (r.ctx < r.prompt && budget > 0) {
        int n = std::min(r.prompt - r.ctx, budget);
        if (!Grow(rk, r, r.ctx + n)) break;
        AddPrefill(rk, q, n);
        budget -= n;
      }
    }
    const int64_t reserve = ReserveFor(rk);
    while (!rk.waiting.empty() && budget > 0 && static_cast<int>(rk.running.size()) < c_.max_num_seqs) {
      int q = rk.waiting.front();
      Req& r = R(q);
      if (r.prefilled) break;  // decode worker: admitted in the decode step below
      int n = std::min(r.prompt - r.ctx, budget);
      if (Limited() && Blocks(r.ctx + n) - r.blocks + reserve > Free(rk)) break;
      if (!Grow(rk, r, r.ctx + n)) break;
      rk.waiting.pop_front();
      rk.running.push_back(q);
      AddPrefill(rk, q, n);
      budget -= n;
    }
    if (!rk.items.empty()) return;
    // Decode step: admit arrived KV (decode worker), then every running request decodes one token.
    while (!rk.waiting.empty() && R(rk.waiting.front()).prefilled &&
           static_cast<int>(rk.running.size()) < c_.max_num_seqs) {
      int q = rk.waiting.front();
      if (!Grow(rk, R(q), R(q).ctx + 1)) break;
      rk.waiting.pop_front();
      rk.running.push_back(q);
    }
    for (size_t i = 0; i < rk.running.size();) {
      int q = rk.running[i];
      Req& r = R(q);
      if (r.ctx < r.prompt) {  // a chunk that could not grow this step
        ++i;
        continue;
      }
      if (!Grow(rk, r, r.ctx + 1)) {  // retract the newest request
        int victim = static_cast<int>(rk.running.size()) - 1;
        Preempt(rk, victim);
        if (victim == static_cast<int>(i)) break;
        continue;
      }
      AddDecode(rk, q);
      ++i;
    }
  }

  void Finish(Rank& rk, int q, double end, StepOut* out) {
    Req& r = R(q);
    r.finish = end;
    Release(rk, r);
    out->finished.push_back(q);
    --load_;
  }

  void Apply(Rank& rk, double now, double end, StepOut* out) {
    bool removed = false;
    for (const Item& it : rk.items) {
      Req& r = R(it.req);
      if (r.first_sched < 0) r.first_sched = now;
      if (it.tokens > 0) {
        r.ctx += it.tokens;
        sh_->prefill_tokens += it.tokens;
        if (r.ctx < r.prompt) continue;
        ++r.gen;  // the prompt's last chunk samples a token
        if (prefill_only_) {
          Release(rk, r);
          out->prefill_done.push_back(it.req);
          --load_;
          r.rank = -2;  // leaves this worker
          removed = true;
          continue;
        }
        if (r.first_token < 0) r.first_token = end;
      } else {
        ++r.ctx;
        ++r.gen;
        if (r.prefilled && r.first_token < 0) r.first_token = now;  // disagg: first token streams at admission
      }
      if (r.gen >= r.osl) {
        Finish(rk, it.req, end, out);
        r.rank = -2;
        removed = true;
      }
    }
    if (removed) {
      rk.running.erase(std::remove_if(rk.running.begin(), rk.running.end(), [&](int q) { return R(q).rank == -2; }),
                       rk.running.end());
    }
  }

  void Track() {
    for (const auto& rk : ranks_) sh_->peak_kv = std::max(sh_->peak_kv, rk.used);
    if (sh_->trace && id_ == 0) sh_->trace->kv_used.push_back(ranks_[0].used);
  }

  // A run of decode-only steps while nothing can change the batch: no prompt work and no admissible
  // waiting request in any rank, ending at the first completion, at KV block exhaustion or at the
  // first step boundary at or after `horizon`. Returns −1 when not applicable.
  double FastForward(double now, double horizon, StepOut* out) {
    int64_t k_max = std::numeric_limits<int64_t>::max();
    int total = 0;
    for (auto& rk : ranks_) {
      if (!rk.waiting.empty() && static_cast<int>(rk.running.size()) < c_.max_num_seqs) return -1;
      for (int q : rk.running) {
        const Req& r = R(q);
        if (r.ctx < r.prompt || (r.prefilled && r.first_token < 0)) return -1;
        k_max = std::min<int64_t>(k_max, r.osl - r.gen);
      }
      const int n = static_cast<int>(rk.running.size());
      total += n;
      if (Limited() && n > 0 && c_.policy != SchedPolicy::kTrtllm) {
        // Each sequence needs at most ceil(K / block) + 1 more blocks over K steps.
        int64_t free = Free(rk);
        int64_t per_seq = free / n - 1;
        if (per_seq < 1) return -1;
        k_max = std::min<int64_t>(k_max, per_seq * c_.block_size);
      }
    }
    // With requests in the inbox the run ends where the next poll falls.
    if (!inbox_.empty()) k_max = std::min<int64_t>(k_max, c_.recv_interval_iters - recv_weight_);
    if (total == 0 || k_max < 2) return -1;
    // Mean KV length per rank after the first step's write; grows by one per step.
    std::vector<double> base(ranks_.size(), 0);
    for (size_t i = 0; i < ranks_.size(); ++i) {
      double s = 0;
      for (int q : ranks_[i].running) s += R(q).ctx + 1;
      base[i] = ranks_[i].running.empty() ? 0 : s / ranks_[i].running.size();
    }
    double t = now;
    int64_t k = 0;
    StepBatch b;
    b.logits_for_prefill = false;
    while (k < k_max) {
      double dur = 0;
      for (size_t i = 0; i < ranks_.size(); ++i) {
        const int n = static_cast<int>(ranks_[i].running.size());
        if (n == 0) continue;
        b.decode_seqs = n;
        b.decode_ctx = base[i] + k;
        dur = std::max(dur, cost_->StepMs(b));
        if (k == 0) {
          sh_->decode_batch_sum += n;
          ++sh_->decode_batch_steps;
        }
      }
      sh_->itl.Add(dur, total);
      if (sh_->trace) {
        StepBatch b0;
        b0.logits_for_prefill = false;
        b0.decode_seqs = static_cast<int>(ranks_[0].running.size());
        b0.decode_ctx = ranks_[0].running.empty() ? 0 : base[0] + k;
        sh_->trace->steps.push_back({id_, t, dur, 1, b0});
      }
      t += dur;
      ++k;
      if (t >= horizon) break;
    }
    // Steps after the first of a run carry the same batch size (counted for the mean batch).
    for (size_t i = 0; i < ranks_.size(); ++i) {
      const int n = static_cast<int>(ranks_[i].running.size());
      if (n > 0) {
        sh_->decode_batch_sum += static_cast<double>(n) * (k - 1);
        sh_->decode_batch_steps += k - 1;
      }
    }
    sh_->steps += k;
    sh_->ff_steps += k;
    // The receive weight after k decode iterations, polls (of an empty inbox) restarting it at N.
    if (c_.recv_interval_iters > 1) {
      recv_weight_ = static_cast<int>((recv_weight_ + k - 1) % c_.recv_interval_iters) + 1;
    }
    // The balance counter of the run's other k − 1 iterations: no rank had a context and the
    // running sets did not change, so with every rank running it counts up and restarts at the
    // timeout (AdpHold); otherwise it stays 0.
    const bool all_running =
        std::all_of(ranks_.begin(), ranks_.end(), [](const Rank& rk) { return !rk.running.empty(); });
    if (c_.adp_balance_timeout_iters > 0 && ranks_.size() > 1 && all_running) {
      adp_held_iters_ = static_cast<int>((adp_held_iters_ + k - 1) % c_.adp_balance_timeout_iters);
    }
    for (auto& rk : ranks_) {
      bool removed = false;
      for (int q : rk.running) {
        Req& r = R(q);
        if (r.first_sched < 0) r.first_sched = now;
        r.ctx += static_cast<int>(k);
        r.gen += static_cast<int>(k);
        if (c_.policy != SchedPolicy::kTrtllm) {
          int64_t need = Blocks(r.ctx) - r.blocks;
          r.blocks += need;
          rk.used += need;
        }
        if (r.gen >= r.osl) {
          Finish(rk, q, t, out);
          r.rank = -2;
          removed = true;
        }
      }
      if (removed) {
        rk.running.erase(std::remove_if(rk.running.begin(), rk.running.end(), [&](int q) { return R(q).rank == -2; }),
                         rk.running.end());
      }
    }
    Track();
    return t;
  }

  EngineConfig c_;
  StepCost* cost_;
  Shared* sh_;
  int id_;
  bool prefill_only_;
  std::vector<Rank> ranks_;
  int load_ = 0;  // requests in the inbox, waiting or running on this engine
  std::deque<int> inbox_;      // submitted, not yet taken by the scheduler (recv_interval_iters)
  int recv_weight_ = 0;        // weight of the iterations since the last poll
  int adp_held_iters_ = 0;     // consecutive iterations the attention-DP balance has held contexts
  bool hold_contexts_ = false;  // this iteration's AdpHold()
};

Status Validate(const EngineConfig& c) {
  for (auto [name, value] : {std::pair{"ranks", c.ranks}, std::pair{"max_num_tokens", c.max_num_tokens},
                              std::pair{"max_num_seqs", c.max_num_seqs}, std::pair{"block_size", c.block_size},
                              std::pair{"recv_interval_iters", c.recv_interval_iters}}) {
    if (value < 1) return Status::InvalidArgument(fmt::format("sim: {} must be >= 1, found {}", name, value));
  }
  if (c.kv_blocks < 0) return Status::InvalidArgument(fmt::format("sim: kv_blocks must be >= 0, found {}", c.kv_blocks));
  if (c.adp_balance_timeout_iters < 0) {
    return Status::InvalidArgument(
        fmt::format("sim: adp_balance_timeout_iters must be >= 0, found {}", c.adp_balance_timeout_iters));
  }
  return Status::Ok();
}

// The client: creates requests and answers completions with the next request of the same user.
class Client {
 public:
  Client(const Workload& w, Shared* sh) : w_(w), sh_(sh), rng_(w.seed) {}

  Status Check() const {
    if (w_.isl < 1 || w_.osl < 1) return Status::InvalidArgument("sim: isl and osl must be >= 1");
    if (w_.rate_rps > 0) {
      if (w_.num_requests < 1) return Status::InvalidArgument("sim: Poisson arrivals need num_requests >= 1");
    } else if (w_.users < 1 || w_.requests_per_user < 1 || w_.warmup_per_user < 0) {
      return Status::InvalidArgument("sim: closed loop needs users >= 1 and requests_per_user >= 1");
    }
    return Status::Ok();
  }

  // Initial arrivals.
  template <typename Push>
  void Start(Push push) {
    if (w_.rate_rps > 0) {
      std::exponential_distribution<double> gap(w_.rate_rps / 1000.0);
      double t = 0;
      for (int i = 0; i < w_.num_requests; ++i) {
        int q = New(-1, t, i < w_.warmup_requests);
        push(t, q);
        t += gap(rng_);
      }
      return;
    }
    sent_.assign(w_.users, 0);
    for (int u = 0; u < w_.users; ++u) {
      int q = New(u, 0, w_.warmup_per_user > 0);
      sent_[u] = 1;
      push(0.0, q);
    }
  }
  // The next request of the user whose request `q` completed at `t`, or −1.
  int Next(int q, double t) {
    int u = sh_->reqs[q].user;
    if (u < 0) return -1;
    if (sent_[u] >= w_.warmup_per_user + w_.requests_per_user) return -1;
    bool warm = sent_[u] < w_.warmup_per_user;
    ++sent_[u];
    return New(u, t, warm);
  }

 private:
  int Draw(int mean, double spread) {
    if (spread <= 0) return mean;
    std::uniform_real_distribution<double> d(1 - spread, 1 + spread);
    return std::max(1, static_cast<int>(std::lround(mean * d(rng_))));
  }
  int New(int user, double t, bool warm) {
    Req r;
    r.user = user;
    r.warm = warm;
    r.arrival = t;
    r.isl = Draw(w_.isl, w_.isl_spread);
    r.osl = Draw(w_.osl, w_.osl_spread);
    r.prompt = r.isl;
    sh_->reqs.push_back(r);
    return static_cast<int>(sh_->reqs.size()) - 1;
  }
  Workload w_;
  Shared* sh_;
  std::mt19937_64 rng_;
  std::vector<int> sent_;
};

SimResult Collect(const Shared& sh, const Workload& w, double end) {
  SimResult s;
  std::vector<double> ttft, tpot, e2e, queue;
  double first = kInf, last = 0, e2e_sum = 0;
  int64_t out_tokens = 0;
  const double ov = w.request_overhead_ms;
  for (const Req& r : sh.reqs) {
    if (r.finish < 0) continue;
    s.tokens_in += r.isl;
    s.tokens_out += r.gen;
    if (r.warm) continue;
    ++s.requests_measured;
    const double t1 = r.first_token - r.arrival + ov;
    const double e = r.finish - r.arrival + ov;
    ttft.push_back(t1);
    e2e.push_back(e);
    queue.push_back(std::max(0.0, r.first_sched - r.arrival));
    if (r.osl > 1) tpot.push_back((e - t1) / (r.osl - 1));
    first = std::min(first, r.arrival);
    last = std::max(last, r.finish + ov);
    e2e_sum += e;
    out_tokens += r.gen;
  }
  s.requests_total = static_cast<int>(sh.reqs.size());
  s.ttft_ms = Summarise(ttft);
  s.tpot_ms = Summarise(tpot);
  s.e2e_ms = Summarise(e2e);
  s.queue_ms = Summarise(queue);
  s.itl_ms = sh.itl.Get();
  s.duration_ms = last > first ? last - first : 0;
  if (s.duration_ms > 0) {
    s.output_tokens_per_s = out_tokens * 1000.0 / s.duration_ms;
    s.request_rate = s.requests_measured * 1000.0 / s.duration_ms;
    s.achieved_concurrency = e2e_sum / s.duration_ms;
  }
  s.sim_end_ms = end;
  s.steps = sh.steps;
  s.fast_forwarded_steps = sh.ff_steps;
  s.preemptions = sh.preemptions;
  s.prefill_tokens_computed = sh.prefill_tokens;
  s.peak_kv_blocks = sh.peak_kv;
  s.mean_decode_batch = sh.decode_batch_steps > 0 ? sh.decode_batch_sum / sh.decode_batch_steps : 0;
  return s;
}

// The event loop over engines and external events (arrivals, KV deliveries).
Result<SimResult> Run(std::vector<Engine>& prefill, std::vector<Engine>& decode, double transfer_ms, Shared& sh,
                      const Workload& w) {
  Client client(w, &sh);
  DYPROF_RETURN_IF_ERROR(client.Check());
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> ev;
  int64_t seq = 0;
  client.Start([&](double t, int q) { ev.push({t, seq++, EvKind::kArrive, q}); });
  std::vector<Engine*> all;
  for (auto& e : prefill) all.push_back(&e);
  for (auto& e : decode) all.push_back(&e);
  auto least = [](std::vector<Engine>& v) {
    Engine* best = &v[0];
    for (auto& e : v) {
      if (e.Load() < best->Load()) best = &e;
    }
    return best;
  };
  StepOut out;
  double now = 0;
  const int64_t step_limit = 200'000'000;
  while (true) {
    double t_ev = ev.empty() ? kInf : ev.top().t;
    Engine* next = nullptr;
    double t_eng = kInf;
    for (Engine* e : all) {
      if (e->HasWork() && e->free_at < t_eng) {
        t_eng = e->free_at;
        next = e;
      }
    }
    if (t_ev == kInf && !next) break;
    if (t_ev <= t_eng) {
      Event e = ev.top();
      ev.pop();
      now = e.t;
      Engine* target = e.kind == EvKind::kArrive ? least(prefill) : least(decode);
      if (!target->HasWork()) target->free_at = std::max(target->free_at, now);
      target->Submit(e.req);
      continue;
    }
    // Horizon: nothing can reach `next` before the earliest other pending event.
    double horizon = t_ev;
    for (Engine* e : all) {
      if (e != next && e->HasWork()) horizon = std::min(horizon, std::max(e->free_at, t_eng));
    }
    out.prefill_done.clear();
    out.finished.clear();
    double end = next->Step(t_eng, horizon, &out);
    next->free_at = end;
    now = end;
    for (int q : out.prefill_done) {
      Req& r = sh.reqs[q];
      if (r.gen >= r.osl) {  // a one-token request completes on the prefill worker
        r.first_token = r.finish = end;
        out.finished.push_back(q);
        continue;
      }
      r.prefilled = true;
      r.ctx = r.isl;
      r.prompt = r.isl;
      r.rank = -1;
      ev.push({end + transfer_ms, seq++, EvKind::kDeliver, q});
    }
    for (int q : out.finished) {
      int n = client.Next(q, end);
      if (n >= 0) ev.push({end + w.request_overhead_ms, seq++, EvKind::kArrive, n});
    }
    if (sh.steps > step_limit) return Status::Internal("sim: step limit exceeded (no progress?)");
  }
  for (const Req& r : sh.reqs) {
    if (r.finish < 0) return Status::Internal("sim: a request never completed (KV capacity below one request?)");
  }
  return Collect(sh, w, now);
}

}  // namespace

Result<SimResult> SimulateEngine(const EngineConfig& engine, StepCost& cost, const Workload& w, SimTrace* trace) {
  DYPROF_RETURN_IF_ERROR(Validate(engine));
  if (engine.kv_blocks > 0 && (w.isl + w.osl) * (1 + std::max(w.isl_spread, w.osl_spread)) >
                                  static_cast<double>(engine.kv_blocks) * engine.block_size) {
    return Status::Infeasible("sim: one request needs more KV than the engine holds");
  }
  Shared sh;
  sh.trace = trace;
  std::vector<Engine> engines;
  engines.emplace_back(engine, &cost, &sh, 0, false);
  std::vector<Engine> none;
  DYPROF_ASSIGN_OR_RETURN(SimResult r, Run(engines, none, 0, sh, w));
  r.kv_blocks_capacity = engine.kv_blocks;
  return r;
}

Result<SimResult> SimulateDisaggEngines(const DisaggEngines& d, StepCost& prefill_cost, StepCost& decode_cost,
                                        const Workload& w, SimTrace* trace) {
  DYPROF_RETURN_IF_ERROR(Validate(d.prefill));
  DYPROF_RETURN_IF_ERROR(Validate(d.decode));
  if (d.prefill_workers < 1 || d.decode_workers < 1) {
    return Status::InvalidArgument("sim: disagg needs at least one prefill and one decode worker");
  }
  for (const EngineConfig* c : {&d.prefill, &d.decode}) {
    if (c->kv_blocks > 0 && (w.isl + w.osl) * (1 + std::max(w.isl_spread, w.osl_spread)) >
                                static_cast<double>(c->kv_blocks) * c->block_size) {
      return Status::Infeasible("sim: one request needs more KV than a worker holds");
    }
  }
  Shared sh;
  sh.trace = trace;
  std::vector<Engine> p, dec;
  for (int i = 0; i < d.prefill_workers; ++i) p.emplace_back(d.prefill, &prefill_cost, &sh, i, true);
  for (int i = 0; i < d.decode_workers; ++i) dec.emplace_back(d.decode, &decode_cost, &sh, d.prefill_workers + i, false);
  DYPROF_ASSIGN_OR_RETURN(SimResult r, Run(p, dec, d.kv_transfer_ms, sh, w));
  r.prefill_workers = d.prefill_workers;
  r.decode_workers = d.decode_workers;
  r.kv_transfer_ms = d.kv_transfer_ms;
  r.kv_blocks_capacity = d.decode.kv_blocks;
  return r;
}

}  // namespace dyprof

// ParallelSplit: how one engine instance is split across GPUs. Every degree is >= 1.
// Conventions (AIC's): GPUs per engine = tp * pp * dp; for MoE layers moe_tp * moe_ep = tp * dp
// (the attention TP x attention-DP GPUs are re-split between expert TP and expert parallelism).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace dyprof {

struct ParallelSplit {
  int tp = 1;      // tensor parallel (attention / dense layers)
  int pp = 1;      // pipeline stages
  int dp = 1;      // attention data parallel (DP attention); 1 = none
  int moe_tp = 1;  // tensor parallel inside the expert MLPs
  int moe_ep = 1;  // expert parallel

  int NumGpus() const { return tp * pp * dp; }
  // The reference's label: "dep{moe_ep}" if moe_ep > 1, "tep{moe_tp}" if moe_tp > 1, else "tp{tp}".
  std::string Label() const {
    if (moe_ep > 1) return "dep" + std::to_string(moe_ep);
    if (moe_tp > 1) return "tep" + std::to_string(moe_tp);
    return "tp" + std::to_string(tp);
  }
  // A compact, unambiguous form for tables: "tp4pp1dp2etp1ep8".
  std::string ToString() const {
    return "tp" + std::to_string(tp) + "pp" + std::to_string(pp) + "dp" + std::to_string(dp) + "etp" +
           std::to_string(moe_tp) + "ep" + std::to_string(moe_ep);
  }
  friend bool operator==(const ParallelSplit&, const ParallelSplit&) = default;
};

// The largest engine (and deployment) this tool models: far above any real one, and low enough
// that GPU counts and their products with batch sizes stay inside `int`.
inline constexpr int64_t kMaxGpus = 65536;

// Every degree >= 1 and tp·pp·dp, moe_tp·moe_ep <= kMaxGpus (computed without overflow), so
// NumGpus() is safe to call afterwards. InvalidArgument naming the split otherwise.
inline Status CheckParallelLimits(const ParallelSplit& s) {
  if (s.tp < 1 || s.pp < 1 || s.dp < 1 || s.moe_tp < 1 || s.moe_ep < 1) {
    return Status::InvalidArgument("parallel split " + s.ToString() + ": every degree must be >= 1");
  }
  const int64_t gpus = int64_t{s.tp} * s.pp * s.dp, moe = int64_t{s.moe_tp} * s.moe_ep;
  if (gpus > kMaxGpus || moe > kMaxGpus) {
    return Status::InvalidArgument("parallel split " + s.ToString() + ": more than " + std::to_string(kMaxGpus) +
                                   " GPUs in one engine");
  }
  return Status::Ok();
}

// The split a command line's degrees describe. For an MoE model moe_tp / moe_ep of 0 are derived
// so that moe_tp·moe_ep = tp·dp (moe_ep from a given moe_tp, else 1; moe_tp from moe_ep), at least
// 1; a dense model gets 1 and 1. tp·dp is formed in 64 bits and clamped to int: degrees up to
// kMaxGpus each cannot overflow here, and a product beyond kMaxGpus fails CheckParallelLimits.
inline ParallelSplit SplitFromDegrees(int tp, int pp, int dp, int moe_tp, int moe_ep, bool moe) {
  ParallelSplit s{tp, pp, dp, 1, 1};
  if (!moe) return s;
  const int64_t attention_gpus = int64_t{tp} * dp;
  auto derived = [](int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, 1, INT32_MAX)); };
  s.moe_ep = moe_ep > 0 ? moe_ep : (moe_tp > 0 ? derived(attention_gpus / moe_tp) : 1);
  s.moe_tp = moe_tp > 0 ? moe_tp : derived(attention_gpus / s.moe_ep);
  return s;
}

}  // namespace dyprof

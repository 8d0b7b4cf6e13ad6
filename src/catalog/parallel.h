// ParallelSplit: how one engine instance is split across GPUs. Every degree is >= 1.
// Conventions (AIC's): GPUs per engine = tp * pp * dp; for MoE layers moe_tp * moe_ep = tp * dp
// (the attention TP x attention-DP GPUs are re-split between expert TP and expert parallelism).
#pragma once

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

}  // namespace dyprof

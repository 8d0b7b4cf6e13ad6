// Optional measured kernel tables (`--perf-db DIR`): the layout and columns of
// ../shared/data/perfdb/<system>/<backend>/*.csv.gz (aiconfigurator's tables). Covered ops use
// measured timings by interpolation; everything else falls back to the fitted roofline.
//   gemm_perf:            exact (dtype, n, k) site, linear interpolation over m (kernel sources
//                         averaged)
//   custom_allreduce_perf: per GPU count (graph replays), linear interpolation over message size
//   generation_attention_perf: exact (kv dtype, heads, kv heads, head dim, window=0) key, bilinear
//                         over (batch, kv length)
//   moe_perf:             exact (moe dtype, gated, hidden, inter, topk, experts, moe tp, moe ep) shape,
//                         routing distribution power_law_1.2 first (the fitted tables' preference),
//                         the fastest kernel source per token count, linear interpolation over tokens
// Below the smallest measured point the first latency holds; above the largest, latency grows in
// proportion (m, message size, batch and kv length, tokens).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace dyprof {

class PerfDb {
 public:
  // Reads DIR/<backend>/{gemm_perf,custom_allreduce_perf,generation_attention_perf,moe_perf}.csv.gz, or
  // DIR/<system>/<backend>/... when DIR is the perfdb root. Missing tables are fine; no table at
  // all is NotFound.
  static Result<std::shared_ptr<const PerfDb>> Load(const std::string& dir, const std::string& system,
                                                    const std::string& backend, const FileSystem& fs);
  // Builds from table texts (tests): any of them may be empty, not all.
  static Result<std::shared_ptr<const PerfDb>> FromCsv(const std::string& gemm_csv, const std::string& allreduce_csv,
                                                       const std::string& gen_attn_csv,
                                                       const std::string& moe_csv = "");

  // Measured latency (ms) or a negative value when the table does not cover the query.
  double Gemm(const std::string& dtype, double m, int n, int k) const;
  double AllReduce(int gpus, double elements) const;
  double GenAttention(const std::string& kv_dtype, int heads, int kv_heads, int head_dim, double batch,
                      double kv_len) const;
  // One MoE layer's experts for `tokens` tokens entering the experts (all attention-DP ranks' tokens).
  double Moe(const std::string& dtype, bool gated, double tokens, int hidden, int inter, int topk, int experts,
             int moe_tp, int moe_ep) const;
  size_t num_gemm_sites() const { return gemm_.size(); }

 private:
  // (dtype, n, k) -> sorted (m, latency)
  std::map<std::tuple<std::string, int, int>, std::vector<std::pair<double, double>>> gemm_;
  // gpus -> sorted (elements, latency)
  std::map<int, std::vector<std::pair<double, double>>> allreduce_;
  // (kv dtype, heads, kv heads, head dim) -> batch -> sorted (kv_len, latency)
  std::map<std::tuple<std::string, int, int, int>, std::map<int, std::vector<std::pair<double, double>>>> gen_attn_;
  // (dtype, gated, hidden, inter, topk, experts, moe tp, moe ep) -> distribution -> sorted (tokens, latency)
  using MoeShape = std::tuple<std::string, bool, int, int, int, int, int, int>;
  std::map<MoeShape, std::map<std::string, std::vector<std::pair<double, double>>>> moe_;
};

}  // namespace dyprof

// Optional measured kernel tables (`--perf-db DIR`): the layout and columns of
// ../shared/data/perfdb/<system>/<backend>/*.csv.gz (aiconfigurator's tables). Covered ops use
// measured timings by interpolation; everything else falls back to the fitted roofline.
//   gemm_perf:            exact (dtype, n, k) site, linear interpolation over m (held at the ends
//                         by efficiency, i.e. scaled by the roofline ratio)
//   custom_allreduce_perf: per GPU count, log-log interpolation over message size
//   generation_attention_perf: exact (kv dtype, heads, kv heads, head dim, window=0) key, bilinear
//                         over (batch, kv length)
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
  // Reads DIR/<backend>/{gemm_perf,custom_allreduce_perf,generation_attention_perf}.csv.gz, or
  // DIR/<system>/<backend>/... when DIR is the perfdb root. Missing tables are fine; no table at
  // all is NotFound.
  static Result<std::shared_ptr<const PerfDb>> Load(const std::string& dir, const std::string& system,
                                                    const std::string& backend, const FileSystem& fs);
  // Builds from table texts (tests): any of the three may be empty.
  static Result<std::shared_ptr<const PerfDb>> FromCsv(const std::string& gemm_csv, const std::string& allreduce_csv,
                                                       const std::string& gen_attn_csv);

  // Measured latency (ms) or a negative value when the table does not cover the query.
  double Gemm(const std::string& dtype, double m, int n, int k) const;
  double AllReduce(int gpus, double elements) const;
  double GenAttention(const std::string& kv_dtype, int heads, int kv_heads, int head_dim, double batch,
                      double kv_len) const;
  size_t num_gemm_sites() const { return gemm_.size(); }

 private:
  // (dtype, n, k) -> sorted (m, latency)
  std::map<std::tuple<std::string, int, int>, std::vector<std::pair<double, double>>> gemm_;
  // gpus -> sorted (elements, latency)
  std::map<int, std::vector<std::pair<double, double>>> allreduce_;
  // (kv dtype, heads, kv heads, head dim) -> batch -> sorted (kv_len, latency)
  std::map<std::tuple<std::string, int, int, int>, std::map<int, std::vector<std::pair<double, double>>>> gen_attn_;
};

}  // namespace dyprof

// Fitted kernel-efficiency tables (data/perf/<system>.json, written by tools/fit_perf/fit_perf.py)
// and their evaluation, exactly as the reference evaluator tools/fit_perf/check_fit.py does it:
//   latency_ms = max(t_roof_ms / eff(features), floor)
// with eff multilinear in ln-space over log2(feature) axes (clamped at the node ends), and the
// collectives as log-log piecewise-linear curves over message bytes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/document.h"
#include "common/status.h"

namespace dyprof {

// One fitted grid: ln(eff) on the nodes of up to 4 log2 axes.
struct EffGrid {
  std::vector<std::vector<double>> nodes;  // per axis, log2 values, ascending
  std::vector<double> log_eff;             // row-major over the axes (last axis fastest)
  double floor_ms = 0;
  // The perfdb kernel_source values of the rows the grid was fitted on (MoE grids; empty when the
  // file does not say), e.g. {"deepgemm"} for TensorRT-LLM's B200 fp8_block experts.
  std::vector<std::string> kernel_sources;
  // eff at the given (linear) feature values.
  double Eff(const double* feats) const;
  double LatencyMs(double t_roof_ms, const double* feats) const;
};

// A collective latency curve: log-log piecewise linear over message bytes.
struct CommCurve {
  std::vector<double> log2_bytes;
  std::vector<double> log_us;
  double LatencyMs(double bytes) const;
};

// Peak figures the tables were fitted against (per GPU).
struct FitPeaks {
  double mem_bw = 0, bf16_flops = 0, fp8_flops = 0, fp4_flops = 0;
};

// All tables of one system file.
class FitTables {
 public:
  // Parses the JSON of data/perf/<system>.json.
  static Result<std::shared_ptr<const FitTables>> Parse(const std::string& json_text);
  // The embedded data/perf/<system>.json, or NotFound.
  static Result<std::shared_ptr<const FitTables>> LoadEmbedded(const std::string& system);

  const std::string& system() const { return system_; }
  const FitPeaks& peaks() const { return peaks_; }
  // family: "gemm", "context_attention", "generation_attention", "context_mla", "generation_mla",
  // "moe", ... key: the table key ("bfloat16", "bfloat16|bfloat16|128", ...). Falls back to the
  // other backends of the file when `backend` lacks the family/key. nullptr when none.
  const EffGrid* Grid(const std::string& backend, const std::string& family, const std::string& key) const;
  // Every table of a family for `backend` (falling back to the other backends); nullptr when none.
  const std::map<std::string, EffGrid>* Family(const std::string& backend, const std::string& family) const;
  // The grid of `family`/`key` fitted on rows of `kernel_source`, from whichever backend measured
  // it (backends by name); nullptr when none. Prices a kernel a framework runs outside
  // the configuration perfdb measured for it (SGLang's DeepEP experts run DeepGEMM).
  const EffGrid* GridOfKernel(const std::string& family, const std::string& key,
                              const std::string& kernel_source) const;
  // Custom all-reduce curve for `gpus` ("graph" mode preferred), nullptr when absent.
  const CommCurve* CustomAllReduce(const std::string& backend, int gpus) const;
  // NCCL curve for "op|dtype" (e.g. "all_gather|half") and `gpus`; nullptr when absent.
  const CommCurve* Nccl(const std::string& op_dtype, int gpus) const;
  // Largest GPU count with an NCCL curve for op_dtype (0 when none).
  int NcclMaxGpus(const std::string& op_dtype) const;
  std::vector<std::string> Backends() const;

 private:
  std::string system_;
  FitPeaks peaks_;
  // backend -> family -> key -> grid
  std::map<std::string, std::map<std::string, std::map<std::string, EffGrid>>> grids_;
  std::map<std::string, std::map<int, CommCurve>> custom_ar_;  // backend -> gpus
  std::map<std::string, std::map<int, CommCurve>> nccl_;       // "op|dtype" -> gpus
};

// The measured system whose efficiency tables a system without its own should borrow: by GPU
// generation (sm_version) and memory bandwidth. Returns "" when nothing fits.
std::string NearestMeasuredSystem(int sm_version, double mem_bw_bytes_per_s);

}  // namespace dyprof

// Result rows the pickers rank: one aggregated engine configuration, one disaggregated xPyD
// replica, or one prefill / decode engine measured alone. Column meanings follow AIC's result
// tables (sdk/common.py ColumnsAgg/ColumnsDisagg). Per-replica figures unless named *_cluster.
#pragma once

#include <string>
#include <vector>

#include "catalog/parallel.h"
#include "common/document.h"
#include "spec/spec.h"

namespace dyprof {

// A prefill engine (static context phase) or a decode engine (static generation phase) alone.
struct StageRow {
  Backend backend = Backend::kVllm;
  ParallelSplit split;
  int bs = 1;                   // batch per attention-DP rank
  int global_bs = 1;            // bs * dp
  double ttft_ms = 0;           // prefill: time to first token of the batch
  double tpot_ms = 0;           // decode: mean inter-token latency
  double seq_per_s = 0;         // requests/s one engine completes (this stage only)
  double seq_per_s_per_gpu = 0;
  double tokens_per_s_per_user = 0;  // decode: 1000 / tpot
  double concurrency = 0;       // decode: requests in flight (= global_bs)
  int max_num_tokens = 0;       // prefill token budget used for the estimate
  int NumGpus() const { return split.NumGpus(); }
};

// One deployable configuration (an aggregated engine, or an xPyD disaggregated replica).
struct ConfigRow {
  bool disagg = false;
  Backend backend = Backend::kVllm;
  double ttft_ms = 0;
  double tpot_ms = 0;
  double request_latency_ms = 0;     // ttft + tpot * (osl - 1)
  double seq_per_s = 0;              // requests/s per replica
  double tokens_per_s = 0;           // output tokens/s per replica
  double tokens_per_s_per_gpu = 0;
  double tokens_per_s_per_user = 0;
  double concurrency = 0;            // requests in flight per replica
  int num_total_gpus = 0;            // GPUs per replica

  // Aggregated engine.
  ParallelSplit split;
  int bs = 0;           // running batch per attention-DP rank
  int ctx_tokens = 0;   // prefill token budget per step
  // The silicon calibration's factors already applied to ttft_ms and tpot_ms (1: uncorrected;
  // SearchSpace::calibration), and the measured rows near this load that moved the TTFT factor
  // (CalibrationFactors::ttft_neighbours, _same_layout).
  double ttft_factor = 1, tpot_factor = 1;
  int ttft_neighbours = 0;
  bool ttft_neighbours_same_layout = false;

  // Disaggregated replica: prefill and decode engines and worker counts.
  StageRow prefill;
  StageRow decode;
  int prefill_workers = 0;
  int decode_workers = 0;

  // Filled by the search: false with a reason when the row broke a hard limit (memory, TTFT).
  bool feasible = true;
  std::string reject_reason;

  // Filled by the pickers.
  double tokens_per_s_per_gpu_cluster = 0;
  int replicas = 1;
  int total_gpus_needed = 0;
  double load_served_pct = 100.0;
  bool sla_exceeded = false;

  // The grouping label: parallel label of the engine (agg) or of the decode engine (disagg).
  std::string GroupLabel() const { return disagg ? decode.split.Label() : split.Label(); }
  // "tp8 bs28" / "1P tp4 bs1 + 1D tp4 bs16" for tables and logs.
  std::string Describe() const;
};

// A row as pick.json reports it: mode, backend, latencies, throughputs, GPUs and the engine(s).
Json ConfigRowJson(const ConfigRow& r);

}  // namespace dyprof

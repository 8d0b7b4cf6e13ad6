// SystemSpec: one GPU system (a node type) as the performance engine sees it. SI units: bytes,
// bytes/s, FLOP/s, seconds. Figures come from data/systems/ (sources named in that file).
#pragma once

#include <map>
#include <string>

namespace dyprof {

struct SystemSpec {
  std::string name;          // catalog id, e.g. "h200_sxm"
  std::string gpu_name;      // e.g. "H200 SXM 141GB"
  double mem_capacity_bytes = 0;
  double mem_bw_bytes_per_s = 0;        // peak HBM bandwidth
  double mem_bw_efficiency = 0.8;       // achievable fraction for memory-bound ops
  double mem_op_latency_s = 3e-6;       // fixed cost per memory-bound op
  double bf16_flops = 0;                // dense tensor-core peak
  double fp8_flops = 0;                 // 0 when unsupported
  double fp4_flops = 0;                 // 0 when unsupported
  double int8_flops = 0;
  double power_w = 0;
  int sm_version = 0;                   // compute capability x10

  int gpus_per_node = 8;
  int nvlink_domain_gpus = 8;           // GPUs reachable over NVLink (72 on GB200 NVL72)
  double intra_node_bw_bytes_per_s = 0; // per GPU, one direction
  double inter_node_bw_bytes_per_s = 0; // per GPU, one direction
  double pcie_bw_bytes_per_s = 0;
  double p2p_latency_s = 1e-5;
  bool has_nvlink = true;

  std::map<int, double> nccl_mem_bytes;  // NCCL buffer reserve by GPUs in the group
  double other_mem_bytes = 0;            // runtime reserve per GPU

  // Which measured-efficiency table this system uses ("" when none: roofline only), and whether it
  // is the system's own or borrowed from the nearest measured GPU.
  std::string efficiency_source;
  bool efficiency_measured = false;
};

}  // namespace dyprof

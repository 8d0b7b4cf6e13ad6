// Model and GPU fixtures shared by the benchmarks: a Qwen3-32B-like dense model, a DeepSeek-V3-like
// MLA MoE model (fp8 block) and an H200 system, built by hand so benchmarks need no catalog lookup.
#pragma once

#include "catalog/model.h"
#include "catalog/system.h"

namespace dyprof::bench {

inline ModelArch Dense() {
  ModelArch m;
  m.hf_id = "bench/dense-32b";
  m.num_layers = 64;
  m.hidden_size = 5120;
  m.num_heads = 64;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 25600;
  m.vocab_size = 151936;
  return m;
}

inline ModelArch Mla() {
  ModelArch m;
  m.hf_id = "bench/mla-moe";
  m.num_layers = 61;
  m.hidden_size = 7168;
  m.num_heads = 128;
  m.num_kv_heads = 128;
  m.head_dim = 192;
  m.intermediate_size = 18432;
  m.vocab_size = 129280;
  m.num_experts = 256;
  m.experts_per_token = 8;
  m.moe_intermediate_size = 2048;
  m.num_shared_experts = 1;
  m.shared_expert_intermediate_size = 2048;
  m.first_dense_layers = 3;
  m.mla = true;
  m.q_lora_rank = 1536;
  m.kv_lora_rank = 512;
  m.qk_rope_head_dim = 64;
  m.qk_nope_head_dim = 128;
  m.v_head_dim = 128;
  m.weight_quant = Quant::kFp8Block;
  m.moe_quant = Quant::kFp8Block;
  return m;
}

inline SystemSpec H200() {
  SystemSpec s;
  s.name = "h200_sxm";
  s.mem_capacity_bytes = 141.0 * (1ull << 30);
  s.mem_bw_bytes_per_s = 4.8e12;
  s.bf16_flops = 989e12;
  s.fp8_flops = 1978e12;
  s.sm_version = 90;
  s.intra_node_bw_bytes_per_s = 450e9;
  s.inter_node_bw_bytes_per_s = 50e9;
  return s;
}

}  // namespace dyprof::bench

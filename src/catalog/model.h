// ModelArch: what the performance engine needs to know about a model, read from a Hugging Face
// config.json (see model_config.h). All sizes are in elements (not bytes) unless named *_bytes.
#pragma once

#include <string>
#include <vector>

namespace dyprof {

// Numeric format of weights, activations or KV cache.
enum class Quant { kBf16, kFp16, kFp8, kFp8Block, kNvfp4, kMxfp4, kInt4Wo };

std::string_view QuantName(Quant q);  // "bf16", "fp16", "fp8", "fp8_block", "nvfp4", "mxfp4", "int4_wo"
// Bytes per element, including the amortised scale overhead of block formats (nvfp4: 0.5625).
double QuantBytes(Quant q);

struct ModelArch {
  std::string hf_id;         // canonical Hugging Face id, e.g. "Qwen/Qwen3-32B"
  // FindModel: how the requested id was read (alias or quantized-variant resolution) and the
  // catalog's approximations for this architecture; "" when there is nothing to say.
  std::string catalog_note;
  std::string architecture;  // config.json architectures[0], e.g. "Qwen3ForCausalLM"

  int num_layers = 0;
  int hidden_size = 0;
  int num_heads = 0;         // attention (query) heads
  int num_kv_heads = 0;      // KV heads (== num_heads for MHA)
  int head_dim = 0;          // per-head dimension (hidden/heads when absent)
  int intermediate_size = 0; // dense MLP width (0 when every layer is MoE)
  int vocab_size = 0;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = false;

  // Mixture of experts (num_experts == 0 for dense models).
  int num_experts = 0;              // routed experts
  int experts_per_token = 0;        // top-k
  int moe_intermediate_size = 0;    // per-expert MLP width
  int num_shared_experts = 0;
  int shared_expert_intermediate_size = 0;  // total width of the shared expert(s)
  int first_dense_layers = 0;       // leading layers with a dense MLP (DeepSeek first_k_dense_replace)

  // Multi-head latent attention (DeepSeek-V3 style); mla == false otherwise.
  bool mla = false;
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_rope_head_dim = 0;
  int qk_nope_head_dim = 0;
  int v_head_dim = 0;
  // DeepSeek sparse attention (DSA: DeepSeek-V3.2, GLM-5): a lightning indexer of `index_heads` ×
  // `index_head_dim` scores every cached key per query and MLA attends the top `index_topk`;
  // index_heads == 0 otherwise.
  int index_heads = 0;
  int index_head_dim = 0;
  int index_topk = 0;

  // RMSNorm on q and k before RoPE (Qwen3 per head, MiniMax-M2 over the projection).
  bool qk_norm = false;

  // Sliding-window attention: layers using a window of `sliding_window` tokens (gpt-oss alternates).
  int sliding_window = 0;
  int num_sliding_layers = 0;

  Quant weight_quant = Quant::kBf16;  // dense GEMM weights
  Quant moe_quant = Quant::kBf16;     // expert weights
  Quant kv_quant = Quant::kBf16;      // KV cache
  Quant act_quant = Quant::kBf16;     // GEMM activations (fp8 when weights are fp8 W8A8)
  // The checkpoint's FP8 weights carry 128x128 block scales (Hugging Face quantization_config
  // with weight_block_size). Stays true when a caller relabels weight_quant as plain "fp8": the
  // serving engine loads the weights as they are stored.
  bool fp8_block_scales = false;

  bool IsMoe() const { return num_experts > 0; }
};

}  // namespace dyprof

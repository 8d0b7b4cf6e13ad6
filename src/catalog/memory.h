// Derived model figures (parameters, weight bytes, KV bytes, FLOPs) and the per-engine memory and
// KV-capacity model under each backend's memory rule; the naive memory-fit TP rule (reference §2.6).
// Units: elements for parameter counts, bytes, FLOPs. "Per GPU" figures are for the most loaded GPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/model.h"
#include "catalog/parallel.h"
#include "catalog/system.h"
#include "common/document.h"
#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

// ---- Parameters --------------------------------------------------------------------------------

// Parameter counts of the GEMM weights and embeddings (norms, biases and MTP heads ignored:
// < 0.1 % for every catalog model).
struct ParamCounts {
  double attention = 0;       // Q/K/V/O (or MLA) projections, all layers
  double dense_mlp = 0;       // dense MLP layers (all layers of a dense model; the prefix of DeepSeek)
  double routed_experts = 0;  // every routed expert of every MoE layer
  double shared_experts = 0;  // shared experts, all MoE layers
  double router = 0;          // MoE gate projections
  double embedding = 0;       // input embedding
  double lm_head = 0;         // 0 when tied to the embedding
  double active_experts = 0;  // routed-expert parameters one token uses (top-k per MoE layer)

  double Total() const { return attention + dense_mlp + routed_experts + shared_experts + router + embedding + lm_head; }
  // Parameters one token touches (embedding included, as models quote "active parameters").
  double Active() const { return attention + dense_mlp + active_experts + shared_experts + router + embedding + lm_head; }
  // Parameters in matrix multiplies per token: Active() without the embedding lookup, with the
  // output projection even when tied.
  double ActiveMatmul(const ModelArch& m) const;
};

ParamCounts CountParams(const ModelArch& m);
double TotalParams(const ModelArch& m);
double ActiveParams(const ModelArch& m);

// ---- Per-GPU bytes -----------------------------------------------------------------------------

// Transformer layers on the most loaded pipeline stage: ceil(layers / pp).
int LayersPerStage(const ModelArch& m, int pp);

// Weight bytes on the most loaded GPU: attention, dense-MLP and shared-expert weights split by tp
// (replicated across attention dp); routed experts split by moe_tp × moe_ep; embedding and lm_head
// split by tp (vocab parallel); pp splits layers (the embedding sits on the first stage, lm_head on
// the last). Embeddings and lm_head stay in bf16 for every quantized format (all catalog
// checkpoints exclude them).
double WeightBytesPerGpu(const ModelArch& m, const ParallelSplit& split);

// KV-cache bytes per GPU per token of context in the full-attention layers (the asymptotic rate;
// sliding-window layers add a bounded amount per sequence, see KvBytesPerSequence).
//   GQA/MHA: 2 · ceil(kv_heads / tp) · head_dim · kv_bytes · layers_per_stage (kv heads are
//            replicated when kv_heads < tp)
//   MLA:     (kv_lora_rank + qk_rope_head_dim) · kv_bytes · layers_per_stage (not split by tp)
double KvBytesPerToken(const ModelArch& m, const ParallelSplit& split);

// KV-cache bytes per GPU for one sequence of `seq_len` tokens, sliding-window layers capped at the
// window.
double KvBytesPerSequence(const ModelArch& m, const ParallelSplit& split, int64_t seq_len);

// ---- FLOPs and bytes per step --------------------------------------------------------------------

// Whole-engine prefill FLOPs for `isl` prompt tokens of which `prefix` are cached:
// 2·P_act·(isl−prefix) + Σ_layers 2·heads·(d_qk + d_v)·(attended query–key pairs), causal and
// window-capped (Kaplan et al. 2020; reference performance-modeling §4.1).
double PrefillFlops(const ModelArch& m, int64_t isl, int64_t prefix = 0);

// Whole-engine FLOPs of one decode step of `batch` sequences each with `context_len` tokens.
double DecodeFlopsPerStep(const ModelArch& m, int batch, int64_t context_len);

// Bytes one GPU reads in one decode step: its weights (routed experts scaled by the expected
// fraction touched by batch·top-k routed tokens under uniform routing, E·(1 − (1 − k/E)^T)) plus
// the KV cache of `batch` sequences of `context_len` tokens.
double DecodeBytesPerStep(const ModelArch& m, const ParallelSplit& split, int batch, int64_t context_len);

// ---- Engine memory and KV capacity ---------------------------------------------------------------

struct EngineLimits {
  int max_batch_size = 256;     // max concurrent sequences (vLLM max_num_seqs)
  int max_num_tokens = 8192;    // tokens per forward pass (vLLM max_num_batched_tokens)
  int max_model_len = 0;        // 0 → the model's max_position_embeddings
  // The backend's memory knob (vLLM gpu_memory_utilization, SGLang mem_fraction_static, TRT-LLM
  // free_gpu_memory_fraction); nullopt → the backend default.
  std::optional<double> memory_fraction;
};

struct MemoryBreakdown {
  Backend backend = Backend::kVllm;
  std::string rule;                // the backend rule in words, with its numbers
  double capacity_bytes = 0;       // GPU memory
  double memory_fraction = 0;      // the backend knob's value
  double budget_bytes = 0;         // memory the backend lets weights + KV (+ activations) use
  double weights_bytes = 0;        // per GPU
  double activation_bytes = 0;     // activation peak (0 where the rule keeps it outside the budget)
  double nccl_bytes = 0;           // NCCL communicator buffers (system nccl_mem)
  double runtime_reserve_bytes = 0;// CUDA context / runtime reserve counted against the budget
  double kv_pool_bytes = 0;        // may be negative when the configuration does not fit
  double kv_bytes_per_token = 0;   // per GPU, averaged over a max_model_len sequence
  int block_size = 16;             // KV page size in tokens
  int64_t max_kv_tokens = 0;       // KV capacity, whole blocks
  int max_model_len = 0;
  double max_concurrency = 0;      // max_kv_tokens / max_model_len (vLLM's "Maximum concurrency")
  int max_concurrent_seqs = 0;     // min(floor(max_concurrency), max_batch_size)
  bool fits = false;
  std::string overflow;            // when !fits: which term overflowed and by how much

  double NonKvBytes() const { return weights_bytes + activation_bytes + nccl_bytes + runtime_reserve_bytes; }
};

// SGLang's automatic mem_fraction_static for a GPU of `capacity_bytes` (server_args.py:
// reserved = by GPU memory class and tp·pp, +4 GiB with DP attention; round((mem−reserved)/mem, 3)).
double SglangDefaultMemFraction(double capacity_bytes, int tp, int pp, bool dp_attention);

// The memory of one engine instance (one GPU of it) under `backend`'s rule:
//   vLLM    KV = capacity·gpu_memory_utilization(0.9) − weights − activation peak − NCCL − runtime
//   SGLang  KV = capacity·mem_fraction_static(auto) − weights (activations, CUDA graphs outside)
//   TRT-LLM KV = (capacity − weights − activations − NCCL − other_mem)·free_gpu_memory_fraction(0.9)
// kAuto is taken as vLLM. kInvalidArgument for a malformed split or limits; a configuration that
// does not fit is a MemoryBreakdown with fits == false and `overflow` set.
Result<MemoryBreakdown> EngineMemory(const ModelArch& model, const SystemSpec& system, Backend backend,
                                     const ParallelSplit& split, const EngineLimits& limits);

// kInfeasible with the overflow text when !fits, OK otherwise.
Status CheckFits(const MemoryBreakdown& memory);

// ---- Naive memory-fit TP rule (reference §2.6, AIC generator/naive.py) --------------------------

// The HF-config figures the naive rule reads.
struct NaiveModelShape {
  std::string architecture;
  double vocab_size = 0, hidden_size = 0, num_layers = 0, intermediate_size = 0;
  double moe_intermediate_size = 0, num_experts = 0;
  bool IsMoe() const { return num_experts > 1; }
};
NaiveModelShape NaiveShapeFromArch(const ModelArch& m);
// From a raw config.json (any architecture; multimodal text_config merged). moe_intermediate_size
// falls back to intermediate_size (Mixtral, gpt-oss, MiniMax name the per-expert width that way).
Result<NaiveModelShape> NaiveShapeFromConfig(const Json& config);

// params = vocab·hidden + layers·(4·hidden² + ffn + 4·hidden), ffn = 3·hidden·inter (dense) or
// 3·hidden·moe_inter·experts + hidden·experts (MoE); bytes = 2·params.
double NaiveWeightBytes(const NaiveModelShape& shape);

enum class NaiveStrategy { kTp, kTep, kDep };
std::string_view NaiveStrategyName(NaiveStrategy s);  // "TP", "TEP", "DEP"

struct NaiveParallelismResult {
  double weight_bytes = 0;    // NaiveWeightBytes
  double required_bytes = 0;  // 1.5 · weight_bytes
  int min_tp = 1;             // ceil(required / vram), >= 1
  int tp = 1;                 // next power of two >= min_tp
  int max_tp = 1;             // min(gpus_per_node, total_gpus), or total_gpus across nodes
  int selected = 1;           // min(tp, max_tp)
  bool fits = false;          // tp <= max_tp
  NaiveStrategy strategy = NaiveStrategy::kTp;
  ParallelSplit split;        // TP: tp=n; TEP: tp=moe_tp=n; DEP: tp=1, dp=moe_ep=n
};

// total_gpus <= 0 means one node. optimization_type selects DEP for DeepSeek-V3/V3.2 MoE when it
// is throughput; every other MoE gets TEP, dense models TP.
NaiveParallelismResult NaiveParallelism(const NaiveModelShape& shape, double system_vram_bytes, int gpus_per_node,
                                        int total_gpus, std::optional<OptimizationType> optimization_type,
                                        bool allow_multi_node = false);
NaiveParallelismResult NaiveParallelism(const ModelArch& model, double system_vram_bytes, int gpus_per_node,
                                        int total_gpus, std::optional<OptimizationType> optimization_type,
                                        bool allow_multi_node = false);

}  // namespace dyprof

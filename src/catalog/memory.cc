#include "catalog/memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "catalog/model_config.h"

namespace dyprof {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kEmbeddingBytes = 2.0;  // embeddings, lm_head and routers stay bf16

std::string GiB(double bytes) { return fmt::format("{:.2f} GiB", bytes / kGiB); }

int DenseLayers(const ModelArch& m) { return m.IsMoe() ? m.first_dense_layers : m.num_layers; }
int MoeLayers(const ModelArch& m) { return m.IsMoe() ? m.num_layers - m.first_dense_layers : 0; }
int FullLayers(const ModelArch& m) { return m.num_layers - m.num_sliding_layers; }

double AttentionParamsPerLayer(const ModelArch& m) {
  double h = m.hidden_size, H = m.num_heads;
  if (m.mla) {
    double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    double q = m.q_lora_rank > 0 ? h * m.q_lora_rank + double(m.q_lora_rank) * H * qk : h * H * qk;
    double kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim);
    double kv_b = double(m.kv_lora_rank) * H * (m.qk_nope_head_dim + m.v_head_dim);
    double o = H * m.v_head_dim * h;
    // DSA indexer: query from the q latent, one key head, per-head weights.
    double indexer = 0;
    if (m.index_heads > 0) {
      const double q_in = m.q_lora_rank > 0 ? m.q_lora_rank : h;
      indexer = q_in * m.index_heads * m.index_head_dim + h * m.index_head_dim + h * m.index_heads;
    }
    return q + kv_a + kv_b + o + indexer;
  }
  double d = m.head_dim;
  return h * H * d + 2.0 * h * m.num_kv_heads * d + H * d * h;
}

// Fraction of the layers on the most loaded pipeline stage.
double StageFraction(const ModelArch& m, int pp) { return double(LayersPerStage(m, pp)) / m.num_layers; }

// Query–key pairs attended by queries prefix+1..isl with a window `w` (0 = unlimited).
double AttendedPairs(int64_t prefix, int64_t isl, int64_t w) {
  auto tri = [](double n) { return n * (n + 1) / 2.0; };
  if (isl <= prefix) return 0;
  if (w <= 0 || isl <= w) return tri(double(isl)) - tri(double(prefix));
  // Queries up to w attend i keys; later ones attend w.
  double head = prefix < w ? tri(double(w)) - tri(double(prefix)) : 0.0;
  double tail = double(isl - std::max<int64_t>(prefix, w)) * double(w);
  return head + tail;
}

// Attention FLOPs per query–key pair per layer: QKᵀ (2·d_qk) and AV (2·d_v) for every head.
double AttentionFlopsPerPair(const ModelArch& m) {
  double dqk = m.head_dim, dv = m.mla ? m.v_head_dim : m.head_dim;
  return 2.0 * m.num_heads * (dqk + dv);
}

struct WeightSplit {
  double experts = 0;  // routed experts on this GPU
  double rest = 0;     // everything else
};

WeightSplit WeightsPerGpu(const ModelArch& m, const ParallelSplit& s) {
  ParamCounts p = CountParams(m);
  double f = StageFraction(m, s.pp);
  double wb = QuantBytes(m.weight_quant), mb = QuantBytes(m.moe_quant);
  WeightSplit w;
  w.rest = (p.attention + p.dense_mlp + p.shared_experts) * wb / s.tp * f + p.router * kEmbeddingBytes * f;
  w.experts = p.routed_experts * mb / (double(s.moe_tp) * s.moe_ep) * f;
  double vocab = double(m.vocab_size) * m.hidden_size * kEmbeddingBytes / s.tp;
  // One stage holds both the embedding and lm_head only without pipeline parallelism.
  if (s.pp == 1) w.rest += m.tie_word_embeddings ? vocab : 2 * vocab;
  else w.rest += vocab;
  return w;
}

int NcclGroupKey(const SystemSpec& sys, int gpus) {
  int n = std::min(gpus, 8);
  int best = 0;
  for (const auto& [k, v] : sys.nccl_mem_bytes)
    if (k <= n && k > best) best = k;
  return best;
}

double NcclBytes(const SystemSpec& sys, const ParallelSplit& s) {
  int n = s.NumGpus();
  if (n <= 1) return 0;
  int key = NcclGroupKey(sys, n);
  auto it = sys.nccl_mem_bytes.find(key);
  return it == sys.nccl_mem_bytes.end() ? 0 : it->second;
}

// vLLM's profiled activation peak (GiB) at max_num_batched_tokens 8192 on H100, measured by the
// llm-d capacity planner from published vLLM logs: Llama 4.8, Qwen 5.6, other dense 5.5, MoE 8.0.
// Half of it is taken as fixed (CUDA graphs pool, sampler, workspaces) and half as proportional to
// max_num_tokens (heuristic).
double VllmActivationBytes(const ModelArch& m, int max_num_tokens) {
  double base;
  if (m.IsMoe()) base = 8.0;
  else if (m.architecture == "LlamaForCausalLM" || m.architecture == "MistralForCausalLM") base = 4.8;
  else if (m.architecture == "Qwen2ForCausalLM" || m.architecture == "Qwen3ForCausalLM") base = 5.6;
  else base = 5.5;
  return base * kGiB * (0.5 + 0.5 * max_num_tokens / 8192.0);
}

// AIC's TRT-LLM activation estimate: 2·tokens·hidden·coef[min(tp,8)], floor 70 MiB.
double TrtllmActivationBytes(const ModelArch& m, const ParallelSplit& s, int max_num_tokens) {
  int t = std::min(s.tp, 8);
  double coef;
  if (m.IsMoe()) coef = t == 1 ? 22 : t == 2 ? 13 : 10;
  else coef = t == 1 ? 11 : t == 2 ? 6.5 : 5;
  return std::max(2.0 * max_num_tokens * m.hidden_size * coef, 70.0 * kMiB);
}

constexpr double kVllmNonTorchBytes = 0.15 * kGiB;  // CUDA context and allocator (llm-d: 0.15 GiB at TP1)

}  // namespace

// ---- Parameters --------------------------------------------------------------------------------

double ParamCounts::ActiveMatmul(const ModelArch& m) const {
  return attention + dense_mlp + active_experts + shared_experts + router + double(m.vocab_size) * m.hidden_size;
}

ParamCounts CountParams(const ModelArch& m) {
  ParamCounts p;
  double h = m.hidden_size;
  p.attention = AttentionParamsPerLayer(m) * m.num_layers;
  p.dense_mlp = double(DenseLayers(m)) * 3.0 * h * m.intermediate_size;
  double moe_layers = MoeLayers(m);
  double expert = 3.0 * h * m.moe_intermediate_size;  // gate, up, down
  p.routed_experts = moe_layers * m.num_experts * expert;
  p.active_experts = moe_layers * m.experts_per_token * expert;
  p.shared_experts = moe_layers * 3.0 * h * m.shared_expert_intermediate_size;
  p.router = moe_layers * h * m.num_experts;
  p.embedding = double(m.vocab_size) * h;
  p.lm_head = m.tie_word_embeddings ? 0.0 : double(m.vocab_size) * h;
  return p;
}

double TotalParams(const ModelArch& m) { return CountParams(m).Total(); }
double ActiveParams(const ModelArch& m) { return CountParams(m).Active(); }

// ---- Per-GPU bytes -----------------------------------------------------------------------------

int LayersPerStage(const ModelArch& m, int pp) {
  pp = std::max(pp, 1);
  return (m.num_layers + pp - 1) / pp;
}

double WeightBytesPerGpu(const ModelArch& m, const ParallelSplit& split) {
  WeightSplit w = WeightsPerGpu(m, split);
  return w.rest + w.experts;
}

double KvBytesPerToken(const ModelArch& m, const ParallelSplit& split) {
  double kvb = QuantBytes(m.kv_quant);
  double per_layer;
  if (m.mla) {
    per_layer = double(m.kv_lora_rank + m.qk_rope_head_dim) * kvb;
    // DSA indexer key cache: fp8 keys plus one fp32 scale per token.
    if (m.index_heads > 0) per_layer += m.index_head_dim + 4.0;
  } else {
    int tp = std::max(split.tp, 1);
    int heads = (m.num_kv_heads + tp - 1) / tp;  // replicated when kv_heads < tp
    per_layer = 2.0 * heads * m.head_dim * kvb;
  }
  return per_layer * FullLayers(m) * StageFraction(m, split.pp);
}

double KvBytesPerSequence(const ModelArch& m, const ParallelSplit& split, int64_t seq_len) {
  if (FullLayers(m) == 0 && m.num_sliding_layers == 0) return 0;
  ModelArch all_full = m;
  all_full.num_sliding_layers = 0;
  double per_token_all = KvBytesPerToken(all_full, split);  // every layer, per token
  double per_layer = per_token_all / m.num_layers;
  double sliding_tokens = std::min<int64_t>(seq_len, m.sliding_window);
  return per_layer * (double(FullLayers(m)) * seq_len + double(m.num_sliding_layers) * sliding_tokens);
}

// ---- FLOPs and bytes per step --------------------------------------------------------------------

double PrefillFlops(const ModelArch& m, int64_t isl, int64_t prefix) {
  if (isl <= prefix) return 0;
  double matmul = 2.0 * CountParams(m).ActiveMatmul(m) * double(isl - prefix);
  double pairs = FullLayers(m) * AttendedPairs(prefix, isl, 0) +
                 m.num_sliding_layers * AttendedPairs(prefix, isl, m.sliding_window);
  return matmul + AttentionFlopsPerPair(m) * pairs;
}

double DecodeFlopsPerStep(const ModelArch& m, int batch, int64_t context_len) {
  double keys = FullLayers(m) * double(context_len) +
                m.num_sliding_layers * double(std::min<int64_t>(context_len, m.sliding_window));
  return 2.0 * CountParams(m).ActiveMatmul(m) * batch + AttentionFlopsPerPair(m) * batch * keys;
}

double DecodeBytesPerStep(const ModelArch& m, const ParallelSplit& split, int batch, int64_t context_len) {
  WeightSplit w = WeightsPerGpu(m, split);
  double touched = 1.0;
  if (m.IsMoe()) {
    double k_over_e = double(m.experts_per_token) / m.num_experts;
    touched = 1.0 - std::pow(1.0 - k_over_e, double(std::max(batch, 0)));
  }
  return w.rest + w.experts * touched + double(batch) * KvBytesPerSequence(m, split, context_len);
}

// ---- Engine memory -------------------------------------------------------------------------------

double SglangDefaultMemFraction(double capacity_bytes, int tp, int pp, bool dp_attention) {
  double gpu_mem = capacity_bytes / kMiB;  // MiB, as torch reports it
  double parallel = double(tp) * pp;
  double reserved;
  if (gpu_mem < 35 * 1024) reserved = (2.8 + parallel / 10) * 1024;       // T4, L4, A10, L40(S) < 35 GiB
  else if (gpu_mem < 90 * 1024) reserved = (9.5 + parallel / 2) * 1024;   // H100, A100, L40S
  else if (gpu_mem < 160 * 1024) reserved = (12 + parallel / 2) * 1024;   // H20, H200
  else reserved = 32 * 1024;                                              // B200, GB200, B300
  if (dp_attention) reserved += 4 * 1024;
  return std::round((gpu_mem - reserved) / gpu_mem * 1000.0) / 1000.0;
}

Result<MemoryBreakdown> EngineMemory(const ModelArch& model, const SystemSpec& system, Backend backend,
                                     const ParallelSplit& split, const EngineLimits& limits) {
  if (split.tp < 1 || split.pp < 1 || split.dp < 1 || split.moe_tp < 1 || split.moe_ep < 1)
    return Status::InvalidArgument("parallel split " + split.ToString() + ": every degree must be >= 1");
  if (model.num_heads % split.tp != 0)
    return Status::InvalidArgument(fmt::format("tp {} does not divide the {} attention heads of {}", split.tp,
                                               model.num_heads, model.hf_id));
  if (split.pp > model.num_layers)
    return Status::InvalidArgument(fmt::format("pp {} exceeds the {} layers of {}", split.pp, model.num_layers, model.hf_id));
  if (model.IsMoe()) {
    if (split.moe_tp * split.moe_ep != split.tp * split.dp)
      return Status::InvalidArgument(fmt::format("parallel split {}: moe_tp x moe_ep must equal tp x dp ({})",
                                                 split.ToString(), split.tp * split.dp));
    if (model.num_experts % split.moe_ep != 0)
      return Status::InvalidArgument(fmt::format("moe_ep {} does not divide the {} experts of {}", split.moe_ep,
                                                 model.num_experts, model.hf_id));
  }
  if (limits.max_batch_size < 1 || limits.max_num_tokens < 1 || limits.max_model_len < 0)
    return Status::InvalidArgument("engine limits: max_batch_size and max_num_tokens must be positive");
  if (system.mem_capacity_bytes <= 0) return Status::InvalidArgument("system " + system.name + " has no memory size");

  MemoryBreakdown r;
  r.backend = backend == Backend::kAuto ? Backend::kVllm : backend;
  r.capacity_bytes = system.mem_capacity_bytes;
  r.max_model_len = limits.max_model_len > 0 ? limits.max_model_len
                                             : (model.max_position_embeddings > 0 ? model.max_position_embeddings : 4096);
  r.weights_bytes = WeightBytesPerGpu(model, split);
  const double cap = r.capacity_bytes;
  switch (r.backend) {
    case Backend::kSglang: {
      r.memory_fraction = limits.memory_fraction.value_or(
          SglangDefaultMemFraction(cap, split.tp, split.pp, split.dp > 1));
      r.budget_bytes = cap * r.memory_fraction;
      r.kv_pool_bytes = r.budget_bytes - r.weights_bytes;
      r.block_size = 1;
      r.rule = fmt::format("SGLang: KV = capacity x mem_fraction_static {:.3f} - weights (activations, CUDA graphs and "
                           "NCCL live in the other {:.2f} GiB)",
                           r.memory_fraction, cap * (1 - r.memory_fraction) / kGiB);
      break;
    }
    case Backend::kTrtllm: {
      r.memory_fraction = limits.memory_fraction.value_or(0.9);
      r.activation_bytes = TrtllmActivationBytes(model, split, limits.max_num_tokens);
      r.nccl_bytes = NcclBytes(system, split);
      r.runtime_reserve_bytes = system.other_mem_bytes;
      r.budget_bytes = cap;
      double free = cap - r.NonKvBytes();
      r.kv_pool_bytes = free > 0 ? free * r.memory_fraction : free;
      r.block_size = 32;
      r.rule = fmt::format("TRT-LLM: KV = (capacity - weights - activations - NCCL - runtime reserve) x "
                           "free_gpu_memory_fraction {:.2f}",
                           r.memory_fraction);
      break;
    }
    default: {  // vLLM
      r.memory_fraction = limits.memory_fraction.value_or(0.9);
      r.activation_bytes = VllmActivationBytes(model, limits.max_num_tokens);
      r.nccl_bytes = NcclBytes(system, split);
      r.runtime_reserve_bytes = kVllmNonTorchBytes;
      r.budget_bytes = cap * r.memory_fraction;
      r.kv_pool_bytes = r.budget_bytes - r.NonKvBytes();
      r.block_size = 16;
      r.rule = fmt::format("vLLM: KV = capacity x gpu_memory_utilization {:.2f} - weights - activation peak - NCCL - "
                           "non-torch",
                           r.memory_fraction);
      break;
    }
  }

  r.kv_bytes_per_token = KvBytesPerSequence(model, split, r.max_model_len) / r.max_model_len;
  if (r.kv_pool_bytes > 0 && r.kv_bytes_per_token > 0) {
    double block_bytes = r.block_size * r.kv_bytes_per_token;
    r.max_kv_tokens = static_cast<int64_t>(std::floor(r.kv_pool_bytes / block_bytes)) * r.block_size;
  }
  r.max_concurrency = double(r.max_kv_tokens) / r.max_model_len;
  r.max_concurrent_seqs =
      static_cast<int>(std::min<double>(std::floor(r.max_concurrency), limits.max_batch_size));

  // Which term overflowed.
  std::string where = fmt::format("{} on {} ({}, {})", model.hf_id, system.name, BackendName(r.backend), split.ToString());
  if (r.weights_bytes > r.budget_bytes) {
    r.overflow = fmt::format("{}: weights {} per GPU exceed the {} budget by {}", where, GiB(r.weights_bytes),
                             GiB(r.budget_bytes), GiB(r.weights_bytes - r.budget_bytes));
  } else if (r.kv_pool_bytes <= 0) {
    double non_kv = r.backend == Backend::kSglang ? r.weights_bytes : r.NonKvBytes();
    r.overflow = fmt::format(
        "{}: weights {} + activations {} + NCCL {} + runtime reserve {} = {} leave no KV pool in the {} budget "
        "(over by {})",
        where, GiB(r.weights_bytes), GiB(r.activation_bytes), GiB(r.nccl_bytes), GiB(r.runtime_reserve_bytes),
        GiB(non_kv), GiB(r.budget_bytes), GiB(-r.kv_pool_bytes));
  } else if (r.max_kv_tokens < r.max_model_len) {
    double need = KvBytesPerSequence(model, split, r.max_model_len);
    r.overflow = fmt::format("{}: the KV pool {} holds {} tokens, fewer than max_model_len {} (one sequence needs {}, "
                             "short by {})",
                             where, GiB(r.kv_pool_bytes), r.max_kv_tokens, r.max_model_len, GiB(need),
                             GiB(need - r.kv_pool_bytes));
  }
  r.fits = r.overflow.empty();
  return r;
}

Status CheckFits(const MemoryBreakdown& memory) {
  if (memory.fits) return Status::Ok();
  return Status::Infeasible(memory.overflow);
}

// ---- Naive rule ----------------------------------------------------------------------------------

NaiveModelShape NaiveShapeFromArch(const ModelArch& m) {
  NaiveModelShape s;
  s.architecture = m.architecture;
  s.vocab_size = m.vocab_size;
  s.hidden_size = m.hidden_size;
  s.num_layers = m.num_layers;
  s.intermediate_size = m.intermediate_size;
  s.moe_intermediate_size = m.moe_intermediate_size;
  s.num_experts = m.num_experts;
  return s;
}

Result<NaiveModelShape> NaiveShapeFromConfig(const Json& config) {
  Json c = TextConfig(config);
  if (!c.is_object()) return Status::InvalidSpec("config.json is not a mapping");
  auto num = [&](std::initializer_list<const char*> keys) -> double {
    for (const char* k : keys) {
      auto it = c.find(k);
      if (it != c.end() && it->is_number()) return it->get<double>();
    }
    return 0;
  };
  NaiveModelShape s;
  if (auto a = c.find("architectures"); a != c.end() && a->is_array() && !a->empty() && (*a)[0].is_string())
    s.architecture = (*a)[0].get<std::string>();
  s.vocab_size = num({"vocab_size"});
  s.hidden_size = num({"hidden_size"});
  s.num_layers = num({"num_hidden_layers"});
  s.intermediate_size = num({"intermediate_size"});
  s.moe_intermediate_size = num({"moe_intermediate_size"});
  if (s.moe_intermediate_size <= 0) s.moe_intermediate_size = s.intermediate_size;
  s.num_experts = num({"num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts"});
  if (s.vocab_size <= 0 || s.hidden_size <= 0 || s.num_layers <= 0)
    return Status::InvalidSpec("config.json: cannot estimate the weight size (vocab_size, hidden_size and "
                               "num_hidden_layers are required)");
  return s;
}

double NaiveWeightBytes(const NaiveModelShape& s) {
  double h = s.hidden_size;
  double ffn = s.IsMoe() ? 3.0 * h * s.moe_intermediate_size * s.num_experts + h * s.num_experts
                         : 3.0 * h * s.intermediate_size;
  double params = s.vocab_size * h + s.num_layers * (4.0 * h * h + ffn + 4.0 * h);
  return params * 2.0;
}

std::string_view NaiveStrategyName(NaiveStrategy s) {
  switch (s) {
    case NaiveStrategy::kTp: return "TP";
    case NaiveStrategy::kTep: return "TEP";
    case NaiveStrategy::kDep: return "DEP";
  }
  return "TP";
}

NaiveParallelismResult NaiveParallelism(const NaiveModelShape& shape, double system_vram_bytes, int gpus_per_node,
                                        int total_gpus, std::optional<OptimizationType> optimization_type,
                                        bool allow_multi_node) {
  NaiveParallelismResult r;
  if (gpus_per_node <= 0) gpus_per_node = 8;
  if (total_gpus <= 0) total_gpus = gpus_per_node;
  if (system_vram_bytes <= 0) system_vram_bytes = 141.0 * kGiB;  // AIC's default (H200)
  r.weight_bytes = NaiveWeightBytes(shape);
  r.required_bytes = 1.5 * r.weight_bytes;
  r.min_tp = std::max(1, static_cast<int>(std::ceil(r.required_bytes / system_vram_bytes)));
  r.tp = 1;
  while (r.tp < r.min_tp) r.tp *= 2;
  r.max_tp = allow_multi_node ? total_gpus : std::min(gpus_per_node, total_gpus);
  r.fits = r.tp <= r.max_tp;
  r.selected = std::min(r.tp, r.max_tp);
  int n = r.selected;
  if (!shape.IsMoe()) {
    r.strategy = NaiveStrategy::kTp;
    r.split.tp = n;
  } else if ((shape.architecture == "DeepseekV3ForCausalLM" || shape.architecture == "DeepseekV32ForCausalLM") &&
             optimization_type == OptimizationType::kThroughput) {
    r.strategy = NaiveStrategy::kDep;
    r.split.tp = 1;
    r.split.dp = n;
    r.split.moe_ep = n;
  } else {
    r.strategy = NaiveStrategy::kTep;
    r.split.tp = n;
    r.split.moe_tp = n;
  }
  return r;
}

NaiveParallelismResult NaiveParallelism(const ModelArch& model, double system_vram_bytes, int gpus_per_node,
                                        int total_gpus, std::optional<OptimizationType> optimization_type,
                                        bool allow_multi_node) {
  return NaiveParallelism(NaiveShapeFromArch(model), system_vram_bytes, gpus_per_node, total_gpus,
                          optimization_type, allow_multi_node);
}

}  // namespace dyprof

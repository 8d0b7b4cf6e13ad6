#include "catalog/model_config.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/strings.h"

namespace dyprof {
namespace {

// GlmMoeDsaForCausalLM: MLA with the DSA indexer ops and top-k sparse decode attention (prefill
// attention stays dense).
const std::vector<std::string> kSupported = {
    "LlamaForCausalLM",     "MistralForCausalLM",  "Qwen2ForCausalLM",      "Qwen3ForCausalLM",
    "Qwen2MoeForCausalLM",  "Qwen3MoeForCausalLM", "MixtralForCausalLM",    "GptOssForCausalLM",
    "MiniMaxM2ForCausalLM", "DeepseekV3ForCausalLM", "GlmMoeDsaForCausalLM",
};

// Largest magnitude accepted for any integer field: far above every real model (context lengths
// reach 1e7, widths 1e5) and low enough that sums and products of two fields, formed in int64 or
// double downstream, cannot overflow.
constexpr int64_t kMaxConfigInt = (int64_t{1} << 30) - 1;

// An integer field, or `def` when absent or null. Accepts integral floats ("4096.0").
Result<int> GetInt(const Json& c, const char* key, int def) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return def;
  std::optional<double> v;
  if (it->is_number_integer() || it->is_number_unsigned() ||
      (it->is_number_float() && std::isfinite(it->get<double>()) && std::floor(it->get<double>()) == it->get<double>()))
    v = it->get<double>();
  if (!v) return Status::InvalidSpec(std::string("config.json: ") + key + " must be an integer (found " + ShortValue(*it) + ")");
  if (std::fabs(*v) > static_cast<double>(kMaxConfigInt))
    return Status::InvalidSpec(std::string("config.json: ") + key + " is out of range (found " + ShortValue(*it) +
                               ", limit " + std::to_string(kMaxConfigInt) + ")");
  return static_cast<int>(*v);
}

// The first present key of `keys`, or `def`.
Result<int> GetFirstInt(const Json& c, std::initializer_list<const char*> keys, int def) {
  for (const char* k : keys) {
    auto it = c.find(k);
    if (it != c.end() && !it->is_null()) return GetInt(c, k, def);
  }
  return def;
}

// json::value() throws when the field has another type; config.json is user input.
int IntOr(const Json& o, const char* key, int def) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer() || std::fabs(it->get<double>()) > 1e9) return def;
  return it->get<int>();
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ModelOpt quant_algo names (hf_quant_config.json "quantization.quant_algo", or a modelopt
// quantization_config) to a format. Unknown → nullopt.
std::optional<Quant> ModelOptAlgo(std::string algo) {
  algo = ToLower(algo);
  if (algo == "fp8") return Quant::kFp8;
  if (algo == "fp8_block_scales" || algo == "fp8_pb_wo") return Quant::kFp8Block;
  if (algo == "nvfp4") return Quant::kNvfp4;
  if (algo == "mxfp4" || algo == "w4a8_mxfp4_fp8") return Quant::kMxfp4;
  if (algo == "w4a16_awq" || algo == "w4a8_awq" || algo == "int4_awq" || algo == "w4a16_gptq") return Quant::kInt4Wo;
  return std::nullopt;
}

Quant ActFor(Quant w, Quant base) {
  switch (w) {
    case Quant::kFp8:
    case Quant::kFp8Block: return Quant::kFp8;
    case Quant::kNvfp4: return Quant::kNvfp4;
    default: return base;
  }
}

// Applies ModelOpt fields {quant_algo, kv_cache_quant_algo} to `m`.
Status ApplyModelOpt(const Json& q, ModelArch& m, const std::string& where) {
  std::string algo = StringField(q, "quant_algo");
  if (!algo.empty()) {
    auto f = ModelOptAlgo(algo);
    if (!f) return Status::Unsupported(where + ": unsupported quant_algo '" + algo + "'");
    m.weight_quant = m.moe_quant = *f;
    m.act_quant = ActFor(*f, m.act_quant);
    if (*f == Quant::kMxfp4 || *f == Quant::kInt4Wo) m.act_quant = Quant::kBf16;
  }
  std::string kv = ToLower(StringField(q, "kv_cache_quant_algo"));
  if (kv == "fp8") m.kv_quant = Quant::kFp8;
  return Status::Ok();
}

// True when a compressed-tensors ignore list leaves attention in high precision (only expert
// weights quantized, e.g. Kimi-K2.5's INT4 routed experts).
bool IgnoresAttention(const Json& qc) {
  auto it = qc.find("ignore");
  if (it == qc.end() || !it->is_array()) return false;
  for (const auto& e : *it)
    if (e.is_string() && e.get<std::string>().find("self_attn") != std::string::npos) return true;
  return false;
}

Status ApplyQuantizationConfig(const Json& qc, ModelArch& m) {
  std::string method = ToLower(StringField(qc, "quant_method"));
  if (method == "fp8") {
    m.fp8_block_scales = qc.contains("weight_block_size") && !qc["weight_block_size"].is_null();
    m.weight_quant = m.moe_quant = m.fp8_block_scales ? Quant::kFp8Block : Quant::kFp8;
    m.act_quant = Quant::kFp8;
    return Status::Ok();
  }
  if (method == "mxfp4") {  // gpt-oss: experts in MXFP4, attention/router/embeddings in bf16
    m.moe_quant = Quant::kMxfp4;
    return Status::Ok();
  }
  if (method == "modelopt") return ApplyModelOpt(qc, m, "quantization_config");
  if (method == "awq" || method == "gptq") {
    auto bits = GetInt(qc, "bits", 4);
    if (!bits.ok() || *bits != 4) return Status::Unsupported("quantization_config: only 4-bit " + method + " is supported");
    m.weight_quant = m.moe_quant = Quant::kInt4Wo;
    return Status::Ok();
  }
  if (method == "compressed-tensors") {
    std::optional<Quant> f;
    if (auto g = qc.find("config_groups"); g != qc.end() && g->is_object()) {
      for (const auto& [name, group] : g->items()) {
        const Json& w = group.contains("weights") ? group["weights"] : Json();
        if (!w.is_object()) continue;
        int bits = IntOr(w, "num_bits", 0);
        std::string type = StringField(w, "type");
        bool has_act = group.contains("input_activations") && !group["input_activations"].is_null();
        if (bits == 4 && type == "int" && !has_act) f = Quant::kInt4Wo;
        else if (bits == 4 && type == "float") f = Quant::kNvfp4;
        else if (bits == 8 && type == "float")
          f = (StringField(w, "strategy") == "block") ? Quant::kFp8Block : Quant::kFp8;
        else
          return Status::Unsupported("quantization_config: unsupported compressed-tensors scheme (" +
                                     std::to_string(bits) + "-bit " + type + ")");
      }
    }
    if (!f) return Status::Unsupported("quantization_config: compressed-tensors without a weight scheme");
    m.moe_quant = *f;
    if (!IgnoresAttention(qc)) m.weight_quant = *f;
    if (*f != Quant::kInt4Wo) m.act_quant = ActFor(*f, m.act_quant);
    if (auto kv = qc.find("kv_cache_scheme"); kv != qc.end() && kv->is_object() && IntOr(*kv, "num_bits", 16) == 8)
      m.kv_quant = Quant::kFp8;
    return Status::Ok();
  }
  return Status::Unsupported("unsupported quantization method '" + method + "' in quantization_config");
}

}  // namespace

const std::vector<std::string>& SupportedArchitectures() { return kSupported; }

Json TextConfig(const Json& config) {
  if (!config.is_object()) return config;
  auto it = config.find("text_config");
  if (it == config.end() || !it->is_object()) return config;
  Json merged = config;
  merged.erase("text_config");
  merged.erase("vision_config");
  for (const auto& [k, v] : it->items()) merged[k] = v;
  // The wrapper's own architecture stays visible when the text part names none.
  if (!it->contains("architectures")) merged["architectures"] = config.value("architectures", Json::array());
  return merged;
}

Result<ModelArch> ParseHfConfig(const Json& config, const Json* hf_quant_config, const std::string& hf_id) {
  if (!config.is_object()) return Status::InvalidSpec("config.json for " + hf_id + " is not a mapping");
  const Json c = TextConfig(config);
  ModelArch m;
  m.hf_id = hf_id;
  auto archs = c.find("architectures");
  if (archs == c.end() || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    return Status::InvalidSpec("config.json for " + hf_id + " has no architectures list");
  m.architecture = (*archs)[0].get<std::string>();
  if (!Contains(kSupported, m.architecture))
    return Status::Unsupported("unsupported architecture " + m.architecture + " (supported: " + Join(kSupported, ", ") + ")");
  m.qk_norm = IsTrueField(c, "use_qk_norm");
  if (StartsWith(m.architecture, "Qwen3")) m.qk_norm = true;  // q_norm / k_norm in every Qwen3 layer

#define DYPROF_INT(field, ...) \
  do { auto r_ = __VA_ARGS__; if (!r_.ok()) return r_.status(); field = *r_; } while (0)
  DYPROF_INT(m.num_layers, GetInt(c, "num_hidden_layers", 0));
  DYPROF_INT(m.hidden_size, GetInt(c, "hidden_size", 0));
  DYPROF_INT(m.num_heads, GetInt(c, "num_attention_heads", 0));
  DYPROF_INT(m.num_kv_heads, GetInt(c, "num_key_value_heads", 0));
  DYPROF_INT(m.vocab_size, GetInt(c, "vocab_size", 0));
  DYPROF_INT(m.max_position_embeddings, GetInt(c, "max_position_embeddings", 0));
  DYPROF_INT(m.intermediate_size, GetInt(c, "intermediate_size", 0));
  if (m.num_layers <= 0 || m.hidden_size <= 0 || m.num_heads <= 0 || m.vocab_size <= 0)
    return Status::InvalidSpec("config.json for " + hf_id +
                               ": num_hidden_layers, hidden_size, num_attention_heads and vocab_size must be positive");
  if (m.num_kv_heads <= 0) m.num_kv_heads = m.num_heads;  // MHA
  DYPROF_INT(m.head_dim, GetFirstInt(c, {"head_dim", "attention_head_dim"}, 0));
  if (m.head_dim <= 0) m.head_dim = m.hidden_size / m.num_heads;
  m.tie_word_embeddings = c.contains("tie_word_embeddings") && c["tie_word_embeddings"] == true;

  // Mixture of experts.
  DYPROF_INT(m.num_experts, GetFirstInt(c, {"num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts"}, 0));
  if (m.num_experts > 0) {
    DYPROF_INT(m.experts_per_token, GetFirstInt(c, {"num_experts_per_tok", "experts_per_token", "moe_top_k"}, 0));
    int moe_inter = 0;
    DYPROF_INT(moe_inter, GetInt(c, "moe_intermediate_size", 0));
    // Mixtral, gpt-oss and MiniMax give the per-expert width as intermediate_size.
    m.moe_intermediate_size = moe_inter > 0 ? moe_inter : m.intermediate_size;
    DYPROF_INT(m.num_shared_experts, GetInt(c, "n_shared_experts", 0));
    int shared_inter = 0;
    DYPROF_INT(shared_inter, GetFirstInt(c, {"shared_expert_intermediate_size", "shared_intermediate_size"}, 0));
    if (m.num_shared_experts > 0 && shared_inter == 0) {
      int64_t total = int64_t{m.num_shared_experts} * m.moe_intermediate_size;
      if (total > kMaxConfigInt)
        return Status::InvalidSpec("config.json for " + hf_id + ": n_shared_experts x moe_intermediate_size is out of range");
      shared_inter = static_cast<int>(total);
    }
    if (m.num_shared_experts == 0 && shared_inter > 0) m.num_shared_experts = 1;
    m.shared_expert_intermediate_size = shared_inter;
    DYPROF_INT(m.first_dense_layers, GetInt(c, "first_k_dense_replace", 0));
    if (auto it = c.find("mlp_only_layers"); it != c.end() && it->is_array())
      m.first_dense_layers += static_cast<int>(std::min<size_t>(it->size(), kMaxConfigInt));
    int sparse_step = 1;
    DYPROF_INT(sparse_step, GetInt(c, "decoder_sparse_step", 1));
    if (sparse_step > 1)
      return Status::Unsupported(hf_id + ": decoder_sparse_step " + std::to_string(sparse_step) +
                                 " (interleaved dense/MoE layers) is not modelled");
    if (m.first_dense_layers == 0) m.intermediate_size = 0;  // every layer is MoE
    if (m.experts_per_token <= 0 || m.experts_per_token > m.num_experts || m.moe_intermediate_size <= 0)
      return Status::InvalidSpec("config.json for " + hf_id + ": MoE needs 0 < num_experts_per_tok <= experts and a positive expert width");
    if (m.first_dense_layers < 0 || m.first_dense_layers > m.num_layers)
      return Status::InvalidSpec("config.json for " + hf_id + ": first_k_dense_replace must be between 0 and num_hidden_layers");
  }

  // Multi-head latent attention.
  int kv_lora = 0;
  DYPROF_INT(kv_lora, GetInt(c, "kv_lora_rank", 0));
  if (kv_lora > 0) {
    m.mla = true;
    m.kv_lora_rank = kv_lora;
    DYPROF_INT(m.q_lora_rank, GetInt(c, "q_lora_rank", 0));
    DYPROF_INT(m.qk_rope_head_dim, GetInt(c, "qk_rope_head_dim", 0));
    DYPROF_INT(m.qk_nope_head_dim, GetInt(c, "qk_nope_head_dim", 0));
    DYPROF_INT(m.v_head_dim, GetInt(c, "v_head_dim", 0));
    if (m.qk_rope_head_dim <= 0 || m.qk_nope_head_dim <= 0 || m.v_head_dim <= 0)
      return Status::InvalidSpec("config.json for " + hf_id + ": MLA needs qk_rope_head_dim, qk_nope_head_dim and v_head_dim");
    m.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
    m.num_kv_heads = m.num_heads;
    DYPROF_INT(m.index_heads, GetInt(c, "index_n_heads", 0));
    DYPROF_INT(m.index_head_dim, GetInt(c, "index_head_dim", 0));
    DYPROF_INT(m.index_topk, GetInt(c, "index_topk", 0));
    if (m.index_heads < 0 || m.index_head_dim < 0 || m.index_topk < 0 ||
        (m.index_heads > 0 && (m.index_head_dim == 0 || m.index_topk == 0)))
      return Status::InvalidSpec("config.json for " + hf_id +
                                 ": a sparse-attention indexer needs positive index_n_heads, index_head_dim and index_topk");
  }

  // Sliding-window attention.
  int window = 0;
  DYPROF_INT(window, GetInt(c, "sliding_window", 0));
  if (window > 0) {
    if (auto lt = c.find("layer_types"); lt != c.end() && lt->is_array()) {
      int n = 0;
      for (const auto& t : *lt) n += (t.is_string() && t.get<std::string>() == "sliding_attention") ? 1 : 0;
      m.num_sliding_layers = n;
    } else if (c.contains("use_sliding_window")) {  // Qwen: layers from max_window_layers on use SWA
      if (c["use_sliding_window"] == true) {
        int full = m.num_layers;
        DYPROF_INT(full, GetInt(c, "max_window_layers", m.num_layers));
        m.num_sliding_layers = std::max(0, m.num_layers - full);
      }
    } else {
      m.num_sliding_layers = m.num_layers;  // Mistral style: every layer windowed
    }
    if (m.num_sliding_layers > 0) m.sliding_window = window;
  }
#undef DYPROF_INT

  if (m.num_heads % m.num_kv_heads != 0)
    return Status::InvalidSpec("config.json for " + hf_id + ": num_attention_heads " + std::to_string(m.num_heads) +
                               " is not a multiple of num_key_value_heads " + std::to_string(m.num_kv_heads));

  // Numeric formats.
  std::string dtype = c.contains("torch_dtype") ? StringField(c, "torch_dtype") : StringField(c, "dtype");
  if (dtype == "float16") m.weight_quant = m.moe_quant = m.kv_quant = m.act_quant = Quant::kFp16;
  if (auto qc = c.find("quantization_config"); qc != c.end() && qc->is_object())
    DYPROF_RETURN_IF_ERROR(ApplyQuantizationConfig(*qc, m));
  if (hf_quant_config && hf_quant_config->is_object()) {
    const Json& q = hf_quant_config->contains("quantization") ? (*hf_quant_config)["quantization"] : *hf_quant_config;
    if (q.is_object()) DYPROF_RETURN_IF_ERROR(ApplyModelOpt(q, m, "hf_quant_config.json"));
  }
  return m;
}

}  // namespace dyprof

// Catalog loading, lookups, invariants and the systems catalog.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "catalog/embedded.h"
#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/model_config.h"
#include "catalog/system_catalog.h"
#include "common/file_system.h"
#include "common/strings.h"

namespace dyprof {
namespace {

using ::testing::HasSubstr;

const std::string kShared = DYPROF_SOURCE_DIR "/../shared";

TEST(ModelCatalog, EveryEmbeddedFileIsACatalogEntry) {
  int files = 0;
  for (const auto& [path, text] : EmbeddedFiles()) {
    if (!StartsWith(path, "models/")) continue;
    ++files;
    auto doc = ParseJson(std::string(text));
    ASSERT_TRUE(doc.ok()) << path;
    EXPECT_TRUE(doc->contains("hf_id") && doc->contains("config") && doc->contains("aliases")) << path;
  }
  EXPECT_EQ(files, static_cast<int>(CatalogModelIds().size()));
  EXPECT_GE(files, 21);
}

TEST(ModelCatalog, EverySupportedModelLoadsWithSaneFigures) {
  MemFileSystem fs;
  int supported = 0;
  for (const auto& id : CatalogModelIds()) {
    auto src = FindModelSource(id, fs);
    ASSERT_TRUE(src.ok()) << id;
    auto m = FindModel(id, fs);
    if (!src->unsupported_reason.empty()) {
      ASSERT_FALSE(m.ok()) << id;
      EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
      EXPECT_THAT(m.status().message(), HasSubstr("unsupported architecture"));
      EXPECT_THAT(m.status().message(), HasSubstr(src->unsupported_reason));
      continue;
    }
    ASSERT_TRUE(m.ok()) << id << ": " << m.status().message();
    ++supported;
    EXPECT_EQ(m->hf_id, id);
    EXPECT_GT(m->num_layers, 0) << id;
    EXPECT_GT(m->hidden_size, 0) << id;
    EXPECT_GT(m->num_heads, 0) << id;
    EXPECT_GT(m->num_kv_heads, 0) << id;
    EXPECT_EQ(m->num_heads % m->num_kv_heads, 0) << id;
    EXPECT_GT(m->head_dim, 0) << id;
    EXPECT_GT(m->vocab_size, 0) << id;
    EXPECT_GT(m->max_position_embeddings, 0) << id;
    if (m->IsMoe()) {
      EXPECT_GE(m->num_experts, m->experts_per_token) << id;
      EXPECT_GT(m->experts_per_token, 0) << id;
      EXPECT_GT(m->moe_intermediate_size, 0) << id;
      EXPECT_LE(m->first_dense_layers, m->num_layers) << id;
      if (m->first_dense_layers > 0) EXPECT_GT(m->intermediate_size, 0) << id;
    } else {
      EXPECT_GT(m->intermediate_size, 0) << id;
    }
    if (m->mla) EXPECT_GT(m->kv_lora_rank + m->qk_rope_head_dim, 0) << id;
    EXPECT_LE(m->num_sliding_layers, m->num_layers) << id;
    EXPECT_GT(TotalParams(*m), 1e8) << id;
    EXPECT_LE(ActiveParams(*m), TotalParams(*m)) << id;
    EXPECT_GT(KvBytesPerToken(*m, ParallelSplit{}), 0) << id;
    EXPECT_GT(WeightBytesPerGpu(*m, ParallelSplit{}), 0) << id;
  }
  EXPECT_GE(supported, 20);
}

// Every catalog file is a faithful subset of the Hugging Face config it came from.
TEST(ModelCatalog, MatchesSharedHfConfigs) {
  if (!std::filesystem::exists(kShared + "/data/model_configs"))
    GTEST_SKIP() << kShared << "/data/model_configs is absent: cannot compare the catalog with its sources";
  PosixFileSystem fs;
  for (const auto& [path, text] : EmbeddedFiles()) {
    if (!StartsWith(path, "models/")) continue;
    Json entry = *ParseJson(std::string(text));
    std::string source = Split(entry["source"].get<std::string>(), ' ')[0];
    auto raw = fs.ReadFile(kShared + "/data/model_configs/" + source);
    ASSERT_TRUE(raw.ok()) << path << ": " << source;
    Json hf = *ParseJson(*raw);
    std::function<void(const Json&, const Json&, const std::string&)> check = [&](const Json& ours, const Json& theirs,
                                                                                 const std::string& where) {
      for (const auto& [k, v] : ours.items()) {
        if (k == "max_position_embeddings" && entry["hf_id"] == "meta-llama/Llama-3.3-70B-Instruct") continue;
        ASSERT_TRUE(theirs.contains(k)) << path << ": " << where << k << " not in " << source;
        if (v.is_object() && k != "quantization_config") check(v, theirs[k], where + k + ".");
        else if (k == "quantization_config") {
          for (const auto& [qk, qv] : v.items()) EXPECT_EQ(qv, theirs[k][qk]) << path << ": " << where << k << "." << qk;
        } else {
          EXPECT_EQ(v, theirs[k]) << path << ": " << where << k;
        }
      }
    };
    check(entry["config"], hf, "");
  }
}

TEST(ModelCatalog, AliasAndCaseInsensitiveLookups) {
  MemFileSystem fs;
  auto id = [&](const std::string& q) {
    auto m = FindModel(q, fs);
    return m.ok() ? FindModelSource(q, fs)->hf_id : "ERR " + m.status().message();
  };
  EXPECT_EQ(id("meta-llama/Meta-Llama-3.1-8B"), "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(id("meta-llama/Llama-3.1-8B-Instruct"), "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(id("META-LLAMA/meta-llama-3.1-8b-instruct"), "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(id("qwen/qwen3-32b"), "Qwen/Qwen3-32B");
  EXPECT_EQ(id("Qwen3-32B"), "Qwen/Qwen3-32B");
  EXPECT_EQ(id("Qwen/Qwen3-32B-FP8"), "Qwen/Qwen3-32B-FP8");
  EXPECT_EQ(id("deepseek-ai/DeepSeek-R1-0528"), "deepseek-ai/DeepSeek-R1");
  EXPECT_EQ(id("meta-llama/Llama-3.3-70B-Instruct"), "meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(id("Qwen/Qwen3-30B-A3B-Instruct-2507"), "Qwen/Qwen3-30B-A3B");
  // The FP8 Llama-3.1-70B-Instruct from another publisher resolves to the nvidia FP8 entry.
  EXPECT_EQ(id("meta-llama/Meta-Llama-3.1-70B-Instruct-FP8"), "nvidia/Llama-3.1-70B-Instruct-FP8");
  // An FP8 variant of a BF16 catalog entry: same architecture, FP8 weights.
  auto fp8 = FindModel("Qwen/Qwen3-8B-FP8", fs);
  ASSERT_TRUE(fp8.ok()) << fp8.status().message();
  EXPECT_EQ(fp8->weight_quant, Quant::kFp8Block);
  EXPECT_EQ(fp8->hf_id, "Qwen/Qwen3-8B-FP8");
  EXPECT_EQ(fp8->num_layers, 36);
  auto nv = FindModel("nvidia/Llama-3.1-8B-Instruct-FP8", fs);
  ASSERT_TRUE(nv.ok()) << nv.status().message();
  EXPECT_EQ(nv->weight_quant, Quant::kFp8);
  EXPECT_EQ(id("deepseek-ai/DeepSeek-V3.1"), "deepseek-ai/DeepSeek-V3");
}

TEST(ModelCatalog, Nvfp4VariantsResolveToTheBaseArchitectureWithNvfp4Weights) {
  MemFileSystem fs;
  // NVIDIA's ModelOpt checkpoints are named "<base>-FP4" or "<base>-NVFP4", sometimes with a
  // revision tail; all of them are the base architecture with NVFP4 weights and activations.
  for (const char* name : {"nvidia/DeepSeek-R1-NVFP4", "nvidia/DeepSeek-R1-FP4", "nvidia/DeepSeek-R1-0528-FP4-v2"}) {
    auto m = FindModel(name, fs);
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().message();
    EXPECT_EQ(m->hf_id, name);
    EXPECT_EQ(m->num_layers, 61) << name;
    EXPECT_EQ(m->weight_quant, Quant::kNvfp4) << name;
    EXPECT_EQ(m->moe_quant, Quant::kNvfp4) << name;
    EXPECT_EQ(m->act_quant, Quant::kNvfp4) << name;
  }
  auto src = FindModelSource("nvidia/Qwen3-32B-NVFP4", fs);
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ(src->hf_id, "Qwen/Qwen3-32B");
  EXPECT_THAT(src->note, HasSubstr("with nvfp4 weights"));
  auto v31 = FindModelSource("nvidia/DeepSeek-V3.1-NVFP4", fs);
  ASSERT_TRUE(v31.ok()) << v31.status().message();
  EXPECT_EQ(v31->hf_id, "deepseek-ai/DeepSeek-V3");
  // The suffix must name a model the catalog knows.
  auto unknown = FindModel("nvidia/Qwen3-33B-NVFP4", fs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST(ModelCatalog, UnknownModelNamesIdAndClosestEntries) {
  MemFileSystem fs;
  auto m = FindModel("Qwen/Qwen3-33B", fs);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr("unknown model 'Qwen/Qwen3-33B'"));
  EXPECT_THAT(m.status().message(), HasSubstr("Qwen/Qwen3-32B"));
  EXPECT_THAT(m.status().message(), HasSubstr("closest:"));
}

TEST(ModelCatalog, LocalDirectoryWinsOverCatalog) {
  MemFileSystem fs;
  // A "Qwen/Qwen3-32B" directory whose config says something else: the local file wins.
  Json cfg = {{"architectures", {"LlamaForCausalLM"}}, {"num_hidden_layers", 2}, {"hidden_size", 256},
              {"num_attention_heads", 4},            {"num_key_value_heads", 2}, {"intermediate_size", 512},
              {"vocab_size", 1000},                  {"max_position_embeddings", 2048}};
  ASSERT_TRUE(fs.WriteFileAtomic("/opt/model-cache/Qwen/Qwen3-32B/config.json", cfg.dump()).ok());
  ASSERT_TRUE(fs.WriteFileAtomic("/opt/model-cache/Qwen/Qwen3-32B/hf_quant_config.json",
                                 R"({"quantization": {"quant_algo": "FP8", "kv_cache_quant_algo": "FP8"}})")
                  .ok());
  auto m = FindModel("/opt/model-cache/Qwen/Qwen3-32B", fs);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->num_layers, 2);
  EXPECT_EQ(m->weight_quant, Quant::kFp8);
  EXPECT_EQ(m->kv_quant, Quant::kFp8);
  EXPECT_EQ(m->hf_id, "/opt/model-cache/Qwen/Qwen3-32B");
  auto direct = FindModel("/opt/model-cache/Qwen/Qwen3-32B/config.json", fs);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->num_layers, 2);
  // Not a directory here: the catalog answers.
  auto cat = FindModel("Qwen/Qwen3-32B", fs);
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(cat->num_layers, 64);
}

TEST(ModelCatalog, ResolveModelPath) {
  DgdrSpec spec;
  spec.model = "Qwen/Qwen3-32B";
  EXPECT_EQ(ResolveModelPath(spec), "Qwen/Qwen3-32B");
  spec.has_model_cache = true;
  spec.model_cache.pvc_name = "cache";
  EXPECT_EQ(ResolveModelPath(spec), "Qwen/Qwen3-32B");  // no model path in the PVC
  spec.model_cache.pvc_model_path = "models/qwen3-32b";
  EXPECT_EQ(ResolveModelPath(spec), "/opt/model-cache/models/qwen3-32b");  // CRD default mount
  spec.model_cache.pvc_mount_path = "/data/";
  EXPECT_EQ(ResolveModelPath(spec), "/data/models/qwen3-32b");
  spec.model_cache.pvc_model_path = "/data/models/qwen3-32b";
  EXPECT_EQ(ResolveModelPath(spec), "/data/models/qwen3-32b");  // already under the mount
  spec.model_cache.pvc_model_path = "/other/qwen";
  EXPECT_EQ(ResolveModelPath(spec), "/data/other/qwen");
}

TEST(SystemCatalog, EverySystemHasPositiveFigures) {
  auto ids = CatalogSystemIds();
  for (const char* want : {"gb200_sxm", "b200_sxm", "h200_sxm", "h100_sxm", "h100_pcie", "a100_sxm", "a100_pcie",
                           "a30", "l40s", "l40", "l4", "b300_sxm", "gb300"})
    EXPECT_THAT(ids, ::testing::Contains(std::string(want)));
  for (const auto& id : ids) {
    auto s = FindSystem(id);
    ASSERT_TRUE(s.ok()) << id;
    EXPECT_GT(s->mem_capacity_bytes, 0) << id;
    EXPECT_GT(s->mem_bw_bytes_per_s, 0) << id;
    EXPECT_GT(s->bf16_flops, 0) << id;
    EXPECT_GT(s->int8_flops, 0) << id;
    EXPECT_GT(s->gpus_per_node, 0) << id;
    EXPECT_GT(s->intra_node_bw_bytes_per_s, 0) << id;
    EXPECT_GT(s->inter_node_bw_bytes_per_s, 0) << id;
    EXPECT_GT(s->power_w, 0) << id;
    EXPECT_GT(s->sm_version, 0) << id;
    EXPECT_GT(s->other_mem_bytes, 0) << id;
    EXPECT_FALSE(s->efficiency_source.empty()) << id;
    // The efficiency source is a measured system of the catalog.
    auto src = FindSystem(s->efficiency_source);
    ASSERT_TRUE(src.ok()) << id;
    EXPECT_TRUE(src->efficiency_measured) << id;
    EXPECT_EQ(s->efficiency_measured, s->efficiency_source == s->name) << id;
    if (s->sm_version >= 89) EXPECT_GT(s->fp8_flops, 0) << id;
    if (s->sm_version >= 100) EXPECT_GT(s->fp4_flops, 0) << id;
  }
  EXPECT_EQ(FindSystem("h100_sxm")->efficiency_source, "h100_sxm");
  EXPECT_EQ(FindSystem("h100_pcie")->efficiency_source, "h100_sxm");
  EXPECT_EQ(FindSystem("gb200_sxm")->nvlink_domain_gpus, 72);
  EXPECT_EQ(FindSystem("gb200_sxm")->gpus_per_node, 4);
  EXPECT_FALSE(FindSystem("l40s")->has_nvlink);
}

TEST(SystemCatalog, CaseInsensitiveAndAliases) {
  auto a = FindSystem("H100_SXM");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "h100_sxm");
  EXPECT_EQ(a->mem_capacity_bytes, 85899345920.0);
  EXPECT_EQ(FindSystem("gb200")->name, "gb200_sxm");
  EXPECT_EQ(FindSystem("GB200_SXM")->name, "gb200_sxm");
}

TEST(SystemCatalog, UnknownSystemListsKnownOnes) {
  auto s = FindSystem("h300_sxm");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr("unknown GPU system 'h300_sxm'"));
  EXPECT_THAT(s.status().message(), HasSubstr("h200_sxm"));
  EXPECT_THAT(s.status().message(), HasSubstr("l40s"));
}

TEST(SystemCatalog, VramOverride) {
  SystemSpec s = *FindSystem("h100_sxm");
  ApplyVramOverride(s, 81559);
  EXPECT_DOUBLE_EQ(s.mem_capacity_bytes, 81559.0 * 1024 * 1024);
}

TEST(SystemCatalog, MatchesSharedSystemFiles) {
  if (!std::filesystem::exists(kShared + "/data/systems"))
    GTEST_SKIP() << kShared << "/data/systems is absent: cannot compare the systems catalog with its sources";
  PosixFileSystem fs;
  for (const auto& id : CatalogSystemIds()) {
    if (id == "l40") continue;  // datasheet figures, not in the shared data
    std::string file = id == "gb200_sxm" ? "gb200" : id;
    auto y = ParseYaml(*fs.ReadFile(kShared + "/data/systems/" + file + ".yaml"));
    ASSERT_TRUE(y.ok()) << id;
    SystemSpec s = *FindSystem(id);
    EXPECT_DOUBLE_EQ(s.mem_capacity_bytes, (*y)["gpu"]["mem_capacity"].get<double>()) << id;
    EXPECT_DOUBLE_EQ(s.mem_bw_bytes_per_s, (*y)["gpu"]["mem_bw"].get<double>()) << id;
    EXPECT_DOUBLE_EQ(s.bf16_flops, (*y)["gpu"]["bfloat16_tc_flops"].get<double>()) << id;
    EXPECT_DOUBLE_EQ(s.other_mem_bytes, (*y)["misc"]["other_mem"].get<double>()) << id;
    EXPECT_EQ(s.gpus_per_node, (*y)["node"]["num_gpus_per_node"].get<int>()) << id;
  }
}

TEST(ModelConfig, UnsupportedArchitecture) {
  Json cfg = {{"architectures", {"FalconForCausalLM"}}, {"num_hidden_layers", 2}, {"hidden_size", 64},
              {"num_attention_heads", 4}, {"vocab_size", 100}};
  auto m = ParseHfConfig(cfg, nullptr, "tiiuae/falcon");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(m.status().message(), HasSubstr("unsupported architecture FalconForCausalLM (supported: LlamaForCausalLM"));
}

TEST(ModelConfig, QuantizationFormats) {
  MemFileSystem fs;
  auto q = [&](const char* id) { return *FindModel(id, fs); };
  EXPECT_EQ(q("Qwen/Qwen3-32B").weight_quant, Quant::kBf16);
  EXPECT_EQ(q("Qwen/Qwen3-32B-FP8").weight_quant, Quant::kFp8Block);
  EXPECT_EQ(q("Qwen/Qwen3-32B-FP8").act_quant, Quant::kFp8);
  EXPECT_EQ(q("Qwen/Qwen3-32B-FP8").kv_quant, Quant::kBf16);
  auto nv = q("nvidia/Llama-3.1-70B-Instruct-FP8");
  EXPECT_EQ(nv.weight_quant, Quant::kFp8);
  EXPECT_EQ(nv.kv_quant, Quant::kFp8);
  EXPECT_FALSE(nv.fp8_block_scales);  // ModelOpt per-tensor FP8
  EXPECT_TRUE(q("Qwen/Qwen3-32B-FP8").fp8_block_scales);
  EXPECT_TRUE(q("MiniMaxAI/MiniMax-M2.5").fp8_block_scales);
  EXPECT_FALSE(q("Qwen/Qwen3-32B").fp8_block_scales);
  auto oss = q("openai/gpt-oss-120b");
  EXPECT_EQ(oss.weight_quant, Quant::kBf16);
  EXPECT_EQ(oss.moe_quant, Quant::kMxfp4);
  auto kimi = q("moonshotai/Kimi-K2.5");
  EXPECT_EQ(kimi.architecture, "DeepseekV3ForCausalLM");
  EXPECT_EQ(kimi.weight_quant, Quant::kBf16);
  EXPECT_EQ(kimi.moe_quant, Quant::kInt4Wo);
  EXPECT_TRUE(kimi.mla);
  EXPECT_EQ(kimi.num_experts, 384);
  EXPECT_EQ(kimi.first_dense_layers, 1);
  EXPECT_EQ(q("deepseek-ai/DeepSeek-V3").moe_quant, Quant::kFp8Block);
  EXPECT_EQ(q("deepseek-ai/DeepSeek-V3").index_heads, 0);
  EXPECT_TRUE(q("Qwen/Qwen3-32B").qk_norm);  // by architecture
  EXPECT_TRUE(q("MiniMaxAI/MiniMax-M2.5").qk_norm);  // use_qk_norm
  EXPECT_FALSE(q("meta-llama/Llama-3.1-8B").qk_norm);
  auto glm = q("zai-org/GLM-5");  // DSA: MLA plus the lightning indexer
  EXPECT_TRUE(glm.mla);
  EXPECT_EQ(glm.index_heads, 32);
  EXPECT_EQ(glm.index_head_dim, 128);
  EXPECT_EQ(glm.index_topk, 2048);
  // NVFP4 through hf_quant_config.json.
  Json cfg = FindModelSource("Qwen/Qwen3-8B", fs)->config;
  Json hq = {{"quantization", {{"quant_algo", "NVFP4"}, {"kv_cache_quant_algo", "FP8"}}}};
  auto n = ParseHfConfig(cfg, &hq, "x/nvfp4");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->weight_quant, Quant::kNvfp4);
  EXPECT_EQ(n->act_quant, Quant::kNvfp4);
  EXPECT_EQ(n->kv_quant, Quant::kFp8);
  // Sliding windows.
  EXPECT_EQ(oss.sliding_window, 128);
  EXPECT_EQ(oss.num_sliding_layers, 18);
  EXPECT_EQ(q("Qwen/Qwen3-8B").num_sliding_layers, 0);
  EXPECT_EQ(q("mistralai/Mixtral-8x7B-v0.1").num_sliding_layers, 0);
}

}  // namespace
}  // namespace dyprof

// `models`, `systems` and `memory`: the model and hardware catalogs and the per-engine memory model.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/model_config.h"
#include "catalog/system_catalog.h"
#include "cli/cli.h"
#include "common/file_system.h"
#include "perf/batch.h"

namespace dyprof {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string Billions(double params) { return fmt::format("{:.2f}B", params / 1e9); }

CommandRegistration RegisterModels(CLI::App& parent) {
  auto* app = parent.add_subcommand("models", "List the built-in model catalog");
  auto format = std::make_shared<std::string>("table");
  app->add_option("--format", *format, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return {app, [format]() {
            PosixFileSystem fs;
            Json out = Json::array();
            std::string table = fmt::format("{:<36} {:<34} {:>9} {:>9} {:>10}  {}\n", "id", "architecture",
                                            "params", "active", "KV B/token", "quant");
            for (const auto& id : CatalogModelIds()) {
              auto src = FindModelSource(id, fs);
              auto arch = FindModel(id, fs);
              Json row = {{"id", id}};
              if (!arch.ok()) {
                row["supported"] = false;
                row["reason"] = arch.status().message();
                table += fmt::format("{:<36} {:<34} {:>9} {:>9} {:>10}  unsupported\n", id,
                                     src.ok() ? TextConfig(src->config)["architectures"][0].get<std::string>() : "?",
                                     "-", "-", "-");
                out.push_back(row);
                continue;
              }
              const ModelArch& m = *arch;
              double kv = KvBytesPerToken(m, ParallelSplit{});
              std::string quant = std::string(QuantName(m.weight_quant));
              if (m.IsMoe() && m.moe_quant != m.weight_quant) quant += "/moe:" + std::string(QuantName(m.moe_quant));
              if (m.kv_quant != Quant::kBf16) quant += "/kv:" + std::string(QuantName(m.kv_quant));
              row["supported"] = true;
              row["architecture"] = m.architecture;
              row["total_params"] = TotalParams(m);
              row["active_params"] = ActiveParams(m);
              row["kv_bytes_per_token_tp1"] = kv;
              row["weight_quant"] = QuantName(m.weight_quant);
              row["moe_quant"] = QuantName(m.moe_quant);
              row["kv_quant"] = QuantName(m.kv_quant);
              row["max_position_embeddings"] = m.max_position_embeddings;
              if (src.ok()) row["aliases"] = src->aliases;
              out.push_back(row);
              table += fmt::format("{:<36} {:<34} {:>9} {:>9} {:>10.0f}  {}\n", id, m.architecture,
                                   Billions(TotalParams(m)), Billions(ActiveParams(m)), kv, quant);
            }
            if (*format == "json") std::cout << out.dump(2) << "\n";
            else std::cout << table;
            return 0;
          }};
}

CommandRegistration RegisterSystems(CLI::App& parent) {
  auto* app = parent.add_subcommand("systems", "List the built-in GPU systems catalog");
  auto format = std::make_shared<std::string>("table");
  app->add_option("--format", *format, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return {app, [format]() {
            Json out = Json::array();
            std::string table = fmt::format("{:<10} {:<24} {:>8} {:>7} {:>8} {:>8} {:>8} {:>6}  {}\n", "name", "gpu",
                                            "mem GiB", "HBM TB/s", "BF16 TF", "FP8 TF", "FP4 TF", "GPUs/n",
                                            "efficiency source");
            for (const auto& id : CatalogSystemIds()) {
              auto s = FindSystem(id);
              if (!s.ok()) continue;
              std::string eff = s->efficiency_source + (s->efficiency_measured ? " (measured)" : " (borrowed)");
              table += fmt::format("{:<10} {:<24} {:>8.1f} {:>8.2f} {:>8.0f} {:>8.0f} {:>8.0f} {:>6}  {}\n", s->name,
                                   s->gpu_name, s->mem_capacity_bytes / kGiB, s->mem_bw_bytes_per_s / 1e12,
                                   s->bf16_flops / 1e12, s->fp8_flops / 1e12, s->fp4_flops / 1e12, s->gpus_per_node,
                                   eff);
              out.push_back({{"name", s->name},
                             {"gpu_name", s->gpu_name},
                             {"mem_capacity_bytes", s->mem_capacity_bytes},
                             {"mem_bw_bytes_per_s", s->mem_bw_bytes_per_s},
                             {"bf16_flops", s->bf16_flops},
                             {"fp8_flops", s->fp8_flops},
                             {"fp4_flops", s->fp4_flops},
                             {"gpus_per_node", s->gpus_per_node},
                             {"nvlink_domain_gpus", s->nvlink_domain_gpus},
                             {"efficiency_source", s->efficiency_source},
                             {"efficiency_measured", s->efficiency_measured}});
            }
            if (*format == "json") std::cout << out.dump(2) << "\n";
            else std::cout << table;
            return 0;
          }};
}

struct MemoryArgs {
  std::string model, system, backend = "vllm", format = "table";
  int tp = 1, pp = 1, dp = 1, moe_tp = 0, moe_ep = 1;
  int max_model_len = 0, max_batch_size = 256, max_num_tokens = 8192;
  double memory_fraction = 0, vram_mb = 0;
};

int RunMemory(const MemoryArgs& a) {
  PosixFileSystem fs;
  auto model = FindModel(a.model, fs);
  if (!model.ok()) {
    std::cerr << "error: " << model.status().message() << "\n";
    return model.status().code() == StatusCode::kUnsupported ? 3 : 2;
  }
  auto system = FindSystem(a.system);
  if (!system.ok()) {
    std::cerr << "error: " << system.status().message() << "\n";
    return 2;
  }
  if (a.vram_mb > 0) ApplyVramOverride(*system, a.vram_mb);
  auto backend = ParseBackend(a.backend);
  if (!backend) {
    std::cerr << "error: unknown backend '" << a.backend << "' (vllm, sglang, trtllm)\n";
    return 2;
  }
  // Default expert split: the attention GPUs re-split as expert TP over what EP leaves.
  const ParallelSplit split = SplitFromDegrees(a.tp, a.pp, a.dp, a.moe_tp, a.moe_ep, model->IsMoe());
  if (Status limits = CheckParallelLimits(split); !limits.ok()) {
    std::cerr << "error: " << limits.message() << "\n";
    return 2;
  }
  EngineLimits limits;
  limits.max_batch_size = a.max_batch_size;
  limits.max_num_tokens = a.max_num_tokens;
  limits.max_model_len = a.max_model_len;
  if (a.memory_fraction > 0) limits.memory_fraction = a.memory_fraction;
  auto mem = EngineMemory(*model, *system, *backend, split, limits);
  if (!mem.ok()) {
    std::cerr << "error: " << mem.status().message() << "\n";
    return 2;
  }
  const MemoryBreakdown& r = *mem;
  if (a.format == "json") {
    Json j = {{"model", model->hf_id},
              {"system", system->name},
              {"backend", BackendName(r.backend)},
              {"split", split.ToString()},
              {"rule", r.rule},
              {"capacity_bytes", r.capacity_bytes},
              {"memory_fraction", r.memory_fraction},
              {"budget_bytes", r.budget_bytes},
              {"weights_bytes", r.weights_bytes},
              {"activation_bytes", r.activation_bytes},
              {"nccl_bytes", r.nccl_bytes},
              {"runtime_reserve_bytes", r.runtime_reserve_bytes},
              {"kv_pool_bytes", r.kv_pool_bytes},
              {"kv_bytes_per_token", r.kv_bytes_per_token},
              {"block_size", r.block_size},
              {"max_kv_tokens", r.max_kv_tokens},
              {"max_model_len", r.max_model_len},
              {"max_concurrency", r.max_concurrency},
              {"max_concurrent_seqs", r.max_concurrent_seqs},
              {"fits", r.fits}};
    if (!r.fits) j["overflow"] = r.overflow;
    if (!model->catalog_note.empty()) j["model_note"] = model->catalog_note;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("model    {}\nsystem   {} ({}, {:.2f} GiB)\nbackend  {}\nsplit    {} ({} GPUs)\nrule     {}\n\n",
                             model->hf_id, system->name, system->gpu_name, r.capacity_bytes / kGiB,
                             BackendName(r.backend), split.ToString(), split.NumGpus(), r.rule);
    if (!model->catalog_note.empty()) std::cout << "note     " << model->catalog_note << "\n\n";
    auto line = [](const char* what, double bytes) { return fmt::format("  {:<22} {:>10.2f} GiB\n", what, bytes / kGiB); };
    std::cout << "per GPU:\n"
              << line("budget", r.budget_bytes) << line("weights", r.weights_bytes)
              << line("activation peak", r.activation_bytes) << line("NCCL buffers", r.nccl_bytes)
              << line("runtime reserve", r.runtime_reserve_bytes) << line("KV pool", r.kv_pool_bytes)
              << fmt::format("  {:<22} {:>10.0f} B\n", "KV per token", r.kv_bytes_per_token)
              << fmt::format("\nKV capacity: {} tokens (block {}); max_model_len {}: maximum concurrency {:.2f}x; "
                             "max concurrent sequences {}\n",
                             r.max_kv_tokens, r.block_size, r.max_model_len, r.max_concurrency, r.max_concurrent_seqs);
    if (!r.fits) std::cout << "\nDOES NOT FIT: " << r.overflow << "\n";
  }
  return r.fits ? 0 : 1;
}

CommandRegistration RegisterMemory(CLI::App& parent) {
  auto* app = parent.add_subcommand("memory", "Per-GPU memory breakdown and KV capacity of one engine");
  auto a = std::make_shared<MemoryArgs>();
  app->add_option("--model", a->model, "Hugging Face id, catalog alias or local model directory")->required();
  app->add_option("--system", a->system, "GPU system (see `systems`)")->required();
  app->add_option("--backend", a->backend, "vllm | sglang | trtllm")->capture_default_str();
  app->add_option("--tp", a->tp, "Tensor parallel degree")->capture_default_str()->check(GpuCountRange());
  app->add_option("--pp", a->pp, "Pipeline parallel degree")->capture_default_str()->check(GpuCountRange());
  app->add_option("--dp", a->dp, "Attention data parallel degree")->capture_default_str()->check(GpuCountRange());
  app->add_option("--moe-tp", a->moe_tp, "Expert tensor parallel degree (default tp*dp/moe-ep)")
      ->check(GpuCountRange());
  app->add_option("--moe-ep,--ep", a->moe_ep, "Expert parallel degree")->capture_default_str()->check(GpuCountRange());
  app->add_option("--max-model-len", a->max_model_len, "Max sequence length (default: the model's)")
      ->check(CLI::Range(1, 2 * kMaxSequenceTokens));
  app->add_option("--max-batch-size", a->max_batch_size, "Max concurrent sequences")->capture_default_str()
      ->check(CLI::Range(1, static_cast<int>(kMaxConcurrency)));
  app->add_option("--max-num-tokens", a->max_num_tokens, "Max tokens per forward pass")->capture_default_str()
      ->check(CLI::Range(1, kMaxSequenceTokens));
  app->add_option("--memory-fraction", a->memory_fraction,
                  "Backend memory knob (gpu_memory_utilization / mem_fraction_static / free_gpu_memory_fraction)")
      ->check(CLI::Range(0.01, 1.0));
  app->add_option("--vram-mb", a->vram_mb, "Override the GPU memory (MiB)")->check(CLI::PositiveNumber);
  app->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return {app, [a]() { return RunMemory(*a); }};
}

}  // namespace

std::vector<CommandRegistrar> CatalogCommands() { return {RegisterModels, RegisterSystems, RegisterMemory}; }

}  // namespace dyprof

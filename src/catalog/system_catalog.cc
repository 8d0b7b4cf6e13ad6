#include "catalog/system_catalog.h"

#include <algorithm>

#include "catalog/embedded.h"
#include "common/document.h"
#include "common/strings.h"

namespace dyprof {
namespace {

struct SystemEntry {
  SystemSpec spec;
  std::vector<std::string> aliases;
};

double Num(const Json& j, const char* key, double def = 0) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number()) ? it->get<double>() : def;
}

SystemEntry ParseSystem(const Json& j) {
  SystemEntry e;
  SystemSpec& s = e.spec;
  s.name = j.value("name", "");
  s.gpu_name = j.value("gpu_name", s.name);
  s.mem_capacity_bytes = Num(j, "mem_capacity_bytes");
  s.mem_bw_bytes_per_s = Num(j, "mem_bw_bytes_per_s");
  s.mem_bw_efficiency = Num(j, "mem_bw_efficiency", s.mem_bw_efficiency);
  s.mem_op_latency_s = Num(j, "mem_op_latency_s", s.mem_op_latency_s);
  s.bf16_flops = Num(j, "bf16_flops");
  s.fp8_flops = Num(j, "fp8_flops");
  s.fp4_flops = Num(j, "fp4_flops");
  s.int8_flops = Num(j, "int8_flops");
  s.power_w = Num(j, "power_w");
  s.sm_version = static_cast<int>(Num(j, "sm_version"));
  s.gpus_per_node = static_cast<int>(Num(j, "gpus_per_node", 8));
  s.nvlink_domain_gpus = static_cast<int>(Num(j, "nvlink_domain_gpus", s.gpus_per_node));
  s.intra_node_bw_bytes_per_s = Num(j, "intra_node_bw_bytes_per_s");
  s.inter_node_bw_bytes_per_s = Num(j, "inter_node_bw_bytes_per_s");
  s.pcie_bw_bytes_per_s = Num(j, "pcie_bw_bytes_per_s");
  s.p2p_latency_s = Num(j, "p2p_latency_s", s.p2p_latency_s);
  s.has_nvlink = j.value("has_nvlink", true);
  if (auto it = j.find("nccl_mem_bytes"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items()) s.nccl_mem_bytes[std::stoi(k)] = v.get<double>();
  s.other_mem_bytes = Num(j, "other_mem_bytes");
  s.efficiency_source = j.value("efficiency_source", "");
  s.efficiency_measured = j.value("efficiency_measured", false);
  for (const auto& a : j.value("aliases", Json::array())) e.aliases.push_back(a.get<std::string>());
  return e;
}

const std::vector<SystemEntry>& Systems() {
  static const std::vector<SystemEntry> entries = [] {
    std::vector<SystemEntry> out;
    for (const auto& [path, text] : EmbeddedFiles()) {
      if (!StartsWith(path, "systems/") || !EndsWith(path, ".json")) continue;
      auto doc = ParseJson(std::string(text));
      if (!doc.ok() || !doc->is_object() || !doc->contains("name")) continue;  // caught by the tests
      out.push_back(ParseSystem(*doc));
    }
    return out;
  }();
  return entries;
}

}  // namespace

std::vector<std::string> CatalogSystemIds() {
  std::vector<std::string> ids;
  for (const auto& e : Systems()) ids.push_back(e.spec.name);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<SystemSpec> FindSystem(const std::string& sku) {
  std::string key = ToLower(Trim(sku));
  for (const auto& e : Systems()) {
    if (ToLower(e.spec.name) == key) return e.spec;
    for (const auto& a : e.aliases)
      if (ToLower(a) == key) return e.spec;
  }
  std::string hint;
  std::vector<std::string> all;
  for (const auto& e : Systems()) {
    all.push_back(e.spec.name);
    all.insert(all.end(), e.aliases.begin(), e.aliases.end());
  }
  std::string close = ClosestMatch(key, all);
  if (!close.empty()) hint = " (did you mean '" + close + "'?)";
  return Status::NotFound("unknown GPU system '" + sku + "'" + hint + "; known: " + Join(CatalogSystemIds(), ", "));
}

void ApplyVramOverride(SystemSpec& system, double vram_mb) {
  if (vram_mb > 0) system.mem_capacity_bytes = vram_mb * 1024.0 * 1024.0;
}

}  // namespace dyprof

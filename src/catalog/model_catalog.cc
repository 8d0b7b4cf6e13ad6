#include "catalog/model_catalog.h"

#include <algorithm>
#include <map>

#include "catalog/embedded.h"
#include "catalog/model_config.h"
#include "common/strings.h"

namespace dyprof {
namespace {

struct CatalogEntry {
  std::string file;  // key in EmbeddedFiles()
  ModelSource source;
};

// Loads data/models/*.json once. A malformed embedded file is a build defect: it is skipped here
// and caught by the catalog tests.
const std::vector<CatalogEntry>& Catalog() {
  static const std::vector<CatalogEntry> entries = [] {
    std::vector<CatalogEntry> out;
    for (const auto& [path, text] : EmbeddedFiles()) {
      if (!StartsWith(path, "models/") || !EndsWith(path, ".json")) continue;
      auto doc = ParseJson(std::string(text));
      if (!doc.ok() || !doc->is_object() || !doc->contains("hf_id") || !doc->contains("config")) continue;
      CatalogEntry e;
      e.file = path;
      ModelSource& s = e.source;
      s.hf_id = (*doc)["hf_id"].get<std::string>();
      for (const auto& a : doc->value("aliases", Json::array())) s.aliases.push_back(a.get<std::string>());
      s.config = (*doc)["config"];
      if (doc->contains("hf_quant_config")) s.hf_quant_config = (*doc)["hf_quant_config"];
      s.origin = "catalog:" + path;
      s.unsupported_reason = doc->value("unsupported", "");
      s.note = doc->value("note", "");
      out.push_back(std::move(e));
    }
    return out;
  }();
  return entries;
}

// Lower-cased "org/name" split; org is "" when the id has no '/'.
std::pair<std::string, std::string> SplitId(const std::string& id) {
  std::string s = ToLower(Trim(id));
  while (!s.empty() && s.back() == '/') s.pop_back();
  auto slash = s.rfind('/');
  if (slash == std::string::npos) return {"", s};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

// The architecture-identifying part of a model name: "Meta-Llama-3.1-8B-Instruct" → "llama-3.1-8b";
// FP8 variants keep an "-fp8" tail ("Llama-3.1-70B-Instruct-FP8" → "llama-3.1-70b-fp8").
std::string NormalizeName(std::string name) {
  name = ToLower(name);
  const bool fp8 = EndsWith(name, "-fp8");
  if (fp8) name.resize(name.size() - 4);
  if (StartsWith(name, "meta-llama-")) name = name.substr(5);
  static const char* kSuffixes[] = {"-instruct", "-chat", "-base", "-hf", "-it"};
  for (bool changed = true; changed;) {
    changed = false;
    for (const char* suf : kSuffixes) {
      if (EndsWith(name, suf) && name.size() > std::string_view(suf).size()) {
        name.resize(name.size() - std::string_view(suf).size());
        changed = true;
      }
    }
  }
  return fp8 ? name + "-fp8" : name;
}

// What a quantized-variant name says: the base model's name and the weight format. Suffixes
// (after lower-casing, optionally followed by a checkpoint revision "-v2"): "-fp8" (128x128 block
// FP8 from Qwen and DeepSeek, who publish it that way, per-tensor FP8 otherwise) and "-fp4" /
// "-nvfp4" (NVIDIA's ModelOpt NVFP4 checkpoints, e.g. nvidia/DeepSeek-R1-FP4, nvidia/Qwen3-32B-NVFP4).
struct QuantVariantName {
  std::string base_name;
  Quant weights;
};
std::optional<QuantVariantName> QuantVariant(const std::string& org, std::string name) {
  if (auto dash = name.rfind("-v"); dash != std::string::npos && IsDigits(std::string_view(name).substr(dash + 2)))
    name.resize(dash);
  struct Suffix {
    std::string_view text;
    Quant weights;
  };
  const bool block_fp8 = org == "qwen" || org == "deepseek-ai";
  const Suffix kSuffixes[] = {{"-fp8", block_fp8 ? Quant::kFp8Block : Quant::kFp8},
                              {"-nvfp4", Quant::kNvfp4},
                              {"-fp4", Quant::kNvfp4}};
  for (const Suffix& s : kSuffixes)
    if (EndsWith(name, s.text) && name.size() > s.text.size())
      return QuantVariantName{name.substr(0, name.size() - s.text.size()), s.weights};
  return std::nullopt;
}

std::vector<std::string> AllIds(const ModelSource& s) {
  std::vector<std::string> ids = {s.hf_id};
  ids.insert(ids.end(), s.aliases.begin(), s.aliases.end());
  return ids;
}

// Catalog lookup without the FP8-variant fallback. nullptr when nothing matches.
const CatalogEntry* LookupCatalog(const std::string& id) {
  const auto& cat = Catalog();
  auto [org, name] = SplitId(id);
  std::string full = org.empty() ? name : org + "/" + name;
  // 1. Exact id or alias, case-insensitive.
  for (const auto& e : cat)
    for (const auto& a : AllIds(e.source))
      if (ToLower(a) == full) return &e;
  // 2. Same organisation, same normalized name.
  std::string norm = NormalizeName(name);
  if (!org.empty()) {
    for (const auto& e : cat)
      for (const auto& a : AllIds(e.source)) {
        auto [aorg, aname] = SplitId(a);
        if (aorg == org && NormalizeName(aname) == norm) return &e;
      }
  }
  // 3. Same normalized name under any organisation (mirrors, re-uploads, a bare name), when
  // every match is the same entry.
  const CatalogEntry* found = nullptr;
  for (const auto& e : cat)
    for (const auto& a : AllIds(e.source)) {
      if (NormalizeName(SplitId(a).second) != norm) continue;
      if (found && found != &e) return nullptr;  // ambiguous
      found = &e;
    }
  return found;
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<ModelSource> LoadLocal(const std::string& config_path, const std::string& display, const FileSystem& fs) {
  DYPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(config_path));
  auto doc = ParseJson(text);
  if (!doc.ok()) return Status::InvalidSpec(config_path + ": " + doc.status().message());
  ModelSource s;
  s.hf_id = display;
  s.config = std::move(doc).value();
  s.origin = "local:" + config_path;
  std::string quant_path = JoinPath(DirName(config_path), "hf_quant_config.json");
  if (fs.IsFile(quant_path)) {
    DYPROF_ASSIGN_OR_RETURN(std::string qtext, fs.ReadFile(quant_path));
    auto q = ParseJson(qtext);
    if (!q.ok()) return Status::InvalidSpec(quant_path + ": " + q.status().message());
    s.hf_quant_config = std::move(q).value();
  }
  return s;
}

}  // namespace

std::vector<std::string> CatalogModelIds() {
  std::vector<std::string> ids;
  for (const auto& e : Catalog()) ids.push_back(e.source.hf_id);
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) { return ToLower(a) < ToLower(b); });
  return ids;
}

Result<ModelSource> FindModelSource(const std::string& id_or_path, const FileSystem& fs) {
  std::string id = Trim(id_or_path);
  if (id.empty()) return Status::InvalidArgument("model: empty model id");
  // A local model directory (or its config.json) wins over the catalog.
  if (fs.IsFile(JoinPath(id, "config.json"))) return LoadLocal(JoinPath(id, "config.json"), id, fs);
  if (EndsWith(id, ".json") && fs.IsFile(id)) return LoadLocal(id, DirName(id), fs);

  if (const CatalogEntry* e = LookupCatalog(id)) {
    ModelSource s = e->source;
    if (ToLower(s.hf_id) != ToLower(id)) {
      std::string how = "'" + id + "' resolved to catalog entry " + s.hf_id;
      s.note = s.note.empty() ? how : how + "; " + s.note;
    }
    return s;
  }
  // A quantized variant of a catalog entry named by its suffix: same architecture, other weights.
  auto [org, name] = SplitId(id);
  if (auto variant = QuantVariant(org, name)) {
    std::string base = (org.empty() ? "" : org + "/") + variant->base_name;
    if (const CatalogEntry* e = LookupCatalog(base)) {
      ModelSource s = e->source;
      s.implied_weight_quant = variant->weights;
      s.note = "'" + id + "' resolved to catalog entry " + s.hf_id + " with " +
               std::string(QuantName(*s.implied_weight_quant)) + " weights";
      return s;
    }
  }
  auto closest = ClosestMatches(id, CatalogModelIds(), 3);
  std::string shown = id.size() > 200 ? id.substr(0, 197) + "..." : id;  // a pasted blob stays readable
  return Status::NotFound("unknown model '" + shown + "': no config.json at that path and no catalog entry (closest: " +
                          Join(closest, ", ") + ")");
}

Result<ModelArch> FindModel(const std::string& id_or_path, const FileSystem& fs) {
  DYPROF_ASSIGN_OR_RETURN(ModelSource src, FindModelSource(id_or_path, fs));
  const Json* quant = src.hf_quant_config ? &*src.hf_quant_config : nullptr;
  auto arch = ParseHfConfig(src.config, quant, src.hf_id);
  if (!arch.ok()) {
    if (arch.status().code() == StatusCode::kUnsupported && !src.unsupported_reason.empty())
      return Status::Unsupported(src.hf_id + ": " + arch.status().message() + "; " + src.unsupported_reason);
    return arch.status();
  }
  arch->catalog_note = src.note;
  if (src.implied_weight_quant) {
    arch->weight_quant = arch->moe_quant = *src.implied_weight_quant;
    // FP8 checkpoints run W8A8, NVFP4 ones W4A4.
    arch->act_quant = *src.implied_weight_quant == Quant::kNvfp4 ? Quant::kNvfp4 : Quant::kFp8;
    arch->hf_id = Trim(id_or_path);
  }
  return arch;
}

std::string ResolveModelPath(const DgdrSpec& spec) {
  const auto& mc = spec.model_cache;
  if (!spec.has_model_cache || !mc.pvc_model_path || mc.pvc_model_path->empty()) return spec.model;
  std::string mount = mc.MountPathOrDefault();
  const std::string& path = *mc.pvc_model_path;
  std::string mount_dir = mount;
  while (mount_dir.size() > 1 && mount_dir.back() == '/') mount_dir.pop_back();
  if (StartsWith(path, "/") && (path == mount_dir || StartsWith(path, mount_dir + "/"))) return path;
  return JoinPath(mount, path);
}

}  // namespace dyprof

// The built-in model catalog (data/models/*.json, embedded in the binary) and model lookup:
// a local directory holding config.json wins, then the catalog by Hugging Face id or alias.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "common/document.h"
#include "common/file_system.h"
#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

// One model as found: its raw config (for the naive fallback, which reads unsupported
// architectures too) and where it came from.
struct ModelSource {
  std::string hf_id;                   // canonical id (catalog) or the local path
  std::vector<std::string> aliases;    // catalog aliases
  Json config;                         // config.json (catalog subset, or the local file)
  std::optional<Json> hf_quant_config; // hf_quant_config.json when present
  std::string origin;                  // "catalog:models/<file>.json" or "local:<path>"
  std::string unsupported_reason;      // catalog note for architectures we do not model ("" otherwise)
  std::string note;                    // catalog note (approximations), or how an alias was resolved
  // Weight format implied by the requested id when it named a quantized variant of a catalog entry
  // that the catalog holds in another format (e.g. "Qwen/Qwen3-8B-FP8", "nvidia/DeepSeek-R1-FP4");
  // nullopt otherwise.
  std::optional<Quant> implied_weight_quant;
};

// Every catalog id (canonical Hugging Face ids), sorted.
std::vector<std::string> CatalogModelIds();

// Finds a model's config: `id_or_path` as a local directory with config.json (or a config.json
// file itself), else the catalog (case-insensitive; tolerant of aliases, "Meta-" prefixes,
// -Instruct/-Chat/-Base suffixes and FP8 variants of catalog entries). Unknown → kNotFound naming
// the id and the three closest catalog ids.
Result<ModelSource> FindModelSource(const std::string& id_or_path, const FileSystem& fs);

// FindModelSource + ParseHfConfig. Unsupported architectures → kUnsupported (with the catalog's
// reason when it has one).
Result<ModelArch> FindModel(const std::string& id_or_path, const FileSystem& fs);

// The model location a DGDR names: pvcMountPath + pvcModelPath when the model cache gives a model
// path (an absolute pvcModelPath already under the mount path is kept as is); else spec.model.
std::string ResolveModelPath(const DgdrSpec& spec);

}  // namespace dyprof

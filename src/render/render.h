// Rendering the picked deployment into final_config.yaml (behaviour reference §3.3-§3.9): the
// backend DGD for the pick, then the feature layers (TRT-LLM chunked prefill, mocker, vLLM
// benchmark mode, planner + ConfigMaps, profile data, runtime version), overrides.dgd, the
// profiling-job tolerations and the 45-character name gate. ConfigMaps come first, the DGD last.
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/document.h"
#include "common/status.h"
#include "render/emit.h"
#include "render/model.h"
#include "search/pick.h"
#include "spec/spec.h"

namespace dyprof {

// Random ConfigMap-name suffixes ("planner-config-<suffix>"): 4 lowercase hex characters.
class SuffixGenerator {
 public:
  virtual ~SuffixGenerator() = default;
  virtual std::string Next() = 0;
};

// uuid4().hex[:4]-like suffixes from a random device.
class RandomSuffixGenerator : public SuffixGenerator {
 public:
  RandomSuffixGenerator();
  std::string Next() override;

 private:
  std::mt19937 rng_;
};

// Deterministic suffixes for tests: "0a00", "0a01", ...
class SequenceSuffixGenerator : public SuffixGenerator {
 public:
  std::string Next() override;

 private:
  int next_ = 0;
};

// Interpolation data for the planner-profile-data ConfigMap (issue 7 fills it): the JSON objects
// of prefill_raw_data.json ({prefill_isl, prefill_ttft, prefill_thpt_per_gpu}) and
// decode_raw_data.json ({x_kv_usage, y_context_length, z_itl, z_thpt_per_gpu, max_kv_tokens}).
// A null member means that file does not exist.
struct ProfileData {
  Json prefill;  // null or object
  Json decode;   // null or object
  bool empty() const { return prefill.is_null() && decode.is_null(); }
};

struct RenderOptions {
  DgdApiVersion api_version = DgdApiVersion::kV1beta1;
  // DGDR name for the name-length gate: env DGDR_NAME, else metadata.name of a whole-DGDR input.
  std::optional<std::string> dgdr_name;
  int num_gpus_per_node = 8;
  int max_model_len = 0;  // 0: DefaultMaxModelLen(spec)
  bool dry_run = false;   // no aic_interpolation, no profile-data ConfigMap
  // aic_interpolation inputs (§3.5).
  int sweep_max_context_length = 0;  // 0: isl*2 (8192 when isl is 0), the reference's fallback
  int prefill_interpolation_granularity = 16;
  int decode_interpolation_granularity = 6;
  std::optional<ProfileData> profile_data;
};

struct RenderedConfig {
  std::vector<Json> documents;  // ConfigMaps first, the DGD last
  Json picked_dgd;              // the DGD before the planner / mocker layers (after overrides)
  bool write_picked = false;    // planner or mocker enabled: write picked_dgd_config.yaml
  std::vector<std::string> warnings;

  const Json& Dgd() const { return documents.back(); }
  // final_config.yaml text: one document, or several separated by "---".
  std::string FinalYaml() const;
  std::string PickedYaml() const { return ToYaml(picked_dgd); }
};

// The vLLM/SGLang/TRT-LLM maximum model length: isl + osl + 1500 (the reference's naive
// generator margin: 4000 + 1000 + 1500 = 6500, made workload-aware by PR #14205).
int DefaultMaxModelLen(const DgdrSpec& spec);

// §3.6: `image` with its last path component's name replaced by `name`, tag and digest kept.
std::string ReplaceImageName(const std::string& image, const std::string& name);
// vllm-runtime / sglang-runtime / tensorrtllm-runtime.
std::string DeriveBackendImage(const std::string& image, Backend backend);
std::string DerivePlannerImage(const std::string& image);

// The backend DGD for the pick (build_dgd_config, §3.3), before any feature layer.
Result<Deployment> BuildPickedDeployment(const DgdrSpec& spec, const Decision& decision, const RenderOptions& options);

// §3.8. `dgd_name` is the final DGD name; empty with no dgdr_name is an error.
Status CheckServiceNameLengths(const std::string& dgd_name, const std::string& dgdr_name,
                               const std::vector<std::string>& service_names);

// The whole of §3: documents of final_config.yaml plus the picked DGD.
Result<RenderedConfig> RenderDeployment(const DgdrSpec& spec, const Decision& decision, const RenderOptions& options,
                                        SuffixGenerator& suffixes);

}  // namespace dyprof

// Hugging Face config.json (+ hf_quant_config.json) → ModelArch.
#pragma once

#include <string>
#include <vector>

#include "catalog/model.h"
#include "common/document.h"
#include "common/status.h"

namespace dyprof {

// The config.json architectures we can model (architectures[0], or text_config's for multimodal
// wrappers such as Kimi-K2.5).
const std::vector<std::string>& SupportedArchitectures();

// Reads a config.json document. `hf_quant_config` is the ModelOpt hf_quant_config.json when the
// checkpoint has one (nullptr otherwise); `hf_id` is recorded in the result. Multimodal configs are
// read from their `text_config`. Errors: kUnsupported "unsupported architecture X (supported: ...)",
// kInvalidSpec when a required field is missing or inconsistent.
Result<ModelArch> ParseHfConfig(const Json& config, const Json* hf_quant_config, const std::string& hf_id);

// The language-model part of a config: `text_config` merged over the top level when present.
Json TextConfig(const Json& config);

}  // namespace dyprof

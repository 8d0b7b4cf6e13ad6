// The code paths each fuzzer drives, shared with the regression test that replays
// fuzz/regressions/<fuzzer>/* (src/spec/fuzz_regression_test.cc) so a fixed crash stays fixed
// in the ordinary (gcc) build too. Neither function may crash, hang or throw on any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/memory.h"
#include "catalog/model_config.h"
#include "common/document.h"
#include "spec/spec_parser.h"
#include "spec/spec_validate.h"

namespace dyprof::fuzz {

// Spec text as YAML and as JSON → ParseDgdrSpec → ValidateDgdrSpec, plus the YAML emitter on
// whatever parsed (final_config.yaml is written through it).
inline void SpecEntry(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (int as_json = 0; as_json < 2; ++as_json) {
    Result<Json> doc = as_json ? ParseJson(text) : ParseYaml(text);
    if (!doc.ok()) continue;
    (void)ShortValue(*doc);
    std::string yaml = ToYaml(*doc);
    (void)ParseYaml(yaml);
    Result<ParsedSpec> parsed = ParseDgdrSpec(*doc);
    if (!parsed.ok()) continue;
    (void)ValidateDgdrSpec(parsed->spec);
  }
  (void)ParseYamlAll(text);
}

// config.json text → ParseHfConfig (without and with the document as hf_quant_config.json) →
// the parameter count the memory model starts from.
inline void HfConfigEntry(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Result<Json> doc = ParseJson(text);
  if (!doc.ok()) return;
  const Json* doc_ptr = &*doc;
  for (const Json* quant : {static_cast<const Json*>(nullptr), doc_ptr}) {
    Result<ModelArch> arch = ParseHfConfig(*doc, quant, "fuzz/model");
    if (!arch.ok()) continue;
    (void)TotalParams(*arch);
    (void)ActiveParams(*arch);
  }
}

}  // namespace dyprof::fuzz

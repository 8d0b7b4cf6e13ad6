// Turning `--config` input into a DgdrSpec: file or inline JSON, YAML or JSON, bare spec or whole
// DGDR object. Type errors name the key path and the value found; unknown keys are warnings with a
// "did you mean" hint. All problems of one document are collected before failing.
#pragma once

#include <string>
#include <vector>

#include "common/document.h"
#include "common/file_system.h"
#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

struct ParsedSpec {
  DgdrSpec spec;
  std::vector<std::string> warnings;  // unknown keys and other non-fatal findings
  bool whole_dgdr = false;            // input had apiVersion/kind/metadata/spec
};

// Reads the --config value: an existing file (.json → JSON, .yaml/.yml → YAML, other suffix: JSON
// then YAML) or inline JSON. Errors are kInvalidSpec with the reference's message text.
Result<Json> LoadConfigDocument(const std::string& config_arg, const FileSystem& fs);

// Maps a document (bare spec or whole DGDR) to a DgdrSpec, applying the pydantic-level checks
// (types, enums, workload exclusivity, SLA rules, mocker/sweep rule). Error message: every problem,
// joined with "; ".
Result<ParsedSpec> ParseDgdrSpec(const Json& doc);

}  // namespace dyprof

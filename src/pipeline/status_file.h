// profiler_status.yaml: the file the operator's side-car polls. Keys in the reference order
// (status, timestamp, message, error, outputs, phase), each a single-line top-level scalar so
// `grep "^status:"` works; rewritten atomically at every phase change.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/file_system.h"

namespace dyprof {

enum class RunStatus { kRunning, kSuccess, kFailed };
enum class Phase { kInitializing, kSweepingPrefill, kSweepingDecode, kSelectingConfig, kBuildingCurves, kGeneratingDgd, kDone };

std::string_view PhaseName(Phase p);  // "Initializing", ..., "GeneratingDGD", "Done"

struct StatusUpdate {
  RunStatus status = RunStatus::kRunning;
  std::string message;
  std::optional<std::string> error;  // failed only
  std::optional<Phase> phase;
  bool has_outputs = false;  // success: outputs: {final_config: final_config.yaml}
};

// Renders the YAML text for `update` at `unix_seconds`.
std::string RenderStatusYaml(const StatusUpdate& update, double unix_seconds);

class StatusWriter {
 public:
  StatusWriter(FileSystem* fs, const Clock* clock, std::string output_dir)
      : fs_(fs), clock_(clock), output_dir_(std::move(output_dir)) {}
  // Writes {output_dir}/profiler_status.yaml atomically. Errors are returned, never thrown.
  Status Write(const StatusUpdate& update);
  std::string path() const;

 private:
  FileSystem* fs_;
  const Clock* clock_;
  std::string output_dir_;
};

}  // namespace dyprof

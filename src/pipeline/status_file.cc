#include "pipeline/status_file.h"

#include "common/document.h"

namespace dyprof {

std::string_view PhaseName(Phase p) {
  switch (p) {
    case Phase::kInitializing: return "Initializing";
    case Phase::kSweepingPrefill: return "SweepingPrefill";
    case Phase::kSweepingDecode: return "SweepingDecode";
    case Phase::kSelectingConfig: return "SelectingConfig";
    case Phase::kBuildingCurves: return "BuildingCurves";
    case Phase::kGeneratingDgd: return "GeneratingDGD";
    case Phase::kDone: return "Done";
  }
  return "Initializing";
}

static std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string RenderStatusYaml(const StatusUpdate& u, double unix_seconds) {
  Json doc = Json::object();
  doc["status"] = u.status == RunStatus::kRunning ? "running" : u.status == RunStatus::kSuccess ? "success" : "failed";
  doc["timestamp"] = FormatUtcTimestamp(unix_seconds);
  doc["message"] = OneLine(u.message);
  if (u.error && !u.error->empty()) doc["error"] = OneLine(*u.error);
  if (u.has_outputs) doc["outputs"] = Json{{"final_config", "final_config.yaml"}};
  if (u.phase) doc["phase"] = std::string(PhaseName(*u.phase));
  return ToYaml(doc);
}

std::string StatusWriter::path() const { return JoinPath(output_dir_, "profiler_status.yaml"); }

Status StatusWriter::Write(const StatusUpdate& update) {
  return fs_->WriteFileAtomic(path(), RenderStatusYaml(update, clock_->NowUnixSeconds()));
}

}  // namespace dyprof

#include "spec/spec.h"

#include "common/strings.h"

namespace dyprof {

std::string_view BackendName(Backend b) {
  switch (b) {
    case Backend::kAuto: return "auto";
    case Backend::kVllm: return "vllm";
    case Backend::kSglang: return "sglang";
    case Backend::kTrtllm: return "trtllm";
  }
  return "auto";
}

std::optional<Backend> ParseBackend(std::string_view s) {
  std::string l = ToLower(s);
  if (l == "auto") return Backend::kAuto;
  if (l == "vllm") return Backend::kVllm;
  if (l == "sglang") return Backend::kSglang;
  if (l == "trtllm") return Backend::kTrtllm;
  return std::nullopt;
}

std::string_view SearchStrategyName(SearchStrategy s) {
  return s == SearchStrategy::kRapid ? "rapid" : "thorough";
}

std::string_view SweepModeName(SweepMode m) {
  switch (m) {
    case SweepMode::kNone: return "none";
    case SweepMode::kRapid: return "rapid";
    case SweepMode::kThorough: return "thorough";
  }
  return "rapid";
}

std::string_view PickingModeName(PickingMode m) {
  switch (m) {
    case PickingMode::kDefault: return "default";
    case PickingMode::kLoadMatch: return "load_match";
    case PickingMode::kAutoscale: return "autoscale";
  }
  return "default";
}

bool DgdrSpec::NeedsProfileData() const {
  return MockerEnabled() || (features.planner && features.planner->enable_throughput_scaling);
}

PickingMode DeterminePickingMode(const DgdrSpec& spec) {
  if (spec.features.planner && spec.features.planner->ScalingEnabled()) return PickingMode::kAutoscale;
  WorkloadSpec w = spec.WorkloadOrDefault();
  if (w.request_rate || w.concurrency) return PickingMode::kLoadMatch;
  return PickingMode::kDefault;
}

}  // namespace dyprof

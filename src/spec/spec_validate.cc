#include "spec/spec_validate.h"

#include "common/strings.h"

namespace dyprof {

Status ValidateDgdrSpec(DgdrSpec& spec) {
  std::vector<std::string> errors;
  if (spec.image.empty()) errors.push_back("'image' is required in the DGDR spec.");
  if (!spec.hardware) {
    errors.push_back("'hardware' is required in the DGDR spec.");
  } else {
    if (!spec.hardware->gpu_sku || spec.hardware->gpu_sku->empty())
      errors.push_back("'hardware.gpuSku' is required in the DGDR spec.");
    if (!spec.hardware->num_gpus_per_node || *spec.hardware->num_gpus_per_node <= 0)
      errors.push_back("'hardware.numGpusPerNode' must be a positive integer.");
  }
  if (!spec.workload) spec.workload = WorkloadSpec{};
  if (!spec.sla) spec.sla = SlaSpec{};
  if (spec.workload->concurrency && spec.workload->request_rate)
    errors.push_back("Only one of 'concurrency' or 'requestRate' can be provided, not both.");
  SlaSpec& sla = *spec.sla;
  for (auto [name, value] : {std::pair{"ttft", sla.ttft_ms}, {"itl", sla.itl_ms}, {"e2eLatency", sla.e2e_latency_ms}}) {
    if (value && *value <= 0)
      errors.push_back(std::string("SLA '") + name + "' must be positive (got " + FormatPyFloat(*value) + ").");
  }
  if (sla.e2e_latency_ms) {
    sla.ttft_ms.reset();
    sla.itl_ms.reset();
  } else if (!sla.ttft_ms || !sla.itl_ms) {
    errors.push_back("Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec.");
  }
  if (spec.search_strategy == SearchStrategy::kThorough && spec.backend == Backend::kAuto)
    errors.push_back(
        "THOROUGH search strategy does not support 'auto' backend. Please specify a concrete backend (trtllm, vllm, "
        "sglang).");
  if (!errors.empty()) return Status::InvalidSpec(Join(errors, "; "));
  return Status::Ok();
}

std::vector<std::string> FeatureWarnings(const DgdrSpec& spec, bool simulation_supported) {
  std::vector<std::string> out;
  const auto& planner = spec.features.planner;
  if (planner && planner->enable_throughput_scaling && planner->sweep_mode == SweepMode::kRapid &&
      !simulation_supported) {
    out.push_back(
        "AIC does not support this model/hardware/backend combination for simulation; the planner's throughput "
        "scaling will use the AIC core fallback (a generic performance regression) instead of a simulated model. "
        "Consider pre_deployment_sweeping_mode: thorough for measured curves.");
  }
  return out;
}

}  // namespace dyprof

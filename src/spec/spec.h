// The DynamoGraphDeploymentRequest (DGDR) spec, v1beta1: what the user asks the profiler for.
// Field names, defaults and meanings follow the Dynamo CRD (nvidia.com/v1beta1). Units: ms for
// latencies, tokens for lengths, req/s for rates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/document.h"

namespace dyprof {

enum class Backend { kAuto, kVllm, kSglang, kTrtllm };
enum class SearchStrategy { kRapid, kThorough };
enum class OptimizationType { kLatency, kThroughput };
enum class SweepMode { kNone, kRapid, kThorough };
enum class PickingMode { kDefault, kLoadMatch, kAutoscale };

std::string_view BackendName(Backend b);                // "auto", "vllm", "sglang", "trtllm"
std::string_view SearchStrategyName(SearchStrategy s);  // "rapid", "thorough"
std::string_view SweepModeName(SweepMode m);            // "none", "rapid", "thorough"
std::string_view PickingModeName(PickingMode m);        // "default", "load_match", "autoscale"
std::optional<Backend> ParseBackend(std::string_view s);  // case-insensitive

struct ModelCacheSpec {
  std::optional<std::string> pvc_name;        // existing PVC holding weights
  std::optional<std::string> pvc_model_path;  // path inside the PVC
  std::optional<std::string> pvc_mount_path;  // mount path in containers (CRD default /opt/model-cache)
  // pvcMountPath with the CRD default applied.
  std::string MountPathOrDefault() const { return pvc_mount_path.value_or("/opt/model-cache"); }
};

struct HardwareSpec {
  std::optional<std::string> gpu_sku;  // AIC system id, e.g. "h200_sxm"; lower-cased by the profiler
  std::optional<double> vram_mb;       // VRAM per GPU in MiB; overrides the catalog figure
  std::optional<int> total_gpus;       // GPU budget; default one node
  std::optional<int> num_gpus_per_node;
  std::optional<std::string> interconnect;  // "pcie" | "nvlink" (metadata only)
  std::optional<bool> rdma;                 // metadata only
};

struct WorkloadSpec {
  int isl = 4000;  // input tokens per request
  int osl = 1000;  // output tokens per request
  std::optional<double> concurrency;   // target concurrent requests (load_match)
  std::optional<double> request_rate;  // target req/s (load_match); exclusive with concurrency
};

struct SlaSpec {
  std::optional<double> ttft_ms = 2000.0;  // null when e2e_latency_ms is set
  std::optional<double> itl_ms = 30.0;     // null when e2e_latency_ms is set
  std::optional<double> e2e_latency_ms;
  std::optional<OptimizationType> optimization_type;
  bool ttft_set_explicitly = false;  // pydantic model_fields_set: copied to the planner config only when set
  bool itl_set_explicitly = false;
};

// features.planner: the raw PlannerConfig object (presence enables the planner), with the fields
// the profiler reads resolved to their effective values (PlannerConfig defaults and validators).
struct PlannerSpec {
  Json raw = Json::object();  // as given (older typed form converted to the raw form)
  SweepMode sweep_mode = SweepMode::kRapid;    // pre_deployment_sweeping_mode
  std::string optimization_target = "throughput";
  bool enable_throughput_scaling = false;  // effective value after the optimization_target rule
  bool enable_load_scaling = true;
  std::string mode = "disagg";  // disagg | prefill | decode | agg
  bool advisory = false;
  bool ScalingEnabled() const { return enable_throughput_scaling || enable_load_scaling; }
};

struct FeaturesSpec {
  std::optional<PlannerSpec> planner;
  std::optional<bool> mocker_enabled;
  std::optional<bool> kv_router_enabled;
};

struct OverridesSpec {
  std::optional<Json> profiling_job;  // batchv1.JobSpec fragment
  std::optional<Json> dgd;            // partial DGD (apiVersion + kind + ...)
  std::optional<bool> trust_remote_code;
};

struct DgdrSpec {
  std::string model;
  Backend backend = Backend::kAuto;
  std::string image;
  std::optional<std::string> runtime_version_override;
  ModelCacheSpec model_cache;
  bool has_model_cache = false;
  std::optional<HardwareSpec> hardware;
  std::optional<WorkloadSpec> workload;  // null → defaults at validation
  std::optional<SlaSpec> sla;            // null → defaults at validation
  FeaturesSpec features;
  SearchStrategy search_strategy = SearchStrategy::kRapid;
  bool auto_apply = true;
  OverridesSpec overrides;

  // metadata.name when the input was a whole DGDR object.
  std::optional<std::string> dgdr_name;

  bool PlannerEnabled() const { return features.planner.has_value(); }
  bool MockerEnabled() const { return features.mocker_enabled.value_or(false); }
  // needs_profile_data: mocker enabled, or planner with throughput scaling.
  bool NeedsProfileData() const;
  // Workload and SLA with defaults applied.
  WorkloadSpec WorkloadOrDefault() const { return workload.value_or(WorkloadSpec{}); }
  SlaSpec SlaOrDefault() const { return sla.value_or(SlaSpec{}); }
};

// determine_picking_mode: autoscale if a scaling-enabled planner is present, load_match if a
// target load (requestRate or concurrency) is given, default otherwise.
PickingMode DeterminePickingMode(const DgdrSpec& spec);

}  // namespace dyprof

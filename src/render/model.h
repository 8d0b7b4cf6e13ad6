// The internal deployment model: one DynamoGraphDeployment as the profiler builds it, independent of
// the CRD version. Both emitters (emit.h: v1beta1 `spec.components`, v1alpha1 `spec.services`) read
// only this, so the two API shapes cannot drift apart.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/document.h"

namespace dyprof {

// What a component does. v1beta1 writes it as `type`; v1alpha1 as componentType + subComponentType.
enum class ComponentRole { kFrontend, kWorker, kPrefill, kDecode, kPlanner };

std::string_view ComponentRoleName(ComponentRole role);  // "frontend", "worker", "prefill", ...

struct EnvVar {
  std::string name;
  std::string value;
  friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

// A pod volume: an existing PVC (v1alpha1: spec.pvcs + service volumeMounts) or a ConfigMap.
struct Volume {
  std::string name;
  std::optional<std::string> pvc_claim;   // persistentVolumeClaim.claimName
  std::optional<std::string> config_map;  // configMap.name
};

struct VolumeMount {
  std::string name;  // a Volume of the same component
  std::string mount_path;
  bool read_only = false;
};

struct Component {
  std::string name;
  ComponentRole role = ComponentRole::kWorker;
  int replicas = 1;
  std::string image;
  std::string working_dir;
  std::vector<std::string> command;
  std::vector<std::string> args;
  int gpus = 0;        // per-pod nvidia.com/gpu limit; 0: none
  int node_count = 1;  // > 1: multinode
  std::vector<EnvVar> env;
  std::optional<std::string> env_from_secret;  // envFrom secretRef
  bool env_from_secret_optional = false;
  std::vector<Volume> volumes;
  std::vector<VolumeMount> mounts;
  bool scaling_adapter = false;
  std::optional<std::string> runtime_version_override;
  Json tolerations = Json::array();  // core/v1 Toleration objects

  bool IsWorker() const {
    return role == ComponentRole::kWorker || role == ComponentRole::kPrefill || role == ComponentRole::kDecode;
  }
  // Sets (replacing any) environment variable `name`.
  void SetEnv(const std::string& name, const std::string& value);
};

struct Deployment {
  std::string name;  // metadata.name
  std::vector<Component> components;

  Component* Find(std::string_view name);
  const Component* Find(std::string_view name) const;
};

}  // namespace dyprof

#include "render/emit.h"

#include "common/strings.h"

namespace dyprof {

Result<DgdApiVersion> ParseDgdApiVersion(std::string_view s) {
  std::string v = ToLower(Trim(s));
  if (v == "v1beta1" || v == "nvidia.com/v1beta1") return DgdApiVersion::kV1beta1;
  if (v == "v1alpha1" || v == "nvidia.com/v1alpha1") return DgdApiVersion::kV1alpha1;
  return Status::InvalidArgument("--dgd-api-version: expected 'v1beta1' or 'v1alpha1' (found '" + std::string(s) + "')");
}

std::string DgdApiVersionString(DgdApiVersion v) {
  return v == DgdApiVersion::kV1beta1 ? "nvidia.com/v1beta1" : "nvidia.com/v1alpha1";
}

namespace {

Json StringList(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

Json EnvList(const std::vector<EnvVar>& env) {
  Json out = Json::array();
  for (const auto& e : env) out.push_back({{"name", e.name}, {"value", e.value}});
  return out;
}

Json EnvFromSecret(const Component& c) {
  Json ref = {{"name", *c.env_from_secret}};
  if (c.env_from_secret_optional) ref["optional"] = true;
  return Json::array({{{"secretRef", ref}}});
}

Json PodVolume(const Volume& v) {
  Json out = {{"name", v.name}};
  if (v.pvc_claim) out["persistentVolumeClaim"] = {{"claimName", *v.pvc_claim}};
  if (v.config_map) out["configMap"] = {{"name", *v.config_map}};
  return out;
}

Json ContainerMount(const VolumeMount& m) {
  Json out = {{"name", m.name}, {"mountPath", m.mount_path}};
  if (m.read_only) out["readOnly"] = true;
  return out;
}

const Volume* FindVolume(const Component& c, const std::string& name) {
  for (const auto& v : c.volumes)
    if (v.name == name) return &v;
  return nullptr;
}

// The fields of the main container common to both versions (image .. env).
void FillMainContainer(const Component& c, Json& mc) {
  if (!c.image.empty()) mc["image"] = c.image;
  if (!c.working_dir.empty()) mc["workingDir"] = c.working_dir;
  if (!c.command.empty()) mc["command"] = StringList(c.command);
  if (!c.args.empty()) mc["args"] = StringList(c.args);
  if (!c.env.empty()) mc["env"] = EnvList(c.env);
}

Json V1beta1Component(const Component& c) {
  Json out = {{"name", c.name}, {"type", std::string(ComponentRoleName(c.role))}, {"replicas", c.replicas}};
  if (c.node_count > 1) out["multinode"] = {{"nodeCount", c.node_count}};
  if (c.scaling_adapter) out["scalingAdapter"] = Json::object();
  if (c.runtime_version_override) out["runtimeVersionOverride"] = *c.runtime_version_override;

  Json mc = {{"name", "main"}};
  FillMainContainer(c, mc);
  if (c.env_from_secret) mc["envFrom"] = EnvFromSecret(c);
  if (c.gpus > 0) mc["resources"] = {{"limits", {{"nvidia.com/gpu", std::to_string(c.gpus)}}}};
  if (!c.mounts.empty()) {
    Json mounts = Json::array();
    for (const auto& m : c.mounts) mounts.push_back(ContainerMount(m));
    mc["volumeMounts"] = mounts;
  }
  Json spec = {{"containers", Json::array({mc})}};
  if (!c.volumes.empty()) {
    Json vols = Json::array();
    for (const auto& v : c.volumes) vols.push_back(PodVolume(v));
    spec["volumes"] = vols;
  }
  if (!c.tolerations.empty()) spec["tolerations"] = c.tolerations;
  out["podTemplate"] = {{"spec", spec}};
  return out;
}

Json V1alpha1Service(const Component& c) {
  Json out = Json::object();
  switch (c.role) {
    case ComponentRole::kFrontend: out["componentType"] = "frontend"; break;
    case ComponentRole::kPlanner: out["componentType"] = "planner"; break;
    case ComponentRole::kWorker: out["componentType"] = "worker"; break;
    case ComponentRole::kPrefill:
      out["componentType"] = "worker";
      out["subComponentType"] = "prefill";
      break;
    case ComponentRole::kDecode:
      out["componentType"] = "worker";
      out["subComponentType"] = "decode";
      break;
  }
  out["replicas"] = c.replicas;
  if (c.node_count > 1) out["multinode"] = {{"nodeCount", c.node_count}};
  if (c.scaling_adapter) out["scalingAdapter"] = {{"enabled", true}};
  if (c.runtime_version_override) out["runtimeVersionOverride"] = *c.runtime_version_override;
  if (c.env_from_secret && !c.env_from_secret_optional) out["envFromSecret"] = *c.env_from_secret;
  if (c.gpus > 0) out["resources"] = {{"limits", {{"gpu", std::to_string(c.gpus)}}}};

  // PVC mounts are service-level volumeMounts (the PVC is declared in spec.pvcs); every other
  // volume stays a pod volume in extraPodSpec.
  Json service_mounts = Json::array();
  Json pod_mounts = Json::array();
  Json pod_volumes = Json::array();
  for (const auto& m : c.mounts) {
    const Volume* v = FindVolume(c, m.name);
    if (v && v->pvc_claim) {
      service_mounts.push_back({{"name", *v->pvc_claim}, {"mountPoint", m.mount_path}});
    } else {
      pod_mounts.push_back(ContainerMount(m));
    }
  }
  for (const auto& v : c.volumes)
    if (!v.pvc_claim) pod_volumes.push_back(PodVolume(v));
  if (!service_mounts.empty()) out["volumeMounts"] = service_mounts;

  Json extra = Json::object();
  if (!c.tolerations.empty()) extra["tolerations"] = c.tolerations;
  if (!pod_volumes.empty()) extra["volumes"] = pod_volumes;
  Json mc = Json::object();
  FillMainContainer(c, mc);
  if (c.env_from_secret && c.env_from_secret_optional) mc["envFrom"] = EnvFromSecret(c);
  if (!pod_mounts.empty()) mc["volumeMounts"] = pod_mounts;
  extra["mainContainer"] = mc;
  out["extraPodSpec"] = extra;
  return out;
}

}  // namespace

Json EmitV1beta1(const Deployment& d) {
  Json components = Json::array();
  for (const auto& c : d.components) components.push_back(V1beta1Component(c));
  return {{"apiVersion", "nvidia.com/v1beta1"},
          {"kind", "DynamoGraphDeployment"},
          {"metadata", {{"name", d.name}}},
          {"spec", {{"components", components}}}};
}

Json EmitV1alpha1(const Deployment& d) {
  Json spec = Json::object();
  Json pvcs = Json::array();
  for (const auto& c : d.components)
    for (const auto& v : c.volumes)
      if (v.pvc_claim) {
        Json entry = {{"name", *v.pvc_claim}, {"create", false}};
        if (std::find(pvcs.begin(), pvcs.end(), entry) == pvcs.end()) pvcs.push_back(entry);
      }
  if (!pvcs.empty()) spec["pvcs"] = pvcs;
  Json services = Json::object();
  for (const auto& c : d.components) services[c.name] = V1alpha1Service(c);
  spec["services"] = services;
  return {{"apiVersion", "nvidia.com/v1alpha1"},
          {"kind", "DynamoGraphDeployment"},
          {"metadata", {{"name", d.name}}},
          {"spec", spec}};
}

Json EmitDgd(const Deployment& d, DgdApiVersion v) {
  return v == DgdApiVersion::kV1beta1 ? EmitV1beta1(d) : EmitV1alpha1(d);
}

Json ConfigMapDocument(const std::string& name, const Json& data) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
}

}  // namespace dyprof

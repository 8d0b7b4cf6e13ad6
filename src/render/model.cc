#include "render/model.h"

namespace dyprof {

std::string_view ComponentRoleName(ComponentRole role) {
  switch (role) {
    case ComponentRole::kFrontend: return "frontend";
    case ComponentRole::kWorker: return "worker";
    case ComponentRole::kPrefill: return "prefill";
    case ComponentRole::kDecode: return "decode";
    case ComponentRole::kPlanner: return "planner";
  }
  return "worker";
}

void Component::SetEnv(const std::string& name, const std::string& value) {
  std::erase_if(env, [&](const EnvVar& e) { return e.name == name; });
  env.push_back({name, value});
}

Component* Deployment::Find(std::string_view name) {
  for (auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

const Component* Deployment::Find(std::string_view name) const {
  for (const auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace dyprof

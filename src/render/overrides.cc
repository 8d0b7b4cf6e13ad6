#include "render/overrides.h"

namespace dyprof {

namespace {

void Warn(std::vector<std::string>* warnings, std::string w) {
  if (warnings) warnings->push_back(std::move(w));
}

// Python apply_dgd_overrides: dicts merge recursively, a worker's mainContainer.args list is
// appended, anything else replaces.
void LegacyMerge(Json& base, const Json& ov, const std::string& path, bool append_args) {
  for (auto it = ov.begin(); it != ov.end(); ++it) {
    const std::string& key = it.key();
    std::string sub = path.empty() ? key : path + "." + key;
    auto b = base.find(key);
    if (b != base.end() && b->is_object() && it->is_object()) {
      LegacyMerge(*b, *it, sub, append_args);
    } else if (append_args && sub == "extraPodSpec.mainContainer.args" && b != base.end() && b->is_array() &&
               it->is_array()) {
      for (const auto& a : *it) b->push_back(a);
    } else {
      base[key] = *it;
    }
  }
}

bool IsNamedList(const Json& list) {
  if (!list.is_array()) return false;
  for (const auto& e : list)
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) return false;
  return true;
}

// v1beta1 structural merge. `append_main_args`: append (instead of replace) the args of the
// container named "main" (legacy overrides translated to v1beta1 keep their append semantics).
void StructuralMerge(Json& base, const Json& ov, bool append_main_args, bool in_main_container) {
  for (auto it = ov.begin(); it != ov.end(); ++it) {
    const std::string& key = it.key();
    auto b = base.find(key);
    if (b == base.end()) {
      base[key] = *it;
      continue;
    }
    if (b->is_object() && it->is_object()) {
      StructuralMerge(*b, *it, append_main_args, false);
    } else if (in_main_container && append_main_args && key == "args" && b->is_array() && it->is_array()) {
      for (const auto& a : *it) b->push_back(a);
    } else if (IsNamedList(*b) && IsNamedList(*it) && !it->empty()) {
      for (const auto& item : *it) {
        auto match = std::find_if(b->begin(), b->end(), [&](const Json& e) { return e["name"] == item["name"]; });
        if (match == b->end()) {
          b->push_back(item);
        } else {
          bool main = key == "containers" && item["name"] == "main";
          StructuralMerge(*match, item, append_main_args, main);
        }
      }
    } else {
      *b = *it;
    }
  }
}

const char* kGpuKeys[][2] = {{"gpu", "nvidia.com/gpu"}, {"cpu", "cpu"}, {"memory", "memory"}};

Json ConvertResources(const Json& res, const std::string& where, std::vector<std::string>* warnings) {
  Json out = Json::object();
  for (auto it = res.begin(); it != res.end(); ++it) {
    if ((it.key() != "limits" && it.key() != "requests") || !it->is_object()) {
      Warn(warnings, where + ".resources." + it.key() + " has no v1beta1 equivalent; ignored");
      continue;
    }
    Json q = Json::object();
    for (auto f = it->begin(); f != it->end(); ++f) {
      bool mapped = false;
      for (const auto& kv : kGpuKeys)
        if (f.key() == kv[0]) {
          q[kv[1]] = *f;
          mapped = true;
        }
      if (mapped) continue;
      if (f.key() == "custom" && f->is_object()) {
        for (auto c = f->begin(); c != f->end(); ++c) q[c.key()] = *c;
      } else {
        Warn(warnings, where + ".resources." + it.key() + "." + f.key() + " has no v1beta1 equivalent; ignored");
      }
    }
    out[it.key()] = q;
  }
  return out;
}

}  // namespace

Json ConvertServiceToComponent(const Json& service, const std::string& service_name,
                               std::vector<std::string>* warnings) {
  const std::string where = "overrides.dgd.spec.services." + service_name;
  Json comp = Json::object();
  Json container = {{"name", "main"}};
  Json podspec = Json::object();
  Json podmeta = Json::object();
  Json volumes = Json::array();
  Json mounts = Json::array();
  for (auto it = service.begin(); it != service.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = *it;
    if (k == "replicas" || k == "minAvailable" || k == "multinode" || k == "runtimeVersionOverride" ||
        k == "modelRef" || k == "eppConfig" || k == "frontendSidecar" || k == "globalDynamoNamespace" ||
        k == "topologyConstraint") {
      comp[k] = v;
    } else if (k == "scalingAdapter") {
      if (IsTrueField(v, "enabled")) {
        comp["scalingAdapter"] = Json::object();
      } else {
        Warn(warnings, where + ".scalingAdapter: only {enabled: true} maps to v1beta1; ignored");
      }
    } else if (k == "sharedMemory" && v.is_object()) {
      if (v.contains("size")) comp["sharedMemorySize"] = v["size"];
      if (v.contains("disabled")) Warn(warnings, where + ".sharedMemory.disabled has no v1beta1 equivalent; ignored");
    } else if (k == "resources" && v.is_object()) {
      container["resources"] = ConvertResources(v, where, warnings);
    } else if (k == "envs") {
      container["env"] = v;
    } else if (k == "envFromSecret" && v.is_string()) {
      container["envFrom"] = Json::array({{{"secretRef", {{"name", v}}}}});
    } else if (k == "livenessProbe" || k == "readinessProbe") {
      container[k] = v;
    } else if (k == "volumeMounts" && v.is_array()) {
      for (const auto& m : v) {
        if (!m.is_object() || !m.contains("name") || !m.contains("mountPoint")) {
          Warn(warnings, where + ".volumeMounts: an entry without name and mountPoint is ignored");
          continue;
        }
        mounts.push_back({{"name", m["name"]}, {"mountPath", m["mountPoint"]}});
        volumes.push_back({{"name", m["name"]}, {"persistentVolumeClaim", {{"claimName", m["name"]}}}});
      }
    } else if (k == "extraPodSpec" && v.is_object()) {
      for (auto e = v.begin(); e != v.end(); ++e) {
        if (e.key() == "mainContainer" && e->is_object()) {
          for (auto f = e->begin(); f != e->end(); ++f)
            if (f.key() != "name") container[f.key()] = *f;
        } else {
          podspec[e.key()] = *e;
        }
      }
    } else if (k == "extraPodMetadata" && v.is_object()) {
      for (auto e = v.begin(); e != v.end(); ++e) podmeta[e.key()] = *e;
    } else if (k == "annotations" || k == "labels") {
      podmeta[k] = v;
    } else {
      Warn(warnings, where + "." + k + " has no v1beta1 component equivalent; ignored");
    }
  }
  if (!mounts.empty()) {
    Json& cm = container["volumeMounts"];
    if (!cm.is_array()) cm = Json::array();
    for (const auto& m : mounts) cm.push_back(m);
    Json& pv = podspec["volumes"];
    if (!pv.is_array()) pv = Json::array();
    for (const auto& x : volumes) pv.push_back(x);
  }
  if (container.size() > 1) podspec["containers"] = Json::array({container});
  if (!podspec.empty() || !podmeta.empty()) {
    Json tmpl = Json::object();
    if (!podmeta.empty()) tmpl["metadata"] = podmeta;
    if (!podspec.empty()) tmpl["spec"] = podspec;
    comp["podTemplate"] = tmpl;
  }
  return comp;
}

Status ApplyDgdOverrides(Json& dgd, const Json& overrides, std::vector<std::string>* warnings) {
  if (!overrides.is_object()) return Status::InvalidSpec("overrides.dgd: expected a mapping, found " + DescribeJsonType(overrides));
  if (!dgd.is_object() || !dgd.contains("spec")) return Status::Internal("overrides.dgd: no generated DGD to apply to");
  const bool target_beta = StringField(dgd, "apiVersion") == "nvidia.com/v1beta1";

  if (auto m = overrides.find("metadata"); m != overrides.end() && m->is_object()) {
    Json& meta = dgd["metadata"];
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it.key() == "name" && it->is_string()) {
        meta["name"] = *it;
      } else if ((it.key() == "labels" || it.key() == "annotations") && it->is_object()) {
        Json& dst = meta[it.key()];
        if (!dst.is_object()) dst = Json::object();
        for (auto kv = it->begin(); kv != it->end(); ++kv) dst[kv.key()] = *kv;
      } else {
        Warn(warnings, "overrides.dgd.metadata." + it.key() + " is not applied to the DGD");
      }
    }
  }

  auto s = overrides.find("spec");
  if (s == overrides.end() || s->is_null()) return Status::Ok();
  if (!s->is_object()) return Status::InvalidSpec("overrides.dgd.spec: expected a mapping, found " + DescribeJsonType(*s));
  Json& spec = dgd["spec"];

  for (auto it = s->begin(); it != s->end(); ++it) {
    const std::string& key = it.key();
    if (key == "services") {
      if (!it->is_object()) return Status::InvalidSpec("overrides.dgd.spec.services: expected a mapping, found " + DescribeJsonType(*it));
      for (auto svc = it->begin(); svc != it->end(); ++svc) {
        const std::string& name = svc.key();
        if (!svc->is_object()) {
          Warn(warnings, "overrides.dgd.spec.services." + name + " is not a mapping; skipped");
          continue;
        }
        if (target_beta) {
          Json& comps = spec["components"];
          auto c = std::find_if(comps.begin(), comps.end(), [&](const Json& e) { return StringField(e, "name") == name; });
          if (c == comps.end()) {
            Warn(warnings, "overrides.dgd: service '" + name + "' does not exist in the generated DGD; skipped");
            continue;
          }
          std::string type = StringField(*c, "type");
          bool worker = type == "worker" || type == "prefill" || type == "decode";
          StructuralMerge(*c, ConvertServiceToComponent(*svc, name, warnings), worker, false);
        } else {
          Json& services = spec["services"];
          if (!services.contains(name)) {
            Warn(warnings, "overrides.dgd: service '" + name + "' does not exist in the generated DGD; skipped");
            continue;
          }
          Json& base = services[name];
          LegacyMerge(base, *svc, "", StringField(base, "componentType") == "worker");
        }
      }
    } else if (key == "components") {
      if (!target_beta)
        return Status::InvalidSpec(
            "overrides.dgd.spec.components is v1beta1 but the DGD is rendered as nvidia.com/v1alpha1; use "
            "spec.services in the override or --dgd-api-version v1beta1");
      if (!it->is_array()) return Status::InvalidSpec("overrides.dgd.spec.components: expected a list, found " + DescribeJsonType(*it));
      Json& comps = spec["components"];
      for (const auto& item : *it) {
        std::string name = StringField(item, "name");
        if (name.empty()) {
          Warn(warnings, "overrides.dgd.spec.components: an entry without a string name (found " +
                             (item.is_object() && item.contains("name") ? DescribeJsonType(item["name"])
                                                                        : std::string("none")) +
                             ") is skipped");
          continue;
        }
        auto c = std::find_if(comps.begin(), comps.end(), [&](const Json& e) { return StringField(e, "name") == name; });
        if (c == comps.end()) {
          Warn(warnings, "overrides.dgd: component '" + name + "' does not exist in the generated DGD; skipped");
          continue;
        }
        StructuralMerge(*c, item, false, false);
      }
    } else if (target_beta && (key == "pvcs" || key == "envs")) {
      if (key == "envs") {
        spec["env"] = *it;
      } else {
        Warn(warnings, "overrides.dgd.spec.pvcs has no v1beta1 equivalent (use pod volumes); ignored");
      }
    } else {
      auto b = spec.find(key);
      if (b != spec.end() && b->is_object() && it->is_object()) {
        StructuralMerge(*b, *it, false, false);
      } else {
        spec[key] = *it;
      }
    }
  }
  return Status::Ok();
}

}  // namespace dyprof

#include "spec/spec_parser.h"

#include <cmath>
#include <algorithm>
#include <limits>
#include <regex>

#include "common/strings.h"

namespace dyprof {

namespace {

// Walks one mapping of the document, reading typed fields and recording problems with key paths.
class MapReader {
 public:
  MapReader(const Json& map, std::string path, std::vector<std::string>* errors,
            std::vector<std::string>* warnings)
      : map_(map), path_(std::move(path)), errors_(errors), warnings_(warnings) {}

  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  // The value at `key`, or nullptr when absent or null. Records the key as known.
  const Json* Get(const std::string& key) {
    known_.push_back(key);
    auto it = map_.find(key);
    if (it == map_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void TypeError(const std::string& key, const std::string& expected, const Json& found) {
    errors_->push_back(Path(key) + ": expected " + expected + ", found " + DescribeJsonType(found) + " (" +
                       ShortValue(found) + ")");
  }
  void ValueError(const std::string& key, const std::string& what) { errors_->push_back(Path(key) + ": " + what); }

  std::optional<std::string> String(const std::string& key) {
    const Json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      TypeError(key, "a string", *v);
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<bool> Bool(const std::string& key) {
    const Json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      TypeError(key, "a boolean (true or false)", *v);
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<double> Number(const std::string& key) {
    const Json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_number() || v->is_boolean()) {
      TypeError(key, "a number", *v);
      return std::nullopt;
    }
    double d = v->get<double>();
    if (!std::isfinite(d)) {
      ValueError(key, "expected a finite number, found " + ShortValue(*v));
      return std::nullopt;
    }
    return d;
  }

  // An integer in [lo, hi]. Floats with an integral value (4000.0) are accepted, as pydantic does.
  std::optional<int> Int(const std::string& key, int64_t lo = std::numeric_limits<int32_t>::min(),
                         int64_t hi = std::numeric_limits<int32_t>::max()) {
    const Json* v = Get(key);
    if (!v) return std::nullopt;
    double d;
    if (v->is_number_integer() || v->is_number_unsigned()) {
      d = v->get<double>();
    } else if (v->is_number_float() && std::isfinite(v->get<double>()) && std::floor(v->get<double>()) == v->get<double>()) {
      d = v->get<double>();
    } else {
      TypeError(key, "an integer", *v);
      return std::nullopt;
    }
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
      ValueError(key, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " +
                          ShortValue(*v));
      return std::nullopt;
    }
    return static_cast<int>(d);
  }

  // A nested mapping; nullopt when absent, null or of another type (recorded).
  const Json* Object(const std::string& key) {
    const Json* v = Get(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
      TypeError(key, "a mapping", *v);
      return nullptr;
    }
    return v;
  }

  // Warns about every key not read through this reader.
  void WarnUnknownKeys() {
    for (const auto& [k, v] : map_.items()) {
      if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
      std::string hint = ClosestMatch(k, known_);
      warnings_->push_back("unknown key '" + Path(k) + "' ignored" +
                           (hint.empty() ? "" : " (did you mean '" + Path(hint) + "'?)"));
    }
  }

  std::vector<std::string>* errors() { return errors_; }
  std::vector<std::string>* warnings() { return warnings_; }

 private:
  const Json& map_;
  std::string path_;
  std::vector<std::string>* errors_;
  std::vector<std::string>* warnings_;
  std::vector<std::string> known_;
};

// A user's string for an error message: at most ~60 characters.
std::string Clip(const std::string& s) { return s.size() > 60 ? s.substr(0, 57) + "..." : s; }

std::optional<std::string> EnumValue(MapReader& r, const std::string& key, const std::vector<std::string>& allowed) {
  auto s = r.String(key);
  if (!s) return std::nullopt;
  std::string l = ToLower(*s);
  for (const auto& a : allowed)
    if (a == l) return a;
  std::string hint = ClosestMatch(*s, allowed);
  r.ValueError(key, "expected one of " + Join(allowed, ", ") + ", found '" + Clip(*s) + "'" +
                        (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  return std::nullopt;
}

std::optional<SweepMode> ParseSweepMode(const std::string& s) {
  std::string l = ToLower(s);
  if (l == "none") return SweepMode::kNone;
  if (l == "rapid") return SweepMode::kRapid;
  if (l == "thorough") return SweepMode::kThorough;
  return std::nullopt;
}

// Resolves a PlannerConfig object: defaults (SLAPlannerDefaults) and the optimization_target rule
// (anything but "sla" forces load scaling on and throughput scaling off).
void ResolvePlanner(const Json& raw, const std::string& path, PlannerSpec& p, std::vector<std::string>* errors) {
  p.raw = raw;
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = raw.find(key);
    if (it == raw.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      errors->push_back(path + "." + key + ": expected a string, found " + DescribeJsonType(*it) + " (" +
                        ShortValue(*it) + ")");
      return std::nullopt;
    }
    return it->get<std::string>();
  };
  auto boolean = [&](const char* key) -> std::optional<bool> {
    auto it = raw.find(key);
    if (it == raw.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
      errors->push_back(path + "." + key + ": expected a boolean (true or false), found " + DescribeJsonType(*it) +
                        " (" + ShortValue(*it) + ")");
      return std::nullopt;
    }
    return it->get<bool>();
  };
  if (auto s = str("pre_deployment_sweeping_mode")) {
    if (auto m = ParseSweepMode(*s)) p.sweep_mode = *m;
    else errors->push_back(path + ".pre_deployment_sweeping_mode: expected one of none, rapid, thorough, found '" + Clip(*s) + "'");
  } else if (raw.contains("pre_deployment_sweeping_mode") && raw["pre_deployment_sweeping_mode"].is_null()) {
    p.sweep_mode = SweepMode::kNone;
  }
  if (auto s = str("optimization_target")) {
    static const std::vector<std::string> kTargets = {"throughput", "latency", "sla", "load"};
    std::string l = ToLower(*s);
    if (std::find(kTargets.begin(), kTargets.end(), l) == kTargets.end())
      errors->push_back(path + ".optimization_target: expected one of throughput, latency, sla, load, found '" + Clip(*s) + "'");
    p.optimization_target = l;
  }
  if (auto s = str("mode")) {
    static const std::vector<std::string> kModes = {"disagg", "prefill", "decode", "agg"};
    std::string l = ToLower(*s);
    if (std::find(kModes.begin(), kModes.end(), l) == kModes.end())
      errors->push_back(path + ".mode: expected one of disagg, prefill, decode, agg, found '" + Clip(*s) + "'");
    p.mode = l;
  }
  bool throughput = boolean("enable_throughput_scaling").value_or(true);
  bool load = boolean("enable_load_scaling").value_or(false);
  p.advisory = boolean("advisory").value_or(false);
  if (p.optimization_target != "sla") {
    throughput = false;
    load = true;
  }
  if (!throughput && !load)
    errors->push_back(path + ": at least one of enable_throughput_scaling or enable_load_scaling must be true");
  if (throughput && p.sweep_mode == SweepMode::kNone)
    errors->push_back(path + ": enable_throughput_scaling requires pre_deployment_sweeping_mode other than 'none'");
  p.enable_throughput_scaling = throughput;
  p.enable_load_scaling = load;
}

// Older typed form {enabled, plannerPreDeploymentSweeping, plannerArgsList} → raw PlannerConfig.
std::optional<Json> ConvertTypedPlanner(const Json& typed, const std::string& path, std::vector<std::string>* errors) {
  auto enabled = typed.find("enabled");
  if (enabled != typed.end() && enabled->is_boolean() && !enabled->get<bool>()) return std::nullopt;
  Json raw = Json::object();
  if (auto it = typed.find("plannerPreDeploymentSweeping"); it != typed.end() && it->is_string())
    raw["pre_deployment_sweeping_mode"] = ToLower(it->get<std::string>());
  if (auto it = typed.find("plannerArgsList"); it != typed.end()) {
    if (!it->is_array()) {
      errors->push_back(path + ".plannerArgsList: expected a list, found " + DescribeJsonType(*it));
      return raw;
    }
    // "--some-flag value" pairs become some_flag: value; a bare flag becomes true.
    const Json& args = *it;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!args[i].is_string()) continue;
      std::string a = args[i].get<std::string>();
      if (!StartsWith(a, "--")) continue;
      std::string key = a.substr(2);
      std::string value;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      } else if (i + 1 < args.size() && args[i + 1].is_string() && !StartsWith(args[i + 1].get<std::string>(), "--")) {
        value = args[++i].get<std::string>();
      } else {
        value = "true";
      }
      for (char& c : key)
        if (c == '-') c = '_';
      Json typed_value = value;
      if (value == "true") typed_value = true;
      else if (value == "false") typed_value = false;
      raw[key] = typed_value;
    }
  }
  return raw;
}

void ParseSla(MapReader& r, const Json& obj, SlaSpec& sla, std::vector<std::string>* errors) {
  sla.ttft_set_explicitly = obj.contains("ttft") && !obj["ttft"].is_null();
  sla.itl_set_explicitly = obj.contains("itl") && !obj["itl"].is_null();
  auto ttft = r.Number("ttft");
  auto itl = r.Number("itl");
  auto e2e = r.Number("e2eLatency");
  if (auto o = EnumValue(r, "optimizationType", {"latency", "throughput"}))
    sla.optimization_type = *o == "latency" ? OptimizationType::kLatency : OptimizationType::kThroughput;
  // Explicit nulls clear the defaults.
  sla.ttft_ms = obj.contains("ttft") ? ttft : std::optional<double>(2000.0);
  sla.itl_ms = obj.contains("itl") ? itl : std::optional<double>(30.0);
  sla.e2e_latency_ms = e2e;
  for (auto [name, value] : {std::pair{"ttft", ttft}, {"itl", itl}, {"e2eLatency", e2e}}) {
    if (value && *value <= 0) errors->push_back(std::string(name) + " must be positive.");
  }
  if (sla.e2e_latency_ms) {
    sla.ttft_ms.reset();
    sla.itl_ms.reset();
  } else if (!sla.ttft_ms || !sla.itl_ms) {
    errors->push_back("Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec.");
  }
}

}  // namespace

// A DGDR is a Kubernetes object (etcd refuses objects over ~1.5 MB); a spec far larger than that
// is a mistake (a wrong file, a log pasted in) and only makes every later step slow.
constexpr size_t kMaxSpecBytes = 4u << 20;

Result<Json> LoadConfigDocument(const std::string& config_arg, const FileSystem& fs) {
  const std::string kNeither =
      "--config value is neither a valid file path nor valid JSON. Pass a path to a .yaml/.yml/.json spec file or "
      "an inline JSON object.";
  // Very long values are inline JSON (a path lookup would fail with ENAMETOOLONG).
  bool maybe_path = config_arg.size() < 4096 && !config_arg.empty() && config_arg.front() != '{';
  if (maybe_path && fs.IsFile(config_arg)) {
    DYPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(config_arg));
    if (text.size() > kMaxSpecBytes)
      return Status::InvalidSpec(config_arg + ": spec is " + std::to_string(text.size()) +
                                 " bytes; the limit is 4 MiB (a DGDR must fit in a Kubernetes object)");
    std::string lower = ToLower(config_arg);
    if (EndsWith(lower, ".json")) {
      auto r = ParseJson(text);
      if (!r.ok()) return Status::InvalidSpec(config_arg + ": " + r.status().message());
      return r;
    }
    if (EndsWith(lower, ".yaml") || EndsWith(lower, ".yml")) {
      auto r = ParseYaml(text);
      if (!r.ok()) return Status::InvalidSpec(config_arg + ": " + r.status().message());
      return r;
    }
    auto j = ParseJson(text);
    if (j.ok()) return j;
    auto y = ParseYaml(text);
    if (!y.ok()) return Status::InvalidSpec(config_arg + ": " + y.status().message());
    return y;
  }
  if (maybe_path && fs.IsDirectory(config_arg))
    return Status::InvalidSpec("--config " + config_arg + " is a directory, not a spec file");
  auto j = ParseJson(config_arg);
  if (!j.ok()) return Status::InvalidSpec(kNeither);
  return j;
}

Result<ParsedSpec> ParseDgdrSpec(const Json& doc) {
  ParsedSpec out;
  std::vector<std::string> errors;
  if (!doc.is_object())
    return Status::InvalidSpec("spec: expected a mapping, found " + DescribeJsonType(doc) + " (" + ShortValue(doc) + ")");

  const Json* spec_json = &doc;
  std::string root;
  if (doc.contains("spec") && (doc.contains("kind") || doc.contains("apiVersion"))) {
    out.whole_dgdr = true;
    if (auto k = doc.find("kind"); k != doc.end() && k->is_string() && k->get<std::string>() != "DynamoGraphDeploymentRequest")
      errors.push_back("kind: expected DynamoGraphDeploymentRequest, found '" + Clip(k->get<std::string>()) + "'");
    if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
      if (auto n = m->find("name"); n != m->end() && n->is_string()) out.spec.dgdr_name = n->get<std::string>();
    }
    spec_json = &doc["spec"];
    root = "spec";
    if (!spec_json->is_object())
      return Status::InvalidSpec("spec: expected a mapping, found " + DescribeJsonType(*spec_json));
  }

  DgdrSpec& s = out.spec;
  MapReader r(*spec_json, root, &errors, &out.warnings);

  if (auto m = r.String("model")) s.model = *m;
  if (s.model.empty()) errors.push_back(r.Path("model") + ": required, must be a non-empty string (the Hugging Face id or a local path)");
  if (auto b = EnumValue(r, "backend", {"auto", "sglang", "trtllm", "vllm"})) s.backend = *ParseBackend(*b);
  if (auto i = r.String("image")) s.image = *i;
  if (auto v = r.String("runtimeVersionOverride")) {
    static const std::regex kVersion(R"(^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$)");
    if (!std::regex_match(*v, kVersion))
      r.ValueError("runtimeVersionOverride", "expected a version like 1.2.3, found '" + Clip(*v) + "'");
    s.runtime_version_override = *v;
  }
  if (auto st = EnumValue(r, "searchStrategy", {"rapid", "thorough"}))
    s.search_strategy = *st == "rapid" ? SearchStrategy::kRapid : SearchStrategy::kThorough;
  if (auto a = r.Bool("autoApply")) s.auto_apply = *a;

  if (const Json* mc = r.Object("modelCache")) {
    s.has_model_cache = true;
    MapReader m(*mc, r.Path("modelCache"), &errors, &out.warnings);
    s.model_cache.pvc_name = m.String("pvcName");
    s.model_cache.pvc_model_path = m.String("pvcModelPath");
    s.model_cache.pvc_mount_path = m.String("pvcMountPath");
    m.WarnUnknownKeys();
  }

  if (const Json* hw = r.Object("hardware")) {
    MapReader h(*hw, r.Path("hardware"), &errors, &out.warnings);
    HardwareSpec hs;
    hs.gpu_sku = h.String("gpuSku");
    hs.vram_mb = h.Number("vramMb");
    if (hs.vram_mb && *hs.vram_mb <= 0) h.ValueError("vramMb", "must be positive (got " + FormatPyFloat(*hs.vram_mb) + ")");
    hs.total_gpus = h.Int("totalGpus", 0, 100000);
    hs.num_gpus_per_node = h.Int("numGpusPerNode", std::numeric_limits<int32_t>::min(), 1024);
    hs.interconnect = h.String("interconnect");
    hs.rdma = h.Bool("rdma");
    h.WarnUnknownKeys();
    s.hardware = hs;
  }

  if (const Json* wl = r.Object("workload")) {
    MapReader w(*wl, r.Path("workload"), &errors, &out.warnings);
    WorkloadSpec ws;
    if (auto v = w.Int("isl", 1, 10'000'000)) ws.isl = *v;
    if (auto v = w.Int("osl", 1, 10'000'000)) ws.osl = *v;
    ws.concurrency = w.Number("concurrency");
    ws.request_rate = w.Number("requestRate");
    if (ws.concurrency && *ws.concurrency <= 0)
      w.ValueError("concurrency", "must be positive (got " + FormatPyFloat(*ws.concurrency) + ")");
    if (ws.request_rate && *ws.request_rate <= 0)
      w.ValueError("requestRate", "must be positive (got " + FormatPyFloat(*ws.request_rate) + ")");
    if (ws.concurrency && ws.request_rate)
      errors.push_back("Only one of 'concurrency' or 'requestRate' can be provided, not both.");
    w.WarnUnknownKeys();
    s.workload = ws;
  }

  if (const Json* sl = r.Object("sla")) {
    MapReader m(*sl, r.Path("sla"), &errors, &out.warnings);
    SlaSpec sla;
    ParseSla(m, *sl, sla, &errors);
    m.WarnUnknownKeys();
    s.sla = sla;
  }

  if (const Json* ft = r.Object("features")) {
    MapReader f(*ft, r.Path("features"), &errors, &out.warnings);
    if (const Json* pl = f.Object("planner")) {
      bool typed = pl->contains("enabled") || pl->contains("plannerPreDeploymentSweeping") || pl->contains("plannerArgsList");
      std::optional<Json> raw = typed ? ConvertTypedPlanner(*pl, f.Path("planner"), &errors) : std::optional<Json>(*pl);
      if (raw) {
        PlannerSpec p;
        ResolvePlanner(*raw, f.Path("planner"), p, &errors);
        s.features.planner = p;
      }
    }
    if (const Json* mk = f.Object("mocker")) {
      MapReader m(*mk, f.Path("mocker"), &errors, &out.warnings);
      s.features.mocker_enabled = m.Bool("enabled");
      m.WarnUnknownKeys();
    }
    if (const Json* kv = f.Object("kvRouter")) {
      MapReader m(*kv, f.Path("kvRouter"), &errors, &out.warnings);
      s.features.kv_router_enabled = m.Bool("enabled");
      m.WarnUnknownKeys();
    }
    f.WarnUnknownKeys();
    if (s.MockerEnabled() && s.features.planner && s.features.planner->sweep_mode == SweepMode::kNone)
      errors.push_back(
          "pre_deployment_sweeping_mode cannot be 'none' when mocker is enabled. The mocker needs performance data; "
          "set features.planner.pre_deployment_sweeping_mode to 'rapid' or 'thorough'.");
  }

  if (const Json* ov = r.Object("overrides")) {
    MapReader o(*ov, r.Path("overrides"), &errors, &out.warnings);
    if (const Json* pj = o.Object("profilingJob")) s.overrides.profiling_job = *pj;
    if (const Json* dgd = o.Object("dgd")) {
      if (!dgd->contains("apiVersion") || !dgd->contains("kind"))
        out.warnings.push_back(o.Path("dgd") +
                               ": no apiVersion/kind; treated as a legacy nvidia.com/v1alpha1 override (spec.services) "
                               "- deprecated, add apiVersion and kind");
      s.overrides.dgd = *dgd;
    }
    s.overrides.trust_remote_code = o.Bool("trustRemoteCode");
    o.WarnUnknownKeys();
  }
  r.WarnUnknownKeys();

  if (!errors.empty()) return Status::InvalidSpec(Join(errors, "; "));
  return out;
}

}  // namespace dyprof

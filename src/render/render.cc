#include "render/render.h"

#include <algorithm>
#include <cstdio>

#include "common/strings.h"
#include "render/overrides.h"

namespace dyprof {

namespace {

constexpr char kHfSecret[] = "hf-token-secret";
constexpr char kPlannerConfigMount[] = "/workspace/planner_config";
constexpr char kProfileDataMount[] = "/workspace/profiling_results";
constexpr int kMaxModelLenMargin = 1500;
constexpr int kPodNameLimit = 45;

std::string Str(int v) { return std::to_string(v); }

// Python json.dumps default formatting (", " and ": " separators, repr floats).
std::string PyJsonDumps(const Json& v) {
  if (v.is_object()) {
    std::vector<std::string> parts;
    for (auto it = v.begin(); it != v.end(); ++it) parts.push_back(Json(it.key()).dump() + ": " + PyJsonDumps(*it));
    return "{" + Join(parts, ", ") + "}";
  }
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& e : v) parts.push_back(PyJsonDumps(e));
    return "[" + Join(parts, ", ") + "]";
  }
  if (v.is_number_float()) return FormatPyFloat(v.get<double>());
  return v.dump();
}

struct WorkerNames {
  std::string prefill, decode, agg;
};

WorkerNames NamesFor(Backend b) {
  switch (b) {
    case Backend::kSglang: return {"prefill", "decode", "decode"};
    case Backend::kTrtllm: return {"prefill", "decode", "TRTLLMWorker"};
    default: return {"VllmPrefillWorker", "VllmDecodeWorker", "VllmWorker"};
  }
}

Json PickObject(const ParallelSplit& s) {
  return {{"tp", s.tp}, {"pp", s.pp}, {"dp", s.dp}, {"moe_tp", s.moe_tp}, {"moe_ep", s.moe_ep}};
}

struct EngineContext {
  Backend backend;
  ComponentRole role;  // kWorker (agg), kPrefill, kDecode
  const EnginePick* pick;
  std::string model_path;
  std::string served_name;
  int max_model_len;
  int gpus_per_node;
};

std::vector<std::string> VllmArgs(const EngineContext& e) {
  const ParallelSplit& s = e.pick->split;
  std::vector<std::string> a = {"--model", e.model_path, "--served-model-name", e.served_name,
                                "--tensor-parallel-size", Str(s.tp)};
  if (s.pp > 1) a.insert(a.end(), {"--pipeline-parallel-size", Str(s.pp)});
  if (s.dp > 1) {
    a.insert(a.end(), {"--data-parallel-size", Str(s.dp)});
    int per_node_ranks = std::max(1, e.gpus_per_node / std::max(1, s.tp * s.pp));
    if (s.NumGpus() > e.gpus_per_node && s.dp > per_node_ranks)
      a.insert(a.end(), {"--data-parallel-size-local", Str(per_node_ranks), "--data-parallel-hybrid-lb"});
  }
  if (s.moe_ep > 1) a.push_back("--enable-expert-parallel");
  a.insert(a.end(), {"--max-model-len", Str(e.max_model_len)});
  if (e.pick->max_batch_size > 0) a.insert(a.end(), {"--max-num-seqs", Str(e.pick->max_batch_size)});
  if (e.pick->max_num_tokens > 0) a.insert(a.end(), {"--max-num-batched-tokens", Str(e.pick->max_num_tokens)});
  if (e.role == ComponentRole::kPrefill) {
    a.insert(a.end(), {"--disaggregation-mode", "prefill", "--kv-transfer-config",
                       R"({"kv_connector":"NixlConnector","kv_role":"kv_both"})"});
  } else if (e.role == ComponentRole::kDecode) {
    a.insert(a.end(), {"--disaggregation-mode", "decode"});
  }
  return a;
}

std::vector<std::string> SglangArgs(const EngineContext& e) {
  const ParallelSplit& s = e.pick->split;
  // SGLang's --tp is the GPUs of one pipeline stage (attention TP x attention DP).
  std::vector<std::string> a = {"--model-path", e.model_path, "--served-model-name", e.served_name,
                                "--page-size", "16", "--tp", Str(s.tp * s.dp), "--trust-remote-code",
                                "--skip-tokenizer-init"};
  if (e.role != ComponentRole::kWorker) {
    a.insert(a.end(), {"--disaggregation-mode", e.role == ComponentRole::kPrefill ? "prefill" : "decode",
                       "--disaggregation-transfer-backend", "nixl", "--disaggregation-bootstrap-port", "12345",
                       "--host", "0.0.0.0"});
  }
  if (s.pp > 1) a.insert(a.end(), {"--pp-size", Str(s.pp)});
  if (s.dp > 1) a.insert(a.end(), {"--dp-size", Str(s.dp), "--enable-dp-attention"});
  if (s.moe_ep > 1) a.insert(a.end(), {"--ep-size", Str(s.moe_ep)});
  a.insert(a.end(), {"--context-length", Str(e.max_model_len)});
  if (e.pick->max_batch_size > 0) a.insert(a.end(), {"--max-running-requests", Str(e.pick->max_batch_size)});
  if (e.pick->max_num_tokens > 0) a.insert(a.end(), {"--max-prefill-tokens", Str(e.pick->max_num_tokens)});
  return a;
}

std::vector<std::string> TrtllmArgs(const EngineContext& e) {
  const ParallelSplit& s = e.pick->split;
  // TRT-LLM: tensor_parallel_size spans attention TP x attention DP; MoE layers split it as
  // moe_tp x moe_ep. Chunked prefill is always on (assemble_final_config's TRT-LLM layer).
  Json engine = {{"tensor_parallel_size", s.tp * s.dp}, {"pipeline_parallel_size", s.pp}};
  if (s.moe_tp > 1 || s.moe_ep > 1) {
    engine["moe_tensor_parallel_size"] = s.moe_tp;
    engine["moe_expert_parallel_size"] = s.moe_ep;
  }
  if (s.dp > 1) engine["enable_attention_dp"] = true;
  if (e.pick->max_batch_size > 0) engine["max_batch_size"] = e.pick->max_batch_size;
  if (e.pick->max_num_tokens > 0) engine["max_num_tokens"] = e.pick->max_num_tokens;
  engine["max_seq_len"] = e.max_model_len;
  engine["kv_cache_config"] = {{"free_gpu_memory_fraction", 0.85},
                               {"enable_block_reuse", e.role != ComponentRole::kPrefill}};
  if (e.role != ComponentRole::kWorker) engine["cache_transceiver_config"] = {{"backend", "DEFAULT"}};
  if (e.role == ComponentRole::kPrefill) engine["disable_overlap_scheduler"] = true;
  engine["enable_chunked_prefill"] = true;
  std::vector<std::string> a = {"--model-path", e.model_path, "--served-model-name", e.served_name,
                                "--override-engine-args", engine.dump()};
  if (e.role != ComponentRole::kWorker)
    a.insert(a.end(), {"--disaggregation-mode", e.role == ComponentRole::kPrefill ? "prefill" : "decode"});
  return a;
}

Component MakeWorker(const EngineContext& e, const std::string& name, const std::string& image) {
  Component c;
  c.name = name;
  c.role = e.role;
  c.replicas = std::max(1, e.pick->replicas);
  c.image = image;
  switch (e.backend) {
    case Backend::kSglang:
      c.working_dir = "/workspace/examples/backends/sglang";
      c.command = {"python3", "-m", "dynamo.sglang"};
      c.args = SglangArgs(e);
      break;
    case Backend::kTrtllm:
      c.working_dir = "/workspace/";
      c.command = {"python3", "-m", "dynamo.trtllm"};
      c.args = TrtllmArgs(e);
      break;
    default:
      c.working_dir = "/workspace/examples/backends/vllm";
      c.command = {"python3", "-m", "dynamo.vllm"};
      c.args = VllmArgs(e);
      break;
  }
  int gpus = std::max(1, e.pick->NumGpus());
  int gpn = std::max(1, e.gpus_per_node);
  c.gpus = std::min(gpus, gpn);
  c.node_count = gpus > gpn ? (gpus + gpn - 1) / gpn : 1;
  c.env_from_secret = kHfSecret;
  return c;
}

bool IsFilesystemPath(const std::string& p) { return StartsWith(p, "/") || StartsWith(p, "."); }

std::string SystemName(const DgdrSpec& spec) {
  return spec.hardware && spec.hardware->gpu_sku ? ToLower(*spec.hardware->gpu_sku) : "";
}

// AICInterpolationSpec (§3.5), or null when not built.
Json BuildAicSpec(const DgdrSpec& spec, const Decision& decision, const RenderOptions& options) {
  if (options.dry_run || !decision.disagg) return nullptr;
  const auto& planner = spec.features.planner;
  bool planner_needs = planner && planner->enable_throughput_scaling;
  if (!planner_needs && !spec.MockerEnabled()) return nullptr;
  if (!planner || planner->sweep_mode != SweepMode::kRapid) return nullptr;
  WorkloadSpec w = spec.WorkloadOrDefault();
  int max_ctx = options.sweep_max_context_length > 0 ? options.sweep_max_context_length : (w.isl > 0 ? w.isl * 2 : 8192);
  return {{"hf_id", spec.model},
          {"system", SystemName(spec)},
          {"backend", std::string(BackendName(decision.backend))},
          {"isl", w.isl},
          {"osl", w.osl},
          {"sweep_max_context_length", max_ctx},
          {"prefill_interpolation_granularity", options.prefill_interpolation_granularity},
          {"decode_interpolation_granularity", options.decode_interpolation_granularity},
          {"prefill_pick", PickObject(decision.prefill.split)},
          {"decode_pick", PickObject(decision.decode.split)}};
}

// generate_mocker_config (§3.9).
Deployment BuildMockerDeployment(const DgdrSpec& spec, const Json& aic_spec, const Decision& decision) {
  Deployment d;
  d.name = "mocker-disagg";
  Component fe;
  fe.name = "Frontend";
  fe.role = ComponentRole::kFrontend;
  fe.image = spec.image;
  fe.command = {"python3"};
  fe.args = {"-m", "dynamo.frontend"};
  d.components.push_back(fe);
  for (ComponentRole role : {ComponentRole::kDecode, ComponentRole::kPrefill}) {
    bool prefill = role == ComponentRole::kPrefill;
    Component w;
    w.name = prefill ? "prefill" : "decode";
    w.role = role;
    w.image = spec.image;
    w.working_dir = "/workspace";
    w.command = {"python3", "-m", "dynamo.mocker"};
    w.args = {"--model-path", spec.model, "--model-name", spec.model, "--speedup-ratio", "1.0",
              "--disaggregation-mode", prefill ? "prefill" : "decode"};
    if (!aic_spec.is_null()) {
      const ParallelSplit& s = prefill ? decision.prefill.split : decision.decode.split;
      std::string backend = aic_spec["backend"].get<std::string>();
      w.args.insert(w.args.end(), {"--aic-perf-model", "--aic-backend", backend, "--aic-system",
                                   aic_spec["system"].get<std::string>(), "--aic-tp-size", Str(s.tp),
                                   "--aic-moe-tp-size", Str(s.moe_tp), "--aic-moe-ep-size", Str(s.moe_ep),
                                   "--aic-attention-dp-size", Str(s.dp)});
      if (backend == "vllm" || backend == "sglang") w.args.insert(w.args.end(), {"--engine-type", backend});
    }
    w.env_from_secret = kHfSecret;
    w.env_from_secret_optional = true;
    d.components.push_back(w);
  }
  return d;
}

// Scaling adapters on the planner-managed workers (enable_planner_worker_scaling_adapters).
void EnableScalingAdapters(Deployment& d, const PlannerSpec& planner) {
  if (planner.advisory) return;
  bool want_prefill = planner.mode == "prefill" || planner.mode == "disagg";
  bool want_decode = planner.mode == "decode" || planner.mode == "agg" || planner.mode == "disagg";
  auto infer = [](const std::string& name) -> std::optional<ComponentRole> {
    std::string n = ToLower(name);
    if (n.find("prefill") != std::string::npos) return ComponentRole::kPrefill;
    if (n.find("decode") != std::string::npos) return ComponentRole::kDecode;
    return std::nullopt;
  };
  int untyped = 0;
  for (const auto& c : d.components)
    if (c.role == ComponentRole::kWorker && !infer(c.name)) ++untyped;
  for (auto& c : d.components) {
    if (!c.IsWorker()) continue;
    std::optional<ComponentRole> role;
    if (c.role != ComponentRole::kWorker) {
      role = c.role;
    } else if (auto r = infer(c.name)) {
      role = r;
    } else if (planner.mode == "agg" && untyped == 1) {
      role = ComponentRole::kDecode;
    }
    if (!role) continue;
    bool target = (*role == ComponentRole::kPrefill && want_prefill) || (*role == ComponentRole::kDecode && want_decode);
    if (!target) continue;
    c.role = *role;  // the planner rediscovers its targets by type
    c.scaling_adapter = true;
  }
}

// PlannerConfig defaults (SLAPlannerDefaults), in field order; profiler-set fields included.
Json PlannerDefaults() {
  return {{"pre_deployment_sweeping_mode", "rapid"},
          {"environment", "kubernetes"},
          {"backend", "vllm"},
          {"mode", "disagg"},
          {"optimization_target", "throughput"},
          {"throughput_adjustment_interval", 180},
          {"load_adjustment_interval", 5},
          {"max_gpu_budget", 8},
          {"min_gpu_budget", -1},
          {"min_endpoint", 1},
          {"prefill_engine_num_gpu", nullptr},
          {"decode_engine_num_gpu", nullptr},
          {"profile_results_dir", "profiling_results"},
          {"ttft_ms", 500.0},
          {"itl_ms", 50.0},
          {"load_predictor", "arima"},
          {"prophet_window_size", 50},
          {"load_predictor_log1p", false},
          {"kalman_q_level", 1.0},
          {"kalman_q_trend", 0.1},
          {"kalman_r", 10.0},
          {"kalman_min_points", 5},
          {"enable_throughput_scaling", true},
          {"enable_load_scaling", false},
          {"max_num_fpm_samples", 64},
          {"fpm_sample_bucket_size", 16},
          {"load_scaling_down_sensitivity", 80},
          {"load_metric_samples", 10},
          {"load_min_observations", 5},
          {"advisory", false},
          {"throughput_metrics_source", "frontend"},
          {"metric_pulling_prometheus_endpoint",
           "http://prometheus-kube-prometheus-prometheus.monitoring.svc.cluster.local:9090"},
          {"metric_reporting_prometheus_port", 0},
          {"report_interval_hours", 24.0},
          {"report_output_dir", "./planner_reports"},
          {"live_dashboard_port", 8080},
          {"aic_interpolation", nullptr},
          {"aic_perf_model", nullptr}};
}

// _build_planner_config (§3.5): features.planner over the defaults, effective scaling flags, engine
// GPU counts from the pick, explicitly set SLA targets, aic_interpolation.
Json BuildPlannerConfig(const DgdrSpec& spec, const Decision& decision, const Json& aic_spec) {
  const PlannerSpec& p = *spec.features.planner;
  Json cfg = PlannerDefaults();
  static const std::pair<const char*, const char*> kAliases[] = {
      {"ttft", "ttft_ms"}, {"itl", "itl_ms"},
      {"throughput_adjustment_interval_seconds", "throughput_adjustment_interval"},
      {"load_adjustment_interval_seconds", "load_adjustment_interval"}};
  for (auto it = p.raw.begin(); it != p.raw.end(); ++it) {
    std::string key = it.key();
    for (const auto& [alias, field] : kAliases)
      if (key == alias) key = field;
    cfg[key] = *it;
  }
  if (!p.raw.contains("backend")) cfg["backend"] = spec.MockerEnabled() ? "mocker" : std::string(BackendName(decision.backend));
  cfg["pre_deployment_sweeping_mode"] = std::string(SweepModeName(p.sweep_mode));
  cfg["optimization_target"] = p.optimization_target;
  cfg["enable_throughput_scaling"] = p.enable_throughput_scaling;
  cfg["enable_load_scaling"] = p.enable_load_scaling;
  cfg["mode"] = p.mode;
  cfg["advisory"] = p.advisory;
  const EnginePick& pre = decision.disagg ? decision.prefill : decision.agg;
  const EnginePick& dec = decision.disagg ? decision.decode : decision.agg;
  cfg["prefill_engine_num_gpu"] = pre.NumGpus();
  cfg["decode_engine_num_gpu"] = dec.NumGpus();
  if (!aic_spec.is_null()) cfg["aic_interpolation"] = aic_spec;
  cfg["profile_results_dir"] = kProfileDataMount;
  if (spec.sla) {
    const SlaSpec& sla = *spec.sla;
    if (!sla.e2e_latency_ms && (sla.ttft_set_explicitly || sla.itl_set_explicitly)) {
      if (!p.raw.contains("ttft_ms") && !p.raw.contains("ttft") && sla.ttft_ms) cfg["ttft_ms"] = *sla.ttft_ms;
      if (!p.raw.contains("itl_ms") && !p.raw.contains("itl") && sla.itl_ms) cfg["itl_ms"] = *sla.itl_ms;
    }
  }
  return cfg;
}

void MountConfigMap(Component& c, const std::string& cm, const std::string& path) {
  c.volumes.push_back({cm, std::nullopt, cm});
  c.mounts.push_back({cm, path, true});
}

std::vector<std::string> ServiceNames(const Json& dgd) {
  std::vector<std::string> names;
  const Json& spec = dgd["spec"];
  if (auto c = spec.find("components"); c != spec.end() && c->is_array()) {
    for (const auto& e : *c)
      if (std::string name = StringField(e, "name"); !name.empty()) names.push_back(std::move(name));
  } else if (auto s = spec.find("services"); s != spec.end() && s->is_object()) {
    for (auto it = s->begin(); it != s->end(); ++it) names.push_back(it.key());
  }
  return names;
}

}  // namespace

RandomSuffixGenerator::RandomSuffixGenerator() : rng_(std::random_device{}()) {}

std::string RandomSuffixGenerator::Next() {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(rng_() & 0xffff));
  return buf;
}

std::string SequenceSuffixGenerator::Next() {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0a%02x", static_cast<unsigned>(next_++ & 0xff));
  return buf;
}

std::string RenderedConfig::FinalYaml() const {
  return documents.size() == 1 ? ToYaml(documents[0]) : ToYamlAll(documents);
}

int DefaultMaxModelLen(const DgdrSpec& spec) {
  WorkloadSpec w = spec.WorkloadOrDefault();
  return w.isl + w.osl + kMaxModelLenMargin;
}

std::string ReplaceImageName(const std::string& image, const std::string& name) {
  size_t slash = image.rfind('/');
  std::string prefix = slash == std::string::npos ? "" : image.substr(0, slash + 1);
  std::string rest = slash == std::string::npos ? image : image.substr(slash + 1);
  size_t cut = rest.find_first_of(":@");
  std::string suffix = cut == std::string::npos ? "" : rest.substr(cut);
  return prefix + name + suffix;
}

std::string DeriveBackendImage(const std::string& image, Backend backend) {
  switch (backend) {
    case Backend::kSglang: return ReplaceImageName(image, "sglang-runtime");
    case Backend::kTrtllm: return ReplaceImageName(image, "tensorrtllm-runtime");
    default: return ReplaceImageName(image, "vllm-runtime");
  }
}

std::string DerivePlannerImage(const std::string& image) { return ReplaceImageName(image, "dynamo-planner"); }

Result<Deployment> BuildPickedDeployment(const DgdrSpec& spec, const Decision& decision, const RenderOptions& options) {
  Backend backend = decision.backend == Backend::kAuto ? Backend::kVllm : decision.backend;
  const ModelCacheSpec& mc = spec.model_cache;
  const bool pvc = mc.pvc_name && !mc.pvc_name->empty();
  const bool hf_cache = pvc && (!mc.pvc_model_path || mc.pvc_model_path->empty());
  const std::string mount = mc.MountPathOrDefault();
  std::string model_path = spec.model;
  if (pvc && !hf_cache) {
    std::string m = mount;
    while (!m.empty() && m.back() == '/') m.pop_back();
    std::string p = *mc.pvc_model_path;
    while (!p.empty() && p.front() == '/') p.erase(p.begin());
    model_path = m + "/" + p;
  }
  const std::string image = spec.image.empty() ? "" : DeriveBackendImage(spec.image, backend);

  Deployment d;
  d.name = std::string(BackendName(backend)) + (decision.disagg ? "-disagg" : "-agg");

  Component fe;
  fe.name = "Frontend";
  fe.role = ComponentRole::kFrontend;
  fe.image = image;
  fe.command = {"python3"};
  fe.args = {"-m", "dynamo.frontend"};
  if (IsFilesystemPath(model_path)) fe.args.insert(fe.args.end(), {"--model-name", spec.model, "--model-path", model_path});
  fe.env_from_secret = kHfSecret;
  if (spec.features.kv_router_enabled.value_or(false)) fe.SetEnv("DYN_ROUTER_MODE", "kv");
  d.components.push_back(fe);

  EngineContext ctx{backend, ComponentRole::kWorker, nullptr, model_path, spec.model,
                    options.max_model_len > 0 ? options.max_model_len : DefaultMaxModelLen(spec),
                    options.num_gpus_per_node > 0 ? options.num_gpus_per_node : 8};
  WorkerNames names = NamesFor(backend);
  if (decision.disagg) {
    ctx.role = ComponentRole::kDecode;
    ctx.pick = &decision.decode;
    d.components.push_back(MakeWorker(ctx, names.decode, image));
    ctx.role = ComponentRole::kPrefill;
    ctx.pick = &decision.prefill;
    d.components.push_back(MakeWorker(ctx, names.prefill, image));
  } else {
    ctx.role = ComponentRole::kWorker;
    ctx.pick = &decision.agg;
    d.components.push_back(MakeWorker(ctx, names.agg, image));
  }

  if (pvc) {
    for (auto& c : d.components) {
      c.volumes.push_back({*mc.pvc_name, *mc.pvc_name, std::nullopt});
      c.mounts.push_back({*mc.pvc_name, mount, false});
      if (hf_cache) c.SetEnv("HF_HOME", mount);  // the PVC is the Hugging Face cache; workers keep the HF id
    }
  }
  return d;
}

Status CheckServiceNameLengths(const std::string& dgd_name, const std::string& dgdr_name,
                               const std::vector<std::string>& service_names) {
  if (dgd_name.empty())
    return Status::InvalidArgument(
        "DGDR_NAME is not set and the input is not a whole DGDR with metadata.name; the final DGD name "
        "('<DGDR_NAME>-dgd') is needed to check the 45-character pod-naming limit. Set the DGDR_NAME "
        "environment variable to the DGDR's name.");
  std::vector<std::string> violations;
  for (const auto& svc : service_names) {
    size_t combined = dgd_name.size() + svc.size();
    if (combined > static_cast<size_t>(kPodNameLimit))
      violations.push_back("'" + svc + "' (" + std::to_string(svc.size()) + "): combined length " + std::to_string(combined));
  }
  if (violations.empty()) return Status::Ok();
  return Status::InvalidSpec("DGD name '" + dgd_name + "' (length " + std::to_string(dgd_name.size()) +
                             ") combined with service name(s) exceeds the 45-character pod-naming limit. "
                             "Shorten the DGDR name '" + dgdr_name + "'. Violations: " + Join(violations, "; "));
}

Result<RenderedConfig> RenderDeployment(const DgdrSpec& spec, const Decision& decision, const RenderOptions& options,
                                        SuffixGenerator& suffixes) {
  RenderedConfig out;
  DYPROF_ASSIGN_OR_RETURN(Deployment picked, BuildPickedDeployment(spec, decision, options));

  // Profiling-job tolerations go into every service (dedupe by equality).
  Json tolerations = Json::array();
  if (const auto& pj = spec.overrides.profiling_job; pj && pj->is_object()) {
    const Json* t = &*pj;
    for (const char* k : {"template", "spec", "tolerations"}) {
      if (!t->is_object() || !t->contains(k)) {
        t = nullptr;
        break;
      }
      t = &(*t)[k];
    }
    if (t && t->is_array()) tolerations = *t;
  }
  auto add_tolerations = [&](Deployment& d) {
    for (auto& c : d.components)
      for (const auto& tol : tolerations)
        if (std::find(c.tolerations.begin(), c.tolerations.end(), tol) == c.tolerations.end()) c.tolerations.push_back(tol);
  };
  auto emit = [&](const Deployment& d) -> Result<Json> {
    Json doc = EmitDgd(d, options.api_version);
    if (spec.overrides.dgd) DYPROF_RETURN_IF_ERROR(ApplyDgdOverrides(doc, *spec.overrides.dgd, &out.warnings));
    return doc;
  };
  add_tolerations(picked);

  const bool mocker = spec.MockerEnabled();
  const bool planner = spec.PlannerEnabled();
  std::vector<Json> config_maps;
  Deployment base;
  if (!mocker && !planner) {
    base = picked;
  } else {
    out.write_picked = true;
    {
      std::vector<std::string> ignored;  // the same warnings come again for the final DGD
      Json doc = EmitDgd(picked, options.api_version);
      if (spec.overrides.dgd) DYPROF_RETURN_IF_ERROR(ApplyDgdOverrides(doc, *spec.overrides.dgd, &ignored));
      out.picked_dgd = doc;
    }
    Json aic_spec = BuildAicSpec(spec, decision, options);
    base = mocker ? BuildMockerDeployment(spec, aic_spec, decision) : picked;
    if (!mocker && decision.backend == Backend::kVllm) {
      for (auto& c : base.components) {
        if (c.role == ComponentRole::kPrefill) c.SetEnv("DYN_BENCHMARK_MODE", "prefill");
        if (c.role == ComponentRole::kDecode) c.SetEnv("DYN_BENCHMARK_MODE", "decode");
        if (c.role == ComponentRole::kWorker) c.SetEnv("DYN_BENCHMARK_MODE", "agg");
      }
    }
    if (planner) {
      EnableScalingAdapters(base, *spec.features.planner);
      std::string cm = "planner-config-" + suffixes.Next();
      config_maps.push_back(ConfigMapDocument(cm, {{"planner_config.json", BuildPlannerConfig(spec, decision, aic_spec).dump()}}));
      Component pl;
      pl.name = "Planner";
      pl.role = ComponentRole::kPlanner;
      pl.image = spec.image.empty() ? "" : DerivePlannerImage(spec.image);
      pl.working_dir = "/workspace/components/src/dynamo/planner";
      pl.command = {"python3", "-m", "dynamo.planner"};
      pl.args = {"--config", std::string(kPlannerConfigMount) + "/planner_config.json"};
      MountConfigMap(pl, cm, kPlannerConfigMount);
      base.components.push_back(pl);
    }
    if (spec.NeedsProfileData() && options.profile_data && !options.profile_data->empty() && !options.dry_run) {
      std::string cm = "planner-profile-data-" + suffixes.Next();
      Json data = Json::object();
      if (!options.profile_data->prefill.is_null()) data["prefill_raw_data.json"] = PyJsonDumps(options.profile_data->prefill);
      if (!options.profile_data->decode.is_null()) data["decode_raw_data.json"] = PyJsonDumps(options.profile_data->decode);
      config_maps.push_back(ConfigMapDocument(cm, data));
      for (auto& c : base.components) {
        if (c.role == ComponentRole::kPlanner) MountConfigMap(c, cm, kProfileDataMount);
        if (mocker && (c.name == "prefill" || c.name == "decode")) {
          c.args.insert(c.args.end(), {"--planner-profile-data", kProfileDataMount});
          MountConfigMap(c, cm, kProfileDataMount);
        }
      }
    }
  }
  if (spec.runtime_version_override)
    for (auto& c : base.components) c.runtime_version_override = spec.runtime_version_override;
  add_tolerations(base);

  DYPROF_ASSIGN_OR_RETURN(Json dgd, emit(base));
  if (!out.write_picked) out.picked_dgd = dgd;

  // §3.8: the final name is overrides.dgd.metadata.name, else <DGDR_NAME>-dgd.
  std::string dgd_name;
  if (spec.overrides.dgd && spec.overrides.dgd->contains("metadata") && (*spec.overrides.dgd)["metadata"].is_object() &&
      (*spec.overrides.dgd)["metadata"].contains("name") && (*spec.overrides.dgd)["metadata"]["name"].is_string()) {
    dgd_name = (*spec.overrides.dgd)["metadata"]["name"].get<std::string>();
  } else if (options.dgdr_name && !options.dgdr_name->empty()) {
    dgd_name = *options.dgdr_name + "-dgd";
  }
  DYPROF_RETURN_IF_ERROR(CheckServiceNameLengths(dgd_name, options.dgdr_name.value_or(dgd_name), ServiceNames(dgd)));

  out.documents = std::move(config_maps);
  out.documents.push_back(std::move(dgd));
  return out;
}

}  // namespace dyprof

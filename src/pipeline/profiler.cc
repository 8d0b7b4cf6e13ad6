#include "pipeline/profiler.h"

#include <cstdlib>
#include <vector>

#include "common/document.h"
#include "common/strings.h"
#include "pipeline/decide.h"
#include "pipeline/status_file.h"
#include "spec/spec_parser.h"
#include "spec/spec_validate.h"

namespace dyprof {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kInvalidSpec:
    case StatusCode::kNotFound: return 2;
    case StatusCode::kInfeasible: return 3;
    case StatusCode::kDeployment:
    case StatusCode::kTimeout: return 4;
    case StatusCode::kInterrupted: return 130;
    default: return 1;
  }
}

namespace {

// Times one named stage and logs its duration.
class StageTimer {
 public:
  StageTimer(ProfileEnv& env, std::string name) : env_(env), name_(std::move(name)), start_(env.clock->MonotonicSeconds()) {
    env_.log->Info("Stage " + name_ + " started");
  }
  ~StageTimer() {
    double ms = (env_.clock->MonotonicSeconds() - start_) * 1000.0;
    env_.log->Info(fmt::format("Stage {} finished in {:.1f} ms", name_, ms));
  }

 private:
  ProfileEnv& env_;
  std::string name_;
  double start_;
};

// Fills hardware the operator's discovery would provide, for whole-DGDR inputs or explicit flags.
void ApplyHardwareDiscovery(DgdrSpec& spec, bool whole_dgdr, const ProfileOptions& options, Logger& log) {
  bool have_flags = options.gpu_sku || options.num_gpus_per_node || options.total_gpus;
  if (!whole_dgdr && !have_flags) return;  // a bare spec is what the operator already completed
  HardwareSpec hw = spec.hardware.value_or(HardwareSpec{});
  if (!hw.gpu_sku) {
    if (options.gpu_sku) {
      hw.gpu_sku = options.gpu_sku;
    } else if (whole_dgdr) {
      hw.gpu_sku = "h200_sxm";
      log.Warn("hardware.gpuSku is not set; the operator discovers it from the cluster. Assuming h200_sxm (pass --gpu-sku or set hardware.gpuSku).");
    }
  }
  if (!hw.num_gpus_per_node) {
    if (options.num_gpus_per_node) {
      hw.num_gpus_per_node = options.num_gpus_per_node;
    } else if (whole_dgdr) {
      hw.num_gpus_per_node = 8;
      log.Warn("hardware.numGpusPerNode is not set; assuming 8 (pass --num-gpus-per-node or set hardware.numGpusPerNode).");
    }
  }
  if (!hw.total_gpus && options.total_gpus) hw.total_gpus = options.total_gpus;
  spec.hardware = hw;
}

// Every file the profile writes goes through this: the values of HF_TOKEN and
// HUGGING_FACE_HUB_TOKEN are replaced by "***" in any content (status, pick.json, report.html,
// CSVs, final_config.yaml), as the Logger does for log lines. A token can reach the outputs only
// when the spec itself holds it (pasted into an env value, an image tag, a model name); a literal
// token in a DGD or a report is a leak either way, so it is masked there too and a warning says
// to pass it through a Kubernetes secret (envFromSecret) instead.
class SecretMaskingFileSystem : public FileSystem {
 public:
  SecretMaskingFileSystem(FileSystem* base, std::vector<std::string> secrets)
      : base_(base), secrets_(std::move(secrets)) {}
  Result<std::string> ReadFile(const std::string& path) const override { return base_->ReadFile(path); }
  Status WriteFileAtomic(const std::string& path, const std::string& contents) override {
    return base_->WriteFileAtomic(path, Mask(contents));
  }
  Status MakeDirs(const std::string& path) override { return base_->MakeDirs(path); }
  bool IsFile(const std::string& path) const override { return base_->IsFile(path); }
  bool IsDirectory(const std::string& path) const override { return base_->IsDirectory(path); }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
 private:
  std::string Mask(std::string text) const {
    for (const auto& s : secrets_) {
      for (size_t pos = 0; (pos = text.find(s, pos)) != std::string::npos; pos += 3) text.replace(pos, s.size(), "***");
    }
    return text;
  }
  FileSystem* base_;
  std::vector<std::string> secrets_;
};

// The secret values of the environment (the Logger ignores values under 4 characters; so do we).
std::vector<std::string> EnvSecrets(const EnvLookup& env) {
  std::vector<std::string> out;
  if (!env) return out;
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"})
    if (auto v = env(name); v && v->size() >= 4) out.push_back(*v);
  return out;
}

class Pipeline {
 public:
  Pipeline(const ProfileOptions& options, ProfileEnv& env)
      : options_(options), env_(env), status_(env.fs, env.clock, options.output_dir) {}

  Status Run(const std::string& config_arg) {
    start_s_ = env_.clock->MonotonicSeconds();
    // Before anything is logged: parse warnings quote the spec, which may hold a token.
    for (const auto& secret : EnvSecrets(env_.env)) env_.log->AddSecret(secret);
    Status st = env_.fs->MakeDirs(options_.output_dir);
    if (!st.ok()) {
      env_.log->Error(st.message());
      return st;
    }
    // A new run invalidates any earlier product: never leave a stale final_config.yaml behind.
    for (const char* f : {"final_config.yaml", "picked_dgd_config.yaml"})
      env_.fs->RemoveFile(JoinPath(options_.output_dir, f));
    Update(RunStatus::kRunning, "Profiler job started", Phase::kInitializing);

    // Parse (pydantic-level): failures are "Config validation failed".
    auto doc = LoadConfigDocument(config_arg, *env_.fs);
    if (!doc.ok()) return FailConfig(doc.status());
    auto parsed = ParseDgdrSpec(*doc);
    if (!parsed.ok()) return FailConfig(parsed.status());
    DgdrSpec spec = std::move(parsed->spec);
    for (const auto& w : parsed->warnings) env_.log->Warn(w);
    ApplyHardwareDiscovery(spec, parsed->whole_dgdr, options_, *env_.log);
    for (const auto& secret : EnvSecrets(env_.env)) {
      if (doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).find(secret) != std::string::npos) {
        env_.log->Warn("the spec contains the value of a Hugging Face token (HF_TOKEN / HUGGING_FACE_HUB_TOKEN); it is "
                       "masked as *** in every output. Pass tokens through a Kubernetes secret (envFromSecret) instead.");
        break;
      }
    }

    // Profiler validation (valid_dgdr_spec): failures are exceptions inside run_profile.
    st = ValidateDgdrSpec(spec);
    if (!st.ok()) return Fail(st, "ValueError");
    if (!env_.log->AttachFile(JoinPath(options_.output_dir, "profile_sla.log")))
      env_.log->Warn("cannot open " + JoinPath(options_.output_dir, "profile_sla.log") + " for writing");

    DecisionContext ctx{spec, options_, env_, true, std::nullopt, std::nullopt};
    Decision decision;
    {
      StageTimer t(env_, "resolve");
      st = ResolveInputs(ctx);
      if (!st.ok()) return Fail(st, "ValueError");
    }
    for (const auto& w : FeatureWarnings(spec, ctx.simulation_supported)) env_.log->Warn(w);
    PickingMode mode = DeterminePickingMode(spec);
    env_.log->Info("Picking mode: " + std::string(PickingModeName(mode)));

    Update(RunStatus::kRunning, "Sweeping parallelization strategies", Phase::kSweepingPrefill);
    {
      StageTimer t(env_, std::string("search (") + std::string(SearchStrategyName(spec.search_strategy)) + ")");
      auto d = Decide(ctx, mode);
      if (!d.ok()) return Fail(d.status(), "RuntimeError");
      decision = std::move(*d);
    }
    Update(RunStatus::kRunning, "Filtering results and selecting cost-efficient configuration", Phase::kSelectingConfig);
    if (spec.NeedsProfileData() && !options_.dry_run) {
      Update(RunStatus::kRunning, "Building interpolation curves for planner integration", Phase::kBuildingCurves);
      StageTimer t(env_, "curves");
      st = BuildCurves(ctx, decision);
      if (!st.ok()) return Fail(st, "RuntimeError");
    }
    Update(RunStatus::kRunning, "Packaging data and generating final DGD YAML", Phase::kGeneratingDgd);
    std::string final_yaml;
    {
      StageTimer t(env_, "render");
      auto rendered = RenderFinalConfig(ctx, decision);
      if (!rendered.ok()) return Fail(rendered.status(), "ValueError");
      final_yaml = std::move(*rendered);
    }
    {
      StageTimer t(env_, "write outputs");
      st = WriteSideOutputs(ctx, decision);
      if (!st.ok()) return Fail(st, "OSError");
      if (final_yaml.empty()) {
        if (!options_.dry_run) {
          std::string detail = "Profiler did not produce a DGD config.";
          if (decision.pick_json.contains("error")) detail += " " + decision.pick_json["error"].get<std::string>();
          Status none = Status::Infeasible(detail);
          StatusUpdate u{RunStatus::kFailed, "Profiler did not produce a DGD config.", detail, Phase::kGeneratingDgd,
                         false};
          status_.Write(u);
          env_.log->Error(none.message());
          WriteReport(ctx, decision, env_.clock->MonotonicSeconds() - start_s_);
          return none;
        }
        final_yaml = "null\n";
      }
      st = env_.fs->WriteFileAtomic(JoinPath(options_.output_dir, "final_config.yaml"), final_yaml);
      if (!st.ok()) return Fail(st, "OSError");
      st = WriteReport(ctx, decision, env_.clock->MonotonicSeconds() - start_s_);
      if (!st.ok()) env_.log->Warn("cannot write report.html: " + st.message());
    }
    StatusUpdate done{RunStatus::kSuccess, "Profiler completed successfully", std::nullopt, Phase::kDone, true};
    st = status_.Write(done);
    if (!st.ok()) return st;
    env_.log->Info("Profiler completed successfully; final config: " + JoinPath(options_.output_dir, "final_config.yaml"));
    PrintSummary(ctx, decision);
    return Status::Ok();
  }

 private:
  void Update(RunStatus s, const std::string& message, Phase phase) {
    phase_ = phase;
    env_.log->Info(message);
    if (env_.progress) env_.progress(message, env_.clock->MonotonicSeconds() - start_s_);
    Status st = status_.Write({s, message, std::nullopt, phase, false});
    if (!st.ok()) env_.log->Warn("cannot write status file: " + st.message());
  }

  Status FailConfig(const Status& st) {
    env_.log->Error("Config validation failed: " + st.message());
    status_.Write({RunStatus::kFailed, "Config validation failed", st.message(), std::nullopt, false});
    return st;
  }

  Status Fail(const Status& st, const char* exception_type) {
    env_.log->Error(st.message());
    // Nothing half-done survives a failure.
    env_.fs->RemoveFile(JoinPath(options_.output_dir, "final_config.yaml"));
    status_.Write({RunStatus::kFailed, std::string("Profiler failed with exception: ") + exception_type, st.message(),
                   phase_, false});
    return st;
  }

  const ProfileOptions& options_;
  ProfileEnv& env_;
  StatusWriter status_;
  Phase phase_ = Phase::kInitializing;
  double start_s_ = 0;
};

}  // namespace

Status RunProfile(const std::string& config_arg, const ProfileOptions& options, ProfileEnv& env_in) {
  SecretMaskingFileSystem masked(env_in.fs, EnvSecrets(env_in.env));
  ProfileEnv env = env_in;
  env.fs = &masked;
  try {
    Pipeline p(options, env);
    return p.Run(config_arg);
  } catch (const std::exception& e) {
    // Last line of defence: report rather than crash.
    Status st = Status::Internal(std::string("unexpected internal error: ") + e.what());
    StatusWriter(env.fs, env.clock, options.output_dir)
        .Write({RunStatus::kFailed, "Profiler failed with exception: InternalError", st.message(), std::nullopt, false});
    env.log->Error(st.message());
    return st;
  }
}

}  // namespace dyprof

// The profile pipeline (run_profile): spec → validation → strategy → selection → curves → DGD →
// outputs, each stage named, timed and logged, with profiler_status.yaml kept current.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/file_system.h"
#include "common/log.h"
#include "common/status.h"

namespace dyprof {

// What the profile prints on stdout at the end.
enum class SummaryStyle { kTable, kJson, kNone };

struct ProfileOptions {
  std::string output_dir = "profiling_results";
  int deployment_timeout_s = 3600;
  int prefill_interpolation_granularity = 16;
  int decode_interpolation_granularity = 6;
  bool dry_run = false;
  std::string dgd_api_version = "v1beta1";  // "v1beta1" | "v1alpha1"
  int top_n = 5;
  int rerank_top = 0;  // re-rank the top N of each serving mode by scheduler simulation (0 = off)
  // "shipped": correct the rapid search's aggregated candidates by the compiled-in silicon
  // calibration (data/calibration/silicon.csv) where it has their family; "none": the model alone.
  std::string calibration = "shipped";
  std::string calibration_table;  // with "shipped": a table of one's own to apply instead ("" = the shipped one)
  SummaryStyle summary = SummaryStyle::kTable;
  // Hardware the operator would discover; fill a whole-DGDR input's missing hardware fields.
  std::optional<std::string> gpu_sku;
  std::optional<int> num_gpus_per_node;
  std::optional<int> total_gpus;
  // Thorough mode (src/thorough): where candidates are deployed and how they are measured.
  std::string deployer = "local";           // local | kubernetes
  std::string deploy_command;               // local command template ("" → this binary's emulate)
  double emulator_speedup = 1.0;            // {speedup} of the local template; measured times × this
  std::string kube_api;                     // API server URL (kubernetes deployer)
  std::string kube_namespace;               // "" → env DGDR_NAMESPACE or dynamo-sla-profiler
  std::string kube_token_file;              // bearer token file ("" → in-cluster token when present)
  bool exhaustive = false;                  // deploy every thorough candidate (no ranking)
  std::string benchmark_client = "native";  // native | aiperf
};

// The process environment the pipeline may read (DGDR_NAME, HF_TOKEN, ...).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct ProfileEnv {
  FileSystem* fs = nullptr;
  const Clock* clock = nullptr;
  Logger* log = nullptr;
  EnvLookup env;
  // Called at every phase change with the phase message and seconds since the start (the CLI
  // prints a progress line on a terminal). May be empty.
  std::function<void(const std::string& message, double elapsed_s)> progress;
};

// Runs a whole profile for the --config value. Writes profiler_status.yaml at every phase (failed
// with the reason on any error), final_config.yaml only on success. Never throws.
Status RunProfile(const std::string& config_arg, const ProfileOptions& options, ProfileEnv& env);

// Process exit code for a profile result: 0 ok, 2 invalid spec/arguments, 3 no feasible
// configuration, 4 deployment failure, 130 interrupted, 1 anything else.
int ExitCodeFor(const Status& status);

}  // namespace dyprof

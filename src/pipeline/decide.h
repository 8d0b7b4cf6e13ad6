// The stage functions the pipeline runs between validation and output. Each takes the shared
// DecisionContext; later stages read what earlier ones filled in.
#pragma once

#include <string>
#include <vector>

#include "common/document.h"
#include "pipeline/profiler.h"
#include "spec/spec.h"

namespace dyprof {

// One engine's parallel layout and batch limits as picked.
struct EnginePick {
  int tp = 1, pp = 1, dp = 1, moe_tp = 1, moe_ep = 1;
  int replicas = 1;
  int max_batch_size = 0;   // 0: backend default
  int max_num_tokens = 0;   // 0: backend default
  int NumGpus() const { return tp * pp * dp; }
};

struct Decision {
  Backend backend = Backend::kVllm;  // resolved (never kAuto)
  bool disagg = false;
  EnginePick agg;       // when !disagg
  EnginePick prefill;   // when disagg
  EnginePick decode;    // when disagg
  bool produced = true; // false: no configuration (→ "Profiler did not produce a DGD config.")
  bool naive = false;   // memory-fit fallback, SLA unverified
  Json pick_json = Json::object();
};

struct DecisionContext {
  DgdrSpec& spec;
  const ProfileOptions& options;
  ProfileEnv& env;
  bool simulation_supported = true;  // the performance engine can model model × system × backend
};

// Resolves catalog inputs (model, system) and whether they can be simulated.
Status ResolveInputs(DecisionContext& ctx);
// Runs the search strategy (rapid / thorough / dry-run) and the picker for `mode`.
Result<Decision> Decide(DecisionContext& ctx, PickingMode mode);
// Builds planner interpolation data for the picked engines.
Status BuildCurves(DecisionContext& ctx, Decision& decision);
// Renders final_config.yaml text ("" when no DGD was produced).
Result<std::string> RenderFinalConfig(DecisionContext& ctx, const Decision& decision);
// Writes pick.json, candidates.csv and the other side files.
Status WriteSideOutputs(DecisionContext& ctx, const Decision& decision);
// Prints the human summary on stdout.
void PrintSummary(DecisionContext& ctx, const Decision& decision);

}  // namespace dyprof

// The stage functions the pipeline runs between validation and output. Each takes the shared
// DecisionContext; later stages read what earlier ones filled in.
#pragma once

#include <string>
#include <vector>

#include "common/document.h"
#include "pipeline/profiler.h"
#include "search/pick.h"
#include "spec/spec.h"

namespace dyprof {

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

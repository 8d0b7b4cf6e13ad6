// The stage functions the pipeline runs between validation and output. Each takes the shared
// DecisionContext; later stages read what earlier ones filled in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/document.h"
#include "pipeline/profiler.h"
#include "render/render.h"
#include "report/report.h"
#include "search/pick.h"
#include "search/strategy.h"
#include "spec/spec.h"

namespace dyprof {

struct DecisionContext {
  DgdrSpec& spec;
  const ProfileOptions& options;
  ProfileEnv& env;
  bool simulation_supported = true;  // the performance engine can model model × system × backend
  std::optional<StrategyOutcome> outcome;  // filled by Decide
  // Planner interpolation data for the planner-profile-data ConfigMap; filled by BuildCurves when
  // curves were built (none: not needed, skipped, or no data points).
  std::optional<ProfileData> profile_data;
};

// Resolves catalog inputs (model, system) and whether they can be simulated.
Status ResolveInputs(DecisionContext& ctx);
// Runs the search strategy (rapid / thorough / dry-run) and the picker for `mode`.
Result<Decision> Decide(DecisionContext& ctx, PickingMode mode);
// Builds planner interpolation data for the picked engines (src/curves): writes
// selected_{prefill,decode}_interpolation/ under the output dir and fills ctx.profile_data.
Status BuildCurves(DecisionContext& ctx, Decision& decision);
// Renders final_config.yaml text ("" when no DGD was produced).
Result<std::string> RenderFinalConfig(DecisionContext& ctx, const Decision& decision);
// Writes pick.json, candidates.csv and the other side files.
Status WriteSideOutputs(DecisionContext& ctx, const Decision& decision);
// Writes report.html (the decision, Pareto chart, top candidates, curves, warnings, files).
Status WriteReport(DecisionContext& ctx, const Decision& decision, double elapsed_s);
// Prints the human summary on stdout.
void PrintSummary(DecisionContext& ctx, const Decision& decision);

}  // namespace dyprof

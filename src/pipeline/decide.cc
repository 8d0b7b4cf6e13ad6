#include "pipeline/decide.h"

#include <iostream>

#include "common/strings.h"

namespace dyprof {

// Placeholder stages: a one-GPU aggregated engine until the catalog, performance engine, search and
// renderer land (issues 3-6). Everything around them (status, outputs, errors) is real.

Status ResolveInputs(DecisionContext& ctx) { return Status::Ok(); }

Result<Decision> Decide(DecisionContext& ctx, PickingMode mode) {
  Decision d;
  d.backend = ctx.spec.backend == Backend::kAuto ? Backend::kVllm : ctx.spec.backend;
  d.agg.replicas = 1;
  d.pick_json = {{"mode", std::string(PickingModeName(mode))}, {"placeholder", true}};
  return d;
}

Status BuildCurves(DecisionContext& ctx, Decision& decision) { return Status::Ok(); }

Result<std::string> RenderFinalConfig(DecisionContext& ctx, const Decision& decision) {
  if (ctx.options.dry_run || !decision.produced) return std::string();
  Json dgd = {{"apiVersion", "nvidia.com/v1beta1"},
              {"kind", "DynamoGraphDeployment"},
              {"metadata", {{"name", std::string(BackendName(decision.backend)) + "-agg"}}},
              {"spec", {{"components", Json::array()}}}};
  return ToYaml(dgd);
}

Status WriteSideOutputs(DecisionContext& ctx, const Decision& decision) {
  return ctx.env.fs->WriteFileAtomic(JoinPath(ctx.options.output_dir, "pick.json"), decision.pick_json.dump(2) + "\n");
}

void PrintSummary(DecisionContext& ctx, const Decision& decision) {
  std::cout << "Picked: " << BackendName(decision.backend) << (decision.disagg ? " disagg" : " agg") << "\n";
}

}  // namespace dyprof

#include "pipeline/decide.h"

#include <iostream>

#include <fmt/format.h>

#include "common/strings.h"
#include "curves/curves.h"
#include "render/render.h"
#include "pipeline/status_file.h"
#include "thorough/interrupt.h"
#include "thorough/thorough.h"

namespace dyprof {

Status ResolveInputs(DecisionContext& ctx) {
  std::string why;
  ctx.simulation_supported = SimulationSupported(ctx.spec, *ctx.env.fs, &why);
  if (!ctx.simulation_supported) ctx.env.log->Info("Simulation not supported: " + why);
  return Status::Ok();
}

namespace {

// Thorough-mode options from the profile options (shared by the search and the interpolation sweeps).
ThoroughOptions MakeThoroughOptions(const DecisionContext& ctx) {
  ThoroughOptions to;
  to.output_dir = ctx.options.output_dir;
  to.deployment_timeout_s = ctx.options.deployment_timeout_s;
  to.decode_granularity = ctx.options.decode_interpolation_granularity;
  to.top_n = ctx.options.top_n;
  to.exhaustive = ctx.options.exhaustive;
  to.deployer = ctx.options.deployer;
  to.deploy_command = ctx.options.deploy_command;
  to.emulator_speedup = ctx.options.emulator_speedup;
  to.kube_api = ctx.options.kube_api;
  to.kube_token_file = ctx.options.kube_token_file;
  to.kube_namespace = ctx.options.kube_namespace;
  if (to.kube_namespace.empty()) {
    auto ns = ctx.env.env ? ctx.env.env("DGDR_NAMESPACE") : std::nullopt;
    to.kube_namespace = ns && !ns->empty() ? *ns : "dynamo-sla-profiler";
  }
  to.benchmark_client = ctx.options.benchmark_client;
  to.cancel = InstallInterruptHandler();
  return to;
}

}  // namespace

Result<Decision> Decide(DecisionContext& ctx, PickingMode mode) {
  if (ctx.options.calibration == "none" && !ctx.options.calibration_table.empty())
    return Status::InvalidArgument("--calibration-table names a table to apply; expected it without --calibration none");
  StrategyOptions so;
  so.top_n = ctx.options.top_n;
  so.dry_run = ctx.options.dry_run;
  so.rerank_top = ctx.options.rerank_top;
  if (ctx.spec.search_strategy == SearchStrategy::kThorough && !ctx.options.dry_run) {
    // Thorough: deploy and measure (src/thorough); SIGINT/SIGTERM remove every deployment → 130.
    if (ctx.options.rerank_top > 0)
      ctx.env.log->Warn("--rerank-top is ignored in thorough mode: its candidates are measured, not simulated.");
    ThoroughOptions to = MakeThoroughOptions(ctx);
    StatusWriter status(ctx.env.fs, ctx.env.clock, ctx.options.output_dir);
    auto progress = [&](ThoroughPhase phase, const std::string& message) {
      status.Write({RunStatus::kRunning, message, std::nullopt,
                    phase == ThoroughPhase::kSweepingPrefill ? Phase::kSweepingPrefill : Phase::kSweepingDecode, false});
    };
    DYPROF_ASSIGN_OR_RETURN(StrategyOutcome outcome,
                            RunThorough(ctx.spec, mode, to, *ctx.env.fs, *ctx.env.log, progress));
    Decision d = outcome.decision;
    ctx.outcome = std::move(outcome);
    return d;
  }
  // The rapid search's calibration (thorough candidates are measured, not corrected).
  Calibration own_table;  // --calibration-table's, alive while the strategy runs
  if (ctx.options.calibration == "shipped" && ctx.options.calibration_table.empty()) {
    so.calibration = &Calibration::Shipped();
    so.calibration_source = std::string(kShippedCalibrationSource);
  } else if (ctx.options.calibration == "shipped") {
    auto table = Calibration::Read(*ctx.env.fs, ctx.options.calibration_table);
    if (!table.ok()) return Status::InvalidArgument("--calibration-table: " + table.status().message());
    own_table = *std::move(table);
    so.calibration = &own_table;
    so.calibration_source = ctx.options.calibration_table;
  }
  DYPROF_ASSIGN_OR_RETURN(StrategyOutcome outcome, RunStrategy(ctx.spec, mode, so, *ctx.env.fs, *ctx.env.log));
  ctx.env.log->Info(fmt::format("Search finished in {:.1f} ms", outcome.search_ms));
  Decision d = outcome.decision;
  ctx.outcome = std::move(outcome);
  return d;
}

Status BuildCurves(DecisionContext& ctx, Decision& decision) {
  ctx.profile_data.reset();
  if (ctx.options.dry_run) return Status::Ok();
  CurveOptions co;
  co.output_dir = ctx.options.output_dir;
  co.prefill_granularity = ctx.options.prefill_interpolation_granularity;
  co.decode_granularity = ctx.options.decode_interpolation_granularity;
  co.max_context_length = ctx.outcome ? ctx.outcome->max_context_length : 0;
  const SweepMode sweep = ctx.spec.features.planner ? ctx.spec.features.planner->sweep_mode : SweepMode::kRapid;
  PlannerCurves curves;
  if (ctx.spec.search_strategy == SearchStrategy::kThorough && ctx.spec.NeedsProfileData() && decision.produced &&
      decision.disagg && sweep != SweepMode::kNone) {
    // Thorough: measure the picked prefill and decode engines (deploy once each, §4.1-4.3).
    DYPROF_ASSIGN_OR_RETURN(curves, MeasureThoroughCurves(ctx.spec, decision, co, MakeThoroughOptions(ctx),
                                                          *ctx.env.fs, *ctx.env.log));
  } else {
    DYPROF_ASSIGN_OR_RETURN(curves, BuildPlannerCurves(ctx.spec, decision, co, *ctx.env.fs, *ctx.env.log));
  }
  if (!curves.empty()) ctx.profile_data = ProfileData{curves.PrefillJson(), curves.DecodeJson()};
  return Status::Ok();
}

Result<std::string> RenderFinalConfig(DecisionContext& ctx, const Decision& decision) {
  if (ctx.options.dry_run || !decision.produced) return std::string();
  RenderOptions ro;
  DYPROF_ASSIGN_OR_RETURN(ro.api_version, ParseDgdApiVersion(ctx.options.dgd_api_version));
  if (auto name = ctx.env.env ? ctx.env.env("DGDR_NAME") : std::nullopt; name && !name->empty()) {
    ro.dgdr_name = *name;
  } else {
    ro.dgdr_name = ctx.spec.dgdr_name;
  }
  if (ctx.spec.hardware && ctx.spec.hardware->num_gpus_per_node) ro.num_gpus_per_node = *ctx.spec.hardware->num_gpus_per_node;
  ro.prefill_interpolation_granularity = ctx.options.prefill_interpolation_granularity;
  ro.decode_interpolation_granularity = ctx.options.decode_interpolation_granularity;
  ro.profile_data = ctx.profile_data;  // planner-profile-data ConfigMap (BuildCurves)
  RandomSuffixGenerator suffixes;
  DYPROF_ASSIGN_OR_RETURN(RenderedConfig rendered, RenderDeployment(ctx.spec, decision, ro, suffixes));
  for (const auto& w : rendered.warnings) ctx.env.log->Warn(w);
  if (rendered.write_picked) {
    DYPROF_RETURN_IF_ERROR(ctx.env.fs->WriteFileAtomic(JoinPath(ctx.options.output_dir, "picked_dgd_config.yaml"),
                                                       rendered.PickedYaml()));
  }
  return rendered.FinalYaml();
}

namespace {

std::string Num(double v) { return fmt::format("{:.3f}", v); }

void AppendRowCsv(std::string& csv, const ConfigRow& r) {
  auto split = [](const ParallelSplit& s) { return s.ToString(); };
  std::string reason = r.reject_reason;
  for (char& c : reason)
    if (c == ',' || c == '\n') c = ';';
  csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.disagg ? "disagg" : "agg",
                     BackendName(r.backend), r.disagg ? "" : split(r.split), r.disagg ? 0 : r.bs,
                     r.disagg ? 0 : r.ctx_tokens, r.disagg ? split(r.prefill.split) : "",
                     r.disagg ? r.prefill_workers : 0, r.disagg ? split(r.decode.split) : "",
                     r.disagg ? r.decode.bs : 0, r.disagg ? r.decode_workers : 0, r.num_total_gpus, Num(r.ttft_ms),
                     Num(r.tpot_ms), Num(r.request_latency_ms), Num(r.tokens_per_s_per_gpu),
                     Num(r.tokens_per_s_per_user), Num(r.seq_per_s), r.feasible ? "true" : "false", reason);
}

const char* kCsvHeader =
    "mode,backend,parallel,bs,max_num_tokens,prefill_parallel,prefill_workers,decode_parallel,decode_bs,"
    "decode_workers,gpus_per_replica,ttft_ms,tpot_ms,request_latency_ms,tokens_per_s_per_gpu,tokens_per_s_per_user,"
    "request_rate,feasible,reject_reason\n";

}  // namespace

Status WriteSideOutputs(DecisionContext& ctx, const Decision& decision) {
  FileSystem& fs = *ctx.env.fs;
  const std::string& dir = ctx.options.output_dir;
  Json pick = decision.pick_json;
  if (decision.naive) {
    pick["mode"] = "naive";
    pick["backend"] = std::string(BackendName(decision.backend));
    pick["chosen"] = {{"mode", "agg"},
                      {"engine", {{"tp", decision.agg.split.tp}, {"dp", decision.agg.split.dp},
                                  {"moe_tp", decision.agg.split.moe_tp}, {"moe_ep", decision.agg.split.moe_ep}}},
                      {"replicas", decision.agg.replicas}};
    pick["sla_verified"] = false;
    pick["warnings"] = ctx.env.log->warnings();
  }
  if (ctx.outcome && !ctx.options.dry_run && !decision.naive) {
    std::string candidates = kCsvHeader, pareto = kCsvHeader;
    for (const auto& r : ctx.outcome->agg_rows) AppendRowCsv(candidates, r);
    for (const auto& r : ctx.outcome->disagg_rows) AppendRowCsv(candidates, r);
    for (const auto& r : ctx.outcome->agg_pareto) AppendRowCsv(pareto, r);
    for (const auto& r : ctx.outcome->disagg_pareto) AppendRowCsv(pareto, r);
    DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, "candidates.csv"), candidates));
    DYPROF_RETURN_IF_ERROR(fs.WriteFileAtomic(JoinPath(dir, "pareto.csv"), pareto));
  }
  return fs.WriteFileAtomic(JoinPath(dir, "pick.json"), pick.dump(2) + "\n");
}

Status WriteReport(DecisionContext& ctx, const Decision& decision, double elapsed_s) {
  FileSystem& fs = *ctx.env.fs;
  const std::string& dir = ctx.options.output_dir;
  ReportInput in;
  in.spec = &ctx.spec;
  in.decision = &decision;
  in.outcome = ctx.outcome && !ctx.options.dry_run ? &*ctx.outcome : nullptr;
  in.warnings = ctx.env.log->warnings();
  in.elapsed_s = elapsed_s;
  in.generated_at = FormatUtcTimestamp(ctx.env.clock->NowUnixSeconds());
  for (const char* f : {"final_config.yaml", "picked_dgd_config.yaml", "pick.json", "candidates.csv", "pareto.csv",
                        "selected_prefill_interpolation/raw_data.npz", "selected_decode_interpolation/raw_data.npz",
                        "profile_sla.log", "profiler_status.yaml"})
    if (fs.IsFile(JoinPath(dir, f))) in.files_written.push_back(f);
  in.files_written.push_back("report.html");
  const std::pair<const char*, const char*> kCurves[] = {
      {"Prefill TTFT vs ISL", "selected_prefill_interpolation/prefill_ttft_interpolation.svg"},
      {"Prefill throughput per GPU vs ISL", "selected_prefill_interpolation/prefill_throughput_interpolation.svg"},
      {"Decode ITL vs KV usage", "selected_decode_interpolation/decode_itl_interplation.svg"},
      {"Decode throughput per GPU vs KV usage", "selected_decode_interpolation/decode_throughput_interpolation.svg"}};
  for (const auto& [title, file] : kCurves) {
    auto svg = fs.ReadFile(JoinPath(dir, file));
    if (svg.ok()) in.curve_svgs.emplace_back(title, *svg);
  }
  return fs.WriteFileAtomic(JoinPath(dir, "report.html"), RenderReportHtml(in));
}

void PrintSummary(DecisionContext& ctx, const Decision& decision) {
  if (ctx.options.summary == SummaryStyle::kNone) return;
  if (ctx.options.summary == SummaryStyle::kJson) {
    auto pick = ctx.env.fs->ReadFile(JoinPath(ctx.options.output_dir, "pick.json"));
    std::cout << (pick.ok() ? *pick : decision.pick_json.dump(2) + "\n") << std::flush;
    return;
  }
  std::string out;
  const auto& spec = ctx.spec;
  out += fmt::format("\n  Model: {}  GPUs: {} x {}  ISL/OSL: {}/{}\n", spec.model,
                     spec.hardware->total_gpus.value_or(spec.hardware->num_gpus_per_node.value_or(8)),
                     spec.hardware->gpu_sku.value_or("?"), spec.WorkloadOrDefault().isl, spec.WorkloadOrDefault().osl);
  if (decision.naive) {
    out += fmt::format("  Picked (naive memory fit, SLA unverified): {} agg tp{} x{} replicas\n",
                       BackendName(decision.backend), decision.agg.split.tp, decision.agg.replicas);
    std::cout << ctx.env.log->Mask(out) << std::flush;
    return;
  }
  if (!ctx.outcome || !ctx.outcome->chosen) {
    std::cout << ctx.env.log->Mask(out) << std::flush;
    return;
  }
  const StrategyOutcome& o = *ctx.outcome;
  const ConfigRow& c = *o.chosen;
  out += fmt::format("  Picking mode: {}   Best experiment: {} ({})\n", PickingModeName(o.mode), o.chosen_exp,
                     BackendName(c.backend));
  if (o.agg_best_throughput > 0 && o.disagg_best_throughput > 0 && o.mode == PickingMode::kDefault)
    out += fmt::format("  agg {:.1f} vs disagg {:.1f} tokens/s/gpu\n", o.agg_best_throughput, o.disagg_best_throughput);
  out += fmt::format("  Chosen: {}  replicas {}  ({} GPUs)\n", c.Describe(), c.replicas,
                     c.replicas * c.num_total_gpus);
  out += fmt::format("  TTFT {:.1f} ms  ITL {:.2f} ms  {:.1f} tokens/s/gpu  {:.1f} tokens/s/user  {:.2f} req/s per replica\n",
                     c.ttft_ms, c.tpot_ms, c.tokens_per_s_per_gpu, c.tokens_per_s_per_user, c.seq_per_s);
  auto table = [&](const char* title, const std::vector<ConfigRow>& rows) {
    if (rows.empty()) return;
    out += fmt::format("\n  {} top configurations\n", title);
    out += fmt::format("  {:>4} {:>7} {:>30} {:>12} {:>13} {:>10} {:>9} {:>8} {:>5}\n", "rank", "backend", "config",
                       "tok/s/gpu", "tok/s/user", "TTFT ms", "ITL ms", "replicas", "GPUs");
    int rank = 1;
    for (const auto& r : rows)
      out += fmt::format("  {:>4} {:>7} {:>30} {:>12.1f} {:>13.1f} {:>10.1f} {:>9.2f} {:>8} {:>5}\n", rank++,
                         BackendName(r.backend), r.Describe(), r.tokens_per_s_per_gpu_cluster,
                         r.tokens_per_s_per_user, r.ttft_ms, r.tpot_ms, r.replicas, r.replicas * r.num_total_gpus);
  };
  table("agg", o.agg_top);
  table("disagg", o.disagg_top);
  std::cout << ctx.env.log->Mask(out) << std::flush;
}

}  // namespace dyprof

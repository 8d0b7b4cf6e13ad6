// `accuracy --silicon ROWS.csv`: predicts every silicon-format row and prints, per (system,
// backend, mode) and overall, coverage and TTFT/TPOT error statistics (format: docs/accuracy.md).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/cli.h"
#include "common/file_system.h"
#include "perf/accuracy.h"
#include "perf/batch.h"
#include "perf/calibration.h"
#include "perf/csv.h"
#include "sim/estimate.h"

namespace dyprof {
namespace {

// The deployment a row was predicted as (the per-row output's last column): an aggregated engine's
// split, or a disaggregated one's "workers x split" per role ('?' where the row records no worker
// counts), then "/b" and the decode workers' max batch per rank (0: the backend's default) for
// disaggregated rows, and "/mtp" with the draft tokens (-1: not known).
std::string DeploymentOf(const EstimateRequest& r) {
  const std::string mtp = fmt::format("/mtp{}", r.mtp_draft_tokens.value_or(-1));
  if (r.mode != ServingMode::kDisagg) return r.split.ToString() + mtp;
  const auto workers = [&](int n) { return r.disagg_workers_known ? std::to_string(n) : std::string("?"); };
  return fmt::format("{}x{}/{}x{}/b{}{}", workers(r.disagg.prefill_workers), r.disagg.prefill_split.ToString(),
                     workers(r.disagg.decode_workers), r.disagg.decode_split.ToString(), r.decode_max_batch, mtp);
}

struct AccuracyFlags {
  std::string silicon, recipes, latency_model = "hybrid", perf_db, errors_csv, moe_a2a_backend = "none";
  std::string calibration = "none", write_calibration;
  int requests_per_user = 0, warmup_per_user = -1;
  double prefill_scale = -1, decode_scale = -1, overhead_ms = -1;
  int statistic = 0;
  double spread = -1;
  SpeculativeFlags speculative;
};

// --calibration's held-out readings: what each leaves out, and how the stderr line names it.
const std::map<std::string, std::pair<HeldOut, std::string_view>, std::less<>>& HeldOutReadings() {
  static const std::map<std::string, std::pair<HeldOut, std::string_view>, std::less<>> readings = {
      {"held-out", {HeldOut::kSweep, "held out: each row's configuration sweep left out"}},
      {"held-out-workload", {HeldOut::kWorkload, "held out: each row's ISL/OSL pair left out"}},
      {"held-out-length", {HeldOut::kLength, "held out: each row's ISL left out for TTFT, its OSL for TPOT"}}};
  return readings;
}

int RunAccuracy(const AccuracyFlags& f) {
  if ((f.calibration == "shipped" || !f.write_calibration.empty()) &&
      (f.latency_model != "hybrid" || !f.perf_db.empty())) {
    std::cerr << "error: the shipped calibration table corrects --latency-model hybrid on the fitted efficiency "
                 "grids; expected hybrid without --perf-db with --calibration shipped or --write-calibration, found "
              << (f.perf_db.empty() ? "--latency-model " + f.latency_model : "--perf-db " + f.perf_db) << "\n";
    return 2;
  }
  if (!f.write_calibration.empty() && f.calibration == "shipped") {
    std::cerr << "error: --write-calibration fits the model's own predictions: expected --calibration none or "
                 "a held-out reading, found shipped\n";
    return 2;
  }
  PosixFileSystem fs;
  std::string recipes_summary;
  auto table = LoadSiliconRows(fs, f.silicon, f.recipes, &recipes_summary);
  if (!table.ok()) {
    std::cerr << "error: " << table.status().message() << "\n";
    return 1;
  }
  if (!recipes_summary.empty()) std::cerr << recipes_summary << "\n";
  auto estimator_options = EstimatorOptions(f.latency_model, f.speculative, f.moe_a2a_backend);
  if (!estimator_options.ok()) {
    std::cerr << "error: " << estimator_options.status().message() << "\n";
    return 2;
  }
  PerfOptions opts = *estimator_options;
  BatchEstimator est(&fs, opts, f.perf_db);
  SimOptions so;
  so.requests_per_user = f.requests_per_user;
  so.warmup_per_user = f.warmup_per_user;
  if (f.latency_model == "des") {  // refit overrides apply to the pure simulation only
    so.prefill_scale = f.prefill_scale;
    so.decode_scale = f.decode_scale;
    so.request_overhead_ms = f.overhead_ms;
    so.statistic = f.statistic;
    if (f.spread >= 0) so.isl_spread = so.osl_spread = f.spread;
  }
  UseLatencyModel(est, f.latency_model, so);
  if (f.calibration == "shipped") est.set_calibration(&Calibration::Shipped());
  std::vector<AccuracyRow> rows;
  struct RowRecord {
    std::string id, status, error;
    int point = -1;  // index into `points` (rows with a prediction and both measurements)
  };
  std::vector<RowRecord> records;
  std::vector<CalibrationPoint> points;
  std::vector<std::string> deployments;
  size_t corrected = 0;  // rows the calibration changed
  for (size_t i = 0; i < table->num_rows(); ++i) {
    AccuracyRow a;
    a.system = std::string(table->Get(i, "system"));
    a.backend = std::string(table->Get(i, "backend"));
    a.mode = std::string(table->Get(i, "mode"));
    auto req = RequestFromSiliconRow(*table, i);
    EstimateOutcome o;
    RowRecord rec;
    deployments.push_back(req.ok() ? DeploymentOf(*req) : "");
    rec.id = std::string(table->Get(i, "id"));
    if (req.ok()) {
      o = est.Predict(*req);
      a.meas_ttft_ms = req->measured_ttft_ms;
      a.meas_tpot_ms = req->measured_tpot_ms;
      if (o.status == EstimateStatus::kOk && std::isfinite(a.meas_ttft_ms) && std::isfinite(a.meas_tpot_ms)) {
        auto engine = est.EngineFor(*req);  // cached: the one that predicted the row
        if (engine.ok()) {
          rec.point = static_cast<int>(points.size());
          points.push_back({CalibrationKeyFor(*req, **engine), SweepId(*req),
                            CalibrationConcurrency(*req, o.metrics), static_cast<double>(req->isl),
                            static_cast<double>(req->osl), a.meas_ttft_ms, o.metrics.ttft_ms,
                            a.meas_tpot_ms, o.metrics.tpot_ms, CalibrationLayout(*req)});
        }
      }
    } else {
      o.status = req.status().code() == StatusCode::kUnsupported ? EstimateStatus::kUnsupported : EstimateStatus::kError;
      o.error = req.status().message();
      a.meas_ttft_ms = a.meas_tpot_ms = std::nan("");
    }
    a.supported = o.status != EstimateStatus::kUnsupported;
    a.predicted = o.status == EstimateStatus::kOk;
    if (rec.point >= 0 && o.calibration.applied) ++corrected;  // --calibration shipped
    a.pred_ttft_ms = o.metrics.ttft_ms;
    a.pred_tpot_ms = o.metrics.tpot_ms;
    rec.status = std::string(EstimateStatusName(o.status));
    rec.error = o.error;
    rows.push_back(a);
    records.push_back(std::move(rec));
  }
  const auto& held_out_readings = HeldOutReadings();
  const auto reading = held_out_readings.find(f.calibration);
  if (reading != held_out_readings.end()) {
    const std::vector<CalibrationFactors> held_out = LeaveOut(points, reading->second.first);
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].point < 0) continue;
      const CalibrationFactors& cf = held_out[records[i].point];
      rows[i].pred_ttft_ms *= cf.ttft;
      rows[i].pred_tpot_ms *= cf.tpot;
      corrected += cf.applied ? 1 : 0;
    }
  }
  if (f.calibration != "none") {
    const std::string_view how =
        reading != held_out_readings.end() ? reading->second.second : std::string_view("shipped table, in sample");
    std::cerr << fmt::format("calibration ({}): {} of {} measured predicted rows corrected\n", how, corrected,
                             points.size());
  }
  if (!f.write_calibration.empty()) {
    auto st = fs.WriteFileAtomic(f.write_calibration, Calibration::Fit(points).ToCsv());
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  // Five columns say where the calibration files the row (empty for rows it does not fit): its
  // family, its configuration sweep, the load it is read at, and the mean request lengths; the last
  // the deployment it was predicted as (DeploymentOf; empty for rows that could not be read).
  std::string per_row = CsvLine({"id", "system", "backend", "mode", "status", "meas_ttft_ms", "pred_ttft_ms",
                                 "meas_tpot_ms", "pred_tpot_ms", "error", "family", "sweep", "concurrency",
                                 "mean_isl", "mean_osl", "deployment"});
  for (size_t i = 0; i < rows.size(); ++i) {
    const AccuracyRow& a = rows[i];
    const CalibrationPoint* point = records[i].point >= 0 ? &points[records[i].point] : nullptr;
    per_row += CsvLine({records[i].id, a.system, a.backend, a.mode, records[i].status,
                        fmt::format("{:.4f}", a.meas_ttft_ms), a.predicted ? fmt::format("{:.4f}", a.pred_ttft_ms) : "",
                        fmt::format("{:.4f}", a.meas_tpot_ms), a.predicted ? fmt::format("{:.4f}", a.pred_tpot_ms) : "",
                        records[i].error, point ? point->key.ToString() : "", point ? point->sweep : "",
                        point ? fmt::format("{:g}", point->concurrency) : "", point ? fmt::format("{:g}", point->isl) : "",
                        point ? fmt::format("{:g}", point->osl) : "", deployments[i]});
  }
  std::cout << FormatAccuracyTable(ComputeAccuracy(rows));
  if (!f.errors_csv.empty()) {
    auto st = fs.WriteFileAtomic(f.errors_csv, per_row);
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

CommandRegistrar AccuracyCommand() {
  return [](CLI::App& parent) -> CommandRegistration {
    auto* app = parent.add_subcommand("accuracy", "Predict silicon-format rows and report error per system/backend/mode");
    auto f = std::make_shared<AccuracyFlags>();
    app->add_option("--silicon", f->silicon, "Measured rows (columns of data/silicon/train.csv)")->required();
    app->add_option("--recipes", f->recipes,
                    "CSV keyed by id whose non-empty fields complete or correct the rows (e.g. "
                    "tools/silicon_recipes/inferencex_recipes.csv: worker counts, layouts, MTP)");
    app->add_option("--latency-model", f->latency_model,
                    "hybrid (default: closed form for agg, scheduler simulation for disagg), analytic/dyprof (closed form), des (scheduler simulation) or aic (AIC's composition)")
        ->capture_default_str()->check(CLI::IsMember({"hybrid", "des", "analytic", "dyprof", "aic"}));
    app->add_option("--requests-per-user", f->requests_per_user, "des: measured requests per benchmark user (0 = auto)");
    app->add_option("--warmup-per-user", f->warmup_per_user, "des: warm-up requests per user, dropped (-1 = default)");
    app->add_option("--sim-prefill-scale", f->prefill_scale, "des: override the fitted prefill-step multiplier (refits)");
    app->add_option("--sim-decode-scale", f->decode_scale, "des: override the fitted decode-step multiplier (refits)");
    app->add_option("--sim-spread", f->spread, "des: uniform ±fraction of ISL and OSL per request (refits)");
    app->add_option("--sim-statistic", f->statistic, "des: 0 = default, 1 = mean, 2 = median (refits)");
    app->add_option("--sim-overhead-ms", f->overhead_ms, "des: override the per-request client overhead (refits)");
    app->add_option("--perf-db", f->perf_db, "Directory of measured kernel tables (perfdb layout) to interpolate");
    app->add_option("--rows-out", f->errors_csv, "Also write per-row predictions and status to this CSV");
    app->add_option("--calibration", f->calibration,
                    "none (default: the model alone), held-out (each row corrected by its family's calibration "
                    "fitted on the family's other configurations: the calibration's held-out error), "
                    "held-out-workload (likewise without every row of the row's ISL/OSL pair), held-out-length "
                    "(TTFT without every row of the row's ISL, TPOT without every row of its OSL: lengths the "
                    "family has not measured) or shipped (the table compiled in from "
                    "data/calibration/silicon.csv; in sample on the rows it was fitted on)")
        ->capture_default_str()
        ->check(CLI::IsMember([] {
          std::vector<std::string> names = {"none", "shipped"};
          for (const auto& [name, reading] : HeldOutReadings()) names.push_back(name);
          return names;
        }()));
    app->add_option("--write-calibration", f->write_calibration,
                    "Fit the calibration table on every predicted row (uncalibrated predictions) and write it here "
                    "(the source of data/calibration/silicon.csv)");
    AddSpeculativeFlags(app, &f->speculative);
    AddMoeA2aFlag(app, &f->moe_a2a_backend);
    return {app, [f]() { return RunAccuracy(*f); }};
  };
}

}  // namespace dyprof

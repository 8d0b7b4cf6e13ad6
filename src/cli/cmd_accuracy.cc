// `accuracy --silicon ROWS.csv`: predicts every silicon-format row and prints, per (system,
// backend, mode) and overall, coverage and TTFT/TPOT error statistics (format: docs/accuracy.md).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "cli/cli.h"
#include "common/file_system.h"
#include "perf/accuracy.h"
#include "perf/batch.h"
#include "perf/csv.h"

namespace dyprof {
namespace {

struct AccuracyFlags {
  std::string silicon, latency_model = "dyprof", perf_db, errors_csv;
};

int RunAccuracy(const AccuracyFlags& f) {
  PosixFileSystem fs;
  auto text = fs.ReadFile(f.silicon);
  if (!text.ok()) {
    std::cerr << "error: " << text.status().message() << "\n";
    return 1;
  }
  auto table = CsvTable::Parse(*text);
  if (!table.ok()) {
    std::cerr << "error: " << f.silicon << ": " << table.status().message() << "\n";
    return 1;
  }
  PerfOptions opts;
  if (f.latency_model == "aic") opts.composition = PerfOptions::Composition::kAic;
  BatchEstimator est(&fs, opts, f.perf_db);
  std::vector<AccuracyRow> rows;
  std::string per_row = CsvLine({"id", "system", "backend", "mode", "status", "meas_ttft_ms", "pred_ttft_ms",
                                 "meas_tpot_ms", "pred_tpot_ms", "error"});
  for (size_t i = 0; i < table->num_rows(); ++i) {
    AccuracyRow a;
    a.system = std::string(table->Get(i, "system"));
    a.backend = std::string(table->Get(i, "backend"));
    a.mode = std::string(table->Get(i, "mode"));
    auto req = RequestFromSiliconRow(*table, i);
    EstimateOutcome o;
    if (req.ok()) {
      o = est.Predict(*req);
      a.meas_ttft_ms = req->measured_ttft_ms;
      a.meas_tpot_ms = req->measured_tpot_ms;
    } else {
      o.status = req.status().code() == StatusCode::kUnsupported ? EstimateStatus::kUnsupported : EstimateStatus::kError;
      o.error = req.status().message();
      a.meas_ttft_ms = a.meas_tpot_ms = std::nan("");
    }
    a.supported = o.status != EstimateStatus::kUnsupported;
    a.predicted = o.status == EstimateStatus::kOk;
    a.pred_ttft_ms = o.metrics.ttft_ms;
    a.pred_tpot_ms = o.metrics.tpot_ms;
    rows.push_back(a);
    if (!f.errors_csv.empty()) {
      per_row += CsvLine({std::string(table->Get(i, "id")), a.system, a.backend, a.mode,
                          std::string(EstimateStatusName(o.status)), fmt::format("{:.4f}", a.meas_ttft_ms),
                          a.predicted ? fmt::format("{:.4f}", a.pred_ttft_ms) : "",
                          fmt::format("{:.4f}", a.meas_tpot_ms), a.predicted ? fmt::format("{:.4f}", a.pred_tpot_ms) : "",
                          o.error});
    }
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
    app->add_option("--latency-model", f->latency_model, "Serving composition: dyprof (default) or aic")
        ->capture_default_str()->check(CLI::IsMember({"dyprof", "aic"}));
    app->add_option("--perf-db", f->perf_db, "Directory of measured kernel tables (perfdb layout) to interpolate");
    app->add_option("--rows-out", f->errors_csv, "Also write per-row predictions and status to this CSV");
    return {app, [f]() { return RunAccuracy(*f); }};
  };
}

}  // namespace dyprof

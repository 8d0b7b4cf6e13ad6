#include "sim/estimate.h"

#include <fmt/format.h>

#include <cmath>

namespace dyprof {
namespace {
bool Median(const PerfEngine& e, const SimOptions& o) {
  return o.statistic == 0 ? SimDefaults::For(e.backend()).median : o.statistic == 2;
}
}  // namespace

Result<Metrics> RunEstimateDes(const PerfEngine& engine, const EstimateRequest& r, const SimOptions& given,
                               SimResult* sim) {
  SimOptions options = given;
  // The request's own length distribution (a benchmark's) widens the simulation's default jitter,
  // which stays the least spread (it keeps a closed loop of equal requests out of lock-step); a
  // spread the options set explicitly stays.
  if (r.length_spread >= 0) {
    const double spread = std::max(r.length_spread, SimDefaults::For(engine.backend()).spread);
    if (options.isl_spread < 0) options.isl_spread = spread;
    if (options.osl_spread < 0) options.osl_spread = spread;
  }
  switch (r.mode) {
    case ServingMode::kStatic: return RunEstimate(engine, r);
    case ServingMode::kAgg: {
      DYPROF_RETURN_IF_ERROR(engine.CheckSplit(r.split));
      int conc = r.concurrency > 0 ? static_cast<int>(std::lround(r.concurrency)) : r.batch * r.split.dp;
      SimOptions agg_options = options;
      agg_options.admission = r.admission;
      DYPROF_ASSIGN_OR_RETURN(
          SimResult s, SimulateAgg(engine, r.split, std::max(conc, 1), r.isl, r.osl, r.max_num_tokens, agg_options));
      if (sim) *sim = s;
      return s.ToMetrics(r.osl, r.split.NumGpus(), Median(engine, options));
    }
    case ServingMode::kDisagg: {
      DisaggConfig c = r.disagg;
      const int conc = std::max(1, static_cast<int>(std::lround(r.concurrency > 0 ? r.concurrency : 1)));
      if (!r.disagg_workers_known) {
        // A row's decode max batch sizes the derived decode side too: enough workers to seat every user.
        DYPROF_ASSIGN_OR_RETURN(WorkerCounts w, DeriveWorkerCounts(engine, c, conc, r.isl, r.osl, r.max_num_tokens,
                                                                   r.decode_max_batch, options.decode_scale));
        c.prefill_workers = w.prefill_workers;
        c.decode_workers = w.decode_workers;
      }
      SimOptions disagg_options = options;
      if (r.decode_max_batch > 0) disagg_options.decode_max_num_seqs = r.decode_max_batch;
      DYPROF_ASSIGN_OR_RETURN(SimResult s,
                              SimulateDisagg(engine, c, conc, r.isl, r.osl, r.max_num_tokens, disagg_options));
      if (sim) *sim = s;
      const int gpus = c.prefill_split.NumGpus() * c.prefill_workers + c.decode_split.NumGpus() * c.decode_workers;
      return s.ToMetrics(r.osl, gpus, Median(engine, options));
    }
  }
  return Status::Internal("unknown mode");
}

void UseLatencyModel(BatchEstimator& estimator, const std::string& latency_model, const SimOptions& options) {
  if (latency_model == "des") {
    estimator.set_runner(
        [options](const PerfEngine& e, const EstimateRequest& r) { return RunEstimateDes(e, r, options); });
  } else if (latency_model == "hybrid") {
    estimator.set_runner([options](const PerfEngine& e, const EstimateRequest& r) -> Result<Metrics> {
      if (r.mode == ServingMode::kDisagg) return RunEstimateDes(e, r, options);
      return RunEstimate(e, r);
    });
  }
}

Result<CsvTable> LoadCsvTable(const FileSystem& fs, const std::string& path) {
  auto text = fs.ReadFile(path);
  if (!text.ok()) return text.status();
  auto table = CsvTable::Parse(*text);
  if (!table.ok()) return Status(table.status().code(), path + ": " + table.status().message());
  return table;
}

Result<CsvTable> LoadSiliconRows(const FileSystem& fs, const std::string& rows_path, const std::string& recipes_path,
                                 std::string* summary) {
  DYPROF_ASSIGN_OR_RETURN(CsvTable rows, LoadCsvTable(fs, rows_path));
  if (recipes_path.empty()) return rows;
  if (rows.Column("id") < 0) {
    return Status::InvalidArgument(rows_path + ": no 'id' column (expected one to apply --recipes by row id)");
  }
  DYPROF_ASSIGN_OR_RETURN(CsvTable recipes, LoadCsvTable(fs, recipes_path));
  auto overlay = OverlayCsv(rows, recipes, "id");
  if (!overlay.ok()) return Status(overlay.status().code(), recipes_path + ": " + overlay.status().message());
  if (summary) {
    *summary = fmt::format("recipes: {} of {} rows completed from {} ({} recipe ids not among the rows)",
                           overlay->rows_overridden, rows.num_rows(), recipes_path, overlay->keys_unmatched);
  }
  return std::move(overlay->table);
}

}  // namespace dyprof

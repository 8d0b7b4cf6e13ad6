// The scheduler simulation behind `estimate` and `accuracy` (--latency-model des): one
// EstimateRequest (a silicon row or the command line) → Metrics from SimulateAgg / SimulateDisagg.
#pragma once

#include "common/file_system.h"
#include "common/status.h"
#include "perf/csv.h"
#include "perf/batch.h"
#include "perf/engine.h"
#include "sim/sim.h"

namespace dyprof {

// static: the engine's static batch (no scheduler); agg: SimulateAgg at the request's engine
// concurrency; disagg: SimulateDisagg at the deployment concurrency, with DeriveWorkerCounts when the
// request does not know its worker counts (EstimateRequest::disagg_workers_known). A request's own
// length_spread (a benchmark's length range) stands in for options' isl/osl spreads left at their
// default (< 0). `sim`, when not null, receives the full simulation result (agg/disagg).
Result<Metrics> RunEstimateDes(const PerfEngine& engine, const EstimateRequest& r, const SimOptions& options = {},
                               SimResult* sim = nullptr);

// Points `estimator` at a latency model: "analytic"/"dyprof" and "aic" keep the closed form (AIC's
// composition is chosen through PerfOptions), "des" simulates every row with `options`, "hybrid"
// (the default of estimate/accuracy) uses the closed form for aggregated rows and the simulation
// for disaggregated ones, the better model for each on the silicon data (docs/accuracy.md).
void UseLatencyModel(BatchEstimator& estimator, const std::string& latency_model, const SimOptions& options);

// Reads and parses a CSV of rows in the silicon columns; errors name the file.
Result<CsvTable> LoadCsvTable(const FileSystem& fs, const std::string& path);

// The rows of `rows_path` with the non-empty fields of `recipes_path` (a CSV keyed by `id`, in the
// silicon columns plus mtp_draft_tokens / mtp_acceptance) written over the rows they name, for what
// the measured rows leave unrecorded (tools/silicon_recipes/). No recipes path: the rows as read.
// Errors name the file. `summary`, when not null, receives one line saying what was applied.
Result<CsvTable> LoadSiliconRows(const FileSystem& fs, const std::string& rows_path, const std::string& recipes_path,
                                 std::string* summary = nullptr);

}  // namespace dyprof

// The scheduler simulation behind `estimate` and `accuracy` (--latency-model des): one
// EstimateRequest (a silicon row or the command line) → Metrics from SimulateAgg / SimulateDisagg.
#pragma once

#include "common/status.h"
#include "perf/batch.h"
#include "perf/engine.h"
#include "sim/sim.h"

namespace dyprof {

// static: the engine's static batch (no scheduler); agg: SimulateAgg at the request's engine
// concurrency; disagg: SimulateDisagg at the deployment concurrency, with DeriveWorkerCounts when the
// request does not know its worker counts (EstimateRequest::disagg_workers_known). `sim`, when not
// null, receives the full simulation result (agg/disagg).
Result<Metrics> RunEstimateDes(const PerfEngine& engine, const EstimateRequest& r, const SimOptions& options = {},
                               SimResult* sim = nullptr);

}  // namespace dyprof

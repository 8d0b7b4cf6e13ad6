// The profiler's own spec validation (valid_dgdr_spec), run after parsing, in the reference order
// and with the reference messages. Also the feature gates that depend on whether the model can be
// simulated.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

// Checks image, hardware (gpuSku, numGpusPerNode), workload exclusivity, SLA, and the thorough+auto
// gate; fills workload/sla defaults. Every failing rule is reported (messages joined with "; ").
Status ValidateDgdrSpec(DgdrSpec& spec);

// validate_dgdr_dynamo_features: with `simulation_supported` false and a planner doing throughput
// scaling from a rapid sweep, returns the warning text (not an error). Mocker without a sweep is
// rejected at parse time.
std::vector<std::string> FeatureWarnings(const DgdrSpec& spec, bool simulation_supported);

}  // namespace dyprof

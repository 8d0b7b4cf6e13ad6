// Accuracy of predictions against measured rows: per (system, backend, mode) group and overall.
// Errors are signed relative errors (pred − measured) / measured in percent.
#pragma once

#include <string>
#include <vector>

namespace dyprof {

struct AccuracyRow {
  std::string system, backend, mode;
  bool supported = true;   // false: the model architecture is not modelled (status unsupported)
  bool predicted = false;  // status ok
  double pred_ttft_ms = 0, pred_tpot_ms = 0;
  double meas_ttft_ms = 0, meas_tpot_ms = 0;  // NaN when not measured
};

struct MetricStats {
  int n = 0;                     // rows with a prediction and a measurement
  double median_abs_pct = 0;     // median |error| %
  double within20 = 0;           // share of rows with |error| <= 20 %, 0..1
  double median_signed_pct = 0;  // median signed error %
};

struct AccuracyGroup {
  std::string system, backend, mode;  // "all" in the overall line
  int rows = 0;
  int supported = 0;
  int predicted = 0;
  MetricStats ttft, tpot;
};

// Groups sorted by (system, backend, mode), then the overall group last.
std::vector<AccuracyGroup> ComputeAccuracy(const std::vector<AccuracyRow>& rows);
MetricStats ComputeStats(const std::vector<double>& signed_pct);

// The stable text format of `dynamo-profiler accuracy` (a Markdown table, one line per group;
// columns documented in docs/accuracy.md):
// | system | backend | mode | rows | supported | predicted | coverage % | ttft mdape % | ttft within20 % |
//   ttft median signed % | tpot mdape % | tpot within20 % | tpot median signed % |
std::string FormatAccuracyTable(const std::vector<AccuracyGroup>& groups);

}  // namespace dyprof

// Summary statistics for benchmark metrics, as AIPerf reports them (numpy linear percentiles).
#pragma once

#include <vector>

#include "common/document.h"

namespace dyprof {

// The p-th percentile (0..100) with linear interpolation between order statistics (numpy's
// default); 0 for an empty input.
double Percentile(std::vector<double> values, double p);

struct MetricSummary {
  int count = 0;
  double avg = 0, min = 0, max = 0, std = 0, p1 = 0, p5 = 0, p10 = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0, p95 = 0,
         p99 = 0;
  // {"unit": unit, "avg": ..., "p50": ...} as in profile_export_aiperf.json.
  Json ToJson(const char* unit) const;
};

MetricSummary Summarize(const std::vector<double>& values);

}  // namespace dyprof

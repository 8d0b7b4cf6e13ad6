#include "thorough/stats.h"

#include <algorithm>
#include <cmath>

namespace dyprof {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, values.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

MetricSummary Summarize(const std::vector<double>& values) {
  MetricSummary s;
  s.count = static_cast<int>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.avg = sum / values.size();
  double sq = 0;
  for (double v : values) sq += (v - s.avg) * (v - s.avg);
  s.std = std::sqrt(sq / values.size());
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  s.p1 = Percentile(values, 1);
  s.p5 = Percentile(values, 5);
  s.p10 = Percentile(values, 10);
  s.p25 = Percentile(values, 25);
  s.p50 = Percentile(values, 50);
  s.p75 = Percentile(values, 75);
  s.p90 = Percentile(values, 90);
  s.p95 = Percentile(values, 95);
  s.p99 = Percentile(values, 99);
  return s;
}

Json MetricSummary::ToJson(const char* unit) const {
  return Json{{"unit", unit}, {"avg", avg}, {"p1", p1},   {"p5", p5},   {"p10", p10}, {"p25", p25}, {"p50", p50},
              {"p75", p75},   {"p90", p90}, {"p95", p95}, {"p99", p99}, {"min", min}, {"max", max}, {"std", std},
              {"count", count}};
}

}  // namespace dyprof

#include "perf/accuracy.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <tuple>

namespace dyprof {

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

AccuracyGroup Summarise(const std::string& s, const std::string& b, const std::string& m,
                        const std::vector<const AccuracyRow*>& rows) {
  AccuracyGroup g;
  g.system = s;
  g.backend = b;
  g.mode = m;
  std::vector<double> ttft, tpot;
  for (const AccuracyRow* r : rows) {
    ++g.rows;
    if (r->supported) ++g.supported;
    if (!r->predicted) continue;
    ++g.predicted;
    if (std::isfinite(r->meas_ttft_ms) && r->meas_ttft_ms > 0) {
      ttft.push_back((r->pred_ttft_ms - r->meas_ttft_ms) / r->meas_ttft_ms * 100.0);
    }
    if (std::isfinite(r->meas_tpot_ms) && r->meas_tpot_ms > 0) {
      tpot.push_back((r->pred_tpot_ms - r->meas_tpot_ms) / r->meas_tpot_ms * 100.0);
    }
  }
  g.ttft = ComputeStats(ttft);
  g.tpot = ComputeStats(tpot);
  return g;
}

}  // namespace

MetricStats ComputeStats(const std::vector<double>& signed_pct) {
  MetricStats s;
  s.n = static_cast<int>(signed_pct.size());
  if (signed_pct.empty()) return s;
  std::vector<double> abs;
  int within = 0;
  for (double e : signed_pct) {
    abs.push_back(std::fabs(e));
    if (std::fabs(e) <= 20.0) ++within;
  }
  s.median_abs_pct = Median(abs);
  s.median_signed_pct = Median(signed_pct);
  s.within20 = static_cast<double>(within) / s.n;
  return s;
}

std::vector<AccuracyGroup> ComputeAccuracy(const std::vector<AccuracyRow>& rows) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const AccuracyRow*>> groups;
  std::vector<const AccuracyRow*> all;
  for (const auto& r : rows) {
    groups[{r.system, r.backend, r.mode}].push_back(&r);
    all.push_back(&r);
  }
  std::vector<AccuracyGroup> out;
  for (const auto& [k, v] : groups) out.push_back(Summarise(std::get<0>(k), std::get<1>(k), std::get<2>(k), v));
  out.push_back(Summarise("all", "all", "all", all));
  return out;
}

std::string FormatAccuracyTable(const std::vector<AccuracyGroup>& groups) {
  std::string out =
      "| system | backend | mode | rows | supported | predicted | coverage % | ttft mdape % | ttft within20 % | "
      "ttft median signed % | tpot mdape % | tpot within20 % | tpot median signed % |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& g : groups) {
    double cov = g.supported ? 100.0 * g.predicted / g.supported : 0.0;
    auto stat = [](const MetricStats& s) {
      if (s.n == 0) return std::string("- | - | -");
      return fmt::format("{:.1f} | {:.1f} | {:+.1f}", s.median_abs_pct, 100.0 * s.within20, s.median_signed_pct);
    };
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {:.1f} | {} | {} |\n", g.system, g.backend, g.mode, g.rows,
                       g.supported, g.predicted, cov, stat(g.ttft), stat(g.tpot));
  }
  return out;
}

}  // namespace dyprof

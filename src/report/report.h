// report.html: one self-contained page (inline SVG, CSS and a few lines of JS for sorting; no
// network) that says what was asked, what was decided and why, the Pareto frontier with the SLA
// and the pick, the top candidates, the planner curves, warnings and the files written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/pick.h"
#include "search/strategy.h"
#include "spec/spec.h"

namespace dyprof {

struct ReportInput {
  const DgdrSpec* spec = nullptr;
  const Decision* decision = nullptr;
  const StrategyOutcome* outcome = nullptr;  // null: dry-run or failed before the search
  std::vector<std::string> warnings;
  std::vector<std::string> files_written;    // relative to the output dir
  std::vector<std::pair<std::string, std::string>> curve_svgs;  // (title, svg document)
  double elapsed_s = 0;
  std::string generated_at;                  // UTC timestamp
};

// The Pareto chart (tokens/s/gpu vs tokens/s/user) of agg and disagg frontiers with the ITL SLA as
// a vertical line and the picked configuration marked. Empty string when there is nothing to plot.
std::string RenderParetoSvg(const StrategyOutcome& outcome, std::optional<double> itl_target_ms);

// The whole page.
std::string RenderReportHtml(const ReportInput& input);

}  // namespace dyprof

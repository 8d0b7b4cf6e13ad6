// Minimal SVG line plots for the interpolation curves: axes with "nice" ticks (1/2/5 × 10^k),
// axis labels with units, one coloured polyline + markers per series and a legend. Plain string
// building; the output is a standalone SVG 1.1 document a browser or image viewer can open.
#pragma once

#include <string>
#include <vector>

namespace dyprof {

struct PlotSeries {
  std::string label;  // legend text ("" = no legend entry)
  std::vector<double> x, y;
};

struct PlotSpec {
  std::string title;
  std::string x_label;  // with units, e.g. "Input sequence length (tokens)"
  std::string y_label;
  std::vector<PlotSeries> series;
  bool include_zero = true;  // axes start at 0 when every value is positive
  int width = 800, height = 500;
};

// Ticks covering [lo, hi] with a 1/2/5 × 10^k step, about `target` of them; the first tick is
// <= lo and the last >= hi. lo == hi widens the range around the value.
std::vector<double> NiceTicks(double lo, double hi, int target = 6);
// Tick label text with as many decimals as the tick step needs: "40000", "0.6", "0.25".
std::string TickLabel(double v, double step);
// Escapes & < > " ' for SVG text and attributes.
std::string XmlEscape(const std::string& s);

std::string RenderSvgPlot(const PlotSpec& spec);

}  // namespace dyprof

#include "curves/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

namespace dyprof {
namespace {

TEST(NiceTicksTest, OneTwoFiveSteps) {
  EXPECT_EQ(NiceTicks(0, 40000), (std::vector<double>{0, 10000, 20000, 30000, 40000}));
  auto unit = NiceTicks(0, 1);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
  auto t = NiceTicks(3, 97);
  EXPECT_LE(t.front(), 3);
  EXPECT_GE(t.back(), 97);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 20);
  auto same = NiceTicks(5, 5);
  EXPECT_LT(same.front(), 5);
  EXPECT_GT(same.back(), 5);
}

TEST(NiceTicksTest, Labels) {
  EXPECT_EQ(TickLabel(20000, 10000), "20000");
  EXPECT_EQ(TickLabel(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(TickLabel(0.25, 0.05), "0.25");
  EXPECT_EQ(TickLabel(2.5, 0.5), "2.5");
}

TEST(SvgPlotTest, HasAxesLabelsSeriesAndLegend) {
  PlotSpec p;
  p.title = "Decode ITL vs KV cache usage";
  p.x_label = "KV cache usage (fraction)";
  p.y_label = "ITL (ms)";
  p.series.push_back({"context 350 tokens", {0.1, 0.5, 0.9}, {8, 10, 14}});
  p.series.push_back({"context <2850> & more", {0.2, 0.6}, {9, 15}});
  std::string svg = RenderSvgPlot(p);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(">ITL (ms)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">KV cache usage (fraction)</text>"), std::string::npos);
  EXPECT_NE(svg.find("context &lt;2850&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(svg.find("<2850>"), std::string::npos);
  std::regex polyline("<polyline ");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), polyline), std::sregex_iterator()), 2);
  std::regex circle("<circle ");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), circle), std::sregex_iterator()), 5);
  // y ticks 0..15 in steps of 5 (include_zero), x ticks 0..1.
  EXPECT_NE(svg.find(">15</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.8</text>"), std::string::npos);
}

TEST(SvgPlotTest, EmptyAndNonFiniteDataStillRenders) {
  PlotSpec p;
  p.title = "empty";
  p.series.push_back({"", {1, std::nan("")}, {2, 3}});
  std::string svg = RenderSvgPlot(p);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_NE(RenderSvgPlot(PlotSpec{}).find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace dyprof

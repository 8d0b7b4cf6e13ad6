#include "report/report.h"

#include <gtest/gtest.h>

namespace dyprof {
namespace {

ConfigRow Row(bool disagg, int tp, double user, double gpu) {
  ConfigRow r;
  r.disagg = disagg;
  r.backend = Backend::kVllm;
  r.split.tp = tp;
  r.decode.split.tp = tp;
  r.prefill.split.tp = tp;
  r.prefill_workers = r.decode_workers = 1;
  r.tokens_per_s_per_user = user;
  r.tokens_per_s_per_gpu = r.tokens_per_s_per_gpu_cluster = gpu;
  r.num_total_gpus = disagg ? 2 * tp : tp;
  r.ttft_ms = 200;
  r.tpot_ms = 1000 / user;
  return r;
}

struct Fixture {
  DgdrSpec spec;
  Decision decision;
  StrategyOutcome outcome;
  Fixture() {
    spec.model = "Qwen/Qwen3-32B";
    spec.hardware = HardwareSpec{};
    spec.hardware->gpu_sku = "h200_sxm";
    spec.hardware->num_gpus_per_node = 8;
    spec.features.planner = PlannerSpec{};
    outcome.mode = PickingMode::kAutoscale;
    outcome.agg_pareto = {Row(false, 8, 50, 400), Row(false, 8, 100, 300)};
    outcome.disagg_pareto = {Row(true, 4, 40, 500), Row(true, 4, 90, 350), Row(true, 2, 120, 200)};
    outcome.agg_top = {Row(false, 8, 100, 300), Row(false, 4, 110, 250)};
    outcome.disagg_top = {Row(true, 4, 90, 350), Row(true, 2, 120, 200), Row(true, 1, 130, 100)};
    outcome.chosen = outcome.disagg_top[0];
    outcome.chosen_exp = "disagg";
    decision.disagg = true;
    decision.prefill.split.tp = 4;
    decision.decode.split.tp = 4;
  }
  // The report's input over this fixture's spec, decision and outcome.
  ReportInput Input() {
    ReportInput in;
    in.spec = &spec;
    in.decision = &decision;
    in.outcome = &outcome;
    return in;
  }
};

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(Report, DisaggPlannerProfileHasChartTableAndPick) {
  Fixture f;
  ReportInput in = f.Input();
  in.warnings = {"TTFT SLA 100.0ms is unachievable. Best achievable: 200.0ms. Updating SLA."};
  in.files_written = {"final_config.yaml", "pick.json"};
  in.curve_svgs = {{"Prefill TTFT", "<svg id=\"c1\"></svg>"}};
  std::string html = RenderReportHtml(in);
  // Chart present with both series, the SLA line and the pick marked.
  size_t chart = html.find("<div id=\"pareto\"><svg");
  ASSERT_NE(chart, std::string::npos);
  std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_NE(svg.find(">agg<"), std::string::npos);
  EXPECT_NE(svg.find(">disagg<"), std::string::npos);
  EXPECT_NE(svg.find("SLA: ITL 30 ms"), std::string::npos);
  EXPECT_NE(svg.find("picked: 1P tp4 bs1 + 1D tp4 bs1"), std::string::npos);
  // Table rows = candidates shown, the chosen one highlighted.
  size_t table = html.find("<table class=\"sortable\" id=\"candidates\">");
  ASSERT_NE(table, std::string::npos);
  std::string body = html.substr(html.find("<tbody>", table), html.find("</tbody>", table) - html.find("<tbody>", table));
  EXPECT_EQ(Count(body, "<tr"), 5u);
  EXPECT_EQ(Count(body, "<tr class=\"chosen\">"), 1u);
  EXPECT_NE(html.find("Best prefill engine and best decode engine"), std::string::npos);
  EXPECT_NE(html.find("Updating SLA."), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"c1\">"), std::string::npos);
  EXPECT_NE(html.find("<code>final_config.yaml</code>"), std::string::npos);
  // Self-contained: nothing fetched from the network.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(Report, SaysWhenThePickWasCorrectedByTheCalibration) {
  Fixture f;
  ReportInput in = f.Input();
  EXPECT_EQ(RenderReportHtml(in).find("silicon calibration"), std::string::npos);  // the model's pick
  f.outcome.chosen->ttft_factor = 0.5;
  f.outcome.chosen->tpot_factor = 1.25;
  const std::string html = RenderReportHtml(in);
  EXPECT_NE(html.find("Corrected by the silicon calibration of its measured family: TTFT x0.500, ITL x1.250 "
                      "(the model alone: 400.0 ms, 8.89 ms)."),
            std::string::npos);
}

TEST(Report, NaiveSaysSlaUnverifiedAndEscapes) {
  Fixture f;
  f.spec.model = "org/<model>&co";
  f.decision.naive = true;
  f.decision.disagg = false;
  ReportInput in;
  in.spec = &f.spec;
  in.decision = &f.decision;
  std::string html = RenderReportHtml(in);
  EXPECT_NE(html.find("The SLA is unverified."), std::string::npos);
  EXPECT_NE(html.find("org/&lt;model&gt;&amp;co"), std::string::npos);
  EXPECT_EQ(html.find("<model>"), std::string::npos);
  EXPECT_EQ(html.find("id=\"pareto\""), std::string::npos);
}

}  // namespace
}  // namespace dyprof

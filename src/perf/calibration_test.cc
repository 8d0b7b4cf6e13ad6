#include "perf/calibration.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "catalog/embedded.h"
#include "catalog/system_catalog.h"

namespace dyprof {
namespace {

CalibrationKey Key(std::string version = "0.5.9") {
  return {"b200_sxm", "sglang", "agg", "deepseek-ai/DeepSeek-R1", "fp8", std::move(version)};
}

// A point whose model error is exactly ln(pred/meas) = ttft_err (TTFT) and tpot_err (TPOT).
// Lengths 1024/1024 unless given.
CalibrationPoint Point(const CalibrationKey& key, std::string sweep, double concurrency, double ttft_err,
                       double tpot_err = 0, double isl = 1024, double osl = 1024) {
  return {key, std::move(sweep), concurrency, isl, osl, 100.0, 100.0 * std::exp(ttft_err), 10.0,
          10.0 * std::exp(tpot_err)};
}

// One table row: the key fields, "rows,sweeps,concurrency_min,concurrency_max", the lengths
// 1024..1024 (ISL and OSL), the six log-error coefficients, the measured lengths (1024), then the
// TTFT residuals (none unless given).
std::string TableRow(std::string_view key, std::string_view counts, std::string_view coefficients = "0,0,0,0,0,0",
                     std::string_view residuals = "") {
  return fmt::format("{},{},1024,1024,1024,1024,{},1024,1024,{}\n", key, counts, coefficients, residuals);
}
constexpr std::string_view kVllmKey = "h200_sxm,vllm,agg,m,fp8,*";

TEST(CalibrationTest, PrecisionFamiliesMergeTheNamesOfOneFormat) {
  EXPECT_EQ(PrecisionFamily(Quant::kFp8Block), "fp8");
  EXPECT_EQ(PrecisionFamily(Quant::kFp8), "fp8");
  EXPECT_EQ(PrecisionFamily(Quant::kNvfp4), "fp4");
  EXPECT_EQ(PrecisionFamily(Quant::kMxfp4), "fp4");
  EXPECT_EQ(PrecisionFamily(Quant::kFp16), "bf16");
  EXPECT_EQ(PrecisionFamily(Quant::kInt4Wo), "int4");
}

TEST(CalibrationTest, FitsTheLogErrorAsALineInLogConcurrencyShrunkByRowCount) {
  // ln(pred/meas) = 0.5 − 0.1·ln(c) for TTFT, a constant 0.2 for TPOT, at c = 1, 4, 16, 64, 256.
  std::vector<CalibrationPoint> pts;
  for (double c : {1.0, 4.0, 16.0, 64.0, 256.0}) {
    pts.push_back(Point(Key(), "s" + std::to_string(static_cast<int>(c)), c, 0.5 - 0.1 * std::log(c), 0.2));
  }
  Calibration cal = Calibration::Fit(pts);
  ASSERT_EQ(cal.entries().size(), 2u);  // the version's entry and the pooled one
  const CalibrationEntry& e = cal.entries()[1];
  EXPECT_EQ(e.key, Key());
  EXPECT_EQ(e.rows, 5);
  EXPECT_EQ(e.sweeps, 5);
  EXPECT_DOUBLE_EQ(e.concurrency_min, 1);
  EXPECT_DOUBLE_EQ(e.concurrency_max, 256);
  const double shrink = 5.0 / 8.0;
  EXPECT_NEAR(e.ttft.intercept, 0.5 * shrink, 1e-12);
  EXPECT_NEAR(e.ttft.slope, -0.1 * shrink, 1e-12);
  EXPECT_NEAR(e.tpot.intercept, 0.2 * shrink, 1e-12);
  EXPECT_NEAR(e.tpot.slope, 0, 1e-12);
  EXPECT_EQ(e.ttft.length_slope, 0);  // one length: no length term
  EXPECT_EQ(e.tpot.length_slope, 0);

  // Predictions are divided by exp(line); outside the measured loads the line is read at the edge.
  // TTFT's line is then moved by the residual of the rows measured within a factor 2 of the load:
  // at 16 only its own row, whose residual is the (1 − shrink) of its error the line left.
  CalibrationFactors f = cal.Lookup(Key(), 16, 1024, 1024);
  ASSERT_TRUE(f.applied);
  EXPECT_EQ(f.rows, 5);
  EXPECT_EQ(f.family, "b200_sxm/sglang/agg/deepseek-ai/DeepSeek-R1/fp8@0.5.9");
  EXPECT_EQ(f.ttft_neighbours, 1);
  EXPECT_NEAR(f.ttft, std::exp(-(0.5 - 0.1 * std::log(16.0))), 1e-12);
  EXPECT_NEAR(f.tpot, std::exp(-shrink * 0.2), 1e-12);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 4096, 1024, 1024).ttft, cal.Lookup(Key(), 256, 1024, 1024).ttft);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 0.5, 1024, 1024).ttft, cal.Lookup(Key(), 1, 1024, 1024).ttft);
}

TEST(CalibrationTest, FitsWhatTheLoadLeavesAsALineInTheLogOfTheLength) {
  // TTFT error 0.1 − 0.1·ln(c) + 0.3·ln(ISL), TPOT error 0.2 − 0.05·ln(OSL), on loads 4, 16, 64
  // crossed with two workloads (1024/1024 and 8192/128 tokens). Theil–Sen in ln(c) takes the
  // pairs of one workload (slope −0.1 exactly, the cross pairs falling as many above as below);
  // the residuals, ±0.15·ln 8 by workload, are then a line of slope 0.3 in ln(ISL).
  auto ttft_err = [](double c, double isl) { return 0.1 - 0.1 * std::log(c) + 0.3 * std::log(isl); };
  auto tpot_err = [](double osl) { return 0.2 - 0.05 * std::log(osl); };
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    for (auto [isl, osl] : {std::pair{1024.0, 1024.0}, std::pair{8192.0, 128.0}}) {
      pts.push_back(Point(Key(), fmt::format("{}/{}", isl, osl), c, ttft_err(c, isl), tpot_err(osl), isl, osl));
    }
  }
  const Calibration cal = Calibration::Fit(pts);
  ASSERT_EQ(cal.entries().size(), 2u);
  const CalibrationEntry& e = cal.entries()[1];
  const double shrink = 6.0 / 9.0;
  // Intercepts: the error at one request in flight and the family's shortest lengths.
  EXPECT_NEAR(e.ttft.intercept, ttft_err(1, 1024) * shrink, 1e-12);
  EXPECT_NEAR(e.ttft.slope, -0.1 * shrink, 1e-12);
  EXPECT_NEAR(e.ttft.length_slope, 0.3 * shrink, 1e-12);
  EXPECT_NEAR(e.tpot.intercept, tpot_err(128) * shrink, 1e-12);
  EXPECT_NEAR(e.tpot.slope, 0, 1e-12);
  EXPECT_NEAR(e.tpot.length_slope, -0.05 * shrink, 1e-12);
  EXPECT_DOUBLE_EQ(e.isl_min, 1024);
  EXPECT_DOUBLE_EQ(e.isl_max, 8192);
  EXPECT_DOUBLE_EQ(e.osl_min, 128);
  EXPECT_DOUBLE_EQ(e.osl_max, 1024);

  // Read at a measured ISL and at an OSL between the measured ones; beyond them at the edge, like
  // the load (ISL 9000 is within 15 % of the measured 8192). TTFT's neighbours at load 8 are the
  // rows at 4 and 16 of its ISL: the median of their residuals, (1 − shrink) of the error at 8,
  // makes up what the shrunk line left.
  const CalibrationFactors f = cal.Lookup(Key(), 8, 8192, 512);
  EXPECT_EQ(f.ttft_neighbours, 2);
  EXPECT_NEAR(f.ttft, std::exp(-ttft_err(8, 8192)), 1e-12);
  EXPECT_NEAR(f.tpot, std::exp(-shrink * tpot_err(512)), 1e-12);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 8, 9000, 16).ttft, cal.Lookup(Key(), 8, 8192, 128).ttft);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 8, 100000, 16).tpot, cal.Lookup(Key(), 8, 8192, 128).tpot);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 8, 0, 0).ttft, cal.Lookup(Key(), 8, 1024, 128).ttft);
  // At an ISL the family has not measured (2048 between its two, 100000 beyond them) TTFT is left
  // uncorrected; TPOT is corrected at any OSL.
  EXPECT_EQ(cal.Lookup(Key(), 8, 2048, 512).ttft, 1);
  EXPECT_TRUE(cal.Lookup(Key(), 8, 2048, 512).isl_unmeasured);
  EXPECT_FALSE(f.isl_unmeasured);
  EXPECT_EQ(cal.Lookup(Key(), 8, 100000, 16).ttft, 1);
  EXPECT_DOUBLE_EQ(cal.Lookup(Key(), 8, 2048, 512).tpot, f.tpot);
  // The lookup says what it read at an edge (a value it was not given is not named).
  EXPECT_EQ(f.read_at_edge, "");
  EXPECT_EQ(cal.Lookup(Key(), 4096, 100000, 16).read_at_edge,
            "concurrency 4096 at 64, ISL 100000 at 8192, OSL 16 at 128");
  EXPECT_EQ(cal.Lookup(Key(), 1, 0, 512).read_at_edge, "concurrency 1 at 4");
  // Only above the measured range (4 to 64 users) does a higher load read the same TTFT factor;
  // up to its top another (this family's load slope is not 0), except at an ISL it has not
  // measured, where TTFT is uncorrected.
  EXPECT_FALSE(cal.Lookup(Key(), 4096, 1024, 128).ttft_moves_with_load);
  EXPECT_TRUE(cal.Lookup(Key(), 64, 1024, 128).ttft_moves_with_load);
  EXPECT_TRUE(cal.Lookup(Key(), 8, 1024, 128).ttft_moves_with_load);
  EXPECT_FALSE(cal.Lookup(Key(), 8, 2048, 128).ttft_moves_with_load);
  EXPECT_TRUE(cal.Lookup(Key(), 1, 1024, 128).ttft_moves_with_load);
  // ... and which lengths the family has not measured, within 15 % (it measured ISL 1024 and
  // 8192, OSL 128 and 1024).
  EXPECT_EQ(e.isls, (std::vector<double>{1024, 8192}));
  EXPECT_EQ(cal.Lookup(Key(), 8, 900, 1100).unmeasured_lengths, "");
  EXPECT_EQ(cal.Lookup(Key(), 8, 2048, 512).unmeasured_lengths,
            "ISL 2048 (measured 1024, 8192), OSL 512 (measured 128, 1024)");
  EXPECT_EQ(cal.Lookup(Key(), 8, 0, 128).unmeasured_lengths, "");

  // The table keeps the lengths: a round trip reads the same factors (to its five decimals).
  auto back = Calibration::Parse(cal.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_NEAR(back->Lookup(Key(), 8, 8192, 512).ttft, f.ttft, 1e-4);
  EXPECT_NEAR(back->Lookup(Key(), 8, 8192, 512).tpot, f.tpot, 1e-4);
}

TEST(CalibrationTest, ALengthTermNeedsEveryLengthItUsesMeasuredOnSeveralRows) {
  // Six rows at OSL 1024 measured as predicted, then rows at OSL 8192 predicted 40 % slow. A lone
  // row at 8192 would make every Theil–Sen slope in ln(OSL): the length term comes only from
  // lengths with kCalibrationMinRows rows, so it takes one from three such rows and none from fewer.
  auto tpot_slope = [](int rows_at_8192) {
    std::vector<CalibrationPoint> pts;
    for (double c : {2.0, 4.0, 8.0, 16.0, 32.0, 64.0}) pts.push_back(Point(Key(), "short", c, 0, 0, 1024, 1024));
    for (int i = 0; i < rows_at_8192; ++i) pts.push_back(Point(Key(), "long", 8 << i, 0, -0.4, 1024, 8192));
    const Calibration cal = Calibration::Fit(pts);
    return cal.entries().empty() ? 0.0 : cal.entries().back().tpot.length_slope;
  };
  EXPECT_EQ(tpot_slope(1), 0);
  EXPECT_EQ(tpot_slope(2), 0);
  EXPECT_NEAR(tpot_slope(3), -0.4 / std::log(8.0) * 9.0 / 12.0, 1e-12);
  static_assert(kCalibrationMinRows == 3, "the rows above assume three");
}

TEST(CalibrationTest, FittedCoefficientsStayWithinWhatATableMayHold) {
  // Two lengths one token apart whose errors differ by a factor of 20: the length slope would be
  // about 3 / ln(1025 / 1024) = 3,000; the fit holds it at the limit, and the table reads back.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    pts.push_back(Point(Key(), "a", c, 0, 0, 1024, 1024));
    pts.push_back(Point(Key(), "b", c, std::log(20.0), 0, 1025, 1024));
  }
  const Calibration cal = Calibration::Fit(pts);
  EXPECT_DOUBLE_EQ(cal.entries()[1].ttft.length_slope, kCalibrationMaxCoefficient);
  auto back = Calibration::Parse(cal.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->entries().size(), cal.entries().size());
}

TEST(CalibrationTest, DisaggregatedFamiliesKeepTheirTpotAndFitTtftOnTheLoadOnly) {
  CalibrationKey disagg = Key();
  disagg.mode = "disagg";
  // TTFT error 0.4 at ISL 1024 and 0.4 + 0.2·ln 8 at ISL 8192, at every load: the load-only line
  // takes the median of both, whatever the ISL.
  std::vector<CalibrationPoint> pts;
  for (double c : {8.0, 64.0, 512.0}) {
    pts.push_back(Point(disagg, "short", c, 0.4, 0.4, 1024, 1024));
    pts.push_back(Point(disagg, "long", c, 0.4 + 0.2 * std::log(8.0), 0.4, 8192, 1024));
  }
  Calibration cal = Calibration::Fit(pts);
  const CalibrationEntry& e = cal.entries()[1];
  EXPECT_EQ(e.ttft.length_slope, 0);
  EXPECT_EQ(e.tpot.length_slope, 0);
  CalibrationFactors f = cal.Lookup(disagg, 64, 1024, 1024);
  ASSERT_TRUE(f.applied);
  EXPECT_NEAR(f.ttft, std::exp(-(0.4 + 0.1 * std::log(8.0)) * 6.0 / 9.0), 1e-12);
  EXPECT_DOUBLE_EQ(cal.Lookup(disagg, 64, 8192, 1024).ttft, f.ttft);
  EXPECT_EQ(f.tpot, 1.0);
}

TEST(CalibrationTest, TheilSenIgnoresAnOutlier) {
  std::vector<CalibrationPoint> pts;
  for (double c : {2.0, 4.0, 8.0, 16.0, 32.0, 64.0}) pts.push_back(Point(Key(), "s", c, 0.3));
  pts.push_back(Point(Key(), "s", 128, 3.0));  // one run 20x slower than the rest
  const Calibration cal = Calibration::Fit(pts);
  const CalibrationEntry& e = cal.entries()[1];
  EXPECT_NEAR(e.ttft.slope, 0, 1e-12);
  EXPECT_NEAR(e.ttft.intercept, 0.3 * 7.0 / 10.0, 1e-12);
}

TEST(CalibrationTest, SmallFamiliesGetNoEntryAndUnknownVersionsUseThePooledOne) {
  std::vector<CalibrationPoint> pts = {Point(Key("0.5.9"), "a", 4, 0.4), Point(Key("0.5.9"), "b", 8, 0.4),
                                       Point(Key("0.5.9"), "c", 16, 0.4), Point(Key("0.5.6"), "a", 4, -0.4),
                                       Point(Key(""), "a", 4, 0.4)};
  Calibration cal = Calibration::Fit(pts);
  // 0.5.9 has 3 rows (an entry), 0.5.6 one (none), "" joins the pooled family only.
  ASSERT_EQ(cal.entries().size(), 2u);
  EXPECT_EQ(cal.entries()[0].key.backend_version, "*");
  EXPECT_EQ(cal.entries()[0].rows, 5);
  EXPECT_EQ(cal.entries()[1].key.backend_version, "0.5.9");
  EXPECT_EQ(cal.Lookup(Key("0.5.9"), 8, 1024, 1024).family, "b200_sxm/sglang/agg/deepseek-ai/DeepSeek-R1/fp8@0.5.9");
  EXPECT_EQ(cal.Lookup(Key("0.5.6"), 8, 1024, 1024).family, "b200_sxm/sglang/agg/deepseek-ai/DeepSeek-R1/fp8@*");
  EXPECT_EQ(cal.Lookup(Key(""), 8, 1024, 1024).family, "b200_sxm/sglang/agg/deepseek-ai/DeepSeek-R1/fp8@*");
  CalibrationKey other = Key();
  other.mode = "disagg";
  CalibrationFactors none = cal.Lookup(other, 8, 1024, 1024);
  EXPECT_FALSE(none.applied);
  EXPECT_EQ(none.ttft, 1);
  EXPECT_EQ(none.tpot, 1);
}

TEST(CalibrationTest, UnusablePointsAreSkipped) {
  std::vector<CalibrationPoint> pts = {Point(Key(), "a", 4, 0.1), Point(Key(), "b", 8, 0.1),
                                       Point(Key(), "c", 0, 0.1), Point(Key(), "d", 16, 0.1)};
  pts.back().meas_ttft_ms = std::nan("");
  EXPECT_TRUE(Calibration::Fit(pts).entries().empty());
}

TEST(CalibrationTest, LeavingTheSweepOutFitsWithoutTheRowsOwnSweep) {
  // Sweep "x" is predicted 2x too slow at every load; the other sweeps exactly.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    pts.push_back(Point(Key(), "x", c, std::log(2.0)));
    pts.push_back(Point(Key(), "y", c, 0));
    pts.push_back(Point(Key(), "z", c, 0));
  }
  std::vector<CalibrationFactors> held = LeaveOut(pts, HeldOut::kSweep);
  ASSERT_EQ(held.size(), pts.size());
  for (size_t i = 0; i < pts.size(); ++i) {
    ASSERT_TRUE(held[i].applied) << i;
    if (pts[i].sweep == "x") {
      // Fitted on y and z only: no correction, where the table fitted on all rows would have one.
      EXPECT_NEAR(held[i].ttft, 1.0, 1e-12);
    } else {
      // Fitted on x and the other clean sweep: slope 0, intercept the median of three ln 2 and
      // three 0 (the mean of the middle two), shrunk by 6 / 9; then moved by the median residual of
      // the x and clean rows at the row's load (the loads are a factor 4 apart): ln 2 / 2 in all.
      EXPECT_NEAR(held[i].ttft, std::exp(-std::log(2.0) / 2), 1e-12);
    }
  }
  // A family left with fewer than 3 rows outside the sweep gets no held-out factor.
  std::vector<CalibrationPoint> two_sweeps = {Point(Key(), "x", 4, 0.2), Point(Key(), "x", 8, 0.2),
                                              Point(Key(), "y", 4, 0.2), Point(Key(), "y", 8, 0.2)};
  for (const CalibrationFactors& f : LeaveOut(two_sweeps, HeldOut::kSweep)) EXPECT_FALSE(f.applied);
}

TEST(CalibrationTest, LeavingTheLengthsOutLeavesOutEveryLayoutOfThem) {
  // Two layouts at 1024/1024 tokens, both predicted 2x too slow; one at 8192/1024, exact.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    pts.push_back(Point(Key(), "tp4", c, std::log(2.0), 0, 1024, 1024));
    pts.push_back(Point(Key(), "tp8", c, std::log(2.0), 0, 1024, 1024));
    pts.push_back(Point(Key(), "tp8-long", c, 0, 0, 8192, 1024));
  }
  const std::vector<CalibrationFactors> sweep_out = LeaveOut(pts, HeldOut::kSweep);
  const std::vector<CalibrationFactors> lengths_out = LeaveOut(pts, HeldOut::kWorkload);
  // A tp4 row without its sweep still has tp8's rows at its lengths: the length line reads ln 2
  // at 1024 tokens (shrunk by 6 / 9), tp8's row at its load the rest. Without its lengths only the
  // exact long rows are left.
  ASSERT_TRUE(sweep_out[0].applied && lengths_out[0].applied);
  EXPECT_NEAR(sweep_out[0].ttft, 0.5, 1e-12);
  EXPECT_NEAR(lengths_out[0].ttft, 1.0, 1e-12);
  // A long row is fitted on the six short rows alone, and 8192 tokens is an ISL they did not
  // measure: their 2x is not carried there, TTFT is left uncorrected.
  EXPECT_EQ(lengths_out[2].rows, 6);
  EXPECT_TRUE(lengths_out[2].isl_unmeasured);
  EXPECT_NEAR(lengths_out[2].ttft, 1.0, 1e-12);
}

TEST(CalibrationTest, LeavingEachLengthOutFitsTtftWithoutItsIslAndTpotWithoutItsOsl) {
  // Three workloads: 1024/1024 (TTFT and TPOT 2x too slow), 1024/8192 (TTFT 2x, TPOT exact),
  // 8192/1024 (TTFT exact, TPOT 2x). Each metric's error follows its own length only. (TTFT's
  // line is moved by the rows at its ISL and load, TPOT's is not: in full, and shrunk.)
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    pts.push_back(Point(Key(), "short", c, std::log(2.0), std::log(2.0), 1024, 1024));
    pts.push_back(Point(Key(), "long-out", c, std::log(2.0), 0, 1024, 8192));
    pts.push_back(Point(Key(), "long-in", c, 0, std::log(2.0), 8192, 1024));
  }
  const std::vector<CalibrationFactors> workload_out = LeaveOut(pts, HeldOut::kWorkload);
  const std::vector<CalibrationFactors> length_out = LeaveOut(pts, HeldOut::kLength);
  // A 1024/1024 row without its pair still sees ISL 1024 (in 1024/8192) and OSL 1024 (in
  // 8192/1024): both length lines read ln 2 there. Without its ISL, TTFT is fitted on 8192/1024
  // alone (exact); without its OSL, TPOT on 1024/8192 alone (exact): no correction.
  ASSERT_TRUE(workload_out[0].applied && length_out[0].applied);
  EXPECT_NEAR(workload_out[0].ttft, 0.5, 1e-12);
  EXPECT_NEAR(workload_out[0].tpot, std::exp(-std::log(2.0) * 6.0 / 9.0), 1e-12);
  EXPECT_NEAR(length_out[0].ttft, 1.0, 1e-12);
  EXPECT_NEAR(length_out[0].tpot, 1.0, 1e-12);
}

TEST(CalibrationTest, LeavingTheSweepOutKeepsItOutOfThePooledFitToo) {
  // Version 0.5.9 has only its own sweep "x"; the pooled family also has "x" measured under 0.5.6
  // (2x too slow) and a clean sweep "y". Held out, a 0.5.9 row falls back to the pooled fit without
  // any "x" row, whatever its version: no correction.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    pts.push_back(Point(Key("0.5.9"), "x", c, std::log(2.0)));
    pts.push_back(Point(Key("0.5.6"), "x", c, std::log(2.0)));
    pts.push_back(Point(Key("0.5.6"), "y", c, 0));
  }
  std::vector<CalibrationFactors> held = LeaveOut(pts, HeldOut::kSweep);
  ASSERT_TRUE(held[0].applied);
  EXPECT_EQ(held[0].family, "b200_sxm/sglang/agg/deepseek-ai/DeepSeek-R1/fp8@*");
  EXPECT_NEAR(held[0].ttft, 1.0, 1e-12);
}

TEST(CalibrationTest, TtftNeighboursOfTheRequestsLayoutComeFirst) {
  // Two layouts of one family: tp4 predicted exactly, tp8 2x too slow, at every load. The line
  // takes the middle (ln 2 / 2, shrunk); the neighbours of the request's layout, where it has any,
  // say the rest.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0}) {
    for (auto [layout, err] : {std::pair{"tp4pp1dp1etp4ep1", 0.0}, std::pair{"tp8pp1dp1etp8ep1", std::log(2.0)}}) {
      CalibrationPoint p = Point(Key(), layout, c, err);
      p.layout = layout;
      pts.push_back(p);
    }
  }
  const Calibration cal = Calibration::Fit(pts);
  const CalibrationFactors tp4 = cal.Lookup(Key(), 16, 1024, 1024, "tp4pp1dp1etp4ep1");
  const CalibrationFactors tp8 = cal.Lookup(Key(), 16, 1024, 1024, "tp8pp1dp1etp8ep1");
  EXPECT_TRUE(tp4.ttft_neighbours_same_layout);
  EXPECT_EQ(tp4.ttft_neighbours, 1);
  EXPECT_NEAR(tp4.ttft, 1.0, 1e-12);
  EXPECT_NEAR(tp8.ttft, 0.5, 1e-12);
  // Another layout, or none named: the rows of every layout near the load (one of each).
  for (std::string_view layout : {std::string_view("tp2pp1dp1etp2ep1"), std::string_view()}) {
    const CalibrationFactors f = cal.Lookup(Key(), 16, 1024, 1024, layout);
    EXPECT_FALSE(f.ttft_neighbours_same_layout) << layout;
    EXPECT_EQ(f.ttft_neighbours, 2) << layout;
    EXPECT_NEAR(f.ttft, std::exp(-std::log(2.0) / 2), 1e-12) << layout;
  }
  // Held out by sweep (here one layout each), a row reads the other layout's rows.
  const std::vector<CalibrationFactors> held = LeaveOut(pts, HeldOut::kSweep);
  EXPECT_FALSE(held[0].ttft_neighbours_same_layout);
  // The table keeps each residual's layout.
  auto back = Calibration::Parse(cal.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_NEAR(back->Lookup(Key(), 16, 1024, 1024, "tp8pp1dp1etp8ep1").ttft, 0.5, 1e-4);
}

TEST(CalibrationTest, ARunRecordedTwiceCountsOnceAndFactorsAreBounded) {
  // Its two records agree to six decimals of a millisecond, not to the last bit: still once.
  std::vector<CalibrationPoint> pts = {Point(Key(), "a", 4, 0.3), Point(Key(), "a", 4, 0.3),
                                       Point(Key(), "b", 8, 0.3), Point(Key(), "c", 16, 0.3)};
  pts[1].meas_tpot_ms *= 1 + 1e-15;
  ASSERT_NE(pts[1].meas_tpot_ms, pts[0].meas_tpot_ms);
  const Calibration cal = Calibration::Fit(pts);
  const CalibrationEntry& e = cal.entries()[1];
  EXPECT_EQ(e.rows, 3);
  EXPECT_NEAR(e.ttft.intercept, 0.3 * 3.0 / 6.0, 1e-12);
  // An extreme (but parseable) table still gives factors within [1/20, 20], by load and by length.
  auto extreme = Calibration::Parse(Calibration().ToCsv() +  // an empty table's CSV: the header
                                    "b200_sxm,sglang,agg,deepseek-ai/DeepSeek-R1,fp8,*,3,1,4,1000000,1,16777216,1,"
                                    "16777216,-10,-10,0,10,10,0,1;16777216,1;16777216,\n"
                                    "b200_sxm,sglang,agg,deepseek-ai/DeepSeek-R1,fp8,1,3,1,4,1000000,1,16777216,1,"
                                    "16777216,0,0,-10,0,0,10,1;16777216,1;16777216,16777216:4::-10\n");
  ASSERT_TRUE(extreme.ok()) << extreme.status().message();
  CalibrationFactors f = extreme->Lookup(Key(""), 1000000, 1, 1024);  // ISL 1: a measured one
  EXPECT_DOUBLE_EQ(f.ttft, kCalibrationMaxFactor);
  EXPECT_DOUBLE_EQ(f.tpot, 1 / kCalibrationMaxFactor);
  CalibrationFactors by_length = extreme->Lookup(Key("1"), 4, 16777216, 16777216);
  EXPECT_DOUBLE_EQ(by_length.ttft, kCalibrationMaxFactor);
  EXPECT_DOUBLE_EQ(by_length.tpot, 1 / kCalibrationMaxFactor);
}

TEST(CalibrationTest, CsvRoundTripAndErrorsNameTheRow) {
  std::vector<CalibrationPoint> pts;
  for (double c : {1.0, 8.0, 64.0}) pts.push_back(Point(Key(), "s", c, 0.25 - 0.05 * std::log(c), -0.1));
  Calibration cal = Calibration::Fit(pts);
  auto back = Calibration::Parse(cal.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->entries().size(), cal.entries().size());
  for (size_t i = 0; i < cal.entries().size(); ++i) {
    EXPECT_EQ(back->entries()[i].key, cal.entries()[i].key);
    const CalibrationKey& key = cal.entries()[i].key;
    EXPECT_NEAR(back->Lookup(key, 8, 1024, 1024).ttft, cal.Lookup(key, 8, 1024, 1024).ttft, 1e-4);
  }
  std::string csv = cal.ToCsv();
  const size_t second_line = csv.find('\n') + 1;
  std::string bad = csv.substr(0, second_line) + TableRow(kVllmKey, "3,1,4,8", "abc,0,0,0,0,0");
  auto parsed = Calibration::Parse(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("row 1, column ttft_intercept: expected a number, found 'abc'"),
            std::string::npos)
      << parsed.status().message();
  auto dup = Calibration::Parse(csv + csv.substr(second_line, csv.find('\n', second_line) + 1 - second_line));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("listed twice"), std::string::npos);
  auto missing = Calibration::Parse("system,backend\nh200_sxm,vllm\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing column 'mode'"), std::string::npos);
  const std::string header = Calibration().ToCsv();
  auto expect_refused = [&](const std::string& body, const std::string& message) {
    auto r = Calibration::Parse(header + body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
  };
  expect_refused(TableRow(kVllmKey, "3,1,8,4"), "row 1: expected 0 < concurrency_min <= concurrency_max");
  // Blank lines do not shift the row named.
  expect_refused(TableRow(kVllmKey, "3,1,4,8") + "\n" + TableRow("h200_sxm,vllm,agg,m,fp8,1", "3,1,4,8", "0,0,0,x,0,0"),
                 "row 2, column tpot_intercept: expected a number, found 'x'");
  expect_refused(TableRow(kVllmKey, "1e12,1,4,8"), "expected whole numbers 1 <= sweeps <= rows");
  expect_refused(TableRow(kVllmKey, "3.9,1,4,8"), "expected whole numbers 1 <= sweeps <= rows");
  expect_refused(TableRow(kVllmKey, "3,4,4,8"), "expected whole numbers 1 <= sweeps <= rows");
  expect_refused(TableRow(kVllmKey, "3,1,4,8", "1e3,0,0,0,0,0"),
                 "row 1, column ttft_intercept: expected a log error within ±10, found 1000");
  expect_refused(TableRow("h200_sxm,vllm,agg,m,fp8,", "3,1,4,8"),
                 "row 1, column backend_version: expected a value, found none");
  expect_refused(TableRow("h200_sxm,vllm,mixed,m,fp8,*", "3,1,4,8"),
                 "row 1, column mode: expected static, agg or disagg, found 'mixed'");
  expect_refused(std::string(kVllmKey) + ",3,1,4,8,1024,512,1024,1024,0,0,0,0,0,0,1024,1024,\n",
                 "row 1: expected 0 < isl_min <= isl_max <= 16777216, found 1024 and 512");
  expect_refused(std::string(kVllmKey) + ",3,1,4,8,1024,16777217,1024,1024,0,0,0,0,0,0,1024,1024,\n",
                 "row 1: expected 0 < isl_min <= isl_max <= 16777216, found 1024 and 16777217");
  expect_refused(TableRow(kVllmKey, "3,1,4,8", "0,0,11,0,0,0"),
                 "row 1, column ttft_isl_slope: expected a log error within ±10, found 11");
  expect_refused(TableRow(kVllmKey, "3,1,4,8", "0,0,0,0,0,-11"),
                 "row 1, column tpot_osl_slope: expected a log error within ±10, found -11");
  expect_refused(std::string(kVllmKey) + ",3,1,4,8,1024,1024,0,1024,0,0,0,0,0,0,1024,1024,\n",
                 "row 1: expected 0 < osl_min <= osl_max");
  expect_refused("h200_sxm,vllm,agg,m,fp8,*,3,1,4\n", "row 1: expected 23 fields, found 9");
  // The measured lengths: ascending, from the column's minimum to its maximum, at most one per row.
  const std::string lengths_row = std::string(kVllmKey) + ",3,1,4,8,922,7373,1024,1024,0,0,0,0,0,0,";
  EXPECT_TRUE(Calibration::Parse(header + lengths_row + "922;7373,1024,\n").ok());
  for (const char* isls : {"7373;922", "922;922;7373", "922", "922;1024;2048;7373", "922;;7373", "922;x"}) {
    expect_refused(lengths_row + "\"" + isls + "\",1024,\n", "row 1, column isls: expected");
  }
  expect_refused(lengths_row + "922;7373,512,\n",
                 "row 1, column osls: expected at most 3 ascending lengths from 1024 to 1024 separated by ';', "
                 "found '512'");
  // The TTFT residuals: "isl:concurrency:layout:residual" at a measured ISL and load, the layout
  // letters and digits or empty, at most one per row; the column may be missing (a table written
  // before it: no residuals).
  auto with_residuals =
      Calibration::Parse(header + TableRow(kVllmKey, "3,1,4,8", "0,0,0,0,0,0", "1024:4:tp2pp1dp1etp2ep1:0.1;1024:8::-0.2"));
  ASSERT_TRUE(with_residuals.ok()) << with_residuals.status().message();
  EXPECT_EQ(with_residuals->entries().front().ttft_residuals,
            (std::vector<TtftResidual>{{1024, 4, "tp2pp1dp1etp2ep1", 0.1}, {1024, 8, "", -0.2}}));
  for (const char* residuals : {"1024:4:0.1", "1024:4:tp1", "1024:4:tp1:x", "1024;4;tp1;0.1", "1024:4:tp1:0.1:0",
                                "2048:4:tp1:0.1", "1024:2:tp1:0.1", "1024:4:tp1:11", "1024:4:t-p1:0.1",
                                "1024:4::0;1024:4::0;1024:8::0;1024:8::0"}) {
    expect_refused(TableRow(kVllmKey, "3,1,4,8", "0,0,0,0,0,0", std::string("\"") + residuals + "\""),
                   "row 1, column ttft_residuals: expected");
  }
  std::string old_header = header.substr(0, header.find(",ttft_residuals")) + "\n";
  std::string old_row = TableRow(kVllmKey, "3,1,4,8");
  old_row.erase(old_row.size() - 2);  // the empty residuals field and its comma
  auto old_table = Calibration::Parse(old_header + old_row + "\n");
  ASSERT_TRUE(old_table.ok()) << old_table.status().message();
  EXPECT_TRUE(old_table->entries().front().ttft_residuals.empty());
}

TEST(CalibrationTest, TtftNearTheRequestIsCorrectedByTheRowsMeasuredThere) {
  // The model's TTFT error bends: exact up to 16 users, 2x too slow from 64 (batches fill up). The
  // line through it misses both ends; the rows within a factor 2 of the load say what it missed.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 16.0, 64.0, 256.0}) {
    for (std::string sweep : {"tp4", "tp8"}) pts.push_back(Point(Key(), sweep, c, c >= 64 ? std::log(2.0) : 0));
  }
  const Calibration cal = Calibration::Fit(pts);
  const CalibrationEntry& e = cal.entries()[1];
  ASSERT_EQ(e.ttft_residuals.size(), 8u);
  for (double c : {4.0, 16.0, 64.0, 256.0}) {
    const double line = e.ttft.At(std::log(c), 0);
    EXPECT_NEAR(cal.Lookup(Key(), c, 1024, 1024).ttft, c >= 64 ? 0.5 : 1.0, 1e-12) << c << " line " << line;
  }
  // At 32 the neighbours are the rows at 16 and 64 (the median of their residuals); at 128, 64
  // and 256; at 2048 (read at the top, 256) only 256's; at an ISL not measured, none at all.
  const double at32 = e.ttft.At(std::log(32.0), 0) +
                      (-e.ttft.At(std::log(16.0), 0) + std::log(2.0) - e.ttft.At(std::log(64.0), 0)) / 2;
  EXPECT_EQ(cal.Lookup(Key(), 32, 1024, 1024).ttft_neighbours, 4);
  EXPECT_NEAR(cal.Lookup(Key(), 32, 1024, 1024).ttft, std::exp(-at32), 1e-12);
  EXPECT_NEAR(cal.Lookup(Key(), 128, 1024, 1024).ttft, 0.5, 1e-12);
  EXPECT_NEAR(cal.Lookup(Key(), 2048, 1024, 1024).ttft, 0.5, 1e-12);
  EXPECT_EQ(cal.Lookup(Key(), 2048, 1024, 1024).ttft_neighbours, 2);
  EXPECT_EQ(cal.Lookup(Key(), 32, 4096, 1024).ttft_neighbours, 0);
  EXPECT_EQ(cal.Lookup(Key(), 32, 4096, 1024).ttft, 1);
  // A load a factor of exactly 2 from a measured one counts (8 from 4 and 16: neighbours 4 rows).
  EXPECT_EQ(cal.Lookup(Key(), 8, 1024, 1024).ttft_neighbours, 4);
  EXPECT_FALSE(cal.Lookup(Key(), 8, 1024, 1024).ttft_neighbours_same_layout);
  // The table keeps the residuals: a round trip reads the same factors (to its five decimals).
  auto back = Calibration::Parse(cal.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->entries()[1].ttft_residuals.size(), 8u);
  EXPECT_NEAR(back->Lookup(Key(), 32, 1024, 1024).ttft, std::exp(-at32), 1e-4);
  // Disaggregated families keep no residuals: their neighbours run other worker splits.
  CalibrationKey disagg = Key();
  disagg.mode = "disagg";
  for (CalibrationPoint& p : pts) p.key = disagg;
  EXPECT_TRUE(Calibration::Fit(pts).entries()[1].ttft_residuals.empty());
  EXPECT_EQ(Calibration::Fit(pts).Lookup(disagg, 64, 1024, 1024).ttft_neighbours, 0);
}

TEST(CalibrationTest, ATableWrittenWithASystemAliasReadsAsTheCatalogId) {
  Calibration table = Calibration::Fit({{{"gb200", "trtllm", "agg", "m", "fp8", "1"}, "s", 4, 1024, 1024, 200, 100, 8, 10},
                                        {{"gb200", "trtllm", "agg", "m", "fp8", "1"}, "s", 8, 1024, 1024, 200, 100, 8, 10},
                                        {{"gb200", "trtllm", "agg", "m", "fp8", "1"}, "s", 16, 1024, 1024, 200, 100, 8, 10}});
  ASSERT_EQ(table.entries().front().key.system, "gb200");  // as the rows named it
  auto back = Calibration::Parse(table.ToCsv());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->Lookup({"gb200_sxm", "trtllm", "agg", "m", "fp8", "1"}, 8, 1024, 1024).applied);
}

TEST(CalibrationTest, ShippedTableParsesAndEveryEntryHasItsRows) {
  const Calibration& shipped = Calibration::Shipped();
  ASSERT_FALSE(shipped.entries().empty()) << "data/calibration/silicon.csv missing or malformed";
  // The file is what accuracy --write-calibration writes, byte for byte (no hand edits).
  EXPECT_EQ(shipped.ToCsv(), EmbeddedFiles().at("calibration/silicon.csv"));
  for (const CalibrationEntry& e : shipped.entries()) {
    EXPECT_GE(e.rows, kCalibrationMinRows) << e.key.ToString();
    EXPECT_GE(e.sweeps, 1) << e.key.ToString();
    EXPECT_LE(e.concurrency_min, e.concurrency_max) << e.key.ToString();
    for (const std::string& f : {e.key.system, e.key.backend, e.key.mode, e.key.model, e.key.precision}) {
      EXPECT_FALSE(f.empty()) << e.key.ToString();
    }
    // Keyed by catalog ids, as lookups are (EngineCalibrationKey).
    auto system = FindSystem(e.key.system);
    ASSERT_TRUE(system.ok()) << e.key.ToString();
    EXPECT_EQ(system->name, e.key.system);
  }
}

}  // namespace
}  // namespace dyprof

#include "search/rapid.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "catalog/system_catalog.h"
#include "common/file_system.h"
#include "catalog/model_catalog.h"

namespace dyprof {
namespace {

TEST(Grids, AggBatchGridIsAicsGrid) {
  auto g = AggBatchGrid(512);
  EXPECT_EQ(g.front(), 1);
  EXPECT_EQ(g.back(), 512);
  for (int b : {1, 15, 16, 20, 28, 32, 56, 64, 80, 240, 256, 288, 480, 512}) EXPECT_TRUE(std::count(g.begin(), g.end(), b)) << b;
  EXPECT_FALSE(std::count(g.begin(), g.end(), 17));
  EXPECT_EQ(AggBatchGrid(20).back(), 20);
}

TEST(Grids, DecodeBatchGrid) {
  auto g = DecodeBatchGrid(512);
  EXPECT_EQ(g.size(), 15u + 8u + 24u + 48u + 1u);
  EXPECT_TRUE(std::count(g.begin(), g.end(), 18));
  EXPECT_FALSE(std::count(g.begin(), g.end(), 17));
  EXPECT_TRUE(std::count(g.begin(), g.end(), 136));
}

TEST(Grids, CtxTokenGrid) {
  EXPECT_EQ(CtxTokenGrid(4000), (std::vector<int>{2048, 4000, 4096, 8000, 8192}));
  EXPECT_EQ(CtxTokenGrid(1024), (std::vector<int>{1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192}));
}

SystemSpec H200() { return *FindSystem("h200_sxm"); }

TEST(EnumerateSplits, DenseIsTpWithinTheNodeClampedToBudget) {
  ModelArch dense;
  dense.num_layers = 2;
  auto splits = EnumerateSplits(dense, H200(), Backend::kVllm, 8);
  std::vector<int> tps;
  for (const auto& s : splits) {
    EXPECT_EQ(s.dp, 1);
    if (s.pp == 1) tps.push_back(s.tp);
  }
  EXPECT_EQ(tps, (std::vector<int>{1, 2, 4, 8}));
  auto four = EnumerateSplits(dense, H200(), Backend::kVllm, 4);
  for (const auto& s : four) EXPECT_LE(s.NumGpus(), 4);
  auto multi = EnumerateSplits(dense, H200(), Backend::kVllm, 16);
  bool has_pp2 = false;
  for (const auto& s : multi) has_pp2 |= (s.tp == 8 && s.pp == 2);
  EXPECT_TRUE(has_pp2);
}

TEST(EnumerateSplits, MoeRespectsBackendRules) {
  ModelArch moe;
  moe.num_experts = 128;
  moe.experts_per_token = 8;
  for (Backend b : {Backend::kTrtllm, Backend::kVllm, Backend::kSglang}) {
    auto splits = EnumerateSplits(moe, H200(), b, 8);
    EXPECT_FALSE(splits.empty());
    for (const auto& s : splits) {
      EXPECT_EQ(s.tp * s.dp, s.moe_tp * s.moe_ep) << s.ToString();
      if (b == Backend::kTrtllm) EXPECT_FALSE(s.dp > 1 && s.tp > 1) << s.ToString();
      if (b == Backend::kVllm) EXPECT_FALSE(s.moe_tp > 1 && s.moe_ep > 1) << s.ToString();
      EXPECT_LE(s.NumGpus(), 8);
    }
  }
}

ConfigRow Point(double user, double gpu) {
  ConfigRow r;
  r.tokens_per_s_per_user = user;
  r.tokens_per_s_per_gpu = gpu;
  return r;
}

TEST(ParetoFrontier, KeepsOnlyNonDominatedPoints) {
  std::vector<ConfigRow> rows = {Point(100, 300), Point(150, 200), Point(120, 250), Point(110, 240), Point(90, 280),
                                 Point(200, 50)};
  auto f = ParetoFrontier(rows);
  std::vector<std::pair<double, double>> got;
  for (const auto& r : f) got.emplace_back(r.tokens_per_s_per_user, r.tokens_per_s_per_gpu);
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{100, 300}, {120, 250}, {150, 200}, {200, 50}}));
}

TEST(RunRapidSearch, Qwen3_32B_OnH200Trtllm) {
  MemFileSystem fs;
  auto model = FindModel("Qwen/Qwen3-32B", fs);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto engine = PerfEngine::Create(*model, H200(), Backend::kTrtllm);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  SearchSpace space;
  space.isl = 4000;
  space.osl = 1000;
  space.total_gpus = 8;
  space.ttft_target_ms = 300;
  SearchResult r = RunRapidSearch(*engine, space);
  EXPECT_GT(r.evaluations, 100);
  ASSERT_FALSE(r.agg.empty());
  ASSERT_FALSE(r.disagg.empty());
  // Every feasible agg row meets TTFT; TTFT-rejected rows say so.
  int ttft_rejects = 0;
  for (const auto& row : r.agg) {
    if (row.feasible) EXPECT_LE(row.ttft_ms, 300.0);
    else if (row.reject_reason.rfind("TTFT", 0) == 0) ++ttft_rejects;
  }
  EXPECT_GT(ttft_rejects, 0);
  // Disagg rows fit the budget and use worker counts from the rate matching.
  for (const auto& row : r.disagg) {
    if (!row.feasible) continue;
    EXPECT_LE(row.num_total_gpus, 8);
    EXPECT_GE(row.prefill_workers, 1);
    EXPECT_GE(row.decode_workers, 1);
    EXPECT_EQ(row.num_total_gpus, row.prefill.NumGpus() * row.prefill_workers + row.decode.NumGpus() * row.decode_workers);
  }
  // TPOT grows with the decode batch for a fixed split.
  double last = 0;
  for (const auto& d : r.decode) {
    if (d.split.tp != 4) continue;
    EXPECT_GE(d.tpot_ms, last);
    last = d.tpot_ms;
  }
}

// A table with one family, Qwen3-32B on H200 TensorRT-LLM aggregated, measured at 1 to 8 users at
// ISL 4000 / OSL 1000, where the model's TTFT and TPOT were the measured ones times
// ttft_error(users) and tpot_error(users).
Calibration QwenOnH200Family(double (*ttft_error)(double), double (*tpot_error)(double)) {
  std::vector<CalibrationPoint> points;
  for (double c : {1, 2, 4, 8}) {
    CalibrationPoint p;
    p.key = {"h200_sxm", "trtllm", "agg", "Qwen/Qwen3-32B", "bf16", "1.0"};
    p.sweep = "s";
    p.concurrency = c;
    p.isl = 4000;
    p.osl = 1000;
    p.meas_ttft_ms = 100 * c;
    p.pred_ttft_ms = p.meas_ttft_ms * ttft_error(c);
    p.meas_tpot_ms = 10 + c;
    p.pred_tpot_ms = p.meas_tpot_ms * tpot_error(c);
    points.push_back(p);
  }
  return Calibration::Fit(points);
}

// The model's TTFT twice the measured one and its TPOT half, at every load.
Calibration TwiceTtftHalfTpot() {
  return QwenOnH200Family([](double) { return 2.0; }, [](double) { return 0.5; });
}

// The model's TTFT over-predicting more the higher the load (sqrt(users) times the measured one): a
// TTFT factor that falls with the load across the measured 1 to 8 users.
Calibration TtftErrorGrowingWithLoad() {
  return QwenOnH200Family([](double c) { return std::sqrt(c); }, [](double) { return 1.0; });
}

TEST(RunRapidSearch, CorrectsTheAggregatedRowsByTheirFamilysCalibration) {
  MemFileSystem fs;
  auto engine = PerfEngine::Create(*FindModel("Qwen/Qwen3-32B", fs), H200(), Backend::kTrtllm);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const Calibration table = TwiceTtftHalfTpot();
  SearchSpace space;
  space.total_gpus = 4;
  space.ttft_target_ms = 1e12;  // no TTFT filter: the same rows either way
  const SearchResult model = RunRapidSearch(*engine, space);
  space.calibration = &table;
  const SearchResult corrected = RunRapidSearch(*engine, space);

  // Four rows, shrunk by 4 / (4 + 3): TPOT x 2^(4/7) at any load; TTFT's line likewise, and the
  // rows measured near each load make up the rest: x 1/2.
  const double ttft_factor = 0.5, tpot_factor = std::pow(2.0, 4.0 / 7);
  ASSERT_EQ(model.agg.size(), corrected.agg.size());
  int compared = 0;
  for (size_t i = 0; i < model.agg.size(); ++i) {
    const ConfigRow &m = model.agg[i], &c = corrected.agg[i];
    if (!m.feasible) continue;
    ++compared;
    EXPECT_NEAR(c.ttft_ms, m.ttft_ms * ttft_factor, 1e-9 * m.ttft_ms);
    EXPECT_NEAR(c.tpot_ms, m.tpot_ms * tpot_factor, 1e-9 * m.tpot_ms);
    EXPECT_NEAR(c.ttft_factor, ttft_factor, 1e-12);
    EXPECT_GT(c.ttft_neighbours, 0);
    EXPECT_FALSE(c.ttft_neighbours_same_layout);  // the table's rows name no layout
    EXPECT_NEAR(c.tpot_factor, tpot_factor, 1e-12);
    EXPECT_NEAR(c.tokens_per_s_per_user, 1000 / c.tpot_ms, 1e-9);
    // A closed loop at the same users: throughput moves inversely with the request latency.
    EXPECT_NEAR(c.tokens_per_s_per_gpu * c.request_latency_ms, m.tokens_per_s_per_gpu * m.request_latency_ms,
                1e-6 * m.tokens_per_s_per_gpu * m.request_latency_ms);
  }
  EXPECT_GT(compared, 10);
  // Disaggregated rows are composed in another form than the table corrects: unchanged.
  ASSERT_EQ(model.disagg.size(), corrected.disagg.size());
  for (size_t i = 0; i < model.disagg.size(); ++i) {
    EXPECT_EQ(corrected.disagg[i].ttft_ms, model.disagg[i].ttft_ms);
    EXPECT_EQ(corrected.disagg[i].ttft_factor, 1);
  }

  // At an ISL the family has not measured, TTFT is the model's and TPOT is still corrected.
  space.isl = 2000;
  const SearchResult other_isl = RunRapidSearch(*engine, space);
  ASSERT_FALSE(other_isl.agg.empty());
  for (const auto& row : other_isl.agg) {
    if (!row.feasible) continue;
    EXPECT_EQ(row.ttft_factor, 1);
    EXPECT_NEAR(row.tpot_factor, tpot_factor, 1e-12);
  }
  // Another system's rows find no family: the model alone.
  auto h100 = FindSystem("h100_sxm");
  ASSERT_TRUE(h100.ok());
  auto h100_engine = PerfEngine::Create(*FindModel("Qwen/Qwen3-32B", fs), *h100, Backend::kTrtllm);
  ASSERT_TRUE(h100_engine.ok());
  const SearchResult h100_rows = RunRapidSearch(*h100_engine, space);
  ASSERT_FALSE(h100_rows.agg.empty());
  for (const auto& row : h100_rows.agg) EXPECT_EQ(row.tpot_factor, 1);
}

TEST(RunRapidSearch, ATtftRejectionEndsTheBatchSweepOnlyWhereTheFactorsNoLongerMove) {
  MemFileSystem fs;
  auto engine = PerfEngine::Create(*FindModel("Qwen/Qwen3-32B", fs), H200(), Backend::kTrtllm);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  // The rows of the first (split, budget) group, by batch (tp1 on one GPU: concurrency = batch).
  auto group_of = [](const SearchResult& r) {
    std::vector<ConfigRow> g;
    for (const auto& row : r.agg)
      if (row.ctx_tokens == r.agg.front().ctx_tokens && row.split.tp == r.agg.front().split.tp) g.push_back(row);
    return g;
  };
  // Sweeps with `table` at a TTFT target just under the group's batch-2 TTFT (as `table` reads it).
  auto sweep = [&](const Calibration* table, int isl) {
    SearchSpace space;
    space.total_gpus = 1;
    space.isl = isl;
    space.ttft_target_ms = 1e12;
    space.calibration = table;
    const std::vector<ConfigRow> unfiltered = group_of(RunRapidSearch(*engine, space));
    EXPECT_GE(unfiltered.size(), 12u);
    EXPECT_EQ(unfiltered.at(1).bs, 2);
    space.ttft_target_ms = unfiltered.at(1).ttft_ms * 0.999;
    return group_of(RunRapidSearch(*engine, space));
  };
  // A TTFT factor that falls with the load (measured at 1 to 8 users), so that the corrected TTFT
  // need not grow with the batch (here batch 1 reads above batch 2): the sweep goes on past
  // rejections within 8 users and ends at the first rejection above them, where the factor is the
  // edge's.
  const Calibration moving = TtftErrorGrowingWithLoad();
  const std::vector<ConfigRow> corrected = sweep(&moving, 4000);
  ASSERT_GT(corrected.size(), 9u);
  EXPECT_FALSE(corrected[1].feasible);
  for (size_t i = 0; i + 1 < corrected.size(); ++i)
    EXPECT_TRUE(corrected[i].bs <= 8 || corrected[i].feasible) << corrected[i].bs;
  EXPECT_GT(corrected.back().bs, 8);
  EXPECT_FALSE(corrected.back().feasible);
  // The first rejection ends the sweep where no higher load changes the TTFT factor: the model alone
  // (its TTFT only grows with the batch), a family whose factor has no load slope, and an ISL the
  // family has not measured (TTFT uncorrected).
  const Calibration flat = TwiceTtftHalfTpot();
  for (const auto& [table, isl] : {std::pair<const Calibration*, int>{nullptr, 4000}, {&flat, 4000}, {&moving, 2000}}) {
    const std::vector<ConfigRow> rows = sweep(table, isl);
    ASSERT_EQ(rows.size(), 2u) << isl;
    EXPECT_FALSE(rows[1].feasible);
  }
}

TEST(RunRapidSearch, SglangDisaggNeedsEqualTp) {
  MemFileSystem fs;
  auto engine = PerfEngine::Create(*FindModel("Qwen/Qwen3-32B", fs), H200(), Backend::kSglang);
  ASSERT_TRUE(engine.ok());
  SearchSpace space;
  space.agg = false;
  SearchResult r = RunRapidSearch(*engine, space);
  int feasible = 0;
  for (const auto& row : r.disagg) {
    if (!row.feasible) continue;
    ++feasible;
    EXPECT_EQ(row.prefill.split.tp, row.decode.split.tp);
  }
  EXPECT_GT(feasible, 0);
}

}  // namespace
}  // namespace dyprof

#include "search/rapid.h"

#include <gtest/gtest.h>

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

#include "search/picking.h"

#include <gtest/gtest.h>

namespace dyprof {
namespace {

ConfigRow Agg(int tp, int bs, double tps_gpu, double tpot, double tps_user, double ttft = 100, int osl = 1000) {
  ConfigRow r;
  r.split.tp = tp;
  r.bs = bs;
  r.num_total_gpus = tp;
  r.tokens_per_s_per_gpu = tps_gpu;
  r.tpot_ms = tpot;
  r.ttft_ms = ttft;
  r.tokens_per_s_per_user = tps_user;
  r.request_latency_ms = ttft + tpot * (osl - 1);
  r.tokens_per_s = tps_gpu * tp;
  r.seq_per_s = r.tokens_per_s / osl;
  r.concurrency = bs;
  return r;
}

TEST(ClusterThroughput, PenalisesReplicasThatDoNotDivideTheBudget) {
  EXPECT_DOUBLE_EQ(ClusterThroughputPerGpu(100, 4, 8), 100);
  EXPECT_DOUBLE_EQ(ClusterThroughputPerGpu(100, 3, 8), 75);   // 2 replicas x 3 GPUs of 8
  EXPECT_DOUBLE_EQ(ClusterThroughputPerGpu(100, 16, 8), 0);  // larger than the budget
  EXPECT_DOUBLE_EQ(ClusterThroughputPerGpu(100, 16, 0), 100);
}

TEST(PickDefault, BestClusterThroughputUnderTpotOnePerGroup) {
  std::vector<ConfigRow> rows = {
      Agg(8, 28, 354.04, 9.64, 103.78), Agg(8, 16, 270.7, 7.1, 140.1), Agg(8, 40, 400, 12.0, 83),
      Agg(4, 8, 233.99, 8.17, 122.44),  Agg(4, 16, 260, 10.5, 95),      Agg(2, 4, 500, 9.0, 111),  // tp2: 3 of 8? no, 4
  };
  rows[5].num_total_gpus = 3;  // make a replica size that wastes 2 of 8 GPUs: 500*6/8 = 375
  PickResult p = PickDefault(rows, 8, {10.0, std::nullopt});
  ASSERT_EQ(p.top.size(), 3u);
  EXPECT_FALSE(p.all_exceeded);
  EXPECT_EQ(p.top[0].GroupLabel(), "tp2");
  EXPECT_DOUBLE_EQ(p.top[0].tokens_per_s_per_gpu_cluster, 375.0);
  EXPECT_EQ(p.top[1].GroupLabel(), "tp8");
  EXPECT_EQ(p.top[1].bs, 28);  // the bs40 row breaks the 10 ms ITL
  EXPECT_EQ(p.top[2].GroupLabel(), "tp4");
  EXPECT_EQ(p.top[2].bs, 8);
  EXPECT_EQ(p.top[1].replicas, 1);
  EXPECT_EQ(p.top[2].replicas, 2);
  EXPECT_DOUBLE_EQ(p.best_throughput, 375.0);
}

TEST(PickDefault, TieBreaksOnTokensPerUserThenRequestLatency) {
  std::vector<ConfigRow> rows = {Agg(8, 10, 300, 9, 100), Agg(4, 10, 300, 8, 120)};
  PickResult p = PickDefault(rows, 8, {10.0, std::nullopt});
  EXPECT_EQ(p.top[0].GroupLabel(), "tp4");
  rows[0].request_latency_ms = 5000;
  rows[1].request_latency_ms = 6000;
  PickResult q = PickDefault(rows, 8, {std::nullopt, 7000.0});
  EXPECT_EQ(q.top[0].GroupLabel(), "tp8");
}

TEST(PickDefault, AllExceededFallsBackToClosest) {
  std::vector<ConfigRow> rows = {Agg(8, 4, 100, 12, 80), Agg(4, 4, 200, 15, 60), Agg(2, 2, 300, 11, 90)};
  PickResult p = PickDefault(rows, 8, {10.0, std::nullopt});
  ASSERT_TRUE(p.all_exceeded);
  ASSERT_EQ(p.top.size(), 3u);
  EXPECT_EQ(p.top[0].GroupLabel(), "tp2");  // 11 ms is closest to 10
  EXPECT_TRUE(p.top[0].sla_exceeded);
}

TEST(PickDefault, InfeasibleRowsNeverPicked) {
  std::vector<ConfigRow> rows = {Agg(8, 4, 100, 9, 80)};
  rows[0].feasible = false;
  rows[0].reject_reason = "TTFT 400.0 ms > 300.0 ms";
  PickResult p = PickDefault(rows, 8, {10.0, std::nullopt});
  EXPECT_TRUE(p.top.empty());
  EXPECT_FALSE(p.all_exceeded);
}

TEST(PickDefault, TopNLimits) {
  std::vector<ConfigRow> rows;
  for (int tp : {1, 2, 4, 8}) rows.push_back(Agg(tp, 1, 10.0 * tp, 5, 200));
  EXPECT_EQ(PickDefault(rows, 8, {10.0, std::nullopt}, 2).top.size(), 2u);
}

TEST(PickLoadMatch, FewestGpusForRequestRate) {
  // seq/s per replica = tokens/s / osl.
  ConfigRow a = Agg(8, 32, 400, 9, 100);  // 3.2 seq/s with 8 GPUs
  ConfigRow b = Agg(4, 16, 300, 9, 100);  // 1.2 seq/s with 4 GPUs
  ConfigRow c = Agg(2, 8, 250, 12, 100);  // breaks ITL
  PickResult p = PickLoadMatch({a, b, c}, {10.0, std::nullopt}, {5.0, std::nullopt}, 64);
  ASSERT_EQ(p.top.size(), 2u);
  EXPECT_EQ(p.top[0].GroupLabel(), "tp8");  // ceil(5/3.2)=2 replicas x 8 = 16 GPUs
  EXPECT_EQ(p.top[0].replicas, 2);
  EXPECT_EQ(p.top[0].total_gpus_needed, 16);
  EXPECT_EQ(p.top[1].total_gpus_needed, 20);  // ceil(5/1.2)=5 x 4
  EXPECT_DOUBLE_EQ(p.best_throughput, 1.0 / 16);
  EXPECT_FALSE(p.gpu_capped);
}

TEST(PickLoadMatch, ConcurrencyTarget) {
  ConfigRow a = Agg(8, 32, 400, 9, 100);
  PickResult p = PickLoadMatch({a}, {10.0, std::nullopt}, {std::nullopt, 100.0}, std::nullopt);
  EXPECT_EQ(p.top[0].replicas, 4);  // ceil(100/32)
}

TEST(PickLoadMatch, CapsToBudgetAndReportsServedShare) {
  ConfigRow a = Agg(8, 32, 400, 9, 100);  // 3.2 seq/s
  ConfigRow b = Agg(4, 16, 300, 9, 100);  // 1.2 seq/s
  PickResult p = PickLoadMatch({a, b}, {10.0, std::nullopt}, {20.0, std::nullopt}, 8);
  ASSERT_TRUE(p.gpu_capped);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].rfind("Target load requires more GPUs than available", 0), 0u);
  ASSERT_EQ(p.top.size(), 2u);
  EXPECT_EQ(p.top[0].GroupLabel(), "tp8");     // 400 tok/s/gpu on all 8 GPUs
  EXPECT_EQ(p.top[0].replicas, 1);
  EXPECT_DOUBLE_EQ(p.top[0].load_served_pct, 14.3);  // 1 of ceil(20/3.2)=7 replicas
  EXPECT_DOUBLE_EQ(p.top[1].tokens_per_s_per_gpu_cluster, 300.0);  // 2 x 4 of 8
  EXPECT_DOUBLE_EQ(p.best_throughput, 400.0);
}

TEST(ComposeDisagg, MatchesAicWorkedExample) {
  // AIC (§2.7): 1P tp4 + 1D tp4: min(6.974*0.9, 1.661*0.92) = 1.528 seq/s -> 191.01 tokens/s/gpu at osl 1000.
  StageRow p, d;
  p.split.tp = 4;
  p.seq_per_s = 6.974;
  p.ttft_ms = 258.09;
  d.split.tp = 4;
  d.seq_per_s = 1.661;
  d.tpot_ms = 9.642;
  d.concurrency = 16;
  d.tokens_per_s_per_user = 1000 / 9.642;
  ConfigRow r = ComposeDisagg(p, 1, d, 1, 1000);
  EXPECT_NEAR(r.seq_per_s, 1.52812, 1e-5);
  EXPECT_NEAR(r.tokens_per_s_per_gpu, 191.015, 1e-3);
  EXPECT_EQ(r.num_total_gpus, 8);
  EXPECT_NEAR(r.request_latency_ms, 258.09 + 9.642 * 999, 1e-9);
  EXPECT_EQ(r.concurrency, 16);
  EXPECT_EQ(r.GroupLabel(), "tp4");
  EXPECT_EQ(r.Describe(), "1P tp4 bs1 + 1D tp4 bs1");
}

StageRow Stage(int tp, int bs, double ttft, double tpot, double seq_s_gpu) {
  StageRow s;
  s.split.tp = tp;
  s.bs = s.global_bs = bs;
  s.ttft_ms = ttft;
  s.tpot_ms = tpot;
  s.seq_per_s_per_gpu = seq_s_gpu;
  s.seq_per_s = seq_s_gpu * tp;
  s.concurrency = bs;
  s.tokens_per_s_per_user = tpot > 0 ? 1000 / tpot : 0;
  return s;
}

TEST(PickAutoscale, CorrectsTtftAndPicksBestEnginesOneWorkerEach) {
  std::vector<StageRow> pre = {Stage(1, 1, 200, 0, 5.0), Stage(2, 1, 100, 0, 4.0), Stage(4, 1, 50, 0, 3.0)};
  std::vector<StageRow> dec = {Stage(1, 64, 0, 25, 0.5), Stage(2, 32, 0, 15, 0.4), Stage(4, 16, 0, 9, 0.2)};
  // TTFT target 300: tp1 200*1.8=360 fails (strict <), tp2 180 ok, tp4 90 ok.
  PickResult p = PickAutoscale(pre, dec, 300, 20, 1000, 5);
  ASSERT_FALSE(p.all_exceeded);
  ASSERT_EQ(p.top.size(), 4u);  // 2 prefill x 2 decode
  for (const auto& r : p.top) {
    EXPECT_EQ(r.prefill_workers, 1);
    EXPECT_EQ(r.decode_workers, 1);
    EXPECT_NE(r.prefill.split.tp, 1);
    EXPECT_NE(r.decode.split.tp, 1);
  }
  // Best tokens/s/gpu: prefill tp2 (8 seq/s) + decode tp2 (0.8 seq/s): min(7.2, 0.736)*1000/4 = 184.
  EXPECT_EQ(p.top[0].prefill.split.tp, 2);
  EXPECT_EQ(p.top[0].decode.split.tp, 2);
  EXPECT_DOUBLE_EQ(p.top[0].ttft_ms, 180.0);
  EXPECT_DOUBLE_EQ(p.top[0].tokens_per_s_per_gpu, 184.0);
}

TEST(PickAutoscale, FallsBackToClosestWithWarning) {
  std::vector<StageRow> pre = {Stage(1, 1, 900, 0, 5.0), Stage(2, 1, 600, 0, 4.0)};
  std::vector<StageRow> dec = {Stage(1, 64, 0, 25, 0.5)};
  PickResult p = PickAutoscale(pre, dec, 300, 20, 1000, /*top_n=*/1);
  EXPECT_TRUE(p.all_exceeded);
  ASSERT_EQ(p.warnings.size(), 2u);
  ASSERT_EQ(p.top.size(), 1u);
  EXPECT_EQ(p.top[0].prefill.split.tp, 2);  // closest TTFT (600 x 1.8) kept when only one may stay
  EXPECT_TRUE(p.top[0].sla_exceeded);
}

}  // namespace
}  // namespace dyprof

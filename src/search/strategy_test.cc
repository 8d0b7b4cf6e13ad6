#include "search/strategy.h"

#include <gtest/gtest.h>

#include <set>

namespace dyprof {
namespace {

DgdrSpec Spec(const std::string& model, const std::string& sku, int gpus, Backend backend = Backend::kTrtllm) {
  DgdrSpec s;
  s.model = model;
  s.image = "nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.0.1";
  s.backend = backend;
  s.hardware = HardwareSpec{};
  s.hardware->gpu_sku = sku;
  s.hardware->num_gpus_per_node = 8;
  s.hardware->total_gpus = gpus;
  s.workload = WorkloadSpec{};
  s.sla = SlaSpec{};
  return s;
}

class StrategyTest : public ::testing::Test {
 protected:
  MemFileSystem fs_;
  Logger log_;
  void SetUp() override { log_.SetStderr(false); }
};

TEST_F(StrategyTest, DefaultPicksWithinBudgetUnderSla) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8);
  s.sla->ttft_ms = 300;
  s.sla->itl_ms = 10;
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->chosen.has_value());
  EXPECT_TRUE(r->decision.produced);
  EXPECT_LE(r->chosen->tpot_ms, 10.0);
  EXPECT_LE(r->chosen->ttft_ms, 300.0);
  EXPECT_LE(r->chosen->replicas * r->chosen->num_total_gpus, 8);
  EXPECT_EQ(r->decision.pick_json["mode"], "default");
  EXPECT_EQ(r->chosen_exp == "disagg", r->decision.disagg);
}

TEST_F(StrategyTest, UnreachableTtftProducesNothingWithReason) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8);
  s.sla->ttft_ms = 1;
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->decision.produced);
  EXPECT_NE(r->decision.pick_json["error"].get<std::string>().find("best achievable TTFT"), std::string::npos);
}

TEST_F(StrategyTest, UnreachableItlPicksClosestAndWarns) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8);
  s.sla->itl_ms = 0.5;
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->decision.produced);
  bool warned = false;
  for (const auto& w : r->warnings) warned |= w.rfind("ITL SLA 0.5ms is unachievable. Best achievable: ", 0) == 0;
  EXPECT_TRUE(warned);
}

TEST_F(StrategyTest, UnknownGpuTakesNaiveFallback) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "b60", 8, Backend::kAuto);
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->decision.naive);
  EXPECT_EQ(r->decision.backend, Backend::kVllm);
  // 32.8B params -> 65.5 GB x 1.5 = 98 GB < 141 GiB -> tp1, 8 replicas.
  EXPECT_EQ(r->decision.agg.split.tp, 1);
  EXPECT_EQ(r->decision.agg.replicas, 8);
  bool unverified = false;
  for (const auto& w : r->warnings) unverified |= w.find("The SLA is unverified.") != std::string::npos;
  EXPECT_TRUE(unverified);
}

TEST_F(StrategyTest, AutoscalePicksOnePrefillAndOneDecodeEngine) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8, Backend::kAuto);
  s.features.planner = PlannerSpec{};
  auto r = RunStrategy(s, PickingMode::kAutoscale, {}, fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->decision.produced);
  EXPECT_TRUE(r->decision.disagg);
  EXPECT_EQ(r->decision.backend, Backend::kVllm);  // auto -> vllm for autoscale
  EXPECT_EQ(r->decision.prefill.replicas, 1);
  EXPECT_EQ(r->decision.decode.replicas, 1);
  EXPECT_TRUE(r->agg_rows.empty());
}

TEST_F(StrategyTest, LoadMatchUsesFewestGpus) {
  DgdrSpec s = Spec("Qwen/Qwen3-8B", "h200_sxm", 64);
  s.workload->request_rate = 2.0;
  s.sla->itl_ms = 50;
  auto r = RunStrategy(s, PickingMode::kLoadMatch, {}, fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->chosen.has_value());
  const ConfigRow& c = *r->chosen;
  EXPECT_GE(c.seq_per_s * c.replicas, 2.0);
  EXPECT_LE(c.total_gpus_needed, 64);
  // Nothing picked by the tables needs fewer GPUs.
  for (const auto& t : r->agg_top) EXPECT_GE(t.total_gpus_needed, r->agg_top.front().total_gpus_needed);
}

TEST_F(StrategyTest, AutoBackendSearchesAllThreeAndRecordsWinner) {
  DgdrSpec s = Spec("Qwen/Qwen3-8B", "h100_sxm", 8, Backend::kAuto);
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok());
  std::set<Backend> seen;
  for (const auto& row : r->agg_rows) seen.insert(row.backend);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(r->decision.pick_json["backend"], std::string(BackendName(r->decision.backend)));
  EXPECT_NE(r->decision.backend, Backend::kAuto);
}

TEST_F(StrategyTest, GpuWithoutMeasuredTablesWarnsAboutRoofline) {
  DgdrSpec s = Spec("Qwen/Qwen3-8B", "h100_pcie", 8, Backend::kVllm);
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->efficiency_source, "roofline-borrowed");
  bool warned = false;
  for (const auto& w : r->warnings) warned |= w.rfind("h100_pcie has no measured kernel tables;", 0) == 0;
  EXPECT_TRUE(warned);
}

TEST_F(StrategyTest, DryRunPicksNothing) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8);
  StrategyOptions o;
  o.dry_run = true;
  auto r = RunStrategy(s, PickingMode::kDefault, o, fs_, log_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->decision.produced);
  EXPECT_TRUE(r->agg_rows.empty());
}

TEST_F(StrategyTest, OptimizationTypeWithoutTargetsIgnoresDefaultSla) {
  DgdrSpec s = Spec("Qwen/Qwen3-8B", "h200_sxm", 8);
  s.sla->optimization_type = OptimizationType::kLatency;
  auto r = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->chosen.has_value());
  // Latency: the lowest ITL among every evaluated feasible row of the chosen mode.
  double best = 1e9;
  for (const auto& row : r->chosen->disagg ? r->disagg_rows : r->agg_rows)
    if (row.feasible) best = std::min(best, row.tpot_ms);
  EXPECT_DOUBLE_EQ(r->chosen->tpot_ms, best);
}

}  // namespace
}  // namespace dyprof

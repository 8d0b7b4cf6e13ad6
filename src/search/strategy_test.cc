#include "search/strategy.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(RerankOrderTest, MeetsThenUnknownThenMissesEachInOrderRestKeepPlaces) {
  using V = SimVerdict;
  EXPECT_EQ(RerankOrder({V::kMisses, V::kMeets, V::kUnknown, V::kMeets, V::kMisses}, 7),
            (std::vector<int>{1, 3, 2, 0, 4, 5, 6}));
  EXPECT_EQ(RerankOrder({V::kMeets, V::kMeets}, 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(RerankOrder({V::kMisses, V::kMisses}, 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(RerankOrder({}, 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(RerankOrder({V::kUnknown, V::kMisses, V::kMeets}, 2), (std::vector<int>{0, 1}));  // n > rows
}

// Load match of Llama-3.1-70B on 32 H100 (examples/llama-70b-load-match.yaml): the closed-form
// first agg row (tp8, large batch) meets the ITL target at its mean but its simulated p90 ITL is far
// above it; a later row meets both p90 targets, so re-ranking changes the pick.
DgdrSpec LoadMatchSpec() {
  DgdrSpec s = Spec("meta-llama/Llama-3.1-70B-Instruct", "h100_sxm", 32, Backend::kVllm);
  s.workload->isl = 2000;
  s.workload->osl = 500;
  s.workload->request_rate = 4;
  s.sla->ttft_ms = 1000;
  s.sla->itl_ms = 30;
  s.sla->ttft_set_explicitly = s.sla->itl_set_explicitly = true;
  return s;
}

std::vector<std::string> Describe(const std::vector<ConfigRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Describe());
  return out;
}

std::vector<std::string> Strings(const Json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) out.push_back(v.get<std::string>());
  return out;
}

TEST_F(StrategyTest, RerankReordersTopByP90AndMovesThePick) {
  const DgdrSpec s = LoadMatchSpec();
  auto plain = RunStrategy(s, PickingMode::kLoadMatch, {}, fs_, log_);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  ASSERT_TRUE(plain->chosen.has_value());
  EXPECT_FALSE(plain->decision.pick_json.contains("rerank"));
  for (const auto& row : plain->decision.pick_json["top"]) EXPECT_FALSE(row.contains("load_simulation"));

  StrategyOptions o;
  o.rerank_top = 5;
  Logger log;
  log.SetStderr(false);
  auto r = RunStrategy(s, PickingMode::kLoadMatch, o, fs_, log);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->chosen.has_value());
  const Json& pick = r->decision.pick_json;
  ASSERT_TRUE(pick.contains("rerank")) << pick.dump(2);
  const Json& rr = pick["rerank"];
  EXPECT_EQ(rr["top_n"], 5);
  EXPECT_EQ(rr["percentile"], "p90");
  EXPECT_EQ(r->chosen_exp, plain->chosen_exp);  // the agg-vs-disagg choice is unchanged
  ASSERT_EQ(r->chosen_exp, "agg");

  auto rank = [](const std::string& v) { return v == "meets" ? 0 : v == "unknown" ? 1 : 2; };
  for (const char* mode : {"agg", "disagg"}) {
    SCOPED_TRACE(mode);
    const auto& before_rows = std::string(mode) == "agg" ? plain->agg_top : plain->disagg_top;
    const auto& after_rows = std::string(mode) == "agg" ? r->agg_top : r->disagg_top;
    std::vector<std::string> before = Strings(rr[mode]["before"]), after = Strings(rr[mode]["after"]);
    EXPECT_EQ(before, Describe(before_rows));  // the closed-form order
    EXPECT_EQ(after, Describe(after_rows));
    EXPECT_TRUE(std::is_permutation(before.begin(), before.end(), after.begin(), after.end()));
    std::vector<std::string> verdicts = Strings(rr[mode]["p90_sla"]);
    EXPECT_EQ(verdicts.size(), std::min<size_t>(5, before.size()));
    EXPECT_TRUE(std::is_sorted(verdicts.begin(), verdicts.end(),
                               [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); }));
  }
  // Every simulated row that meets the targets carries p90s within them, and precedes every miss.
  for (const auto& row : pick["top"]) {
    ASSERT_TRUE(row.contains("load_simulation")) << row["description"];
  }
  std::vector<std::string> agg_verdicts = Strings(rr["agg"]["p90_sla"]);
  for (size_t i = 0; i < agg_verdicts.size(); ++i) {
    const Json& sim = pick["top"][i]["load_simulation"];
    bool meets = sim["ttft_ms"]["p90"].get<double>() <= 1000 && sim["itl_ms"]["p90"].get<double>() <= 30;
    EXPECT_EQ(meets, agg_verdicts[i] == "meets") << i;
  }

  // The closed-form first row misses at p90, a later one meets: the pick moves to it.
  EXPECT_EQ(rr["agg"]["before"][0], plain->chosen->Describe());
  EXPECT_EQ(rr["agg"]["p90_sla"][0], "meets");
  EXPECT_NE(r->chosen->Describe(), plain->chosen->Describe());
  EXPECT_EQ(r->chosen->Describe(), r->agg_top.front().Describe());
  EXPECT_EQ(pick["chosen"]["description"], rr["agg"]["after"][0]);
  EXPECT_EQ(rr["pick_changed"], true);
  EXPECT_EQ(pick["load_simulation"], pick["top"][0]["load_simulation"]);
  EXPECT_LE(pick["load_simulation"]["itl_ms"]["p90"].get<double>(), 30.0);
  bool logged = false;
  for (const auto& line : log.lines())
    logged |= line.find("INFO - Re-ranking the top 5 by scheduler simulation (p90 vs SLA) changed the agg pick "
                        "from " + plain->chosen->Describe()) != std::string::npos;
  EXPECT_TRUE(logged);
  // The plain run's p90 miss warning is gone with the re-ranked pick.
  bool plain_warned = false, warned = false;
  for (const auto& w : plain->warnings) plain_warned |= w.rfind("Under load the simulated p90 ITL", 0) == 0;
  for (const auto& w : r->warnings) warned |= w.rfind("Under load the simulated p90 ITL", 0) == 0;
  EXPECT_TRUE(plain_warned);
  EXPECT_FALSE(warned);
}

TEST_F(StrategyTest, RerankWithoutLatencyTargetsKeepsTheOrder) {
  // An optimizationType alone ignores the default SLA: every simulated row "meets", nothing moves.
  DgdrSpec s = Spec("Qwen/Qwen3-8B", "h200_sxm", 8);
  s.sla->optimization_type = OptimizationType::kThroughput;
  StrategyOptions o;
  o.rerank_top = 3;
  auto plain = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  auto r = RunStrategy(s, PickingMode::kDefault, o, fs_, log_);
  ASSERT_TRUE(plain.ok() && r.ok());
  ASSERT_TRUE(r->chosen.has_value());
  const Json& rr = r->decision.pick_json["rerank"];
  EXPECT_TRUE(rr["targets"].empty());
  EXPECT_EQ(rr["agg"]["before"], rr["agg"]["after"]);
  EXPECT_EQ(rr["disagg"]["before"], rr["disagg"]["after"]);
  EXPECT_EQ(rr["pick_changed"], false);
  EXPECT_EQ(r->chosen->Describe(), plain->chosen->Describe());
  EXPECT_EQ(r->decision.pick_json["chosen"], plain->decision.pick_json["chosen"]);
  EXPECT_EQ(r->decision.pick_json["load_simulation"], plain->decision.pick_json["load_simulation"]);
}

TEST_F(StrategyTest, RerankOffLeavesThePickJsonAsBefore) {
  DgdrSpec s = Spec("Qwen/Qwen3-32B", "h200_sxm", 8);
  s.sla->ttft_ms = 300;
  s.sla->itl_ms = 10;
  StrategyOptions off;
  off.rerank_top = 0;
  auto a = RunStrategy(s, PickingMode::kDefault, {}, fs_, log_);
  auto b = RunStrategy(s, PickingMode::kDefault, off, fs_, log_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(b->decision.pick_json.contains("rerank"));
  EXPECT_EQ(a->decision.pick_json, b->decision.pick_json);
}

}  // namespace
}  // namespace dyprof

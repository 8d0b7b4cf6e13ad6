#include "curves/curves.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include <unistd.h>

#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"

namespace dyprof {
namespace {

// ---- Grids ------------------------------------------------------------------------------------------

TEST(GridTest, SweepMaxContextLengthFallback) {
  EXPECT_EQ(SweepMaxContextLength(40960, 4000), 40960);
  EXPECT_EQ(SweepMaxContextLength(0, 4000), 8000);
  EXPECT_EQ(SweepMaxContextLength(0, 0), 8192);
}

TEST(GridTest, PrefillIslGridIsPythonRange) {
  // range(100, 40448, 40348 // 16 = 2521): 17 points, last 100 + 16·2521 = 40436.
  auto g = PrefillIslGrid(40960, 16);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 17u);
  for (size_t i = 0; i < g->size(); ++i) EXPECT_EQ((*g)[i], 100 + 2521 * static_cast<int>(i));
  EXPECT_EQ(g->back(), 40436);
  // range(100, 7680, 1895): the stop is exclusive, 7680 is not sampled.
  EXPECT_EQ(*PrefillIslGrid(8192, 4), (std::vector<int>{100, 1995, 3890, 5785}));
  // granularity 8 on 8192: step 947 → 100 … 7676 (9 points).
  auto g8 = PrefillIslGrid(8192, 8);
  ASSERT_TRUE(g8.ok());
  EXPECT_EQ(g8->size(), 9u);
  EXPECT_EQ(g8->back(), 100 + 8 * 947);
  EXPECT_EQ(*PrefillIslGrid(613, 1), std::vector<int>{100});
}

TEST(GridTest, PrefillIslGridRejectsTooSmallContext) {
  auto g = PrefillIslGrid(612, 16);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("too small to profile prefill"), std::string::npos);
  EXPECT_FALSE(PrefillIslGrid(8192, 0).ok());
  EXPECT_FALSE(PrefillIslGrid(700, 100).ok());  // step 0 (Python: ValueError)
}

TEST(GridTest, DecodeIslGridIsPythonRange) {
  EXPECT_EQ(*DecodeIslGrid(40960, 6), (std::vector<int>{100, 6843, 13586, 20329, 27072, 33815}));
  EXPECT_EQ(*DecodeIslGrid(8192, 6), (std::vector<int>{100, 1382, 2664, 3946, 5228, 6510}));
  EXPECT_EQ(*DecodeIslGrid(8000, 3), (std::vector<int>{100, 2600, 5100}));
  EXPECT_EQ(DecodeIslGrid(40960, 12)->size(), 12u);
  EXPECT_FALSE(DecodeIslGrid(8192, 0).ok());
  EXPECT_FALSE(DecodeIslGrid(550, 6).ok());
}

TEST(GridTest, NumRequestRangeMatchesReferenceForDp1) {
  EXPECT_EQ(NumRequestRange(1, 100, 6), (std::vector<int>{1, 20, 40, 60, 80, 100}));
  EXPECT_EQ(NumRequestRange(1, 4, 6), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(NumRequestRange(1, 6, 6), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  // Capped at DECODE_MAX_CONCURRENCY = 2000.
  EXPECT_EQ(NumRequestRange(1, 5000, 6), (std::vector<int>{1, 400, 800, 1200, 1600, 2000}));
  EXPECT_TRUE(NumRequestRange(1, 0, 6).empty());
}

TEST(GridTest, NumRequestRangeWithAttentionDpStaysWithinCapacity) {
  // Multiples of dp, never above the engine maximum (the reference's double ·dp would reach 7944).
  EXPECT_EQ(NumRequestRange(8, 1000, 6), (std::vector<int>{8, 200, 400, 600, 800, 1000}));
  EXPECT_EQ(NumRequestRange(4, 20, 6), (std::vector<int>{4, 8, 12, 16, 20}));
  EXPECT_TRUE(NumRequestRange(8, 7, 6).empty());
  for (int n : NumRequestRange(8, 5000, 6)) {
    EXPECT_EQ(n % 8, 0);
    EXPECT_LE(n, 2000);
  }
}

// ---- Curves from the performance engine ---------------------------------------------------------

class CurvesEngineTest : public ::testing::Test {
 protected:
  static PerfEngine Engine(const std::string& model, Backend b) {
    MemFileSystem fs;
    auto m = FindModel(model, fs);
    EXPECT_TRUE(m.ok()) << m.status().message();
    auto e = PerfEngine::Create(*m, *FindSystem("h200_sxm"), b);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return std::move(*e);
  }
};

TEST_F(CurvesEngineTest, PrefillTtftGrowsWithIsl) {
  PerfEngine e = Engine("Qwen/Qwen3-32B", Backend::kVllm);
  ParallelSplit split{.tp = 2};
  std::vector<std::string> warnings;
  auto c = SweepPrefill(e, split, 40960, 16, &warnings);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(c->isl.size(), 17u);
  EXPECT_EQ(c->isl.front(), 100);
  for (size_t i = 1; i < c->isl.size(); ++i) {
    EXPECT_GT(c->ttft_ms[i], c->ttft_ms[i - 1]) << "ISL " << c->isl[i];
    EXPECT_NEAR(c->thpt_per_gpu[i], c->isl[i] / c->ttft_ms[i] / 2 * 1000, 1e-9);
  }
}

TEST_F(CurvesEngineTest, DecodeItlGrowsWithKvUsageAtFixedContext) {
  PerfEngine e = Engine("Qwen/Qwen3-32B", Backend::kVllm);
  EnginePick pick;
  pick.split = ParallelSplit{.tp = 4};
  auto kv = EngineKvTokens(e, pick);
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  EXPECT_GT(*kv, 40960);
  std::vector<std::string> warnings;
  auto c = SweepDecode(e, pick.split, *kv, 40960, 6, &warnings);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_FALSE(c->kv_usage.empty());
  EXPECT_EQ(c->max_kv_tokens, *kv);
  size_t n = c->kv_usage.size();
  ASSERT_EQ(c->context_length.size(), n);
  ASSERT_EQ(c->itl_ms.size(), n);
  ASSERT_EQ(c->thpt_per_gpu.size(), n);
  std::set<double> contexts(c->context_length.begin(), c->context_length.end());
  EXPECT_EQ(contexts.size(), 6u);  // one per decode ISL (isl + 250)
  EXPECT_TRUE(contexts.count(350.0));
  for (size_t i = 0; i < n; ++i) {
    EXPECT_GT(c->kv_usage[i], 0);
    EXPECT_LE(c->kv_usage[i], 1.0);
    EXPECT_NEAR(c->kv_usage[i], c->context_length[i] * c->concurrency[i] / double(*kv), 1e-12);
    EXPECT_NEAR(c->thpt_per_gpu[i], c->concurrency[i] * 1000.0 / c->itl_ms[i] / 4, 1e-9);
    if (i > 0 && c->context_length[i] == c->context_length[i - 1]) {
      EXPECT_GT(c->kv_usage[i], c->kv_usage[i - 1]);
      EXPECT_GT(c->itl_ms[i], c->itl_ms[i - 1]) << "context " << c->context_length[i];
      EXPECT_GT(c->thpt_per_gpu[i], c->thpt_per_gpu[i - 1]) << "context " << c->context_length[i];
    }
  }
}

TEST_F(CurvesEngineTest, DecodeStopsWhenKvCannotHoldOneRequest) {
  PerfEngine e = Engine("Qwen/Qwen3-32B", Backend::kVllm);
  std::vector<std::string> warnings;
  // 3000 KV tokens: ISL 100 and 1382 fit (2 and 1 requests), ISL 2664 + 500 does not.
  auto c = SweepDecode(e, ParallelSplit{.tp = 1}, 3000, 8192, 6, &warnings);
  ASSERT_TRUE(c.ok());
  std::set<double> contexts(c->context_length.begin(), c->context_length.end());
  EXPECT_EQ(contexts, (std::set<double>{350.0, 1632.0}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("too small for isl 2664"), std::string::npos);
}

TEST_F(CurvesEngineTest, AttentionDpKvCapacityCountsEveryRank) {
  PerfEngine e = Engine("Qwen/Qwen3-30B-A3B", Backend::kSglang);
  EnginePick one, four;
  one.split = ParallelSplit{.tp = 1, .dp = 4, .moe_tp = 1, .moe_ep = 4};
  auto kv = EngineKvTokens(e, one);
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  auto mem = e.Memory(one.split);
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(*kv, mem->max_kv_tokens * 4);
  auto c = SweepDecode(e, one.split, *kv, 40960, 6, nullptr);
  ASSERT_TRUE(c.ok()) << c.status().message();
  for (size_t i = 0; i < c->concurrency.size(); ++i) {
    EXPECT_EQ(c->concurrency[i] % 4, 0);
    EXPECT_LE(c->kv_usage[i], 1.0);
  }
}

TEST(CurveDataTest, JsonAndNpzKeysAreTheReferenceOnes) {
  PrefillCurve p{{100, 200, 300}, {10, 20, 30}, {1, 2, 3}};
  Json pj = p.ToJson();
  std::vector<std::string> keys;
  for (auto& [k, v] : pj.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"prefill_isl", "prefill_ttft", "prefill_thpt_per_gpu"}));
  EXPECT_TRUE(pj["prefill_isl"][0].is_number_float());

  DecodeCurve d;
  d.kv_usage = {0.1};
  d.context_length = {350};
  d.itl_ms = {7.5};
  d.thpt_per_gpu = {100};
  d.max_kv_tokens = 412000;
  Json dj = d.ToJson();
  keys.clear();
  for (auto& [k, v] : dj.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"x_kv_usage", "y_context_length", "z_itl", "z_thpt_per_gpu", "max_kv_tokens"}));
  EXPECT_TRUE(dj["max_kv_tokens"].is_number_integer());
  EXPECT_EQ(dj["max_kv_tokens"], 412000);
  NpzEntries npz = d.ToNpz();
  EXPECT_EQ(npz.back().first, "max_kv_tokens");
  EXPECT_EQ(npz.back().second.dtype, NpyArray::Dtype::kInt64);
  EXPECT_EQ(npz.back().second.shape, std::vector<int64_t>{1});
}

// ---- The stage ----------------------------------------------------------------------------------------

DgdrSpec MakePlannerSpec(SweepMode mode = SweepMode::kRapid) {
  DgdrSpec s;
  s.model = "Qwen/Qwen3-32B";
  s.image = "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.0";
  s.backend = Backend::kVllm;
  s.hardware = HardwareSpec{};
  s.hardware->gpu_sku = "h200_sxm";
  s.hardware->num_gpus_per_node = 8;
  s.hardware->total_gpus = 8;
  s.workload = WorkloadSpec{};
  s.sla = SlaSpec{};
  PlannerSpec p;
  p.sweep_mode = mode;
  p.enable_throughput_scaling = true;
  p.enable_load_scaling = false;
  s.features.planner = p;
  return s;
}

Decision Disagg() {
  Decision d;
  d.backend = Backend::kVllm;
  d.disagg = true;
  d.prefill.split = ParallelSplit{.tp = 2};
  d.decode.split = ParallelSplit{.tp = 4};
  return d;
}

class CurvesStageTest : public ::testing::Test {
 protected:
  void SetUp() override { log_.SetStderr(false); }
  MemFileSystem fs_;
  Logger log_;
  CurveOptions Options(int prefill_g = 16, int decode_g = 6) {
    CurveOptions o;
    o.output_dir = "/out";
    o.prefill_granularity = prefill_g;
    o.decode_granularity = decode_g;
    o.max_context_length = 40960;
    return o;
  }
};

TEST_F(CurvesStageTest, DisaggPickWritesNpzPlotsAndJson) {
  auto r = BuildPlannerCurves(MakePlannerSpec(), Disagg(), Options(), fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->prefill && r->decode);
  EXPECT_EQ(r->sweep_max_context_length, 40960);
  for (const char* f : {"/out/selected_prefill_interpolation/raw_data.npz",
                        "/out/selected_prefill_interpolation/prefill_ttft_interpolation.svg",
                        "/out/selected_prefill_interpolation/prefill_throughput_interpolation.svg",
                        "/out/selected_decode_interpolation/raw_data.npz",
                        "/out/selected_decode_interpolation/decode_itl_interplation.svg",
                        "/out/selected_decode_interpolation/decode_throughput_interpolation.svg"})
    EXPECT_TRUE(fs_.IsFile(f)) << f;
  auto prefill = DecodeNpz(*fs_.ReadFile("/out/selected_prefill_interpolation/raw_data.npz"));
  ASSERT_TRUE(prefill.ok());
  ASSERT_EQ(prefill->size(), 3u);
  EXPECT_EQ((*prefill)[0].first, "prefill_isl");
  EXPECT_EQ((*prefill)[0].second.f64, r->prefill->isl);
  EXPECT_EQ((*prefill)[1].second.f64, r->prefill->ttft_ms);
  auto decode = DecodeNpz(*fs_.ReadFile("/out/selected_decode_interpolation/raw_data.npz"));
  ASSERT_TRUE(decode.ok());
  ASSERT_EQ(decode->size(), 5u);
  EXPECT_EQ((*decode)[4].second.i64, std::vector<int64_t>{r->decode->max_kv_tokens});
  EXPECT_EQ((*decode)[2].second.f64, r->decode->itl_ms);
  EXPECT_EQ(r->PrefillJson()["prefill_isl"].size(), 17u);
  EXPECT_EQ(r->DecodeJson()["max_kv_tokens"], r->decode->max_kv_tokens);
}

TEST_F(CurvesStageTest, GranularityChangesSampleCounts) {
  auto r = BuildPlannerCurves(MakePlannerSpec(), Disagg(), Options(4, 3), fs_, log_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->prefill && r->decode);
  EXPECT_EQ(r->prefill->isl.size(), PrefillIslGrid(40960, 4)->size());
  std::set<double> contexts(r->decode->context_length.begin(), r->decode->context_length.end());
  EXPECT_EQ(contexts.size(), 3u);
  EXPECT_LE(r->decode->kv_usage.size(), 9u);
}

TEST_F(CurvesStageTest, SweepModeNoneSkips) {
  auto r = BuildPlannerCurves(MakePlannerSpec(SweepMode::kNone), Disagg(), Options(), fs_, log_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_NE(r->skipped.find("none"), std::string::npos);
  EXPECT_TRUE(fs_.files().empty());
}

TEST_F(CurvesStageTest, AggPickSkipsForPlannerButFeedsMocker) {
  Decision agg;
  agg.backend = Backend::kVllm;
  agg.agg.split = ParallelSplit{.tp = 2};
  auto planner_only = BuildPlannerCurves(MakePlannerSpec(), agg, Options(), fs_, log_);
  ASSERT_TRUE(planner_only.ok());
  EXPECT_TRUE(planner_only->empty());
  EXPECT_NE(planner_only->skipped.find("aggregated"), std::string::npos);

  DgdrSpec mocker = MakePlannerSpec();
  mocker.features.planner.reset();
  mocker.features.mocker_enabled = true;
  auto with_mocker = BuildPlannerCurves(mocker, agg, Options(), fs_, log_);
  ASSERT_TRUE(with_mocker.ok()) << with_mocker.status().message();
  EXPECT_TRUE(with_mocker->prefill && with_mocker->decode);
}

TEST_F(CurvesStageTest, NotNeededWithoutThroughputScalingOrMocker) {
  DgdrSpec s = MakePlannerSpec();
  s.features.planner->enable_throughput_scaling = false;
  s.features.planner->enable_load_scaling = true;
  auto r = BuildPlannerCurves(s, Disagg(), Options(), fs_, log_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST_F(CurvesStageTest, UnknownModelSkipsWithWarning) {
  DgdrSpec s = MakePlannerSpec();
  s.model = "nobody/unknown-model";
  auto r = BuildPlannerCurves(s, Disagg(), Options(), fs_, log_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_NE(r->skipped.find("performance engine unavailable"), std::string::npos);
}

// ---- numpy loads what the stage wrote (skipped without python3-numpy) ---------------------------

TEST(CurvesNumpyTest, NumpyLoadsTheWrittenFiles) {
  std::string python;
  for (const char* py : {"python3", "/usr/bin/python3"}) {
    if (std::system((std::string(py) + " -c \"import numpy\" >/dev/null 2>&1").c_str()) == 0) {
      python = py;
      break;
    }
  }
  if (python.empty())
    GTEST_SKIP() << "python3 with numpy not installed (Debian: apt-get install python3-numpy); skipping";
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("dyprof_curves_" + std::to_string(::getpid()));
  PosixFileSystem fs;
  Logger log;
  log.SetStderr(false);
  CurveOptions o;
  o.output_dir = dir.string();
  o.max_context_length = 40960;
  auto r = BuildPlannerCurves(MakePlannerSpec(), Disagg(), o, fs, log);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string script = (dir / "check.py").string();
  ASSERT_TRUE(fs.WriteFileAtomic(script,
                                 "import numpy as np, sys\n"
                                 "for sub in ('selected_prefill_interpolation', 'selected_decode_interpolation'):\n"
                                 "    d = np.load(sys.argv[1] + '/' + sub + '/raw_data.npz')\n"
                                 "    print(sub, ' '.join(f'{k}:{d[k].dtype.str}:{d[k].shape}' for k in d.files))\n"
                                 "d = np.load(sys.argv[1] + '/selected_decode_interpolation/raw_data.npz')\n"
                                 "assert 0 < d['x_kv_usage'].max() <= 1\n"
                                 "print(int(d['max_kv_tokens'][0]))\n")
                  .ok());
  std::string out;
  FILE* p = popen((python + " " + script + " " + dir.string() + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  size_t np = r->decode->kv_usage.size();
  EXPECT_EQ(out, fmt::format("selected_prefill_interpolation prefill_isl:<f8:(17,) prefill_ttft:<f8:(17,) "
                             "prefill_thpt_per_gpu:<f8:(17,)\n"
                             "selected_decode_interpolation x_kv_usage:<f8:({0},) y_context_length:<f8:({0},) "
                             "z_itl:<f8:({0},) z_thpt_per_gpu:<f8:({0},) max_kv_tokens:<i8:(1,)\n{1}\n",
                             np, r->decode->max_kv_tokens));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dyprof

#include "perf/fit_tables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dyprof {
namespace {

constexpr char kFit[] = R"({
  "schema": "dynamo-profiler/perf-fit/1", "system": "toy",
  "peaks": {"mem_bw": 1e12, "bf16_flops": 1e14},
  "backends": {"vllm": {
    "gemm": {"bfloat16": {"axes": ["m","n","k"], "nodes": [[0, 2], [10], [10]], "eff": [0.25, 1.0], "floor_us": 2}},
    "custom_allreduce": {"graph": {"2": {"log2_bytes": [10, 20], "us": [10, 1000]}}}
  }},
  "nccl": {"all_gather|half": {"8": {"log2_bytes": [10], "us": [20]}}}
})";

TEST(FitTablesTest, GridInterpolatesLnEffOverLog2Axes) {
  auto t = FitTables::Parse(kFit);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const EffGrid* g = (*t)->Grid("vllm", "gemm", "bfloat16");
  ASSERT_NE(g, nullptr);
  double at0[3] = {1, 1024, 1024};
  double mid[3] = {2, 1024, 1024};   // log2 m = 1: halfway → eff = exp((ln .25 + ln 1)/2) = 0.5
  double past[3] = {64, 1024, 1024}; // clamped at the last node
  EXPECT_NEAR(g->Eff(at0), 0.25, 1e-12);
  EXPECT_NEAR(g->Eff(mid), 0.5, 1e-12);
  EXPECT_NEAR(g->Eff(past), 1.0, 1e-12);
  EXPECT_NEAR(g->LatencyMs(1.0, mid), 2.0, 1e-12);
  EXPECT_NEAR(g->LatencyMs(1e-6, mid), 0.002, 1e-12);  // floor
  // Other backends fall back to the one present.
  EXPECT_EQ((*t)->Grid("sglang", "gemm", "bfloat16"), g);
  EXPECT_EQ((*t)->Grid("vllm", "gemm", "fp8"), nullptr);
}

TEST(FitTablesTest, CurvesLogLogAndLinearBeyondLastKnot) {
  auto t = FitTables::Parse(kFit);
  ASSERT_TRUE(t.ok());
  const CommCurve* c = (*t)->CustomAllReduce("trtllm", 2);
  ASSERT_NE(c, nullptr);
  EXPECT_NEAR(c->LatencyMs(512), 0.010, 1e-12);              // below: first knot
  EXPECT_NEAR(c->LatencyMs(std::exp2(15)), 0.100, 1e-9);     // halfway in log-log: sqrt(10·1000) µs
  EXPECT_NEAR(c->LatencyMs(std::exp2(21)), 2.0, 1e-9);       // beyond: linear in bytes
  EXPECT_EQ((*t)->CustomAllReduce("vllm", 4), nullptr);
  ASSERT_NE((*t)->Nccl("all_gather|half", 8), nullptr);
  EXPECT_EQ((*t)->NcclMaxGpus("all_gather|half"), 8);
}

TEST(FitTablesTest, RejectsMalformed) {
  EXPECT_FALSE(FitTables::Parse("{").ok());
  EXPECT_FALSE(FitTables::Parse(R"({"backends":{"vllm":{"gemm":{"bfloat16":{"nodes":[[0,1]],"eff":[1]}}}}})").ok());
}

TEST(FitTablesTest, KernelSourcesNameTheGridOfAKernelWhicheverBackendMeasuredIt) {
  auto t = FitTables::Parse(R"({"backends":{
    "sglang":{"moe":{"fp8_block|gated|balanced":{"nodes":[[0]],"eff":[0.1],
                                                 "kernel_sources":["sglang_flashinfer_trtllm_moe"]}}},
    "trtllm":{"moe":{"fp8_block|gated|balanced":{"nodes":[[0]],"eff":[0.5],"kernel_sources":["deepgemm"]},
                     "fp8|gated|balanced":{"nodes":[[0]],"eff":[0.4]}}}}})");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const EffGrid* deepgemm = (*t)->GridOfKernel("moe", "fp8_block|gated|balanced", "deepgemm");
  ASSERT_NE(deepgemm, nullptr);
  EXPECT_EQ(deepgemm, (*t)->Grid("trtllm", "moe", "fp8_block|gated|balanced"));
  EXPECT_EQ(deepgemm->kernel_sources, std::vector<std::string>{"deepgemm"});
  EXPECT_EQ((*t)->GridOfKernel("moe", "fp8_block|gated|balanced", "sglang_flashinfer_trtllm_moe"),
            (*t)->Grid("sglang", "moe", "fp8_block|gated|balanced"));
  EXPECT_EQ((*t)->GridOfKernel("moe", "fp8_block|gated|power_law_1.2", "deepgemm"), nullptr);  // no such key
  EXPECT_EQ((*t)->GridOfKernel("moe", "fp8|gated|balanced", "deepgemm"), nullptr);  // kernels not recorded
  EXPECT_EQ((*t)->GridOfKernel("gemm", "fp8_block|gated|balanced", "deepgemm"), nullptr);
  // The list must be a list of names.
  auto with_sources = [](const std::string& sources) {
    return FitTables::Parse(R"({"backends":{"trtllm":{"moe":{"k":{"nodes":[[0]],"eff":[1],"kernel_sources":)" +
                            sources + "}}}}}");
  };
  EXPECT_TRUE(with_sources(R"(["deepgemm"])").ok());
  EXPECT_FALSE(with_sources(R"("deepgemm")").ok());
  EXPECT_FALSE(with_sources("[1]").ok());
}

TEST(FitTablesTest, NearestMeasuredSystem) {
  EXPECT_EQ(NearestMeasuredSystem(100, 8e12), "b200_sxm");
  EXPECT_EQ(NearestMeasuredSystem(90, 2e12), "h100_sxm");
  EXPECT_EQ(NearestMeasuredSystem(90, 4.8e12), "h200_sxm");
  EXPECT_EQ(NearestMeasuredSystem(89, 0.3e12), "l40s");
  EXPECT_EQ(NearestMeasuredSystem(80, 2e12), "a100_sxm");
}

}  // namespace
}  // namespace dyprof

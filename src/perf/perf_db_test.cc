#include "perf/perf_db.h"

#include <gtest/gtest.h>

#include <string>

namespace dyprof {
namespace {

// Two GEMM sites; m = 1 measured by two kernel sources (averaged), m = 4 and 8 by one.
constexpr char kGemm[] =
    "framework,kernel_source,gemm_dtype,m,n,k,latency\n"
    "vllm,a,fp8,1,4096,1024,0.010\n"
    "vllm,b,fp8,1,4096,1024,0.014\n"
    "vllm,a,fp8,4,4096,1024,0.020\n"
    "vllm,a,fp8,8,4096,1024,0.040\n"
    "vllm,a,bfloat16,1,4096,1024,0.030\n";

constexpr char kAllReduce[] =
    "framework,backend,num_gpus,message_size,latency\n"
    "vllm,vllm,2,1024,0.010\n"
    "vllm,vllm,2,4096,0.030\n"
    "vllm,vllm_eager,2,1024,0.500\n";  // eager replays are not what decode runs: dropped

constexpr char kGenAttn[] =
    "framework,batch_size,isl,step,num_heads,num_key_value_heads,head_dim,kv_cache_dtype,window_size,latency\n"
    "vllm,1,1000,0,32,8,128,fp8,0,0.010\n"
    "vllm,1,3000,0,32,8,128,fp8,0,0.030\n"
    "vllm,4,1000,0,32,8,128,fp8,0,0.040\n"
    "vllm,4,3000,0,32,8,128,fp8,0,0.080\n"
    "vllm,1,1000,0,32,8,128,fp8,512,9.000\n";  // sliding-window rows are not full attention: dropped

// One expert shape (hidden 1024, inter 512, top-2 of 8, moe tp 1, ep 2), two kernel sources and two
// routing distributions, plus a non-gated kernel of the same shape.
constexpr char kMoe[] =
    "framework,kernel_source,moe_dtype,num_tokens,hidden_size,inter_size,topk,num_experts,moe_tp_size,moe_ep_size,"
    "distribution,latency\n"
    "sglang,triton,fp8,1,1024,512,2,8,1,2,power_law_1.2,0.020\n"
    "sglang,triton,fp8,1,1024,512,2,8,1,2,power_law_1.2,0.022\n"
    "sglang,cutlass,fp8,1,1024,512,2,8,1,2,power_law_1.2,0.030\n"
    "sglang,triton,fp8,16,1024,512,2,8,1,2,power_law_1.2,0.060\n"
    "sglang,cutlass,fp8,16,1024,512,2,8,1,2,power_law_1.2,0.050\n"
    "sglang,triton,fp8,1,1024,512,2,8,1,2,balanced,0.900\n"
    "sglang,triton,fp8,4,1024,512,2,8,1,4,balanced,0.007\n"
    "sglang,triton_nongated,fp8,1,1024,512,2,8,1,2,power_law_1.2,0.300\n";

std::shared_ptr<const PerfDb> Db() {
  auto db = PerfDb::FromCsv(kGemm, kAllReduce, kGenAttn, kMoe);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? *db : nullptr;
}

TEST(PerfDbTest, GemmAveragesKernelSourcesAndInterpolatesOverM) {
  auto db = Db();
  ASSERT_NE(db, nullptr);
  EXPECT_DOUBLE_EQ(db->Gemm("fp8", 1, 4096, 1024), 0.012);   // (0.010 + 0.014) / 2
  EXPECT_DOUBLE_EQ(db->Gemm("fp8", 6, 4096, 1024), 0.030);   // halfway between m = 4 and m = 8
  EXPECT_DOUBLE_EQ(db->Gemm("fp8", 16, 4096, 1024), 0.080);  // beyond: per-row cost of m = 8 held
  EXPECT_DOUBLE_EQ(db->Gemm("bfloat16", 1, 4096, 1024), 0.030);
  EXPECT_LT(db->Gemm("fp8", 1, 4096, 2048), 0);  // no such (n, k) site
  EXPECT_LT(db->Gemm("nvfp4", 1, 4096, 1024), 0);
}

TEST(PerfDbTest, AllReduceUsesGraphRowsAndScalesBeyondTheCurve) {
  auto db = Db();
  ASSERT_NE(db, nullptr);
  EXPECT_DOUBLE_EQ(db->AllReduce(2, 1024), 0.010);
  EXPECT_DOUBLE_EQ(db->AllReduce(2, 2560), 0.020);
  EXPECT_DOUBLE_EQ(db->AllReduce(2, 8192), 0.060);
  EXPECT_LT(db->AllReduce(4, 1024), 0);
}

TEST(PerfDbTest, GenerationAttentionIsBilinearOverBatchAndKvLength) {
  auto db = Db();
  ASSERT_NE(db, nullptr);
  EXPECT_DOUBLE_EQ(db->GenAttention("fp8", 32, 8, 128, 1, 2000), 0.020);
  // batch 2.5 halfway between batch 1 (0.020 at kv 2000) and batch 4 (0.060).
  EXPECT_DOUBLE_EQ(db->GenAttention("fp8", 32, 8, 128, 2.5, 2000), 0.040);
  EXPECT_DOUBLE_EQ(db->GenAttention("fp8", 32, 8, 128, 8, 1000), 0.080);  // beyond batch 4: ∝ batch
  EXPECT_LT(db->GenAttention("bfloat16", 32, 8, 128, 1, 2000), 0);
}

TEST(PerfDbTest, MoeTakesTheFastestKernelOfThePreferredDistribution) {
  auto db = Db();
  ASSERT_NE(db, nullptr);
  // 1 token: triton's two repeats average 0.021, faster than cutlass; balanced (0.9) is not used
  // while power_law_1.2 is measured.
  EXPECT_DOUBLE_EQ(db->Moe("fp8", true, 1, 1024, 512, 2, 8, 1, 2), 0.021);
  // 16 tokens: cutlass is the faster kernel there.
  EXPECT_DOUBLE_EQ(db->Moe("fp8", true, 16, 1024, 512, 2, 8, 1, 2), 0.050);
  EXPECT_NEAR(db->Moe("fp8", true, 8.5, 1024, 512, 2, 8, 1, 2), 0.0355, 1e-12);
  EXPECT_DOUBLE_EQ(db->Moe("fp8", true, 32, 1024, 512, 2, 8, 1, 2), 0.100);  // beyond: ∝ tokens
  EXPECT_DOUBLE_EQ(db->Moe("fp8", false, 1, 1024, 512, 2, 8, 1, 2), 0.300);  // the non-gated kernel
  // ep 4 has only balanced rows: the fallback distribution.
  EXPECT_DOUBLE_EQ(db->Moe("fp8", true, 4, 1024, 512, 2, 8, 1, 4), 0.007);
  EXPECT_LT(db->Moe("fp8", true, 1, 1024, 512, 2, 8, 2, 1), 0);  // shape not measured
  EXPECT_LT(db->Moe("nvfp4", true, 1, 1024, 512, 2, 8, 1, 2), 0);
}

TEST(PerfDbTest, MissingColumnsAndEmptyTablesAreErrors) {
  auto bad = PerfDb::FromCsv("", "", "", "moe_dtype,num_tokens,latency\nfp8,1,0.1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("moe_perf: missing column hidden_size"), std::string::npos)
      << bad.status().message();
  auto none = PerfDb::FromCsv("", "", "", "");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace dyprof

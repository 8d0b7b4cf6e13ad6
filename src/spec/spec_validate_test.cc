#include "spec/spec_validate.h"

#include <gtest/gtest.h>

namespace dyprof {
namespace {

DgdrSpec ValidSpec() {
  DgdrSpec s;
  s.model = "Qwen/Qwen3-32B";
  s.image = "nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.0.1";
  s.hardware = HardwareSpec{};
  s.hardware->gpu_sku = "h200_sxm";
  s.hardware->num_gpus_per_node = 8;
  return s;
}

TEST(ValidateDgdrSpec, ValidSpecPassesAndGetsDefaults) {
  DgdrSpec s = ValidSpec();
  ASSERT_TRUE(ValidateDgdrSpec(s).ok());
  EXPECT_EQ(s.workload->isl, 4000);
  EXPECT_EQ(*s.sla->ttft_ms, 2000.0);
}

struct Case {
  const char* name;
  void (*mutate)(DgdrSpec&);
  const char* message;
};

const Case kCases[] = {
    {"image", [](DgdrSpec& s) { s.image.clear(); }, "'image' is required in the DGDR spec."},
    {"hardware", [](DgdrSpec& s) { s.hardware.reset(); }, "'hardware' is required in the DGDR spec."},
    {"gpuSku", [](DgdrSpec& s) { s.hardware->gpu_sku.reset(); }, "'hardware.gpuSku' is required in the DGDR spec."},
    {"gpuSkuEmpty", [](DgdrSpec& s) { s.hardware->gpu_sku = ""; }, "'hardware.gpuSku' is required in the DGDR spec."},
    {"numGpusPerNode", [](DgdrSpec& s) { s.hardware->num_gpus_per_node.reset(); },
     "'hardware.numGpusPerNode' must be a positive integer."},
    {"numGpusPerNodeZero", [](DgdrSpec& s) { s.hardware->num_gpus_per_node = 0; },
     "'hardware.numGpusPerNode' must be a positive integer."},
    {"workload",
     [](DgdrSpec& s) {
       s.workload = WorkloadSpec{};
       s.workload->concurrency = 1;
       s.workload->request_rate = 1;
     },
     "Only one of 'concurrency' or 'requestRate' can be provided, not both."},
    {"slaPositive",
     [](DgdrSpec& s) {
       s.sla = SlaSpec{};
       s.sla->ttft_ms = -5;
     },
     "SLA 'ttft' must be positive (got -5.0)."},
    {"slaBoth",
     [](DgdrSpec& s) {
       s.sla = SlaSpec{};
       s.sla->itl_ms.reset();
     },
     "Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec."},
    {"thoroughAuto", [](DgdrSpec& s) { s.search_strategy = SearchStrategy::kThorough; },
     "THOROUGH search strategy does not support 'auto' backend. Please specify a concrete backend (trtllm, vllm, "
     "sglang)."},
};

TEST(ValidateDgdrSpec, EachRuleHasItsReferenceMessage) {
  for (const auto& c : kCases) {
    DgdrSpec s = ValidSpec();
    c.mutate(s);
    Status st = ValidateDgdrSpec(s);
    EXPECT_EQ(st.code(), StatusCode::kInvalidSpec) << c.name;
    EXPECT_EQ(st.message(), c.message) << c.name;
  }
}

TEST(ValidateDgdrSpec, ReportsAllProblemsInReferenceOrder) {
  DgdrSpec s = ValidSpec();
  s.image.clear();
  s.hardware.reset();
  s.search_strategy = SearchStrategy::kThorough;
  Status st = ValidateDgdrSpec(s);
  EXPECT_EQ(st.message(),
            "'image' is required in the DGDR spec.; 'hardware' is required in the DGDR spec.; THOROUGH search strategy "
            "does not support 'auto' backend. Please specify a concrete backend (trtllm, vllm, sglang).");
}

TEST(ValidateDgdrSpec, ThoroughWithConcreteBackendPasses) {
  DgdrSpec s = ValidSpec();
  s.search_strategy = SearchStrategy::kThorough;
  s.backend = Backend::kSglang;
  EXPECT_TRUE(ValidateDgdrSpec(s).ok());
}

TEST(FeatureWarnings, UnsupportedModelWithThroughputPlannerWarns) {
  DgdrSpec s = ValidSpec();
  s.features.planner = PlannerSpec{};
  s.features.planner->enable_throughput_scaling = true;
  auto w = FeatureWarnings(s, /*simulation_supported=*/false);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("AIC does not support"), std::string::npos);
  EXPECT_NE(w[0].find("AIC core fallback"), std::string::npos);
  EXPECT_TRUE(FeatureWarnings(s, true).empty());
  s.features.planner->sweep_mode = SweepMode::kThorough;
  EXPECT_TRUE(FeatureWarnings(s, false).empty());
}

}  // namespace
}  // namespace dyprof

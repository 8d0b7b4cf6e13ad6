#include "spec/spec_parser.h"

#include <gtest/gtest.h>

namespace dyprof {
namespace {

Result<ParsedSpec> ParseText(const std::string& yaml) {
  auto doc = ParseYaml(yaml);
  if (!doc.ok()) return doc.status();
  return ParseDgdrSpec(*doc);
}

TEST(SpecParser, DefaultsMatchReference) {
  auto r = ParseText("model: Qwen/Qwen3-0.6B\nimage: img:1\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const DgdrSpec& s = r->spec;
  EXPECT_EQ(s.backend, Backend::kAuto);
  EXPECT_EQ(s.search_strategy, SearchStrategy::kRapid);
  EXPECT_TRUE(s.auto_apply);
  EXPECT_EQ(s.WorkloadOrDefault().isl, 4000);
  EXPECT_EQ(s.WorkloadOrDefault().osl, 1000);
  EXPECT_EQ(*s.SlaOrDefault().ttft_ms, 2000.0);
  EXPECT_EQ(*s.SlaOrDefault().itl_ms, 30.0);
  EXPECT_FALSE(r->whole_dgdr);
}

TEST(SpecParser, AcceptsWholeDgdrObject) {
  auto r = ParseText(
      "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeploymentRequest\nmetadata: {name: my-req}\n"
      "spec: {model: m, image: i, backend: SGLang}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->whole_dgdr);
  EXPECT_EQ(*r->spec.dgdr_name, "my-req");
  EXPECT_EQ(r->spec.backend, Backend::kSglang);  // lower-cased
}

TEST(SpecParser, ParsesEveryField) {
  auto r = ParseText(R"(
model: deepseek-ai/DeepSeek-R1
backend: trtllm
image: nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.0.1
runtimeVersionOverride: 1.2.3
modelCache: {pvcName: cache, pvcModelPath: ds, pvcMountPath: /m}
hardware: {gpuSku: H200_SXM, vramMb: 143771, totalGpus: 16, numGpusPerNode: 8, interconnect: nvlink, rdma: true}
workload: {isl: 8000, osl: 500, requestRate: 2.5}
sla: {ttft: 500, itl: 20}
features:
  planner: {optimization_target: sla, enable_throughput_scaling: true, pre_deployment_sweeping_mode: thorough}
  mocker: {enabled: false}
  kvRouter: {enabled: true}
searchStrategy: thorough
autoApply: false
overrides:
  profilingJob: {template: {spec: {tolerations: [{key: a, operator: Exists}]}}}
  dgd: {apiVersion: nvidia.com/v1alpha1, kind: DynamoGraphDeployment, metadata: {name: x}}
)");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const DgdrSpec& s = r->spec;
  EXPECT_EQ(s.backend, Backend::kTrtllm);
  EXPECT_EQ(*s.runtime_version_override, "1.2.3");
  EXPECT_EQ(*s.model_cache.pvc_name, "cache");
  EXPECT_EQ(s.model_cache.MountPathOrDefault(), "/m");
  EXPECT_EQ(*s.hardware->gpu_sku, "H200_SXM");
  EXPECT_EQ(*s.hardware->vram_mb, 143771);
  EXPECT_EQ(*s.hardware->total_gpus, 16);
  EXPECT_EQ(*s.hardware->rdma, true);
  EXPECT_EQ(s.workload->isl, 8000);
  EXPECT_EQ(*s.workload->request_rate, 2.5);
  EXPECT_EQ(*s.sla->ttft_ms, 500);
  EXPECT_TRUE(s.sla->ttft_set_explicitly);
  ASSERT_TRUE(s.features.planner.has_value());
  EXPECT_TRUE(s.features.planner->enable_throughput_scaling);
  EXPECT_EQ(s.features.planner->sweep_mode, SweepMode::kThorough);
  EXPECT_EQ(*s.features.kv_router_enabled, true);
  EXPECT_EQ(s.search_strategy, SearchStrategy::kThorough);
  EXPECT_FALSE(s.auto_apply);
  EXPECT_TRUE(s.overrides.dgd.has_value());
  EXPECT_TRUE(r->warnings.empty());
}

TEST(SpecParser, WorkloadConcurrencyAndRequestRateExclusive) {
  auto r = ParseText("model: m\nimage: i\nworkload: {concurrency: 4, requestRate: 2}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Only one of 'concurrency' or 'requestRate' can be provided, not both.");
}

TEST(SpecParser, SlaMustBePositive) {
  auto r = ParseText("model: m\nimage: i\nsla: {ttft: -5, itl: 0}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "ttft must be positive.; itl must be positive.");
}

TEST(SpecParser, E2eLatencyNullsTtftAndItl) {
  auto r = ParseText("model: m\nimage: i\nsla: {e2eLatency: 9000}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->spec.sla->ttft_ms.has_value());
  EXPECT_FALSE(r->spec.sla->itl_ms.has_value());
  EXPECT_EQ(*r->spec.sla->e2e_latency_ms, 9000);
}

TEST(SpecParser, E2eLatencyWinsOverExplicitTargets) {
  auto r = ParseText("model: m\nimage: i\nsla: {e2eLatency: 9000, ttft: 100, itl: 10}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->spec.sla->ttft_ms.has_value());
}

TEST(SpecParser, NullTtftWithoutE2eIsRejected) {
  auto r = ParseText("model: m\nimage: i\nsla: {ttft: null, itl: 10}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec.");
}

TEST(SpecParser, OnlyItlKeepsDefaultTtft) {
  auto r = ParseText("model: m\nimage: i\nsla: {itl: 50.0}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->spec.sla->ttft_ms, 2000.0);
  EXPECT_FALSE(r->spec.sla->ttft_set_explicitly);
}

TEST(SpecParser, OptimizationType) {
  auto r = ParseText("model: m\nimage: i\nsla: {optimizationType: latency}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->spec.sla->optimization_type, OptimizationType::kLatency);
}

TEST(SpecParser, TypeErrorsNameKeyPathAndValue) {
  auto r = ParseText("model: m\nimage: i\nworkload: {isl: abc}\nhardware: {totalGpus: [1]}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "hardware.totalGpus: expected an integer, found a list ([1]); "
            "workload.isl: expected an integer, found a string (\"abc\")");
}

TEST(SpecParser, WholeDgdrPathsCarrySpecPrefix) {
  auto r = ParseText("apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeploymentRequest\nspec: {model: m, workload: {osl: 1.5}}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "spec.workload.osl: expected an integer, found a number (1.5)");
}

TEST(SpecParser, UnknownEnumSuggestsClosest) {
  auto r = ParseText("model: m\nimage: i\nbackend: vlm\nsearchStrategy: fast\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "backend: expected one of auto, sglang, trtllm, vllm, found 'vlm' (did you mean 'vllm'?); "
            "searchStrategy: expected one of rapid, thorough, found 'fast'");
}

TEST(SpecParser, UnknownKeysWarnWithDidYouMean) {
  auto r = ParseText("model: m\nimage: i\nworkload: {isll: 10}\nhardwre: {}\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_EQ(r->warnings[0], "unknown key 'workload.isll' ignored (did you mean 'workload.isl'?)");
  EXPECT_EQ(r->warnings[1], "unknown key 'hardwre' ignored (did you mean 'hardware'?)");
}

TEST(SpecParser, NonFiniteNumbersRejected) {
  auto r = ParseText("model: m\nimage: i\nsla: {ttft: .inf, itl: .nan}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "sla.ttft: expected a finite number, found inf; sla.itl: expected a finite number, found nan; "
            "Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec.");
}

TEST(SpecParser, MockerWithSweepNoneRejected) {
  auto r = ParseText(
      "model: m\nimage: i\nfeatures:\n  planner: {pre_deployment_sweeping_mode: none}\n  mocker: {enabled: true}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pre_deployment_sweeping_mode cannot be 'none' when mocker is enabled."),
            std::string::npos);
}

TEST(SpecParser, PlannerOptimizationTargetForcesLoadScaling) {
  auto r = ParseText("model: m\nimage: i\nfeatures: {planner: {enable_throughput_scaling: true}}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->spec.features.planner->enable_throughput_scaling);
  EXPECT_TRUE(r->spec.features.planner->enable_load_scaling);
  EXPECT_FALSE(r->spec.NeedsProfileData());
}

TEST(SpecParser, OlderTypedPlannerForm) {
  auto r = ParseText(
      "model: m\nimage: i\nfeatures: {planner: {enabled: true, plannerPreDeploymentSweeping: Thorough, "
      "plannerArgsList: [--optimization-target, sla, --enable-throughput-scaling]}}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->spec.features.planner.has_value());
  EXPECT_EQ(r->spec.features.planner->sweep_mode, SweepMode::kThorough);
  EXPECT_TRUE(r->spec.features.planner->enable_throughput_scaling);
  auto off = ParseText("model: m\nimage: i\nfeatures: {planner: {enabled: false}}\n");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->spec.features.planner.has_value());
}

TEST(SpecParser, RejectsNonMappingSpec) {
  auto r = ParseText("- a\n- b\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "spec: expected a mapping, found a list ([\"a\",\"b\"])");
}

TEST(SpecParser, RuntimeVersionOverridePattern) {
  auto r = ParseText("model: m\nimage: i\nruntimeVersionOverride: v1.0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "runtimeVersionOverride: expected a version like 1.2.3, found 'v1.0'");
}

TEST(LoadConfigDocument, InlineJsonAndNeither) {
  MemFileSystem fs;
  auto j = LoadConfigDocument(R"({"model": "m"})", fs);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["model"], "m");
  auto bad = LoadConfigDocument("not-a-file.yaml", fs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--config value is neither a valid file path nor valid JSON. Pass a path to a .yaml/.yml/.json spec file "
            "or an inline JSON object.");
}

TEST(LoadConfigDocument, FileBySuffix) {
  MemFileSystem fs;
  fs.WriteFileAtomic("s.yaml", "model: m\n");
  fs.WriteFileAtomic("s.json", "{\"model\": \"j\"}");
  fs.WriteFileAtomic("s.txt", "model: t\n");
  fs.WriteFileAtomic("broken.yaml", "model: [unclosed\n");
  EXPECT_EQ((*LoadConfigDocument("s.yaml", fs))["model"], "m");
  EXPECT_EQ((*LoadConfigDocument("s.json", fs))["model"], "j");
  EXPECT_EQ((*LoadConfigDocument("s.txt", fs))["model"], "t");
  auto broken = LoadConfigDocument("broken.yaml", fs);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().rfind("broken.yaml: invalid YAML at line ", 0), 0u) << broken.status().message();
}

TEST(PickingMode, FollowsReferenceOrder) {
  DgdrSpec s;
  EXPECT_EQ(DeterminePickingMode(s), PickingMode::kDefault);
  s.workload = WorkloadSpec{};
  s.workload->request_rate = 3;
  EXPECT_EQ(DeterminePickingMode(s), PickingMode::kLoadMatch);
  s.features.planner = PlannerSpec{};
  EXPECT_EQ(DeterminePickingMode(s), PickingMode::kAutoscale);
}

}  // namespace
}  // namespace dyprof

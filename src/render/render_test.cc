#include "render/render.h"

#include <gtest/gtest.h>

#include "render/overrides.h"

namespace dyprof {
namespace {

DgdrSpec QwenSpec(Backend b = Backend::kVllm) {
  DgdrSpec s;
  s.model = "Qwen/Qwen3-32B";
  s.backend = b;
  s.image = "nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.0.1";
  s.hardware = HardwareSpec{};
  s.hardware->gpu_sku = "h200_sxm";
  s.hardware->num_gpus_per_node = 8;
  return s;
}

Decision Disagg(Backend b, int prefill_tp, int decode_tp) {
  Decision d;
  d.backend = b;
  d.disagg = true;
  d.prefill.split.tp = prefill_tp;
  d.decode.split.tp = decode_tp;
  return d;
}

RenderOptions Options(std::string name = "qwen") {
  RenderOptions o;
  o.dgdr_name = std::move(name);
  return o;
}

const Json* FindComponent(const Json& dgd, const std::string& name) {
  for (const auto& c : dgd["spec"]["components"])
    if (c["name"] == name) return &c;
  return nullptr;
}

TEST(ImageTest, ReplacesLastNameKeepingTagAndDigest) {
  EXPECT_EQ(DeriveBackendImage("nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.0.1", Backend::kVllm),
            "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.1");
  EXPECT_EQ(DeriveBackendImage("registry:5000/a/b/frontend@sha256:abc", Backend::kTrtllm),
            "registry:5000/a/b/tensorrtllm-runtime@sha256:abc");
  EXPECT_EQ(DerivePlannerImage("frontend:latest"), "dynamo-planner:latest");
  EXPECT_EQ(DeriveBackendImage("x/y/frontend", Backend::kSglang), "x/y/sglang-runtime");
}

TEST(NameGateTest, ExactErrorText) {
  Status st = CheckServiceNameLengths("a-very-long-dynamo-graph-request-name-dgd", "a-very-long-dynamo-graph-request-name",
                                      {"Frontend", "VllmPrefillWorker", "VllmDecodeWorker"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "DGD name 'a-very-long-dynamo-graph-request-name-dgd' (length 41) combined with service name(s) exceeds "
            "the 45-character pod-naming limit. Shorten the DGDR name 'a-very-long-dynamo-graph-request-name'. "
            "Violations: 'Frontend' (8): combined length 49; 'VllmPrefillWorker' (17): combined length 58; "
            "'VllmDecodeWorker' (16): combined length 57");
  EXPECT_TRUE(CheckServiceNameLengths("short-dgd", "short", {"VllmPrefillWorker"}).ok());
  // Exactly 45 passes.
  EXPECT_TRUE(CheckServiceNameLengths(std::string(35, 'a'), "x", {std::string(10, 'b')}).ok());
  EXPECT_FALSE(CheckServiceNameLengths(std::string(36, 'a'), "x", {std::string(10, 'b')}).ok());
}

TEST(NameGateTest, RenderFailsWithoutNameAndUsesOverrideName) {
  SequenceSuffixGenerator sfx;
  RenderOptions o;
  auto r = RenderDeployment(QwenSpec(), Disagg(Backend::kVllm, 1, 1), o, sfx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("DGDR_NAME"), std::string::npos);

  DgdrSpec s = QwenSpec();
  s.overrides.dgd = Json{{"metadata", {{"name", "my-dgd"}}}};
  auto r2 = RenderDeployment(s, Disagg(Backend::kVllm, 1, 1), o, sfx);
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(r2->Dgd()["metadata"]["name"], "my-dgd");

  auto r3 = RenderDeployment(QwenSpec(), Disagg(Backend::kVllm, 1, 1), Options(std::string(30, 'n')), sfx);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("'VllmPrefillWorker' (17): combined length 51"), std::string::npos);
}

TEST(RenderTest, MultinodeCapsGpusPerPod) {
  DgdrSpec s = QwenSpec(Backend::kSglang);
  Decision d = Disagg(Backend::kSglang, 1, 1);
  d.decode.split = {.tp = 1, .pp = 1, .dp = 16, .moe_tp = 1, .moe_ep = 16};
  SequenceSuffixGenerator sfx;
  auto r = RenderDeployment(s, d, Options(), sfx);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Json* dec = FindComponent(r->Dgd(), "decode");
  ASSERT_NE(dec, nullptr);
  EXPECT_EQ((*dec)["multinode"]["nodeCount"], 2);
  EXPECT_EQ((*dec)["podTemplate"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], "8");
  const Json* pre = FindComponent(r->Dgd(), "prefill");
  EXPECT_FALSE(pre->contains("multinode"));
}

TEST(RenderTest, PlannerConfigMapFirstAndEngineGpus) {
  DgdrSpec s = QwenSpec();
  PlannerSpec p;
  p.raw = {{"optimization_target", "sla"}, {"enable_throughput_scaling", true}, {"enable_load_scaling", false}};
  p.optimization_target = "sla";
  p.enable_throughput_scaling = true;
  p.enable_load_scaling = false;
  s.features.planner = p;
  s.sla = SlaSpec{};
  s.sla->itl_ms = 40.0;
  s.sla->itl_set_explicitly = true;
  Decision d = Disagg(Backend::kVllm, 2, 4);
  d.decode.split.dp = 2;
  SequenceSuffixGenerator sfx;
  auto r = RenderDeployment(s, d, Options(), sfx);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->documents.size(), 2u);
  EXPECT_EQ(r->documents[0]["kind"], "ConfigMap");
  EXPECT_EQ(r->documents[0]["metadata"]["name"], "planner-config-0a00");
  auto cfg = ParseJson(r->documents[0]["data"]["planner_config.json"].get<std::string>());
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ((*cfg)["prefill_engine_num_gpu"], 2);
  EXPECT_EQ((*cfg)["decode_engine_num_gpu"], 8);
  EXPECT_EQ((*cfg)["ttft_ms"], 2000.0);  // both copied when either is explicit
  EXPECT_EQ((*cfg)["itl_ms"], 40.0);
  EXPECT_EQ((*cfg)["profile_results_dir"], "/workspace/profiling_results");
  EXPECT_EQ((*cfg)["aic_interpolation"]["prefill_pick"]["tp"], 2);
  EXPECT_TRUE(r->write_picked);
  EXPECT_FALSE(FindComponent(r->picked_dgd, "Planner"));
  const Json* planner = FindComponent(r->Dgd(), "Planner");
  ASSERT_NE(planner, nullptr);
  EXPECT_EQ((*planner)["podTemplate"]["spec"]["containers"][0]["image"], "nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.0.1");
  EXPECT_TRUE(FindComponent(r->Dgd(), "VllmPrefillWorker")->contains("scalingAdapter"));
}

TEST(RenderTest, AdvisoryPlannerHasNoScalingAdapters) {
  DgdrSpec s = QwenSpec();
  PlannerSpec p;
  p.advisory = true;
  s.features.planner = p;
  SequenceSuffixGenerator sfx;
  auto r = RenderDeployment(s, Disagg(Backend::kVllm, 1, 1), Options(), sfx);
  ASSERT_TRUE(r.ok());
  for (const auto& c : r->Dgd()["spec"]["components"]) EXPECT_FALSE(c.contains("scalingAdapter")) << c["name"];
}

TEST(RenderTest, ApiVersionsCarryTheSameModel) {
  DgdrSpec s = QwenSpec();
  s.model_cache.pvc_name = "model-cache";
  s.model_cache.pvc_model_path = "/qwen3-32b";
  s.model_cache.pvc_mount_path = "/opt/models/";
  Decision d = Disagg(Backend::kVllm, 2, 4);
  auto model = BuildPickedDeployment(s, d, Options());
  ASSERT_TRUE(model.ok());
  Json beta = EmitV1beta1(*model);
  Json alpha = EmitV1alpha1(*model);
  ASSERT_EQ(beta["spec"]["components"].size(), alpha["spec"]["services"].size());
  EXPECT_EQ(alpha["spec"]["pvcs"], Json::parse(R"([{"name":"model-cache","create":false}])"));
  for (const auto& c : beta["spec"]["components"]) {
    const Json& svc = alpha["spec"]["services"][c["name"].get<std::string>()];
    const Json& main = c["podTemplate"]["spec"]["containers"][0];
    EXPECT_EQ(main["args"], svc["extraPodSpec"]["mainContainer"]["args"]);
    EXPECT_EQ(main["image"], svc["extraPodSpec"]["mainContainer"]["image"]);
    EXPECT_EQ(c["replicas"], svc["replicas"]);
    EXPECT_EQ(main["volumeMounts"][0]["mountPath"], svc["volumeMounts"][0]["mountPoint"]);
  }
  const Json& args = (*FindComponent(beta, "VllmDecodeWorker"))["podTemplate"]["spec"]["containers"][0]["args"];
  EXPECT_EQ(args[1], "/opt/models/qwen3-32b");
  EXPECT_EQ(args[3], "Qwen/Qwen3-32B");
}

TEST(OverridesTest, LegacyServiceOverrideAppendsArgsOnV1beta1) {
  auto model = BuildPickedDeployment(QwenSpec(Backend::kSglang), Disagg(Backend::kSglang, 1, 1), Options());
  ASSERT_TRUE(model.ok());
  Json dgd = EmitV1beta1(*model);
  size_t before = (*FindComponent(dgd, "decode"))["podTemplate"]["spec"]["containers"][0]["args"].size();
  Json ov = Json::parse(R"({"spec":{"services":{
      "decode":{"sharedMemory":{"size":"80Gi"},"resources":{"limits":{"gpu":"2"}},
                "extraPodSpec":{"mainContainer":{"workingDir":"/workspace","args":["--x","1"]},"nodeSelector":{"a":"b"}}},
      "ghost":{"replicas":2}}}})");
  std::vector<std::string> warnings;
  ASSERT_TRUE(ApplyDgdOverrides(dgd, ov, &warnings).ok());
  const Json& dec = *FindComponent(dgd, "decode");
  const Json& main = dec["podTemplate"]["spec"]["containers"][0];
  EXPECT_EQ(main["args"].size(), before + 2);
  EXPECT_EQ(main["args"].back(), "1");
  EXPECT_EQ(main["workingDir"], "/workspace");
  EXPECT_EQ(main["resources"]["limits"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(dec["sharedMemorySize"], "80Gi");
  EXPECT_EQ(dec["podTemplate"]["spec"]["nodeSelector"]["a"], "b");
  EXPECT_EQ(dgd["apiVersion"], "nvidia.com/v1beta1");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("'ghost'"), std::string::npos);
  EXPECT_EQ(FindComponent(dgd, "ghost"), nullptr);
}

TEST(OverridesTest, V1beta1OverrideRejectedOnV1alpha1AndKindNeverChanges) {
  auto model = BuildPickedDeployment(QwenSpec(), Disagg(Backend::kVllm, 1, 1), Options());
  Json alpha = EmitV1alpha1(*model);
  Json ov = Json::parse(R"({"apiVersion":"nvidia.com/v1beta1","kind":"Other","spec":{"components":[{"name":"Frontend","replicas":2}]}})");
  EXPECT_FALSE(ApplyDgdOverrides(alpha, ov, nullptr).ok());
  Json beta = EmitV1beta1(*model);
  ASSERT_TRUE(ApplyDgdOverrides(beta, ov, nullptr).ok());
  EXPECT_EQ(beta["kind"], "DynamoGraphDeployment");
  EXPECT_EQ((*FindComponent(beta, "Frontend"))["replicas"], 2);
}

TEST(OverridesTest, WrongTypesInsideOverridesAreSkippedWithAWarning) {
  auto model = BuildPickedDeployment(QwenSpec(), Disagg(Backend::kVllm, 1, 1), Options());
  ASSERT_TRUE(model.ok());
  Json beta = EmitV1beta1(*model);
  const Json before = beta;
  // A component named by a number, a non-mapping entry, a scalingAdapter whose enabled is a string.
  Json ov = Json::parse(R"({"spec":{"components":[{"name":5,"replicas":3},"Frontend"],
                                    "services":{"Frontend":{"scalingAdapter":{"enabled":"yes"}}}}})");
  std::vector<std::string> warnings;
  Status st = ApplyDgdOverrides(beta, ov, &warnings);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(beta, before);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_NE(warnings[0].find("without a string name (found an integer)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("(found none)"), std::string::npos) << warnings[1];
  EXPECT_NE(warnings[2].find("scalingAdapter: only {enabled: true}"), std::string::npos) << warnings[2];
}

TEST(SuffixTest, RandomSuffixesAreFourHex) {
  RandomSuffixGenerator g;
  for (int i = 0; i < 20; ++i) {
    std::string s = g.Next();
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

}  // namespace
}  // namespace dyprof

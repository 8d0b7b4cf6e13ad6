// End-to-end: planner / mocker specs produce the interpolation curves (npz + plots) and the
// planner-profile-data ConfigMap, placed after the planner-config ConfigMap and mounted in the
// Planner (and the mocker workers, with --planner-profile-data).
#include <gtest/gtest.h>

#include <memory>
#include <regex>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

constexpr char kMount[] = "/workspace/profiling_results";

std::vector<Json> ReadDocs(const std::string& path) {
  auto docs = ParseYamlAll(ReadFileOrEmpty(path));
  return docs.ok() ? *docs : std::vector<Json>{};
}

const Json* Component(const Json& dgd, const std::string& name) {
  for (const auto& c : dgd["spec"]["components"])
    if (c.value("name", "") == name) return &c;
  return nullptr;
}

// Whether `c` mounts ConfigMap `cm` at kMount (volumeMount + volume).
bool MountsProfileData(const Json& c, const std::string& cm) {
  const Json& pod = c["podTemplate"]["spec"];
  bool mount = false, volume = false;
  for (const auto& m : pod["containers"][0].value("volumeMounts", Json::array()))
    if (m.value("name", "") == cm && m.value("mountPath", "") == kMount) mount = true;
  for (const auto& v : pod.value("volumes", Json::array()))
    if (v.value("name", "") == cm && v["configMap"].value("name", "") == cm) volume = true;
  return mount && volume;
}

bool HasProfileDataFlag(const Json& c) {
  const Json& args = c["podTemplate"]["spec"]["containers"][0]["args"];
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--planner-profile-data" && args[i + 1] == kMount) return true;
  return false;
}

struct Run {
  TempDir dir;
  RunResult r;
  std::vector<Json> docs;
};

std::unique_ptr<Run> Profile(const std::string& spec, const std::vector<std::string>& extra = {}) {
  auto run = std::make_unique<Run>();
  std::vector<std::string> args = {"--config", spec, "--output-dir", run->dir.File("out")};
  args.insert(args.end(), extra.begin(), extra.end());
  run->r = RunProfiler(args, ".", {"DGDR_NAME=curves-e2e"});
  run->docs = ReadDocs(run->dir.File("out/final_config.yaml"));
  return run;
}

// Checks the two ConfigMaps in order and returns the profile-data ConfigMap's name.
std::string CheckConfigMaps(const std::vector<Json>& docs, size_t prefill_points) {
  EXPECT_GE(docs.size(), 3u);
  if (docs.size() < 3) return "";
  EXPECT_EQ(docs[0]["kind"], "ConfigMap");
  EXPECT_TRUE(std::regex_match(docs[0]["metadata"]["name"].get<std::string>(), std::regex("planner-config-[0-9a-f]{4}")));
  const Json& cm = docs[1];
  EXPECT_EQ(cm["kind"], "ConfigMap");
  std::string name = cm["metadata"]["name"].get<std::string>();
  EXPECT_TRUE(std::regex_match(name, std::regex("planner-profile-data-[0-9a-f]{4}"))) << name;
  EXPECT_EQ(docs.back()["kind"], "DynamoGraphDeployment");

  auto prefill = ParseJson(cm["data"].value("prefill_raw_data.json", ""));
  auto decode = ParseJson(cm["data"].value("decode_raw_data.json", ""));
  EXPECT_TRUE(prefill.ok() && decode.ok());
  if (!prefill.ok() || !decode.ok()) return name;
  std::vector<std::string> keys;
  for (auto& [k, v] : prefill->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"prefill_isl", "prefill_ttft", "prefill_thpt_per_gpu"}));
  EXPECT_EQ((*prefill)["prefill_isl"].size(), prefill_points);
  EXPECT_EQ((*prefill)["prefill_ttft"].size(), prefill_points);
  keys.clear();
  for (auto& [k, v] : decode->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"x_kv_usage", "y_context_length", "z_itl", "z_thpt_per_gpu", "max_kv_tokens"}));
  EXPECT_TRUE((*decode)["max_kv_tokens"].is_number_integer());
  EXPECT_GT((*decode)["z_itl"].size(), 0u);
  EXPECT_EQ((*decode)["z_itl"].size(), (*decode)["x_kv_usage"].size());
  return name;
}

void CheckCurveFiles(const TempDir& dir) {
  for (const char* f : {"out/selected_prefill_interpolation/raw_data.npz",
                        "out/selected_prefill_interpolation/prefill_ttft_interpolation.svg",
                        "out/selected_prefill_interpolation/prefill_throughput_interpolation.svg",
                        "out/selected_decode_interpolation/raw_data.npz",
                        "out/selected_decode_interpolation/decode_itl_interplation.svg",
                        "out/selected_decode_interpolation/decode_throughput_interpolation.svg"})
    EXPECT_TRUE(Exists(dir.File(f))) << f;
}

constexpr char kPlannerSpec[] = R"({
  "model": "Qwen/Qwen3-32B", "backend": "vllm", "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.0",
  "hardware": {"gpuSku": "h200_sxm", "totalGpus": 8, "numGpusPerNode": 8},
  "workload": {"isl": 4000, "osl": 1000},
  "sla": {"ttft": 2000, "itl": 50},
  "features": {"planner": {"optimization_target": "sla", "pre_deployment_sweeping_mode": "rapid",
                           "enable_throughput_scaling": true, "enable_load_scaling": false, "mode": "disagg"}}})";

TEST(CurvesE2E, PlannerSpecGetsProfileDataConfigMapMountedInPlanner) {
  auto run = Profile(kPlannerSpec);
  ASSERT_EQ(run->r.exit_code, 0) << run->r.stderr_text;
  CheckCurveFiles(run->dir);
  // Qwen3-32B: max_position_embeddings 40960 → 17 prefill ISLs at the default granularity 16.
  std::string cm = CheckConfigMaps(run->docs, 17);
  ASSERT_FALSE(cm.empty());
  const Json& dgd = run->docs.back();
  const Json* planner = Component(dgd, "Planner");
  ASSERT_NE(planner, nullptr);
  EXPECT_TRUE(MountsProfileData(*planner, cm));
  for (const auto& c : dgd["spec"]["components"])
    if (c.value("name", "") != "Planner") EXPECT_FALSE(HasProfileDataFlag(c)) << c.value("name", "");
  // The log says what was sampled.
  EXPECT_NE(ReadFileOrEmpty(run->dir.File("out/profile_sla.log")).find("Prefill interpolation: 17 points"),
            std::string::npos);
}

TEST(CurvesE2E, GranularityFlagsChangeSampleCounts) {
  auto run = Profile(kPlannerSpec, {"--prefill-interpolation-granularity", "4", "--decode-interpolation-granularity", "3"});
  ASSERT_EQ(run->r.exit_code, 0) << run->r.stderr_text;
  // range(100, 40448, 10087): 100, 10187, 20274, 30361, 40448 is excluded → 4 points.
  CheckConfigMaps(run->docs, 4);
}

TEST(CurvesE2E, MockerSpecMountsProfileDataInMockerWorkers) {
  // The reference example 3b on a GPU the performance engine models (b60 is not in the catalog: the
  // naive fallback has no engine to sample, so that spec gets no curves, only a warning).
  auto run = Profile(R"({
    "model": "Qwen/Qwen3-32B", "backend": "vllm", "image": "nvcr.io/nvidia/ai-dynamo/dynamo-frontend:latest",
    "hardware": {"gpuSku": "h200_sxm", "totalGpus": 8, "numGpusPerNode": 8},
    "sla": {"itl": 50.0},
    "features": {"planner": {"optimization_target": "sla", "pre_deployment_sweeping_mode": "rapid",
                             "enable_throughput_scaling": true, "enable_load_scaling": false, "mode": "disagg",
                             "backend": "vllm"},
                 "mocker": {"enabled": true}}})");
  ASSERT_EQ(run->r.exit_code, 0) << run->r.stderr_text;
  CheckCurveFiles(run->dir);
  std::string cm = CheckConfigMaps(run->docs, 17);
  ASSERT_FALSE(cm.empty());
  const Json& dgd = run->docs.back();
  for (const char* worker : {"prefill", "decode"}) {
    const Json* c = Component(dgd, worker);
    ASSERT_NE(c, nullptr) << worker;
    EXPECT_TRUE(HasProfileDataFlag(*c)) << worker;
    EXPECT_TRUE(MountsProfileData(*c, cm)) << worker;
  }
  const Json* planner = Component(dgd, "Planner");
  ASSERT_NE(planner, nullptr);
  EXPECT_TRUE(MountsProfileData(*planner, cm));
}

TEST(CurvesE2E, LoadScalingOnlyPlannerGetsNoCurves) {
  auto run = Profile(R"({
    "model": "Qwen/Qwen3-32B", "backend": "vllm", "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.0",
    "hardware": {"gpuSku": "h200_sxm", "totalGpus": 8, "numGpusPerNode": 8},
    "features": {"planner": {"pre_deployment_sweeping_mode": "none", "enable_throughput_scaling": false,
                             "enable_load_scaling": true}}})");
  ASSERT_EQ(run->r.exit_code, 0) << run->r.stderr_text;
  EXPECT_FALSE(Exists(run->dir.File("out/selected_prefill_interpolation/raw_data.npz")));
  EXPECT_FALSE(Exists(run->dir.File("out/selected_decode_interpolation")));
  for (const auto& d : run->docs)
    if (d["kind"] == "ConfigMap")
      EXPECT_EQ(d["metadata"]["name"].get<std::string>().rfind("planner-profile-data", 0), std::string::npos);
}

}  // namespace
}  // namespace dyprof::testing

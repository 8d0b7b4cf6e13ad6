// Secrets never reach an output: the values of HF_TOKEN / HUGGING_FACE_HUB_TOKEN are masked in
// stdout, stderr and every file of the output directory (profile_sla.log, profiler_status.yaml,
// pick.json, report.html, CSVs, final_config.yaml), even when the spec itself quotes the token.
// envFromSecret names a Kubernetes secret; the profiler never reads the secret's content, so the
// name passes through to the DGD (that is its purpose) while the content cannot appear anywhere.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "hf_SeCrEtToKeN_e2e_7f3a9c";

// Every file under `dir` (recursively) whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && ReadFileOrEmpty(e.path().string()).find(needle) != std::string::npos)
      hits.push_back(e.path().string());
  return hits;
}

// A spec that quotes the token as an image tag, in an env override, in an unknown key (logged as
// a warning before validation) and next to an envFromSecret reference.
Json SpecQuotingToken() {
  std::string tok = kToken;
  return Json{{"model", "Qwen/Qwen3-0.6B"},
              {"backend", "vllm"},
              {"image", "nvcr.io/nvidia/ai-dynamo/vllm-runtime:" + tok},
              {"hardware", {{"gpuSku", "h200_sxm"}, {"numGpusPerNode", 8}}},
              {"sla", {{"ttft", 2000.0}, {"itl", 30.0}}},
              {"unknown_" + tok, 1},
              {"overrides",
               {{"dgd",
                 {{"apiVersion", "nvidia.com/v1beta1"},
                  {"kind", "DynamoGraphDeployment"},
                  {"spec",
                   {{"components",
                     Json::array({{{"name", "VllmDecodeWorker"},
                                   {"envFromSecret", "hf-token-secret"},
                                   {"envs", Json::array({{{"name", "HF_TOKEN"}, {"value", tok}}})}}})}}}}}}}};
}

void ExpectNoToken(const RunResult& r, const std::string& out) {
  EXPECT_EQ(r.stdout_text.find(kToken), std::string::npos) << r.stdout_text;
  EXPECT_EQ(r.stderr_text.find(kToken), std::string::npos) << r.stderr_text;
  EXPECT_EQ(FilesContaining(out, kToken), std::vector<std::string>{});
}

TEST(SecretsE2E, TokenQuotedInTheSpecIsMaskedEverywhere) {
  for (const char* var : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    SCOPED_TRACE(var);
    TempDir dir;
    { std::ofstream(dir.File("spec.yaml")) << ToYaml(SpecQuotingToken()); }
    RunResult r = RunProfiler({"--config", dir.File("spec.yaml"), "--output-dir", dir.File("out")}, dir.path(),
                              {std::string(var) + "=" + kToken, "DGDR_NAME=secrets"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    for (const char* f : {"final_config.yaml", "profiler_status.yaml", "profile_sla.log", "pick.json", "report.html"})
      EXPECT_TRUE(Exists(dir.File(std::string("out/") + f))) << f;
    ExpectNoToken(r, dir.File("out"));
    EXPECT_NE(r.stderr_text.find("the spec contains the value of a Hugging Face token"), std::string::npos);
    // The secret's name is not secret: it reaches the DGD.
    EXPECT_NE(ReadFileOrEmpty(dir.File("out/final_config.yaml")).find("hf-token-secret"), std::string::npos);
  }
}

TEST(SecretsE2E, TokenInAFailingFieldIsMaskedInTheStatus) {
  TempDir dir;
  Json spec = SpecQuotingToken();
  spec["backend"] = kToken;  // an error message quotes the bad value
  RunResult r = RunProfiler({"--config", spec.dump(), "--output-dir", dir.File("out")}, dir.path(),
                            {std::string("HF_TOKEN=") + kToken, "DGDR_NAME=secrets"});
  EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
  std::string status = ReadFileOrEmpty(dir.File("out/profiler_status.yaml"));
  EXPECT_NE(status.find("backend: expected one of"), std::string::npos) << status;
  ExpectNoToken(r, dir.File("out"));
}

TEST(SecretsE2E, TokenAsModelNameIsMaskedInTheSummaryAndJson) {
  for (const char* flag : {"--json", "--output-dir"}) {
    SCOPED_TRACE(flag);
    TempDir dir;
    Json spec = SpecQuotingToken();
    spec["model"] = std::string("Qwen/Qwen3-0.6B") + "-" + kToken;  // unknown model: naive fallback
    std::vector<std::string> args = {"--config", spec.dump(), "--output-dir", dir.File("out")};
    if (std::string(flag) == "--json") args.push_back("--json");
    RunResult r = RunProfiler(args, dir.path(), {std::string("HF_TOKEN=") + kToken, "DGDR_NAME=secrets"});
    EXPECT_LT(r.exit_code, 128) << r.stderr_text;
    ExpectNoToken(r, dir.File("out"));
  }
}

TEST(SecretsE2E, JsonSummaryMasksTheToken) {
  TempDir dir;
  Json spec = SpecQuotingToken();
  RunResult r = RunProfiler({"--config", spec.dump(), "--output-dir", dir.File("out"), "--json"}, dir.path(),
                            {std::string("HF_TOKEN=") + kToken, "DGDR_NAME=secrets"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  ExpectNoToken(r, dir.File("out"));
}

}  // namespace
}  // namespace dyprof::testing

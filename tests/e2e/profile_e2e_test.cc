// End-to-end: the binary on real spec files, checking exit codes and the output directory.
#include <gtest/gtest.h>

#include <fstream>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

Json ReadYaml(const std::string& path) {
  auto r = ParseYaml(ReadFileOrEmpty(path));
  return r.ok() ? *r : Json();
}

const char* kReferenceSpecs[] = {
    "qwen-0-6b.yaml",
    "vllm-dense-online.yaml",
    "sglang-moe.yaml",
    "low-latency-dense.yaml",
    "dense-with-tolerations.yaml",
    "3b_rapid_supported_planner_rapid_sweep_mocker.yaml",
    "9a_thorough_dsr1_sglang_overrides.yaml",
    "2b_rapid_supported_pvc_no_planner_with_load.yaml",
};

// Runs one reference spec and checks the success status and outputs.
void ExpectReferenceSpecSucceeds(const char* name) {
  TempDir dir;
  // Thorough specs deploy emulators on loopback: fast and small so the suite stays short.
  RunResult r = RunProfiler({"--config", SourcePath(std::string("tests/specs/reference/") + name), "--output-dir",
                             dir.File("out"), "--emulator-speedup", "1000", "--decode-interpolation-granularity",
                             "3", "--deploy-command",
                             "{self} emulate --model {model} --system {system} --backend {backend} --tp {tp} "
                             "--dp {dp} --moe-tp {moe_tp} --moe-ep {moe_ep} --port {port} --speedup {speedup} "
                             "--http-threads 64 --kv-tokens 20000"},
                            ".", {"DGDR_NAME=e2e"});
  EXPECT_EQ(r.exit_code, 0) << name << "\n" << r.stderr_text;
  Json status = ReadYaml(dir.File("out/profiler_status.yaml"));
  EXPECT_EQ(status["status"], "success") << name;
  EXPECT_EQ(status["phase"], "Done") << name;
  EXPECT_EQ(status["message"], "Profiler completed successfully") << name;
  EXPECT_EQ(status["outputs"]["final_config"], "final_config.yaml") << name;
  EXPECT_TRUE(Exists(dir.File("out/final_config.yaml"))) << name;
  EXPECT_TRUE(Exists(dir.File("out/profile_sla.log"))) << name;
}

TEST(ProfileE2E, EveryRapidReferenceExampleSpecSucceeds) {
  for (const char* name : kReferenceSpecs) {
    if (std::string(name) == "vllm-dense-online.yaml" || std::string(name) == "9a_thorough_dsr1_sglang_overrides.yaml")
      continue;  // thorough: below
    ExpectReferenceSpecSucceeds(name);
  }
}

// In the ThoroughE2e suite so the sanitizer run (which cannot keep emulator timing) skips it.
TEST(ThoroughE2eReference, ThoroughReferenceExampleSpecsSucceed) {
  for (const char* name : {"vllm-dense-online.yaml", "9a_thorough_dsr1_sglang_overrides.yaml"})
    ExpectReferenceSpecSucceeds(name);
}

struct BadSpec {
  const char* spec;  // inline JSON
  const char* message;
  const char* error;
};

const BadSpec kBadSpecs[] = {
    {R"({"model":"m","image":"i","workload":{"concurrency":1,"requestRate":2},"hardware":{"gpuSku":"h200_sxm","numGpusPerNode":8}})",
     "Config validation failed", "Only one of 'concurrency' or 'requestRate' can be provided, not both."},
    {R"({"model":"m","image":"i","sla":{"ttft":-1,"itl":5}})", "Config validation failed", "ttft must be positive."},
    {R"({"model":"m","image":"i","sla":{"ttft":null,"itl":5}})", "Config validation failed",
     "Either both 'ttft' and 'itl', or 'e2eLatency', must be provided in the SLA spec."},
    {R"({"model":"m","hardware":{"gpuSku":"h200_sxm","numGpusPerNode":8}})", "Profiler failed with exception: ValueError",
     "'image' is required in the DGDR spec."},
    {R"({"model":"m","image":"i"})", "Profiler failed with exception: ValueError", "'hardware' is required in the DGDR spec."},
    {R"({"model":"m","image":"i","hardware":{"numGpusPerNode":8}})", "Profiler failed with exception: ValueError",
     "'hardware.gpuSku' is required in the DGDR spec."},
    {R"({"model":"m","image":"i","hardware":{"gpuSku":"h200_sxm","numGpusPerNode":0}})",
     "Profiler failed with exception: ValueError", "'hardware.numGpusPerNode' must be a positive integer."},
    {R"({"model":"m","image":"i","searchStrategy":"thorough","hardware":{"gpuSku":"h200_sxm","numGpusPerNode":8}})",
     "Profiler failed with exception: ValueError",
     "THOROUGH search strategy does not support 'auto' backend. Please specify a concrete backend (trtllm, vllm, sglang)."},
    {R"({"model":"m","image":"i","features":{"planner":{"pre_deployment_sweeping_mode":"none"},"mocker":{"enabled":true}}})",
     "Config validation failed",
     "pre_deployment_sweeping_mode cannot be 'none' when mocker is enabled. The mocker needs performance data; set "
     "features.planner.pre_deployment_sweeping_mode to 'rapid' or 'thorough'."},
    {"not json and not a file", "Config validation failed",
     "--config value is neither a valid file path nor valid JSON. Pass a path to a .yaml/.yml/.json spec file or an "
     "inline JSON object."},
};

TEST(ProfileE2E, BadSpecsFailWithReferenceMessageAndTouchNothingElse) {
  for (const auto& c : kBadSpecs) {
    TempDir dir;
    RunResult r = RunProfiler({"--config", c.spec, "--output-dir", dir.File("out")});
    EXPECT_EQ(r.exit_code, 2) << c.spec;
    Json status = ReadYaml(dir.File("out/profiler_status.yaml"));
    EXPECT_EQ(status["status"], "failed") << c.spec;
    EXPECT_EQ(status["message"], c.message) << c.spec;
    EXPECT_EQ(status["error"], c.error) << c.spec;
    EXPECT_EQ(ListDir(dir.File("out")), std::vector<std::string>{"profiler_status.yaml"}) << c.spec;
  }
}

TEST(ProfileE2E, FailedRunRemovesStaleFinalConfig) {
  TempDir dir;
  RunResult ok = RunProfiler({"--config", SourcePath("tests/specs/reference/qwen-0-6b.yaml"), "--output-dir", dir.File("out")});
  ASSERT_EQ(ok.exit_code, 0) << ok.stderr_text;
  ASSERT_TRUE(Exists(dir.File("out/final_config.yaml")));
  RunResult bad = RunProfiler({"--config", R"({"model":"m"})", "--output-dir", dir.File("out")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(Exists(dir.File("out/final_config.yaml")));
  EXPECT_EQ(ReadYaml(dir.File("out/profiler_status.yaml"))["status"], "failed");
}

TEST(ProfileE2E, ArgumentErrorWritesFailedStatus) {
  TempDir dir;
  RunResult r = RunProfiler({"--output-dir", dir.File("out"), "--decode-interpolation-granularity", "zero"});
  EXPECT_NE(r.exit_code, 0);
  Json status = ReadYaml(dir.File("out/profiler_status.yaml"));
  EXPECT_EQ(status["status"], "failed");
  EXPECT_EQ(status["message"], "Config validation failed");
  EXPECT_EQ(status["error"].get<std::string>().rfind("Argument parsing failed (exit code ", 0), 0u);
}

TEST(ProfileE2E, ProfileSubcommandIsTheSameCommand) {
  TempDir dir;
  RunResult r = RunProfiler({"profile", "--config", SourcePath("tests/specs/reference/qwen-0-6b.yaml"), "--output-dir",
                             dir.File("out")});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(ReadYaml(dir.File("out/profiler_status.yaml"))["status"], "success");
}

TEST(ProfileE2E, HelpListsEveryFlagWithDefault) {
  RunResult r = RunProfiler({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--config", "--output-dir TEXT=profiling_results", "--deployment-timeout INT:POSITIVE=3600",
                           "--prefill-interpolation-granularity INT:POSITIVE=16",
                           "--decode-interpolation-granularity INT:POSITIVE=6", "--dry-run"})
    EXPECT_NE(r.stdout_text.find(flag), std::string::npos) << flag;
}

TEST(ProfileE2E, DryRunWritesNullConfig) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", SourcePath("tests/specs/reference/low-latency-dense.yaml"), "--output-dir",
                             dir.File("out"), "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(dir.File("out/final_config.yaml")), "null\n");
}

TEST(ProfileE2E, OutputDirThatIsAFileFailsCleanly) {
  TempDir dir;
  { std::ofstream(dir.File("occupied")) << "x"; }
  RunResult r = RunProfiler({"--config", SourcePath("tests/specs/reference/qwen-0-6b.yaml"), "--output-dir", dir.File("occupied")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.stderr_text.find("output path exists and is not a directory"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(dir.File("occupied")), "x");
}

TEST(ProfileE2E, LogFileHoldsTheLogLines) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", SourcePath("tests/specs/reference/qwen-0-6b.yaml"), "--output-dir", dir.File("out")});
  ASSERT_EQ(r.exit_code, 0);
  std::string log = ReadFileOrEmpty(dir.File("out/profile_sla.log"));
  EXPECT_NE(log.find(" - dynamo.profiler - INFO - Profiler job started"), std::string::npos);
  EXPECT_NE(log.find("Picking mode: default"), std::string::npos);
  EXPECT_NE(log.find("Stage render finished in"), std::string::npos);
}

// An aliased model id is logged with the catalog entry it was read as; an exact id logs no note.
TEST(ProfileE2E, LogSaysHowAnAliasedModelIdWasRead) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", SourcePath("examples/llama-70b-load-match.yaml"), "--output-dir", dir.File("out")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(ReadFileOrEmpty(dir.File("out/profile_sla.log"))
                .find("INFO - Model: 'meta-llama/Llama-3.1-70B-Instruct' resolved to catalog entry meta-llama/Llama-3.1-70B"),
            std::string::npos);
  TempDir exact;
  RunResult q = RunProfiler({"--config", SourcePath("tests/specs/reference/qwen-0-6b.yaml"), "--output-dir", exact.File("out")});
  ASSERT_EQ(q.exit_code, 0) << q.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(exact.File("out/profile_sla.log")).find("INFO - Model: "), std::string::npos);
}

TEST(ProfileE2E, HfTokenNeverLogged) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", R"({"model":"hf_secret_token_123","image":"i","hardware":{"gpuSku":"h200_sxm","numGpusPerNode":8}})",
                             "--output-dir", dir.File("out")},
                            ".", {"HF_TOKEN=hf_secret_token_123"});
  EXPECT_EQ(r.stderr_text.find("hf_secret_token_123"), std::string::npos);
  EXPECT_EQ(ReadFileOrEmpty(dir.File("out/profile_sla.log")).find("hf_secret_token_123"), std::string::npos);
}

}  // namespace
}  // namespace dyprof::testing

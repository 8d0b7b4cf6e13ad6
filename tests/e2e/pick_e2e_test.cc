// End-to-end: the binary on specs for each picking mode, checking pick.json and the side files.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

Json ReadJson(const std::string& path) {
  auto r = ParseJson(ReadFileOrEmpty(path));
  return r.ok() ? *r : Json();
}

struct ProfileRun {
  RunResult result;
  Json pick;
  std::string dir;
};

ProfileRun Profile(TempDir& dir, const std::string& spec, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--config", spec, "--output-dir", dir.File("out")};
  args.insert(args.end(), extra.begin(), extra.end());
  ProfileRun r;
  r.result = RunProfiler(args, ".", {"DGDR_NAME=e2e"});
  r.pick = ReadJson(dir.File("out/pick.json"));
  r.dir = dir.File("out");
  return r;
}

TEST(PickE2E, DefaultModeDenseModel) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("examples/qwen3-32b-h200.yaml"));
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  EXPECT_EQ(r.pick["mode"], "default");
  EXPECT_EQ(r.pick["backend"], "trtllm");
  const Json& c = r.pick["chosen"];
  EXPECT_LE(c["tpot_ms"].get<double>(), 10.0);
  EXPECT_LE(c["ttft_ms"].get<double>(), 300.0);
  EXPECT_LE(c["total_gpus"].get<int>(), 8);
  EXPECT_GT(c["tokens_per_s_per_gpu"].get<double>(), 0);
  // Percentiles under load from the scheduler simulation, ordered.
  const Json& sim = r.pick["load_simulation"];
  ASSERT_TRUE(sim.is_object()) << r.pick.dump(2);
  for (const char* k : {"ttft_ms", "itl_ms", "request_latency_ms"}) {
    EXPECT_LE(sim[k]["p50"].get<double>(), sim[k]["p90"].get<double>()) << k;
    EXPECT_LE(sim[k]["p90"].get<double>(), sim[k]["p99"].get<double>()) << k;
  }
  EXPECT_GT(sim["achieved_concurrency"].get<double>(), 0);
  EXPECT_TRUE(Exists(r.dir + "/candidates.csv"));
  EXPECT_TRUE(Exists(r.dir + "/pareto.csv"));
  // The summary on stdout names the choice.
  EXPECT_NE(r.result.stdout_text.find("Chosen: "), std::string::npos);
  EXPECT_NE(r.result.stdout_text.find("top configurations"), std::string::npos);
}

TEST(PickE2E, CandidatesCsvHasEveryEvaluatedRowWithReasons) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("examples/qwen3-32b-h200.yaml"));
  ASSERT_EQ(r.result.exit_code, 0);
  std::string csv = ReadFileOrEmpty(r.dir + "/candidates.csv");
  EXPECT_EQ(csv.rfind("mode,backend,parallel,", 0), 0u);
  EXPECT_NE(csv.find(",false,TTFT "), std::string::npos);  // TTFT-rejected rows keep their reason
  EXPECT_NE(csv.find("\ndisagg,trtllm,"), std::string::npos);
  size_t lines = std::count(csv.begin(), csv.end(), '\n');
  EXPECT_GT(lines, 50u);
}

TEST(PickE2E, LoadMatchServesTheRate) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("examples/llama-70b-load-match.yaml"));
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  EXPECT_EQ(r.pick["mode"], "load_match");
  const Json& c = r.pick["chosen"];
  EXPECT_GE(c["request_rate"].get<double>() * c["replicas"].get<int>(), 4.0);
  EXPECT_LE(c["total_gpus"].get<int>(), 32);
}

TEST(PickE2E, AutoscalePicksDisaggOneWorkerEach) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("examples/qwen3-32b-autoscale.yaml"));
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  EXPECT_EQ(r.pick["mode"], "autoscale");
  EXPECT_EQ(r.pick["chosen_exp"], "disagg");
  EXPECT_EQ(r.pick["chosen"]["prefill"]["workers"], 1);
  EXPECT_EQ(r.pick["chosen"]["decode"]["workers"], 1);
}

TEST(PickE2E, MoeAutoBackendRecordsWinner) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("examples/qwen3-30b-a3b-moe.yaml"));
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  std::string backend = r.pick["backend"];
  EXPECT_TRUE(backend == "vllm" || backend == "sglang" || backend == "trtllm") << backend;
  EXPECT_EQ(r.pick["chosen"]["backend"], backend);
}

TEST(PickE2E, UnachievableTtftFailsWithClearStatus) {
  TempDir dir;
  ProfileRun r = Profile(dir, R"({"model":"Qwen/Qwen3-32B","backend":"vllm","image":"i:1","hardware":{"gpuSku":"h200_sxm","numGpusPerNode":8},"sla":{"ttft":1,"itl":10}})");
  EXPECT_EQ(r.result.exit_code, 3);
  auto status = ParseYaml(ReadFileOrEmpty(dir.File("out/profiler_status.yaml")));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["status"], "failed");
  EXPECT_EQ((*status)["message"], "Profiler did not produce a DGD config.");
  std::string error = (*status)["error"];
  EXPECT_EQ(error.rfind("Profiler did not produce a DGD config. no configuration meets the SLA: best achievable TTFT ", 0), 0u)
      << error;
  EXPECT_FALSE(Exists(dir.File("out/final_config.yaml")));
}

TEST(PickE2E, NaiveFallbackForUnmodelledGpu) {
  TempDir dir;
  ProfileRun r = Profile(dir, SourcePath("tests/specs/reference/2b_rapid_supported_pvc_no_planner_with_load.yaml"));
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  EXPECT_EQ(r.pick["mode"], "naive");
  EXPECT_EQ(r.pick["sla_verified"], false);
  EXPECT_NE(r.result.stderr_text.find("The SLA is unverified."), std::string::npos);
}

}  // namespace
}  // namespace dyprof::testing

// Thorough mode end to end: the real binary deploys emulator processes on loopback with the local
// deployer, measures them and picks; an emulator killed mid-run marks its candidate failed; SIGTERM
// removes every started process and exits 130; with the planner's throughput scaling the
// interpolation curves come from measurements of the picked engines.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

const char* kSpec = R"(model: "Qwen/Qwen3-32B"
backend: vllm
image: "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.3.1"
hardware: {gpuSku: h200_sxm, totalGpus: 8, numGpusPerNode: 8}
workload: {isl: 64, osl: 8}
sla: {ttft: 2000.0, itl: 50.0}
searchStrategy: thorough
)";

std::vector<std::string> Args(const TempDir& dir, int kv_tokens, double speedup) {
  std::ofstream(dir.File("spec.yaml")) << kSpec;
  return {"--config", dir.File("spec.yaml"), "--output-dir", dir.File("out"), "--emulator-speedup",
          std::to_string(speedup), "--decode-interpolation-granularity", "3", "--deployment-timeout", "30",
          "--deploy-command",
          "{self} emulate --model {model} --system {system} --backend {backend} --tp {tp} --port {port} "
          "--speedup {speedup} --http-threads 64 --kv-tokens " + std::to_string(kv_tokens)};
}

// Starts the profiler without waiting.
pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("DGDR_NAME", "th", 1);
    std::vector<char*> argv{const_cast<char*>(DYPROF_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(DYPROF_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid, double timeout_s) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Waits for {out}/{work}/deployment.json and returns the emulator pid in it.
int WaitDeploymentPid(const std::string& path, double timeout_s) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    std::string text = ReadFileOrEmpty(path);
    if (!text.empty()) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_object() && j.contains("pid")) return j["pid"].get<int>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

bool ProcessGone(int pid) { return kill(pid, 0) != 0 || ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat").find(") Z") != std::string::npos; }

TEST(ThoroughE2e, LocalDeployerProducesDgdMeasuredRowsAndPick) {
  TempDir dir;
  RunResult r = RunProfiler(Args(dir, 2000, 50), dir.path(), {"DGDR_NAME=th"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(ReadFileOrEmpty(dir.File("out/final_config.yaml")).find("DynamoGraphDeployment"), std::string::npos);
  auto pick = nlohmann::json::parse(ReadFileOrEmpty(dir.File("out/pick.json")));
  EXPECT_EQ(pick["search_strategy"], "thorough");
  EXPECT_EQ(pick["chosen"]["measured"], true);
  EXPECT_GT(pick["thorough"]["skipped"].get<int>(), 0);
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir.File("out/thorough_candidates.json")));
  int measured = 0;
  for (const auto& c : summary["results"])
    if (c["status"] == "measured") {
      ++measured;
      EXPECT_FALSE(c["rows"].empty());
    }
  EXPECT_EQ(measured, summary["deployed"].get<int>());
  EXPECT_TRUE(Exists(dir.File("out/prefill_1gpus_tp1/aiperf_isl64/profile_export_aiperf.json")));
  EXPECT_TRUE(Exists(dir.File("out/decode_1gpus_tp1/result.json")));
  EXPECT_NE(ReadFileOrEmpty(dir.File("out/candidates.csv")).find("disagg"), std::string::npos);
  // --exhaustive deploys every candidate.
  TempDir all;
  auto args = Args(all, 2000, 50);
  args.push_back("--exhaustive");
  r = RunProfiler(args, all.path(), {"DGDR_NAME=th"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  auto s2 = nlohmann::json::parse(ReadFileOrEmpty(all.File("out/thorough_candidates.json")));
  EXPECT_EQ(s2["skipped"], 0);
  EXPECT_GT(s2["deployed"].get<int>(), summary["deployed"].get<int>());
}

TEST(ThoroughE2e, KilledEmulatorMarksCandidateFailedAndProfileFinishes) {
  TempDir dir;
  pid_t prof = Spawn(Args(dir, 20000, 5));  // larger KV and less speedup: a longer decode sweep
  int emu = WaitDeploymentPid(dir.File("out/decode_1gpus_tp1/deployment.json"), 60);
  ASSERT_GT(emu, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(emu, SIGKILL);
  ASSERT_EQ(WaitExit(prof, 120), 0);
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir.File("out/thorough_candidates.json")));
  bool found = false;
  for (const auto& c : summary["results"])
    if (c["role"] == "decode" && c["label"] == "tp1") {
      found = true;
      EXPECT_EQ(c["status"], "failed");
      EXPECT_TRUE(c["rows"].empty());
    }
  EXPECT_TRUE(found);
  EXPECT_GE(summary["failed"].get<int>(), 1);
  // Another decode engine (ranked, or skipped by ranking and deployed as the fallback) was measured.
  bool other_decode_measured = false;
  for (const auto& c : summary["results"])
    if (c["role"] == "decode" && c["label"] != "tp1" && c["status"] == "measured") other_decode_measured = true;
  EXPECT_TRUE(other_decode_measured);
  EXPECT_TRUE(Exists(dir.File("out/final_config.yaml")));
}

TEST(ThoroughE2e, SigtermRemovesEveryProcessAndExits130) {
  TempDir dir;
  pid_t prof = Spawn(Args(dir, 20000, 5));
  int emu = WaitDeploymentPid(dir.File("out/decode_1gpus_tp1/deployment.json"), 60);
  ASSERT_GT(emu, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(prof, SIGTERM);
  EXPECT_EQ(WaitExit(prof, 30), 130);
  EXPECT_TRUE(ProcessGone(emu));
  EXPECT_NE(ReadFileOrEmpty(dir.File("out/profiler_status.yaml")).find("status: failed"), std::string::npos);
}

// Qwen3-32B's architecture with a 4096-token context (a local model directory), so the measured
// interpolation grids stay short: prefill ISL 100/1261/2422/3583, decode ISL 100/1298/2496.
constexpr char kSmallContextConfig[] = R"({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
  "num_hidden_layers": 64, "hidden_size": 5120, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 128,
  "intermediate_size": 25600, "vocab_size": 151936, "max_position_embeddings": 4096, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16"})";

TEST(ThoroughE2e, PlannerCurvesAreMeasuredOnThePickedEngines) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("model"));
  std::ofstream(dir.File("model/config.json")) << kSmallContextConfig;
  std::ofstream(dir.File("spec.yaml")) << "model: \"" << dir.File("model") << R"("
backend: vllm
image: "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.3.1"
hardware: {gpuSku: h200_sxm, totalGpus: 8, numGpusPerNode: 8}
workload: {isl: 64, osl: 8}
sla: {ttft: 2000.0, itl: 50.0}
searchStrategy: thorough
features:
  planner: {optimization_target: sla, enable_throughput_scaling: true, enable_load_scaling: false,
            pre_deployment_sweeping_mode: thorough}
)";
  // 8192 KV tokens = exactly 2.00x of the 4096-token context, so the vLLM log line is exact.
  constexpr int kKvTokens = 8192;
  std::vector<std::string> args = {
      "--config", dir.File("spec.yaml"), "--output-dir", dir.File("out"), "--emulator-speedup", "100",
      "--decode-interpolation-granularity", "3", "--prefill-interpolation-granularity", "3",
      "--deployment-timeout", "30", "--deploy-command",
      "{self} emulate --model {model} --system {system} --backend {backend} --tp {tp} --port {port} "
      "--speedup {speedup} --http-threads 64 --kv-tokens " + std::to_string(kKvTokens)};
  RunResult r = RunProfiler(args, dir.path(), {"DGDR_NAME=th"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;

  // Each picked engine was deployed once into its interpolation dir, measured, and removed.
  for (const char* sub : {"selected_prefill_interpolation", "selected_decode_interpolation"}) {
    std::string d = dir.File(std::string("out/") + sub);
    EXPECT_TRUE(Exists(d + "/raw_data.npz")) << sub;
    EXPECT_TRUE(Exists(d + "/config.yaml")) << sub;
    auto dep = nlohmann::json::parse(ReadFileOrEmpty(d + "/deployment.json"), nullptr, false);
    ASSERT_TRUE(dep.is_object() && dep.contains("pid")) << sub;
    EXPECT_TRUE(ProcessGone(dep["pid"].get<int>())) << sub;
  }
  for (int isl : {100, 1261, 2422, 3583})
    EXPECT_TRUE(Exists(dir.File("out/selected_prefill_interpolation/aiperf_isl" + std::to_string(isl) +
                                "/profile_export_aiperf.json"))) << isl;
  EXPECT_TRUE(Exists(dir.File("out/selected_decode_interpolation/aiperf_isl100_osl500_n1/profile_export_aiperf.json")));
  EXPECT_TRUE(Exists(dir.File("out/selected_decode_interpolation/decode_itl_interplation.svg")));
  EXPECT_TRUE(Exists(dir.File("out/selected_prefill_interpolation/prefill_ttft_interpolation.svg")));
  std::string log = ReadFileOrEmpty(dir.File("out/profile_sla.log"));
  EXPECT_NE(log.find("Building interpolation curves for planner integration"), std::string::npos);
  EXPECT_NE(log.find("Prefill interpolation (measured)"), std::string::npos);

  // The planner-profile-data ConfigMap carries the measured data.
  auto docs = ParseYamlAll(ReadFileOrEmpty(dir.File("out/final_config.yaml")));
  ASSERT_TRUE(docs.ok());
  const Json* cm = nullptr;
  for (const auto& doc : *docs)
    if (doc.value("kind", "") == "ConfigMap" &&
        doc["metadata"].value("name", "").rfind("planner-profile-data", 0) == 0)
      cm = &doc;
  ASSERT_NE(cm, nullptr);
  auto prefill = ParseJson((*cm)["data"].value("prefill_raw_data.json", ""));
  auto decode = ParseJson((*cm)["data"].value("decode_raw_data.json", ""));
  ASSERT_TRUE(prefill.ok() && decode.ok());
  EXPECT_EQ((*decode)["max_kv_tokens"], kKvTokens);  // parsed from the decode emulator's log line
  // Decode: ISL 100 → n 1/7/13, 1298 → 1/2/4, 2496 → 1/2 (8 points), KV usage within (0, 1].
  ASSERT_EQ((*decode)["z_itl"].size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_GT((*decode)["z_itl"][i].get<double>(), 0);
    EXPECT_GT((*decode)["z_thpt_per_gpu"][i].get<double>(), 0);
    EXPECT_GT((*decode)["x_kv_usage"][i].get<double>(), 0);
    EXPECT_LE((*decode)["x_kv_usage"][i].get<double>(), 1.0);
  }
  // Prefill: 4 ISLs, TTFT grows with ISL. Each point is one request timed in real time × the
  // speedup, so a scheduling hiccup of 5 ms on a busy CI machine adds 500 ms to a point (seen:
  // [557, 188, 625, 737] where an idle machine measures [29, 132, 258, 389]). Jitter only
  // ever lengthens a measurement, so the check compares the fastest short-ISL point against the
  // slowest long-ISL point: the long prompts must take more than twice as long (idle ratio ~13).
  const Json& isl = (*prefill)["prefill_isl"];
  const Json& ttft = (*prefill)["prefill_ttft"];
  ASSERT_EQ(isl.size(), 4u);
  ASSERT_EQ(ttft.size(), 4u);
  for (size_t i = 1; i < 4; ++i) EXPECT_GT(isl[i].get<double>(), isl[i - 1].get<double>());
  for (size_t i = 0; i < 4; ++i) EXPECT_GT(ttft[i].get<double>(), 0) << ttft.dump();
  double short_isl_ms = std::min(ttft[0].get<double>(), ttft[1].get<double>());
  double long_isl_ms = std::max(ttft[2].get<double>(), ttft[3].get<double>());
  EXPECT_GT(long_isl_ms, 2 * short_isl_ms) << ttft.dump();
}

}  // namespace
}  // namespace dyprof::testing

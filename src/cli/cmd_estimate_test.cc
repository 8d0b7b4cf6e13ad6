// Runs the built binary (DYPROF_BINARY) for `estimate`, `estimate --from-csv`, `accuracy`, and the
// argument handling of `memory`, `emulate` and `bench`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "common/document.h"
#include "perf/csv.h"

namespace dyprof {
namespace {

struct ExecResult {
  int rc = -1;
  std::string out;
};

// stdout of the binary; with `with_stderr` its stderr too (the error messages).
ExecResult Exec(const std::string& args, bool with_stderr = false) {
  ExecResult r;
  std::string cmd = std::string(DYPROF_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The JSON stdout of a run that succeeds; nullopt, with the test failed, otherwise.
std::optional<Json> ExecJson(const std::string& args) {
  ExecResult r = Exec(args);
  EXPECT_EQ(r.rc, 0) << args << ": " << r.out;
  if (r.rc != 0) return std::nullopt;
  auto j = ParseJson(r.out);
  EXPECT_TRUE(j.ok()) << args << ": " << r.out;
  if (!j.ok()) return std::nullopt;
  return *std::move(j);
}

// The columns of ../shared/data/silicon/train.csv (no trailing newline).
constexpr char kSiliconHeader[] =
    "id,silicon_data_source,backend,backend_version,model_path,system,precision,mode,isl,osl,gemm_quant_mode,"
    "moe_quant_mode,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,prefill_batch_size,"
    "prefill_num_workers,prefill_tp_size,prefill_pp_size,prefill_attention_dp_size,prefill_moe_tp_size,"
    "prefill_moe_ep_size,decode_batch_size,decode_num_workers,decode_tp_size,decode_pp_size,"
    "decode_attention_dp_size,decode_moe_tp_size,decode_moe_ep_size,silicon_ttft_ms,silicon_tpot_ms";

std::string TempDir() {
  auto d = std::filesystem::temp_directory_path() / ("dyprof_estimate_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

TEST(EstimateCliTest, AggJsonHasPinnedMetrics) {
  ExecResult r = Exec("estimate --model Qwen/Qwen3-32B --system h200_sxm --backend vllm --mode agg --isl 4000 --osl 1000 "
               "--concurrency 16 --tp 2 --format json --detail");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  for (const char* k : {"ttft_ms", "tpot_ms", "request_latency_ms", "tokens_per_s_per_gpu", "tokens_per_s_per_user",
                        "request_rate", "kv_tokens_capacity", "memory", "efficiency_source", "op_sources", "breakdown"}) {
    EXPECT_TRUE(j->contains(k)) << k;
  }
  double ttft = (*j)["ttft_ms"].get<double>(), tpot = (*j)["tpot_ms"].get<double>();
  EXPECT_GT(ttft, 0);
  EXPECT_GT(tpot, 0);
  EXPECT_NEAR((*j)["request_latency_ms"].get<double>(), ttft + 999 * tpot, 1e-6 * ttft + 1e-3);
  EXPECT_NEAR((*j)["tokens_per_s_per_user"].get<double>(), 1000.0 / tpot, 1e-6);
  EXPECT_EQ((*j)["efficiency_source"], "measured-fit");
  EXPECT_FALSE((*j)["breakdown"]["decode_step"].empty());
}

TEST(EstimateCliTest, StaticDisaggAndBorrowedEfficiency) {
  ExecResult s = Exec("estimate --model Qwen/Qwen3-32B --system h200_sxm --mode static --batch-size 8 --tp 4 --isl 1024 "
               "--osl 128 --format json");
  ASSERT_EQ(s.rc, 0) << s.out;
  ExecResult d = Exec("estimate --model deepseek-ai/DeepSeek-R1 --system gb200 --backend trtllm --mode disagg --isl 1024 "
               "--osl 1024 --concurrency 64 --prefill-dp 4 --prefill-moe-ep 4 --decode-tp 8 --decode-moe-ep 8 "
               "--prefill-workers 1 --decode-workers 2 --format json");
  ASSERT_EQ(d.rc, 0) << d.out;
  auto j = ParseJson(d.out);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["decode_batch_size"], 32);
  EXPECT_EQ((*j)["efficiency_source"], "roofline-borrowed");  // gb200 borrows b200's tables
  EXPECT_EQ((*j)["num_gpus"], 4 + 16);
}

TEST(EstimateCliTest, MtpDraftsShortenTpotAndBadRatesAreArgumentErrors) {
  const std::string base = "estimate --model deepseek-ai/DeepSeek-V3 --system b200_sxm --backend trtllm --mode static "
                           "--batch-size 4 --tp 8 --moe-tp 8 --isl 1024 --osl 256 --format json";
  ExecResult plain = Exec(base);
  ExecResult mtp = Exec(base + " --mtp-draft-tokens 1 --mtp-acceptance 0.9");
  ASSERT_EQ(plain.rc, 0) << plain.out;
  ASSERT_EQ(mtp.rc, 0) << mtp.out;
  auto p = ParseJson(plain.out), m = ParseJson(mtp.out);
  ASSERT_TRUE(p.ok() && m.ok());
  // One draft accepted 90 % of the time: 1.9 tokens per step for a step that costs more than one.
  const double ratio = (*p)["tpot_ms"].get<double>() / (*m)["tpot_ms"].get<double>();
  EXPECT_GT(ratio, 1.2);
  EXPECT_LT(ratio, 1.9);
  EXPECT_DOUBLE_EQ((*p)["ttft_ms"].get<double>(), (*m)["ttft_ms"].get<double>());
  EXPECT_EQ(Exec(base + " --mtp-draft-tokens 1 --mtp-acceptance 0.9,abc").rc, 2);
  EXPECT_EQ(Exec(base + " --mtp-draft-tokens 1 --mtp-acceptance 1.5").rc, 2);
  EXPECT_EQ(Exec(base + " --mtp-draft-tokens 9").rc, 2);
}

TEST(EstimateCliTest, SimulatedDisaggReportsTheWorkerCountsItDerived) {
  auto j = ExecJson("estimate --model Qwen/Qwen3-32B --system h200_sxm --backend vllm --mode disagg --isl 2000 "
                    "--osl 500 --concurrency 256 --prefill-tp 2 --decode-tp 2 --format json");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["latency_model"], "des");
  const int p = (*j)["prefill_workers"].get<int>(), d = (*j)["decode_workers"].get<int>();
  EXPECT_GT(p + d, 2);  // 256 users: derived, not the 1P1D placeholder
  EXPECT_EQ((*j)["num_gpus"].get<int>(), 2 * p + 2 * d);
  EXPECT_EQ((*j)["decode_batch_size"].get<int>(), (256 + d - 1) / d);
}

TEST(EstimateCliTest, MoeA2aBackendDeepEpSendsWideEpTokensToTheirExpertsOnly) {
  // 32 attention-DP ranks over GB200 nodes of 4: DeepEP's all-to-all moves an eighth of what the
  // gather does out and a quarter back, so the decode step is shorter; on one B200 node of 8, and
  // by default, the ranks gather.
  auto tpot = [](const std::string& system, int dp, const std::string& a2a) {
    auto j = ExecJson("estimate --model deepseek-ai/DeepSeek-R1 --quant nvfp4 --system " + system +
                      " --backend sglang --mode static --tp 1 --dp " + std::to_string(dp) + " --moe-ep " +
                      std::to_string(dp) + " --moe-tp 1 --batch-size 128 --isl 1024 --osl 1024 --calibration none "
                      "--format json" + a2a);
    return j ? (*j)["tpot_ms"].get<double>() : 0.0;
  };
  const double gathered = tpot("gb200", 32, "");
  EXPECT_EQ(tpot("gb200", 32, " --moe-a2a-backend none"), gathered);
  EXPECT_LT(tpot("gb200", 32, " --moe-a2a-backend deepep"), 0.8 * gathered);
  EXPECT_EQ(tpot("b200_sxm", 8, " --moe-a2a-backend deepep"), tpot("b200_sxm", 8, ""));
  ExecResult bad = Exec("estimate --model deepseek-ai/DeepSeek-R1 --system gb200 --backend sglang --moe-a2a-backend nccl",
                        true);
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("--moe-a2a-backend: nccl not in {none,deepep}"), std::string::npos) << bad.out;
}

// A decode max batch below the load per decode rank makes requests wait for a slot: TTFT grows, the
// smaller decode batch runs faster.
TEST(EstimateCliTest, DecodeMaxBatchSizeQueuesTheFirstTokens) {
  const std::string base = "estimate --model Qwen/Qwen3-32B --system h200_sxm --backend trtllm --mode disagg --isl 1024 "
                           "--osl 256 --concurrency 64 --prefill-tp 2 --decode-tp 2 --prefill-workers 1 "
                           "--decode-workers 1 --format json";
  auto free_slots = ExecJson(base);
  auto capped = ExecJson(base + " --decode-max-batch-size 16");
  ASSERT_TRUE(free_slots.has_value() && capped.has_value());
  EXPECT_GT((*capped)["ttft_ms"].get<double>(), 2.0 * (*free_slots)["ttft_ms"].get<double>());
  EXPECT_LT((*capped)["tpot_ms"].get<double>(), (*free_slots)["tpot_ms"].get<double>());
  EXPECT_EQ((*capped)["decode_batch_size"], 16);  // 64 users on one decode rank: 16 run
  EXPECT_EQ(Exec(base + " --decode-max-batch-size -1").rc, 2);
  // Only the simulated decode workers of a disaggregated deployment have it.
  ExecResult agg = Exec("estimate --model Qwen/Qwen3-32B --system h200_sxm --mode agg --tp 2 --concurrency 8 "
                        "--decode-max-batch-size 4", /*with_stderr=*/true);
  EXPECT_EQ(agg.rc, 2);
  EXPECT_NE(agg.out.find("--decode-max-batch-size limits the decode workers of --mode disagg"), std::string::npos)
      << agg.out;
  ExecResult analytic = Exec(base + " --decode-max-batch-size 16 --latency-model analytic", /*with_stderr=*/true);
  EXPECT_EQ(analytic.rc, 2);
  EXPECT_NE(analytic.out.find("modelled by the scheduler simulation"), std::string::npos) << analytic.out;
  EXPECT_EQ(Exec(base + " --decode-max-batch-size 16 --decode-batch-size 32").rc, 2);
}

// --random-range-ratio: a benchmark's random lengths. The closed form predicts the mean request
// (1024 x 0.9 = 922 tokens each way); the simulation draws each request from the range.
TEST(EstimateCliTest, RandomRangeRatioPredictsTheMeanRequest) {
  const std::string agg = "estimate --model Qwen/Qwen3-32B --system h100_sxm --backend trtllm --mode agg "
                          "--concurrency 32 --tp 4 --format json";
  auto ranged = ExecJson(agg + " --isl 1024 --osl 1024 --random-range-ratio 0.8");
  auto mean = ExecJson(agg + " --isl 922 --osl 922");
  auto longest = ExecJson(agg + " --isl 1024 --osl 1024");
  ASSERT_TRUE(ranged.has_value() && mean.has_value() && longest.has_value());
  EXPECT_DOUBLE_EQ((*ranged)["ttft_ms"].get<double>(), (*mean)["ttft_ms"].get<double>());
  EXPECT_DOUBLE_EQ((*ranged)["tpot_ms"].get<double>(), (*mean)["tpot_ms"].get<double>());
  EXPECT_LT((*ranged)["ttft_ms"].get<double>(), (*longest)["ttft_ms"].get<double>());
  EXPECT_EQ((*ranged)["isl"], 1024);
  EXPECT_EQ((*ranged)["mean_isl"], 922);
  EXPECT_EQ((*ranged)["mean_osl"], 922);
  // Simulated: the mean lengths drawn within ±(1 - 0.8) / (1 + 0.8) = ±1/9 (the double below), not
  // the default ±5 % jitter around them.
  const std::string des = agg + " --latency-model des --requests-per-user 4";
  auto sim_ranged = ExecJson(des + " --isl 1024 --osl 1024 --random-range-ratio 0.8");
  auto sim_range = ExecJson(des + " --isl 922 --osl 922 --isl-spread 0.11111111111111108 --osl-spread 0.11111111111111108");
  auto sim_jitter = ExecJson(des + " --isl 922 --osl 922");
  ASSERT_TRUE(sim_ranged.has_value() && sim_range.has_value() && sim_jitter.has_value());
  EXPECT_DOUBLE_EQ((*sim_ranged)["simulation"]["ttft_ms"]["p99"].get<double>(),
                   (*sim_range)["simulation"]["ttft_ms"]["p99"].get<double>());
  EXPECT_NE((*sim_ranged)["simulation"]["ttft_ms"]["p99"].get<double>(),
            (*sim_jitter)["simulation"]["ttft_ms"]["p99"].get<double>());
  // A ratio of 1 (every request at the given length) keeps the default jitter, which keeps a closed
  // loop out of lock-step.
  auto sim_one = ExecJson(des + " --isl 1024 --osl 1024 --random-range-ratio 1");
  auto sim_default = ExecJson(des + " --isl 1024 --osl 1024");
  ASSERT_TRUE(sim_one.has_value() && sim_default.has_value());
  EXPECT_DOUBLE_EQ((*sim_one)["simulation"]["ttft_ms"]["mean"].get<double>(),
                   (*sim_default)["simulation"]["ttft_ms"]["mean"].get<double>());
  ExecResult zero = Exec(agg + " --random-range-ratio 0", /*with_stderr=*/true);
  EXPECT_EQ(zero.rc, 2);
  EXPECT_NE(zero.out.find("--random-range-ratio: expected a number in (0, 1], found 0"), std::string::npos) << zero.out;
  ExecResult both = Exec(agg + " --random-range-ratio 0.8 --isl-spread 0.1", /*with_stderr=*/true);
  EXPECT_EQ(both.rc, 2);
  EXPECT_NE(both.out.find("excludes"), std::string::npos) << both.out;
}

// --perf-db reads the perfdb layout (DIR/<backend>/<table>.csv[.gz]): a MoE table of
// Qwen3-30B-A3B's expert shape (hidden 2048, inter 768, top-8 of 128) replaces the fitted grid for
// that op; a directory without tables is an error that names what is missing.
TEST(EstimateCliTest, PerfDbMoeTableIsUsedAndAnEmptyDirectoryFails) {
  std::string dir = TempDir() + "/perfdb";
  std::filesystem::create_directories(dir + "/sglang");
  {
    std::ofstream moe(dir + "/sglang/moe_perf.csv");
    moe << "kernel_source,moe_dtype,num_tokens,hidden_size,inter_size,topk,num_experts,moe_tp_size,moe_ep_size,"
           "distribution,latency\n";
    for (int t = 1; t <= 65536; t *= 2) {
      moe << "triton,bfloat16," << t << ",2048,768,8,128,1,1,power_law_1.2," << 0.02 + 0.0001 * t << "\n";
    }
  }
  const std::string args = "estimate --model Qwen/Qwen3-30B-A3B --system h200_sxm --backend sglang --mode static "
                           "--batch-size 4 --isl 1024 --osl 128 --format json --detail --perf-db ";
  ExecResult r = Exec(args + dir);
  ASSERT_EQ(r.rc, 0) << r.out;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["op_sources"]["moe_experts"], "perf-db");
  EXPECT_EQ((*j)["op_sources"]["qkv_gemm"], "measured-fit");  // no GEMM table: the fitted grid
  bool found = false;
  for (const auto& op : (*j)["breakdown"]["decode_step"]) {
    if (op["op"] != "moe_experts") continue;
    found = true;
    // 4 tokens: 0.0204 ms per layer, 48 layers.
    EXPECT_NEAR(op["ms"].get<double>(), 48 * 0.0204, 1e-9);
  }
  EXPECT_TRUE(found) << r.out;
  std::filesystem::remove(dir + "/sglang/moe_perf.csv");
  EXPECT_NE(Exec(args + dir).rc, 0);
  std::filesystem::remove_all(dir);
}

// Flags beyond the modelled limits are argument errors (exit 2, naming the flag) before any
// arithmetic on them; --tp 2^30 --dp 4 used to overflow int (UBSan abort).
TEST(EstimateCliTest, OutOfRangeFlagsAreArgumentErrors) {
  const std::string base = "estimate --model Qwen/Qwen3-32B --system h200_sxm ";
  for (const char* flags : {"--tp 1073741824 --dp 4", "--isl 16777217", "--concurrency 2000000", "--decode-workers 70000",
                            "--moe-ep -1", "--requests-per-user 2000000", "--arrival-rate -1"}) {
    ExecResult r = Exec(base + flags, true);
    EXPECT_EQ(r.rc, 2) << flags << ": " << r.out;
    const std::string flag = std::string(flags).substr(0, std::string(flags).find(' '));
    EXPECT_NE(r.out.find(flag), std::string::npos) << flags << ": " << r.out;
  }
  // Each degree in range, their product not: refused before tp x dp is formed in int (memory and
  // emulate read the same flags).
  for (const char* cmd : {"estimate --model deepseek-ai/DeepSeek-R1 --system h200_sxm",
                          "memory --model deepseek-ai/DeepSeek-R1 --system h200_sxm",
                          "emulate --model deepseek-ai/DeepSeek-R1 --port 0"}) {
    ExecResult r = Exec(std::string(cmd) + " --tp 65536 --dp 65536", true);
    EXPECT_NE(r.rc, 0) << cmd;
    EXPECT_NE(r.out.find("more than 65536 GPUs in one engine"), std::string::npos) << cmd << ": " << r.out;
  }
  // Each flag in range, together too many tokens in flight (1,000 x 1,000 ranks x 16M tokens).
  ExecResult flight = Exec(base + "--mode static --batch-size 1000 --dp 1000 --isl 16000000", true);
  EXPECT_EQ(flight.rc, 2) << flight.out;
  EXPECT_NE(flight.out.find("tokens in flight"), std::string::npos) << flight.out;
  // Within the flag ranges but too large a simulation: a clear error, not minutes of running.
  ExecResult sim = Exec(base + "--latency-model des --concurrency 200000 --isl 100 --osl 100", true);
  EXPECT_EQ(sim.rc, 1) << sim.out;
  EXPECT_NE(sim.out.find("above its limit of 100000"), std::string::npos) << sim.out;
}

// --isl-spread/--osl-spread reach the simulated benchmark. With identical requests SGLang's
// prefill-first scheduler keeps the closed loop in lock-step: all users finish together and their
// next prompts are prefilled in one burst before any decode, so the mean wait before the prefill
// equals the mean wait for the rest of the burst after the first token, (TPOT - ITL)(OSL - 1).
// With the default ±5 % lengths the loop drifts apart and every arrival interrupts the decodes.
TEST(EstimateCliTest, IdenticalRequestsKeepSglangClosedLoopInLockStep) {
  const std::string base = "estimate --model Qwen/Qwen3-32B --system h100_sxm --backend sglang --mode agg --isl 4096 "
                           "--osl 128 --concurrency 128 --tp 8 --latency-model des --format json";
  auto sim = [](const ExecResult& r) {
    auto j = ParseJson(r.out);
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? (*j)["simulation"] : Json();
  };
  ExecResult same = Exec(base + " --isl-spread 0 --osl-spread 0");
  ExecResult spread = Exec(base);
  ASSERT_EQ(same.rc, 0) << same.out;
  ASSERT_EQ(spread.rc, 0) << spread.out;
  auto after_first_token = [](const Json& s) {
    return (s["tpot_ms"]["mean"].get<double>() - s["itl_ms"]["mean"].get<double>()) * 127;
  };
  const Json a = sim(same), b = sim(spread);
  const double queue_ms = a["queue_ms"]["mean"].get<double>();
  EXPECT_NEAR(after_first_token(a), queue_ms, 0.1 * queue_ms);
  EXPECT_GT(after_first_token(b), 2 * b["queue_ms"]["mean"].get<double>());
  EXPECT_GT(a["ttft_ms"]["mean"].get<double>(), 1.5 * b["ttft_ms"]["mean"].get<double>());
  ExecResult bad = Exec(base + " --osl-spread 1.5", true);
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("--osl-spread"), std::string::npos) << bad.out;
}

// How the model id was read is shown: a quantized-variant or alias resolution, and the catalog's
// approximation note, in estimate's and memory's table and JSON; nothing for a plain catalog id.
TEST(EstimateCliTest, ModelNoteSaysHowTheIdWasRead) {
  auto j = ExecJson("estimate --model nvidia/DeepSeek-R1-FP4 --system b200_sxm --backend trtllm --mode static "
                    "--batch-size 8 --tp 8 --format json");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["model"], "nvidia/DeepSeek-R1-FP4");
  EXPECT_EQ((*j)["model_note"],
            "'nvidia/DeepSeek-R1-FP4' resolved to catalog entry deepseek-ai/DeepSeek-R1 with nvfp4 weights");
  auto plain = ExecJson("estimate --model Qwen/Qwen3-32B --system h200_sxm --format json");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->contains("model_note"));
  ExecResult table = Exec("estimate --model meta-llama/Llama-3.1-8B-Instruct --system h200_sxm");
  ASSERT_EQ(table.rc, 0) << table.out;
  EXPECT_NE(table.out.find("model note   'meta-llama/Llama-3.1-8B-Instruct' resolved to catalog entry meta-llama/Llama-3.1-8B"),
            std::string::npos)
      << table.out;
  ExecResult mem = Exec("memory --model zai-org/GLM-5 --system b200_sxm --backend sglang --tp 16");
  EXPECT_EQ(mem.rc, 0) << mem.out;
  EXPECT_NE(mem.out.find("note     DSA: indexer ops"), std::string::npos) << mem.out;
}

// emulate's server and engine flags and memory's length flags are range-checked too: --port 70000
// used to bind port 4464 (70000 mod 65536), --max-model-len -5 failed on "max_batch_size and
// max_num_tokens must be positive", --http-threads 0 served with no threads.
TEST(EstimateCliTest, EmulateAndMemoryFlagsOutOfRangeAreArgumentErrors) {
  for (const char* flags : {"--port 70000", "--http-threads 0", "--kv-tokens -1", "--max-model-len -5",
                            "--max-num-tokens -1", "--max-num-seqs 0"}) {
    ExecResult r = Exec(std::string("emulate --model Qwen/Qwen3-8B --system h200_sxm ") + flags, true);
    EXPECT_EQ(r.rc, 2) << flags << ": " << r.out;
    const std::string flag = std::string(flags).substr(0, std::string(flags).find(' '));
    EXPECT_NE(r.out.find(flag + ": Value"), std::string::npos) << flags << ": " << r.out;
  }
  ExecResult mem = Exec("memory --model Qwen/Qwen3-8B --system h200_sxm --max-model-len 2000000000", true);
  EXPECT_EQ(mem.rc, 2) << mem.out;
  EXPECT_NE(mem.out.find("--max-model-len: Value 2000000000 not in range"), std::string::npos) << mem.out;
}

// bench against an endpoint where no request completes prints its report (with the errors) and
// exits 1 instead of 0 with a table of zeros; a malformed --url is an argument error (2).
TEST(BenchCliTest, NothingCompletedFailsAndBadUrlIsAnArgumentError) {
  ExecResult down = Exec("bench --url http://127.0.0.1:9 --model m --requests 2 --isl 8 --osl 4 --timeout-s 5", true);
  EXPECT_EQ(down.rc, 1) << down.out;
  EXPECT_NE(down.out.find("errors                                2"), std::string::npos) << down.out;
  EXPECT_NE(down.out.find("error: no request completed"), std::string::npos) << down.out;
  ExecResult port = Exec("bench --url http://127.0.0.1:99999 --model m --requests 1", true);
  EXPECT_EQ(port.rc, 2) << port.out;
  EXPECT_NE(port.out.find("--url: bad port in URL"), std::string::npos) << port.out;
}

TEST(EstimateCliTest, UnknownModelFails) {
  EXPECT_NE(Exec("estimate --model no/such-model --system h200_sxm").rc, 0);
}

TEST(EstimateCliTest, FromCsvWritesOneRowPerInput) {
  std::string dir = TempDir();
  std::string in = dir + "/rows.csv", out = dir + "/pred.csv";
  std::ofstream(in)
      << kSiliconHeader << "\n"
      << "ok1,silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h200_sxm,bf16,agg,1024,1024,,,8,2,1,1,1,1,,,,,,,,,,,,,,,100,10\n"
         "\"quoted,id\",silicon_concurrency=16,trtllm,,deepseek-ai/DeepSeek-R1,h200_sxm,fp8,disagg,1024,1024,fp8_block,"
         "fp8_block,,,,,,,,,8,1,1,8,1,,,8,1,1,8,1,300,20\n"
         "bad,,vllm,,no/such-model,h200_sxm,,agg,1024,1024,,,8,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"
         "garbled,,vllm,,Qwen/Qwen3-32B,h200_sxm,,agg,x,1024,,,8,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n";
  ExecResult r = Exec("estimate --from-csv " + in + " --out " + out);
  ASSERT_EQ(r.rc, 0);
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  EXPECT_EQ(text.substr(0, text.find('\n')), "id,pred_ttft_ms,pred_tpot_ms,status,error,calibration");
  int lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 5);
  EXPECT_NE(text.find("ok1,"), std::string::npos);
  EXPECT_NE(text.find("\"quoted,id\","), std::string::npos);
  EXPECT_NE(text.find(",ok,"), std::string::npos);
  EXPECT_NE(text.find(",ok,,h200_sxm/trtllm/disagg/deepseek-ai/DeepSeek-R1/fp8@*\n"), std::string::npos) << text;
  EXPECT_NE(text.find(",ok,,\n"), std::string::npos) << text;  // Qwen3-32B on H200 vLLM: no family
  EXPECT_NE(text.find("bad,,,error,"), std::string::npos);
  EXPECT_NE(text.find("garbled,,,error,"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// --recipes completes rows by id: the prediction of an overlaid row is the prediction of the row
// with those fields written in, and a run says how many rows it completed.
TEST(AccuracyCliTest, RecipesCompleteRowsById) {
  std::string dir = TempDir();
  const std::string header = kSiliconHeader;
  const std::string agg = "silicon_concurrency=4,trtllm,,deepseek-ai/DeepSeek-R1,b200_sxm,fp8,agg,1024,1024,fp8_block,"
                          "fp8_block,4,8,1,1,8,1,,,,,,,,,,,,,,,300,6";
  const std::string disagg_recorded = "silicon_concurrency=64,trtllm,,deepseek-ai/DeepSeek-R1,gb200,fp4,disagg,1024,1024,"
                                      "nvfp4,nvfp4,,,,,,,,,4,1,1,1,4,,,8,1,1,2,4,400,9";
  const std::string disagg_deployed = "silicon_concurrency=64,trtllm,,deepseek-ai/DeepSeek-R1,gb200,fp4,disagg,1024,1024,"
                                      "nvfp4,nvfp4,,,,,,,,1,1,1,4,1,4,,2,1,1,8,1,8,400,9";
  const std::string plain_row = "q,silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h200_sxm,bf16,agg,1024,1024,,,8,2,1,1,1,1,"
                                ",,,,,,,,,,,,,,100,10";
  std::ofstream(dir + "/rows.csv") << header << "\n"
                                   << "a," << agg << "\n"
                                   << "d," << disagg_recorded << "\n"
                                   << plain_row << "\n";
  std::ofstream(dir + "/merged.csv") << header << ",mtp_draft_tokens,mtp_acceptance\n"
                                     << "a," << agg << ",3,\"0.85,0.85,0.85\"\n"
                                     << "d," << disagg_deployed << ",,\n"
                                     << plain_row << ",,\n";
  std::ofstream(dir + "/recipes.csv")
      << "id,mtp_draft_tokens,mtp_acceptance,prefill_num_workers,prefill_tp_size,prefill_attention_dp_size,"
         "prefill_moe_tp_size,prefill_moe_ep_size,decode_num_workers,decode_tp_size,decode_attention_dp_size,"
         "decode_moe_tp_size,decode_moe_ep_size,note\n"
         "a,3,\"0.85,0.85,0.85\",,,,,,,,,,,mtp recipe\n"
         "d,,,1,1,4,1,4,2,1,8,1,8,dep layouts\n"
         "gone,1,0.9,,,,,,,,,,,not in rows\n";
  auto rows_out = [&](const std::string& args) {
    ExecResult r = Exec(args, true);
    EXPECT_EQ(r.rc, 0) << r.out;
    std::ifstream f(dir + "/out.csv");
    std::stringstream ss;
    ss << f.rdbuf();
    return std::pair{r.out, ss.str()};
  };
  auto [log_plain, plain] = rows_out("accuracy --silicon " + dir + "/rows.csv --rows-out " + dir + "/out.csv");
  auto [log_recipes, with_recipes] = rows_out("accuracy --silicon " + dir + "/rows.csv --recipes " + dir +
                                              "/recipes.csv --rows-out " + dir + "/out.csv");
  auto [log_merged, merged] = rows_out("accuracy --silicon " + dir + "/merged.csv --rows-out " + dir + "/out.csv");
  EXPECT_NE(with_recipes.find("\na,b200_sxm,trtllm,agg,ok,"), std::string::npos) << with_recipes;
  EXPECT_NE(with_recipes.find("\nd,gb200,trtllm,disagg,ok,"), std::string::npos) << with_recipes;
  EXPECT_EQ(with_recipes, merged);
  EXPECT_NE(with_recipes, plain);
  // The last column says which deployment each row was predicted as: the recipes give the
  // disaggregated row its worker counts and layouts, the aggregated one its MTP drafts.
  EXPECT_NE(plain.find(",?xtp4pp1dp1etp1ep4/?xtp8pp1dp1etp2ep4/b0/mtp-1\n"), std::string::npos) << plain;
  EXPECT_NE(with_recipes.find(",1xtp1pp1dp4etp1ep4/2xtp1pp1dp8etp1ep8/b0/mtp-1\n"), std::string::npos)
      << with_recipes;
  EXPECT_NE(plain.find(",tp8pp1dp1etp8ep1/mtp-1\n"), std::string::npos) << plain;
  EXPECT_NE(with_recipes.find(",tp8pp1dp1etp8ep1/mtp3\n"), std::string::npos) << with_recipes;
  EXPECT_NE(log_recipes.find("recipes: 2 of 3 rows completed from " + dir +
                             "/recipes.csv (1 recipe ids not among the rows)"),
            std::string::npos)
      << log_recipes;
  EXPECT_EQ(log_plain.find("recipes:"), std::string::npos);

  // estimate --from-csv reads them the same way.
  ExecResult e1 = Exec("estimate --from-csv " + dir + "/rows.csv --recipes " + dir + "/recipes.csv");
  ExecResult e2 = Exec("estimate --from-csv " + dir + "/merged.csv");
  EXPECT_EQ(e1.rc, 0);
  EXPECT_EQ(e2.rc, 0);
  EXPECT_EQ(e1.out, e2.out);
  ExecResult needs = Exec("estimate --model Qwen/Qwen3-32B --system h200_sxm --recipes " + dir + "/recipes.csv", true);
  EXPECT_EQ(needs.rc, 2);
  EXPECT_NE(needs.out.find("--recipes requires --from-csv"), std::string::npos) << needs.out;

  // A bad rows or recipes file fails the run (exit 1) with a message naming it.
  auto expect_failure = [&](const std::string& rows, const std::string& recipes, const std::string& message) {
    ExecResult r = Exec("accuracy --silicon " + dir + "/" + rows + " --recipes " + dir + "/" + recipes, true);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find(dir + "/" + message), std::string::npos) << r.out;
  };
  std::ofstream(dir + "/repeated.csv") << "id,mtp_draft_tokens\na,1\na,2\n";
  expect_failure("rows.csv", "repeated.csv", "repeated.csv: line 3: id 'a' appears twice (expected one override per row)");
  std::ofstream(dir + "/no_id.csv") << "name,isl\nx,1\n";
  expect_failure("no_id.csv", "recipes.csv", "no_id.csv: no 'id' column (expected one to apply --recipes by row id)");
  std::filesystem::remove_all(dir);
}

TEST(AccuracyCliTest, SharedSiliconRows) {
  const std::string silicon = std::string(DYPROF_SOURCE_DIR) + "/../shared/data/silicon/train.csv";
  if (!std::filesystem::exists(silicon)) {
    GTEST_SKIP() << "../shared/data/silicon/train.csv not present (needs /work/shared); skipping";
  }
  // The closed form keeps this format check fast; the default (hybrid) takes about two minutes.
  ExecResult r = Exec("accuracy --latency-model analytic --silicon " + silicon);
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("| system | backend | mode | rows | supported | predicted | coverage % |", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("| all | all | all | "), std::string::npos);
}

TEST(EstimateCliTest, CalibrationCorrectsAMeasuredFamilyAndNoneTurnsItOff) {
  // Llama-3.1-8B on H100 TensorRT-LLM aggregated: a family of data/calibration/silicon.csv (the
  // 131 rows of NVIDIA's silicon samples); no --backend-version, so the pooled entry.
  const std::string args = "estimate --model meta-llama/Llama-3.1-8B --system h100_sxm --backend trtllm --tp 2 "
                           "--isl 2048 --osl 256 --concurrency 32 --format json";
  auto on = ExecJson(args);
  auto off = ExecJson(args + " --calibration none");
  ASSERT_TRUE(on && off);
  ASSERT_TRUE((*on)["calibration"].is_object()) << on->dump();
  const Json& c = (*on)["calibration"];
  EXPECT_EQ(c["family"], "h100_sxm/trtllm/agg/meta-llama/Llama-3.1-8B/bf16@*");
  EXPECT_GE(c["rows"].get<int>(), 3);
  EXPECT_TRUE((*off)["calibration"].is_null());
  const double ttft_off = (*off)["ttft_ms"].get<double>(), tpot_off = (*off)["tpot_ms"].get<double>();
  EXPECT_DOUBLE_EQ(c["uncalibrated_ttft_ms"].get<double>(), ttft_off);
  EXPECT_DOUBLE_EQ(c["uncalibrated_tpot_ms"].get<double>(), tpot_off);
  EXPECT_NEAR((*on)["ttft_ms"].get<double>(), ttft_off * c["ttft_factor"].get<double>(), 1e-9 * ttft_off);
  EXPECT_NEAR((*on)["tpot_ms"].get<double>(), tpot_off * c["tpot_factor"].get<double>(), 1e-9 * tpot_off);
  EXPECT_NE(c["ttft_factor"].get<double>(), 1.0);
  // The latency and the closed loop's throughput follow the corrected TTFT and TPOT.
  const double ttft = (*on)["ttft_ms"].get<double>(), tpot = (*on)["tpot_ms"].get<double>();
  const double latency = (*on)["request_latency_ms"].get<double>();
  EXPECT_NEAR(latency - (*off)["request_latency_ms"].get<double>(), (ttft - ttft_off) + 255 * (tpot - tpot_off),
              1e-6 * latency);
  EXPECT_NEAR((*on)["request_rate"].get<double>() * latency,
              (*off)["request_rate"].get<double>() * (*off)["request_latency_ms"].get<double>(), 1e-6 * latency);
  EXPECT_NEAR((*on)["tokens_per_s_per_user"].get<double>(), 1000.0 / tpot, 1e-9);

  // The table output says which entry it used; a family the table lacks says so.
  ExecResult table = Exec("estimate --model meta-llama/Llama-3.1-8B --system h100_sxm --backend trtllm --tp 2 "
                          "--isl 2048 --osl 256 --concurrency 32 --backend-version 1.0.0rc3");
  EXPECT_NE(table.out.find("calibration  h100_sxm/trtllm/agg/meta-llama/Llama-3.1-8B/bf16@1.0.0rc3 ("),
            std::string::npos)
      << table.out;
  ExecResult unknown = Exec("estimate --model Qwen/Qwen3-8B --system l40s --backend vllm --concurrency 4");
  EXPECT_NE(unknown.out.find("calibration  none (no measured family in data/calibration/silicon.csv)"),
            std::string::npos)
      << unknown.out;
  // Disaggregated (simulated): the simulation's TTFT distribution and its queueing move with the
  // TTFT factor, the TPOT of a disaggregated family is not corrected.
  const std::string disagg = "estimate --model deepseek-ai/DeepSeek-R1 --system b200_sxm --backend trtllm --mode "
                             "disagg --isl 1024 --osl 1024 --concurrency 64 --prefill-tp 8 --decode-tp 8 "
                             "--prefill-workers 1 --decode-workers 1 --format json";
  auto d_on = ExecJson(disagg);
  auto d_off = ExecJson(disagg + " --calibration none");
  ASSERT_TRUE(d_on && d_off);
  ASSERT_TRUE((*d_on)["calibration"].is_object()) << d_on->dump();
  const double k = (*d_on)["calibration"]["ttft_factor"].get<double>();
  EXPECT_EQ((*d_on)["calibration"]["tpot_factor"].get<double>(), 1.0);
  EXPECT_NEAR((*d_on)["simulation"]["ttft_ms"]["mean"].get<double>(), (*d_on)["ttft_ms"].get<double>(), 1e-6);
  for (const char* key : {"ttft_ms", "queue_ms"}) {
    for (const char* stat : {"mean", "p50", "p99"}) {
      EXPECT_NEAR((*d_on)["simulation"][key][stat].get<double>(), k * (*d_off)["simulation"][key][stat].get<double>(),
                  1e-6 * (*d_on)["simulation"][key][stat].get<double>())
          << key << " " << stat;
    }
  }
  // Poisson arrivals (simulated): the arrival rate sets the throughput, calibration leaves it; the
  // closed form has no arrival rate, so there the closed loop's Little's law holds.
  auto open_on = ExecJson(disagg + " --arrival-rate 2");
  auto open_off = ExecJson(disagg + " --arrival-rate 2 --calibration none");
  auto agg_rate = ExecJson(args + " --arrival-rate 5");
  ASSERT_TRUE(open_on && open_off && agg_rate);
  EXPECT_NE((*open_on)["ttft_ms"].get<double>(), (*open_off)["ttft_ms"].get<double>());
  EXPECT_DOUBLE_EQ((*open_on)["request_rate"].get<double>(), (*open_off)["request_rate"].get<double>());
  EXPECT_NEAR((*agg_rate)["request_rate"].get<double>() * (*agg_rate)["request_latency_ms"].get<double>(),
              (*off)["request_rate"].get<double>() * (*off)["request_latency_ms"].get<double>(), 1e-6 * latency);

  // It corrects the model it was fitted on only.
  auto des = ExecJson(args + " --latency-model des");
  ASSERT_TRUE(des);
  EXPECT_TRUE((*des)["calibration"].is_null());
  ExecResult des_table = Exec("estimate --model meta-llama/Llama-3.1-8B --system h100_sxm --backend trtllm --tp 2 "
                              "--isl 2048 --osl 256 --concurrency 32 --latency-model des");
  EXPECT_NE(des_table.out.find("calibration  none (the table corrects --latency-model hybrid, not des)"),
            std::string::npos)
      << des_table.out;
  ExecResult bad = Exec(args + " --calibration fitted", true);
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("--calibration: fitted not in {shipped,none}"), std::string::npos) << bad.out;
}

TEST(AccuracyCliTest, CalibrationHeldOutMovesRowsTowardsTheirFamilyAndWritesTheTable) {
  std::string dir = TempDir() + "/calibration";
  std::filesystem::create_directories(dir);
  const std::string header = kSiliconHeader;
  // Four sweeps of one family, all measured 20x slower than any model of them would say.
  std::ofstream rows(dir + "/rows.csv");
  rows << header << "\n";
  int n = 0;
  for (int isl : {512, 1024, 2048, 4096}) {
    rows << "r" << n++ << ",silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h200_sxm,bf16,agg," << isl
         << ",256,,,8,2,1,1,1,1,,,,,,,,,,,,,,,20000,400\n";
  }
  rows.close();
  auto run = [&](const std::string& extra) {
    ExecResult r = Exec("accuracy --silicon " + dir + "/rows.csv --rows-out " + dir + "/out.csv " + extra, true);
    EXPECT_EQ(r.rc, 0) << r.out;
    std::ifstream f(dir + "/out.csv");
    std::vector<std::pair<double, double>> ttft_tpot;
    std::string line;
    std::getline(f, line);
    while (std::getline(f, line)) {  // id,system,backend,mode,status,meas_ttft,pred_ttft,meas_tpot,pred_tpot,...
      std::stringstream ss(line);
      std::string field;
      for (int k = 0; k < 7; ++k) std::getline(ss, field, ',');
      const double ttft = std::stod(field);
      for (int k = 0; k < 2; ++k) std::getline(ss, field, ',');
      ttft_tpot.emplace_back(ttft, std::stod(field));
    }
    return ttft_tpot;
  };
  auto none = run(""), held = run("--calibration held-out --write-calibration " + dir + "/cal.csv");
  ExecResult said = Exec("accuracy --silicon " + dir + "/rows.csv --calibration held-out", true);
  EXPECT_NE(said.out.find("calibration (held out: each row's configuration sweep left out): 4 of 4 measured predicted "
                          "rows corrected"),
            std::string::npos)
      << said.out;
  // Here each sweep is one ISL: leaving the lengths out leaves out the same rows.
  EXPECT_EQ(run("--calibration held-out-workload"), held);
  // Two layouts at each of two ISLs: without its sweep a row keeps three others (corrected), without
  // its lengths two (too few: uncorrected).
  std::ofstream layouts(dir + "/layouts.csv");
  layouts << header << "\n";
  for (int isl : {512, 1024}) {
    for (int tp : {1, 2}) {
      layouts << "l" << isl << "tp" << tp << ",silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h200_sxm,bf16,agg,"
              << isl << ",256,,,8," << tp << ",1,1,1,1,,,,,,,,,,,,,,,20000,400\n";
    }
  }
  layouts.close();
  for (auto [mode, said] :
       {std::pair{"held-out", "calibration (held out: each row's configuration sweep left out): 4 of 4"},
        std::pair{"held-out-workload", "calibration (held out: each row's ISL/OSL pair left out): 0 of 4"}}) {
    ExecResult r = Exec("accuracy --silicon " + dir + "/layouts.csv --calibration " + mode, true);
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find(said), std::string::npos) << mode << ": " << r.out;
  }
  ASSERT_EQ(none.size(), 4u);
  ASSERT_EQ(held.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    // TPOT: each row corrected by the other three sweeps (the same OSL), shrunk (3 rows are not
    // the whole story). TTFT: each sweep is the family's only row at its ISL, and at an ISL the
    // family has not measured TTFT is left uncorrected.
    EXPECT_LT(none[i].second, 400) << i;
    EXPECT_GT(held[i].second, 1.5 * none[i].second) << i;
    EXPECT_LT(held[i].second, 400) << i;
    EXPECT_EQ(held[i].first, none[i].first) << i;
  }
  std::ifstream f(dir + "/cal.csv");
  std::stringstream table;
  table << f.rdbuf();
  EXPECT_NE(table.str().find("h200_sxm,vllm,agg,Qwen/Qwen3-32B,bf16,0.19.0,4,4,8,8,"), std::string::npos)
      << table.str();
  EXPECT_NE(table.str().find("h200_sxm,vllm,agg,Qwen/Qwen3-32B,bf16,*,4,4,8,8,"), std::string::npos) << table.str();

  // estimate applies a table of one's own measurements instead of the shipped one.
  const std::string qwen = "estimate --model Qwen/Qwen3-32B --system h200_sxm --backend vllm --tp 2 --isl 1024 "
                           "--osl 256 --concurrency 8 --backend-version 0.19.0 --calibration-table ";
  ExecResult own = Exec(qwen + dir + "/cal.csv");
  EXPECT_EQ(own.rc, 0) << own.out;
  EXPECT_NE(own.out.find("calibration  h200_sxm/vllm/agg/Qwen/Qwen3-32B/bf16@0.19.0 (4 measured rows): TTFT x"),
            std::string::npos)
      << own.out;
  // Its row at ISL 1024 and 8 users, near the request and of its layout, moves the TTFT line.
  EXPECT_NE(own.out.find("; TTFT from the family's line and its 1 measured row at this ISL near this load with this "
                         "layout\n"),
            std::string::npos)
      << own.out;
  EXPECT_EQ(own.out.find("beyond the family's measurements"), std::string::npos) << own.out;
  EXPECT_EQ(own.out.find("not measured"), std::string::npos) << own.out;
  // Beyond the measured loads and lengths the factors are the edge's, and the line says so.
  const std::string qwen_beyond = "estimate --model Qwen/Qwen3-32B --system h200_sxm --backend vllm --tp 2 --isl 8192 "
                                  "--osl 256 --concurrency 64 --backend-version 0.19.0 --calibration-table " +
                                  dir + "/cal.csv";
  ExecResult beyond = Exec(qwen_beyond);
  ASSERT_EQ(beyond.rc, 0) << beyond.out;
  EXPECT_NE(beyond.out.find("; beyond the family's measurements, read at their edge: concurrency 64 at 8, ISL 8192 "
                            "at 4096; lengths the family has not measured: ISL 8192 (measured 512, 1024, 2048, "
                            "4096) (TTFT left uncorrected at that ISL)\n"),
            std::string::npos)
      << beyond.out;
  EXPECT_NE(beyond.out.find("TTFT x1.000 (model"), std::string::npos) << beyond.out;
  ExecResult beyond_json = Exec(qwen_beyond + " --format json");
  ASSERT_EQ(beyond_json.rc, 0) << beyond_json.out;
  EXPECT_NE(beyond_json.out.find("\"read_at_edge\": \"concurrency 64 at 8, ISL 8192 at 4096\""), std::string::npos)
      << beyond_json.out;
  EXPECT_NE(beyond_json.out.find("\"ttft_neighbours\": 0"), std::string::npos) << beyond_json.out;
  ExecResult missing = Exec(qwen + dir + "/absent.csv", true);
  EXPECT_EQ(missing.rc, 1) << missing.out;
  EXPECT_NE(missing.out.find(dir + "/absent.csv"), std::string::npos) << missing.out;
  std::ofstream(dir + "/bad.csv") << "system,backend\nh200_sxm,vllm\n";
  ExecResult malformed = Exec(qwen + dir + "/bad.csv", true);
  EXPECT_EQ(malformed.rc, 1) << malformed.out;
  EXPECT_NE(malformed.out.find(dir + "/bad.csv: calibration table: missing column 'mode'"), std::string::npos)
      << malformed.out;
  ExecResult both = Exec(qwen + dir + "/cal.csv --calibration none", true);
  EXPECT_EQ(both.rc, 2) << both.out;

  ExecResult refused =
      Exec("accuracy --silicon " + dir + "/rows.csv --calibration shipped --write-calibration " + dir + "/x.csv", true);
  EXPECT_EQ(refused.rc, 2) << refused.out;
  EXPECT_NE(refused.out.find("expected --calibration none or a held-out reading, found shipped"),
            std::string::npos)
      << refused.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.csv"));
  ExecResult other_model = Exec("accuracy --silicon " + dir + "/rows.csv --latency-model des --write-calibration " +
                                    dir + "/x.csv",
                                true);
  EXPECT_EQ(other_model.rc, 2) << other_model.out;
  EXPECT_NE(other_model.out.find("corrects --latency-model hybrid"), std::string::npos) << other_model.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.csv"));
  std::filesystem::remove_all(dir);
}

TEST(AccuracyCliTest, ShippedCalibrationMatchesTheModelItCorrects) {
  // The table corrects the model's errors, so a change to the model needs a refit
  // (data/calibration/README.md). Two families stand guard, refitted on their rows of train.csv:
  // their entries must be the shipped ones. One aggregated (the closed form: 131 rows of NVIDIA's
  // silicon samples), one disaggregated (the simulation: 91 InferenceX rows completed by their recipes).
  const std::string silicon = std::string(DYPROF_SOURCE_DIR) + "/../shared/data/silicon/train.csv";
  if (!std::filesystem::exists(silicon)) {
    GTEST_SKIP() << "../shared/data/silicon/train.csv not present (needs /work/shared); skipping";
  }
  std::ifstream in(silicon);
  std::stringstream all;
  all << in.rdbuf();
  auto table = CsvTable::Parse(all.str());
  ASSERT_TRUE(table.ok()) << table.status().message();
  std::string dir = TempDir() + "/guard";
  std::filesystem::create_directories(dir);
  auto lines_of = [](const std::string& path, const std::string& prefix) {
    std::ifstream f(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(f, line);) {
      if (line.rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
  };
  struct Guard {
    std::string system, backend, mode, model_path;  // model_path "" = every model
    std::string recipes, prefix;
    size_t entries;
  };
  const std::string recipes = std::string(DYPROF_SOURCE_DIR) + "/tools/silicon_recipes/inferencex_recipes.csv";
  for (const Guard& g : {Guard{"h100_sxm", "trtllm", "agg", "meta-llama/Llama-3.1-8B-Instruct", "",
                               "h100_sxm,trtllm,agg,meta-llama/Llama-3.1-8B,", 2},
                         Guard{"b300_sxm", "trtllm", "disagg", "", recipes, "b300_sxm,trtllm,disagg,", 4}}) {
    std::string rows = CsvLine(table->header());
    for (size_t i = 0; i < table->num_rows(); ++i) {
      if (table->Get(i, "system") == g.system && table->Get(i, "backend") == g.backend &&
          table->Get(i, "mode") == g.mode && (g.model_path.empty() || table->Get(i, "model_path") == g.model_path)) {
        rows += CsvLine(table->row(i));
      }
    }
    std::ofstream(dir + "/rows.csv") << rows;
    ExecResult r = Exec("accuracy --silicon " + dir + "/rows.csv --write-calibration " + dir + "/cal.csv" +
                            (g.recipes.empty() ? "" : " --recipes " + g.recipes),
                        true);
    ASSERT_EQ(r.rc, 0) << r.out;
    std::vector<std::string> refit = lines_of(dir + "/cal.csv", g.prefix);
    EXPECT_EQ(refit.size(), g.entries) << g.prefix;
    EXPECT_EQ(refit, lines_of(std::string(DYPROF_SOURCE_DIR) + "/data/calibration/silicon.csv", g.prefix))
        << g.prefix << ": the model changed since data/calibration/silicon.csv was fitted: regenerate it";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dyprof

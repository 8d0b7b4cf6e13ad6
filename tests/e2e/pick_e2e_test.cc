// End-to-end: the binary on specs for each picking mode, checking pick.json and the side files.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

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

// Qwen3-32B on H100 vLLM at 1k/1k: a family the shipped calibration has measured (ISL 1024 among
// its lengths), so the aggregated candidates are corrected unless --calibration none.
constexpr const char* kCalibratedSpec =
    R"({"model":"Qwen/Qwen3-32B","backend":"vllm","image":"nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.0.1",)"
    R"("hardware":{"gpuSku":"h100_sxm","totalGpus":8,"numGpusPerNode":8},"workload":{"isl":1024,"osl":1024},)"
    R"("sla":{"ttft":2000,"itl":50}})";

TEST(PickE2E, AggregatedCandidatesCorrectedByTheShippedCalibration) {
  TempDir shipped_dir, none_dir;
  ProfileRun shipped = Profile(shipped_dir, kCalibratedSpec);
  ProfileRun none = Profile(none_dir, kCalibratedSpec, {"--calibration", "none"});
  ASSERT_EQ(shipped.result.exit_code, 0) << shipped.result.stderr_text;
  ASSERT_EQ(none.result.exit_code, 0) << none.result.stderr_text;

  const Json& record = shipped.pick["calibration"];
  ASSERT_TRUE(record.is_object()) << shipped.pick.dump(2);
  EXPECT_EQ(record["table"], "data/calibration/silicon.csv");
  EXPECT_EQ(record["agg"]["vllm"]["family"], "h100_sxm/vllm/agg/Qwen/Qwen3-32B/bf16@*");
  EXPECT_EQ(record["agg"]["vllm"]["ttft_corrected"], true);
  EXPECT_TRUE(none.pick["calibration"].is_null());
  EXPECT_NE(ReadFileOrEmpty(shipped.dir + "/profile_sla.log")
                .find("Calibration: aggregated vllm candidates corrected by the measured family"),
            std::string::npos);

  // Every aggregated row of the top list carries its factors, and they are what separates it from
  // the same configuration predicted by the model alone; disaggregated rows are the model's.
  // Keyed by description and, for aggregated rows, the token budget (the description leaves it out).
  auto rows_of = [](const Json& pick, const std::string& mode) {
    std::map<std::string, Json> rows;
    for (const auto& row : pick["top"]) {
      if (row["mode"] != mode) continue;
      std::string key = row["description"].get<std::string>();
      if (row.contains("engine")) key += " budget " + row["engine"]["max_num_tokens"].dump();
      rows[key] = row;
    }
    return rows;
  };
  int compared = 0, with_neighbours = 0;
  const auto uncorrected = rows_of(none.pick, "agg");
  for (const auto& [description, row] : rows_of(shipped.pick, "agg")) {
    ASSERT_TRUE(row.contains("calibration")) << description;
    // The family measured ISL 1024 at loads near some of the candidates': those say from how many rows.
    with_neighbours += row["calibration"]["ttft_neighbours"].get<int>() > 0 ? 1 : 0;
    auto same = uncorrected.find(description);
    if (same == uncorrected.end()) continue;
    ++compared;
    EXPECT_FALSE(same->second.contains("calibration"));
    EXPECT_NEAR(row["tpot_ms"].get<double>(),
                same->second["tpot_ms"].get<double>() * row["calibration"]["tpot_factor"].get<double>(), 1e-6)
        << description;
    EXPECT_NEAR(row["ttft_ms"].get<double>(),
                same->second["ttft_ms"].get<double>() * row["calibration"]["ttft_factor"].get<double>(), 1e-6)
        << description;
  }
  EXPECT_GT(compared, 0);
  EXPECT_GT(with_neighbours, 0);
  const auto uncorrected_disagg = rows_of(none.pick, "disagg");
  for (const auto& [description, row] : rows_of(shipped.pick, "disagg")) {
    EXPECT_FALSE(row.contains("calibration")) << description;
    auto same = uncorrected_disagg.find(description);
    if (same != uncorrected_disagg.end()) EXPECT_EQ(row["ttft_ms"], same->second["ttft_ms"]) << description;
  }
}

// The shipped table's line for the spec's family with every coefficient 0 but the TPOT intercept,
// ln(pred / meas) = -ln 2, and no TTFT residuals: a table of one's own that doubles TPOT at any
// load and length.
std::string OwnTableDoublingTpot() {
  const std::string shipped = ReadFileOrEmpty(SourcePath("data/calibration/silicon.csv"));
  std::istringstream in(shipped);
  std::string header, line, out;
  std::getline(in, header);
  std::vector<std::string> names;
  for (std::istringstream h(header); std::getline(h, line, ',');) names.push_back(line);
  while (std::getline(in, line)) {
    if (line.rfind("h100_sxm,vllm,agg,Qwen/Qwen3-32B,bf16,*,", 0) != 0) continue;
    std::vector<std::string> fields;
    for (std::istringstream l(line); std::getline(l, out, ',');) fields.push_back(out);
    for (size_t i = 0; i < names.size() && i < fields.size(); ++i) {
      if (names[i].find("intercept") != std::string::npos || names[i].find("slope") != std::string::npos)
        fields[i] = names[i] == "tpot_intercept" ? "-0.6931471805599453" : "0";
      if (names[i] == "ttft_residuals") fields[i] = "";
    }
    std::string joined;
    for (size_t i = 0; i < fields.size(); ++i) joined += (i ? "," : "") + fields[i];
    return header + "\n" + joined + "\n";
  }
  return "";
}

TEST(PickE2E, CalibrationTableOfOnesOwnCorrectsTheSearch) {
  TempDir dir;
  const std::string table = OwnTableDoublingTpot();
  ASSERT_FALSE(table.empty()) << "the shipped table has no h100_sxm vLLM Qwen3-32B bf16 aggregated family";
  const std::string path = dir.File("mine.csv");
  { std::ofstream(path, std::ios::binary) << table; }
  ProfileRun r = Profile(dir, kCalibratedSpec, {"--calibration-table", path});
  ASSERT_EQ(r.result.exit_code, 0) << r.result.stderr_text;
  EXPECT_EQ(r.pick["calibration"]["table"], path);
  int rows = 0;
  for (const auto& row : r.pick["top"]) {
    if (row["mode"] != "agg") continue;
    ++rows;
    EXPECT_DOUBLE_EQ(row["calibration"]["tpot_factor"].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(row["calibration"]["ttft_factor"].get<double>(), 1.0);
  }
  EXPECT_GT(rows, 0);

  // A table that does not parse, a missing one, or one beside --calibration none: exit 2, the
  // status file says why.
  { std::ofstream(dir.File("bad.csv")) << "system,backend\nh100_sxm\n"; }
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--calibration-table", dir.File("bad.csv")},
        std::vector<std::string>{"--calibration-table", dir.File("absent.csv")},
        std::vector<std::string>{"--calibration-table", path, "--calibration", "none"}}) {
    TempDir out;
    ProfileRun bad = Profile(out, kCalibratedSpec, extra);
    EXPECT_EQ(bad.result.exit_code, 2) << extra[1];
    const std::string status = ReadFileOrEmpty(bad.dir + "/profiler_status.yaml");
    EXPECT_NE(status.find("status: failed"), std::string::npos) << status;
    EXPECT_NE(status.find("--calibration-table"), std::string::npos) << status;
    EXPECT_FALSE(Exists(bad.dir + "/final_config.yaml"));
  }
}

TEST(PickE2E, CalibrationFlagRejectsAnUnknownValue) {
  TempDir dir;
  ProfileRun r = Profile(dir, kCalibratedSpec, {"--calibration", "held-out"});
  EXPECT_NE(r.result.exit_code, 0);
  EXPECT_NE(r.result.stderr_text.find("--calibration"), std::string::npos) << r.result.stderr_text;
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

// End-to-end: --rerank-top (issue 9), the top candidates of each serving mode re-ranked by the
// scheduler simulation, and its argument check.
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

std::vector<std::string> Strings(const Json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) out.push_back(v.get<std::string>());
  return out;
}

// The pick.json "top" entries of one serving mode, in order.
std::vector<Json> TopOf(const Json& pick, const std::string& mode) {
  std::vector<Json> out;
  for (const auto& row : pick["top"])
    if (row["mode"] == mode) out.push_back(row);
  return out;
}

TEST(RerankE2E, TopThreeReRankedAndRecorded) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", SourcePath("examples/qwen3-32b-h200.yaml"), "--output-dir", dir.File("out"),
                             "--rerank-top", "3"},
                            ".", {"DGDR_NAME=e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  Json pick = ReadJson(dir.File("out/pick.json"));
  ASSERT_TRUE(pick.contains("rerank")) << pick.dump(2);
  const Json& rr = pick["rerank"];
  EXPECT_EQ(rr["top_n"], 3);
  EXPECT_EQ(rr["percentile"], "p90");
  EXPECT_EQ(rr["targets"]["ttft_ms"], 300.0);
  EXPECT_EQ(rr["targets"]["itl_ms"], 10.0);
  for (const char* mode : {"agg", "disagg"}) {
    SCOPED_TRACE(mode);
    // (A mode may have no row under the SLA: this spec's disagg list is empty.)
    std::vector<std::string> before = Strings(rr[mode]["before"]), after = Strings(rr[mode]["after"]);
    EXPECT_TRUE(std::is_permutation(before.begin(), before.end(), after.begin(), after.end()));
    // Rows past the third are not simulated and keep their places.
    for (size_t i = 3; i < before.size(); ++i) EXPECT_EQ(before[i], after[i]);
    // Verdicts of the re-ranked rows, in the new order: meets, then unknown, then misses.
    std::vector<std::string> verdicts = Strings(rr[mode]["p90_sla"]);
    EXPECT_EQ(verdicts.size(), std::min<size_t>(3, before.size()));
    auto rank = [](const std::string& v) { return v == "meets" ? 0 : v == "unknown" ? 1 : 2; };
    EXPECT_TRUE(std::is_sorted(verdicts.begin(), verdicts.end(),
                               [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); }));
    // pick.json "top" follows the re-ranked order; the simulated rows carry their figures.
    std::vector<Json> top = TopOf(pick, mode);
    ASSERT_EQ(top.size(), after.size());
    for (size_t i = 0; i < top.size(); ++i) {
      EXPECT_EQ(top[i]["description"], after[i]);
      if (i < verdicts.size()) {
        ASSERT_TRUE(top[i]["load_simulation"].is_object()) << i;
        EXPECT_LE(top[i]["load_simulation"]["ttft_ms"]["p50"].get<double>(),
                  top[i]["load_simulation"]["ttft_ms"]["p90"].get<double>());
      } else {
        EXPECT_FALSE(top[i].contains("load_simulation")) << i;
      }
    }
  }
  // The pick is the first row of its mode after re-ranking, and its load simulation is that row's.
  const std::string exp = pick["chosen_exp"].get<std::string>();
  ASSERT_FALSE(rr[exp]["after"].empty());
  EXPECT_EQ(pick["chosen"]["description"], rr[exp]["after"][0]);
  EXPECT_EQ(pick["load_simulation"], TopOf(pick, exp).front()["load_simulation"]);
  EXPECT_EQ(rr["pick_changed"].get<bool>(), rr[exp]["before"][0] != rr[exp]["after"][0]);
  EXPECT_NE(ReadFileOrEmpty(dir.File("out/profile_sla.log")).find("Re-ranking the top 3 by scheduler simulation"),
            std::string::npos);

  // Without the flag: no record, no per-row figures, and the closed-form first row is the pick.
  TempDir plain;
  RunResult p = RunProfiler({"--config", SourcePath("examples/qwen3-32b-h200.yaml"), "--output-dir",
                             plain.File("out")},
                            ".", {"DGDR_NAME=e2e"});
  ASSERT_EQ(p.exit_code, 0) << p.stderr_text;
  Json plain_pick = ReadJson(plain.File("out/pick.json"));
  EXPECT_FALSE(plain_pick.contains("rerank"));
  for (const auto& row : plain_pick["top"]) EXPECT_FALSE(row.contains("load_simulation"));
  EXPECT_EQ(plain_pick["chosen_exp"], pick["chosen_exp"]);
  EXPECT_EQ(plain_pick["chosen"]["description"], rr[exp]["before"][0]);
}

TEST(RerankE2E, NegativeValueIsRejected) {
  TempDir dir;
  RunResult r = RunProfiler({"--config", SourcePath("examples/qwen3-32b-h200.yaml"), "--output-dir", dir.File("out"),
                             "--rerank-top", "-1"},
                            ".", {"DGDR_NAME=e2e"});
  EXPECT_EQ(r.exit_code, 2);  // the documented exit code for invalid arguments
  EXPECT_NE(r.stderr_text.find("--rerank-top: must be a whole number >= 0"), std::string::npos) << r.stderr_text;
  EXPECT_FALSE(Exists(dir.File("out/final_config.yaml")));
}

}  // namespace
}  // namespace dyprof::testing

// Golden tests: tests/golden/<case>/{spec.yaml, decision.json[, options.json]} → expected.yaml.
// Suffixes come from a SequenceSuffixGenerator and are normalised anyway. DYPROF_UPDATE_GOLDEN=1
// rewrites expected.yaml (and picked.yaml when the case writes picked_dgd_config.yaml).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "render/render.h"
#include "spec/spec_parser.h"

namespace dyprof {
namespace {

namespace fs = std::filesystem;

fs::path GoldenDir() { return fs::path(DYPROF_SOURCE_DIR) / "tests" / "golden"; }

std::vector<std::string> GoldenCases() {
  std::vector<std::string> out;
  if (!fs::exists(GoldenDir())) return out;
  for (const auto& e : fs::directory_iterator(GoldenDir()))
    if (e.is_directory() && fs::exists(e.path() / "spec.yaml")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Normalize(const std::string& yaml) {
  static const std::regex kSuffix("(planner-config|planner-profile-data)-[0-9a-f]{4}");
  return std::regex_replace(yaml, kSuffix, "$1-XXXX");
}

EnginePick ParseEngine(const Json& j) {
  EnginePick e;
  if (!j.is_object()) return e;
  e.split.tp = j.value("tp", 1);
  e.split.pp = j.value("pp", 1);
  e.split.dp = j.value("dp", 1);
  e.split.moe_tp = j.value("moe_tp", 1);
  e.split.moe_ep = j.value("moe_ep", 1);
  e.replicas = j.value("replicas", 1);
  e.max_batch_size = j.value("max_batch_size", 0);
  e.max_num_tokens = j.value("max_num_tokens", 0);
  return e;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesExpected) {
  fs::path dir = GoldenDir() / GetParam();
  auto doc = ParseYaml(ReadText(dir / "spec.yaml"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto parsed = ParseDgdrSpec(*doc);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  DgdrSpec spec = parsed->spec;

  auto dj = ParseJson(ReadText(dir / "decision.json"));
  ASSERT_TRUE(dj.ok()) << dj.status().message();
  Decision d;
  d.backend = ParseBackend(dj->value("backend", "vllm")).value_or(Backend::kVllm);
  d.disagg = dj->value("disagg", false);
  d.naive = dj->value("naive", false);
  d.agg = ParseEngine(dj->value("agg", Json()));
  d.prefill = ParseEngine(dj->value("prefill", Json()));
  d.decode = ParseEngine(dj->value("decode", Json()));

  RenderOptions ro;
  ro.dgdr_name = spec.dgdr_name.value_or("golden");
  if (spec.hardware && spec.hardware->num_gpus_per_node) ro.num_gpus_per_node = *spec.hardware->num_gpus_per_node;
  if (fs::exists(dir / "options.json")) {
    auto oj = ParseJson(ReadText(dir / "options.json"));
    ASSERT_TRUE(oj.ok()) << oj.status().message();
    if (oj->contains("api_version")) {
      auto v = ParseDgdApiVersion((*oj)["api_version"].get<std::string>());
      ASSERT_TRUE(v.ok());
      ro.api_version = *v;
    }
    if (oj->contains("dgdr_name")) ro.dgdr_name = (*oj)["dgdr_name"].get<std::string>();
    ro.sweep_max_context_length = oj->value("sweep_max_context_length", 0);
    if (oj->contains("profile_data"))
      ro.profile_data = ProfileData{(*oj)["profile_data"].value("prefill", Json()), (*oj)["profile_data"].value("decode", Json())};
  }

  SequenceSuffixGenerator suffixes;
  auto rendered = RenderDeployment(spec, d, ro, suffixes);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  std::string got = rendered->FinalYaml();
  std::string picked = rendered->write_picked ? rendered->PickedYaml() : "";

  const char* update = std::getenv("DYPROF_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(dir / "expected.yaml") << got;
    if (!picked.empty()) std::ofstream(dir / "picked.yaml") << picked;
    else fs::remove(dir / "picked.yaml");
    GTEST_SKIP() << "regenerated " << (dir / "expected.yaml").string();
  }
  ASSERT_TRUE(fs::exists(dir / "expected.yaml")) << "missing; run with DYPROF_UPDATE_GOLDEN=1";
  EXPECT_EQ(Normalize(ReadText(dir / "expected.yaml")), Normalize(got));
  if (!picked.empty()) EXPECT_EQ(ReadText(dir / "picked.yaml"), picked);
  EXPECT_EQ(fs::exists(dir / "picked.yaml"), !picked.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(GoldenCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenTest);

}  // namespace
}  // namespace dyprof

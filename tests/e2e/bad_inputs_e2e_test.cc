// The bad-input suite (issue 11): the binary on hostile specs, model configs and output
// directories. Every case must fail cleanly: exit code non-zero and below 128 (no signal, no
// sanitizer abort), profiler_status.yaml "failed" with an error naming the key path and the
// problem, no final_config.yaml, and nothing else left in the output directory but the log.
// Static cases live in tests/bad_inputs/ (one file each, its expected error in the table below);
// large, deep and binary cases are generated here at test time.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "common/document.h"
#include "e2e_util.h"

namespace dyprof::testing {
namespace {

namespace fs = std::filesystem;

Json ReadYaml(const std::string& path) {
  auto r = ParseYaml(ReadFileOrEmpty(path));
  return r.ok() ? *r : Json();
}

// A valid bare spec that profiles in well under a second; cases break one thing in it.
Json BaseSpec() {
  return Json{{"model", "Qwen/Qwen3-0.6B"},
              {"backend", "vllm"},
              {"image", "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.1"},
              {"hardware", {{"gpuSku", "h200_sxm"}, {"numGpusPerNode", 8}}},
              {"workload", {{"isl", 3000}, {"osl", 150}}},
              {"sla", {{"ttft", 2000.0}, {"itl", 30.0}}}};
}

// The base spec with the value at JSON pointer `ptr` replaced (or added).
std::string With(const std::string& ptr, const Json& value) {
  Json doc = BaseSpec();
  doc[Json::json_pointer(ptr)] = value;
  return ToYaml(doc);
}
// The base spec with `key: <raw YAML text>` appended under the top level.
std::string WithRaw(const std::string& line) { return ToYaml(BaseSpec()) + line + "\n"; }
std::string Without(const std::string& ptr) {
  Json doc = BaseSpec();
  Json::json_pointer p(ptr);
  doc[p.parent_pointer()].erase(p.back());
  return ToYaml(doc);
}

struct Case {
  std::string name;
  std::string file;                   // spec file name in the temp dir ("" → inline --config)
  std::function<std::string()> text;  // its contents (or the inline --config value)
  std::string expect;                 // substring of profiler_status.yaml's error
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Case Yaml(std::string name, std::function<std::string()> text, std::string expect) {
  return {std::move(name), "spec.yaml", std::move(text), std::move(expect)};
}
std::string Deep(int n, const std::string& open, const std::string& close) {
  std::string s;
  for (int i = 0; i < n; ++i) s += open;
  s += "1";
  for (int i = 0; i < n; ++i) s += close;
  return s;
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  auto add = [&](std::string name, std::string ptr, Json value, std::string expect) {
    c.push_back(Yaml(std::move(name), [ptr, value] { return With(ptr, value); }, std::move(expect)));
  };
  const double kNan = std::numeric_limits<double>::quiet_NaN(), kInf = std::numeric_limits<double>::infinity();

  // Wrong types, at every level of the spec.
  add("model_number", "/model", 5, "model: expected a string, found an integer");
  add("model_list", "/model", Json::array({"a"}), "model: expected a string, found a list");
  add("backend_number", "/backend", 1, "backend: expected a string");
  add("image_mapping", "/image", Json{{"a", 1}}, "image: expected a string, found a mapping");
  add("auto_apply_int", "/autoApply", 1, "autoApply: expected a boolean");
  add("hardware_string", "/hardware", "h200", "hardware: expected a mapping, found a string");
  add("gpus_per_node_string", "/hardware/numGpusPerNode", "eight", "hardware.numGpusPerNode: expected an integer");
  add("gpus_per_node_fraction", "/hardware/numGpusPerNode", 2.5, "hardware.numGpusPerNode: expected an integer");
  add("gpu_sku_list", "/hardware/gpuSku", Json::array({"h200_sxm"}), "hardware.gpuSku: expected a string");
  add("total_gpus_bool", "/hardware/totalGpus", true, "hardware.totalGpus: expected an integer, found a boolean");
  add("rdma_string", "/hardware/rdma", "yes", "hardware.rdma: expected a boolean");
  add("workload_list", "/workload", Json::array({1, 2}), "workload: expected a mapping, found a list");
  add("isl_string", "/workload/isl", "long", "workload.isl: expected an integer, found a string");
  add("concurrency_string", "/workload/concurrency", "10", "workload.concurrency: expected a number, found a string");
  add("sla_number", "/sla", 5, "sla: expected a mapping");
  add("ttft_mapping", "/sla/ttft", Json{{"p50", 1}}, "sla.ttft: expected a number, found a mapping");
  add("features_list", "/features", Json::array(), "features: expected a mapping");
  add("planner_number", "/features/planner", 7, "features.planner: expected a mapping");
  add("planner_flag_string", "/features/planner/enable_load_scaling", "yes",
      "features.planner.enable_load_scaling: expected a boolean");
  add("mocker_enabled_string", "/features/mocker/enabled", "on", "features.mocker.enabled: expected a boolean");
  add("kv_router_string", "/features/kvRouter", "on", "features.kvRouter: expected a mapping");
  add("overrides_dgd_string", "/overrides/dgd", "x", "overrides.dgd: expected a mapping");
  add("trust_remote_code_string", "/overrides/trustRemoteCode", "true", "overrides.trustRemoteCode: expected a boolean");
  add("overrides_dgd_services_list", "/overrides/dgd",
      Json{{"apiVersion", "nvidia.com/v1beta1"}, {"kind", "DynamoGraphDeployment"}, {"spec", {{"services", Json::array({1, "x"})}}}},
      "overrides.dgd");
  add("pvc_name_number", "/modelCache/pvcName", 3, "modelCache.pvcName: expected a string");
  c.push_back(Yaml("whole_dgdr_spec_string", [] {
    return ToYaml(Json{{"apiVersion", "nvidia.com/v1beta1"}, {"kind", "DynamoGraphDeploymentRequest"}, {"spec", "x"}});
  }, "spec: expected a mapping, found a string"));
  c.push_back(Yaml("whole_dgdr_nested_type", [] {
    Json spec = BaseSpec();
    spec["hardware"]["totalGpus"] = "all";
    return ToYaml(Json{{"apiVersion", "nvidia.com/v1beta1"}, {"kind", "DynamoGraphDeploymentRequest"},
                       {"metadata", {{"name", "bad"}}}, {"spec", spec}});
  }, "spec.hardware.totalGpus: expected an integer, found a string"));

  // Negative, zero, huge, NaN and infinite numbers.
  add("gpus_per_node_negative", "/hardware/numGpusPerNode", -8, "'hardware.numGpusPerNode' must be a positive integer");
  add("gpus_per_node_zero", "/hardware/numGpusPerNode", 0, "'hardware.numGpusPerNode' must be a positive integer");
  add("gpus_per_node_huge", "/hardware/numGpusPerNode", 99999999999LL, "hardware.numGpusPerNode: expected an integer in");
  add("total_gpus_negative", "/hardware/totalGpus", -1, "hardware.totalGpus: expected an integer in [0, 100000]");
  add("vram_negative", "/hardware/vramMb", -1, "hardware.vramMb: must be positive");
  add("vram_nan", "/hardware/vramMb", kNan, "hardware.vramMb: expected a finite number");
  add("isl_zero", "/workload/isl", 0, "workload.isl: expected an integer in [1, 10000000]");
  add("isl_negative", "/workload/isl", -3000, "workload.isl: expected an integer in [1, 10000000]");
  add("osl_huge", "/workload/osl", 1e12, "workload.osl: expected an integer in [1, 10000000]");
  add("concurrency_negative", "/workload/concurrency", -3, "workload.concurrency: must be positive");
  add("request_rate_zero", "/workload/requestRate", 0, "workload.requestRate: must be positive");
  add("request_rate_inf", "/workload/requestRate", kInf, "workload.requestRate: expected a finite number");
  add("ttft_negative", "/sla/ttft", -1, "ttft must be positive");
  add("itl_zero", "/sla/itl", 0, "itl must be positive");
  add("ttft_nan", "/sla/ttft", kNan, "sla.ttft: expected a finite number, found nan");
  add("itl_inf", "/sla/itl", kInf, "sla.itl: expected a finite number, found inf");
  add("itl_negative_inf", "/sla/itl", -kInf, "sla.itl: expected a finite number, found -inf");
  add("e2e_latency_negative", "/sla/e2eLatency", -5, "e2eLatency must be positive");
  c.push_back(Yaml("ttft_overflows_double", [] {
    return ToYaml(Json{{"model", "Qwen/Qwen3-0.6B"}, {"image", "i"}}) + "sla:\n  ttft: 1e400\n  itl: 30\n";
  }, "sla.ttft: expected a finite number, found inf"));
  c.push_back(Yaml("isl_overflows_int64", [] {
    return ToYaml(Json{{"model", "Qwen/Qwen3-0.6B"}, {"image", "i"}}) + "workload:\n  isl: 99999999999999999999999\n";
  }, "workload.isl: expected an integer in [1, 10000000]"));
  c.push_back(Yaml("isl_hex_overflow", [] {
    return ToYaml(Json{{"model", "Qwen/Qwen3-0.6B"}, {"image", "i"}}) + "workload:\n  isl: 0xFFFFFFFFFFFFFFFFFFFFFFFF\n";
  }, "workload.isl: expected an integer in [1, 10000000]"));

  // Unknown enum values (gpuSku: see UnknownGpuSkuTakesTheNaiveFallback below).
  add("backend_unknown", "/backend", "tensorflow", "backend: expected one of auto, sglang, trtllm, vllm, found 'tensorflow'");
  add("backend_typo", "/backend", "vlm", "(did you mean 'vllm'?)");
  add("search_strategy_unknown", "/searchStrategy", "fast", "searchStrategy: expected one of rapid, thorough, found 'fast'");
  add("optimization_type_unknown", "/sla/optimizationType", "fastest", "sla.optimizationType: expected one of latency, throughput");
  add("sweeping_mode_unknown", "/features/planner/pre_deployment_sweeping_mode", "sometimes",
      "features.planner.pre_deployment_sweeping_mode: expected one of none, rapid, thorough");
  add("optimization_target_unknown", "/features/planner/optimization_target", "speed",
      "features.planner.optimization_target: expected one of throughput, latency, sla, load");
  add("runtime_version_junk", "/runtimeVersionOverride", "latest", "runtimeVersionOverride: expected a version like 1.2.3");
  c.push_back(Yaml("kind_unknown", [] {
    return ToYaml(Json{{"apiVersion", "v1"}, {"kind", "Deployment"}, {"spec", BaseSpec()}});
  }, "kind: expected DynamoGraphDeploymentRequest, found 'Deployment'"));

  // Empty strings.
  add("model_empty", "/model", "", "model: required, must be a non-empty string");
  add("image_empty", "/image", "", "'image' is required in the DGDR spec.");
  add("gpu_sku_empty", "/hardware/gpuSku", "", "'hardware.gpuSku' is required in the DGDR spec.");
  add("backend_empty", "/backend", "", "backend: expected one of auto, sglang, trtllm, vllm, found ''");
  add("search_strategy_empty", "/searchStrategy", "", "searchStrategy: expected one of rapid, thorough, found ''");
  c.push_back(Yaml("model_missing", [] { return Without("/model"); }, "model: required"));
  c.push_back(Yaml("hardware_missing", [] { return Without("/hardware"); }, "'hardware' is required in the DGDR spec."));

  // Malformed documents.
  c.push_back(Yaml("yaml_unclosed_flow", [] { return std::string("model: [unclosed\nimage: i\n"); }, "invalid YAML at line"));
  c.push_back(Yaml("yaml_bad_indent", [] { return std::string("model: m\n  image: i\n bad: 1\n"); }, "invalid YAML at line"));
  c.push_back(Yaml("yaml_duplicate_anchor_junk", [] { return std::string("a: *nosuch\n"); }, "invalid YAML"));
  c.push_back(Yaml("yaml_top_level_list", [] { return std::string("- model\n- image\n"); }, "spec: expected a mapping, found a list"));
  c.push_back(Yaml("yaml_top_level_scalar", [] { return std::string("hello\n"); }, "spec: expected a mapping, found a string"));
  c.push_back(Yaml("yaml_empty_file", [] { return std::string(); }, "spec: expected a mapping, found null"));
  c.push_back(Yaml("yaml_non_scalar_key", [] { return std::string("? [a, b]\n: 1\nmodel: m\n"); }, "mapping keys must be scalars"));
  c.push_back({"json_truncated", "spec.json", [] { return std::string(R"({"model": "m", "image": )"); }, "invalid JSON"});
  c.push_back({"json_nan_literal", "spec.json", [] { return std::string(R"({"model": "m", "sla": {"ttft": NaN}})"); }, "invalid JSON"});
  c.push_back({"json_trailing_garbage", "spec.json", [] { return std::string(R"({"model": "m"} })"); }, "invalid JSON"});
  c.push_back({"inline_json_junk", "", [] { return std::string(R"({"model": )"); },
               "--config value is neither a valid file path nor valid JSON"});
  c.push_back({"config_path_missing", "", [] { return std::string("no/such/spec.yaml"); },
               "--config value is neither a valid file path nor valid JSON"});

  // Deeply nested junk and expansion bombs.
  c.push_back(Yaml("yaml_nested_200_in_overrides", [] {
    std::string s = ToYaml(BaseSpec()) + "overrides:\n  dgd: " + Deep(200, "{a: ", "}") + "\n";
    return s;
  }, "nested deeper than 128 levels"));
  c.push_back(Yaml("yaml_nested_100k_flow", [] { return "model: " + Deep(100000, "[", "]") + "\n"; }, "invalid YAML"));
  c.push_back({"json_nested_1m", "spec.json", [] { return "{\"model\": " + Deep(1000000, "[", "]") + "}"; },
               "invalid JSON: document is nested deeper than 128 levels"});
  c.push_back(Yaml("yaml_billion_laughs", [] {
    std::string s = ToYaml(BaseSpec()) + "overrides:\n  profilingJob:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
      s += "    l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) s += std::string(k ? ", " : "") + "*l" + std::to_string(i - 1);
      s += "]\n";
    }
    return s;
  }, "document expands to more than 1000000 nodes"));

  // Sizes: a 10 MB spec (a huge comment) is refused before parsing; a 3 MB model id (under the
  // limit) fails the model lookup quickly, with the id clipped in the message.
  c.push_back(Yaml("spec_10mb", [] { return ToYaml(BaseSpec()) + "# " + std::string(10 << 20, 'x') + "\n"; },
                   "bytes; the limit is 4 MiB"));
  add("model_id_3mb", "/model", std::string(3 << 20, 'q'), "unknown model 'qqqq");
  c.push_back(Yaml("many_unknown_keys", [] {
    std::string s = ToYaml(BaseSpec()) + "junk:\n";
    for (int i = 0; i < 50000; ++i) s += "  k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
    return s + "image: \"\"\n";
  }, "'image' is required in the DGDR spec."));

  // Bytes that are not UTF-8.
  c.push_back(Yaml("yaml_latin1_model", [] { return WithRaw("") + "extra: caf\xe9\n"; }, "not UTF-8 text (byte 0xe9)"));
  c.push_back(Yaml("yaml_random_binary", [] {
    std::string s;
    uint32_t x = 12345;
    for (int i = 0; i < 4096; ++i) {
      x = x * 1103515245u + 12345u;
      s += static_cast<char>((x >> 16) & 0xff);
    }
    return s;
  }, "invalid YAML"));
  c.push_back({"json_invalid_utf8", "spec.json", [] { return std::string("{\"model\": \"\xff\xfe\"}"); }, "invalid JSON"});
  c.push_back(Yaml("yaml_nul_byte", [] { static const char kText[] = "model: a\0b\nimage: i\n";
    return std::string(kText, sizeof kText - 1); }, "control character 0x00 is not allowed"));
  c.push_back(Yaml("yaml_eot_byte", [] { return std::string("\0\0\0,\x04", 5); }, "control character 0x00"));

  // Models: unknown ids (not in the catalog, no local directory) fail naming the id and the
  // closest catalog entries; a local directory must hold a readable, modellable config.json.
  add("model_unknown_id", "/model", "acme/NoSuchModel-7B", "unknown model 'acme/NoSuchModel-7B'");
  add("model_unknown_closest", "/model", "Qwen/Qwen3-9B", "(closest: Qwen/Qwen3-8B");
  add("model_missing_local_path", "/model", "/nonexistent/models/llama", "unknown model '/nonexistent/models/llama'");
  return c;
}

class BadInput : public ::testing::TestWithParam<Case> {};

// Asserts the common contract for a failed run into `out`; `preexisting` files are left alone.
void ExpectCleanFailure(const RunResult& r, const std::string& out, const std::string& expect,
                        const std::vector<std::string>& preexisting = {}) {
  EXPECT_NE(r.exit_code, 0) << r.stderr_text;
  EXPECT_LT(r.exit_code, 128) << "crashed:\n" << r.stderr_text.substr(0, 4000);
  Json status = ReadYaml(out + "/profiler_status.yaml");
  EXPECT_EQ(status.value("status", ""), "failed") << ReadFileOrEmpty(out + "/profiler_status.yaml").substr(0, 2000);
  std::string error = status.value("error", "");
  EXPECT_NE(error.find(expect), std::string::npos) << "error: " << error.substr(0, 2000) << "\nwanted: " << expect;
  EXPECT_LT(error.size(), 4096u) << "the status message echoes too much input";
  EXPECT_FALSE(Exists(out + "/final_config.yaml"));
  for (const auto& f : ListDir(out)) {
    bool allowed = f == "profiler_status.yaml" || f == "profile_sla.log" ||
                   std::find(preexisting.begin(), preexisting.end(), f) != preexisting.end();
    EXPECT_TRUE(allowed) << "partial output left behind: " << f;
  }
}

TEST_P(BadInput, FailsCleanlyNamingTheProblem) {
  const Case& c = GetParam();
  TempDir dir;
  std::string config;
  if (c.file.empty()) {
    config = c.text();
  } else {
    config = dir.File(c.file);
    std::ofstream(config, std::ios::binary) << c.text();
  }
  RunResult r = RunProfiler({"--config", config, "--output-dir", dir.File("out")}, dir.path(), {"DGDR_NAME=bad-input"});
  ExpectCleanFailure(r, dir.File("out"), c.expect);
}

INSTANTIATE_TEST_SUITE_P(Specs, BadInput, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// Static files under tests/bad_inputs/ (hand-written specs and model directories): every file
// there must be listed here with its expected error, so a new case cannot be silently skipped.
struct StaticCase {
  const char* file;
  const char* expect;
};
const StaticCase kStatic[] = {
    {"tabs-and-junk.yaml", "invalid YAML at line"},
    {"wrong-types-everywhere.yaml", "hardware.numGpusPerNode: expected an integer"},
    {"planner-args-not-list.yaml", "features.planner.plannerArgsList: expected a list"},
    {"mocker-without-sweep.yaml", "pre_deployment_sweeping_mode cannot be 'none' when mocker is enabled"},
    {"concurrency-and-rate.json", "Only one of 'concurrency' or 'requestRate' can be provided"},
    {"thorough-auto-backend.yaml", "THOROUGH search strategy does not support 'auto' backend"},
    {"model-dir-no-config.yaml", "unknown model"},
    {"model-dir-bad-json.yaml", "config.json"},
    {"model-dir-huge-dims.yaml", "hidden_size is out of range"},
    {"model-dir-no-architectures.yaml", "has no architectures list"},
};

TEST(BadInputFiles, EveryFileFailsCleanly) {
  std::vector<std::string> listed;
  for (const auto& c : kStatic) {
    SCOPED_TRACE(c.file);
    listed.push_back(c.file);
    TempDir dir;
    RunResult r = RunProfiler({"--config", SourcePath(std::string("tests/bad_inputs/") + c.file), "--output-dir",
                               dir.File("out")},
                              SourcePath("tests/bad_inputs"), {"DGDR_NAME=bad-input"});
    ExpectCleanFailure(r, dir.File("out"), c.expect);
  }
  for (const auto& f : ListDir(SourcePath("tests/bad_inputs"))) {
    if (f == "README.md" || fs::is_directory(SourcePath("tests/bad_inputs/" + f))) continue;
    EXPECT_NE(std::find(listed.begin(), listed.end(), f), listed.end()) << f << " is not in kStatic";
  }
}

// A model that fits on no GPU count of the cluster: exit 3. Decision: the search's diagnostics
// (pick.json with the reason, candidates.csv, pareto.csv, report.html) are complete files that
// explain why nothing fits - the reference writes them too - so they stay; final_config.yaml
// must not exist and no temp file may remain.
TEST(BadInputModels, ModelThatFitsNowhereFailsWithTheReason) {
  TempDir dir;
  Json spec = BaseSpec();
  spec["model"] = "deepseek-ai/DeepSeek-R1";
  spec["hardware"] = {{"gpuSku", "l4"}, {"numGpusPerNode", 1}, {"totalGpus", 1}};
  RunResult r = RunProfiler({"--config", spec.dump(), "--output-dir", dir.File("out")}, dir.path(), {"DGDR_NAME=bad-input"});
  EXPECT_EQ(r.exit_code, 3) << r.stderr_text;
  Json status = ReadYaml(dir.File("out/profiler_status.yaml"));
  EXPECT_EQ(status["status"], "failed");
  EXPECT_NE(status.value("error", "").find("no configuration fits on 1 x l4"), std::string::npos) << status.dump();
  EXPECT_FALSE(Exists(dir.File("out/final_config.yaml")));
  for (const auto& f : ListDir(dir.File("out"))) EXPECT_EQ(f.find(".tmp"), std::string::npos) << f;
  auto pick = ParseJson(ReadFileOrEmpty(dir.File("out/pick.json")));
  ASSERT_TRUE(pick.ok());
  EXPECT_TRUE(pick->contains("error")) << pick->dump();
}

// Unknown GPU SKU. Decision: accepted. The operator fills gpuSku from node labels, so SKUs the
// performance model has never seen are legitimate; like the reference (AIC unsupported → naive
// memory-fit config), rapid mode succeeds with a warning naming the known SKUs and marks the SLA
// unverified in pick.json rather than refusing to deploy anything.
TEST(BadInputModels, UnknownGpuSkuTakesTheNaiveFallback) {
  TempDir dir;
  Json spec = BaseSpec();
  spec["hardware"]["gpuSku"] = "quantum_qpu9000";
  RunResult r = RunProfiler({"--config", spec.dump(), "--output-dir", dir.File("out")}, dir.path(), {"DGDR_NAME=bad-input"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("unknown GPU system 'quantum_qpu9000'"), std::string::npos) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("The SLA is unverified"), std::string::npos) << r.stderr_text;
  auto pick = ParseJson(ReadFileOrEmpty(dir.File("out/pick.json")));
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ((*pick)["sla_verified"], false);
  EXPECT_EQ((*pick)["mode"], "naive");
}

// Output directories that cannot be used. The status file cannot be written into them, so the
// contract is: non-zero exit, a message on stderr naming the path, nothing created or changed.
TEST(BadInputOutputDir, ExistingFileIsLeftAlone) {
  TempDir dir;
  { std::ofstream(dir.File("occupied")) << "keep me"; }
  RunResult r = RunProfiler({"--config", BaseSpec().dump(), "--output-dir", dir.File("occupied")}, dir.path(),
                            {"DGDR_NAME=bad-input"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);
  EXPECT_NE(r.stderr_text.find("output path exists and is not a directory"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(dir.File("occupied")), "keep me");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"occupied"});
}

TEST(BadInputOutputDir, PathUnderAFileFails) {
  TempDir dir;
  { std::ofstream(dir.File("occupied")) << "keep me"; }
  RunResult r = RunProfiler({"--config", BaseSpec().dump(), "--output-dir", dir.File("occupied/out")}, dir.path(),
                            {"DGDR_NAME=bad-input"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);
  EXPECT_NE(r.stderr_text.find(dir.File("occupied")), std::string::npos) << r.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(dir.File("occupied")), "keep me");
}

TEST(BadInputOutputDir, ReadOnlyDirectoryFails) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  fs::create_directory(dir.File("ro"));
  chmod(dir.File("ro").c_str(), 0555);
  RunResult r = RunProfiler({"--config", BaseSpec().dump(), "--output-dir", dir.File("ro/out")}, dir.path(),
                            {"DGDR_NAME=bad-input"});
  chmod(dir.File("ro").c_str(), 0755);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);
  EXPECT_TRUE(ListDir(dir.File("ro")).empty());
}

// An existing output directory holding the user's own files and an earlier run's result: a
// failed run removes the stale final_config.yaml and touches nothing else.
TEST(BadInputOutputDir, ExistingDirectoryKeepsUnrelatedFiles) {
  TempDir dir;
  fs::create_directory(dir.File("out"));
  { std::ofstream(dir.File("out/notes.txt")) << "mine"; }
  { std::ofstream(dir.File("out/final_config.yaml")) << "stale: true\n"; }
  { std::ofstream(dir.File("spec.yaml")) << With("/workload/isl", -1); }
  RunResult r = RunProfiler({"--config", dir.File("spec.yaml"), "--output-dir", dir.File("out")}, dir.path(),
                            {"DGDR_NAME=bad-input"});
  ExpectCleanFailure(r, dir.File("out"), "workload.isl: expected an integer in [1, 10000000]", {"notes.txt"});
  EXPECT_EQ(ReadFileOrEmpty(dir.File("out/notes.txt")), "mine");
}

}  // namespace
}  // namespace dyprof::testing

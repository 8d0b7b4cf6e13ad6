// Replays every input under fuzz/regressions/<fuzzer>/ through the fuzzers' entry points
// (fuzz/fuzz_entry.h): inputs that once crashed, hung or leaked must now be handled, in the
// ordinary build and under the sanitizers (make test-sanitize).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../fuzz/fuzz_entry.h"

namespace dyprof {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Inputs(const std::string& fuzzer) {
  std::vector<std::string> out;
  fs::path dir = fs::path(DYPROF_SOURCE_DIR) / "fuzz" / "regressions" / fuzzer;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Replay(const std::string& fuzzer, void (*entry)(const uint8_t*, size_t)) {
  auto inputs = Inputs(fuzzer);
  EXPECT_FALSE(inputs.empty()) << "no regression inputs for " << fuzzer;
  for (const auto& path : inputs) {
    SCOPED_TRACE(path);
    std::string bytes = Read(path);
    entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
}

TEST(FuzzRegression, SpecInputs) { Replay("spec_fuzzer", &fuzz::SpecEntry); }
TEST(FuzzRegression, HfConfigInputs) { Replay("hf_config_fuzzer", &fuzz::HfConfigEntry); }

}  // namespace
}  // namespace dyprof

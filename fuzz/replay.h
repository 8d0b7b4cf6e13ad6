// Replaying saved fuzzer inputs in the unit tests: every file under
// fuzz/regressions/<fuzzer>/ (README.md aside), in name order, fed to an entry point.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dyprof::fuzz {

// Feeds each saved input of `fuzzer` to `entry`; a test failure when there is none.
inline void ReplayRegressions(const std::string& fuzzer, void (*entry)(const uint8_t*, size_t)) {
  namespace fs = std::filesystem;
  std::vector<std::string> inputs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(DYPROF_SOURCE_DIR) / "fuzz" / "regressions" / fuzzer, ec))
    if (e.is_regular_file() && e.path().filename() != "README.md") inputs.push_back(e.path().string());
  std::sort(inputs.begin(), inputs.end());
  EXPECT_FALSE(inputs.empty()) << "no regression inputs for " << fuzzer;
  for (const auto& path : inputs) {
    SCOPED_TRACE(path);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
}

}  // namespace dyprof::fuzz

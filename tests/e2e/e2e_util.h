// Helpers for end-to-end tests: run the built binary in a fresh temp directory and read its files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dyprof::testing {

struct RunResult {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs DYPROF_BINARY with `args` (no shell: each arg is passed as is) in `cwd`.
RunResult RunProfiler(const std::vector<std::string>& args, const std::string& cwd = ".",
                      const std::vector<std::string>& env = {});

std::string ReadFileOrEmpty(const std::string& path);
bool Exists(const std::string& path);
// Sorted names of the files in `dir` (not recursive).
std::vector<std::string> ListDir(const std::string& dir);
std::string SourcePath(const std::string& rel);

}  // namespace dyprof::testing

// Logger: the profiler's log lines, "2026-03-04 12:00:00 - dynamo.profiler - INFO - message",
// written to stderr and, once attached, to {output_dir}/profile_sla.log. Secrets registered with
// AddSecret are masked in every line.
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"

namespace dyprof {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

class Logger {
 public:
  explicit Logger(const Clock* clock = nullptr);

  // Also write every line to `path` (appending): those logged so far, then every later one.
  // Returns false when the file cannot be opened.
  bool AttachFile(const std::string& path);
  void SetStderr(bool enabled) { to_stderr_ = enabled; }
  // Lines below `level` are dropped everywhere (file and stderr).
  void SetMinLevel(LogLevel level) { min_level_ = level; }
  // Lines below `level` still go to the file but not to stderr (--quiet, progress display).
  void SetStderrMinLevel(LogLevel level) { stderr_min_level_ = level; }
  // Any later line containing `secret` shows "***" instead. Empty strings are ignored.
  void AddSecret(const std::string& secret);

  void Log(LogLevel level, const std::string& message);
  void Info(const std::string& m) { Log(LogLevel::kInfo, m); }
  void Warn(const std::string& m) { Log(LogLevel::kWarning, m); }
  void Error(const std::string& m) { Log(LogLevel::kError, m); }
  void Debug(const std::string& m) { Log(LogLevel::kDebug, m); }

  // Every warning logged so far, in order (for pick.json and the report).
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Every line logged so far (formatted), for tests.
  const std::vector<std::string>& lines() const { return lines_; }

  // `line` with every registered secret replaced by "***" (for text printed outside the log).
  std::string Mask(std::string line) const;

 private:

  const Clock* clock_;
  std::unique_ptr<Clock> owned_clock_;
  std::ofstream file_;
  bool to_stderr_ = true;
  LogLevel min_level_ = LogLevel::kInfo;
  LogLevel stderr_min_level_ = LogLevel::kDebug;
  std::vector<std::string> secrets_;
  std::vector<std::string> warnings_;
  std::vector<std::string> lines_;
  std::mutex mu_;
};

}  // namespace dyprof

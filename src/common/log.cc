#include "common/log.h"

#include <iostream>

namespace dyprof {

Logger::Logger(const Clock* clock) : clock_(clock) {
  if (!clock_) {
    owned_clock_ = std::make_unique<SystemClock>();
    clock_ = owned_clock_.get();
  }
}

bool Logger::AttachFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  file_.open(path, std::ios::app);
  if (!file_.good()) return false;
  for (const auto& line : lines_) file_ << line << '\n';  // lines logged before the file existed
  file_.flush();
  return true;
}

void Logger::AddSecret(const std::string& secret) {
  if (secret.size() >= 4) secrets_.push_back(secret);
}

std::string Logger::Mask(std::string line) const {
  for (const auto& s : secrets_) {
    size_t pos = 0;
    while ((pos = line.find(s, pos)) != std::string::npos) {
      line.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return line;
}

static const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARNING";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

void Logger::Log(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string masked = Mask(message);
  if (level == LogLevel::kWarning) warnings_.push_back(masked);
  if (level < min_level_) return;
  std::string line = FormatLogTimestamp(clock_->NowUnixSeconds()) + " - dynamo.profiler - " + LevelName(level) +
                     " - " + masked;
  lines_.push_back(line);
  if (to_stderr_ && level >= stderr_min_level_) std::cerr << line << '\n';
  if (file_.is_open()) {
    file_ << line << '\n';
    file_.flush();
  }
}

}  // namespace dyprof

#include "common/clock.h"

#include <ctime>

namespace dyprof {

double SystemClock::NowUnixSeconds() const {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

double SystemClock::MonotonicSeconds() const {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static std::string FormatUtc(double unix_seconds, const char* fmt) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

std::string FormatUtcTimestamp(double unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }
std::string FormatLogTimestamp(double unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%d %H:%M:%S"); }

}  // namespace dyprof

// Clock: wall time for status timestamps and phase timing, behind an interface so tests can fix it.
#pragma once

#include <chrono>
#include <string>

namespace dyprof {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual double NowUnixSeconds() const = 0;
  // Monotonic seconds, for measuring durations.
  virtual double MonotonicSeconds() const = 0;
};

class SystemClock : public Clock {
 public:
  double NowUnixSeconds() const override;
  double MonotonicSeconds() const override;
};

// A clock that only moves when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(double unix_seconds = 1772625600.0) : now_(unix_seconds) {}
  double NowUnixSeconds() const override { return now_; }
  double MonotonicSeconds() const override { return now_; }
  void Advance(double seconds) { now_ += seconds; }

 private:
  double now_;
};

// "2026-03-04T12:00:00Z" (UTC, seconds precision).
std::string FormatUtcTimestamp(double unix_seconds);
// "2026-03-04 12:00:00" in UTC, the log line prefix.
std::string FormatLogTimestamp(double unix_seconds);

}  // namespace dyprof

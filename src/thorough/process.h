// Child processes for the local deployer: spawned from an argv vector (never through a shell),
// stdout+stderr to a log file, each in its own process group so stopping reaches its children.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace dyprof {

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Starts argv[0] (looked up on PATH when it has no '/') with output appended to log_path.
  virtual Result<int> Start(const std::vector<std::string>& argv, const std::string& log_path) = 0;
  virtual bool IsAlive(int pid) = 0;
  // SIGTERM to the process group, SIGKILL after grace_s; reaps the child.
  virtual Status Stop(int pid, double grace_s = 5) = 0;
};

class PosixProcessRunner : public ProcessRunner {
 public:
  Result<int> Start(const std::vector<std::string>& argv, const std::string& log_path) override;
  bool IsAlive(int pid) override;
  Status Stop(int pid, double grace_s = 5) override;
};

// Path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace dyprof

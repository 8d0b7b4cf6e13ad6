// SIGINT/SIGTERM handling for thorough runs: the handler only sets a flag; the pipeline polls it,
// removes every deployment and returns kInterrupted (exit code 130).
#pragma once

#include <atomic>

namespace dyprof {

// Installs the handler (idempotent) and returns the flag it sets.
std::atomic<bool>* InstallInterruptHandler();
std::atomic<bool>* InterruptFlag();

}  // namespace dyprof

// The engine emulator: an OpenAI-compatible streaming server whose continuous-batching scheduler
// advances iterations with durations from PerfEngine::StepLatencyMs (chunked prefill within a
// token budget, KV capacity from the catalog memory model, requests wait while KV is full). It
// prints the backend's KV-capacity log line at start so thorough mode parses it like a real log.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "catalog/parallel.h"
#include "common/document.h"
#include "common/file_system.h"
#include "common/status.h"
#include "spec/spec.h"

namespace dyprof {

struct EmulatorOptions {
  std::string model;                  // catalog model id or path; also the served name
  std::string served_model_name;      // "" → model
  std::string system = "h200_sxm";
  Backend backend = Backend::kVllm;
  ParallelSplit split;
  std::string host = "127.0.0.1";
  int port = 8000;                    // 0: any free port
  int max_num_seqs = 256;
  int max_num_tokens = 0;             // 0: the backend's default token budget
  int max_model_len = 0;              // 0: the model's max_position_embeddings
  int64_t kv_tokens = 0;              // > 0: override the KV pool per attention-DP rank
  double speedup = 1.0;               // all timings divided by this
  bool prefix_caching = true;         // a repeated prompt skips its prefill
  int http_threads = 2100;            // concurrent connections served
};

// Server-side timing of finished requests, in emulated ms (wall × speedup).
struct EmulatorStats {
  long long finished = 0, rejected = 0, cancelled = 0, steps = 0;
  double avg_ttft_ms = 0, avg_itl_ms = 0;
  Json ToJson() const;
};

class Emulator {
 public:
  static Result<std::unique_ptr<Emulator>> Create(const EmulatorOptions& options, const FileSystem& fs);
  ~Emulator();
  // The backend's KV-capacity log line(s).
  std::string KvLogLine() const;
  int64_t KvTokensTotal() const;
  // Binds; returns the bound port. Then Serve() blocks until Stop().
  Result<int> Bind();
  void Serve();
  void Stop();
  EmulatorStats Stats() const;

  struct Impl;

 private:
  explicit Emulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `dynamo-profiler emulate`: prints the KV line, serves until SIGINT/SIGTERM.
int RunEmulatorMain(const EmulatorOptions& options);

}  // namespace dyprof

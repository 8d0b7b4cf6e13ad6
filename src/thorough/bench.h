// The benchmark client: an OpenAI-compatible streaming load generator (AIPerf's metrics and names),
// and the adapter that runs AIPerf itself (`--benchmark-client aiperf`, reference §2.12).
#pragma once

#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/document.h"
#include "common/file_system.h"
#include "common/status.h"
#include "thorough/http.h"
#include "thorough/stats.h"

namespace dyprof {

// Bounds of one benchmark run: a prompt is made of isl words (~7 bytes each) when its request is
// sent; the per-request records are kept until the summary.
inline constexpr int kMaxBenchTokens = 1 << 24;
inline constexpr int kMaxBenchRequests = 10000000;

struct BenchConfig {
  std::string url;                 // base URL, e.g. http://127.0.0.1:8000
  std::string model;               // served model name
  std::string endpoint = "chat";   // chat | completions
  int isl = 128;
  int osl = 16;
  int concurrency = 1;             // closed loop (used when request_rate <= 0)
  double request_rate = 0;         // open loop, Poisson arrivals (req/s)
  int requests = 10;
  int warmup = 0;
  unsigned seed = 0;
  double timeout_s = 1800;         // per request
  double time_scale = 1.0;         // measured times × this (emulator --speedup), throughputs ÷ this
  const std::atomic<bool>* cancel = nullptr;
};

struct RequestRecord {
  bool ok = false;
  bool timed_out = false;
  std::string error;
  double start_s = 0, end_s = 0;   // monotonic, unscaled
  double ttft_ms = 0;
  double e2e_ms = 0;
  double itl_ms = 0;               // (e2e − ttft) / (output_tokens − 1), AIPerf's definition
  int output_tokens = 0;
  int prompt_tokens = -1;          // usage.prompt_tokens when reported
};

struct BenchReport {
  BenchConfig config;
  std::vector<RequestRecord> records;  // measured requests (warm-up excluded)
  int completed = 0, errors = 0, timeouts = 0;
  double duration_s = 0;               // first start → last end (scaled)
  MetricSummary ttft, itl, e2e, output_tokens, prompt_tokens;
  double output_token_throughput = 0;  // tokens/s over the run
  double request_throughput = 0;       // completed requests/s
  std::vector<std::string> error_samples;
  // profile_export_aiperf.json layout: {"time_to_first_token": {"unit": "ms", "avg": ...}, ...}.
  Json ToAiperfJson() const;
  std::string ToTable() const;
};

// A prompt of `tokens` space-separated words (one token each for the emulator's counter).
std::string SyntheticPrompt(int tokens, std::mt19937& rng);
// The request body for `endpoint` (stream, include_usage, max/min_tokens, ignore_eos).
Json BuildRequestBody(const BenchConfig& c, const std::string& prompt);

// Runs warm-up then the measured requests. Only an invalid config or cancellation is an error;
// failed requests are counted in the report.
Result<BenchReport> RunBench(const BenchConfig& config, HttpClient& http);
// Builds the summary from records (exposed for tests).
BenchReport SummarizeRecords(const BenchConfig& config, std::vector<RequestRecord> records);

// ---- AIPerf ------------------------------------------------------------------------------------

struct AiperfRun {
  std::string model;        // served name
  std::string tokenizer;    // model path
  std::string url;
  std::string artifact_dir;
  int isl = 0, osl = 0;
  int concurrency = 1, request_count = 1, warmup = 3, num_dataset_entries = 0;
  unsigned seed = 100;
};
// The reference's argv (§2.12).
std::vector<std::string> AiperfArgs(const AiperfRun& run);
// Reads the first profile_export_aiperf.json under `dir` (recursive).
Result<Json> ReadAiperfExport(const std::string& dir);
// Runs `aiperf` from PATH (argv, no shell) and reads its export.
Result<Json> RunAiperf(const AiperfRun& run, const std::atomic<bool>* cancel);

// One figure from an AIPerf-format export: j[metric][stat], or nullopt.
std::optional<double> AiperfMetric(const Json& j, const std::string& metric, const std::string& stat);

}  // namespace dyprof

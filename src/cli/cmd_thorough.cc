// `dynamo-profiler bench` (OpenAI-compatible streaming load generator) and `dynamo-profiler
// emulate` (an engine emulator serving with the performance engine's timing).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli.h"
#include "common/file_system.h"
#include "perf/batch.h"
#include "spec/spec.h"
#include "thorough/bench.h"
#include "thorough/emulator.h"
#include "thorough/interrupt.h"

namespace dyprof {

namespace {

struct BenchFlags {
  BenchConfig config;
  std::string format = "table";
  std::string client = "native";
  std::string output;  // write the AIPerf-format JSON here too
  std::string tokenizer;
};

struct EmulateFlags {
  EmulatorOptions options;
  std::string backend = "vllm";
};

}  // namespace

CommandRegistrar BenchCommand() {
  return [](CLI::App& parent) -> CommandRegistration {
    auto* app = parent.add_subcommand("bench", "Benchmark an OpenAI-compatible endpoint with streaming requests (AIPerf metrics)");
    auto f = std::make_shared<BenchFlags>();
    BenchConfig& c = f->config;
    app->add_option("--url", c.url, "Base URL, e.g. http://127.0.0.1:8000")->required();
    app->add_option("--model", c.model, "Served model name")->required();
    app->add_option("--endpoint", c.endpoint, "chat | completions")->capture_default_str()
        ->check(CLI::IsMember({"chat", "completions"}));
    app->add_option("--isl", c.isl, "Input tokens per request")->capture_default_str()->check(CLI::PositiveNumber);
    app->add_option("--osl", c.osl, "Output tokens per request")->capture_default_str()->check(CLI::PositiveNumber);
    auto* conc = app->add_option("--concurrency", c.concurrency, "Concurrent requests (closed loop)")
                     ->capture_default_str()->check(CLI::PositiveNumber);
    app->add_option("--request-rate", c.request_rate, "Requests per second (Poisson, open loop)")
        ->check(CLI::PositiveNumber)->excludes(conc);
    app->add_option("--requests", c.requests, "Measured requests")->capture_default_str()->check(CLI::PositiveNumber);
    app->add_option("--warmup", c.warmup, "Warm-up requests (not measured)")->capture_default_str();
    app->add_option("--seed", c.seed, "Random seed of the synthetic prompts")->capture_default_str();
    app->add_option("--timeout-s", c.timeout_s, "Per-request timeout in seconds")->capture_default_str();
    app->add_option("--time-scale", c.time_scale, "Multiply measured times by this (emulator --speedup)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app->add_option("--format", f->format, "table | json")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    app->add_option("--output", f->output, "Also write the AIPerf-format JSON to this file");
    app->add_option("--benchmark-client", f->client, "native | aiperf (runs aiperf on PATH)")->capture_default_str()
        ->check(CLI::IsMember({"native", "aiperf"}));
    app->add_option("--tokenizer", f->tokenizer, "aiperf: tokenizer (model path; default --model)");
    return {app, [f]() -> int {
              std::atomic<bool>* cancel = InstallInterruptHandler();
              BenchConfig c = f->config;
              c.cancel = cancel;
              Json j;
              std::string table;
              bool nothing_completed = false;
              if (f->client == "aiperf") {
                AiperfRun r;
                r.model = c.model;
                r.tokenizer = f->tokenizer.empty() ? c.model : f->tokenizer;
                r.url = c.url;
                r.artifact_dir = f->output.empty() ? "aiperf_artifacts" : f->output + ".d";
                r.isl = c.isl;
                r.osl = c.osl;
                r.concurrency = c.concurrency;
                r.request_count = c.requests;
                r.warmup = c.warmup;
                r.seed = c.seed;
                auto res = RunAiperf(r, cancel);
                if (!res.ok()) {
                  std::cerr << "error: " << res.status().message() << "\n";
                  return res.status().code() == StatusCode::kInterrupted ? 130 : 1;
                }
                j = *res;
                table = j.dump(2) + "\n";
              } else {
                HttplibClient http;
                auto rep = RunBench(c, http);
                if (!rep.ok()) {
                  std::cerr << "error: " << rep.status().message() << "\n";
                  return rep.status().code() == StatusCode::kInterrupted ? 130 : 2;
                }
                j = rep->ToAiperfJson();
                table = rep->ToTable();
                nothing_completed = rep->completed == 0;
              }
              if (!f->output.empty()) {
                PosixFileSystem fs;
                Status st = fs.WriteFileAtomic(f->output, j.dump(2) + "\n");
                if (!st.ok()) std::cerr << "warning: " << st.message() << "\n";
              }
              std::cout << (f->format == "json" ? j.dump(2) + "\n" : table) << std::flush;
              if (nothing_completed) {
                // An unreachable or failing endpoint is not a measurement: say so and fail.
                std::cerr << "error: no request completed (every request failed or timed out; see the errors in the report)\n";
                return 1;
              }
              return 0;
            }};
  };
}

CommandRegistrar EmulateCommand() {
  return [](CLI::App& parent) -> CommandRegistration {
    auto* app = parent.add_subcommand(
        "emulate", "Serve an OpenAI-compatible streaming endpoint with the performance engine's timing (no GPU)");
    auto f = std::make_shared<EmulateFlags>();
    EmulatorOptions& o = f->options;
    app->add_option("--model", o.model, "Catalog model id or local model directory (also the served name)")->required();
    app->add_option("--served-model-name", o.served_model_name, "Name in /v1/models (default --model)");
    app->add_option("--system", o.system, "GPU system id")->capture_default_str();
    app->add_option("--backend", f->backend, "vllm | sglang | trtllm")->capture_default_str()
        ->check(CLI::IsMember({"vllm", "sglang", "trtllm"}, CLI::ignore_case));
    app->add_option("--tp", o.split.tp, "Tensor parallel")->capture_default_str()->check(GpuCountRange());
    app->add_option("--pp", o.split.pp, "Pipeline parallel")->capture_default_str()->check(GpuCountRange());
    app->add_option("--dp", o.split.dp, "Attention data parallel")->capture_default_str()->check(GpuCountRange());
    app->add_option("--moe-tp", o.split.moe_tp, "Expert tensor parallel")->capture_default_str()->check(GpuCountRange());
    app->add_option("--moe-ep", o.split.moe_ep, "Expert parallel")->capture_default_str()->check(GpuCountRange());
    app->add_option("--host", o.host, "Bind address")->capture_default_str();
    app->add_option("--port", o.port, "Port (0: any)")->capture_default_str()->check(CLI::Range(0, 65535));
    app->add_option("--max-num-seqs", o.max_num_seqs, "Max running sequences per DP rank")->capture_default_str()
        ->check(CLI::Range(1, static_cast<int>(kMaxConcurrency)));
    app->add_option("--max-num-tokens", o.max_num_tokens, "Token budget per step (0: backend default)")
        ->capture_default_str()->check(CLI::Range(0, kMaxSequenceTokens));
    app->add_option("--max-model-len", o.max_model_len, "Max tokens per request (0: model's)")->capture_default_str()
        ->check(CLI::Range(0, 2 * kMaxSequenceTokens));
    app->add_option("--kv-tokens", o.kv_tokens, "Override the KV pool per DP rank (tokens; 0: the memory model's)")
        ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
    app->add_option("--speedup", o.speedup, "Divide every timing by this")->capture_default_str()
        ->check(CLI::PositiveNumber);
    app->add_option("--http-threads", o.http_threads, "Concurrent connections served")->capture_default_str()
        ->check(CLI::Range(1, 65536));
    app->add_flag("--no-prefix-caching{false}", o.prefix_caching, "Disable the prefix cache");
    return {app, [f]() -> int {
              EmulatorOptions o = f->options;
              o.backend = ParseBackend(f->backend).value_or(Backend::kVllm);
              return RunEmulatorMain(o);
            }};
  };
}

}  // namespace dyprof

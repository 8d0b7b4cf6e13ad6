// Speed of the performance engine: one static-batch estimate and one aggregated point for a dense
// model (Qwen3-32B-like, tp2) and an MLA MoE model (DeepSeek-V3-like, dep8), both on H200.
// Targets (issue 4): static <= 20 us, aggregated <= 100 us on one core.
#include <benchmark/benchmark.h>

#include "bench_models.h"
#include "perf/engine.h"

namespace dyprof {
namespace {

using bench::Dense;
using bench::H200;
using bench::Mla;

void BM_StaticDense(benchmark::State& state) {
  auto e = PerfEngine::Create(Dense(), H200(), Backend::kVllm).value();
  ParallelSplit s{2, 1, 1, 1, 1};
  for (auto _ : state) benchmark::DoNotOptimize(e.Static(s, 16, 4000, 1000));
}
BENCHMARK(BM_StaticDense);

void BM_AggDense(benchmark::State& state) {
  auto e = PerfEngine::Create(Dense(), H200(), Backend::kVllm).value();
  ParallelSplit s{2, 1, 1, 1, 1};
  for (auto _ : state) benchmark::DoNotOptimize(e.Aggregated(s, 32, 4000, 1000, 8192));
}
BENCHMARK(BM_AggDense);

void BM_StaticMlaMoe(benchmark::State& state) {
  auto e = PerfEngine::Create(Mla(), H200(), Backend::kTrtllm).value();
  ParallelSplit s{1, 1, 8, 1, 8};
  for (auto _ : state) benchmark::DoNotOptimize(e.Static(s, 64, 1024, 1024));
}
BENCHMARK(BM_StaticMlaMoe);

void BM_AggMlaMoe(benchmark::State& state) {
  auto e = PerfEngine::Create(Mla(), H200(), Backend::kTrtllm).value();
  ParallelSplit s{1, 1, 8, 1, 8};
  for (auto _ : state) benchmark::DoNotOptimize(e.Aggregated(s, 512, 1024, 1024, 8192));
}
BENCHMARK(BM_AggMlaMoe);

void BM_DecodeStep(benchmark::State& state) {
  auto e = PerfEngine::Create(Mla(), H200(), Backend::kTrtllm).value();
  ParallelSplit s{1, 1, 8, 1, 8};
  StepBatch b;
  b.decode_seqs = 64;
  b.decode_ctx = 1536;
  for (auto _ : state) benchmark::DoNotOptimize(e.StepLatencyMs(s, b));
}
BENCHMARK(BM_DecodeStep);

}  // namespace
}  // namespace dyprof

BENCHMARK_MAIN();

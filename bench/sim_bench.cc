// Speed of the scheduler simulation (issue 9): one candidate = one closed-loop benchmark of 2,000
// requests (warm-up included) through SimulateAgg / SimulateDisagg, step latencies from the
// performance engine (fresh step cache per run, as in the search). Target: <= 50 ms on one core.
#include <benchmark/benchmark.h>

#include "bench_models.h"
#include "sim/sim.h"

namespace dyprof {
namespace {

using bench::Dense;
using bench::H200;
using bench::Mla;

SimOptions Requests(int per_user) {
  SimOptions o;
  o.requests_per_user = per_user;
  o.warmup_per_user = 0;
  return o;
}

// Dense 32B tp2, vLLM, 100 users × 20 requests, ISL/OSL 4000/500.
void BM_SimAggDense2000(benchmark::State& state) {
  auto e = PerfEngine::Create(Dense(), H200(), Backend::kVllm).value();
  ParallelSplit s{2, 1, 1, 1, 1};
  int64_t steps = 0;
  for (auto _ : state) {
    auto r = SimulateAgg(e, s, 100, 4000, 500, 8192, Requests(20));
    steps = r.value().steps;
    benchmark::DoNotOptimize(r);
  }
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK(BM_SimAggDense2000)->Unit(benchmark::kMillisecond);

// MLA MoE dep8, TRT-LLM, 250 users × 8 requests, 1024/1024.
void BM_SimAggMlaMoe2000(benchmark::State& state) {
  auto e = PerfEngine::Create(Mla(), H200(), Backend::kTrtllm).value();
  ParallelSplit s{1, 1, 8, 1, 8};
  int64_t steps = 0;
  for (auto _ : state) {
    auto r = SimulateAgg(e, s, 250, 1024, 1024, 8192, Requests(8));
    steps = r.value().steps;
    benchmark::DoNotOptimize(r);
  }
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK(BM_SimAggMlaMoe2000)->Unit(benchmark::kMillisecond);

// Dense 32B 2P (tp2) + 3D (tp2), SGLang, 200 users × 10 requests, 4000/500.
void BM_SimDisaggDense2000(benchmark::State& state) {
  auto e = PerfEngine::Create(Dense(), H200(), Backend::kSglang).value();
  DisaggConfig c;
  c.prefill_split = ParallelSplit{2, 1, 1, 1, 1};
  c.decode_split = ParallelSplit{2, 1, 1, 1, 1};
  c.prefill_workers = 2;
  c.decode_workers = 3;
  for (auto _ : state) benchmark::DoNotOptimize(SimulateDisagg(e, c, 200, 4000, 500, 8192, Requests(10)));
}
BENCHMARK(BM_SimDisaggDense2000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dyprof

BENCHMARK_MAIN();

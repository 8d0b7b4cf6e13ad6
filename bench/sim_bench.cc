// Speed of the scheduler simulation (issue 9): one candidate = one closed-loop benchmark of 2,000
// requests (warm-up included) through SimulateAgg / SimulateDisagg, step latencies from the
// performance engine (fresh step cache per run, as in the search). Target: <= 50 ms on one core.
#include <benchmark/benchmark.h>

#include "sim/sim.h"

namespace dyprof {
namespace {

ModelArch Dense() {
  ModelArch m;
  m.hf_id = "bench/dense-32b";
  m.num_layers = 64;
  m.hidden_size = 5120;
  m.num_heads = 64;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 25600;
  m.vocab_size = 151936;
  return m;
}

ModelArch Mla() {
  ModelArch m;
  m.hf_id = "bench/mla-moe";
  m.num_layers = 61;
  m.hidden_size = 7168;
  m.num_heads = 128;
  m.num_kv_heads = 128;
  m.head_dim = 192;
  m.intermediate_size = 18432;
  m.vocab_size = 129280;
  m.num_experts = 256;
  m.experts_per_token = 8;
  m.moe_intermediate_size = 2048;
  m.num_shared_experts = 1;
  m.shared_expert_intermediate_size = 2048;
  m.first_dense_layers = 3;
  m.mla = true;
  m.q_lora_rank = 1536;
  m.kv_lora_rank = 512;
  m.qk_rope_head_dim = 64;
  m.qk_nope_head_dim = 128;
  m.v_head_dim = 128;
  m.weight_quant = Quant::kFp8Block;
  m.moe_quant = Quant::kFp8Block;
  return m;
}

SystemSpec H200() {
  SystemSpec s;
  s.name = "h200_sxm";
  s.mem_capacity_bytes = 141.0 * (1ull << 30);
  s.mem_bw_bytes_per_s = 4.8e12;
  s.bf16_flops = 989e12;
  s.fp8_flops = 1978e12;
  s.sm_version = 90;
  s.intra_node_bw_bytes_per_s = 450e9;
  s.inter_node_bw_bytes_per_s = 50e9;
  return s;
}

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

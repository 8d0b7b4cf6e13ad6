// Speed of the performance engine: one static-batch estimate and one aggregated point for a dense
// model (Qwen3-32B-like, tp2) and an MLA MoE model (DeepSeek-V3-like, dep8), both on H200.
// Targets (issue 4): static <= 20 us, aggregated <= 100 us on one core.
#include <benchmark/benchmark.h>

#include "perf/engine.h"

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

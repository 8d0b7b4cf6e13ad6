#include "perf/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "common/file_system.h"
#include "perf/fit_tables.h"
#include "perf/perf_db.h"

namespace dyprof {
namespace {

// A one-layer toy model and system with round numbers so that every op can be computed by hand.
ModelArch Toy() {
  ModelArch m;
  m.hf_id = "toy";
  m.num_layers = 1;
  m.hidden_size = 1024;
  m.num_heads = 8;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 4096;
  m.vocab_size = 1024;
  return m;
}

// The toy with DeepSeek-style multi-head latent attention (small latent and head widths).
ModelArch ToyMla() {
  ModelArch m = Toy();
  m.mla = true;
  m.q_lora_rank = 256;
  m.kv_lora_rank = 128;
  m.qk_rope_head_dim = 32;
  m.qk_nope_head_dim = 64;
  m.v_head_dim = 64;
  return m;
}

// `m` with every layer's MLP replaced by `experts` experts of width 512, top-2.
ModelArch WithMoe(ModelArch m, int experts) {
  m.num_experts = experts;
  m.experts_per_token = 2;
  m.moe_intermediate_size = 512;
  return m;
}

SystemSpec ToySystem() {
  SystemSpec s;
  s.name = "toy_gpu";
  s.mem_capacity_bytes = 80e9;
  s.mem_bw_bytes_per_s = 1e12;
  s.mem_bw_efficiency = 0.8;
  s.mem_op_latency_s = 3e-6;
  s.bf16_flops = 1e14;
  s.intra_node_bw_bytes_per_s = 100e9;
  s.inter_node_bw_bytes_per_s = 10e9;
  s.p2p_latency_s = 1e-5;
  return s;
}

PerfOptions RooflineOnly() {
  PerfOptions o;
  o.use_embedded_fit = false;
  BackendTuning t;  // all overheads 0
  t.tpot_scale = 1.0;
  t.ttft_scale = 1.0;
  o.tuning = t;
  return o;
}

const OpTiming* Find(const std::vector<OpTiming>& ops, const std::string& name) {
  for (const auto& o : ops) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

TEST(PerfEngineTest, DecodeOpsMatchHandComputedRoofline) {
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kVllm, RooflineOnly());
  ASSERT_TRUE(e.ok()) << e.status().message();
  std::vector<OpTiming> ops;
  StepBatch b;
  b.decode_seqs = 1;
  b.decode_ctx = 100;
  auto total = e->StepLatencyMs(ParallelSplit{}, b, &ops);
  ASSERT_TRUE(total.ok());
  // qkv GEMM m=1 n=3072 k=1024: memory bound, bytes = 2·1024 + 2·3072·1024 + 2·3072 = 6,299,648
  // → / (0.75·1e12) s, + 5 µs fixed.
  const OpTiming* qkv = Find(ops, "qkv_gemm");
  ASSERT_NE(qkv, nullptr);
  EXPECT_NEAR(qkv->ms, 6299648.0 / 0.75e12 * 1e3 + 0.005, 1e-9);
  EXPECT_EQ(qkv->source, OpSource::kRoofline);
  // Norm: 8·h bytes per token / (0.8·BW) + 3 µs.
  EXPECT_NEAR(Find(ops, "attn_norm")->ms, 8192.0 / 0.8e12 * 1e3 + 0.003, 1e-12);
  // Generation attention b=1, kv 100, 8 heads of 128: bytes = 2·8·100·128·2 + 4·8·128 = 413,696
  // → / (0.6·1e12) + 8 µs.
  EXPECT_NEAR(Find(ops, "generation_attention")->ms, 413696.0 / 0.6e12 * 1e3 + 0.008, 1e-9);
  EXPECT_NEAR(Find(ops, "gate_up_gemm")->ms, (2.0 * 1024 + 2.0 * 8192 * 1024 + 2.0 * 8192) / 0.75e12 * 1e3 + 0.005, 1e-9);
  EXPECT_NEAR(Find(ops, "down_gemm")->ms, (2.0 * 4096 + 2.0 * 1024 * 4096 + 2.0 * 1024) / 0.75e12 * 1e3 + 0.005, 1e-9);
  EXPECT_EQ(Find(ops, "attn_allreduce"), nullptr);  // no TP
  double sum = 0;
  for (const auto& o : ops) sum += o.ms;
  EXPECT_NEAR(*total, sum, 1e-12);
}

TEST(PerfEngineTest, PrefillAttentionAndTensorParallelAllReduce) {
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kVllm, RooflineOnly());
  ASSERT_TRUE(e.ok());
  std::vector<OpTiming> ops;
  StepBatch b;
  b.prefill_seqs = 1;
  b.prefill_tokens = 4096;
  ASSERT_TRUE(e->StepLatencyMs(ParallelSplit{2, 1, 1, 1, 1}, b, &ops).ok());
  // Context attention, 4 heads per GPU, s = 4096, compute bound: 4·4·128·s(s+1)/2 / (0.45·1e14) + 10 µs.
  double flops = 4.0 * 4 * 128 * (4096.0 * 4097 / 2);
  EXPECT_NEAR(Find(ops, "context_attention")->ms, flops / 0.45e14 * 1e3 + 0.010, 1e-9);
  // Ring all-reduce without a fitted curve: 2·(n−1)/n · bytes / (0.7·BW) + 10 µs.
  double bytes = 4096.0 * 1024 * 2;
  EXPECT_NEAR(Find(ops, "attn_allreduce")->ms, 2.0 * 0.5 * bytes / (0.7 * 100e9) * 1e3 + 0.010, 1e-9);
  ASSERT_NE(Find(ops, "logits_gemm"), nullptr);
}

TEST(PerfEngineTest, StaticComposition) {
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kVllm, RooflineOnly());
  ASSERT_TRUE(e.ok());
  ParallelSplit s;
  auto r = e->Static(s, 4, 512, 9);
  ASSERT_TRUE(r.ok());
  StepBatch pre;
  pre.prefill_seqs = 4;
  pre.prefill_tokens = 2048;
  EXPECT_NEAR(r->m.ttft_ms, *e->StepLatencyMs(s, pre), 1e-12);
  // TPOT = mean of 4 decode steps at the midpoints of 4 equal segments of the 8 decode steps.
  double sum = 0;
  for (int j = 0; j < 4; ++j) {
    StepBatch d;
    d.decode_seqs = 4;
    d.decode_ctx = 512 + (j + 0.5) * 8 / 4 + 1;
    sum += *e->StepLatencyMs(s, d);
  }
  EXPECT_NEAR(r->m.tpot_ms, sum / 4, 1e-12);
  EXPECT_NEAR(r->m.request_latency_ms, r->m.ttft_ms + 8 * r->m.tpot_ms, 1e-9);
  EXPECT_NEAR(r->m.tokens_per_s_per_user, 1000.0 / r->m.tpot_ms, 1e-9);
  EXPECT_NEAR(r->m.request_rate, 4 / r->m.request_latency_ms * 1000, 1e-9);
  EXPECT_NEAR(r->m.tokens_per_s_per_gpu, r->m.request_rate * 9, 1e-9);
}

TEST(PerfEngineTest, AggregatedComposition) {
  PerfOptions o = RooflineOnly();
  BackendTuning t = *o.tuning;
  t.tpot_scale = 1.1;
  t.prefill_interference = 0.5;
  t.ttft_scale = 0.8;
  t.wave_fraction = 0.2;
  t.ttft_overhead_ms = 30;
  t.default_max_num_tokens = 1 << 20;
  o.tuning = t;
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kSglang, o);
  ASSERT_TRUE(e.ok());
  ParallelSplit s;
  auto a = e->Aggregated(s, 8, 1000, 200);
  ASSERT_TRUE(a.ok());
  double dec = e->Decode(s, 8, 1000, 200)->tpot_ms;
  double p1 = e->Prefill(s, 1, 1000)->latency_ms;
  double p8 = e->Prefill(s, 8, 1000)->latency_ms;
  EXPECT_NEAR(a->m.tpot_ms, 1.1 * (dec + 0.5 * 8 * p1 / 200), 1e-9);
  EXPECT_NEAR(a->m.ttft_ms, 30 + 0.8 * (p1 + 0.2 * (p8 - p1)), 1e-9);
  EXPECT_NEAR(a->m.request_rate, 8 / a->m.request_latency_ms * 1000, 1e-9);  // closed loop
  EXPECT_FALSE(e->Aggregated(s, 0, 1000, 200).ok());
}

TEST(AdmissionTest, ReceiveIntervalCostsHalfItsExtraIterations) {
  AdmissionSettings a;
  EXPECT_TRUE(a.IsDefault());
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, 20, 8, 16, 10000), 0);
  a.recv_interval_iters = 30;
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, 20, 1, 16, 10000), 14.5 * 20);
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, 0, 1, 16, 10000), 0);  // no iteration, no wait
}

TEST(AdmissionTest, AttentionDpBalanceHoldsUntilEveryRankHasARequestOrTheTimeout) {
  AdmissionSettings a;
  a.adp_balance_timeout_iters = 60;
  const double iter_ms = 20;
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, iter_ms, 1, 16, 10000), 0);  // one rank: nothing to balance
  // Arrivals far apart (1 request per rank per 1000 s): every cycle runs to the timeout, released
  // every 60 iterations; an arrival waits 30 on average, 29.5 more than without the balance.
  EXPECT_NEAR(AdmissionWaitMs(a, iter_ms, 8, 1, 1e6), 29.5 * iter_ms, 1e-3 * 60 * iter_ms);
  // Arrivals dense on every rank (1 per 0.1 ms): the cycle closes within the iteration in flight.
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, iter_ms, 8, 1000, 100), 0);
  // A timeout of one iteration never holds.
  a.adp_balance_timeout_iters = 1;
  EXPECT_DOUBLE_EQ(AdmissionWaitMs(a, iter_ms, 8, 1, 1e6), 0);
  // In between the hold falls as the load grows and rises with the number of ranks to wait for.
  a.adp_balance_timeout_iters = 60;
  double previous = 30 * iter_ms;
  for (int users : {1, 4, 16, 64}) {
    const double w = AdmissionWaitMs(a, iter_ms, 8, users, 20000);
    EXPECT_LE(w, previous) << users;
    EXPECT_GT(w, 0) << users;
    previous = w;
  }
  EXPECT_GT(AdmissionWaitMs(a, iter_ms, 8, 16, 20000), AdmissionWaitMs(a, iter_ms, 2, 16, 20000));
}

TEST(AdmissionTest, AggregatedAddsTheHoldToTtftOnly) {
  PerfOptions o = RooflineOnly();
  BackendTuning t = *o.tuning;
  t.wave_fraction = 0.2;
  t.ttft_overhead_ms = 30;
  o.tuning = t;
  ParallelSplit s;
  s.dp = 4;
  s.moe_ep = 4;
  for (Backend b : {Backend::kSglang, Backend::kTrtllm}) {
    auto e = PerfEngine::Create(WithMoe(Toy(), 8), ToySystem(), b, o);
    ASSERT_TRUE(e.ok());
    auto free = e->Aggregated(s, 64, 1000, 200);
    AdmissionSettings held;
    if (b == Backend::kSglang) {
      held.recv_interval_iters = 11;
    } else {
      held.adp_balance_timeout_iters = 50;
    }
    auto a = e->Aggregated(s, 64, 1000, 200, 0, held);
    ASSERT_TRUE(free.ok() && a.ok()) << a.status().message();
    EXPECT_EQ(free->admission_wait_ms, 0);
    EXPECT_EQ(a->m.tpot_ms, free->m.tpot_ms);
    // 16 users per rank; the iteration is the composed TPOT (no speculative decoding).
    const double expected = AdmissionWaitMs(held, free->m.tpot_ms, 4, 16, free->m.request_latency_ms);
    EXPECT_GT(expected, 0);
    EXPECT_NEAR(a->admission_wait_ms, expected, 1e-9);
    EXPECT_NEAR(a->m.ttft_ms, free->m.ttft_ms + a->admission_wait_ms, 1e-9);
  }
  auto trt = PerfEngine::Create(WithMoe(Toy(), 8), ToySystem(), Backend::kTrtllm, o);
  ASSERT_TRUE(trt.ok());
  AdmissionSettings bad;
  bad.recv_interval_iters = 0;
  auto zero = trt->Aggregated(s, 64, 1000, 200, 0, bad);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "admission: recv_interval_iters must be 1..10000, found 0");
  bad.recv_interval_iters = 30;  // SGLang's setting on a TensorRT-LLM engine
  auto foreign = trt->Aggregated(s, 64, 1000, 200, 0, bad);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("recv_interval_iters is 30 for a trtllm engine"), std::string::npos);
  bad.recv_interval_iters = 1;
  bad.adp_balance_timeout_iters = -1;
  EXPECT_FALSE(trt->Aggregated(s, 64, 1000, 200, 0, bad).ok());
}

TEST(PerfEngineTest, AggregatedAicComposition) {
  PerfOptions o = RooflineOnly();
  o.composition = PerfOptions::Composition::kAic;
  o.tuning.reset();
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kTrtllm, o);
  ASSERT_TRUE(e.ok());
  ParallelSplit s;
  auto a = e->Aggregated(s, 1, 1024, 128);
  ASSERT_TRUE(a.ok());
  // b = 1: TTFT = prefill step · qf(steps=1) = ·min(2 + (1 − 3)/20, 4) = ·1.9 (reference §2.6).
  StepBatch mix;
  mix.prefill_seqs = 1;
  mix.prefill_tokens = 1024;
  mix.decode_ctx = 1024 + 64 + 1;
  EXPECT_NEAR(a->m.ttft_ms, 1.9 * *e->StepLatencyMs(s, mix), 1e-9);
}

TEST(PerfEngineTest, DisaggregatedRateMatching) {
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kTrtllm, RooflineOnly());
  ASSERT_TRUE(e.ok());
  DisaggConfig c;
  c.prefill_workers = 2;
  c.decode_workers = 1;
  c.decode_batch = 16;
  auto r = e->Disaggregated(c, 1000, 100);
  ASSERT_TRUE(r.ok());
  auto p = e->Prefill(c.prefill_split, 1, 1000);
  auto d = e->Decode(c.decode_split, 16, 1000, 100);
  EXPECT_NEAR(r->m.tpot_ms, 1.08 * d->tpot_ms, 1e-9);
  double rate = std::min(p->seq_per_s / 1.1 * 2 * 0.9, d->seq_per_s / 1.08 * 0.92);
  EXPECT_NEAR(r->m.request_rate, rate, 1e-9);
  EXPECT_EQ(r->m.num_gpus, 3);
  EXPECT_NEAR(r->m.tokens_per_s_per_gpu, rate * 100 / 3, 1e-9);
  // No load given and all overheads 0: TTFT = ttft_scale · 1.1 · prefill.
  EXPECT_NEAR(r->m.ttft_ms, 1.1 * p->latency_ms, 1e-9);
  // Under load the M/D/1 queue adds waiting time.
  auto loaded = e->Disaggregated(c, 1000, 100, 64);
  EXPECT_GT(loaded->m.ttft_ms, r->m.ttft_ms);
}

TEST(PerfEngineTest, MoeAndMlaOps) {
  ModelArch m = WithMoe(ToyMla(), 8);
  m.num_layers = 4;
  m.first_dense_layers = 1;
  auto e = PerfEngine::Create(m, ToySystem(), Backend::kTrtllm, RooflineOnly());
  ASSERT_TRUE(e.ok());
  std::vector<OpTiming> ops;
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 64;
  ParallelSplit s{2, 1, 2, 1, 4};
  ASSERT_TRUE(e->CheckSplit(s).ok());
  ASSERT_TRUE(e->StepLatencyMs(s, b, &ops).ok());
  const OpTiming* moe = Find(ops, "moe_experts");
  ASSERT_NE(moe, nullptr);
  EXPECT_EQ(moe->count, 3);
  // 8 tokens (4 per DP rank × 2), top-2, 2 local experts of 3·1024·512 bf16 weights.
  double active = 2.0 * (1 - std::pow(1 - 1.0 / 8, 16));
  double bytes = active * 1024 * 512 * 3 * 2 + 4.0 * 8 * 1024;
  double flops = 2.0 * (8 * 2 / 4.0) * 1024 * 512 * 3;
  EXPECT_NEAR(moe->ms / 3, std::max(flops / 0.45e14, bytes / 0.75e12) * 1e3 + 0.015, 1e-9);
  EXPECT_NE(Find(ops, "generation_mla"), nullptr);
  // With a q latent, q_a and kv_a are one GEMM (as the serving frameworks fuse them).
  EXPECT_NE(Find(ops, "qkv_a_gemm"), nullptr);
  EXPECT_EQ(Find(ops, "q_a_gemm"), nullptr);
  EXPECT_EQ(Find(ops, "kv_a_gemm"), nullptr);
  EXPECT_NE(Find(ops, "moe_dispatch"), nullptr);
  EXPECT_NE(Find(ops, "gate_up_gemm"), nullptr);  // the dense prefix layer
  EXPECT_FALSE(e->CheckSplit(ParallelSplit{2, 1, 1, 1, 1}).ok());  // moe_tp·moe_ep != tp·dp
}

TEST(PerfEngineTest, SparseAttentionIndexerOpsAndTopKDecodeSpan) {
  ModelArch m = ToyMla();
  ModelArch dense = m;
  m.index_heads = 4;
  m.index_head_dim = 64;
  m.index_topk = 512;
  auto e = PerfEngine::Create(m, ToySystem(), Backend::kTrtllm, RooflineOnly());
  auto ed = PerfEngine::Create(dense, ToySystem(), Backend::kTrtllm, RooflineOnly());
  ASSERT_TRUE(e.ok() && ed.ok());
  auto decode_ops = [](const PerfEngine& engine, double ctx) {
    std::vector<OpTiming> ops;
    StepBatch b;
    b.decode_seqs = 2;
    b.decode_ctx = ctx;
    EXPECT_TRUE(engine.StepLatencyMs(ParallelSplit{}, b, &ops).ok());
    return ops;
  };
  auto ops = decode_ops(*e, 4096);
  for (const char* name : {"indexer_q_gemm", "indexer_k_gemm", "indexer_weights_gemm", "indexer_norm_rope",
                           "indexer_generation_scores", "indexer_generation_topk"})
    EXPECT_NE(Find(ops, name), nullptr) << name;
  EXPECT_EQ(Find(decode_ops(*ed, 4096), "indexer_q_gemm"), nullptr);
  // Indexer query GEMM: 2 tokens × (4·64) outputs from the 256-wide q latent, bf16 roofline.
  const double flops = 2.0 * 2 * 256 * 256, bytes = 2.0 * 2 * 256 + 2.0 * 256 * 256 + 2.0 * 2 * 256;
  const OpTiming* q = Find(ops, "indexer_q_gemm");
  ASSERT_NE(q, nullptr);
  EXPECT_GT(q->ms, std::max(flops / 1e14, bytes / 1e12) * 1e3);
  // Top-k: 2 sequences × 4096 fp32 scores written and read back.
  EXPECT_NEAR(Find(ops, "indexer_generation_topk")->ms, 2.0 * 4096 * 4 * 2 / 0.8e12 * 1e3 + 3e-3, 1e-9);
  // Decode MLA attends the top 512 keys: the same at 4,096 cached tokens as dense MLA at 512.
  EXPECT_NEAR(Find(ops, "generation_mla")->ms, Find(decode_ops(*ed, 512), "generation_mla")->ms, 1e-12);
  EXPECT_GT(Find(decode_ops(*ed, 4096), "generation_mla")->ms, Find(ops, "generation_mla")->ms);
  // Below the top-k every key is attended.
  EXPECT_NEAR(Find(decode_ops(*e, 300), "generation_mla")->ms, Find(decode_ops(*ed, 300), "generation_mla")->ms,
              1e-12);
}

TEST(PerfEngineTest, RopeAndQkNormKernelsPerBackend) {
  ModelArch m = Toy();  // 8 q heads, 8 kv heads of 128: q and k are 2048 bf16 values per token each
  m.qk_norm = true;
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 100;
  auto ops_for = [&](Backend be) {
    auto e = PerfEngine::Create(m, ToySystem(), be, RooflineOnly());
    std::vector<OpTiming> ops;
    EXPECT_TRUE(e.ok() && e->StepLatencyMs(ParallelSplit{}, b, &ops).ok());
    return ops;
  };
  // Memory ops: bytes / (1e12 · 0.8) + 3 µs; 4 tokens × 1024 values × 2 B read and written.
  const double one = 4 * 1024 * 2.0 * 2.0;
  auto mem_ms = [](double bytes) { return bytes / 0.8e12 * 1e3 + 3e-3; };
  auto vllm = ops_for(Backend::kVllm);
  ASSERT_NE(Find(vllm, "rope"), nullptr);
  EXPECT_NEAR(Find(vllm, "rope")->ms, mem_ms(2 * one), 1e-12);
  EXPECT_NEAR(Find(vllm, "qk_norm")->ms, 2 * mem_ms(one), 1e-12);  // q_norm and k_norm apart
  auto trt = ops_for(Backend::kTrtllm);
  EXPECT_EQ(Find(trt, "rope"), nullptr);  // inside the attention kernel
  EXPECT_NEAR(Find(trt, "qk_norm")->ms, mem_ms(2 * one), 1e-12);  // one fused kernel
  m.qk_norm = false;
  EXPECT_EQ(Find(ops_for(Backend::kVllm), "qk_norm"), nullptr);
}

TEST(SpeculativeDecodingTest, TokensPerStepAndValidation) {
  SpeculativeDecoding s;
  EXPECT_DOUBLE_EQ(s.TokensPerStep(), 1.0);
  s.draft_tokens = 2;
  s.acceptance = {0.8, 0.5};
  EXPECT_DOUBLE_EQ(s.TokensPerStep(), 1.0 + 0.8 + 0.8 * 0.5);
  s.draft_tokens = 3;  // a third draft without an acceptance rate is never accepted
  EXPECT_DOUBLE_EQ(s.TokensPerStep(), 2.2);
  EXPECT_TRUE(s.Validate().ok());
  s.acceptance = {1.2};
  EXPECT_FALSE(s.Validate().ok());
  s.acceptance = {0.5};
  s.draft_tokens = 9;
  EXPECT_FALSE(s.Validate().ok());
}

TEST(PerfEngineTest, SpeculativeDecodeVerifiesDraftsAndDividesTheStep) {
  ModelArch m = Toy();
  PerfOptions o = RooflineOnly();
  auto plain = PerfEngine::Create(m, ToySystem(), Backend::kVllm, o);
  o.speculative.draft_tokens = 2;
  o.speculative.acceptance = {0.8, 0.5};
  auto spec = PerfEngine::Create(m, ToySystem(), Backend::kVllm, o);
  PerfOptions o1 = o;
  o1.speculative.draft_tokens = 1;
  auto spec1 = PerfEngine::Create(m, ToySystem(), Backend::kVllm, o1);
  ModelArch wide = m;  // twice the query heads over the same KV heads
  wide.num_heads = 2 * m.num_heads;
  auto wide_e = PerfEngine::Create(wide, ToySystem(), Backend::kVllm, RooflineOnly());
  ASSERT_TRUE(plain.ok() && spec.ok() && spec1.ok() && wide_e.ok());
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 1000;
  std::vector<OpTiming> one, three, wide_ops;
  ASSERT_TRUE(plain->StepLatencyMs(ParallelSplit{}, b, &one).ok());
  ASSERT_TRUE(spec->StepLatencyMs(ParallelSplit{}, b, &three).ok());
  // Three query tokens per sequence: GEMMs see 12 tokens, attention 3x the heads on the same keys.
  EXPECT_GT(Find(three, "qkv_gemm")->ms, Find(one, "qkv_gemm")->ms);
  ASSERT_TRUE(wide_e->StepLatencyMs(ParallelSplit{}, b, &wide_ops).ok());
  std::vector<OpTiming> two;  // one draft: two query tokens per sequence
  ASSERT_TRUE(spec1->StepLatencyMs(ParallelSplit{}, b, &two).ok());
  EXPECT_NEAR(Find(two, "generation_attention")->ms, Find(wide_ops, "generation_attention")->ms, 1e-12);
  // The draft module (the model's one layer, no framework overhead) runs once per draft token, plus
  // its 2h -> h projection.
  const OpTiming* draft = Find(three, "mtp_draft");
  ASSERT_NE(draft, nullptr);
  EXPECT_EQ(draft->count, 2);
  auto one_ms = plain->StepLatencyMs(ParallelSplit{}, b);
  ASSERT_TRUE(one_ms.ok());
  EXPECT_GT(draft->ms / 2, *one_ms);
  EXPECT_EQ(Find(one, "mtp_draft"), nullptr);
  // TPOT: the verify step (1 + 2 tokens per sequence, with the drafts) over 2.2 tokens gained per step.
  auto d = spec->Decode(ParallelSplit{}, 4, 999, 2);  // one decode step at ctx 999 + 0.5 + 1
  ASSERT_TRUE(d.ok());
  StepBatch at;
  at.decode_seqs = 4;
  at.decode_ctx = 1000.5;
  auto step = spec->StepLatencyMs(ParallelSplit{}, at);
  ASSERT_TRUE(step.ok());
  EXPECT_NEAR(d->tpot_ms, *step / 2.2, 1e-12);
  // The draft layer's weights and KV cache are in the memory: per-token KV grows by one layer's.
  EngineLimits lim;
  lim.max_model_len = 2048;
  auto mp = plain->Memory(ParallelSplit{}, lim), ms = spec->Memory(ParallelSplit{}, lim);
  ASSERT_TRUE(mp.ok() && ms.ok());
  EXPECT_GT(ms->weights_bytes, mp->weights_bytes);
  EXPECT_LT(ms->max_kv_tokens, mp->max_kv_tokens);
}

TEST(PerfEngineTest, FittedTablesAreUsedAndLabelled) {
  auto fit = FitTables::Parse(R"({"system":"toy_gpu","backends":{"vllm":{"gemm":{"bfloat16":
      {"nodes":[[0],[0],[0]],"eff":[0.5],"floor_us":0}}}}})");
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  PerfOptions o = RooflineOnly();
  o.fit = *fit;
  auto e = PerfEngine::Create(Toy(), ToySystem(), Backend::kVllm, o);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->EfficiencySource(), "measured-fit");
  std::vector<OpTiming> ops;
  StepBatch b;
  b.decode_seqs = 1;
  b.decode_ctx = 10;
  ASSERT_TRUE(e->StepLatencyMs(ParallelSplit{}, b, &ops).ok());
  const OpTiming* qkv = Find(ops, "qkv_gemm");
  EXPECT_EQ(qkv->source, OpSource::kMeasuredFit);
  EXPECT_NEAR(qkv->ms, 6299648.0 / 1e12 * 1e3 / 0.5, 1e-9);  // roofline / eff
  SystemSpec other = ToySystem();
  other.name = "other_gpu";
  auto e2 = PerfEngine::Create(Toy(), other, Backend::kVllm, o);
  EXPECT_EQ(e2->EfficiencySource(), "roofline-borrowed");
}

// The C++ evaluator must look up each fitted grid on the axes tools/fit_perf fitted it on (a
// mismatch once made prefill attention 17x slow and the MoE grids unusable). Each grid below
// varies along one axis only, with efficiency 1.0 at one node and 0.1 at the other: the ratio to
// a flat grid shows which feature value the engine passed on that axis.
double OpMsWithGrid(const ModelArch& m, Backend be, const std::string& family, const std::string& key,
                    const std::string& nodes, const std::string& eff, const ParallelSplit& split,
                    const StepBatch& b, const char* op) {
  auto fit = FitTables::Parse(R"({"system":"toy_gpu","backends":{")" + std::string(BackendName(be)) + R"(":{")" +
                              family + R"(":{")" + key + R"(":{"nodes":)" + nodes + R"(,"eff":)" + eff +
                              R"(,"floor_us":0}}}}})");
  EXPECT_TRUE(fit.ok()) << fit.status().message();
  PerfOptions o = RooflineOnly();
  o.fit = *fit;
  auto e = PerfEngine::Create(m, ToySystem(), be, o);
  EXPECT_TRUE(e.ok());
  std::vector<OpTiming> ops;
  EXPECT_TRUE(e->StepLatencyMs(split, b, &ops).ok());
  const OpTiming* t = Find(ops, op);
  EXPECT_NE(t, nullptr) << op;
  return t ? t->ms : 0;
}

TEST(PerfEngineTest, ContextAttentionGridAxesAreQueryTokensTimesHeadsThenKeySpan) {
  StepBatch b;
  b.prefill_seqs = 1;
  b.prefill_tokens = 128;  // 8 heads × 128 tokens = 1024 = 2^10 on axis 0; key span 128 = 2^7 on axis 1
  const std::string key = "bfloat16|bfloat16|128";
  double flat = OpMsWithGrid(Toy(), Backend::kVllm, "context_attention", key, "[[0],[0],[0]]", "[1.0]",
                             ParallelSplit{}, b, "context_attention");
  double axis0 = OpMsWithGrid(Toy(), Backend::kVllm, "context_attention", key, "[[7,10],[0],[0]]", "[1.0,0.1]",
                              ParallelSplit{}, b, "context_attention");
  double axis1 = OpMsWithGrid(Toy(), Backend::kVllm, "context_attention", key, "[[0],[7,10],[0]]", "[0.1,1.0]",
                              ParallelSplit{}, b, "context_attention");
  EXPECT_NEAR(axis0 / flat, 10.0, 1e-9);  // looked up at b·h·s = 2^10
  EXPECT_NEAR(axis1 / flat, 10.0, 1e-9);  // looked up at key span 2^7
}

TEST(PerfEngineTest, MoeGridAxesAreTokensPerExpertLocalExpertsExpertSize) {
  ModelArch m = WithMoe(Toy(), 8);
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 64;
  ParallelSplit s{1, 1, 2, 1, 2};  // dp2, moe_ep2: 4 local experts = 2^2 on axis 1
  const std::string key = "bfloat16|gated|balanced";
  double flat = OpMsWithGrid(m, Backend::kTrtllm, "moe", key, "[[0],[0],[0]]", "[1.0]", s, b, "moe_experts");
  double axis1 = OpMsWithGrid(m, Backend::kTrtllm, "moe", key, "[[0],[2,20],[0]]", "[0.1,1.0]", s, b, "moe_experts");
  EXPECT_NEAR(axis1 / flat, 10.0, 1e-9);
}

// --perf-db: the experts of a measured shape take the table's latency (labelled perf-db); a shape
// the table lacks keeps the fitted/roofline path.
TEST(PerfEngineTest, MoeTakesTheMeasuredTableOfItsExactShape) {
  ModelArch m = WithMoe(Toy(), 8);  // hidden 1024, inter 512, top-2 of 8, bf16
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 64;
  auto db = PerfDb::FromCsv("", "", "",
                            "kernel_source,moe_dtype,num_tokens,hidden_size,inter_size,topk,num_experts,"
                            "moe_tp_size,moe_ep_size,distribution,latency\n"
                            "k,bfloat16,2,1024,512,2,8,1,1,power_law_1.2,0.100\n"
                            "k,bfloat16,8,1024,512,2,8,1,1,power_law_1.2,0.400\n");
  ASSERT_TRUE(db.ok()) << db.status().message();
  PerfOptions o = RooflineOnly();
  o.perf_db = *db;
  auto e = PerfEngine::Create(m, ToySystem(), Backend::kSglang, o);
  ASSERT_TRUE(e.ok());
  std::vector<OpTiming> ops;
  ASSERT_TRUE(e->StepLatencyMs(ParallelSplit{1, 1, 1, 1, 1}, b, &ops).ok());
  const OpTiming* moe = Find(ops, "moe_experts");
  ASSERT_NE(moe, nullptr);
  EXPECT_NEAR(moe->ms, 0.200, 1e-12);  // 4 tokens: a third of the way from 2 to 8 tokens
  EXPECT_EQ(moe->source, OpSource::kPerfDb);
  ops.clear();
  ASSERT_TRUE(e->StepLatencyMs(ParallelSplit{2, 1, 1, 1, 2}, b, &ops).ok());  // ep 2: not measured
  moe = Find(ops, "moe_experts");
  ASSERT_NE(moe, nullptr);
  EXPECT_EQ(moe->source, OpSource::kRoofline);
}

// vLLM chooses its FP8 kernels from the checkpoint: a block-scaled checkpoint labelled plain
// "fp8" runs the fp8_block GEMM and MoE grids; TRT-LLM keeps the label's GEMM grid and the faster
// of the two 8-bit MoE grids. Flat grids: fp8 at efficiency 1.0, fp8_block at 0.25.
TEST(PerfEngineTest, VllmRunsTheBlockScaledKernelsOfABlockScaledCheckpoint) {
  auto tables = [](Backend be) {
    const std::string flat = R"({"nodes":[[0],[0],[0]],"eff":[EFF],"floor_us":0})";
    auto grid = [&](const char* eff) {
      std::string g = flat;
      return g.replace(g.find("EFF"), 3, eff);
    };
    auto fit = FitTables::Parse(R"({"system":"toy_gpu","backends":{")" + std::string(BackendName(be)) +
                                R"(":{"gemm":{"fp8":)" + grid("1.0") + R"(,"fp8_block":)" + grid("0.25") +
                                R"(},"moe":{"fp8|gated|balanced":)" + grid("1.0") +
                                R"(,"fp8_block|gated|balanced":)" + grid("0.25") + "}}}}");
    EXPECT_TRUE(fit.ok()) << fit.status().message();
    return *fit;
  };
  auto op_ms = [&](Backend be, bool block_checkpoint, const char* op) {
    ModelArch m = WithMoe(Toy(), 8);
    m.weight_quant = m.moe_quant = Quant::kFp8;  // the label
    m.fp8_block_scales = block_checkpoint;
    PerfOptions o = RooflineOnly();
    o.fit = tables(be);
    auto e = PerfEngine::Create(m, ToySystem(), be, o);
    EXPECT_TRUE(e.ok());
    std::vector<OpTiming> ops;
    StepBatch b;
    b.decode_seqs = 4;
    b.decode_ctx = 64;
    EXPECT_TRUE(e->StepLatencyMs(ParallelSplit{}, b, &ops).ok());
    const OpTiming* t = Find(ops, op);
    EXPECT_NE(t, nullptr) << op;
    return t ? t->ms : 0;
  };
  for (const char* op : {"qkv_gemm", "moe_experts"}) {
    EXPECT_NEAR(op_ms(Backend::kVllm, true, op) / op_ms(Backend::kVllm, false, op), 4.0, 1e-9) << op;
    EXPECT_NEAR(op_ms(Backend::kTrtllm, true, op) / op_ms(Backend::kTrtllm, false, op), 1.0, 1e-9) << op;
  }
}

// The embedded H200 tables against kernel timings measured in ../shared/data/perfdb (figures
// copied here so the test runs without it): TRT-LLM context attention, bf16, 32 heads / 8 KV heads
// / dim 128, batch 1; vLLM fp8-block MoE, MiniMax-M2.5 experts (3072×1536, 256 experts, top-8),
// moe_tp 4, 64 tokens, power-law routing.
TEST(PerfEngineTest, EmbeddedH200TablesReproduceMeasuredKernels) {
  PosixFileSystem fs;
  auto sys = FindSystem("h200_sxm");
  ASSERT_TRUE(sys.ok());
  auto llama = FindModel("meta-llama/Llama-3.1-8B", fs);
  ASSERT_TRUE(llama.ok());
  auto e = PerfEngine::Create(*llama, *sys, Backend::kTrtllm);
  ASSERT_TRUE(e.ok());
  for (auto [isl, measured_ms] : {std::pair{1024, 0.0517}, std::pair{4096, 0.3344}, std::pair{16384, 4.1156}}) {
    std::vector<OpTiming> ops;
    StepBatch b;
    b.prefill_seqs = 1;
    b.prefill_tokens = isl;
    ASSERT_TRUE(e->StepLatencyMs(ParallelSplit{}, b, &ops).ok());
    const OpTiming* a = Find(ops, "context_attention");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->source, OpSource::kMeasuredFit);
    EXPECT_NEAR(a->ms / a->count, measured_ms, 0.15 * measured_ms) << "isl " << isl;
  }
  auto minimax = FindModel("MiniMaxAI/MiniMax-M2.5", fs);
  ASSERT_TRUE(minimax.ok());
  auto v = PerfEngine::Create(*minimax, *sys, Backend::kVllm);
  ASSERT_TRUE(v.ok());
  std::vector<OpTiming> ops;
  StepBatch b;
  b.decode_seqs = 64;
  b.decode_ctx = 1024;
  ASSERT_TRUE(v->StepLatencyMs(ParallelSplit{4, 1, 1, 4, 1}, b, &ops).ok());
  const OpTiming* moe = Find(ops, "moe_experts");
  ASSERT_NE(moe, nullptr);
  EXPECT_NEAR(moe->ms / moe->count, 0.2188, 0.25 * 0.2188);
}

// Collectives over more GPUs than the measured curve: only the part above the curve's
// small-message floor scales with (n−1)/n · m/(m−1) · bw(m)/bw(n); leaving the NVLink domain adds
// one network latency (ToySystem: 100 vs 10 GB/s, p2p 10 µs; nodes of 8).
TEST(PerfEngineTest, CollectiveBeyondTheCurveScalesOnlyItsBandwidthPart) {
  ModelArch m = WithMoe(Toy(), 16);
  StepBatch b;
  b.decode_seqs = 1;
  b.decode_ctx = 64;
  ParallelSplit s{1, 1, 16, 1, 16};  // 16 attention-DP ranks: a 16-GPU all-gather of 16 tokens
  const double bytes = 16 * 1024 * 2.0;  // 32 KiB
  const double factor = (15.0 / 16) * (8.0 / 7) * (100e9 / 10e9);
  auto dispatch_ms = [&](const std::string& curve) {
    auto fit = FitTables::Parse(R"({"system":"toy_gpu","nccl":{"all_gather|half":{"8":)" + curve +
                                R"(},"reduce_scatter|half":{"8":)" + curve + "}}}");
    EXPECT_TRUE(fit.ok()) << fit.status().message();
    PerfOptions o = RooflineOnly();
    o.fit = *fit;
    // TensorRT-LLM: its attention-DP engines gather (SGLang's 16 ranks over nodes of 8 would be
    // an expert all-to-all, UsesExpertAllToAll).
    auto e = PerfEngine::Create(m, ToySystem(), Backend::kTrtllm, o);
    EXPECT_TRUE(e.ok());
    std::vector<OpTiming> ops;
    EXPECT_TRUE(e->StepLatencyMs(s, b, &ops).ok());
    const OpTiming* t = Find(ops, "moe_dispatch");
    EXPECT_NE(t, nullptr);
    return t ? t->ms / t->count : 0;
  };
  // Latency-bound: flat 20 µs up to 64 KiB, then linear in bytes.
  EXPECT_NEAR(dispatch_ms(R"({"log2_bytes":[16,30],"us":[20,327680]})"), 0.020 + 0.010, 1e-9);
  // Bandwidth-bound: 20 µs at 1 KiB, linear in bytes above, so 640 µs at 32 KiB over 8 GPUs.
  EXPECT_NEAR(dispatch_ms(R"({"log2_bytes":[10,30],"us":[20,20971520]})"),
              0.020 + 0.010 + (0.020 * bytes / 1024 - 0.020) * factor, 1e-9);
}

// Asked for (--moe-a2a-backend deepep), SGLang's attention-DP engines whose experts span more GPUs
// than a node holds send each token to the ranks of its top-k experts (fp8 out, 16-bit back); within
// a node, on other backends, and by default every rank's tokens are gathered (16-bit) and
// reduce-scattered. Curves linear in bytes (20 µs per KiB) measured on the 8 GPUs used, so no
// scaling: the times are the bytes.
// The step's MoE dispatch and combine times (ms) of `m` on split `s`, batch `b`, on the toy system
// with nodes of `gpus_per_node` GPUs in an NVLink domain of `nvlink_domain_gpus`.
std::pair<double, double> MoeCommMs(const ModelArch& m, Backend backend, const PerfOptions& o, const ParallelSplit& s,
                                    const StepBatch& b, int gpus_per_node, int nvlink_domain_gpus) {
  SystemSpec sys = ToySystem();
  sys.gpus_per_node = gpus_per_node;
  sys.nvlink_domain_gpus = nvlink_domain_gpus;
  auto e = PerfEngine::Create(m, sys, backend, o);
  EXPECT_TRUE(e.ok());
  std::vector<OpTiming> ops;
  EXPECT_TRUE(e->StepLatencyMs(s, b, &ops).ok());
  const OpTiming* dispatch = Find(ops, "moe_dispatch");
  const OpTiming* combine = Find(ops, "moe_combine");
  EXPECT_TRUE(dispatch != nullptr && combine != nullptr);
  return dispatch && combine ? std::pair{dispatch->ms, combine->ms} : std::pair{0.0, 0.0};
}

// Collective tables linear in bytes (20 us per KiB) for 8 ranks: all-gather, reduce-scatter, all-to-all.
PerfOptions LinearCollectives() {
  const std::string linear = R"({"log2_bytes":[10,30],"us":[20,20971520]})";
  auto fit = FitTables::Parse(R"({"system":"toy_gpu","nccl":{"all_gather|half":{"8":)" + linear +
                              R"(},"reduce_scatter|half":{"8":)" + linear + R"(},"alltoall|half":{"8":)" + linear +
                              "}}}");
  EXPECT_TRUE(fit.ok()) << fit.status().message();
  PerfOptions o = RooflineOnly();
  if (fit.ok()) o.fit = *fit;
  return o;
}

TEST(PerfEngineTest, SglangWideExpertParallelSendsTokensToTheirExpertsOnly) {
  ModelArch m = WithMoe(Toy(), 16);  // top-2 of 16 experts, hidden 1024
  StepBatch b;
  b.decode_seqs = 4;  // per attention-DP rank
  b.decode_ctx = 64;
  const ParallelSplit s{1, 1, 8, 1, 8};
  PerfOptions o = LinearCollectives();
  o.moe_all_to_all = true;  // --moe-a2a-backend deepep
  const double ms_per_byte = 0.020 / 1024;
  // Nodes of 4: 4 tokens x 2 experts x 1024 wide, 1 byte out (8 KiB), 2 back (16 KiB).
  auto [a2a_dispatch, a2a_combine] = MoeCommMs(m, Backend::kSglang, o, s, b, 4, 8);
  EXPECT_NEAR(a2a_dispatch, 4 * 2 * 1024 * 1.0 * ms_per_byte, 1e-9);
  EXPECT_NEAR(a2a_combine, 4 * 2 * 1024 * 2.0 * ms_per_byte, 1e-9);
  EXPECT_TRUE(UsesExpertAllToAll(Backend::kSglang, s, 4));
  // Nodes of 8, or TensorRT-LLM on one NVLink domain of nodes: all 8 ranks' 4 tokens gathered in 16 bits
  // (64 KiB), and reduce-scattered.
  const double gathered = 8 * 4 * 1024 * 2.0 * ms_per_byte;
  for (auto [backend, per_node] : {std::pair{Backend::kSglang, 8}, std::pair{Backend::kTrtllm, 4}}) {
    auto [dispatch, combine] = MoeCommMs(m, backend, o, s, b, per_node, per_node);
    EXPECT_NEAR(dispatch, gathered, 1e-9) << per_node;
    EXPECT_NEAR(combine, gathered, 1e-9) << per_node;
    EXPECT_FALSE(UsesExpertAllToAll(backend, s, per_node));
  }
  // Not asked for (the default): gathered on any shape.
  o.moe_all_to_all = false;
  EXPECT_NEAR(MoeCommMs(m, Backend::kSglang, o, s, b, 4, 8).first, gathered, 1e-9);
  // Experts not all expert-parallel (expert TP inside): gathered too.
  EXPECT_FALSE(UsesExpertAllToAll(Backend::kSglang, ParallelSplit{1, 1, 8, 2, 4}, 4));
  EXPECT_FALSE(UsesExpertAllToAll(Backend::kSglang, ParallelSplit{8, 1, 1, 1, 8}, 4));
}

// SGLang's DeepEP experts run DeepGEMM's grouped GEMMs: an 8-bit expert checkpoint on an engine
// that sends its tokens by DeepEP takes the grid fitted on DeepGEMM rows (here TensorRT-LLM's, eff
// 0.5) instead of SGLang's own fused-MoE grid (eff 0.1); gathering engines, 16-bit experts and
// TensorRT-LLM keep their own.
TEST(PerfEngineTest, SglangDeepEpExpertsTakeTheDeepGemmGrid) {
  auto fit = FitTables::Parse(R"({"system":"toy_gpu","backends":{
    "sglang":{"moe":{"fp8_block|gated|balanced":{"nodes":[[0]],"eff":[0.1],"floor_us":0,"kernel_sources":["fused"]},
                     "bfloat16|gated|balanced":{"nodes":[[0]],"eff":[0.1],"floor_us":0}}},
    "trtllm":{"moe":{"fp8_block|gated|balanced":{"nodes":[[0]],"eff":[0.5],"floor_us":0,
                                                 "kernel_sources":["deepgemm"]}}}}})");
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  ModelArch m = WithMoe(Toy(), 16);
  m.moe_quant = Quant::kFp8Block;
  StepBatch b;
  b.decode_seqs = 4;
  b.decode_ctx = 64;
  const ParallelSplit s{1, 1, 8, 1, 8};  // 8 attention-DP ranks, experts over 8 GPUs: nodes of 4 hold half
  auto experts_ms = [&](const ModelArch& arch, Backend backend, bool deepep) {
    PerfOptions o = RooflineOnly();
    o.fit = *fit;
    o.moe_all_to_all = deepep;
    SystemSpec sys = ToySystem();
    sys.gpus_per_node = 4;
    auto e = PerfEngine::Create(arch, sys, backend, o);
    EXPECT_TRUE(e.ok());
    std::vector<OpTiming> ops;
    EXPECT_TRUE(e->StepLatencyMs(s, b, &ops).ok());
    const OpTiming* t = Find(ops, "moe_experts");
    return t ? t->ms : 0.0;
  };
  const double gathered = experts_ms(m, Backend::kSglang, false);
  ASSERT_GT(gathered, 0);
  EXPECT_NEAR(experts_ms(m, Backend::kSglang, true) / gathered, 0.1 / 0.5, 1e-9);
  EXPECT_NEAR(experts_ms(m, Backend::kTrtllm, false) / gathered, 0.1 / 0.5, 1e-9);  // its own grid
  ModelArch bf16 = m;
  bf16.moe_quant = Quant::kBf16;
  EXPECT_NEAR(experts_ms(bf16, Backend::kSglang, true), experts_ms(bf16, Backend::kSglang, false), 1e-12);
}

TEST(PerfEngineTest, TrtllmSendsTokensToTheirExpertsOverMultiNodeNvlink) {
  ModelArch m = WithMoe(Toy(), 16);  // top-2 of 16 experts, hidden 1024, 16-bit experts
  StepBatch b;
  b.decode_seqs = 4;  // per attention-DP rank
  b.decode_ctx = 64;
  const ParallelSplit s{1, 1, 8, 1, 8};
  const PerfOptions o = LinearCollectives();  // TensorRT-LLM needs no option: it picks MNNVL itself
  const double ms_per_byte = 0.020 / 1024;
  // Nodes of 4 in one NVLink domain of 8: 4 tokens x 2 experts x 1024 wide out and back, in 16 bits.
  auto [dispatch, combine] = MoeCommMs(m, Backend::kTrtllm, o, s, b, 4, 8);
  EXPECT_NEAR(dispatch, 4 * 2 * 1024 * 2.0 * ms_per_byte, 1e-9);
  EXPECT_NEAR(combine, 4 * 2 * 1024 * 2.0 * ms_per_byte, 1e-9);
  EXPECT_TRUE(UsesMnnvlAllToAll(Backend::kTrtllm, s, 4, 8));
  // nvfp4 experts: their inputs go out quantized (0.5625 bytes an element with the scales).
  ModelArch fp4 = m;
  fp4.moe_quant = Quant::kNvfp4;
  EXPECT_NEAR(MoeCommMs(fp4, Backend::kTrtllm, o, s, b, 4, 8).first, 4 * 2 * 1024 * 0.5625 * ms_per_byte, 1e-9);
  // One NVLink domain per node (HGX), a group beyond the domain, expert TP inside, or another backend:
  // gathered.
  const double gathered = 8 * 4 * 1024 * 2.0 * ms_per_byte;
  EXPECT_NEAR(MoeCommMs(m, Backend::kTrtllm, o, s, b, 8, 8).first, gathered, 1e-9);
  EXPECT_NEAR(MoeCommMs(m, Backend::kSglang, o, s, b, 4, 8).first, gathered, 1e-9);
  EXPECT_FALSE(UsesMnnvlAllToAll(Backend::kTrtllm, s, 8, 8));
  EXPECT_FALSE(UsesMnnvlAllToAll(Backend::kTrtllm, ParallelSplit{1, 1, 16, 1, 16}, 4, 8));
  EXPECT_FALSE(UsesMnnvlAllToAll(Backend::kTrtllm, ParallelSplit{1, 1, 8, 2, 4}, 4, 8));
  EXPECT_FALSE(UsesMnnvlAllToAll(Backend::kTrtllm, ParallelSplit{8, 1, 1, 1, 8}, 4, 8));
  EXPECT_FALSE(UsesMnnvlAllToAll(Backend::kSglang, s, 4, 8));
}

}  // namespace
}  // namespace dyprof

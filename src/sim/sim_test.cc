#include "sim/sim.h"

#include <gtest/gtest.h>

#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "common/file_system.h"
#include "sim/estimate.h"

namespace dyprof {
namespace {

ModelArch Dense() {
  ModelArch m;
  m.hf_id = "test/dense-8b";
  m.num_layers = 32;
  m.hidden_size = 4096;
  m.num_heads = 32;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 14336;
  m.vocab_size = 128256;
  m.max_position_embeddings = 131072;
  return m;
}

Result<PerfEngine> Engine(Backend b) {
  DYPROF_ASSIGN_OR_RETURN(SystemSpec sys, FindSystem("h200_sxm"));
  return PerfEngine::Create(Dense(), sys, b);
}

// One TP2 prefill and one TP2 decode worker.
DisaggConfig Tp2Disagg() {
  DisaggConfig c;
  c.prefill_split.tp = c.decode_split.tp = 2;
  return c;
}

// The estimator's request for a disaggregated deployment `c` at `users` closed-loop users.
EstimateRequest DisaggRequest(const DisaggConfig& c, int isl, int osl, int users) {
  EstimateRequest r;
  r.model = "m";
  r.mode = ServingMode::kDisagg;
  r.isl = isl;
  r.osl = osl;
  r.concurrency = users;
  r.disagg = c;
  return r;
}

TEST(SimTest, AggRunsAndIsConsistent) {
  for (Backend b : {Backend::kVllm, Backend::kSglang, Backend::kTrtllm}) {
    auto e = Engine(b);
    ASSERT_TRUE(e.ok()) << e.status().message();
    ParallelSplit s;
    auto r = SimulateAgg(*e, s, 32, 2000, 300);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_GT(r->ttft_ms.mean, 0);
    EXPECT_GT(r->tpot_ms.mean, 0);
    EXPECT_LE(r->ttft_ms.p50, r->ttft_ms.p99);
    EXPECT_GT(r->achieved_concurrency, 32 * 0.8);
    EXPECT_LE(r->peak_kv_blocks, r->kv_blocks_capacity > 0 ? r->kv_blocks_capacity : r->peak_kv_blocks);
    // More load → slower tokens and later first tokens.
    auto lo = SimulateAgg(*e, s, 1, 2000, 300);
    ASSERT_TRUE(lo.ok());
    EXPECT_LT(lo->tpot_ms.mean, r->tpot_ms.mean);
    EXPECT_LT(lo->ttft_ms.mean, r->ttft_ms.mean);
  }
}

TEST(SimTest, AggAdmissionHoldsDelayFirstTokens) {
  // SGLang polling every 30 decode iterations; TensorRT-LLM balancing 2 attention-DP ranks with a
  // 60-iteration timeout. Same work, later first tokens.
  for (Backend b : {Backend::kSglang, Backend::kTrtllm}) {
    auto e = Engine(b);
    ASSERT_TRUE(e.ok());
    ParallelSplit s;
    s.dp = b == Backend::kTrtllm ? 2 : 1;
    SimOptions held;
    if (b == Backend::kSglang) {
      held.admission.recv_interval_iters = 30;
    } else {
      held.admission.adp_balance_timeout_iters = 60;
    }
    auto free = SimulateAgg(*e, s, 32, 1000, 300);
    auto delayed = SimulateAgg(*e, s, 32, 1000, 300, 0, held);
    ASSERT_TRUE(free.ok() && delayed.ok()) << delayed.status().message();
    EXPECT_GT(delayed->ttft_ms.mean, free->ttft_ms.mean + 3 * free->itl_ms.mean) << BackendName(b);
    EXPECT_EQ(delayed->tokens_out, free->tokens_out);
    EXPECT_EQ(delayed->tokens_in, free->tokens_in);
  }
  auto e = Engine(Backend::kVllm);
  ASSERT_TRUE(e.ok());
  SimOptions foreign;
  foreign.admission.recv_interval_iters = 30;  // SGLang's setting on a vLLM engine
  auto bad = SimulateAgg(*e, ParallelSplit{}, 32, 1000, 300, 0, foreign);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("recv_interval_iters is 30 for a vllm engine"), std::string::npos);
}

TEST(SimTest, SingleRequestTtftIsOnePrefill) {
  // One user, one request: TTFT = overhead + the prefill step of the whole prompt (chunked by the
  // budget) — no fitted floor.
  auto e = Engine(Backend::kTrtllm);
  ASSERT_TRUE(e.ok());
  SimOptions o;
  o.requests_per_user = 1;
  o.request_overhead_ms = 0;
  o.prefill_scale = 1.0;
  o.isl_spread = o.osl_spread = 0;
  auto r = SimulateAgg(*e, ParallelSplit{}, 1, 4000, 10, 8192, o);
  ASSERT_TRUE(r.ok());
  StepBatch b;
  b.prefill_seqs = 1;
  b.prefill_tokens = 4000;
  auto step = e->StepLatencyMs(ParallelSplit{}, b);
  ASSERT_TRUE(step.ok());
  EXPECT_NEAR(r->ttft_ms.mean, *step, 0.03 * *step);
}

TEST(SimTest, DisaggWithDerivedWorkers) {
  auto e = Engine(Backend::kSglang);
  ASSERT_TRUE(e.ok());
  DisaggConfig c = Tp2Disagg();
  auto w = DeriveWorkerCounts(*e, c, 256, 1024, 512);
  ASSERT_TRUE(w.ok()) << w.status().message();
  // Corpus sizing: 2.569 · 256^0.094 · 1^0.518 = 4.33 decode ranks → 4 workers of one rank, 64 each.
  EXPECT_EQ(w->decode_workers, 4);
  EXPECT_EQ(w->decode_batch, 64);
  EXPECT_GE(w->prefill_workers, 1);
  {
    DisaggConfig dep = c;  // 8 DP ranks per worker: 4.33 · 8^0.518 = 12.7 ranks → 2 workers, 16 per rank
    dep.decode_split.tp = 1;
    dep.decode_split.dp = 8;
    auto wd = DeriveWorkerCounts(*e, dep, 256, 1024, 512);
    ASSERT_TRUE(wd.ok()) << wd.status().message();
    EXPECT_EQ(wd->decode_workers, 2);
    EXPECT_EQ(wd->decode_batch, 16);
  }
  {
    // A decode max batch of 16 per rank seats 256 users on at least 16 one-rank workers.
    auto capped = DeriveWorkerCounts(*e, c, 256, 1024, 512, 0, /*decode_max_batch=*/16);
    ASSERT_TRUE(capped.ok()) << capped.status().message();
    EXPECT_EQ(capped->decode_workers, 16);
    EXPECT_EQ(capped->decode_batch, 16);
  }
  c.prefill_workers = w->prefill_workers;
  c.decode_workers = w->decode_workers;
  SimOptions fixed;
  fixed.isl_spread = fixed.osl_spread = 0;
  auto r = SimulateDisagg(*e, c, 256, 1024, 512, 0, fixed);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->tokens_out, static_cast<int64_t>(r->requests_total) * 512);
  EXPECT_GT(r->kv_transfer_ms, 1.0);
  EXPECT_GT(r->ttft_ms.mean, r->kv_transfer_ms);
}

// The decode workers' max batch (decode_max_num_seqs, a silicon row's decode_max_batch_size) caps
// the decode batch only: requests beyond it wait for a slot, which is TTFT, not TPOT.
TEST(SimTest, DisaggDecodeMaxBatchQueuesRequestsBeyondTheDecodeSlots) {
  auto e = Engine(Backend::kTrtllm);
  ASSERT_TRUE(e.ok());
  DisaggConfig c = Tp2Disagg();
  SimOptions o;
  o.isl_spread = o.osl_spread = 0;
  auto free_slots = SimulateDisagg(*e, c, 32, 1024, 256, 0, o);
  o.decode_max_num_seqs = 8;
  auto capped = SimulateDisagg(*e, c, 32, 1024, 256, 0, o);
  ASSERT_TRUE(free_slots.ok() && capped.ok());
  EXPECT_GT(free_slots->mean_decode_batch, 8.0);
  EXPECT_LE(capped->mean_decode_batch, 8.0);
  // 32 users, 8 slots: three in four requests wait for whole decodes; the ones decoding run a smaller batch.
  EXPECT_GT(capped->ttft_ms.mean, 2.0 * free_slots->ttft_ms.mean);
  EXPECT_LT(capped->tpot_ms.mean, free_slots->tpot_ms.mean);
  EXPECT_EQ(capped->tokens_out, free_slots->tokens_out);
  // The estimator passes a row's decode_max_batch_size through.
  EstimateRequest r = DisaggRequest(c, 1024, 256, 32);
  r.decode_max_batch = 8;
  SimOptions plain;
  plain.isl_spread = plain.osl_spread = 0;
  SimResult via_row;
  auto m = RunEstimateDes(*e, r, plain, &via_row);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_DOUBLE_EQ(via_row.ttft_ms.mean, capped->ttft_ms.mean);
}

// Disaggregated decode workers on Hopper take their own fitted multiplier; Blackwell, and the
// aggregated simulation, keep decode_scale.
TEST(SimTest, HopperDisaggDecodeWorkersTakeTheirOwnScale) {
  const SimDefaults trt = SimDefaults::For(Backend::kTrtllm), vllm = SimDefaults::For(Backend::kVllm);
  EXPECT_EQ(trt.DisaggDecodeScale(90), trt.hopper_disagg_decode_scale);
  EXPECT_NE(trt.hopper_disagg_decode_scale, trt.decode_scale);
  EXPECT_EQ(trt.DisaggDecodeScale(100), trt.decode_scale);
  EXPECT_EQ(trt.DisaggDecodeScale(80), trt.decode_scale);
  EXPECT_EQ(trt.DisaggDecodeScale(89), trt.decode_scale);   // Ada (L40S)
  EXPECT_EQ(trt.DisaggDecodeScale(103), trt.decode_scale);  // B300 / GB300
  EXPECT_EQ(vllm.DisaggDecodeScale(90), vllm.decode_scale);  // no Hopper disagg rows to fit it on
  auto e = Engine(Backend::kTrtllm);  // h200_sxm
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->system().sm_version, 90);
  SimOptions o;
  o.isl_spread = o.osl_spread = 0;
  auto by_default = SimulateDisagg(*e, Tp2Disagg(), 16, 1024, 256, 0, o);
  o.decode_scale = trt.hopper_disagg_decode_scale;
  auto hopper = SimulateDisagg(*e, Tp2Disagg(), 16, 1024, 256, 0, o);
  o.decode_scale = trt.decode_scale;
  auto blackwell = SimulateDisagg(*e, Tp2Disagg(), 16, 1024, 256, 0, o);
  ASSERT_TRUE(by_default.ok() && hopper.ok() && blackwell.ok());
  EXPECT_DOUBLE_EQ(by_default->tpot_ms.mean, hopper->tpot_ms.mean);
  EXPECT_GT(by_default->tpot_ms.mean, blackwell->tpot_ms.mean);
  // The worker-count rule sizes the deployment with the same multiplier (or the options' one).
  DisaggConfig dep;
  dep.prefill_split.tp = 2;
  dep.decode_split.tp = 2;
  auto derived = DeriveWorkerCounts(*e, dep, 512, 1024, 1024);
  auto derived_hopper = DeriveWorkerCounts(*e, dep, 512, 1024, 1024, 0, 0, trt.hopper_disagg_decode_scale);
  auto derived_fast = DeriveWorkerCounts(*e, dep, 512, 1024, 1024, 0, 0, 0.3);
  ASSERT_TRUE(derived.ok() && derived_hopper.ok() && derived_fast.ok());
  EXPECT_EQ(derived->prefill_workers, derived_hopper->prefill_workers);
  EXPECT_EQ(derived->decode_workers, derived_hopper->decode_workers);
  EXPECT_NE(derived->prefill_workers, derived_fast->prefill_workers);  // faster decode: more requests to prefill
}

// A request's own length spread (a benchmark's length range, silicon column random_range_ratio)
// replaces the default jitter in the simulation; a spread the options set explicitly wins.
TEST(SimTest, RequestLengthSpreadReachesTheSimulationUnlessTheOptionsSetOne) {
  auto e = Engine(Backend::kTrtllm);
  ASSERT_TRUE(e.ok());
  DisaggConfig c = Tp2Disagg();
  SimOptions o;
  o.isl_spread = o.osl_spread = 1.0 / 9.0;
  auto direct = SimulateDisagg(*e, c, 16, 922, 230, 0, o);
  o.isl_spread = o.osl_spread = 0;
  auto fixed = SimulateDisagg(*e, c, 16, 922, 230, 0, o);
  ASSERT_TRUE(direct.ok() && fixed.ok());
  EstimateRequest r = DisaggRequest(c, 922, 230, 16);
  r.length_spread = 1.0 / 9.0;
  SimResult via_row;
  ASSERT_TRUE(RunEstimateDes(*e, r, SimOptions{}, &via_row).ok());
  EXPECT_DOUBLE_EQ(via_row.ttft_ms.mean, direct->ttft_ms.mean);
  EXPECT_NE(via_row.ttft_ms.mean, fixed->ttft_ms.mean);  // the draws differ, so the run does
  SimResult overridden;
  ASSERT_TRUE(RunEstimateDes(*e, r, o, &overridden).ok());
  EXPECT_DOUBLE_EQ(overridden.ttft_ms.mean, fixed->ttft_ms.mean);
  // A benchmark of equal lengths (ratio 1, spread 0) keeps the default jitter: never lock-step.
  r.length_spread = 0;
  SimResult equal_lengths;
  ASSERT_TRUE(RunEstimateDes(*e, r, SimOptions{}, &equal_lengths).ok());
  auto jitter = SimulateDisagg(*e, c, 16, 922, 230, 0, SimOptions{});
  ASSERT_TRUE(jitter.ok());
  EXPECT_DOUBLE_EQ(equal_lengths.ttft_ms.mean, jitter->ttft_ms.mean);
}

// Runs that would take minutes are refused up front, naming the limit; the closed form is not
// limited. (A disagg row at 5e7 users, or with a 16M-token output, used to run for minutes.)
TEST(SimTest, OversizedRunsAreRefusedBeforeSimulating) {
  auto e = Engine(Backend::kVllm);
  ASSERT_TRUE(e.ok());
  ParallelSplit s{2, 1, 1, 1, 1};
  auto users = SimulateAgg(*e, s, kMaxSimulatedUsers + 1, 128, 128);
  ASSERT_FALSE(users.ok());
  EXPECT_NE(users.status().message().find("concurrent users is above its limit of 100000"), std::string::npos);
  SimOptions many;
  many.requests_per_user = kMaxSimulatedRequests;
  auto requests = SimulateAgg(*e, s, 2, 128, 128, 0, many);
  ASSERT_FALSE(requests.ok());
  EXPECT_NE(requests.status().message().find("requests is above its limit"), std::string::npos);
  DisaggConfig c = Tp2Disagg();
  auto steps = SimulateDisagg(*e, c, 64, 100, 16000000);
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.status().message().find("engine iterations is above its limit"), std::string::npos)
      << steps.status().message();
  EXPECT_TRUE(e->Aggregated(s, kMaxSimulatedUsers + 1, 128, 128).ok());
  // Too many workers, given or derived (2,000 users at one sequence per decode rank).
  DisaggConfig wide = c;
  wide.decode_workers = kMaxSimulatedWorkers;
  auto workers = SimulateDisagg(*e, wide, 64, 100, 100);
  ASSERT_FALSE(workers.ok());
  EXPECT_NE(workers.status().message().find("workers is above its limit of 1024 workers"), std::string::npos)
      << workers.status().message();
  EstimateRequest r = DisaggRequest(c, 100, 100, 2000);
  r.disagg_workers_known = false;
  r.decode_max_batch = 1;
  auto seated = RunEstimateDes(*e, r, SimOptions{});
  ASSERT_FALSE(seated.ok());
  EXPECT_NE(seated.status().message().find("workers is above its limit"), std::string::npos)
      << seated.status().message();
  // A long but ordinary run is not refused: 64 users x 10 requests x 50,000 output tokens.
  EXPECT_TRUE(SimulateAgg(*e, s, 64, 100, 50000).ok());
}

TEST(SimTest, DerivedDecodeWorkersHoldTheLoad) {
  auto e = Engine(Backend::kTrtllm);
  ASSERT_TRUE(e.ok());
  DisaggConfig c = Tp2Disagg();
  const int users = 6000, isl = 8000, osl = 8000;
  auto w = DeriveWorkerCounts(*e, c, users, isl, osl);
  ASSERT_TRUE(w.ok()) << w.status().message();
  // The corpus rule alone gives 2.569 · 6000^0.094 = 5.8 → 6 workers; 1,000 sequences of 16k tokens
  // each do not fit one tp2 worker's KV pool, so the count grows until every rank holds its share.
  EngineLimits lim;
  lim.max_model_len = isl + osl;
  lim.max_batch_size = 2048;
  auto mem = e->Memory(c.decode_split, lim);
  ASSERT_TRUE(mem.ok());
  const int64_t seqs_per_worker = mem->max_kv_tokens / (isl + osl);
  ASSERT_GT(seqs_per_worker, 0);
  ASSERT_LT(seqs_per_worker * 6, users);  // the case this test is about
  EXPECT_EQ(w->decode_workers, (users + seqs_per_worker - 1) / seqs_per_worker);
  EXPECT_LE(static_cast<int64_t>(w->decode_batch), seqs_per_worker);
}

TEST(SimTest, SpeculativeDecodingChargesEachTokenItsShareOfTheVerifyStep) {
  auto sys = FindSystem("h200_sxm");
  ASSERT_TRUE(sys.ok());
  PerfOptions o;
  o.speculative.draft_tokens = 2;
  o.speculative.acceptance = {0.8, 0.5};  // 2.2 tokens per step
  auto plain = PerfEngine::Create(Dense(), *sys, Backend::kVllm);
  auto spec = PerfEngine::Create(Dense(), *sys, Backend::kVllm, o);
  ASSERT_TRUE(plain.ok() && spec.ok());
  // The step cost: a decode-only step verifies 3 tokens per sequence and is charged per token gained.
  SimDefaults sd = SimDefaults::For(Backend::kVllm);
  PerfStepCost cost(*spec, ParallelSplit{}, 1.0, sd.decode_scale);
  StepBatch b;
  b.decode_seqs = 8;
  b.decode_ctx = 60;  // below the cache's bucketing
  auto step = spec->StepLatencyMs(ParallelSplit{}, b);  // the verify step, drafts included
  ASSERT_TRUE(step.ok());
  EXPECT_NEAR(cost.StepMs(b), sd.decode_scale * *step / 2.2, 1e-9);
  // A decode-bound closed loop: simulated TPOT falls by the closed form's factor.
  SimOptions fixed;
  fixed.isl_spread = fixed.osl_spread = 0;
  auto a = SimulateAgg(*plain, ParallelSplit{}, 8, 200, 400, 0, fixed);
  auto m = SimulateAgg(*spec, ParallelSplit{}, 8, 200, 400, 0, fixed);
  ASSERT_TRUE(a.ok() && m.ok()) << m.status().message();
  auto dp = plain->Decode(ParallelSplit{}, 8, 200, 400), ds = spec->Decode(ParallelSplit{}, 8, 200, 400);
  ASSERT_TRUE(dp.ok() && ds.ok());
  EXPECT_NEAR(m->tpot_ms.mean / a->tpot_ms.mean, ds->tpot_ms / dp->tpot_ms, 0.05);
  EXPECT_LT(m->tpot_ms.mean, a->tpot_ms.mean);
  EXPECT_EQ(m->tokens_out, static_cast<int64_t>(m->requests_total) * 400);  // still one token at a time
  // Disagg under the simulation (hybrid's default for disagg rows) works with it too.
  DisaggConfig c;
  auto d = SimulateDisagg(*spec, c, 8, 200, 400, 0, fixed);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_GT(d->tpot_ms.mean, 0);
}

TEST(SimTest, EstimateRequestPaths) {
  auto e = Engine(Backend::kVllm);
  ASSERT_TRUE(e.ok());
  EstimateRequest r;
  r.mode = ServingMode::kAgg;
  r.isl = 1000;
  r.osl = 200;
  r.concurrency = 8;
  SimResult sim;
  auto m = RunEstimateDes(*e, r, {}, &sim);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->ttft_ms, sim.ttft_ms.mean);
  EXPECT_GT(m->tokens_per_s_per_gpu, 0);
  r.mode = ServingMode::kDisagg;
  r.disagg_workers_known = false;
  r.concurrency = 64;
  m = RunEstimateDes(*e, r, {}, &sim);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_GE(sim.decode_workers, 1);
}

}  // namespace
}  // namespace dyprof

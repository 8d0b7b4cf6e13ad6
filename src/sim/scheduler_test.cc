#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dyprof {
namespace {

// Step latency: 10 ms per step + 1 ms per prefill token / 100 + 1 ms per decode sequence.
// Hand-traceable: a 200-token prefill alone takes 12 ms, 4 decodes take 14 ms.
class FakeCost : public StepCost {
 public:
  double StepMs(const StepBatch& b) override {
    ++calls;
    return 10.0 + b.prefill_tokens / 100.0 + b.decode_seqs;
  }
  int calls = 0;
};

EngineConfig Cfg(SchedPolicy p, int budget, int64_t kv_blocks = 0, bool ff = false) {
  EngineConfig c;
  c.policy = p;
  c.max_num_tokens = budget;
  c.kv_blocks = kv_blocks;
  c.block_size = 16;
  c.fast_forward = ff;
  return c;
}

Workload Closed(int users, int per_user, int isl, int osl) {
  Workload w;
  w.users = users;
  w.requests_per_user = per_user;
  w.isl = isl;
  w.osl = osl;
  return w;
}

std::string Shape(const StepRecord& s) {
  return "p" + std::to_string(s.batch.prefill_seqs) + ":" + std::to_string(s.batch.prefill_tokens) + "/d" +
         std::to_string(s.batch.decode_seqs);
}

TEST(SchedulerTest, VllmChunkedPrefillDecodeFirstExactSteps) {
  // Two users, isl 300, osl 3, budget 256: step 1 chunks user A (256), step 2 finishes A (44) and
  // starts B (212), step 3: A decodes first, B finishes its prompt (88), ...
  FakeCost cost;
  SimTrace trace;
  auto r = SimulateEngine(Cfg(SchedPolicy::kVllm, 256), cost, Closed(2, 1, 300, 3), &trace);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> got;
  for (const auto& s : trace.steps) got.push_back(Shape(s));
  std::vector<std::string> want = {"p1:256/d0", "p2:256/d0", "p1:88/d1", "p0:0/d2", "p0:0/d1"};
  EXPECT_EQ(got, want);
  // A: first token at the end of step 2 (12.56 + 12.56 ms), done after step 4.
  EXPECT_NEAR(trace.steps[0].dur_ms, 12.56, 1e-9);
  EXPECT_NEAR(trace.steps[2].dur_ms, 10 + 0.88 + 1, 1e-9);
  EXPECT_EQ(r->requests_measured, 2);
  EXPECT_EQ(r->tokens_out, 6);
  EXPECT_EQ(r->tokens_in, 600);
}

TEST(SchedulerTest, SglangPrefillFirstNoMixedSteps) {
  // SGLang: the second user's prefill pre-empts the decode of the first; prefill steps carry no
  // decodes.
  FakeCost cost;
  SimTrace trace;
  auto r = SimulateEngine(Cfg(SchedPolicy::kSglang, 256), cost, Closed(2, 1, 300, 3), &trace);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> got;
  for (const auto& s : trace.steps) got.push_back(Shape(s));
  std::vector<std::string> want = {"p1:256/d0", "p2:256/d0", "p1:88/d0", "p0:0/d2", "p0:0/d2"};
  EXPECT_EQ(got, want);
  for (const auto& s : trace.steps) EXPECT_FALSE(s.batch.prefill_seqs > 0 && s.batch.decode_seqs > 0);
}

TEST(SchedulerTest, TrtllmWholeContextsOnly) {
  // TRT-LLM: a context that does not fit the rest of the budget waits for the next step.
  FakeCost cost;
  SimTrace trace;
  auto r = SimulateEngine(Cfg(SchedPolicy::kTrtllm, 500), cost, Closed(2, 1, 300, 3), &trace);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> got;
  for (const auto& s : trace.steps) got.push_back(Shape(s));
  std::vector<std::string> want = {"p1:300/d0", "p1:300/d1", "p0:0/d2", "p0:0/d1"};
  EXPECT_EQ(got, want);
}

TEST(SchedulerTest, VllmPreemptsWhenKvRunsOut) {
  // 3 users, isl 32 (2 blocks), osl 40: each request needs up to 5 blocks; 12 blocks cannot hold 3.
  FakeCost cost;
  SimTrace trace;
  auto r = SimulateEngine(Cfg(SchedPolicy::kVllm, 512, 12), cost, Closed(3, 2, 32, 40), &trace);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GT(r->preemptions, 0);
  for (int64_t used : trace.kv_used) EXPECT_LE(used, 12);
  EXPECT_LE(r->peak_kv_blocks, 12);
  EXPECT_EQ(r->tokens_out, 6 * 40);
  EXPECT_GT(r->prefill_tokens_computed, r->tokens_in);  // recompute after preemption
}

TEST(SchedulerTest, TrtllmReservesAndNeverPreempts) {
  FakeCost cost;
  SimTrace trace;
  auto r = SimulateEngine(Cfg(SchedPolicy::kTrtllm, 512, 12), cost, Closed(3, 2, 32, 40), &trace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->preemptions, 0);
  EXPECT_LE(r->peak_kv_blocks, 12);
  EXPECT_EQ(r->prefill_tokens_computed, r->tokens_in);
}

TEST(SchedulerTest, FastForwardIsExact) {
  for (SchedPolicy p : {SchedPolicy::kVllm, SchedPolicy::kSglang, SchedPolicy::kTrtllm}) {
    FakeCost a, b;
    Workload w = Closed(7, 3, 500, 60);
    auto slow = SimulateEngine(Cfg(p, 1024, 400, false), a, w);
    auto fast = SimulateEngine(Cfg(p, 1024, 400, true), b, w);
    ASSERT_TRUE(slow.ok() && fast.ok());
    EXPECT_NEAR(slow->ttft_ms.mean, fast->ttft_ms.mean, 1e-6) << SchedPolicyName(p);
    EXPECT_NEAR(slow->e2e_ms.p99, fast->e2e_ms.p99, 1e-6);
    EXPECT_EQ(slow->steps, fast->steps);
    EXPECT_EQ(slow->preemptions, fast->preemptions);
  }
}

std::vector<std::string> Shapes(const SimTrace& t) {
  std::vector<std::string> out;
  for (const auto& s : t.steps) out.push_back(Shape(s));
  return out;
}

TEST(SchedulerTest, ReceiveIntervalTakesNewRequestsAfterNDecodeIterationsOrAPrefill) {
  // vLLM steps, budget 100, two users of two requests (isl 100, osl 4). A finishes in step 3, a
  // decode-only step, while B still runs. N = 1: A2 starts in step 4. N = 2: steps 0-2 carried
  // prefill (each lets the next step poll), step 3 weighs 1, step 4 brings it to 2, so A2 enters in
  // step 5. N = 3: the weight is 3 only after step 5, when B's end leaves the engine idle, which
  // takes A2 at once, ahead of B2 (no idle spin steps in the trace).
  std::vector<std::vector<std::string>> want = {
      {"p1:100/d0", "p1:99/d1", "p1:1/d1", "p0:0/d2", "p1:99/d1", "p1:1/d1", "p1:99/d1", "p1:1/d1", "p0:0/d2",
       "p0:0/d1", "p0:0/d1"},
      {"p1:100/d0", "p1:99/d1", "p1:1/d1", "p0:0/d2", "p0:0/d1", "p1:99/d1", "p2:100/d0", "p1:1/d1", "p0:0/d2",
       "p0:0/d2", "p0:0/d1"},
      {"p1:100/d0", "p1:99/d1", "p1:1/d1", "p0:0/d2", "p0:0/d1", "p0:0/d1", "p1:100/d0", "p1:99/d1", "p1:1/d1",
       "p0:0/d2", "p0:0/d1", "p0:0/d1"}};
  std::vector<double> ttft;
  for (int n = 1; n <= 3; ++n) {
    FakeCost cost;
    SimTrace trace;
    EngineConfig c = Cfg(SchedPolicy::kVllm, 100);
    c.recv_interval_iters = n;
    auto r = SimulateEngine(c, cost, Closed(2, 2, 100, 4), &trace);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(Shapes(trace), want[n - 1]) << "N = " << n;
    EXPECT_EQ(r->tokens_out, 16);
    ttft.push_back(r->ttft_ms.mean);
  }
  EXPECT_LT(ttft[0], ttft[1]);
  EXPECT_LT(ttft[1], ttft[2]);
}

TEST(SchedulerTest, AttentionDpBalanceHoldsContextsUntilEveryRankHasOneOrTheTimeout) {
  // TRT-LLM on 2 ranks, budget 150, three users (A, C on rank 0, B on rank 1), isl 100, osl 3.
  // Step 1: rank 0 has C waiting, rank 1 nothing, both ranks decode: the balance holds C until the
  // T-th such iteration (T = 2: step 2) or until a rank runs dry (T = 3: step 3, after A and B end).
  std::vector<std::vector<std::string>> want = {
      {"p1:100/d0", "p1:100/d1", "p0:0/d2", "p0:0/d1"},                          // T = 0: off
      {"p1:100/d0", "p0:0/d1", "p1:100/d1", "p0:0/d1", "p0:0/d1"},               // T = 2
      {"p1:100/d0", "p0:0/d1", "p0:0/d1", "p1:100/d0", "p0:0/d1", "p0:0/d1"}};   // T = 3
  std::vector<double> ttft;
  for (int i = 0; i < 3; ++i) {
    FakeCost cost;
    SimTrace trace;
    EngineConfig c = Cfg(SchedPolicy::kTrtllm, 150);
    c.ranks = 2;
    c.adp_balance_timeout_iters = std::vector<int>{0, 2, 3}[i];
    auto r = SimulateEngine(c, cost, Closed(3, 1, 100, 3), &trace);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(Shapes(trace), want[i]) << "T index " << i;
    ttft.push_back(r->ttft_ms.mean);
  }
  EXPECT_LT(ttft[0], ttft[1]);
  EXPECT_LT(ttft[1], ttft[2]);
}

TEST(SchedulerTest, FastForwardIsExactWithAdmissionHolds) {
  for (SchedPolicy p : {SchedPolicy::kSglang, SchedPolicy::kTrtllm}) {
    FakeCost a, b;
    Workload w = Closed(9, 4, 300, 60);
    w.osl_spread = 0.3;  // users drift apart, so requests arrive while the engine is busy
    EngineConfig slow_c = Cfg(p, 1024, 0, false), fast_c = Cfg(p, 1024, 0, true);
    for (EngineConfig* c : {&slow_c, &fast_c}) {
      c->ranks = 3;
      c->recv_interval_iters = 7;
      c->adp_balance_timeout_iters = p == SchedPolicy::kTrtllm ? 5 : 0;
    }
    auto slow = SimulateEngine(slow_c, a, w);
    auto fast = SimulateEngine(fast_c, b, w);
    ASSERT_TRUE(slow.ok() && fast.ok());
    EXPECT_NEAR(slow->ttft_ms.mean, fast->ttft_ms.mean, 1e-6) << SchedPolicyName(p);
    EXPECT_NEAR(slow->e2e_ms.p99, fast->e2e_ms.p99, 1e-6);
    EXPECT_EQ(slow->steps, fast->steps);
    EXPECT_EQ(slow->fast_forwarded_steps, 0);
    EXPECT_GT(fast->fast_forwarded_steps, 0);
  }
}

TEST(SchedulerTest, ConservationAndLittlesLaw) {
  for (SchedPolicy p : {SchedPolicy::kVllm, SchedPolicy::kSglang, SchedPolicy::kTrtllm}) {
    FakeCost cost;
    Workload w = Closed(16, 20, 700, 120);
    w.isl_spread = 0.3;
    w.osl_spread = 0.3;
    EngineConfig c = Cfg(p, 2048, 2000, true);
    c.ranks = 2;
    auto r = SimulateEngine(c, cost, w);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->requests_total, 16 * 20);
    EXPECT_EQ(r->requests_measured, 16 * 20);
    EXPECT_LE(r->peak_kv_blocks, 2000);
    // Closed loop: achieved concurrency ≈ users (drain at the end lowers it slightly).
    EXPECT_GT(r->achieved_concurrency, 16 * 0.85) << SchedPolicyName(p);
    EXPECT_LE(r->achieved_concurrency, 16 + 1e-9);
    // Little: L = λ · W.
    EXPECT_NEAR(r->achieved_concurrency, r->request_rate / 1000.0 * r->e2e_ms.mean, 1e-6);
    EXPECT_LE(r->ttft_ms.p50, r->ttft_ms.p90);
    EXPECT_LE(r->ttft_ms.p90, r->ttft_ms.p99);
  }
}

TEST(SchedulerTest, PoissonWarmupAndQueueing) {
  FakeCost cost;
  Workload w;
  w.isl = 400;
  w.osl = 50;
  w.rate_rps = 5;
  w.num_requests = 300;
  w.warmup_requests = 50;
  auto r = SimulateEngine(Cfg(SchedPolicy::kVllm, 1024, 0, true), cost, w);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->requests_measured, 250);
  EXPECT_NEAR(r->request_rate, 5.0, 1.0);
  EXPECT_GE(r->queue_ms.mean, 0);
  // Light load: TTFT close to one prefill step plus the decodes sharing it.
  EXPECT_LT(r->ttft_ms.p50, 40);
}

TEST(SchedulerTest, DisaggTransferAndAdmission) {
  // 1 prefill, 1 decode worker, one user: TTFT = prefill step + transfer; then osl−1 decode steps.
  FakeCost pc, dc;
  DisaggEngines d;
  d.prefill = Cfg(SchedPolicy::kVllm, 1024);
  d.decode = Cfg(SchedPolicy::kVllm, 1024);
  d.kv_transfer_ms = 5;
  Workload w = Closed(1, 1, 300, 4);
  SimTrace trace;
  auto r = SimulateDisaggEngines(d, pc, dc, w, &trace);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NEAR(r->ttft_ms.mean, 13.0 + 5.0, 1e-9);  // 10 + 3 prefill, +5 transfer, first token at admission
  EXPECT_NEAR(r->e2e_ms.mean, 18.0 + 3 * 11.0, 1e-9);
  EXPECT_NEAR(r->tpot_ms.mean, 11.0, 1e-9);
  EXPECT_EQ(r->tokens_out, 4);
}

TEST(SchedulerTest, DisaggDecodeSlotsQueueTheFirstToken) {
  // Two users, one 100-token request each, both prefilled in one 12 ms step. With one decode slot
  // the second request waits for the first to finish its two decode steps (11 ms each): its first
  // token comes at 12 + 22 = 34 ms instead of 12.
  FakeCost pc, dc;
  DisaggEngines d;
  d.prefill = Cfg(SchedPolicy::kTrtllm, 1024);
  d.decode = Cfg(SchedPolicy::kTrtllm, 1024);
  Workload w = Closed(2, 1, 100, 3);
  auto free_slots = SimulateDisaggEngines(d, pc, dc, w);
  ASSERT_TRUE(free_slots.ok()) << free_slots.status().message();
  EXPECT_NEAR(free_slots->ttft_ms.mean, 12.0, 1e-9);
  d.decode.max_num_seqs = 1;
  auto one_slot = SimulateDisaggEngines(d, pc, dc, w);
  ASSERT_TRUE(one_slot.ok()) << one_slot.status().message();
  EXPECT_NEAR(one_slot->ttft_ms.mean, (12.0 + 34.0) / 2, 1e-9);
  EXPECT_NEAR(one_slot->tpot_ms.mean, 11.0, 1e-9);  // each decodes alone
  EXPECT_DOUBLE_EQ(one_slot->mean_decode_batch, 1.0);
  EXPECT_EQ(one_slot->tokens_out, 6);
}

TEST(SchedulerTest, DisaggConservationManyWorkers) {
  FakeCost pc, dc;
  DisaggEngines d;
  d.prefill = Cfg(SchedPolicy::kSglang, 2048, 0, true);
  d.prefill_workers = 2;
  d.decode = Cfg(SchedPolicy::kTrtllm, 2048, 3000, true);
  d.decode.ranks = 4;
  d.decode_workers = 3;
  d.kv_transfer_ms = 2;
  Workload w = Closed(50, 6, 900, 80);
  auto r = SimulateDisaggEngines(d, pc, dc, w);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->tokens_out, 300 * 80);
  EXPECT_EQ(r->tokens_in, 300 * 900);
  EXPECT_LE(r->peak_kv_blocks, 3000);
  EXPECT_NEAR(r->achieved_concurrency, r->request_rate / 1000.0 * r->e2e_ms.mean, 1e-6);
}

TEST(SchedulerTest, RejectsBadInput) {
  FakeCost cost;
  EXPECT_FALSE(SimulateEngine(Cfg(SchedPolicy::kVllm, 0), cost, Closed(1, 1, 10, 10)).ok());
  EXPECT_FALSE(SimulateEngine(Cfg(SchedPolicy::kVllm, 64), cost, Closed(0, 1, 10, 10)).ok());
  // One request larger than the KV pool.
  EXPECT_FALSE(SimulateEngine(Cfg(SchedPolicy::kVllm, 64, 2), cost, Closed(1, 1, 100, 10)).ok());
  EngineConfig no_poll = Cfg(SchedPolicy::kSglang, 64);
  no_poll.recv_interval_iters = 0;
  auto zero = SimulateEngine(no_poll, cost, Closed(1, 1, 10, 10));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "sim: recv_interval_iters must be >= 1, found 0");
  EngineConfig negative = Cfg(SchedPolicy::kTrtllm, 64);
  negative.adp_balance_timeout_iters = -1;
  auto below = SimulateEngine(negative, cost, Closed(1, 1, 10, 10));
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.status().message(), "sim: adp_balance_timeout_iters must be >= 0, found -1");
}

}  // namespace
}  // namespace dyprof

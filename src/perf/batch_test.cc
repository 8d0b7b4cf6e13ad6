#include "perf/batch.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/file_system.h"

#include "perf/accuracy.h"

namespace dyprof {
namespace {

constexpr char kHeader[] =
    "id,silicon_data_source,backend,backend_version,model_path,system,precision,mode,isl,osl,gemm_quant_mode,"
    "moe_quant_mode,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,prefill_batch_size,"
    "prefill_num_workers,prefill_tp_size,prefill_pp_size,prefill_attention_dp_size,prefill_moe_tp_size,"
    "prefill_moe_ep_size,decode_batch_size,decode_num_workers,decode_tp_size,decode_pp_size,"
    "decode_attention_dp_size,decode_moe_tp_size,decode_moe_ep_size,silicon_ttft_ms,silicon_tpot_ms\n";

// kHeader with `columns` (",a,b") appended.
std::string HeaderWith(const std::string& columns) {
  std::string header = kHeader;
  header.insert(header.size() - 1, columns);
  return header;
}

TEST(BatchTest, SiliconConcurrency) {
  EXPECT_EQ(SiliconConcurrency("db-dump/x; config_id=1; silicon_concurrency=128; measured=y"), 128);
  EXPECT_FALSE(SiliconConcurrency("source_file=a.csv").has_value());
}

TEST(BatchTest, AggRow) {
  std::string csv = std::string(kHeader) +
                    "r1,\"a; silicon_concurrency=512; b\",sglang,0.5.9,deepseek-ai/DeepSeek-R1,b200_sxm,fp8,agg,1024,"
                    "1024,fp8_block,fp8_block,128,1,1,4,1,4,,,,,,,,,,,,,,,100.5,20.25\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok());
  auto r = RequestFromSiliconRow(*t, 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->mode, ServingMode::kAgg);
  EXPECT_EQ(r->backend, Backend::kSglang);
  EXPECT_EQ(r->split, (ParallelSplit{1, 1, 4, 1, 4}));
  EXPECT_EQ(r->concurrency, 512);  // batch_size is per DP rank
  EXPECT_EQ(r->gemm_quant, Quant::kFp8Block);
  EXPECT_DOUBLE_EQ(r->measured_ttft_ms, 100.5);
}

TEST(BatchTest, DisaggRowDerivesBatchAndWorkers) {
  std::string csv = std::string(kHeader) +
                    "r2,silicon_concurrency=100,trtllm,1.2,deepseek-ai/DeepSeek-R1,gb200,fp4,disagg,8192,1024,nvfp4,"
                    "nvfp4,,,,,,,,,4,1,1,1,4,,,8,1,2,1,16,1000,20\n"
                    "r3,silicon_concurrency=100,trtllm,1.2,deepseek-ai/DeepSeek-R1,gb200,fp4,disagg,8192,1024,nvfp4,"
                    "nvfp4,,,,,,,1,2,4,1,1,1,4,13,4,8,1,1,1,8,1000,20\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok());
  auto a = RequestFromSiliconRow(*t, 0);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->disagg.prefill_workers, 1);
  EXPECT_EQ(a->disagg.decode_workers, 1);
  EXPECT_EQ(a->disagg.decode_batch, 50);  // ceil(100 / (1 worker × dp 2))
  EXPECT_EQ(a->disagg.decode_split, (ParallelSplit{8, 1, 2, 1, 16}));
  auto b = RequestFromSiliconRow(*t, 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->disagg.prefill_workers, 2);
  EXPECT_EQ(b->disagg.decode_workers, 4);
  EXPECT_EQ(b->disagg.decode_batch, 13);  // recorded value wins
}

TEST(BatchTest, DecodeMaxBatchColumnLimitsTheDecodeWorkersOfDisaggRowsOnly) {
  const std::string header = HeaderWith(",decode_max_batch_size");
  // 1 prefill worker (TP4) and 2 decode workers (TP8, 8 attention-DP ranks) for 180 users.
  const std::string disagg = ",silicon_concurrency=180,trtllm,1.2,deepseek-ai/DeepSeek-R1,b200_sxm,fp4,disagg,1024,1024,"
                             "nvfp4,nvfp4,,,,,,,1,1,4,1,1,1,4,,2,8,1,8,1,8,1000,20";
  const std::string agg = ",silicon_concurrency=64,trtllm,1.2,deepseek-ai/DeepSeek-R1,b200_sxm,fp4,agg,1024,1024,"
                          "nvfp4,nvfp4,64,8,1,1,1,8,,,,,,,,,,,,,,,300,6";
  std::string csv = header + "free" + disagg + ",\n" + "capped" + disagg + ",4\n" + "zero" + disagg + ",0\n" +
                    "on_agg" + agg + ",4\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto free_row = RequestFromSiliconRow(*t, 0);
  auto capped = RequestFromSiliconRow(*t, 1);
  ASSERT_TRUE(free_row.ok() && capped.ok());
  EXPECT_EQ(free_row->decode_max_batch, 0);
  EXPECT_EQ(capped->decode_max_batch, 4);
  EXPECT_EQ(free_row->disagg.decode_batch, 12);  // the load per rank, ceil(180 / 16)
  EXPECT_EQ(capped->disagg.decode_batch, 4);     // of which 4 run, the rest wait
  auto zero = RequestFromSiliconRow(*t, 2);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "column decode_max_batch_size: expected an integer 1..1048576, found '0'");
  auto on_agg = RequestFromSiliconRow(*t, 3);
  ASSERT_FALSE(on_agg.ok());
  EXPECT_EQ(on_agg.status().message(),
            "column decode_max_batch_size: 4 given for a row of mode agg (expected empty: it limits the decode workers of a "
            "disaggregated deployment)");
}

TEST(BatchTest, RandomRangeRatioPredictsAtTheBenchmarksMeanLengths) {
  const std::string header = HeaderWith(",random_range_ratio");
  const std::string agg = ",silicon_concurrency=64,trtllm,1.2,deepseek-ai/DeepSeek-R1,b200_sxm,fp4,agg,1024,8192,"
                          "nvfp4,nvfp4,64,8,1,1,1,8,,,,,,,,,,,,,,,300,6";
  std::string csv = header + "fixed" + agg + ",\n" + "ratio" + agg + ",0.8\n" + "one" + agg + ",1\n" + "zero" + agg +
                    ",0\n" + "above" + agg + ",1.2\n" + "text" + agg + ",0.8x\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto fixed = RequestFromSiliconRow(*t, 0);
  auto ratio = RequestFromSiliconRow(*t, 1);
  auto one = RequestFromSiliconRow(*t, 2);
  ASSERT_TRUE(fixed.ok() && ratio.ok() && one.ok());
  EXPECT_EQ(fixed->isl, 1024);
  EXPECT_EQ(fixed->osl, 8192);
  EXPECT_LT(fixed->length_spread, 0);  // the simulation's own default
  // Uniform on [819.2, 1024] and [6553.6, 8192]: means 921.6 and 7372.8, spread ±1/9 around them.
  EXPECT_EQ(ratio->isl, 922);
  EXPECT_EQ(ratio->osl, 7373);
  EXPECT_NEAR(ratio->length_spread, 1.0 / 9.0, 1e-12);
  EXPECT_NEAR(ratio->isl * (1 - ratio->length_spread), 0.8 * 1024, 0.5);
  EXPECT_NEAR(ratio->isl * (1 + ratio->length_spread), 1024, 0.5);
  EXPECT_EQ(one->isl, 1024);  // every request at the recorded length
  EXPECT_EQ(one->length_spread, 0);
  for (size_t row : {3u, 4u, 5u}) {
    auto bad = RequestFromSiliconRow(*t, row);
    ASSERT_FALSE(bad.ok()) << row;
    EXPECT_NE(bad.status().message().find("column random_range_ratio: expected a number in (0, 1]"), std::string::npos)
        << bad.status().message();
  }
  EXPECT_EQ(BenchmarkMeanLength(1, 0.5), 1);  // never below one token
}

TEST(BatchTest, SpeculativeColumnsSetMtpPerRow) {
  // train.csv's columns plus the two optional ones accuracy --recipes supplies.
  const std::string header = HeaderWith(",mtp_draft_tokens,mtp_acceptance");
  const std::string agg = ",silicon_concurrency=4,trtllm,1.2,deepseek-ai/DeepSeek-R1,b200_sxm,fp8,agg,1024,1024,fp8_block,"
                          "fp8_block,4,8,1,1,8,1,,,,,,,,,,,,,,,300,6";
  std::string csv = header + "plain" + agg + ",,\n" + "mtp3" + agg + ",3,\"0.85,0.85,0.85\"\n" + "off" + agg + ",0,\n" +
                    "bad_count" + agg + ",9,\n" + "bad_rate" + agg + ",1,1.5\n" + "fraction" + agg + ",2.6,\n" +
                    "rate_no_drafts" + agg + ",0,0.7\n" + "mtp3_low" + agg + ",3,\"0.5,0.5,0.5\"\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto plain = RequestFromSiliconRow(*t, 0);
  auto mtp3 = RequestFromSiliconRow(*t, 1);
  auto off = RequestFromSiliconRow(*t, 2);
  ASSERT_TRUE(plain.ok() && mtp3.ok() && off.ok());
  EXPECT_FALSE(plain->mtp_draft_tokens.has_value());
  EXPECT_EQ(mtp3->mtp_draft_tokens, 3);
  EXPECT_EQ(mtp3->mtp_acceptance, (std::vector<double>{0.85, 0.85, 0.85}));
  EXPECT_EQ(off->mtp_draft_tokens, 0);
  auto bad_count = RequestFromSiliconRow(*t, 3);
  ASSERT_FALSE(bad_count.ok());
  EXPECT_EQ(bad_count.status().message(), "column mtp_draft_tokens: expected an integer 0..8, found '9'");
  auto fraction = RequestFromSiliconRow(*t, 5);
  ASSERT_FALSE(fraction.ok());
  EXPECT_EQ(fraction.status().message(), "column mtp_draft_tokens: expected an integer 0..8, found '2.6'");
  auto rate_no_drafts = RequestFromSiliconRow(*t, 6);
  ASSERT_FALSE(rate_no_drafts.ok());
  EXPECT_EQ(rate_no_drafts.status().message(),
            "column mtp_acceptance: '0.7' given with mtp_draft_tokens 0 (no drafts to accept)");
  auto mtp3_low = RequestFromSiliconRow(*t, 7);
  ASSERT_TRUE(mtp3_low.ok());
  auto bad_rate = RequestFromSiliconRow(*t, 4);
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_NE(bad_rate.status().message().find("mtp_acceptance: expected comma-separated numbers in [0, 1]"),
            std::string::npos);

  // A row's columns override the estimator's own setting, in both directions.
  PosixFileSystem fs;
  PerfOptions with_mtp;
  with_mtp.speculative.draft_tokens = 3;
  with_mtp.speculative.acceptance = {0.85, 0.85, 0.85};
  BatchEstimator est_plain(&fs, PerfOptions{});
  BatchEstimator est_mtp(&fs, with_mtp);
  EstimateOutcome a = est_plain.Predict(*plain);
  EstimateOutcome b = est_plain.Predict(*mtp3);
  EstimateOutcome c = est_mtp.Predict(*plain);
  EstimateOutcome d = est_mtp.Predict(*off);
  ASSERT_EQ(a.status, EstimateStatus::kOk) << a.error;
  ASSERT_EQ(b.status, EstimateStatus::kOk) << b.error;
  ASSERT_EQ(c.status, EstimateStatus::kOk) << c.error;
  ASSERT_EQ(d.status, EstimateStatus::kOk) << d.error;
  EXPECT_DOUBLE_EQ(b.metrics.tpot_ms, c.metrics.tpot_ms);  // row MTP = estimator MTP
  EXPECT_DOUBLE_EQ(d.metrics.tpot_ms, a.metrics.tpot_ms);  // row "0" switches the estimator's MTP off
  EXPECT_LT(b.metrics.tpot_ms, 0.8 * a.metrics.tpot_ms);   // batch 4 decode is memory bound: MTP pays
  // Same drafts, lower acceptance, same estimator: a different engine, fewer tokens per step.
  EstimateOutcome low = est_plain.Predict(*mtp3_low);
  ASSERT_EQ(low.status, EstimateStatus::kOk) << low.error;
  EXPECT_GT(low.metrics.tpot_ms, 1.2 * b.metrics.tpot_ms);
}

TEST(BatchTest, SchedulerColumnsSetBudgetAndAdmissionPerRow) {
  const std::string header = HeaderWith(",max_num_tokens,sched_recv_interval,adp_balance_timeout_iters");
  // DeepSeek-R1 on 8 attention-DP ranks with experts over 8 GPUs, 16 users per rank (TensorRT-LLM),
  // and on TP8 with 64 users (SGLang).
  const std::string trt = ",silicon_concurrency=128,trtllm,1.2,deepseek-ai/DeepSeek-R1,b200_sxm,fp8,agg,1024,1024,"
                          "fp8_block,fp8_block,16,1,1,8,1,8,,,,,,,,,,,,,,,300,6";
  const std::string sgl = ",silicon_concurrency=64,sglang,0.5.9,deepseek-ai/DeepSeek-R1,b200_sxm,fp8,agg,1024,1024,"
                          "fp8_block,fp8_block,64,8,1,1,1,8,,,,,,,,,,,,,,,300,6";
  std::string csv = header + "plain" + trt + ",,,\n" + "balanced" + trt + ",,,60\n" + "budget" + trt + ",1088,,\n" +
                    "bad_recv" + sgl + ",,0,\n" + "bad_timeout" + trt + ",,,2.5\n" + "bad_budget" + trt + ",-5,,\n" +
                    "sgl_plain" + sgl + ",,,\n" + "sgl_polled" + sgl + ",,30,\n" + "recv_on_trt" + trt + ",,30,\n" +
                    "balance_on_sgl" + sgl + ",,,60\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto plain = RequestFromSiliconRow(*t, 0);
  auto balanced = RequestFromSiliconRow(*t, 1);
  auto budget = RequestFromSiliconRow(*t, 2);
  auto sgl_plain = RequestFromSiliconRow(*t, 6);
  auto sgl_polled = RequestFromSiliconRow(*t, 7);
  ASSERT_TRUE(plain.ok() && balanced.ok() && budget.ok() && sgl_plain.ok() && sgl_polled.ok());
  EXPECT_TRUE(plain->admission.IsDefault());
  EXPECT_EQ(plain->max_num_tokens, 0);
  EXPECT_EQ(balanced->admission.adp_balance_timeout_iters, 60);
  EXPECT_EQ(sgl_polled->admission.recv_interval_iters, 30);
  EXPECT_EQ(budget->max_num_tokens, 1088);
  for (auto [row, message] :
       {std::pair{3, "column sched_recv_interval: expected an integer 1..10000, found '0'"},
        std::pair{4, "column adp_balance_timeout_iters: expected an integer 0..100000, found '2.5'"},
        std::pair{5, "column max_num_tokens: expected an integer 1..16777216, found '-5'"},
        std::pair{8, "column sched_recv_interval: 30 given for a trtllm row (expected 1 or empty: the receive "
                     "interval is SGLang's)"},
        std::pair{9, "column adp_balance_timeout_iters: 60 given for a sglang row (expected 0 or empty: the "
                     "attention-DP balance is TensorRT-LLM's)"}}) {
    auto bad = RequestFromSiliconRow(*t, row);
    ASSERT_FALSE(bad.ok()) << row;
    EXPECT_EQ(bad.status().message(), message);
  }
  // A held row is predicted as its plain twin plus the engine's hold for those settings; TPOT is
  // untouched. A one-request budget chunks the 16 prompts of a rank into 16 steps: more TTFT.
  PosixFileSystem fs;
  BatchEstimator est(&fs, PerfOptions{});
  for (auto [free_row, held_row, dp, users] : {std::tuple{&*plain, &*balanced, 8, 16},
                                               std::tuple{&*sgl_plain, &*sgl_polled, 1, 64}}) {
    EstimateOutcome p = est.Predict(*free_row), h = est.Predict(*held_row);
    ASSERT_EQ(p.status, EstimateStatus::kOk) << p.error;
    ASSERT_EQ(h.status, EstimateStatus::kOk) << h.error;
    EXPECT_DOUBLE_EQ(h.metrics.tpot_ms, p.metrics.tpot_ms);
    const double hold =
        AdmissionWaitMs(held_row->admission, p.metrics.tpot_ms, dp, users, p.metrics.request_latency_ms);
    EXPECT_GT(hold, 5 * p.metrics.tpot_ms) << held_row->id;
    EXPECT_NEAR(h.metrics.ttft_ms, p.metrics.ttft_ms + hold, 1e-6) << held_row->id;
  }
  EstimateOutcome p = est.Predict(*plain), b = est.Predict(*budget);
  ASSERT_EQ(b.status, EstimateStatus::kOk) << b.error;
  EXPECT_GT(b.metrics.ttft_ms, p.metrics.ttft_ms);
}

TEST(BatchTest, MoeA2aBackendColumnSetsTheExpertAllToAllPerRow) {
  const std::string header = HeaderWith(",moe_a2a_backend");
  // DeepSeek-R1 on 32 attention-DP ranks of GB200 (4 GPUs a node) with the experts over all 32, 64
  // users per rank: the engines whose dispatch the all-to-all replaces.
  const std::string sgl = ",silicon_concurrency=2048,sglang,0.5.9,deepseek-ai/DeepSeek-R1,gb200,fp8,agg,1024,1024,"
                          "fp8_block,fp8_block,64,1,1,32,1,32,,,,,,,,,,,,,,,300,30";
  const std::string trt = ",silicon_concurrency=2048,trtllm,1.2,deepseek-ai/DeepSeek-R1,gb200,fp8,agg,1024,1024,"
                          "fp8_block,fp8_block,64,1,1,32,1,32,,,,,,,,,,,,,,,300,30";
  std::string csv = header + "plain" + sgl + ",\n" + "deepep" + sgl + ",deepep\n" + "none" + sgl + ",none\n" +
                    "unknown" + sgl + ",mooncake\n" + "deepep_on_trt" + trt + ",deepep\n" + "none_on_trt" + trt +
                    ",none\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto plain = RequestFromSiliconRow(*t, 0);
  auto deepep = RequestFromSiliconRow(*t, 1);
  auto none = RequestFromSiliconRow(*t, 2);
  ASSERT_TRUE(plain.ok() && deepep.ok() && none.ok());
  EXPECT_FALSE(plain->moe_all_to_all.has_value());
  EXPECT_EQ(deepep->moe_all_to_all, true);
  EXPECT_EQ(none->moe_all_to_all, false);
  EXPECT_TRUE(RequestFromSiliconRow(*t, 5).ok());
  for (auto [row, message] :
       {std::pair{3, "column moe_a2a_backend: 'mooncake' (expected none or deepep)"},
        std::pair{4, "column moe_a2a_backend: deepep given for a trtllm row (expected none or empty: the flag is "
                     "SGLang's)"}}) {
    auto bad = RequestFromSiliconRow(*t, row);
    ASSERT_FALSE(bad.ok()) << row;
    EXPECT_EQ(bad.status().message(), message);
  }
  // The row's setting overrides the estimator's, in both directions; DeepEP moves less per step.
  PosixFileSystem fs;
  PerfOptions with_a2a;
  with_a2a.moe_all_to_all = true;
  BatchEstimator est_plain(&fs, PerfOptions{});
  BatchEstimator est_a2a(&fs, with_a2a);
  EstimateOutcome gathered = est_plain.Predict(*plain), sent = est_plain.Predict(*deepep);
  EstimateOutcome flag_on = est_a2a.Predict(*plain), row_off = est_a2a.Predict(*none);
  for (const EstimateOutcome* o : {&gathered, &sent, &flag_on, &row_off}) {
    ASSERT_EQ(o->status, EstimateStatus::kOk) << o->error;
  }
  EXPECT_LT(sent.metrics.tpot_ms, 0.9 * gathered.metrics.tpot_ms);
  EXPECT_DOUBLE_EQ(flag_on.metrics.tpot_ms, sent.metrics.tpot_ms);
  EXPECT_DOUBLE_EQ(row_off.metrics.tpot_ms, gathered.metrics.tpot_ms);
}

TEST(BatchTest, CalibrationMultipliesThePredictionsOfItsFamilyOnly) {
  std::string csv = std::string(kHeader) +
                    "q,silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h200_sxm,bf16,agg,1024,256,,,8,2,1,1,1,1,"
                    ",,,,,,,,,,,,,,100,10\n"
                    "o,silicon_concurrency=8,vllm,0.19.0,Qwen/Qwen3-32B,h100_sxm,bf16,agg,1024,256,,,8,2,1,1,1,1,"
                    ",,,,,,,,,,,,,,100,10\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok());
  auto q = RequestFromSiliconRow(*t, 0);
  auto o = RequestFromSiliconRow(*t, 1);
  ASSERT_TRUE(q.ok() && o.ok());
  EXPECT_EQ(q->backend_version, "0.19.0");
  PosixFileSystem fs;
  BatchEstimator plain(&fs, PerfOptions{});
  EstimateOutcome base = plain.Predict(*q);
  ASSERT_EQ(base.status, EstimateStatus::kOk) << base.error;
  EXPECT_FALSE(base.calibration.applied);
  auto engine = plain.EngineFor(*q);
  ASSERT_TRUE(engine.ok());
  const CalibrationKey key = CalibrationKeyFor(*q, **engine);
  EXPECT_EQ(key.ToString(), "h200_sxm/vllm/agg/Qwen/Qwen3-32B/bf16@0.19.0");
  // A system named by an alias is keyed by its catalog id: "gb200" rows and a "gb200_sxm" request
  // share a family.
  EstimateRequest gb200 = *q;
  gb200.system = "gb200";
  auto gb200_engine = plain.EngineFor(gb200);
  ASSERT_TRUE(gb200_engine.ok()) << gb200_engine.status().message();
  EXPECT_EQ(CalibrationKeyFor(gb200, **gb200_engine).system, "gb200_sxm");
  // A family whose rows were all predicted 2x too fast at TTFT and 1.25x too slow at TPOT.
  std::vector<CalibrationPoint> pts;
  for (double c : {4.0, 8.0, 16.0}) {
    pts.push_back({key, "s", c, static_cast<double>(q->isl), static_cast<double>(q->osl), 200, 100, 8, 10});
  }
  Calibration table = Calibration::Fit(pts);
  BatchEstimator calibrated(&fs, PerfOptions{});
  calibrated.set_calibration(&table);
  EstimateOutcome fixed = calibrated.Predict(*q);
  ASSERT_EQ(fixed.status, EstimateStatus::kOk) << fixed.error;
  ASSERT_TRUE(fixed.calibration.applied);
  // TTFT: the shrunk line, then the rows measured near the request's load (at its ISL) make up the
  // rest: 2x in full. TPOT: the shrunk line alone.
  const double shrink = 3.0 / 6.0;
  EXPECT_GT(fixed.calibration.ttft_neighbours, 0);
  EXPECT_NEAR(fixed.metrics.ttft_ms, base.metrics.ttft_ms * 2.0, 1e-9 * base.metrics.ttft_ms);
  EXPECT_NEAR(fixed.metrics.tpot_ms, base.metrics.tpot_ms * std::pow(0.8, shrink), 1e-9 * base.metrics.tpot_ms);
  EXPECT_NEAR(fixed.metrics.request_latency_ms, fixed.metrics.ttft_ms + 255 * fixed.metrics.tpot_ms,
              1e-6 * fixed.metrics.request_latency_ms);
  // Another system is another family: untouched.
  EstimateOutcome other_base = plain.Predict(*o), other = calibrated.Predict(*o);
  ASSERT_EQ(other.status, EstimateStatus::kOk) << other.error;
  EXPECT_FALSE(other.calibration.applied);
  EXPECT_DOUBLE_EQ(other.metrics.ttft_ms, other_base.metrics.ttft_ms);
  // The sweep: lengths, layout and speculative decoding, not the load.
  EstimateRequest more_load = *q;
  more_load.concurrency = 64;
  EXPECT_EQ(SweepId(more_load), SweepId(*q));
  EstimateRequest longer = *q;
  longer.isl = 2048;
  EXPECT_NE(SweepId(longer), SweepId(*q));
}

TEST(BatchTest, BadRowsAreErrorsNotSkips) {
  std::string csv = std::string(kHeader) + "r4,,vllm,,m,h200_sxm,,agg,abc,10,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "r5,,vllm,,m,h200_sxm,,weird,10,10,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(RequestFromSiliconRow(*t, 0).ok());
  EXPECT_FALSE(RequestFromSiliconRow(*t, 1).ok());
}

// Inputs beyond what the tool models are row errors naming the field, decided before any GPU or
// token count is multiplied (tp 2^30 x dp 4 used to overflow int in ParallelSplit::NumGpus).
TEST(BatchTest, RowsBeyondTheModelledLimitsAreErrors) {
  const std::string agg = "vllm,,Qwen/Qwen3-32B,h200_sxm,,agg,";
  std::string csv = std::string(kHeader) +
                    "isl,silicon_concurrency=8," + agg + "16777217,10,,,8,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "tp,silicon_concurrency=8," + agg + "10,10,,,8,1073741824,1,4,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "huge,silicon_concurrency=8," + agg + "1e20,10,,,8,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "conc,silicon_concurrency=99999999999999999999," + agg + "10,10,,,,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "flight,silicon_concurrency=1000000," + agg + "4000,1000,,,,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n" +
                    "gpus,silicon_concurrency=16,trtllm,,deepseek-ai/DeepSeek-R1,h200_sxm,fp8,disagg,1024,1024,,,,,,,,,"
                    "1,1000000,8,1,1,8,1,1,1000000,8,1,1,8,1,1,1\n" +
                    "ok,silicon_concurrency=8," + agg + "16777216,10,,,8,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n";
  auto t = CsvTable::Parse(csv);
  ASSERT_TRUE(t.ok());
  const char* expected[] = {"isl must be between 1 and 16777216 tokens (got 16777217)",
                            "tp1073741824pp1dp4etp1ep1: more than 65536 GPUs in one engine",
                            "column isl: out of range: '1e20'",
                            "silicon_concurrency must be between 1 and 1048576 (got 1e+20)",
                            "hold more than 2147483647 tokens in flight",
                            "the disaggregated deployment uses 16000000 GPUs, more than 65536"};
  for (size_t i = 0; i < std::size(expected); ++i) {
    auto r = RequestFromSiliconRow(*t, i);
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_NE(r.status().message().find(expected[i]), std::string::npos) << r.status().message();
  }
  auto ok = RequestFromSiliconRow(*t, std::size(expected));
  ASSERT_TRUE(ok.ok()) << ok.status().message();  // the limits themselves are accepted
  EXPECT_EQ(ok->isl, 16777216);
}

TEST(BatchTest, ValidateRequestChecksSplitsAndWorkers) {
  EstimateRequest r;
  r.isl = r.osl = 100;
  r.concurrency = 4;
  EXPECT_TRUE(ValidateRequest(r).ok());
  r.split.moe_ep = 0;
  EXPECT_FALSE(ValidateRequest(r).ok());
  r.split = ParallelSplit{65536, 1, 1, 1, 65536};
  EXPECT_TRUE(ValidateRequest(r).ok());
  r.split.pp = 2;
  EXPECT_FALSE(ValidateRequest(r).ok());
  r.split = ParallelSplit{};
  r.mode = ServingMode::kDisagg;
  EXPECT_TRUE(ValidateRequest(r).ok());
  r.disagg.decode_workers = 0;
  EXPECT_FALSE(ValidateRequest(r).ok());
  r.disagg.decode_workers = 1;
  r.isl = 5000;
  r.disagg.prefill_batch = 1000000;  // x 5,100 tokens: more than 2^31 in flight
  EXPECT_FALSE(ValidateRequest(r).ok());
  r.isl = 100;
  r.disagg.prefill_batch = 1;
  r.disagg.prefill_split.tp = 0;
  EXPECT_FALSE(ValidateRequest(r).ok());
}

TEST(AccuracyTest, StatsAndGroups) {
  MetricStats s = ComputeStats({-10, 30, 5, -25});
  EXPECT_EQ(s.n, 4);
  EXPECT_DOUBLE_EQ(s.median_abs_pct, 17.5);
  EXPECT_DOUBLE_EQ(s.within20, 0.5);
  EXPECT_DOUBLE_EQ(s.median_signed_pct, -2.5);
  std::vector<AccuracyRow> rows = {
      {"h200_sxm", "vllm", "agg", true, true, 110, 9, 100, 10},
      {"h200_sxm", "vllm", "agg", true, false, 0, 0, 100, 10},
      {"b200_sxm", "vllm", "agg", false, false, 0, 0, 100, 10},
  };
  auto g = ComputeAccuracy(rows);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].system, "b200_sxm");
  EXPECT_EQ(g[2].system, "all");
  EXPECT_EQ(g[2].rows, 3);
  EXPECT_EQ(g[2].supported, 2);
  EXPECT_EQ(g[2].predicted, 1);
  EXPECT_DOUBLE_EQ(g[2].ttft.median_signed_pct, 10);
  EXPECT_DOUBLE_EQ(g[2].tpot.median_signed_pct, -10);
  std::string table = FormatAccuracyTable(g);
  EXPECT_NE(table.find("| all | all | all | 3 | 2 | 1 | 50.0 | 10.0 | 100.0 | +10.0 | 10.0 | 100.0 | -10.0 |"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace dyprof

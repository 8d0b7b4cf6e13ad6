#include "search/rapid.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "catalog/memory.h"
#include "perf/batch.h"

namespace dyprof {

namespace {

std::vector<int> PowersOfTwo(int max) {
  std::vector<int> out;
  for (int v = 1; v <= max; v *= 2) out.push_back(v);
  return out;
}

// GPUs per replica must be one of 1,2,4,8,16,24,...,128 (AIC num_gpu_list).
bool AllowedReplicaGpus(int n) { return n == 1 || n == 2 || n == 4 || (n >= 8 && n <= 128 && n % 8 == 0); }

}  // namespace

std::vector<ParallelSplit> EnumerateSplits(const ModelArch& model, const SystemSpec& system, Backend backend,
                                           int max_gpus) {
  std::vector<ParallelSplit> out;
  int domain = std::max(system.nvlink_domain_gpus, system.gpus_per_node);
  if (!model.IsMoe()) {
    // Dense: TP within the NVLink domain; PP across nodes when TP alone cannot reach max_gpus.
    int tp_cap = std::min({domain, max_gpus, 16});
    for (int tp : PowersOfTwo(tp_cap)) out.push_back({tp, 1, 1, 1, 1});
    for (int pp : {2, 4})
      if (tp_cap * pp <= max_gpus) out.push_back({tp_cap, pp, 1, 1, 1});
    return out;
  }
  // MoE: tp * dp GPUs, re-split between expert TP and EP.
  for (int n : PowersOfTwo(std::min(max_gpus, 64))) {
    for (int tp : PowersOfTwo(n)) {
      int dp = n / tp;
      if (tp > domain) continue;
      if (backend == Backend::kTrtllm && dp > 1 && tp > 1) continue;
      for (int moe_tp : PowersOfTwo(n)) {
        int moe_ep = n / moe_tp;
        if (backend == Backend::kVllm && moe_tp > 1 && moe_ep > 1) continue;
        if (model.num_experts % moe_ep != 0) continue;
        out.push_back({tp, 1, dp, moe_tp, moe_ep});
      }
    }
  }
  return out;
}

std::vector<int> AggBatchGrid(int max_batch) {
  std::vector<int> g;
  for (int b = 1; b <= 15; ++b) g.push_back(b);
  for (int b : {16, 20, 24, 28, 32, 40, 48, 56}) g.push_back(b);
  for (int b = 64; b <= 240; b += 16) g.push_back(b);
  for (int b = 256; b <= 480; b += 32) g.push_back(b);
  for (int b : {512, 768, 1024}) g.push_back(b);
  g.erase(std::remove_if(g.begin(), g.end(), [&](int b) { return b > max_batch; }), g.end());
  return g;
}

std::vector<int> DecodeBatchGrid(int max_batch) {
  std::vector<int> g;
  for (int b = 1; b <= 15; ++b) g.push_back(b);
  for (int b = 16; b <= 30; b += 2) g.push_back(b);
  for (int b = 32; b <= 124; b += 4) g.push_back(b);
  for (int b = 128; b <= 504; b += 8) g.push_back(b);
  g.push_back(512);
  g.erase(std::remove_if(g.begin(), g.end(), [&](int b) { return b > max_batch; }), g.end());
  return g;
}

std::vector<int> CtxTokenGrid(int isl) {
  std::vector<int> g;
  int cap = std::max(8192, 2 * isl);
  for (int t = isl; t <= cap; t += isl) g.push_back(t);
  for (int t : {2048, 4096, 8192}) g.push_back(t);  // chunked-prefill budgets
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

namespace {

// KV capacity and fit of one engine under the backend's memory rule.
struct EngineFit {
  bool fits = false;
  std::string why;
  int64_t max_kv_tokens = 0;
};

EngineFit FitOf(const PerfEngine& engine, const ParallelSplit& split, int max_batch, int max_num_tokens, int max_len) {
  EngineLimits limits;
  limits.max_batch_size = max_batch;
  limits.max_num_tokens = max_num_tokens;
  limits.max_model_len = max_len;
  auto mem = EngineMemory(engine.model(), engine.system(), engine.backend(), split, limits);
  EngineFit f;
  if (!mem.ok()) {
    f.why = mem.status().message();
    return f;
  }
  f.fits = mem->fits && mem->max_kv_tokens > 0;
  f.why = mem->fits ? "" : mem->overflow;
  f.max_kv_tokens = mem->max_kv_tokens;
  return f;
}

void SearchAgg(const PerfEngine& engine, const SearchSpace& space, const std::vector<ParallelSplit>& splits,
               SearchResult& out) {
  const int seq_len = space.isl + space.osl;
  const CalibrationKey key = EngineCalibrationKey(engine, ServingMode::kAgg, "");
  for (const auto& split : splits) {
    const std::string layout = split.ToString();  // the calibration's CalibrationPoint::layout
    for (int ctx : CtxTokenGrid(space.isl)) {
      EngineFit fit = FitOf(engine, split, space.max_batch_size, ctx, seq_len);
      for (int bs : AggBatchGrid(space.max_batch_size)) {
        ConfigRow row;
        row.backend = engine.backend();
        row.split = split;
        row.bs = bs;
        row.ctx_tokens = ctx;
        row.num_total_gpus = split.NumGpus();
        if (!fit.fits) {
          row.feasible = false;
          row.reject_reason = "does not fit in memory: " + fit.why;
          out.agg.push_back(row);
          break;
        }
        if (int64_t(bs) * seq_len > fit.max_kv_tokens) {
          row.feasible = false;
          row.reject_reason = fmt::format("KV cache holds {} tokens, batch {} needs {}", fit.max_kv_tokens, bs,
                                          int64_t(bs) * seq_len);
          out.agg.push_back(row);
          break;  // larger batches need more KV
        }
        int concurrency = bs * split.dp;
        auto r = engine.Aggregated(split, concurrency, space.isl, space.osl, ctx);
        ++out.evaluations;
        if (!r.ok()) {
          row.feasible = false;
          row.reject_reason = r.status().message();
          out.agg.push_back(row);
          break;
        }
        Metrics m = r->m;
        bool ttft_factor_moves = false;  // a calibrated TTFT factor that a higher load would change
        if (space.calibration != nullptr) {
          const CalibrationFactors f =
              space.calibration->Lookup(key, m.concurrency > 0 ? m.concurrency : concurrency, space.isl, space.osl,
                                        layout);
          if (f.applied) {
            ApplyCalibration(f, space.osl, m, /*closed_loop=*/true);
            row.ttft_factor = f.ttft;
            row.tpot_factor = f.tpot;
            row.ttft_neighbours = f.ttft_neighbours;
            row.ttft_neighbours_same_layout = f.ttft_neighbours_same_layout;
            ttft_factor_moves = f.ttft_moves_with_load;
          }
        }
        row.ttft_ms = m.ttft_ms;
        row.tpot_ms = m.tpot_ms;
        row.request_latency_ms = m.request_latency_ms;
        row.tokens_per_s = m.tokens_per_s;
        row.tokens_per_s_per_gpu = m.tokens_per_s_per_gpu;
        row.tokens_per_s_per_user = m.tokens_per_s_per_user;
        row.seq_per_s = m.request_rate;
        row.concurrency = m.concurrency > 0 ? m.concurrency : concurrency;
        bool ttft_ok = m.ttft_ms <= space.ttft_target_ms;
        if (!ttft_ok) {
          row.feasible = false;
          row.reject_reason = fmt::format("TTFT {:.1f} ms > target {:.1f} ms", m.ttft_ms, space.ttft_target_ms);
        }
        out.agg.push_back(row);
        // The model's TTFT only grows with the batch; a calibrated one need not while its factor moves
        // with the load (within the family's measured range), so the sweep goes on there.
        if (!ttft_ok && !ttft_factor_moves) break;
      }
    }
  }
}

void SearchDisagg(const PerfEngine& engine, const SearchSpace& space, const std::vector<ParallelSplit>& splits,
                  SearchResult& out) {
  const int seq_len = space.isl + space.osl;
  // Prefill engines: one request per batch (prefill_max_batch_size = 1), token budget = isl.
  for (const auto& split : splits) {
    EngineFit fit = FitOf(engine, split, 1, std::max(space.isl, 1), seq_len);
    if (!fit.fits) {
      out.notes.push_back(fmt::format("prefill {}: does not fit ({})", split.ToString(), fit.why));
      continue;
    }
    auto p = engine.Prefill(split, 1, space.isl);
    ++out.evaluations;
    if (!p.ok()) continue;
    StageRow s;
    s.backend = engine.backend();
    s.split = split;
    s.bs = 1;
    s.global_bs = split.dp;
    s.ttft_ms = p->latency_ms;
    s.seq_per_s = p->seq_per_s;
    s.seq_per_s_per_gpu = p->seq_per_s / split.NumGpus();
    s.max_num_tokens = space.isl;
    out.prefill.push_back(s);
  }
  // Decode engines over the batch grid, stopping at the KV capacity.
  for (const auto& split : splits) {
    EngineFit fit = FitOf(engine, split, space.max_batch_size, 512, seq_len);
    if (!fit.fits) {
      out.notes.push_back(fmt::format("decode {}: does not fit ({})", split.ToString(), fit.why));
      continue;
    }
    for (int bs : DecodeBatchGrid(space.max_batch_size)) {
      if (int64_t(bs) * seq_len > fit.max_kv_tokens) break;
      auto d = engine.Decode(split, bs, space.isl, space.osl);
      ++out.evaluations;
      if (!d.ok()) break;
      StageRow s;
      s.backend = engine.backend();
      s.split = split;
      s.bs = bs;
      s.global_bs = bs * split.dp;
      s.tpot_ms = d->tpot_ms;
      s.seq_per_s = d->seq_per_s;
      s.seq_per_s_per_gpu = d->seq_per_s / split.NumGpus();
      s.tokens_per_s_per_user = d->tpot_ms > 0 ? 1000.0 / d->tpot_ms : 0;
      s.concurrency = s.global_bs;
      out.decode.push_back(s);
    }
  }
  // Prefill engines that meet TTFT after the queueing correction, best first.
  std::vector<StageRow> prefill_ok;
  for (auto p : out.prefill) {
    p.ttft_ms *= kAutoscaleTtftCorrection;
    if (p.ttft_ms <= space.ttft_target_ms) prefill_ok.push_back(p);
  }
  std::stable_sort(prefill_ok.begin(), prefill_ok.end(), [](const StageRow& a, const StageRow& b) {
    return a.seq_per_s_per_gpu > b.seq_per_s_per_gpu;
  });
  if (prefill_ok.size() > 16) prefill_ok.resize(16);
  const bool same_tp = engine.backend() == Backend::kSglang;  // SGLang non-wide-EP disagg
  for (const auto& d : out.decode) {
    ConfigRow best;
    bool found = false;
    for (const auto& p : prefill_ok) {
      if (same_tp && p.split.tp != d.split.tp) continue;
      for (int x = 1; x <= 32; ++x) {
        int pg = p.NumGpus() * x;
        if (pg >= space.total_gpus) break;
        for (int y = 1; y <= 32; ++y) {
          int total = pg + d.NumGpus() * y;
          if (total > space.total_gpus) break;
          if (!AllowedReplicaGpus(total)) continue;
          ConfigRow r = ComposeDisagg(p, x, d, y, space.osl);
          if (!found || r.tokens_per_s_per_gpu > best.tokens_per_s_per_gpu ||
              (r.tokens_per_s_per_gpu == best.tokens_per_s_per_gpu && r.num_total_gpus < best.num_total_gpus)) {
            best = r;
            found = true;
          }
        }
      }
    }
    if (found) {
      out.disagg.push_back(best);
    } else {
      ConfigRow r;
      r.disagg = true;
      r.backend = d.backend;
      r.decode = d;
      r.feasible = false;
      r.reject_reason = prefill_ok.empty()
                            ? fmt::format("no prefill engine meets TTFT {:.1f} ms (x{} queueing correction)",
                                          space.ttft_target_ms, kAutoscaleTtftCorrection)
                            : fmt::format("no xPyD combination fits {} GPUs", space.total_gpus);
      out.disagg.push_back(r);
    }
  }
}

}  // namespace

SearchResult RunRapidSearch(const PerfEngine& engine, const SearchSpace& space) {
  SearchResult out;
  int max_gpus = std::max(1, space.total_gpus);
  std::vector<ParallelSplit> splits;
  for (const auto& s : EnumerateSplits(engine.model(), engine.system(), engine.backend(), max_gpus)) {
    Status st = engine.CheckSplit(s);
    if (st.ok()) splits.push_back(s);
  }
  if (space.agg) SearchAgg(engine, space, splits, out);
  if (space.disagg) SearchDisagg(engine, space, splits, out);
  return out;
}

std::vector<ConfigRow> ParetoFrontier(const std::vector<ConfigRow>& rows) {
  std::vector<ConfigRow> pts;
  for (const auto& r : rows)
    if (r.feasible && std::isfinite(r.tokens_per_s_per_gpu) && r.tokens_per_s_per_gpu > 0) pts.push_back(r);
  std::sort(pts.begin(), pts.end(), [](const ConfigRow& a, const ConfigRow& b) {
    if (a.tokens_per_s_per_user != b.tokens_per_s_per_user) return a.tokens_per_s_per_user > b.tokens_per_s_per_user;
    return a.tokens_per_s_per_gpu > b.tokens_per_s_per_gpu;
  });
  std::vector<ConfigRow> front;
  double best_gpu = -1;
  for (const auto& r : pts) {
    if (r.tokens_per_s_per_gpu > best_gpu) {
      front.push_back(r);
      best_gpu = r.tokens_per_s_per_gpu;
    }
  }
  std::reverse(front.begin(), front.end());
  return front;
}

}  // namespace dyprof

#include "search/picking.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace dyprof {

namespace {

double ConstraintValue(const ConfigRow& r, const LatencyTarget& t) {
  return t.request_latency_ms ? r.request_latency_ms : r.tpot_ms;
}

std::optional<double> ConstraintTarget(const LatencyTarget& t) {
  return t.request_latency_ms ? t.request_latency_ms : t.tpot_ms;
}

bool Finite(const ConfigRow& r) {
  return std::isfinite(r.ttft_ms) && std::isfinite(r.tpot_ms) && std::isfinite(r.tokens_per_s_per_gpu) &&
         std::isfinite(r.request_latency_ms);
}

// SLA filter: feasible rows meeting the constraint; if none, every feasible row flagged exceeded.
std::vector<ConfigRow> FilterBySla(std::vector<ConfigRow> rows, const LatencyTarget& target, bool* all_exceeded) {
  std::vector<ConfigRow> feasible, meeting;
  for (auto& r : rows) {
    if (!r.feasible || !Finite(r)) continue;
    feasible.push_back(r);
  }
  auto limit = ConstraintTarget(target);
  for (const auto& r : feasible)
    if (!limit || ConstraintValue(r, target) <= *limit) meeting.push_back(r);
  *all_exceeded = meeting.empty() && !feasible.empty();
  if (*all_exceeded) {
    for (auto& r : feasible) r.sla_exceeded = true;
    return feasible;
  }
  return meeting;
}

// Keeps, per group label, the row that `better` ranks first (stable: first seen wins ties).
template <typename Better>
std::vector<ConfigRow> BestPerGroup(const std::vector<ConfigRow>& rows, Better better) {
  std::map<std::string, size_t> index;
  std::vector<ConfigRow> out;
  for (const auto& r : rows) {
    auto [it, inserted] = index.emplace(r.GroupLabel(), out.size());
    if (inserted) out.push_back(r);
    else if (better(r, out[it->second])) out[it->second] = r;
  }
  return out;
}

}  // namespace

double ClusterThroughputPerGpu(double tokens_per_s_per_gpu, int gpus_per_replica, int total_gpus) {
  if (total_gpus <= 0 || gpus_per_replica <= 0) return tokens_per_s_per_gpu;
  int replicas = total_gpus / gpus_per_replica;
  return tokens_per_s_per_gpu * replicas * gpus_per_replica / static_cast<double>(total_gpus);
}

PickResult PickDefault(std::vector<ConfigRow> rows, int total_gpus, const LatencyTarget& target, int top_n) {
  PickResult out;
  for (auto& r : rows) {
    r.tokens_per_s_per_gpu_cluster = ClusterThroughputPerGpu(r.tokens_per_s_per_gpu, r.num_total_gpus, total_gpus);
    r.replicas = (total_gpus > 0 && r.num_total_gpus > 0) ? std::max(1, total_gpus / r.num_total_gpus) : 1;
    r.total_gpus_needed = r.replicas * r.num_total_gpus;
  }
  std::vector<ConfigRow> cand = FilterBySla(std::move(rows), target, &out.all_exceeded);
  const bool latency_mode = target.request_latency_ms.has_value();
  if (out.all_exceeded) {
    cand = BestPerGroup(cand, [&](const ConfigRow& a, const ConfigRow& b) {
      return ConstraintValue(a, target) < ConstraintValue(b, target);
    });
    std::stable_sort(cand.begin(), cand.end(), [&](const ConfigRow& a, const ConfigRow& b) {
      return ConstraintValue(a, target) < ConstraintValue(b, target);
    });
  } else {
    cand = BestPerGroup(cand, [](const ConfigRow& a, const ConfigRow& b) {
      return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
    });
    std::stable_sort(cand.begin(), cand.end(), [&](const ConfigRow& a, const ConfigRow& b) {
      if (a.tokens_per_s_per_gpu_cluster != b.tokens_per_s_per_gpu_cluster)
        return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
      return latency_mode ? a.request_latency_ms < b.request_latency_ms
                          : a.tokens_per_s_per_user > b.tokens_per_s_per_user;
    });
  }
  if (static_cast<int>(cand.size()) > top_n) cand.resize(top_n);
  out.top = std::move(cand);
  if (!out.top.empty()) out.best_throughput = out.top.front().tokens_per_s_per_gpu_cluster;
  return out;
}

PickResult PickLoadMatch(std::vector<ConfigRow> rows, const LatencyTarget& target, const LoadTarget& load,
                         std::optional<int> max_total_gpus, int top_n) {
  PickResult out;
  std::vector<ConfigRow> cand = FilterBySla(std::move(rows), target, &out.all_exceeded);
  for (auto& r : cand) {
    double need = 1;
    if (load.request_rate && r.seq_per_s > 0) need = std::ceil(*load.request_rate / r.seq_per_s);
    else if (load.concurrency && r.concurrency > 0) need = std::ceil(*load.concurrency / r.concurrency);
    r.replicas = std::max(1, static_cast<int>(need));
    r.total_gpus_needed = r.replicas * r.num_total_gpus;
    r.tokens_per_s_per_gpu_cluster = r.tokens_per_s_per_gpu;
    r.load_served_pct = 100.0;
  }
  if (max_total_gpus && *max_total_gpus > 0 && !out.all_exceeded) {
    std::vector<ConfigRow> fitting;
    for (const auto& r : cand)
      if (r.total_gpus_needed <= *max_total_gpus) fitting.push_back(r);
    if (fitting.empty() && !cand.empty()) {
      out.gpu_capped = true;
      int min_needed = cand.front().total_gpus_needed;
      for (const auto& r : cand) min_needed = std::min(min_needed, r.total_gpus_needed);
      out.warnings.push_back(fmt::format(
          "Target load requires more GPUs than available ({} needed at best, {} available); serving the largest "
          "share of the load the budget allows.",
          min_needed, *max_total_gpus));
      std::vector<ConfigRow> capped;
      for (auto r : cand) {
        if (r.num_total_gpus > *max_total_gpus) continue;  // one replica alone exceeds the budget
        int uncapped = r.replicas;
        r.replicas = std::max(1, *max_total_gpus / r.num_total_gpus);
        r.load_served_pct = std::round(static_cast<double>(r.replicas) / uncapped * 1000.0) / 10.0;
        r.tokens_per_s_per_gpu_cluster =
            r.tokens_per_s_per_gpu * r.replicas * r.num_total_gpus / static_cast<double>(*max_total_gpus);
        r.total_gpus_needed = r.replicas * r.num_total_gpus;
        capped.push_back(r);
      }
      cand = std::move(capped);
    } else {
      cand = std::move(fitting);
    }
  }
  if (out.all_exceeded) {
    cand = BestPerGroup(cand, [&](const ConfigRow& a, const ConfigRow& b) {
      return ConstraintValue(a, target) < ConstraintValue(b, target);
    });
    std::stable_sort(cand.begin(), cand.end(), [&](const ConfigRow& a, const ConfigRow& b) {
      return ConstraintValue(a, target) < ConstraintValue(b, target);
    });
  } else if (out.gpu_capped) {
    cand = BestPerGroup(cand, [](const ConfigRow& a, const ConfigRow& b) {
      return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
    });
    std::stable_sort(cand.begin(), cand.end(), [](const ConfigRow& a, const ConfigRow& b) {
      return a.tokens_per_s_per_gpu_cluster > b.tokens_per_s_per_gpu_cluster;
    });
  } else {
    auto fewer = [](const ConfigRow& a, const ConfigRow& b) {
      if (a.total_gpus_needed != b.total_gpus_needed) return a.total_gpus_needed < b.total_gpus_needed;
      return a.tokens_per_s_per_gpu > b.tokens_per_s_per_gpu;
    };
    cand = BestPerGroup(cand, fewer);
    std::stable_sort(cand.begin(), cand.end(), fewer);
  }
  if (static_cast<int>(cand.size()) > top_n) cand.resize(top_n);
  out.top = std::move(cand);
  if (!out.top.empty()) {
    const ConfigRow& best = out.top.front();
    out.best_throughput = out.gpu_capped ? best.tokens_per_s_per_gpu_cluster : 1.0 / best.total_gpus_needed;
  }
  return out;
}

ConfigRow ComposeDisagg(const StageRow& p, int np, const StageRow& d, int nd, int osl) {
  ConfigRow r;
  r.disagg = true;
  r.backend = d.backend;
  r.prefill = p;
  r.decode = d;
  r.prefill_workers = np;
  r.decode_workers = nd;
  r.seq_per_s = std::min(p.seq_per_s * np * kPrefillDegradation, d.seq_per_s * nd * kDecodeDegradation);
  r.num_total_gpus = p.NumGpus() * np + d.NumGpus() * nd;
  r.tokens_per_s = r.seq_per_s * osl;
  r.tokens_per_s_per_gpu = r.tokens_per_s / r.num_total_gpus;
  r.ttft_ms = p.ttft_ms;
  r.tpot_ms = d.tpot_ms;
  r.request_latency_ms = r.ttft_ms + r.tpot_ms * std::max(osl - 1, 0);
  r.concurrency = d.concurrency * nd;
  r.tokens_per_s_per_user = d.tokens_per_s_per_user;
  return r;
}

namespace {

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// Sorted by seq/s/gpu desc then global_bs asc, one per parallel label, at most top_n.
std::vector<StageRow> TopStages(std::vector<StageRow> rows, int top_n) {
  std::stable_sort(rows.begin(), rows.end(), [](const StageRow& a, const StageRow& b) {
    if (a.seq_per_s_per_gpu != b.seq_per_s_per_gpu) return a.seq_per_s_per_gpu > b.seq_per_s_per_gpu;
    return a.global_bs < b.global_bs;
  });
  std::vector<StageRow> out;
  std::vector<std::string> seen;
  for (const auto& r : rows) {
    std::string label = r.split.Label();
    if (std::find(seen.begin(), seen.end(), label) != seen.end()) continue;
    seen.push_back(label);
    out.push_back(r);
    if (static_cast<int>(out.size()) >= top_n) break;
  }
  return out;
}

}  // namespace

PickResult PickAutoscale(const std::vector<StageRow>& prefill, const std::vector<StageRow>& decode,
                         double target_ttft_ms, double target_tpot_ms, int osl, int top_n) {
  PickResult out;
  std::vector<StageRow> pre;
  for (auto p : prefill) {
    p.ttft_ms *= kAutoscaleTtftCorrection;
    if (p.ttft_ms < target_ttft_ms) pre.push_back(p);
  }
  if (pre.empty() && !prefill.empty()) {
    out.all_exceeded = true;
    out.warnings.push_back(fmt::format(
        "No prefill engine meets the TTFT target {:.1f}ms (after the x{} queueing correction); using the closest.",
        target_ttft_ms, kAutoscaleTtftCorrection));
    for (auto p : prefill) {
      p.ttft_ms *= kAutoscaleTtftCorrection;
      pre.push_back(p);
    }
    std::stable_sort(pre.begin(), pre.end(), [](const StageRow& a, const StageRow& b) {
      if (a.ttft_ms != b.ttft_ms) return a.ttft_ms < b.ttft_ms;
      return a.seq_per_s_per_gpu > b.seq_per_s_per_gpu;
    });
    // Dedupe by label keeping the closest, then the top_n.
    std::vector<StageRow> dedup;
    for (const auto& p : pre) {
      bool seen = false;
      for (const auto& q : dedup) seen |= q.split.Label() == p.split.Label();
      if (!seen) dedup.push_back(p);
      if (static_cast<int>(dedup.size()) >= top_n) break;
    }
    pre = std::move(dedup);
  } else {
    pre = TopStages(std::move(pre), top_n);
  }

  std::vector<StageRow> dec;
  for (const auto& d : decode)
    if (d.tpot_ms < target_tpot_ms) dec.push_back(d);
  if (dec.empty() && !decode.empty()) {
    out.all_exceeded = true;
    out.warnings.push_back(
        fmt::format("No decode engine meets the ITL target {:.1f}ms; using the closest.", target_tpot_ms));
    dec = decode;
    std::stable_sort(dec.begin(), dec.end(), [](const StageRow& a, const StageRow& b) {
      if (a.tpot_ms != b.tpot_ms) return a.tpot_ms < b.tpot_ms;
      return a.seq_per_s_per_gpu > b.seq_per_s_per_gpu;
    });
    std::vector<StageRow> dedup;
    for (const auto& d : dec) {
      bool seen = false;
      for (const auto& q : dedup) seen |= q.split.Label() == d.split.Label();
      if (!seen) dedup.push_back(d);
      if (static_cast<int>(dedup.size()) >= top_n) break;
    }
    dec = std::move(dedup);
  } else {
    dec = TopStages(std::move(dec), top_n);
  }

  std::vector<ConfigRow> rows;
  for (const auto& p : pre) {
    for (const auto& d : dec) {
      ConfigRow r = ComposeDisagg(p, 1, d, 1, osl);
      r.ttft_ms = Round3(r.ttft_ms);
      r.tpot_ms = Round3(r.tpot_ms);
      r.request_latency_ms = Round3(r.request_latency_ms);
      r.tokens_per_s_per_gpu = Round3(r.tokens_per_s_per_gpu);
      r.tokens_per_s_per_user = Round3(r.tokens_per_s_per_user);
      r.seq_per_s = Round3(r.seq_per_s);
      r.tokens_per_s_per_gpu_cluster = r.tokens_per_s_per_gpu;
      r.total_gpus_needed = r.num_total_gpus;
      r.sla_exceeded = out.all_exceeded;
      rows.push_back(r);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ConfigRow& a, const ConfigRow& b) {
    return a.tokens_per_s_per_gpu > b.tokens_per_s_per_gpu;
  });
  if (static_cast<int>(rows.size()) > top_n) rows.resize(top_n);
  out.top = std::move(rows);
  if (!out.top.empty()) out.best_throughput = out.top.front().tokens_per_s_per_gpu;
  return out;
}

}  // namespace dyprof

#include "search/rows.h"

#include <fmt/format.h>

namespace dyprof {

std::string ConfigRow::Describe() const {
  if (!disagg) return fmt::format("agg {} bs{}", split.Label(), bs);
  return fmt::format("{}P {} bs{} + {}D {} bs{}", prefill_workers, prefill.split.Label(), prefill.bs, decode_workers,
                     decode.split.Label(), decode.bs);
}

Json ConfigRowJson(const ConfigRow& r) {
  Json j = Json::object();
  j["mode"] = r.disagg ? "disagg" : "agg";
  j["backend"] = std::string(BackendName(r.backend));
  j["ttft_ms"] = r.ttft_ms;
  j["tpot_ms"] = r.tpot_ms;
  j["request_latency_ms"] = r.request_latency_ms;
  j["tokens_per_s_per_gpu"] = r.tokens_per_s_per_gpu;
  j["tokens_per_s_per_gpu_cluster"] = r.tokens_per_s_per_gpu_cluster;
  j["tokens_per_s_per_user"] = r.tokens_per_s_per_user;
  j["request_rate"] = r.seq_per_s;
  j["concurrency"] = r.concurrency;
  j["gpus_per_replica"] = r.num_total_gpus;
  j["replicas"] = r.replicas;
  j["total_gpus"] = r.total_gpus_needed;
  j["load_served_pct"] = r.load_served_pct;
  j["sla_exceeded"] = r.sla_exceeded;
  auto split_json = [](const ParallelSplit& s) {
    return Json{{"tp", s.tp}, {"pp", s.pp}, {"dp", s.dp}, {"moe_tp", s.moe_tp}, {"moe_ep", s.moe_ep}, {"label", s.Label()}};
  };
  if (r.disagg) {
    j["prefill"] = split_json(r.prefill.split);
    j["prefill"]["batch_size"] = r.prefill.bs;
    j["prefill"]["workers"] = r.prefill_workers;
    j["decode"] = split_json(r.decode.split);
    j["decode"]["batch_size"] = r.decode.bs;
    j["decode"]["workers"] = r.decode_workers;
  } else {
    j["engine"] = split_json(r.split);
    j["engine"]["batch_size"] = r.bs;
    j["engine"]["max_num_tokens"] = r.ctx_tokens;
    if (r.ttft_factor != 1 || r.tpot_factor != 1) {
      j["calibration"] = Json{{"ttft_factor", r.ttft_factor},
                              {"tpot_factor", r.tpot_factor},
                              {"ttft_neighbours", r.ttft_neighbours},
                              {"ttft_neighbours_same_layout", r.ttft_neighbours_same_layout}};
    }
  }
  j["description"] = r.Describe();
  return j;
}

}  // namespace dyprof

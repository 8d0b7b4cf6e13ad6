#include "perf/perf_db.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "perf/csv.h"

namespace dyprof {

namespace {

// Linear interpolation on sorted (x, y); clamps to the end values. Averages repeated x.
double Lerp(const std::vector<std::pair<double, double>>& pts, double x) {
  if (pts.empty()) return -1;
  if (x <= pts.front().first) return pts.front().second;
  if (x >= pts.back().first) return pts.back().second;
  auto it = std::lower_bound(pts.begin(), pts.end(), std::make_pair(x, -1e300));
  auto hi = it;
  auto lo = it - 1;
  double t = (x - lo->first) / (hi->first - lo->first);
  return lo->second + t * (hi->second - lo->second);
}

// Lerp below and inside the measured range; beyond the largest point the latency grows in
// proportion (the per-unit cost of the end point: m, message size, kv length, tokens).
double Interpolate(const std::vector<std::pair<double, double>>& pts, double x) {
  if (!pts.empty() && x > pts.back().first) return pts.back().second * x / pts.back().first;
  return Lerp(pts, x);
}

void SortAndAverage(std::vector<std::pair<double, double>>* v) {
  std::sort(v->begin(), v->end());
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < v->size();) {
    size_t j = i;
    double sum = 0;
    while (j < v->size() && (*v)[j].first == (*v)[i].first) sum += (*v)[j++].second;
    out.emplace_back((*v)[i].first, sum / static_cast<double>(j - i));
    i = j;
  }
  *v = std::move(out);
}

double Num(std::string_view s) { return std::strtod(std::string(s).c_str(), nullptr); }

}  // namespace

Result<std::shared_ptr<const PerfDb>> PerfDb::FromCsv(const std::string& gemm_csv, const std::string& ar_csv,
                                                      const std::string& gen_csv, const std::string& moe_csv) {
  auto db = std::make_shared<PerfDb>();
  if (!gemm_csv.empty()) {
    DYPROF_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(gemm_csv));
    for (const char* c : {"gemm_dtype", "m", "n", "k", "latency"}) {
      if (t.Column(c) < 0) return Status::InvalidArgument(std::string("gemm_perf: missing column ") + c);
    }
    for (size_t i = 0; i < t.num_rows(); ++i) {
      auto key = std::make_tuple(std::string(t.Get(i, "gemm_dtype")), static_cast<int>(Num(t.Get(i, "n"))),
                                 static_cast<int>(Num(t.Get(i, "k"))));
      // Several kernel sources per shape: keep all, averaging equal m is close enough to "the
      // engine picks one"; the minimum would be optimistic.
      db->gemm_[key].emplace_back(Num(t.Get(i, "m")), Num(t.Get(i, "latency")));
    }
    for (auto& [k, v] : db->gemm_) SortAndAverage(&v);
  }
  if (!ar_csv.empty()) {
    DYPROF_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(ar_csv));
    for (const char* c : {"num_gpus", "message_size", "latency"}) {
      if (t.Column(c) < 0) return Status::InvalidArgument(std::string("custom_allreduce_perf: missing column ") + c);
    }
    for (size_t i = 0; i < t.num_rows(); ++i) {
      std::string_view be = t.Get(i, "backend");
      if (!be.empty() && be.size() >= 6 && be.substr(be.size() - 6) == "_eager") continue;
      db->allreduce_[static_cast<int>(Num(t.Get(i, "num_gpus")))].emplace_back(Num(t.Get(i, "message_size")),
                                                                            Num(t.Get(i, "latency")));
    }
    for (auto& [k, v] : db->allreduce_) SortAndAverage(&v);
  }
  if (!gen_csv.empty()) {
    DYPROF_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(gen_csv));
    for (const char* c : {"batch_size", "isl", "step", "num_heads", "num_key_value_heads", "head_dim", "latency"}) {
      if (t.Column(c) < 0) return Status::InvalidArgument(std::string("generation_attention_perf: missing column ") + c);
    }
    for (size_t i = 0; i < t.num_rows(); ++i) {
      if (t.Column("window_size") >= 0 && Num(t.Get(i, "window_size")) != 0) continue;
      std::string kvd(t.Get(i, "kv_cache_dtype"));
      if (kvd.empty()) kvd = "bfloat16";
      auto key = std::make_tuple(kvd, static_cast<int>(Num(t.Get(i, "num_heads"))),
                                 static_cast<int>(Num(t.Get(i, "num_key_value_heads"))),
                                 static_cast<int>(Num(t.Get(i, "head_dim"))));
      db->gen_attn_[key][static_cast<int>(Num(t.Get(i, "batch_size")))].emplace_back(
          Num(t.Get(i, "isl")) + Num(t.Get(i, "step")), Num(t.Get(i, "latency")));
    }
    for (auto& [k, per_b] : db->gen_attn_) {
      for (auto& [b, v] : per_b) SortAndAverage(&v);
    }
  }
  if (!moe_csv.empty()) {
    DYPROF_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(moe_csv));
    for (const char* c : {"moe_dtype", "num_tokens", "hidden_size", "inter_size", "topk", "num_experts",
                          "moe_tp_size", "moe_ep_size", "distribution", "latency"}) {
      if (t.Column(c) < 0) return Status::InvalidArgument(std::string("moe_perf: missing column ") + c);
    }
    const bool has_source = t.Column("kernel_source") >= 0;
    // (shape, distribution, kernel source) -> rows: repeats of one kernel are averaged, then the
    // fastest kernel per token count is kept, as in the fitted tables: each framework picks its
    // MoE kernel per shape and GPU.
    std::map<std::tuple<MoeShape, std::string, std::string>, std::vector<std::pair<double, double>>> per_source;
    for (size_t i = 0; i < t.num_rows(); ++i) {
      const std::string source(has_source ? t.Get(i, "kernel_source") : std::string_view());
      const bool gated = source.find("nongated") == std::string::npos;
      MoeShape shape{std::string(t.Get(i, "moe_dtype")), gated,
                     static_cast<int>(Num(t.Get(i, "hidden_size"))), static_cast<int>(Num(t.Get(i, "inter_size"))),
                     static_cast<int>(Num(t.Get(i, "topk"))), static_cast<int>(Num(t.Get(i, "num_experts"))),
                     static_cast<int>(Num(t.Get(i, "moe_tp_size"))), static_cast<int>(Num(t.Get(i, "moe_ep_size")))};
      const double latency = Num(t.Get(i, "latency"));
      if (!(latency > 0)) continue;
      per_source[{shape, std::string(t.Get(i, "distribution")), source}].emplace_back(Num(t.Get(i, "num_tokens")),
                                                                                     latency);
    }
    std::map<std::pair<MoeShape, std::string>, std::map<double, double>> fastest;  // tokens -> latency
    for (auto& [key, pts] : per_source) {
      SortAndAverage(&pts);
      auto& by_tokens = fastest[{std::get<0>(key), std::get<1>(key)}];
      for (const auto& [tokens, latency] : pts) {
        auto [it, inserted] = by_tokens.emplace(tokens, latency);
        if (!inserted) it->second = std::min(it->second, latency);
      }
    }
    for (const auto& [shape_dist, by_tokens] : fastest) {
      db->moe_[shape_dist.first][shape_dist.second].assign(by_tokens.begin(), by_tokens.end());
    }
  }
  if (db->gemm_.empty() && db->allreduce_.empty() && db->gen_attn_.empty() && db->moe_.empty()) {
    return Status::NotFound("perf-db: no gemm, custom all-reduce, generation-attention or MoE rows");
  }
  return std::shared_ptr<const PerfDb>(std::move(db));
}

Result<std::shared_ptr<const PerfDb>> PerfDb::Load(const std::string& dir, const std::string& system,
                                                   const std::string& backend, const FileSystem& fs) {
  std::string base = JoinPath(dir, backend);
  if (!fs.IsDirectory(base)) base = JoinPath(JoinPath(dir, system), backend);
  if (!fs.IsDirectory(base)) {
    return Status::NotFound("perf-db: neither " + JoinPath(dir, backend) + " nor " + base + " is a directory");
  }
  auto read = [&](const std::string& name) -> Result<std::string> {
    std::string p = JoinPath(base, name + ".csv.gz");
    if (fs.IsFile(p)) {
      DYPROF_ASSIGN_OR_RETURN(std::string raw, fs.ReadFile(p));
      return Gunzip(raw);
    }
    p = JoinPath(base, name + ".csv");
    if (fs.IsFile(p)) return fs.ReadFile(p);
    return std::string();
  };
  DYPROF_ASSIGN_OR_RETURN(std::string g, read("gemm_perf"));
  DYPROF_ASSIGN_OR_RETURN(std::string a, read("custom_allreduce_perf"));
  DYPROF_ASSIGN_OR_RETURN(std::string ga, read("generation_attention_perf"));
  DYPROF_ASSIGN_OR_RETURN(std::string moe, read("moe_perf"));
  return FromCsv(g, a, ga, moe);
}

double PerfDb::Gemm(const std::string& dtype, double m, int n, int k) const {
  auto it = gemm_.find({dtype, n, k});
  if (it == gemm_.end() || it->second.empty()) return -1;
  return Interpolate(it->second, m);
}

double PerfDb::AllReduce(int gpus, double elements) const {
  auto it = allreduce_.find(gpus);
  if (it == allreduce_.end() || it->second.empty()) return -1;
  return Interpolate(it->second, elements);
}

double PerfDb::GenAttention(const std::string& kv_dtype, int heads, int kv_heads, int head_dim, double batch,
                            double kv_len) const {
  auto it = gen_attn_.find({kv_dtype, heads, kv_heads, head_dim});
  if (it == gen_attn_.end() || it->second.empty()) return -1;
  const auto& per_b = it->second;
  auto at = [&](int b) { return Interpolate(per_b.at(b), kv_len); };
  auto hi = per_b.lower_bound(static_cast<int>(std::ceil(batch)));
  if (hi == per_b.end()) {
    auto last = std::prev(per_b.end());
    return at(last->first) * batch / last->first;
  }
  if (hi == per_b.begin() || hi->first == batch) return at(hi->first);
  auto lo = std::prev(hi);
  double t = (batch - lo->first) / static_cast<double>(hi->first - lo->first);
  return at(lo->first) + t * (at(hi->first) - at(lo->first));
}

double PerfDb::Moe(const std::string& dtype, bool gated, double tokens, int hidden, int inter, int topk,
                   int experts, int moe_tp, int moe_ep) const {
  auto it = moe_.find(MoeShape{dtype, gated, hidden, inter, topk, experts, moe_tp, moe_ep});
  if (it == moe_.end()) return -1;
  for (const char* dist : {"power_law_1.2", "power_law_1.01", "uniform", "balanced"}) {
    auto d = it->second.find(dist);
    if (d == it->second.end() || d->second.empty()) continue;
    return Interpolate(d->second, tokens);  // beyond the largest batch the experts are compute-bound
  }
  return -1;
}

}  // namespace dyprof

#include "perf/fit_tables.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "catalog/embedded.h"

namespace dyprof {

namespace {

// Segment index and fraction of x on ascending nodes, clamped at the ends.
inline void Bracket(const std::vector<double>& nodes, double x, int* i, double* t) {
  const int n = static_cast<int>(nodes.size());
  if (n == 1 || x <= nodes[0]) {
    *i = 0;
    *t = 0;
    return;
  }
  if (x >= nodes[n - 1]) {
    *i = n - 2;
    *t = 1;
    return;
  }
  int lo = 0, hi = n - 1;  // nodes[lo] < x < nodes[hi]
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (nodes[mid] < x) lo = mid; else hi = mid;
  }
  *i = lo;
  *t = (x - nodes[lo]) / (nodes[lo + 1] - nodes[lo]);
}

Result<EffGrid> ParseGrid(const Json& j) {
  EffGrid g;
  if (!j.is_object() || !j.contains("nodes") || !j.contains("eff")) {
    return Status::InvalidArgument("perf fit: grid table without nodes/eff");
  }
  size_t total = 1;
  for (const auto& axis : j["nodes"]) {
    std::vector<double> v;
    for (const auto& x : axis) v.push_back(x.get<double>());
    if (v.empty()) return Status::InvalidArgument("perf fit: empty axis");
    total *= v.size();
    g.nodes.push_back(std::move(v));
  }
  if (g.nodes.empty() || g.nodes.size() > 4) return Status::InvalidArgument("perf fit: grid needs 1..4 axes");
  for (const auto& e : j["eff"]) {
    double v = e.get<double>();
    g.log_eff.push_back(std::log(std::max(v, 1e-9)));
  }
  if (g.log_eff.size() != total) return Status::InvalidArgument("perf fit: eff size does not match the nodes");
  g.floor_ms = j.value("floor_us", 0.0) * 1e-3;
  if (j.contains("kernel_sources")) {
    const Json& ks = j["kernel_sources"];
    if (!ks.is_array()) return Status::InvalidArgument("perf fit: kernel_sources is not a list");
    for (const auto& k : ks) {
      if (!k.is_string()) return Status::InvalidArgument("perf fit: kernel_sources holds a non-string");
      g.kernel_sources.push_back(k.get<std::string>());
    }
  }
  return g;
}

Result<CommCurve> ParseCurve(const Json& j) {
  CommCurve c;
  for (const auto& x : j.at("log2_bytes")) c.log2_bytes.push_back(x.get<double>());
  for (const auto& y : j.at("us")) c.log_us.push_back(std::log(std::max(y.get<double>(), 1e-6)));
  if (c.log2_bytes.empty() || c.log2_bytes.size() != c.log_us.size()) {
    return Status::InvalidArgument("perf fit: bad collective curve");
  }
  return c;
}

}  // namespace

double EffGrid::Eff(const double* feats) const {
  const int d = static_cast<int>(nodes.size());
  int idx[4];
  double t[4];
  int strides[4];
  for (int a = 0; a < d; ++a) Bracket(nodes[a], std::log2(std::max(feats[a], 1e-30)), &idx[a], &t[a]);
  strides[d - 1] = 1;
  for (int a = d - 2; a >= 0; --a) strides[a] = strides[a + 1] * static_cast<int>(nodes[a + 1].size());
  double acc = 0;
  for (int corner = 0; corner < (1 << d); ++corner) {
    double w = 1;
    int off = 0;
    for (int a = 0; a < d; ++a) {
      int bit = (corner >> (d - 1 - a)) & 1;
      w *= bit ? t[a] : (1 - t[a]);
      int ia = idx[a] + bit;
      if (ia >= static_cast<int>(nodes[a].size())) ia = static_cast<int>(nodes[a].size()) - 1;
      off += ia * strides[a];
    }
    if (w != 0) acc += w * log_eff[off];
  }
  return std::exp(acc);
}

double EffGrid::LatencyMs(double t_roof_ms, const double* feats) const {
  return std::max(t_roof_ms / Eff(feats), floor_ms);
}

double CommCurve::LatencyMs(double bytes) const {
  const auto& x = log2_bytes;
  double lb = std::log2(std::max(bytes, 1.0));
  const size_t n = x.size();
  if (lb <= x[0]) return std::exp(log_us[0]) * 1e-3;
  if (lb >= x[n - 1]) return std::exp(log_us[n - 1]) * std::exp2(lb - x[n - 1]) * 1e-3;
  int i;
  double t;
  Bracket(x, lb, &i, &t);
  return std::exp((1 - t) * log_us[i] + t * log_us[i + 1]) * 1e-3;
}

Result<std::shared_ptr<const FitTables>> FitTables::Parse(const std::string& json_text) {
  DYPROF_ASSIGN_OR_RETURN(Json j, ParseJson(json_text));
  auto t = std::make_shared<FitTables>();
  try {
    t->system_ = j.value("system", "");
    if (j.contains("peaks")) {
      const auto& p = j["peaks"];
      t->peaks_.mem_bw = p.value("mem_bw", 0.0);
      t->peaks_.bf16_flops = p.value("bf16_flops", 0.0);
      t->peaks_.fp8_flops = p.value("fp8_flops", 0.0);
      t->peaks_.fp4_flops = p.value("fp4_flops", 0.0);
    }
    if (j.contains("backends")) {
      for (const auto& [be, fams] : j["backends"].items()) {
        for (const auto& [fam, tabs] : fams.items()) {
          if (fam == "custom_allreduce") {
            const Json* mode = nullptr;
            if (tabs.contains("graph")) mode = &tabs["graph"];
            else if (!tabs.empty()) mode = &tabs.begin().value();
            if (mode) {
              for (const auto& [g, c] : mode->items()) {
                DYPROF_ASSIGN_OR_RETURN(CommCurve curve, ParseCurve(c));
                t->custom_ar_[be][std::stoi(g)] = std::move(curve);
              }
            }
            continue;
          }
          if (!tabs.is_object()) continue;
          for (const auto& [key, tab] : tabs.items()) {
            DYPROF_ASSIGN_OR_RETURN(EffGrid g, ParseGrid(tab));
            t->grids_[be][fam][key] = std::move(g);
          }
        }
      }
    }
    if (j.contains("nccl")) {
      for (const auto& [op, per_n] : j["nccl"].items()) {
        for (const auto& [g, c] : per_n.items()) {
          DYPROF_ASSIGN_OR_RETURN(CommCurve curve, ParseCurve(c));
          t->nccl_[op][std::stoi(g)] = std::move(curve);
        }
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("perf fit: malformed file: ") + e.what());
  }
  return std::shared_ptr<const FitTables>(std::move(t));
}

Result<std::shared_ptr<const FitTables>> FitTables::LoadEmbedded(const std::string& system) {
  const auto& files = EmbeddedFiles();
  auto it = files.find("perf/" + system + ".json");
  if (it == files.end()) return Status::NotFound("no fitted perf tables for system '" + system + "'");
  return Parse(std::string(it->second));
}

const EffGrid* FitTables::GridOfKernel(const std::string& family, const std::string& key,
                                       const std::string& kernel_source) const {
  for (const auto& [backend, families] : grids_) {
    auto f = families.find(family);
    if (f == families.end()) continue;
    auto k = f->second.find(key);
    if (k == f->second.end()) continue;
    const auto& sources = k->second.kernel_sources;
    if (std::find(sources.begin(), sources.end(), kernel_source) != sources.end()) return &k->second;
  }
  return nullptr;
}

const EffGrid* FitTables::Grid(const std::string& backend, const std::string& family,
                               const std::string& key) const {
  auto find_in = [&](const std::string& be) -> const EffGrid* {
    auto b = grids_.find(be);
    if (b == grids_.end()) return nullptr;
    auto f = b->second.find(family);
    if (f == b->second.end()) return nullptr;
    auto k = f->second.find(key);
    return k == f->second.end() ? nullptr : &k->second;
  };
  if (const EffGrid* g = find_in(backend)) return g;
  for (const char* be : {"trtllm", "sglang", "vllm"}) {
    if (be == backend) continue;
    if (const EffGrid* g = find_in(be)) return g;
  }
  return nullptr;
}

const std::map<std::string, EffGrid>* FitTables::Family(const std::string& backend,
                                                       const std::string& family) const {
  auto find_in = [&](const std::string& be) -> const std::map<std::string, EffGrid>* {
    auto b = grids_.find(be);
    if (b == grids_.end()) return nullptr;
    auto f = b->second.find(family);
    return f == b->second.end() || f->second.empty() ? nullptr : &f->second;
  };
  if (auto* f = find_in(backend)) return f;
  for (const char* be : {"trtllm", "sglang", "vllm"}) {
    if (auto* f = find_in(be)) return f;
  }
  return nullptr;
}

const CommCurve* FitTables::CustomAllReduce(const std::string& backend, int gpus) const {
  auto pick = [&](const std::map<int, CommCurve>& m) -> const CommCurve* {
    auto it = m.find(gpus);
    return it == m.end() ? nullptr : &it->second;
  };
  if (auto b = custom_ar_.find(backend); b != custom_ar_.end()) {
    if (auto* c = pick(b->second)) return c;
  }
  for (const auto& [be, m] : custom_ar_) {
    if (auto* c = pick(m)) return c;
  }
  return nullptr;
}

const CommCurve* FitTables::Nccl(const std::string& op_dtype, int gpus) const {
  auto o = nccl_.find(op_dtype);
  if (o == nccl_.end()) return nullptr;
  auto it = o->second.find(gpus);
  return it == o->second.end() ? nullptr : &it->second;
}

int FitTables::NcclMaxGpus(const std::string& op_dtype) const {
  auto o = nccl_.find(op_dtype);
  if (o == nccl_.end() || o->second.empty()) return 0;
  return o->second.rbegin()->first;
}

std::vector<std::string> FitTables::Backends() const {
  std::vector<std::string> out;
  for (const auto& [be, _] : grids_) out.push_back(be);
  return out;
}

std::string NearestMeasuredSystem(int sm_version, double mem_bw) {
  if (sm_version >= 100) return "b200_sxm";
  if (sm_version >= 90) return mem_bw >= 4e12 ? "h200_sxm" : "h100_sxm";
  if (sm_version == 89) return "l40s";
  if (sm_version >= 80) return "a100_sxm";
  return "";
}

}  // namespace dyprof

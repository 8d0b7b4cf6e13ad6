#include "perf/calibration.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "catalog/embedded.h"
#include "catalog/system_catalog.h"
#include "common/strings.h"
#include "perf/csv.h"

namespace dyprof {
namespace {

constexpr const char* kColumns[] = {"system",          "backend",         "mode",           "model",
                                    "precision",       "backend_version", "rows",           "sweeps",
                                    "concurrency_min", "concurrency_max", "isl_min",        "isl_max",
                                    "osl_min",         "osl_max",         "ttft_intercept", "ttft_slope",
                                    "ttft_isl_slope",  "tpot_intercept",  "tpot_slope",     "tpot_osl_slope",
                                    "isls",            "osls"};
constexpr int kKeyColumns = 6, kNumberColumns = 14, kListColumns = 2;
static_assert(std::size(kColumns) == kKeyColumns + kNumberColumns + kListColumns,
              "six key columns, fourteen numbers, then two lists (Parse reads them in order)");
// Written last; optional on reading (tables written before it have no residuals): ';'-separated
// "isl:concurrency:layout:residual" entries, CalibrationEntry::ttft_residuals.
constexpr const char* kResidualsColumn = "ttft_residuals";

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + mid);
  return (lo + hi) / 2;
}

// Theil–Sen line through (x, y): the median of the slopes between points of different x (0 when
// there are none), then the median of y − slope·x.
LogErrorLine TheilSen(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> slopes;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      if (std::abs(x[j] - x[i]) > 1e-9) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
    }
  }
  LogErrorLine line;
  line.slope = slopes.empty() ? 0.0 : Median(std::move(slopes));
  std::vector<double> residual(x.size());
  for (size_t i = 0; i < x.size(); ++i) residual[i] = y[i] - line.slope * x[i];
  line.intercept = Median(std::move(residual));
  return line;
}

bool Usable(const CalibrationPoint& p) {
  for (double v : {p.concurrency, p.isl, p.osl, p.meas_ttft_ms, p.pred_ttft_ms, p.meas_tpot_ms, p.pred_tpot_ms}) {
    if (!(v > 0) || !std::isfinite(v)) return false;
  }
  return true;
}

// The log error y as a line in x (ln concurrency), then the residual as a line in z (ln length) over
// the points whose z at least kCalibrationMinRows points share, when those take more than one value;
// unshrunk.
LogErrorLine FitLogError(const std::vector<double>& x, const std::vector<double>& z, const std::vector<double>& y) {
  LogErrorLine fit = TheilSen(x, y);
  std::map<double, int> rows_at;
  for (double v : z) ++rows_at[v];
  std::vector<double> zs, residual;
  for (size_t i = 0; i < y.size(); ++i) {
    if (rows_at[z[i]] < kCalibrationMinRows) continue;
    zs.push_back(z[i]);
    residual.push_back(y[i] - fit.intercept - fit.slope * x[i]);
  }
  if (std::adjacent_find(zs.begin(), zs.end(), std::not_equal_to<>()) == zs.end()) return fit;
  const LogErrorLine by_length = TheilSen(zs, residual);
  fit.intercept += by_length.intercept;
  fit.length_slope = by_length.slope;
  return fit;
}

// One entry from the points of one family (all usable). Needs kCalibrationMinRows points.
CalibrationEntry FitEntry(const CalibrationKey& key, const std::vector<const CalibrationPoint*>& pts) {
  CalibrationEntry e;
  e.key = key;
  e.rows = static_cast<int>(pts.size());
  std::set<std::string> sweeps;
  std::set<double> concurrencies, isls, osls;
  for (const CalibrationPoint* p : pts) {
    sweeps.insert(p->sweep);
    concurrencies.insert(p->concurrency);
    isls.insert(p->isl);
    osls.insert(p->osl);
  }
  e.sweeps = static_cast<int>(sweeps.size());
  e.concurrency_min = *concurrencies.begin();
  e.concurrency_max = *concurrencies.rbegin();
  e.isls.assign(isls.begin(), isls.end());
  e.osls.assign(osls.begin(), osls.end());
  e.isl_min = e.isls.front();
  e.isl_max = e.isls.back();
  e.osl_min = e.osls.front();
  e.osl_max = e.osls.back();
  std::vector<double> x, ln_isl, ln_osl, ttft, tpot;
  for (const CalibrationPoint* p : pts) {
    x.push_back(std::log(p->concurrency));
    ln_isl.push_back(std::log(p->isl / e.isl_min));  // lengths from the family's shortest (LogErrorLine)
    ln_osl.push_back(std::log(p->osl / e.osl_min));
    ttft.push_back(std::log(p->pred_ttft_ms / p->meas_ttft_ms));
    tpot.push_back(std::log(p->pred_tpot_ms / p->meas_tpot_ms));
  }
  const double shrink = e.rows / (e.rows + kCalibrationShrinkRows);
  // A family of kNoLengthTermMode fits its TTFT on the load only: one length for all its rows.
  e.ttft = FitLogError(x, key.mode == kNoLengthTermMode ? std::vector<double>(x.size(), 0.0) : ln_isl, ttft);
  e.tpot = FitLogError(x, ln_osl, tpot);
  // Shrunk, then held within the coefficients Parse accepts (reached only by a family whose few
  // lengths lie close together with errors far apart), so that what Fit writes reads back.
  for (LogErrorLine* fit : {&e.ttft, &e.tpot}) {
    for (double* coefficient : {&fit->intercept, &fit->slope, &fit->length_slope}) {
      *coefficient = std::clamp(*coefficient * shrink, -kCalibrationMaxCoefficient, kCalibrationMaxCoefficient);
    }
  }
  if (key.mode == kNeighbourCorrectionMode) {
    for (size_t i = 0; i < pts.size(); ++i) {
      const double residual = ttft[i] - e.ttft.At(x[i], ln_isl[i]);
      e.ttft_residuals.push_back({pts[i]->isl, pts[i]->concurrency, pts[i]->layout,
                                  std::clamp(residual, -kCalibrationMaxCoefficient, kCalibrationMaxCoefficient)});
    }
    std::sort(e.ttft_residuals.begin(), e.ttft_residuals.end(), [](const TtftResidual& a, const TtftResidual& b) {
      return std::tie(a.isl, a.concurrency, a.layout, a.residual) <
             std::tie(b.isl, b.concurrency, b.layout, b.residual);
    });
  }
  if (key.mode == kUncalibratedTpotMode) e.tpot = {};
  return e;
}

// Whether a key names a version of its own (not unknown "", not the pooled "*").
bool HasOwnVersion(const CalibrationKey& k) {
  return !k.backend_version.empty() && k.backend_version != kAnyBackendVersion;
}

CalibrationKey Pooled(CalibrationKey k) {
  k.backend_version = std::string(kAnyBackendVersion);
  return k;
}

// Points grouped by their versioned and pooled family keys (a point with an unknown version joins
// its pooled family only); unusable points and repeats of a point already taken are dropped.
std::map<CalibrationKey, std::vector<const CalibrationPoint*>> Families(const std::vector<CalibrationPoint>& points) {
  std::map<CalibrationKey, std::vector<const CalibrationPoint*>> families;
  // One run recorded twice (the same sweep, load and measurements in one family) counts once. Its
  // two records agree to six decimals of a millisecond, not always to the last bit of a double.
  std::set<std::tuple<CalibrationKey, std::string, double, long long, long long>> seen;
  auto micro_ms = [](double ms) { return std::llround(ms * 1e6); };
  for (const CalibrationPoint& p : points) {
    if (!Usable(p)) continue;
    if (!seen.emplace(p.key, p.sweep, p.concurrency, micro_ms(p.meas_ttft_ms), micro_ms(p.meas_tpot_ms)).second) {
      continue;
    }
    if (HasOwnVersion(p.key)) families[p.key].push_back(&p);
    families[Pooled(p.key)].push_back(&p);
  }
  return families;
}

// ln of `v` clamped to [lo, hi]; a non-positive `v` reads lo.
double LogWithin(double v, double lo, double hi) { return std::log(std::clamp(v > 0 ? v : lo, lo, hi)); }

CalibrationFactors FactorsOf(const CalibrationEntry& e, double concurrency, double isl, double osl,
                             std::string_view layout) {
  CalibrationFactors f;
  const double x = LogWithin(concurrency, e.concurrency_min, e.concurrency_max);
  const double ln_isl = LogWithin(isl, e.isl_min, e.isl_max) - std::log(e.isl_min);
  const double ln_osl = LogWithin(osl, e.osl_min, e.osl_max) - std::log(e.osl_min);
  // The line, moved by the median residual of the rows at the request's ISL within a factor
  // kCalibrationNeighbourLoadRatio of its (clamped) load: those of its layout where there are any.
  double ttft_log_error = e.ttft.At(x, ln_isl);
  std::vector<double> near, near_same_layout;
  const double load = std::clamp(concurrency > 0 ? concurrency : e.concurrency_min, e.concurrency_min,
                                 e.concurrency_max);
  constexpr double kRatioSlack = 1 + 1e-9;  // loads a factor of exactly two apart are neighbours
  const double isl_read = isl > 0 ? isl : e.isl_min;  // a non-positive ISL reads the shortest, as the line does
  // The factor also moves with the load where the residuals at the ISL differ (equal ones add the
  // same at every load).
  const TtftResidual* first_at_isl = nullptr;
  bool residuals_differ = false;
  for (const TtftResidual& r : e.ttft_residuals) {
    if (std::abs(r.isl - isl_read) > kCalibrationLengthTolerance * isl_read) continue;
    if (first_at_isl == nullptr) first_at_isl = &r;
    residuals_differ = residuals_differ || r.residual != first_at_isl->residual;
    if (std::max(r.concurrency, load) <= kCalibrationNeighbourLoadRatio * kRatioSlack * std::min(r.concurrency, load)) {
      near.push_back(r.residual);
      if (!layout.empty() && r.layout == layout) near_same_layout.push_back(r.residual);
    }
  }
  f.ttft_neighbours_same_layout = !near_same_layout.empty();
  if (f.ttft_neighbours_same_layout) near = std::move(near_same_layout);
  f.ttft_neighbours = static_cast<int>(near.size());
  if (!near.empty()) ttft_log_error += Median(std::move(near));
  f.ttft = std::clamp(std::exp(-ttft_log_error), 1 / kCalibrationMaxFactor, kCalibrationMaxFactor);
  f.tpot = std::clamp(std::exp(-e.tpot.At(x, ln_osl)), 1 / kCalibrationMaxFactor, kCalibrationMaxFactor);
  f.applied = true;
  f.family = e.key.ToString();
  f.rows = e.rows;
  f.ttft_moves_with_load = concurrency <= e.concurrency_max && e.concurrency_max > e.concurrency_min &&
                           (e.ttft.slope != 0 || residuals_differ);
  for (auto [name, v, lo, hi] : {std::tuple{"concurrency", concurrency, e.concurrency_min, e.concurrency_max},
                                 std::tuple{"ISL", isl, e.isl_min, e.isl_max},
                                 std::tuple{"OSL", osl, e.osl_min, e.osl_max}}) {
    if (v > 0 && (v < lo || v > hi)) {
      if (!f.read_at_edge.empty()) f.read_at_edge += ", ";
      f.read_at_edge += fmt::format("{} {} at {}", name, v, v < lo ? lo : hi);
    }
  }
  for (auto [name, v, measured] : {std::tuple{"ISL", isl, &e.isls}, std::tuple{"OSL", osl, &e.osls}}) {
    const bool near = std::any_of(measured->begin(), measured->end(), [v = v](double m) {
      return std::abs(v - m) <= kCalibrationLengthTolerance * m;
    });
    if (v > 0 && !near) {
      if (!f.unmeasured_lengths.empty()) f.unmeasured_lengths += ", ";
      f.unmeasured_lengths += fmt::format("{} {} (measured {})", name, v, fmt::join(*measured, ", "));
      if (std::string_view(name) == "ISL") {  // no proven worth there (calibration.h)
        f.isl_unmeasured = true;
        f.ttft = 1;
        f.ttft_moves_with_load = false;
        f.ttft_neighbours = 0;
        f.ttft_neighbours_same_layout = false;
      }
    }
  }
  return f;
}

Result<double> ParseNumber(std::string_view text, size_t row, std::string_view column) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return Status::InvalidArgument(
        fmt::format("calibration table row {}, column {}: expected a number, found '{}'", row, column, text));
  }
  return v;
}

// A ';'-separated list of measured lengths: ascending, distinct, from `lo` to `hi` (the column's
// range), at most `rows` of them.
Result<std::vector<double>> ParseLengths(std::string_view text, size_t row, std::string_view column, double lo,
                                         double hi, int rows) {
  std::vector<double> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(';', start), text.size());
    DYPROF_ASSIGN_OR_RETURN(double v, ParseNumber(text.substr(start, end - start), row, column));
    out.push_back(v);
    start = end + 1;
  }
  const bool ascending = std::adjacent_find(out.begin(), out.end(), std::greater_equal<>()) == out.end();
  if (!ascending || out.front() != lo || out.back() != hi || static_cast<double>(out.size()) > rows) {
    return Status::InvalidArgument(fmt::format(
        "calibration table row {}, column {}: expected at most {} ascending lengths from {} to {} separated by ';', "
        "found '{}'",
        row, column, rows, lo, hi, text));
  }
  return out;
}

// The kResidualsColumn text of an entry of `rows` rows whose measured ISLs and load range are set:
// at most `rows` "isl:concurrency:layout:residual" entries, each ISL one of the entry's, each load
// within its range, each layout letters and digits (or empty: unknown), each residual within
// ±kCalibrationMaxCoefficient; "" for none.
Result<std::vector<TtftResidual>> ParseResiduals(std::string_view text, size_t row, const CalibrationEntry& e) {
  std::vector<TtftResidual> out;
  if (text.empty()) return out;
  for (const std::string& item : Split(text, ';')) {
    const auto bad = [&](std::string_view why) {
      return Status::InvalidArgument(fmt::format(
          "calibration table row {}, column {}: expected 'isl:concurrency:layout:residual' entries separated by ';' "
          "({}), found '{}'",
          row, kResidualsColumn, why, item));
    };
    const std::vector<std::string> fields = Split(item, ':');
    if (fields.size() != 4) return bad("four fields");
    TtftResidual r;
    for (auto [dst, field] : {std::pair{&r.isl, fields[0]}, std::pair{&r.concurrency, fields[1]},
                              std::pair{&r.residual, fields[3]}}) {
      auto v = ParseNumber(field, row, kResidualsColumn);
      if (!v.ok()) return bad("numbers but the layout");
      *dst = *v;
    }
    r.layout = fields[2];
    if (!std::all_of(r.layout.begin(), r.layout.end(), [](unsigned char ch) { return std::isalnum(ch) != 0; })) {
      return bad("a layout of letters and digits");
    }
    if (!std::binary_search(e.isls.begin(), e.isls.end(), r.isl)) return bad("an ISL among isls");
    if (r.concurrency < e.concurrency_min || r.concurrency > e.concurrency_max) return bad("a load within the range");
    if (std::abs(r.residual) > kCalibrationMaxCoefficient) {
      return bad(fmt::format("a residual within ±{:g}", kCalibrationMaxCoefficient));
    }
    out.push_back(std::move(r));
  }
  if (static_cast<double>(out.size()) > e.rows) {
    return Status::InvalidArgument(
        fmt::format("calibration table row {}, column {}: expected at most {} entries, found {}", row,
                    kResidualsColumn, e.rows, out.size()));
  }
  return out;
}

}  // namespace

std::string_view PrecisionFamily(Quant q) {
  switch (q) {
    case Quant::kBf16:
    case Quant::kFp16: return "bf16";
    case Quant::kFp8:
    case Quant::kFp8Block: return "fp8";
    case Quant::kNvfp4:
    case Quant::kMxfp4: return "fp4";
    case Quant::kInt4Wo: return "int4";
  }
  return "bf16";
}

std::string CalibrationKey::ToString() const {
  return fmt::format("{}/{}/{}/{}/{}@{}", system, backend, mode, model, precision,
                     backend_version.empty() ? "?" : backend_version);
}

Calibration Calibration::Fit(const std::vector<CalibrationPoint>& points) {
  Calibration c;
  for (const auto& [key, pts] : Families(points)) {
    if (static_cast<int>(pts.size()) >= kCalibrationMinRows) c.entries_.push_back(FitEntry(key, pts));
  }
  return c;
}

Result<Calibration> Calibration::Parse(std::string_view csv_text) {
  DYPROF_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(csv_text));
  for (const char* col : kColumns) {
    if (t.Column(col) < 0) return Status::InvalidArgument(fmt::format("calibration table: missing column '{}'", col));
  }
  Calibration c;
  for (size_t i = 0; i < t.num_rows(); ++i) {
    const size_t row = i + 1;  // data rows, the header not counted
    if (t.row(i).size() != t.header().size()) {
      return Status::InvalidArgument(fmt::format("calibration table row {}: expected {} fields, found {}", row,
                                                 t.header().size(), t.row(i).size()));
    }
    CalibrationEntry e;
    for (auto [col, dst] : {std::pair{"system", &e.key.system}, std::pair{"backend", &e.key.backend},
                            std::pair{"mode", &e.key.mode}, std::pair{"model", &e.key.model},
                            std::pair{"precision", &e.key.precision},
                            std::pair{"backend_version", &e.key.backend_version}}) {
      *dst = std::string(t.Get(i, col));
      if (dst->empty()) {
        return Status::InvalidArgument(
            fmt::format("calibration table row {}, column {}: expected a value, found none", row, col));
      }
    }
    // Families are keyed by the catalog's system id (EngineCalibrationKey): a table written with an
    // alias ("gb200") reads as the id ("gb200_sxm"); a system the catalog lacks stays as written.
    if (auto system = FindSystem(e.key.system); system.ok()) e.key.system = system->name;
    if (e.key.mode != "static" && e.key.mode != "agg" && e.key.mode != "disagg") {
      return Status::InvalidArgument(fmt::format(
          "calibration table row {}, column mode: expected static, agg or disagg, found '{}'", row, e.key.mode));
    }
    double v[kNumberColumns];
    const char* const* numeric = kColumns + kKeyColumns;  // rows … tpot_osl_slope, after the key columns
    for (int k = 0; k < kNumberColumns; ++k) {
      DYPROF_ASSIGN_OR_RETURN(v[k], ParseNumber(t.Get(i, numeric[k]), row, numeric[k]));
    }
    auto whole = [](double x) { return x >= 1 && x <= kCalibrationMaxRows && x == std::floor(x); };
    if (!whole(v[0]) || !whole(v[1]) || v[1] > v[0]) {
      return Status::InvalidArgument(fmt::format(
          "calibration table row {}: expected whole numbers 1 <= sweeps <= rows <= {}, found rows {:g}, sweeps {:g}", row,
          kCalibrationMaxRows, v[0], v[1]));
    }
    for (auto [k, what, limit] :
         {std::tuple{2, "concurrency", kCalibrationMaxConcurrency}, std::tuple{4, "isl", kCalibrationMaxTokens},
          std::tuple{6, "osl", kCalibrationMaxTokens}}) {
      if (!(v[k] > 0) || v[k + 1] < v[k] || v[k + 1] > limit) {
        return Status::InvalidArgument(
            fmt::format("calibration table row {}: expected 0 < {}_min <= {}_max <= {}, found {} and {}", row,
                        what, what, limit, v[k], v[k + 1]));
      }
    }
    for (int k = 8; k < kNumberColumns; ++k) {
      if (std::abs(v[k]) > kCalibrationMaxCoefficient) {
        return Status::InvalidArgument(
            fmt::format("calibration table row {}, column {}: expected a log error within ±{:g}, found {:g}", row,
                        numeric[k], kCalibrationMaxCoefficient, v[k]));
      }
    }
    e.rows = static_cast<int>(v[0]);
    e.sweeps = static_cast<int>(v[1]);
    e.concurrency_min = v[2];
    e.concurrency_max = v[3];
    e.isl_min = v[4];
    e.isl_max = v[5];
    e.osl_min = v[6];
    e.osl_max = v[7];
    e.ttft = {v[8], v[9], v[10]};
    e.tpot = {v[11], v[12], v[13]};
    const char* const* lists = numeric + kNumberColumns;  // isls, osls
    for (auto [k, dst, lo, hi] :
         {std::tuple{0, &e.isls, e.isl_min, e.isl_max}, std::tuple{1, &e.osls, e.osl_min, e.osl_max}}) {
      DYPROF_ASSIGN_OR_RETURN(*dst, ParseLengths(t.Get(i, lists[k]), row, lists[k], lo, hi, e.rows));
    }
    if (t.Column(kResidualsColumn) >= 0) {
      DYPROF_ASSIGN_OR_RETURN(e.ttft_residuals, ParseResiduals(t.Get(i, kResidualsColumn), row, e));
    }
    c.entries_.push_back(std::move(e));
  }
  std::sort(c.entries_.begin(), c.entries_.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  for (size_t i = 1; i < c.entries_.size(); ++i) {
    if (c.entries_[i].key == c.entries_[i - 1].key) {
      return Status::InvalidArgument("calibration table: family listed twice: " + c.entries_[i].key.ToString());
    }
  }
  return c;
}

Result<Calibration> Calibration::Read(const FileSystem& fs, const std::string& path) {
  DYPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  auto parsed = Parse(text);
  if (!parsed.ok()) return Status::InvalidArgument(path + ": " + parsed.status().message());
  return parsed;
}

const Calibration& Calibration::Shipped() {
  static const Calibration shipped = [] {
    const auto& files = EmbeddedFiles();
    auto it = files.find("calibration/silicon.csv");
    if (it == files.end()) return Calibration();
    auto parsed = Parse(it->second);
    return parsed.ok() ? *parsed : Calibration();  // a malformed shipped table fails its unit test
  }();
  return shipped;
}

std::string Calibration::ToCsv() const {
  std::vector<std::string> header(std::begin(kColumns), std::end(kColumns));
  header.push_back(kResidualsColumn);
  std::string out = CsvLine(header);
  for (const CalibrationEntry& e : entries_) {
    std::vector<std::string> fields = {e.key.system, e.key.backend,         e.key.mode,
                                       e.key.model,  e.key.precision,       e.key.backend_version,
                                       std::to_string(e.rows), std::to_string(e.sweeps)};
    // Shortest text that reads back as the same double: a rounded bound could fall outside the
    // limits Parse checks, or below its minimum.
    for (double v : {e.concurrency_min, e.concurrency_max, e.isl_min, e.isl_max, e.osl_min, e.osl_max}) {
      fields.push_back(fmt::format("{}", v));
    }
    for (double v : {e.ttft.intercept, e.ttft.slope, e.ttft.length_slope, e.tpot.intercept, e.tpot.slope,
                     e.tpot.length_slope}) {
      fields.push_back(fmt::format("{:.5f}", v));
    }
    fields.push_back(fmt::format("{}", fmt::join(e.isls, ";")));
    fields.push_back(fmt::format("{}", fmt::join(e.osls, ";")));
    std::string residuals;
    for (const TtftResidual& r : e.ttft_residuals) {
      // ISL and load as the lists above (exact, so that the ISL reads back among them), residual
      // to five decimals like the coefficients.
      residuals += fmt::format("{}{}:{}:{}:{:.5f}", residuals.empty() ? "" : ";", r.isl, r.concurrency, r.layout,
                               r.residual);
    }
    fields.push_back(std::move(residuals));
    out += CsvLine(fields);
  }
  return out;
}

CalibrationFactors Calibration::Lookup(const CalibrationKey& key, double concurrency, double isl, double osl,
                                       std::string_view layout) const {
  auto find = [&](const CalibrationKey& k) -> const CalibrationEntry* {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), k,
                               [](const CalibrationEntry& e, const CalibrationKey& x) { return e.key < x; });
    return it != entries_.end() && it->key == k ? &*it : nullptr;
  };
  const CalibrationEntry* e = nullptr;
  if (HasOwnVersion(key)) e = find(key);
  if (e == nullptr) e = find(Pooled(key));
  return e == nullptr ? CalibrationFactors{} : FactorsOf(*e, concurrency, isl, osl, layout);
}

std::vector<CalibrationFactors> LeaveOut(const std::vector<CalibrationPoint>& points, HeldOut what) {
  const auto families = Families(points);
  std::vector<CalibrationFactors> out(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const CalibrationPoint& p = points[i];
    std::vector<CalibrationKey> keys;  // its version's family first, then the pooled one
    if (HasOwnVersion(p.key)) keys.push_back(p.key);
    keys.push_back(Pooled(p.key));
    // p's factors from the first of `keys` fitted without the points `left_out` names that keeps
    // kCalibrationMinRows; not applied when none does.
    auto factors_without = [&](auto left_out) -> CalibrationFactors {
      for (const CalibrationKey& k : keys) {
        auto it = families.find(k);
        if (it == families.end()) continue;
        std::vector<const CalibrationPoint*> others;
        for (const CalibrationPoint* q : it->second) {
          if (!left_out(*q)) others.push_back(q);
        }
        if (static_cast<int>(others.size()) >= kCalibrationMinRows) {
          return FactorsOf(FitEntry(k, others), p.concurrency, p.isl, p.osl, p.layout);
        }
      }
      return {};
    };
    switch (what) {
      case HeldOut::kSweep:
        out[i] = factors_without([&](const CalibrationPoint& q) { return q.sweep == p.sweep; });
        break;
      case HeldOut::kWorkload:
        out[i] = factors_without([&](const CalibrationPoint& q) { return q.isl == p.isl && q.osl == p.osl; });
        break;
      case HeldOut::kLength: {
        // TTFT from a fit without the rows of p's ISL, TPOT from one without the rows of its OSL.
        const CalibrationFactors by_isl = factors_without([&](const CalibrationPoint& q) { return q.isl == p.isl; });
        const CalibrationFactors by_osl = factors_without([&](const CalibrationPoint& q) { return q.osl == p.osl; });
        out[i] = by_isl.applied ? by_isl : by_osl;
        out[i].ttft = by_isl.ttft;
        out[i].tpot = by_osl.tpot;
        break;
      }
    }
  }
  return out;
}

}  // namespace dyprof

// Silicon calibration: a correction of the model's TTFT and TPOT per deployment family, fitted on
// measured rows (docs/accuracy.md, "Calibration"; the shipped table is data/calibration/silicon.csv).
//
// A family is (system, backend, mode, model, weight precision, backend version). Over a family's
// measured rows, the log error ln(pred / meas) of each metric is fitted as a line in ln(concurrency)
// (Theil–Sen: the median of the pairwise slopes, then the median intercept), what is left of it as a
// line in the log of the metric's length (TTFT: ln ISL, TPOT: ln OSL; Theil–Sen again, over the lengths
// the family measured on kCalibrationMinRows rows or more, when there are two such lengths or more: a
// lone row at a length would make every slope), and the sum shrunk towards zero by n / (n + kCalibrationShrinkRows);
// a prediction is divided by exp(fit), read at the request's concurrency and length, each clamped to
// the family's measured range; an aggregated family's TTFT line is then moved by the median of what
// it leaves of the family's rows near the request, of its layout first (kNeighbourCorrectionMode);
// TTFT is left uncorrected at an ISL the family has not measured
// (CalibrationFactors::unmeasured_lengths). Every family is also fitted pooled over its backend
// versions (version "*"): that entry serves requests whose version is unknown ("") or has no entry
// of its own. Families with fewer than kCalibrationMinRows rows get no entry, and
// disaggregated families no TPOT correction (kUncalibratedTpotMode) and no TTFT length term
// (kNoLengthTermMode).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/model.h"
#include "common/file_system.h"
#include "common/status.h"

namespace dyprof {

inline constexpr int kCalibrationMinRows = 3;
inline constexpr double kCalibrationShrinkRows = 3.0;
inline constexpr std::string_view kAnyBackendVersion = "*";
// Limits of a table (Calibration::Parse refuses values beyond them) and of the factors it applies.
inline constexpr double kCalibrationMaxRows = 1e9;
inline constexpr double kCalibrationMaxConcurrency = 1 << 20;
inline constexpr double kCalibrationMaxTokens = 1 << 24;  // isl, osl
// A request's length counts as measured in a family when within this fraction of one the family
// measured: a benchmark's nominal length is 11 % above the mean its 0.8 range ratio draws, the
// mean being what the table records.
inline constexpr double kCalibrationLengthTolerance = 0.15;
inline constexpr double kCalibrationMaxCoefficient = 10;  // |intercept|, |slope| of a log-error line
inline constexpr double kCalibrationMaxFactor = 20;       // factors are clamped to [1/20, 20]
// Families of this mode keep their TPOT uncorrected (a zero line): the disaggregated rows' TPOT
// errors do not carry over from one configuration sweep to another (held out, TPOT 11.4 -> 12.7 %
// with the correction; docs/accuracy.md, ninth pass), their TTFT errors do (33.4 -> 31.6 %).
inline constexpr std::string_view kUncalibratedTpotMode = "disagg";
// Families of this mode fit their TTFT line without the length term: held out by sweep, the term
// took the disaggregated rows' TTFT from 31.6 to 30.4 % median but from 36.2 to 33.7 % within 20 %,
// and h200 SGLang from 40.0 to 73.2 % (docs/accuracy.md, tenth pass); on aggregated rows it took
// TTFT from 16.7 to 14.3 %.
inline constexpr std::string_view kNoLengthTermMode = "disagg";
// Families of this mode keep each fitted row's TTFT residual (what the line leaves of its log
// error) and correct the line by the median residual of the rows at the request's ISL whose load
// is within a factor kCalibrationNeighbourLoadRatio of the request's, those of the request's layout
// only where there are any: the log error is not a line in ln(concurrency) (it bends where batches
// fill up, and where depends on the layout). Held out by sweep it took the aggregated rows' TTFT
// from 14.0 to 10.1 % median and 62.3 to 71.8 % within 20 % (11.5 and 68.5 % without the layout
// preference); on disaggregated rows, whose neighbours run other worker splits, it did worse held
// out by workload (34.9 -> 35.9 %; docs/accuracy.md, twelfth pass).
inline constexpr std::string_view kNeighbourCorrectionMode = "agg";
inline constexpr double kCalibrationNeighbourLoadRatio = 2.0;

// The family of a weight format: "bf16" (bf16, fp16), "fp8" (fp8, fp8_block), "fp4" (nvfp4,
// mxfp4), "int4" (int4_wo). Checkpoints and measured rows name one format several ways.
std::string_view PrecisionFamily(Quant q);

struct CalibrationKey {
  std::string system, backend, mode, model;
  std::string precision;        // dense weight format family: PrecisionFamily

  std::string backend_version;  // "" = unknown; "*" in pooled entries
  bool operator==(const CalibrationKey&) const = default;
  auto operator<=>(const CalibrationKey&) const = default;
  std::string ToString() const;  // "h200_sxm/trtllm/agg/deepseek-ai/DeepSeek-V3/fp8@1.1.0"
};

// One measured row with the model's prediction for it.
struct CalibrationPoint {
  CalibrationKey key;
  // The configuration sweep the row belongs to (lengths, layout, speculative decoding; any load):
  // LeaveOut(HeldOut::kSweep) leaves the rows that share it out together.
  std::string sweep;
  double concurrency = 0;  // requests in flight (agg: per engine; disagg: the deployment)
  double isl = 0, osl = 0;  // the request's mean input and output lengths, tokens
  double meas_ttft_ms = 0, pred_ttft_ms = 0, meas_tpot_ms = 0, pred_tpot_ms = 0;
  // The engine's split (ParallelSplit::ToString, e.g. "tp4pp1dp1etp4ep1") of an aggregated row;
  // "" unknown. TTFT residuals of the same layout are preferred (kNeighbourCorrectionMode).
  std::string layout;
};

// ln(pred / meas) ≈ intercept + slope · ln(concurrency) + length_slope · ln(length / shortest), the
// length being the ISL for TTFT and the OSL for TPOT, the shortest the family's (isl_min, osl_min):
// the intercept is the log error at one request in flight and the family's shortest length.
struct LogErrorLine {
  double intercept = 0, slope = 0, length_slope = 0;
  double At(double ln_concurrency, double ln_length_over_shortest) const {
    return intercept + slope * ln_concurrency + length_slope * ln_length_over_shortest;
  }
};

// A fitted row of a kNeighbourCorrectionMode family: its mean ISL, its load, its layout
// (CalibrationPoint::layout) and the TTFT log error the family's (shrunk) line leaves of it,
// ln(pred / meas) − line.
struct TtftResidual {
  double isl = 0, concurrency = 0;
  std::string layout;
  double residual = 0;
  bool operator==(const TtftResidual&) const = default;
};

struct CalibrationEntry {
  CalibrationKey key;
  int rows = 0;     // measured rows fitted
  int sweeps = 0;   // distinct configuration sweeps among them
  double concurrency_min = 0, concurrency_max = 0;
  double isl_min = 0, isl_max = 0, osl_min = 0, osl_max = 0;  // tokens
  std::vector<double> isls, osls;  // the distinct lengths measured, ascending (tokens)
  LogErrorLine ttft, tpot;  // already shrunk; ttft's length is the ISL, tpot's the OSL
  std::vector<TtftResidual> ttft_residuals;  // kNeighbourCorrectionMode only; by ISL, then load
};

// What a lookup applies: predictions are multiplied by ttft / tpot.
struct CalibrationFactors {
  double ttft = 1, tpot = 1;
  bool applied = false;  // false: no entry for the family (factors 1)
  std::string family;    // the entry's key (CalibrationKey::ToString), "" when not applied
  int rows = 0;          // rows behind the entry
  // The request's values beyond the entry's measured ranges, read at the edge: "" when none, else
  // e.g. "ISL 16384 at 7373, concurrency 1024 at 512" (whole values, as the table measured them).
  std::string read_at_edge;
  // The request's ISL and OSL not within kCalibrationLengthTolerance of a length the family
  // measured: "" when both are, else e.g. "ISL 4096 (measured 922, 7373)". At an unmeasured ISL the
  // TTFT factor is 1: held out, a factor carried there from the family's other ISLs did worse than
  // none (docs/accuracy.md, eleventh pass). The TPOT factor applies at any OSL (it carried).
  std::string unmeasured_lengths;
  bool isl_unmeasured = false;  // the ISL is among unmeasured_lengths (so ttft is 1)
  // A higher load would read another TTFT factor: the load is not above the top of the family's
  // measured range, its TTFT line has a load slope or its residuals at the ISL differ, and the ISL
  // is a measured one.
  bool ttft_moves_with_load = false;
  // Fitted rows whose residual corrected the TTFT line (kNeighbourCorrectionMode), 0 when none,
  // and whether they are of the request's layout (else of any: none of its layout was near).
  int ttft_neighbours = 0;
  bool ttft_neighbours_same_layout = false;
};

// How outputs name the shipped table (Calibration::Shipped).
inline constexpr std::string_view kShippedCalibrationSource = "data/calibration/silicon.csv";

class Calibration {
 public:
  // Fits every family (and its pooled "*" entry) with at least kCalibrationMinRows points. Points
  // with a non-positive or non-finite value are skipped, and so are repeats: a point with the sweep,
  // load and measurements of one already in its family (one run recorded twice). Coefficients are
  // held within ±kCalibrationMaxCoefficient, so that Parse(ToCsv()) reads back what Fit gives.
  static Calibration Fit(const std::vector<CalibrationPoint>& points);
  // The CSV written by ToCsv. InvalidArgument naming the row (after the header) and column of a
  // malformed field: a missing key field, an unknown mode, counts that are not whole numbers, load
  // or length ranges that are empty or beyond the limits above, coefficients beyond them, a family
  // listed twice.
  static Result<Calibration> Parse(std::string_view csv_text);
  // The table compiled in from data/calibration/silicon.csv (empty when the file is absent).
  static const Calibration& Shipped();
  // Reads and parses the table file at `path` (a table of one's own, --calibration-table): the
  // file system's error when it cannot be read, InvalidArgument "PATH: what Parse found" when it
  // does not parse.
  static Result<Calibration> Read(const FileSystem& fs, const std::string& path);

  std::string ToCsv() const;
  // The entry for `key` (its version, else the pooled one) read at `concurrency` and the request's
  // mean lengths `isl` and `osl` (tokens), each clamped to the entry's range (a non-positive value
  // reads its lower end), for an engine of `layout` (CalibrationPoint::layout; "" unknown).
  CalibrationFactors Lookup(const CalibrationKey& key, double concurrency, double isl, double osl,
                            std::string_view layout = {}) const;
  const std::vector<CalibrationEntry>& entries() const { return entries_; }

 private:
  std::vector<CalibrationEntry> entries_;  // sorted by key
};

// What a held-out fit leaves out of a point's family.
enum class HeldOut {
  kSweep,     // the point's configuration sweep: same mode, lengths, layout, speculative decoding
  kWorkload,  // every row of the point's ISL and OSL pair, whatever its layout
  kLength,    // TTFT: every row of the point's ISL; TPOT: every row of its OSL (two fits)
};

// Held-out factors for every point: its family fitted without the rows `what` names, its pooled
// entry likewise, then looked up at the point's concurrency and lengths. kSweep gives the error of
// predicting a layout or workload the table has not seen in a family it has (`accuracy
// --calibration held-out`); kWorkload that of an ISL/OSL pair it has not seen, whose ISL or OSL it
// may have seen with another partner (`held-out-workload`); kLength that of an ISL (for TTFT) or
// an OSL (for TPOT) it has not seen at all (`held-out-length`).
std::vector<CalibrationFactors> LeaveOut(const std::vector<CalibrationPoint>& points, HeldOut what);

}  // namespace dyprof

// A small RFC 4180 CSV reader/writer: comma separated, fields optionally double-quoted, "" inside a
// quoted field is one quote, quoted fields may hold commas and newlines. CRLF and LF both end a
// record. Used for the silicon rows (estimate --from-csv, accuracy) and the perf-db tables.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dyprof {

// Every record of `text`, each a vector of fields. A trailing newline does not add a record;
// blank lines are skipped. Fails on an unterminated quote or a quote in the middle of an
// unquoted field.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

// A CSV file with a header row: fields by column name.
class CsvTable {
 public:
  static Result<CsvTable> Parse(std::string_view text);
  // A table from a header and its rows (rows may be shorter than the header: missing = "").
  static CsvTable FromRecords(std::vector<std::string> header, std::vector<std::vector<std::string>> rows);

  const std::vector<std::string>& header() const { return header_; }
  size_t num_rows() const { return rows_.size(); }
  const std::vector<std::string>& row(size_t i) const { return rows_[i]; }
  // Column index or -1.
  int Column(std::string_view name) const;
  // Field of row i in column `name`; "" when the column is absent or the row is short.
  std::string_view Get(size_t i, std::string_view name) const;

 private:
  std::vector<std::string> header_;
  std::map<std::string, int, std::less<>> index_;
  std::vector<std::vector<std::string>> rows_;
};

// `base` with the non-empty fields of `overrides` written over the base rows whose `key` field
// equals an override row's (columns only `overrides` has are appended to the header, empty in rows
// it does not touch). Used to supply what measured rows leave unrecorded (accuracy --recipes).
struct CsvOverlay {
  CsvTable table;
  size_t rows_overridden = 0;  // base rows that matched an override row
  size_t keys_unmatched = 0;   // override rows whose key no base row has
};
// InvalidArgument when either table lacks the `key` column, or an override row's key is empty or
// repeated (naming its line in the overrides file, header = line 1).
Result<CsvOverlay> OverlayCsv(const CsvTable& base, const CsvTable& overrides, std::string_view key);

// Quotes a field when it holds a comma, quote, CR or LF.
std::string CsvEscape(std::string_view field);
// One record, fields escaped and comma-joined, with a trailing "\n".
std::string CsvLine(const std::vector<std::string>& fields);

// The largest table Gunzip inflates: 1 GiB (perfdb's largest is 21 MB), so a corrupt or hostile
// file ("zip bomb") is an error rather than an exhausted heap.
inline constexpr size_t kMaxGunzipBytes = size_t{1} << 30;

// Gunzips `data` (gzip or zlib stream). For the perf-db *.csv.gz tables. InvalidArgument when the
// data is corrupt or truncated, or inflates to more than `max_bytes`.
Result<std::string> Gunzip(std::string_view data, size_t max_bytes = kMaxGunzipBytes);

}  // namespace dyprof

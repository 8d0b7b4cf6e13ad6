#include "perf/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include <zlib.h>

namespace dyprof {

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> rec;
  std::string field;
  bool in_quotes = false;
  bool was_quoted = false;   // the current field started with a quote
  bool field_started = false;
  int line = 1;
  auto end_field = [&] {
    rec.push_back(std::move(field));
    field.clear();
    was_quoted = false;
    field_started = false;
  };
  auto end_record = [&] {
    bool blank = rec.size() == 1 && rec[0].empty() && !was_quoted;
    if (!blank) out.push_back(std::move(rec));
    rec.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (field_started) {
        return Status::InvalidArgument("csv line " + std::to_string(line) + ": quote inside an unquoted field");
      }
      in_quotes = true;
      was_quoted = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      bool quoted = was_quoted;
      end_field();
      was_quoted = quoted;
      end_record();
      was_quoted = false;
      ++line;
    } else {
      if (was_quoted) {
        return Status::InvalidArgument("csv line " + std::to_string(line) + ": text after a closing quote");
      }
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) return Status::InvalidArgument("csv: unterminated quoted field at end of input");
  if (field_started || !field.empty() || !rec.empty()) {
    bool quoted = was_quoted;
    end_field();
    was_quoted = quoted;
    end_record();
  }
  return out;
}

Result<CsvTable> CsvTable::Parse(std::string_view text) {
  DYPROF_ASSIGN_OR_RETURN(auto records, ParseCsv(text));
  if (records.empty()) return Status::InvalidArgument("csv: no header row");
  std::vector<std::string> header = std::move(records[0]);
  records.erase(records.begin());
  return FromRecords(std::move(header), std::move(records));
}

CsvTable CsvTable::FromRecords(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
  CsvTable t;
  t.header_ = std::move(header);
  for (size_t i = 0; i < t.header_.size(); ++i) t.index_.emplace(t.header_[i], static_cast<int>(i));
  t.rows_ = std::move(rows);
  return t;
}

int CsvTable::Column(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

std::string_view CsvTable::Get(size_t i, std::string_view name) const {
  int c = Column(name);
  if (c < 0 || i >= rows_.size() || static_cast<size_t>(c) >= rows_[i].size()) return {};
  return rows_[i][c];
}

Result<CsvOverlay> OverlayCsv(const CsvTable& base, const CsvTable& overrides, std::string_view key) {
  if (base.Column(key) < 0) return Status::InvalidArgument(fmt::format("the rows have no '{}' column", key));
  if (overrides.Column(key) < 0) {
    return Status::InvalidArgument(fmt::format("no '{}' column (expected the key of the rows to override)", key));
  }
  std::map<std::string, size_t, std::less<>> by_key;  // override row per key
  for (size_t i = 0; i < overrides.num_rows(); ++i) {
    std::string k(overrides.Get(i, key));
    // Line numbers of the file: the header is line 1.
    if (k.empty()) return Status::InvalidArgument(fmt::format("line {}: empty '{}' (expected a row id)", i + 2, key));
    if (!by_key.emplace(k, i).second) {
      return Status::InvalidArgument(fmt::format("line {}: {} '{}' appears twice (expected one override per row)",
                                                 i + 2, key, k));
    }
  }
  std::vector<std::string> header = base.header();
  for (const std::string& col : overrides.header()) {
    if (base.Column(col) < 0) header.push_back(col);
  }
  CsvOverlay out;
  std::vector<bool> used(overrides.num_rows(), false);
  std::vector<std::vector<std::string>> rows;
  rows.reserve(base.num_rows());
  for (size_t i = 0; i < base.num_rows(); ++i) {
    std::vector<std::string> row = base.row(i);
    row.resize(header.size());
    auto it = by_key.find(base.Get(i, key));
    if (it != by_key.end()) {
      ++out.rows_overridden;
      used[it->second] = true;
      for (size_t c = 0; c < header.size(); ++c) {
        std::string_view v = overrides.Get(it->second, header[c]);
        if (!v.empty()) row[c] = std::string(v);
      }
    }
    rows.push_back(std::move(row));
  }
  out.keys_unmatched = static_cast<size_t>(std::count(used.begin(), used.end(), false));
  out.table = CsvTable::FromRecords(std::move(header), std::move(rows));
  return out;
}

std::string CsvEscape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    out += CsvEscape(fields[i]);
  }
  out.push_back('\n');
  return out;
}

Result<std::string> Gunzip(std::string_view data, size_t max_bytes) {
  if (data.size() > std::numeric_limits<uInt>::max()) return Status::InvalidArgument("gzip: input above 4 GiB");
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("zlib: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return Status::InvalidArgument("gzip: inflates to more than " + std::to_string(max_bytes) + " bytes");
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members: continue with the next one.
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&zs);
      return Status::InvalidArgument("gzip: corrupt or truncated data");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace dyprof

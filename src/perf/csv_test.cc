#include "perf/csv.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace dyprof {
namespace {

TEST(CsvTest, QuotedFieldsCommasQuotesAndNewlines) {
  auto r = ParseCsv("a,b,c\n1,\"x,y\",\"he said \"\"hi\"\"\"\n2,\"multi\nline\",\r\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1][1], "x,y");
  EXPECT_EQ((*r)[1][2], "he said \"hi\"");
  EXPECT_EQ((*r)[2][1], "multi\nline");
  EXPECT_EQ((*r)[2][2], "");
}

TEST(CsvTest, EmptyTrailingFieldsAndBlankLines) {
  auto r = ParseCsv("a,b\n\n1,\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].size(), 2u);
}

TEST(CsvTest, Errors) {
  EXPECT_FALSE(ParseCsv("a,\"b\n").ok());
  EXPECT_FALSE(ParseCsv("a,b\"c\n").ok());
  EXPECT_FALSE(ParseCsv("\"a\"b\n").ok());
}

TEST(CsvTest, TableByColumn) {
  auto t = CsvTable::Parse("id,x\nr1,5\nr2\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_rows(), 2u);
  EXPECT_EQ(t->Get(0, "x"), "5");
  EXPECT_EQ(t->Get(1, "x"), "");  // short row
  EXPECT_EQ(t->Get(0, "missing"), "");
  EXPECT_EQ(t->Column("x"), 1);
}

TEST(CsvTest, EscapeRoundTrip) {
  std::string line = CsvLine({"a", "b,c", "d\"e", ""});
  EXPECT_EQ(line, "a,\"b,c\",\"d\"\"e\",\n");
  auto r = ParseCsv(line);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0][1], "b,c");
  EXPECT_EQ((*r)[0][2], "d\"e");
}

// `text` as a zlib stream (empty when zlib fails).
std::string Compress(const std::string& text, int level) {
  uLongf n = compressBound(text.size());
  std::string buf(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(buf.data()), &n, reinterpret_cast<const Bytef*>(text.data()), text.size(),
                level) != Z_OK) {
    return "";
  }
  buf.resize(n);
  return buf;
}

TEST(CsvTest, GunzipZlibStream) {
  std::string text = "m,n,k,latency\n1,2,3,0.5\n";
  const std::string buf = Compress(text, 6);
  ASSERT_FALSE(buf.empty());
  auto out = Gunzip(buf);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, text);
  EXPECT_FALSE(Gunzip("not gzip").ok());
}

// A small stream that inflates far beyond the limit is an error, not an exhausted heap.
TEST(CsvTest, GunzipStopsAtTheSizeLimit) {
  const std::string zeros(1 << 20, '\0');
  const std::string buf = Compress(zeros, 9);
  ASSERT_FALSE(buf.empty());
  ASSERT_LT(buf.size(), 4096u);  // ~1 KB that inflates to 1 MiB
  auto capped = Gunzip(buf, 100000);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("inflates to more than 100000 bytes"), std::string::npos);
  auto whole = Gunzip(buf);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->size(), zeros.size());
}

TEST(CsvTest, OverlayWritesNonEmptyFieldsOverMatchingRowsAndAppendsColumns) {
  // r3 is short in the rows (no b field), r4 short in the overrides (no extra field).
  auto base = CsvTable::Parse("id,a,b\nr1,1,2\nr2,3,4\nr3,5\nr4,6,7\n");
  auto over = CsvTable::Parse("id,b,extra\nr2,40,x\nr3,,y\nr9,7,z\nr4,70\n");
  ASSERT_TRUE(base.ok() && over.ok());
  auto out = OverlayCsv(*base, *over, "id");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->rows_overridden, 3u);
  EXPECT_EQ(out->keys_unmatched, 1u);  // r9
  const CsvTable& t = out->table;
  EXPECT_EQ(t.header(), (std::vector<std::string>{"id", "a", "b", "extra"}));
  ASSERT_EQ(t.num_rows(), 4u);
  EXPECT_EQ(t.row(2).size(), 4u);  // short rows come out full width
  EXPECT_EQ(t.Get(3, "b"), "70");
  EXPECT_EQ(t.Get(3, "extra"), "");
  EXPECT_EQ(t.Get(0, "b"), "2");  // untouched row keeps its fields
  EXPECT_EQ(t.Get(0, "extra"), "");
  EXPECT_EQ(t.Get(1, "a"), "3");
  EXPECT_EQ(t.Get(1, "b"), "40");  // overridden
  EXPECT_EQ(t.Get(1, "extra"), "x");
  EXPECT_EQ(t.Get(2, "b"), "");  // an empty override field keeps the base value
  EXPECT_EQ(t.Get(2, "extra"), "y");
}

TEST(CsvTest, OverlayErrorsNameTheLine) {
  auto table = [](std::string_view text) {
    auto t = CsvTable::Parse(text);
    EXPECT_TRUE(t.ok());
    return *std::move(t);
  };
  const CsvTable base = table("id,a\nr1,1\n"), no_key = table("name,a\nr1,2\n");
  auto message = [](const Result<CsvOverlay>& r) { return r.ok() ? std::string("ok") : r.status().message(); };
  EXPECT_EQ(message(OverlayCsv(base, no_key, "id")), "no 'id' column (expected the key of the rows to override)");
  EXPECT_EQ(message(OverlayCsv(base, table("id,a\nr1,2\n,3\n"), "id")), "line 3: empty 'id' (expected a row id)");
  EXPECT_EQ(message(OverlayCsv(base, table("id,a\nr1,2\nr1,3\n"), "id")),
            "line 3: id 'r1' appears twice (expected one override per row)");
  EXPECT_EQ(message(OverlayCsv(no_key, base, "id")), "the rows have no 'id' column");
}

}  // namespace
}  // namespace dyprof

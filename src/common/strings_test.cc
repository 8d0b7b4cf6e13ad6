#include "common/strings.h"

#include <gtest/gtest.h>

namespace dyprof {
namespace {

TEST(Strings, EditDistance) {
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("isl", "isl"), 0);
}

TEST(Strings, ClosestMatchWithinLimit) {
  std::vector<std::string> keys = {"isl", "osl", "concurrency", "requestRate"};
  EXPECT_EQ(ClosestMatch("isll", keys), "isl");
  EXPECT_EQ(ClosestMatch("requestrate", keys), "requestRate");
  EXPECT_EQ(ClosestMatch("completely-different", keys), "");
}

TEST(Strings, ClosestMatchesOrdersByDistance) {
  auto m = ClosestMatches("qwen3-32", {"llama", "qwen3-32b", "qwen3-8b"}, 2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], "qwen3-32b");
}

TEST(Strings, FormatPyFloat) {
  EXPECT_EQ(FormatPyFloat(2000), "2000.0");
  EXPECT_EQ(FormatPyFloat(-5), "-5.0");
  EXPECT_EQ(FormatPyFloat(0.1), "0.1");
  EXPECT_EQ(FormatPyFloat(2.5), "2.5");
}

TEST(Strings, IsDigits) {
  EXPECT_TRUE(IsDigits("0"));
  EXPECT_TRUE(IsDigits("65535"));
  EXPECT_FALSE(IsDigits(""));
  EXPECT_FALSE(IsDigits("-1"));
  EXPECT_FALSE(IsDigits("2a"));
}

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(Split("a;b;;c", ';'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(Join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(Trim("  x y \n"), "x y");
  EXPECT_EQ(ToLower("H100_SXM"), "h100_sxm");
}

}  // namespace
}  // namespace dyprof

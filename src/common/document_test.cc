#include "common/document.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dyprof {
namespace {

TEST(ParseYaml, ResolvesCoreSchemaScalars) {
  auto r = ParseYaml("a: 1\nb: 2.5\nc: true\nd: ~\ne: hello\nf: '1'\ng: \"true\"\nh: .inf\ni: 0x10\nj: 1e3\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Json& j = *r;
  EXPECT_TRUE(j["a"].is_number_integer());
  EXPECT_EQ(j["a"], 1);
  EXPECT_DOUBLE_EQ(j["b"].get<double>(), 2.5);
  EXPECT_EQ(j["c"], true);
  EXPECT_TRUE(j["d"].is_null());
  EXPECT_EQ(j["e"], "hello");
  EXPECT_EQ(j["f"], "1");     // quoted stays a string
  EXPECT_EQ(j["g"], "true");
  EXPECT_TRUE(std::isinf(j["h"].get<double>()));
  EXPECT_EQ(j["i"], 16);
  EXPECT_DOUBLE_EQ(j["j"].get<double>(), 1000.0);
}

TEST(ParseYaml, ErrorNamesLineAndColumn) {
  auto r = ParseYaml("a: 1\nb: [1, 2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("invalid YAML at line ", 0), 0u) << r.status().message();
}

TEST(ParseYaml, RejectsDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  auto r = ParseYaml(deep);
  EXPECT_FALSE(r.ok());
}

TEST(ToYaml, QuotesStringsThatWouldChangeType) {
  Json doc = {{"gpu", "1"}, {"flag", "true"}, {"empty", ""}, {"n", 4}, {"x", 2000.0}, {"s", "plain"}};
  std::string y = ToYaml(doc);
  EXPECT_EQ(y, "gpu: \"1\"\nflag: \"true\"\nempty: \"\"\nn: 4\nx: 2000.0\ns: plain\n");
  auto back = ParseYaml(y);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)["gpu"], "1");
  EXPECT_EQ((*back)["x"], 2000.0);
}

TEST(ToYaml, KeepsInsertionOrderAndRoundTrips) {
  Json doc = Json::object();
  doc["z"] = 1;
  doc["a"] = Json::array({"--flag", "{\"k\": 1}", Json::object()});
  doc["m"] = {{"inner", nullptr}};
  std::string y = ToYaml(doc);
  EXPECT_EQ(y.find("z:"), 0u);
  auto back = ParseYaml(y);
  ASSERT_TRUE(back.ok()) << y;
  EXPECT_EQ(*back, doc);
}

TEST(ToYamlAll, SeparatesDocuments) {
  std::string y = ToYamlAll({Json{{"a", 1}}, Json{{"b", 2}}});
  EXPECT_EQ(y, "a: 1\n---\nb: 2\n");
  auto docs = ParseYamlAll(y);
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->size(), 2u);
}

TEST(TypedFields, WrongTypesReadAsAbsent) {
  Json o = Json::parse(R"({"name":"a","num":5,"on":true,"off":false,"str_bool":"true"})");
  EXPECT_EQ(StringField(o, "name"), "a");
  EXPECT_EQ(StringField(o, "num"), "");  // value("num", "") would throw
  EXPECT_EQ(StringField(o, "missing"), "");
  EXPECT_EQ(StringField(Json::array({1}), "name"), "");
  EXPECT_TRUE(IsTrueField(o, "on"));
  EXPECT_FALSE(IsTrueField(o, "off"));
  EXPECT_FALSE(IsTrueField(o, "str_bool"));
  EXPECT_FALSE(IsTrueField(Json("x"), "on"));
}

TEST(ParseJson, ErrorIsAStatus) {
  auto r = ParseJson("{\"a\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidSpec);
}

}  // namespace
}  // namespace dyprof

#include "json/parse.hpp"

#include <gtest/gtest.h>

namespace fieldledger::json {
namespace {

using domain::errc;
using domain::value;

TEST(JsonParse, ReadsEveryKindOfValue) {
  auto r = parse(
      R"({"s":"x\u00e9\n","i":-42,"d":2.5,"t":true,"f":false,"n":null,"a":[1,{"b":[]}],"o":{}})");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->string_at("s"), "x\xc3\xa9\n");
  EXPECT_EQ(r->find("i")->as_int(), -42);
  EXPECT_DOUBLE_EQ(r->find("d")->as_number(), 2.5);
  EXPECT_TRUE(r->find("t")->as_bool());
  EXPECT_FALSE(r->find("f")->as_bool());
  EXPECT_TRUE(r->find("n")->is_null());
  EXPECT_EQ(r->find("a")->as_array().size(), 2u);
  EXPECT_TRUE(r->find("o")->is_object());
}

TEST(JsonParse, RoundTripsThroughTheWriter) {
  const std::string text = R"({"a":[1,2.5,"q\"uote",null,true],"b":{"c":"\u0001"}})";
  auto r = parse(text);
  ASSERT_TRUE(r);
  auto again = parse(domain::to_json(*r));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *r);
}

struct bad_case {
  const char* name;
  std::string text;
  const char* detail_part;
};

class JsonParseRejects : public ::testing::TestWithParam<bad_case> {};

TEST_P(JsonParseRejects, WithMalformedAndAReason) {
  auto r = parse(GetParam().text);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  EXPECT_NE(r.error().detail.find(GetParam().detail_part), std::string::npos) << r.error().detail;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, JsonParseRejects,
    ::testing::Values(bad_case{"empty", "", "empty"},
                      bad_case{"duplicate_key", R"({"a":1,"a":2})", "duplicate key \"a\""},
                      bad_case{"trailing", R"({"a":1} x)", "after the document at byte 8"},
                      bad_case{"truncated", R"({"a":)", "malformed JSON"},
                      bad_case{"invalid_utf8", "{\"a\":\"\xff\"}", "UTF-8"},
                      bad_case{"scalar_document", "42", "object or an array"},
                      bad_case{"huge_integer", R"({"a":18446744073709551615})", "out of range"},
                      bad_case{"deep", std::string(40, '[') + std::string(40, ']'), "nesting"},
                      bad_case{"bare_word", R"({"a":nul})", "malformed JSON"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(JsonParse, LimitsStringLength) {
  parse_limits limits;
  limits.max_string_bytes = 4;
  auto r = parse(R"({"a":"12345"})", limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("longer than 4 bytes"), std::string::npos);
  EXPECT_TRUE(parse(R"({"a":"1234"})", limits));
}

}  // namespace
}  // namespace fieldledger::json

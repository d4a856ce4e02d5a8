#include "domain/value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace fieldledger::domain {
namespace {

TEST(ToJson, WritesEveryKind) {
  EXPECT_EQ(to_json(value{}), "null");
  EXPECT_EQ(to_json(true), "true");
  EXPECT_EQ(to_json(false), "false");
  EXPECT_EQ(to_json(-42), "-42");
  EXPECT_EQ(to_json(std::int64_t{9007199254740993}), "9007199254740993");
  EXPECT_EQ(to_json(0.1), "0.1");
  EXPECT_EQ(to_json(1e300), "1e+300");
  EXPECT_EQ(to_json(5600000.0), "5600000.0") << "a whole double stays a double when read back";
  EXPECT_EQ(to_json(-3.0), "-3.0");
  EXPECT_EQ(to_json("x"), "\"x\"");
  EXPECT_EQ(to_json(array{1, "a", nullptr}), "[1,\"a\",null]");
  EXPECT_EQ(to_json(array{}), "[]");
  EXPECT_EQ(to_json(object{}), "{}");
}

TEST(ToJson, SortsObjectKeys) {
  EXPECT_EQ(to_json(object{{"b", 1}, {"a", object{{"d", 2}, {"c", 3}}}}),
            "{\"a\":{\"c\":3,\"d\":2},\"b\":1}");
}

TEST(ToJson, WritesNonFiniteNumbersAsNull) {
  EXPECT_EQ(to_json(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(to_json(std::numeric_limits<double>::infinity()), "null");
}

TEST(ToJson, EscapesStringsPerRfc8259) {
  struct test_case {
    std::string in, out;
  };
  const test_case cases[] = {
      {"plain", "\"plain\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"a\nb\rc\td", "\"a\\nb\\rc\\td\""},
      {"\b\f", "\"\\b\\f\""},
      {std::string("\0\x01\x1f", 3), "\"\\u0000\\u0001\\u001f\""},
      {"\x7f", "\"\x7f\""},
      {"caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\""},
      {"a/b", "\"a/b\""},
      // escapes first, last, next to each other, alone (strings are written run by run)
      {"", "\"\""},
      {"\"", "\"\\\"\""},
      {"\nab", "\"\\nab\""},
      {"ab\\", "\"ab\\\\\""},
      {"\"\\\n", "\"\\\"\\\\\\n\""},
  };
  for (const auto& c : cases) EXPECT_EQ(to_json(c.in), c.out) << c.in;
}

TEST(ToJson, EscapesObjectKeys) { EXPECT_EQ(to_json(object{{"a\"b", 1}}), "{\"a\\\"b\":1}"); }

TEST(Value, FindsMembersOfObjectsOnly) {
  const value o = object{{"a", "x"}, {"n", 1}};
  ASSERT_NE(o.find("a"), nullptr);
  EXPECT_EQ(o.find("missing"), nullptr);
  EXPECT_EQ(value("a").find("a"), nullptr);
  EXPECT_EQ(o.string_at("a"), "x");
  EXPECT_EQ(o.string_at("n"), "");
  EXPECT_EQ(o.string_at("missing"), "");
}

TEST(Value, ComparesIntAndDoubleAsDifferent) {
  EXPECT_NE(value(1), value(1.0));
  EXPECT_EQ(value(1).as_number(), value(1.0).as_number());
}

// RFC 7396 appendix A, every example.
TEST(MergePatch, FollowsEveryRfc7396Example) {
  struct test_case {
    value target, patch, result;
  };
  const test_case cases[] = {
      {object{{"a", "b"}}, object{{"a", "c"}}, object{{"a", "c"}}},
      {object{{"a", "b"}}, object{{"b", "c"}}, object{{"a", "b"}, {"b", "c"}}},
      {object{{"a", "b"}}, object{{"a", nullptr}}, object{}},
      {object{{"a", "b"}, {"b", "c"}}, object{{"a", nullptr}}, object{{"b", "c"}}},
      {object{{"a", array{"b"}}}, object{{"a", "c"}}, object{{"a", "c"}}},
      {object{{"a", "c"}}, object{{"a", array{"b"}}}, object{{"a", array{"b"}}}},
      {object{{"a", object{{"b", "c"}}}}, object{{"a", object{{"b", "d"}, {"c", nullptr}}}},
       object{{"a", object{{"b", "d"}}}}},
      {object{{"a", array{object{{"b", "c"}}}}}, object{{"a", array{1}}}, object{{"a", array{1}}}},
      {array{"a", "b"}, array{"c", "d"}, array{"c", "d"}},
      {object{{"a", "b"}}, array{"c"}, array{"c"}},
      {object{{"a", "foo"}}, value{}, value{}},
      {object{{"a", "foo"}}, "bar", "bar"},
      {object{{"e", nullptr}}, object{{"a", 1}}, object{{"e", nullptr}, {"a", 1}}},
      {array{1, 2}, object{{"a", "b"}, {"c", nullptr}}, object{{"a", "b"}}},
      {object{}, object{{"a", object{{"bb", object{{"ccc", nullptr}}}}}},
       object{{"a", object{{"bb", object{}}}}}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(merge_patch(c.target, c.patch), c.result)
        << to_json(c.target) << " + " << to_json(c.patch) << " gave "
        << to_json(merge_patch(c.target, c.patch));
  }
}

TEST(MergePatch, LeavesTheTargetUntouched) {
  const value target = object{{"a", 1}};
  const value before = target;
  (void)merge_patch(target, object{{"a", nullptr}, {"b", 2}});
  EXPECT_EQ(target, before);
}

}  // namespace
}  // namespace fieldledger::domain

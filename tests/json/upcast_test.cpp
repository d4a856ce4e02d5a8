// Schema evolution: events of an older schema version decode as the current one.
#include <gtest/gtest.h>

#include <fstream>

#include "json/event_codec.hpp"
#include "json/parse.hpp"

namespace fieldledger::json {
namespace {

using namespace fieldledger::domain;

std::vector<std::string> fixture_lines() {
  std::ifstream in(std::string(FIELDLEDGER_SOURCE_DIR) + "/tests/fixtures/events-v1.ndjson");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(Upcast, EveryEventOfTheVersion1FixtureDecodesAsTheCurrentVersion) {
  const auto lines = fixture_lines();
  ASSERT_EQ(lines.size(), 21u);
  int renamed = 0;
  for (const auto& line : lines) {
    auto raw = parse(line);
    ASSERT_TRUE(raw) << line;
    ASSERT_EQ(raw->find("schemaversion")->as_int(), 1) << "the fixture is of version 1";
    auto e = decode_event(line);
    ASSERT_TRUE(e) << e.error().detail << "\n" << line;
    EXPECT_EQ(e->schema_version, k_current_schema_version);
    const std::string old_type(raw->string_at("type").substr(k_event_type_prefix.size()));
    if (old_type.starts_with("part.")) {
      EXPECT_EQ(e->type, "asset-" + old_type);
      ++renamed;
    } else {
      EXPECT_EQ(e->type, old_type);
    }
    EXPECT_EQ(e->data, *raw->find("data")) << "version 2 leaves the data as it was";
    EXPECT_EQ(e->id, raw->string_at("id"));
  }
  EXPECT_EQ(renamed, 4);  // two parts added, one changed, one removed
}

TEST(Upcast, AnUpcastEventEncodesAsTheCurrentVersionAndRoundTrips) {
  for (const auto& line : fixture_lines()) {
    auto e = decode_event(line);
    ASSERT_TRUE(e);
    const auto again = decode_event(encode_event(*e));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *e);
    EXPECT_EQ(parse(encode_event(*e))->find("schemaversion")->as_int(), k_current_schema_version);
  }
}

}  // namespace
}  // namespace fieldledger::json

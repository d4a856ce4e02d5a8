#include "domain/ids.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace fieldledger::domain {
namespace {

TEST(NewId, HasTheShapeOfAUuidVersion7) {
  const std::string id = new_id();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(is_id(id));
  EXPECT_EQ(id[14], '7');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
}

TEST(NewId, SortsInCreationOrderAndNeverRepeats) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(new_id());
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << i;
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(NewId, StartsWithTheCurrentMillisecond) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string hex = new_id().substr(0, 13);
  hex.erase(8, 1);
  const auto id_ms = static_cast<long long>(std::stoull(hex, nullptr, 16));
  EXPECT_LE(std::llabs(id_ms - ms), 1000);
}

TEST(IsId, RejectsWhatNewIdCannotMake) {
  for (std::string_view s :
       {"", "0190b2a4-8c1e-7b3a-9f00-12345678901", "0190b2a4-8c1e-7b3a-9f00-1234567890123",
        "0190B2A4-8C1E-7B3A-9F00-123456789012", "0190b2a48c1e-7b3a-9f00-1-23456789012",
        "0190b2a4-8c1e-7b3a-9f00-12345678901g", "{190b2a4-8c1e-7b3a-9f00-123456789012"}) {
    EXPECT_FALSE(is_id(s)) << s;
  }
  EXPECT_TRUE(is_id("0190b2a4-8c1e-7b3a-9f00-123456789012"));
}

TEST(LogPosition, FormatsAsPartitionDashOffset) {
  EXPECT_EQ(to_string(log_position{partition_id{3}, log_offset{42}}), "3-42");
  EXPECT_EQ(to_string(log_position{partition_id{0}, log_offset{0}}), "0-0");
}

TEST(LogPosition, ParsesWhatItFormats) {
  const log_position p{partition_id{4294967295u}, log_offset{9223372036854775807}};
  EXPECT_EQ(parse_log_position(to_string(p)), p);
  EXPECT_EQ(parse_log_position("7-0"), (log_position{partition_id{7}, log_offset{0}}));
}

TEST(LogPosition, RejectsMalformedTokens) {
  for (std::string_view s : {"", "-", "1", "1-", "-1", "a-1", "1-x", "1--1", "1-2-3", " 1-2",
                             "1-2 ", "+1-2", "4294967296-0", "1-9223372036854775808", "1.0-2"}) {
    EXPECT_FALSE(parse_log_position(s).has_value()) << s;
  }
}

TEST(LogPosition, OrdersByPartitionThenOffset) {
  const log_position a{partition_id{0}, log_offset{9}}, b{partition_id{1}, log_offset{0}},
      c{partition_id{1}, log_offset{1}};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(PartitionFor, IsStableAndWithinTheCount) {
  const customer_id id{"0190b2a4-8c1e-7b3a-9f00-123456789012"};
  EXPECT_EQ(partition_for(id, 16), partition_for(id, 16));
  EXPECT_LT(partition_for(id, 16).get(), 16u);
  EXPECT_EQ(partition_for(id, 1).get(), 0u);
  EXPECT_EQ(partition_for(id, 0).get(), 0u);
}

TEST(PartitionFor, IsFnv1aOfTheId) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; the partition is that modulo the count.
  EXPECT_EQ(partition_for(customer_id{"a"}, 1000).get(), 0xaf63dc4c8601ec8cull % 1000);
}

TEST(NowRfc3339, IsUtcWithMilliseconds) {
  const std::string t = now_rfc3339();
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace fieldledger::domain

// The view-store port's contract over the in-memory fake, the RocksDB store (live, and opened
// for a bulk build), and the value cache in front of each (a small one, so that entries are also
// evicted).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "infra/cached_view_store.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "projections/memory_view_store.hpp"

namespace fieldledger::infra {
namespace {

namespace fs = std::filesystem;
using projections::view_store;
using projections::write_op;

struct store_impl {
  std::string name;
  std::function<std::unique_ptr<view_store>(const fs::path&)> make;
};

const store_impl k_stores[] = {
    {"memory", [](const fs::path&) { return std::make_unique<projections::memory_view_store>(); }},
    {"rocksdb",
     [](const fs::path& dir) -> std::unique_ptr<view_store> {
       auto s = rocksdb_view_store::open(dir.string());
       EXPECT_TRUE(s) << s.error().detail;
       return s ? std::move(*s) : nullptr;
     }},
    // A store opened for a bulk build: its larger memtables take the commits until seal().
    {"rocksdb_bulk",
     [](const fs::path& dir) -> std::unique_ptr<view_store> {
       auto s = rocksdb_view_store::open(dir.string(), rocksdb_view_store::mode::bulk);
       EXPECT_TRUE(s) << s.error().detail;
       return s ? std::move(*s) : nullptr;
     }},
    {"cached_memory",
     [](const fs::path&) -> std::unique_ptr<view_store> {
       return std::make_unique<cached_view_store>(
           std::make_shared<projections::memory_view_store>(), 64 << 10);
     }},
    {"cached_rocksdb",
     [](const fs::path& dir) -> std::unique_ptr<view_store> {
       auto s = rocksdb_view_store::open(dir.string());
       EXPECT_TRUE(s) << s.error().detail;
       if (!s) return nullptr;
       return std::make_unique<cached_view_store>(std::shared_ptr<view_store>(std::move(*s)),
                                                  64 << 10);
     }},
};

class ViewStoreContract : public ::testing::TestWithParam<store_impl> {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("fieldledger-views-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    store_ = GetParam().make(dir_);
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix,
                                                        std::string_view after = {},
                                                        std::size_t stop_after = 1000) {
    std::vector<std::pair<std::string, std::string>> out;
    auto ok = store_->scan(prefix, after, [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return out.size() < stop_after;
    });
    EXPECT_TRUE(ok);
    return out;
  }
  void commit(std::vector<write_op> ops) { ASSERT_TRUE(store_->commit(ops)); }
  fs::path dir_;
  std::unique_ptr<view_store> store_;
};

using kv = std::vector<std::pair<std::string, std::string>>;

TEST_P(ViewStoreContract, GetAnswersNothingForAnAbsentKey) {
  auto v = store_->get("nope");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());
}

TEST_P(ViewStoreContract, CommitAppliesPutsAndDeletesInOrder) {
  commit({{"a", "1"}, {"b", "2"}, {"a", "3"}, {"b", std::nullopt}, {"c", "4"}});
  EXPECT_EQ(**store_->get("a"), "3");
  EXPECT_FALSE(store_->get("b")->has_value());
  EXPECT_EQ(**store_->get("c"), "4");
  commit({{"c", std::nullopt}, {"missing", std::nullopt}});
  EXPECT_FALSE(store_->get("c")->has_value());
}

TEST_P(ViewStoreContract, GetManyAnswersEachKeyInTheOrderAsked) {
  const std::string large(100000, 'x');  // larger than a data block
  commit({{"a", "1"}, {"b", large}, {"c", std::string("3\0three", 7)}, {"d", "4"}});
  commit({{"d", std::nullopt}});
  const std::vector<std::string> keys{"c", "nope", "b", "a", "d", "c", ""};
  auto v = store_->get_many(keys);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), keys.size());
  EXPECT_EQ((*v)[0], std::string("3\0three", 7));
  EXPECT_FALSE((*v)[1].has_value());
  EXPECT_EQ((*v)[2], large);
  EXPECT_EQ((*v)[3], "1");
  EXPECT_FALSE((*v)[4].has_value());  // deleted
  EXPECT_EQ((*v)[5], std::string("3\0three", 7));
  EXPECT_FALSE((*v)[6].has_value());
  auto none = store_->get_many({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(ViewStoreContract, ReadsAfterACommitSeeWhatItWrote) {
  const std::vector<std::string> keys{"a", "b"};
  for (int round = 0; round < 2; ++round) {  // the second round reads what the first kept
    EXPECT_FALSE(store_->get("a")->has_value());
    EXPECT_FALSE((*store_->get_many(keys))[1].has_value());
    commit({{"a", "1"}, {"b", "2"}});
    EXPECT_EQ(**store_->get("a"), "1");
    EXPECT_EQ((*store_->get_many(keys))[1], "2");
    commit({{"a", "3"}});
    EXPECT_EQ(**store_->get("a"), "3");
    EXPECT_EQ((*store_->get_many(keys))[0], "3");
    commit({{"a", std::nullopt}});
    EXPECT_FALSE(store_->get("a")->has_value());
    EXPECT_FALSE((*store_->get_many(keys))[0].has_value());
    EXPECT_EQ(**store_->get("b"), "2");
    ASSERT_TRUE(store_->clear());
    EXPECT_FALSE(store_->get("b")->has_value());
    EXPECT_FALSE((*store_->get_many(keys))[1].has_value());
  }
}

TEST_P(ViewStoreContract, ScanHonoursPrefixOrderAfterAndStop) {
  commit({{"x/b", "2"}, {"x/a", "1"}, {"x/c", "3"}, {"y/a", "9"}, {"x", "0"}, {"w/z", "8"}});
  EXPECT_EQ(scan("x/"), (kv{{"x/a", "1"}, {"x/b", "2"}, {"x/c", "3"}}));
  EXPECT_EQ(scan("x/", "x/a"), (kv{{"x/b", "2"}, {"x/c", "3"}}));
  EXPECT_EQ(scan("x/", "x/c"), kv{});
  EXPECT_EQ(scan("x/", "", 2), (kv{{"x/a", "1"}, {"x/b", "2"}}));
  EXPECT_EQ(scan("x/", "a"), (kv{{"x/a", "1"}, {"x/b", "2"}, {"x/c", "3"}}))
      << "an `after` before the prefix starts at the prefix";
  EXPECT_EQ(scan("").size(), 6u);
}

TEST_P(ViewStoreContract, AScanStopsAtTheEndOfItsPrefixWhateverItsLastBytes) {
  const std::string ff("p\xff", 2), ff1("p\xff\x01", 3), ffff("\xff\xff", 2),
      ffff1("\xff\xff\x01", 3);
  commit({{ff, "1"}, {ff1, "2"}, {"q", "3"}, {ffff, "4"}, {ffff1, "5"}, {"p", "0"}});
  EXPECT_EQ(scan(ff), (kv{{ff, "1"}, {ff1, "2"}}));
  EXPECT_EQ(scan("p"), (kv{{"p", "0"}, {ff, "1"}, {ff1, "2"}}));
  EXPECT_EQ(scan(ffff), (kv{{ffff, "4"}, {ffff1, "5"}})) << "a prefix of 0xff bytes only";
  EXPECT_EQ(scan(ff1), (kv{{ff1, "2"}}));
}

TEST_P(ViewStoreContract, KeysMayHoldNulBytesAndSortByByte) {
  const std::string k1("w/ab\0id1", 8), k2("w/ab\0id2", 8), k3("w/abc\0id0", 9);
  commit({{k3, ""}, {k2, ""}, {k1, ""}});
  const auto got = scan("w/ab");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, k1);
  EXPECT_EQ(got[1].first, k2);
  EXPECT_EQ(got[2].first, k3);
  EXPECT_EQ(scan(std::string("w/ab\0", 5)).size(), 2u);
}

TEST_P(ViewStoreContract, ClearRemovesEverything) {
  commit({{"a", "1"}, {"b", "2"}});
  ASSERT_TRUE(store_->clear());
  EXPECT_TRUE(scan("").empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, ViewStoreContract, ::testing::ValuesIn(k_stores),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace fieldledger::infra

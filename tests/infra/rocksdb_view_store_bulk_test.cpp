// The RocksDB view store's durability: commits skip the write-ahead log, bulk or live; seal()
// and a clean close flush them to table files. A "crash" is a death test's child process
// that ends with _exit (no destructor, no flush on close) after its writes; the threadsafe
// style runs it in a fresh process (a plain fork of a process whose RocksDB thread pools have
// started can hang in the child).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "infra/rocksdb_view_store.hpp"

namespace fieldledger::infra {
namespace {

namespace fs = std::filesystem;
using projections::write_op;

class RocksdbViewStoreBulk : public ::testing::Test {
 protected:
  // The same directory in the death test's child, which runs the test again up to the crash.
  RocksdbViewStoreBulk()
      : dir_(fs::temp_directory_path() /
             (std::string("fieldledger-bulk-") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    fs::remove_all(dir_);
  }
  ~RocksdbViewStoreBulk() override { fs::remove_all(dir_); }

  // Opens the store, runs body on it, then dies with the store open (a clean close would flush
  // it): exit status 0 when body held.
  void crash_after(rocksdb_view_store::mode m,
                   const std::function<bool(projections::view_store&)>& body) const {
    auto s = rocksdb_view_store::open(dir_.string(), m);
    ::_exit(s && body(**s) ? 0 : 1);
  }

  static bool put(projections::view_store& s, const std::string& k, const std::string& v) {
    const write_op op{k, v};
    return s.commit(std::span(&op, 1)).has_value();
  }

  std::optional<std::string> reopened_get(const std::string& key) const {
    auto s = rocksdb_view_store::open(dir_.string());
    EXPECT_TRUE(s);
    auto v = (*s)->get(key);
    EXPECT_TRUE(v);
    return *v;
  }

  fs::path dir_;
};

TEST_F(RocksdbViewStoreBulk, CommitsAreReadableAtOnceAndDurableOnceSealed) {
  {
    auto s = rocksdb_view_store::open(dir_.string(), rocksdb_view_store::mode::bulk);
    ASSERT_TRUE(s);
    ASSERT_TRUE(put(**s, "cu/1", "one"));
    EXPECT_EQ(*(*s)->get("cu/1"), std::optional<std::string>("one"));
    ASSERT_TRUE((*s)->seal());
    ASSERT_TRUE((*s)->seal()) << "sealing twice is harmless";
  }
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("one"));
}

TEST_F(RocksdbViewStoreBulk, ALaterOpOnAKeyWinsWithinACommitAndAcrossCommits) {
  auto s = rocksdb_view_store::open(dir_.string(), rocksdb_view_store::mode::bulk);
  ASSERT_TRUE(s);
  const std::vector<write_op> first{{"cu/2", "two"}, {"cu/1", "one"}, {"cu/3", "three"}};
  ASSERT_TRUE((*s)->commit(first));
  const std::vector<write_op> second{
      {"cu/1", "first"}, {"cu/2", std::nullopt}, {"cu/1", "second"}, {"cu/4", "four"}};
  ASSERT_TRUE((*s)->commit(second));
  ASSERT_TRUE((*s)->commit(std::vector<write_op>{})) << "an empty commit";
  EXPECT_EQ(*(*s)->get("cu/1"), std::optional<std::string>("second"));
  EXPECT_EQ(*(*s)->get("cu/2"), std::nullopt);
  std::vector<std::string> keys;
  ASSERT_TRUE((*s)->scan("cu/", "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  }));
  EXPECT_EQ(keys, (std::vector<std::string>{"cu/1", "cu/3", "cu/4"}));
}

TEST_F(RocksdbViewStoreBulk, ACrashAfterTheSealKeepsTheBulk) {
  EXPECT_EXIT(crash_after(rocksdb_view_store::mode::bulk,
                          [](projections::view_store& s) {
                            return put(s, "cu/1", "bulk") && s.seal() && put(s, "cu/2", "live");
                          }),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("bulk"));
  EXPECT_EQ(reopened_get("cu/2"), std::nullopt) << "a live commit after the seal, not flushed";
}

TEST_F(RocksdbViewStoreBulk, ACrashLosesTheLiveCommitsSinceTheLastFlushAndNoneBefore) {
  EXPECT_EXIT(crash_after(rocksdb_view_store::mode::live,
                          [](projections::view_store& s) {
                            return put(s, "cu/1", "flushed") && s.seal() &&
                                   put(s, "cu/1", "changed") && put(s, "cu/2", "new");
                          }),
              ::testing::ExitedWithCode(0), "");
  // No write-ahead log: the store is as it was at the flush, a consistent point (the runner's
  // checkpoints are in the same commits, so it applies the later events again).
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("flushed"));
  EXPECT_EQ(reopened_get("cu/2"), std::nullopt);
}

TEST_F(RocksdbViewStoreBulk, ACleanCloseKeepsEveryLiveCommit) {
  {
    auto s = rocksdb_view_store::open(dir_.string());
    ASSERT_TRUE(s);
    ASSERT_TRUE(put(**s, "cu/1", "live"));
  }
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("live"));
}

}  // namespace
}  // namespace fieldledger::infra

// The RocksDB view store's bulk mode: commits skip the write-ahead log until seal(), which
// makes them durable and logs later commits again. A "crash" is a death test's child process
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

  // Runs body, then dies without closing anything: exit status 0 when body held.
  static void crash_after(const std::function<bool()>& body) { ::_exit(body() ? 0 : 1); }

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

TEST_F(RocksdbViewStoreBulk, ACrashAfterTheSealKeepsTheBulkAndTheLoggedCommitsAfterIt) {
  EXPECT_EXIT(crash_after([&] {
                auto s = rocksdb_view_store::open(dir_.string(), rocksdb_view_store::mode::bulk);
                return s && put(**s, "cu/1", "bulk") && (*s)->seal() && put(**s, "cu/2", "live");
              }),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("bulk"));
  EXPECT_EQ(reopened_get("cu/2"), std::optional<std::string>("live"));
}

TEST_F(RocksdbViewStoreBulk, ALiveStoreLogsEveryCommit) {
  EXPECT_EXIT(crash_after([&] {
                auto s = rocksdb_view_store::open(dir_.string());
                return s && put(**s, "cu/1", "live");
              }),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(reopened_get("cu/1"), std::optional<std::string>("live"));
}

}  // namespace
}  // namespace fieldledger::infra

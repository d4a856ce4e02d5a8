// What the embedded log adds to the contract: durability across reopen, a fixed partition
// count, the per-customer index; and the fault-injecting decorator used by failure tests.
#include <gtest/gtest.h>

#include <filesystem>

#include "domain/ids.hpp"
#include "infra/faulty_event_log.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/rocksdb_event_log.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;
namespace fs = std::filesystem;

event make_event(const std::string& customer, std::int64_t version) {
  event e;
  e.id = new_id();
  e.type = std::string(event_types::customer_details_changed);
  e.customer = customer_id{customer};
  e.entity_id = customer;
  e.subject = "customers/" + customer;
  e.version = entity_version{version};
  e.time = now_rfc3339();
  e.actor = "tester";
  e.correlation_id = new_id();
  e.data = object{{"changed", object{}}, {"previous", object{}}};
  return e;
}

class RocksdbEventLog : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_ = (fs::temp_directory_path() /
                      ("fieldledger-rlog-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                         .string();
};

TEST_F(RocksdbEventLog, KeepsEverythingAcrossReopen) {
  const std::string a = new_id(), b = new_id();
  std::vector<log_offset> ends;
  {
    auto log = rocksdb_event_log::open(dir_, 4);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->append(std::vector{make_event(a, 1), make_event(b, 1), make_event(a, 2)}));
    for (std::uint32_t p = 0; p < 4; ++p) ends.push_back((*log)->end_offset(partition_id{p}));
  }
  auto log = rocksdb_event_log::open(dir_, 4);
  ASSERT_TRUE(log) << log.error().detail;
  for (std::uint32_t p = 0; p < 4; ++p) EXPECT_EQ((*log)->end_offset(partition_id{p}), ends[p]);
  auto events = (*log)->read(partition_for(customer_id{a}, 4), log_offset{0}, 100);
  ASSERT_TRUE(events);
  std::vector<std::int64_t> versions;
  for (const auto& re : *events) {
    if (re.e.customer.get() == a) versions.push_back(re.e.version.get());
  }
  EXPECT_EQ(versions, (std::vector<std::int64_t>{1, 2}));
  // New appends continue after the old ones.
  auto more = (*log)->append(std::vector{make_event(a, 3)});
  ASSERT_TRUE(more);
  EXPECT_EQ(more->front().offset, ends[partition_for(customer_id{a}, 4).get()]);
}

TEST_F(RocksdbEventLog, KeepsThePartitionCountItWasCreatedWith) {
  { ASSERT_TRUE(rocksdb_event_log::open(dir_, 4)); }
  auto other = rocksdb_event_log::open(dir_, 8);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, errc::invalid);
  EXPECT_FALSE(rocksdb_event_log::open(dir_ + "-zero", 0));
}

TEST(FaultyEventLog, FailsExactlyTheArmedAppendsAndAppendsNothingThen) {
  memory_event_log memory(1);
  faulty_event_log log(memory);
  log.fail_appends(2, errc::unavailable);
  const std::string c = new_id();
  for (int i = 0; i < 2; ++i) {
    auto r = log.append(std::vector{make_event(c, 1)});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unavailable);
  }
  EXPECT_EQ(memory.end_offset(partition_id{0}), log_offset{0});
  EXPECT_EQ(log.appends_failed(), 2);
  EXPECT_TRUE(log.append(std::vector{make_event(c, 1)}));
  EXPECT_EQ(memory.end_offset(partition_id{0}), log_offset{1});
  log.fail_reads(1, errc::internal);
  EXPECT_FALSE(log.read(partition_id{0}, log_offset{0}, 10));
  EXPECT_TRUE(log.read(partition_id{0}, log_offset{0}, 10));
}

}  // namespace
}  // namespace fieldledger::infra

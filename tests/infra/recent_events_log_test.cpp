// The decorator that keeps this process's recent appends: which reads it answers itself (shown
// by failing the inner log's reads) and which go to the log, and that a reader following the
// writer sees every event, in order, as the log holds it. Its event-log contract runs in
// event_log_contract_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "domain/ids.hpp"
#include "infra/faulty_event_log.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/recent_events_log.hpp"
#include "tests/infra/test_events.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;
using namespace std::chrono_literals;
using test_events::make_event;

constexpr std::uint32_t k_partitions = 2;

// A customer whose events go to partition p.
std::string customer_in(std::uint32_t p) {
  for (;;) {
    auto id = new_id();
    if (partition_for(customer_id{id}, k_partitions).get() == p) return id;
  }
}

class RecentEventsLog : public ::testing::Test {
 protected:
  explicit RecentEventsLog(std::size_t capacity = 4) { make(capacity); }
  void make(std::size_t capacity) {
    auto faulty = std::make_unique<faulty_event_log>(memory_);
    faulty_ = faulty.get();
    log_ = std::make_unique<recent_events_log>(std::move(faulty), capacity);
  }
  std::vector<log_position> append(const std::vector<event>& events) {
    auto r = log_->append(events);
    EXPECT_TRUE(r) << r.error().detail;
    return r ? *r : std::vector<log_position>{};
  }
  result<std::vector<recorded_event>> read(std::int64_t from, std::size_t max = 100) {
    return log_->read(partition_id{0}, log_offset{from}, max);
  }

  memory_event_log memory_{k_partitions};
  faulty_event_log* faulty_ = nullptr;
  std::unique_ptr<recent_events_log> log_;
  const std::string customer_ = customer_in(0);
};

TEST_F(RecentEventsLog, ReadsWhatItJustAppendedWithoutTheLog) {
  const std::vector<event> events{make_event(customer_, 1), make_event(customer_, 2),
                                  make_event(customer_, 3)};
  const auto positions = append(events);
  faulty_->fail_reads(100);  // a read that reached the log would fail
  auto got = read(0);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*got)[i].e, events[i]);
    EXPECT_EQ((*got)[i].position, positions[i]);
  }
  auto tail = read(1, 1);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 1u) << "max is honoured";
  EXPECT_EQ(tail->front().e, events[1]);
  EXPECT_EQ(log_->reads_kept(), 2u);
  EXPECT_EQ(log_->reads_inside(), 0u);
}

TEST_F(RecentEventsLog, SharedReadsHandOutTheKeptEventsThemselves) {
  const std::vector<event> events{make_event(customer_, 1), make_event(customer_, 2)};
  const auto positions = append(events);
  faulty_->fail_reads(100);  // a read that reached the log would fail
  auto first = log_->read_shared(partition_id{0}, log_offset{0}, 100);
  auto again = log_->read_shared(partition_id{0}, log_offset{1}, 100);
  ASSERT_TRUE(first) << first.error().detail;
  ASSERT_TRUE(again) << again.error().detail;
  ASSERT_EQ(first->size(), 2u);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*first)[0]->e, events[0]);
  EXPECT_EQ((*first)[1]->e, events[1]);
  EXPECT_EQ((*first)[1]->position, positions[1]);
  EXPECT_EQ((*first)[1].get(), (*again)[0].get()) << "one kept event, not a copy per read";
  EXPECT_EQ(log_->reads_inside(), 0u);
  faulty_->fail_reads(0);
  make(4);  // a fresh decorator over the same log keeps nothing yet: the log answers
  auto inside = log_->read_shared(partition_id{0}, log_offset{0}, 100);
  ASSERT_TRUE(inside) << inside.error().detail;
  ASSERT_EQ(inside->size(), 2u);
  EXPECT_EQ((*inside)[1]->e, events[1]);
  EXPECT_EQ(log_->reads_inside(), 1u);
}

TEST_F(RecentEventsLog, AnAppendThatHandsOverItsEventsKeepsTheOnesItAnswers) {
  const std::vector<event> events{make_event(customer_, 1), make_event(customer_, 2)};
  auto appended = log_->append_shared(events);
  ASSERT_TRUE(appended) << appended.error().detail;
  ASSERT_EQ(appended->size(), 2u);
  faulty_->fail_reads(100);  // a read that reached the log would fail
  auto shared = log_->read_shared(partition_id{0}, log_offset{0}, 100);
  ASSERT_TRUE(shared) << shared.error().detail;
  ASSERT_EQ(shared->size(), 2u);
  EXPECT_EQ((*shared)[0].get(), (*appended)[0].get()) << "kept, not copied";
  EXPECT_EQ((*shared)[1].get(), (*appended)[1].get());
  auto copied = read(0);
  ASSERT_TRUE(copied) << copied.error().detail;
  EXPECT_EQ((*copied)[1].e, events[1]);
  faulty_->fail_appends(1);
  EXPECT_FALSE(log_->append_shared({make_event(customer_, 3)}));
  auto after = log_->read_shared(partition_id{0}, log_offset{0}, 100);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), 2u) << "a failed append keeps nothing";
}

TEST_F(RecentEventsLog, OffsetsItNoLongerKeepsAreReadFromTheLog) {
  std::vector<event> events;
  for (int v = 1; v <= 6; ++v) events.push_back(make_event(customer_, v));
  append(events);  // keeps the last 4: offsets 2..5
  faulty_->fail_reads(1);
  EXPECT_FALSE(read(0)) << "offset 0 is not kept: the read went to the (failing) log";
  auto all = read(0);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ((*all)[i].e, events[i]);
  faulty_->fail_reads(1);
  auto kept = read(2);
  ASSERT_TRUE(kept) << "offset 2 is kept";
  EXPECT_EQ(kept->size(), 4u);
  EXPECT_EQ(kept->front().e, events[2]);
}

TEST_F(RecentEventsLog, EventsOfAnotherWriterAreReadFromTheLog) {
  const auto first = make_event(customer_, 1), other = make_event(customer_, 2),
             third = make_event(customer_, 3);
  append({first});
  ASSERT_TRUE(memory_.append(std::vector{other}));  // another writer, past the decorator
  append({third});
  for (std::int64_t from = 0; from < 3; ++from) {
    auto got = read(from);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), static_cast<std::size_t>(3 - from)) << "from " << from;
    EXPECT_EQ(got->front().position.offset.get(), from);
  }
  EXPECT_EQ((*read(1))[0].e, other);
  EXPECT_EQ(log_->reads_kept(), 1u) << "only offset 2, after the gap, was kept";
}

TEST_F(RecentEventsLog, AFailedAppendKeepsNothing) {
  faulty_->fail_appends(1);
  EXPECT_FALSE(log_->append(std::vector{make_event(customer_, 1)}));
  auto got = read(0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(log_->reads_kept(), 0u);
  append({make_event(customer_, 1)});
  EXPECT_EQ(read(0)->size(), 1u);
  EXPECT_EQ(log_->reads_kept(), 1u);
}

TEST_F(RecentEventsLog, EventsOfAnOlderSchemaAreNotKept) {
  auto old = make_event(customer_, 1);
  old.schema_version = 1;
  ASSERT_NE(k_current_schema_version, 1) << "pick another older version";
  append({old});
  EXPECT_EQ(read(0)->size(), 1u);
  EXPECT_EQ(log_->reads_kept(), 0u) << "read back, an older event is upcast: the log answers";
  append({make_event(customer_, 2)});
  EXPECT_EQ(read(1)->size(), 1u);
  EXPECT_EQ(log_->reads_kept(), 1u);
}

TEST_F(RecentEventsLog, CapacityZeroKeepsNothing) {
  make(0);
  append({make_event(customer_, 1)});
  EXPECT_EQ(read(0)->size(), 1u);
  EXPECT_EQ(log_->reads_kept(), 0u);
}

// One writer appending batches of every size, one follower per partition reading as the
// projection runner does (read; when nothing is there, wait_for): each sees every event of its
// partition once, in offset order, equal to what the log holds.
TEST_F(RecentEventsLog, FollowersSeeEveryEventInOrder) {
  make(64);
  constexpr int k_events = 3000;
  const std::string customers[] = {customer_in(0), customer_in(1), customer_in(0)};
  std::atomic<bool> done{false};
  std::vector<std::vector<recorded_event>> seen(k_partitions);
  std::vector<std::thread> followers;
  for (std::uint32_t p = 0; p < k_partitions; ++p) {
    followers.emplace_back([&, p] {
      std::int64_t next = 0;
      for (;;) {
        auto got = log_->read(partition_id{p}, log_offset{next}, 50);
        ASSERT_TRUE(got);
        for (auto& re : *got) {
          ASSERT_EQ(re.position.offset.get(), next);
          ++next;
          seen[p].push_back(std::move(re));
        }
        if (!got->empty()) continue;
        if (done && next == log_->end_offset(partition_id{p}).get()) return;
        log_->wait_for(partition_id{p}, log_offset{next}, 5ms);
      }
    });
  }
  std::int64_t versions[3] = {0, 0, 0};
  for (int sent = 0, size = 1; sent < k_events; sent += size, size = size % 97 + 1) {
    std::vector<event> batch;
    for (int i = 0; i < size; ++i) {
      const auto c = static_cast<std::size_t>((sent + i) % 3);
      batch.push_back(make_event(customers[c], ++versions[c]));
    }
    append(batch);
  }
  done = true;
  for (auto& f : followers) f.join();
  for (std::uint32_t p = 0; p < k_partitions; ++p) {
    auto all = memory_.read(partition_id{p}, log_offset{0}, 100000);
    ASSERT_TRUE(all);
    ASSERT_EQ(seen[p].size(), all->size());
    for (std::size_t i = 0; i < all->size(); ++i) EXPECT_EQ(seen[p][i].e, (*all)[i].e);
  }
  EXPECT_GT(log_->reads_kept(), 0u);
}

}  // namespace
}  // namespace fieldledger::infra

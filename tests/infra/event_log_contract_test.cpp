// The event-log port's contract, run over every implementation: the in-memory fake, the
// embedded RocksDB log, the fault-injecting decorator (with no fault armed), the decorator that
// keeps recent appends and Kafka (the librdkafka mock cluster).
#include <gtest/gtest.h>

#include <atomic>

#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "domain/ids.hpp"
#include "infra/faulty_event_log.hpp"
#include "infra/kafka_event_log.hpp"
#include "infra/kafka_mock.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/recent_events_log.hpp"
#include "infra/rocksdb_event_log.hpp"
#include "tests/infra/test_events.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_events::make_event;

constexpr std::uint32_t k_partitions = 4;

// Owns whatever an implementation needs besides the log itself.
struct subject {
  std::unique_ptr<kafka_mock_cluster> mock;
  fs::path dir;
  std::unique_ptr<event_log> inner;
  std::unique_ptr<event_log> log;
  ~subject() {
    log.reset();
    inner.reset();
    if (!dir.empty()) fs::remove_all(dir);
  }
};

struct implementation {
  std::string name;
  std::function<void(subject&)> make;
};

std::string unique_dir(const std::string& what) {
  static int n = 0;
  return (fs::temp_directory_path() /
          ("fieldledger-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
      .string();
}

const implementation k_implementations[] = {
    {"memory", [](subject& s) { s.log = std::make_unique<memory_event_log>(k_partitions); }},
    {"rocksdb",
     [](subject& s) {
       s.dir = unique_dir("log");
       auto log = rocksdb_event_log::open(s.dir.string(), k_partitions);
       ASSERT_TRUE(log) << log.error().detail;
       s.log = std::move(*log);
     }},
    {"faulty",
     [](subject& s) {
       s.inner = std::make_unique<memory_event_log>(k_partitions);
       s.log = std::make_unique<faulty_event_log>(*s.inner);
     }},
    // Small, so that reads are answered both from what it kept and by the log inside.
    {"recent",
     [](subject& s) {
       s.log =
           std::make_unique<recent_events_log>(std::make_unique<memory_event_log>(k_partitions), 3);
     }},
    {"kafka",
     [](subject& s) {
       auto mock = kafka_mock_cluster::start(3, "contract", static_cast<int>(k_partitions));
       ASSERT_TRUE(mock) << mock.error().detail;
       s.mock = std::move(*mock);
       kafka_options o;
       o.brokers = s.mock->bootstraps();
       o.topic = "contract";
       o.partitions = k_partitions;
       auto log = kafka_event_log::open(o);
       ASSERT_TRUE(log) << log.error().detail;
       s.log = std::move(*log);
     }},
};

class EventLogContract : public ::testing::TestWithParam<implementation> {
 protected:
  void SetUp() override {
    GetParam().make(s_);
    ASSERT_TRUE(s_.log);
  }
  event_log& log() { return *s_.log; }
  std::vector<recorded_event> read(partition_id p, std::int64_t from = 0,
                                   std::size_t max = 100000) {
    auto r = log().read(p, log_offset{from}, max);
    EXPECT_TRUE(r) << r.error().detail;
    return r ? *r : std::vector<recorded_event>{};
  }
  subject s_;
};

TEST_P(EventLogContract, AppendAnswersPositionsInInputOrderOnTheCustomersPartition) {
  EXPECT_EQ(log().partition_count(), k_partitions);
  std::vector<event> events;
  std::vector<std::string> customers;
  for (int i = 0; i < 8; ++i) customers.push_back(new_id());
  for (const auto& c : customers) events.push_back(make_event(c, 1));
  events.push_back(make_event(customers[0], 2));
  auto positions = log().append(events);
  ASSERT_TRUE(positions) << positions.error().detail;
  ASSERT_EQ(positions->size(), events.size());
  std::set<log_position> distinct(positions->begin(), positions->end());
  EXPECT_EQ(distinct.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ((*positions)[i].partition, partition_for(events[i].customer, k_partitions));
  }
  EXPECT_LT((*positions)[0].offset, positions->back().offset) << "a customer's events keep order";
}

TEST_P(EventLogContract, ReadGivesBackEqualEventsFromAnOffsetBoundedByMax) {
  const std::string c = new_id();
  const auto p = partition_for(customer_id{c}, k_partitions);
  std::vector<event> events;
  for (int v = 1; v <= 6; ++v) events.push_back(make_event(c, v));
  events[3].idempotency_key = "key-1";
  events[3].request_digest = "0123abcd";
  for (const auto& e : events) ASSERT_TRUE(log().append(std::span(&e, 1)));
  const auto all = read(p);
  ASSERT_EQ(all.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(all[i].e, events[i]) << "event " << i;
    EXPECT_EQ(all[i].position.partition, p);
    if (i > 0) {
      EXPECT_LT(all[i - 1].position.offset, all[i].position.offset);
    }
  }
  const auto from = all[2].position.offset.get();
  const auto some = read(p, from, 2);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].e, events[2]);
  EXPECT_EQ(some[1].e, events[3]);
  EXPECT_TRUE(read(p, all.back().position.offset.get() + 1).empty());
  EXPECT_GE(log().end_offset(p).get(), all.back().position.offset.get() + 1);
}

TEST_P(EventLogContract, ReadSharedGivesTheSameEventsAsRead) {
  const std::string c = new_id();
  const auto p = partition_for(customer_id{c}, k_partitions);
  std::vector<event> events;
  for (int v = 1; v <= 6; ++v) events.push_back(make_event(c, v));
  ASSERT_TRUE(log().append(std::span(events).first(2)));
  ASSERT_TRUE(log().append(std::span(events).subspan(2)));
  const auto all = read(p);
  ASSERT_EQ(all.size(), events.size());
  // From the start (for "recent": past what it keeps), from the middle, bounded by max, past
  // the end.
  for (const auto& [from, max] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 100}, {3, 100}, {1, 2}, {all.size(), 100}}) {
    const auto at =
        from < all.size() ? all[from].position.offset.get() : all.back().position.offset.get() + 1;
    auto shared = log().read_shared(p, log_offset{at}, max);
    ASSERT_TRUE(shared) << shared.error().detail;
    const auto plain = read(p, at, max);
    ASSERT_EQ(shared->size(), plain.size()) << "from " << from << ", max " << max;
    for (std::size_t i = 0; i < plain.size(); ++i) {
      ASSERT_NE((*shared)[i], nullptr);
      EXPECT_EQ((*shared)[i]->e, plain[i].e) << "from " << from << ", event " << i;
      EXPECT_EQ((*shared)[i]->position, plain[i].position);
    }
  }
  EXPECT_FALSE(log().read_shared(partition_id{k_partitions}, log_offset{0}, 10))
      << "an unknown partition is an error here too";
}

TEST_P(EventLogContract, AppendSharedAnswersTheEventsRecordedAsReadGivesThemBack) {
  const std::string a = new_id(), b = new_id();
  const std::vector<event> events{make_event(a, 1), make_event(b, 1), make_event(a, 2)};
  auto appended = log().append_shared(events);
  ASSERT_TRUE(appended) << appended.error().detail;
  ASSERT_EQ(appended->size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& re = *(*appended)[i];
    EXPECT_EQ(re.e, events[i]) << "event " << i << ", in input order";
    EXPECT_EQ(re.position.partition, partition_for(events[i].customer, k_partitions));
    const auto back = read(re.position.partition, re.position.offset.get(), 1);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].e, events[i]);
    EXPECT_EQ(back[0].position, re.position);
  }
  EXPECT_LT((*appended)[0]->position.offset, (*appended)[2]->position.offset);
}

TEST_P(EventLogContract, KeepsPerCustomerOrderAcrossManyAppends) {
  std::vector<std::string> customers{new_id(), new_id(), new_id()};
  for (int v = 1; v <= 10; ++v) {
    std::vector<event> batch;
    for (const auto& c : customers) batch.push_back(make_event(c, v));
    ASSERT_TRUE(log().append(batch));
  }
  for (const auto& c : customers) {
    std::int64_t expected = 1;
    for (const auto& re : read(partition_for(customer_id{c}, k_partitions))) {
      if (re.e.customer.get() != c) continue;
      EXPECT_EQ(re.e.version.get(), expected++);
    }
    EXPECT_EQ(expected, 11);
  }
}

TEST_P(EventLogContract, WaitForAnswersAtOnceTimesOutAndWakesOnAppend) {
  const std::string c = new_id();
  const auto p = partition_for(customer_id{c}, k_partitions);
  auto first = log().append(std::vector{make_event(c, 1)});
  ASSERT_TRUE(first);
  const auto at = first->front().offset;
  EXPECT_TRUE(log().wait_for(p, at, 5s));
  const auto next = log_offset{at.get() + 1};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(log().wait_for(p, next, 100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(log().append(std::vector{make_event(c, 2)}));
  });
  EXPECT_TRUE(log().wait_for(p, next, 10s));
  writer.join();
}

// An append to another partition does not end a wait (the wait times out), and one to the
// awaited partition still does, while appends to others keep coming.
TEST_P(EventLogContract, WaitForIgnoresAppendsToOtherPartitions) {
  const std::string c = new_id();
  const auto p = partition_for(customer_id{c}, k_partitions);
  std::string other = new_id();
  while (partition_for(customer_id{other}, k_partitions) == p) other = new_id();
  const auto end = log().end_offset(p);
  std::atomic<bool> stop{false};
  std::thread elsewhere([&] {
    for (int i = 1; !stop; ++i) {
      EXPECT_TRUE(log().append(std::vector{make_event(other, i)}));
      std::this_thread::sleep_for(5ms);
    }
  });
  EXPECT_FALSE(log().wait_for(p, end, 150ms));
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(log().append(std::vector{make_event(c, 1)}));
  });
  EXPECT_TRUE(log().wait_for(p, end, 10s));
  writer.join();
  stop = true;
  elsewhere.join();
}

TEST_P(EventLogContract, CloseWakesWaitersAndRefusesAppends) {
  const std::string c = new_id();
  const auto p = partition_for(customer_id{c}, k_partitions);
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    log().close();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(log().wait_for(p, log_offset{0}, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  closer.join();
  auto r = log().append(std::vector{make_event(c, 1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
}

TEST_P(EventLogContract, AnUnknownPartitionIsAnError) {
  EXPECT_FALSE(log().read(partition_id{k_partitions}, log_offset{0}, 10));
  EXPECT_EQ(log().end_offset(partition_id{k_partitions}), log_offset{0});
}

TEST_P(EventLogContract, ConcurrentAppendsLoseNothing) {
  constexpr int k_threads = 4, k_each = 25;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<log_position> positions;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      const std::string c = new_id();
      for (int v = 1; v <= k_each; ++v) {
        auto r = log().append(std::vector{make_event(c, v)});
        ASSERT_TRUE(r) << r.error().detail;
        std::lock_guard lock(mu);
        positions.insert(r->front());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(positions.size(), static_cast<std::size_t>(k_threads * k_each));
  std::size_t read_back = 0;
  for (std::uint32_t p = 0; p < k_partitions; ++p) {
    for (const auto& re : read(partition_id{p})) {
      EXPECT_TRUE(positions.contains(re.position));
      ++read_back;
    }
  }
  EXPECT_EQ(read_back, positions.size());
}

INSTANTIATE_TEST_SUITE_P(Logs, EventLogContract, ::testing::ValuesIn(k_implementations),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace fieldledger::infra

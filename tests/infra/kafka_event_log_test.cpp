// The Kafka event log against librdkafka's in-process mock cluster: appends, reads, tailing,
// restart, broker trouble.
#include <gtest/gtest.h>

#include <thread>

#include "domain/ids.hpp"
#include "infra/kafka_event_log.hpp"
#include "infra/kafka_mock.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;

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
  e.data = object{{"changed", object{{"phone1", "555"}}}, {"previous", object{{"phone1", nullptr}}}};
  return e;
}

class KafkaEventLog : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = kafka_mock_cluster::start(3, "events", 4);
    ASSERT_TRUE(m) << m.error().detail;
    mock_ = std::move(*m);
  }
  std::unique_ptr<kafka_event_log> open(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    kafka_options o;
    o.brokers = mock_->bootstraps();
    o.topic = "events";
    o.partitions = 4;
    o.timeout = timeout;
    auto log = kafka_event_log::open(o);
    EXPECT_TRUE(log) << log.error().detail;
    return log ? std::move(*log) : nullptr;
  }
  std::vector<recorded_event> read_all(kafka_event_log& log, partition_id p) {
    auto r = log.read(p, log_offset{0}, 10000);
    EXPECT_TRUE(r) << r.error().detail;
    return r ? *r : std::vector<recorded_event>{};
  }
  std::unique_ptr<kafka_mock_cluster> mock_;
};

TEST_F(KafkaEventLog, AppendsInOneTransactionAndReadsBackEqualEvents) {
  auto log = open();
  ASSERT_TRUE(log);
  const std::string a = new_id(), b = new_id();
  std::vector<event> events{make_event(a, 1), make_event(b, 1), make_event(a, 2)};
  events[2].idempotency_key = "k-1";
  events[2].request_digest = "abc";
  auto positions = log->append(events);
  ASSERT_TRUE(positions) << positions.error().detail;
  ASSERT_EQ(positions->size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ((*positions)[i].partition, partition_for(events[i].customer, 4));
  }
  const auto pa = partition_for(customer_id{a}, 4);
  EXPECT_LT((*positions)[0].offset, (*positions)[2].offset) << "per-customer order";
  const auto got = read_all(*log, pa);
  std::vector<event> of_a;
  for (const auto& re : got) {
    if (re.e.customer.get() == a) of_a.push_back(re.e);
  }
  EXPECT_EQ(of_a, (std::vector<event>{events[0], events[2]}));
  EXPECT_GE(log->end_offset(pa).get(), (*positions)[2].offset.get() + 1);
}

TEST_F(KafkaEventLog, ReadsFromAnOffsetAndTailsNewEvents) {
  auto log = open();
  ASSERT_TRUE(log);
  const std::string a = new_id();
  const auto p = partition_for(customer_id{a}, 4);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log->append(std::vector{make_event(a, i)}));
  auto from2 = log->read(p, log_offset{2}, 2);
  ASSERT_TRUE(from2);
  ASSERT_EQ(from2->size(), 2u);
  EXPECT_EQ(from2->at(0).e.version, entity_version{3});
  EXPECT_EQ(from2->at(1).e.version, entity_version{4});

  EXPECT_FALSE(log->wait_for(p, log_offset{5}, std::chrono::milliseconds(200)));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(log->append(std::vector{make_event(a, 6)}));
  });
  EXPECT_TRUE(log->wait_for(p, log_offset{5}, std::chrono::seconds(10)));
  writer.join();
  auto tail = log->read(p, log_offset{5}, 10);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ(tail->front().e.version, entity_version{6});
}

TEST_F(KafkaEventLog, ASecondOpenSeesEverythingTheFirstAppended) {
  const std::string a = new_id();
  {
    auto log = open();
    ASSERT_TRUE(log);
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->append(std::vector{make_event(a, i)}));
  }
  auto again = open();
  ASSERT_TRUE(again);
  EXPECT_EQ(read_all(*again, partition_for(customer_id{a}, 4)).size(), 3u);
}

TEST_F(KafkaEventLog, AWrongPartitionCountIsRefused) {
  kafka_options o;
  o.brokers = mock_->bootstraps();
  o.topic = "events";
  o.partitions = 8;
  o.timeout = std::chrono::seconds(5);
  auto log = kafka_event_log::open(o);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, errc::invalid);
}

TEST_F(KafkaEventLog, AnUnreachableClusterAnswersUnavailableInBoundedTimeAndRecovers) {
  auto log = open(std::chrono::milliseconds(1500));
  ASSERT_TRUE(log);
  const std::string a = new_id();
  ASSERT_TRUE(log->append(std::vector{make_event(a, 1)}));
  for (int b = 1; b <= 3; ++b) mock_->set_broker_down(b);
  const auto start = std::chrono::steady_clock::now();
  auto r = log->append(std::vector{make_event(a, 2)});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_LT(took, std::chrono::seconds(30));
  for (int b = 1; b <= 3; ++b) mock_->set_broker_up(b);
  // Service resumes without reopening the log.
  bool recovered = false;
  for (int i = 0; i < 20 && !recovered; ++i) {
    recovered = log->append(std::vector{make_event(a, 3)}).has_value();
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(recovered);
}

TEST_F(KafkaEventLog, RetriableProduceErrorsAreRetriedWithoutDuplicates) {
  auto log = open();
  ASSERT_TRUE(log);
  const std::string a = new_id();
  mock_->push_request_errors(0, 3);  // Produce fails three times with NOT_LEADER
  ASSERT_TRUE(log->append(std::vector{make_event(a, 1), make_event(a, 2)}));
  mock_->set_leader("events", static_cast<int>(partition_for(customer_id{a}, 4).get()), 2);
  ASSERT_TRUE(log->append(std::vector{make_event(a, 3)}));
  const auto got = read_all(*log, partition_for(customer_id{a}, 4));
  ASSERT_EQ(got.size(), 3u) << "idempotent producer: no duplicates";
  EXPECT_EQ(got[2].e.version, entity_version{3});
}

}  // namespace
}  // namespace fieldledger::infra

#include <librdkafka/rdkafka.h>

#include "json/parse.hpp"

namespace fieldledger::infra {
namespace {

// What a reporting consumer sees with any Kafka client: one CloudEvents JSON document per
// event, key = customer id, header content-type: application/cloudevents+json.
TEST_F(KafkaEventLog, AReportingConsumerGetsCloudEventsKeyedByCustomer) {
  auto log = open();
  ASSERT_TRUE(log);
  const std::string a = new_id();
  ASSERT_TRUE(log->append(std::vector{make_event(a, 1)}));

  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", mock_->bootstraps().c_str(), errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "group.id", "reporting", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  ASSERT_NE(rk, nullptr);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, "events",
                                    static_cast<int>(partition_for(customer_id{a}, 4).get()))
      ->offset = 0;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_message_t* m = nullptr;
  for (int i = 0; i < 100 && (m == nullptr || m->err); ++i) {
    if (m != nullptr) rd_kafka_message_destroy(m);
    m = rd_kafka_consumer_poll(rk, 100);
  }
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(std::string(static_cast<const char*>(m->key), m->key_len), a);
  rd_kafka_headers_t* headers = nullptr;
  ASSERT_EQ(rd_kafka_message_headers(m, &headers), RD_KAFKA_RESP_ERR_NO_ERROR);
  const void* value = nullptr;
  std::size_t size = 0;
  ASSERT_EQ(rd_kafka_header_get_last(headers, "content-type", &value, &size),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(std::string(static_cast<const char*>(value), size), "application/cloudevents+json");
  auto doc = json::parse(std::string_view(static_cast<const char*>(m->payload), m->len));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->string_at("specversion"), "1.0");
  EXPECT_EQ(doc->string_at("type"), "fieldledger.customer.details-changed");
  EXPECT_EQ(doc->string_at("customerid"), a);
  rd_kafka_message_destroy(m);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

}  // namespace
}  // namespace fieldledger::infra

#include "projections/memory_view_store.hpp"
#include "projections/runner.hpp"

namespace fieldledger::infra {
namespace {

event registered(const std::string& customer, const std::string& name) {
  auto e = make_event(customer, 1);
  e.type = std::string(event_types::customer_registered);
  e.data = object{{"number", "C-1"}, {"fields", object{{"name", name}}}};
  return e;
}

// The projections consume the topic; a runner stopped mid-stream and started again over the
// same views resumes from its checkpoints and ends equal to a rebuild.
TEST_F(KafkaEventLog, AConsumerRestartedMidStreamEndsEqualToARebuild) {
  auto log = open();
  ASSERT_TRUE(log);
  projections::memory_view_store live;
  std::vector<log_position> last(4, log_position{partition_id{0}, log_offset{-1}});
  const auto write = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto r = log->append(std::vector{registered(new_id(), "Customer " + std::to_string(i))});
      ASSERT_TRUE(r);
      last[r->front().partition.get()] = r->front();
    }
  };
  const auto wait = [&](projections::runner& r) {
    for (int i = 0; i < 400; ++i) {
      bool all = true;
      for (const auto& p : last) all = all && (p.offset.get() < 0 || r.has_applied(p));
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  };
  {
    projections::runner first(*log, live, projections::make_views());
    first.start();
    write(20);
    ASSERT_TRUE(wait(first));
  }
  write(20);  // while no consumer runs
  projections::runner second(*log, live, projections::make_views());
  second.start();
  write(10);
  ASSERT_TRUE(wait(second));
  second.stop();

  projections::memory_view_store fresh;
  auto other = open();  // a separate set of consumers
  projections::runner rebuild(*other, fresh, projections::make_views());
  ASSERT_TRUE(rebuild.catch_up());
  std::vector<std::pair<std::string, std::string>> a, b;
  ASSERT_TRUE(live.scan("", "", [&](auto k, auto v) { a.emplace_back(k, v); return true; }));
  ASSERT_TRUE(fresh.scan("", "", [&](auto k, auto v) { b.emplace_back(k, v); return true; }));
  EXPECT_GT(a.size(), 50u);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace fieldledger::infra

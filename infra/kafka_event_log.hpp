#pragma once
// The event log on Kafka (librdkafka), for running past one machine and for reporting
// consumers that subscribe to the topic. One topic; partition = partition_for(customer id),
// key = customer id, value = the event as a CloudEvents 1.0 JSON document (structured mode,
// header content-type: application/cloudevents+json).
//
// Writes: a transactional, idempotent producer (acks=all) with a stable transactional.id.
// Each append() is one transaction, so the events of a batch of commands land together or
// not at all, and a second writer with the same transactional.id fences the first (on a real
// cluster; librdkafka 2.0.2's mock cluster does not enforce fencing, nor does it hide aborted
// transactions from readers). append() returns only after the commit, with the offsets from
// the delivery reports; when the cluster does not acknowledge within `timeout`, it aborts
// and answers errc::unavailable, and the next append() starts afresh.
//
// Reads: one read_committed consumer per partition, assigned (no consumer group), so readers
// keep their own checkpoints. Offsets may have gaps (transaction markers): read() returns
// the events at or after `from`.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "domain/event_log.hpp"

namespace fieldledger::infra {

struct kafka_options {
  std::string brokers;                       // bootstrap.servers
  std::string topic = "fieldledger.events";
  std::uint32_t partitions = 4;              // of the topic (created when missing)
  int replication_factor = 1;                // when the topic is created
  std::string transactional_id;              // default: "fieldledger-" + topic
  std::chrono::milliseconds timeout{10000};  // bound on an append and on start-up steps
  std::map<std::string, std::string> client_config;  // extra librdkafka settings (security…)
};

class kafka_event_log final : public domain::event_log {
 public:
  // Connects, creates the topic when it is missing (errc::invalid when it exists with another
  // partition count) and initialises the transactional producer.
  [[nodiscard]] static domain::result<std::unique_ptr<kafka_event_log>> open(kafka_options options);
  ~kafka_event_log() override;

  std::uint32_t partition_count() const noexcept override;
  domain::result<std::vector<domain::log_position>> append(
      std::span<const domain::event> events) override;
  domain::result<std::vector<domain::recorded_event>> read(domain::partition_id p,
                                                           domain::log_offset from,
                                                           std::size_t max) override;
  domain::log_offset end_offset(domain::partition_id p) override;
  bool wait_for(domain::partition_id p, domain::log_offset offset,
                std::chrono::milliseconds timeout) override;
  void close() override;

  struct impl;

 private:
  explicit kafka_event_log(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::infra

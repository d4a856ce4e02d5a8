#pragma once
// librdkafka's in-process mock Kafka cluster (rdkafka_mock.h), for tests and for trying the
// Kafka mode without a broker (`fieldledger kafka-mock`). It speaks the Kafka protocol on
// loopback ports, so any Kafka client can connect to bootstraps().
#include <memory>
#include <string>

#include "domain/error.hpp"

namespace fieldledger::infra {

class kafka_mock_cluster {
 public:
  // Starts `brokers` mock brokers and creates the topic with `partitions` partitions.
  [[nodiscard]] static domain::result<std::unique_ptr<kafka_mock_cluster>> start(
      int brokers, const std::string& topic, int partitions);
  ~kafka_mock_cluster();

  const std::string& bootstraps() const noexcept { return bootstraps_; }

  // Fault injection (broker ids start at 1).
  void set_broker_down(int broker);
  void set_broker_up(int broker);
  void set_leader(const std::string& topic, int partition, int broker);
  // The next n requests with this API key (0 Produce, 1 Fetch, 26 EndTxn, …) fail with a
  // retriable NOT_LEADER_FOR_PARTITION or, when fatal is set, with an invalid-request error.
  void push_request_errors(int api_key, int n, bool fatal = false);

  struct impl;

 private:
  explicit kafka_mock_cluster(std::unique_ptr<impl> p, std::string bootstraps);
  std::unique_ptr<impl> impl_;
  std::string bootstraps_;
};

}  // namespace fieldledger::infra

#include "infra/kafka_mock.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <vector>

namespace fieldledger::infra {

using namespace fieldledger::domain;

struct kafka_mock_cluster::impl {
  rd_kafka_t* owner = nullptr;  // the mock cluster lives inside this client handle
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~impl() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (owner != nullptr) rd_kafka_destroy(owner);
  }
};

kafka_mock_cluster::kafka_mock_cluster(std::unique_ptr<impl> p, std::string bootstraps)
    : impl_(std::move(p)), bootstraps_(std::move(bootstraps)) {}

kafka_mock_cluster::~kafka_mock_cluster() = default;

result<std::unique_ptr<kafka_mock_cluster>> kafka_mock_cluster::start(int brokers,
                                                                      const std::string& topic,
                                                                      int partitions) {
  auto p = std::make_unique<impl>();
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "fieldledger-kafka-mock", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);  // it never connects
  p->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (p->owner == nullptr) {
    rd_kafka_conf_destroy(conf);
    return fail(errc::internal, std::string("cannot create the mock cluster's client: ") + errstr);
  }
  p->cluster = rd_kafka_mock_cluster_new(p->owner, brokers);
  if (p->cluster == nullptr) return fail(errc::internal, "cannot start the mock Kafka cluster");
  const auto err = rd_kafka_mock_topic_create(p->cluster, topic.c_str(), partitions,
                                              std::min(brokers, 3));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail(errc::internal, std::string("cannot create the mock topic: ") + rd_kafka_err2str(err));
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(p->cluster);
  return std::unique_ptr<kafka_mock_cluster>(new kafka_mock_cluster(std::move(p), bootstraps));
}

void kafka_mock_cluster::set_broker_down(int broker) {
  rd_kafka_mock_broker_set_down(impl_->cluster, broker);
}

void kafka_mock_cluster::set_broker_up(int broker) {
  rd_kafka_mock_broker_set_up(impl_->cluster, broker);
}

void kafka_mock_cluster::set_leader(const std::string& topic, int partition, int broker) {
  rd_kafka_mock_partition_set_leader(impl_->cluster, topic.c_str(), partition, broker);
}

void kafka_mock_cluster::push_request_errors(int api_key, int n, bool fatal) {
  std::vector<rd_kafka_resp_err_t> errors(
      static_cast<std::size_t>(n),
      fatal ? RD_KAFKA_RESP_ERR_INVALID_REQUEST : RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  rd_kafka_mock_push_request_errors_array(impl_->cluster, static_cast<std::int16_t>(api_key),
                                          errors.size(), errors.data());
}

}  // namespace fieldledger::infra

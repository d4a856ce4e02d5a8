// fieldledger: the operator's tool. `kafka-mock` runs librdkafka's mock Kafka cluster in the
// foreground, so anyone can try fieldledgerd's Kafka mode, or point a Kafka client at it,
// without a broker.
#include <utility>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

#include "infra/kafka_mock.hpp"

using namespace fieldledger;

namespace {

int kafka_mock(int brokers, int partitions, const std::string& topic) {
  auto cluster = infra::kafka_mock_cluster::start(brokers, topic, partitions);
  if (!cluster) {
    spdlog::error("{}", cluster.error().detail);
    return 1;
  }
  std::printf("%s\n", (*cluster)->bootstraps().c_str());
  std::fflush(stdout);
  spdlog::info("mock Kafka cluster: {} brokers, topic {} with {} partitions; bootstrap servers "
               "{} (printed on stdout). Ctrl-C stops it; its data lives in memory only.",
               brokers, topic, partitions, (*cluster)->bootstraps());
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fieldledger: operator tool for fieldledgerd"};
  app.require_subcommand(1);
  int brokers = 3, partitions = 4;
  std::string topic = "fieldledger.events";
  auto* mock = app.add_subcommand("kafka-mock", "run librdkafka's mock Kafka cluster");
  mock->add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 9));
  mock->add_option("--partitions", partitions, "partitions of the events topic")
      ->check(CLI::Range(1, 256));
  mock->add_option("--topic", topic, "the topic to create");
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (mock->parsed()) return kafka_mock(brokers, partitions, topic);
  return 2;
}

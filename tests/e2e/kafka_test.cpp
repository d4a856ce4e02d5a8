// fieldledgerd in Kafka mode against the mock cluster (in this test process, over TCP): a
// killed server restarted with empty local state restores the write model and rebuilds the
// views from the topic.
#include <gtest/gtest.h>

#include <filesystem>

#include "infra/kafka_mock.hpp"
#include "json/parse.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::e2e {
namespace {

namespace fs = std::filesystem;

TEST(KafkaMode, AKilledServerComesBackFromTheTopicAlone) {
  auto mock = infra::kafka_mock_cluster::start(3, "fieldledger.events", 4);
  ASSERT_TRUE(mock) << mock.error().detail;
  const auto base = fs::temp_directory_path() / ("fieldledger-kafka-" + std::to_string(::getpid()));
  fs::remove_all(base);
  const std::string key = "flk_kafka_e2e_key_0123456789";
  const std::vector<std::string> args{"--kafka", (*mock)->bootstraps(), "--kafka-timeout-ms", "5000"};

  std::string customer, contact;
  {
    daemon d((base / "a").string(), key, args);
    d.start();
    auto r = d.send("POST", "/v1/customers", R"({"name":"Kafka Facilities","external_id":"KF-1"})");
    ASSERT_EQ(r.status, 201) << r.body;
    customer = std::string(json::parse(r.body)->string_at("id"));
    r = d.send("POST", "/v1/customers/" + customer + "/contacts", R"({"name":"Kim Lee"})");
    ASSERT_EQ(r.status, 201) << r.body;
    contact = std::string(json::parse(r.body)->string_at("id"));
    d.kill(SIGKILL);
  }
  daemon d((base / "b").string(), key, args);  // no local state at all
  d.start();
  auto doc = d.get("/v1/customers/" + customer);
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_EQ(json::parse(doc.body)->find("primary_contact")->string_at("id"), contact);
  // The write model came back too: the external id is still taken, numbering continues.
  EXPECT_EQ(d.send("POST", "/v1/customers", R"({"name":"Copy","external_id":"KF-1"})").status, 409);
  auto next = d.send("POST", "/v1/customers", R"({"name":"Next"})");
  ASSERT_EQ(next.status, 201);
  EXPECT_EQ(json::parse(next.body)->string_at("number"), "C-000002");
  EXPECT_EQ(d.kill(SIGTERM), 0);
  fs::remove_all(base);
}

}  // namespace
}  // namespace fieldledger::e2e

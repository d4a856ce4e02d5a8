#pragma once
// The HTTP API in process: a real server on a loopback port over the in-memory log and views,
// driven with raw HTTP/1.1 requests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "api/server.hpp"
#include "commands/pipeline.hpp"
#include "infra/kafka_event_log.hpp"
#include "infra/kafka_mock.hpp"
#include "infra/memory_blob_store.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/secret_box.hpp"
#include "json/parse.hpp"
#include "projections/generation_store.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/queries.hpp"
#include "projections/rebuilder.hpp"
#include "projections/runner.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::api::test_support {

using domain::value;
using e2e::http_response;

inline constexpr const char* k_key = "flk_api_test_key_0123456789";

// Runs over the embedded log's in-memory fake ("memory") and over Kafka ("kafka": the
// librdkafka mock cluster), so the API is checked to behave the same on both.
class ApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ::setenv("FIELDLEDGER_ADMIN_KEY", k_key, 1);
    static int counter = 0;
    auth_dir_ = std::filesystem::path(::testing::TempDir()) /
                ("fieldledger-api-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(auth_dir_);
    std::filesystem::create_directories(auth_dir_);
    auto keys = auth::open(auth_dir_.string());
    ASSERT_TRUE(keys) << keys.error().detail;
    keys_ = std::move(*keys);
    if (GetParam() == "kafka") {
      auto mock = infra::kafka_mock_cluster::start(3, "events", 4);
      ASSERT_TRUE(mock) << mock.error().detail;
      mock_ = std::move(*mock);
      infra::kafka_options o;
      o.brokers = mock_->bootstraps();
      o.topic = "events";
      o.partitions = 4;
      o.timeout = std::chrono::seconds(3);  // bound on an append before 503
      auto log = infra::kafka_event_log::open(o);
      ASSERT_TRUE(log) << log.error().detail;
      log_ = std::move(*log);
    } else {
      log_ = std::make_unique<infra::memory_event_log>(4);
    }
    // Over Kafka the write model holds at most two entities of customer state, so every suite
    // also runs with customers evicted and read back from the log between commands (over the
    // in-memory log, it holds every customer, as a server under its limit does).
    if (GetParam() == "kafka") model_.set_entity_limit(2);
    ASSERT_TRUE(model_.restore(*log_));
    auto secrets = infra::sodium_secret_box::open_key_file(auth_dir_.string());  // systems
    ASSERT_TRUE(secrets) << secrets.error().detail;
    secrets_ = std::move(*secrets);
    model_.set_secrets(secrets_.get());
    runner_ = std::make_unique<projections::runner>(*log_, store_, projections::make_views());
    audit_ = std::make_unique<projections::audit>(*log_, store_);
    rebuild_ = std::make_unique<projections::rebuilder>(
        *log_, store_, *runner_,
        [](std::uint64_t) -> domain::result<std::shared_ptr<projections::view_store>> {
          return std::make_shared<projections::memory_view_store>();
        });
    pipeline_ = std::make_unique<commands::pipeline>(*log_, model_);
    runner_->start();
    pipeline_->start();
    server_options o;
    o.port = 0;
    o.body_limit = 64 * 1024;
    o.handling.min_position_wait = std::chrono::milliseconds(300);
    configure(o);
    server_ = std::make_unique<server>(
        services{*pipeline_, queries_, *runner_, *keys_, [] { return true; }, *audit_,
                 rebuild_.get(), secrets_.get(), blobs_.get()},
        o);
    auto port = server_->start();
    ASSERT_TRUE(port) << port.error().detail;
    port_ = *port;
  }
  // Lets a suite change the server's options before it starts.
  virtual void configure(server_options&) {}

  void TearDown() override {
    if (server_) server_->stop();
    if (rebuild_) rebuild_->stop();
    if (pipeline_) pipeline_->stop();
    if (runner_) runner_->stop();
    std::error_code ignored;
    std::filesystem::remove_all(auth_dir_, ignored);
  }

  http_response send(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     std::map<std::string, std::string> headers = {}) const {
    headers.emplace("Authorization", std::string("Bearer ") + k_key);
    return e2e::http(port_, method, target, body, headers);
  }
  // A query that waits for the last position of every partition written to.
  http_response get(const std::string& target) const {
    std::string positions;
    {
      std::lock_guard lock(positions_mu_);
      for (const auto& [p, pos] : written_) positions += (positions.empty() ? "" : ",") + pos;
    }
    if (positions.empty()) return send("GET", target);
    return send("GET", target, {}, {{"X-Min-Position", positions}});
  }
  void remember(std::string_view position) {
    auto pos = domain::parse_log_position(position);
    if (!pos) return;
    std::lock_guard lock(positions_mu_);
    auto& held = written_[pos->partition.get()];
    if (held.empty() || domain::parse_log_position(held)->offset < pos->offset) {
      held = std::string(position);
    }
  }
  // A command; remembers its position for the next get().
  http_response command(const std::string& method, const std::string& target,
                        const std::string& body = {},
                        std::map<std::string, std::string> headers = {}) {
    auto r = send(method, target, body, std::move(headers));
    if (r.status / 100 == 2) {
      if (auto v = json::parse(r.body); v && !v->string_at("position").empty()) {
        remember(v->string_at("position"));
      }
    }
    return r;
  }

  static value json_of(const http_response& r) {
    auto v = json::parse(r.body);
    EXPECT_TRUE(v) << r.body;
    return v ? *v : value{};
  }

  std::string create_customer(const std::string& body) {
    auto r = command("POST", "/v1/customers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  std::string add_contact(const std::string& customer, const std::string& body) {
    auto r = command("POST", "/v1/customers/" + customer + "/contacts", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }

  std::int64_t log_size() {
    std::int64_t n = 0;
    for (std::uint32_t p = 0; p < log_->partition_count(); ++p) {
      n += log_->end_offset(domain::partition_id{p}).get();
    }
    return n;
  }

  // The problem document of r, checked to be one.
  static value problem_of(const http_response& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
              "application/problem+json");
    auto v = json_of(r);
    EXPECT_EQ(v.find("status") ? v.find("status")->as_int() : 0, status);
    EXPECT_FALSE(v.string_at("detail").empty());
    return v;
  }
  static std::string first_field(const value& problem) {
    const value* errors = problem.find("errors");
    if (errors == nullptr || !errors->is_array() || errors->as_array().empty()) return {};
    return std::string(errors->as_array().front().string_at("field"));
  }

  std::unique_ptr<infra::kafka_mock_cluster> mock_;
  std::unique_ptr<domain::event_log> log_;
  commands::write_model model_;
  projections::generation_store store_{std::make_shared<projections::memory_view_store>(), 1};
  std::unique_ptr<projections::runner> runner_;
  std::unique_ptr<projections::audit> audit_;
  std::unique_ptr<projections::rebuilder> rebuild_;
  projections::queries queries_{store_};
  std::unique_ptr<commands::pipeline> pipeline_;
  // files: where uploads go (a suite may put another store here in configure()).
  std::shared_ptr<domain::blob_store> blobs_ = std::make_shared<infra::memory_blob_store>();
  std::filesystem::path auth_dir_;  // the keys' data directory, one per test
  std::unique_ptr<auth> keys_;
  std::unique_ptr<server> server_;
  std::unique_ptr<infra::sodium_secret_box> secrets_;  // systems: in auth_dir_/secret.key
  std::uint16_t port_ = 0;
  mutable std::mutex positions_mu_;
  std::map<std::uint32_t, std::string> written_;  // partition -> last position written
};

inline constexpr const char* k_acme =
    R"({"name":"Acme Facilities Ltd","dba_name":"Acme","type":"commercial",
  "industry":"property","category":"key account","service_zone":"north",
  "billing_address":{"street":"1 Main St","city":"Springfield","state":"IL","postcode":"62701",
  "country":"US","lat":39.78,"lng":-89.65},"phone1":"+1 555 0100","email":"ops@acme.example",
  "website":"https://acme.example","external_id":"BILL-1001","payment_term":"net30","parent_id":null})";

inline std::string log_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace fieldledger::api::test_support

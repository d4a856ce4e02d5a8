// End to end against the real fieldledgerd: every acknowledged change survives SIGKILL and
// SIGTERM, numbering continues, and the views on disk equal a rebuild from the log.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "infra/rocksdb_event_log.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "json/parse.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/runner.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::e2e {
namespace {

namespace fs = std::filesystem;

class RestartTest : public ::testing::Test {
 protected:
  RestartTest()
      : dir_(fs::temp_directory_path() /
             ("fieldledger-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::remove_all(dir_);
  }
  ~RestartTest() override { fs::remove_all(dir_); }

  static domain::value body_of(const http_response& r) {
    auto v = json::parse(r.body);
    EXPECT_TRUE(v) << r.body;
    return v ? *v : domain::value{};
  }

  std::string create(const daemon& d, const std::string& name) {
    auto r = d.send("POST", "/v1/customers", R"({"name":")" + name + R"("})");
    if (r.status != 201) return {};
    return std::string(body_of(r).string_at("id"));
  }

  // The views on disk, byte for byte, against views rebuilt from the log in memory.
  void expect_views_equal_rebuild() {
    auto log = infra::rocksdb_event_log::open((dir_ / "log").string(), 4);
    ASSERT_TRUE(log) << log.error().detail;
    auto disk = infra::rocksdb_view_store::open((dir_ / "views").string());
    ASSERT_TRUE(disk) << disk.error().detail;
    projections::memory_view_store fresh;
    projections::runner rebuild(**log, fresh, projections::make_views());
    ASSERT_TRUE(rebuild.catch_up());
    std::vector<std::pair<std::string, std::string>> a, b;
    ASSERT_TRUE((*disk)->scan("", "", [&](std::string_view k, std::string_view v) {
      a.emplace_back(k, v);
      return true;
    }));
    ASSERT_TRUE(fresh.scan("", "", [&](std::string_view k, std::string_view v) {
      b.emplace_back(k, v);
      return true;
    }));
    EXPECT_FALSE(a.empty());
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i], b[i]) << "first differing key at " << i;
    }
  }

  static inline int counter_ = 0;
  fs::path dir_;
  const std::string key_ = "flk_e2e_test_key_0123456789";
};

TEST_F(RestartTest, KilledServerKeepsEveryAcknowledgedChange) {
  daemon d(dir_.string(), key_);
  d.start();
  const auto acme = create(d, "Acme Facilities");
  ASSERT_FALSE(acme.empty());
  auto contact = d.send("POST", "/v1/customers/" + acme + "/contacts", R"({"name":"David Chen"})");
  ASSERT_EQ(contact.status, 201) << contact.body;
  // Equipment of every kind, so that the rebuild comparison covers every view.
  ASSERT_EQ(d.send("POST", "/v1/products",
                   R"({"code":"HVAC-200","brand":"Carrier","product_class":"hvac"})")
                .status,
            201);
  auto north = d.send("POST", "/v1/customers/" + acme + "/sites", R"({"name":"North"})");
  ASSERT_EQ(north.status, 201) << north.body;
  auto south = d.send("POST", "/v1/customers/" + acme + "/sites", R"({"name":"South"})");
  const std::string north_id(body_of(north).string_at("id")),
      south_id(body_of(south).string_at("id"));
  auto asset =
      d.send("POST", "/v1/customers/" + acme + "/assets",
             R"({"site_id":")" + north_id + R"(","serial_no":"SN-1","product_code":"HVAC-200"})");
  ASSERT_EQ(asset.status, 201) << asset.body;
  const std::string asset_id(body_of(asset).string_at("id"));
  ASSERT_EQ(d.send("POST", "/v1/assets/" + asset_id + "/parts", R"({"name":"Fan"})").status, 201);
  ASSERT_EQ(
      d.send("POST", "/v1/assets/" + asset_id + "/move", R"({"site_id":")" + south_id + R"("})")
          .status,
      200);
  ASSERT_EQ(
      d.send("POST", "/v1/customers", R"({"name":"Acme North","parent_id":")" + acme + R"("})")
          .status,
      201);

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> dead{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !dead; ++i) {
        const auto id = create(d, "Load " + std::to_string(t) + " " + std::to_string(i));
        if (id.empty()) continue;
        std::lock_guard lock(mu);
        acknowledged.push_back(id);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int status = d.kill(SIGKILL);
  dead = true;
  for (auto& w : writers) w.join();
  EXPECT_TRUE(WIFSIGNALED(status));
  ASSERT_GT(acknowledged.size(), 10u) << "the load should have written something";

  daemon again(dir_.string(), key_);
  again.start();
  for (const auto& id : acknowledged) {
    ASSERT_EQ(again.get("/v1/customers/" + id).status, 200) << "lost acknowledged customer " << id;
  }
  auto primary = again.get("/v1/customers/" + acme + "/primary-contact");
  EXPECT_EQ(primary.status, 200);
  EXPECT_EQ(body_of(primary).string_at("name"), "David Chen");
  ASSERT_EQ(again.kill(SIGTERM), 0);
  expect_views_equal_rebuild();
}

TEST_F(RestartTest, CleanStopKeepsDataAndNumberingContinues) {
  {
    daemon d(dir_.string(), key_);
    d.start();
    ASSERT_FALSE(create(d, "First").empty());
    ASSERT_FALSE(create(d, "Second").empty());
    const int status = d.kill(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  daemon d(dir_.string(), key_);
  d.start();
  auto r = d.send("POST", "/v1/customers", R"({"name":"Third"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_of(r).string_at("number"), "C-000003");
  auto list = d.get("/v1/customers?limit=10",
                    {{"X-Min-Position", std::string(body_of(r).string_at("position"))}});
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(body_of(list).find("items")->as_array().size(), 3u);
  ASSERT_EQ(d.kill(SIGTERM), 0);
  expect_views_equal_rebuild();
}

// Under a write-model limit smaller than the data, commands on customers the model does not
// hold read them back from the log, before and after a restart, and uniqueness still holds.
TEST_F(RestartTest, ALimitedWriteModelDecidesAsAFullOne) {
  const std::vector<std::string> limit{"--write-model-entities", "3"};
  std::vector<std::string> ids;
  {
    daemon d(dir_.string(), key_, limit);
    d.start();
    for (int i = 0; i < 4; ++i) {
      auto r = d.send("POST", "/v1/customers",
                      R"({"name":"C)" + std::to_string(i) + R"(","external_id":"X-)" +
                          std::to_string(i) + R"("})");
      ASSERT_EQ(r.status, 201) << r.body;
      ids.emplace_back(body_of(r).string_at("id"));
      auto c = d.send("POST", "/v1/customers/" + ids.back() + "/contacts", R"({"name":"Dana"})");
      ASSERT_EQ(c.status, 201) << c.body;
    }
    auto first = d.send("PATCH", "/v1/customers/" + ids[0], R"({"phone1":"555-0100"})",
                        {{"If-Match", "\"1\""}});
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_TRUE(WIFSIGNALED(d.kill(SIGKILL)));
  }
  daemon d(dir_.string(), key_, limit);
  d.start();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string expected = i == 0 ? "2" : "1";
    auto r = d.send("PATCH", "/v1/customers/" + ids[i], R"({"phone1":"555-0199"})",
                    {{"If-Match", "\"" + expected + "\""}});
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    const auto body = body_of(r);
    const auto* version = body.find("version");
    ASSERT_TRUE(version && version->is_int()) << r.body;
    EXPECT_EQ(version->as_int(), std::stoi(expected) + 1);
  }
  auto taken = d.send("POST", "/v1/customers", R"({"name":"Copy","external_id":"X-0"})");
  EXPECT_EQ(taken.status, 409) << taken.body;
  ASSERT_EQ(d.kill(SIGTERM), 0);
  expect_views_equal_rebuild();
}

TEST_F(RestartTest, HealthNeedsNoKeyButEverythingElseDoes) {
  daemon d(dir_.string(), key_);
  d.start();
  EXPECT_EQ(http(d.port(), "GET", "/healthz").status, 200);
  auto r = http(d.port(), "GET", "/v1/customers");
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(r.headers["www-authenticate"].empty());
}

}  // namespace
}  // namespace fieldledger::e2e

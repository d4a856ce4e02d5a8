// A log written by an older release (tests/fixtures/events-v1.ndjson, event schema version 1)
// replays into today's write model, views and history: the upcasters run where events are
// read, so the bytes on disk stay as they were written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "commands/write_model.hpp"
#include "infra/rocksdb_event_log.hpp"
#include "json/event_codec.hpp"
#include "json/parse.hpp"
#include "projections/audit.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/queries.hpp"
#include "projections/runner.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;
namespace fs = std::filesystem;

// The ids in the fixture (see tests/fixtures/README.md).
constexpr std::string_view k_acme = "01a2085e-2d6a-7000-8dc5-9574100495dd";
constexpr std::string_view k_david = "01a2085e-2e68-7000-82a1-5e359044fb65";
constexpr std::string_view k_erin = "01a2085e-2f6b-7000-9b74-d3d937ac181a";
constexpr std::string_view k_north = "01a2085e-2ff8-7000-926b-045300fbc680";
constexpr std::string_view k_south = "01a2085e-30e9-7000-87ce-c6e43f8410fb";
constexpr std::string_view k_asset = "01a2085e-31d8-7000-b94a-29c0efd72cc4";
constexpr std::string_view k_compressor = "01a2085e-32b0-7000-8488-c718141336d0";
constexpr std::string_view k_belt = "01a2085e-3385-7000-aa9a-b28c4ed644bf";
constexpr std::string_view k_globex = "01a2085e-34bf-7000-9a56-73b77edf8ed7";

value doc(const result<std::optional<std::string>>& r) {
  EXPECT_TRUE(r && *r);
  if (!r || !*r) return {};
  auto v = json::parse(**r);
  EXPECT_TRUE(v);
  return v ? *v : value{};
}

class FixtureReplay : public ::testing::Test {
 protected:
  FixtureReplay()
      : dir_(fs::temp_directory_path() / ("fieldledger-fixture-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~FixtureReplay() override { fs::remove_all(dir_); }

  // Writes the fixture's events into an embedded log as version 1 wrote them, byte for byte in
  // meaning: decoded (which upcasts), then put back as version 1 before they are appended.
  void write_version_1_log() {
    std::ifstream in(std::string(FIELDLEDGER_SOURCE_DIR) + "/tests/fixtures/events-v1.ndjson");
    std::vector<event> events;
    for (std::string line; std::getline(in, line);) {
      auto e = json::decode_event(line);
      ASSERT_TRUE(e) << line;
      if (e->type.starts_with("asset-part.")) e->type.erase(0, 6);
      e->schema_version = 1;
      events.push_back(std::move(*e));
    }
    ASSERT_EQ(events.size(), 21u);
    auto log = infra::rocksdb_event_log::open((dir_ / "log").string(), 4);
    ASSERT_TRUE(log) << log.error().detail;
    for (auto& e : events) ASSERT_TRUE((*log)->append(std::span(&e, 1)));
  }

  fs::path dir_;
};

TEST_F(FixtureReplay, AVersion1LogReplaysIntoTodaysWriteModelViewsAndHistory) {
  write_version_1_log();
  auto log = infra::rocksdb_event_log::open((dir_ / "log").string(), 4);
  ASSERT_TRUE(log);
  auto first = (*log)->read(partition_id{3}, log_offset{0}, 100);
  ASSERT_TRUE(first);
  for (const auto& re : *first) {
    EXPECT_EQ(re.e.schema_version, k_current_schema_version);
    EXPECT_FALSE(re.e.type.starts_with("part.")) << "read events are upcast";
  }

  // The write side: the model restores and knows every entity, including the parts.
  commands::write_model model;
  ASSERT_TRUE(model.restore(**log));
  EXPECT_EQ(model.customer_count(), 3u);  // Acme, Globex and the product catalogue
  EXPECT_EQ(model.serial_owner("SN-778812"), std::string(k_asset));
  EXPECT_EQ(model.owner_of(k_compressor), customer_id{std::string(k_acme)});

  // The read side: every view, as today's release builds it.
  memory_view_store store;
  runner r(**log, store, make_views());
  ASSERT_TRUE(r.catch_up());
  const queries q(store);
  const auto acme = doc(q.customer(customer_id{std::string(k_acme)}));
  EXPECT_EQ(acme.string_at("status"), "active");
  EXPECT_EQ(acme.string_at("phone1"), "+1 555 0111");
  EXPECT_EQ(acme.find("primary_contact")->string_at("id"), k_erin);
  EXPECT_EQ(acme.find("counts")->find("contacts")->as_int(), 1);
  EXPECT_EQ(acme.find("counts")->find("sites")->as_int(), 2);
  EXPECT_EQ(acme.find("counts")->find("assets")->as_int(), 1);
  EXPECT_EQ(doc(q.customer(customer_id{std::string(k_globex)})).string_at("status"), "inactive");
  auto david = q.contact(contact_id{std::string(k_david)});
  ASSERT_TRUE(david);
  EXPECT_FALSE(*david) << "the removed contact is gone from the views";
  EXPECT_EQ(doc(q.site(site_id{std::string(k_north)})).string_at("name"), "North Campus East");
  const auto asset = doc(q.asset(asset_id{std::string(k_asset)}));
  EXPECT_EQ(asset.string_at("site_id"), k_south);
  EXPECT_EQ(asset.string_at("brand"), "Carrier") << "filled from the product catalogue";
  auto parts = q.parts_of(asset_id{std::string(k_asset)}, 50, "");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->items.size(), 1u) << "the fan belt was removed";
  const auto compressor = json::parse(parts->items[0]);
  EXPECT_EQ(compressor->string_at("id"), k_compressor);
  EXPECT_EQ(compressor->string_at("part_number"), "CMP-9B");
  auto belt = q.part(part_id{std::string(k_belt)});
  ASSERT_TRUE(belt);
  EXPECT_FALSE(*belt);
  EXPECT_TRUE(doc(q.product("HVAC-200")).string_at("brand") == "Carrier");

  // History shows today's names for yesterday's events.
  audit a(**log, store);
  history_filter f;
  f.limit = 100;
  f.entity = "parts/" + std::string(k_compressor);
  auto h = a.history(customer_id{std::string(k_acme)}, f);
  ASSERT_TRUE(h) << h.error().detail;
  ASSERT_EQ(h->items.size(), 2u);
  EXPECT_EQ(json::parse(h->items[0])->string_at("type"), "asset-part.changed");
  EXPECT_EQ(json::parse(h->items[1])->string_at("type"), "asset-part.added");
}

}  // namespace
}  // namespace fieldledger::projections

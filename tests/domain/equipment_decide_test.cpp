// Decisions about sites, assets and asset parts: each invariant and each error.
#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

class EquipmentDecide : public ::testing::Test {
 protected:
  fake_decide_env env;
  customer_state customer;

  void SetUp() override {
    apply_events(customer, *decide(customer, register_customer{object{{"name", "Acme"}}}, env));
    env.customers.insert(customer.id);
  }

  // Runs cmd, which must succeed; returns the id of the entity of its first event.
  std::string run(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_TRUE(events) << events.error().detail;
    if (!events || events->empty()) return {};
    apply_events(customer, *events);
    return events->front().entity_id;
  }
  error failure(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_FALSE(events);
    return events ? error{} : events.error();
  }
  std::string site(std::string name = "North Campus") {
    return run(add_site{customer.id, object{{"name", std::move(name)}}});
  }
  std::string asset(const std::string& site_id, std::string serial = "SN-1") {
    auto id = run(register_asset{customer.id, object{{"site_id", site_id}, {"serial_no", serial}}});
    env.serials[serial] = id;
    return id;
  }
};

TEST_F(EquipmentDecide, AddsASiteWithItsFields) {
  auto events = decide(
      customer, add_site{customer.id, object{{"name", "North Campus"}, {"code", "NC-1"}}}, env);
  ASSERT_TRUE(events) << events.error().detail;
  ASSERT_EQ(events->size(), 1u);
  const event& e = events->front();
  EXPECT_EQ(e.type, event_types::site_added);
  EXPECT_EQ(e.version, entity_version{1});
  EXPECT_EQ(e.subject, "customers/" + customer.id.get() + "/sites/" + e.entity_id);
  EXPECT_EQ(e.data.find("fields")->string_at("code"), "NC-1");
}

TEST_F(EquipmentDecide, RejectsASiteContactOfAnotherCustomer) {
  const auto e =
      failure(add_site{customer.id, object{{"name", "N"}, {"site_contact_id", new_id()}}});
  EXPECT_EQ(e.code, errc::invalid);
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_EQ(e.fields[0].field, "site_contact_id");
}

TEST_F(EquipmentDecide, AcceptsTheCustomersOwnContactAsSiteContact) {
  const auto contact = run(add_contact{customer.id, object{{"name", "David"}}});
  EXPECT_FALSE(
      run(add_site{customer.id, object{{"name", "N"}, {"site_contact_id", contact}}}).empty());
}

TEST_F(EquipmentDecide, RefusesToRemoveASiteThatStillHasAssets) {
  const auto s = site();
  asset(s, "SN-1");
  asset(s, "SN-2");
  const auto e = failure(remove_site{site_id{s}, std::nullopt});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_NE(e.detail.find("2 assets"), std::string::npos) << e.detail;
}

TEST_F(EquipmentDecide, RemovesAnEmptySiteKeepingItsNameInTheEvent) {
  const auto s = site("Depot");
  auto events = decide(customer, remove_site{site_id{s}, std::nullopt}, env);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().data.string_at("name"), "Depot");
  apply_events(customer, *events);
  EXPECT_EQ(customer.live_site(s), nullptr);
  EXPECT_EQ(failure(change_site{site_id{s}, object{{"name", "x"}}, std::nullopt}).code,
            errc::not_found);
}

TEST_F(EquipmentDecide, RejectsAnAssetAtASiteOfAnotherCustomer) {
  const auto e = failure(register_asset{customer.id, object{{"site_id", new_id()}}});
  EXPECT_EQ(e.code, errc::invalid);
  EXPECT_EQ(e.fields.at(0).field, "site_id");
}

TEST_F(EquipmentDecide, RejectsASerialNumberHeldByAnyAsset) {
  const auto s = site();
  env.serials["SN-778812"] = "held-by-other-asset";
  const auto e =
      failure(register_asset{customer.id, object{{"site_id", s}, {"serial_no", "SN-778812"}}});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_EQ(e.conflicting_id, "held-by-other-asset");
  EXPECT_EQ(e.fields.at(0).field, "serial_no");
}

TEST_F(EquipmentDecide, NewAssetsAreInServiceAndDatesAreChecked) {
  const auto s = site();
  auto events = decide(
      customer, register_asset{customer.id, object{{"site_id", s}, {"install_date", "2024-05-01"}}},
      env);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().data.find("fields")->string_at("status"), "in_service");
  EXPECT_EQ(
      failure(register_asset{customer.id, object{{"site_id", s}, {"install_date", "2023-02-29"}}})
          .fields.at(0)
          .field,
      "install_date");
  EXPECT_EQ(failure(register_asset{customer.id, object{{"site_id", s}, {"status", "lost"}}})
                .fields.at(0)
                .field,
            "status");
}

TEST_F(EquipmentDecide, MovesAnAssetOnlyToASiteOfTheSameCustomer) {
  const auto a_site = site("A"), b_site = site("B");
  const auto a = asset(a_site);
  EXPECT_EQ(failure(move_asset{asset_id{a}, site_id{new_id()}, std::nullopt}).code, errc::invalid);
  auto events = decide(customer, move_asset{asset_id{a}, site_id{b_site}, std::nullopt}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().data.string_at("from_site_id"), a_site);
  EXPECT_EQ(events->front().data.string_at("to_site_id"), b_site);
  apply_events(customer, *events);
  EXPECT_EQ(customer.live_asset(a)->fields.string_at("site_id"), b_site);
  // Moving to where it is changes nothing.
  EXPECT_TRUE(
      decide(customer, move_asset{asset_id{a}, site_id{b_site}, std::nullopt}, env)->empty());
}

TEST_F(EquipmentDecide, APatchCannotMoveOrRetireAnAsset) {
  const auto a = asset(site("A"));
  EXPECT_EQ(failure(change_asset{asset_id{a}, object{{"site_id", site("B")}}, std::nullopt})
                .fields.at(0)
                .field,
            "site_id");
  EXPECT_EQ(failure(change_asset{asset_id{a}, object{{"status", "retired"}}, std::nullopt})
                .fields.at(0)
                .field,
            "status");
}

TEST_F(EquipmentDecide, RetiredAssetsAcceptNoChangeAndStaleIfMatchIsRefused) {
  const auto a = asset(site());
  EXPECT_EQ(failure(retire_asset{asset_id{a}, entity_version{7}}).code, errc::precondition_failed);
  run(retire_asset{asset_id{a}, entity_version{1}});
  EXPECT_EQ(customer.assets.at(a).fields.string_at("status"), "retired");
  EXPECT_EQ(failure(change_asset{asset_id{a}, object{{"brand", "X"}}, std::nullopt}).code,
            errc::not_found);
}

TEST_F(EquipmentDecide, PartsBelongToALiveAssetAndKeepItsId) {
  const auto a = asset(site());
  const auto p =
      run(add_part{asset_id{a}, object{{"name", "Compressor"}, {"part_number", "CMP-9"}}});
  EXPECT_EQ(customer.parts.at(p).parent, a);
  auto events = decide(customer, remove_part{part_id{p}, std::nullopt}, env);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().data.string_at("asset_id"), a);
  EXPECT_EQ(events->front().data.string_at("name"), "Compressor");
  EXPECT_EQ(failure(add_part{asset_id{new_id()}, object{{"name", "x"}}}).code, errc::not_found);
}

TEST_F(EquipmentDecide, ArchivedCustomersTakeNoNewEquipment) {
  const auto s = site();
  run(archive_customer{customer.id});
  EXPECT_EQ(failure(add_site{customer.id, object{{"name", "x"}}}).code, errc::conflict);
  EXPECT_EQ(failure(register_asset{customer.id, object{{"site_id", s}}}).code, errc::conflict);
}

TEST_F(EquipmentDecide, ACustomerCannotBecomeItsOwnAncestor) {
  // parent <- customer <- child: making the child the customer's parent is a cycle.
  const customer_id child{new_id()};
  env.customers.insert(child);
  env.parents[child] = customer.id;
  const auto e =
      failure(change_customer{customer.id, object{{"parent_id", child.get()}}, std::nullopt});
  EXPECT_EQ(e.code, errc::invalid);
  EXPECT_EQ(e.fields.at(0).field, "parent_id");
  const customer_id other{new_id()};
  env.customers.insert(other);
  EXPECT_FALSE(
      run(change_customer{customer.id, object{{"parent_id", other.get()}}, std::nullopt}).empty());
}

}  // namespace
}  // namespace fieldledger::domain

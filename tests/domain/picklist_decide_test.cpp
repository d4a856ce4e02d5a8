// Picklists: adding, retiring and reinstating values, and what they allow in customer, site,
// asset and product fields.
#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

// Decides and applies a picklist command against env; returns its events.
std::vector<event> run(fake_decide_env& env, const change_picklist& cmd) {
  auto events = decide(customer_state{}, cmd, env);
  EXPECT_TRUE(events) << events.error().detail;
  if (!events) return {};
  for (const auto& e : *events) evolve_picklist(env.picklists[cmd.name], e);
  return *events;
}

change_picklist add(std::string list, std::string v) {
  return {std::move(list), picklist_step::add, object{{"value", std::move(v)}}, std::nullopt};
}
change_picklist retire(std::string list, std::string v) {
  return {std::move(list), picklist_step::retire, object{{"value", std::move(v)}}, std::nullopt};
}

TEST(PicklistDecide, AddsRetiresAndReinstatesValues) {
  fake_decide_env env;
  auto added = run(env, add("industry", "Healthcare"));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].type, event_types::picklist_value_added);
  EXPECT_EQ(added[0].customer.get(), k_picklists);
  EXPECT_EQ(added[0].entity_id, "industry");
  EXPECT_EQ(added[0].version, entity_version{1});
  EXPECT_TRUE(run(env, add("industry", "Healthcare")).empty()) << "already there";
  ASSERT_EQ(run(env, retire("industry", "Healthcare")).size(), 1u);
  EXPECT_TRUE(env.picklists["industry"].values["Healthcare"]);
  EXPECT_TRUE(run(env, retire("industry", "Healthcare")).empty()) << "already retired";
  ASSERT_EQ(run(env, add("industry", "Healthcare")).size(), 1u) << "reinstated";
  EXPECT_FALSE(env.picklists["industry"].values["Healthcare"]);
  EXPECT_EQ(env.picklists["industry"].version, entity_version{3});
}

TEST(PicklistDecide, RefusesUnknownListsValuesAndStaleVersions) {
  fake_decide_env env;
  auto unknown = decide(customer_state{}, add("colour", "red"), env);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::not_found);
  auto missing = decide(customer_state{}, retire("industry", "Mining"), env);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().fields.at(0).field, "value");
  auto empty =
      decide(customer_state{}, change_picklist{"industry", picklist_step::add, object{}, {}}, env);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().fields.at(0).field, "value");
  run(env, add("industry", "Retail"));
  auto stale = decide(
      customer_state{},
      change_picklist{"industry", picklist_step::add, object{{"value", "X"}}, entity_version{0}},
      env);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, errc::precondition_failed);
}

TEST(PicklistDecide, GovernedFieldsTakeOnlyLiveValuesOnceAListHasValues) {
  fake_decide_env env;
  // No values yet: anything goes.
  EXPECT_TRUE(
      decide(customer_state{}, register_customer{object{{"name", "A"}, {"industry", "Any"}}}, env));
  run(env, add("industry", "Healthcare"));
  run(env, add("industry", "Retail"));
  run(env, add("customer_type", "Commercial"));
  auto bad = decide(
      customer_state{},
      register_customer{object{{"name", "A"}, {"industry", "Mining"}, {"type", "Home"}}}, env);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid);
  ASSERT_EQ(bad.error().fields.size(), 2u);
  EXPECT_EQ(bad.error().fields[0].field, "type");
  EXPECT_EQ(bad.error().fields[1].field, "industry");
  EXPECT_NE(bad.error().fields[1].message.find("allowed: Healthcare, Retail"), std::string::npos)
      << bad.error().fields[1].message;

  customer_state acme;
  apply_events(
      acme,
      *decide(acme, register_customer{object{{"name", "Acme"}, {"industry", "Retail"}}}, env));
  env.customers.insert(acme.id);
  run(env, retire("industry", "Retail"));
  // A retired value stays on the record: other changes still pass ...
  EXPECT_TRUE(decide(acme, change_customer{acme.id, object{{"dba_name", "A"}}, {}}, env));
  // ... but nobody can set it again.
  customer_state other;
  auto retired =
      decide(other, register_customer{object{{"name", "B"}, {"industry", "Retail"}}}, env);
  ASSERT_FALSE(retired);
  EXPECT_NE(retired.error().fields.at(0).message.find("retired"), std::string::npos);

  // Sites' service zones and assets' product classes.
  run(env, add("service_zone", "North"));
  auto site =
      decide(acme, add_site{acme.id, object{{"name", "S"}, {"service_zone", "South"}}}, env);
  ASSERT_FALSE(site);
  EXPECT_EQ(site.error().fields.at(0).field, "service_zone");
  apply_events(
      acme,
      *decide(acme, add_site{acme.id, object{{"name", "S"}, {"service_zone", "North"}}}, env));
  run(env, add("product_class", "hvac"));
  const auto site_id = acme.sites.begin()->first;
  auto asset = decide(
      acme, register_asset{acme.id, object{{"site_id", site_id}, {"product_class", "pump"}}}, env);
  ASSERT_FALSE(asset);
  EXPECT_EQ(asset.error().fields.at(0).field, "product_class");
  auto product = decide(customer_state{},
                        create_product{object{{"code", "P-1"}, {"product_class", "pump"}}}, env);
  ASSERT_FALSE(product);
  EXPECT_EQ(product.error().fields.at(0).field, "product_class");
}

}  // namespace
}  // namespace fieldledger::domain

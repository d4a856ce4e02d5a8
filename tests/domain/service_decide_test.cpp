// Decisions about notes and work orders: each invariant and each error.
#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

class ServiceDecide : public ::testing::Test {
 protected:
  fake_decide_env env;
  customer_state customer;
  std::string north, south, boiler;

  void SetUp() override {
    apply_events(customer, *decide(customer, register_customer{object{{"name", "Acme"}}}, env));
    env.customers.insert(customer.id);
    north = run(add_site{customer.id, object{{"name", "North"}}});
    south = run(add_site{customer.id, object{{"name", "South"}}});
    boiler = run(register_asset{customer.id, object{{"site_id", north}}});
  }

  std::vector<event> events_of(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_TRUE(events) << events.error().detail;
    if (!events) return {};
    apply_events(customer, *events);
    return *events;
  }
  std::string run(const command& cmd) {
    auto events = events_of(cmd);
    return events.empty() ? std::string{} : events.front().entity_id;
  }
  error failure(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_FALSE(events);
    return events ? error{} : events.error();
  }
  std::string field_of(const error& e) { return e.fields.empty() ? "" : e.fields[0].field; }
};

// ---- notes -----------------------------------------------------------------------------------

TEST_F(ServiceDecide, AddsANoteThatIsNotUrgentUnlessSaid) {
  auto events = events_of(add_note{customer.id, object{{"text", "Gate code 4411"}}});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, event_types::note_added);
  EXPECT_EQ(events[0].subject, "customers/" + customer.id.get() + "/notes/" + events[0].entity_id);
  const value* urgent = events[0].data.find("fields")->find("urgent");
  ASSERT_NE(urgent, nullptr);
  EXPECT_FALSE(urgent->as_bool());
  ASSERT_NE(customer.live_note(events[0].entity_id), nullptr);
}

TEST_F(ServiceDecide, ANoteNeedsTextAndAValidUrgentFlag) {
  EXPECT_EQ(field_of(failure(add_note{customer.id, object{{"urgent", true}}})), "text");
  EXPECT_EQ(field_of(failure(add_note{customer.id, object{{"text", "x"}, {"urgent", "yes"}}})),
            "urgent");
  EXPECT_EQ(failure(add_note{customer.id, object{{"text", "x"}, {"colour", "red"}}}).code,
            errc::malformed);
}

TEST_F(ServiceDecide, ANotesSiteAndAssetMustBeTheCustomers) {
  EXPECT_EQ(field_of(failure(add_note{customer.id, object{{"text", "x"}, {"site_id", new_id()}}})),
            "site_id");
  EXPECT_EQ(field_of(failure(add_note{customer.id, object{{"text", "x"}, {"asset_id", new_id()}}})),
            "asset_id");
  // The asset is at North, not at South.
  EXPECT_EQ(field_of(failure(add_note{
                customer.id, object{{"text", "x"}, {"site_id", south}, {"asset_id", boiler}}})),
            "asset_id");
  EXPECT_FALSE(
      run(add_note{customer.id, object{{"text", "x"}, {"site_id", north}, {"asset_id", boiler}}})
          .empty());
}

TEST_F(ServiceDecide, ChangesAndRemovesANote) {
  const auto id = run(add_note{customer.id, object{{"text", "old"}}});
  auto changed = events_of(change_note{note_id{id}, object{{"urgent", true}}, entity_version{1}});
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].type, event_types::note_changed);
  EXPECT_TRUE(changed[0].data.find("changed")->find("urgent")->as_bool());
  EXPECT_TRUE(events_of(change_note{note_id{id}, object{{"urgent", true}}, {}}).empty());
  EXPECT_EQ(failure(change_note{note_id{id}, object{{"text", "x"}}, entity_version{1}}).code,
            errc::precondition_failed);
  auto removed = events_of(remove_note{note_id{id}, entity_version{2}});
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].data.string_at("text"), "old");
  EXPECT_EQ(failure(remove_note{note_id{id}, {}}).code, errc::not_found);
}

TEST_F(ServiceDecide, ArchivedCustomersTakeNoNotes) {
  run(archive_customer{customer.id, {}});
  EXPECT_EQ(failure(add_note{customer.id, object{{"text", "x"}}}).code, errc::conflict);
}

// ---- work orders -----------------------------------------------------------------------------

TEST_F(ServiceDecide, AWorkOrderGetsANumberThePrimaryContactAndStatusOpen) {
  const auto david = run(add_contact{customer.id, object{{"name", "David Chen"}}});
  run(make_primary_contact{contact_id{david}, {}});
  auto events =
      events_of(create_work_order{customer.id, object{{"site_id", north}, {"summary", "Leak"}}});
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.type, event_types::work_order_created);
  EXPECT_EQ(e.data.string_at("number"), "WO-000001");
  const value& f = *e.data.find("fields");
  EXPECT_EQ(f.string_at("contact_id"), david);
  EXPECT_EQ(f.string_at("contact_name"), "David Chen");
  EXPECT_EQ(f.string_at("status"), "open");
  EXPECT_EQ(f.string_at("priority"), "normal");
  const auto second =
      events_of(create_work_order{customer.id, object{{"site_id", north}, {"summary", "Again"}}});
  EXPECT_EQ(second[0].data.string_at("number"), "WO-000002");
}

TEST_F(ServiceDecide, TheSiteContactComesBeforeThePrimaryContact) {
  const auto primary = run(add_contact{customer.id, object{{"name", "Primary"}}});
  run(make_primary_contact{contact_id{primary}, {}});
  const auto mike = run(add_contact{customer.id, object{{"name", "Mike"}}});
  run(change_site{site_id{south}, object{{"site_contact_id", mike}}, {}});
  auto at_south =
      events_of(create_work_order{customer.id, object{{"site_id", south}, {"summary", "s"}}});
  EXPECT_EQ(at_south[0].data.find("fields")->string_at("contact_id"), mike);
  auto at_north =
      events_of(create_work_order{customer.id, object{{"site_id", north}, {"summary", "n"}}});
  EXPECT_EQ(at_north[0].data.find("fields")->string_at("contact_id"), primary);
}

TEST_F(ServiceDecide, WithoutContactsAWorkOrderHasNone) {
  auto e = events_of(create_work_order{customer.id, object{{"site_id", north}, {"summary", "s"}}});
  EXPECT_EQ(e[0].data.find("fields")->find("contact_id"), nullptr);
}

TEST_F(ServiceDecide, TheSiteFollowsFromTheAsset) {
  auto e =
      events_of(create_work_order{customer.id, object{{"asset_id", boiler}, {"summary", "s"}}});
  EXPECT_EQ(e[0].data.find("fields")->string_at("site_id"), north);
}

TEST_F(ServiceDecide, AWorkOrdersSiteAndAssetMustBelongToTheCustomer) {
  EXPECT_EQ(field_of(failure(create_work_order{customer.id, object{{"summary", "s"}}})), "site_id");
  EXPECT_EQ(field_of(failure(
                create_work_order{customer.id, object{{"site_id", new_id()}, {"summary", "s"}}})),
            "site_id");
  EXPECT_EQ(field_of(failure(
                create_work_order{customer.id, object{{"asset_id", new_id()}, {"summary", "s"}}})),
            "asset_id");
  EXPECT_EQ(field_of(failure(create_work_order{
                customer.id, object{{"site_id", south}, {"asset_id", boiler}, {"summary", "s"}}})),
            "asset_id");
  EXPECT_EQ(field_of(failure(create_work_order{
                customer.id, object{{"site_id", north}, {"summary", "s"}, {"priority", "asap"}}})),
            "priority");
  EXPECT_EQ(
      field_of(failure(create_work_order{
          customer.id, object{{"site_id", north}, {"summary", "s"}, {"contact_id", new_id()}}})),
      "contact_id");
  EXPECT_EQ(failure(create_work_order{customer_id{new_id()},
                                      object{{"site_id", north}, {"summary", "s"}}})
                .code,
            errc::not_found);
}

TEST_F(ServiceDecide, AWorkOrderMovesThroughItsStatuses) {
  const auto wo = run(create_work_order{
      customer.id, object{{"site_id", north}, {"summary", "s"}, {"assignee", "Ann"}}});
  EXPECT_EQ(customer.work_order(wo)->fields.string_at("status"), "assigned");
  EXPECT_TRUE(
      events_of(move_work_order{
                    work_order_id{wo}, work_order_step::assign, object{{"assignee", "Ann"}}, {}})
          .empty());
  auto reassigned = events_of(move_work_order{work_order_id{wo}, work_order_step::assign,
                                              object{{"assignee", "Bob"}}, entity_version{1}});
  ASSERT_EQ(reassigned.size(), 1u);
  EXPECT_EQ(reassigned[0].data.string_at("previous_assignee"), "Ann");
  EXPECT_EQ(
      field_of(failure(move_work_order{work_order_id{wo}, work_order_step::assign, object{}, {}})),
      "assignee");
  auto done = events_of(move_work_order{
      work_order_id{wo}, work_order_step::complete, object{{"resolution", "Fixed"}}, {}});
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.string_at("previous_status"), "assigned");
  EXPECT_EQ(customer.work_order(wo)->fields.string_at("status"), "completed");
  EXPECT_EQ(failure(move_work_order{work_order_id{wo}, work_order_step::cancel, object{}, {}}).code,
            errc::conflict);
  EXPECT_EQ(
      failure(move_work_order{work_order_id{new_id()}, work_order_step::cancel, object{}, {}}).code,
      errc::not_found);
}

}  // namespace
}  // namespace fieldledger::domain

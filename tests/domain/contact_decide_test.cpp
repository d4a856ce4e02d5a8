#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

class ContactDecide : public ::testing::Test {
 protected:
  fake_decide_env env;
  customer_state customer;

  void SetUp() override {
    apply_events(customer, *decide(customer, register_customer{object{{"name", "Acme"}}}, env));
  }

  // Adds a contact named name and returns its id.
  contact_id add(std::string name) {
    auto events =
        decide(customer, add_contact{customer.id, object{{"name", std::move(name)}}}, env);
    EXPECT_TRUE(events) << events.error().detail;
    apply_events(customer, *events);
    return contact_id{events->front().entity_id};
  }

  void run(const command& cmd) {
    auto events = decide(customer, cmd, env);
    ASSERT_TRUE(events) << events.error().detail;
    apply_events(customer, *events);
  }

  void set_status(std::string_view status) {
    if (status == k_status_archived) run(archive_customer{customer.id});
    if (status == k_status_inactive) run(deactivate_customer{customer.id});
  }

  errc error_of(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_FALSE(events);
    return events ? errc{} : events.error().code;
  }
};

// ---- add ----------------------------------------------------------------------------------

TEST_F(ContactDecide, RejectsASiteThatIsNotTheCustomers) {
  auto events =
      decide(customer, add_contact{customer.id, object{{"name", "D"}, {"site_id", new_id()}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  ASSERT_EQ(events.error().fields.size(), 1u);
  EXPECT_EQ(events.error().fields[0].field, "site_id");
}

TEST_F(ContactDecide, MakesTheFirstContactPrimary) {
  const std::string site = new_id();
  customer.sites[site].id = contact_id{site};
  const value body = object{{"name", "David Chen"},
                            {"title", "Facilities manager"},
                            {"roles", array{"billing", "emergency"}},
                            {"phone", "+1 555 0100"},
                            {"mobile", "555 0199"},
                            {"email", "david@acme.example"},
                            {"site_id", site},
                            {"notify", object{{"work_orders", true}, {"invoices", false}}},
                            {"notes", "Call before 9.\nNever on Fridays."}};
  auto events = decide(customer, add_contact{customer.id, body}, env);
  ASSERT_TRUE(events) << events.error().detail;
  ASSERT_EQ(events->size(), 2u);
  const std::string id = fake_decide_env::id_for(2);
  const std::string subject = "customers/" + customer.id.get() + "/contacts/" + id;
  const event& added = (*events)[0];
  EXPECT_EQ(added.type, event_types::contact_added);
  EXPECT_EQ(added.customer, customer.id);
  EXPECT_EQ(added.entity_id, id);
  EXPECT_EQ(added.subject, subject);
  EXPECT_EQ(added.version, entity_version{1});
  EXPECT_EQ(added.data, value(object{{"fields", body}}));
  const event& primary = (*events)[1];
  EXPECT_EQ(primary.type, event_types::contact_primary_designated);
  EXPECT_EQ(primary.entity_id, id);
  EXPECT_EQ(primary.subject, subject);
  EXPECT_EQ(primary.version, entity_version{2});
  EXPECT_EQ(primary.data, value(object{{"previous_contact_id", nullptr}}));
}

TEST_F(ContactDecide, AddsLaterContactsWithoutMakingThemPrimary) {
  const contact_id first = add("First");
  auto events = decide(customer, add_contact{customer.id, object{{"name", "Second"}}}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, event_types::contact_added);
  apply_events(customer, *events);
  EXPECT_EQ(customer.primary_contact, first.get());
}

TEST_F(ContactDecide, DoesNotMakeANewContactPrimaryAfterThePrimaryWasRemoved) {
  const contact_id first = add("First");
  run(remove_contact{first});
  ASSERT_TRUE(customer.primary_contact.empty());
  auto events = decide(customer, add_contact{customer.id, object{{"name", "Second"}}}, env);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(ContactDecide, AddRequiresAnExistingCustomer) {
  EXPECT_EQ(error_of(add_contact{customer_id{new_id()}, object{{"name", "X"}}}), errc::not_found);
  auto events = decide(customer_state{}, add_contact{customer.id, object{{"name", "X"}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::not_found);
}

TEST_F(ContactDecide, AddRejectsAnArchivedCustomer) {
  set_status(k_status_archived);
  auto events = decide(customer, add_contact{customer.id, object{{"name", "X"}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::conflict);
  EXPECT_EQ(events.error().detail, "customer is archived; reactivate it first");
}

TEST_F(ContactDecide, AddAcceptsAnInactiveCustomer) {
  set_status(k_status_inactive);
  EXPECT_TRUE(decide(customer, add_contact{customer.id, object{{"name", "X"}}}, env));
}

TEST_F(ContactDecide, AddRejectsInvalidFieldsWithoutUsingAnId) {
  const int ids_before = env.ids_issued;
  auto events = decide(customer,
                       add_contact{customer.id, object{{"name", "X"},
                                                       {"email", "not-an-email"},
                                                       {"roles", array{"boss"}},
                                                       {"site_id", "site-1"}}},
                       env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  std::vector<std::string> names;
  for (const auto& f : events.error().fields) names.push_back(f.field);
  EXPECT_EQ(names, (std::vector<std::string>{"roles", "email", "site_id"}));
  EXPECT_EQ(env.ids_issued, ids_before);
}

TEST_F(ContactDecide, AddRejectsUnknownFieldsAsMalformed) {
  EXPECT_EQ(error_of(add_contact{customer.id, object{{"name", "X"}, {"is_primary", true}}}),
            errc::malformed);
  EXPECT_EQ(
      error_of(add_contact{customer.id, object{{"name", "X"}, {"notify", object{{"sms", true}}}}}),
      errc::malformed);
}

// ---- change -------------------------------------------------------------------------------

TEST_F(ContactDecide, ChangeEmitsTheDifferingFields) {
  const contact_id id = add("David");
  auto events = decide(
      customer,
      change_contact{
          id, object{{"name", "David Chen"}, {"title", nullptr}, {"roles", array{"billing"}}}},
      env);
  ASSERT_TRUE(events) << events.error().detail;
  ASSERT_EQ(events->size(), 1u);
  const event& e = events->front();
  EXPECT_EQ(e.type, event_types::contact_changed);
  EXPECT_EQ(e.entity_id, id.get());
  EXPECT_EQ(e.subject, "customers/" + customer.id.get() + "/contacts/" + id.get());
  EXPECT_EQ(e.version, entity_version{3});  // added (1), made primary (2)
  EXPECT_EQ(e.data, value(object{
                        {"changed", object{{"name", "David Chen"}, {"roles", array{"billing"}}}},
                        {"previous", object{{"name", "David"}, {"roles", nullptr}}},
                    }));
}

TEST_F(ContactDecide, ChangeThatSetsCurrentValuesEmitsNothing) {
  const contact_id id = add("David");
  auto events = decide(customer, change_contact{id, object{{"name", "David"}}}, env);
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST_F(ContactDecide, ChangeOfAnUnknownOrRemovedContactIsNotFound) {
  EXPECT_EQ(error_of(change_contact{contact_id{new_id()}, object{{"name", "X"}}}), errc::not_found);
  const contact_id id = add("David");
  run(remove_contact{id});
  EXPECT_EQ(error_of(change_contact{id, object{{"name", "X"}}}), errc::not_found);
}

TEST_F(ContactDecide, IfMatchComparesTheContactVersion) {
  const contact_id id = add("David");
  add("Eve");
  ASSERT_EQ(customer.version, entity_version{1});
  ASSERT_EQ(customer.find_contact(id.get())->version, entity_version{2});
  EXPECT_EQ(error_of(change_contact{id, object{{"name", "X"}}, entity_version{1}}),
            errc::precondition_failed);
  EXPECT_EQ(error_of(remove_contact{id, entity_version{1}}), errc::precondition_failed);
  EXPECT_EQ(
      error_of(make_primary_contact{contact_id{fake_decide_env::id_for(3)}, entity_version{2}}),
      errc::precondition_failed);
  EXPECT_TRUE(decide(customer, change_contact{id, object{{"name", "X"}}, entity_version{2}}, env));
}

TEST_F(ContactDecide, ChangeRejectsUnknownKeysAndInvalidValues) {
  const contact_id id = add("David");
  EXPECT_EQ(error_of(change_contact{id, object{{"customer_id", new_id()}}}), errc::malformed);
  auto events = decide(customer, change_contact{id, object{{"name", nullptr}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  EXPECT_EQ(events.error().fields.at(0).field, "name");
}

TEST_F(ContactDecide, MergesNotificationPreferences) {
  const contact_id id = add("David");
  run(change_contact{id, object{{"notify", object{{"work_orders", true}}}}});
  auto events =
      decide(customer, change_contact{id, object{{"notify", object{{"invoices", true}}}}}, env);
  ASSERT_TRUE(events);
  EXPECT_EQ(*events->front().data.find("changed"),
            value(object{{"notify", object{{"invoices", true}, {"work_orders", true}}}}));
}

TEST_F(ContactDecide, ContactCommandsRejectAnArchivedCustomer) {
  const contact_id id = add("David");
  const contact_id other = add("Eve");
  set_status(k_status_archived);
  EXPECT_EQ(error_of(change_contact{id, object{{"name", "X"}}}), errc::conflict);
  EXPECT_EQ(error_of(remove_contact{id}), errc::conflict);
  EXPECT_EQ(error_of(make_primary_contact{other}), errc::conflict);
}

// ---- remove -------------------------------------------------------------------------------

TEST_F(ContactDecide, RemoveKeepsTheNameInTheEvent) {
  const contact_id id = add("David Chen");
  auto events = decide(customer, remove_contact{id, entity_version{2}}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, event_types::contact_removed);
  EXPECT_EQ(events->front().version, entity_version{3});
  EXPECT_EQ(events->front().data, value(object{{"name", "David Chen"}}));
}

TEST_F(ContactDecide, RemovingThePrimaryLeavesNoPrimary) {
  const contact_id id = add("David");
  add("Eve");
  run(remove_contact{id});
  EXPECT_TRUE(customer.primary_contact.empty());
}

TEST_F(ContactDecide, RemoveOfAnUnknownOrRemovedContactIsNotFound) {
  EXPECT_EQ(error_of(remove_contact{contact_id{new_id()}}), errc::not_found);
  const contact_id id = add("David");
  run(remove_contact{id});
  EXPECT_EQ(error_of(remove_contact{id}), errc::not_found);
}

// ---- make primary -------------------------------------------------------------------------

TEST_F(ContactDecide, MakePrimaryNamesThePreviousPrimary) {
  const contact_id first = add("David");
  const contact_id second = add("Eve");
  auto events = decide(customer, make_primary_contact{second}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  const event& e = events->front();
  EXPECT_EQ(e.type, event_types::contact_primary_designated);
  EXPECT_EQ(e.entity_id, second.get());
  EXPECT_EQ(e.version, entity_version{2});
  EXPECT_EQ(e.data, value(object{{"previous_contact_id", first.get()}}));
  apply_events(customer, *events);
  EXPECT_EQ(customer.primary_contact, second.get());
  EXPECT_EQ(customer.find_contact(first.get())->version, entity_version{2}) << "unchanged";
}

TEST_F(ContactDecide, MakePrimaryOfThePrimaryChangesNothing) {
  const contact_id id = add("David");
  auto events = decide(customer, make_primary_contact{id}, env);
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST_F(ContactDecide, MakePrimaryAfterThePrimaryWasRemovedHasNoPrevious) {
  const contact_id first = add("David");
  const contact_id second = add("Eve");
  run(remove_contact{first});
  auto events = decide(customer, make_primary_contact{second}, env);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().data, value(object{{"previous_contact_id", nullptr}}));
}

TEST_F(ContactDecide, MakePrimaryOfAnUnknownOrRemovedContactIsNotFound) {
  EXPECT_EQ(error_of(make_primary_contact{contact_id{new_id()}}), errc::not_found);
  add("David");
  const contact_id second = add("Eve");
  run(remove_contact{second});
  EXPECT_EQ(error_of(make_primary_contact{second}), errc::not_found);
}

TEST_F(ContactDecide, ContactOfAnotherCustomerIsNotFound) {
  const contact_id id = add("David");
  customer_state other;
  apply_events(other, *decide(other, register_customer{object{{"name", "Other"}}}, env));
  auto events = decide(other, change_contact{id, object{{"name", "X"}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::not_found);
}

}  // namespace
}  // namespace fieldledger::domain

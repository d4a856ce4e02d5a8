#include <gtest/gtest.h>

#include "domain/customer.hpp"

namespace fieldledger::domain {
namespace {

const customer_id k_customer{"0190b2a4-8c1e-7b3a-9f00-000000000001"};
const std::string k_contact = "0190b2a4-8c1e-7b3a-9f00-000000000002";
const std::string k_other_contact = "0190b2a4-8c1e-7b3a-9f00-000000000003";

event make(std::string_view type, std::string entity, std::int64_t version, value data,
           std::string time = "2026-03-01T10:00:00.000Z", std::string actor = "ops") {
  event e;
  e.type = std::string(type);
  e.customer = k_customer;
  e.entity_id = std::move(entity);
  e.version = entity_version{version};
  e.data = std::move(data);
  e.time = std::move(time);
  e.actor = std::move(actor);
  return e;
}

class CustomerEvolve : public ::testing::Test {
 protected:
  customer_state state;

  void SetUp() override {
    evolve(state, make(event_types::customer_registered, k_customer.get(), 1,
                       object{{"number", "C-000007"}, {"fields", object{{"name", "Acme"}}}},
                       "2026-01-01T00:00:00.000Z", "importer"));
  }

  void add_contact(const std::string& id, std::string name) {
    evolve(state, make(event_types::contact_added, id, 1,
                       object{{"fields", object{{"name", std::move(name)}}}}));
  }
};

TEST_F(CustomerEvolve, RegisteredCreatesAnActiveCustomer) {
  EXPECT_TRUE(state.exists());
  EXPECT_EQ(state.id, k_customer);
  EXPECT_EQ(state.version, entity_version{1});
  EXPECT_EQ(state.number, "C-000007");
  EXPECT_EQ(state.status, k_status_active);
  EXPECT_EQ(state.fields, value(object{{"name", "Acme"}}));
  const audit_stamp stamp{"2026-01-01T00:00:00.000Z", "importer"};
  EXPECT_EQ(state.created, stamp);
  EXPECT_EQ(state.modified, stamp);
}

TEST_F(CustomerEvolve, DetailsChangedSetsAndRemovesFields) {
  evolve(state, make(event_types::customer_details_changed, k_customer.get(), 2,
                     object{{"changed", object{{"name", "Acme Inc"}, {"area", "north"}}},
                            {"previous", object{{"name", "Acme"}, {"area", nullptr}}}}));
  EXPECT_EQ(state.fields, value(object{{"name", "Acme Inc"}, {"area", "north"}}));
  evolve(state, make(event_types::customer_details_changed, k_customer.get(), 3,
                     object{{"changed", object{{"area", nullptr}}},
                            {"previous", object{{"area", "north"}}}},
                     "2026-03-02T00:00:00.000Z", "clerk"));
  EXPECT_EQ(state.fields, value(object{{"name", "Acme Inc"}}));
  EXPECT_EQ(state.version, entity_version{3});
  EXPECT_EQ(state.modified, (audit_stamp{"2026-03-02T00:00:00.000Z", "clerk"}));
  EXPECT_EQ(state.created, (audit_stamp{"2026-01-01T00:00:00.000Z", "importer"}));
}

TEST_F(CustomerEvolve, StatusEventsSetTheStatus) {
  struct step {
    std::string_view type, status;
  };
  const step steps[] = {{event_types::customer_deactivated, k_status_inactive},
                        {event_types::customer_archived, k_status_archived},
                        {event_types::customer_reactivated, k_status_active}};
  std::int64_t version = 1;
  for (const auto& s : steps) {
    evolve(state, make(s.type, k_customer.get(), ++version, object{{"previous_status", "x"}}));
    EXPECT_EQ(state.status, s.status);
    EXPECT_EQ(state.version, entity_version{version});
    EXPECT_EQ(state.modified.by, "ops");
  }
}

TEST_F(CustomerEvolve, ContactAddedCreatesTheContactWithoutTouchingTheCustomer) {
  const customer_state before = state;
  add_contact(k_contact, "David");
  const contact_state* c = state.find_contact(k_contact);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id, contact_id{k_contact});
  EXPECT_EQ(c->version, entity_version{1});
  EXPECT_EQ(c->fields, value(object{{"name", "David"}}));
  EXPECT_FALSE(c->removed);
  EXPECT_EQ(c->created, (audit_stamp{"2026-03-01T10:00:00.000Z", "ops"}));
  EXPECT_EQ(c->modified, c->created);
  EXPECT_EQ(state.version, before.version);
  EXPECT_EQ(state.modified, before.modified);
  EXPECT_TRUE(state.primary_contact.empty());
}

TEST_F(CustomerEvolve, PrimaryDesignatedSetsThePrimaryAndBumpsTheContact) {
  add_contact(k_contact, "David");
  evolve(state, make(event_types::contact_primary_designated, k_contact, 2,
                     object{{"previous_contact_id", nullptr}}, "2026-03-05T00:00:00.000Z"));
  EXPECT_EQ(state.primary_contact, k_contact);
  EXPECT_EQ(state.find_contact(k_contact)->version, entity_version{2});
  EXPECT_EQ(state.find_contact(k_contact)->modified.at, "2026-03-05T00:00:00.000Z");
  EXPECT_EQ(state.version, entity_version{1});
}

TEST_F(CustomerEvolve, ContactChangedAppliesTheChanges) {
  add_contact(k_contact, "David");
  evolve(state, make(event_types::contact_changed, k_contact, 2,
                     object{{"changed", object{{"title", "Manager"}}},
                            {"previous", object{{"title", nullptr}}}},
                     "2026-04-01T00:00:00.000Z", "clerk"));
  const contact_state* c = state.find_contact(k_contact);
  EXPECT_EQ(c->fields, value(object{{"name", "David"}, {"title", "Manager"}}));
  EXPECT_EQ(c->version, entity_version{2});
  EXPECT_EQ(c->modified, (audit_stamp{"2026-04-01T00:00:00.000Z", "clerk"}));
  EXPECT_EQ(c->created.by, "ops");
}

TEST_F(CustomerEvolve, ContactRemovedKeepsTheContactAndClearsThePrimary) {
  add_contact(k_contact, "David");
  add_contact(k_other_contact, "Eve");
  evolve(state, make(event_types::contact_primary_designated, k_contact, 2,
                     object{{"previous_contact_id", nullptr}}));
  evolve(state, make(event_types::contact_removed, k_other_contact, 2, object{{"name", "Eve"}}));
  EXPECT_EQ(state.primary_contact, k_contact) << "removing another contact keeps the primary";
  evolve(state, make(event_types::contact_removed, k_contact, 3, object{{"name", "David"}}));
  EXPECT_TRUE(state.primary_contact.empty());
  const contact_state* c = state.find_contact(k_contact);
  ASSERT_NE(c, nullptr) << "removed contacts stay in the state";
  EXPECT_TRUE(c->removed);
  EXPECT_EQ(c->version, entity_version{3});
  EXPECT_EQ(c->fields.string_at("name"), "David");
}

TEST_F(CustomerEvolve, IgnoresUnknownEventTypes) {
  const customer_state before = state;
  evolve(state, make("gadget.added", "x", 9, object{{"name", "Depot"}}));
  evolve(state, make("", "", 0, value{}));
  EXPECT_EQ(state, before);
}

TEST_F(CustomerEvolve, IgnoresContactEventsOfUnknownContacts) {
  const customer_state before = state;
  evolve(state, make(event_types::contact_changed, k_contact, 2,
                     object{{"changed", object{{"title", "x"}}}}));
  evolve(state, make(event_types::contact_primary_designated, k_contact, 2, object{}));
  evolve(state, make(event_types::contact_removed, k_contact, 2, object{}));
  EXPECT_EQ(state, before);
}

TEST_F(CustomerEvolve, ToleratesEventsWithoutTheExpectedData) {
  customer_state fresh;
  evolve(fresh, make(event_types::customer_registered, k_customer.get(), 1, value{}));
  EXPECT_EQ(fresh.fields, value(object{}));
  evolve(fresh, make(event_types::customer_details_changed, k_customer.get(), 2, "junk"));
  EXPECT_EQ(fresh.fields, value(object{}));
  EXPECT_EQ(fresh.version, entity_version{2});
}

TEST_F(CustomerEvolve, FindContactReturnsNullForAnUnknownId) {
  EXPECT_EQ(state.find_contact(k_contact), nullptr);
  EXPECT_EQ(customer_state{}.find_contact(""), nullptr);
}

}  // namespace
}  // namespace fieldledger::domain

#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

class CustomerDecide : public ::testing::Test {
 protected:
  fake_decide_env env;

  // A customer registered with body, evolved from its events; the env knows it exists.
  customer_state registered(value body = object{{"name", "Acme"}}) {
    auto events = decide(customer_state{}, register_customer{std::move(body)}, env);
    EXPECT_TRUE(events) << events.error().detail;
    customer_state state;
    apply_events(state, *events);
    env.customers.insert(state.id);
    if (const value* ext = state.fields.find("external_id")) {
      env.external_ids.emplace(ext->as_string(), state.id);
    }
    return state;
  }

  customer_state with_status(std::string_view status) {
    customer_state state = registered();
    if (status == k_status_inactive) {
      apply_events(state, *decide(state, deactivate_customer{state.id}, env));
    } else if (status == k_status_archived) {
      apply_events(state, *decide(state, archive_customer{state.id}, env));
    }
    return state;
  }

  result<std::vector<event>> change(const customer_state& state, value patch,
                                    std::optional<entity_version> if_match = std::nullopt) {
    return decide(state, change_customer{state.id, std::move(patch), if_match}, env);
  }
};

// ---- register -----------------------------------------------------------------------------

TEST_F(CustomerDecide, RegistersACustomerWithANewIdAndNumber) {
  auto events =
      decide(customer_state{}, register_customer{object{{"name", "Acme"}, {"area", nullptr}}}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  const event& e = events->front();
  const std::string id = fake_decide_env::id_for(1);
  EXPECT_EQ(e.type, event_types::customer_registered);
  EXPECT_EQ(e.customer, customer_id{id});
  EXPECT_EQ(e.entity_id, id);
  EXPECT_EQ(e.subject, "customers/" + id);
  EXPECT_EQ(e.version, entity_version{1});
  EXPECT_EQ(e.data, value(object{{"number", "C-000001"}, {"fields", object{{"name", "Acme"}}}}));
  EXPECT_TRUE(e.id.empty()) << "the pipeline stamps event ids";
}

TEST_F(CustomerDecide, RegistersEveryCustomerField) {
  const value body = object{
      {"name", "Acme Holdings"},
      {"dba_name", "Acme"},
      {"type", "commercial"},
      {"industry", "HVAC"},
      {"category", "gold"},
      {"service_zone", "north"},
      {"area", "Springfield"},
      {"billing_address", object{{"street", "1 Main St"}, {"country", "US"}}},
      {"shipping_address", object{{"city", "Springfield"}, {"lat", 39.8}, {"lng", -89.6}}},
      {"phone1", "+1 555 0100"},
      {"phone2", "555-0101"},
      {"fax", "555.0102"},
      {"email", "ap@acme.example"},
      {"website", "https://acme.example"},
      {"tax_id", "12-3456789"},
      {"payment_term", "net 30"},
      {"external_id", "ERP-1"},
      {"description", "Head office.\nTwo buildings."},
      {"employees", 250},
  };
  auto events = decide(customer_state{}, register_customer{body}, env);
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(*events->front().data.find("fields"), body);
}

TEST_F(CustomerDecide, RejectsInvalidFieldsWithoutUsingIdsOrNumbers) {
  auto events =
      decide(customer_state{}, register_customer{object{{"email", "x"}, {"employees", 1.5}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  EXPECT_EQ(events.error().fields.size(), 3u);  // name, email, employees
  EXPECT_EQ(env.ids_issued, 0);
  EXPECT_EQ(env.numbers_issued, 0);
}

TEST_F(CustomerDecide, RejectsUnknownFieldsAsMalformed) {
  auto events =
      decide(customer_state{}, register_customer{object{{"name", "A"}, {"colour", "red"}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::malformed);
  EXPECT_EQ(events.error().fields.at(0).field, "colour");
}

TEST_F(CustomerDecide, RejectsAMissingName) {
  auto events = decide(customer_state{}, register_customer{object{{"name", ""}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  EXPECT_EQ(events.error().fields.at(0).field, "name");
}

TEST_F(CustomerDecide, RejectsAnUnknownParent) {
  auto events = decide(customer_state{},
                       register_customer{object{{"name", "Branch"}, {"parent_id", new_id()}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  ASSERT_EQ(events.error().fields.size(), 1u);
  EXPECT_EQ(events.error().fields[0].field, "parent_id");
  EXPECT_EQ(env.ids_issued, 0);
}

TEST_F(CustomerDecide, RegistersABranchOfAnExistingParent) {
  const customer_state parent = registered();
  auto events =
      decide(customer_state{},
             register_customer{object{{"name", "Branch"}, {"parent_id", parent.id.get()}}}, env);
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(events->front().data.find("fields")->string_at("parent_id"), parent.id.get());
  EXPECT_EQ(events->front().data.string_at("number"), "C-000002");
}

TEST_F(CustomerDecide, RejectsTakenExternalId) {
  const customer_state holder = registered(object{{"name", "A"}, {"external_id", "ERP-1"}});
  auto events = decide(customer_state{},
                       register_customer{object{{"name", "B"}, {"external_id", "ERP-1"}}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::conflict);
  EXPECT_EQ(events.error().conflicting_id, holder.id.get());
  ASSERT_EQ(events.error().fields.size(), 1u);
  EXPECT_EQ(events.error().fields[0].field, "external_id");
  EXPECT_EQ(env.ids_issued, 1);  // only the holder's
}

// ---- change -------------------------------------------------------------------------------

TEST_F(CustomerDecide, ChangeOfAnUnknownCustomerIsNotFound) {
  auto events = decide(customer_state{}, change_customer{customer_id{new_id()}, object{}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::not_found);
  const customer_state other = registered();
  events = decide(other, change_customer{customer_id{new_id()}, object{}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::not_found);
}

TEST_F(CustomerDecide, RejectsAStaleIfMatch) {
  const customer_state state = registered();
  auto events = change(state, object{{"area", "north"}}, entity_version{2});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::precondition_failed);
  EXPECT_TRUE(change(state, object{{"area", "north"}}, entity_version{1}));
}

TEST_F(CustomerDecide, RejectsChangesToAnArchivedCustomer) {
  const customer_state state = with_status(k_status_archived);
  auto events = change(state, object{{"area", "north"}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::conflict);
  EXPECT_EQ(events.error().detail, "customer is archived; reactivate it first");
}

TEST_F(CustomerDecide, AcceptsChangesToAnInactiveCustomer) {
  EXPECT_TRUE(change(with_status(k_status_inactive), object{{"area", "north"}}));
}

TEST_F(CustomerDecide, RejectsUnknownPatchKeysAsMalformed) {
  auto events = change(registered(), object{{"colour", "red"}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::malformed);
  EXPECT_EQ(events.error().fields.at(0).field, "colour");
  events = change(registered(), array{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::malformed);
}

TEST_F(CustomerDecide, RejectsUnknownAddressKeysInAPatch) {
  auto events = change(registered(), object{{"billing_address", object{{"zip", "1"}}}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::malformed);
  EXPECT_EQ(events.error().fields.at(0).field, "billing_address.zip");
}

TEST_F(CustomerDecide, EmitsOnlyTheFieldsThatDiffer) {
  const customer_state state =
      registered(object{{"name", "Acme"}, {"area", "south"}, {"tax_id", "T-1"}});
  auto events = change(
      state,
      object{{"name", "Acme"}, {"area", "north"}, {"tax_id", nullptr}, {"industry", "HVAC"}});
  ASSERT_TRUE(events) << events.error().detail;
  ASSERT_EQ(events->size(), 1u);
  const event& e = events->front();
  EXPECT_EQ(e.type, event_types::customer_details_changed);
  EXPECT_EQ(e.entity_id, state.id.get());
  EXPECT_EQ(e.subject, "customers/" + state.id.get());
  EXPECT_EQ(e.version, entity_version{2});
  EXPECT_EQ(e.data,
            value(object{
                {"changed", object{{"area", "north"}, {"tax_id", nullptr}, {"industry", "HVAC"}}},
                {"previous", object{{"area", "south"}, {"tax_id", "T-1"}, {"industry", nullptr}}},
            }));
}

TEST_F(CustomerDecide, EmitsNothingForAPatchThatChangesNothing) {
  const customer_state state = registered(object{{"name", "Acme"}, {"area", "south"}});
  auto events = change(state, object{{"area", "south"}, {"tax_id", nullptr}});
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  events = change(state, object{});
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST_F(CustomerDecide, MergesNestedAddressPatches) {
  const customer_state state = registered(
      object{{"name", "Acme"}, {"billing_address", object{{"street", "1 Main"}, {"city", "A"}}}});
  auto events =
      change(state, object{{"billing_address", object{{"city", "B"}, {"street", nullptr}}}});
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(*events->front().data.find("changed"),
            value(object{{"billing_address", object{{"city", "B"}}}}));
  EXPECT_EQ(*events->front().data.find("previous"),
            value(object{{"billing_address", object{{"street", "1 Main"}, {"city", "A"}}}}));
}

TEST_F(CustomerDecide, ValidatesTheMergedFields) {
  const customer_state state =
      registered(object{{"name", "Acme"}, {"billing_address", object{{"lat", 1}, {"lng", 2}}}});
  auto events =
      change(state, object{{"name", nullptr}, {"billing_address", object{{"lng", nullptr}}}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  ASSERT_EQ(events.error().fields.size(), 2u);
  EXPECT_EQ(events.error().fields[0].field, "name");
  EXPECT_EQ(events.error().fields[1].field, "billing_address.lng");
}

TEST_F(CustomerDecide, RejectsItselfAsParent) {
  const customer_state state = registered();
  auto events = change(state, object{{"parent_id", state.id.get()}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  EXPECT_EQ(events.error().fields.at(0).field, "parent_id");
}

TEST_F(CustomerDecide, RejectsAnUnknownParentInAPatch) {
  auto events = change(registered(), object{{"parent_id", new_id()}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::invalid);
  EXPECT_EQ(events.error().fields.at(0).field, "parent_id");
}

TEST_F(CustomerDecide, AcceptsAnExistingParentInAPatch) {
  const customer_state parent = registered();
  auto events = change(registered(), object{{"parent_id", parent.id.get()}});
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(CustomerDecide, RejectsTheExternalIdOfAnotherCustomerInAPatch) {
  const customer_state holder = registered(object{{"name", "A"}, {"external_id", "ERP-1"}});
  auto events = change(registered(), object{{"external_id", "ERP-1"}});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::conflict);
  EXPECT_EQ(events.error().conflicting_id, holder.id.get());
  EXPECT_EQ(events.error().fields.at(0).field, "external_id");
}

TEST_F(CustomerDecide, KeepsItsOwnExternalIdThroughOtherChanges) {
  const customer_state state = registered(object{{"name", "A"}, {"external_id", "ERP-1"}});
  auto events = change(state, object{{"name", "B"}, {"external_id", "ERP-1"}});
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(CustomerDecide, BumpsTheVersionOnEachChange) {
  customer_state state = registered();
  apply_events(state, *change(state, object{{"area", "a"}}));
  auto events = change(state, object{{"area", "b"}}, entity_version{2});
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().version, entity_version{3});
}

// ---- status transitions --------------------------------------------------------------------

TEST_F(CustomerDecide, DeactivatesAnActiveCustomer) {
  const customer_state state = registered();
  auto events = decide(state, deactivate_customer{state.id, entity_version{1}}, env);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, event_types::customer_deactivated);
  EXPECT_EQ(events->front().version, entity_version{2});
  EXPECT_EQ(events->front().data, value(object{{"previous_status", "active"}}));
}

TEST_F(CustomerDecide, ReactivatesAnInactiveOrArchivedCustomer) {
  for (auto status : {k_status_inactive, k_status_archived}) {
    const customer_state state = with_status(status);
    auto events = decide(state, reactivate_customer{state.id}, env);
    ASSERT_TRUE(events) << status;
    EXPECT_EQ(events->front().type, event_types::customer_reactivated);
    EXPECT_EQ(events->front().data, value(object{{"previous_status", status}}));
  }
}

TEST_F(CustomerDecide, ArchivesAnActiveOrInactiveCustomer) {
  for (auto status : {k_status_active, k_status_inactive}) {
    const customer_state state = with_status(status);
    auto events = decide(state, archive_customer{state.id}, env);
    ASSERT_TRUE(events) << status;
    EXPECT_EQ(events->front().type, event_types::customer_archived);
    EXPECT_EQ(events->front().data, value(object{{"previous_status", status}}));
  }
}

TEST_F(CustomerDecide, RejectsATransitionFromTheWrongStatusNamingTheCurrentOne) {
  struct test_case {
    std::string_view status;
    command (*make)(customer_id);
  };
  const test_case cases[] = {
      {k_status_inactive, [](customer_id id) -> command { return deactivate_customer{id}; }},
      {k_status_archived, [](customer_id id) -> command { return deactivate_customer{id}; }},
      {k_status_active, [](customer_id id) -> command { return reactivate_customer{id}; }},
      {k_status_archived, [](customer_id id) -> command { return archive_customer{id}; }},
  };
  for (const auto& c : cases) {
    const customer_state state = with_status(c.status);
    const command cmd = c.make(state.id);
    auto events = decide(state, cmd, env);
    ASSERT_FALSE(events) << c.status;
    EXPECT_EQ(events.error().code, errc::conflict);
    EXPECT_NE(events.error().detail.find(std::string("it is ") + std::string(c.status)),
              std::string::npos)
        << events.error().detail;
  }
}

TEST_F(CustomerDecide, TransitionsRequireAnExistingCustomerAndMatchingVersion) {
  auto events = decide(customer_state{}, archive_customer{customer_id{new_id()}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::not_found);
  const customer_state state = registered();
  events = decide(state, deactivate_customer{state.id, entity_version{7}}, env);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, errc::precondition_failed);
}

}  // namespace
}  // namespace fieldledger::domain

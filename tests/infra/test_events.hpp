#pragma once
// Shared by the event-log tests: an event of a customer, as the write side would append it.
#include "domain/event.hpp"
#include "domain/ids.hpp"

namespace fieldledger::infra::test_events {

// The customer's registration (version 1) or a change of its details (later versions), with a
// payload of every JSON kind, so that a read back shows any loss in encoding.
inline domain::event make_event(const std::string& customer, std::int64_t version) {
  using namespace fieldledger::domain;
  event e;
  e.id = new_id();
  e.type = std::string(version == 1 ? event_types::customer_registered
                                    : event_types::customer_details_changed);
  e.customer = customer_id{customer};
  e.entity_id = customer;
  e.subject = "customers/" + customer;
  e.version = entity_version{version};
  e.time = now_rfc3339();
  e.actor = "contract";
  e.correlation_id = new_id();
  e.data = object{{"version", version},
                  {"name", "Customer " + customer.substr(0, 8)},
                  {"nested", object{{"list", array{1, 2.5, "x", nullptr, true}}}}};
  return e;
}

}  // namespace fieldledger::infra::test_events

#pragma once
// A decide_env for tests: deterministic ids and numbers, uniqueness facts set by the test,
// and counters that show whether decide() asked for new ids.
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "domain/customer.hpp"

namespace fieldledger::domain::test_support {

class fake_decide_env final : public decide_env {
 public:
  std::map<std::string, customer_id, std::less<>> external_ids;
  std::set<customer_id> customers;
  std::map<std::string, std::string, std::less<>> serials;  // serial -> asset id
  std::map<customer_id, customer_id> parents;
  int ids_issued = 0;
  int numbers_issued = 0;
  int work_orders_issued = 0;

  std::optional<customer_id> external_id_owner(std::string_view external_id) const override {
    auto it = external_ids.find(external_id);
    if (it == external_ids.end()) return std::nullopt;
    return it->second;
  }
  bool customer_exists(const customer_id& id) const override { return customers.contains(id); }
  std::optional<std::string> serial_owner(std::string_view serial) const override {
    auto it = serials.find(serial);
    if (it == serials.end()) return std::nullopt;
    return it->second;
  }
  std::optional<customer_id> parent_of(const customer_id& id) const override {
    auto it = parents.find(id);
    if (it == parents.end()) return std::nullopt;
    return it->second;
  }
  std::string new_entity_id() override { return id_for(++ids_issued); }
  std::string next_customer_number() override {
    char buf[16];
    std::snprintf(buf, sizeof buf, "C-%06d", ++numbers_issued);
    return buf;
  }
  std::map<std::string, picklist_state, std::less<>> picklists;
  const picklist_state* picklist(std::string_view name) const override {
    auto it = picklists.find(name);
    return it == picklists.end() ? nullptr : &it->second;
  }
  std::string next_work_order_number() override {
    char buf[16];
    std::snprintf(buf, sizeof buf, "WO-%06d", ++work_orders_issued);
    return buf;
  }

  // The id that the n-th call of new_entity_id() returns (1-based); a valid id shape.
  static std::string id_for(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-7000-8000-%012x", n);
    return buf;
  }
};

// Applies events as the pipeline would after stamping them.
inline void apply_events(customer_state& state, const std::vector<event>& events,
                         const std::string& time = "2026-01-01T00:00:00.000Z",
                         const std::string& actor = "tester") {
  for (auto e : events) {
    e.time = time;
    e.actor = actor;
    evolve(state, e);
  }
}

// Decides cmd and applies its events; the test fails when the decision does.
inline std::vector<event> decide_and_apply(customer_state& state, const command& cmd,
                                           decide_env& env) {
  auto events = decide(state, cmd, env);
  if (!events) return {};
  apply_events(state, *events);
  return *events;
}

}  // namespace fieldledger::domain::test_support

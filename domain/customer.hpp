#pragma once
// The customer aggregate: a customer and the contacts it owns. Commands about either are
// decided against one customer_state; all their events go to the customer's partition.
//
// Event payloads (the `data` of each event):
//   customer.registered        {"number": "C-000001", "fields": {...validated customer fields}}
//   customer.details-changed   {"changed": {field: new value or null}, "previous": {field: old or null}}
//   customer.deactivated | reactivated | archived   {"previous_status": "active"}
//   contact.added              {"fields": {...validated contact fields}}
//   contact.changed            {"changed": {...}, "previous": {...}}
//   contact.removed            {"name": "David Chen"}   (the name stays in history)
//   contact.primary-designated {"previous_contact_id": "<id>" | null}
// Versions: customer events bump the customer's version; contact events bump that contact's.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/schema.hpp"

namespace fieldledger::domain {

std::span<const field_spec> customer_fields();
std::span<const field_spec> contact_fields();

// Customer status values.
inline constexpr std::string_view k_status_active = "active";
inline constexpr std::string_view k_status_inactive = "inactive";
inline constexpr std::string_view k_status_archived = "archived";

struct audit_stamp {
  std::string at;  // RFC 3339
  std::string by;  // actor
  friend bool operator==(const audit_stamp&, const audit_stamp&) = default;
};

struct contact_state {
  contact_id id;
  entity_version version{0};
  value fields{object{}};  // validated contact fields
  bool removed = false;
  audit_stamp created, modified;
  friend bool operator==(const contact_state&, const contact_state&) = default;
};

struct customer_state {
  customer_id id;
  entity_version version{0};  // 0: does not exist
  std::string number;
  std::string status;         // k_status_*
  value fields{object{}};     // validated customer fields
  std::map<std::string, contact_state, std::less<>> contacts;  // by contact id, removed ones too
  std::string primary_contact;  // contact id, "" when none
  audit_stamp created, modified;

  bool exists() const noexcept { return version.get() > 0; }
  const contact_state* find_contact(std::string_view id) const;
  friend bool operator==(const customer_state&, const customer_state&) = default;
};

// ---- commands --------------------------------------------------------------------------
struct register_customer { value body; };
struct change_customer { customer_id id; value patch; std::optional<entity_version> if_match; };
struct deactivate_customer { customer_id id; std::optional<entity_version> if_match; };
struct reactivate_customer { customer_id id; std::optional<entity_version> if_match; };
struct archive_customer { customer_id id; std::optional<entity_version> if_match; };
struct add_contact { customer_id customer; value body; };
struct change_contact { contact_id id; value patch; std::optional<entity_version> if_match; };
struct remove_contact { contact_id id; std::optional<entity_version> if_match; };
struct make_primary_contact { contact_id id; std::optional<entity_version> if_match; };

using command = std::variant<register_customer, change_customer, deactivate_customer,
                             reactivate_customer, archive_customer, add_contact, change_contact,
                             remove_contact, make_primary_contact>;

// Facts beyond one customer that a decision needs; the write model provides them.
class decide_env {
 public:
  virtual ~decide_env() = default;
  // The customer holding this external id, if any.
  virtual std::optional<customer_id> external_id_owner(std::string_view external_id) const = 0;
  virtual bool customer_exists(const customer_id& id) const = 0;
  // Ids and numbers for new entities (so that decide stays deterministic under test).
  virtual std::string new_entity_id() = 0;
  virtual std::string next_customer_number() = 0;  // "C-000001", ...
};

// Decides a command against the state of the customer it addresses (an empty state for
// register_customer). Returns the events to append, with type, customer, entity_id, subject,
// version and data set; the pipeline stamps id, time, actor and correlation. Returns an empty
// vector when the command changes nothing (a patch that sets what is already there).
// Errors: invalid/malformed fields, not_found (unknown contact or customer), conflict
// (external id taken, archived customer, wrong status for the transition), precondition_failed
// (if_match differs from the addressed entity's version).
[[nodiscard]] result<std::vector<event>> decide(const customer_state& state, const command& cmd,
                                                decide_env& env);

// Applies one event of this customer to its state. Events must come in log order.
void evolve(customer_state& state, const event& e);

}  // namespace fieldledger::domain

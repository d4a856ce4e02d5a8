#pragma once
// Systems (seed 004): an admin defines system types (a name and typed fields, e.g. "Access
// control" with ip_address: ipv4, login: string, password: secret) and assigns them to a
// customer, optionally at one of its sites, with values checked against the type.
//
// Event payloads (see domain/customer.hpp for the others):
//   system-type.created     {"fields": {"name", "fields": [{"key","type","required"[,"choices"]}]}}
//                           (customer = k_system_types, entity = type id)
//   system-type.changed     {"changed", "previous"} over "name" and "fields"
//   system.assigned         {"type_id", "site_id"?, "values": {key: value}}
//   system.changed          {"changed": {key: new or null}, "previous": {key: old or null}}
//   system.removed          {"type_id"}
//   system.secret-revealed  {"keys": [the secret fields an admin was shown]}
// A secret value is never in an event as plaintext: it is {"sealed": "<base64>"} (sealed by
// decide_env::seal, bound to the system id and the field key). Ordinary reads show it as
// {"set": true}. System events are keyed by the owning customer and bump the system's version.
//
// A type's fields can be added and renamed (the type's name), never removed or retyped: every
// value ever stored keeps a definition, so a secret stays a secret.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "domain/value.hpp"

namespace fieldledger::domain {

// The system type catalogue is not owned by a customer: its events are keyed by this pseudo
// customer id (one partition, one total order), like the product catalogue.
inline constexpr std::string_view k_system_types = "system-types";

using system_type_id = named_type<std::string, struct system_type_id_tag>;
using system_id = named_type<std::string, struct system_id_tag>;

// The field types a system type may declare.
inline constexpr std::string_view k_system_field_types[] = {
    "string", "text", "int", "decimal", "bool", "date", "ipv4", "url", "secret", "choice"};

inline constexpr std::size_t k_max_system_fields = 100;
inline constexpr std::size_t k_max_secret_bytes = 1024;

// ---- commands ------------------------------------------------------------------------------
struct create_system_type {
  value body;  // {"name", "fields": [...]}
};
struct change_system_type {
  system_type_id id;
  value patch;  // merge patch of {"name", "fields"}; "fields" replaces the list
  std::optional<entity_version> if_match;
};
struct assign_system {
  customer_id customer;
  value body;  // {"type_id", "site_id"?, "values": {...}}
};
struct change_system {
  system_id id;
  value patch;  // {"values": {key: value or null}}: a merge patch of the values
  std::optional<entity_version> if_match;
};
struct remove_system {
  system_id id;
  std::optional<entity_version> if_match;
};
struct reveal_system_secrets {
  system_id id;
  std::vector<std::string> keys;  // the secret fields to show; empty: every one that is set
};

// ---- validation (pure) ---------------------------------------------------------------------

// A system type definition in its normal form: {"name", "fields": [{"key", "type",
// "required": bool, "choices"?}]}. Errors name the member: "name", "fields[2].type", …
[[nodiscard]] result<value> validate_system_type(const value& body);

// Values checked against a type definition (normal form). complete: an assignment (every
// required field present; nulls dropped); otherwise a merge patch (null removes an optional
// value). Every error names "values.<key>" and is errc::invalid (unknown keys too).
[[nodiscard]] result<value> validate_system_values(const value& type, const value& values,
                                                   bool complete);

bool is_valid_ipv4(std::string_view s);  // dotted quad, 0-255, no leading zeros

// A secret as events and the write model keep it: {"sealed": "<base64>"}.
bool is_sealed(const value& v);
// A value as ordinary reads show it: a sealed secret becomes {"set": true}.
value masked(const value& v);

}  // namespace fieldledger::domain

#pragma once
// What a valid field value is, declared once per entity as a table of field specs.
// Request validation (api/) and decisions (decide) both go through validate_fields().
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/value.hpp"

namespace fieldledger::domain {

enum class field_kind {
  string,     // single-line text, no control characters
  text,       // multi-line text (newlines and tabs allowed)
  email,      // local@domain.tld
  url,        // http:// or https:// URL
  phone,      // digits with + ( ) - . space and x; at least 3 digits
  id,         // an id made by new_id()
  integer,    // whole number within [min, max]
  address,    // {street, city, state, postcode, country (ISO 3166-1 alpha-2), lat, lng}
  role_list,  // array of distinct contact roles
  notify,     // {work_orders, quote_approvals, completions, invoices}: booleans
  date,       // a calendar date, YYYY-MM-DD
  choice,     // one of field_spec::choices
  boolean,    // true or false
};

struct field_spec {
  std::string_view name;
  field_kind kind;
  bool required = false;
  std::size_t max_length = 200;                    // for string-like kinds, in bytes
  std::int64_t min = 0;                            // for integer
  std::int64_t max = 0;                            // for integer
  std::span<const std::string_view> choices = {};  // for choice
};

// The contact role types of the seed.
inline constexpr std::string_view k_contact_roles[] = {
    "site_technical", "billing", "approval_authority", "service_requester", "emergency"};

// Checks a complete field set (an object) against specs:
// - a member not in specs              -> errc::malformed, field named ("unknown field")
// - a required member missing or null  -> errc::invalid
// - a member of the wrong type / value -> errc::invalid, with every bad field listed
// Null members of optional fields are accepted (they mean "absent").
// On success returns the object with null members dropped (the normal form that is stored).
[[nodiscard]] result<value> validate_fields(std::span<const field_spec> specs, const value& fields,
                                            std::string_view prefix = {});

// Checks that every key of a merge patch names a field (unknown -> errc::malformed).
[[nodiscard]] result<void> check_patch_keys(std::span<const field_spec> specs, const value& patch);

// Checks a merge patch of a valid field set (before: what validate_fields returned) and returns
// what it changes: {"changed": {member: its normal form, null when removed}, "previous":
// {member: as it was, null when absent}}, or nullopt when it changes nothing. Only the members
// the patch names are checked and copied, so a patch of one field of a large record costs
// that field alone; the answer (and every error, in the same order) is that of
// validate_fields(merge_patch(before, patch)) compared with before.
[[nodiscard]] result<std::optional<value>> validate_patch(std::span<const field_spec> specs,
                                                          const value& before, const value& patch);

bool is_valid_email(std::string_view s);
bool is_valid_country(std::string_view s);  // ISO 3166-1 alpha-2, upper case
bool is_valid_date(std::string_view s);     // YYYY-MM-DD, a day that exists

}  // namespace fieldledger::domain

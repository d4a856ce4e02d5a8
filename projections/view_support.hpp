#pragma once
// Internal to the views: the document helpers they share.
#include <string_view>

#include "domain/event.hpp"
#include "projections/view.hpp"

namespace fieldledger::projections::support {

// The document at key, or null when there is none; internal error when it is corrupt.
domain::result<domain::value> load(batch& b, std::string_view key);
// Sets version and modified_at/by (and created_at/by when created) from e.
void stamp(domain::object& doc, const domain::event& e, bool created);
// Applies the "changed" member of a change event (null removes the member).
void apply_changed(domain::object& doc, const domain::value& data);
// A new owned-entity document from an added/registered event: its "fields", "id",
// "customer_id" and the stamps of creation.
domain::object new_doc(const domain::event& e);
// Adds delta to the integer member counts.<name> of doc.
void bump_count(domain::object& doc, std::string_view name, std::int64_t delta);
// The string member name of doc, "" when absent or not a string (no copy of doc).
std::string_view string_of(const domain::object& doc, std::string_view name);

}  // namespace fieldledger::projections::support

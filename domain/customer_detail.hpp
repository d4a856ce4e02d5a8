#pragma once
// Internal to domain/customer.cpp and domain/contact.cpp: the pieces both halves of the
// customer aggregate share. Not part of the domain's public interface.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.hpp"

namespace fieldledger::domain::detail {

// A decision of one event. Not `std::vector{e}`: an initializer list is copied from, and an
// event's copy is its ten strings and its payload tree again.
inline std::vector<event> single(event e) {
  std::vector<event> out;
  out.push_back(std::move(e));
  return out;
}

// An event of the customer `state` about `entity`, with the fields decide() is to set.
event make_event(std::string_view type, const customer_id& customer, std::string entity_id,
                 std::string subject, entity_version version, value data);

std::string customer_subject(const customer_id& id);
std::string contact_subject(const customer_id& customer, std::string_view contact);

// precondition_failed when if_match is given and differs from current.
[[nodiscard]] result<void> check_if_match(const std::optional<entity_version>& if_match,
                                          entity_version current, std::string_view what);

// {"changed": {f: new or null}, "previous": {f: old or null}} over the top-level fields that
// differ, or nullopt when none does.
std::optional<value> field_changes(const value& before, const value& after);

// Applies the "changed" member of a change event to fields (null removes the field).
void apply_changes(value& fields, const value& data);

// conflict: an archived customer accepts no change until it is reactivated.
[[nodiscard]] result<void> check_not_archived(const customer_state& state);

// not_found: "no <what> with id "<id>"".
std::unexpected<error> not_found(std::string_view what, std::string_view id);
// The customer a new entity is added to: it exists (not_found) and is not archived (conflict).
[[nodiscard]] result<void> check_owner(const customer_state& state, const customer_id& id);

result<std::vector<event>> decide_contact(const customer_state& state, const add_contact& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_contact(const customer_state& state, const change_contact& cmd);
result<std::vector<event>> decide_contact(const customer_state& state, const remove_contact& cmd);
result<std::vector<event>> decide_contact(const customer_state& state,
                                          const make_primary_contact& cmd);

// Applies a contact.* event; returns false when e is not a contact event.
bool evolve_contact(customer_state& state, const event& e);

std::string owned_subject(const customer_id& customer, std::string_view kind, std::string_view id);

result<std::vector<event>> decide_equipment(const customer_state& state, const add_site& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const change_site& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const remove_site& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const register_asset& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const change_asset& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const move_asset& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const retire_asset& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const add_part& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const change_part& cmd,
                                            decide_env& env);
result<std::vector<event>> decide_equipment(const customer_state& state, const remove_part& cmd,
                                            decide_env& env);

result<std::vector<event>> decide_product(const create_product& cmd, decide_env& env);
result<std::vector<event>> decide_product(const change_product& cmd, decide_env& env);

// Applies a site.*, asset.* or part.* event; returns false for other events.
bool evolve_equipment(customer_state& state, const event& e);

// Notes and work orders (domain/service.cpp).
result<std::vector<event>> decide_service(const customer_state& state, const add_note& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_service(const customer_state& state, const change_note& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_service(const customer_state& state, const remove_note& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_service(const customer_state& state, const create_work_order& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_service(const customer_state& state, const move_work_order& cmd,
                                          decide_env& env);
result<std::vector<event>> decide_picklist(const change_picklist& cmd, decide_env& env);
// invalid, naming the field, when a field governed by a picklist ("customer", "site", "asset",
// "product") takes a value that is not a live value of its list. Only fields whose value
// changes from before to after are checked, so retired values stay on old records. after may
// be the whole field set after a change or only its changed members (a removed one null).
[[nodiscard]] result<void> check_picklists(std::string_view entity, const value& before,
                                           const value& after, const decide_env& env);

// Applies a note.* or work-order.* event; returns false for other events.
bool evolve_service(customer_state& state, const event& e);
// ---- systems (domain/system.cpp)
result<std::vector<event>> decide_system(const create_system_type& cmd, decide_env& env);
result<std::vector<event>> decide_system(const change_system_type& cmd, decide_env& env);
result<std::vector<event>> decide_system(const customer_state& state, const assign_system& cmd,
                                         decide_env& env);
result<std::vector<event>> decide_system(const customer_state& state, const change_system& cmd,
                                         decide_env& env);
result<std::vector<event>> decide_system(const customer_state& state, const remove_system& cmd);
result<std::vector<event>> decide_system(const customer_state& state,
                                         const reveal_system_secrets& cmd, decide_env& env);
// Applies a system.* event; returns false for other events.
bool evolve_system(customer_state& state, const event& e);
// files (domain/file.cpp)
result<std::vector<event>> decide_file(const customer_state& state, const attach_file& cmd,
                                       decide_env& env);
result<std::vector<event>> decide_file(const customer_state& state, const remove_file& cmd);
// Applies a file.* event; returns false for other events.
bool evolve_file(customer_state& state, const event& e);
// ---- geofences (domain/geofence.cpp) ----
result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const set_customer_geofence& cmd);
result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const clear_customer_geofence& cmd);
result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const set_site_geofence& cmd);
result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const clear_site_geofence& cmd);
// Applies a *.geofence-* event to state.geofences. Returns true when the event is fully
// applied (a customer's: its version too); false for other events and for a site's, whose
// version evolve_equipment() then bumps like that of any site.* event.
bool evolve_geofence(customer_state& state, const event& e);

}  // namespace fieldledger::domain::detail

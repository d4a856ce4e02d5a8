// Geofences of a customer and of its sites: set (validated by domain/geo.cpp) and cleared.
#include "domain/geofence.hpp"

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"
#include "domain/geo.hpp"

namespace fieldledger::domain::detail {

namespace {

namespace et = event_types;

const value* current_geofence(const customer_state& state, std::string_view owner) {
  auto it = state.geofences.find(owner);
  return it == state.geofences.end() ? nullptr : &it->second;
}

value change_data(value after, const value* before) {
  return object{{"changed", object{{"geofence", std::move(after)}}},
                {"previous", object{{"geofence", before != nullptr ? *before : value{}}}}};
}

// The customer, addressed and at the expected version, not archived.
result<void> check_customer(const customer_state& state, const customer_id& id,
                            const std::optional<entity_version>& if_match) {
  if (!state.exists() || state.id != id) {
    return fail(errc::not_found, "no customer with id \"" + id.get() + "\"");
  }
  if (auto ok = check_if_match(if_match, state.version, "customer"); !ok) return ok;
  return check_not_archived(state);
}

// The live site of this customer, at the expected version.
result<const owned_state*> check_site(const customer_state& state, const site_id& id,
                                      const std::optional<entity_version>& if_match) {
  const owned_state* site = state.exists() ? state.live_site(id.get()) : nullptr;
  if (site == nullptr) return fail(errc::not_found, "no site with id \"" + id.get() + "\"");
  if (auto ok = check_if_match(if_match, site->version, "site"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return site;
}

event customer_geofence_event(const customer_state& state, std::string_view type, value data) {
  return make_event(type, state.id, state.id.get(), customer_subject(state.id),
                    entity_version{state.version.get() + 1}, std::move(data));
}

event site_geofence_event(const customer_state& state, const owned_state& site,
                          std::string_view type, value data) {
  return make_event(type, state.id, site.id.get(), owned_subject(state.id, "sites", site.id.get()),
                    entity_version{site.version.get() + 1}, std::move(data));
}

}  // namespace

result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const set_customer_geofence& cmd) {
  if (auto ok = check_customer(state, cmd.id, cmd.if_match); !ok) {
    return std::unexpected(ok.error());
  }
  auto normal = geo::validate_geofence(cmd.body);
  if (!normal) return std::unexpected(std::move(normal.error()));
  const value* before = current_geofence(state, cmd.id.get());
  if (before != nullptr && *before == *normal) return std::vector<event>{};
  return detail::single(customer_geofence_event(state, et::customer_geofence_set,
                                                change_data(std::move(*normal), before)));
}

result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const clear_customer_geofence& cmd) {
  if (auto ok = check_customer(state, cmd.id, cmd.if_match); !ok) {
    return std::unexpected(ok.error());
  }
  const value* before = current_geofence(state, cmd.id.get());
  if (before == nullptr) return std::vector<event>{};  // nothing to clear
  return detail::single(
      customer_geofence_event(state, et::customer_geofence_cleared, change_data({}, before)));
}

result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const set_site_geofence& cmd) {
  auto site = check_site(state, cmd.id, cmd.if_match);
  if (!site) return std::unexpected(site.error());
  auto normal = geo::validate_geofence(cmd.body);
  if (!normal) return std::unexpected(std::move(normal.error()));
  const value* before = current_geofence(state, cmd.id.get());
  if (before != nullptr && *before == *normal) return std::vector<event>{};
  return detail::single(site_geofence_event(state, **site, et::site_geofence_set,
                                            change_data(std::move(*normal), before)));
}

result<std::vector<event>> decide_geofence(const customer_state& state,
                                           const clear_site_geofence& cmd) {
  auto site = check_site(state, cmd.id, cmd.if_match);
  if (!site) return std::unexpected(site.error());
  const value* before = current_geofence(state, cmd.id.get());
  if (before == nullptr) return std::vector<event>{};
  return detail::single(
      site_geofence_event(state, **site, et::site_geofence_cleared, change_data({}, before)));
}

bool evolve_geofence(customer_state& state, const event& e) {
  const bool set = e.type == et::customer_geofence_set || e.type == et::site_geofence_set;
  const bool cleared =
      e.type == et::customer_geofence_cleared || e.type == et::site_geofence_cleared;
  if (!set && !cleared) return false;
  const value* changed = e.data.find("changed");
  const value* g = changed != nullptr ? changed->find("geofence") : nullptr;
  if (set && g != nullptr && g->is_object()) {
    state.geofences.insert_or_assign(e.entity_id, *g);
  } else {
    state.geofences.erase(e.entity_id);
  }
  if (e.type.starts_with("site.")) return false;  // evolve_equipment() keeps the site's version
  state.version = e.version;
  state.modified = audit_stamp{e.time, e.actor};
  return true;
}

}  // namespace fieldledger::domain::detail

#include "domain/customer.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "domain/customer_detail.hpp"

namespace fieldledger::domain {

namespace {

constexpr std::array k_customer_fields = {
    field_spec{.name = "name", .kind = field_kind::string, .required = true},
    field_spec{.name = "dba_name", .kind = field_kind::string},
    field_spec{.name = "parent_id", .kind = field_kind::id},
    field_spec{.name = "type", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "industry", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "category", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "service_zone", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "area", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "billing_address", .kind = field_kind::address},
    field_spec{.name = "shipping_address", .kind = field_kind::address},
    field_spec{.name = "phone1", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "phone2", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "fax", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "email", .kind = field_kind::email, .max_length = 254},
    field_spec{.name = "website", .kind = field_kind::url, .max_length = 2000},
    field_spec{.name = "tax_id", .kind = field_kind::string, .max_length = 50},
    field_spec{.name = "payment_term", .kind = field_kind::string, .max_length = 50},
    field_spec{.name = "external_id", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "description", .kind = field_kind::text, .max_length = 4000},
    field_spec{.name = "employees", .kind = field_kind::integer, .min = 0, .max = 10'000'000},
};

constexpr std::array k_contact_fields = {
    field_spec{.name = "name", .kind = field_kind::string, .required = true},
    field_spec{.name = "title", .kind = field_kind::string},
    field_spec{.name = "roles", .kind = field_kind::role_list},
    field_spec{.name = "phone", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "mobile", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "email", .kind = field_kind::email, .max_length = 254},
    field_spec{.name = "site_id", .kind = field_kind::id},
    field_spec{.name = "notify", .kind = field_kind::notify},
    field_spec{.name = "notes", .kind = field_kind::text, .max_length = 4000},
};

constexpr std::array k_site_fields = {
    field_spec{.name = "name", .kind = field_kind::string, .required = true},
    field_spec{.name = "code", .kind = field_kind::string, .max_length = 50},
    field_spec{.name = "address", .kind = field_kind::address},
    field_spec{.name = "phone", .kind = field_kind::phone, .max_length = 40},
    field_spec{.name = "email", .kind = field_kind::email, .max_length = 254},
    field_spec{.name = "site_contact_id", .kind = field_kind::id},
    field_spec{.name = "service_zone", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "notes", .kind = field_kind::text, .max_length = 4000},
};

constexpr std::string_view k_asset_statuses[] = {"in_service", "out_of_service", "in_repair",
                                                 "retired"};

constexpr std::array k_asset_fields = {
    field_spec{.name = "site_id", .kind = field_kind::id, .required = true},
    field_spec{.name = "serial_no", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "product_code", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "brand", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "model", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "description", .kind = field_kind::text, .max_length = 4000},
    field_spec{.name = "product_class", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "install_date", .kind = field_kind::date},
    field_spec{.name = "warranty_end", .kind = field_kind::date},
    field_spec{.name = "cost_centre", .kind = field_kind::string, .max_length = 50},
    field_spec{.name = "status", .kind = field_kind::choice, .choices = k_asset_statuses},
};

constexpr std::array k_part_fields = {
    field_spec{.name = "name", .kind = field_kind::string, .required = true},
    field_spec{.name = "part_number", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "serial_no", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "install_date", .kind = field_kind::date},
    field_spec{.name = "notes", .kind = field_kind::text, .max_length = 4000},
};

constexpr std::array k_product_fields = {
    field_spec{.name = "code", .kind = field_kind::string, .required = true, .max_length = 100},
    field_spec{.name = "brand", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "model", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "description", .kind = field_kind::text, .max_length = 4000},
    field_spec{.name = "product_class", .kind = field_kind::string, .max_length = 100},
};

std::unexpected<error> customer_not_found(const customer_id& id) {
  return fail(errc::not_found, "no customer with id \"" + id.get() + "\"");
}

// The addressed customer, checked to exist and to be at the expected version.
result<void> check_addressed(const customer_state& state, const customer_id& id,
                             const std::optional<entity_version>& if_match) {
  if (!state.exists() || state.id != id) return customer_not_found(id);
  return detail::check_if_match(if_match, state.version, "customer");
}

// The parent must be another, existing customer (fields may be a change: null is no parent).
result<void> check_parent(const value& fields, const customer_id& self, const decide_env& env) {
  const value* parent = fields.find("parent_id");
  if (parent == nullptr || parent->is_null()) return {};
  const customer_id parent_id{parent->as_string()};
  if (parent_id == self) {
    return fail(errc::invalid, "a customer cannot be its own parent",
                {{"parent_id", "must name another customer"}});
  }
  if (!env.customer_exists(parent_id)) {
    return fail(errc::invalid, "the parent customer does not exist",
                {{"parent_id", "no customer with id \"" + parent_id.get() + "\""}});
  }
  // No cycles: walking up from the new parent must not come back to this customer.
  std::optional<customer_id> up = parent_id;
  for (int depth = 0; up && depth < 10'000; ++depth) {
    if (!self.get().empty() && *up == self) {
      return fail(errc::invalid, "the customer would become its own ancestor",
                  {{"parent_id", "customer \"" + parent_id.get() +
                                     "\" is below this customer in the hierarchy"}});
    }
    up = env.parent_of(*up);
  }
  return {};
}

// The external id must not be held by another customer (null: none).
result<void> check_external_id(const value& fields, const customer_id& self,
                               const decide_env& env) {
  const value* ext = fields.find("external_id");
  if (ext == nullptr || ext->is_null()) return {};
  const auto owner = env.external_id_owner(ext->as_string());
  if (!owner || *owner == self) return {};
  error e{errc::conflict,
          "external id \"" + ext->as_string() + "\" is already used by another customer",
          {{"external_id", "is already used by customer \"" + owner->get() + "\""}},
          owner->get()};
  return std::unexpected(std::move(e));
}

event customer_event(const customer_state& state, std::string_view type, value data) {
  return detail::make_event(type, state.id, state.id.get(), detail::customer_subject(state.id),
                            entity_version{state.version.get() + 1}, std::move(data));
}

result<std::vector<event>> decide_register(const register_customer& cmd, decide_env& env) {
  auto fields = validate_fields(customer_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  // A new customer has no id yet, so it cannot be its own parent or own its external id.
  if (auto ok = check_parent(*fields, customer_id{}, env); !ok) return std::unexpected(ok.error());
  if (auto ok = check_external_id(*fields, customer_id{}, env); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = detail::check_picklists("customer", value(object{}), *fields, env); !ok) {
    return std::unexpected(ok.error());
  }
  const customer_id id{env.new_entity_id()};
  object data{{"number", env.next_customer_number()}, {"fields", std::move(*fields)}};
  return detail::single(detail::make_event(event_types::customer_registered, id, id.get(),
                                           detail::customer_subject(id), entity_version{1},
                                           std::move(data)));
}

// Only the fields that change are checked against other customers, so that a patch of an
// unrelated field never fails on a fact that was accepted before.
result<void> check_changed_references(const customer_state& state, const value& changed,
                                      const decide_env& env) {
  if (auto ok = check_parent(changed, state.id, env); !ok) return ok;
  return check_external_id(changed, state.id, env);
}

result<std::vector<event>> decide_change(const customer_state& state, const change_customer& cmd,
                                         decide_env& env) {
  if (auto ok = check_addressed(state, cmd.id, cmd.if_match); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = detail::check_not_archived(state); !ok) return std::unexpected(ok.error());
  auto changes = validate_patch(customer_fields(), state.fields, cmd.patch);
  if (!changes) return std::unexpected(std::move(changes.error()));
  if (!*changes) return std::vector<event>{};
  // What changed, as the members of the fields after the patch that differ from before: enough
  // for the checks below, which look at changed members alone.
  const value& changed = *(*changes)->find("changed");
  if (auto ok = check_changed_references(state, changed, env); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = detail::check_picklists("customer", state.fields, changed, env); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(
      customer_event(state, event_types::customer_details_changed, std::move(**changes)));
}

// A status transition: allowed only from the statuses in `from`.
result<std::vector<event>> decide_transition(const customer_state& state, const customer_id& id,
                                             const std::optional<entity_version>& if_match,
                                             std::initializer_list<std::string_view> from,
                                             std::string_view type, std::string_view verb) {
  if (auto ok = check_addressed(state, id, if_match); !ok) return std::unexpected(ok.error());
  if (std::find(from.begin(), from.end(), state.status) == from.end()) {
    return fail(errc::conflict,
                "cannot " + std::string(verb) + " the customer: it is " + state.status);
  }
  return detail::single(customer_event(state, type, object{{"previous_status", state.status}}));
}

struct decider {
  const customer_state& state;
  decide_env& env;

  result<std::vector<event>> operator()(const register_customer& c) const {
    return decide_register(c, env);
  }
  result<std::vector<event>> operator()(const change_customer& c) const {
    return decide_change(state, c, env);
  }
  result<std::vector<event>> operator()(const deactivate_customer& c) const {
    return decide_transition(state, c.id, c.if_match, {k_status_active},
                             event_types::customer_deactivated, "deactivate");
  }
  result<std::vector<event>> operator()(const reactivate_customer& c) const {
    return decide_transition(state, c.id, c.if_match, {k_status_inactive, k_status_archived},
                             event_types::customer_reactivated, "reactivate");
  }
  result<std::vector<event>> operator()(const archive_customer& c) const {
    return decide_transition(state, c.id, c.if_match, {k_status_active, k_status_inactive},
                             event_types::customer_archived, "archive");
  }
  result<std::vector<event>> operator()(const add_contact& c) const {
    return detail::decide_contact(state, c, env);
  }
  result<std::vector<event>> operator()(const change_contact& c) const {
    return detail::decide_contact(state, c);
  }
  result<std::vector<event>> operator()(const remove_contact& c) const {
    return detail::decide_contact(state, c);
  }
  result<std::vector<event>> operator()(const make_primary_contact& c) const {
    return detail::decide_contact(state, c);
  }
  result<std::vector<event>> operator()(const create_product& c) const {
    return detail::decide_product(c, env);
  }
  result<std::vector<event>> operator()(const change_product& c) const {
    return detail::decide_product(c, env);
  }
  // notes and work orders
  result<std::vector<event>> operator()(const add_note& c) const {
    return detail::decide_service(state, c, env);
  }
  result<std::vector<event>> operator()(const change_note& c) const {
    return detail::decide_service(state, c, env);
  }
  result<std::vector<event>> operator()(const remove_note& c) const {
    return detail::decide_service(state, c, env);
  }
  result<std::vector<event>> operator()(const create_work_order& c) const {
    return detail::decide_service(state, c, env);
  }
  result<std::vector<event>> operator()(const move_work_order& c) const {
    return detail::decide_service(state, c, env);
  }
  result<std::vector<event>> operator()(const change_picklist& c) const {
    return detail::decide_picklist(c, env);
  }
  // systems (domain/system.cpp)
  result<std::vector<event>> operator()(const create_system_type& c) const {
    return detail::decide_system(c, env);
  }
  result<std::vector<event>> operator()(const change_system_type& c) const {
    return detail::decide_system(c, env);
  }
  result<std::vector<event>> operator()(const assign_system& c) const {
    return detail::decide_system(state, c, env);
  }
  result<std::vector<event>> operator()(const change_system& c) const {
    return detail::decide_system(state, c, env);
  }
  result<std::vector<event>> operator()(const remove_system& c) const {
    return detail::decide_system(state, c);
  }
  result<std::vector<event>> operator()(const reveal_system_secrets& c) const {
    return detail::decide_system(state, c, env);
  }
  // files
  result<std::vector<event>> operator()(const attach_file& c) const {
    return detail::decide_file(state, c, env);
  }
  result<std::vector<event>> operator()(const remove_file& c) const {
    return detail::decide_file(state, c);
  }
  // geofences
  result<std::vector<event>> operator()(const set_customer_geofence& c) const {
    return detail::decide_geofence(state, c);
  }
  result<std::vector<event>> operator()(const clear_customer_geofence& c) const {
    return detail::decide_geofence(state, c);
  }
  result<std::vector<event>> operator()(const set_site_geofence& c) const {
    return detail::decide_geofence(state, c);
  }
  result<std::vector<event>> operator()(const clear_site_geofence& c) const {
    return detail::decide_geofence(state, c);
  }
  template <typename equipment_command>
  result<std::vector<event>> operator()(const equipment_command& c) const {
    return detail::decide_equipment(state, c, env);
  }
};

// Applies a customer.* event; returns false when e is not a customer event.
bool evolve_customer(customer_state& state, const event& e) {
  const audit_stamp stamp{e.time, e.actor};
  if (e.type == event_types::customer_registered) {
    state.id = e.customer;
    state.number = std::string(e.data.string_at("number"));
    state.status = std::string(k_status_active);
    const value* fields = e.data.find("fields");
    state.fields = fields != nullptr ? *fields : value(object{});
    state.created = stamp;
  } else if (e.type == event_types::customer_details_changed) {
    detail::apply_changes(state.fields, e.data);
  } else if (e.type == event_types::customer_deactivated) {
    state.status = std::string(k_status_inactive);
  } else if (e.type == event_types::customer_reactivated) {
    state.status = std::string(k_status_active);
  } else if (e.type == event_types::customer_archived) {
    state.status = std::string(k_status_archived);
  } else {
    return false;
  }
  state.version = e.version;
  state.modified = stamp;
  return true;
}

}  // namespace

namespace detail {

std::unexpected<error> not_found(std::string_view what, std::string_view id) {
  return fail(errc::not_found, "no " + std::string(what) + " with id \"" + std::string(id) + "\"");
}

result<void> check_owner(const customer_state& state, const customer_id& id) {
  if (!state.exists() || state.id != id) return not_found("customer", id.get());
  return check_not_archived(state);
}

event make_event(std::string_view type, const customer_id& customer, std::string entity_id,
                 std::string subject, entity_version version, value data) {
  event e;
  e.type = std::string(type);
  e.customer = customer;
  e.entity_id = std::move(entity_id);
  e.subject = std::move(subject);
  e.version = version;
  e.data = std::move(data);
  return e;
}

std::string customer_subject(const customer_id& id) { return "customers/" + id.get(); }

std::string contact_subject(const customer_id& customer, std::string_view contact) {
  return customer_subject(customer) + "/contacts/" + std::string(contact);
}

result<void> check_if_match(const std::optional<entity_version>& if_match, entity_version current,
                            std::string_view what) {
  if (!if_match || *if_match == current) return {};
  return fail(
      errc::precondition_failed,
      "the " + std::string(what) + " is at version " + std::to_string(current.get()) + ", not " +
          std::to_string(if_match->get()) + "; read it again and retry",
      {{"If-Match", "stale: the current version is \"" + std::to_string(current.get()) + "\""}});
}

// Both objects' keys in order, walked side by side (objects are sorted maps): only the fields
// that differ are copied, a patch of one field of a large customer copies that field alone.
std::optional<value> field_changes(const value& before, const value& after) {
  static const object none;
  static const value null;
  const object& b = before.is_object() ? before.as_object() : none;
  const object& a = after.is_object() ? after.as_object() : none;
  object changed, previous;
  auto bi = b.begin();
  auto ai = a.begin();
  while (bi != b.end() || ai != a.end()) {
    const bool in_before = ai == a.end() || (bi != b.end() && bi->first <= ai->first);
    const bool in_after = bi == b.end() || (ai != a.end() && ai->first <= bi->first);
    const std::string& k = in_before ? bi->first : ai->first;
    const value& old_value = in_before ? bi->second : null;  // absent reads as null
    const value& new_value = in_after ? ai->second : null;
    if (!(old_value == new_value)) {
      changed.emplace(k, new_value);
      previous.emplace(k, old_value);
    }
    if (in_before) ++bi;
    if (in_after) ++ai;
  }
  if (changed.empty()) return std::nullopt;
  return value(object{{"changed", std::move(changed)}, {"previous", std::move(previous)}});
}

void apply_changes(value& fields, const value& data) {
  if (!fields.is_object()) fields = object{};
  const value* changed = data.find("changed");
  if (changed == nullptr || !changed->is_object()) return;
  auto& o = fields.as_object();
  for (const auto& [k, v] : changed->as_object()) {
    if (v.is_null()) {
      o.erase(k);
    } else {
      o.insert_or_assign(k, v);
    }
  }
}

result<void> check_not_archived(const customer_state& state) {
  if (state.status != k_status_archived) return {};
  return fail(errc::conflict, "customer is archived; reactivate it first");
}

}  // namespace detail

std::span<const field_spec> customer_fields() { return k_customer_fields; }
std::span<const field_spec> contact_fields() { return k_contact_fields; }
std::span<const field_spec> site_fields() { return k_site_fields; }
std::span<const field_spec> asset_fields() { return k_asset_fields; }
std::span<const field_spec> part_fields() { return k_part_fields; }
std::span<const field_spec> product_fields() { return k_product_fields; }

namespace {
const owned_state* live(const std::map<std::string, owned_state, std::less<>>& m,
                        std::string_view id) {
  auto it = m.find(id);
  return it == m.end() || it->second.removed ? nullptr : &it->second;
}
}  // namespace

const owned_state* customer_state::live_site(std::string_view id) const { return live(sites, id); }
const owned_state* customer_state::live_asset(std::string_view id) const {
  return live(assets, id);
}
const owned_state* customer_state::live_part(std::string_view id) const { return live(parts, id); }

const contact_state* customer_state::find_contact(std::string_view id) const {
  auto it = contacts.find(id);
  return it == contacts.end() ? nullptr : &it->second;
}

result<std::vector<event>> decide(const customer_state& state, const command& cmd,
                                  decide_env& env) {
  return std::visit(decider{state, env}, cmd);
}

void evolve(customer_state& state, const event& e) {
  // Geofence events ("site.geofence-set", …) before the equipment's "site.*".
  if (!evolve_customer(state, e) && !detail::evolve_contact(state, e) &&
      !detail::evolve_geofence(state, e) && !detail::evolve_equipment(state, e) &&
      !detail::evolve_service(state, e) && !detail::evolve_system(state, e)) {
    detail::evolve_file(state, e);  // files
  }
}

}  // namespace fieldledger::domain

// The equipment half of the customer aggregate: sites, the assets installed at them and the
// parts of those assets. All of them belong to one customer, so their events are keyed by it
// and decided against its state.
#include <algorithm>
#include <string>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"

namespace fieldledger::domain::detail {

namespace {

using owned_map = std::map<std::string, owned_state, std::less<>>;

// The addressed live entity of kind `what` in m, at the expected version.
result<const owned_state*> addressed(const customer_state& state, const owned_map& m,
                                     std::string_view what, std::string_view id,
                                     const std::optional<entity_version>& if_match) {
  auto it = state.exists() ? m.find(id) : m.end();
  if (it == m.end() || it->second.removed) return not_found(what, id);
  if (auto ok = check_if_match(if_match, it->second.version, what); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return &it->second;
}

event owned_event(const customer_state& state, std::string_view kind, const owned_state& o,
                  std::string_view type, value data) {
  return make_event(type, state.id, o.id.get(), owned_subject(state.id, kind, o.id.get()),
                    entity_version{o.version.get() + 1}, std::move(data));
}

event new_event(const customer_state& state, std::string_view kind, const std::string& id,
                std::string_view type, value data) {
  return make_event(type, state.id, id, owned_subject(state.id, kind, id), entity_version{1},
                    std::move(data));
}

// A field naming a contact must name a live contact of this customer.
result<void> check_site_contact(const customer_state& state, const value& fields) {
  const auto contact = fields.string_at("site_contact_id");
  if (contact.empty()) return {};
  const contact_state* c = state.find_contact(contact);
  if (c == nullptr || c->removed) {
    return fail(errc::invalid, "the site contact is not a contact of this customer",
                {{"site_contact_id",
                  "no contact \"" + std::string(contact) + "\" belongs to this customer"}});
  }
  return {};
}

result<void> check_site_of_customer(const customer_state& state, std::string_view site,
                                    std::string_view field) {
  if (state.live_site(site) != nullptr) return {};
  return fail(
      errc::invalid, "the site is not a site of this customer",
      {{std::string(field), "no site \"" + std::string(site) + "\" belongs to this customer"}});
}

// The serial number must not be held by another asset, of any customer.
result<void> check_serial(const value& fields, std::string_view self, const decide_env& env) {
  const auto serial = fields.string_at("serial_no");
  if (serial.empty()) return {};
  const auto owner = env.serial_owner(serial);
  if (!owner || *owner == self) return {};
  error e{errc::conflict,
          "serial number \"" + std::string(serial) + "\" is already registered",
          {{"serial_no", "is held by asset \"" + *owner + "\""}},
          *owner};
  return std::unexpected(std::move(e));
}

std::size_t live_assets_at(const customer_state& state, std::string_view site) {
  std::size_t n = 0;
  for (const auto& [id, a] : state.assets) {
    if (!a.removed && a.fields.string_at("site_id") == site) ++n;
  }
  return n;
}

// A patch of an owned entity: validated against specs; nullopt when nothing changes.
result<std::optional<value>> patch_changes(std::span<const field_spec> specs, const owned_state& o,
                                           const value& patch, value& after) {
  if (auto ok = check_patch_keys(specs, patch); !ok) return std::unexpected(ok.error());
  auto merged = validate_fields(specs, merge_patch(o.fields, patch));
  if (!merged) return std::unexpected(std::move(merged.error()));
  after = std::move(*merged);
  return field_changes(o.fields, after);
}

}  // namespace

std::string owned_subject(const customer_id& customer, std::string_view kind, std::string_view id) {
  return customer_subject(customer) + "/" + std::string(kind) + "/" + std::string(id);
}

// ---- sites -----------------------------------------------------------------------------------

result<std::vector<event>> decide_equipment(const customer_state& state, const add_site& cmd,
                                            decide_env& env) {
  if (auto ok = check_owner(state, cmd.customer); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(site_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  if (auto ok = check_site_contact(state, *fields); !ok) return std::unexpected(ok.error());
  if (auto ok = check_picklists("site", value(object{}), *fields, env); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(new_event(state, "sites", env.new_entity_id(), event_types::site_added,
                                  object{{"fields", std::move(*fields)}}));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const change_site& cmd,
                                            decide_env& env) {
  auto site = addressed(state, state.sites, "site", cmd.id.get(), cmd.if_match);
  if (!site) return std::unexpected(site.error());
  value after;
  auto changes = patch_changes(site_fields(), **site, cmd.patch, after);
  if (!changes) return std::unexpected(changes.error());
  if (!*changes) return std::vector<event>{};
  if (auto ok = check_site_contact(state, after); !ok) return std::unexpected(ok.error());
  if (auto ok = check_picklists("site", (*site)->fields, after, env); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(owned_event(state, "sites", **site, event_types::site_changed, **changes));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const remove_site& cmd,
                                            decide_env&) {
  auto site = addressed(state, state.sites, "site", cmd.id.get(), cmd.if_match);
  if (!site) return std::unexpected(site.error());
  if (const auto n = live_assets_at(state, cmd.id.get()); n > 0) {
    return fail(errc::conflict, "the site still has " + std::to_string(n) +
                                    (n == 1 ? " asset" : " assets") +
                                    ". Hint: move or retire them first.");
  }
  // systems: a system's site is a live site of its customer
  if (const auto n = std::ranges::count_if(
          state.systems,
          [&](const auto& s) {
            return !s.second.removed && s.second.fields.string_at("site_id") == cmd.id.get();
          });
      n > 0) {
    return fail(errc::conflict, "the site still has " + std::to_string(n) +
                                    (n == 1 ? " system" : " systems") +
                                    ". Hint: remove them first (DELETE /v1/systems/{id}).");
  }
  return detail::single(owned_event(state, "sites", **site, event_types::site_removed,
                                    object{{"name", (*site)->fields.string_at("name")}}));
}

// ---- assets ----------------------------------------------------------------------------------

result<std::vector<event>> decide_equipment(const customer_state& state, const register_asset& cmd,
                                            decide_env& env) {
  if (auto ok = check_owner(state, cmd.customer); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(asset_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  if (fields->string_at("status") == k_asset_retired) {
    return fail(errc::invalid, "a new asset cannot be retired",
                {{"status", "must be in_service, out_of_service or in_repair"}});
  }
  if (auto ok = check_site_of_customer(state, fields->string_at("site_id"), "site_id"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_serial(*fields, {}, env); !ok) return std::unexpected(ok.error());
  if (fields->find("status") == nullptr) fields->as_object()["status"] = k_asset_in_service;
  object data;
  // A known product code fills in what the request left out, and the event says what.
  if (const auto code = fields->string_at("product_code"); !code.empty()) {
    if (const owned_state* product = env.product(code)) {
      array filled;
      for (auto name : {"brand", "model", "description", "product_class"}) {
        const value* v = product->fields.find(name);
        if (v != nullptr && fields->find(name) == nullptr) {
          fields->as_object()[name] = *v;
          filled.emplace_back(name);
        }
      }
      if (!filled.empty()) data["filled_from_product"] = std::move(filled);
    }
  }
  if (auto ok = check_picklists("asset", value(object{}), *fields, env); !ok) {
    return std::unexpected(ok.error());
  }
  data["fields"] = std::move(*fields);
  return detail::single(new_event(state, "assets", env.new_entity_id(),
                                  event_types::asset_registered, std::move(data)));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const change_asset& cmd,
                                            decide_env& env) {
  auto asset = addressed(state, state.assets, "asset", cmd.id.get(), cmd.if_match);
  if (!asset) return std::unexpected(asset.error());
  if (const value* site = cmd.patch.find("site_id");
      site != nullptr &&
      !(site->is_string() && site->as_string() == (*asset)->fields.string_at("site_id"))) {
    return fail(errc::invalid, "an asset changes site by being moved",
                {{"site_id", "use POST /v1/assets/{id}/move"}});
  }
  if (const value* status = cmd.patch.find("status");
      status != nullptr && status->is_string() && status->as_string() == k_asset_retired) {
    return fail(errc::invalid, "an asset is retired with DELETE /v1/assets/{id}",
                {{"status", "must be in_service, out_of_service or in_repair"}});
  }
  value after;
  auto changes = patch_changes(asset_fields(), **asset, cmd.patch, after);
  if (!changes) return std::unexpected(changes.error());
  if (!*changes) return std::vector<event>{};
  if (auto ok = check_serial(after, cmd.id.get(), env); !ok) return std::unexpected(ok.error());
  if (auto ok = check_picklists("asset", (*asset)->fields, after, env); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(
      owned_event(state, "assets", **asset, event_types::asset_changed, **changes));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const move_asset& cmd,
                                            decide_env&) {
  auto asset = addressed(state, state.assets, "asset", cmd.id.get(), cmd.if_match);
  if (!asset) return std::unexpected(asset.error());
  if (!is_id(cmd.to.get())) {
    return fail(errc::invalid, "site_id must be an id", {{"site_id", "must be an id"}});
  }
  if (auto ok = check_site_of_customer(state, cmd.to.get(), "site_id"); !ok) {
    return std::unexpected(ok.error());
  }
  const auto from = (*asset)->fields.string_at("site_id");
  if (from == cmd.to.get()) return std::vector<event>{};
  return detail::single(owned_event(state, "assets", **asset, event_types::asset_moved,
                                    object{{"from_site_id", from}, {"to_site_id", cmd.to.get()}}));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const retire_asset& cmd,
                                            decide_env&) {
  auto asset = addressed(state, state.assets, "asset", cmd.id.get(), cmd.if_match);
  if (!asset) return std::unexpected(asset.error());
  return detail::single(
      owned_event(state, "assets", **asset, event_types::asset_retired,
                  object{{"previous_status", (*asset)->fields.string_at("status")}}));
}

// ---- parts -----------------------------------------------------------------------------------

result<std::vector<event>> decide_equipment(const customer_state& state, const add_part& cmd,
                                            decide_env& env) {
  const owned_state* asset = state.exists() ? state.live_asset(cmd.asset.get()) : nullptr;
  if (asset == nullptr) return not_found("asset", cmd.asset.get());
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(part_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  return detail::single(
      new_event(state, "parts", env.new_entity_id(), event_types::part_added,
                object{{"asset_id", cmd.asset.get()}, {"fields", std::move(*fields)}}));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const change_part& cmd,
                                            decide_env&) {
  auto part = addressed(state, state.parts, "asset part", cmd.id.get(), cmd.if_match);
  if (!part) return std::unexpected(part.error());
  value after;
  auto changes = patch_changes(part_fields(), **part, cmd.patch, after);
  if (!changes) return std::unexpected(changes.error());
  if (!*changes) return std::vector<event>{};
  return detail::single(owned_event(state, "parts", **part, event_types::part_changed, **changes));
}

result<std::vector<event>> decide_equipment(const customer_state& state, const remove_part& cmd,
                                            decide_env&) {
  auto part = addressed(state, state.parts, "asset part", cmd.id.get(), cmd.if_match);
  if (!part) return std::unexpected(part.error());
  return detail::single(owned_event(
      state, "parts", **part, event_types::part_removed,
      object{{"asset_id", (*part)->parent}, {"name", (*part)->fields.string_at("name")}}));
}

// ---- the product catalogue -------------------------------------------------------------------

result<std::vector<event>> decide_product(const create_product& cmd, decide_env& env) {
  auto fields = validate_fields(product_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  const std::string code(fields->string_at("code"));
  if (auto ok = check_picklists("product", value(object{}), *fields, env); !ok) {
    return std::unexpected(ok.error());
  }
  if (env.product(code) != nullptr) {
    error e{errc::conflict,
            "product \"" + code + "\" is already in the catalogue",
            {{"code", "is taken; change the product with PATCH /v1/products/{code}"}},
            code};
    return std::unexpected(std::move(e));
  }
  const customer_id catalogue{std::string(k_catalogue)};
  return detail::single(make_event(event_types::product_created, catalogue, code,
                                   "products/" + code, entity_version{1},
                                   object{{"fields", std::move(*fields)}}));
}

result<std::vector<event>> decide_product(const change_product& cmd, decide_env& env) {
  const owned_state* product = env.product(cmd.code);
  if (product == nullptr) {
    return fail(errc::not_found, "no product with code \"" + cmd.code + "\"");
  }
  if (auto ok = check_if_match(cmd.if_match, product->version, "product"); !ok) {
    return std::unexpected(ok.error());
  }
  if (const value* code = cmd.patch.find("code");
      code != nullptr && !(code->is_string() && code->as_string() == cmd.code)) {
    return fail(errc::invalid, "a product's code cannot change",
                {{"code", "create a product with the new code instead"}});
  }
  value after;
  auto changes = patch_changes(product_fields(), *product, cmd.patch, after);
  if (!changes) return std::unexpected(changes.error());
  if (!*changes) return std::vector<event>{};
  if (auto ok = check_picklists("product", product->fields, after, env); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(make_event(
      event_types::product_changed, customer_id{std::string(k_catalogue)}, cmd.code,
      "products/" + cmd.code, entity_version{product->version.get() + 1}, std::move(**changes)));
}

// ---- evolve ----------------------------------------------------------------------------------

bool evolve_equipment(customer_state& state, const event& e) {
  owned_map* m = nullptr;
  const auto& t = e.type;
  if (t.starts_with("site.")) {
    m = &state.sites;
  } else if (t.starts_with("asset.")) {
    m = &state.assets;
  } else if (t.starts_with("asset-part.")) {
    m = &state.parts;
  } else {
    return false;
  }
  const audit_stamp stamp{e.time, e.actor};
  if (t == event_types::site_added || t == event_types::asset_registered ||
      t == event_types::part_added) {
    owned_state o;
    o.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    o.fields = fields != nullptr ? *fields : value(object{});
    o.parent = e.data.string_at("asset_id");
    o.created = stamp;
    m->insert_or_assign(e.entity_id, std::move(o));
  }
  auto it = m->find(e.entity_id);
  if (it == m->end()) return true;  // an event of an unknown entity: ignored
  owned_state& o = it->second;
  if (t == event_types::site_changed || t == event_types::asset_changed ||
      t == event_types::part_changed) {
    apply_changes(o.fields, e.data);
  } else if (t == event_types::site_removed || t == event_types::part_removed) {
    o.removed = true;
  } else if (t == event_types::asset_moved) {
    o.fields.as_object()["site_id"] = e.data.string_at("to_site_id");
  } else if (t == event_types::asset_retired) {
    o.fields.as_object()["status"] = k_asset_retired;
    o.removed = true;
  }
  o.version = e.version;
  o.modified = stamp;
  return true;
}

}  // namespace fieldledger::domain::detail

namespace fieldledger::domain {

void evolve_product(owned_state& product, const event& e) {
  const audit_stamp stamp{e.time, e.actor};
  if (e.type == event_types::product_created) {
    product = owned_state{};
    product.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    product.fields = fields != nullptr ? *fields : value(object{});
    product.created = stamp;
  } else if (e.type == event_types::product_changed) {
    detail::apply_changes(product.fields, e.data);
  } else {
    return;
  }
  product.version = e.version;
  product.modified = stamp;
}

}  // namespace fieldledger::domain

// Views of the system type catalogue and of the systems assigned to customers and sites.
// Secrets reach them sealed; documents show them masked, the sealed form is kept apart (yz/).
#include "projections/system_views.hpp"

#include "domain/system.hpp"
#include "projections/keys.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;
using support::load;
using support::stamp;

namespace {

value change(std::string_view field, value before, value after) {
  return object{
      {"field", std::string(field)}, {"before", std::move(before)}, {"after", std::move(after)}};
}

class system_types_view final : public view {
 public:
  std::string_view name() const override { return "system-types"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("system-type.")) return {};
    const auto key = keys::key(k_system_type_prefix, e.entity_id);
    object d;
    if (e.type == et::system_type_created) {
      if (const value* f = e.data.find("fields"); f != nullptr && f->is_object()) {
        d = f->as_object();
      }
      d["id"] = e.entity_id;
      stamp(d, e, true);
    } else {
      auto doc = load(b, key);
      if (!doc) return std::unexpected(doc.error());
      if (doc->is_null()) return {};
      d = std::move(doc->as_object());
      support::apply_changed(d, e.data);
      stamp(d, e, false);
    }
    b.put(key, to_json(d));
    return {};
  }
};

class systems_view final : public view {
 public:
  std::string_view name() const override { return "systems"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("system.")) return {};
    const auto key = keys::key(k_system_prefix, e.entity_id);
    const auto sealed_key = keys::key(k_sealed_prefix, e.entity_id);
    const auto& customer = e.customer.get();
    if (e.type == et::system_assigned) {
      object d{{"id", e.entity_id},
               {"customer_id", customer},
               {"type_id", e.data.string_at("type_id")},
               {"site_id", value{}}};
      object values, sealed;
      if (const value* v = e.data.find("values"); v != nullptr && v->is_object()) {
        for (const auto& [k, x] : v->as_object()) {
          values.emplace(k, masked(x));
          if (is_sealed(x)) sealed.emplace(k, x.string_at("sealed"));
        }
      }
      d["values"] = std::move(values);
      if (const auto site = e.data.string_at("site_id"); !site.empty()) {
        d["site_id"] = site;
        b.put(keys::key(k_site_systems_prefix, site, e.entity_id), "");
      }
      stamp(d, e, true);
      b.put(key, to_json(d));
      b.put(sealed_key, to_json(sealed));
      b.put(keys::key(k_customer_systems_prefix, customer, e.entity_id), "");
      b.put(keys::key("ow/", e.entity_id), customer);  // the owner, for its history
      return {};
    }
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    if (doc->is_null()) return {};
    object& d = doc->as_object();
    if (e.type == et::system_changed) {
      auto sealed = load(b, sealed_key);
      if (!sealed) return std::unexpected(sealed.error());
      object& s = sealed->is_object() ? sealed->as_object() : (*sealed = object{}).as_object();
      value& values = d["values"];
      if (!values.is_object()) values = object{};
      const value* changed = e.data.find("changed");
      for (const auto& [k, x] :
           changed != nullptr && changed->is_object() ? changed->as_object() : object{}) {
        s.erase(k);
        if (x.is_null()) {
          values.as_object().erase(k);
          continue;
        }
        values.as_object().insert_or_assign(k, masked(x));
        if (is_sealed(x)) s.emplace(k, x.string_at("sealed"));
      }
      stamp(d, e, false);
      b.put(sealed_key, to_json(*sealed));
    } else if (e.type == et::system_removed) {
      b.del(key);
      b.del(sealed_key);
      b.del(keys::key(k_customer_systems_prefix, customer, e.entity_id));
      if (const auto site = doc->string_at("site_id"); !site.empty()) {
        b.del(keys::key(k_site_systems_prefix, site, e.entity_id));
      }
      return {};
    } else {  // system.secret-revealed: an audit fact; the system itself is unchanged
      d["version"] = e.version.get();
    }
    b.put(key, to_json(*doc));
    return {};
  }
};

}  // namespace

std::vector<std::unique_ptr<view>> make_system_views() {
  std::vector<std::unique_ptr<view>> out;
  out.push_back(std::make_unique<system_types_view>());
  out.push_back(std::make_unique<systems_view>());
  return out;
}

std::optional<array> system_changes(const event& e) {
  if (!e.type.starts_with("system.")) return std::nullopt;
  array out;
  const value& d = e.data;
  if (e.type == et::system_assigned) {
    out.push_back(change("type_id", value{}, d.string_at("type_id")));
    if (const auto site = d.string_at("site_id"); !site.empty()) {
      out.push_back(change("site_id", value{}, site));
    }
    if (const value* v = d.find("values"); v != nullptr && v->is_object()) {
      for (const auto& [k, x] : v->as_object()) out.push_back(change(k, value{}, masked(x)));
    }
  } else if (e.type == et::system_changed) {
    const value* changed = d.find("changed");
    const value* previous = d.find("previous");
    for (const auto& [k, x] :
         changed != nullptr && changed->is_object() ? changed->as_object() : object{}) {
      const value* before = previous != nullptr ? previous->find(k) : nullptr;
      out.push_back(change(k, before != nullptr ? masked(*before) : value{}, masked(x)));
    }
  } else if (e.type == et::system_removed) {
    out.push_back(change("type_id", d.string_at("type_id"), value{}));
  } else if (e.type == et::system_secret_revealed) {
    const value* keys = d.find("keys");
    out.push_back(change("revealed", value{}, keys != nullptr ? *keys : value(array{})));
  }
  return out;
}

}  // namespace fieldledger::projections

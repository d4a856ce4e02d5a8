// Picklists: admin-managed value lists for customer type, industry, category, service zone and
// asset product class. A list with no values yet accepts anything, so that a new installation
// works before an admin has set the lists up.
#include <algorithm>
#include <string>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"
#include "domain/geo.hpp"

namespace fieldledger::domain {

namespace detail {

namespace {

struct governed {
  std::string_view entity, field, list;
};

constexpr governed k_governed[] = {
    {"customer", "type", "customer_type"},         {"customer", "industry", "industry"},
    {"customer", "category", "category"},          {"customer", "service_zone", "service_zone"},
    {"site", "service_zone", "service_zone"},      {"asset", "product_class", "product_class"},
    {"product", "product_class", "product_class"},
};

constexpr field_spec k_value_fields[] = {
    field_spec{.name = "value", .kind = field_kind::string, .required = true, .max_length = 100},
};

}  // namespace

result<void> check_picklists(std::string_view entity, const value& before, const value& after,
                             const decide_env& env) {
  std::vector<field_error> bad;
  for (const auto& g : k_governed) {
    if (g.entity != entity) continue;
    const auto now = after.string_at(g.field);
    if (now.empty() || now == before.string_at(g.field)) continue;
    const picklist_state* list = env.picklist(g.list);
    if (list == nullptr || list->values.empty()) continue;
    auto it = list->values.find(now);
    if (it != list->values.end() && !it->second) continue;
    std::string allowed;
    for (const auto& [v, retired] : list->values) {
      if (!retired) allowed += (allowed.empty() ? "" : ", ") + v;
    }
    bad.push_back(
        {std::string(g.field),
         (it == list->values.end() ? "\"" + std::string(now) + "\" is not in the "
                                   : "\"" + std::string(now) + "\" is retired from the ") +
             std::string(g.list) + " picklist; allowed: " +
             (allowed.empty() ? "none (every value is retired)" : allowed)});
  }
  if (bad.empty()) return {};
  return fail(errc::invalid, "a value is not in its picklist", std::move(bad));
}

result<std::vector<event>> decide_picklist(const change_picklist& cmd, decide_env& env) {
  if (std::ranges::find(k_picklist_names, cmd.name) == std::end(k_picklist_names)) {
    return fail(errc::not_found, "no picklist named \"" + cmd.name +
                                     "\"; the picklists are customer_type, industry, category, "
                                     "service_zone and product_class");
  }
  // A service zone may carry its area (a geofence shape): a site without a zone of its own
  // then gets the zone its coordinates fall in (projections/queries.cpp, site()).
  value plain = cmd.body;
  std::optional<value> area;
  if (plain.is_object()) {
    if (auto it = plain.as_object().find("geofence"); it != plain.as_object().end()) {
      if (cmd.name != "service_zone" || cmd.step != picklist_step::add) {
        return fail(errc::malformed, "only a service zone being added has an area",
                    {{"geofence", "unknown field here"}});
      }
      auto normal = geo::validate_geofence(it->second);
      if (!normal) {
        error e = normal.error();
        for (auto& f : e.fields) f.field = "geofence." + f.field;
        return std::unexpected(std::move(e));
      }
      area = std::move(*normal);
      plain.as_object().erase(it);
    }
  }
  auto body = validate_fields(k_value_fields, plain);
  if (!body) return std::unexpected(std::move(body.error()));
  const picklist_state* list = env.picklist(cmd.name);
  const entity_version version = list != nullptr ? list->version : entity_version{0};
  if (auto ok = check_if_match(cmd.if_match, version, "picklist"); !ok) {
    return std::unexpected(ok.error());
  }
  const std::string v(body->string_at("value"));
  const bool known = list != nullptr && list->values.contains(v);
  const bool retired = known && list->values.find(v)->second;
  if (cmd.step == picklist_step::add) {
    if (known && !retired && !area) return std::vector<event>{};
  } else {
    if (!known) {
      return fail(errc::invalid, "the value is not in the picklist",
                  {{"value", "\"" + v + "\" is not in the " + cmd.name + " picklist"}});
    }
    if (retired) return std::vector<event>{};
  }
  const customer_id lists{std::string(k_picklists)};
  return detail::single(make_event(
      cmd.step == picklist_step::add ? event_types::picklist_value_added
                                     : event_types::picklist_value_retired,
      lists, cmd.name, "picklists/" + cmd.name, entity_version{version.get() + 1},
      area ? object{{"value", v}, {"geofence", std::move(*area)}} : object{{"value", v}}));
}

}  // namespace detail

void evolve_picklist(picklist_state& list, const event& e) {
  const std::string v(e.data.string_at("value"));
  if (e.type == event_types::picklist_value_added) {
    list.values.insert_or_assign(v, false);
  } else if (e.type == event_types::picklist_value_retired) {
    list.values.insert_or_assign(v, true);
  } else {
    return;
  }
  list.version = e.version;
}

}  // namespace fieldledger::domain

// Geofences (of customers and sites) and the spatial index: geofence documents, their S2
// coverings as index keys for "which geofences contain this point", and sites by the leaf cell
// of their address's lat/lng for "which sites are near this point". Key layout: geo_keys.hpp.
#include "domain/customer.hpp"
#include "domain/geo.hpp"
#include "projections/geo_keys.hpp"
#include "projections/keys.hpp"
#include "projections/view.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;

namespace {

std::vector<std::string> split_cells(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return out;
}

class geofences_view final : public view {
 public:
  std::string_view name() const override { return "geofences"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    const bool set = e.type == et::customer_geofence_set || e.type == et::site_geofence_set;
    const bool cleared =
        e.type == et::customer_geofence_cleared || e.type == et::site_geofence_cleared;
    if (e.type == et::site_removed) return unindex(b, e.entity_id);
    if (!set && !cleared) return {};
    const bool of_site = e.type.starts_with("site.");
    if (auto ok = unindex(b, e.entity_id); !ok) return ok;
    const value* changed = e.data.find("changed");
    const value* g = changed != nullptr ? changed->find("geofence") : nullptr;
    value shown;  // null: no geofence
    if (set && g != nullptr) {
      const auto s = geo::shape_of(*g);
      if (!s) return fail(errc::internal, "event " + e.id + " carries no valid geofence");
      shown = *g;
      std::string cells;
      for (const auto cell : geo::covering(*s)) {
        const auto hex = geo::cell_key(cell);
        b.put(keys::key(keys::geofence_index_prefix, hex, e.entity_id), "");
        if (!cells.empty()) cells += ',';
        cells += hex;
      }
      b.put(keys::key(keys::geofence_cells_prefix, e.entity_id), std::move(cells));
      b.put(keys::key(keys::geofence_prefix, e.entity_id),
            to_json(object{{"kind", of_site ? "site" : "customer"},
                           {"id", e.entity_id},
                           {"customer_id", e.customer.get()},
                           {"geofence", *g}}));
    }
    // The customer or site document shows its geofence, at the version the event gave it.
    const auto doc_key =
        of_site ? keys::key(keys::site_prefix, e.entity_id) : keys::customer(e.customer.get());
    auto doc = support::load(b, doc_key);
    if (!doc) return std::unexpected(doc.error());
    if (doc->is_null()) return {};
    if (shown.is_null()) {
      doc->as_object().erase("geofence");
    } else {
      doc->as_object()["geofence"] = std::move(shown);
    }
    support::stamp(doc->as_object(), e, false);
    b.put(doc_key, to_json(*doc));
    return {};
  }

 private:
  // Removes the geofence of owner (if any) and its index keys.
  static result<void> unindex(batch& b, const std::string& owner) {
    const auto cells_key = keys::key(keys::geofence_cells_prefix, owner);
    auto cells = b.get(cells_key);
    if (!cells) return std::unexpected(cells.error());
    if (!*cells) return {};
    for (const auto& hex : split_cells(**cells)) {
      b.del(keys::key(keys::geofence_index_prefix, hex, owner));
    }
    b.del(cells_key);
    b.del(keys::key(keys::geofence_prefix, owner));
    return {};
  }
};

// Sites by location. Runs after the sites view, so it reads the site document as this event
// left it (a site without lat/lng is not indexed).
class site_locations_view final : public view {
 public:
  std::string_view name() const override { return "site-locations"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (e.type != et::site_added && e.type != et::site_changed && e.type != et::site_removed) {
      return {};
    }
    const auto point_key = keys::key(keys::site_point_prefix, e.entity_id);
    auto held = b.get(point_key);
    if (!held) return std::unexpected(held.error());
    auto doc = b.doc(keys::key(keys::site_prefix, e.entity_id));
    if (!doc) return std::unexpected(doc.error());
    std::optional<geo::point> at;
    if (const value* address = (*doc)->find("address"); address != nullptr) {
      const value* lat = address->find("lat");
      const value* lng = address->find("lng");
      if (lat != nullptr && lng != nullptr && lat->is_number() && lng->is_number()) {
        at = geo::point{lat->as_number(), lng->as_number()};
      }
    }
    const std::string now = at ? geo::cell_key(geo::leaf_cell(*at)) : std::string{};
    if (*held) b.del(keys::key(keys::site_location_prefix, **held, e.entity_id));
    if (!at) {
      if (*held) b.del(point_key);
      return {};
    }
    b.put(keys::key(keys::site_location_prefix, now, e.entity_id),
          to_json(object{{"customer_id", e.customer.get()}, {"lat", at->lat}, {"lng", at->lng}}));
    b.put(point_key, now);
    return {};
  }
};

}  // namespace

std::vector<std::unique_ptr<view>> make_geo_views() {
  std::vector<std::unique_ptr<view>> out;
  out.push_back(std::make_unique<geofences_view>());
  out.push_back(std::make_unique<site_locations_view>());
  return out;
}

}  // namespace fieldledger::projections

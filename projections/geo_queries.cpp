// Queries over the geofence and spatial-index views (projections/geo_views.cpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "domain/customer.hpp"
#include "domain/geo.hpp"
#include "json/parse.hpp"
#include "projections/geo_keys.hpp"
#include "projections/keys.hpp"
#include "projections/queries.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

result<std::optional<std::string>> queries::geofence(std::string_view owner) const {
  return store_.get(keys::key(keys::geofence_prefix, owner));
}

result<page> queries::containing(double lat, double lng) const {
  const geo::point p{lat, lng};
  std::set<std::string> owners;
  for (const auto cell : geo::index_cells_of(geo::leaf_cell(p))) {
    const auto prefix = keys::key(keys::geofence_index_prefix, geo::cell_key(cell), "");
    auto scanned = store_.scan(prefix, "", [&](std::string_view k, std::string_view) {
      owners.emplace(k.substr(prefix.size()));
      return true;
    });
    if (!scanned) return std::unexpected(scanned.error());
  }
  // The covering is a superset of the shape: each candidate gets the exact test. An archived
  // customer's geofences (its own and its sites') answer no more.
  std::vector<std::pair<std::string, std::string>> hits;  // (kind + id, document)
  std::map<std::string, bool, std::less<>> archived;      // by customer id
  const auto is_archived = [&](std::string_view customer) -> result<bool> {
    if (auto it = archived.find(customer); it != archived.end()) return it->second;
    auto text = store_.get(keys::customer(customer));
    if (!text) return std::unexpected(text.error());
    bool gone = false;
    if (*text) {
      auto customer_doc = json::parse(**text);
      if (!customer_doc) return fail(errc::internal, "a customer document is corrupt");
      gone = customer_doc->string_at("status") == k_status_archived;
    }
    archived.emplace(std::string(customer), gone);
    return gone;
  };
  for (const auto& owner : owners) {
    auto text = store_.get(keys::key(keys::geofence_prefix, owner));
    if (!text) return std::unexpected(text.error());
    if (!*text) continue;
    auto doc = json::parse(**text);
    if (!doc) return fail(errc::internal, "geofence document of " + owner + " is corrupt");
    const value* g = doc->find("geofence");
    const auto s = g != nullptr ? geo::shape_of(*g) : std::nullopt;
    if (!s) return fail(errc::internal, "geofence document of " + owner + " holds no shape");
    if (geo::contains(*s, p)) {
      auto gone = is_archived(doc->string_at("customer_id"));
      if (!gone) return std::unexpected(gone.error());
      if (*gone) continue;
      hits.emplace_back(std::string(doc->string_at("kind")) + "/" + owner, std::move(**text));
    }
  }
  std::sort(hits.begin(), hits.end());
  page out;
  for (auto& [unused, doc] : hits) out.items.push_back(std::move(doc));
  return out;
}

result<page> queries::nearby(double lat, double lng, double radius_m, std::size_t limit) const {
  const geo::point center{lat, lng};
  struct candidate {
    double distance;
    std::string id;
    bool operator<(const candidate& o) const {
      return distance != o.distance ? distance < o.distance : id < o.id;
    }
  };
  std::vector<candidate> found;
  std::optional<error> failure;
  for (const auto range : geo::cap_ranges(center, radius_m)) {
    // Keys of leaf cells in [min, max]: from just after those of min - 1 ('/' < '0'), under
    // the hex digits min and max share, until the first beyond max.
    const auto lo = geo::cell_key(range.min), hi = geo::cell_key(range.max);
    std::size_t common = 0;
    while (common < lo.size() && lo[common] == hi[common]) ++common;
    const auto prefix = std::string(keys::site_location_prefix) + lo.substr(0, common);
    const auto after = std::string(keys::site_location_prefix) + geo::cell_key(range.min - 1) + "0";
    auto scanned = store_.scan(prefix, after, [&](std::string_view k, std::string_view v) {
      const auto rest = k.substr(keys::site_location_prefix.size());
      const auto cell = geo::parse_cell_key(rest.substr(0, 16));
      if (!cell || rest.size() < 18) {
        failure = error{errc::internal, "corrupt site location key", {}, {}};
        return false;
      }
      if (*cell > range.max) return false;
      auto at = json::parse(v);
      if (!at || !at->find("lat") || !at->find("lng")) {
        failure = error{errc::internal, "corrupt site location", {}, {}};
        return false;
      }
      const double d =
          geo::distance_m(center, {at->find("lat")->as_number(), at->find("lng")->as_number()});
      if (d <= radius_m) found.push_back({d, std::string(rest.substr(17))});
      return true;
    });
    if (!scanned) return std::unexpected(scanned.error());
    if (failure) return std::unexpected(*failure);
  }
  std::sort(found.begin(), found.end());
  if (found.size() > limit) found.resize(limit);
  page out;
  for (const auto& c : found) {
    auto text = store_.get(keys::key(keys::site_prefix, c.id));
    if (!text) return std::unexpected(text.error());
    if (!*text) continue;  // removed since the index was read
    std::string doc = std::move(**text);
    doc.pop_back();  // the closing brace
    doc += ",\"distance_m\":" + to_json(value(std::round(c.distance * 10) / 10)) + "}";
    out.items.push_back(std::move(doc));
  }
  return out;
}

}  // namespace fieldledger::projections

#pragma once
// Geofence commands: a circle or polygon set on (or cleared from) a customer or one of its
// sites. Decided in domain/geofence.cpp; the shape rules are in domain/geo.hpp.
//
// Events (keyed by the customer, like everything it owns):
//   customer.geofence-set      {"changed": {"geofence": <normal form>}, "previous": {"geofence":
//   old|null}} customer.geofence-cleared  {"changed": {"geofence": null}, "previous": {"geofence":
//   old}} site.geofence-set, site.geofence-cleared   the same, about a site (bump the site's
//   version)
#include <optional>

#include "domain/ids.hpp"
#include "domain/value.hpp"

namespace fieldledger::domain {

namespace event_types {
inline constexpr std::string_view customer_geofence_set = "customer.geofence-set";
inline constexpr std::string_view customer_geofence_cleared = "customer.geofence-cleared";
inline constexpr std::string_view site_geofence_set = "site.geofence-set";
inline constexpr std::string_view site_geofence_cleared = "site.geofence-cleared";
}  // namespace event_types

struct set_customer_geofence {
  customer_id id;
  value body;
  std::optional<entity_version> if_match;
};
struct clear_customer_geofence {
  customer_id id;
  std::optional<entity_version> if_match;
};
struct set_site_geofence {
  site_id id;
  value body;
  std::optional<entity_version> if_match;
};
struct clear_site_geofence {
  site_id id;
  std::optional<entity_version> if_match;
};

}  // namespace fieldledger::domain

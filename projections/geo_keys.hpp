#pragma once
// The key layout of the geofence and spatial-index views (projections/geo_views.cpp), read by
// projections/geo_queries.cpp. <cell> is domain::geo::cell_key(): 16 hex digits of an S2 cell id.
//   geo/f/<owner id>            -> {"kind": "customer"|"site", "id", "customer_id", "geofence"}
//   geo/x/<owner id>            -> the cells of its covering, comma-separated
//   geo/c/<cell>/<owner id>     -> ""   the geofences whose covering holds the cell
//   geo/s/<leaf cell>/<site id> -> {"customer_id", "lat", "lng"}   sites by location
//   geo/p/<site id>             -> <leaf cell>                     where a site is indexed
#include <string>
#include <string_view>

namespace fieldledger::projections::keys {

inline constexpr std::string_view geofence_prefix = "geo/f/";
inline constexpr std::string_view geofence_cells_prefix = "geo/x/";
inline constexpr std::string_view geofence_index_prefix = "geo/c/";
inline constexpr std::string_view site_location_prefix = "geo/s/";
inline constexpr std::string_view site_point_prefix = "geo/p/";

}  // namespace fieldledger::projections::keys

#pragma once
// Geometry on the sphere for geofences and the spatial index, behind plain structs: the one
// implementation (domain/geo.cpp) uses Google's S2 geometry library, whose headers stay there.
//
// A geofence's normal form (what events carry and views store):
//   {"type": "circle", "center": {"lat", "lng"}, "radius_m"}
//   {"type": "polygon", "points": [{"lat", "lng"}, ...]}   (closed: the last point repeats the
//                                                          first; either winding order)
// Cell ids are S2 cell ids; cell_key() renders one as 16 hex digits, so that byte order of the
// keys is the order of the ids and the leaf cells under a cell form one key range.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/value.hpp"

namespace fieldledger::domain::geo {

struct point {
  double lat = 0;  // degrees
  double lng = 0;
};

// A validated geofence.
struct shape {
  bool circle = true;
  point center;             // circle
  double radius_m = 0;      // circle
  std::vector<point> ring;  // polygon: the distinct vertices, the closing point dropped
};

inline constexpr double k_max_radius_m = 100'000;           // a circle geofence
inline constexpr double k_max_nearby_radius_m = 1'000'000;  // a nearby query
inline constexpr std::size_t k_max_points = 1000;           // a polygon, closing point included

// Checks a geofence as a client sends it (circle: center and radius_m; polygon: points; an
// optional "type" that must agree). errc::malformed for unknown members, errc::invalid naming
// the field (e.g. "points[3]", "radius_m") and why otherwise. Returns the normal form.
[[nodiscard]] result<value> validate_geofence(const value& body);

// The shape of a normal form (as validate_geofence() returns); nullopt when it is not one.
std::optional<shape> shape_of(const value& normal);

// True when p lies in the shape (on a polygon's edge counts as in, within S2's precision).
bool contains(const shape& s, point p);

// Great-circle distance in metres (S2's mean Earth radius).
double distance_m(point a, point b);

// The leaf cell of a point.
std::uint64_t leaf_cell(point p);

// The cells that cover a shape, for the containment index: a point is in the shape only if
// one of these cells contains its leaf cell. Their levels are within [k_index_min_level,
// k_index_max_level]. Deterministic for a given shape.
inline constexpr int k_index_min_level = 0;
inline constexpr int k_index_max_level = 20;
std::vector<std::uint64_t> covering(const shape& s);

// The ancestors of a leaf cell at the index levels, coarsest first: where to look a point up.
std::vector<std::uint64_t> index_cells_of(std::uint64_t leaf);

// Ranges of leaf cell ids [min, max] that together cover the disc of radius_m around center
// (a superset: candidates still need the exact distance test). Sorted and disjoint.
struct cell_range {
  std::uint64_t min = 0, max = 0;
};
std::vector<cell_range> cap_ranges(point center, double radius_m);

// 16 lower-case hex digits.
std::string cell_key(std::uint64_t id);
std::optional<std::uint64_t> parse_cell_key(std::string_view hex);

}  // namespace fieldledger::domain::geo

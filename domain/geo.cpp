// The one translation unit that includes S2 (see domain/geo.hpp).
#include "domain/geo.hpp"

#include <s2/s1angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell_id.h>
#include <s2/s2cell_union.h>
#include <s2/s2earth.h>
#include <s2/s2edge_crossings.h>
#include <s2/s2latlng.h>
#include <s2/s2loop.h>
#include <s2/s2region_coverer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace fieldledger::domain::geo {

namespace {

S2Point to_s2(point p) { return S2LatLng::FromDegrees(p.lat, p.lng).ToPoint(); }

std::string index_name(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// A {"lat","lng"} object at path; records what is wrong with it in errors.
std::optional<point> read_point(const value* v, const std::string& path,
                                std::vector<field_error>& errors) {
  if (v == nullptr || v->is_null()) {
    errors.push_back({path, "is required: an object with lat and lng"});
    return std::nullopt;
  }
  if (!v->is_object()) {
    errors.push_back({path, "must be an object with lat and lng"});
    return std::nullopt;
  }
  for (const auto& [k, unused] : v->as_object()) {
    if (k != "lat" && k != "lng") {
      errors.push_back({path + "." + k, "unknown field; allowed: lat, lng"});
      return std::nullopt;
    }
  }
  point p;
  bool ok = true;
  for (auto [name, slot, limit] : {std::tuple{"lat", &p.lat, 90.0}, {"lng", &p.lng, 180.0}}) {
    const value* c = v->find(name);
    if (c == nullptr || !c->is_number() || !std::isfinite(c->as_number()) ||
        c->as_number() < -limit || c->as_number() > limit) {
      errors.push_back({path + "." + name, "must be a number between " +
                                               std::to_string(static_cast<int>(-limit)) + " and " +
                                               std::to_string(static_cast<int>(limit))});
      ok = false;
      continue;
    }
    *slot = c->as_number();
  }
  if (!ok) return std::nullopt;
  return p;
}

value point_value(point p) { return object{{"lat", p.lat}, {"lng", p.lng}}; }

std::unexpected<error> invalid(std::vector<field_error> errors) {
  std::string detail =
      errors.size() == 1
          ? "the geofence is invalid: " + errors[0].field + " " + errors[0].message
          : "the geofence is invalid (" + std::to_string(errors.size()) + " problems)";
  return fail(errc::invalid, std::move(detail), std::move(errors));
}

// The loop of a ring, normalized so that it encloses at most half the sphere: clients may give
// the points in either winding order.
std::unique_ptr<S2Loop> loop_of(const std::vector<point>& ring) {
  std::vector<S2Point> vertices;
  vertices.reserve(ring.size());
  for (auto p : ring) vertices.push_back(to_s2(p));
  auto loop = std::make_unique<S2Loop>(vertices, S2Debug::DISABLE);
  loop->Normalize();
  return loop;
}

// Why the ring (distinct consecutive vertices, closing point dropped) is no simple polygon.
std::vector<field_error> ring_problems(const std::vector<point>& ring) {
  std::vector<field_error> out;
  const std::size_t n = ring.size();
  std::vector<S2Point> v;
  for (auto p : ring) v.push_back(to_s2(p));
  for (std::size_t i = 0; i < n && out.empty(); ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (v[i] == v[j]) {
        out.push_back({index_name("points", j), "repeats " + index_name("points", i) +
                                                    "; a polygon visits each point once"});
        break;
      }
    }
  }
  if (!out.empty()) return out;
  // Every pair of edges that do not share a vertex must not cross or touch.
  for (std::size_t i = 0; i < n && out.empty(); ++i) {
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // adjacent through the closing edge
      if (S2::CrossingSign(v[i], v[(i + 1) % n], v[j], v[(j + 1) % n]) >= 0) {
        out.push_back({index_name("points", j),
                       "the edge from " + index_name("points", j) + " to " +
                           index_name("points", j + 1) + " crosses the edge from " +
                           index_name("points", i) + " to " + index_name("points", i + 1) +
                           "; a polygon must not intersect itself"});
        break;
      }
    }
  }
  if (!out.empty()) return out;
  const auto loop = loop_of(ring);
  S2Error why;
  if (loop->FindValidationError(&why)) {
    out.push_back({"points", "is not a valid polygon: " + why.text()});
  } else if (loop->GetArea() * S2Earth::RadiusMeters() * S2Earth::RadiusMeters() < 1.0) {
    out.push_back({"points", "encloses no area (are the points on one line?)"});
  }
  return out;
}

result<value> validate_circle(const value& body) {
  std::vector<field_error> errors;
  const auto center = read_point(body.find("center"), "center", errors);
  const value* r = body.find("radius_m");
  const std::string range = "must be a number of metres above 0 and at most " +
                            std::to_string(static_cast<int>(k_max_radius_m));
  if (r == nullptr || r->is_null()) {
    errors.push_back({"radius_m", "is required; " + range.substr(5)});
  } else if (!r->is_number() || !std::isfinite(r->as_number()) || r->as_number() <= 0 ||
             r->as_number() > k_max_radius_m) {
    errors.push_back({"radius_m", range});
  }
  if (!errors.empty()) return invalid(std::move(errors));
  return value(
      object{{"type", "circle"}, {"center", point_value(*center)}, {"radius_m", r->as_number()}});
}

result<value> validate_polygon(const value& body) {
  std::vector<field_error> errors;
  const value* pts = body.find("points");
  const std::string shape_hint = "must be an array of 4 to " + std::to_string(k_max_points) +
                                 " {lat, lng} points, the last one repeating the first";
  if (pts == nullptr || !pts->is_array() || pts->as_array().size() > k_max_points) {
    return invalid({{"points", shape_hint}});
  }
  const auto& a = pts->as_array();
  std::vector<point> given;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (auto p = read_point(&a[i], index_name("points", i), errors)) given.push_back(*p);
  }
  if (!errors.empty()) return invalid(std::move(errors));
  if (given.size() < 4) {
    return invalid({{"points", "has " + std::to_string(given.size()) +
                                   " points; a closed polygon needs at least 3 distinct points "
                                   "and the first repeated at the end"}});
  }
  if (given.front().lat != given.back().lat || given.front().lng != given.back().lng) {
    return invalid(
        {{index_name("points", given.size() - 1), "must repeat points[0]: a polygon is closed"}});
  }
  std::vector<point> ring;
  for (std::size_t i = 0; i + 1 < given.size(); ++i) {
    if (i > 0 && given[i].lat == given[i - 1].lat && given[i].lng == given[i - 1].lng) {
      return invalid({{index_name("points", i), "repeats the point before it"}});
    }
    ring.push_back(given[i]);
  }
  if (ring.size() < 3) {
    return invalid({{"points", "has " + std::to_string(ring.size()) +
                                   " distinct points; a polygon needs at least 3"}});
  }
  if (auto problems = ring_problems(ring); !problems.empty()) return invalid(std::move(problems));
  array normal;
  for (auto p : given) normal.push_back(point_value(p));
  return value(object{{"type", "polygon"}, {"points", std::move(normal)}});
}

}  // namespace

result<value> validate_geofence(const value& body) {
  if (!body.is_object()) {
    return fail(errc::malformed, "the body must be a JSON object",
                {{"body", "must be a JSON object"}});
  }
  std::vector<field_error> unknown;
  for (const auto& [k, unused] : body.as_object()) {
    if (k != "type" && k != "center" && k != "radius_m" && k != "points") {
      unknown.push_back({k, "unknown field; allowed: type, center, radius_m, points"});
    }
  }
  if (!unknown.empty()) {
    std::string detail = "unknown field \"" + unknown[0].field + "\"";
    return fail(errc::malformed, std::move(detail), std::move(unknown));
  }
  const bool has_points = body.find("points") != nullptr;
  const bool has_circle = body.find("center") != nullptr || body.find("radius_m") != nullptr;
  std::string type = has_points ? "polygon" : "circle";
  if (const value* t = body.find("type"); t != nullptr && !t->is_null()) {
    if (!t->is_string() || (t->as_string() != "circle" && t->as_string() != "polygon")) {
      return invalid({{"type", "must be circle or polygon"}});
    }
    type = t->as_string();
  }
  if (has_points && has_circle) {
    return invalid({{"points",
                     "a geofence is a circle (center, radius_m) or a polygon (points), "
                     "not both"}});
  }
  if (type == "polygon" && has_circle) {
    return invalid({{"center", "a polygon has points, not center and radius_m"}});
  }
  if (type == "circle" && has_points) {
    return invalid({{"points", "a circle has center and radius_m, not points"}});
  }
  return type == "polygon" ? validate_polygon(body) : validate_circle(body);
}

std::optional<shape> shape_of(const value& normal) {
  const auto read = [](const value* v) -> std::optional<point> {
    if (v == nullptr) return std::nullopt;
    const value* lat = v->find("lat");
    const value* lng = v->find("lng");
    if (lat == nullptr || lng == nullptr || !lat->is_number() || !lng->is_number()) {
      return std::nullopt;
    }
    return point{lat->as_number(), lng->as_number()};
  };
  shape s;
  if (normal.string_at("type") == "circle") {
    const auto c = read(normal.find("center"));
    const value* r = normal.find("radius_m");
    if (!c || r == nullptr || !r->is_number()) return std::nullopt;
    s.center = *c;
    s.radius_m = r->as_number();
    return s;
  }
  if (normal.string_at("type") != "polygon") return std::nullopt;
  const value* pts = normal.find("points");
  if (pts == nullptr || !pts->is_array() || pts->as_array().size() < 4) return std::nullopt;
  s.circle = false;
  const auto& a = pts->as_array();
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    const auto p = read(&a[i]);
    if (!p) return std::nullopt;
    s.ring.push_back(*p);
  }
  return s;
}

bool contains(const shape& s, point p) {
  if (s.circle) return distance_m(s.center, p) <= s.radius_m;
  return loop_of(s.ring)->Contains(to_s2(p));
}

double distance_m(point a, point b) {
  return S2Earth::ToMeters(
      S2LatLng::FromDegrees(a.lat, a.lng).GetDistance(S2LatLng::FromDegrees(b.lat, b.lng)));
}

std::uint64_t leaf_cell(point p) { return S2CellId(to_s2(p)).id(); }

namespace {

S2RegionCoverer::Options coverer_options(int max_cells) {
  S2RegionCoverer::Options o;
  o.set_max_cells(max_cells);
  o.set_min_level(k_index_min_level);
  o.set_max_level(k_index_max_level);
  return o;
}

}  // namespace

std::vector<std::uint64_t> covering(const shape& s) {
  S2RegionCoverer coverer(coverer_options(8));
  std::vector<S2CellId> cells;
  if (s.circle) {
    coverer.GetCovering(S2Cap(to_s2(s.center), S2Earth::MetersToAngle(s.radius_m)), &cells);
  } else {
    coverer.GetCovering(*loop_of(s.ring), &cells);
  }
  std::vector<std::uint64_t> out;
  out.reserve(cells.size());
  for (auto c : cells) out.push_back(c.id());
  return out;
}

std::vector<std::uint64_t> index_cells_of(std::uint64_t leaf) {
  const S2CellId id(leaf);
  std::vector<std::uint64_t> out;
  for (int level = k_index_min_level; level <= k_index_max_level; ++level) {
    out.push_back(id.parent(level).id());
  }
  return out;
}

std::vector<cell_range> cap_ranges(point center, double radius_m) {
  S2RegionCoverer::Options o;
  o.set_max_cells(16);
  S2RegionCoverer coverer(o);
  const S2CellUnion cells =
      coverer.GetCovering(S2Cap(to_s2(center), S2Earth::MetersToAngle(radius_m)));
  std::vector<cell_range> out;
  for (const S2CellId c : cells) {  // normalized: sorted, disjoint
    const std::uint64_t lo = c.range_min().id(), hi = c.range_max().id();
    if (!out.empty() && out.back().max + 1 >= lo) {
      out.back().max = std::max(out.back().max, hi);
    } else {
      out.push_back({lo, hi});
    }
  }
  return out;
}

std::string cell_key(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::optional<std::uint64_t> parse_cell_key(std::string_view hex) {
  std::uint64_t id = 0;
  if (hex.size() != 16) return std::nullopt;
  const auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), id, 16);
  if (ec != std::errc{} || p != hex.data() + hex.size()) return std::nullopt;
  return id;
}

}  // namespace fieldledger::domain::geo

// Geofences: the shape rules (domain/geo.cpp) and the decisions about customers' and sites'
// geofences (domain/geofence.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "domain/customer.hpp"
#include "domain/geo.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

value pt(double lat, double lng) { return object{{"lat", lat}, {"lng", lng}}; }

value polygon(std::initializer_list<std::pair<double, double>> points) {
  array a;
  for (auto [lat, lng] : points) a.push_back(pt(lat, lng));
  return object{{"points", std::move(a)}};
}

// A square of about 1.1 km around (51.5, -0.1), counter-clockwise, closed.
value square() {
  return polygon(
      {{51.495, -0.105}, {51.495, -0.095}, {51.505, -0.095}, {51.505, -0.105}, {51.495, -0.105}});
}

value circle(double lat, double lng, value radius) {
  return object{{"center", pt(lat, lng)}, {"radius_m", std::move(radius)}};
}

// The field the first error names, after checking the error is `code`.
std::string refused(const value& body, errc code = errc::invalid) {
  auto r = geo::validate_geofence(body);
  EXPECT_FALSE(r) << to_json(body);
  if (r) return {};
  EXPECT_EQ(r.error().code, code) << r.error().detail;
  EXPECT_FALSE(r.error().fields.empty());
  return r.error().fields.empty() ? std::string() : r.error().fields.front().field;
}

TEST(GeofenceShape, AcceptsACircleAndAClosedPolygonInEitherWindingOrder) {
  auto c = geo::validate_geofence(circle(51.5, -0.1, 250));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->string_at("type"), "circle");
  EXPECT_EQ(c->find("radius_m")->as_number(), 250);
  auto p = geo::validate_geofence(square());
  ASSERT_TRUE(p) << p.error().detail;
  EXPECT_EQ(p->string_at("type"), "polygon");
  EXPECT_EQ(p->find("points")->as_array().size(), 5u);
  // Clockwise: the same area, not the rest of the globe.
  auto cw = geo::validate_geofence(polygon(
      {{51.495, -0.105}, {51.505, -0.105}, {51.505, -0.095}, {51.495, -0.095}, {51.495, -0.105}}));
  ASSERT_TRUE(cw) << cw.error().detail;
  for (const auto& normal : {*p, *cw}) {
    const auto s = geo::shape_of(normal);
    ASSERT_TRUE(s);
    EXPECT_TRUE(geo::contains(*s, {51.5, -0.1}));
    EXPECT_FALSE(geo::contains(*s, {51.51, -0.1}));
    EXPECT_FALSE(geo::contains(*s, {-51.5, 179.9}));
  }
}

TEST(GeofenceShape, RefusesAnOpenPolygon) {
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {1, 1}, {1, 0}})), "points[3]");
}

TEST(GeofenceShape, RefusesASelfIntersectingBowTie) {
  // (0,0) -> (0,1) -> (1,0) -> (1,1) -> (0,0): the second and fourth edges cross.
  const auto r = geo::validate_geofence(polygon({{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid);
  EXPECT_EQ(r.error().fields.front().field, "points[3]");
  EXPECT_NE(r.error().fields.front().message.find("crosses the edge from points[1]"),
            std::string::npos)
      << r.error().fields.front().message;
}

TEST(GeofenceShape, RefusesTooFewOrRepeatedPoints) {
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {0, 0}})), "points");
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {0, 1}, {0, 0}})), "points[2]");
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {1, 1}, {0, 1}, {1, 0}, {0, 0}})), "points[3]");
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {0, 2}, {0, 0}})), "points") << "on one line";
  EXPECT_EQ(refused(object{{"points", "many"}}), "points");
}

TEST(GeofenceShape, RefusesCoordinatesOutOfRange) {
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 1}, {91, 1}, {0, 0}})), "points[2].lat");
  EXPECT_EQ(refused(polygon({{0, 0}, {0, 181}, {1, 1}, {0, 0}})), "points[1].lng");
  EXPECT_EQ(refused(circle(-90.5, 0, 10)), "center.lat");
  EXPECT_EQ(refused(object{{"center", object{{"lat", 1}}}, {"radius_m", 10}}), "center.lng");
  EXPECT_EQ(refused(object{{"points", array{pt(0, 0), "x", pt(1, 1), pt(0, 0)}}}), "points[1]");
}

TEST(GeofenceShape, RefusesARadiusThatIsNotPositiveOrTooLarge) {
  EXPECT_EQ(refused(circle(1, 1, 0)), "radius_m");
  EXPECT_EQ(refused(circle(1, 1, -5)), "radius_m");
  EXPECT_EQ(refused(circle(1, 1, 100'001)), "radius_m");
  EXPECT_EQ(refused(circle(1, 1, "10")), "radius_m");
  EXPECT_EQ(refused(object{{"center", pt(1, 1)}}), "radius_m");
  EXPECT_TRUE(geo::validate_geofence(circle(1, 1, 100'000)));
}

TEST(GeofenceShape, RefusesMixedOrUnknownShapes) {
  EXPECT_EQ(
      refused(object{{"center", pt(1, 1)}, {"radius_m", 5}, {"colour", "red"}}, errc::malformed),
      "colour");
  EXPECT_EQ(refused(object{{"type", "hexagon"}}), "type");
  EXPECT_EQ(refused(object{{"type", "circle"}, {"points", array{}}}), "points");
  value both = square();
  both.as_object()["radius_m"] = 5;
  EXPECT_EQ(refused(both), "points");
  EXPECT_EQ(refused(value("circle"), errc::malformed), "body");
}

TEST(GeofenceShape, CircleContainmentIsByDistance) {
  const auto s = geo::shape_of(*geo::validate_geofence(circle(51.5, -0.1, 1000)));
  ASSERT_TRUE(s);
  EXPECT_TRUE(geo::contains(*s, {51.5, -0.1}));
  EXPECT_TRUE(geo::contains(*s, {51.5085, -0.1}));   // ~945 m north
  EXPECT_FALSE(geo::contains(*s, {51.5095, -0.1}));  // ~1056 m north
  EXPECT_NEAR(geo::distance_m({51.5, -0.1}, {51.5095, -0.1}), 1056, 2);
}

TEST(GeofenceShape, ACoveringHoldsTheShapeAndIsFoundFromAPointInside) {
  for (const auto& body : {square(), circle(51.5, -0.1, 300)}) {
    const auto s = geo::shape_of(*geo::validate_geofence(body));
    ASSERT_TRUE(s);
    const auto cells = geo::covering(*s);
    ASSERT_FALSE(cells.empty());
    EXPECT_LE(cells.size(), 8u);
    const auto ancestors = geo::index_cells_of(geo::leaf_cell({51.5, -0.1}));
    const bool found = std::ranges::any_of(
        cells, [&](auto c) { return std::ranges::find(ancestors, c) != ancestors.end(); });
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(geo::parse_cell_key(geo::cell_key(0x89c25a3100000000ULL)), 0x89c25a3100000000ULL);
  EXPECT_FALSE(geo::parse_cell_key("89c25a31"));
}

class GeofenceDecide : public ::testing::Test {
 protected:
  fake_decide_env env;
  customer_state customer;
  std::string site;

  void SetUp() override {
    apply_events(customer, *decide(customer, register_customer{object{{"name", "Acme"}}}, env));
    auto added = decide(customer, add_site{customer.id, object{{"name", "North"}}}, env);
    ASSERT_TRUE(added);
    apply_events(customer, *added);
    site = added->front().entity_id;
  }
  std::vector<event> run(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_TRUE(events) << events.error().detail;
    if (!events) return {};
    apply_events(customer, *events);
    return *events;
  }
};

TEST_F(GeofenceDecide, SetsAndClearsACustomersGeofenceWithBeforeAndAfter) {
  const auto set = run(set_customer_geofence{customer.id, square(), entity_version{1}});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].type, event_types::customer_geofence_set);
  EXPECT_EQ(set[0].entity_id, customer.id.get());
  EXPECT_EQ(set[0].version, entity_version{2});
  EXPECT_EQ(customer.version, entity_version{2});
  EXPECT_EQ(set[0].data.find("changed")->find("geofence")->string_at("type"), "polygon");
  EXPECT_TRUE(set[0].data.find("previous")->find("geofence")->is_null());
  EXPECT_TRUE(run(set_customer_geofence{customer.id, square(), std::nullopt}).empty())
      << "the same geofence again changes nothing";
  const auto cleared = run(clear_customer_geofence{customer.id, entity_version{2}});
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].type, event_types::customer_geofence_cleared);
  EXPECT_EQ(cleared[0].data.find("previous")->find("geofence")->string_at("type"), "polygon");
  EXPECT_TRUE(customer.geofences.empty());
  EXPECT_TRUE(run(clear_customer_geofence{customer.id, std::nullopt}).empty());
}

TEST_F(GeofenceDecide, ASitesGeofenceBumpsTheSitesVersion) {
  const auto set =
      run(set_site_geofence{site_id{site}, circle(51.5, -0.1, 200), entity_version{1}});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].type, event_types::site_geofence_set);
  EXPECT_EQ(set[0].subject, "customers/" + customer.id.get() + "/sites/" + site);
  EXPECT_EQ(customer.live_site(site)->version, entity_version{2});
  EXPECT_EQ(customer.version, entity_version{1});
  EXPECT_TRUE(customer.geofences.contains(site));
  run(clear_site_geofence{site_id{site}, entity_version{2}});
  EXPECT_EQ(customer.live_site(site)->version, entity_version{3});
  EXPECT_FALSE(customer.geofences.contains(site));
}

TEST_F(GeofenceDecide, RefusesStaleVersionsUnknownOwnersAndBadShapes) {
  auto stale =
      decide(customer, set_customer_geofence{customer.id, square(), entity_version{7}}, env);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, errc::precondition_failed);
  auto no_site = decide(customer, set_site_geofence{site_id{new_id()}, square(), {}}, env);
  ASSERT_FALSE(no_site);
  EXPECT_EQ(no_site.error().code, errc::not_found);
  auto other = decide(customer, clear_customer_geofence{customer_id{new_id()}, {}}, env);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, errc::not_found);
  auto bad = decide(customer, set_site_geofence{site_id{site}, circle(1, 1, 0), {}}, env);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.front().field, "radius_m");
  EXPECT_TRUE(customer.geofences.empty());
}

TEST_F(GeofenceDecide, AnArchivedCustomerTakesNoGeofence) {
  run(archive_customer{customer.id, std::nullopt});
  auto r = decide(customer, set_customer_geofence{customer.id, square(), {}}, env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::conflict);
}

}  // namespace
}  // namespace fieldledger::domain

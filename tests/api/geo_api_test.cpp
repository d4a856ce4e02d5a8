// Geofences and the spatial index over HTTP, on both logs: a point inside and outside a
// polygon and a circle, nearby sites by distance with radius and limit, and the index kept
// right when a site moves, a geofence changes or clears, and a site is removed.
#include <cstdio>

#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

// A square of about 1.1 km around (51.5, -0.1), closed.
constexpr const char* k_square =
    R"({"points":[{"lat":51.495,"lng":-0.105},{"lat":51.495,"lng":-0.095},
        {"lat":51.505,"lng":-0.095},{"lat":51.505,"lng":-0.105},{"lat":51.495,"lng":-0.105}]})";

std::string at(double lat, double lng) {
  char buf[128];
  std::snprintf(buf, sizeof buf, R"("address":{"lat":%.6f,"lng":%.6f})", lat, lng);
  return buf;
}

class GeoApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    acme_ = create_customer(R"({"name":"Acme"})");
  }
  std::string site(const std::string& name, double lat, double lng) {
    auto r = command("POST", "/v1/customers/" + acme_ + "/sites",
                     R"({"name":")" + name + R"(",)" + at(lat, lng) + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  // The ids of the items of a page answered by target.
  std::vector<std::string> ids(const std::string& target, const char* member = "id") {
    auto r = get(target);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    std::vector<std::string> out;
    const auto page = json_of(r);
    if (const value* items = page.find("items")) {
      for (const auto& d : items->as_array()) out.emplace_back(d.string_at(member));
    }
    return out;
  }
  std::vector<std::string> containing(double lat, double lng) {
    char q[96];
    std::snprintf(q, sizeof q, "/v1/geo/containing?lat=%.6f&lng=%.6f", lat, lng);
    return ids(q);
  }
  std::vector<std::string> nearby(double lat, double lng, double radius, int limit = 50) {
    char q[128];
    std::snprintf(q, sizeof q, "/v1/geo/nearby?lat=%.6f&lng=%.6f&radius_m=%.1f&limit=%d", lat, lng,
                  radius, limit);
    return ids(q);
  }
  std::string acme_;
};

TEST_P(GeoApi, APointInsideAPolygonOrCircleFindsItsOwnerAndOneOutsideDoesNot) {
  const auto north = site("North", 51.5, -0.1);
  auto r =
      command("PUT", "/v1/customers/" + acme_ + "/geofence", k_square, {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).find("version")->as_int(), 2);
  r = command("PUT", "/v1/sites/" + north + "/geofence",
              R"({"type":"circle","center":{"lat":51.52,"lng":-0.1},"radius_m":500})");
  ASSERT_EQ(r.status, 200) << r.body;

  EXPECT_EQ(containing(51.5, -0.1), std::vector<std::string>{acme_});      // in the square
  EXPECT_EQ(containing(51.521, -0.101), std::vector<std::string>{north});  // in the circle
  EXPECT_TRUE(containing(51.51, -0.1).empty());                            // between both
  EXPECT_TRUE(containing(51.5, -0.094).empty());                           // just east
  EXPECT_TRUE(containing(51.5245, -0.1).empty()) << "about 500.4 m from the centre";
  EXPECT_TRUE(containing(-51.5, 179.9).empty());

  // Both documents show their geofence; the customer's version moved with it.
  auto doc = get("/v1/customers/" + acme_);
  EXPECT_EQ(doc.headers["etag"], "\"2\"");
  EXPECT_EQ(json_of(doc).find("geofence")->string_at("type"), "polygon");
  auto fence = json_of(get("/v1/sites/" + north + "/geofence"));
  EXPECT_EQ(fence.string_at("kind"), "site");
  EXPECT_EQ(fence.string_at("customer_id"), acme_);
  EXPECT_EQ(fence.find("geofence")->find("radius_m")->as_number(), 500);
  EXPECT_EQ(json_of(get("/v1/sites/" + north)).find("version")->as_int(), 2);

  // History shows before and after.
  auto history = json_of(get("/v1/customers/" + acme_ + "/history?type=customer.geofence-set"));
  ASSERT_EQ(history.find("items")->as_array().size(), 1u);
  const auto& change = history.find("items")->as_array()[0].find("changes")->as_array()[0];
  EXPECT_EQ(change.string_at("field"), "geofence");
  EXPECT_TRUE(change.find("before")->is_null());
  // An archived customer's geofences (its own and its sites') answer no more; reactivated, they do.
  ASSERT_EQ(command("DELETE", "/v1/customers/" + acme_).status, 200);
  EXPECT_TRUE(containing(51.5, -0.1).empty());
  EXPECT_TRUE(containing(51.521, -0.101).empty());
  ASSERT_EQ(command("POST", "/v1/customers/" + acme_ + "/reactivate").status, 200);
  EXPECT_EQ(containing(51.5, -0.1), std::vector<std::string>{acme_});
}

TEST_P(GeoApi, BadGeofencesAndBadQueriesNameTheFieldAndAppendNothing) {
  const auto before = log_size();
  const auto put = [&](const std::string& body) {
    return first_field(problem_of(send("PUT", "/v1/customers/" + acme_ + "/geofence", body), 422));
  };
  EXPECT_EQ(put(R"({"points":[{"lat":0,"lng":0},{"lat":0,"lng":1},{"lat":1,"lng":0},
                   {"lat":1,"lng":1},{"lat":0,"lng":0}]})"),
            "points[3]");  // a bow-tie
  EXPECT_EQ(
      put(R"({"points":[{"lat":0,"lng":0},{"lat":0,"lng":1},{"lat":1,"lng":1},{"lat":1,"lng":0}]})"),
      "points[3]");  // not closed
  EXPECT_EQ(put(R"({"center":{"lat":0,"lng":0},"radius_m":0})"), "radius_m");
  EXPECT_EQ(put(R"({"center":{"lat":95,"lng":0},"radius_m":10})"), "center.lat");
  EXPECT_EQ(first_field(problem_of(
                send("PUT", "/v1/customers/" + acme_ + "/geofence", R"({"shape":"x"})"), 400)),
            "shape");
  problem_of(send("PUT", "/v1/customers/" + acme_ + "/geofence", k_square, {{"If-Match", "\"9\""}}),
             412);
  problem_of(send("PUT", "/v1/sites/01a2085e-2d6a-7000-8dc5-9574100495dd/geofence", k_square), 404);
  problem_of(send("GET", "/v1/customers/" + acme_ + "/geofence"), 404);
  EXPECT_EQ(log_size(), before);

  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/geo/containing?lat=1"), 422)), "lng");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/geo/containing?lat=91&lng=0"), 422)), "lat");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/geo/nearby?lat=1&lng=x"), 422)), "lng");
  EXPECT_EQ(
      first_field(problem_of(send("GET", "/v1/geo/nearby?lat=1&lng=1&radius_m=2000000"), 422)),
      "radius_m");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/geo/nearby?lat=1&lng=1&near=2"), 400)), "near");
}

TEST_P(GeoApi, NearbySitesComeNearestFirstWithinTheRadiusUpToTheLimit) {
  const auto a = site("A", 51.5, -0.1);       // the centre
  const auto b = site("B", 51.503, -0.1);     // ~334 m
  const auto c = site("C", 51.5, -0.11);      // ~694 m
  const auto d = site("D", 51.52, -0.1);      // ~2.2 km
  const auto far = site("Far", 48.85, 2.35);  // Paris
  EXPECT_EQ(nearby(51.5, -0.1, 1000), (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(nearby(51.5, -0.1, 5000), (std::vector<std::string>{a, b, c, d}));
  EXPECT_EQ(nearby(51.5, -0.1, 5000, 2), (std::vector<std::string>{a, b}));
  EXPECT_EQ(nearby(48.8, 2.3, 10000), std::vector<std::string>{far});
  auto r = json_of(get("/v1/geo/nearby?lat=51.5&lng=-0.1&radius_m=1000"));
  const auto& items = r.find("items")->as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].find("distance_m")->as_number(), 0);
  EXPECT_NEAR(items[1].find("distance_m")->as_number(), 333.6, 1);
  EXPECT_EQ(items[1].string_at("name"), "B");
  EXPECT_EQ(items[1].string_at("customer_id"), acme_);
}

TEST_P(GeoApi, MovesChangesClearsAndRemovalsKeepTheIndexRight) {
  const auto a = site("A", 51.5, -0.1);
  const auto b = site("B", 51.6, -0.1);
  EXPECT_EQ(nearby(51.5, -0.1, 1000), std::vector<std::string>{a});
  // A moves 10 km north; B has its lat/lng removed.
  ASSERT_EQ(command("PATCH", "/v1/sites/" + a, "{" + at(51.59, -0.1) + "}").status, 200);
  ASSERT_EQ(
      command("PATCH", "/v1/sites/" + b, R"({"address":{"lat":null,"lng":null,"city":"London"}})")
          .status,
      200);
  EXPECT_TRUE(nearby(51.5, -0.1, 1000).empty());
  EXPECT_EQ(nearby(51.6, -0.1, 5000), std::vector<std::string>{a});

  // A geofence replaced by another no longer answers for the old area; cleared, for none.
  ASSERT_EQ(command("PUT", "/v1/sites/" + a + "/geofence", k_square).status, 200);
  EXPECT_EQ(containing(51.5, -0.1), std::vector<std::string>{a});
  ASSERT_EQ(command("PUT", "/v1/sites/" + a + "/geofence",
                    R"({"center":{"lat":40.0,"lng":-75.0},"radius_m":1000})")
                .status,
            200);
  EXPECT_TRUE(containing(51.5, -0.1).empty());
  EXPECT_EQ(containing(40.0, -75.0), std::vector<std::string>{a});
  auto cleared = command("DELETE", "/v1/sites/" + a + "/geofence", {}, {{"If-Match", "\"4\""}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(containing(40.0, -75.0).empty());
  EXPECT_EQ(json_of(get("/v1/sites/" + a)).find("geofence"), nullptr);
  problem_of(get("/v1/sites/" + a + "/geofence"), 404);

  // A removed site leaves both indexes.
  ASSERT_EQ(command("PUT", "/v1/sites/" + a + "/geofence", k_square).status, 200);
  ASSERT_EQ(command("DELETE", "/v1/sites/" + a).status, 200);
  EXPECT_TRUE(containing(51.5, -0.1).empty());
  EXPECT_TRUE(nearby(51.6, -0.1, 5000).empty());
}

TEST_P(GeoApi, AsOfShowsTheGeofenceAsItWas) {
  ASSERT_EQ(command("PUT", "/v1/customers/" + acme_ + "/geofence", k_square).status, 200);
  auto then = json_of(get("/v1/customers/" + acme_));
  const std::string when(then.string_at("modified_at"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(command("DELETE", "/v1/customers/" + acme_ + "/geofence").status, 200);
  problem_of(get("/v1/customers/" + acme_ + "/geofence"), 404);
  auto past = get("/v1/customers/" + acme_ + "/geofence?as_of=" + when);
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(json_of(past).find("geofence")->string_at("type"), "polygon");
}

INSTANTIATE_TEST_SUITE_P(Logs, GeoApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

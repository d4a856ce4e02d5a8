// The geofence and spatial-index views: a nearby query reads the index cells around the point,
// not every site; the containment index answers through the cells of a point; a rebuild from
// the log gives the same geo keys as the live views.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "commands/pipeline.hpp"
#include "domain/geo.hpp"
#include "infra/memory_event_log.hpp"
#include "json/parse.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/queries.hpp"
#include "projections/runner.hpp"
#include "tests/projections/test_support.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;

value point(double lat, double lng) { return object{{"lat", lat}, {"lng", lng}}; }

class GeoViews : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(model_.restore(log_));
    pipeline_.start();
  }
  void TearDown() override { pipeline_.stop(); }

  value run(command cmd) {
    auto r = test_support::run(pipeline_, std::move(cmd));
    return r ? r->body : value{};
  }
  std::string site(const customer_id& c, double lat, double lng) {
    return std::string(
        run(add_site{c, object{{"name", "S"}, {"address", point(lat, lng)}}}).string_at("id"));
  }
  static std::vector<std::string> ids(const page& p, std::string_view member = "id") {
    std::vector<std::string> out;
    for (const auto& item : p.items) out.emplace_back(json::parse(item)->string_at(member));
    return out;
  }

  infra::memory_event_log log_{4};
  commands::write_model model_;
  commands::pipeline pipeline_{log_, model_};
};

TEST_F(GeoViews, NearbyReadsTheCellsAroundThePointNotEverySite) {
  const customer_id acme{
      std::string(run(register_customer{object{{"name", "Acme"}}}).string_at("id"))};
  // 2,000 sites spread over the globe, none within 50 km of London...
  int far = 0;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 50; ++j) {
      const double lat = -60 + 3.0 * i, lng = -179 + 7.1 * j;
      if (std::abs(lat - 51.5) < 2 && std::abs(lng + 0.1) < 4) continue;
      site(acme, lat, lng);
      ++far;
    }
  }
  ASSERT_GT(far, 1900);
  // ...and three near it.
  const auto a = site(acme, 51.5, -0.1), b = site(acme, 51.505, -0.1), c = site(acme, 51.5, -0.13);
  memory_view_store store;
  runner r(log_, store, make_views());
  ASSERT_TRUE(r.catch_up());

  test_support::counting_store counted(store);
  const queries q(counted);
  auto near = q.nearby(51.5, -0.1, 5000, 10);
  ASSERT_TRUE(near) << near.error().detail;
  EXPECT_EQ(ids(*near), (std::vector<std::string>{a, b, c}));
  EXPECT_LT(counted.reads(), 40u) << "keys read for a 5 km query among " << far + 3 << " sites";

  // The same answer as a full scan with the exact distance.
  auto wide = q.nearby(51.5, -0.1, 1'000'000, 500);
  ASSERT_TRUE(wide);
  std::size_t expected = 0;
  ASSERT_TRUE(store.scan("st/", "", [&](std::string_view, std::string_view v) {
    const auto d = json::parse(v);
    const value* address = d->find("address");
    if (geo::distance_m({51.5, -0.1}, {address->find("lat")->as_number(),
                                       address->find("lng")->as_number()}) <= 1'000'000) {
      ++expected;
    }
    return true;
  }));
  EXPECT_EQ(wide->items.size(), expected);
  EXPECT_GT(expected, 3u);
}

TEST_F(GeoViews, ContainmentReadsOnlyTheGeofencesOfThePointsCells) {
  const customer_id acme{
      std::string(run(register_customer{object{{"name", "Acme"}}}).string_at("id"))};
  std::vector<std::string> sites;
  for (int i = 0; i < 300; ++i) {
    const auto s = site(acme, -50 + 0.3 * i, 10 + 0.5 * i);
    run(set_site_geofence{
        site_id{s}, object{{"center", point(-50 + 0.3 * i, 10 + 0.5 * i)}, {"radius_m", 2000}},
        std::nullopt});
    sites.push_back(s);
  }
  memory_view_store store;
  runner r(log_, store, make_views());
  ASSERT_TRUE(r.catch_up());
  test_support::counting_store counted(store);
  const queries q(counted);
  auto hit = q.containing(-50 + 0.3 * 7, 10 + 0.5 * 7 + 0.01);  // ~700 m from site 7's centre
  ASSERT_TRUE(hit) << hit.error().detail;
  EXPECT_EQ(ids(*hit), std::vector<std::string>{sites[7]});
  EXPECT_LT(counted.reads(), 20u);
  auto miss = q.containing(-50 + 0.3 * 7, 10 + 0.5 * 7 + 0.05);  // ~3.5 km away
  ASSERT_TRUE(miss);
  EXPECT_TRUE(miss->items.empty());
}

}  // namespace
}  // namespace fieldledger::projections

// Geofences in the write model: a refused atomic group that set, replaced and cleared
// geofences restores them exactly (they are journaled with the customer's scalars).
#include <gtest/gtest.h>

#include "commands/pipeline.hpp"
#include "infra/memory_event_log.hpp"
#include "tests/commands/run_command.hpp"

namespace fieldledger::commands {
namespace {

using namespace fieldledger::domain;
using namespace test_support;

value circle(double lat, double radius) {
  return object{{"center", object{{"lat", lat}, {"lng", 0.5}}}, {"radius_m", radius}};
}

class GeofenceJournal : public ::testing::Test {
 protected:
  GeofenceJournal() {
    EXPECT_TRUE(model_.restore(log_));
    pipeline_.start();
  }
  result<command_outcome> run(command cmd) { return run_command(pipeline_, std::move(cmd)); }
  std::vector<result<command_outcome>> run_atomic(std::vector<command> cmds) {
    std::vector<std::pair<command, command_meta>> group;
    for (auto& c : cmds) group.emplace_back(std::move(c), command_meta{"tester", "", ""});
    return run_group(pipeline_, std::move(group), true);
  }
  infra::memory_event_log log_{4};
  write_model model_;
  pipeline pipeline_{log_, model_};
};

TEST_F(GeofenceJournal, ARefusedAtomicGroupRestoresEveryGeofence) {
  auto acme = run(register_customer{object{{"name", "Acme"}}});
  ASSERT_TRUE(acme);
  const customer_id cid{acme->entity_id};
  auto north = run(add_site{cid, object{{"name", "North"}}});
  auto south = run(add_site{cid, object{{"name", "South"}}});
  ASSERT_TRUE(north && south);
  const site_id n{north->entity_id}, s{south->entity_id};
  ASSERT_TRUE(run(set_customer_geofence{cid, circle(1, 100), std::nullopt}));
  ASSERT_TRUE(run(set_site_geofence{n, circle(2, 200), std::nullopt}));
  const auto before = model_.customer(cid);
  ASSERT_EQ(before.geofences.size(), 2u);

  const auto answers = run_atomic({
      set_customer_geofence{cid, circle(3, 300), std::nullopt},  // replaced
      clear_site_geofence{n, std::nullopt},                      // cleared
      set_site_geofence{s, circle(4, 400), std::nullopt},        // new
      set_site_geofence{s, circle(4, 0), std::nullopt},          // refused: radius
  });
  ASSERT_EQ(answers.size(), 4u);
  ASSERT_FALSE(answers.back());
  EXPECT_EQ(answers.back().error().fields.front().field, "radius_m");
  EXPECT_EQ(model_.customer(cid), before) << "geofences and versions restored";

  // Not refused, they land.
  const auto landed = run_atomic({
      set_customer_geofence{cid, circle(3, 300), std::nullopt},
      clear_site_geofence{n, std::nullopt},
      set_site_geofence{s, circle(4, 400), std::nullopt},
  });
  for (const auto& a : landed) ASSERT_TRUE(a) << a.error().detail;
  const auto& after = model_.customer(cid);
  EXPECT_EQ(after.geofences.size(), 2u);
  EXPECT_FALSE(after.geofences.contains(n.get()));
  EXPECT_EQ(after.geofences.at(s.get()).find("radius_m")->as_number(), 400);
  EXPECT_EQ(after.version.get(), before.version.get() + 1);
}

}  // namespace
}  // namespace fieldledger::commands

// The projection runner: incremental views equal a rebuild from the log, checkpoints resume,
// read-your-writes waits, and a failing view store loses nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>

#include "commands/pipeline.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/secret_box.hpp"
#include "json/parse.hpp"
#include "projections/checkpoints.hpp"
#include "projections/generation_store.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/queries.hpp"
#include "projections/runner.hpp"
#include "tests/projections/test_support.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;
using namespace std::chrono_literals;

// Fails the next n commits, then behaves.
class flaky_store final : public view_store {
 public:
  explicit flaky_store(view_store& inner) : inner_(inner) {}
  std::atomic<int> failures{0};
  result<std::optional<std::string>> get(std::string_view key) const override {
    return inner_.get(key);
  }
  result<void> scan(std::string_view prefix, std::string_view after,
                    const scan_fn& fn) const override {
    return inner_.scan(prefix, after, fn);
  }
  result<void> commit(std::span<const write_op> ops) override {
    // One failure per commit until none are left, whichever projection threads commit at once
    // (with a test and a decrement apart, two of them could take the last one and leave -1).
    int left = failures.load();
    while (left > 0 && !failures.compare_exchange_weak(left, left - 1)) {
    }
    if (left > 0) return fail(errc::unavailable, "injected commit failure");
    return inner_.commit(ops);
  }
  result<void> clear() override { return inner_.clear(); }

 private:
  view_store& inner_;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(model_.restore(log_));
    model_.set_secrets(secrets_.get());  // systems
    pipeline_.start();
  }
  void TearDown() override { pipeline_.stop(); }

  // Runs a command; returns its outcome body.
  value run(command cmd) {
    auto r = test_support::run(pipeline_, std::move(cmd));
    if (!r) return {};
    if (r->position) last_.push_back(*r->position);
    return r->body;
  }
  std::string id_of(command cmd) { return std::string(run(std::move(cmd)).string_at("id")); }

  // A customer with contacts, sites, assets and parts, changed in every way.
  void write_history() {
    const customer_id acme{
        id_of(register_customer{object{{"name", "Acme Facilities"}, {"external_id", "A-1"}}})};
    const customer_id beta{
        id_of(register_customer{object{{"name", "Beta"}, {"parent_id", acme.get()}}})};
    const auto david = id_of(add_contact{acme, object{{"name", "David Chen"}}});
    const auto erin =
        id_of(add_contact{acme, object{{"name", "Erin Diaz"}, {"roles", array{"billing"}}}});
    run(make_primary_contact{contact_id{erin}, std::nullopt});
    run(change_contact{contact_id{erin}, object{{"title", "Accounts"}}, std::nullopt});
    run(remove_contact{contact_id{david}, std::nullopt});
    run(change_customer{acme, object{{"dba_name", "Acme"}}, std::nullopt});
    run(deactivate_customer{beta, std::nullopt});
    const auto north = id_of(add_site{acme, object{{"name", "North"}}});
    const auto south = id_of(add_site{acme, object{{"name", "South"}}});
    const auto pump = id_of(register_asset{
        acme, object{{"site_id", north}, {"serial_no", "P-1"}, {"brand", "Grundfos"}}});
    const auto hvac =
        id_of(register_asset{acme, object{{"site_id", north}, {"product_class", "hvac"}}});
    run(move_asset{asset_id{pump}, site_id{south}, std::nullopt});
    const auto fan = id_of(add_part{asset_id{pump}, object{{"name", "Fan"}}});
    run(change_part{part_id{fan}, object{{"part_number", "F-2"}}, std::nullopt});
    run(retire_asset{asset_id{pump}, std::nullopt});
    // notes and work orders
    const auto gate = id_of(add_note{acme, object{{"text", "Gate code"}, {"site_id", north}}});
    id_of(add_note{acme, object{{"text", "Dog"}, {"urgent", true}}});
    run(change_note{note_id{gate}, object{{"urgent", true}, {"site_id", south}}, std::nullopt});
    const auto old = id_of(add_note{acme, object{{"text", "Old"}}});
    run(remove_note{note_id{old}, std::nullopt});
    const auto leak =
        id_of(create_work_order{acme, object{{"site_id", north}, {"summary", "Leak"}}});
    id_of(create_work_order{
        acme, object{{"site_id", south}, {"summary", "Paint"}, {"priority", "high"}}});
    run(move_work_order{work_order_id{leak}, work_order_step::assign, object{{"assignee", "Ann"}},
                        std::nullopt});
    run(move_work_order{work_order_id{leak}, work_order_step::complete, object{}, std::nullopt});
    // systems: a type changed, systems at a site and not, a secret set, changed and revealed
    const system_type_id access{id_of(create_system_type{
        object{{"name", "Access control"},
               {"fields", array{object{{"key", "ip_address"}, {"type", "ipv4"}, {"required", true}},
                                object{{"key", "password"}, {"type", "secret"}}}}}})};
    run(change_system_type{access, object{{"name", "Access"}}, std::nullopt});
    const system_id panel{id_of(assign_system{
        acme, object{{"type_id", access.get()},
                     {"site_id", south},
                     {"values", object{{"ip_address", "10.0.0.1"}, {"password", "pw-1"}}}}})};
    const system_id spare{id_of(assign_system{
        acme, object{{"type_id", access.get()}, {"values", object{{"ip_address", "10.0.0.2"}}}}})};
    run(change_system{panel, object{{"values", object{{"password", "pw-2"}}}}, std::nullopt});
    run(reveal_system_secrets{panel, {}});
    run(remove_system{spare, std::nullopt});
    // files: on the customer, a site and an asset; one removed
    const auto file_fields = [](std::string name, char digit) {
      return value(object{{"name", std::move(name)},
                          {"size", 3},
                          {"content_type", "application/pdf"},
                          {"sha256", std::string(64, digit)}});
    };
    const auto contract =
        id_of(attach_file{file_owner::customer, acme.get(), file_fields("contract.pdf", 'a')});
    id_of(attach_file{file_owner::site, north, file_fields("plan.pdf", 'b')});
    id_of(attach_file{file_owner::asset, hvac, file_fields("manual.pdf", 'c')});
    run(remove_file{file_id{contract}, std::nullopt});
    // geofences and the spatial index: sites with lat/lng, moved, geofences set, changed,
    // cleared, and a located site with a geofence removed (Beta's sites)
    const auto point = [](double lat, double lng) { return object{{"lat", lat}, {"lng", lng}}; };
    const auto east =
        id_of(add_site{beta, object{{"name", "East"}, {"address", point(51.5, -0.1)}}});
    const auto west =
        id_of(add_site{beta, object{{"name", "West"}, {"address", point(51.5, -0.2)}}});
    run(change_site{site_id{east}, object{{"address", point(51.6, -0.1)}}, std::nullopt});
    const value circle = object{{"center", point(51.5, -0.1)}, {"radius_m", 800}};
    const value square =
        object{{"points", array{point(51.0, 0.0), point(51.0, 0.1), point(51.1, 0.1),
                                point(51.1, 0.0), point(51.0, 0.0)}}};
    run(set_customer_geofence{acme, circle, std::nullopt});
    run(set_customer_geofence{acme, square, std::nullopt});
    run(set_site_geofence{site_id{east}, circle, std::nullopt});
    run(set_site_geofence{site_id{west}, square, std::nullopt});
    run(clear_site_geofence{site_id{east}, std::nullopt});
    run(remove_site{site_id{west}, std::nullopt});
  }
  static std::vector<std::pair<std::string, std::string>> dump(const view_store& s) {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(s.scan("", "", [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return true;
    }));
    return out;
  }

  // The views rebuilt from the whole log into a fresh store, as dump() gives them.
  std::vector<std::pair<std::string, std::string>> rebuilt() {
    memory_view_store fresh;
    runner rebuild(log_, fresh, make_views());
    EXPECT_TRUE(rebuild.catch_up());
    return dump(fresh);
  }
  // Every partition applied up to the log's end.
  void expect_at_end(const runner& r) {
    const auto applied = r.applied();
    ASSERT_EQ(applied.size(), log_.partition_count());
    for (std::uint32_t p = 0; p < applied.size(); ++p) {
      EXPECT_EQ(applied[p], log_.end_offset(partition_id{p})) << "partition " << p;
    }
  }

  bool wait_applied(const runner& r) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (const auto& p : last_) all = all && r.has_applied(p);
      if (all) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  infra::memory_event_log log_{4};
  std::unique_ptr<infra::sodium_secret_box> secrets_ = infra::sodium_secret_box::generate();
  commands::write_model model_;
  commands::pipeline pipeline_{log_, model_};
  std::vector<log_position> last_;
};

TEST_F(RunnerTest, IncrementalViewsEqualARebuildFromTheLog) {
  memory_view_store live;
  runner incremental(log_, live, make_views());
  incremental.start();
  write_history();  // while the runner follows the log
  ASSERT_TRUE(wait_applied(incremental));
  incremental.stop();

  const auto a = dump(live), b = rebuilt();
  ASSERT_GT(a.size(), 20u);
  // systems: their views (documents, lists, sealed values) are part of what is compared
  for (const std::string prefix : {"yt/", "ys/", "yc/", "yd/", "yz/"}) {
    EXPECT_TRUE(std::ranges::any_of(a, [&](const auto& kv) {
      return kv.first.starts_with(prefix);
    })) << prefix;
  }
  // files: the two files not removed, and their list entries, are in both
  EXPECT_EQ(std::ranges::count_if(a, [](const auto& kv) { return kv.first.starts_with("fd/"); }),
            2);
  // geofences and the spatial index are covered: geofence documents, cells, site locations
  for (std::string_view p : {"geo/f/", "geo/x/", "geo/c/", "geo/s/", "geo/p/"}) {
    EXPECT_TRUE(std::ranges::any_of(a, [&](const auto& kv) { return kv.first.starts_with(p); }))
        << p;
  }
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "first difference at " << i;
}

// Documents decoded and changed across a whole batch (batch::doc) are written as they are when
// each event is a commit of its own.
TEST_F(RunnerTest, ViewsAppliedInOneBatchEqualViewsAppliedOneEventPerBatch) {
  write_history();
  memory_view_store per_event, whole;
  const auto views = make_views();
  for (std::uint32_t p = 0; p < log_.partition_count(); ++p) {
    auto events = log_.read(partition_id{p}, log_offset{0}, 100000);
    ASSERT_TRUE(events);
    batch all(whole);
    for (const auto& re : *events) {
      batch one(per_event);
      for (const auto& v : views) {
        ASSERT_TRUE(v->apply(re, one));
        ASSERT_TRUE(v->apply(re, all));
      }
      ASSERT_TRUE(per_event.commit(one.take()));
    }
    ASSERT_TRUE(whole.commit(all.take()));
  }
  const auto a = dump(per_event), b = dump(whole);
  ASSERT_GT(a.size(), 20u);
  ASSERT_TRUE(std::ranges::any_of(a, [](const auto& kv) { return kv.first.starts_with("cu/"); }));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "first difference at " << i;
}

// A clean stop applies the tail of the log first, so the views equal a rebuild (what
// `fieldledger verify` checks after a SIGTERM).
TEST_F(RunnerTest, ADrainedStopLeavesTheViewsEqualToTheLog) {
  memory_view_store live;
  runner r(log_, live, make_views());
  r.start();
  write_history();
  ASSERT_TRUE(r.stop_drained());
  for (const auto& p : last_) EXPECT_TRUE(r.has_applied(p)) << to_string(p);
  EXPECT_EQ(dump(live), rebuilt());
}

TEST_F(RunnerTest, ASecondRunnerResumesFromTheCheckpointsAndAppliesNothingTwice) {
  write_history();
  memory_view_store store;
  {
    runner first(log_, store, make_views());
    ASSERT_TRUE(first.catch_up());
  }
  const auto before = dump(store);
  runner second(log_, store, make_views());
  ASSERT_TRUE(second.catch_up());
  EXPECT_EQ(dump(store), before);
  expect_at_end(second);
}

// Views at the same offset share one checkpoint key per partition, however many views there
// are, whether the runner followed the log event by event or caught up at once.
TEST_F(RunnerTest, EachPartitionHasOneCheckpointKeyForAllTheViews) {
  memory_view_store live;
  runner incremental(log_, live, make_views());
  incremental.start();
  write_history();
  // Two partitions with events at least, whichever partitions the random ids fall in.
  const auto used = [&] {
    int n = 0;
    for (std::uint32_t p = 0; p < 4; ++p) n += log_.end_offset(partition_id{p}).get() > 0 ? 1 : 0;
    return n;
  };
  while (used() < 2) id_of(register_customer{object{{"name", "Another"}}});
  ASSERT_TRUE(wait_applied(incremental));
  incremental.stop();
  const auto checkpoint_keys = [](const view_store& s) {
    std::vector<std::string> out;
    EXPECT_TRUE(s.scan("~ckpt/", "", [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    }));
    return out;
  };
  std::vector<std::string> expected;  // partitions without events have no checkpoint yet
  for (std::uint32_t p = 0; p < 4; ++p) {
    if (log_.end_offset(partition_id{p}).get() > 0) expected.push_back(shared_checkpoint_key(p));
  }
  ASSERT_GE(expected.size(), 2u);
  EXPECT_EQ(checkpoint_keys(live), expected);
  memory_view_store fresh;
  runner rebuild(log_, fresh, make_views());
  ASSERT_TRUE(rebuild.catch_up());
  EXPECT_EQ(checkpoint_keys(fresh), expected);
}

// A view added to an existing store starts from the beginning on its own while the others stay
// where they are; once it has caught up, the store equals a rebuild of all the views.
TEST_F(RunnerTest, AViewAddedLaterCatchesUpAloneAndEndsEqualToARebuild) {
  write_history();
  memory_view_store store;
  {
    auto without_files = make_views();
    std::erase_if(without_files, [](const auto& v) { return v->name() == "files"; });
    ASSERT_EQ(without_files.size() + 1, make_views().size());
    runner first(log_, store, std::move(without_files));
    ASSERT_TRUE(first.catch_up());
  }
  EXPECT_FALSE(*store.get("~ckpt/*/0") == std::nullopt);
  {
    runner second(log_, store, make_views());
    // The files view is behind: it applies the log from the start, the others apply nothing.
    const auto applied = second.applied();
    for (const auto& a : applied) EXPECT_EQ(a.get(), 0);
    ASSERT_TRUE(second.catch_up());
    expect_at_end(second);
  }
  EXPECT_EQ(dump(store), rebuilt());
}

// A store written when each view had a checkpoint key of its own resumes from those keys, and
// its next commit replaces them with the shared one.
TEST_F(RunnerTest, ViewsResumeFromCheckpointKeysOfTheirOwn) {
  write_history();
  memory_view_store store;
  {
    runner first(log_, store, make_views());
    ASSERT_TRUE(first.catch_up());
  }
  // Rewrite the shared checkpoints as an earlier release wrote them: one key per view.
  std::vector<write_op> old_format;
  for (std::uint32_t p = 0; p < 4; ++p) {
    if (log_.end_offset(partition_id{p}).get() == 0) continue;
    auto shared = store.get(shared_checkpoint_key(p));
    ASSERT_TRUE(shared && *shared);
    const auto end = std::to_string(log_.end_offset(partition_id{p}).get());
    ASSERT_TRUE((*shared)->starts_with(end + "\n"));
    old_format.push_back({shared_checkpoint_key(p), std::nullopt});
    for (const auto& v : make_views()) old_format.push_back({checkpoint_key(v->name(), p), end});
  }
  ASSERT_TRUE(store.commit(old_format));
  const auto before = dump(store);
  {
    runner second(log_, store, make_views());
    ASSERT_TRUE(second.catch_up());
    expect_at_end(second);
    EXPECT_EQ(dump(store), before) << "nothing is applied twice";
  }
  // One more event: its partition's next commit leaves only the shared key there.
  run(register_customer{object{{"name", "Gamma"}}});
  const auto p = last_.back().partition.get();
  runner third(log_, store, make_views());
  ASSERT_TRUE(third.catch_up());
  std::size_t own_keys = 0;
  ASSERT_TRUE(store.scan("~ckpt/", "", [&](std::string_view k, std::string_view) {
    if (!k.starts_with("~ckpt/*/") && k.ends_with("/" + std::to_string(p))) ++own_keys;
    return true;
  }));
  EXPECT_EQ(own_keys, 0u);
  auto a = dump(store), b = rebuilt();
  std::erase_if(a, [&](const auto& kv) { return kv.first.starts_with("~ckpt/"); });
  std::erase_if(b, [&](const auto& kv) { return kv.first.starts_with("~ckpt/"); });
  EXPECT_EQ(a, b);
}

// A checkpoint that does not hold an offset is a store fault, answered as an error.
TEST_F(RunnerTest, ACheckpointThatIsNotAnOffsetIsAnError) {
  memory_view_store store;
  ASSERT_TRUE(store.commit(std::vector<write_op>{{shared_checkpoint_key(2), "12x\ncustomers"}}));
  runner r(log_, store, make_views());
  auto caught = r.catch_up();
  ASSERT_FALSE(caught);
  EXPECT_EQ(caught.error().code, errc::internal);
  EXPECT_NE(caught.error().detail.find("~ckpt/*/2"), std::string::npos) << caught.error().detail;
}

// History entries are written straight to text: each is the canonical JSON of its value (what
// to_json wrote when the entry was built as an object first, so views written by earlier
// releases still verify), over every kind of event of the history.
TEST_F(RunnerTest, HistoryEntriesAreCanonicalJson) {
  write_history();
  memory_view_store store;
  runner r(log_, store, make_views());
  ASSERT_TRUE(r.catch_up());
  std::size_t entries = 0;
  std::set<std::string> types;
  ASSERT_TRUE(store.scan("hi/", "", [&](std::string_view, std::string_view v) {
    auto doc = json::parse(v);
    EXPECT_TRUE(doc) << v;
    if (!doc) return false;
    EXPECT_EQ(to_json(*doc), v);
    types.emplace(doc->string_at("type"));
    ++entries;
    return true;
  }));
  EXPECT_GE(entries, 40u);
  for (const auto* t : {"customer.details-changed", "customer.deactivated", "contact.removed",
                        "asset.moved", "contact.primary-designated", "system.assigned"}) {
    EXPECT_TRUE(types.contains(t)) << t;
  }
}

TEST_F(RunnerTest, WhenAppliedAnswersTrueOnceAppliedAndFalseAtTheDeadline) {
  memory_view_store store;
  runner r(log_, store, make_views());
  r.start();
  run(register_customer{object{{"name", "Acme"}}});
  std::promise<bool> applied;
  r.when_applied(last_.back(), std::chrono::steady_clock::now() + 10s,
                 [&](bool ok) { applied.set_value(ok); });
  EXPECT_TRUE(applied.get_future().get());
  EXPECT_TRUE(r.has_applied(last_.back()));

  std::promise<bool> never;
  const auto start = std::chrono::steady_clock::now();
  r.when_applied({last_.back().partition, log_offset{1000}}, start + 150ms,
                 [&](bool ok) { never.set_value(ok); });
  EXPECT_FALSE(never.get_future().get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
  r.stop();
}

TEST_F(RunnerTest, APauseKeepsWaitersWaitingAndFollowsOnFromTheSwappedStore) {
  generation_store store(std::make_shared<memory_view_store>(), 1);
  runner r(log_, store, make_views());
  r.start();
  write_history();
  ASSERT_TRUE(wait_applied(r));
  // Someone waits for the next event of every partition, across the pause.
  std::atomic<int> satisfied{0}, failed{0};
  for (std::uint32_t p = 0; p < 4; ++p) {
    r.when_applied({partition_id{p}, log_.end_offset(partition_id{p})},
                   std::chrono::steady_clock::now() + 10s,
                   [&](bool ok) { ++(ok ? satisfied : failed); });
  }
  auto paused = r.while_paused([&]() -> result<void> {
    for (int i = 0; i < 40; ++i)
      run(register_customer{object{{"name", "During " + std::to_string(i)}}});
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(satisfied + failed, 0) << "nobody is answered while the views are paused";
    auto fresh = std::make_shared<memory_view_store>();
    runner builder(log_, *fresh, make_views());
    if (auto ok = builder.catch_up(); !ok) return ok;
    store.swap(fresh, 2);
    return {};
  });
  ASSERT_TRUE(paused) << paused.error().detail;
  for (int i = 0; i < 500 && satisfied < 4; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(satisfied, 4);
  EXPECT_EQ(failed, 0);
  run(register_customer{object{{"name", "After"}}});
  ASSERT_TRUE(wait_applied(r));
  r.stop();
  EXPECT_EQ(dump(store), rebuilt());
}

TEST_F(RunnerTest, FailingCommitsAreRetriedAndNothingIsLost) {
  memory_view_store inner;
  flaky_store store(inner);
  store.failures = 3;
  runner r(log_, store, make_views());
  r.start();
  write_history();
  ASSERT_TRUE(wait_applied(r));
  r.stop();
  EXPECT_EQ(store.failures.load(), 0);
  EXPECT_EQ(dump(inner), rebuilt());
}

TEST_F(RunnerTest, QueriesSeeWhatTheViewsHold) {
  write_history();
  memory_view_store store;
  runner r(log_, store, make_views());
  ASSERT_TRUE(r.catch_up());
  queries q(store);
  auto page = q.customers({.q = "acm"});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 1u);
  auto doc = json::parse(page->items[0]);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->string_at("dba_name"), "Acme");
  EXPECT_EQ(doc->find("counts")->find("contacts")->as_int(), 1);
  EXPECT_EQ(doc->find("counts")->find("sites")->as_int(), 2);
  EXPECT_EQ(doc->find("counts")->find("assets")->as_int(), 1);
  EXPECT_EQ(doc->find("primary_contact")->string_at("name"), "Erin Diaz");
  EXPECT_EQ(doc->find("primary_contact")->string_at("title"), "Accounts");
  // "Acme Facilities" has two words starting with neither; "a" matches "acme" only once.
  EXPECT_EQ(q.customers({.q = "a"})->items.size(), 1u);
  EXPECT_TRUE(q.customers({.status = "inactive"})->items.size() == 1u);
  auto bad = q.customers({.q = "acm", .cursor = "00"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid);
  EXPECT_EQ(q.customers({.equipment = "GRUNDFOS"})->items.size(), 0u) << "the pump is retired";
  EXPECT_EQ(q.customers({.equipment = "hvac"})->items.size(), 1u);
  auto children = q.children_of(customer_id{std::string(doc->string_at("id"))}, 10, "");
  ASSERT_TRUE(children);
  EXPECT_EQ(children->items.size(), 1u);
}

}  // namespace
}  // namespace fieldledger::projections

// The write model under an entity limit: customer states it evicts are read back from the log
// exactly as they were, on restore and between batches, and a log that cannot be read leaves a
// command unanswered without changing anything.
#include "commands/write_model.hpp"

#include <gtest/gtest.h>

#include "commands/pipeline.hpp"
#include "infra/faulty_event_log.hpp"
#include "infra/memory_event_log.hpp"
#include "infra/memory_state_store.hpp"
#include "tests/commands/run_command.hpp"

namespace fieldledger::commands {
namespace {

using namespace fieldledger::domain;
using namespace test_support;

// Each test runs with evicted states read back from the log alone ("log") and with them put in
// a state store, read back from it plus the events since ("store").
class WriteModelLimit : public ::testing::TestWithParam<bool> {
 protected:
  static constexpr std::size_t k_limit = 6;  // entities: about one customer with its entries

  WriteModelLimit() : faulty_(memory_) {
    model_.set_entity_limit(k_limit);
    if (GetParam()) model_.set_state_store(&states_);
    EXPECT_TRUE(model_.restore(faulty_));
    pipeline_.start();
  }

  result<command_outcome> run(command cmd) { return run_command(pipeline_, std::move(cmd)); }

  std::string ok(command cmd) {
    auto r = run(std::move(cmd));
    EXPECT_TRUE(r) << r.error().detail;
    return r ? r->entity_id : std::string();
  }

  // A customer with one of each kind of entry, and some changes to them.
  std::string furnished(const std::string& name, const std::string& serial) {
    const auto c = ok(register_customer{value(object{{"name", value(name)}})});
    const customer_id cid{c};
    const auto contact = ok(add_contact{cid, value(object{{"name", value("David")}})});
    ok(make_primary_contact{contact_id{contact}, std::nullopt});
    const auto site = ok(add_site{cid, value(object{{"name", value("North")}})});
    const auto asset = ok(
        register_asset{cid, value(object{{"site_id", value(site)}, {"serial_no", value(serial)}})});
    ok(add_part{asset_id{asset}, value(object{{"name", value("Fan")}})});
    ok(add_note{cid, value(object{{"text", value("Gate code 1234")}})});
    ok(create_work_order{cid, value(object{{"site_id", value(site)}, {"summary", value("Leak")}})});
    ok(change_customer{cid, value(object{{"phone1", value("555-0100")}}), std::nullopt});
    return c;
  }

  // The model a restore without a limit makes of the same log.
  write_model unlimited() {
    write_model m;
    EXPECT_TRUE(m.restore(memory_));
    return m;
  }

  std::int64_t log_size() { return events_in(memory_); }

  infra::memory_event_log memory_{4};
  infra::faulty_event_log faulty_;
  infra::memory_state_store states_;
  write_model model_;
  pipeline pipeline_{faulty_, model_};
};

TEST_P(WriteModelLimit, EvictedCustomersAreReadBackAsTheyWere) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(furnished("Customer " + std::to_string(i), "SN-" + std::to_string(i)));
  }
  // The first customer, evicted by the others, is changed again: read back, then evolved.
  ok(change_customer{customer_id{ids[0]}, value(object{{"phone1", value("555-0199")}}),
                     std::nullopt});
  ok(add_contact{customer_id{ids[1]}, value(object{{"name", value("Erin")}})});
  ok(register_customer{value(object{{"name", value("Last")}})});  // a batch: trims

  const auto stats = model_.memory();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_GT(stats.loads, 0u) << "customers 0 and 1 were read back";
  if (GetParam()) {
    EXPECT_EQ(stats.from_store, stats.loads) << "every state read back started from the store";
    EXPECT_EQ(states_.puts, static_cast<int>(stats.evictions));
  } else {
    EXPECT_EQ(stats.from_store, 0u);
  }
  EXPECT_LE(stats.held_entities, k_limit + 1) << "at most the last batch's customer over it";

  const auto reference = unlimited();
  for (const auto& id : ids) {
    EXPECT_EQ(model_.customer(customer_id{id}), reference.customer(customer_id{id})) << id;
    EXPECT_EQ(model_.last_position(customer_id{id}), reference.last_position(customer_id{id}));
  }
  EXPECT_EQ(model_.customer(customer_id{ids[0]}).fields.string_at("phone1"), "555-0199");
  EXPECT_EQ(model_.serial_owner("SN-2"), reference.serial_owner("SN-2"));
}

TEST_P(WriteModelLimit, RestoreUnderALimitEqualsRestoreWithout) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(furnished("Customer " + std::to_string(i), "SN-" + std::to_string(i)));
  }
  // Touches of earlier customers after later ones, so the restore has to read them back.
  for (const auto& id : ids) {
    ok(add_note{customer_id{id}, value(object{{"text", value("Second visit")}})});
  }
  write_model limited;
  limited.set_entity_limit(k_limit);
  ASSERT_TRUE(limited.restore(memory_));
  const auto stats = limited.memory();
  EXPECT_GT(stats.loads, 0u);
  EXPECT_LE(stats.held_entities, k_limit) << "trimmed after each event";
  const auto reference = unlimited();
  EXPECT_EQ(limited.customer_count(), reference.customer_count());
  for (const auto& id : ids) {
    EXPECT_EQ(limited.customer(customer_id{id}), reference.customer(customer_id{id})) << id;
    EXPECT_EQ(limited.customer_exists(customer_id{id}), true);
  }
}

// A restore under a limit reads each customer back once, not in the log's order: its indexes,
// numbers and idempotency records still equal the ones the log's order makes.
TEST_P(WriteModelLimit, RestoredIndexesAndRecordsEqualTheLogOrdersOnes) {
  const auto keyed = [&](command cmd, const std::string& key) {
    auto r = run_command(pipeline_, std::move(cmd), {"tester", key, "digest-" + key});
    EXPECT_TRUE(r) << r.error().detail;
    return r ? r->entity_id : std::string();
  };
  // Two customers in different partitions, A's replayed after B's.
  std::string a, b;
  while (a.empty() || b.empty()) {
    const auto c = ok(register_customer{value(object{{"name", value("X")}})});
    const auto p = partition_for(customer_id{c}, memory_.partition_count()).get();
    if (p > 0 && a.empty()) {
      a = c;
    } else if (!a.empty() && p < partition_for(customer_id{a}, memory_.partition_count()).get()) {
      b = c;
    }
  }
  keyed(
      change_customer{customer_id{a}, value(object{{"external_id", value("EXT-1")}}), std::nullopt},
      "k1");
  // A gives EXT-1 up for EXT-2, then B takes EXT-1: a replay of A's partition after B's that
  // followed each event would drop EXT-1.
  keyed(
      change_customer{customer_id{a}, value(object{{"external_id", value("EXT-2")}}), std::nullopt},
      "k2");
  ok(change_customer{customer_id{b}, value(object{{"external_id", value("EXT-1")}}), std::nullopt});
  furnished("C", "SN-B");
  const auto site = ok(add_site{customer_id{a}, value(object{{"name", value("Yard")}})});
  const auto pump =
      keyed(register_asset{customer_id{a},
                           value(object{{"site_id", value(site)}, {"serial_no", value("SN-1")}})},
            "k3");
  ok(change_asset{asset_id{pump}, value(object{{"serial_no", value("SN-2")}}), std::nullopt});
  const auto fan = ok(register_asset{
      customer_id{a}, value(object{{"site_id", value(site)}, {"serial_no", value("SN-1")}})});
  ok(retire_asset{asset_id{fan}, std::nullopt});
  keyed(create_work_order{customer_id{a},
                          value(object{{"site_id", value(site)}, {"summary", value("Check")}})},
        "k4");

  write_model limited;
  limited.set_entity_limit(k_limit);
  ASSERT_TRUE(limited.restore(memory_));
  EXPECT_LE(limited.memory().held_entities, k_limit);  // (customer() below may read one back)
  auto reference = unlimited();
  for (const std::string ext : {"EXT-1", "EXT-2", "EXT-3"}) {
    EXPECT_EQ(limited.external_id_owner(ext), reference.external_id_owner(ext)) << ext;
  }
  EXPECT_EQ(limited.external_id_owner("EXT-1"), customer_id{b});
  EXPECT_EQ(reference.external_id_owner("EXT-1"), customer_id{b})
      << "a replay partition by partition, in the log's order within each, too";
  for (const std::string serial : {"SN-1", "SN-2", "SN-B"}) {
    EXPECT_EQ(limited.serial_owner(serial), reference.serial_owner(serial)) << serial;
  }
  EXPECT_EQ(limited.serial_owner("SN-1"), fan) << "a retired asset keeps its serial";
  EXPECT_EQ(limited.owner_of(pump), customer_id{a});
  EXPECT_EQ(limited.owner_of(site), reference.owner_of(site));
  for (const std::string key : {"k1", "k2", "k3", "k4"}) {
    const auto* got = limited.idempotency("tester", key);
    const auto* want = reference.idempotency("tester", key);
    ASSERT_TRUE(got && want) << key;
    EXPECT_EQ(got->outcome.body, want->outcome.body) << key;
    EXPECT_EQ(got->outcome.status, want->outcome.status) << key;
    EXPECT_EQ(got->outcome.location, want->outcome.location) << key;
    EXPECT_EQ(got->request_digest, want->request_digest) << key;
  }
  EXPECT_EQ(limited.idempotency_records(), reference.idempotency_records());
  EXPECT_EQ(limited.next_customer_number(), reference.next_customer_number());
  EXPECT_EQ(limited.next_work_order_number(), reference.next_work_order_number());
  EXPECT_EQ(limited.customer(customer_id{a}), reference.customer(customer_id{a}));
}

TEST_P(WriteModelLimit, AnUnreadableLogLeavesTheCommandUndecidedAndNothingChanged) {
  const auto first = furnished("First", "SN-1");
  furnished("Second", "SN-2");
  ok(register_customer{value(object{{"name", value("Third")}})});
  const auto size = log_size();
  const auto loads = model_.memory().loads;

  faulty_.fail_reads(1000, errc::unavailable);
  states_.fail_next(1000);  // (with a store: a state found there would need no read of the log)
  auto r = run(change_customer{customer_id{first}, value(object{{"phone1", value("555-0142")}}),
                               std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_NE(r.error().detail.find("could not be read"), std::string::npos) << r.error().detail;
  EXPECT_EQ(log_size(), size) << "nothing appended";
  EXPECT_EQ(model_.memory().loads, loads);

  faulty_.fail_reads(0);
  states_.fail_next(0);
  auto retry = run(change_customer{customer_id{first}, value(object{{"phone1", value("555-0142")}}),
                                   std::nullopt});
  ASSERT_TRUE(retry) << retry.error().detail;
  EXPECT_EQ(retry->version.get(), 3);
  EXPECT_EQ(model_.customer(customer_id{first}), unlimited().customer(customer_id{first}));
}

TEST_P(WriteModelLimit, ARefusedGroupOnEvictedCustomersRestoresThem) {
  const auto first = furnished("First", "SN-1");
  const auto second = furnished("Second", "SN-2");
  ok(register_customer{value(object{{"name", value("Third")}})});  // both evicted
  const command_meta meta{"tester", "", ""};
  std::vector<std::pair<command, command_meta>> group;
  group.emplace_back(change_customer{customer_id{first},
                                     value(object{{"phone1", value("555-0111")}}), std::nullopt},
                     meta);
  group.emplace_back(add_contact{customer_id{second}, value(object{{"name", value("Fay")}})}, meta);
  group.emplace_back(
      register_asset{customer_id{second},
                     value(object{{"site_id", value("none")}, {"serial_no", value("SN-9")}})},
      meta);  // refused: no such site
  const auto answers = run_group(pipeline_, std::move(group), true);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_FALSE(answers[2]);

  // The failed append of a command on an evicted customer is undone as well.
  ok(register_customer{value(object{{"name", value("Fourth")}})});
  faulty_.fail_appends(1, errc::unavailable);
  EXPECT_FALSE(run(add_note{customer_id{first}, value(object{{"text", value("Lost")}})}));

  ok(register_customer{value(object{{"name", value("Fifth")}})});
  const auto reference = unlimited();
  EXPECT_EQ(model_.customer(customer_id{first}), reference.customer(customer_id{first}));
  EXPECT_EQ(model_.customer(customer_id{second}), reference.customer(customer_id{second}));
  EXPECT_EQ(model_.customer(customer_id{first}).fields.string_at("phone1"), "555-0100");
}

// A store that fails (puts and gets alike) costs a read of the log, not a wrong state.
TEST_P(WriteModelLimit, AFailingStoreFallsBackToTheLog) {
  if (!GetParam()) GTEST_SKIP() << "store only";
  const auto first = furnished("First", "SN-1");
  furnished("Second", "SN-2");
  states_.fail_next(1000);
  ok(change_customer{customer_id{first}, value(object{{"phone1", value("555-0142")}}),
                     std::nullopt});
  furnished("Third", "SN-3");
  states_.fail_next(0);
  ok(add_note{customer_id{first}, value(object{{"text", value("After")}})});
  ok(register_customer{value(object{{"name", value("Last")}})});
  const auto stats = model_.memory();
  EXPECT_GT(stats.store_failures, 0u);
  EXPECT_LT(stats.from_store, stats.loads);
  EXPECT_EQ(model_.customer(customer_id{first}), unlimited().customer(customer_id{first}));
}

INSTANTIATE_TEST_SUITE_P(ReadBack, WriteModelLimit, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "store" : "log"; });

}  // namespace
}  // namespace fieldledger::commands

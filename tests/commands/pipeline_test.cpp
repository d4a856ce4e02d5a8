#include "commands/pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "infra/faulty_event_log.hpp"
#include "infra/memory_event_log.hpp"
#include "tests/commands/run_command.hpp"

namespace fieldledger::commands {
namespace {

using namespace fieldledger::domain;
using namespace test_support;

// Counts appends, so a test can see commands share them.
class counting_log final : public event_log {
 public:
  explicit counting_log(event_log& inner) : inner_(inner) {}
  std::uint32_t partition_count() const noexcept override { return inner_.partition_count(); }
  result<std::vector<log_position>> append(std::span<const event> events) override {
    ++appends;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // an fsync takes time
    return inner_.append(events);
  }
  result<std::vector<recorded_event>> read(partition_id p, log_offset from,
                                           std::size_t max) override {
    return inner_.read(p, from, max);
  }
  log_offset end_offset(partition_id p) override { return inner_.end_offset(p); }
  bool wait_for(partition_id p, log_offset o, std::chrono::milliseconds t) override {
    return inner_.wait_for(p, o, t);
  }
  void close() override { inner_.close(); }
  std::atomic<int> appends{0};

 private:
  event_log& inner_;
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : faulty_(memory_), log_(faulty_) {
    EXPECT_TRUE(model_.restore(log_));
    pipeline_.start();
  }

  result<command_outcome> run(command cmd, command_meta meta = {"tester", "", ""}) {
    return run_command(pipeline_, std::move(cmd), std::move(meta));
  }

  std::string register_acme(std::string external = "") {
    object body{{"name", value("Acme Facilities Ltd")}};
    if (!external.empty()) body.emplace("external_id", value(external));
    auto r = run(register_customer{value(std::move(body))});
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r ? r->entity_id : std::string();
  }

  std::string add(const std::string& customer, const std::string& name) {
    auto r = run(add_contact{customer_id{customer}, value(object{{"name", value(name)}})});
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r ? r->entity_id : std::string();
  }

  std::int64_t log_size() { return events_in(memory_); }

  infra::memory_event_log memory_{4};
  infra::faulty_event_log faulty_;
  counting_log log_;
  write_model model_;
  pipeline pipeline_{log_, model_};
};

TEST_F(PipelineTest, RegisterAnswersCreatedWithNumberAndPosition) {
  auto r = run(register_customer{value(object{{"name", value("Acme")}})});
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->location, "/v1/customers/" + r->entity_id);
  EXPECT_EQ(r->version.get(), 1);
  ASSERT_TRUE(r->position.has_value());
  EXPECT_EQ(r->body.string_at("number"), "C-000001");
  EXPECT_EQ(r->body.string_at("position"), to_string(*r->position));
  EXPECT_EQ(log_size(), 1);
}

TEST_F(PipelineTest, NumbersAreUniqueAndIncreasing) {
  register_acme();
  auto r = run(register_customer{value(object{{"name", value("Beta")}})});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.string_at("number"), "C-000002");
}

TEST_F(PipelineTest, RejectedCommandAppendsNothing) {
  register_acme("BILL-1");
  const auto before = log_size();
  auto r = run(
      register_customer{value(object{{"name", value("Other")}, {"external_id", value("BILL-1")}})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::conflict);
  EXPECT_EQ(log_size(), before);
}

TEST_F(PipelineTest, ConcurrentCommandsShareAppends) {
  constexpr int k_commands = 200;
  std::vector<std::future<result<command_outcome>>> answers;
  std::vector<std::promise<result<command_outcome>>> promises(k_commands);
  for (int i = 0; i < k_commands; ++i) {
    answers.push_back(promises[i].get_future());
    pipeline_.submit(register_customer{value(object{{"name", value("C" + std::to_string(i))}})},
                     {"tester", "", ""}, [&promises, i](result<command_outcome> r) {
                       promises[i].set_value(std::move(r));
                     });
  }
  std::set<std::string> numbers;
  for (auto& a : answers) {
    auto r = a.get();
    ASSERT_TRUE(r);
    numbers.insert(std::string(r->body.string_at("number")));
  }
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(k_commands));
  EXPECT_EQ(log_size(), k_commands);
  EXPECT_LT(log_.appends.load(), k_commands / 2) << "commands should share group commits";
}

TEST_F(PipelineTest, ConcurrentMakePrimaryLeavesExactlyOnePrimary) {
  const auto customer = register_acme();
  std::vector<std::string> contacts;
  for (int i = 0; i < 20; ++i) contacts.push_back(add(customer, "P" + std::to_string(i)));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (const auto& c : contacts) {
    threads.emplace_back([&, c] {
      if (run(make_primary_contact{contact_id{c}, std::nullopt})) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  const auto& state = model_.customer(customer_id{customer});
  EXPECT_FALSE(state.primary_contact.empty());
  // Replaying the log gives the same single primary.
  write_model replayed;
  ASSERT_TRUE(replayed.restore(memory_));
  EXPECT_EQ(replayed.customer(customer_id{customer}).primary_contact, state.primary_contact);
}

TEST_F(PipelineTest, IdempotentRetryReturnsFirstAnswerAndAppendsNothing) {
  command_meta meta{"tester", "key-1", "digest-a"};
  auto first = run(register_customer{value(object{{"name", value("Acme")}})}, meta);
  ASSERT_TRUE(first);
  const auto size = log_size();
  auto again = run(register_customer{value(object{{"name", value("Acme")}})}, meta);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->entity_id, first->entity_id);
  EXPECT_EQ(again->status, 201);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(log_size(), size);
}

TEST_F(PipelineTest, IdempotencyKeyWithOtherRequestIsRejected) {
  ASSERT_TRUE(
      run(register_customer{value(object{{"name", value("Acme")}})}, {"tester", "k", "d1"}));
  auto r = run(register_customer{value(object{{"name", value("Other")}})}, {"tester", "k", "d2"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::idempotency_mismatch);
}

TEST_F(PipelineTest, IdempotencyRecordsSurviveRestore) {
  command_meta meta{"tester", "key-2", "digest"};
  auto first = run(register_customer{value(object{{"name", value("Acme")}})}, meta);
  ASSERT_TRUE(first);
  write_model replayed;
  ASSERT_TRUE(replayed.restore(memory_));
  const auto* rec = replayed.idempotency("tester", "key-2");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->outcome.body, first->body);
  EXPECT_EQ(rec->outcome.status, 201);
}

TEST_F(PipelineTest, FailedAppendLeavesNothingAndServiceResumes) {
  const auto customer = register_acme("BILL-7");
  const auto size = log_size();
  faulty_.fail_appends(1, errc::unavailable);
  auto r = run(change_customer{customer_id{customer},
                               value(object{{"external_id", value("BILL-8")}}), std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_EQ(log_size(), size);
  EXPECT_EQ(model_.customer(customer_id{customer}).fields.string_at("external_id"), "BILL-7");
  EXPECT_EQ(model_.external_id_owner("BILL-7"), customer_id{customer});
  auto retry = run(change_customer{customer_id{customer},
                                   value(object{{"external_id", value("BILL-8")}}), std::nullopt});
  ASSERT_TRUE(retry) << retry.error().detail;
  EXPECT_EQ(model_.customer(customer_id{customer}).version.get(), 2);
}

TEST_F(PipelineTest, AFailedAppendRollsBackEveryTentativeChangeWithoutReadingTheLog) {
  const auto customer = register_acme("BILL-7");
  auto site = run(add_site{customer_id{customer}, value(object{{"name", value("North")}})});
  ASSERT_TRUE(site);
  const auto before = model_.customer(customer_id{customer});
  faulty_.fail_appends(1, errc::unavailable);
  faulty_.fail_reads(1000, errc::unavailable);  // a replay of the log would fail too
  auto r = run(register_asset{
      customer_id{customer},
      value(object{{"site_id", value(site->entity_id)}, {"serial_no", value("SN-9")}})});
  ASSERT_FALSE(r);
  faulty_.fail_reads(0);
  EXPECT_EQ(model_.customer(customer_id{customer}), before);
  EXPECT_FALSE(model_.serial_owner("SN-9").has_value());
  auto retry = run(register_asset{
      customer_id{customer},
      value(object{{"site_id", value(site->entity_id)}, {"serial_no", value("SN-9")}})});
  ASSERT_TRUE(retry) << retry.error().detail;
  EXPECT_EQ(model_.serial_owner("SN-9"), retry->entity_id);
}

// An atomic group touching every kind of entry of a customer, refused at its last command:
// the rollback (entry by entry, never a copy of the whole customer) restores it exactly, and a
// customer registered in the group is gone again.
TEST_F(PipelineTest, ARefusedAtomicGroupRestoresEveryEntryItTouched) {
  const auto customer = register_acme("BILL-8");
  const customer_id cid{customer};
  const auto david = add(customer, "David");
  const auto erin = add(customer, "Erin");
  auto north = run(add_site{cid, value(object{{"name", value("North")}})});
  auto south = run(add_site{cid, value(object{{"name", value("South")}})});
  ASSERT_TRUE(north && south);
  auto pump = run(register_asset{
      cid, value(object{{"site_id", value(north->entity_id)}, {"serial_no", value("SN-P")}})});
  ASSERT_TRUE(pump);
  auto fan = run(add_part{asset_id{pump->entity_id}, value(object{{"name", value("Fan")}})});
  ASSERT_TRUE(fan);
  auto note = run(add_note{cid, value(object{{"text", value("Gate code")}})});
  auto job = run(create_work_order{
      cid, value(object{{"site_id", value(north->entity_id)}, {"summary", value("Leak")}})});
  ASSERT_TRUE(note && job);
  const auto before = model_.customer(cid);
  const auto size = log_size();

  std::vector<std::pair<command, command_meta>> group;
  const command_meta meta{"tester", "", ""};
  group.emplace_back(
      change_customer{cid, value(object{{"phone1", value("555-0100")}}), std::nullopt}, meta);
  group.emplace_back(add_contact{cid, value(object{{"name", value("Fay")}})}, meta);
  group.emplace_back(
      change_contact{contact_id{david}, value(object{{"title", value("Boss")}}), std::nullopt},
      meta);
  group.emplace_back(make_primary_contact{contact_id{erin}, std::nullopt}, meta);
  group.emplace_back(remove_contact{contact_id{david}, std::nullopt}, meta);
  group.emplace_back(change_site{site_id{south->entity_id},
                                 value(object{{"name", value("Far South")}}), std::nullopt},
                     meta);
  group.emplace_back(move_asset{asset_id{pump->entity_id}, site_id{south->entity_id}, std::nullopt},
                     meta);
  group.emplace_back(add_part{asset_id{pump->entity_id}, value(object{{"name", value("Belt")}})},
                     meta);
  group.emplace_back(change_part{part_id{fan->entity_id},
                                 value(object{{"part_number", value("F-9")}}), std::nullopt},
                     meta);
  group.emplace_back(
      change_note{note_id{note->entity_id}, value(object{{"urgent", value(true)}}), std::nullopt},
      meta);
  group.emplace_back(add_note{cid, value(object{{"text", value("Dog")}})}, meta);
  group.emplace_back(move_work_order{work_order_id{job->entity_id}, work_order_step::complete,
                                     value(object{}), std::nullopt},
                     meta);
  group.emplace_back(create_work_order{cid, value(object{{"site_id", value(north->entity_id)},
                                                         {"summary", value("Paint")}})},
                     meta);
  group.emplace_back(
      register_customer{value(object{{"name", value("Newco")}, {"external_id", value("NEW-1")}})},
      meta);
  group.emplace_back(register_asset{cid, value(object{{"site_id", value(north->entity_id)},
                                                      {"serial_no", value("SN-P")}})},
                     meta);  // taken
  const auto answers = run_group(pipeline_, std::move(group), true);
  ASSERT_EQ(answers.size(), 15u);
  for (std::size_t i = 0; i + 1 < answers.size(); ++i) {
    ASSERT_FALSE(answers[i]);
    EXPECT_EQ(answers[i].error().code, errc::conflict) << i;
  }
  ASSERT_FALSE(answers.back());
  EXPECT_EQ(answers.back().error().code, errc::conflict);
  EXPECT_EQ(model_.customer(cid), before) << "every touched entry restored";
  EXPECT_EQ(log_size(), size);
  EXPECT_FALSE(model_.external_id_owner("NEW-1").has_value()) << "the new customer is gone";
  EXPECT_EQ(model_.serial_owner("SN-P"), pump->entity_id);
  // Work-order numbers handed to the refused group are not reused (like customer numbers).
  auto next_job = run(create_work_order{
      cid, value(object{{"site_id", value(north->entity_id)}, {"summary", value("Later")}})});
  ASSERT_TRUE(next_job) << next_job.error().detail;
  EXPECT_EQ(model_.customer(cid).work_order(next_job->entity_id)->fields.string_at("number"),
            "WO-000003");

  // The same changes, not refused, all land.
  auto again = run(change_part{part_id{fan->entity_id},
                               value(object{{"part_number", value("F-9")}}), std::nullopt});
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(model_.customer(cid).parts.at(fan->entity_id).fields.string_at("part_number"), "F-9");
}

TEST_F(PipelineTest, UnchangedPatchAppendsNothingAndAnswersCurrentVersion) {
  const auto customer = register_acme();
  const auto size = log_size();
  auto r = run(change_customer{
      customer_id{customer}, value(object{{"name", value("Acme Facilities Ltd")}}), std::nullopt});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version.get(), 1);
  EXPECT_TRUE(r->position.has_value());
  EXPECT_EQ(log_size(), size);
}

TEST_F(PipelineTest, UnknownContactIsNotFound) {
  auto r = run(remove_contact{contact_id{new_id()}, std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
}

TEST_F(PipelineTest, StoppedPipelineAnswersUnavailable) {
  pipeline_.stop();
  auto r = run(register_customer{value(object{{"name", value("Late")}})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
}

}  // namespace
}  // namespace fieldledger::commands

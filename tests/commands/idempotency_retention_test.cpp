// The write model remembers an Idempotency-Key for a retention counted in the log's own time:
// a record is dropped once an event that much newer has settled, live and on restore alike.
#include <gtest/gtest.h>

#include <functional>
#include <future>

#include "commands/pipeline.hpp"
#include "commands/write_model.hpp"
#include "infra/memory_event_log.hpp"

namespace fieldledger::commands {
namespace {

using namespace fieldledger::domain;
using namespace std::chrono_literals;

struct step {
  std::function<command()> make;  // called when the step runs (it may need earlier ids)
  std::string key;                // Idempotency-Key, "" for none
  std::string time;               // the time its event gets in the log
};

class IdempotencyRetention : public ::testing::Test {
 protected:
  // Runs the steps through a pipeline on a scratch log, then copies their events into log_
  // with the steps' times (the pipeline stamps the wall clock).
  void record(const std::vector<step>& steps) {
    infra::memory_event_log scratch;
    write_model model;
    ASSERT_TRUE(model.restore(scratch));
    pipeline p(scratch, model);
    p.start();
    for (const auto& s : steps) {
      std::promise<result<command_outcome>> done;
      auto f = done.get_future();
      p.submit(s.make(), {"tester", s.key, s.key.empty() ? "" : "digest-" + s.key},
               [&done](result<command_outcome> r) { done.set_value(std::move(r)); });
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().detail;
      if (customer_.empty()) customer_ = r->entity_id;
    }
    p.stop();
    auto events = scratch.read(partition_id{0}, log_offset{0}, 1000);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), steps.size());  // one event per command here
    std::vector<event> retimed;
    for (std::size_t i = 0; i < events->size(); ++i) {
      retimed.push_back((*events)[i].e);
      retimed.back().time = steps[i].time;
    }
    ASSERT_TRUE(log_.append(retimed));
  }

  step registered(std::string key, std::string time) {
    return {[] {
              return command{register_customer{value(object{{"name", value("Acme")}})}};
            },
            std::move(key), std::move(time)};
  }
  step renamed(std::string name, std::string key, std::string time) {
    return {[this, name] {
              return command{change_customer{customer_id{customer_},
                                             value(object{{"name", value(name)}}), std::nullopt}};
            },
            std::move(key), std::move(time)};
  }

  infra::memory_event_log log_;
  std::string customer_;
};

TEST_F(IdempotencyRetention, AKeyIsForgottenOnceAnEventPastTheRetentionSettles) {
  record({registered("old", "2026-01-01T00:00:00.000Z"),
          renamed("Acme 2", "recent", "2026-01-01T23:00:00.000Z"),
          renamed("Acme 3", "", "2026-01-02T00:30:00.500Z")});  // 24.5 h after "old"
  write_model model;                                            // the default: 24 h
  ASSERT_TRUE(model.restore(log_));
  EXPECT_EQ(model.idempotency("tester", "old"), nullptr);
  const auto* recent = model.idempotency("tester", "recent");
  ASSERT_NE(recent, nullptr);
  EXPECT_EQ(recent->request_digest, "digest-recent");
  EXPECT_EQ(model.idempotency_records(), 1u);

  write_model longer;
  longer.set_idempotency_retention(48h);
  ASSERT_TRUE(longer.restore(log_));
  EXPECT_NE(longer.idempotency("tester", "old"), nullptr);
  EXPECT_NE(longer.idempotency("tester", "recent"), nullptr);
}

TEST_F(IdempotencyRetention, ARecordOlderThanTheNewestEventIsNotKeptAtAll) {
  // Replay meets partitions one after another, so an older command can settle after a newer
  // event: a record already past the retention is not made.
  record({registered("", "2026-03-01T00:00:00.000Z"),
          renamed("Acme 2", "late", "2026-02-01T00:00:00.000Z")});
  write_model model;
  ASSERT_TRUE(model.restore(log_));
  EXPECT_EQ(model.idempotency("tester", "late"), nullptr);
  EXPECT_EQ(model.idempotency_records(), 0u);
}

TEST_F(IdempotencyRetention, LiveSettlesForgetAsRestoreDoes) {
  record({registered("first", "2026-01-01T00:00:00.000Z")});
  write_model model;
  model.set_idempotency_retention(1h);
  ASSERT_TRUE(model.restore(log_));
  ASSERT_NE(model.idempotency("tester", "first"), nullptr);
  // A later event (as the pipeline settles it) moves the log's time on past the hour.
  auto events = log_.read(partition_id{0}, log_offset{0}, 10);
  ASSERT_TRUE(events);
  event later = (*events)[0].e;
  later.idempotency_key.clear();
  later.time = "2026-01-01T01:00:01.000Z";
  model.settle(later, (*events)[0].position);
  EXPECT_EQ(model.idempotency("tester", "first"), nullptr);
  EXPECT_EQ(model.idempotency_records(), 0u);
}

}  // namespace
}  // namespace fieldledger::commands

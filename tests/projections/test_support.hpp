#pragma once
// Shared by the projection tests: a view store that counts what reaches it, running a command
// through the pipeline to its outcome, and a fixture of the views over a pipeline.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "commands/pipeline.hpp"
#include "infra/memory_event_log.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/runner.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections::test_support {

// Counts the point reads (each get; get_many reads key by key here) and the keys scans visit;
// writes pass through.
class counting_store final : public view_store {
 public:
  explicit counting_store(view_store& inner) : inner_(inner) {}
  mutable std::atomic<std::size_t> gets{0}, scanned{0};
  std::size_t reads() const { return gets + scanned; }

  domain::result<std::optional<std::string>> get(std::string_view key) const override {
    ++gets;
    return inner_.get(key);
  }
  domain::result<void> scan(std::string_view prefix, std::string_view after,
                            const scan_fn& fn) const override {
    return inner_.scan(prefix, after, [&](std::string_view k, std::string_view v) {
      ++scanned;
      return fn(k, v);
    });
  }
  domain::result<void> commit(std::span<const write_op> ops) override { return inner_.commit(ops); }
  domain::result<void> clear() override { return inner_.clear(); }

 private:
  view_store& inner_;
};

// Submits cmd as "tester" and waits for its outcome (a test failure when it is refused).
inline domain::result<commands::command_outcome> run(commands::pipeline& p, domain::command cmd) {
  std::promise<domain::result<commands::command_outcome>> done;
  p.submit(std::move(cmd), {"tester", "", ""},
           [&](domain::result<commands::command_outcome> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  EXPECT_TRUE(r) << r.error().detail;
  return r;
}

// The views of this release over an in-memory store, fed by a pipeline on an in-memory log,
// with one customer registered.
class views_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(model_.restore(log_));
    pipeline_.start();
    customer_ = domain::customer_id{std::string(
        run(domain::register_customer{domain::object{{"name", "Acme"}}}).string_at("id"))};
  }
  void TearDown() override { pipeline_.stop(); }

  domain::value run(domain::command cmd) {
    auto r = test_support::run(pipeline_, std::move(cmd));
    return r ? r->body : domain::value{};
  }
  void catch_up() { ASSERT_TRUE(runner_.catch_up()); }
  std::optional<std::string> at(const std::string& key) { return *store_.get(key); }

  infra::memory_event_log log_{4};
  commands::write_model model_;
  commands::pipeline pipeline_{log_, model_};
  memory_view_store store_;
  runner runner_{log_, store_, make_views()};
  domain::customer_id customer_;
};

}  // namespace fieldledger::projections::test_support

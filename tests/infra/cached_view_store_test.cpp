// What the value cache adds to the view-store contract (which it also passes, see
// view_store_contract_test): hits spare the store below, it holds no more than its capacity,
// a read racing a commit never leaves an old value behind, and a bulk build passes by it.
#include "infra/cached_view_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "projections/memory_view_store.hpp"

namespace fieldledger::infra {
namespace {

using projections::view_store;
using projections::write_op;

// The in-memory fake, counting the keys read from it; `between` runs after a read has taken
// its value and before it returns (a commit landing in that gap); commits fail on demand.
class probe_store final : public view_store {
 public:
  domain::result<std::optional<std::string>> get(std::string_view key) const override {
    ++reads;
    auto v = inner.get(key);
    if (between) std::exchange(between, nullptr)();
    return v;
  }
  domain::result<std::vector<std::optional<std::string>>> get_many(
      std::span<const std::string> keys) const override {
    reads += keys.size();
    std::vector<std::optional<std::string>> out;
    for (const auto& k : keys) out.push_back(*inner.get(k));
    if (between) std::exchange(between, nullptr)();
    return out;
  }
  domain::result<void> scan(std::string_view prefix, std::string_view after,
                            const scan_fn& fn) const override {
    return inner.scan(prefix, after, fn);
  }
  domain::result<void> commit(std::span<const write_op> ops) override {
    if (fail_commits) return domain::fail(domain::errc::unavailable, "injected commit failure");
    return inner.commit(ops);
  }
  domain::result<void> clear() override { return inner.clear(); }

  projections::memory_view_store inner;
  mutable std::atomic<std::size_t> reads{0};
  mutable std::function<void()> between;
  bool fail_commits = false;
};

class CachedViewStore : public ::testing::Test {
 protected:
  void make(std::size_t capacity, bool enabled = true) {
    cache = std::make_unique<cached_view_store>(probe, capacity, enabled);
  }
  void commit(std::vector<write_op> ops) { ASSERT_TRUE(cache->commit(ops)); }
  std::optional<std::string> get(std::string_view key) { return *cache->get(key); }

  std::shared_ptr<probe_store> probe = std::make_shared<probe_store>();
  std::unique_ptr<cached_view_store> cache;
};

TEST_F(CachedViewStore, ASecondReadOfAKeyIsAnsweredFromMemory) {
  make(1 << 20);
  commit({{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(get("a"), "1");
  EXPECT_FALSE(get("nope").has_value());
  EXPECT_EQ(probe->reads, 2u);
  EXPECT_EQ(get("a"), "1");
  EXPECT_FALSE(get("nope").has_value()) << "absent keys are kept too";
  EXPECT_EQ(probe->reads, 2u);
  const std::vector<std::string> keys{"a", "b", "nope"};
  auto many = cache->get_many(keys);
  ASSERT_TRUE(many);
  EXPECT_EQ(*many, (std::vector<std::optional<std::string>>{"1", "2", std::nullopt}));
  EXPECT_EQ(probe->reads, 3u) << "only b was read from the store";
  EXPECT_EQ(get("b"), "2");
  EXPECT_EQ(probe->reads, 4u) << "a page keeps nothing it read";
}

TEST_F(CachedViewStore, HoldsNoMoreThanItsCapacity) {
  make(256 << 10);
  const std::string value(1000, 'v');
  std::vector<write_op> ops;
  for (int i = 0; i < 2000; ++i) ops.push_back({"k" + std::to_string(i), value});
  commit(ops);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(get("k" + std::to_string(i)), value);
  EXPECT_LE(cache->usage(), std::size_t{256} << 10);
  EXPECT_GT(cache->usage(), std::size_t{128} << 10);
  const std::size_t before = probe->reads;
  EXPECT_EQ(get("k1999"), value);
  EXPECT_EQ(probe->reads, before) << "the most recently read is still held";
  EXPECT_EQ(get("k0"), value);
  EXPECT_EQ(probe->reads, before + 1) << "the least recently read was let go";
}

TEST_F(CachedViewStore, AReadThatACommitOvertakesKeepsNothing) {
  make(1 << 20);
  commit({{"a", "old"}});
  // The read takes "old" from the store; a commit writes "new" before the read returns.
  probe->between = [&] { commit({{"a", "new"}}); };
  EXPECT_EQ(get("a"), "old");  // what the store held when it was read
  EXPECT_EQ(get("a"), "new") << "the overtaken read must not have kept \"old\"";
  const std::vector<std::string> keys{"a"};
  probe->between = [&] { commit({{"a", std::nullopt}}); };
  EXPECT_EQ(get("a"), "new");  // held: no read of the store, `between` still armed
  ASSERT_TRUE(probe->between);
  probe->between = nullptr;
  commit({{"b", "1"}, {"a", "newer"}});
  probe->between = [&] { commit({{"a", std::nullopt}}); };
  EXPECT_EQ((*cache->get_many(keys))[0], "newer");
  EXPECT_FALSE(get("a").has_value()) << "the overtaken get_many must not have kept \"newer\"";
}

// Readers on other threads while one writer counts up: a read never answers a value older
// than the last commit done before the read began.
TEST_F(CachedViewStore, ConcurrentReadsNeverGoBackBeforeACommitDoneEarlier) {
  make(1 << 20);
  std::atomic<int> done{0};
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0};
  commit({{"n", "0"}});
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      const std::vector<std::string> keys{"other", "n"};
      while (!stop.load()) {
        const int floor = done.load();
        const auto v = t == 0 ? *cache->get("n") : (*cache->get_many(keys))[1];
        if (!v || std::stoi(*v) < floor) ++stale;
      }
    });
  }
  for (int i = 1; i <= 20000; ++i) {
    commit({{"n", std::to_string(i)}, {"other", std::to_string(i)}});
    done.store(i);
  }
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_EQ(get("n"), "20000");
}

TEST_F(CachedViewStore, AFailedCommitLeavesReadsAnsweringWhatTheStoreHolds) {
  make(1 << 20);
  commit({{"a", "1"}});
  EXPECT_EQ(get("a"), "1");
  probe->fail_commits = true;
  EXPECT_FALSE(cache->commit(std::vector<write_op>{{"a", "2"}}));
  probe->fail_commits = false;
  EXPECT_EQ(get("a"), "1");
  commit({{"a", "3"}});
  EXPECT_EQ(get("a"), "3");
}

TEST_F(CachedViewStore, ABulkBuildPassesByUntilSealed) {
  make(1 << 20, false);
  commit({{"a", "1"}});
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(probe->reads, 2u);
  EXPECT_EQ(cache->usage(), 0u);
  ASSERT_TRUE(cache->seal());
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(probe->reads, 3u);
}

TEST_F(CachedViewStore, NoCapacityMeansNoCache) {
  make(0);
  commit({{"a", "1"}});
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(probe->reads, 2u);
  ASSERT_TRUE(cache->seal());
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(probe->reads, 3u);
}

}  // namespace
}  // namespace fieldledger::infra

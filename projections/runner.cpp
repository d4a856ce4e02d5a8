#include "projections/runner.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "projections/checkpoints.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
using clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t k_read_batch = 512;
// Catching up (a rebuild, a start behind the log) reads more at once: fewer, larger commits,
// and more of the documents that events share are found in the batch instead of the store.
constexpr std::size_t k_catch_up_batch = 32768;
// About how many keys the views write per event (bench/rebuild's data set: 5.5 per event).
constexpr std::size_t k_writes_per_event = 6;
constexpr auto k_poll = std::chrono::milliseconds(25);
}  // namespace

struct runner::impl {
  struct waiter {
    log_position pos;
    clock::time_point deadline;
    std::function<void(bool)> done;
  };

  impl(event_log& l, view_store& s, std::vector<std::unique_ptr<view>> v)
      : log(l),
        store(s),
        views(std::move(v)),
        applied_next(std::make_unique<std::atomic<std::int64_t>[]>(l.partition_count())) {
    for (const auto& each : views) names.emplace_back(each->name());
  }

  event_log& log;
  view_store& store;
  std::vector<std::unique_ptr<view>> views;
  std::vector<std::string> names;  // of the views, in their order: how checkpoints name them
  // Per partition: next offset to apply, per view (loaded from the checkpoints) and the min.
  std::vector<partition_checkpoints> checkpoints;
  std::unique_ptr<std::atomic<std::int64_t>[]> applied_next;
  bool loaded = false;

  std::mutex mu;  // guards waiters
  std::vector<waiter> waiters;
  std::atomic<bool> stopping{false};
  std::atomic<bool> pausing{false};  // stopping to resume: waiters keep waiting
  std::atomic<bool> following{false};
  std::vector<std::thread> threads;

  // Reads the checkpoints from the store (again after a pause: the store may have changed).
  result<void> load() {
    if (loaded) return {};
    const auto n = log.partition_count();
    checkpoints.clear();
    for (std::uint32_t p = 0; p < n; ++p) {
      auto ck = partition_checkpoints::read(store, names, p);
      if (!ck) return std::unexpected(ck.error());
      const auto& next = ck->next();
      applied_next[p].store(next.empty() ? 0 : *std::ranges::min_element(next));
      checkpoints.push_back(std::move(*ck));
    }
    loaded = true;
    return {};
  }

  // Applies up to max events of partition p in one commit. Returns how many were applied.
  result<std::size_t> step(std::uint32_t p, std::size_t max = k_read_batch) {
    const auto from = applied_next[p].load();
    // Shared, not copied: the events the writer has just appended are the ones it keeps.
    auto events = log.read_shared(partition_id{p}, log_offset{from}, max);
    if (!events) return std::unexpected(events.error());
    if (events->empty()) return 0;
    batch b(store);
    b.reserve(events->size() * k_writes_per_event);
    auto vn = checkpoints[p].next();
    for (const auto& re : *events) {
      for (std::size_t v = 0; v < views.size(); ++v) {
        if (re->position.offset.get() < vn[v]) continue;  // this view has it already
        if (auto ok = views[v]->apply(*re, b); !ok) return std::unexpected(ok.error());
      }
    }
    const auto end = events->back()->position.offset.get() + 1;
    auto after = checkpoints[p];  // kept as it was if the commit fails
    for (auto& x : vn) x = std::max(x, end);
    after.advance(b, names, end, vn);
    const auto ops = b.take();
    if (auto ok = store.commit(ops); !ok) return std::unexpected(ok.error());
    checkpoints[p] = std::move(after);
    applied_next[p].store(end);
    notify(p);
    return events->size();
  }

  // Calls the waiters of partition p that are now satisfied or past their deadline.
  void notify(std::uint32_t p) {
    std::vector<std::pair<std::function<void(bool)>, bool>> due;
    const auto now = clock::now();
    {
      std::lock_guard lock(mu);
      std::erase_if(waiters, [&](waiter& w) {
        if (w.pos.partition.get() != p) return false;
        const bool ok = w.pos.offset.get() < applied_next[p].load();
        if (!ok && now < w.deadline && (!stopping || pausing)) return false;
        due.emplace_back(std::move(w.done), ok);
        return true;
      });
    }
    for (auto& [fn, ok] : due) fn(ok);
  }

  void follow(std::uint32_t p) {
    const auto name = "fl-views-" + std::to_string(p);  // for top -H and perf (15 chars at most)
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    while (!stopping) {
      auto n = step(p);
      if (!n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retried: views lag
        notify(p);
        continue;
      }
      if (*n == 0) {
        log.wait_for(partition_id{p}, log_offset{applied_next[p].load()}, k_poll);
        notify(p);
      }
    }
    if (!pausing) notify(p);
  }
};

runner::runner(event_log& log, view_store& store, std::vector<std::unique_ptr<view>> views)
    : impl_(std::make_unique<impl>(log, store, std::move(views))) {}

runner::~runner() { stop(); }

result<void> runner::catch_up() {
  if (auto ok = impl_->load(); !ok) return ok;
  const auto n = impl_->log.partition_count();
  const auto one = [this](std::uint32_t p) -> result<void> {
    while (impl_->applied_next[p].load() < impl_->log.end_offset(partition_id{p}).get()) {
      if (impl_->stopping) return fail(errc::unavailable, "the rebuild was stopped");
      auto n = impl_->step(p, k_catch_up_batch);
      if (!n) return std::unexpected(n.error());
      if (*n == 0) break;
    }
    return {};
  };
  // Partitions are independent: as many at once as there are cores.
  const auto workers =
      std::min<std::uint32_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<result<void>> outcomes(n);
  std::atomic<std::uint32_t> next{0};
  const auto work = [&] {
    for (std::uint32_t p; (p = next++) < n;) outcomes[p] = one(p);
  };
  std::vector<std::thread> threads;
  for (std::uint32_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (auto& o : outcomes) {
    if (!o) return o;
  }
  return {};
}

void runner::start() {
  if (!impl_->threads.empty()) return;
  if (auto ok = impl_->load(); !ok) throw std::runtime_error(ok.error().detail);
  impl_->stopping = false;
  impl_->following = true;
  for (std::uint32_t p = 0; p < impl_->log.partition_count(); ++p) {
    impl_->threads.emplace_back([this, p] { impl_->follow(p); });
  }
}

void runner::stop() {
  impl_->stopping = true;
  impl_->following = false;
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

result<void> runner::stop_drained() {
  stop();
  impl_->stopping = false;
  auto drained = catch_up();
  impl_->stopping = true;
  return drained;
}

result<void> runner::while_paused(const std::function<result<void>()>& fn) {
  const bool was_following = impl_->following;
  impl_->pausing = true;
  impl_->stopping = true;
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  auto outcome = fn();
  impl_->loaded = false;
  auto reloaded = impl_->load();
  impl_->stopping = false;
  impl_->pausing = false;
  if (was_following) {
    for (std::uint32_t p = 0; p < impl_->log.partition_count(); ++p) {
      impl_->threads.emplace_back([this, p] { impl_->follow(p); });
    }
  }
  for (std::uint32_t p = 0; p < impl_->log.partition_count(); ++p) impl_->notify(p);
  if (!reloaded) return reloaded;
  return outcome;
}

std::vector<std::string> runner::view_names() const { return impl_->names; }

bool runner::has_applied(const log_position& pos) const {
  if (pos.partition.get() >= impl_->log.partition_count()) return false;
  return pos.offset.get() < impl_->applied_next[pos.partition.get()].load();
}

void runner::when_applied(const log_position& pos, clock::time_point deadline,
                          std::function<void(bool)> done) {
  if (has_applied(pos)) {
    done(true);
    return;
  }
  if (pos.partition.get() >= impl_->log.partition_count() || !impl_->following) {
    done(false);
    return;
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->waiters.push_back({pos, deadline, std::move(done)});
  }
  impl_->notify(pos.partition.get());  // it may have been applied meanwhile
}

std::vector<log_offset> runner::applied() const {
  std::vector<log_offset> out;
  for (std::uint32_t p = 0; p < impl_->log.partition_count(); ++p) {
    out.push_back(log_offset{impl_->applied_next[p].load()});
  }
  return out;
}

}  // namespace fieldledger::projections

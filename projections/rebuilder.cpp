#include "projections/rebuilder.hpp"

#include <chrono>
#include <ctime>

#include "projections/checkpoints.hpp"
#include "projections/view.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

namespace {

std::string now_utc() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::uint64_t sum(const std::vector<log_offset>& offsets) {
  std::uint64_t n = 0;
  for (const auto& o : offsets) n += static_cast<std::uint64_t>(o.get());
  return n;
}

}  // namespace

rebuilder::rebuilder(event_log& log, generation_store& store, runner& live, store_factory make,
                     switched_fn switched)
    : log_(log),
      store_(store),
      live_(live),
      make_(std::move(make)),
      switched_(std::move(switched)) {
  status_.generation = store_.generation();
}

rebuilder::~rebuilder() { stop(); }

void rebuilder::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (fresh_ != nullptr) fresh_->stop();
  }
  wait();
}

result<std::vector<view_state>> rebuilder::views() const {
  std::vector<view_state> out;
  const auto n = log_.partition_count();
  std::vector<std::int64_t> ends(n);
  for (std::uint32_t p = 0; p < n; ++p) ends[p] = log_.end_offset(partition_id{p}).get();
  const auto names = live_.view_names();
  std::vector<partition_checkpoints> checkpoints;
  for (std::uint32_t p = 0; p < n; ++p) {
    auto ck = partition_checkpoints::read(store_, names, p);
    if (!ck) return std::unexpected(ck.error());
    checkpoints.push_back(std::move(*ck));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    view_state v{names[i], {}, 0};
    for (std::uint32_t p = 0; p < n; ++p) {
      const std::int64_t at = checkpoints[p].next()[i];
      v.checkpoints.push_back(at);
      if (at >= ends[p]) continue;
      // Offsets that hold no event (Kafka's transaction markers) are no lag.
      auto rest = log_.read(partition_id{p}, log_offset{at}, 1);
      if (rest && rest->empty()) continue;
      v.lag += static_cast<std::uint64_t>(ends[p] - at);
    }
    out.push_back(std::move(v));
  }
  return out;
}

result<rebuild_status> rebuilder::start() {
  std::lock_guard lock(mu_);
  if (stopping_) return fail(errc::unavailable, "the server is stopping");
  if (status_.state == "building" || status_.state == "switching") {
    return fail(errc::conflict, "a rebuild of generation " + std::to_string(status_.generation) +
                                    " is already running");
  }
  if (thread_.joinable()) thread_.join();  // the previous one has ended
  std::uint64_t total = 0;
  for (std::uint32_t p = 0; p < log_.partition_count(); ++p) {
    total += static_cast<std::uint64_t>(log_.end_offset(partition_id{p}).get());
  }
  const auto generation = store_.generation() + 1;
  status_ = rebuild_status{"building", generation, 0, total, now_utc(), "", ""};
  thread_ = std::thread([this, generation] { run(generation); });
  return status_;
}

rebuild_status rebuilder::status() const {
  std::lock_guard lock(mu_);
  auto out = status_;
  if (fresh_ != nullptr) out.applied = sum(fresh_->applied());
  return out;
}

void rebuilder::wait() {
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) return;
  auto t = std::move(thread_);
  lock.unlock();
  t.join();
}

void rebuilder::run(std::uint64_t generation) {
  const auto finish = [&](const std::string& state, const std::string& why, std::uint64_t applied) {
    std::lock_guard lock(mu_);
    fresh_ = nullptr;
    status_.state = state;
    status_.error = why;
    status_.applied = applied;
    status_.finished_at = now_utc();
  };
  auto fresh = make_(generation);
  if (!fresh) return finish("failed", fresh.error().detail, 0);
  if (auto ok = (*fresh)->clear(); !ok) return finish("failed", ok.error().detail, 0);
  runner builder(log_, **fresh, make_views());
  {
    std::lock_guard lock(mu_);
    if (stopping_) return finish("failed", "stopped before it began", 0);
    fresh_ = &builder;
  }
  // The bulk, while the current generation serves and the live runner follows the log.
  if (auto built = builder.catch_up(); !built) {
    return finish("failed", built.error().detail, sum(builder.applied()));
  }
  // A store made for a bulk build has written the bulk without a write-ahead log: durable
  // before it can become current; the tail is logged as usual.
  if (auto sealed = (*fresh)->seal(); !sealed) {
    return finish("failed", sealed.error().detail, sum(builder.applied()));
  }
  {
    std::lock_guard lock(mu_);
    status_.state = "switching";
  }
  // The tail, with the live runner paused: once the fresh generation has everything up to the
  // log's end, it becomes current, and the live runner follows on from its checkpoints.
  auto switched = live_.while_paused([&]() -> result<void> {
    if (auto tail = builder.catch_up(); !tail) return tail;
    auto old = store_.swap(*fresh, generation);
    auto recorded = switched_ ? switched_(generation) : result<void>{};
    old.reset();  // released once the last read in flight on it ends
    return recorded;
  });
  if (!switched) return finish("failed", switched.error().detail, sum(builder.applied()));
  finish("done", "", sum(builder.applied()));
}

}  // namespace fieldledger::projections

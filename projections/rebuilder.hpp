#pragma once
// Online rebuild: builds a fresh generation of every view from the start of the log in the
// background while the current generation keeps serving, then, with the live runner paused
// for the tail only, catches the fresh generation up to the log's end and switches to it.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/event_log.hpp"
#include "projections/generation_store.hpp"
#include "projections/runner.hpp"

namespace fieldledger::projections {

struct rebuild_status {
  std::string state = "idle";                  // idle | building | switching | done | failed
  std::uint64_t generation = 0;                // the generation being (or last) built
  std::uint64_t applied = 0;                   // log offsets the fresh generation has applied
  std::uint64_t total = 0;                     // log offsets at the start of the rebuild
  std::string started_at, finished_at, error;  // RFC 3339 UTC
};

// One view as it stands in the current generation.
struct view_state {
  std::string name;
  std::vector<std::int64_t> checkpoints;  // per partition: the next offset it applies
  std::uint64_t lag = 0;                  // offsets between its checkpoints and the log's end
};

class rebuilder {
 public:
  // A fresh, empty store for a generation; it is sealed (view_store::seal) once the bulk of the
  // log is in, before the tail and the switch.
  using store_factory =
      std::function<domain::result<std::shared_ptr<view_store>>(std::uint64_t generation)>;
  // Runs once a generation has become current (for example to record it on disk).
  using switched_fn = std::function<domain::result<void>(std::uint64_t generation)>;

  // None of log, store or live is owned; they must outlive the rebuilder.
  rebuilder(domain::event_log& log, generation_store& store, runner& live, store_factory make,
            switched_fn switched = {});
  ~rebuilder();  // stops a rebuild in progress (the current generation stays)
  rebuilder(const rebuilder&) = delete;
  rebuilder& operator=(const rebuilder&) = delete;

  // Starts building the next generation; `conflict` while one is being built.
  [[nodiscard]] domain::result<rebuild_status> start();
  rebuild_status status() const;
  // Every view's checkpoints and lag behind the log's end, in the current generation.
  [[nodiscard]] domain::result<std::vector<view_state>> views() const;
  std::uint64_t generation() const { return store_.generation(); }
  // Stops a rebuild in progress and waits for it; the current generation stays.
  void stop();
  // Blocks until no rebuild is running.
  void wait();

 private:
  void run(std::uint64_t generation);

  domain::event_log& log_;
  generation_store& store_;
  runner& live_;
  store_factory make_;
  switched_fn switched_;

  mutable std::mutex mu_;
  rebuild_status status_;
  runner* fresh_ = nullptr;  // the runner filling the fresh generation, while it runs
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fieldledger::projections

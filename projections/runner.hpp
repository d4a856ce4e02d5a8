#pragma once
// Runs the views over the log: reads each partition after the views' checkpoints, applies the
// events, and commits view data and checkpoints in one view_store commit per batch.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/event_log.hpp"
#include "projections/view.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

class runner {
 public:
  // The runner does not own log or store; both must outlive it.
  runner(domain::event_log& log, view_store& store, std::vector<std::unique_ptr<view>> views);
  ~runner();  // stops the thread
  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  // Applies everything up to the log's current end, on the calling thread; stop() from another
  // thread cuts it short with `unavailable`. REQUIRES: not started.
  [[nodiscard]] domain::result<void> catch_up();

  // Starts / stops the background thread that follows the log's tail.
  void start();
  void stop();
  // A clean stop: stops following, then applies what the log holds by now, so that the views
  // equal the log (call after the writers have stopped).
  [[nodiscard]] domain::result<void> stop_drained();

  // Stops the background threads without failing anyone who waits for a position, runs fn
  // (which may swap the store's contents for a rebuilt generation), reloads the checkpoints
  // from the store and follows the log again. The views must not move backwards meanwhile.
  [[nodiscard]] domain::result<void> while_paused(const std::function<domain::result<void>()>& fn);

  // The views' names, as their checkpoints are keyed.
  std::vector<std::string> view_names() const;

  // True when every view has applied the event at pos (offset < applied end of its partition).
  bool has_applied(const domain::log_position& pos) const;

  // Calls done(true) once has_applied(pos), or done(false) once deadline passes. done runs on
  // the runner's thread, or on the caller's when already applied. Thread-safe.
  void when_applied(const domain::log_position& pos, std::chrono::steady_clock::time_point deadline,
                    std::function<void(bool)> done);

  // Next offset to apply, per partition (min over the views). Thread-safe.
  std::vector<domain::log_offset> applied() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::projections

#pragma once
// The event-log port. Implementations: infra::memory_event_log (fake), infra::rocksdb_event_log
// (embedded, durable), and a Kafka one. One contract suite (tests/infra/event_log_contract)
// runs over all of them.
#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"

namespace fieldledger::domain {

class event_log {
 public:
  virtual ~event_log() = default;

  // Fixed for the log's lifetime.
  virtual std::uint32_t partition_count() const noexcept = 0;

  // Appends all events atomically and durably: when it returns a value, every event is
  // durable (fsynced / acknowledged by the broker); on failure none of them is visible to
  // readers. Event i goes to partition_for(events[i].customer); events of one partition keep
  // their order. Returns the position of each event, in input order.
  // Thread-safe; the write side calls it from its one writer thread.
  [[nodiscard]] virtual result<std::vector<log_position>> append(std::span<const event> events) = 0;

  // Appends as append() does, taking the events, and answers them recorded (in input order) and
  // shared with the log: a log that keeps what it appends (infra::recent_events_log) keeps these,
  // so the writer, which still reads its events after the append, does not copy each one for it.
  // By default, append() and then the events moved into shared ones. Thread-safe.
  [[nodiscard]] virtual result<shared_events> append_shared(std::vector<event> events) {
    auto positions = append(events);
    if (!positions) return std::unexpected(positions.error());
    shared_events out;
    out.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      out.push_back(std::make_shared<const recorded_event>(
          recorded_event{(*positions)[i], std::move(events[i])}));
    }
    return out;
  }

  // Up to max events of partition p with offset >= from, in offset order. Thread-safe.
  [[nodiscard]] virtual result<std::vector<recorded_event>> read(partition_id p, log_offset from,
                                                                 std::size_t max) = 0;

  // The same events as read(), shared instead of copied: a log that keeps events in memory
  // (infra::recent_events_log) hands out the ones it keeps, so a reader close behind the writer
  // (the projection runner) does not copy each event's strings and payload. By default, read()'s
  // answer moved into shared events. Thread-safe.
  [[nodiscard]] virtual result<shared_events> read_shared(partition_id p, log_offset from,
                                                          std::size_t max) {
    auto events = read(p, from, max);
    if (!events) return std::unexpected(events.error());
    shared_events out;
    out.reserve(events->size());
    for (auto& re : *events) out.push_back(std::make_shared<const recorded_event>(std::move(re)));
    return out;
  }

  // The offset the next event appended to p will get (= number of events in p). Thread-safe.
  virtual log_offset end_offset(partition_id p) = 0;

  // Blocks until end_offset(p) > offset or the timeout passes, or close() is called.
  // Returns true when there is an event at `offset` to read. Thread-safe.
  virtual bool wait_for(partition_id p, log_offset offset, std::chrono::milliseconds timeout) = 0;

  // Wakes every wait_for; later waits return at once. Thread-safe.
  virtual void close() = 0;
};

}  // namespace fieldledger::domain

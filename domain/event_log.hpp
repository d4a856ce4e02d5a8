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

  // Up to max events of partition p with offset >= from, in offset order. Thread-safe.
  [[nodiscard]] virtual result<std::vector<recorded_event>> read(partition_id p, log_offset from,
                                                                 std::size_t max) = 0;

  // The offset the next event appended to p will get (= number of events in p). Thread-safe.
  virtual log_offset end_offset(partition_id p) = 0;

  // Blocks until end_offset(p) > offset or the timeout passes, or close() is called.
  // Returns true when there is an event at `offset` to read. Thread-safe.
  virtual bool wait_for(partition_id p, log_offset offset, std::chrono::milliseconds timeout) = 0;

  // Wakes every wait_for; later waits return at once. Thread-safe.
  virtual void close() = 0;
};

}  // namespace fieldledger::domain

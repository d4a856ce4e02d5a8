#pragma once
// A decorator of the event-log port that keeps the last events this process appended, as the
// recorded events a read returns, so that readers close behind the writer (the projection
// runner, live event streams) get them without the inner log's read and decode. Reads it
// cannot answer go to the inner log: older offsets, events another writer appended to the same
// log, a read that comes before the append holding its offset has returned. The answer is the
// same either way: every implementation reads back what was appended (the event-log contract
// suite checks it), and only events of the current schema version are kept (older ones are
// upcast when read).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "domain/event_log.hpp"

namespace fieldledger::infra {

class recent_events_log final : public domain::event_log {
 public:
  // Keeps up to per_partition events of each partition (0: none, every read goes inside).
  recent_events_log(std::unique_ptr<domain::event_log> inner, std::size_t per_partition);

  std::uint32_t partition_count() const noexcept override { return inner_->partition_count(); }
  domain::result<std::vector<domain::log_position>> append(
      std::span<const domain::event> events) override;
  // Keeps the very events it answers (no copy); append() keeps a copy of its events.
  domain::result<domain::shared_events> append_shared(std::vector<domain::event> events) override;
  domain::result<std::vector<domain::recorded_event>> read(domain::partition_id p,
                                                           domain::log_offset from,
                                                           std::size_t max) override;
  // The kept events themselves when it holds `from`, the inner log's otherwise.
  domain::result<domain::shared_events> read_shared(domain::partition_id p, domain::log_offset from,
                                                    std::size_t max) override;
  domain::log_offset end_offset(domain::partition_id p) override { return inner_->end_offset(p); }
  // The inner log's wait; when it finds the event and an append of this process is in flight,
  // also until that append has kept it (briefly), so that the read after it is answered here.
  bool wait_for(domain::partition_id p, domain::log_offset offset,
                std::chrono::milliseconds timeout) override;
  void close() override;

  // Reads answered here and by the inner log (for tests).
  std::uint64_t reads_kept() const;
  std::uint64_t reads_inside() const;

 private:
  // The kept events of one partition: offsets first, first + 1, … (no gaps).
  struct partition {
    std::int64_t first = 0;
    std::deque<std::shared_ptr<const domain::recorded_event>> events;
    bool holds(std::int64_t offset) const {
      return offset >= first && offset < first + static_cast<std::int64_t>(events.size());
    }
  };
  void keep(std::shared_ptr<const domain::recorded_event> re);  // with mu_ held
  // The kept events from `from` on (at most max), or none when it is not kept.
  domain::shared_events kept(domain::partition_id p, domain::log_offset from, std::size_t max);

  std::unique_ptr<domain::event_log> inner_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable kept_;
  int appending_ = 0;  // appends in flight
  bool closed_ = false;
  std::vector<partition> partitions_;
  std::uint64_t reads_kept_ = 0, reads_inside_ = 0;
};

}  // namespace fieldledger::infra

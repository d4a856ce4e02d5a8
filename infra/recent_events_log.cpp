#include "infra/recent_events_log.hpp"

#include <algorithm>

namespace fieldledger::infra {

using namespace fieldledger::domain;

namespace {
// How long wait_for lets an append of this process keep the event it found: the append has
// made it visible and returns about at once (the embedded log), or once the broker acknowledges
// it (Kafka). After that the read goes to the inner log, which has it too.
constexpr auto k_keep_grace = std::chrono::milliseconds(2);
}  // namespace

recent_events_log::recent_events_log(std::unique_ptr<event_log> inner, std::size_t per_partition)
    : inner_(std::move(inner)), capacity_(per_partition), partitions_(inner_->partition_count()) {}

// The writer's append: its events are the ones kept.
result<shared_events> recent_events_log::append_shared(std::vector<event> events) {
  {
    std::lock_guard lock(mu_);
    ++appending_;
  }
  auto positions = inner_->append(events);
  // Recorded outside the lock: readers are not held up by the allocations.
  shared_events out;
  if (positions) {
    out.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      out.push_back(std::make_shared<const recorded_event>(
          recorded_event{(*positions)[i], std::move(events[i])}));
    }
  }
  {
    std::lock_guard lock(mu_);
    --appending_;
    if (capacity_ > 0) {
      for (const auto& re : out) keep(re);
    }
  }
  kept_.notify_all();
  if (!positions) return std::unexpected(positions.error());
  return out;
}

result<std::vector<log_position>> recent_events_log::append(std::span<const event> events) {
  auto recorded = append_shared(std::vector<event>(events.begin(), events.end()));
  if (!recorded) return std::unexpected(recorded.error());
  std::vector<log_position> positions;
  positions.reserve(recorded->size());
  for (const auto& re : *recorded) positions.push_back(re->position);
  return positions;
}

void recent_events_log::keep(std::shared_ptr<const recorded_event> re) {
  const auto p = re->position.partition.get();
  if (p >= partitions_.size()) return;
  auto& part = partitions_[p];
  const auto offset = re->position.offset.get();
  if (re->e.schema_version != k_current_schema_version) {
    // Read back, it would be upcast: not kept, and the run starts again after it.
    part.events.clear();
    part.first = offset + 1;
    return;
  }
  // Another writer's events (or a Kafka transaction marker) lie between: start again here.
  if (offset != part.first + static_cast<std::int64_t>(part.events.size())) {
    part.events.clear();
    part.first = offset;
  }
  part.events.push_back(std::move(re));
  while (part.events.size() > capacity_) {
    part.events.pop_front();
    ++part.first;
  }
}

shared_events recent_events_log::kept(partition_id p, log_offset from, std::size_t max) {
  shared_events found;
  std::lock_guard lock(mu_);
  if (p.get() < partitions_.size() && max > 0 && partitions_[p.get()].holds(from.get())) {
    const auto& part = partitions_[p.get()];
    const auto begin = static_cast<std::size_t>(from.get() - part.first);
    const auto n = std::min(max, part.events.size() - begin);
    found.assign(part.events.begin() + static_cast<std::ptrdiff_t>(begin),
                 part.events.begin() + static_cast<std::ptrdiff_t>(begin + n));
    ++reads_kept_;
  } else {
    ++reads_inside_;
  }
  return found;
}

result<std::vector<recorded_event>> recent_events_log::read(partition_id p, log_offset from,
                                                            std::size_t max) {
  const auto found = kept(p, from, max);
  if (found.empty()) return inner_->read(p, from, max);
  std::vector<recorded_event> out;
  out.reserve(found.size());
  for (const auto& re : found) out.push_back(*re);
  return out;
}

result<shared_events> recent_events_log::read_shared(partition_id p, log_offset from,
                                                     std::size_t max) {
  auto found = kept(p, from, max);
  if (found.empty()) return inner_->read_shared(p, from, max);
  return found;
}

bool recent_events_log::wait_for(partition_id p, log_offset offset,
                                 std::chrono::milliseconds timeout) {
  if (!inner_->wait_for(p, offset, timeout)) return false;
  if (capacity_ == 0 || p.get() >= partitions_.size()) return true;
  std::unique_lock lock(mu_);
  kept_.wait_for(lock, k_keep_grace, [&] {
    return closed_ || appending_ == 0 || partitions_[p.get()].holds(offset.get());
  });
  return true;
}

void recent_events_log::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  kept_.notify_all();
  inner_->close();
}

std::uint64_t recent_events_log::reads_kept() const {
  std::lock_guard lock(mu_);
  return reads_kept_;
}

std::uint64_t recent_events_log::reads_inside() const {
  std::lock_guard lock(mu_);
  return reads_inside_;
}

}  // namespace fieldledger::infra

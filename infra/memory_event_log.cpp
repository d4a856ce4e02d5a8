#include "infra/memory_event_log.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

memory_event_log::memory_event_log(std::uint32_t partitions)
    : partitions_(partitions == 0 ? 1 : partitions), data_(partitions_) {}

result<std::vector<log_position>> memory_event_log::append(std::span<const event> events) {
  std::vector<log_position> out;
  out.reserve(events.size());
  {
    std::lock_guard lock(mu_);
    if (closed_) return fail(errc::unavailable, "the event log is closed");
    for (const auto& e : events) {
      const auto p = partition_for(e.customer, partitions_);
      auto& part = data_[p.get()];
      out.push_back({p, log_offset{static_cast<std::int64_t>(part.size())}});
      part.push_back(e);
    }
  }
  appended_.notify_all();
  return out;
}

result<std::vector<recorded_event>> memory_event_log::read(partition_id p, log_offset from,
                                                           std::size_t max) {
  if (p.get() >= partitions_) return fail(errc::invalid, "no such partition");
  std::lock_guard lock(mu_);
  const auto& part = data_[p.get()];
  std::vector<recorded_event> out;
  for (auto i = std::max<std::int64_t>(from.get(), 0);
       i < static_cast<std::int64_t>(part.size()) && out.size() < max; ++i) {
    out.push_back({log_position{p, log_offset{i}}, part[static_cast<std::size_t>(i)]});
  }
  return out;
}

log_offset memory_event_log::end_offset(partition_id p) {
  std::lock_guard lock(mu_);
  return log_offset{p.get() < partitions_ ? static_cast<std::int64_t>(data_[p.get()].size()) : 0};
}

bool memory_event_log::wait_for(partition_id p, log_offset offset,
                                std::chrono::milliseconds timeout) {
  if (p.get() >= partitions_) return false;
  std::unique_lock lock(mu_);
  const auto ready = [&] {
    return closed_ || static_cast<std::int64_t>(data_[p.get()].size()) > offset.get();
  };
  appended_.wait_for(lock, timeout, ready);
  return static_cast<std::int64_t>(data_[p.get()].size()) > offset.get();
}

void memory_event_log::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  appended_.notify_all();
}

}  // namespace fieldledger::infra

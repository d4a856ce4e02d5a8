#pragma once
// The in-memory fake of the event-log port: same contract as the durable logs, nothing on disk.
#include <condition_variable>
#include <mutex>
#include <vector>

#include "domain/event_log.hpp"

namespace fieldledger::infra {

class memory_event_log final : public domain::event_log {
 public:
  explicit memory_event_log(std::uint32_t partitions = 1);

  std::uint32_t partition_count() const noexcept override { return partitions_; }
  domain::result<std::vector<domain::log_position>> append(
      std::span<const domain::event> events) override;
  domain::result<std::vector<domain::recorded_event>> read(domain::partition_id p,
                                                           domain::log_offset from,
                                                           std::size_t max) override;
  domain::log_offset end_offset(domain::partition_id p) override;
  bool wait_for(domain::partition_id p, domain::log_offset offset,
                std::chrono::milliseconds timeout) override;
  void close() override;

 private:
  const std::uint32_t partitions_;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  bool closed_ = false;
  std::vector<std::vector<domain::event>> data_;  // per partition, index = offset
};

}  // namespace fieldledger::infra

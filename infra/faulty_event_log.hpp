#pragma once
// A decorator of the event-log port that injects failures, for tests of failure paths:
// the next n appends fail with the given error and append nothing.
#include <atomic>
#include <mutex>

#include "domain/event_log.hpp"

namespace fieldledger::infra {

class faulty_event_log final : public domain::event_log {
 public:
  explicit faulty_event_log(domain::event_log& inner) : inner_(inner) {}

  // The next n appends fail with code (nothing is appended).
  void fail_appends(int n, domain::errc code = domain::errc::unavailable);
  // The next n reads fail with code.
  void fail_reads(int n, domain::errc code = domain::errc::internal);
  int appends_failed() const noexcept { return appends_failed_.load(); }

  std::uint32_t partition_count() const noexcept override { return inner_.partition_count(); }
  domain::result<std::vector<domain::log_position>> append(
      std::span<const domain::event> events) override;
  domain::result<std::vector<domain::recorded_event>> read(domain::partition_id p,
                                                           domain::log_offset from,
                                                           std::size_t max) override;
  domain::log_offset end_offset(domain::partition_id p) override { return inner_.end_offset(p); }
  bool wait_for(domain::partition_id p, domain::log_offset offset,
                std::chrono::milliseconds timeout) override {
    return inner_.wait_for(p, offset, timeout);
  }
  void close() override { inner_.close(); }

 private:
  domain::event_log& inner_;
  std::mutex mu_;
  int append_failures_ = 0, read_failures_ = 0;
  domain::errc append_code_ = domain::errc::unavailable, read_code_ = domain::errc::internal;
  std::atomic<int> appends_failed_{0};
};

}  // namespace fieldledger::infra

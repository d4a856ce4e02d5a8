#include "infra/faulty_event_log.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

void faulty_event_log::fail_appends(int n, errc code) {
  std::lock_guard lock(mu_);
  append_failures_ = n;
  append_code_ = code;
}

void faulty_event_log::fail_reads(int n, errc code) {
  std::lock_guard lock(mu_);
  read_failures_ = n;
  read_code_ = code;
}

result<std::vector<log_position>> faulty_event_log::append(std::span<const event> events) {
  {
    std::lock_guard lock(mu_);
    if (append_failures_ > 0) {
      --append_failures_;
      ++appends_failed_;
      return fail(append_code_, "injected append failure");
    }
  }
  return inner_.append(events);
}

result<std::vector<recorded_event>> faulty_event_log::read(partition_id p, log_offset from,
                                                           std::size_t max) {
  {
    std::lock_guard lock(mu_);
    if (read_failures_ > 0) {
      --read_failures_;
      return fail(read_code_, "injected read failure");
    }
  }
  return inner_.read(p, from, max);
}

}  // namespace fieldledger::infra

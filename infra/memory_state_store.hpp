#pragma once
// The state-store fake: states kept as they are put, in memory. Counts puts and gets, and can
// fail the next n of them, for tests of the write model's fallback to the log.
#include <map>
#include <string>

#include "commands/state_store.hpp"

namespace fieldledger::infra {

class memory_state_store final : public commands::state_store {
 public:
  domain::result<void> put(const commands::stored_state& s) override;
  domain::result<std::optional<commands::stored_state>> get(const domain::customer_id& id) override;

  void fail_next(int n) noexcept { failures_ = n; }
  int puts = 0, gets = 0;

 private:
  int failures_ = 0;
  std::map<std::string, commands::stored_state, std::less<>> states_;
};

}  // namespace fieldledger::infra

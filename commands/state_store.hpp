#pragma once
// The port where the write model puts the customer states it evicts (commands/write_model.hpp),
// so that reading one back is one lookup plus the events since, instead of all of the
// customer's events from the log. A cache, not a record: the log stays the truth, a state that
// cannot be stored or read is read back from the log instead, and a store is empty when a
// process opens it. Implementations: infra::memory_state_store (fake), infra::rocksdb_state_store.
// Used by the writer thread only.
#include <cstdint>
#include <optional>

#include "domain/customer.hpp"
#include "domain/error.hpp"

namespace fieldledger::commands {

struct stored_state {
  domain::customer_state state;
  std::uint64_t events = 0;  // how many of the customer's events the state has applied
};

class state_store {
 public:
  virtual ~state_store() = default;
  // Stores s under s.state.id, in place of what was there.
  [[nodiscard]] virtual domain::result<void> put(const stored_state& s) = 0;
  // The state last put for id, if any.
  [[nodiscard]] virtual domain::result<std::optional<stored_state>> get(
      const domain::customer_id& id) = 0;
};

}  // namespace fieldledger::commands

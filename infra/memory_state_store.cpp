#include "infra/memory_state_store.hpp"

namespace fieldledger::infra {

domain::result<void> memory_state_store::put(const commands::stored_state& s) {
  ++puts;
  if (failures_ > 0) {
    --failures_;
    return domain::fail(domain::errc::unavailable, "injected: the state store is failing");
  }
  states_.insert_or_assign(s.state.id.get(), s);
  return {};
}

domain::result<std::optional<commands::stored_state>> memory_state_store::get(
    const domain::customer_id& id) {
  ++gets;
  if (failures_ > 0) {
    --failures_;
    return domain::fail(domain::errc::unavailable, "injected: the state store is failing");
  }
  const auto it = states_.find(id.get());
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

}  // namespace fieldledger::infra

#include "projections/memory_view_store.hpp"

#include <mutex>

namespace fieldledger::projections {

using namespace fieldledger::domain;

result<std::optional<std::string>> memory_view_store::get(std::string_view key) const {
  std::shared_lock lock(mu_);
  const auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

result<void> memory_view_store::scan(std::string_view prefix, std::string_view after,
                                     const scan_fn& fn) const {
  std::shared_lock lock(mu_);
  auto it = after.empty() ? data_.lower_bound(prefix) : data_.upper_bound(after);
  if (!after.empty() && after < prefix) it = data_.lower_bound(prefix);
  for (; it != data_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    if (!fn(it->first, it->second)) break;
  }
  return {};
}

result<void> memory_view_store::commit(std::span<const write_op> ops) {
  std::unique_lock lock(mu_);
  for (const auto& op : ops) {
    if (op.value) {
      data_.insert_or_assign(op.key, *op.value);
    } else if (auto it = data_.find(op.key); it != data_.end()) {
      data_.erase(it);
    }
  }
  return {};
}

result<void> memory_view_store::clear() {
  std::unique_lock lock(mu_);
  data_.clear();
  return {};
}

std::size_t memory_view_store::size() const {
  std::shared_lock lock(mu_);
  return data_.size();
}

}  // namespace fieldledger::projections

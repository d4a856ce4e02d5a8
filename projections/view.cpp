#include "projections/view.hpp"

#include <utility>

namespace fieldledger::projections {

using namespace fieldledger::domain;

result<std::optional<std::string>> batch::get(std::string_view key) const {
  if (auto it = index_.find(key); it != index_.end()) return ops_[it->second].value;
  return store_.get(key);
}

void batch::put(std::string key, std::string value) {
  if (auto it = index_.find(key); it != index_.end()) {
    ops_[it->second].value = std::move(value);
    return;
  }
  index_.emplace(key, ops_.size());
  ops_.push_back({std::move(key), std::move(value)});
}

void batch::del(std::string key) {
  if (auto it = index_.find(key); it != index_.end()) {
    ops_[it->second].value.reset();
    return;
  }
  index_.emplace(key, ops_.size());
  ops_.push_back({std::move(key), std::nullopt});
}

std::vector<write_op> batch::take() {
  index_.clear();
  return std::exchange(ops_, {});
}

std::string checkpoint_key(std::string_view view_name, std::uint32_t partition) {
  std::string k = "~ckpt/";
  k += view_name;
  k += '/';
  k += std::to_string(partition);
  return k;
}

}  // namespace fieldledger::projections

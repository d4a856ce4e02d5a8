#pragma once
// The in-memory fake of the view-store port (tests, and scratch rebuilds to compare with).
#include <map>
#include <shared_mutex>

#include "projections/view_store.hpp"

namespace fieldledger::projections {

class memory_view_store final : public view_store {
 public:
  domain::result<std::optional<std::string>> get(std::string_view key) const override;
  domain::result<void> scan(std::string_view prefix, std::string_view after,
                            const scan_fn& fn) const override;
  domain::result<void> commit(std::span<const write_op> ops) override;
  domain::result<void> clear() override;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace fieldledger::projections

#pragma once
// A view store that forwards to the current generation of the views and can switch to a
// rebuilt one atomically: a read in flight finishes on the generation it began on, and the
// old generation is released when its last reader lets go.
#include <memory>
#include <shared_mutex>

#include "projections/view_store.hpp"

namespace fieldledger::projections {

class generation_store final : public view_store {
 public:
  generation_store(std::shared_ptr<view_store> current, std::uint64_t generation)
      : current_(std::move(current)), generation_(generation) {}

  [[nodiscard]] domain::result<std::optional<std::string>> get(
      std::string_view key) const override {
    return load()->get(key);
  }
  [[nodiscard]] domain::result<std::vector<std::optional<std::string>>> get_many(
      std::span<const std::string> keys) const override {
    return load()->get_many(keys);
  }
  [[nodiscard]] domain::result<void> scan(std::string_view prefix, std::string_view after,
                                          const scan_fn& fn) const override {
    return load()->scan(prefix, after, fn);
  }
  [[nodiscard]] domain::result<void> commit(std::span<const write_op> ops) override {
    return load()->commit(ops);
  }
  [[nodiscard]] domain::result<void> clear() override { return load()->clear(); }
  [[nodiscard]] domain::result<void> seal() override { return load()->seal(); }

  // Makes next the current generation; returns the one it replaces.
  std::shared_ptr<view_store> swap(std::shared_ptr<view_store> next, std::uint64_t generation) {
    std::unique_lock lock(mu_);
    generation_ = generation;
    std::swap(current_, next);
    return next;
  }

  std::uint64_t generation() const {
    std::shared_lock lock(mu_);
    return generation_;
  }

 private:
  std::shared_ptr<view_store> load() const {
    std::shared_lock lock(mu_);
    return current_;
  }

  mutable std::shared_mutex mu_;
  std::shared_ptr<view_store> current_;
  std::uint64_t generation_;
};

}  // namespace fieldledger::projections

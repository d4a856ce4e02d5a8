#pragma once
// A view: a projection of the log into view_store keys. Each view owns a key prefix and its
// checkpoints ("~ckpt/<view name>/<partition>" -> next offset, written by the runner in the
// same commit as the data).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/event.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

// The writes of one commit, readable before they land, so later events of a batch see the
// effect of earlier ones.
class batch {
 public:
  explicit batch(const view_store& store) : store_(store) {}
  // Room for about n writes without growing.
  void reserve(std::size_t n) {
    ops_.reserve(n);
    index_.reserve(n);
  }
  [[nodiscard]] domain::result<std::optional<std::string>> get(std::string_view key) const;
  void put(std::string key, std::string value);
  void del(std::string key);
  bool empty() const noexcept { return ops_.empty(); }
  // The ops in the order given, later writes to a key superseding earlier ones.
  std::vector<write_op> take();

 private:
  const view_store& store_;
  std::vector<write_op> ops_;
  // Looked up by string_view without making a string of it.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept {
      return std::hash<std::string_view>{}(k);
    }
  };
  std::unordered_map<std::string, std::size_t, key_hash, std::equal_to<>> index_;  // -> ops_
};

class view {
 public:
  virtual ~view() = default;
  virtual std::string_view name() const = 0;
  // Applies one event; must be deterministic (rebuilds give byte-equal views).
  [[nodiscard]] virtual domain::result<void> apply(const domain::recorded_event& e, batch& b) = 0;
};

// The views of this release: customer detail, customer search, contacts (by customer and by
// id, with the contact search index), primary contact by customer.
std::vector<std::unique_ptr<view>> make_views();

// The history view (projections/audit.cpp): "hi/<customer>/<inverted offset>" -> the history
// entry of each event; it is also the per-customer index of the log.
std::unique_ptr<view> make_history_view();

// Checkpoint key of a view for a partition.
std::string checkpoint_key(std::string_view view_name, std::uint32_t partition);

}  // namespace fieldledger::projections

#pragma once
// The view-store port: an ordered key-value store the projections write and queries read.
// Implementations: projections::memory_view_store (fake) and infra::rocksdb_view_store.
// One contract suite (tests/projections/view_store_contract) runs over both.
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"

namespace fieldledger::projections {

struct write_op {
  std::string key;
  std::optional<std::string> value;  // nullopt: delete the key
};

class view_store {
 public:
  virtual ~view_store() = default;

  // The value at key, nullopt when absent. Thread-safe.
  [[nodiscard]] virtual domain::result<std::optional<std::string>> get(
      std::string_view key) const = 0;

  // The values at keys, in the same order (nullopt where absent): a page of documents in one
  // read. Thread-safe. This default reads them one by one.
  [[nodiscard]] virtual domain::result<std::vector<std::optional<std::string>>> get_many(
      std::span<const std::string> keys) const {
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (const auto& key : keys) {
      auto v = get(key);
      if (!v) return std::unexpected(v.error());
      out.push_back(std::move(*v));
    }
    return out;
  }

  // Calls fn(key, value) for keys starting with prefix, in byte order, beginning after
  // `after` (exclusive; "" = from the first), until fn returns false. Sees a consistent
  // snapshot. Thread-safe.
  using scan_fn = std::function<bool(std::string_view key, std::string_view value)>;
  [[nodiscard]] virtual domain::result<void> scan(std::string_view prefix, std::string_view after,
                                                  const scan_fn& fn) const = 0;

  // Applies all ops atomically (all or none). Not durable by itself (no fsync): views are
  // rebuilt from the log, and a view's checkpoint is written in the same commit as its data.
  // Thread-safe.
  [[nodiscard]] virtual domain::result<void> commit(std::span<const write_op> ops) = 0;

  // Removes every key (used by rebuild). Thread-safe.
  [[nodiscard]] virtual domain::result<void> clear() = 0;

  // Makes every commit so far durable. A commit is atomic but may be lost in a crash (the
  // RocksDB store has no write-ahead log: it keeps the commits up to its last flush and none
  // after, and the checkpoints in them say where to resume), so a store built in bulk (a
  // rebuild's fresh generation, see infra/view_generations.hpp) must be sealed before it
  // becomes current. Thread-safe; nothing to do for a store that is not durable at all.
  [[nodiscard]] virtual domain::result<void> seal() { return {}; }
};

}  // namespace fieldledger::projections

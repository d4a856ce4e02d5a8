#pragma once
// A view store that keeps the values it reads in memory, in front of another view store: a
// point read found there skips the store's lookup (for RocksDB: the memtables, a bloom filter
// per table file, an index and a data block search). Bounded by bytes (least recently used
// values go first; RocksDB's LRU cache holds them). Scans pass through.
//
// A read never returns a value older than the one the store below would return at that
// moment: a commit drops the keys it writes from the cache before it writes them, and a read
// that missed may keep what it read only when no commit touched keys like it meanwhile (one
// sequence number per stripe of keys). Absent keys are kept too (as absent).
#include <array>
#include <atomic>
#include <memory>
#include <mutex>

#include "projections/view_store.hpp"

namespace rocksdb {
class Cache;
}

namespace fieldledger::infra {

class cached_view_store final : public projections::view_store {
 public:
  // enabled = false: everything passes through until seal() (a bulk build reads and writes
  // each key about once; keeping them would only cost). Such a store is sealed with no commit
  // in flight (the rebuilder seals between its bulk and its tail, on the thread that commits).
  cached_view_store(std::shared_ptr<projections::view_store> inner, std::size_t capacity_bytes,
                    bool enabled = true);
  ~cached_view_store() override;

  domain::result<std::optional<std::string>> get(std::string_view key) const override;
  domain::result<std::vector<std::optional<std::string>>> get_many(
      std::span<const std::string> keys) const override;
  domain::result<void> scan(std::string_view prefix, std::string_view after,
                            const scan_fn& fn) const override;
  domain::result<void> commit(std::span<const projections::write_op> ops) override;
  domain::result<void> clear() override;
  domain::result<void> seal() override;

  // Bytes held now (keys, values and per-entry overhead).
  std::size_t usage() const;

 private:
  static constexpr std::size_t k_stripes = 64;
  struct stripe {
    std::mutex mu;
    std::uint64_t seq = 0;      // bumped by each commit that touches a key of the stripe
    std::uint32_t writers = 0;  // commits in flight over the stripe's keys
  };
  struct observed {
    std::size_t stripe;
    std::uint64_t seq;
  };
  static std::size_t stripe_of(std::string_view key);
  observed observe(std::string_view key) const;
  void writing(std::uint64_t stripe_mask, bool begins) const;
  void keep(std::string_view key, const std::optional<std::string>& value,
            const observed& before) const;
  bool lookup(std::string_view key, std::optional<std::string>& out) const;

  std::shared_ptr<projections::view_store> inner_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::atomic<bool> enabled_;
  mutable std::array<stripe, k_stripes> stripes_;
};

}  // namespace fieldledger::infra

#pragma once
// The view-store port on RocksDB (its own database, apart from the log). Commits are atomic
// WriteBatches without a write-ahead log: views are rebuilt from the log, and each view's
// checkpoint lands in the same batch as its data, so a crash loses the commits since the last
// flush of the memtables, all of them and their checkpoints together, and the runner applies
// those events again. seal() and a clean close flush. Opened for a bulk build, larger
// memtables take the commits until seal().
#include <memory>
#include <string>

#include "projections/view_store.hpp"

namespace fieldledger::infra {

// The memory a view store may use for reads, beyond its memtables (bounded by RocksDB's
// write_buffer_size x max_write_buffer_number: 2 x 64 MiB live, 4 x 128 MiB while bulk).
struct view_store_memory {
  // Data blocks, uncompressed (index and filter blocks are held apart, one per table file).
  std::size_t block_cache_bytes = std::size_t{256} << 20;
  // Whole values read recently, in front of the store (infra/cached_view_store.hpp): a point
  // read found there skips RocksDB. 0: none. Used by open_view_generation.
  std::size_t value_cache_bytes = std::size_t{128} << 20;
};

class rocksdb_view_store final : public projections::view_store {
 public:
  enum class mode { live, bulk };
  [[nodiscard]] static domain::result<std::unique_ptr<rocksdb_view_store>> open(
      const std::string& dir, mode m = mode::live, const view_store_memory& memory = {});
  ~rocksdb_view_store() override;

  domain::result<std::optional<std::string>> get(std::string_view key) const override;
  domain::result<std::vector<std::optional<std::string>>> get_many(
      std::span<const std::string> keys) const override;
  domain::result<void> scan(std::string_view prefix, std::string_view after,
                            const scan_fn& fn) const override;
  domain::result<void> commit(std::span<const projections::write_op> ops) override;
  domain::result<void> clear() override;
  domain::result<void> seal() override;

  struct impl;

 private:
  explicit rocksdb_view_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::infra

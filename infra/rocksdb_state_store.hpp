#pragma once
// The state-store port on RocksDB, in a directory of its own that open() empties: the states
// are a cache of the log for this process only. Written without a write-ahead log; each state
// is one value, compact JSON (commands/state_store.hpp).
#include <memory>
#include <string>

#include "commands/state_store.hpp"

namespace fieldledger::infra {

class rocksdb_state_store final : public commands::state_store {
 public:
  // Empties dir (or creates it) and opens it. block_cache_bytes: the states read back kept in
  // memory, uncompressed; the memtables add at most 2 x 16 MiB.
  [[nodiscard]] static domain::result<std::unique_ptr<rocksdb_state_store>> open(
      const std::string& dir, std::size_t block_cache_bytes = std::size_t{16} << 20);
  ~rocksdb_state_store() override;

  domain::result<void> put(const commands::stored_state& s) override;
  domain::result<std::optional<commands::stored_state>> get(const domain::customer_id& id) override;

  struct impl;

 private:
  explicit rocksdb_state_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The codec, exposed for its tests: a state as one JSON object, and back. decode_state fails
// (malformed) on text it did not write.
std::string encode_state(const commands::stored_state& s);
domain::result<commands::stored_state> decode_state(std::string_view text);

}  // namespace fieldledger::infra

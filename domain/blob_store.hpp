#pragma once
// The blob-store port: file content, stored once per SHA-256 digest. Implementations:
// infra::memory_blob_store (fake) and infra::file_blob_store (DATA_DIR/blobs). One contract
// suite (tests/infra/blob_store_contract_test) runs over both.
//
// Ordering contract with the log: a blob is put (durably) before the event that references it
// is appended, so a crash in between leaves at most an unreferenced blob, which collect()
// removes later — never an event pointing at nothing.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"

namespace fieldledger::domain {

struct blob_info {
  std::string sha256;  // lower-case hex
  std::uint64_t size = 0;
  friend bool operator==(const blob_info&, const blob_info&) = default;
};

class blob_store {
 public:
  virtual ~blob_store() = default;

  // Stores content durably: when it returns a value the blob survives a crash. Idempotent:
  // content already stored is not written again, but counts as just stored (so collect() does
  // not take it from an upload in flight). On failure nothing new is visible. Thread-safe.
  [[nodiscard]] virtual result<blob_info> put(std::string_view content) = 0;

  // The content with this digest; nullopt when there is none (or the digest is malformed).
  // Thread-safe.
  [[nodiscard]] virtual result<std::optional<std::string>> get(std::string_view sha256) const = 0;

  // Every stored digest, in no particular order. Thread-safe.
  [[nodiscard]] virtual result<std::vector<std::string>> list() const = 0;

  // Removes each blob whose digest is not in live and that was last stored at least grace ago
  // (so that content put for an event not yet appended stays). Returns how many it removed.
  // Thread-safe, also against put() of the same content.
  [[nodiscard]] virtual result<std::size_t> collect(const std::vector<std::string>& live,
                                                    std::chrono::seconds grace) = 0;
};

}  // namespace fieldledger::domain

#pragma once
// The blob-store fake: content in memory, with the time each blob was last stored.
#include <chrono>
#include <map>
#include <mutex>

#include "domain/blob_store.hpp"

namespace fieldledger::infra {

class memory_blob_store final : public domain::blob_store {
 public:
  domain::result<domain::blob_info> put(std::string_view content) override;
  domain::result<std::optional<std::string>> get(std::string_view sha256) const override;
  domain::result<std::vector<std::string>> list() const override;
  domain::result<std::size_t> collect(const std::vector<std::string>& live,
                                      std::chrono::seconds grace) override;

 private:
  struct blob {
    std::string content;
    std::chrono::system_clock::time_point stored;
  };
  mutable std::mutex mu_;
  std::map<std::string, blob, std::less<>> blobs_;
};

}  // namespace fieldledger::infra

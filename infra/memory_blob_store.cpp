#include "infra/memory_blob_store.hpp"

#include <set>

#include "infra/sha256.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

result<blob_info> memory_blob_store::put(std::string_view content) {
  blob_info info{sha256_hex(content), content.size()};
  std::lock_guard lock(mu_);
  auto& b = blobs_[info.sha256];
  if (b.content.size() != content.size()) b.content = std::string(content);
  b.stored = std::chrono::system_clock::now();
  return info;
}

result<std::optional<std::string>> memory_blob_store::get(std::string_view sha256) const {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(sha256);
  if (it == blobs_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second.content};
}

result<std::vector<std::string>> memory_blob_store::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [d, b] : blobs_) out.push_back(d);
  return out;
}

result<std::size_t> memory_blob_store::collect(const std::vector<std::string>& live,
                                               std::chrono::seconds grace) {
  const std::set<std::string, std::less<>> keep(live.begin(), live.end());
  const auto cutoff = std::chrono::system_clock::now() - grace;
  std::lock_guard lock(mu_);
  std::size_t removed = 0;
  for (auto it = blobs_.begin(); it != blobs_.end();) {
    if (!keep.contains(it->first) && it->second.stored <= cutoff) {
      it = blobs_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace fieldledger::infra

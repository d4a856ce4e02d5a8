#include "infra/sha256.hpp"

#include <sodium.h>

namespace fieldledger::infra {

std::string sha256_hex(std::string_view content) {
  [[maybe_unused]] static const bool ready = sodium_init() >= 0;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(content.data()),
                     content.size());
  std::string hex(crypto_hash_sha256_BYTES * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest, sizeof digest);
  hex.pop_back();
  return hex;
}

}  // namespace fieldledger::infra

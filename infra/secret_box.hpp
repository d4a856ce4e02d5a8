#pragma once
// The secret box of system secrets: XChaCha20-Poly1305 (libsodium's
// crypto_aead_xchacha20poly1305_ietf) under one 256-bit master key, a random 192-bit nonce per
// value. A sealed value is base64 (URL-safe, no padding) of: version byte 1, nonce, ciphertext
// with its tag. The associated data (domain::secret_associated_data) is authenticated, not
// stored.
//
// The master key lives in DATA_DIR/secret.key (64 hex digits, mode 0600), created on first
// start: written to secret.key.tmp, fsynced, renamed, the directory fsynced. Losing the file
// loses every secret; back it up apart from the log (a copy of the log alone reveals nothing).
#include <array>
#include <memory>
#include <string>

#include "domain/secret.hpp"

namespace fieldledger::infra {

class sodium_secret_box final : public domain::secret_box {
 public:
  static constexpr std::size_t k_key_bytes = 32;
  using key = std::array<unsigned char, k_key_bytes>;

  // The key of DATA_DIR/secret.key, created when absent. Fails when the file is not 64 hex
  // digits or can be read by others than its owner (mode & 077).
  [[nodiscard]] static domain::result<std::unique_ptr<sodium_secret_box>> open_key_file(
      const std::string& data_dir);
  // A box over a given key (tests), or a fresh random one.
  static std::unique_ptr<sodium_secret_box> from_key(const key& k);
  static std::unique_ptr<sodium_secret_box> generate();

  ~sodium_secret_box() override;
  sodium_secret_box(const sodium_secret_box&) = delete;
  sodium_secret_box& operator=(const sodium_secret_box&) = delete;

  [[nodiscard]] domain::result<std::string> seal(std::string_view plaintext,
                                                 std::string_view associated_data) const override;
  [[nodiscard]] domain::result<std::string> open(std::string_view sealed,
                                                 std::string_view associated_data) const override;

 private:
  explicit sodium_secret_box(const key& k) : key_(k) {}
  key key_{};
};

}  // namespace fieldledger::infra

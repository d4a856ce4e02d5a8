#pragma once
// The secret-box port: authenticated encryption of system secrets (infra/secret_box.* is the
// libsodium implementation; tests may use a fake). A sealed value is text (base64 of nonce and
// ciphertext) and is bound to its associated data: opening it with other associated data fails.
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace fieldledger::domain {

class secret_box {
 public:
  virtual ~secret_box() = default;
  // Encrypts plaintext under a fresh random nonce. Thread-safe.
  [[nodiscard]] virtual result<std::string> seal(std::string_view plaintext,
                                                 std::string_view associated_data) const = 0;
  // The plaintext of a sealed value; internal error when it was tampered with, sealed under
  // another key or with other associated data. Thread-safe.
  [[nodiscard]] virtual result<std::string> open(std::string_view sealed,
                                                 std::string_view associated_data) const = 0;
};

// The associated data of a system's secret value: binds the ciphertext to the system and the
// field, so that a sealed value copied to another system or field does not open.
inline std::string secret_associated_data(std::string_view system_id, std::string_view key) {
  std::string ad = "fieldledger.system/";
  ad += system_id;
  ad += '/';
  ad += key;
  return ad;
}

}  // namespace fieldledger::domain

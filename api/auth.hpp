#pragma once
// API keys. This release knows the admin key only (roles and key management come with their
// own issue): from FIELDLEDGER_ADMIN_KEY, or else DATA_DIR/admin.key (created on first start,
// mode 0600). Only a salted hash of a key is kept in memory; comparison is constant-time.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace fieldledger::api {

struct principal {
  std::string name;  // recorded as the actor of every event the key causes
  std::string role;  // "admin"
};

class auth {
 public:
  [[nodiscard]] static domain::result<std::unique_ptr<auth>> open(const std::string& data_dir);

  // The key file written or read at open(), "" when the key came from the environment.
  const std::string& admin_key_path() const noexcept { return admin_key_path_; }

  // The holder of the key, or nullopt when the key is unknown. Thread-safe.
  std::optional<principal> authenticate(std::string_view key) const;

 private:
  auth() = default;
  using digest = std::array<unsigned char, 32>;
  digest hash(std::string_view key) const;

  std::array<unsigned char, 32> salt_{};
  digest admin_hash_{};
  std::string admin_key_path_;
};

}  // namespace fieldledger::api

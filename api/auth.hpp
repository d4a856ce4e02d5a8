#pragma once
// API keys and roles.
//
// The admin key comes from FIELDLEDGER_ADMIN_KEY, or else DATA_DIR/admin.key (created on
// first start, mode 0600). Further keys are created by an admin (`fieldledger keys create` or
// POST /v1/admin/keys), each with a name (the actor recorded in every event it causes) and a
// role. A key is shown once, when created: DATA_DIR/keys keeps its id, name, role, a random
// salt and the salted BLAKE2b hash of its secret, never the key. Comparison is constant-time.
// The file is re-read when it changes, so a key revoked by the command-line tool stops
// working at the server's next request; writers take DATA_DIR/keys.lock.
//
// Roles: reader (queries), writer (queries and commands), auditor (queries, history, as-of
// reads and the event feed), admin (everything: keys, rebuilds).
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/error.hpp"

namespace fieldledger::api {

inline constexpr std::array<std::string_view, 4> k_roles = {"reader", "writer", "auditor", "admin"};

enum class permission { read, write, audit, admin };

// Whether role may do what p names.
bool allows(std::string_view role, permission p);
// The roles that may (for error messages): "writer or admin".
std::string roles_allowed(permission p);

struct principal {
  std::string name;  // recorded as the actor of every event the key causes
  std::string role;
};

struct key_record {
  std::string id;  // 12 hex digits, also the start of the key
  std::string name;
  std::string role;
  std::string created_at;  // RFC 3339 UTC
  std::string revoked_at;  // "" while the key works
};

struct created_key {
  key_record record;
  std::string key;  // the secret: shown once, stored nowhere
};

class auth {
 public:
  [[nodiscard]] static domain::result<std::unique_ptr<auth>> open(const std::string& data_dir);

  // The key file written or read at open(), "" when the key came from the environment.
  const std::string& admin_key_path() const noexcept { return admin_key_path_; }

  // The holder of the key, or nullopt when the key is unknown or revoked. Thread-safe.
  std::optional<principal> authenticate(std::string_view key) const;

  // Key management (thread-safe; also safe against another process doing the same).
  // name: 1 to 64 of A-Z a-z 0-9 . _ -, unique among keys that work ("admin" is the admin
  // key's); role: one of k_roles.
  [[nodiscard]] domain::result<created_key> create(std::string_view name, std::string_view role);
  [[nodiscard]] domain::result<std::vector<key_record>> list() const;
  [[nodiscard]] domain::result<key_record> revoke(std::string_view id);

 private:
  auth() = default;
  using digest = std::array<unsigned char, 32>;
  struct stored {
    key_record record;
    std::array<unsigned char, 16> salt{};
    digest hash{};
  };
  struct file_stamp {
    long long mtime_ns = -1, size = -1, inode = -1;
    friend bool operator==(const file_stamp&, const file_stamp&) = default;
  };

  static digest hash(std::string_view secret, const unsigned char* salt, std::size_t salt_size);
  file_stamp stamp() const;
  // Re-reads the key file when it has changed since the last read.
  domain::result<void> refresh() const;
  domain::result<void> load_locked() const;
  domain::result<void> save_locked() const;
  // Runs change with the file lock held and the keys freshly read, then saves them.
  domain::result<void> modify(const std::function<domain::result<void>()>& change);

  std::string dir_;
  std::array<unsigned char, 32> admin_salt_{};
  digest admin_hash_{};
  std::string admin_key_path_;

  mutable std::shared_mutex mu_;
  mutable std::vector<stored> keys_;
  mutable std::unordered_map<std::string, std::size_t> by_id_;
  mutable file_stamp loaded_;
};

}  // namespace fieldledger::api

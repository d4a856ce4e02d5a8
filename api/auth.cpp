#include "api/auth.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "domain/ids.hpp"

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

constexpr std::size_t k_min_key_length = 16;
constexpr std::size_t k_id_length = 12;      // hex digits
constexpr std::size_t k_secret_length = 43;  // base64url of 32 bytes
constexpr std::size_t k_key_length = 4 + k_id_length + 1 + k_secret_length;  // flk_<id>_<secret>

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string base64url(const unsigned char* raw, std::size_t n) {
  std::string text(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(text.data(), text.size(), raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.resize(std::strlen(text.c_str()));
  return text;
}

std::string hex(const unsigned char* raw, std::size_t n) {
  std::string text(n * 2 + 1, '\0');
  sodium_bin2hex(text.data(), text.size(), raw, n);
  text.pop_back();
  return text;
}

bool from_hex(std::string_view text, unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  return sodium_hex2bin(out, n, text.data(), text.size(), nullptr, &got, nullptr) == 0 && got == n;
}

std::string generate_admin_key() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  return "flk_" + base64url(raw, sizeof raw);
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool is_hex_id(std::string_view id) {
  return id.size() == k_id_length && std::ranges::all_of(id, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Writes text to path durably: aside, fsynced, renamed over, directory fsynced.
result<void> write_file(const std::string& dir, const std::string& path, const std::string& text) {
  const auto aside = path + ".tmp";
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(errc::unavailable, "cannot write " + aside);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(aside.c_str(), path.c_str()) != 0) {
    return fail(errc::unavailable, "cannot write " + path);
  }
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  return {};
}

}  // namespace

bool allows(std::string_view role, permission p) {
  if (role == "admin") return true;
  switch (p) {
    case permission::read:
      return role == "reader" || role == "writer" || role == "auditor";
    case permission::write:
      return role == "writer";
    case permission::audit:
      return role == "auditor";
    case permission::admin:
      return false;
  }
  return false;
}

std::string roles_allowed(permission p) {
  switch (p) {
    case permission::read:
      return "reader, writer, auditor or admin";
    case permission::write:
      return "writer or admin";
    case permission::audit:
      return "auditor or admin";
    case permission::admin:
      return "admin";
  }
  return "admin";
}

result<std::unique_ptr<auth>> auth::open(const std::string& data_dir) {
  if (sodium_init() < 0) return fail(errc::internal, "libsodium cannot be initialised");
  std::unique_ptr<auth> a(new auth());
  a->dir_ = data_dir;
  randombytes_buf(a->admin_salt_.data(), a->admin_salt_.size());

  std::string key;
  if (const char* env = std::getenv("FIELDLEDGER_ADMIN_KEY"); env != nullptr && *env != '\0') {
    key = env;
  } else {
    a->admin_key_path_ = data_dir + "/admin.key";
    std::ifstream in(a->admin_key_path_);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      key = trim(ss.str());
    } else {
      key = generate_admin_key();
      const int fd = ::open(a->admin_key_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (fd < 0) return fail(errc::internal, "cannot create " + a->admin_key_path_);
      const std::string line = key + "\n";
      const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                      ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return fail(errc::internal, "cannot write " + a->admin_key_path_);
    }
  }
  if (key.size() < k_min_key_length) {
    return fail(errc::invalid, "the admin key must be at least 16 characters long");
  }
  a->admin_hash_ = hash(key, a->admin_salt_.data(), a->admin_salt_.size());
  sodium_memzero(key.data(), key.size());
  if (auto ok = a->refresh(); !ok) return std::unexpected(ok.error());
  return a;
}

auth::digest auth::hash(std::string_view secret, const unsigned char* salt, std::size_t salt_size) {
  digest d{};
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), salt, salt_size);
  return d;
}

auth::file_stamp auth::stamp() const {
  struct stat st {};
  if (::stat((dir_ + "/keys").c_str(), &st) != 0) return {};
  return {static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
          static_cast<long long>(st.st_size), static_cast<long long>(st.st_ino)};
}

result<void> auth::refresh() const {
  const auto now = stamp();
  {
    std::shared_lock lock(mu_);
    if (now == loaded_) return {};
  }
  std::unique_lock lock(mu_);
  if (now == loaded_) return {};
  return load_locked();
}

result<void> auth::load_locked() const {
  const auto path = dir_ + "/keys";
  const auto before = stamp();
  std::vector<stored> keys;
  std::ifstream in(path);
  std::size_t line_no = 0;
  for (std::string line; in && std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string part; std::getline(ss, part, '\t');) f.push_back(part);
    stored s;
    if (f.size() != 7 || !is_hex_id(f[0]) || !valid_name(f[1]) ||
        std::ranges::find(k_roles, f[2]) == k_roles.end() ||
        !from_hex(f[3], s.salt.data(), s.salt.size()) ||
        !from_hex(f[4], s.hash.data(), s.hash.size())) {
      return fail(errc::internal,
                  path + " line " + std::to_string(line_no) + " is not a key record");
    }
    s.record = {f[0], f[1], f[2], f[5], f[6] == "-" ? "" : f[6]};
    keys.push_back(std::move(s));
  }
  keys_ = std::move(keys);
  by_id_.clear();
  for (std::size_t i = 0; i < keys_.size(); ++i) by_id_[keys_[i].record.id] = i;
  loaded_ = before;
  return {};
}

result<void> auth::save_locked() const {
  std::string text;
  for (const auto& k : keys_) {
    const auto& r = k.record;
    text += r.id + '\t' + r.name + '\t' + r.role + '\t' + hex(k.salt.data(), k.salt.size()) + '\t' +
            hex(k.hash.data(), k.hash.size()) + '\t' + r.created_at + '\t' +
            (r.revoked_at.empty() ? "-" : r.revoked_at) + '\n';
  }
  if (auto ok = write_file(dir_, dir_ + "/keys", text); !ok) return ok;
  loaded_ = stamp();
  return {};
}

result<void> auth::modify(const std::function<result<void>()>& change) {
  const auto lock_path = dir_ + "/keys.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(errc::unavailable, "cannot open " + lock_path);
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return fail(errc::unavailable, "cannot lock " + lock_path);
  }
  result<void> outcome;
  {
    std::unique_lock lock(mu_);
    outcome = load_locked();  // what another process may have written meanwhile
    if (outcome) outcome = change();
    if (outcome) outcome = save_locked();
    if (!outcome) (void)load_locked();  // nothing half-changed stays in memory
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return outcome;
}

std::optional<principal> auth::authenticate(std::string_view key) const {
  if (key.size() == k_key_length && key.starts_with("flk_") && key[4 + k_id_length] == '_') {
    (void)refresh();  // a failed re-read keeps the keys last read
    const std::string id(key.substr(4, k_id_length));
    const auto secret = key.substr(4 + k_id_length + 1);
    std::shared_lock lock(mu_);
    const auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    const auto& k = keys_[it->second];
    const auto h = hash(secret, k.salt.data(), k.salt.size());
    if (sodium_memcmp(h.data(), k.hash.data(), h.size()) != 0 || !k.record.revoked_at.empty()) {
      return std::nullopt;
    }
    return principal{k.record.name, k.record.role};
  }
  const auto h = hash(key, admin_salt_.data(), admin_salt_.size());
  if (sodium_memcmp(h.data(), admin_hash_.data(), h.size()) != 0) return std::nullopt;
  return principal{"admin", "admin"};
}

result<created_key> auth::create(std::string_view name, std::string_view role) {
  if (!valid_name(name)) {
    return fail(errc::invalid, "the key's name is not valid",
                {{"name", "1 to 64 of A-Z a-z 0-9 . _ -"}});
  }
  if (std::ranges::find(k_roles, role) == k_roles.end()) {
    return fail(errc::invalid, "no such role", {{"role", "one of reader, writer, auditor, admin"}});
  }
  created_key out;
  auto ok = modify([&]() -> result<void> {
    const bool taken = name == "admin" || std::ranges::any_of(keys_, [&](const stored& s) {
                         return s.record.name == name && s.record.revoked_at.empty();
                       });
    if (taken) {
      return fail(errc::conflict, "a key named \"" + std::string(name) + "\" exists",
                  {{"name", "must be unique among keys that work"}});
    }
    unsigned char raw_id[k_id_length / 2], secret[32];
    std::string id;
    do {
      randombytes_buf(raw_id, sizeof raw_id);
      id = hex(raw_id, sizeof raw_id);
    } while (by_id_.contains(id));
    randombytes_buf(secret, sizeof secret);
    const auto secret_text = base64url(secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    stored s;
    s.record = {id, std::string(name), std::string(role), now_rfc3339(), ""};
    randombytes_buf(s.salt.data(), s.salt.size());
    s.hash = hash(secret_text, s.salt.data(), s.salt.size());
    out.record = s.record;
    out.key = "flk_" + id + "_" + secret_text;
    keys_.push_back(std::move(s));
    by_id_[id] = keys_.size() - 1;
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return out;
}

result<std::vector<key_record>> auth::list() const {
  if (auto ok = refresh(); !ok) return std::unexpected(ok.error());
  std::shared_lock lock(mu_);
  std::vector<key_record> out;
  for (const auto& k : keys_) out.push_back(k.record);
  return out;
}

result<key_record> auth::revoke(std::string_view id) {
  key_record out;
  auto ok = modify([&]() -> result<void> {
    const auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) {
      return fail(errc::not_found, "no key with id \"" + std::string(id) + "\"");
    }
    auto& r = keys_[it->second].record;
    if (r.revoked_at.empty()) r.revoked_at = now_rfc3339();  // revoking twice changes nothing
    out = r;
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return out;
}

}  // namespace fieldledger::api

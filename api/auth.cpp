#include "api/auth.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

constexpr std::size_t k_min_key_length = 16;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string generate_key() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string("flk_") + text;
}

}  // namespace

result<std::unique_ptr<auth>> auth::open(const std::string& data_dir) {
  if (sodium_init() < 0) return fail(errc::internal, "libsodium cannot be initialised");
  std::unique_ptr<auth> a(new auth());
  randombytes_buf(a->salt_.data(), a->salt_.size());

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
      key = generate_key();
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
  a->admin_hash_ = a->hash(key);
  sodium_memzero(key.data(), key.size());
  return a;
}

auth::digest auth::hash(std::string_view key) const {
  digest d{};
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), salt_.data(), salt_.size());
  return d;
}

std::optional<principal> auth::authenticate(std::string_view key) const {
  const auto h = hash(key);
  if (sodium_memcmp(h.data(), admin_hash_.data(), h.size()) != 0) return std::nullopt;
  return principal{"admin", "admin"};
}

}  // namespace fieldledger::api

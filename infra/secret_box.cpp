#include "infra/secret_box.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace fieldledger::infra {

using namespace fieldledger::domain;

namespace {

constexpr unsigned char k_format = 1;
constexpr std::size_t k_nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t k_tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr int k_base64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

result<void> write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return fail(errc::internal, "cannot write " + path);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Writes the key beside its final name, fsyncs it, renames it into place, fsyncs the directory.
result<void> create_key_file(const std::string& dir, const std::string& path,
                             const sodium_secret_box::key& k) {
  const std::string aside = path + ".tmp";
  ::unlink(aside.c_str());  // left by a crash before the rename: never in use
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(errc::internal, "cannot create " + aside);
  std::string hex(k.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), k.data(), k.size());
  hex.back() = '\n';
  auto written = write_all(fd, hex, aside);
  sodium_memzero(hex.data(), hex.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return fail(errc::internal, "cannot write " + aside);
  if (::rename(aside.c_str(), path.c_str()) != 0) {
    return fail(errc::internal, "cannot rename " + aside + " to " + path);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace

result<std::unique_ptr<sodium_secret_box>> sodium_secret_box::open_key_file(
    const std::string& data_dir) {
  if (sodium_init() < 0) return fail(errc::internal, "libsodium cannot be initialised");
  const std::string path = data_dir + "/secret.key";
  key k{};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    randombytes_buf(k.data(), k.size());
    if (auto ok = create_key_file(data_dir, path, k); !ok) return std::unexpected(ok.error());
    std::unique_ptr<sodium_secret_box> box(new sodium_secret_box(k));
    sodium_memzero(k.data(), k.size());
    return box;
  }
  if ((st.st_mode & 077) != 0) {
    return fail(errc::internal,
                path + " can be read by others than its owner. Hint: chmod 600 " + path);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errc::internal, "cannot read " + path);
  char text[k_key_bytes * 2 + 2] = {};
  const auto n = ::read(fd, text, sizeof text);
  ::close(fd);
  std::size_t got = 0;
  const bool ok =
      n >= static_cast<ssize_t>(k_key_bytes * 2) &&
      sodium_hex2bin(k.data(), k.size(), text, k_key_bytes * 2, nullptr, &got, nullptr) == 0 &&
      got == k.size() &&
      (n == static_cast<ssize_t>(k_key_bytes * 2) || text[k_key_bytes * 2] == '\n');
  sodium_memzero(text, sizeof text);
  if (!ok) {
    return fail(errc::internal, path +
                                    " is not a secret key (64 hex digits). Hint: restore it "
                                    "from its backup; without it no stored secret opens.");
  }
  std::unique_ptr<sodium_secret_box> box(new sodium_secret_box(k));
  sodium_memzero(k.data(), k.size());
  return box;
}

std::unique_ptr<sodium_secret_box> sodium_secret_box::from_key(const key& k) {
  if (sodium_init() < 0) return nullptr;
  return std::unique_ptr<sodium_secret_box>(new sodium_secret_box(k));
}

std::unique_ptr<sodium_secret_box> sodium_secret_box::generate() {
  if (sodium_init() < 0) return nullptr;
  key k{};
  randombytes_buf(k.data(), k.size());
  auto box = from_key(k);
  sodium_memzero(k.data(), k.size());
  return box;
}

sodium_secret_box::~sodium_secret_box() { sodium_memzero(key_.data(), key_.size()); }

result<std::string> sodium_secret_box::seal(std::string_view plaintext,
                                            std::string_view associated_data) const {
  std::vector<unsigned char> out(1 + k_nonce + plaintext.size() + k_tag);
  out[0] = k_format;
  unsigned char* nonce = out.data() + 1;
  randombytes_buf(nonce, k_nonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 1 + k_nonce, &written, bytes(plaintext),
                                             plaintext.size(), bytes(associated_data),
                                             associated_data.size(), nullptr, nonce, key_.data());
  std::string text(sodium_base64_ENCODED_LEN(out.size(), k_base64), '\0');
  sodium_bin2base64(text.data(), text.size(), out.data(), 1 + k_nonce + written, k_base64);
  text.resize(text.find('\0'));
  return text;
}

result<std::string> sodium_secret_box::open(std::string_view sealed,
                                            std::string_view associated_data) const {
  const auto refuse = [] {
    return fail(errc::internal,
                "a sealed secret does not open: it was altered, belongs to another system or "
                "field, or was sealed under another key");
  };
  if (sealed.empty()) return refuse();  // (and no null buffer for libsodium)
  std::vector<unsigned char> raw(sealed.size());
  std::size_t n = 0;
  if (sodium_base642bin(raw.data(), raw.size(), sealed.data(), sealed.size(), nullptr, &n, nullptr,
                        k_base64) != 0 ||
      n < 1 + k_nonce + k_tag || raw[0] != k_format) {
    return refuse();
  }
  std::string plain(n - 1 - k_nonce - k_tag, '\0');
  unsigned long long got = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &got, nullptr, raw.data() + 1 + k_nonce,
          n - 1 - k_nonce, bytes(associated_data), associated_data.size(), raw.data() + 1,
          key_.data()) != 0) {
    return refuse();
  }
  plain.resize(got);
  return plain;
}

}  // namespace fieldledger::infra

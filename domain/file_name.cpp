#include "domain/file_name.hpp"

#include <algorithm>

namespace fieldledger::domain {

namespace {

// The length of the UTF-8 sequence starting at s[i], or 0 when it is not a valid one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

std::unexpected<error> unusable(std::string why) {
  return fail(errc::invalid, "the file name cannot be used", {{"filename", std::move(why)}});
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::ranges::all_of(s, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

result<std::string> sanitize_file_name(std::string_view raw) {
  if (!is_valid_utf8(raw)) return unusable("must be UTF-8");
  if (const auto slash = raw.find_last_of("/\\"); slash != std::string_view::npos) {
    raw = raw.substr(slash + 1);
  }
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto n = utf8_length(raw, i);
    const auto c = static_cast<unsigned char>(raw[i]);
    // C0 controls, DEL, and the C1 controls (U+0080..U+009F, encoded C2 80..C2 9F).
    const bool control = c < 0x20 || c == 0x7f ||
                         (n == 2 && c == 0xc2 && static_cast<unsigned char>(raw[i + 1]) < 0xa0);
    if (!control) out.append(raw.substr(i, n));
    i += n;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return unusable("has no usable characters");
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  if (out.size() > k_max_file_name) {
    std::size_t cut = k_max_file_name;
    // Step back to the first byte of a character (continuation bytes are 10xxxxxx).
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
    out.erase(out.find_last_not_of(' ') + 1);
  }
  if (out.empty() || out == "." || out == "..") return unusable("has no usable characters");
  return out;
}

}  // namespace fieldledger::domain

#include "projections/text.hpp"

#include <optional>

namespace fieldledger::projections {

namespace {
bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !is_word_byte(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t start = i;
    while (i < s.size() && is_word_byte(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(lower(s.substr(start, std::min<std::size_t>(i - start, 64))));
  }
  return out;
}

std::string encode_cursor(std::string_view key) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(key.size() * 2);
  for (unsigned char c : key) {
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  }
  return out;
}

std::optional<std::string> decode_cursor(std::string_view cursor) {
  if (cursor.size() % 2 != 0 || cursor.size() > 2048) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    const int hi = nibble(cursor[i]), lo = nibble(cursor[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace fieldledger::projections

#include "domain/ids.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <mutex>
#include <random>

namespace fieldledger::domain {

std::string to_string(const log_position& p) {
  return std::to_string(p.partition.get()) + "-" + std::to_string(p.offset.get());
}

std::optional<log_position> parse_log_position(std::string_view s) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return std::nullopt;
  std::uint32_t part = 0;
  std::int64_t off = 0;
  auto r1 = std::from_chars(s.data(), s.data() + dash, part);
  auto r2 = std::from_chars(s.data() + dash + 1, s.data() + s.size(), off);
  if (r1.ec != std::errc{} || r1.ptr != s.data() + dash) return std::nullopt;
  if (r2.ec != std::errc{} || r2.ptr != s.data() + s.size() || off < 0) return std::nullopt;
  return log_position{partition_id{part}, log_offset{off}};
}

partition_id partition_for(const customer_id& id, std::uint32_t partition_count) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : id.get()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return partition_id{static_cast<std::uint32_t>(h % (partition_count == 0 ? 1 : partition_count))};
}

std::string new_id() {
  // UUIDv7: 48-bit Unix ms, version 7, 12 bits of a per-ms counter, variant, 62 random bits.
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static std::uint64_t last_ms = 0;
  static std::uint32_t counter = 0;
  std::uint64_t ms, rnd;
  std::uint32_t seq;
  {
    std::lock_guard lock(mu);
    ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0xfff) {  // counter exhausted: borrow the next millisecond
        ++ms;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    last_ms = ms;
    seq = counter;
    rnd = rng();
  }
  unsigned char b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<unsigned char>(seq & 0xff);
  for (int i = 8; i < 16; ++i) b[i] = static_cast<unsigned char>(rnd >> (8 * (i - 8)));
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(k_hex[b[i] >> 4]);
    s.push_back(k_hex[b[i] & 0xf]);
  }
  return s;
}

bool is_id(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string now_rfc3339() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int in every field, so the format cannot truncate
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace fieldledger::domain

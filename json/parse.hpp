#pragma once
// JSON text -> domain::value, strictly: UTF-8 validated, duplicate keys and trailing content
// rejected, depth and string length bounded. Errors are errc::malformed with a detail that
// says where (byte offset) and why.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/error.hpp"
#include "domain/value.hpp"

namespace fieldledger::json {

struct parse_limits {
  std::size_t max_depth = 32;
  std::size_t max_string_bytes = 64 * 1024;
};

[[nodiscard]] domain::result<domain::value> parse(std::string_view text,
                                                  const parse_limits& limits = {});

// The integer at a top-level key of a JSON object, found without building a tree (for
// documents this program wrote); nullopt when absent or not an integer.
std::optional<std::int64_t> top_level_int(std::string_view doc, std::string_view key);

}  // namespace fieldledger::json

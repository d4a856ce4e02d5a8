#pragma once
// Text helpers shared by the views (which index words) and the queries (which look them up).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fieldledger::projections {

// The search words of s: maximal runs of letters and digits (bytes >= 0x80 count as letters,
// so UTF-8 words stay whole), ASCII lower-cased, each at most 64 bytes.
std::vector<std::string> words_of(std::string_view s);

// ASCII lower case.
std::string lower(std::string_view s);

// Page cursors: opaque to clients (hex of the last key a page returned).
std::string encode_cursor(std::string_view key);
// nullopt when the text is not a cursor.
std::optional<std::string> decode_cursor(std::string_view cursor);

}  // namespace fieldledger::projections

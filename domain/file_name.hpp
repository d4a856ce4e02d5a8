#pragma once
// File names as clients send them, made safe to store and to send back: no directory parts,
// no control characters, valid UTF-8, at most k_max_file_name bytes. The name is never used as
// a path (content is stored by its digest), but it goes back out in Content-Disposition and in
// JSON, and clients save files under it.
#include <cstddef>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace fieldledger::domain {

inline constexpr std::size_t k_max_file_name = 255;  // bytes

// The last path component of raw ('/' and '\' both separate), control characters removed,
// surrounding spaces trimmed, cut to k_max_file_name bytes on a character boundary.
// invalid (field "filename") when raw is not UTF-8 or nothing usable remains ("", ".", "..").
[[nodiscard]] result<std::string> sanitize_file_name(std::string_view raw);

// True when s is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// True when s is a SHA-256 digest in lower-case hex (64 characters).
bool is_sha256_hex(std::string_view s);

}  // namespace fieldledger::domain

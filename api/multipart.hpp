#pragma once
// multipart/form-data (RFC 7578) bodies: the parts, each with its name, file name and type.
// Strict about structure (every part closed by the boundary, headers well formed, bounded
// counts), lenient only where RFC 2046 allows (preamble, epilogue, transport padding).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"

namespace fieldledger::api {

inline constexpr std::size_t k_max_parts = 64;
inline constexpr std::size_t k_max_part_header = 8 << 10;  // bytes of one part's header block

struct multipart_part {
  std::string name;                     // the form field name (Content-Disposition name)
  std::optional<std::string> filename;  // as sent; filename* (RFC 5987, UTF-8) wins over filename
  std::string content_type;             // "" when the part has none
  std::string_view body;                // a view into the parsed body
};

// The boundary parameter of a multipart/form-data Content-Type; errc::malformed naming
// Content-Type when it is missing or not 1 to 70 characters (RFC 2046).
[[nodiscard]] domain::result<std::string> multipart_boundary(std::string_view content_type);

// The parts of body, split at boundary. errc::malformed naming "body" when the body is not
// multipart as declared (no opening or closing delimiter, a part without Content-Disposition
// form-data, a malformed header line, too many parts or too large a part header).
[[nodiscard]] domain::result<std::vector<multipart_part>> parse_multipart(std::string_view boundary,
                                                                          std::string_view body);

}  // namespace fieldledger::api

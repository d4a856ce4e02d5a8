#include "api/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

std::unexpected<error> malformed(std::string why) {
  return fail(errc::malformed, "the body is not multipart/form-data as declared",
              {{"body", std::move(why)}});
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The parameters after the first ';' of a header value: lower-case name -> value (quoted
// strings unquoted). nullopt when malformed. The first of a repeated parameter counts.
using params = std::vector<std::pair<std::string, std::string>>;
std::optional<params> parse_params(std::string_view rest) {
  params out;
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == ';')) ++i;
    if (i == rest.size()) break;
    const std::size_t name_start = i;
    while (i < rest.size() && is_token_char(rest[i])) ++i;
    if (i == name_start) return std::nullopt;
    std::string name = lower(rest.substr(name_start, i - name_start));
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    if (i == rest.size() || rest[i] != '=') return std::nullopt;
    ++i;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    std::string v;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      bool closed = false;
      while (i < rest.size()) {
        const char c = rest[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == rest.size()) return std::nullopt;
          v += rest[i++];
        } else {
          v += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const std::size_t start = i;
      while (i < rest.size() && rest[i] != ';') ++i;
      v = std::string(trim(rest.substr(start, i - start)));
    }
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    if (i < rest.size() && rest[i] != ';') return std::nullopt;
    if (std::ranges::none_of(out, [&](const auto& p) { return p.first == name; })) {
      out.emplace_back(std::move(name), std::move(v));
    }
  }
  return out;
}

const std::string* find_param(const params& p, std::string_view name) {
  for (const auto& [k, v] : p) {
    if (k == name) return &v;
  }
  return nullptr;
}

// RFC 5987 ext-value: charset'language'percent-encoded. nullopt when it is not UTF-8 or not
// well formed (the caller then falls back to filename).
std::optional<std::string> decode_ext_value(std::string_view v) {
  const auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  if (lower(v.substr(0, q1)) != "utf-8") return std::nullopt;
  std::string out;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    const int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Reads one part's header block into part.
result<void> read_headers(std::string_view block, multipart_part& part) {
  bool disposition = false;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    const auto line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::ranges::all_of(line.substr(0, colon), is_token_char)) {
      return malformed("a part has a malformed header line");
    }
    const std::string name = lower(line.substr(0, colon));
    const auto v = trim(line.substr(colon + 1));
    if (std::ranges::any_of(v, [](char c) {
          return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        })) {
      return malformed("a part header holds control characters");
    }
    if (name == "content-type") {
      part.content_type = std::string(v);
    } else if (name == "content-disposition") {
      const auto semi = v.find(';');
      if (lower(trim(v.substr(0, semi))) != "form-data") {
        return malformed("a part's Content-Disposition is not form-data");
      }
      auto p = parse_params(semi == std::string_view::npos ? std::string_view{} : v.substr(semi));
      if (!p) return malformed("a part's Content-Disposition parameters are malformed");
      const std::string* field = find_param(*p, "name");
      if (field == nullptr) return malformed("a part's Content-Disposition has no name");
      part.name = *field;
      if (const std::string* ext = find_param(*p, "filename*")) {
        part.filename = decode_ext_value(*ext);
      }
      if (!part.filename) {
        if (const std::string* plain = find_param(*p, "filename")) part.filename = *plain;
      }
      disposition = true;
    }
  }
  if (!disposition) return malformed("a part has no Content-Disposition: form-data");
  return {};
}

// The next CRLF "--" boundary at or after from that is a delimiter: followed by "--" (the
// close) or by optional padding and CRLF. Content such as "\r\n--boundaryX" is skipped.
std::size_t find_delimiter(std::string_view body, std::string_view delimiter, std::size_t from) {
  for (;;) {
    const auto at = body.find(delimiter, from);
    if (at == std::string_view::npos) return at;
    auto rest = body.substr(at + delimiter.size());
    if (rest.starts_with("--")) return at;
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (rest.starts_with("\r\n")) return at;
    from = at + 1;
  }
}

}  // namespace

result<std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  const auto wrong = [](std::string why) {
    return fail(errc::malformed, "the multipart Content-Type is not usable",
                {{"Content-Type", std::move(why)}});
  };
  if (semi == std::string_view::npos) return wrong("has no boundary parameter");
  auto p = parse_params(content_type.substr(semi));
  if (!p) return wrong("has malformed parameters");
  const std::string* b = find_param(*p, "boundary");
  if (b == nullptr) return wrong("has no boundary parameter");
  if (b->empty() || b->size() > 70 ||
      std::ranges::any_of(*b, [](char c) { return c < 0x20 || c > 0x7e; })) {
    return wrong("the boundary must be 1 to 70 printable characters");
  }
  return *b;
}

result<std::vector<multipart_part>> parse_multipart(std::string_view boundary,
                                                    std::string_view body) {
  if (boundary.empty()) return malformed("the boundary is empty");
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  std::size_t pos = 0;
  if (body.starts_with(delimiter)) {
    pos = delimiter.size();
  } else {
    const auto first = body.find(next_delimiter);  // after a preamble
    if (first == std::string_view::npos) return malformed("the boundary does not occur");
    pos = first + next_delimiter.size();
  }
  std::vector<multipart_part> parts;
  for (;;) {
    // After a delimiter: "--" closes, otherwise optional padding and CRLF open a part.
    if (body.substr(pos).starts_with("--")) return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (!body.substr(pos).starts_with("\r\n")) {
      return malformed("a delimiter is not followed by a line break");
    }
    pos += 2;
    if (parts.size() == k_max_parts) {
      return malformed("more than " + std::to_string(k_max_parts) + " parts");
    }
    multipart_part part;
    std::string_view headers;
    if (body.substr(pos).starts_with("\r\n")) {
      pos += 2;  // no header fields
    } else {
      const auto end = body.find("\r\n\r\n", pos);
      if (end == std::string_view::npos || end - pos > k_max_part_header) {
        return malformed("a part's header block is unterminated or too large");
      }
      headers = body.substr(pos, end - pos);
      pos = end + 4;
    }
    if (auto ok = read_headers(headers, part); !ok) return std::unexpected(ok.error());
    const auto end = find_delimiter(body, next_delimiter, pos);
    if (end == std::string_view::npos) return malformed("a part is not closed by the boundary");
    part.body = body.substr(pos, end - pos);
    pos = end + next_delimiter.size();
    parts.push_back(std::move(part));
  }
}

}  // namespace fieldledger::api

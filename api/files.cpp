#include "api/files.hpp"

#include <algorithm>
#include <cctype>

#include "api/multipart.hpp"
#include "domain/file_name.hpp"

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// type/subtype[; params] with its type and subtype in lower case; nullopt when malformed.
std::optional<std::string> media_type(std::string_view v) {
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  const auto semi = v.find(';');
  auto type = v.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  const auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return {};
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (i != slash && !is_token_char(type[i])) return {};
  }
  if (v.size() > 255 || std::ranges::any_of(v, [](char c) { return c < 0x20 || c > 0x7e; })) {
    return {};
  }
  std::string out = lower(type);
  if (semi != std::string_view::npos) out += v.substr(semi);
  return out;
}

std::unexpected<error> bad_type(std::string_view field) {
  return fail(errc::invalid, "the file's media type is not valid",
              {{std::string(field), "must be a media type such as application/pdf"}});
}

}  // namespace

bool is_file_upload(http::verb method, std::string_view target) {
  if (method != http::verb::post) return false;
  target = target.substr(0, target.find('?'));
  for (std::string_view owner : {"/v1/customers/", "/v1/sites/", "/v1/assets/"}) {
    if (!target.starts_with(owner)) continue;
    const auto rest = target.substr(owner.size());
    const auto slash = rest.find('/');
    return slash != std::string_view::npos && slash > 0 && rest.substr(slash) == "/files";
  }
  return false;
}

result<upload> read_upload(const request& req, const target& t) {
  upload out;
  std::string raw_name;
  bool named = false;
  if (auto it = t.query.find("filename"); it != t.query.end()) {
    raw_name = it->second;
    named = true;
  }
  const auto ct = req.find(http::field::content_type);
  const std::string_view declared = ct == req.end()
                                        ? std::string_view{}
                                        : std::string_view(ct->value().data(), ct->value().size());
  const auto semi = declared.find(';');
  std::string_view bare = declared.substr(0, semi);
  while (!bare.empty() && bare.back() == ' ') bare.remove_suffix(1);
  if (lower(bare) == "multipart/form-data") {
    auto boundary = multipart_boundary(declared);
    if (!boundary) return std::unexpected(boundary.error());
    auto parts = parse_multipart(*boundary, req.body());
    if (!parts) return std::unexpected(parts.error());
    const auto file = std::ranges::find_if(*parts, [](const auto& p) { return p.name == "file"; });
    if (file == parts->end()) {
      return fail(errc::invalid, "the form has no file",
                  {{"file", "send the content as the form part named \"file\""}});
    }
    if (!named && file->filename) {
      raw_name = *file->filename;
      named = true;
    }
    out.content = file->body;
    if (file->content_type.empty()) {
      out.content_type = "application/octet-stream";
    } else if (auto type = media_type(file->content_type)) {
      out.content_type = std::move(*type);
    } else {
      return bad_type("file");
    }
  } else {
    out.content = req.body();
    if (declared.empty()) {
      out.content_type = "application/octet-stream";
    } else if (auto type = media_type(declared)) {
      out.content_type = std::move(*type);
    } else {
      return bad_type("Content-Type");
    }
  }
  if (!named) {
    return fail(errc::invalid, "the file has no name",
                {{"filename", "give it as ?filename=… (or as the form part's filename)"}});
  }
  auto name = sanitize_file_name(raw_name);
  if (!name) return std::unexpected(name.error());
  out.name = std::move(*name);
  return out;
}

std::string content_disposition(std::string_view name) {
  std::string fallback, encoded;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') {
      fallback += static_cast<char>(c);
    } else if (c < 0x80 || (c & 0xc0) != 0x80) {
      fallback += '_';  // one per character, not per byte
    }
    if (std::isalnum(c) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      static constexpr char k_hex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += k_hex[c >> 4];
      encoded += k_hex[c & 0xf];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace fieldledger::api

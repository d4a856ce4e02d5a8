#include "api/request_parts.hpp"

#include <sodium.h>

#include <charconv>

#include "json/parse.hpp"
#include "projections/queries.hpp"

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int v = 0;
      const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc{} || p != s.data() + i + 3) return std::nullopt;
      out += static_cast<char>(v);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

}  // namespace

result<target> parse_target(std::string_view text) {
  target t;
  const auto q = text.find('?');
  const auto path = text.substr(0, q);
  // Every segment counts, empty ones too: "/v1/customers//contacts" names no route.
  if (!path.starts_with('/')) return fail(errc::malformed, "the request target must start with /");
  std::size_t i = 1;
  while (i <= path.size() && path.size() > 1) {
    const auto end = std::min(path.find('/', i), path.size());
    auto seg = percent_decode(path.substr(i, end - i), false);
    if (!seg) return fail(errc::malformed, "the request path has a malformed percent escape");
    t.segments.push_back(std::move(*seg));
    i = end + 1;
  }
  if (q == std::string_view::npos) return t;
  auto rest = text.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto val = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!name || !val) {
      return fail(errc::malformed, "a query parameter has a malformed percent escape",
                  {{name ? *name : std::string(pair.substr(0, eq)), "malformed percent escape"}});
    }
    if (t.query.contains(*name)) {
      return fail(errc::malformed, "query parameter \"" + *name + "\" is repeated",
                  {{*name, "give it once"}});
    }
    t.query.emplace(std::move(*name), std::move(*val));
  }
  return t;
}

result<void> check_params(const target& t, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, v] : t.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return fail(errc::malformed, "unknown query parameter \"" + name + "\"",
                  {{name, list.empty() ? "this route takes no parameters"
                                       : "unknown parameter; this route takes: " + list}});
    }
  }
  return {};
}

result<std::size_t> page_limit(const target& t) {
  const auto it = t.query.find("limit");
  if (it == t.query.end()) return projections::k_default_page;
  std::size_t n = 0;
  const auto& s = it->second;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc::result_out_of_range) return projections::k_max_page;
  if (ec != std::errc{} || p != s.data() + s.size() || n == 0) {
    return fail(
        errc::invalid, "limit must be a whole number from 1",
        {{"limit", "must be a whole number from 1 to " + std::to_string(projections::k_max_page)}});
  }
  return std::min(n, projections::k_max_page);
}

result<std::optional<entity_version>> if_match(const request& req) {
  const auto it = req.find(http::field::if_match);
  if (it == req.end()) return std::optional<entity_version>{};
  std::string_view v(it->value().data(), it->value().size());
  if (v == "*") return std::optional<entity_version>{};
  std::int64_t n = 0;
  if (v.size() >= 3 && v.front() == '"' && v.back() == '"') {
    const auto inner = v.substr(1, v.size() - 2);
    const auto [p, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), n);
    if (ec == std::errc{} && p == inner.data() + inner.size() && n > 0) {
      return std::optional<entity_version>{entity_version{n}};
    }
  }
  return fail(errc::malformed, "If-Match must be an ETag this API gave out, like \"3\"",
              {{"If-Match", "expected a quoted version, e.g. \"3\""}});
}

result<std::vector<log_position>> min_position(const request& req, const target& t) {
  std::string_view text;
  std::string_view name;
  if (const auto it = req.find("X-Min-Position"); it != req.end()) {
    text = std::string_view(it->value().data(), it->value().size());
    name = "X-Min-Position";
  } else if (const auto q = t.query.find("min_position"); q != t.query.end()) {
    text = q->second;
    name = "min_position";
  } else {
    return std::vector<log_position>{};
  }
  std::vector<log_position> out;
  while (true) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto pos = parse_log_position(item);
    if (!pos || out.size() >= 1024) {
      return fail(errc::malformed, std::string(name) + " is not a position this API gave out",
                  {{std::string(name),
                    "expected \"<partition>-<offset>\" from a command's answer, or several "
                    "separated by commas"}});
    }
    out.push_back(*pos);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

result<value> json_body(const request& req, bool allow_empty) {
  if (req.body().empty()) {
    if (allow_empty) return value(object{});
    return fail(errc::malformed, "the request has no body; a JSON object is expected",
                {{"body", "missing; a JSON object is expected"}});
  }
  auto v = json::parse(req.body());
  if (!v) {
    auto e = v.error();
    if (e.fields.empty()) e.fields.push_back({"body", e.detail});  // the body as a whole
    return std::unexpected(std::move(e));
  }
  if (!v->is_object()) {
    return fail(errc::malformed, "the request body must be a JSON object",
                {{"body", "must be a JSON object"}});
  }
  return v;
}

std::string request_digest(const request& req) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  const auto feed = [&](std::string_view s) {
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>("\n"), 1);
  };
  feed(std::string_view(req.method_string().data(), req.method_string().size()));
  feed(std::string_view(req.target().data(), req.target().size()));
  feed(req.body());
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}

std::string etag(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

}  // namespace fieldledger::api

#include "domain/schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "domain/ids.hpp"

namespace fieldledger::domain {

namespace {

// Every error found while checking one field set. Unknown keys are reported apart because
// they make the whole request malformed, whatever else is wrong with it.
struct findings {
  std::vector<field_error> unknown;
  std::vector<field_error> invalid;
};

std::string join_path(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  std::string p(prefix);
  if (p.back() != '.') p.push_back('.');
  p += name;
  return p;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string join_names(std::span<const std::string_view> names) {
  std::string s;
  for (auto n : names) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s;
}

// Length of the UTF-8 sequence that starts at s[i], or 0 when it is not well-formed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf)
    n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;  // no UTF-16 surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) return 0;
  }
  return n;
}

// Why s is not acceptable text, or "" when it is. C0, DEL and C1 controls are rejected;
// multi-line text may hold newlines and tabs.
std::string text_problem(std::string_view s, bool multi_line) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return "must be valid UTF-8";
    const auto b = static_cast<unsigned char>(s[i]);
    const bool c1 = n == 2 && b == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
    const bool allowed_ws = multi_line && (b == '\n' || b == '\r' || b == '\t');
    if ((n == 1 && (b < 0x20 || b == 0x7f) && !allowed_ws) || c1) {
      return multi_line ? "must not contain control characters other than newlines and tabs"
                        : "must be a single line without control characters";
    }
    i += n;
  }
  return {};
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    const auto label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_ascii_alnum(c) && c != '-' && static_cast<unsigned char>(c) < 0x80) return false;
    }
    start = dot + 1;
  }
  return true;
}

bool is_valid_port(std::string_view port) {
  return !port.empty() && port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_valid_url(std::string_view s) {
  if (s.size() > 2000 || !text_problem(s, false).empty()) return false;
  if (s.find(' ') != std::string_view::npos) return false;
  std::string lower(s.substr(0, 8));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t scheme = lower.starts_with("https://") ? 8 : lower.starts_with("http://") ? 7 : 0;
  if (scheme == 0) return false;
  auto authority = s.substr(scheme, s.find_first_of("/?#", scheme) - scheme);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.starts_with('[')) {  // IPv6 literal
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const auto rest = authority.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && is_valid_port(rest.substr(1)));
  }
  const auto colon = authority.find(':');
  if (colon != std::string_view::npos && !is_valid_port(authority.substr(colon + 1))) return false;
  return is_valid_host(authority.substr(0, colon));
}

bool is_valid_phone(std::string_view s) {
  if (s.size() > 40) return false;
  std::size_t digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (std::string_view(" +()-.xX").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return digits >= 3;
}

// ---- per-kind checks: each returns the normal form, or nullopt after recording why ------

struct checker {
  findings& out;

  void bad(std::string path, std::string message) const {
    out.invalid.push_back({std::move(path), std::move(message)});
  }

  std::optional<value> text(const value& v, const std::string& path, std::size_t max_length,
                            bool required, bool multi_line) const {
    if (!v.is_string()) {
      bad(path, "must be a string");
      return std::nullopt;
    }
    const auto& s = v.as_string();
    if (required && is_blank(s)) {
      bad(path, "must not be empty or blank");
      return std::nullopt;
    }
    if (s.size() > max_length) {
      bad(path, "must be at most " + std::to_string(max_length) + " bytes long");
      return std::nullopt;
    }
    if (auto problem = text_problem(s, multi_line); !problem.empty()) {
      bad(path, std::move(problem));
      return std::nullopt;
    }
    return v;
  }

  // A string of a fixed shape; the spec's max_length can only tighten the kind's own limit.
  std::optional<value> shaped(const value& v, const std::string& path, std::size_t max_length,
                              bool (*ok)(std::string_view), std::string_view what) const {
    if (!v.is_string() || !ok(v.as_string())) {
      bad(path, std::string(what));
      return std::nullopt;
    }
    if (v.as_string().size() > max_length) {
      bad(path, "must be at most " + std::to_string(max_length) + " bytes long");
      return std::nullopt;
    }
    return v;
  }

  std::optional<value> integer(const value& v, const std::string& path,
                               const field_spec& spec) const {
    const std::string range =
        "between " + std::to_string(spec.min) + " and " + std::to_string(spec.max);
    if (!v.is_int()) {
      bad(path, "must be a whole number " + range);
      return std::nullopt;
    }
    if (v.as_int() < spec.min || v.as_int() > spec.max) {
      bad(path, "must be " + range);
      return std::nullopt;
    }
    return v;
  }

  std::optional<value> address(const value& v, const std::string& path) const;
  std::optional<value> roles(const value& v, const std::string& path) const;
  std::optional<value> notify(const value& v, const std::string& path) const;

  std::optional<value> check(const field_spec& spec, const value& v,
                             const std::string& path) const {
    switch (spec.kind) {
      case field_kind::string:
        return text(v, path, spec.max_length, spec.required, false);
      case field_kind::text:
        return text(v, path, spec.max_length, spec.required, true);
      case field_kind::email:
        return shaped(v, path, spec.max_length, is_valid_email,
                      "must be an email address like name@example.com (at most 254 bytes)");
      case field_kind::url:
        return shaped(v, path, spec.max_length, is_valid_url,
                      "must be an http:// or https:// URL with a host (at most 2000 bytes)");
      case field_kind::phone:
        return shaped(v, path, spec.max_length, is_valid_phone,
                      "must be a phone number: at least 3 digits, with only + ( ) - . x and "
                      "spaces besides (at most 40 bytes)");
      case field_kind::id:
        return shaped(v, path, spec.max_length, is_id, "must be an id (a lower-case UUID)");
      case field_kind::integer:
        return integer(v, path, spec);
      case field_kind::address:
        return address(v, path);
      case field_kind::role_list:
        return roles(v, path);
      case field_kind::notify:
        return notify(v, path);
      case field_kind::date:
        return shaped(v, path, spec.max_length, is_valid_date,
                      "must be a calendar date like 2024-05-01");
      case field_kind::choice:
        if (v.is_string() && std::find(spec.choices.begin(), spec.choices.end(), v.as_string()) !=
                                 spec.choices.end()) {
          return v;
        }
        bad(path, "must be one of " + join_names(spec.choices));
        return std::nullopt;
      case field_kind::boolean:
        if (v.is_bool()) return v;
        bad(path, "must be true or false");
        return std::nullopt;
    }
    bad(path, "has an unsupported kind");
    return std::nullopt;
  }
};

// Records keys of o that are not in allowed; returns true when there were none.
bool only_known_keys(const object& o, std::span<const std::string_view> allowed,
                     const std::string& path, findings& out) {
  bool ok = true;
  for (const auto& [k, unused] : o) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      out.unknown.push_back({join_path(path, k), "unknown field; allowed: " + join_names(allowed)});
      ok = false;
    }
  }
  return ok;
}

constexpr std::array<std::string_view, 7> k_address_keys = {"street",  "city", "state", "postcode",
                                                            "country", "lat",  "lng"};
constexpr std::array<std::string_view, 4> k_notify_keys = {"work_orders", "quote_approvals",
                                                           "completions", "invoices"};

std::optional<value> checker::address(const value& v, const std::string& path) const {
  if (!v.is_object()) {
    bad(path, "must be an object with " + join_names(k_address_keys));
    return std::nullopt;
  }
  const std::size_t before = out.invalid.size();
  const bool known = only_known_keys(v.as_object(), k_address_keys, path, out);
  object normal;
  for (const auto& [k, m] : v.as_object()) {
    if (m.is_null() ||
        std::find(k_address_keys.begin(), k_address_keys.end(), k) == k_address_keys.end()) {
      continue;
    }
    const std::string sub = join_path(path, k);
    std::optional<value> ok;
    if (k == "country") {
      ok = shaped(m, sub, 2, is_valid_country,
                  "must be an ISO 3166-1 alpha-2 country code in upper case, e.g. US");
    } else if (k == "lat" || k == "lng") {
      const double limit = k == "lat" ? 90 : 180;
      if (m.is_number() && m.as_number() >= -limit && m.as_number() <= limit) {
        ok = m;
      } else {
        bad(sub, "must be a number between " + std::to_string(static_cast<int>(-limit)) + " and " +
                     std::to_string(static_cast<int>(limit)));
      }
    } else {
      ok = text(m, sub, k == "postcode" ? 20 : 200, false, false);
    }
    if (ok) normal.emplace(k, std::move(*ok));
  }
  const bool has_lat = v.find("lat") != nullptr && !v.find("lat")->is_null();
  const bool has_lng = v.find("lng") != nullptr && !v.find("lng")->is_null();
  if (has_lat != has_lng) {
    bad(join_path(path, has_lat ? "lng" : "lat"), "lat and lng must be given together");
  }
  if (!known || out.invalid.size() != before) return std::nullopt;
  return value(std::move(normal));
}

std::optional<value> checker::roles(const value& v, const std::string& path) const {
  const std::string allowed = "allowed: " + join_names(k_contact_roles);
  if (!v.is_array()) {
    bad(path, "must be an array of roles; " + allowed);
    return std::nullopt;
  }
  const std::size_t before = out.invalid.size();
  const auto& a = v.as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& r = a[i];
    if (!r.is_string() || std::find(std::begin(k_contact_roles), std::end(k_contact_roles),
                                    r.as_string()) == std::end(k_contact_roles)) {
      bad(path,
          (r.is_string() ? "\"" + r.as_string() + "\" is not a role; " : "roles are strings; ") +
              allowed);
    } else if (std::find(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(i), r) !=
               a.begin() + static_cast<std::ptrdiff_t>(i)) {
      bad(path, "\"" + r.as_string() + "\" is listed more than once");
    }
  }
  if (out.invalid.size() != before) return std::nullopt;
  return v;
}

std::optional<value> checker::notify(const value& v, const std::string& path) const {
  if (!v.is_object()) {
    bad(path, "must be an object of booleans: " + join_names(k_notify_keys));
    return std::nullopt;
  }
  const std::size_t before = out.invalid.size();
  const bool known = only_known_keys(v.as_object(), k_notify_keys, path, out);
  object normal;
  for (const auto& [k, m] : v.as_object()) {
    if (m.is_null() ||
        std::find(k_notify_keys.begin(), k_notify_keys.end(), k) == k_notify_keys.end()) {
      continue;
    }
    if (!m.is_bool()) {
      bad(join_path(path, k), "must be true or false");
      continue;
    }
    normal.emplace(k, m);
  }
  if (!known || out.invalid.size() != before) return std::nullopt;
  return value(std::move(normal));
}

std::vector<std::string_view> spec_names(std::span<const field_spec> specs) {
  std::vector<std::string_view> names;
  for (const auto& s : specs) names.push_back(s.name);
  return names;
}

std::unexpected<error> unknown_fields_error(std::vector<field_error> unknown) {
  const std::string detail = unknown.size() == 1
                                 ? "unknown field \"" + unknown[0].field + "\""
                                 : std::to_string(unknown.size()) + " unknown fields";
  return fail(errc::malformed, detail, std::move(unknown));
}

// Records top-level keys that name no field.
void check_top_level_keys(std::span<const field_spec> specs, const object& o,
                          std::string_view prefix, findings& out) {
  const auto names = spec_names(specs);
  only_known_keys(o, names, std::string(prefix), out);
}

// The error of a check's findings (unknown keys make it malformed, whatever else is wrong),
// or nullopt when there are none.
std::optional<std::unexpected<error>> refusal(findings& out) {
  if (!out.unknown.empty()) return unknown_fields_error(std::move(out.unknown));
  if (out.invalid.empty()) return std::nullopt;
  std::string detail = plural(out.invalid.size(), "field is invalid", "fields are invalid");
  return fail(errc::invalid, std::move(detail), std::move(out.invalid));
}

}  // namespace

result<value> validate_fields(std::span<const field_spec> specs, const value& fields,
                              std::string_view prefix) {
  if (!fields.is_object()) {
    const std::string what = prefix.empty() ? "the body" : "\"" + std::string(prefix) + "\"";
    return fail(errc::malformed, what + " must be a JSON object",
                {{std::string(prefix), "must be a JSON object"}});
  }
  findings out;
  check_top_level_keys(specs, fields.as_object(), prefix, out);
  const checker check{out};
  object normal;
  for (const auto& spec : specs) {
    const std::string path = join_path(prefix, spec.name);
    const value* m = fields.find(spec.name);
    if (m == nullptr || m->is_null()) {
      if (spec.required) check.bad(path, "is required");
      continue;
    }
    if (auto ok = check.check(spec, *m, path))
      normal.emplace(std::string(spec.name), std::move(*ok));
  }
  if (auto refused = refusal(out)) return std::move(*refused);
  return value(std::move(normal));
}

result<std::optional<value>> validate_patch(std::span<const field_spec> specs, const value& before,
                                            const value& patch) {
  if (auto ok = check_patch_keys(specs, patch); !ok) return std::unexpected(ok.error());
  static const object none;
  static const value absent;
  const object& old = before.is_object() ? before.as_object() : none;
  findings out;
  const checker check{out};
  object changed, previous;
  // In the specs' order, as validate_fields lists its findings.
  for (const auto& spec : specs) {
    const value* p = patch.find(spec.name);
    if (p == nullptr) continue;
    const auto was = old.find(spec.name);
    const bool had = was != old.end();
    std::string name(spec.name);
    std::optional<value> now;  // the member's normal form after the patch; nullopt: absent
    if (p->is_null()) {
      if (spec.required) check.bad(name, "is required");
    } else {
      now = check.check(spec, merge_patch(had ? was->second : absent, *p), name);
      if (!now) continue;  // recorded in out
    }
    if (had == now.has_value() && (!had || was->second == *now)) continue;
    changed.emplace(name, now ? std::move(*now) : value{});
    previous.emplace(std::move(name), had ? was->second : value{});
  }
  if (auto refused = refusal(out)) return std::move(*refused);
  if (changed.empty()) return std::optional<value>{};
  return std::optional<value>(
      value(object{{"changed", std::move(changed)}, {"previous", std::move(previous)}}));
}

result<void> check_patch_keys(std::span<const field_spec> specs, const value& patch) {
  if (!patch.is_object()) {
    return fail(errc::malformed, "a merge patch must be a JSON object");
  }
  findings out;
  check_top_level_keys(specs, patch.as_object(), {}, out);
  if (!out.unknown.empty()) return unknown_fields_error(std::move(out.unknown));
  return {};
}

bool is_valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  m = (s[5] - '0') * 10 + (s[6] - '0');
  d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= k_days[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool is_valid_email(std::string_view s) {
  if (s.size() > 254 || !text_problem(s, false).empty()) return false;
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  if (s.find('@', at + 1) != std::string_view::npos) return false;
  const auto local = s.substr(0, at);
  const auto domain = s.substr(at + 1);
  if (local.find_first_of(" \"(),:;<>[\\]") != std::string_view::npos) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  const auto last_dot = domain.rfind('.');
  if (last_dot == std::string_view::npos || domain.size() - last_dot - 1 < 2) return false;
  return is_valid_host(domain);
}

bool is_valid_country(std::string_view s) {
  // ISO 3166-1 alpha-2, officially assigned codes (249), sorted.
  static constexpr std::string_view k_codes =
      "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
      "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
      "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
      "DE DJ DK DM DO DZ "
      "EC EE EG EH ER ES ET "
      "FI FJ FK FM FO FR "
      "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
      "HK HM HN HR HT HU "
      "ID IE IL IM IN IO IQ IR IS IT "
      "JE JM JO JP "
      "KE KG KH KI KM KN KP KR KW KY KZ "
      "LA LB LC LI LK LR LS LT LU LV LY "
      "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
      "NA NC NE NF NG NI NL NO NP NR NU NZ "
      "OM "
      "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
      "QA "
      "RE RO RS RU RW "
      "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
      "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
      "UA UG UM US UY UZ "
      "VA VC VE VG VI VN VU "
      "WF WS "
      "YE YT "
      "ZA ZM ZW";
  if (s.size() != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') return false;
  for (std::size_t i = 0; i + 1 < k_codes.size(); i += 3) {
    if (k_codes.substr(i, 2) == s) return true;
  }
  return false;
}

}  // namespace fieldledger::domain

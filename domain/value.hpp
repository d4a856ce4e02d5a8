#pragma once
// A JSON-shaped value: what event data, entity fields and request bodies are made of.
// Objects keep their keys sorted, so rendering is deterministic (checksums compare equal).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fieldledger::domain {

struct value;
using array = std::vector<value>;
using object = std::map<std::string, value, std::less<>>;

struct value {
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object> v{nullptr};

  value() = default;
  value(std::nullptr_t) {}
  value(bool b) : v(b) {}
  value(int i) : v(std::int64_t{i}) {}
  value(std::int64_t i) : v(i) {}
  value(double d) : v(d) {}
  value(const char* s) : v(std::string(s)) {}
  value(std::string s) : v(std::move(s)) {}
  value(std::string_view s) : v(std::string(s)) {}
  value(array a) : v(std::move(a)) {}
  value(object o) : v(std::move(o)) {}

  bool is_null() const noexcept { return std::holds_alternative<std::nullptr_t>(v); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(v); }
  bool is_int() const noexcept { return std::holds_alternative<std::int64_t>(v); }
  bool is_double() const noexcept { return std::holds_alternative<double>(v); }
  bool is_number() const noexcept { return is_int() || is_double(); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(v); }
  bool is_array() const noexcept { return std::holds_alternative<array>(v); }
  bool is_object() const noexcept { return std::holds_alternative<object>(v); }

  // REQUIRES: the matching is_x() holds.
  bool as_bool() const { return std::get<bool>(v); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v); }
  double as_number() const {
    return is_int() ? static_cast<double>(as_int()) : std::get<double>(v);
  }
  const std::string& as_string() const { return std::get<std::string>(v); }
  const array& as_array() const { return std::get<array>(v); }
  array& as_array() { return std::get<array>(v); }
  const object& as_object() const { return std::get<object>(v); }
  object& as_object() { return std::get<object>(v); }

  // Member of an object, or nullptr when absent or this is not an object.
  const value* find(std::string_view key) const;
  value* find(std::string_view key) {
    return const_cast<value*>(static_cast<const value&>(*this).find(key));
  }
  // Member as a string, or "" when absent / not a string.
  std::string_view string_at(std::string_view key) const;

  friend bool operator==(const value&, const value&) = default;
};

// Compact JSON text. Doubles are written shortest-round-trip; strings are escaped per RFC 8259.
void write_json(const value& v, std::string& out);
std::string to_json(const value& v);
// Appends s as a quoted, escaped JSON string.
void write_json_string(std::string_view s, std::string& out);

// RFC 7396 JSON merge patch: returns target with patch applied.
value merge_patch(const value& target, const value& patch);

}  // namespace fieldledger::domain

#pragma once
// Strong types for ids, versions and log positions, so that arguments cannot be swapped.
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fieldledger::domain {

template <typename T, typename Tag>
struct named_type {
  T v{};
  constexpr named_type() = default;
  constexpr explicit named_type(T x) : v(std::move(x)) {}
  constexpr const T& get() const noexcept { return v; }
  friend auto operator<=>(const named_type&, const named_type&) = default;
};

using customer_id = named_type<std::string, struct customer_id_tag>;
using contact_id = named_type<std::string, struct contact_id_tag>;
using site_id = named_type<std::string, struct site_id_tag>;
using asset_id = named_type<std::string, struct asset_id_tag>;
using part_id = named_type<std::string, struct part_id_tag>;
using entity_version = named_type<std::int64_t, struct entity_version_tag>;
using partition_id = named_type<std::uint32_t, struct partition_id_tag>;
using log_offset = named_type<std::int64_t, struct log_offset_tag>;
// files
using file_id = named_type<std::string, struct file_id_tag>;

// Where an event sits in the log: a partition and the offset inside it (offsets start at 0).
// Rendered to clients as "<partition>-<offset>", an opaque token they send back.
struct log_position {
  partition_id partition;
  log_offset offset;
  friend auto operator<=>(const log_position&, const log_position&) = default;
};
std::string to_string(const log_position& p);
std::optional<log_position> parse_log_position(std::string_view s);

// Stable partition of a customer's events (FNV-1a of the id); the same on every log.
partition_id partition_for(const customer_id& id, std::uint32_t partition_count);

// New entity / event id: a UUIDv7 (time-ordered, so ids sort by creation). Thread-safe.
std::string new_id();
// True when s has the shape of an id made by new_id() (lower-case canonical UUID).
bool is_id(std::string_view s);

// Current UTC time as RFC 3339 with milliseconds, e.g. "2026-11-22T10:00:00.123Z".
std::string now_rfc3339();

}  // namespace fieldledger::domain

template <typename T, typename Tag>
struct std::hash<fieldledger::domain::named_type<T, Tag>> {
  std::size_t operator()(const fieldledger::domain::named_type<T, Tag>& x) const noexcept {
    return std::hash<T>{}(x.v);
  }
};

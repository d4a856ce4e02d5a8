#pragma once
// Expected failures as values: result<T> = std::expected<T, error>.
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fieldledger::domain {

enum class errc {
  malformed = 1,         // the request cannot be read (bad JSON, unknown field)      -> 400
  invalid,               // a field is missing or has a bad value                       -> 422
  not_found,             // no such entity                                              -> 404
  conflict,              // a uniqueness or state invariant forbids it                  -> 409
  precondition_failed,   // If-Match does not match the entity's version                -> 412
  idempotency_mismatch,  // Idempotency-Key reused with a different request             -> 422
  unavailable,           // retryable: the log or a view is not ready / overloaded      -> 503
  internal,              // a bug or an unexpected storage error                        -> 500
};

const std::error_category& domain_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), domain_category()};
}

struct field_error {
  std::string field;    // dotted path, e.g. "billing_address.postcode"
  std::string message;  // what is wrong with it
  friend bool operator==(const field_error&, const field_error&) = default;
};

struct error {
  errc code = errc::internal;
  std::string detail;               // one sentence for humans
  std::vector<field_error> fields;  // field-level details, may be empty
  std::string conflicting_id;       // for conflicts: the entity that holds the value
  bool retryable() const noexcept { return code == errc::unavailable; }
};

template <typename T>
using result = std::expected<T, error>;

inline std::unexpected<error> fail(errc code, std::string detail,
                                   std::vector<field_error> fields = {}) {
  return std::unexpected(error{code, std::move(detail), std::move(fields), {}});
}

// The HTTP status an error maps to (the one place that knows).
int http_status(errc code) noexcept;

}  // namespace fieldledger::domain

template <>
struct std::is_error_code_enum<fieldledger::domain::errc> : std::true_type {};

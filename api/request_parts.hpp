#pragma once
// Reading the parts of a request that every handler needs: path segments, query parameters,
// If-Match, the JSON body, the idempotency digest. Each failure is a field-level error.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"
#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "domain/value.hpp"

namespace fieldledger::api {

struct target {
  std::vector<std::string> segments;  // percent-decoded path segments
  std::map<std::string, std::string, std::less<>> query;
};

// Splits "/v1/customers/x?q=a%20b" into segments and query parameters. Malformed percent
// escapes and repeated parameters are errc::malformed naming the parameter.
[[nodiscard]] domain::result<target> parse_target(std::string_view text);

// Checks that every query parameter is one of allowed (errc::malformed naming the other).
[[nodiscard]] domain::result<void> check_params(const target& t,
                                                std::initializer_list<std::string_view> allowed);

// limit: 1..max_page (larger values are capped), absent -> default.
[[nodiscard]] domain::result<std::size_t> page_limit(const target& t);

// If-Match: "N" (a version ETag) or *; absent or * -> nullopt.
[[nodiscard]] domain::result<std::optional<domain::entity_version>> if_match(const request& req);

// X-Min-Position header or min_position parameter: one position or several separated by
// commas (a client that wrote to several customers sends the last position of each).
// Empty when absent.
[[nodiscard]] domain::result<std::vector<domain::log_position>> min_position(const request& req,
                                                                             const target& t);

// The body as a JSON object (errc::malformed when it is not). An empty body is {} when
// allow_empty.
[[nodiscard]] domain::result<domain::value> json_body(const request& req, bool allow_empty = false);

// Lower-case hex SHA-256 of method, target and body: what an Idempotency-Key is bound to.
std::string request_digest(const request& req);

std::string etag(std::int64_t version);

}  // namespace fieldledger::api

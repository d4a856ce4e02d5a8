#pragma once
// Errors as RFC 9457 problem documents (application/problem+json).
#include "api/http.hpp"
#include "domain/error.hpp"

namespace fieldledger::api {

inline constexpr std::string_view k_problem_type = "application/problem+json";

// {"type","title","status","detail","errors":[{"field","message"}],"conflicting_id"?}
std::string problem_json(int status, const domain::error& e);

// A problem response for e (status from domain::http_status unless given).
response problem(const request& req, const domain::error& e, int status = 0);
response problem(const request& req, int status, std::string detail,
                 std::vector<domain::field_error> fields = {});

}  // namespace fieldledger::api

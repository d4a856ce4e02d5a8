#include "api/problem.hpp"

#include <boost/beast/http/status.hpp>

#include "domain/value.hpp"

namespace fieldledger::api {

using namespace fieldledger::domain;

namespace {

std::string_view type_name(int status) {
  switch (status) {
    case 400: return "malformed-request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 406: return "not-acceptable";
    case 409: return "conflict";
    case 412: return "precondition-failed";
    case 413: return "payload-too-large";
    case 415: return "unsupported-media-type";
    case 422: return "invalid-request";
    case 503: return "unavailable";
    default: return "internal-error";
  }
}

}  // namespace

std::string problem_json(int status, const error& e) {
  object doc{{"type", "urn:fieldledger:problem:" + std::string(type_name(status))},
             {"title", std::string(http::obsolete_reason(static_cast<http::status>(status)))},
             {"status", status},
             {"detail", e.detail}};
  array errors;
  for (const auto& f : e.fields) errors.push_back(object{{"field", f.field}, {"message", f.message}});
  doc["errors"] = std::move(errors);
  if (!e.conflicting_id.empty()) doc["conflicting_id"] = e.conflicting_id;
  return to_json(doc);
}

response problem(const request& req, const error& e, int status) {
  if (status == 0) status = http_status(e.code);
  response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::content_type, std::string(k_problem_type));
  res.keep_alive(req.keep_alive());
  res.body() = problem_json(status, e);
  if (status == 503) res.set(http::field::retry_after, "1");
  res.prepare_payload();
  return res;
}

response problem(const request& req, int status, std::string detail,
                 std::vector<field_error> fields) {
  return problem(req, error{errc::malformed, std::move(detail), std::move(fields), {}}, status);
}

}  // namespace fieldledger::api

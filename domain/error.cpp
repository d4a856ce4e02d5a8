#include "domain/error.hpp"

namespace fieldledger::domain {

namespace {
struct category final : std::error_category {
  const char* name() const noexcept override { return "fieldledger"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::malformed:
        return "malformed request";
      case errc::invalid:
        return "invalid value";
      case errc::not_found:
        return "not found";
      case errc::conflict:
        return "conflict";
      case errc::precondition_failed:
        return "precondition failed";
      case errc::idempotency_mismatch:
        return "idempotency key reused with a different request";
      case errc::unavailable:
        return "temporarily unavailable";
      case errc::internal:
        return "internal error";
    }
    return "unknown error";
  }
};
}  // namespace

const std::error_category& domain_category() noexcept {
  static const category c;
  return c;
}

int http_status(errc code) noexcept {
  switch (code) {
    case errc::malformed:
      return 400;
    case errc::invalid:
      return 422;
    case errc::not_found:
      return 404;
    case errc::conflict:
      return 409;
    case errc::precondition_failed:
      return 412;
    case errc::idempotency_mismatch:
      return 422;
    case errc::unavailable:
      return 503;
    case errc::internal:
      return 500;
  }
  return 500;
}

}  // namespace fieldledger::domain

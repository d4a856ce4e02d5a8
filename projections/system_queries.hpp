#pragma once
// Queries of the system views (projections/system_views.hpp). Documents as JSON text; every
// secret in them is masked. Only sealed_secrets() returns sealed values (for an admin's reveal).
#include <optional>
#include <string>

#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "domain/value.hpp"
#include "projections/queries.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

class system_queries {
 public:
  explicit system_queries(const view_store& store) : store_(store) {}

  [[nodiscard]] domain::result<std::optional<std::string>> system_type(std::string_view id) const;
  [[nodiscard]] domain::result<page> system_types(std::size_t limit,
                                                  const std::string& cursor) const;
  [[nodiscard]] domain::result<std::optional<std::string>> system(std::string_view id) const;
  // not_found when the customer (site) does not exist.
  [[nodiscard]] domain::result<page> systems_of_customer(const domain::customer_id& id,
                                                         std::size_t limit,
                                                         const std::string& cursor) const;
  [[nodiscard]] domain::result<page> systems_of_site(const domain::site_id& id, std::size_t limit,
                                                     const std::string& cursor) const;
  // {key: sealed} of a live system; null when there is no such system.
  [[nodiscard]] domain::result<domain::value> sealed_secrets(std::string_view id) const;

 private:
  const view_store& store_;
};

}  // namespace fieldledger::projections

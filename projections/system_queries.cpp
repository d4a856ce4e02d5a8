#include "projections/system_queries.hpp"

#include <algorithm>

#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/query_support.hpp"
#include "projections/system_views.hpp"
#include "projections/text.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

namespace {

// A page of the documents under doc_prefix whose ids end the keys under index_prefix (or, with
// doc_prefix empty, the values under index_prefix), after the cursor.
result<page> listed(const view_store& store, const std::string& index_prefix,
                    std::string_view doc_prefix, std::size_t limit, const std::string& cursor) {
  return support::collect(store, index_prefix, cursor, limit,
                          [&](std::string_view k, std::string_view v) -> support::maybe_doc {
                            if (doc_prefix.empty())
                              return std::optional<std::string>(std::string(v));
                            return store.get(keys::key(doc_prefix, k.substr(index_prefix.size())));
                          });
}

}  // namespace

result<std::optional<std::string>> system_queries::system_type(std::string_view id) const {
  return store_.get(keys::key(k_system_type_prefix, id));
}

result<page> system_queries::system_types(std::size_t limit, const std::string& cursor) const {
  return listed(store_, std::string(k_system_type_prefix), {}, limit, cursor);
}

result<std::optional<std::string>> system_queries::system(std::string_view id) const {
  return store_.get(keys::key(k_system_prefix, id));
}

result<page> system_queries::systems_of_customer(const customer_id& id, std::size_t limit,
                                                 const std::string& cursor) const {
  if (auto ok = support::must_exist(store_, keys::customer(id.get()), "customer", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return listed(store_, keys::key(k_customer_systems_prefix, id.get(), ""), k_system_prefix, limit,
                cursor);
}

result<page> system_queries::systems_of_site(const site_id& id, std::size_t limit,
                                             const std::string& cursor) const {
  if (auto ok =
          support::must_exist(store_, keys::key(keys::site_prefix, id.get()), "site", id.get());
      !ok) {
    return std::unexpected(ok.error());
  }
  return listed(store_, keys::key(k_site_systems_prefix, id.get(), ""), k_system_prefix, limit,
                cursor);
}

result<value> system_queries::sealed_secrets(std::string_view id) const {
  auto text = store_.get(keys::key(k_sealed_prefix, id));
  if (!text) return std::unexpected(text.error());
  if (!*text) return value{};
  auto v = json::parse(**text, {.max_depth = 8, .max_string_bytes = 1 << 20});
  if (!v || !v->is_object()) return fail(errc::internal, "a view document is corrupt");
  return v;
}

}  // namespace fieldledger::projections

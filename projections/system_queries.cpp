#include "projections/system_queries.hpp"

#include <algorithm>

#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/system_views.hpp"
#include "projections/text.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

namespace {

// A page of the documents under doc_prefix whose ids end the keys under index_prefix (or, with
// doc_prefix empty, the values under index_prefix), after the cursor.
result<page> listed(const view_store& store, const std::string& index_prefix,
                    std::string_view doc_prefix, std::size_t limit, const std::string& cursor) {
  std::string after;
  if (!cursor.empty()) {
    auto key = decode_cursor(cursor);
    if (!key || !key->starts_with(index_prefix)) {
      return fail(errc::invalid, "the cursor does not belong to this query",
                  {{"cursor", "pass the next_cursor of the previous page of the same query"}});
    }
    after = std::move(*key);
  }
  const std::size_t n = std::clamp<std::size_t>(limit == 0 ? k_default_page : limit, 1, k_max_page);
  page out;
  std::string last;
  bool more = false;
  std::optional<error> failure;
  auto scanned = store.scan(index_prefix, after, [&](std::string_view k, std::string_view v) {
    std::optional<std::string> doc = std::string(v);
    if (!doc_prefix.empty()) {
      auto text = store.get(keys::key(doc_prefix, k.substr(index_prefix.size())));
      if (!text) {
        failure = text.error();
        return false;
      }
      doc = std::move(*text);
    }
    if (!doc) return true;
    if (out.items.size() == n) {
      more = true;
      return false;
    }
    out.items.push_back(std::move(*doc));
    last = k;
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (failure) return std::unexpected(*failure);
  if (more) out.next_cursor = encode_cursor(last);
  return out;
}

result<void> must_exist(const view_store& store, const std::string& key, std::string_view what,
                        std::string_view id) {
  auto doc = store.get(key);
  if (!doc) return std::unexpected(doc.error());
  if (!*doc) {
    return fail(errc::not_found,
                "no " + std::string(what) + " with id \"" + std::string(id) + "\"");
  }
  return {};
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
  if (auto ok = must_exist(store_, keys::customer(id.get()), "customer", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return listed(store_, keys::key(k_customer_systems_prefix, id.get(), ""), k_system_prefix, limit,
                cursor);
}

result<page> system_queries::systems_of_site(const site_id& id, std::size_t limit,
                                             const std::string& cursor) const {
  if (auto ok = must_exist(store_, keys::key(keys::site_prefix, id.get()), "site", id.get()); !ok) {
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

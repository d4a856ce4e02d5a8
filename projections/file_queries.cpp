// Queries over the files view (projections/file_views.cpp).
#include <algorithm>

#include "projections/keys.hpp"
#include "projections/queries.hpp"
#include "projections/text.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

result<std::optional<std::string>> queries::file(const file_id& id) const {
  return store_.get(keys::key("fd/", id.get()));
}

result<page> queries::files_of(file_owner kind, const std::string& owner, std::size_t limit,
                               const std::string& cursor) const {
  const char* what = kind == file_owner::customer ? "customer"
                     : kind == file_owner::site   ? "site"
                                                  : "asset";
  const std::string owner_key = kind == file_owner::customer ? keys::customer(owner)
                                : kind == file_owner::site   ? keys::key(keys::site_prefix, owner)
                                                             : keys::key(keys::asset_prefix, owner);
  auto exists = store_.get(owner_key);
  if (!exists) return std::unexpected(exists.error());
  if (!*exists)
    return fail(errc::not_found, std::string("no ") + what + " with id \"" + owner + "\"");

  const std::string prefix = keys::key(kind == file_owner::customer ? "fc/"
                                       : kind == file_owner::site   ? "fs/"
                                                                    : "fa/",
                                       owner, "");
  std::string after;
  if (!cursor.empty()) {
    auto key = decode_cursor(cursor);
    if (!key || !key->starts_with(prefix)) {
      return fail(errc::invalid, "the cursor does not belong to this query",
                  {{"cursor", "pass the next_cursor of the previous page of the same query"}});
    }
    after = std::move(*key);
  }
  const std::size_t n = std::clamp<std::size_t>(limit == 0 ? k_default_page : limit, 1, k_max_page);
  page out;
  std::string last_key;
  bool more = false;
  std::optional<error> failure;
  auto scanned = store_.scan(prefix, after, [&](std::string_view k, std::string_view id) {
    auto doc = store_.get(keys::key("fd/", id));
    if (!doc) {
      failure = doc.error();
      return false;
    }
    if (!*doc) return true;
    if (out.items.size() == n) {
      more = true;
      return false;
    }
    out.items.push_back(std::move(**doc));
    last_key = k;
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (failure) return std::unexpected(*failure);
  if (more) out.next_cursor = encode_cursor(last_key);
  return out;
}

}  // namespace fieldledger::projections

// Queries over the files view (projections/file_views.cpp).
#include <algorithm>

#include "projections/keys.hpp"
#include "projections/queries.hpp"
#include "projections/query_support.hpp"
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
  if (auto ok = support::must_exist(store_, owner_key, what, owner); !ok) {
    return std::unexpected(ok.error());
  }
  const std::string prefix = keys::key(kind == file_owner::customer ? "fc/"
                                       : kind == file_owner::site   ? "fs/"
                                                                    : "fa/",
                                       owner, "");
  return support::collect(store_, prefix, cursor, limit,
                          [&](std::string_view, std::string_view id) -> support::maybe_doc {
                            return store_.get(keys::key("fd/", id));
                          });
}

}  // namespace fieldledger::projections

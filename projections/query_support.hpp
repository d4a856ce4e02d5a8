#pragma once
// Internal to the queries (queries.cpp, file_queries.cpp, system_queries.cpp, …): reading view
// documents and paging over index keys with opaque cursors.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/value.hpp"
#include "json/parse.hpp"
#include "projections/queries.hpp"
#include "projections/text.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections::support {

using maybe_doc = domain::result<std::optional<std::string>>;

// A view document; internal error when it is corrupt.
inline domain::result<domain::value> parse_doc(std::string_view text) {
  auto v = json::parse(text, {.max_depth = 64, .max_string_bytes = 1 << 20});
  if (!v) return domain::fail(domain::errc::internal, "a view document is corrupt");
  return v;
}

// The page size a limit asks for (0: the default), within [1, k_max_page].
inline std::size_t page_size(std::size_t limit) {
  return std::clamp<std::size_t>(limit == 0 ? k_default_page : limit, 1, k_max_page);
}

// Decodes the cursor and checks that it belongs to the scan of prefix.
inline domain::result<std::string> cursor_key(const std::string& cursor, std::string_view prefix) {
  if (cursor.empty()) return std::string{};
  auto key = decode_cursor(cursor);
  if (!key || !key->starts_with(prefix)) {
    return domain::fail(
        domain::errc::invalid, "the cursor does not belong to this query",
        {{"cursor", "pass the next_cursor of the previous page of the same query"}});
  }
  return *key;
}

// Collects one page: scans prefix after the cursor; accept(key, value) returns the document to
// include, or nullopt to skip the key. Reads one more than the page to know whether more follow.
template <typename Accept>
domain::result<page> collect(const view_store& store, std::string_view prefix,
                             const std::string& cursor, std::size_t limit, Accept accept) {
  auto after = cursor_key(cursor, prefix);
  if (!after) return std::unexpected(after.error());
  const auto n = page_size(limit);
  page out;
  std::string last_key;
  bool more = false;
  std::optional<domain::error> failure;
  auto scanned = store.scan(prefix, *after, [&](std::string_view k, std::string_view v) {
    auto doc = accept(k, v);
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

// Collects one page of documents named by index keys: scans prefix after the cursor in chunks
// of as many keys as the page still needs (and one more), reads each chunk's documents with one
// get_many, and skips index keys whose document is gone. doc_key(key, value) names the
// document of an index entry, or is "" when the entry's value is the document itself (a
// covering index: nothing more to read); accept(key, text) returns the document to include, or
// nullopt to skip it. The page ends after its last included key, as collect's do.
template <typename DocKey, typename Accept>
domain::result<page> collect_docs(const view_store& store, std::string_view prefix,
                                  const std::string& cursor, std::size_t limit, DocKey doc_key,
                                  Accept accept) {
  auto after = cursor_key(cursor, prefix);
  if (!after) return std::unexpected(after.error());
  const auto n = page_size(limit);
  page out;
  std::string from = *after, last_key;
  std::vector<std::string> index_keys, doc_keys;
  std::vector<std::optional<std::string>> docs;  // per index key, in scan order
  std::vector<std::size_t> to_read;              // per doc key: its index key's place
  for (;;) {
    const std::size_t want = n + 1 - out.items.size();
    index_keys.clear();
    doc_keys.clear();
    docs.clear();
    to_read.clear();
    auto scanned = store.scan(prefix, from, [&](std::string_view k, std::string_view v) {
      auto dk = doc_key(k, v);
      if (dk.empty()) {
        docs.emplace_back(std::string(v));
      } else {
        to_read.push_back(docs.size());
        docs.emplace_back();
        doc_keys.push_back(std::move(dk));
      }
      index_keys.emplace_back(k);
      return index_keys.size() < want;
    });
    if (!scanned) return std::unexpected(scanned.error());
    if (index_keys.empty()) return out;
    if (!doc_keys.empty()) {
      auto read = store.get_many(doc_keys);
      if (!read) return std::unexpected(read.error());
      for (std::size_t j = 0; j < to_read.size(); ++j) docs[to_read[j]] = std::move((*read)[j]);
    }
    for (std::size_t i = 0; i < index_keys.size(); ++i) {
      if (!docs[i]) continue;
      auto doc = accept(std::string_view(index_keys[i]), std::string_view(*docs[i]));
      if (!doc) return std::unexpected(doc.error());
      if (!*doc) continue;
      if (out.items.size() == n) {
        out.next_cursor = encode_cursor(last_key);
        return out;
      }
      out.items.push_back(std::move(**doc));
      last_key = index_keys[i];
    }
    if (index_keys.size() < want) return out;  // the index has no more keys
    from = index_keys.back();
  }
}

// not_found naming what when there is no document at key.
inline domain::result<void> must_exist(const view_store& store, const std::string& key,
                                       std::string_view what, std::string_view id) {
  auto doc = store.get(key);
  if (!doc) return std::unexpected(doc.error());
  if (!*doc) {
    return domain::fail(domain::errc::not_found,
                        "no " + std::string(what) + " with id \"" + std::string(id) + "\"");
  }
  return {};
}

}  // namespace fieldledger::projections::support

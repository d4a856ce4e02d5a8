#include "projections/queries.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "domain/customer.hpp"
#include "domain/geo.hpp"
#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/query_support.hpp"
#include "projections/text.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
using namespace fieldledger::projections::support;

namespace {

bool equals_ci(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// Every query word prefixes some word of the document's words.
bool all_words_match(const std::vector<std::string>& query, const std::vector<std::string>& doc) {
  return std::ranges::all_of(query, [&](const std::string& q) {
    return std::ranges::any_of(doc, [&](const std::string& w) { return w.starts_with(q); });
  });
}

constexpr std::array<std::string_view, 4> k_customer_words = {"name", "dba_name", "number",
                                                              "external_id"};
constexpr std::array<std::string_view, 2> k_customer_name_words = {"name", "dba_name"};
constexpr std::array<std::string_view, 4> k_contact_words = {"name", "email", "phone", "mobile"};

std::vector<std::string> doc_words(const value& doc, std::span<const std::string_view> members) {
  std::vector<std::string> out;
  for (auto m : members) {
    for (auto& w : words_of(doc.string_at(m))) out.push_back(std::move(w));
  }
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The id after the word index key's '\0'.
std::string_view id_of_word_key(std::string_view key) {
  const auto z = key.find('\0');
  return z == std::string_view::npos ? std::string_view{} : key.substr(z + 1);
}

// The word of a word index key (between the prefix and '\0').
std::string_view word_of_word_key(std::string_view key, std::string_view prefix) {
  const auto z = key.find('\0');
  return key.substr(prefix.size(), z - prefix.size());
}

// A document matched through the word index is listed once: under the first of its words that
// starts with the query's first word.
bool first_matching_word(const std::vector<std::string>& words, std::string_view first,
                         std::string_view word) {
  for (const auto& w : words) {
    if (w.starts_with(first)) return w == word;
  }
  return false;
}

}  // namespace

result<std::optional<std::string>> queries::customer(const customer_id& id) const {
  return store_.get(keys::customer(id.get()));
}

result<std::optional<std::string>> queries::contact(const contact_id& id) const {
  return store_.get(keys::contact(id.get()));
}

result<std::optional<std::string>> queries::primary_contact_doc(const customer_id& id) const {
  auto entry = store_.get(keys::primary_contact(id.get()));
  if (!entry) return std::unexpected(entry.error());
  if (!*entry || (*entry)->starts_with('{')) return entry;  // the document (views.cpp)
  // An entry of an earlier release: the contact's id.
  auto contact = store_.get(keys::contact(**entry));
  if (!contact) return std::unexpected(contact.error());
  if (!*contact) return fail(errc::internal, "the primary contact's document is missing");
  return contact;
}

result<std::string> queries::primary_contact(const customer_id& id) const {
  auto primary = primary_contact_doc(id);
  if (!primary) return std::unexpected(primary.error());
  if (!*primary) {
    auto customer = store_.get(keys::customer(id.get()));
    if (!customer) return std::unexpected(customer.error());
    if (!*customer) return fail(errc::not_found, "no customer with id \"" + id.get() + "\"");
    return fail(errc::not_found, "customer \"" + id.get() +
                                     "\" has no primary contact. Hint: designate one with POST "
                                     "/v1/contacts/{id}/make-primary.");
  }
  return std::move(**primary);
}

result<page> queries::customers(const customer_filter& f) const {
  const auto q = words_of(f.q);
  // The filters other than the query's words, on a parsed document.
  const auto accept_parsed = [&](const value& doc, std::string_view text) -> maybe_doc {
    const auto status = doc.string_at("status");
    if (f.status.empty() ? status == k_status_archived : !equals_ci(status, f.status)) {
      return std::optional<std::string>{};
    }
    const value* billing = doc.find("billing_address");
    const auto city = billing != nullptr ? billing->string_at("city") : std::string_view{};
    if ((!f.city.empty() && !equals_ci(city, f.city)) ||
        (!f.industry.empty() && !equals_ci(doc.string_at("industry"), f.industry)) ||
        (!f.type.empty() && !equals_ci(doc.string_at("type"), f.type)) ||
        (!f.zone.empty() && !equals_ci(doc.string_at("service_zone"), f.zone))) {
      return std::optional<std::string>{};
    }
    if (!f.equipment.empty()) {
      auto has = store_.get(keys::key("eq/", doc.string_at("id"), lower(f.equipment)));
      if (!has) return std::unexpected(has.error());
      if (!*has) return std::optional<std::string>{};
    }
    return std::optional<std::string>{std::string(text)};
  };

  if (q.empty()) {
    return collect(store_, keys::customer_prefix, f.cursor, f.limit,
                   [&](std::string_view, std::string_view text) -> maybe_doc {
                     auto doc = parse_doc(text);
                     if (!doc) return std::unexpected(doc.error());
                     return accept_parsed(*doc, text);
                   });
  }
  const std::string prefix = std::string(keys::customer_word_prefix) + q.front();
  return collect_docs(
      store_, prefix, f.cursor, f.limit,
      [](std::string_view k, std::string_view) { return keys::customer(id_of_word_key(k)); },
      [&](std::string_view k, std::string_view text) -> maybe_doc {
        // One parse and one word list per document, for the listing rule and the filters.
        auto doc = parse_doc(text);
        if (!doc) return std::unexpected(doc.error());
        const auto words = doc_words(*doc, k_customer_words);
        if (!first_matching_word(words, q.front(),
                                 word_of_word_key(k, keys::customer_word_prefix))) {
          return std::optional<std::string>{};
        }
        if (!all_words_match(q, words)) return std::optional<std::string>{};
        return accept_parsed(*doc, text);
      });
}

result<page> queries::contacts_of(const customer_id& id, std::size_t limit,
                                  const std::string& cursor) const {
  auto customer = store_.get(keys::customer(id.get()));
  if (!customer) return std::unexpected(customer.error());
  if (!*customer) return fail(errc::not_found, "no customer with id \"" + id.get() + "\"");
  const auto prefix = keys::customer_contacts(id.get());
  return collect_docs(
      store_, prefix, cursor, limit,
      [&](std::string_view k, std::string_view) { return keys::contact(k.substr(prefix.size())); },
      [](std::string_view, std::string_view text) -> maybe_doc {
        return std::optional<std::string>{std::string(text)};
      });
}

result<page> queries::contacts(const contact_filter& f) const {
  const auto q = words_of(f.q);
  const bool customer_is_id = !f.customer.empty() && is_id(f.customer);
  const auto customer_words = customer_is_id ? std::vector<std::string>{} : words_of(f.customer);
  const auto accept_doc = [&](std::string_view text) -> maybe_doc {
    auto doc = parse_doc(text);
    if (!doc) return std::unexpected(doc.error());
    if (customer_is_id && doc->string_at("customer_id") != f.customer) {
      return std::optional<std::string>{};
    }
    if (!f.role.empty()) {
      const value* roles = doc->find("roles");
      const bool has = roles != nullptr && roles->is_array() &&
                       std::ranges::any_of(roles->as_array(), [&](const value& r) {
                         return r.is_string() && r.as_string() == f.role;
                       });
      if (!has) return std::optional<std::string>{};
    }
    if (!q.empty() && !all_words_match(q, doc_words(*doc, k_contact_words))) {
      return std::optional<std::string>{};
    }
    if (!customer_words.empty()) {
      auto owner = store_.get(keys::customer(doc->string_at("customer_id")));
      if (!owner) return std::unexpected(owner.error());
      if (!*owner) return std::optional<std::string>{};
      auto owner_doc = parse_doc(**owner);
      if (!owner_doc) return std::unexpected(owner_doc.error());
      if (!all_words_match(customer_words, doc_words(*owner_doc, k_customer_name_words))) {
        return std::optional<std::string>{};
      }
    }
    return std::optional<std::string>{std::string(text)};
  };

  if (!q.empty()) {
    const std::string prefix = std::string(keys::contact_word_prefix) + q.front();
    return collect(store_, prefix, f.cursor, f.limit,
                   [&](std::string_view k, std::string_view) -> maybe_doc {
                     auto text = store_.get(keys::contact(id_of_word_key(k)));
                     if (!text) return std::unexpected(text.error());
                     if (!*text) return std::optional<std::string>{};
                     auto doc = parse_doc(**text);
                     if (!doc) return std::unexpected(doc.error());
                     if (!first_matching_word(doc_words(*doc, k_contact_words), q.front(),
                                              word_of_word_key(k, keys::contact_word_prefix))) {
                       return std::optional<std::string>{};
                     }
                     return accept_doc(**text);
                   });
  }
  if (customer_is_id) {
    const auto prefix = keys::customer_contacts(f.customer);
    return collect(store_, prefix, f.cursor, f.limit,
                   [&](std::string_view k, std::string_view) -> maybe_doc {
                     auto text = store_.get(keys::contact(k.substr(prefix.size())));
                     if (!text || !*text) return text;
                     return accept_doc(**text);
                   });
  }
  return collect(store_, keys::contact_prefix, f.cursor, f.limit,
                 [&](std::string_view, std::string_view v) { return accept_doc(v); });
}

// ---- equipment ---------------------------------------------------------------------------------

namespace {

// A page of the documents under doc_prefix named by the index keys under index_prefix. An index
// that holds its documents (sa/, the assets of a site) answers from the scan alone; an entry
// it holds empty (written by an earlier release) is read from doc_prefix like the others.
template <typename Accept>
result<page> indexed(const view_store& store, const std::string& index_prefix,
                     std::string_view doc_prefix, std::size_t limit, const std::string& cursor,
                     Accept accept) {
  return collect_docs(
      store, index_prefix, cursor, limit,
      [&](std::string_view k, std::string_view v) {
        return v.empty() ? keys::key(doc_prefix, k.substr(index_prefix.size())) : std::string{};
      },
      [&](std::string_view, std::string_view text) { return accept(text); });
}

auto asset_accept(const asset_filter& f) {
  return [f](std::string_view text) -> maybe_doc {
    if (f.product_class.empty() && f.brand.empty() && f.status.empty()) {
      return std::optional<std::string>{std::string(text)};
    }
    auto doc = parse_doc(text);
    if (!doc) return std::unexpected(doc.error());
    if ((!f.product_class.empty() &&
         !equals_ci(doc->string_at("product_class"), f.product_class)) ||
        (!f.brand.empty() && !equals_ci(doc->string_at("brand"), f.brand)) ||
        (!f.status.empty() && !equals_ci(doc->string_at("status"), f.status))) {
      return std::optional<std::string>{};
    }
    return std::optional<std::string>{std::string(text)};
  };
}

const auto k_any = [](std::string_view text) -> maybe_doc {
  return std::optional<std::string>{std::string(text)};
};

}  // namespace

// The live service zone (picklist value with an area) holding the site's address lat/lng, or
// "" (no coordinates, no zone there). The zones are few: each one's area is tested.
result<std::string> queries::zone_at(const value& site) const {
  const value* address = site.find("address");
  const value* lat = address != nullptr ? address->find("lat") : nullptr;
  const value* lng = address != nullptr ? address->find("lng") : nullptr;
  if (lat == nullptr || lng == nullptr || !lat->is_number() || !lng->is_number()) {
    return std::string{};
  }
  auto zones = store_.get(keys::key("pl/", "service_zone"));
  if (!zones) return std::unexpected(zones.error());
  if (!*zones) return std::string{};
  auto list = parse_doc(**zones);
  if (!list) return std::unexpected(list.error());
  const geo::point p{lat->as_number(), lng->as_number()};
  for (const auto& entry : list->find("values")->as_array()) {
    const value* retired = entry.find("retired");
    const value* area = entry.find("geofence");
    if (area == nullptr || (retired != nullptr && retired->is_bool() && retired->as_bool())) {
      continue;
    }
    if (auto shape = geo::shape_of(*area); shape && geo::contains(*shape, p)) {
      return std::string(entry.string_at("value"));
    }
  }
  return std::string{};
}

result<std::optional<std::string>> queries::site(const site_id& id) const {
  auto text = store_.get(keys::key(keys::site_prefix, id.get()));
  if (!text || !*text) return text;
  auto doc = parse_doc(**text);
  if (!doc) return std::unexpected(doc.error());
  // The contacts linked to the site, from the customer's contacts.
  std::string out = **text;
  out.pop_back();  // the closing brace of the document
  // A site without a service zone of its own is in the zone whose area holds its coordinates.
  if (doc->string_at("service_zone").empty()) {
    auto zone = zone_at(*doc);
    if (!zone) return std::unexpected(zone.error());
    if (!zone->empty()) {
      out += ",\"derived_service_zone\":";
      write_json_string(*zone, out);
    }
  }
  out += ",\"contacts\":[";
  bool first = true;
  const auto prefix = keys::customer_contacts(doc->string_at("customer_id"));
  std::optional<error> failure;
  auto scanned = store_.scan(prefix, "", [&](std::string_view k, std::string_view) {
    auto contact = store_.get(keys::contact(k.substr(prefix.size())));
    if (!contact) {
      failure = contact.error();
      return false;
    }
    if (!*contact) return true;
    auto c = parse_doc(**contact);
    if (c && c->string_at("site_id") == id.get()) {
      if (!first) out += ',';
      out += **contact;
      first = false;
    }
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (failure) return std::unexpected(*failure);
  out += "]}";
  return std::optional<std::string>{std::move(out)};
}

result<page> queries::sites_of(const customer_id& id, std::size_t limit,
                               const std::string& cursor) const {
  if (auto ok = must_exist(store_, keys::customer(id.get()), "customer", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return indexed(store_, keys::key("cs/", id.get(), ""), keys::site_prefix, limit, cursor, k_any);
}

result<std::optional<std::string>> queries::asset(const asset_id& id) const {
  return store_.get(keys::key(keys::asset_prefix, id.get()));
}

result<page> queries::assets_of_site(const site_id& id, const asset_filter& f) const {
  if (auto ok = must_exist(store_, keys::key(keys::site_prefix, id.get()), "site", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return indexed(store_, keys::key("sa/", id.get(), ""), keys::asset_prefix, f.limit, f.cursor,
                 asset_accept(f));
}

result<page> queries::assets_of_customer(const customer_id& id, const asset_filter& f) const {
  if (auto ok = must_exist(store_, keys::customer(id.get()), "customer", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return indexed(store_, keys::key("ca/", id.get(), ""), keys::asset_prefix, f.limit, f.cursor,
                 asset_accept(f));
}

result<page> queries::assets_by_serial(std::string_view serial) const {
  page out;
  auto id = store_.get(keys::key("sn/", serial));
  if (!id) return std::unexpected(id.error());
  if (!*id) return out;
  auto doc = store_.get(keys::key(keys::asset_prefix, **id));
  if (!doc) return std::unexpected(doc.error());
  if (*doc) out.items.push_back(std::move(**doc));
  return out;
}

result<std::optional<std::string>> queries::part(const part_id& id) const {
  return store_.get(keys::key(keys::part_prefix, id.get()));
}

result<page> queries::parts_of(const asset_id& id, std::size_t limit,
                               const std::string& cursor) const {
  if (auto ok = must_exist(store_, keys::key(keys::asset_prefix, id.get()), "asset", id.get());
      !ok) {
    return std::unexpected(ok.error());
  }
  return indexed(store_, keys::key("ap/", id.get(), ""), keys::part_prefix, limit, cursor, k_any);
}

result<std::optional<std::string>> queries::product(std::string_view code) const {
  return store_.get(keys::key("pr/", code));
}

result<page> queries::products(const std::string& q_text, std::size_t limit,
                               const std::string& cursor) const {
  static constexpr std::array<std::string_view, 4> k_product_words = {"code", "brand", "model",
                                                                      "product_class"};
  const auto q = words_of(q_text);
  if (q.empty()) {
    return collect(store_, "pr/", cursor, limit,
                   [](std::string_view, std::string_view v) { return k_any(v); });
  }
  const std::string prefix = "pw/" + q.front();
  return collect(store_, prefix, cursor, limit,
                 [&](std::string_view k, std::string_view) -> maybe_doc {
                   auto text = store_.get(keys::key("pr/", id_of_word_key(k)));
                   if (!text || !*text) return text;
                   auto doc = parse_doc(**text);
                   if (!doc) return std::unexpected(doc.error());
                   const auto words = doc_words(*doc, k_product_words);
                   if (!first_matching_word(words, q.front(), word_of_word_key(k, "pw/")) ||
                       !all_words_match(q, words)) {
                     return std::optional<std::string>{};
                   }
                   return std::optional<std::string>{std::move(**text)};
                 });
}

result<page> queries::children_of(const customer_id& id, std::size_t limit,
                                  const std::string& cursor) const {
  if (auto ok = must_exist(store_, keys::customer(id.get()), "customer", id.get()); !ok) {
    return std::unexpected(ok.error());
  }
  return indexed(store_, keys::key("ch/", id.get(), ""), keys::customer_prefix, limit, cursor,
                 k_any);
}

// ---- notes, work orders, notification recipients, summary --------------------------------------

namespace {

// The prefix letter of an owner's index ("nc/", "ns/", "na/" for notes) and its document.
struct owner_index {
  std::string index;
  std::string doc_key;
  std::string_view what;
};

owner_index owner_of_list(char first, listed_under under, std::string_view id) {
  const char second = under == listed_under::customer ? 'c'
                      : under == listed_under::site   ? 's'
                                                      : 'a';
  std::string prefix{first, second, '/'};
  switch (under) {
    case listed_under::customer:
      return {keys::key(prefix, id, ""), keys::customer(id), "customer"};
    case listed_under::site:
      return {keys::key(prefix, id, ""), keys::key(keys::site_prefix, id), "site"};
    case listed_under::asset:
      break;
  }
  return {keys::key(prefix, id, ""), keys::key(keys::asset_prefix, id), "asset"};
}

// A page of the documents under doc_prefix whose ids are the values of the index keys.
template <typename Accept>
result<page> by_value(const view_store& store, const owner_index& o, std::string_view doc_prefix,
                      std::size_t limit, const std::string& cursor, Accept accept) {
  auto ok = store.get(o.doc_key);
  if (!ok) return std::unexpected(ok.error());
  if (!*ok) {
    return fail(errc::not_found, "no " + std::string(o.what) + " with id \"" +
                                     o.doc_key.substr(o.doc_key.find('/') + 1) + "\"");
  }
  return collect_docs(
      store, o.index, cursor, limit,
      [&](std::string_view, std::string_view id) { return keys::key(doc_prefix, id); },
      [&](std::string_view, std::string_view text) { return accept(text); });
}

bool has_role(const value& contact, std::string_view role) {
  const value* roles = contact.find("roles");
  if (roles == nullptr || !roles->is_array()) return false;
  return std::ranges::any_of(
      roles->as_array(), [&](const value& r) { return r.is_string() && r.as_string() == role; });
}

bool opted_in(const value& contact, std::string_view kind) {
  const value* notify = contact.find("notify");
  const value* v = notify != nullptr ? notify->find(kind) : nullptr;
  return v != nullptr && v->is_bool() && v->as_bool();
}

// A contact document with one more member.
std::string with_member(std::string doc, std::string_view name, std::string_view text_value) {
  doc.pop_back();
  doc += ",\"";
  doc += name;
  doc += "\":";
  write_json_string(text_value, doc);
  doc += '}';
  return doc;
}

}  // namespace

result<std::optional<std::string>> queries::note(std::string_view id) const {
  return store_.get(keys::key("no/", id));
}

result<page> queries::notes(listed_under under, std::string_view id, std::size_t limit,
                            const std::string& cursor) const {
  return by_value(store_, owner_of_list('n', under, id), "no/", limit, cursor, k_any);
}

result<std::optional<std::string>> queries::work_order(std::string_view id) const {
  return store_.get(keys::key("wo/", id));
}

result<page> queries::work_orders(listed_under under, std::string_view id,
                                  const work_order_filter& f) const {
  return by_value(store_, owner_of_list('w', under, id), "wo/", f.limit, f.cursor,
                  [&f](std::string_view text) -> maybe_doc {
                    if (f.status.empty() && f.priority.empty()) {
                      return std::optional<std::string>{std::string(text)};
                    }
                    auto doc = parse_doc(text);
                    if (!doc) return std::unexpected(doc.error());
                    if ((!f.status.empty() && doc->string_at("status") != f.status) ||
                        (!f.priority.empty() && doc->string_at("priority") != f.priority)) {
                      return std::optional<std::string>{};
                    }
                    return std::optional<std::string>{std::string(text)};
                  });
}

result<std::string> queries::notification_recipients(const customer_id& id, std::string_view kind,
                                                     std::string_view site_id) const {
  auto customer = store_.get(keys::customer(id.get()));
  if (!customer) return std::unexpected(customer.error());
  if (!*customer) return fail(errc::not_found, "no customer with id \"" + id.get() + "\"");
  if (!site_id.empty()) {
    auto site = store_.get(keys::key(keys::site_prefix, site_id));
    if (!site) return std::unexpected(site.error());
    auto doc = *site ? parse_doc(**site) : result<value>(value());
    if (!doc) return std::unexpected(doc.error());
    if (!*site || doc->string_at("customer_id") != id.get()) {
      return fail(errc::invalid, "the site is not a site of this customer",
                  {{"site_id", "no site \"" + std::string(site_id) + "\" belongs to customer \"" +
                                   id.get() + "\""}});
    }
  }
  const bool approvals = kind == "quote_approvals";
  std::vector<std::string> at_site, others;
  const auto prefix = keys::customer_contacts(id.get());
  std::optional<error> failure;
  auto scanned = store_.scan(prefix, "", [&](std::string_view k, std::string_view) {
    auto text = store_.get(keys::contact(k.substr(prefix.size())));
    if (!text) {
      failure = text.error();
      return false;
    }
    if (!*text) return true;  // removed
    auto doc = parse_doc(**text);
    if (!doc) {
      failure = doc.error();
      return false;
    }
    if (!opted_in(*doc, kind) || (approvals && !has_role(*doc, "approval_authority"))) return true;
    const bool here = !site_id.empty() && doc->string_at("site_id") == site_id;
    (here ? at_site : others)
        .push_back(
            with_member(std::move(**text), "reason", here ? "opted_in_at_site" : "opted_in"));
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (failure) return std::unexpected(*failure);
  bool fallback = false;
  if (at_site.empty() && others.empty()) {
    auto text = primary_contact_doc(id);
    if (!text) return std::unexpected(text.error());
    if (*text) {
      auto doc = parse_doc(**text);
      if (!doc) return std::unexpected(doc.error());
      if (!approvals || has_role(*doc, "approval_authority")) {
        others.push_back(with_member(std::move(**text), "reason", "primary_contact"));
        fallback = true;
      }
    }
  }
  std::string out = "{\"kind\":";
  write_json_string(kind, out);
  out += ",\"site_id\":";
  if (site_id.empty()) {
    out += "null";
  } else {
    write_json_string(site_id, out);
  }
  out += fallback ? ",\"fallback\":true" : ",\"fallback\":false";
  out += ",\"items\":[";
  bool first = true;
  for (auto* list : {&at_site, &others}) {
    for (const auto& doc : *list) {
      if (!first) out += ',';
      out += doc;
      first = false;
    }
  }
  out += "]}";
  return out;
}

result<std::string> queries::picklist(std::string_view name) const {
  auto doc = store_.get(keys::key("pl/", name));
  if (!doc) return std::unexpected(doc.error());
  if (*doc) return std::move(**doc);
  std::string out = "{\"name\":";
  write_json_string(name, out);
  out += ",\"values\":[],\"version\":0}";
  return out;
}

result<std::optional<std::string>> queries::summary(const customer_id& id,
                                                    std::string_view recent_changes) const {
  auto customer = store_.get(keys::customer(id.get()));
  if (!customer || !*customer) return customer;
  auto counts_text = store_.get(keys::key("sm/", id.get()));
  if (!counts_text) return std::unexpected(counts_text.error());
  auto counts = *counts_text ? parse_doc(**counts_text) : result<value>(value(object{}));
  if (!counts) return std::unexpected(counts.error());
  auto doc = parse_doc(**customer);
  if (!doc) return std::unexpected(doc.error());
  object c;
  const value* cc = doc->find("counts");
  const value* contacts = cc != nullptr ? cc->find("contacts") : nullptr;
  c["contacts"] = contacts != nullptr && contacts->is_int() ? contacts->as_int() : 0;
  for (auto name : {"sites", "assets", "open_work_orders", "files", "notes", "urgent_notes"}) {
    const value* n = counts->find(name);
    c[name] = n != nullptr && n->is_int() ? n->as_int() : 0;
  }
  // Urgent notes: the "0" ranks of the customer's note index.
  std::string urgent = "[";
  std::optional<error> failure;
  std::size_t n = 0;
  auto scanned = store_.scan(keys::key("nc/", id.get(), "0"), "",
                             [&](std::string_view, std::string_view note_id) {
                               auto text = store_.get(keys::key("no/", note_id));
                               if (!text) {
                                 failure = text.error();
                                 return false;
                               }
                               if (!*text) return true;
                               if (n++ > 0) urgent += ',';
                               urgent += **text;
                               return n < 20;
                             });
  if (!scanned) return std::unexpected(scanned.error());
  if (failure) return std::unexpected(*failure);
  urgent += ']';
  std::string out = "{\"customer\":";
  out += **customer;
  out += ",\"primary_contact\":";
  const value* primary = doc->find("primary_contact");
  out += primary != nullptr ? to_json(*primary) : "null";
  out += ",\"counts\":";
  out += to_json(value(std::move(c)));
  out += ",\"urgent_notes\":";
  out += urgent;
  out += ",\"recent_changes\":";
  out += recent_changes;
  out += '}';
  return std::optional<std::string>{std::move(out)};
}

}  // namespace fieldledger::projections

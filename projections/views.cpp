// The views of this release. Each keeps rendered JSON documents, so a query is a key lookup.
// Views are applied in the order make_views() returns them, and a later view may read what an
// earlier one wrote in the same batch (the customer view reads contact documents).
#include <algorithm>
#include <array>
#include <set>
#include <span>

#include "domain/customer.hpp"
#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/system_views.hpp"
#include "projections/text.hpp"
#include "projections/view.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;

namespace support {

// The document at key, or null when there is none.
result<value> load(batch& b, std::string_view key) {
  auto text = b.get(key);
  if (!text) return std::unexpected(text.error());
  if (!*text) return value{};
  auto v = json::parse(**text, {.max_depth = 64, .max_string_bytes = 1 << 20});
  if (!v || !v->is_object()) {
    return fail(errc::internal, "view document " + std::string(key) + " is corrupt");
  }
  return v;
}

void stamp(object& doc, const event& e, bool created) {
  if (created) {
    doc["created_at"] = e.time;
    doc["created_by"] = e.actor;
  }
  doc["modified_at"] = e.time;
  doc["modified_by"] = e.actor;
  doc["version"] = e.version.get();
}

void apply_changed(object& doc, const value& data) {
  const value* changed = data.find("changed");
  if (changed == nullptr || !changed->is_object()) return;
  for (const auto& [k, v] : changed->as_object()) {
    if (v.is_null()) {
      doc.erase(k);
    } else {
      doc.insert_or_assign(k, v);
    }
  }
}

object new_doc(const event& e) {
  object d;
  if (const value* f = e.data.find("fields"); f != nullptr && f->is_object()) d = f->as_object();
  d["id"] = e.entity_id;
  d["customer_id"] = e.customer.get();
  stamp(d, e, true);
  return d;
}

void bump_count(object& doc, std::string_view name, std::int64_t delta) {
  auto& counts = doc["counts"];
  if (!counts.is_object()) counts = object{};
  const value* n = counts.find(name);
  counts.as_object()[std::string(name)] = (n != nullptr && n->is_int() ? n->as_int() : 0) + delta;
}

std::string_view string_of(const object& doc, std::string_view name) {
  const auto it = doc.find(name);
  if (it == doc.end() || !it->second.is_string()) return {};
  return it->second.as_string();
}

}  // namespace support

namespace {

using support::apply_changed;
using support::load;
using support::stamp;

// The distinct search words of the named string members of doc.
std::set<std::string> words(const object& doc, std::span<const std::string_view> members) {
  std::set<std::string> out;
  for (auto m : members) {
    if (auto it = doc.find(m); it != doc.end() && it->second.is_string()) {
      for (auto& w : words_of(it->second.as_string())) out.insert(std::move(w));
    }
  }
  return out;
}

void reindex(batch& b, std::string_view prefix, std::string_view id,
             const std::set<std::string>& before, const std::set<std::string>& after) {
  for (const auto& w : before) {
    if (!after.contains(w)) b.del(keys::word(prefix, w, id));
  }
  for (const auto& w : after) {
    if (!before.contains(w)) b.put(keys::word(prefix, w, id), "");
  }
}

constexpr std::array<std::string_view, 4> k_customer_words = {"name", "dba_name", "number",
                                                              "external_id"};
constexpr std::array<std::string_view, 4> k_contact_words = {"name", "email", "phone", "mobile"};

// ---- contacts: documents by id, by customer, and the contact search words -------------------
class contacts_view final : public view {
 public:
  std::string_view name() const override { return "contacts"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("contact.")) return {};
    auto key = keys::contact(e.entity_id);
    if (e.type == et::contact_added) {
      object d;
      if (const value* f = e.data.find("fields"); f != nullptr && f->is_object()) {
        d = f->as_object();
      }
      d["id"] = e.entity_id;
      d["customer_id"] = e.customer.get();
      d["primary"] = false;
      stamp(d, e, true);
      reindex(b, keys::contact_word_prefix, e.entity_id, {}, words(d, k_contact_words));
      b.put(keys::customer_contacts(e.customer.get()) + e.entity_id, "");
      b.put(std::move(key), to_json(d));
      return {};
    }
    auto found = b.doc(key);
    if (!found) return std::unexpected(found.error());
    const auto& doc = *found;
    if (doc->is_null()) return {};  // an event of a contact already removed
    object& d = doc->as_object();
    if (e.type == et::contact_changed) {
      const auto before = words(d, k_contact_words);
      apply_changed(d, e.data);
      stamp(d, e, false);
      reindex(b, keys::contact_word_prefix, e.entity_id, before, words(d, k_contact_words));
      doc.changed();
    } else if (e.type == et::contact_removed) {
      reindex(b, keys::contact_word_prefix, e.entity_id, words(d, k_contact_words), {});
      b.del(keys::customer_contacts(e.customer.get()) + e.entity_id);
      b.del(std::move(key));
    } else if (e.type == et::contact_primary_designated) {
      d["primary"] = true;
      stamp(d, e, false);
      doc.changed();
      const auto previous = e.data.string_at("previous_contact_id");
      if (!previous.empty()) {
        auto old = b.doc(keys::contact(previous));
        if (!old) return std::unexpected(old.error());
        if ((*old)->is_object()) {
          (*old)->as_object()["primary"] = false;
          old->changed();
        }
      }
    }
    return {};
  }
};

// ---- customers: documents (with the primary contact and counts) and the search words ---------
class customers_view final : public view {
 public:
  std::string_view name() const override { return "customers"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    auto key = keys::customer(e.customer.get());
    if (e.type == et::customer_registered) {
      object d;
      if (const value* f = e.data.find("fields"); f != nullptr && f->is_object()) {
        d = f->as_object();
      }
      d["id"] = e.customer.get();
      d["number"] = e.data.string_at("number");
      d["status"] = k_status_active;
      d["primary_contact"] = nullptr;
      d["counts"] = object{{"contacts", 0}, {"sites", 0}, {"assets", 0}};
      stamp(d, e, true);
      reindex(b, keys::customer_word_prefix, e.customer.get(), {}, words(d, k_customer_words));
      b.put_doc(std::move(key), std::move(d));
      return {};
    }
    if (!affects(e.type)) return {};
    auto found = b.doc(key);
    if (!found) return std::unexpected(found.error());
    const auto& doc = *found;
    if (doc->is_null()) return {};
    object& d = doc->as_object();
    if (e.type == et::customer_details_changed) {
      const auto before = words(d, k_customer_words);
      apply_changed(d, e.data);
      stamp(d, e, false);
      reindex(b, keys::customer_word_prefix, e.customer.get(), before, words(d, k_customer_words));
    } else if (e.type == et::customer_deactivated || e.type == et::customer_reactivated ||
               e.type == et::customer_archived) {
      d["status"] = e.type == et::customer_deactivated   ? k_status_inactive
                    : e.type == et::customer_reactivated ? k_status_active
                                                         : k_status_archived;
      stamp(d, e, false);
    } else if (e.type == et::site_added || e.type == et::site_removed) {
      support::bump_count(d, "sites", e.type == et::site_added ? 1 : -1);
    } else if (e.type == et::asset_registered || e.type == et::asset_retired) {
      support::bump_count(d, "assets", e.type == et::asset_registered ? 1 : -1);
    } else if (e.type == et::contact_added || e.type == et::contact_removed) {
      support::bump_count(d, "contacts", e.type == et::contact_added ? 1 : -1);
      if (e.type == et::contact_removed && primary_of(d) == e.entity_id) {
        d["primary_contact"] = nullptr;
      }
    } else if (e.type == et::contact_primary_designated ||
               (e.type == et::contact_changed && primary_of(d) == e.entity_id)) {
      auto contact = b.doc(keys::contact(e.entity_id));
      if (!contact) return std::unexpected(contact.error());
      d["primary_contact"] = (*contact)->is_null() ? value{} : summary(**contact);
    } else {
      return {};
    }
    doc.changed();
    return {};
  }

 private:
  // The event types that may change a customer document (after its registration).
  static bool affects(std::string_view t) {
    return t.starts_with("customer.") || t == et::site_added || t == et::site_removed ||
           t == et::asset_registered || t == et::asset_retired || t.starts_with("contact.");
  }
  static std::string_view primary_of(const object& d) {
    auto it = d.find("primary_contact");
    return it == d.end() ? std::string_view{} : it->second.string_at("id");
  }
  static value summary(const value& contact) {
    object s;
    for (auto m : {"id", "name", "title", "email", "phone", "mobile"}) {
      if (const value* v = contact.find(m)) s[m] = *v;
    }
    return s;
  }
};

// ---- primary contact by customer: the primary contact's document -----------------------------
// pc/<customer> -> the document of the customer's primary contact, rewritten with each change of
// it, so that the lookup is one read (the contact's key is a second random read, and at scale a
// second block-cache or disk miss). Runs after the contacts view, whose writes it reads from the
// batch. Entries written by earlier releases hold the contact's id: queries follow it
// (queries::primary_contact_doc), and the next change of the primary contact, or a
// rebuild, replaces it.
class primary_contact_view final : public view {
 public:
  std::string_view name() const override { return "primary-contact"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (e.type == et::contact_primary_designated || e.type == et::contact_changed) {
      const auto contact_key = keys::contact(e.entity_id);
      if (e.type == et::contact_changed) {
        auto contact = b.doc(contact_key);
        if (!contact) return std::unexpected(contact.error());
        const value* primary = (*contact)->find("primary");
        if (primary == nullptr || !primary->is_bool() || !primary->as_bool()) return {};
      }
      auto text = b.get(contact_key);
      if (!text) return std::unexpected(text.error());
      // Absent: removed by a later event the contacts view has applied already (this view
      // catching up on its own); that event removes this entry in turn.
      if (*text) b.put(keys::primary_contact(e.customer.get()), std::move(**text));
    } else if (e.type == et::contact_removed) {
      const auto key = keys::primary_contact(e.customer.get());
      auto current = b.get(key);
      if (!current) return std::unexpected(current.error());
      if (!*current) return {};
      auto id = entry_id(**current);
      if (!id) return std::unexpected(id.error());
      if (*id == e.entity_id) b.del(key);
    }
    return {};
  }

 private:
  // The contact an entry is of: its document's id, or the id itself (earlier releases); an
  // internal error when the document is corrupt (as batch::doc reports one).
  static result<std::string> entry_id(const std::string& entry) {
    if (!entry.starts_with('{')) return entry;
    auto doc = json::parse(entry, {.max_depth = 64, .max_string_bytes = 1 << 20});
    if (!doc || !doc->is_object())
      return fail(errc::internal, "a primary contact entry is corrupt");
    return std::string(doc->string_at("id"));
  }
};

}  // namespace

std::vector<std::unique_ptr<view>> make_equipment_views();  // equipment_views.cpp
std::vector<std::unique_ptr<view>> make_service_views();    // service_views.cpp
std::unique_ptr<view> make_files_view();                    // file_views.cpp
std::vector<std::unique_ptr<view>> make_geo_views();        // geo_views.cpp

std::vector<std::unique_ptr<view>> make_views() {
  std::vector<std::unique_ptr<view>> out;
  out.push_back(std::make_unique<contacts_view>());
  out.push_back(std::make_unique<customers_view>());
  out.push_back(std::make_unique<primary_contact_view>());
  for (auto& v : make_equipment_views()) out.push_back(std::move(v));
  for (auto& v : make_service_views()) out.push_back(std::move(v));
  for (auto& v : make_system_views()) out.push_back(std::move(v));  // systems
  out.push_back(make_history_view());
  out.push_back(make_files_view());  // files
  // geofences and the spatial index (geo_views.cpp): after the sites and customers views
  for (auto& v : make_geo_views()) out.push_back(std::move(v));
  return out;
}

}  // namespace fieldledger::projections

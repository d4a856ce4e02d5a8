// Views of the service half of the customer file: notes (by customer, site and asset, urgent
// first, then newest first), work orders (by customer, site and asset, newest first) and the
// counts of the customer summary.
//
//   no/<note id>                        -> note document
//   nc|ns|na/<customer|site|asset>/<r>  -> note id; r = "0" urgent / "1" not, then the
//                                          inverted id (ids are time-ordered UUIDv7)
//   wo/<work order id>                  -> work-order document
//   wc|ws|wa/<customer|site|asset>/<r>  -> work-order id; r = the inverted id
//   sm/<customer id>                    -> {"sites","assets","open_work_orders","notes",
//                                           "urgent_notes","files"}: live counts
//   su/<note id>                        -> "1" / "0": a live note's urgency (for the counts)
//   pl/<picklist name>                  -> picklist document
#include <algorithm>

#include "domain/customer.hpp"
#include "projections/keys.hpp"
#include "projections/view.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;
using support::load;
using support::new_doc;
using support::stamp;

namespace {

// Ids are time-ordered (UUIDv7); their inverse sorts newest first.
std::string inverted_id(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c >= '0' && c <= '9') {
      c = "fedcba9876"[c - '0'];
    } else if (c >= 'a' && c <= 'f') {
      c = "543210"[c - 'a'];
    }
  }
  return out;
}

// The index keys a note document is listed under.
std::vector<std::string> note_keys(const value& doc) {
  const std::string rank = (doc.find("urgent") != nullptr && doc.find("urgent")->is_bool() &&
                                    doc.find("urgent")->as_bool()
                                ? "0"
                                : "1") +
                           inverted_id(doc.string_at("id"));
  std::vector<std::string> out{keys::key("nc/", doc.string_at("customer_id"), rank)};
  if (const auto site = doc.string_at("site_id"); !site.empty()) {
    out.push_back(keys::key("ns/", site, rank));
  }
  if (const auto asset = doc.string_at("asset_id"); !asset.empty()) {
    out.push_back(keys::key("na/", asset, rank));
  }
  return out;
}

std::vector<std::string> work_order_keys(const value& doc) {
  const std::string rank = inverted_id(doc.string_at("id"));
  std::vector<std::string> out{keys::key("wc/", doc.string_at("customer_id"), rank)};
  if (const auto site = doc.string_at("site_id"); !site.empty()) {
    out.push_back(keys::key("ws/", site, rank));
  }
  if (const auto asset = doc.string_at("asset_id"); !asset.empty()) {
    out.push_back(keys::key("wa/", asset, rank));
  }
  return out;
}

// Moves a document's index entries from the keys of before to the keys of after.
void reindex(batch& b, const std::vector<std::string>& before,
             const std::vector<std::string>& after, const std::string& id) {
  for (const auto& k : before) {
    if (std::find(after.begin(), after.end(), k) == after.end()) b.del(k);
  }
  for (const auto& k : after) b.put(k, id);
}

class notes_view final : public view {
 public:
  std::string_view name() const override { return "notes"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("note.")) return {};
    const auto key = keys::key("no/", e.entity_id);
    if (e.type == et::note_added) {
      value doc(new_doc(e));
      reindex(b, {}, note_keys(doc), e.entity_id);
      b.put(key, to_json(doc));
      return {};
    }
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    if (doc->is_null()) return {};
    const auto before = note_keys(*doc);
    if (e.type == et::note_changed) {
      support::apply_changed(doc->as_object(), e.data);
      stamp(doc->as_object(), e, false);
      reindex(b, before, note_keys(*doc), e.entity_id);
      b.put(key, to_json(*doc));
    } else if (e.type == et::note_removed) {
      reindex(b, before, {}, e.entity_id);
      b.del(key);
    }
    return {};
  }
};

class work_orders_view final : public view {
 public:
  std::string_view name() const override { return "work-orders"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("work-order.")) return {};
    const auto key = keys::key("wo/", e.entity_id);
    if (e.type == et::work_order_created) {
      object d = new_doc(e);
      d["number"] = e.data.string_at("number");
      const value doc(std::move(d));
      reindex(b, {}, work_order_keys(doc), e.entity_id);
      b.put(key, to_json(doc));
      return {};
    }
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    if (doc->is_null()) return {};
    object& d = doc->as_object();
    if (e.type == et::work_order_assigned) {
      d["assignee"] = e.data.string_at("assignee");
      d["status"] = k_wo_assigned;
    } else if (e.type == et::work_order_completed) {
      d["status"] = k_wo_completed;
      d["completed_at"] = e.time;
      d["completed_by"] = e.actor;
      if (const auto r = e.data.string_at("resolution"); !r.empty()) d["resolution"] = r;
    } else if (e.type == et::work_order_cancelled) {
      d["status"] = k_wo_cancelled;
      d["cancelled_at"] = e.time;
      d["cancelled_by"] = e.actor;
      if (const auto r = e.data.string_at("reason"); !r.empty()) d["cancel_reason"] = r;
    }
    stamp(d, e, false);
    b.put(key, to_json(*doc));
    return {};
  }
};

// The counts of the customer summary ("su/<note id>" -> "1" when the live note is urgent).
class summary_counts_view final : public view {
 public:
  std::string_view name() const override { return "summary-counts"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    const auto& t = e.type;
    std::vector<std::pair<std::string_view, std::int64_t>> deltas;
    if (t == et::site_added) {
      deltas = {{"sites", 1}};
    } else if (t == et::site_removed) {
      deltas = {{"sites", -1}};
    } else if (t == et::asset_registered) {
      deltas = {{"assets", 1}};
    } else if (t == et::asset_retired) {
      deltas = {{"assets", -1}};
    } else if (t == "file.attached") {  // files (api uploads): counted by their event names
      deltas = {{"files", 1}};
    } else if (t == "file.removed") {
      deltas = {{"files", -1}};
    } else if (t == et::work_order_created) {
      deltas = {{"open_work_orders", 1}};
    } else if (t == et::work_order_completed || t == et::work_order_cancelled) {
      deltas = {{"open_work_orders", -1}};
    } else if (t.starts_with("note.")) {
      // Its own record of each live note's urgency, so that it depends on no other view.
      const auto flag_key = keys::key("su/", e.entity_id);
      auto flag = b.get(flag_key);
      if (!flag) return std::unexpected(flag.error());
      const auto urgent = [](const value* v) {
        return v != nullptr && v->is_bool() && v->as_bool();
      };
      const bool was = *flag && **flag == "1";
      if (t == et::note_added) {
        const value* f = e.data.find("fields");
        const bool now = f != nullptr && urgent(f->find("urgent"));
        b.put(flag_key, now ? "1" : "0");
        deltas = {{"notes", 1}, {"urgent_notes", now ? 1 : 0}};
      } else if (t == et::note_removed) {
        if (!*flag) return {};
        b.del(flag_key);
        deltas = {{"notes", -1}, {"urgent_notes", was ? -1 : 0}};
      } else if (t == et::note_changed) {
        const value* changed = e.data.find("changed");
        const value* u = changed != nullptr ? changed->find("urgent") : nullptr;
        if (u == nullptr || !*flag) return {};
        b.put(flag_key, urgent(u) ? "1" : "0");
        deltas = {{"urgent_notes", (urgent(u) ? 1 : 0) - (was ? 1 : 0)}};
      }
    } else {
      return {};
    }
    auto doc = b.doc(keys::key("sm/", e.customer.get()));
    if (!doc) return std::unexpected(doc.error());
    if (!(*doc)->is_object()) **doc = object{};
    object& counts = (*doc)->as_object();
    for (const auto& [name, delta] : deltas) {
      auto it = counts.find(name);
      const std::int64_t n = it != counts.end() && it->second.is_int() ? it->second.as_int() : 0;
      counts.insert_or_assign(std::string(name), n + delta);
    }
    doc->changed();
    return {};
  }
};

// Picklists: "pl/<name>" -> {"name","version","values":[{"value","retired","added_at",
// "added_by","retired_at"?,"retired_by"?}]} in the order the values were first added.
class picklists_view final : public view {
 public:
  std::string_view name() const override { return "picklists"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("picklist.")) return {};
    const auto key = keys::key("pl/", e.entity_id);
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    object d =
        doc->is_object() ? doc->as_object() : object{{"name", e.entity_id}, {"values", array{}}};
    auto& values = d["values"].as_array();
    const auto v = e.data.string_at("value");
    auto it =
        std::ranges::find_if(values, [&](const value& x) { return x.string_at("value") == v; });
    if (e.type == et::picklist_value_added) {
      object entry{{"value", std::string(v)},
                   {"retired", false},
                   {"added_at", e.time},
                   {"added_by", e.actor}};
      if (const value* area = e.data.find("geofence")) entry["geofence"] = *area;
      if (it == values.end()) {
        values.emplace_back(std::move(entry));
      } else {
        *it = value(std::move(entry));
      }
    } else if (e.type == et::picklist_value_retired && it != values.end()) {
      auto& entry = it->as_object();
      entry["retired"] = true;
      entry["retired_at"] = e.time;
      entry["retired_by"] = e.actor;
    }
    d["version"] = e.version.get();
    b.put(key, to_json(value(std::move(d))));
    return {};
  }
};

}  // namespace

std::vector<std::unique_ptr<view>> make_service_views() {
  std::vector<std::unique_ptr<view>> out;
  out.push_back(std::make_unique<summary_counts_view>());
  out.push_back(std::make_unique<notes_view>());
  out.push_back(std::make_unique<work_orders_view>());
  out.push_back(std::make_unique<picklists_view>());
  return out;
}

}  // namespace fieldledger::projections

// Views of the equipment a customer owns: sites, assets (by site, by customer, by serial),
// asset parts, the children of a customer, and the equipment facets of customer search.
#include <set>

#include "domain/customer.hpp"
#include "projections/keys.hpp"
#include "projections/text.hpp"
#include "projections/view.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;
using support::apply_changed;
using support::load;
using support::new_doc;
using support::stamp;

namespace {

class sites_view final : public view {
 public:
  std::string_view name() const override { return "sites"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("site.") && e.type != et::asset_registered &&
        e.type != et::asset_moved && e.type != et::asset_retired) {
      return {};
    }
    if (e.type == et::site_added) {
      auto d = new_doc(e);
      d["counts"] = object{{"assets", 0}};
      b.put_doc(keys::key(keys::site_prefix, e.entity_id), std::move(d));
      b.put(keys::key("cs/", e.customer.get(), e.entity_id), "");
      return {};
    }
    if (e.type.starts_with("asset.")) return count_assets(e, b);
    auto key = keys::key(keys::site_prefix, e.entity_id);
    auto doc = b.doc(key);
    if (!doc) return std::unexpected(doc.error());
    if ((*doc)->is_null()) return {};
    if (e.type == et::site_changed) {
      apply_changed((*doc)->as_object(), e.data);
      stamp((*doc)->as_object(), e, false);
      doc->changed();
    } else if (e.type == et::site_removed) {
      b.del(std::move(key));
      b.del(keys::key("cs/", e.customer.get(), e.entity_id));
    }
    return {};
  }

 private:
  // Keeps counts.assets of the sites an asset arrives at or leaves.
  static result<void> count_assets(const event& e, batch& b) {
    const auto adjust = [&](std::string_view site, std::int64_t delta) -> result<void> {
      if (site.empty()) return {};
      auto doc = b.doc(keys::key(keys::site_prefix, site));
      if (!doc) return std::unexpected(doc.error());
      if ((*doc)->is_null()) return {};
      support::bump_count((*doc)->as_object(), "assets", delta);
      doc->changed();
      return {};
    };
    if (e.type == et::asset_registered) {
      const value* f = e.data.find("fields");
      return adjust(f != nullptr ? f->string_at("site_id") : std::string_view{}, 1);
    }
    if (e.type == et::asset_moved) {
      if (auto ok = adjust(e.data.string_at("from_site_id"), -1); !ok) return ok;
      return adjust(e.data.string_at("to_site_id"), 1);
    }
    // retired: the asset view has the site it was at
    auto asset = b.doc(keys::key(keys::asset_prefix, e.entity_id));
    if (!asset) return std::unexpected(asset.error());
    const std::string site((*asset)->string_at("site_id"));
    return adjust(site, -1);
  }
};

class assets_view final : public view {
 public:
  std::string_view name() const override { return "assets"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("asset.")) return {};
    auto key = keys::key(keys::asset_prefix, e.entity_id);
    const auto& customer = e.customer.get();
    if (e.type == et::asset_registered) {
      auto d = new_doc(e);
      auto text = to_json(d);
      b.put(site_entry(d, e.entity_id), text);
      b.put(keys::key("ca/", customer, e.entity_id), "");
      if (const std::string serial(support::string_of(d, "serial_no")); !serial.empty()) {
        b.put(keys::key("sn/", serial), e.entity_id);
      }
      b.put(std::move(key), std::move(text));
      return facets(b, customer, {}, d, false);
    }
    auto found = b.doc(key);
    if (!found) return std::unexpected(found.error());
    const auto& doc = *found;
    if (doc->is_null()) return {};
    object& d = doc->as_object();
    const object before = d;
    if (e.type == et::asset_changed) {
      apply_changed(d, e.data);
      const std::string old_serial(support::string_of(before, "serial_no"));
      const std::string new_serial(support::string_of(d, "serial_no"));
      if (old_serial != new_serial) {
        if (!old_serial.empty()) b.del(keys::key("sn/", old_serial));
        if (!new_serial.empty()) b.put(keys::key("sn/", new_serial), e.entity_id);
      }
      if (auto ok = facets(b, customer, before, d, false); !ok) return ok;
    } else if (e.type == et::asset_moved) {
      b.del(keys::key("sa/", e.data.string_at("from_site_id"), e.entity_id));
      d["site_id"] = e.data.string_at("to_site_id");
    } else if (e.type == et::asset_retired) {
      d["status"] = k_asset_retired;
      if (auto ok = facets(b, customer, before, {}, true); !ok) return ok;
    }
    stamp(d, e, false);
    doc.changed();
    b.put(site_entry(d, e.entity_id), to_json(d));
    return {};
  }

 private:
  // The asset's entry in its site's list: sa/<site>/<asset> -> the asset document itself, so
  // that a page of a site's assets is one scan of adjacent keys (20 documents read one by one
  // cost a block-cache lookup and a block search each). Written with every change of the
  // document. Entries written by earlier releases are empty: queries then read the document.
  static std::string site_entry(const object& d, const std::string& asset) {
    return keys::key("sa/", support::string_of(d, "site_id"), asset);
  }

  // The equipment facets of customer search: counts of live assets per product class / brand.
  static result<void> facets(batch& b, const std::string& customer, const object& before,
                             const object& after, bool retired) {
    const auto terms = [](const object& d) {
      std::vector<std::string> out;
      for (auto m : {"product_class", "brand"}) {
        if (auto it = d.find(m);
            it != d.end() && it->second.is_string() && !it->second.as_string().empty()) {
          out.push_back(lower(it->second.as_string()));
        }
      }
      return out;
    };
    const auto add = [&](const std::string& term, std::int64_t delta) -> result<void> {
      const auto key = keys::key("eq/", customer, term);
      auto current = b.get(key);
      if (!current) return std::unexpected(current.error());
      const std::int64_t n = (*current ? std::stoll(**current) : 0) + delta;
      if (n <= 0) {
        b.del(key);
      } else {
        b.put(key, std::to_string(n));
      }
      return {};
    };
    for (const auto& t : terms(before)) {
      if (auto ok = add(t, -1); !ok) return ok;
    }
    if (retired) return {};
    for (const auto& t : terms(after)) {
      if (auto ok = add(t, 1); !ok) return ok;
    }
    return {};
  }
};

class parts_view final : public view {
 public:
  std::string_view name() const override { return "parts"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("asset-part.")) return {};
    const auto key = keys::key(keys::part_prefix, e.entity_id);
    if (e.type == et::part_added) {
      auto d = new_doc(e);
      d["asset_id"] = e.data.string_at("asset_id");
      b.put(key, to_json(d));
      b.put(keys::key("ap/", e.data.string_at("asset_id"), e.entity_id), "");
      return {};
    }
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    if (doc->is_null()) return {};
    if (e.type == et::part_changed) {
      apply_changed(doc->as_object(), e.data);
      stamp(doc->as_object(), e, false);
      b.put(key, to_json(*doc));
    } else if (e.type == et::part_removed) {
      b.del(key);
      b.del(keys::key("ap/", doc->string_at("asset_id"), e.entity_id));
    }
    return {};
  }
};

// Children by parent, from the parent_id of customer registrations and changes.
class children_view final : public view {
 public:
  std::string_view name() const override { return "children"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    const auto& child = e.customer.get();
    if (e.type == et::customer_registered) {
      const value* f = e.data.find("fields");
      const auto parent = f != nullptr ? f->string_at("parent_id") : std::string_view{};
      if (!parent.empty()) b.put(keys::key("ch/", parent, child), "");
    } else if (e.type == et::customer_details_changed) {
      const value* changed = e.data.find("changed");
      if (changed == nullptr || changed->find("parent_id") == nullptr) return {};
      const value* previous = e.data.find("previous");
      const auto old_parent =
          previous != nullptr ? previous->string_at("parent_id") : std::string_view{};
      const auto new_parent = changed->string_at("parent_id");
      if (!old_parent.empty()) b.del(keys::key("ch/", old_parent, child));
      if (!new_parent.empty()) b.put(keys::key("ch/", new_parent, child), "");
    }
    return {};
  }
};

// The product catalogue: documents by code and the words of code, brand, model and class.
class products_view final : public view {
 public:
  std::string_view name() const override { return "products"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("product.")) return {};
    const auto key = keys::key("pr/", e.entity_id);
    auto doc = load(b, key);
    if (!doc) return std::unexpected(doc.error());
    object d;
    std::set<std::string> before;
    if (e.type == et::product_created) {
      if (const value* f = e.data.find("fields"); f != nullptr && f->is_object())
        d = f->as_object();
      stamp(d, e, true);
    } else {
      if (doc->is_null()) return {};
      d = doc->as_object();
      before = words(d);
      apply_changed(d, e.data);
      stamp(d, e, false);
    }
    const auto after = words(d);
    for (const auto& w : before) {
      if (!after.contains(w)) b.del(keys::word("pw/", w, e.entity_id));
    }
    for (const auto& w : after) b.put(keys::word("pw/", w, e.entity_id), "");
    b.put(key, to_json(d));
    return {};
  }

  static std::set<std::string> words(const object& d) {
    std::set<std::string> out;
    for (auto m : {"code", "brand", "model", "product_class"}) {
      if (auto it = d.find(m); it != d.end() && it->second.is_string()) {
        for (auto& w : words_of(it->second.as_string())) out.insert(std::move(w));
      }
    }
    return out;
  }
};

// The customer that owns each contact, site, asset and part; kept after removal, so that the
// history of a removed entity can still be found.
class owners_view final : public view {
 public:
  std::string_view name() const override { return "owners"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const auto& t = re.e.type;
    if (t == et::contact_added || t == et::site_added || t == et::asset_registered ||
        t == et::part_added || t == et::note_added || t == et::work_order_created ||
        t == et::file_attached /* files */) {
      b.put(keys::key("ow/", re.e.entity_id), re.e.customer.get());
    }
    return {};
  }
};

}  // namespace

std::vector<std::unique_ptr<view>> make_equipment_views() {
  std::vector<std::unique_ptr<view>> out;
  out.push_back(std::make_unique<assets_view>());  // before sites: a retiring asset's site
  out.push_back(std::make_unique<sites_view>());
  out.push_back(std::make_unique<parts_view>());
  out.push_back(std::make_unique<children_view>());
  out.push_back(std::make_unique<products_view>());
  out.push_back(std::make_unique<owners_view>());
  return out;
}

}  // namespace fieldledger::projections

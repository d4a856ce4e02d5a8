// The files view: metadata of the files of each customer, site and asset (the content is in
// the blob store). Keys:
//   fd/<file id>                   -> file document (removed files: absent)
//   fo/<file id>                   -> the list order of the file (inverted offset, 19 digits)
//   fc/<customer id>/<order>       -> file id   every file of the customer, newest first
//   fs/<site id>/<order>           -> file id   files attached to the site
//   fa/<asset id>/<order>          -> file id   files attached to the asset
// A customer's events share one partition, so the offset of file.attached orders its files.
#include <cstdio>
#include <limits>

#include "domain/customer.hpp"
#include "projections/keys.hpp"
#include "projections/view.hpp"
#include "projections/view_support.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;

namespace {

std::string order_of(std::int64_t offset) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%019lld",
                static_cast<long long>(std::numeric_limits<std::int64_t>::max() - offset));
  return digits;
}

// The list index keys of a file document.
std::vector<std::string> index_keys(const value& doc, const std::string& order) {
  std::vector<std::string> out{keys::key("fc/", doc.string_at("customer_id"), order)};
  if (const auto site = doc.string_at("site_id"); !site.empty()) {
    out.push_back(keys::key("fs/", site, order));
  }
  if (const auto asset = doc.string_at("asset_id"); !asset.empty()) {
    out.push_back(keys::key("fa/", asset, order));
  }
  return out;
}

class files_view final : public view {
 public:
  std::string_view name() const override { return "files"; }

  result<void> apply(const recorded_event& re, batch& b) override {
    const event& e = re.e;
    if (!e.type.starts_with("file.")) return {};
    const auto doc_key = keys::key("fd/", e.entity_id);
    const auto order_key = keys::key("fo/", e.entity_id);
    if (e.type == et::file_attached) {
      object d;
      if (const value* f = e.data.find("fields"); f != nullptr && f->is_object()) {
        d = f->as_object();
      }
      d["id"] = e.entity_id;
      d["customer_id"] = e.customer.get();
      support::stamp(d, e, true);
      const std::string order = order_of(re.position.offset.get());
      for (auto& k : index_keys(value(d), order)) b.put(std::move(k), e.entity_id);
      b.put(doc_key, to_json(d));
      b.put(order_key, order);
      return {};
    }
    auto doc = support::load(b, doc_key);
    if (!doc) return std::unexpected(doc.error());
    auto order = b.get(order_key);
    if (!order) return std::unexpected(order.error());
    if (doc->is_null() || !*order) return {};
    if (e.type == et::file_removed) {
      for (auto& k : index_keys(*doc, **order)) b.del(std::move(k));
      b.del(doc_key);
      b.del(order_key);
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<view> make_files_view() { return std::make_unique<files_view>(); }

}  // namespace fieldledger::projections

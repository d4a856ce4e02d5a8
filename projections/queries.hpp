#pragma once
// Queries over the views (never the write model). Documents are returned as JSON text,
// rendered once by the projections, so a GET is a key lookup.
//
// Customer document: {"id","number","status","version", <customer fields>,
//   "created_at","created_by","modified_at","modified_by",
//   "primary_contact": {"id","name","title","email","phone","mobile"} | null,
//   "counts": {"contacts": N}}           (N counts contacts not removed)
// Contact document: {"id","customer_id","version","primary": bool, <contact fields>,
//   "created_at","created_by","modified_at","modified_by"}
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer.hpp"
#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

inline constexpr std::size_t k_default_page = 50;
inline constexpr std::size_t k_max_page = 500;

struct page {
  std::vector<std::string> items;  // JSON documents
  std::string next_cursor;         // "" when this is the last page
};

struct customer_filter {
  std::string q;  // every word of q prefixes some word of name, dba_name, number, external_id
  std::string city, industry, type, zone,
      status;             // exact, case-insensitive; status "" = not archived
  std::string equipment;  // a product class or brand of a live asset of the customer
  std::size_t limit = k_default_page;
  std::string cursor;  // from a previous page's next_cursor
};

struct contact_filter {
  std::string q;         // every word prefixes some word of name, email, phone, mobile
  std::string customer;  // a customer id, or words matched against customer names
  std::string role;      // one of k_contact_roles
  std::size_t limit = k_default_page;
  std::string cursor;
};

struct asset_filter {
  std::string product_class, brand, status;  // exact, case-insensitive
  std::size_t limit = k_default_page;
  std::string cursor;
};

// Notes, work orders and service history are listed under a customer, a site or an asset.
enum class listed_under { customer, site, asset };

struct work_order_filter {
  std::string status, priority;  // exact ("" = any)
  std::size_t limit = k_default_page;
  std::string cursor;
};

class queries {
 public:
  explicit queries(const view_store& store) : store_(store) {}

  [[nodiscard]] domain::result<std::optional<std::string>> customer(
      const domain::customer_id& id) const;
  [[nodiscard]] domain::result<std::optional<std::string>> contact(
      const domain::contact_id& id) const;
  // not_found when the customer does not exist or has no primary contact (detail says which).
  [[nodiscard]] domain::result<std::string> primary_contact(const domain::customer_id& id) const;
  [[nodiscard]] domain::result<page> customers(const customer_filter& f) const;
  // not_found when the customer does not exist.
  [[nodiscard]] domain::result<page> contacts_of(const domain::customer_id& id, std::size_t limit,
                                                 const std::string& cursor) const;
  [[nodiscard]] domain::result<page> contacts(const contact_filter& f) const;

  // A site document with "contacts": the contacts linked to it.
  [[nodiscard]] domain::result<std::optional<std::string>> site(const domain::site_id& id) const;
  // not_found when the customer does not exist.
  [[nodiscard]] domain::result<page> sites_of(const domain::customer_id& id, std::size_t limit,
                                              const std::string& cursor) const;
  [[nodiscard]] domain::result<std::optional<std::string>> asset(const domain::asset_id& id) const;
  // not_found when the site does not exist.
  [[nodiscard]] domain::result<page> assets_of_site(const domain::site_id& id,
                                                    const asset_filter& f) const;
  [[nodiscard]] domain::result<page> assets_of_customer(const domain::customer_id& id,
                                                        const asset_filter& f) const;
  // The asset with this serial number (a page of zero or one).
  [[nodiscard]] domain::result<page> assets_by_serial(std::string_view serial) const;
  [[nodiscard]] domain::result<std::optional<std::string>> part(const domain::part_id& id) const;
  // not_found when the asset does not exist.
  [[nodiscard]] domain::result<page> parts_of(const domain::asset_id& id, std::size_t limit,
                                              const std::string& cursor) const;
  [[nodiscard]] domain::result<std::optional<std::string>> product(std::string_view code) const;
  // Every word of q prefixes a word of the product's code, brand, model or class ("" = all).
  [[nodiscard]] domain::result<page> products(const std::string& q, std::size_t limit,
                                              const std::string& cursor) const;
  [[nodiscard]] domain::result<page> children_of(const domain::customer_id& id, std::size_t limit,
                                                 const std::string& cursor) const;

  // ---- notes, work orders, notification recipients, summary (queries of service_views) ----
  [[nodiscard]] domain::result<std::optional<std::string>> note(std::string_view id) const;
  // Urgent notes first, then newest first. not_found when the owner does not exist.
  [[nodiscard]] domain::result<page> notes(listed_under under, std::string_view id,
                                           std::size_t limit, const std::string& cursor) const;
  [[nodiscard]] domain::result<std::optional<std::string>> work_order(std::string_view id) const;
  // Newest first. not_found when the owner does not exist.
  [[nodiscard]] domain::result<page> work_orders(listed_under under, std::string_view id,
                                                 const work_order_filter& f) const;
  // The contacts to notify of `kind` (a key of a contact's notify: work_orders,
  // quote_approvals, completions, invoices): those that opted in (for quote approvals only
  // those with the approval_authority role), the contacts of site_id first; when nobody opted
  // in, the primary contact. {"kind","site_id","fallback":bool,"items":[contact + "reason"]}.
  // not_found for an unknown customer; invalid for a site that is not the customer's.
  [[nodiscard]] domain::result<std::string> notification_recipients(const domain::customer_id& id,
                                                                    std::string_view kind,
                                                                    std::string_view site_id) const;
  // A picklist document; a list without values yet answers {"name","version":0,"values":[]}.
  [[nodiscard]] domain::result<std::string> picklist(std::string_view name) const;
  // The customer, its primary contact, counts, urgent notes and recent_changes (JSON array
  // text, given by the caller from the history) in one document; nullopt for an unknown one.
  [[nodiscard]] domain::result<std::optional<std::string>> summary(
      const domain::customer_id& id, std::string_view recent_changes) const;
  // The store these queries read (live or as of an instant), for queries of other features
  // (projections/system_queries.hpp).
  const view_store& store() const noexcept { return store_; }
  // files (projections/file_queries.cpp): the metadata document of a file not removed:
  // {"id","customer_id","name","size","content_type","sha256","site_id"?,"asset_id"?,"version",
  //  "created_at","created_by","modified_at","modified_by"}.
  [[nodiscard]] domain::result<std::optional<std::string>> file(const domain::file_id& id) const;
  // The files of a customer (all of them, also those of its sites and assets), of a site or of
  // an asset, newest first. not_found when the owner does not exist.
  [[nodiscard]] domain::result<page> files_of(domain::file_owner kind, const std::string& owner,
                                              std::size_t limit, const std::string& cursor) const;
  // ---- geofences and the spatial index (projections/geo_queries.cpp) ----
  // The geofence document of a customer or site ({"kind","id","customer_id","geofence"}),
  // nullopt when it has none.
  [[nodiscard]] domain::result<std::optional<std::string>> geofence(std::string_view owner) const;
  // The geofences that contain the point, as geofence documents ordered by kind and id.
  [[nodiscard]] domain::result<page> containing(double lat, double lng) const;
  // Sites within radius_m of the point, nearest first (ties by id), at most limit: site
  // documents with "distance_m". Reads only the index cells that cover the disc.
  [[nodiscard]] domain::result<page> nearby(double lat, double lng, double radius_m,
                                            std::size_t limit) const;

 private:
  [[nodiscard]] domain::result<std::string> zone_at(const domain::value& site) const;
  // The customer's primary contact's document (nullopt when it has none).
  [[nodiscard]] domain::result<std::optional<std::string>> primary_contact_doc(
      const domain::customer_id& id) const;
  const view_store& store_;
};

}  // namespace fieldledger::projections

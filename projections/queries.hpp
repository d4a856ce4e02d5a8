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
  std::string q;       // every word of q prefixes some word of name, dba_name, number, external_id
  std::string city, industry, type, zone, status;  // exact, case-insensitive; status "" = not archived
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

class queries {
 public:
  explicit queries(const view_store& store) : store_(store) {}

  [[nodiscard]] domain::result<std::optional<std::string>> customer(const domain::customer_id& id) const;
  [[nodiscard]] domain::result<std::optional<std::string>> contact(const domain::contact_id& id) const;
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
  const view_store& store_;
};

}  // namespace fieldledger::projections

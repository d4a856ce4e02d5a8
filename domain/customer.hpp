#pragma once
// The customer aggregate: a customer and the contacts it owns. Commands about either are
// decided against one customer_state; all their events go to the customer's partition.
//
// Event payloads (the `data` of each event):
//   customer.registered        {"number": "C-000001", "fields": {...validated customer fields}}
//   customer.details-changed   {"changed": {field: new value or null}, "previous": {field: old or
//   null}} customer.deactivated | reactivated | archived   {"previous_status": "active"}
//   contact.added              {"fields": {...validated contact fields}}
//   contact.changed            {"changed": {...}, "previous": {...}}
//   contact.removed            {"name": "David Chen"}   (the name stays in history)
//   contact.primary-designated {"previous_contact_id": "<id>" | null}
//   site.added                 {"fields": {...}}
//   site.changed               {"changed", "previous"}
//   site.removed               {"name": "North Campus"}
//   asset.registered           {"fields": {...}}            (fields.site_id: where it is)
//   asset.changed              {"changed", "previous"}
//   asset.moved                {"from_site_id", "to_site_id"}
//   asset.retired              {"previous_status"}
//   asset-part.added           {"asset_id", "fields": {...}}
//   asset-part.changed         {"changed", "previous"}
//   asset-part.removed         {"asset_id", "name"}
//   product.created            {"fields": {...}}       (customer = k_catalogue, entity = code)
//   product.changed            {"changed", "previous"}
//   note.added                 {"fields": {text, urgent, site_id?, asset_id?}}
//   note.changed               {"changed", "previous"}
//   note.removed               {"text": first 80 characters}
//   work-order.created         {"number": "WO-000001", "fields": {site_id, asset_id?, summary,
//                               category?, priority, assignee?, contact_id?, contact_name?,
//                               status}}   (contact filled from the site contact / primary)
//   work-order.assigned        {"assignee", "previous_assignee" | null, "previous_status"}
//   work-order.completed       {"previous_status", "resolution"?}
//   work-order.cancelled       {"previous_status", "reason"?}
//   file.attached              {"fields": {name, size, content_type, sha256, site_id?, asset_id?}}
//   file.removed               {"name", "sha256"}           (the metadata stays in history)
// asset.registered also carries "filled_from_product": [names of the fields taken from the
// catalogue] when a known product_code filled what the request left out.
// Versions: customer events bump the customer's version; events of an owned entity (contact,
// site, asset, part) bump that entity's.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/geofence.hpp"
#include "domain/schema.hpp"
#include "domain/system.hpp"

namespace fieldledger::domain {

std::span<const field_spec> customer_fields();
std::span<const field_spec> contact_fields();
std::span<const field_spec> site_fields();
std::span<const field_spec> asset_fields();
std::span<const field_spec> part_fields();

std::span<const field_spec> product_fields();
std::span<const field_spec> note_fields();
std::span<const field_spec> work_order_fields();

// The product catalogue is not owned by a customer: its events are keyed by this pseudo
// customer id, so they share one partition and one total order.
inline constexpr std::string_view k_catalogue = "product-catalogue";

// Picklists (admin-managed value lists) are not owned by a customer either: their events are
// keyed by this pseudo customer id, entity = the list's name.
inline constexpr std::string_view k_picklists = "picklists";
// The lists and, per entity, the fields whose values they govern.
inline constexpr std::string_view k_picklist_names[] = {"customer_type", "industry", "category",
                                                        "service_zone", "product_class"};

struct picklist_state {
  entity_version version{0};
  std::map<std::string, bool, std::less<>> values;  // value -> retired
  friend bool operator==(const picklist_state&, const picklist_state&) = default;
};

// Asset status values (retired only through retire_asset).
inline constexpr std::string_view k_asset_in_service = "in_service";
inline constexpr std::string_view k_asset_retired = "retired";

// Customer status values.
inline constexpr std::string_view k_status_active = "active";
inline constexpr std::string_view k_status_inactive = "inactive";
inline constexpr std::string_view k_status_archived = "archived";

// Work-order status values: open (no assignee) -> assigned -> completed | cancelled.
inline constexpr std::string_view k_wo_open = "open";
inline constexpr std::string_view k_wo_assigned = "assigned";
inline constexpr std::string_view k_wo_completed = "completed";
inline constexpr std::string_view k_wo_cancelled = "cancelled";
inline constexpr std::string_view k_wo_priorities[] = {"low", "normal", "high", "urgent"};

struct audit_stamp {
  std::string at;  // RFC 3339
  std::string by;  // actor
  friend bool operator==(const audit_stamp&, const audit_stamp&) = default;
};

// The state of an entity a customer owns: contacts, sites, assets and parts share this shape.
struct contact_state {
  contact_id id;
  entity_version version{0};
  value fields{object{}};  // validated contact fields
  bool removed = false;    // removed contact / site / part, retired asset
  std::string parent;      // for a part: its asset id
  audit_stamp created, modified;
  friend bool operator==(const contact_state&, const contact_state&) = default;
};
using owned_state = contact_state;

struct customer_state {
  customer_id id;
  entity_version version{0};  // 0: does not exist
  std::string number;
  std::string status;                                          // k_status_*
  value fields{object{}};                                      // validated customer fields
  std::map<std::string, contact_state, std::less<>> contacts;  // by contact id, removed ones too
  std::string primary_contact;                                 // contact id, "" when none
  std::map<std::string, owned_state, std::less<>> sites, assets, parts;  // by id, removed too
  // Notes (removed ones too) and work orders (fields.status says where each is).
  std::map<std::string, owned_state, std::less<>> notes, work_orders;
  std::map<std::string, owned_state, std::less<>> files;  // files: by id, removed too
  audit_stamp created, modified;
  // systems (domain/system.cpp): fields {"type_id", "site_id"?, "values"}, removed ones too
  std::map<std::string, owned_state, std::less<>> systems;
  // Geofences (normal form, domain/geo.hpp) by owner: the customer's own id or a site's id.
  std::map<std::string, value, std::less<>> geofences;

  bool exists() const noexcept { return version.get() > 0; }
  const contact_state* find_contact(std::string_view id) const;
  // The live (not removed / retired) site, asset or part with this id, or nullptr.
  const owned_state* live_site(std::string_view id) const;
  const owned_state* live_asset(std::string_view id) const;
  const owned_state* live_part(std::string_view id) const;
  const owned_state* live_note(std::string_view id) const;
  const owned_state* work_order(std::string_view id) const;
  friend bool operator==(const customer_state&, const customer_state&) = default;
};

// ---- commands --------------------------------------------------------------------------
struct register_customer {
  value body;
};
struct change_customer {
  customer_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct deactivate_customer {
  customer_id id;
  std::optional<entity_version> if_match;
};
struct reactivate_customer {
  customer_id id;
  std::optional<entity_version> if_match;
};
struct archive_customer {
  customer_id id;
  std::optional<entity_version> if_match;
};
struct add_contact {
  customer_id customer;
  value body;
};
struct change_contact {
  contact_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct remove_contact {
  contact_id id;
  std::optional<entity_version> if_match;
};
struct make_primary_contact {
  contact_id id;
  std::optional<entity_version> if_match;
};

struct add_site {
  customer_id customer;
  value body;
};
struct change_site {
  site_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct remove_site {
  site_id id;
  std::optional<entity_version> if_match;
};
struct register_asset {
  customer_id customer;
  value body;
};
struct change_asset {
  asset_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct move_asset {
  asset_id id;
  site_id to;
  std::optional<entity_version> if_match;
};
struct retire_asset {
  asset_id id;
  std::optional<entity_version> if_match;
};
struct add_part {
  asset_id asset;
  value body;
};
struct change_part {
  part_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct remove_part {
  part_id id;
  std::optional<entity_version> if_match;
};

struct create_product {
  value body;
};
struct change_product {
  std::string code;
  value patch;
  std::optional<entity_version> if_match;
};

// Notes and work orders (ids of both are entity ids of the customer).
using note_id = named_type<std::string, struct note_id_tag>;
using work_order_id = named_type<std::string, struct work_order_id_tag>;
struct add_note {
  customer_id customer;
  value body;
};
struct change_note {
  note_id id;
  value patch;
  std::optional<entity_version> if_match;
};
struct remove_note {
  note_id id;
  std::optional<entity_version> if_match;
};
struct create_work_order {
  customer_id customer;
  value body;
};
// assign: body {"assignee"}; complete: {"resolution"?}; cancel: {"reason"?}.
enum class work_order_step { assign, complete, cancel };
struct move_work_order {
  work_order_id id;
  work_order_step step;
  value body;
  std::optional<entity_version> if_match;
};

// Picklists: body {"value": "..."}; adding a retired value reinstates it.
enum class picklist_step { add, retire };
struct change_picklist {
  std::string name;
  picklist_step step;
  value body;
  std::optional<entity_version> if_match;
};

// files: the content is already in the blob store; the command records its metadata.
enum class file_owner { customer, site, asset };
struct attach_file {
  file_owner kind = file_owner::customer;
  std::string owner;  // the id of the customer, site or asset the file is attached to
  value fields;       // {name, size, content_type, sha256}; name already sanitized
};
struct remove_file {
  file_id id;
  std::optional<entity_version> if_match;
};

using command = std::variant<
    register_customer, change_customer, deactivate_customer, reactivate_customer, archive_customer,
    add_contact, change_contact, remove_contact, make_primary_contact, add_site, change_site,
    remove_site, register_asset, change_asset, move_asset, retire_asset, add_part, change_part,
    remove_part, create_product, change_product,
    // notes and work orders
    add_note, change_note, remove_note, create_work_order, move_work_order,
    // picklists
    change_picklist,
    // systems (domain/system.hpp)
    create_system_type, change_system_type, assign_system, change_system, remove_system,
    reveal_system_secrets,
    // files
    attach_file, remove_file,
    // geofences (domain/geofence.hpp)
    set_customer_geofence, clear_customer_geofence, set_site_geofence, clear_site_geofence>;

// Facts beyond one customer that a decision needs; the write model provides them.
class decide_env {
 public:
  virtual ~decide_env() = default;
  // The customer holding this external id, if any.
  virtual std::optional<customer_id> external_id_owner(std::string_view external_id) const = 0;
  virtual bool customer_exists(const customer_id& id) const = 0;
  // Ids and numbers for new entities (so that decide stays deterministic under test).
  virtual std::string new_entity_id() = 0;
  virtual std::string next_customer_number() = 0;  // "C-000001", ...
  // The asset holding this serial number, if any (serials are unique across all customers).
  virtual std::optional<std::string> serial_owner(std::string_view /*serial*/) const {
    return std::nullopt;
  }
  // The catalogue entry of a product code, if any.
  virtual const owned_state* product(std::string_view /*code*/) const { return nullptr; }
  // The parent of a customer, if it has one (for the no-cycles rule).
  virtual std::optional<customer_id> parent_of(const customer_id& /*id*/) const {
    return std::nullopt;
  }
  // The next work-order (job) number: "WO-000001", ...
  virtual std::string next_work_order_number() = 0;
  // A picklist by name; nullptr when it has no values yet (then any value is accepted).
  virtual const picklist_state* picklist(std::string_view /*name*/) const { return nullptr; }
  // ---- systems (domain/system.cpp)
  // The system type with this id, if any.
  virtual const owned_state* system_type(std::string_view /*id*/) const { return nullptr; }
  // A secret value sealed for an event ({"sealed": <this>}), bound to associated_data; the
  // write model seals with the data directory's key. Unavailable when no key is configured.
  virtual result<std::string> seal(std::string_view /*plaintext*/,
                                   std::string_view /*associated_data*/) {
    return fail(errc::unavailable, "no secret key is configured; secrets cannot be stored");
  }
};

// Decides a command against the state of the customer it addresses (an empty state for
// register_customer). Returns the events to append, with type, customer, entity_id, subject,
// version and data set; the pipeline stamps id, time, actor and correlation. Returns an empty
// vector when the command changes nothing (a patch that sets what is already there).
// Errors: invalid/malformed fields, not_found (unknown contact or customer), conflict
// (external id taken, archived customer, wrong status for the transition), precondition_failed
// (if_match differs from the addressed entity's version).
[[nodiscard]] result<std::vector<event>> decide(const customer_state& state, const command& cmd,
                                                decide_env& env);

// Applies one event of this customer to its state. Events must come in log order.
void evolve(customer_state& state, const event& e);

// Applies a product.* event to the catalogue entry of its code (created when absent).
void evolve_product(owned_state& product, const event& e);

// Applies a picklist.* event to its list.
void evolve_picklist(picklist_state& list, const event& e);
// Applies a system-type.* event to the type (created when absent).
void evolve_system_type(owned_state& type, const event& e);
// The live (not removed) system with this id, or nullptr.
const owned_state* live_system(const customer_state& state, std::string_view id);

}  // namespace fieldledger::domain

#pragma once
// Events: past-tense facts. Their wire form is a CloudEvents 1.0 JSON envelope (infra/event_codec);
// here they are plain values. Every event of a customer and of what it owns carries that
// customer's id, which keys the log partition.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "domain/value.hpp"

namespace fieldledger::domain {

// Event types (CloudEvents "type" is "fieldledger." + these).
namespace event_types {
inline constexpr std::string_view customer_registered = "customer.registered";
inline constexpr std::string_view customer_details_changed = "customer.details-changed";
inline constexpr std::string_view customer_deactivated = "customer.deactivated";
inline constexpr std::string_view customer_reactivated = "customer.reactivated";
inline constexpr std::string_view customer_archived = "customer.archived";
inline constexpr std::string_view contact_added = "contact.added";
inline constexpr std::string_view contact_changed = "contact.changed";
inline constexpr std::string_view contact_removed = "contact.removed";
inline constexpr std::string_view contact_primary_designated = "contact.primary-designated";
inline constexpr std::string_view site_added = "site.added";
inline constexpr std::string_view site_changed = "site.changed";
inline constexpr std::string_view site_removed = "site.removed";
inline constexpr std::string_view asset_registered = "asset.registered";
inline constexpr std::string_view asset_changed = "asset.changed";
inline constexpr std::string_view asset_moved = "asset.moved";
inline constexpr std::string_view asset_retired = "asset.retired";
inline constexpr std::string_view part_added = "asset-part.added";
inline constexpr std::string_view part_changed = "asset-part.changed";
inline constexpr std::string_view part_removed = "asset-part.removed";
inline constexpr std::string_view product_created = "product.created";
inline constexpr std::string_view product_changed = "product.changed";
// notes and work orders
inline constexpr std::string_view note_added = "note.added";
inline constexpr std::string_view note_changed = "note.changed";
inline constexpr std::string_view note_removed = "note.removed";
inline constexpr std::string_view work_order_created = "work-order.created";
inline constexpr std::string_view work_order_assigned = "work-order.assigned";
inline constexpr std::string_view work_order_completed = "work-order.completed";
inline constexpr std::string_view work_order_cancelled = "work-order.cancelled";
// picklists
inline constexpr std::string_view picklist_value_added = "picklist.value-added";
inline constexpr std::string_view picklist_value_retired = "picklist.value-retired";
// systems (domain/system.hpp)
inline constexpr std::string_view system_type_created = "system-type.created";
inline constexpr std::string_view system_type_changed = "system-type.changed";
inline constexpr std::string_view system_assigned = "system.assigned";
inline constexpr std::string_view system_changed = "system.changed";
inline constexpr std::string_view system_removed = "system.removed";
inline constexpr std::string_view system_secret_revealed = "system.secret-revealed";
// files (content in the blob store, metadata here)
inline constexpr std::string_view file_attached = "file.attached";
inline constexpr std::string_view file_removed = "file.removed";
}  // namespace event_types

// 2: asset parts' events are "asset-part.*" (1 named them "part.*"; see json/event_codec.cpp).
inline constexpr int k_current_schema_version = 2;

struct event {
  std::string id;               // unique, time-sortable (new_id())
  std::string type;             // one of event_types
  customer_id customer;         // partition key: the owning customer
  std::string entity_id;        // the entity the event is about (customer or contact id)
  std::string subject;          // "customers/{id}" or "customers/{id}/contacts/{cid}"
  entity_version version;       // the entity's version after this event
  std::string time;             // RFC 3339 UTC
  std::string actor;            // API key name that caused it
  std::string correlation_id;   // the command that caused it (shared by its events)
  std::string idempotency_key;  // as sent by the client, "" if none
  std::string request_digest;   // hex digest of the request, set with idempotency_key
  int schema_version = k_current_schema_version;
  value data;  // object: the event's payload (see domain/customer.hpp)

  friend bool operator==(const event&, const event&) = default;
};

struct recorded_event {
  log_position position;
  event e;
};

// Recorded events held in common (by the recent-events log and its readers), not copied.
using shared_events = std::vector<std::shared_ptr<const recorded_event>>;

}  // namespace fieldledger::domain

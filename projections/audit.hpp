#pragma once
// Reads for auditors, computed from the log rather than the views: the history of a customer
// and of what it owns, the state as of an instant (the views replayed over that customer's
// events only), and the event feed for catch-up readers.
#include <memory>
#include <optional>
#include <string>

#include "domain/event_log.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/queries.hpp"

namespace fieldledger::projections {

struct history_filter {
  std::string entity;        // "contacts/{id}", "sites/{id}", … or "" for everything
  std::string type;          // an event type, e.g. "contact.changed"
  std::string since, until;  // RFC 3339, inclusive
  std::string actor;
  std::size_t limit = k_default_page;
  std::string cursor;
};

struct feed_filter {
  std::string after;  // a cursor from a previous page ("" = from the start)
  std::size_t limit = 500;
  std::vector<std::string> types;  // event types; empty = all
  std::string customer;            // a customer id, or "" for all
};

struct feed_page {
  std::vector<std::string> items;    // CloudEvents JSON documents, each with "position"
  std::vector<std::string> cursors;  // per item: the cursor to continue after it
  std::string next;                  // the cursor to continue after this page
};

// RFC 3339 UTC ("…Z", with or without fractions) in the form events carry
// ("YYYY-MM-DDTHH:MM:SS.mmmZ"), so that times compare as strings; nullopt when malformed.
std::optional<std::string> normalize_time(std::string_view text);

class audit {
 public:
  // Neither is owned; both must outlive the audit.
  audit(domain::event_log& log, const view_store& views) : log_(log), views_(views) {}

  // The customer owning a contact, site, asset or part (also after removal); any other id is
  // taken as a customer id.
  [[nodiscard]] domain::result<domain::customer_id> owner_of(std::string_view entity_id) const;

  // Every change to the customer and what it owns, newest first, from the history view:
  // {"time","actor","type","entity","position","changes":[{"field","before","after"}]}.
  // not_found when the customer has no events.
  [[nodiscard]] domain::result<page> history(const domain::customer_id& customer,
                                             const history_filter& f) const;

  // The views of one customer as they were at `as_of` (normalized time), computed from that
  // customer's events alone (found through the history view, read from the log).
  [[nodiscard]] domain::result<std::unique_ptr<memory_view_store>> as_of(
      const domain::customer_id& customer, const std::string& as_of) const;

  [[nodiscard]] domain::result<feed_page> events(const feed_filter& f) const;

 private:
  // The customer's events, in order: its offsets from the history view (the per-customer
  // index), its events read from the log at those offsets.
  [[nodiscard]] domain::result<std::vector<domain::recorded_event>> events_of(
      const domain::customer_id& customer) const;

  domain::event_log& log_;
  const view_store& views_;
};

}  // namespace fieldledger::projections

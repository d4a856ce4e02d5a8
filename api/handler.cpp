#include "api/handler.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include "api/files.hpp"
#include "api/problem.hpp"
#include "api/request_parts.hpp"
#include "domain/geo.hpp"
#include "json/parse.hpp"
#include "projections/system_queries.hpp"

namespace fieldledger::api {

using namespace fieldledger::domain;
using commands::command_outcome;

namespace {

// ---- responses -------------------------------------------------------------------------------

response json_response(const request& req, http::status status, std::string body) {
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// A stored document, with its version as ETag.
response document_response(const request& req, std::string doc) {
  auto res = json_response(req, http::status::ok, std::move(doc));
  if (const auto version = json::top_level_int(res.body(), "version")) {
    res.set(http::field::etag, etag(*version));
  }
  return res;
}

response page_response(const request& req, const projections::page& p) {
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < p.items.size(); ++i) {
    if (i > 0) body += ',';
    body += p.items[i];
  }
  body += "],\"next_cursor\":";
  if (p.next_cursor.empty()) {
    body += "null";
  } else {
    write_json_string(p.next_cursor, body);
  }
  body += '}';
  return json_response(req, http::status::ok, std::move(body));
}

response outcome_response(unsigned version, bool keep_alive, const command_outcome& o) {
  response res{static_cast<http::status>(o.status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  if (o.status == 201) res.set(http::field::location, o.location);
  res.set(http::field::etag, etag(o.version.get()));
  if (o.replayed) res.set("Idempotent-Replayed", "true");
  res.body() = to_json(o.body);
  res.prepare_payload();
  return res;
}

// ---- routes ----------------------------------------------------------------------------------

enum class route_id {
  healthz,
  readyz,
  customers,
  customer,
  customer_deactivate,
  customer_reactivate,
  customer_contacts,
  customer_primary_contact,
  contacts,
  contact,
  contact_make_primary,
  customer_sites,
  site,
  site_assets,
  customer_assets,
  assets,
  asset,
  asset_move,
  asset_parts,
  part,
  customer_children,
  products,
  product,
  customer_history,
  contact_history,
  site_history,
  asset_history,
  events,
  admin_projections,
  admin_rebuild,
  admin_keys,
  admin_key,
  batch,
  // notes, work orders, notification recipients, summary
  customer_notes,
  site_notes,
  asset_notes,
  note,
  customer_work_orders,
  work_order,
  work_order_assign,
  work_order_complete,
  work_order_cancel,
  customer_service_history,
  site_service_history,
  asset_service_history,
  notification_recipients,
  customer_summary,
  // picklists
  picklists,
  picklist,
  picklist_retire,
  // systems
  system_types,
  system_type,
  customer_systems,
  site_systems,
  system,
  system_reveal,
  system_history,
  // files
  customer_files,
  site_files,
  asset_files,
  file,
  file_metadata,
  // geofences and the spatial index
  customer_geofence,
  site_geofence,
  geo_containing,
  geo_nearby,
};

struct route {
  route_id id;
  // "*" matches an id segment, "+" any non-empty segment; "" ends the pattern
  std::array<std::string_view, 4> pattern;
  std::initializer_list<http::verb> methods;
};

const route k_routes[] = {
    {route_id::healthz, {"healthz"}, {http::verb::get}},
    {route_id::readyz, {"readyz"}, {http::verb::get}},
    {route_id::customers, {"v1", "customers"}, {http::verb::get, http::verb::post}},
    {route_id::customer,
     {"v1", "customers", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::customer_deactivate, {"v1", "customers", "*", "deactivate"}, {http::verb::post}},
    {route_id::customer_reactivate, {"v1", "customers", "*", "reactivate"}, {http::verb::post}},
    {route_id::customer_contacts,
     {"v1", "customers", "*", "contacts"},
     {http::verb::get, http::verb::post}},
    {route_id::customer_primary_contact,
     {"v1", "customers", "*", "primary-contact"},
     {http::verb::get}},
    {route_id::contacts, {"v1", "contacts"}, {http::verb::get}},
    {route_id::contact,
     {"v1", "contacts", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::contact_make_primary, {"v1", "contacts", "*", "make-primary"}, {http::verb::post}},
    {route_id::customer_sites,
     {"v1", "customers", "*", "sites"},
     {http::verb::get, http::verb::post}},
    {route_id::site,
     {"v1", "sites", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::site_assets, {"v1", "sites", "*", "assets"}, {http::verb::get}},
    {route_id::customer_assets,
     {"v1", "customers", "*", "assets"},
     {http::verb::get, http::verb::post}},
    {route_id::assets, {"v1", "assets"}, {http::verb::get}},
    {route_id::asset,
     {"v1", "assets", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::asset_move, {"v1", "assets", "*", "move"}, {http::verb::post}},
    {route_id::asset_parts, {"v1", "assets", "*", "parts"}, {http::verb::get, http::verb::post}},
    {route_id::part,
     {"v1", "asset-parts", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::customer_children, {"v1", "customers", "*", "children"}, {http::verb::get}},
    {route_id::products, {"v1", "products"}, {http::verb::get, http::verb::post}},
    {route_id::customer_history, {"v1", "customers", "*", "history"}, {http::verb::get}},
    {route_id::contact_history, {"v1", "contacts", "*", "history"}, {http::verb::get}},
    {route_id::site_history, {"v1", "sites", "*", "history"}, {http::verb::get}},
    {route_id::asset_history, {"v1", "assets", "*", "history"}, {http::verb::get}},
    {route_id::events, {"v1", "events"}, {http::verb::get}},
    {route_id::admin_projections, {"v1", "admin", "projections"}, {http::verb::get}},
    {route_id::admin_rebuild, {"v1", "admin", "projections", "rebuild"}, {http::verb::post}},
    {route_id::admin_keys, {"v1", "admin", "keys"}, {http::verb::get, http::verb::post}},
    {route_id::batch, {"v1", "batch"}, {http::verb::post}},
    {route_id::admin_key, {"v1", "admin", "keys", "+"}, {http::verb::get, http::verb::delete_}},
    {route_id::product, {"v1", "products", "+"}, {http::verb::get, http::verb::patch}},
    // notes, work orders, notification recipients, summary
    {route_id::customer_notes,
     {"v1", "customers", "*", "notes"},
     {http::verb::get, http::verb::post}},
    {route_id::site_notes, {"v1", "sites", "*", "notes"}, {http::verb::get}},
    {route_id::asset_notes, {"v1", "assets", "*", "notes"}, {http::verb::get}},
    {route_id::note,
     {"v1", "notes", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::customer_work_orders,
     {"v1", "customers", "*", "work-orders"},
     {http::verb::get, http::verb::post}},
    {route_id::work_order, {"v1", "work-orders", "*"}, {http::verb::get}},
    {route_id::work_order_assign, {"v1", "work-orders", "*", "assign"}, {http::verb::post}},
    {route_id::work_order_complete, {"v1", "work-orders", "*", "complete"}, {http::verb::post}},
    {route_id::work_order_cancel, {"v1", "work-orders", "*", "cancel"}, {http::verb::post}},
    {route_id::customer_service_history,
     {"v1", "customers", "*", "service-history"},
     {http::verb::get}},
    {route_id::site_service_history, {"v1", "sites", "*", "service-history"}, {http::verb::get}},
    {route_id::asset_service_history, {"v1", "assets", "*", "service-history"}, {http::verb::get}},
    {route_id::notification_recipients,
     {"v1", "customers", "*", "notification-recipients"},
     {http::verb::get}},
    {route_id::customer_summary, {"v1", "customers", "*", "summary"}, {http::verb::get}},
    // picklists
    {route_id::picklists, {"v1", "picklists"}, {http::verb::get}},
    {route_id::picklist, {"v1", "picklists", "+"}, {http::verb::get, http::verb::post}},
    {route_id::picklist_retire, {"v1", "picklists", "+", "retire"}, {http::verb::post}},
    // systems
    {route_id::system_types, {"v1", "system-types"}, {http::verb::get, http::verb::post}},
    {route_id::system_type, {"v1", "system-types", "*"}, {http::verb::get, http::verb::patch}},
    {route_id::customer_systems,
     {"v1", "customers", "*", "systems"},
     {http::verb::get, http::verb::post}},
    {route_id::site_systems, {"v1", "sites", "*", "systems"}, {http::verb::get}},
    {route_id::system,
     {"v1", "systems", "*"},
     {http::verb::get, http::verb::patch, http::verb::delete_}},
    {route_id::system_reveal, {"v1", "systems", "*", "reveal"}, {http::verb::post}},
    {route_id::system_history, {"v1", "systems", "*", "history"}, {http::verb::get}},
    // files
    {route_id::customer_files,
     {"v1", "customers", "*", "files"},
     {http::verb::get, http::verb::post}},
    {route_id::site_files, {"v1", "sites", "*", "files"}, {http::verb::get, http::verb::post}},
    {route_id::asset_files, {"v1", "assets", "*", "files"}, {http::verb::get, http::verb::post}},
    {route_id::file, {"v1", "files", "*"}, {http::verb::get, http::verb::delete_}},
    {route_id::file_metadata, {"v1", "files", "*", "metadata"}, {http::verb::get}},
    // geofences and the spatial index
    {route_id::customer_geofence,
     {"v1", "customers", "*", "geofence"},
     {http::verb::get, http::verb::put, http::verb::delete_}},
    {route_id::site_geofence,
     {"v1", "sites", "*", "geofence"},
     {http::verb::get, http::verb::put, http::verb::delete_}},
    {route_id::geo_containing, {"v1", "geo", "containing"}, {http::verb::get}},
    {route_id::geo_nearby, {"v1", "geo", "nearby"}, {http::verb::get}},
};

const route* match(const std::vector<std::string>& segments) {
  for (const auto& r : k_routes) {
    std::size_t n = 0;
    while (n < r.pattern.size() && !r.pattern[n].empty()) ++n;
    if (n != segments.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i) {
      ok = r.pattern[i] == "*" || (r.pattern[i] == "+" && !segments[i].empty()) ||
           r.pattern[i] == segments[i];
    }
    if (ok) return &r;
  }
  return nullptr;
}

std::string allow_header(const route& r) {
  std::string out;
  for (auto m : r.methods) {
    if (!out.empty()) out += ", ";
    out += std::string(http::to_string(m));
  }
  return out;
}

bool media_type_is(std::string_view header, std::string_view type) {
  const auto semi = header.find(';');
  auto t = header.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.size() != type.size()) return false;
  return std::equal(t.begin(), t.end(), type.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

// True when some media range of Accept is one of types.
bool accept_names(const request& req, std::initializer_list<std::string_view> types) {
  const auto it = req.find(http::field::accept);
  if (it == req.end()) return false;
  std::string_view accept(it->value().data(), it->value().size());
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    auto item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    for (auto t : types) {
      if (media_type_is(item, t)) return true;
    }
  }
  return false;
}

// True when Accept (absent = anything) admits JSON answers.
bool accepts_json(const request& req) {
  return req.find(http::field::accept) == req.end() ||
         accept_names(req,
                      {"*/*", "application/*", "application/json", "application/problem+json"});
}

// True when Accept names text/event-stream (a live event stream).
bool wants_event_stream(const request& req) { return accept_names(req, {"text/event-stream"}); }

// What a request needs its key's role to allow.
permission needed(route_id id, http::verb method, const target& t) {
  switch (id) {
    case route_id::admin_projections:
    case route_id::admin_rebuild:
    case route_id::admin_keys:
    case route_id::admin_key:
      return permission::admin;
    case route_id::picklist:
    case route_id::picklist_retire:  // admin-managed; everyone reads them
      return method == http::verb::get ? permission::read : permission::admin;
    case route_id::customer_history:
    case route_id::contact_history:
    case route_id::site_history:
    case route_id::asset_history:
    case route_id::events:
      return permission::audit;
    // systems: the type catalogue is the admin's; a reveal too; a system's history the auditors'
    case route_id::system_types:
    case route_id::system_type:
      return method == http::verb::get ? permission::read : permission::admin;
    case route_id::system_reveal:
      return permission::admin;
    case route_id::system_history:
      return permission::audit;
    default:
      if (method != http::verb::get) return permission::write;
      return t.query.contains("as_of") ? permission::audit : permission::read;
  }
}

// True when the body (if any) is of a media type commands read.
bool command_media_type_ok(const request& req) {
  if (req.body().empty()) return true;
  const auto ct = req.find(http::field::content_type);
  if (ct == req.end()) return false;
  const std::string_view type(ct->value().data(), ct->value().size());
  return media_type_is(type, "application/json") ||
         (req.method() == http::verb::patch && media_type_is(type, "application/merge-patch+json"));
}

// The command half of a request: actor and Idempotency-Key.
result<commands::command_meta> command_meta_of(const request& req, const principal& who) {
  commands::command_meta meta;
  meta.actor = who.name;
  if (const auto it = req.find("Idempotency-Key"); it != req.end()) {
    const std::string_view key(it->value().data(), it->value().size());
    const bool printable = std::ranges::all_of(key, [](char c) { return c > 0x20 && c < 0x7f; });
    if (key.empty() || key.size() > 255 || !printable) {
      return fail(errc::malformed, "Idempotency-Key must be 1 to 255 visible ASCII characters",
                  {{"Idempotency-Key", "1 to 255 visible ASCII characters"}});
    }
    meta.idempotency_key = key;
    meta.request_digest = request_digest(req);
  }
  return meta;
}

// One request being answered: what the routes need, shared with asynchronous completions.
// Where a batch's commands go instead of the pipeline.
using capture_fn = std::function<void(command, commands::command_meta)>;

struct exchange {
  const services& s;
  const handler_options& o;
  request req;
  responder respond;
  stream_responder stream;
  target t;
  principal who;
  std::string as_of_entity;  // whose customer an as_of query replays; "" = as_of not allowed
  capture_fn capture;        // set for a command of a batch

  void fail_with(const error& e) { respond(problem(req, e)); }

  // Runs query once the views have applied the request's X-Min-Position (if any).
  using query_fn = std::function<response(const request&, const projections::queries&)>;

  // Runs a query: over the live views once they have applied the request's X-Min-Position
  // (if any), or, with as_of, over the views of as_of_entity's customer as they were then.
  void query(query_fn run) {
    if (const auto it = t.query.find("as_of"); it != t.query.end()) {
      const auto when = projections::normalize_time(it->second);
      if (!when) {
        return fail_with(error{errc::invalid,
                               "as_of is not an RFC 3339 UTC time",
                               {{"as_of", "e.g. 2026-03-01T00:00:00Z"}},
                               {}});
      }
      // Replayed from the customer's events, found through the history view once it has
      // applied the request's X-Min-Position (if any).
      run = [&audit = s.audit, entity = as_of_entity, when = *when, run = std::move(run)](
                const request& r, const projections::queries&) {
        auto owner = audit.owner_of(entity);
        if (!owner) return problem(r, owner.error());
        auto past = audit.as_of(*owner, when);
        if (!past) return problem(r, past.error());
        const projections::queries then(**past);
        return run(r, then);
      };
    }
    auto positions = min_position(req, t);
    if (!positions) return fail_with(positions.error());
    if (positions->empty()) return respond(run(req, s.queries));
    for (const auto& p : *positions) {
      if (p.partition.get() >= s.runner.applied().size()) {
        return fail_with(error{errc::malformed,
                               "the position names no partition of this log",
                               {{"X-Min-Position", "unknown partition"}},
                               {}});
      }
    }
    const projections::queries& live = s.queries;
    wait_then(s.runner, std::make_shared<request>(std::move(req)), respond, std::move(*positions),
              std::chrono::steady_clock::now() + o.min_position_wait,
              [run = std::move(run), &live](const request& r) { return run(r, live); });
  }

  // Waits for each position in turn (all before one deadline), then runs the query.
  static void wait_then(projections::runner& runner, std::shared_ptr<request> req,
                        responder respond, std::vector<log_position> positions,
                        std::chrono::steady_clock::time_point deadline,
                        std::function<response(const request&)> run) {
    if (positions.empty()) return respond(run(*req));
    const auto next = positions.back();
    positions.pop_back();
    runner.when_applied(
        next, deadline,
        [&runner, req, respond, positions = std::move(positions), deadline,
         run = std::move(run)](bool applied) mutable {
          if (!applied) {
            return respond(problem(*req, error{errc::unavailable,
                                               "the views have not applied the requested position "
                                               "yet. Hint: retry after Retry-After seconds.",
                                               {},
                                               {}}));
          }
          wait_then(runner, req, respond, std::move(positions), deadline, std::move(run));
        });
  }

  void command(command cmd) {
    auto meta = command_meta_of(req, who);
    if (!meta) return fail_with(meta.error());
    if (capture) return capture(std::move(cmd), std::move(*meta));
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto shared = std::make_shared<request>(std::move(req));
    s.pipeline.submit(std::move(cmd), std::move(*meta),
                      [shared, version, keep_alive, respond = respond](result<command_outcome> r) {
                        if (!r) return respond(problem(*shared, r.error()));
                        respond(outcome_response(version, keep_alive, *r));
                      });
  }
};

template <typename T>
bool check(exchange& x, const result<T>& r) {
  if (r) return true;
  x.fail_with(r.error());
  return false;
}

// ---- customers -------------------------------------------------------------------------------

void customers(exchange& x) {
  if (x.req.method() == http::verb::post) {
    if (!check(x, check_params(x.t, {}))) return;
    auto body = json_body(x.req);
    if (!check(x, body)) return;
    return x.command(register_customer{std::move(*body)});
  }
  if (!check(x, check_params(x.t, {"q", "city", "industry", "type", "zone", "status", "equipment",
                                   "limit", "cursor", "min_position"})))
    return;
  projections::customer_filter f;
  const auto get = [&](std::string_view k) {
    const auto it = x.t.query.find(k);
    return it == x.t.query.end() ? std::string{} : it->second;
  };
  f.q = get("q");
  f.city = get("city");
  f.industry = get("industry");
  f.type = get("type");
  f.zone = get("zone");
  f.status = get("status");
  f.equipment = get("equipment");
  f.cursor = get("cursor");
  if (!f.status.empty() && f.status != k_status_active && f.status != k_status_inactive &&
      f.status != k_status_archived) {
    return x.fail_with(error{errc::invalid,
                             "unknown status filter",
                             {{"status", "one of active, inactive, archived"}},
                             {}});
  }
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  f.limit = *limit;
  x.query([f](const request& req, const projections::queries& q) {
    auto p = q.customers(f);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void customer(exchange& x, const std::string& id) {
  const customer_id cid{id};
  if (x.req.method() == http::verb::get) {
    if (!check(x, check_params(x.t, {"min_position", "as_of"}))) return;
    x.as_of_entity = id;
    return x.query([cid](const request& req, const projections::queries& q) {
      auto doc = q.customer(cid);
      if (!doc) return problem(req, doc.error());
      if (!*doc)
        return problem(req,
                       error{errc::not_found, "no customer with id \"" + cid.get() + "\"", {}, {}});
      return document_response(req, std::move(**doc));
    });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(archive_customer{cid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_customer{cid, std::move(*patch), *match});
}

void customer_status(exchange& x, const std::string& id, bool activate) {
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  const customer_id cid{id};
  if (activate) return x.command(reactivate_customer{cid, *match});
  x.command(deactivate_customer{cid, *match});
}

void customer_contacts(exchange& x, const std::string& id) {
  const customer_id cid{id};
  if (x.req.method() == http::verb::post) {
    if (!check(x, check_params(x.t, {}))) return;
    auto body = json_body(x.req);
    if (!check(x, body)) return;
    return x.command(add_contact{cid, std::move(*body)});
  }
  if (!check(x, check_params(x.t, {"limit", "cursor", "min_position", "as_of"}))) return;
  x.as_of_entity = id;
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  const auto it = x.t.query.find("cursor");
  std::string cursor = it == x.t.query.end() ? std::string{} : it->second;
  x.query([cid, n = *limit, cursor](const request& req, const projections::queries& q) {
    auto p = q.contacts_of(cid, n, cursor);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void primary_contact(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {"min_position"}))) return;
  x.query([cid = customer_id{id}](const request& req, const projections::queries& q) {
    auto doc = q.primary_contact(cid);
    return doc ? document_response(req, std::move(*doc)) : problem(req, doc.error());
  });
}

// ---- contacts --------------------------------------------------------------------------------

void contacts(exchange& x) {
  if (!check(x, check_params(x.t, {"q", "customer", "role", "limit", "cursor", "min_position"})))
    return;
  projections::contact_filter f;
  const auto get = [&](std::string_view k) {
    const auto it = x.t.query.find(k);
    return it == x.t.query.end() ? std::string{} : it->second;
  };
  f.q = get("q");
  f.customer = get("customer");
  f.role = get("role");
  f.cursor = get("cursor");
  if (!f.role.empty() && std::ranges::find(k_contact_roles, f.role) == std::end(k_contact_roles)) {
    std::string list;
    for (auto r : k_contact_roles) list += (list.empty() ? "" : ", ") + std::string(r);
    return x.fail_with(
        error{errc::invalid, "unknown role filter", {{"role", "one of " + list}}, {}});
  }
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  f.limit = *limit;
  x.query([f](const request& req, const projections::queries& q) {
    auto p = q.contacts(f);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void contact(exchange& x, const std::string& id) {
  const contact_id cid{id};
  if (x.req.method() == http::verb::get) {
    if (!check(x, check_params(x.t, {"min_position", "as_of"}))) return;
    x.as_of_entity = id;
    return x.query([cid](const request& req, const projections::queries& q) {
      auto doc = q.contact(cid);
      if (!doc) return problem(req, doc.error());
      if (!*doc)
        return problem(req,
                       error{errc::not_found, "no contact with id \"" + cid.get() + "\"", {}, {}});
      return document_response(req, std::move(**doc));
    });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(remove_contact{cid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_contact{cid, std::move(*patch), *match});
}

void make_primary(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  x.command(make_primary_contact{contact_id{id}, *match});
}

// ---- sites, assets, parts ---------------------------------------------------------------------

std::string param(const exchange& x, std::string_view k) {
  const auto it = x.t.query.find(k);
  return it == x.t.query.end() ? std::string{} : it->second;
}

// GET of one document, 404 naming what is missing.
template <typename Id, typename Lookup>
void get_document(exchange& x, Id id, std::string what, Lookup lookup) {
  if (x.as_of_entity.empty()) {
    if (!check(x, check_params(x.t, {"min_position"}))) return;
  } else if (!check(x, check_params(x.t, {"min_position", "as_of"}))) {
    return;
  }
  x.query([lookup, id, what](const request& req, const projections::queries& q) {
    auto doc = lookup(q, id);
    if (!doc) return problem(req, doc.error());
    if (!*doc) {
      return problem(
          req, error{errc::not_found, "no " + what + " with id \"" + id.get() + "\"", {}, {}});
    }
    return document_response(req, std::move(**doc));
  });
}

// GET of a page: limit and cursor, plus extra parameters.
template <typename List>
void get_page(exchange& x, std::initializer_list<std::string_view> extra, List list) {
  std::vector<std::string_view> allowed{"limit", "cursor", "min_position"};
  if (!x.as_of_entity.empty()) allowed.push_back("as_of");
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  for (const auto& [name, v] : x.t.query) {
    if (std::ranges::find(allowed, name) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return x.fail_with(error{errc::malformed,
                               "unknown query parameter \"" + name + "\"",
                               {{name, "unknown parameter; this route takes: " + names}},
                               {}});
    }
  }
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  x.query([list, n = *limit, cursor = param(x, "cursor")](const request& req,
                                                          const projections::queries& q) {
    auto p = list(q, n, cursor);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

// A create (POST body) or change (PATCH body) or delete command of an owned entity.
template <typename Make>
void body_command(exchange& x, Make make) {
  if (!check(x, check_params(x.t, {}))) return;
  auto body = json_body(x.req);
  if (!check(x, body)) return;
  x.command(make(std::move(*body)));
}

void customer_sites(exchange& x, const std::string& id) {
  const customer_id cid{id};
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) { return add_site{cid, std::move(body)}; });
  }
  x.as_of_entity = id;
  get_page(x, {}, [cid](const projections::queries& q, std::size_t n, const std::string& c) {
    return q.sites_of(cid, n, c);
  });
}

std::optional<projections::asset_filter> asset_filter_of(const exchange& x) {
  projections::asset_filter f;
  f.product_class = param(x, "product_class");
  f.brand = param(x, "brand");
  f.status = param(x, "status");
  return f;
}

void site(exchange& x, const std::string& id) {
  const site_id sid{id};
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(x, sid, "site",
                        [](const projections::queries& q, const site_id& i) { return q.site(i); });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(remove_site{sid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_site{sid, std::move(*patch), *match});
}

void site_assets(exchange& x, const std::string& id) {
  auto f = *asset_filter_of(x);
  get_page(
      x, {"product_class", "brand", "status"},
      [sid = site_id{id}, f](const projections::queries& q, std::size_t n, const std::string& c) {
        auto g = f;
        g.limit = n;
        g.cursor = c;
        return q.assets_of_site(sid, g);
      });
}

void customer_assets(exchange& x, const std::string& id) {
  const customer_id cid{id};
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) { return register_asset{cid, std::move(body)}; });
  }
  x.as_of_entity = id;
  auto f = *asset_filter_of(x);
  get_page(x, {"product_class", "brand", "status"},
           [cid, f](const projections::queries& q, std::size_t n, const std::string& c) {
             auto g = f;
             g.limit = n;
             g.cursor = c;
             return q.assets_of_customer(cid, g);
           });
}

void assets(exchange& x) {
  if (!check(x, check_params(x.t, {"serial", "min_position"}))) return;
  const auto serial = param(x, "serial");
  if (serial.empty()) {
    return x.fail_with(error{errc::invalid,
                             "give the serial number to look up",
                             {{"serial", "is required; list assets under a customer or a site"}},
                             {}});
  }
  x.query([serial](const request& req, const projections::queries& q) {
    auto p = q.assets_by_serial(serial);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void asset(exchange& x, const std::string& id) {
  const asset_id aid{id};
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(x, aid, "asset", [](const projections::queries& q, const asset_id& i) {
      return q.asset(i);
    });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(retire_asset{aid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_asset{aid, std::move(*patch), *match});
}

void asset_move(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  auto body = json_body(x.req);
  if (!check(x, body)) return;
  for (const auto& [k, v] : body->as_object()) {
    if (k != "site_id") {
      return x.fail_with(error{errc::malformed,
                               "unknown field \"" + k + "\"",
                               {{k, "unknown field; allowed: site_id"}},
                               {}});
    }
  }
  const value* to = body->find("site_id");
  if (to == nullptr || !to->is_string() || !is_id(to->as_string())) {
    return x.fail_with(error{errc::invalid,
                             "the site to move to is missing or not an id",
                             {{"site_id", "must be the id of a site of the asset's customer"}},
                             {}});
  }
  x.command(move_asset{asset_id{id}, site_id{to->as_string()}, *match});
}

void asset_parts(exchange& x, const std::string& id) {
  const asset_id aid{id};
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) { return add_part{aid, std::move(body)}; });
  }
  get_page(x, {}, [aid](const projections::queries& q, std::size_t n, const std::string& c) {
    return q.parts_of(aid, n, c);
  });
}

void part(exchange& x, const std::string& id) {
  const part_id pid{id};
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(x, pid, "asset part",
                        [](const projections::queries& q, const part_id& i) { return q.part(i); });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(remove_part{pid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_part{pid, std::move(*patch), *match});
}

void customer_children(exchange& x, const std::string& id) {
  get_page(x, {},
           [cid = customer_id{id}](const projections::queries& q, std::size_t n,
                                   const std::string& c) { return q.children_of(cid, n, c); });
}

void products(exchange& x) {
  if (x.req.method() == http::verb::post) {
    return body_command(x, [](value body) { return create_product{std::move(body)}; });
  }
  get_page(x, {"q"},
           [text = param(x, "q")](const projections::queries& q, std::size_t n,
                                  const std::string& c) { return q.products(text, n, c); });
}

struct product_code {
  std::string code;
  const std::string& get() const { return code; }
};

void product(exchange& x, const std::string& code) {
  if (x.req.method() == http::verb::get) {
    return get_document(
        x, product_code{code}, "product",
        [](const projections::queries& q, const product_code& c) { return q.product(c.code); });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_product{code, std::move(*patch), *match});
}

// ---- audit -------------------------------------------------------------------------------------

// The history of a customer (kind "") or of one entity it owns (kind "contacts", …).
void history(exchange& x, const std::string& id, std::string_view kind) {
  if (!check(x,
             check_params(x.t, {"entity", "type", "since", "until", "actor", "limit", "cursor"}))) {
    return;
  }
  projections::history_filter f;
  f.entity = kind.empty() ? param(x, "entity") : std::string(kind) + "/" + id;
  f.type = param(x, "type");
  f.actor = param(x, "actor");
  f.cursor = param(x, "cursor");
  for (auto [name, slot] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
    const auto text = param(x, name);
    if (text.empty()) continue;
    auto when = projections::normalize_time(text);
    if (!when) {
      return x.fail_with(error{errc::invalid,
                               std::string(name) + " is not an RFC 3339 UTC time",
                               {{name, "e.g. 2026-03-01T00:00:00Z"}},
                               {}});
    }
    *slot = *when;
  }
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  f.limit = *limit;
  // From the history view: after the request's X-Min-Position (if any) has been applied.
  x.query([&audit = x.s.audit, f, id, by_customer = kind.empty()](const request& req,
                                                                  const projections::queries&) {
    auto owner = by_customer ? result<customer_id>(customer_id{id}) : audit.owner_of(id);
    if (!owner) return problem(req, owner.error());
    auto p = audit.history(*owner, f);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

// The live feed: the events after f.after as Server-Sent Events, each with its cursor as id,
// then new ones as they are appended; a comment line as heartbeat when nothing happens.
void event_stream(exchange& x, projections::feed_filter f) {
  if (!x.stream) {
    return x.respond(problem(x.req, 406, "this server does not stream events",
                             {{"Accept", "use application/json"}}));
  }
  if (const auto it = x.req.find("Last-Event-ID"); it != x.req.end() && !it->value().empty()) {
    f.after = std::string(it->value());  // a reconnecting client resumes after what it had
  }
  auto first = x.s.audit.events(f);
  if (!first) return x.fail_with(first.error());
  response head{http::status::ok, x.req.version()};
  head.set(http::field::content_type, "text/event-stream; charset=utf-8");
  head.set(http::field::cache_control, "no-cache");
  live_body body;
  body.resume = f.after;
  body.produce = [&audit = x.s.audit, f, page = std::move(*first), poll = x.o.stream_poll,
                  heartbeat = x.o.stream_heartbeat](body_stream& out) mutable {
    using clock = std::chrono::steady_clock;
    auto last_sent = clock::now();
    for (;;) {
      if (!page.items.empty()) {
        std::string chunk;
        for (std::size_t i = 0; i < page.items.size(); ++i) {
          chunk += "id: " + page.cursors[i] + "\ndata: " + page.items[i] + "\n\n";
        }
        if (!out.push(std::move(chunk), page.next)) return;
        last_sent = clock::now();
      } else if (clock::now() - last_sent >= heartbeat) {
        if (!out.push(": heartbeat\n\n", page.next)) return;
        last_sent = clock::now();
      }
      const bool full = page.items.size() >= f.limit;
      f.after = page.next;
      if (!full && out.gone_within(poll)) return;
      for (;;) {
        auto next = audit.events(f);
        if (next) {
          page = std::move(*next);
          break;
        }
        // The log is unavailable for now: keep the client (heartbeats) and try again.
        page.items.clear();
        page.cursors.clear();
        if (clock::now() - last_sent >= heartbeat) {
          if (!out.push(": the log is unavailable; retrying\n\n", f.after)) return;
          last_sent = clock::now();
        }
        if (out.gone_within(std::chrono::milliseconds(1000))) return;
      }
    }
  };
  body.dropped = [](const std::string& resume) {
    std::string data = "{\"reason\":\"the client fell too far behind\",\"resume_after\":";
    write_json_string(resume, data);
    data += '}';
    return "event: dropped\nid: " + resume + "\ndata: " + data + "\n\n";
  };
  x.stream(std::move(head), std::move(body));
}

void events(exchange& x) {
  if (!check(x, check_params(x.t, {"after", "limit", "types", "customer"}))) return;
  projections::feed_filter f;
  f.after = param(x, "after");
  f.customer = param(x, "customer");
  if (!f.customer.empty() && !is_id(f.customer)) {
    return x.fail_with(
        error{errc::invalid, "customer is not an id", {{"customer", "a customer id"}}, {}});
  }
  const std::string types = param(x, "types");
  for (std::string_view rest = types; !rest.empty();) {
    const auto comma = rest.find(',');
    if (auto t = rest.substr(0, comma); !t.empty()) f.types.emplace_back(t);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (const auto l = param(x, "limit"); !l.empty()) {
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), n);
    if (ec != std::errc{} || p != l.data() + l.size() || n == 0) {
      return x.fail_with(error{
          errc::invalid, "limit must be a whole number from 1", {{"limit", "1 to 5000"}}, {}});
    }
    f.limit = std::min<std::size_t>(n, 5000);
  }
  if (f.limit == 0) f.limit = 500;
  if (wants_event_stream(x.req)) return event_stream(x, std::move(f));
  auto page = x.s.audit.events(f);
  if (!page) return x.fail_with(page.error());
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < page->items.size(); ++i) {
    if (i > 0) body += ',';
    body += page->items[i];
  }
  body += "],\"next\":";
  write_json_string(page->next, body);
  body += '}';
  x.respond(json_response(x.req, http::status::ok, std::move(body)));
}

std::string_view bearer_token(const request& req) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v(it->value().data(), it->value().size());
  constexpr std::string_view scheme = "Bearer ";
  if (v.size() <= scheme.size() || !media_type_is(v.substr(0, scheme.size() - 1), "bearer") ||
      v[scheme.size() - 1] != ' ') {
    return {};
  }
  return v.substr(scheme.size());
}

std::string rebuild_json(const projections::rebuild_status& r) {
  std::string out = "{\"state\":";
  write_json_string(r.state, out);
  out += ",\"generation\":" + std::to_string(r.generation) +
         ",\"applied\":" + std::to_string(r.applied) + ",\"total\":" + std::to_string(r.total);
  for (const auto& [k, v] :
       {std::pair<const char*, const std::string*>{"started_at", &r.started_at},
        {"finished_at", &r.finished_at},
        {"error", &r.error}}) {
    out += ",\"" + std::string(k) + "\":";
    if (v->empty()) {
      out += "null";
    } else {
      write_json_string(*v, out);
    }
  }
  out += '}';
  return out;
}

void admin_projections(exchange& x) {
  if (!check(x, check_params(x.t, {}))) return;
  if (x.s.rebuild == nullptr) {
    return x.fail_with(error{errc::unavailable, "this server has no online rebuild", {}, {}});
  }
  auto views = x.s.rebuild->views();
  if (!views) return x.fail_with(views.error());
  const auto r = x.s.rebuild->status();
  std::string body =
      "{\"generation\":" + std::to_string(x.s.rebuild->generation()) + ",\"views\":[";
  for (std::size_t i = 0; i < views->size(); ++i) {
    const auto& v = (*views)[i];
    if (i > 0) body += ',';
    body += "{\"name\":";
    write_json_string(v.name, body);
    body += ",\"state\":";
    write_json_string(v.lag == 0 ? "live" : "catching_up", body);
    body += ",\"lag\":" + std::to_string(v.lag) + ",\"checkpoints\":[";
    for (std::size_t p = 0; p < v.checkpoints.size(); ++p) {
      if (p > 0) body += ',';
      body += std::to_string(v.checkpoints[p]);
    }
    body += "]}";
  }
  body += "],\"rebuild\":" + rebuild_json(r) + '}';
  x.respond(json_response(x.req, http::status::ok, std::move(body)));
}

void admin_rebuild(exchange& x) {
  if (!check(x, check_params(x.t, {}))) return;
  if (x.s.rebuild == nullptr) {
    return x.fail_with(error{errc::unavailable, "this server has no online rebuild", {}, {}});
  }
  auto started = x.s.rebuild->start();
  if (!started) return x.fail_with(started.error());
  auto res = json_response(x.req, http::status::accepted, rebuild_json(*started));
  res.set(http::field::location, "/v1/admin/projections");
  x.respond(std::move(res));
}

std::string key_json(const key_record& k, const std::string& secret = {}) {
  std::string out = "{\"id\":";
  write_json_string(k.id, out);
  out += ",\"name\":";
  write_json_string(k.name, out);
  out += ",\"role\":";
  write_json_string(k.role, out);
  out += ",\"created_at\":";
  write_json_string(k.created_at, out);
  out += ",\"revoked_at\":";
  if (k.revoked_at.empty()) {
    out += "null";
  } else {
    write_json_string(k.revoked_at, out);
  }
  if (!secret.empty()) {
    out += ",\"key\":";
    write_json_string(secret, out);
  }
  out += '}';
  return out;
}

void admin_keys(exchange& x) {
  if (!check(x, check_params(x.t, {}))) return;
  if (x.req.method() == http::verb::get) {
    auto keys = x.s.keys.list();
    if (!keys) return x.fail_with(keys.error());
    std::string body = "{\"items\":[";
    for (std::size_t i = 0; i < keys->size(); ++i) {
      if (i > 0) body += ',';
      body += key_json((*keys)[i]);
    }
    body += "]}";
    return x.respond(json_response(x.req, http::status::ok, std::move(body)));
  }
  auto body = json_body(x.req);
  if (!body) return x.fail_with(body.error());
  std::vector<field_error> wrong;
  for (const auto& [k, v] : body->as_object()) {
    if (k != "name" && k != "role") wrong.push_back({k, "unknown field; allowed: name, role"});
  }
  for (const char* k : {"name", "role"}) {
    const value* v = body->find(k);
    if (v == nullptr) {
      wrong.push_back({k, "is required"});
    } else if (!v->is_string()) {
      wrong.push_back({k, "must be a string"});
    }
  }
  if (!wrong.empty()) {
    return x.fail_with(
        error{errc::invalid, "the key cannot be created as asked", std::move(wrong), {}});
  }
  auto made = x.s.keys.create(body->string_at("name"), body->string_at("role"));
  if (!made) return x.fail_with(made.error());
  auto res = json_response(x.req, http::status::created, key_json(made->record, made->key));
  res.set(http::field::location, "/v1/admin/keys/" + made->record.id);
  res.set(http::field::cache_control, "no-store");
  x.respond(std::move(res));
}

void admin_key(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {}))) return;
  if (x.req.method() == http::verb::delete_) {
    auto revoked = x.s.keys.revoke(id);
    if (!revoked) return x.fail_with(revoked.error());
    return x.respond(json_response(x.req, http::status::ok, key_json(*revoked)));
  }
  auto keys = x.s.keys.list();
  if (!keys) return x.fail_with(keys.error());
  for (const auto& k : *keys) {
    if (k.id == id) return x.respond(json_response(x.req, http::status::ok, key_json(k)));
  }
  x.fail_with(error{errc::not_found, "no key with id \"" + id + "\"", {}, {}});
}

// ---- notes, work orders, notification recipients, summary -----------------------------------

void notes_of(exchange& x, const std::string& id, projections::listed_under under) {
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) { return add_note{customer_id{id}, std::move(body)}; });
  }
  x.as_of_entity = id;
  get_page(x, {}, [id, under](const projections::queries& q, std::size_t n, const std::string& c) {
    return q.notes(under, id, n, c);
  });
}

void note(exchange& x, const std::string& id) {
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(
        x, note_id{id}, "note",
        [](const projections::queries& q, const note_id& i) { return q.note(i.get()); });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(remove_note{note_id{id}, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_note{note_id{id}, std::move(*patch), *match});
}

// A customer's work orders (the jobs tab) and the service history of a customer, site or asset:
// work orders newest first, filtered by status and priority.
void work_orders_of(exchange& x, const std::string& id, projections::listed_under under) {
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) {
      return create_work_order{customer_id{id}, std::move(body)};
    });
  }
  projections::work_order_filter f;
  f.status = param(x, "status");
  f.priority = param(x, "priority");
  if (!f.status.empty() && f.status != k_wo_open && f.status != k_wo_assigned &&
      f.status != k_wo_completed && f.status != k_wo_cancelled) {
    return x.fail_with(error{errc::invalid,
                             "unknown status filter",
                             {{"status", "one of open, assigned, completed, cancelled"}},
                             {}});
  }
  if (!f.priority.empty() &&
      std::ranges::find(k_wo_priorities, f.priority) == std::end(k_wo_priorities)) {
    return x.fail_with(error{errc::invalid,
                             "unknown priority filter",
                             {{"priority", "one of low, normal, high, urgent"}},
                             {}});
  }
  x.as_of_entity = id;
  get_page(x, {"status", "priority"},
           [id, under, f](const projections::queries& q, std::size_t n, const std::string& c) {
             auto g = f;
             g.limit = n;
             g.cursor = c;
             return q.work_orders(under, id, g);
           });
}

void work_order(exchange& x, const std::string& id) {
  x.as_of_entity = id;
  get_document(
      x, work_order_id{id}, "work order",
      [](const projections::queries& q, const work_order_id& i) { return q.work_order(i.get()); });
}

void work_order_move(exchange& x, const std::string& id, work_order_step step) {
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  value body{object{}};
  if (!x.req.body().empty()) {
    auto parsed = json_body(x.req);
    if (!check(x, parsed)) return;
    body = std::move(*parsed);
  }
  x.command(move_work_order{work_order_id{id}, step, std::move(body), *match});
}

void notification_recipients(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {"kind", "site_id", "min_position"}))) return;
  const auto kind = param(x, "kind");
  if (kind != "work_orders" && kind != "quote_approvals" && kind != "completions" &&
      kind != "invoices") {
    return x.fail_with(error{
        errc::invalid,
        kind.empty() ? "say which notification: kind is required" : "unknown notification kind",
        {{"kind", "one of work_orders, quote_approvals, completions, invoices"}},
        {}});
  }
  const auto site = param(x, "site_id");
  if (!site.empty() && !is_id(site)) {
    return x.fail_with(
        error{errc::invalid, "site_id must be an id", {{"site_id", "must be an id"}}, {}});
  }
  x.query([cid = customer_id{id}, kind, site](const request& req, const projections::queries& q) {
    auto doc = q.notification_recipients(cid, kind, site);
    return doc ? json_response(req, http::status::ok, std::move(*doc)) : problem(req, doc.error());
  });
}

// The customer 360: one read for the summary pane. The recent changes come from the history
// (what changed, when and by whom; the field values stay behind the audit role).
void customer_summary(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {"min_position"}))) return;
  x.query([&audit = x.s.audit, cid = customer_id{id}](const request& req,
                                                      const projections::queries& q) {
    projections::history_filter f;
    f.limit = 5;
    std::string recent = "[";
    if (auto h = audit.history(cid, f)) {
      bool first = true;
      for (const auto& item : h->items) {
        auto entry = json::parse(item);
        if (!entry || !entry->is_object()) continue;
        entry->as_object().erase("changes");
        if (!first) recent += ',';
        recent += to_json(*entry);
        first = false;
      }
    } else if (h.error().code != errc::not_found) {
      return problem(req, h.error());
    }
    recent += ']';
    auto doc = q.summary(cid, recent);
    if (!doc) return problem(req, doc.error());
    if (!*doc) {
      return problem(req,
                     error{errc::not_found, "no customer with id \"" + cid.get() + "\"", {}, {}});
    }
    return json_response(req, http::status::ok, std::move(**doc));
  });
}

// ---- picklists -------------------------------------------------------------------------------

void picklists(exchange& x) {
  if (!check(x, check_params(x.t, {"min_position"}))) return;
  x.query([](const request& req, const projections::queries& q) {
    std::string body = "{\"items\":[";
    bool first = true;
    for (auto name : k_picklist_names) {
      auto doc = q.picklist(name);
      if (!doc) return problem(req, doc.error());
      if (!first) body += ',';
      body += *doc;
      first = false;
    }
    body += "]}";
    return json_response(req, http::status::ok, std::move(body));
  });
}

// GET a picklist; POST {"value"} adds (or reinstates) a value, .../retire retires one.
void picklist(exchange& x, const std::string& name, picklist_step step) {
  if (std::ranges::find(k_picklist_names, name) == std::end(k_picklist_names)) {
    return x.fail_with(error{errc::not_found,
                             "no picklist named \"" + name +
                                 "\"; the picklists are customer_type, industry, category, "
                                 "service_zone and product_class",
                             {},
                             {}});
  }
  if (x.req.method() == http::verb::get) {
    if (!check(x, check_params(x.t, {"min_position"}))) return;
    return x.query([name](const request& req, const projections::queries& q) {
      auto doc = q.picklist(name);
      return doc ? document_response(req, std::move(*doc)) : problem(req, doc.error());
    });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  auto body = json_body(x.req);
  if (!check(x, body)) return;
  x.command(change_picklist{name, step, std::move(*body), *match});
}

// ---- files -----------------------------------------------------------------------------------

// POST /v1/{customers,sites,assets}/{id}/files: the owner is checked first (a dry run of the
// command, so that an unknown owner stores nothing), then the content is stored (durably, off
// the I/O thread), then the command that references it is appended.
void upload_file(exchange& x, file_owner kind, const std::string& owner) {
  if (!check(x, check_params(x.t, {"filename"}))) return;
  if (x.capture) {
    return x.fail_with(error{errc::invalid,
                             "a file is uploaded on its own, not in a batch",
                             {{"path", "send POST …/files as a request of its own"}},
                             {}});
  }
  if (x.s.blobs == nullptr) {
    return x.fail_with(error{errc::unavailable, "this server stores no files", {}, {}});
  }
  if (x.req.body().size() > x.o.max_file_bytes) {
    return x.respond(problem(
        x.req, 413, "the file is larger than " + std::to_string(x.o.max_file_bytes) + " bytes",
        {{"body", "too large"}}));
  }
  auto up = read_upload(x.req, x.t);
  if (!check(x, up)) return;
  auto meta = command_meta_of(x.req, x.who);
  if (!check(x, meta)) return;
  const auto fields = [name = up->name, size = static_cast<std::int64_t>(up->content.size()),
                       type = up->content_type](std::string sha256) {
    return value(object{
        {"name", name}, {"size", size}, {"content_type", type}, {"sha256", std::move(sha256)}});
  };
  commands::command_meta check_meta{meta->actor, {}, {}, true};
  attach_file probe{kind, owner, fields(std::string(64, '0'))};
  // The content is a view into the body; moving the request may move the body's bytes.
  const auto offset = static_cast<std::size_t>(up->content.data() - x.req.body().data());
  const auto length = up->content.size();
  auto shared = std::make_shared<request>(std::move(x.req));
  const std::string_view content = std::string_view(shared->body()).substr(offset, length);
  const unsigned version = shared->version();
  const bool keep_alive = shared->keep_alive();
  x.s.pipeline.submit(
      std::move(probe), std::move(check_meta),
      [&s = x.s, shared, content, kind, owner, fields, meta = std::move(*meta), version, keep_alive,
       respond = x.respond](result<command_outcome> checked) mutable {
        if (!checked) return respond(problem(*shared, checked.error()));
        auto store = [&s, shared, content, kind, owner, fields, meta = std::move(meta), version,
                      keep_alive, respond]() mutable {
          auto stored = s.blobs->put(content);
          if (!stored) return respond(problem(*shared, stored.error()));
          s.pipeline.submit(attach_file{kind, owner, fields(stored->sha256)}, std::move(meta),
                            [shared, version, keep_alive, respond](result<command_outcome> r) {
                              if (!r) return respond(problem(*shared, r.error()));
                              respond(outcome_response(version, keep_alive, *r));
                            });
        };
        if (s.run_blocking) return s.run_blocking(std::move(store));
        store();
      });
}

void owner_files(exchange& x, file_owner kind, const std::string& id) {
  if (x.req.method() == http::verb::post) return upload_file(x, kind, id);
  x.as_of_entity = id;
  get_page(x, {}, [kind, id](const projections::queries& q, std::size_t n, const std::string& c) {
    return q.files_of(kind, id, n, c);
  });
}

// GET /v1/files/{id}: the content, with the file's type, its name and its digest as ETag.
void file(exchange& x, const std::string& id) {
  const file_id fid{id};
  if (x.req.method() == http::verb::delete_) {
    if (!check(x, check_params(x.t, {}))) return;
    auto match = if_match(x.req);
    if (!check(x, match)) return;
    return x.command(remove_file{fid, *match});
  }
  if (!check(x, check_params(x.t, {"min_position"}))) return;
  if (x.s.blobs == nullptr) {
    return x.fail_with(error{errc::unavailable, "this server stores no files", {}, {}});
  }
  x.query([fid, &blobs = *x.s.blobs](const request& req, const projections::queries& q) {
    auto doc = q.file(fid);
    if (!doc) return problem(req, doc.error());
    if (!*doc) {
      return problem(req, error{errc::not_found, "no file with id \"" + fid.get() + "\"", {}, {}});
    }
    auto meta = json::parse(**doc);
    if (!meta) return problem(req, error{errc::internal, "a file document is corrupt", {}, {}});
    const std::string tag = '"' + std::string(meta->string_at("sha256")) + '"';
    if (const auto it = req.find(http::field::if_none_match); it != req.end()) {
      const std::string_view sent(it->value().data(), it->value().size());
      if (sent == "*" || sent.find(tag) != std::string_view::npos) {
        response res{http::status::not_modified, req.version()};
        res.set(http::field::etag, tag);
        res.keep_alive(req.keep_alive());
        return res;
      }
    }
    auto content = blobs.get(meta->string_at("sha256"));
    if (!content) return problem(req, content.error());
    if (!*content) {
      return problem(
          req,
          error{errc::internal, "the content of file \"" + fid.get() + "\" is missing", {}, {}});
    }
    response res{http::status::ok, req.version()};
    res.set(http::field::content_type, std::string(meta->string_at("content_type")));
    res.set(http::field::content_disposition, content_disposition(meta->string_at("name")));
    res.set(http::field::etag, tag);
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(**content);
    res.prepare_payload();
    return res;
  });
}

void file_metadata(exchange& x, const std::string& id) {
  x.as_of_entity = id;
  get_document(x, file_id{id}, "file",
               [](const projections::queries& q, const file_id& i) { return q.file(i); });
}

// ---- geofences and the spatial index ---------------------------------------------------------

// GET, PUT (set) and DELETE (clear) of the geofence of a customer or site; If-Match is the
// version of the customer or site.
template <typename Id, typename Set, typename Clear>
void geofence(exchange& x, const std::string& id, std::string what, Set set, Clear clear) {
  const Id owner{id};
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(
        x, owner, what + " geofence",
        [](const projections::queries& q, const Id& i) { return q.geofence(i.get()); });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(clear(owner, *match));
  auto body = json_body(x.req);
  if (!check(x, body)) return;
  x.command(set(owner, std::move(*body), *match));
}

// A number query parameter within [min, max]; nullopt after answering when absent or bad.
std::optional<double> number_param(exchange& x, std::string_view name, double min, double max,
                                   std::optional<double> fallback = std::nullopt) {
  const std::string text = param(x, name);
  const std::string range = "a number from " + to_json(value(min)) + " to " + to_json(value(max));
  if (text.empty()) {
    if (fallback) return fallback;
    x.fail_with(error{errc::invalid,
                      std::string(name) + " is required",
                      {{std::string(name), "is required: " + range}},
                      {}});
    return std::nullopt;
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || !(v >= min && v <= max)) {
    x.fail_with(error{errc::invalid,
                      std::string(name) + " is out of range or not a number",
                      {{std::string(name), "must be " + range}},
                      {}});
    return std::nullopt;
  }
  return v;
}

void geo_containing(exchange& x) {
  if (!check(x, check_params(x.t, {"lat", "lng", "min_position"}))) return;
  const auto lat = number_param(x, "lat", -90, 90);
  if (!lat) return;
  const auto lng = number_param(x, "lng", -180, 180);
  if (!lng) return;
  x.query([lat = *lat, lng = *lng](const request& req, const projections::queries& q) {
    auto p = q.containing(lat, lng);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void geo_nearby(exchange& x) {
  if (!check(x, check_params(x.t, {"lat", "lng", "radius_m", "limit", "min_position"}))) return;
  const auto lat = number_param(x, "lat", -90, 90);
  if (!lat) return;
  const auto lng = number_param(x, "lng", -180, 180);
  if (!lng) return;
  const auto radius = number_param(x, "radius_m", 0, geo::k_max_nearby_radius_m, 10'000.0);
  if (!radius) return;
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  x.query([lat = *lat, lng = *lng, radius = *radius, n = *limit](const request& req,
                                                                 const projections::queries& q) {
    auto p = q.nearby(lat, lng, radius, n);
    return p ? page_response(req, *p) : problem(req, p.error());
  });
}

void batch(exchange& x);

// ---- systems -----------------------------------------------------------------------------------

projections::system_queries systems_of(const projections::queries& q) {
  return projections::system_queries(q.store());
}

void system_types(exchange& x) {
  if (x.req.method() == http::verb::post) {
    return body_command(x, [](value body) { return create_system_type{std::move(body)}; });
  }
  get_page(x, {}, [](const projections::queries& q, std::size_t n, const std::string& c) {
    return systems_of(q).system_types(n, c);
  });
}

void system_type(exchange& x, const std::string& id) {
  const system_type_id tid{id};
  if (x.req.method() == http::verb::get) {
    return get_document(x, tid, "system type",
                        [](const projections::queries& q, const system_type_id& i) {
                          return systems_of(q).system_type(i.get());
                        });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_system_type{tid, std::move(*patch), *match});
}

void customer_systems(exchange& x, const std::string& id) {
  const customer_id cid{id};
  if (x.req.method() == http::verb::post) {
    return body_command(x, [&](value body) { return assign_system{cid, std::move(body)}; });
  }
  x.as_of_entity = id;
  get_page(x, {}, [cid](const projections::queries& q, std::size_t n, const std::string& c) {
    return systems_of(q).systems_of_customer(cid, n, c);
  });
}

void site_systems(exchange& x, const std::string& id) {
  get_page(x, {},
           [sid = site_id{id}](const projections::queries& q, std::size_t n, const std::string& c) {
             return systems_of(q).systems_of_site(sid, n, c);
           });
}

void system(exchange& x, const std::string& id) {
  const system_id sid{id};
  if (x.req.method() == http::verb::get) {
    x.as_of_entity = id;
    return get_document(x, sid, "system", [](const projections::queries& q, const system_id& i) {
      return systems_of(q).system(i.get());
    });
  }
  if (!check(x, check_params(x.t, {}))) return;
  auto match = if_match(x.req);
  if (!check(x, match)) return;
  if (x.req.method() == http::verb::delete_) return x.command(remove_system{sid, *match});
  auto patch = json_body(x.req);
  if (!check(x, patch)) return;
  x.command(change_system{sid, std::move(*patch), *match});
}

// The history of a system, newest first; with key=, only the changes of that value.
void system_history(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {"key", "limit", "cursor"}))) return;
  projections::history_filter f;
  f.entity = "systems/" + id;
  f.cursor = param(x, "cursor");
  auto limit = page_limit(x.t);
  if (!check(x, limit)) return;
  f.limit = *limit;
  x.query([&audit = x.s.audit, f, id, key = param(x, "key")](const request& req,
                                                             const projections::queries&) {
    auto owner = audit.owner_of(id);
    if (!owner) return problem(req, owner.error());
    auto p = audit.history(*owner, f);
    if (!p) return problem(req, p.error());
    if (key.empty()) return page_response(req, *p);
    // One value's history: the entries that changed it, with only its change. A page may hold
    // fewer items than the limit; next_cursor still continues after it.
    projections::page only;
    only.next_cursor = p->next_cursor;
    for (const auto& item : p->items) {
      auto entry = json::parse(item);
      if (!entry) return problem(req, entry.error());
      const value* changes = entry->find("changes");
      array kept;
      for (const auto& c :
           changes != nullptr && changes->is_array() ? changes->as_array() : array{}) {
        if (c.string_at("field") == key) kept.push_back(c);
      }
      if (kept.empty()) continue;
      entry->as_object()["changes"] = std::move(kept);
      only.items.push_back(to_json(*entry));
    }
    return page_response(req, only);
  });
}

// POST /v1/systems/{id}/reveal {"keys": [...]} (admin): appends system.secret-revealed, then
// answers the plaintext of those secrets (all that are set when keys is absent) as they were
// at that event. Never part of a batch; never cached.
void system_reveal(exchange& x, const std::string& id) {
  if (!check(x, check_params(x.t, {}))) return;
  if (x.capture) {
    return x.fail_with(error{errc::invalid,
                             "a reveal answers secrets, so it is not a batch command",
                             {{"path", "send POST /v1/systems/{id}/reveal on its own"}},
                             {}});
  }
  if (x.s.secrets == nullptr) {
    return x.fail_with(error{errc::unavailable, "this server has no secret key", {}, {}});
  }
  std::vector<std::string> keys;
  if (!x.req.body().empty()) {
    auto body = json_body(x.req);
    if (!check(x, body)) return;
    for (const auto& [k, v] : body->as_object()) {
      if (k != "keys") {
        return x.fail_with(error{errc::malformed,
                                 "unknown field \"" + k + "\"",
                                 {{k, "unknown field; allowed: keys"}},
                                 {}});
      }
    }
    if (const value* list = body->find("keys"); list != nullptr && !list->is_null()) {
      if (!list->is_array() || list->as_array().size() > k_max_system_fields) {
        return x.fail_with(error{errc::invalid,
                                 "keys must be a list of secret fields",
                                 {{"keys", "must be an array of field keys"}},
                                 {}});
      }
      for (std::size_t i = 0; i < list->as_array().size(); ++i) {
        const value& k = list->as_array()[i];
        if (!k.is_string()) {
          return x.fail_with(error{errc::invalid,
                                   "keys must be a list of secret fields",
                                   {{"keys[" + std::to_string(i) + "]", "must be a string"}},
                                   {}});
        }
        keys.push_back(k.as_string());
      }
    }
  }
  auto meta = command_meta_of(x.req, x.who);
  if (!meta) return x.fail_with(meta.error());
  auto shared = std::make_shared<request>(std::move(x.req));
  const system_id sid{id};
  x.s.pipeline.submit(
      reveal_system_secrets{sid, keys}, std::move(*meta),
      [shared, respond = x.respond, &runner = x.s.runner, &live = x.s.queries,
       secrets = x.s.secrets, keys, sid, wait = x.o.min_position_wait](result<command_outcome> r) {
        if (!r) return respond(problem(*shared, r.error()));
        if (!r->position) {
          return respond(
              problem(*shared, error{errc::internal, "the reveal has no position", {}, {}}));
        }
        const auto outcome = *r;
        exchange::wait_then(
            runner, shared, respond, {*r->position}, std::chrono::steady_clock::now() + wait,
            [outcome, &live, secrets, keys, sid](const request& req) {
              const auto systems = systems_of(live);
              auto doc = systems.system(sid.get());
              if (!doc) return problem(req, doc.error());
              // The views at the reveal's own version show the secrets as they were revealed.
              if (!*doc || json::top_level_int(**doc, "version") != outcome.version.get()) {
                return problem(req, error{errc::conflict,
                                          "the system changed while its secrets were revealed. "
                                          "Hint: ask again.",
                                          {},
                                          {}});
              }
              auto sealed = systems.sealed_secrets(sid.get());
              if (!sealed) return problem(req, sealed.error());
              object values;
              for (const auto& [k, v] : sealed->is_object() ? sealed->as_object() : object{}) {
                if (!keys.empty() && std::ranges::find(keys, k) == keys.end()) continue;
                auto plain = secrets->open(v.is_string() ? v.as_string() : std::string(),
                                           secret_associated_data(sid.get(), k));
                if (!plain) return problem(req, plain.error());
                values.emplace(k, std::move(*plain));
              }
              object body{{"id", sid.get()},
                          {"version", outcome.version.get()},
                          {"position", to_string(*outcome.position)},
                          {"values", std::move(values)}};
              auto res = json_response(req, http::status::ok, to_json(body));
              res.set(http::field::cache_control, "no-store");
              return res;
            });
      });
}

// Everything after authentication: the route's method, role, media types and id shapes, then
// the route itself. With capture, commands go to capture instead of the pipeline (a batch).
void dispatch(const services& s_, const handler_options& o_, request req, target t_value,
              const route* r, principal who_value, responder respond, stream_responder stream,
              capture_fn capture) {
  auto* t = &t_value;
  auto* who = &who_value;
  if (r == nullptr) {
    return respond(problem(
        req, error{errc::not_found,
                   "no route for " + std::string(req.target().substr(0, req.target().find('?'))),
                   {},
                   {}}));
  }
  if (std::ranges::find(r->methods, req.method()) == r->methods.end()) {
    auto res = problem(
        req, 405,
        std::string(req.method_string()) + " is not allowed here; allowed: " + allow_header(*r));
    res.set(http::field::allow, allow_header(*r));
    return respond(std::move(res));
  }
  if (const auto need = needed(r->id, req.method(), *t); !allows(who->role, need)) {
    return respond(problem(req, 403,
                           "the key \"" + who->name + "\" (role " + who->role +
                               ") may not do this; it needs the role " + roles_allowed(need),
                           {{"Authorization", "a key with the role " + roles_allowed(need)}}));
  }
  // files: a download answers in the file's own media type, whatever Accept says.
  const bool any_answer = r->id == route_id::file && req.method() == http::verb::get;
  if (!accepts_json(req) && !any_answer &&
      !(r->id == route_id::events && wants_event_stream(req))) {
    return respond(problem(req, 406, "this route answers application/json only",
                           {{"Accept", "must admit application/json"}}));
  }
  std::string id;
  for (std::size_t i = 0; i < t->segments.size(); ++i) {
    if (r->pattern[i] == "+") id = t->segments[i];
    if (r->pattern[i] != "*") continue;
    id = t->segments[i];
    if (!is_id(id)) {
      const auto& kind = t->segments[i - 1];
      const std::string what = kind == "asset-parts" ? "asset part"
                               : kind.ends_with('s') ? kind.substr(0, kind.size() - 1)
                                                     : kind;
      return respond(problem(req, error{errc::not_found,
                                        "\"" + id + "\" is not a " + what + " id",
                                        {{"id", "ids are lower-case UUIDs as this API gives out"}},
                                        {}}));
    }
  }

  const bool upload =
      is_file_upload(req.method(), std::string_view(req.target().data(), req.target().size()));
  if (!upload && !command_media_type_ok(req)) {  // files: an upload's body is the file
    return respond(problem(req, 415,
                           req.method() == http::verb::patch
                               ? "the body must be application/json or "
                                 "application/merge-patch+json"
                               : "the body must be application/json",
                           {{"Content-Type", "unsupported media type"}}));
  }

  exchange x{s_,
             o_,
             std::move(req),
             std::move(respond),
             std::move(stream),
             std::move(*t),
             std::move(*who)};
  x.capture = std::move(capture);
  switch (r->id) {
    case route_id::healthz:
      break;
    case route_id::readyz:
      if (s_.ready && !s_.ready()) {
        return x.fail_with(
            error{errc::unavailable, "the views are catching up with the log", {}, {}});
      }
      return x.respond(json_response(x.req, http::status::ok, R"({"status":"ready"})"));
    case route_id::customers:
      return customers(x);
    case route_id::customer:
      return customer(x, id);
    case route_id::customer_deactivate:
      return customer_status(x, id, false);
    case route_id::customer_reactivate:
      return customer_status(x, id, true);
    case route_id::customer_contacts:
      return customer_contacts(x, id);
    case route_id::customer_primary_contact:
      return primary_contact(x, id);
    case route_id::contacts:
      return contacts(x);
    case route_id::contact:
      return contact(x, id);
    case route_id::contact_make_primary:
      return make_primary(x, id);
    case route_id::customer_sites:
      return customer_sites(x, id);
    case route_id::site:
      return site(x, id);
    case route_id::site_assets:
      return site_assets(x, id);
    case route_id::customer_assets:
      return customer_assets(x, id);
    case route_id::assets:
      return assets(x);
    case route_id::asset:
      return asset(x, id);
    case route_id::asset_move:
      return asset_move(x, id);
    case route_id::asset_parts:
      return asset_parts(x, id);
    case route_id::part:
      return part(x, id);
    case route_id::customer_children:
      return customer_children(x, id);
    case route_id::products:
      return products(x);
    case route_id::product:
      return product(x, id);
    case route_id::customer_history:
      return history(x, id, "");
    case route_id::contact_history:
      return history(x, id, "contacts");
    case route_id::site_history:
      return history(x, id, "sites");
    case route_id::asset_history:
      return history(x, id, "assets");
    case route_id::events:
      return events(x);
    case route_id::admin_projections:
      return admin_projections(x);
    case route_id::admin_rebuild:
      return admin_rebuild(x);
    case route_id::admin_keys:
      return admin_keys(x);
    case route_id::admin_key:
      return admin_key(x, id);
    case route_id::batch:
      return batch(x);
    // notes, work orders, notification recipients, summary
    case route_id::customer_notes:
      return notes_of(x, id, projections::listed_under::customer);
    case route_id::site_notes:
      return notes_of(x, id, projections::listed_under::site);
    case route_id::asset_notes:
      return notes_of(x, id, projections::listed_under::asset);
    case route_id::note:
      return note(x, id);
    case route_id::customer_work_orders:
      return work_orders_of(x, id, projections::listed_under::customer);
    case route_id::work_order:
      return work_order(x, id);
    case route_id::work_order_assign:
      return work_order_move(x, id, work_order_step::assign);
    case route_id::work_order_complete:
      return work_order_move(x, id, work_order_step::complete);
    case route_id::work_order_cancel:
      return work_order_move(x, id, work_order_step::cancel);
    case route_id::customer_service_history:
      return work_orders_of(x, id, projections::listed_under::customer);
    case route_id::site_service_history:
      return work_orders_of(x, id, projections::listed_under::site);
    case route_id::asset_service_history:
      return work_orders_of(x, id, projections::listed_under::asset);
    case route_id::notification_recipients:
      return notification_recipients(x, id);
    case route_id::customer_summary:
      return customer_summary(x, id);
    case route_id::picklists:
      return picklists(x);
    case route_id::picklist:
      return picklist(x, id, picklist_step::add);
    case route_id::picklist_retire:
      return picklist(x, id, picklist_step::retire);
    // systems
    case route_id::system_types:
      return system_types(x);
    case route_id::system_type:
      return system_type(x, id);
    case route_id::customer_systems:
      return customer_systems(x, id);
    case route_id::site_systems:
      return site_systems(x, id);
    case route_id::system:
      return system(x, id);
    case route_id::system_reveal:
      return system_reveal(x, id);
    case route_id::system_history:
      return system_history(x, id);
    // files
    case route_id::customer_files:
      return owner_files(x, file_owner::customer, id);
    case route_id::site_files:
      return owner_files(x, file_owner::site, id);
    case route_id::asset_files:
      return owner_files(x, file_owner::asset, id);
    case route_id::file:
      return file(x, id);
    case route_id::file_metadata:
      return file_metadata(x, id);
    // geofences and the spatial index
    case route_id::customer_geofence:
      return geofence<customer_id>(
          x, id, "customer",
          [](const customer_id& c, value body, std::optional<entity_version> m) -> command {
            return set_customer_geofence{c, std::move(body), m};
          },
          [](const customer_id& c, std::optional<entity_version> m) -> command {
            return clear_customer_geofence{c, m};
          });
    case route_id::site_geofence:
      return geofence<site_id>(
          x, id, "site",
          [](const site_id& c, value body, std::optional<entity_version> m) -> command {
            return set_site_geofence{c, std::move(body), m};
          },
          [](const site_id& c, std::optional<entity_version> m) -> command {
            return clear_site_geofence{c, m};
          });
    case route_id::geo_containing:
      return geo_containing(x);
    case route_id::geo_nearby:
      return geo_nearby(x);
  }
}

constexpr std::size_t k_max_batch_commands = 1000;

// POST /v1/batch {"atomic": false, "commands": [{"method","path","body"}, …]}: each command as
// its own route would take it, all in one group commit; a result per command, in order.
void batch(exchange& x) {
  if (!check(x, check_params(x.t, {}))) return;
  auto body = json_body(x.req);
  if (!check(x, body)) return;
  std::vector<field_error> unknown, wrong;
  for (const auto& [k, v] : body->as_object()) {
    if (k != "atomic" && k != "commands")
      unknown.push_back({k, "unknown field; allowed: atomic, commands"});
  }
  if (!unknown.empty()) {
    return x.fail_with(
        error{errc::malformed, "the batch has unknown fields", std::move(unknown), {}});
  }
  bool atomic = false;
  if (const value* a = body->find("atomic"); a != nullptr && !a->is_null()) {
    if (a->is_bool()) {
      atomic = a->as_bool();
    } else {
      wrong.push_back({"atomic", "must be true or false"});
    }
  }
  const value* list = body->find("commands");
  if (list == nullptr || !list->is_array() || list->as_array().empty() ||
      list->as_array().size() > k_max_batch_commands) {
    wrong.push_back({"commands", "must be an array of 1 to " +
                                     std::to_string(k_max_batch_commands) + " commands"});
  }
  if (!wrong.empty()) {
    return x.fail_with(
        error{errc::invalid, "the batch cannot be taken as sent", std::move(wrong), {}});
  }
  const auto& items = list->as_array();
  const std::size_t n = items.size();
  std::vector<std::optional<response>> early(n);  // answered before the pipeline
  std::vector<std::pair<command, commands::command_meta>> captured;
  std::vector<std::size_t> captured_at;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at = "commands[" + std::to_string(i) + "]";
    const auto refuse = [&](errc code, std::string detail, std::string field, std::string why) {
      early[i] =
          problem(x.req, error{code, std::move(detail), {{std::move(field), std::move(why)}}, {}});
    };
    const value& item = items[i];
    if (!item.is_object()) {
      refuse(errc::invalid, "a command is an object", at, "must be {\"method\",\"path\",\"body\"}");
      continue;
    }
    bool bad = false;
    for (const auto& [k, v] : item.as_object()) {
      if (k != "method" && k != "path" && k != "body") {
        refuse(errc::malformed, "unknown field in a command", at + "." + k,
               "unknown field; allowed: method, path, body");
        bad = true;
      }
    }
    if (bad) continue;
    const auto method = item.string_at("method");
    const auto path = item.string_at("path");
    const http::verb verb = method == "POST"     ? http::verb::post
                            : method == "PATCH"  ? http::verb::patch
                            : method == "DELETE" ? http::verb::delete_
                                                 : http::verb::unknown;
    if (verb == http::verb::unknown) {
      refuse(errc::invalid, "a command's method is POST, PATCH or DELETE", at + ".method",
             "must be POST, PATCH or DELETE");
      continue;
    }
    if (!path.starts_with("/v1/") || path.starts_with("/v1/admin/") ||
        path.starts_with("/v1/batch")) {
      refuse(errc::invalid, "a command's path is a command route of this API", at + ".path",
             "must be a /v1/ command route (not /v1/admin/… or /v1/batch)");
      continue;
    }
    const value* payload = item.find("body");
    if (payload != nullptr && !payload->is_null() && !payload->is_object()) {
      refuse(errc::invalid, "a command's body is a JSON object", at + ".body", "must be an object");
      continue;
    }
    request sub{verb, std::string(path), 11};
    if (payload != nullptr && !payload->is_null()) {
      sub.set(http::field::content_type, "application/json");
      sub.body() = to_json(*payload);
    }
    sub.prepare_payload();
    auto t = parse_target(path);
    if (!t) {
      early[i] = problem(x.req, t.error());
      continue;
    }
    const route* r = match(t->segments);
    const auto before = captured.size();
    dispatch(
        x.s, x.o, std::move(sub), std::move(*t), r, x.who,
        [&early, i](response res) { early[i] = std::move(res); }, {},
        [&captured](command c, commands::command_meta m) {
          captured.emplace_back(std::move(c), std::move(m));
        });
    if (captured.size() > before) {
      captured_at.push_back(i);
    } else if (!early[i]) {
      early[i] = problem(
          x.req, error{errc::internal, "the command was neither taken nor refused", {}, {}});
    }
  }
  const auto version = x.req.version();
  const bool keep_alive = x.req.keep_alive();
  const auto finish = [respond = x.respond, version, keep_alive, atomic,
                       n](std::vector<std::optional<response>> answers) {
    bool applied = true;
    std::string out = "{\"atomic\":" + std::string(atomic ? "true" : "false") + ",\"results\":[";
    for (std::size_t i = 0; i < n; ++i) {
      const auto& a = *answers[i];
      if (a.result_int() >= 300) applied = false;
      if (i > 0) out += ',';
      out += "{\"status\":" + std::to_string(a.result_int()) + ",\"body\":";
      out += a.body().empty() ? std::string("null") : a.body();
      out += '}';
    }
    out += "],\"applied\":";
    out += applied ? "true" : "false";
    out += '}';
    response res{http::status::ok, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = std::move(out);
    res.prepare_payload();
    respond(std::move(res));
  };
  const bool refused_early =
      std::ranges::any_of(early, [](const auto& e) { return e.has_value(); });
  if (captured.empty() || (atomic && refused_early)) {
    // Nothing to commit; in an atomic batch nothing may be when one command is refused.
    for (std::size_t i = 0; i < n; ++i) {
      if (!early[i]) {
        early[i] =
            problem(x.req, error{errc::conflict,
                                 "not applied: another command of this atomic batch was refused",
                                 {},
                                 {}});
      }
    }
    return finish(std::move(early));
  }
  x.s.pipeline.submit_group(
      std::move(captured), atomic,
      [early = std::move(early), captured_at = std::move(captured_at), finish, version, keep_alive,
       req = std::make_shared<request>(std::move(x.req))](
          std::vector<result<command_outcome>> answers) mutable {
        for (std::size_t k = 0; k < answers.size(); ++k) {
          early[captured_at[k]] = answers[k] ? outcome_response(version, keep_alive, *answers[k])
                                             : problem(*req, answers[k].error());
        }
        finish(std::move(early));
      });
}

}  // namespace

std::vector<route_info> handler::routes() {
  std::vector<route_info> out;
  for (const auto& r : k_routes) {
    std::string path;
    for (const auto& seg : r.pattern) {
      if (seg.empty()) break;
      path += '/';
      path += seg;
    }
    for (const auto m : r.methods) {
      if (m == http::verb{}) continue;
      out.push_back({std::string(http::to_string(m)), path});
    }
  }
  return out;
}

void handler::handle(request req, responder respond, stream_responder stream) const {
  auto t = parse_target(std::string_view(req.target().data(), req.target().size()));
  if (!t) return respond(problem(req, t.error()));
  const route* r = match(t->segments);
  if (r != nullptr && r->id == route_id::healthz && req.method() == http::verb::get) {
    return respond(json_response(req, http::status::ok, R"({"status":"ok"})"));
  }

  const auto token = bearer_token(req);
  const auto who = token.empty() ? std::nullopt : s_.keys.authenticate(token);
  if (!who) {
    auto res = problem(req, 401,
                       token.empty() ? "this route needs an API key. Hint: send 'Authorization: "
                                       "Bearer <key>'; the admin key is in DATA_DIR/admin.key."
                                     : "the API key is not valid",
                       {{"Authorization", token.empty() ? "missing" : "unknown key"}});
    res.set(http::field::www_authenticate, "Bearer realm=\"fieldledger\"");
    return respond(std::move(res));
  }
  dispatch(s_, o_, std::move(req), std::move(*t), r, std::move(*who), std::move(respond),
           std::move(stream), nullptr);
}

}  // namespace fieldledger::api

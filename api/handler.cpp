#include "api/handler.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include "api/problem.hpp"
#include "api/request_parts.hpp"
#include "domain/geo.hpp"
#include "json/parse.hpp"

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
    case route_id::customer_history:
    case route_id::contact_history:
    case route_id::site_history:
    case route_id::asset_history:
    case route_id::events:
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
  if (!accepts_json(req) && !(r->id == route_id::events && wants_event_stream(req))) {
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

  if (!command_media_type_ok(req)) {
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

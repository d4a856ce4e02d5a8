#include "json/event_codec.hpp"

#include <array>

#include <charconv>

#include "json/parse.hpp"

namespace fieldledger::json {

using namespace fieldledger::domain;

namespace {

void member(std::string& out, std::string_view key, std::string_view text) {
  write_json_string(key, out);
  out += ':';
  write_json_string(text, out);
  out += ',';
}

std::unexpected<error> bad(std::string detail) {
  return fail(errc::malformed, "not a fieldledger event: " + std::move(detail));
}

// Upcasters: k_upcasters[n - 1] turns version n of an event into version n + 1. Decoding
// applies them in turn, so readers only ever see the current version; the log keeps what was
// written (an event is never rewritten). The fixture tests/fixtures/events-v1.ndjson is a log
// written by the release before version 2; tests/json/upcast_test.cpp replays it.
using upcaster = void (*)(event&);

// 1 -> 2: asset parts' events were "part.*"; they are "asset-part.*", as the design's event
// catalogue and the API's /v1/asset-parts name them. Their data is unchanged.
void parts_are_asset_parts(event& e) {
  if (e.type.starts_with("part.")) e.type.insert(0, "asset-");
}

constexpr std::array<upcaster, k_current_schema_version - 1> k_upcasters = {parts_are_asset_parts};

result<void> upcast(event& e) {
  if (e.schema_version < 1) return bad("schemaversion must be at least 1");
  if (e.schema_version > k_current_schema_version) {
    return bad("schemaversion " + std::to_string(e.schema_version) +
               " is newer than this release reads (" + std::to_string(k_current_schema_version) +
               ")");
  }
  for (; e.schema_version < k_current_schema_version; ++e.schema_version) {
    k_upcasters[static_cast<std::size_t>(e.schema_version - 1)](e);
  }
  return {};
}

}  // namespace

void encode_event(const event& e, std::string& out) {
  out += '{';
  member(out, "specversion", "1.0");
  member(out, "id", e.id);
  member(out, "source", k_event_source);
  out += "\"type\":";
  write_json_string(std::string(k_event_type_prefix) + e.type, out);
  out += ',';
  member(out, "subject", e.subject);
  member(out, "time", e.time);
  member(out, "datacontenttype", "application/json");
  member(out, "customerid", e.customer.get());
  member(out, "entityid", e.entity_id);
  out += "\"entityversion\":" + std::to_string(e.version.get()) + ",";
  member(out, "actor", e.actor);
  member(out, "correlationid", e.correlation_id);
  // Each as the event holds it, so that whatever decodes encodes back the same (a digest
  // without a key, found by fuzz/event_decode, did not).
  if (!e.idempotency_key.empty()) member(out, "idempotencykey", e.idempotency_key);
  if (!e.request_digest.empty()) member(out, "requestdigest", e.request_digest);
  out += "\"schemaversion\":" + std::to_string(e.schema_version) + ",";
  out += "\"data\":";
  write_json(e.data, out);
  out += '}';
}

std::string encode_event(const event& e) {
  std::string out;
  out.reserve(512);
  encode_event(e, out);
  return out;
}

result<event> decode_event(std::string_view text) {
  auto doc = json::parse(text, {.max_depth = 64, .max_string_bytes = 1 << 20});
  if (!doc) return bad(doc.error().detail);
  if (!doc->is_object()) return bad("the document is not an object");
  const value& d = *doc;
  if (d.string_at("specversion") != "1.0") return bad("specversion is not \"1.0\"");
  const auto type = d.string_at("type");
  if (!type.starts_with(k_event_type_prefix)) return bad("type lacks the fieldledger. prefix");
  event e;
  e.id = d.string_at("id");
  e.type = type.substr(k_event_type_prefix.size());
  e.customer = customer_id{std::string(d.string_at("customerid"))};
  e.entity_id = d.string_at("entityid");
  e.subject = d.string_at("subject");
  e.time = d.string_at("time");
  e.actor = d.string_at("actor");
  e.correlation_id = d.string_at("correlationid");
  e.idempotency_key = d.string_at("idempotencykey");
  e.request_digest = d.string_at("requestdigest");
  if (e.id.empty() || e.customer.get().empty() || e.entity_id.empty()) {
    return bad("id, customerid and entityid are required");
  }
  const value* version = d.find("entityversion");
  if (version == nullptr || !version->is_int()) return bad("entityversion is not an integer");
  e.version = entity_version{version->as_int()};
  const value* schema = d.find("schemaversion");
  if (schema == nullptr || !schema->is_int()) return bad("schemaversion is not an integer");
  e.schema_version = static_cast<int>(schema->as_int());
  auto data = doc->as_object().find("data");
  if (data == doc->as_object().end() || !data->second.is_object()) {
    return bad("data is not an object");
  }
  e.data = std::move(data->second);  // the document is not read again: no deep copy
  if (auto up = upcast(e); !up) return std::unexpected(up.error());
  return e;
}

}  // namespace fieldledger::json

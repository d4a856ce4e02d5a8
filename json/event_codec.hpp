#pragma once
// The wire form of an event: a CloudEvents 1.0 JSON document in structured mode, the same on
// every log (embedded, Kafka) and in the event feed. Extension attributes carry what the
// CloudEvents core has no name for:
//   customerid, entityid, entityversion, actor, correlationid, idempotencykey, requestdigest,
//   schemaversion
// Decoding runs the upcasters, so readers always see the current schema version.
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/event.hpp"

namespace fieldledger::json {

inline constexpr std::string_view k_event_type_prefix = "fieldledger.";
inline constexpr std::string_view k_event_source = "/fieldledger";
inline constexpr std::string_view k_cloudevents_content_type = "application/cloudevents+json";

std::string encode_event(const domain::event& e);
void encode_event(const domain::event& e, std::string& out);

// errc::malformed when the text is not a CloudEvents document of ours, or its schema version
// is newer than this release knows.
[[nodiscard]] domain::result<domain::event> decode_event(std::string_view text);

}  // namespace fieldledger::json

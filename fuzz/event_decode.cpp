// Fuzz target: an event as it comes from the log or a Kafka topic (CloudEvents JSON, any
// schema version), through the decoder and the upcasters. Property: what decodes encodes to
// a document that decodes to the same event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "json/event_codec.hpp"

using namespace fieldledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto e = json::decode_event(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!e) return 0;
  auto again = json::decode_event(json::encode_event(*e));
  if (!again || !(*again == *e)) std::abort();
  return 0;
}

// The CloudEvents codec: round trips, the document's shape, and what it refuses.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "domain/ids.hpp"
#include "json/event_codec.hpp"
#include "json/parse.hpp"

namespace fieldledger::json {
namespace {

using namespace fieldledger::domain;

event sample() {
  event e;
  e.id = new_id();
  e.type = std::string(event_types::contact_added);
  e.customer = customer_id{new_id()};
  e.entity_id = new_id();
  e.subject = "customers/" + e.customer.get() + "/contacts/" + e.entity_id;
  e.version = entity_version{3};
  e.time = "2026-11-22T10:00:00.123Z";
  e.actor = "dispatch";
  e.correlation_id = new_id();
  e.data = object{{"fields", object{{"name", "Zoë \"Z\" Chen\n"}, {"roles", array{"billing"}}}}};
  return e;
}

TEST(EventCodec, RoundTripsAnEventExactly) {
  auto e = sample();
  auto back = decode_event(encode_event(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, e);
  e.idempotency_key = "retry-1";
  e.request_digest = "abcdef";
  back = decode_event(encode_event(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

// Found by fuzz/event_decode: 56e5 is a double; written as "5600000" it came back an integer.
TEST(EventCodec, RoundTripsWholeDoublesAsDoubles) {
  auto e = sample();
  e.data = object{{"fields", object{{"n", 56e5}, {"m", -0.0}, {"i", 7}}}};
  auto back = decode_event(encode_event(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, e);
  std::ifstream in(std::string(FIELDLEDGER_SOURCE_DIR) +
                   "/fuzz/corpus/event_decode/regression-whole-double.json");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto first = decode_event(doc);
  ASSERT_TRUE(first) << first.error().detail;
  auto again = decode_event(encode_event(*first));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
}

// Found by fuzz/event_decode: a request digest without an idempotency key was dropped.
TEST(EventCodec, RoundTripsADigestWithoutAKey) {
  auto e = sample();
  e.request_digest = "01a2085e";
  auto back = decode_event(encode_event(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, e);
}

TEST(EventCodec, WritesAStructuredCloudEvent) {
  const auto e = sample();
  auto doc = parse(encode_event(e));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->string_at("specversion"), "1.0");
  EXPECT_EQ(doc->string_at("type"), "fieldledger.contact.added");
  EXPECT_EQ(doc->string_at("source"), "/fieldledger");
  EXPECT_EQ(doc->string_at("id"), e.id);
  EXPECT_EQ(doc->string_at("subject"), e.subject);
  EXPECT_EQ(doc->string_at("time"), e.time);
  EXPECT_EQ(doc->string_at("datacontenttype"), "application/json");
  EXPECT_EQ(doc->string_at("customerid"), e.customer.get());
  EXPECT_EQ(doc->string_at("entityid"), e.entity_id);
  EXPECT_EQ(doc->find("entityversion")->as_int(), 3);
  EXPECT_EQ(doc->string_at("actor"), "dispatch");
  EXPECT_EQ(doc->string_at("correlationid"), e.correlation_id);
  EXPECT_EQ(doc->find("schemaversion")->as_int(), k_current_schema_version);
  EXPECT_EQ(doc->find("idempotencykey"), nullptr) << "absent when the command had no key";
  EXPECT_EQ(*doc->find("data"), e.data);
}

TEST(EventCodec, RefusesWhatIsNotOneOfOurEvents) {
  auto doc = parse(encode_event(sample()));
  ASSERT_TRUE(doc);
  const auto with = [&](std::string_view key, value v) {
    auto d = *doc;
    if (v.is_null()) {
      d.as_object().erase(std::string(key));
    } else {
      d.as_object()[std::string(key)] = std::move(v);
    }
    return to_json(d);
  };
  for (const auto& text :
       {std::string("not json"), std::string("[1]"), with("specversion", "0.3"),
        with("type", "customer.registered"), with("entityversion", value{}),
        with("entityversion", "3"), with("data", array{}), with("customerid", value{}),
        with("schemaversion", k_current_schema_version + 1), with("schemaversion", 0)}) {
    auto r = decode_event(text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_EQ(r.error().code, errc::malformed);
    }
  }
}

}  // namespace
}  // namespace fieldledger::json

// History, as-of reads and the event feed over HTTP.
#include <thread>

#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

class AuditApi : public ApiTest {
 protected:
  std::string create(const std::string& target, const std::string& body) {
    auto r = command("POST", target, body);
    EXPECT_EQ(r.status, 201) << target << " " << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  static std::string now() { return domain::now_rfc3339(); }
  static void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(5)); }
};

TEST_P(AuditApi, HistoryListsEveryChangeNewestFirstWithFieldChanges) {
  const auto acme = create("/v1/customers", R"({"name":"Acme","phone1":"555-0100"})");
  ASSERT_EQ(command("PATCH", "/v1/customers/" + acme, R"({"phone1":"555-0111"})").status, 200);
  const auto david = create("/v1/customers/" + acme + "/contacts", R"({"name":"David Chen"})");
  ASSERT_EQ(command("DELETE", "/v1/contacts/" + david).status, 200);

  auto r = get("/v1/customers/" + acme + "/history");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto page = json_of(r);
  const auto& items = page.find("items")->as_array();
  ASSERT_EQ(items.size(), 5u);  // registered, changed, contact added, primary, removed
  EXPECT_EQ(items[0].string_at("type"), "contact.removed");
  EXPECT_EQ(items[0].string_at("entity"), "contacts/" + david);
  EXPECT_EQ(items[0].string_at("actor"), "admin");
  const auto& removed = items[0].find("changes")->as_array().at(0);
  EXPECT_EQ(removed.string_at("field"), "name");
  EXPECT_EQ(removed.string_at("before"), "David Chen") << "a removed contact keeps its name";
  EXPECT_EQ(items[4].string_at("type"), "customer.registered");
  const auto& phone = items[3].find("changes")->as_array().at(0);
  EXPECT_EQ(phone.string_at("field"), "phone1");
  EXPECT_EQ(phone.string_at("before"), "555-0100");
  EXPECT_EQ(phone.string_at("after"), "555-0111");

  // Filters, and the same history from the contact's side after its removal.
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/history?type=customer.details-changed"))
                .find("items")->as_array().size(), 1u);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/history?entity=contacts/" + david))
                .find("items")->as_array().size(), 3u);
  EXPECT_EQ(json_of(get("/v1/contacts/" + david + "/history")).find("items")->as_array().size(), 3u);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/history?actor=someone-else"))
                .find("items")->as_array().size(), 0u);
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers/" + acme + "/history?since=yesterday"), 422)),
            "since");

  // Paging walks every change once.
  std::size_t seen = 0;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    auto p = json_of(get("/v1/customers/" + acme + "/history?limit=2" +
                         (cursor.empty() ? "" : "&cursor=" + cursor)));
    seen += p.find("items")->as_array().size();
    if (p.find("next_cursor")->is_null()) break;
    cursor = p.find("next_cursor")->as_string();
  }
  EXPECT_EQ(seen, 5u);
}

TEST_P(AuditApi, AsOfAnswersTheStateAtThatInstant) {
  const auto acme = create("/v1/customers", R"({"name":"Acme Old"})");
  const auto site = create("/v1/customers/" + acme + "/sites", R"({"name":"North"})");
  const auto asset = create("/v1/customers/" + acme + "/assets", R"({"site_id":")" + site + R"(","brand":"Carrier"})");
  tick();
  const auto before = now();
  tick();
  ASSERT_EQ(command("PATCH", "/v1/customers/" + acme, R"({"name":"Acme New"})").status, 200);
  ASSERT_EQ(command("PATCH", "/v1/assets/" + asset, R"({"brand":"Trane"})").status, 200);
  create("/v1/customers/" + acme + "/contacts", R"({"name":"Later"})");

  EXPECT_EQ(json_of(get("/v1/customers/" + acme)).string_at("name"), "Acme New");
  auto then = send("GET", "/v1/customers/" + acme + "?as_of=" + before);
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(json_of(then).string_at("name"), "Acme Old");
  EXPECT_EQ(json_of(send("GET", "/v1/assets/" + asset + "?as_of=" + before)).string_at("brand"), "Carrier");
  EXPECT_EQ(json_of(send("GET", "/v1/customers/" + acme + "/contacts?as_of=" + before))
                .find("items")->as_array().size(), 0u);
  EXPECT_EQ(json_of(send("GET", "/v1/sites/" + site + "/assets?as_of=" + before)).find("items"),
            nullptr) << "site asset lists take no as_of";
  problem_of(send("GET", "/v1/customers/" + acme + "?as_of=2000-01-01T00:00:00Z"), 404);
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers/" + acme + "?as_of=soon"), 422)), "as_of");
}

TEST_P(AuditApi, TheEventFeedPagesThroughEveryEventOnce) {
  const auto acme = create("/v1/customers", R"({"name":"Acme"})");
  create("/v1/customers/" + acme + "/contacts", R"({"name":"David"})");
  for (int i = 0; i < 5; ++i) create("/v1/customers", R"({"name":"C )" + std::to_string(i) + R"("})");
  std::set<std::string> ids;
  std::string after;
  for (int i = 0; i < 20; ++i) {
    auto r = send("GET", "/v1/events?limit=3" + (after.empty() ? "" : "&after=" + after));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = json_of(r);
    const auto& items = page.find("items")->as_array();
    for (const auto& e : items) {
      EXPECT_EQ(e.string_at("specversion"), "1.0");
      EXPECT_TRUE(domain::parse_log_position(e.string_at("position")));
      EXPECT_TRUE(ids.insert(std::string(e.string_at("id"))).second);
    }
    after = page.find("next")->as_string();
    if (items.empty()) break;
  }
  EXPECT_EQ(ids.size(), 8u);  // 6 registrations, a contact added, its primary designation
  auto only = json_of(send("GET", "/v1/events?types=contact.added&customer=" + acme));
  ASSERT_EQ(only.find("items")->as_array().size(), 1u);
  EXPECT_EQ(only.find("items")->as_array()[0].string_at("type"), "fieldledger.contact.added");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/events?after=x"), 422)), "after");
}

INSTANTIATE_TEST_SUITE_P(Logs, AuditApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

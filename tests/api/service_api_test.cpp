// Notes, work orders and service history, notification recipients and the customer summary
// over HTTP, on both logs.
#include <chrono>
#include <thread>

#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

class ServiceApi : public ApiTest {
 protected:
  std::string create(const std::string& target, const std::string& body) {
    auto r = command("POST", target, body);
    EXPECT_EQ(r.status, 201) << target << " " << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  // A member of each item of the page at target.
  std::vector<std::string> column(const std::string& target, const std::string& member = "id") {
    auto r = get(target);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    std::vector<std::string> out;
    const auto page = json_of(r);
    if (const value* items = page.find("items")) {
      for (const auto& d : items->as_array()) out.emplace_back(d.string_at(member));
    }
    return out;
  }
  void SetUp() override {
    ApiTest::SetUp();
    acme_ = create("/v1/customers", k_acme);
    north_ = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
    south_ = create("/v1/customers/" + acme_ + "/sites", R"({"name":"South"})");
    boiler_ = create("/v1/customers/" + acme_ + "/assets", R"({"site_id":")" + north_ + R"("})");
  }
  std::string acme_, north_, south_, boiler_;
};

using strings = std::vector<std::string>;

TEST_P(ServiceApi, NotesListUrgentFirstThenNewestFirst) {
  const auto base = "/v1/customers/" + acme_ + "/notes";
  const auto a = create(base, R"({"text":"Gate code 4411"})");
  const auto b =
      create(base, R"({"text":"Dog on site","urgent":true,"site_id":")" + north_ + R"("})");
  const auto c =
      create(base, R"({"text":"Boiler room key at reception","asset_id":")" + boiler_ + R"("})");
  const auto d = create(base, R"({"text":"Call before 10","urgent":true})");
  EXPECT_EQ(column(base), (strings{d, b, c, a}));
  EXPECT_EQ(column("/v1/sites/" + north_ + "/notes"), strings{b});
  EXPECT_EQ(column("/v1/assets/" + boiler_ + "/notes"), strings{c});

  // Paging keeps the order.
  auto first = json_of(get(base + "?limit=3"));
  ASSERT_EQ(first.find("items")->as_array().size(), 3u);
  const std::string cursor(first.string_at("next_cursor"));
  EXPECT_EQ(column(base + "?limit=3&cursor=" + cursor), strings{a});

  // Marking a note urgent moves it among the urgent ones (newest first); removing it takes it
  // off every list.
  auto r = command("PATCH", "/v1/notes/" + a, R"({"urgent":true})", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(column(base), (strings{d, b, a, c}));
  ASSERT_EQ(command("DELETE", "/v1/notes/" + b).status, 200);
  EXPECT_EQ(column(base), (strings{d, a, c}));
  EXPECT_TRUE(column("/v1/sites/" + north_ + "/notes").empty());
  problem_of(get("/v1/notes/" + b), 404);

  auto doc = json_of(get("/v1/notes/" + a));
  EXPECT_EQ(doc.string_at("text"), "Gate code 4411");
  EXPECT_EQ(doc.string_at("customer_id"), acme_);
  EXPECT_EQ(doc.find("version")->as_int(), 2);
}

TEST_P(ServiceApi, BadNotesAreRefusedNamingTheField) {
  const auto base = "/v1/customers/" + acme_ + "/notes";
  EXPECT_EQ(first_field(problem_of(send("POST", base, R"({"urgent":true})"), 422)), "text");
  EXPECT_EQ(first_field(problem_of(send("POST", base, R"({"text":"x","urgent":"very"})"), 422)),
            "urgent");
  EXPECT_EQ(
      first_field(problem_of(
          send("POST", base, R"({"text":"x","site_id":"00000000-0000-7000-8000-000000000001"})"),
          422)),
      "site_id");
  const auto other = create("/v1/customers", R"({"name":"Other"})");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/customers/" + other + "/notes",
                                        R"({"text":"x","asset_id":")" + boiler_ + R"("})"),
                                   422)),
            "asset_id");
  problem_of(
      send("POST", "/v1/customers/00000000-0000-7000-8000-000000000009/notes", R"({"text":"x"})"),
      404);
  EXPECT_TRUE(column(base).empty());
}

TEST_P(ServiceApi, WorkOrdersGetJobNumbersContactsAndMoveThroughStatuses) {
  const auto mike = create("/v1/customers/" + acme_ + "/contacts", R"({"name":"Mike Johnson"})");
  const auto david = create("/v1/customers/" + acme_ + "/contacts", R"({"name":"David Chen"})");
  ASSERT_EQ(command("POST", "/v1/contacts/" + david + "/make-primary").status, 200);
  ASSERT_EQ(
      command("PATCH", "/v1/sites/" + north_, R"({"site_contact_id":")" + mike + R"("})").status,
      200);
  const auto base = "/v1/customers/" + acme_ + "/work-orders";
  auto r = command(
      "POST", base,
      R"({"asset_id":")" + boiler_ +
          R"(","summary":"No heat","category":"repair","priority":"high","assignee":"Ann Lee"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string heat(json_of(r).string_at("id"));
  EXPECT_EQ(r.headers["location"], "/v1/work-orders/" + heat);
  EXPECT_EQ(json_of(r).string_at("number"), "WO-000001");
  auto doc = json_of(get("/v1/work-orders/" + heat));
  EXPECT_EQ(doc.string_at("number"), "WO-000001");
  EXPECT_EQ(doc.string_at("site_id"), north_);
  EXPECT_EQ(doc.string_at("contact_id"), mike);
  EXPECT_EQ(doc.string_at("contact_name"), "Mike Johnson");
  EXPECT_EQ(doc.string_at("status"), "assigned");

  const auto paint = create(base, R"({"site_id":")" + south_ + R"(","summary":"Paint"})");
  doc = json_of(get("/v1/work-orders/" + paint));
  EXPECT_EQ(doc.string_at("number"), "WO-000002");
  EXPECT_EQ(doc.string_at("contact_id"), david);  // South has no site contact: the primary
  EXPECT_EQ(doc.string_at("status"), "open");
  EXPECT_EQ(doc.string_at("priority"), "normal");

  // The jobs tab, filtered.
  EXPECT_EQ(column(base), (strings{paint, heat}));
  EXPECT_EQ(column(base, "number"), (strings{"WO-000002", "WO-000001"}));
  EXPECT_EQ(column(base + "?priority=high"), strings{heat});
  EXPECT_EQ(column(base + "?status=open"), strings{paint});

  ASSERT_EQ(command("POST", "/v1/work-orders/" + paint + "/assign", R"({"assignee":"Bo"})").status,
            200);
  ASSERT_EQ(command("POST", "/v1/work-orders/" + heat + "/complete", R"({"resolution":"Valve"})",
                    {{"If-Match", "\"1\""}})
                .status,
            200);
  doc = json_of(get("/v1/work-orders/" + heat));
  EXPECT_EQ(doc.string_at("status"), "completed");
  EXPECT_EQ(doc.string_at("resolution"), "Valve");
  EXPECT_FALSE(doc.string_at("completed_at").empty());
  problem_of(send("POST", "/v1/work-orders/" + heat + "/cancel"), 409);
  ASSERT_EQ(command("POST", "/v1/work-orders/" + paint + "/cancel").status, 200);
  EXPECT_EQ(column(base + "?status=cancelled"), strings{paint});

  // Service history of the asset, the sites and the customer.
  EXPECT_EQ(column("/v1/assets/" + boiler_ + "/service-history"), strings{heat});
  EXPECT_EQ(column("/v1/sites/" + north_ + "/service-history"), strings{heat});
  EXPECT_EQ(column("/v1/sites/" + south_ + "/service-history"), strings{paint});
  EXPECT_EQ(column("/v1/customers/" + acme_ + "/service-history?status=completed"), strings{heat});
}

TEST_P(ServiceApi, WorkOrdersForSomebodyElsesSiteOrAssetAreRefused) {
  const auto other = create("/v1/customers", R"({"name":"Other"})");
  const auto base = "/v1/customers/" + other + "/work-orders";
  EXPECT_EQ(first_field(problem_of(
                send("POST", base, R"({"site_id":")" + north_ + R"(","summary":"x"})"), 422)),
            "site_id");
  EXPECT_EQ(first_field(problem_of(
                send("POST", base, R"({"asset_id":")" + boiler_ + R"(","summary":"x"})"), 422)),
            "asset_id");
  EXPECT_EQ(first_field(problem_of(send("POST", base, R"({"summary":"x"})"), 422)), "site_id");
  EXPECT_EQ(first_field(problem_of(send("GET", base + "?status=done"), 422)), "status");
  problem_of(send("POST", "/v1/work-orders/00000000-0000-7000-8000-000000000009/assign",
                  R"({"assignee":"x"})"),
             404);
  EXPECT_TRUE(column(base).empty());
}

TEST_P(ServiceApi, NotificationRecipientsAreTheOptedInContactsSiteFirstElseThePrimary) {
  const auto rec = [&](const std::string& query) {
    auto r = get("/v1/customers/" + acme_ + "/notification-recipients?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json_of(r);
  };
  const auto names = [](const value& doc) {
    strings out;
    for (const auto& c : doc.find("items")->as_array()) out.emplace_back(c.string_at("name"));
    return out;
  };
  // Nobody yet, not even a primary contact.
  EXPECT_TRUE(names(rec("kind=invoices")).empty());

  const auto david = create("/v1/customers/" + acme_ + "/contacts",
                            R"({"name":"David","roles":["approval_authority"]})");
  ASSERT_EQ(command("POST", "/v1/contacts/" + david + "/make-primary").status, 200);
  auto doc = rec("kind=invoices");
  EXPECT_EQ(names(doc), strings{"David"});
  EXPECT_TRUE(doc.find("fallback")->as_bool());
  EXPECT_EQ(doc.find("items")->as_array()[0].string_at("reason"), "primary_contact");

  create(
      "/v1/customers/" + acme_ + "/contacts",
      R"({"name":"Susan","roles":["billing"],"notify":{"invoices":true,"quote_approvals":true}})");
  create("/v1/customers/" + acme_ + "/contacts",
         R"({"name":"Mike","site_id":")" + south_ +
             R"(","notify":{"work_orders":true,"invoices":true}})");
  create("/v1/customers/" + acme_ + "/contacts",
         R"({"name":"Lisa","notify":{"work_orders":true}})");
  doc = rec("kind=invoices");
  EXPECT_EQ(names(doc), (strings{"Susan", "Mike"}));
  EXPECT_FALSE(doc.find("fallback")->as_bool());
  EXPECT_EQ(names(rec("kind=work_orders&site_id=" + south_)), (strings{"Mike", "Lisa"}));
  EXPECT_EQ(names(rec("kind=work_orders")), (strings{"Mike", "Lisa"}));
  // Susan opted in to quote approvals but has no approval authority; David has it and is the
  // primary contact.
  EXPECT_EQ(names(rec("kind=quote_approvals")), strings{"David"});
  EXPECT_EQ(names(rec("kind=completions")), strings{"David"});

  EXPECT_EQ(first_field(problem_of(
                send("GET", "/v1/customers/" + acme_ + "/notification-recipients?kind=sms"), 422)),
            "kind");
  const auto other = create("/v1/customers", R"({"name":"Other"})");
  const auto far = create("/v1/customers/" + other + "/sites", R"({"name":"Far"})");
  EXPECT_EQ(first_field(
                problem_of(send("GET", "/v1/customers/" + acme_ +
                                           "/notification-recipients?kind=invoices&site_id=" + far),
                           422)),
            "site_id");
}

TEST_P(ServiceApi, TheSummaryShowsTheCustomerFileInOneRead) {
  const auto david = create("/v1/customers/" + acme_ + "/contacts", R"({"name":"David"})");
  ASSERT_EQ(command("POST", "/v1/contacts/" + david + "/make-primary").status, 200);
  const auto urgent =
      create("/v1/customers/" + acme_ + "/notes", R"({"text":"Dog","urgent":true})");
  create("/v1/customers/" + acme_ + "/notes", R"({"text":"Plain"})");
  create("/v1/customers/" + acme_ + "/work-orders",
         R"({"site_id":")" + north_ + R"(","summary":"a"})");
  const auto done = create("/v1/customers/" + acme_ + "/work-orders",
                           R"({"site_id":")" + north_ + R"(","summary":"b"})");
  ASSERT_EQ(command("POST", "/v1/work-orders/" + done + "/complete").status, 200);
  ASSERT_EQ(command("DELETE", "/v1/sites/" + south_).status, 200);
  auto up = command("POST", "/v1/customers/" + acme_ + "/files?filename=plan.txt", "site plan",
                    {{"Content-Type", "text/plain"}});
  ASSERT_EQ(up.status, 201) << up.body;

  auto r = get("/v1/customers/" + acme_ + "/summary");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = json_of(r);
  EXPECT_EQ(doc.find("customer")->string_at("id"), acme_);
  EXPECT_EQ(doc.find("primary_contact")->string_at("id"), david);
  const value& counts = *doc.find("counts");
  EXPECT_EQ(counts.find("contacts")->as_int(), 1);
  EXPECT_EQ(counts.find("sites")->as_int(), 1);
  EXPECT_EQ(counts.find("assets")->as_int(), 1);
  EXPECT_EQ(counts.find("open_work_orders")->as_int(), 1);
  EXPECT_EQ(counts.find("notes")->as_int(), 2);
  EXPECT_EQ(counts.find("urgent_notes")->as_int(), 1);
  EXPECT_EQ(counts.find("files")->as_int(), 1);
  ASSERT_EQ(doc.find("urgent_notes")->as_array().size(), 1u);
  EXPECT_EQ(doc.find("urgent_notes")->as_array()[0].string_at("id"), urgent);
  const auto& recent = doc.find("recent_changes")->as_array();
  ASSERT_EQ(recent.size(), 5u);
  EXPECT_EQ(recent[0].string_at("type"), "file.attached");
  EXPECT_EQ(recent[1].string_at("type"), "site.removed");
  EXPECT_EQ(recent[0].find("changes"), nullptr);  // values stay behind the audit role

  problem_of(get("/v1/customers/00000000-0000-7000-8000-000000000009/summary"), 404);
}

TEST_P(ServiceApi, NotesAndWorkOrdersHaveHistoryAndAsOf) {
  const auto note = create("/v1/customers/" + acme_ + "/notes", R"({"text":"v1"})");
  const auto job = create("/v1/customers/" + acme_ + "/work-orders",
                          R"({"site_id":")" + north_ + R"(","summary":"Leak"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto before = domain::now_rfc3339();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(command("PATCH", "/v1/notes/" + note, R"({"text":"v2"})").status, 200);
  ASSERT_EQ(command("POST", "/v1/work-orders/" + job + "/complete").status, 200);
  create("/v1/customers/" + acme_ + "/notes", R"({"text":"later","urgent":true})");

  EXPECT_EQ(json_of(get("/v1/notes/" + note)).string_at("text"), "v2");
  auto then = send("GET", "/v1/notes/" + note + "?as_of=" + before);
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(json_of(then).string_at("text"), "v1");
  EXPECT_EQ(json_of(send("GET", "/v1/work-orders/" + job + "?as_of=" + before)).string_at("status"),
            "open");
  EXPECT_EQ(json_of(send("GET", "/v1/customers/" + acme_ + "/notes?as_of=" + before))
                .find("items")
                ->as_array()
                .size(),
            1u);
  auto r = get("/v1/customers/" + acme_ + "/history?entity=notes/" + note);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto items = json_of(r).find("items")->as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].string_at("type"), "note.changed");
  EXPECT_EQ(items[1].string_at("type"), "note.added");
}

TEST_P(ServiceApi, PicklistsGovernTheirFieldsAndKeepRetiredValuesReadable) {
  // Before any value, a list is empty and accepts anything.
  auto doc = json_of(get("/v1/picklists/industry"));
  EXPECT_TRUE(doc.find("values")->as_array().empty());
  const auto old = create("/v1/customers", R"({"name":"Old","industry":"Mining"})");

  ASSERT_EQ(command("POST", "/v1/picklists/industry", R"({"value":"Healthcare"})").status, 200);
  auto r = command("POST", "/v1/picklists/industry", R"({"value":"Retail"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["etag"], "\"2\"");
  doc = json_of(get("/v1/picklists/industry"));
  ASSERT_EQ(doc.find("values")->as_array().size(), 2u);
  EXPECT_EQ(doc.find("values")->as_array()[1].string_at("value"), "Retail");

  auto p = problem_of(send("POST", "/v1/customers", R"({"name":"New","industry":"Mining"})"), 422);
  EXPECT_EQ(first_field(p), "industry");
  EXPECT_NE(p.find("errors")->as_array()[0].string_at("message").find("Healthcare, Retail"),
            std::string::npos)
      << to_json(p);
  const auto shop = create("/v1/customers", R"({"name":"Shop","industry":"Retail"})");

  ASSERT_EQ(command("POST", "/v1/picklists/industry/retire", R"({"value":"Retail"})").status, 200);
  doc = json_of(get("/v1/picklists/industry"));
  EXPECT_TRUE(doc.find("values")->as_array()[1].find("retired")->as_bool());
  // Old records keep their values and still take other changes.
  EXPECT_EQ(json_of(get("/v1/customers/" + shop)).string_at("industry"), "Retail");
  EXPECT_EQ(json_of(get("/v1/customers/" + old)).string_at("industry"), "Mining");
  ASSERT_EQ(command("PATCH", "/v1/customers/" + shop, R"({"phone1":"555 0100"})").status, 200);
  EXPECT_EQ(first_field(
                problem_of(send("PATCH", "/v1/customers/" + old, R"({"industry":"Retail"})"), 422)),
            "industry");

  // Every list at once; unknown lists and bad bodies.
  doc = json_of(get("/v1/picklists"));
  EXPECT_EQ(doc.find("items")->as_array().size(), 5u);
  problem_of(send("GET", "/v1/picklists/colour"), 404);
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/picklists/industry", R"({"val":"x"})"), 400)),
            "val");
  EXPECT_EQ(first_field(problem_of(
                send("POST", "/v1/picklists/industry/retire", R"({"value":"Steel"})"), 422)),
            "value");
}

TEST_P(ServiceApi, ASiteWithoutAZoneGetsTheZoneItsCoordinatesFallIn) {
  const std::string square =
      R"({"points":[{"lat":51.0,"lng":-1.0},{"lat":51.0,"lng":1.0},{"lat":52.0,"lng":1.0},)"
      R"({"lat":52.0,"lng":-1.0},{"lat":51.0,"lng":-1.0}]})";
  auto r = command("POST", "/v1/picklists/service_zone",
                   R"({"value":"London","geofence":)" + square + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(command("POST", "/v1/picklists/service_zone", R"({"value":"Remote"})").status, 200);
  const auto site = [&](const std::string& extra) {
    return create("/v1/customers/" + acme_ + "/sites",
                  R"({"name":"S","address":{"country":"GB",)" + extra + "}}");
  };
  const auto inside = site(R"("lat":51.5,"lng":-0.1)");
  const auto outside = site(R"("lat":48.8,"lng":2.3)");
  const auto own = create("/v1/customers/" + acme_ + "/sites",
                          R"({"name":"S","service_zone":"Remote","address":{"lat":51.5,"lng":0}})");
  EXPECT_EQ(json_of(get("/v1/sites/" + inside)).string_at("derived_service_zone"), "London");
  EXPECT_EQ(json_of(get("/v1/sites/" + outside)).find("derived_service_zone"), nullptr);
  EXPECT_EQ(json_of(get("/v1/sites/" + own)).find("derived_service_zone"), nullptr);
  EXPECT_EQ(json_of(get("/v1/sites/" + north_)).find("derived_service_zone"), nullptr);

  // A retired zone no longer claims sites; areas are validated like geofences.
  ASSERT_EQ(command("POST", "/v1/picklists/service_zone/retire", R"({"value":"London"})").status,
            200);
  EXPECT_EQ(json_of(get("/v1/sites/" + inside)).find("derived_service_zone"), nullptr);
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/picklists/service_zone",
                                        R"({"value":"Bad","geofence":{"points":[{"lat":1,"lng":1},)"
                                        R"({"lat":2,"lng":2},{"lat":1,"lng":2}]}})"),
                                   422)),
            "geofence.points");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/picklists/industry",
                                        R"({"value":"X","geofence":)" + square + "}"),
                                   400)),
            "geofence");
}

INSTANTIATE_TEST_SUITE_P(Logs, ServiceApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

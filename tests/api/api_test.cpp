// Customers and contacts over HTTP: the routes, their errors, read-your-writes, idempotency
// and the one-primary invariant under concurrency.
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

TEST_P(ApiTest, RegisteringACustomerAnswers201WithLocationEtagNumberAndPosition) {
  auto r = command("POST", "/v1/customers", k_acme);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto body = json_of(r);
  const std::string id(body.string_at("id"));
  EXPECT_TRUE(domain::is_id(id));
  EXPECT_EQ(body.string_at("number"), "C-000001");
  EXPECT_EQ(body.find("version")->as_int(), 1);
  EXPECT_TRUE(domain::parse_log_position(body.string_at("position")));
  EXPECT_EQ(r.headers["location"], "/v1/customers/" + id);
  EXPECT_EQ(r.headers["etag"], "\"1\"");
  EXPECT_EQ(json_of(command("POST", "/v1/customers", R"({"name":"Beta"})")).string_at("number"),
            "C-000002");
}

TEST_P(ApiTest, ReadingACustomerShowsStatusVersionStampsPrimaryContactAndCounts) {
  const auto id = create_customer(k_acme);
  auto r = get("/v1/customers/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = json_of(r);
  EXPECT_EQ(doc.string_at("status"), "active");
  EXPECT_EQ(doc.string_at("name"), "Acme Facilities Ltd");
  EXPECT_EQ(doc.find("billing_address")->string_at("city"), "Springfield");
  EXPECT_EQ(doc.string_at("created_by"), "admin");
  EXPECT_FALSE(doc.string_at("modified_at").empty());
  EXPECT_TRUE(doc.find("primary_contact")->is_null());
  EXPECT_EQ(doc.find("counts")->find("contacts")->as_int(), 0);
  EXPECT_EQ(r.headers["etag"], "\"1\"");

  const auto david = add_contact(id, R"({"name":"David Chen","title":"Facilities Manager"})");
  doc = json_of(get("/v1/customers/" + id));
  EXPECT_EQ(doc.find("primary_contact")->string_at("id"), david);
  EXPECT_EQ(doc.find("primary_contact")->string_at("name"), "David Chen");
  EXPECT_EQ(doc.find("counts")->find("contacts")->as_int(), 1);
}

TEST_P(ApiTest, PatchMergesAndAStaleIfMatchIs412AndAppendsNothing) {
  const auto id = create_customer(k_acme);
  auto r = command("PATCH", "/v1/customers/" + id, R"({"phone1":"+1 555 0111","dba_name":null})",
                   {{"If-Match", "\"1\""}, {"Content-Type", "application/merge-patch+json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["etag"], "\"2\"");
  auto doc = json_of(get("/v1/customers/" + id));
  EXPECT_EQ(doc.string_at("phone1"), "+1 555 0111");
  EXPECT_EQ(doc.find("dba_name"), nullptr);
  EXPECT_EQ(doc.find("version")->as_int(), 2);

  const auto before = log_size();
  problem_of(command("PATCH", "/v1/customers/" + id, R"({"phone1":"1"})", {{"If-Match", "\"1\""}}),
             412);
  EXPECT_EQ(log_size(), before);
  problem_of(send("PATCH", "/v1/customers/" + id, R"({"phone1":"1"})", {{"If-Match", "v1"}}), 400);
}

TEST_P(ApiTest, DeactivateReactivateAndArchiveChangeStatusAndArchivedRefusesChanges) {
  const auto id = create_customer(k_acme);
  ASSERT_EQ(command("POST", "/v1/customers/" + id + "/deactivate").status, 200);
  EXPECT_EQ(json_of(get("/v1/customers/" + id)).string_at("status"), "inactive");
  ASSERT_EQ(command("POST", "/v1/customers/" + id + "/reactivate").status, 200);
  EXPECT_EQ(json_of(get("/v1/customers/" + id)).string_at("status"), "active");
  ASSERT_EQ(command("DELETE", "/v1/customers/" + id).status, 200);
  EXPECT_EQ(json_of(get("/v1/customers/" + id)).string_at("status"), "archived");
  problem_of(command("PATCH", "/v1/customers/" + id, R"({"name":"Other"})"), 409);
  // Archived customers leave the default search but stay findable by status.
  EXPECT_EQ(json_of(get("/v1/customers?q=acme")).find("items")->as_array().size(), 0u);
  EXPECT_EQ(json_of(get("/v1/customers?q=acme&status=archived")).find("items")->as_array().size(),
            1u);
}

TEST_P(ApiTest, SearchMatchesWordPrefixesWithFiltersAndPagesWithCursors) {
  create_customer(k_acme);
  create_customer(R"({"name":"Acme Cooling","industry":"retail","billing_address":{"city":"Shelbyville","country":"US"}})");
  create_customer(R"({"name":"Bolt Electric","external_id":"ACC-77"})");
  for (int i = 0; i < 4; ++i) create_customer(R"({"name":"Zeta )" + std::to_string(i) + R"("})");

  auto items = [&](const std::string& q) {
    auto r = get("/v1/customers?" + q);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> names;
    const auto page = json_of(r);
    for (const auto& d : page.find("items")->as_array()) names.emplace_back(d.string_at("name"));
    std::sort(names.begin(), names.end());
    return names;
  };
  using names = std::vector<std::string>;
  EXPECT_EQ(items("q=ACM"), (names{"Acme Cooling", "Acme Facilities Ltd"}));
  EXPECT_EQ(items("q=acme%20facil"), (names{"Acme Facilities Ltd"}));
  EXPECT_EQ(items("q=acc"), (names{"Bolt Electric"}));  // external id
  EXPECT_EQ(items("q=bill-1001"), (names{"Acme Facilities Ltd"}));
  EXPECT_EQ(items("q=c-000002"), (names{"Acme Cooling"}));  // number
  EXPECT_EQ(items("q=acme&city=springfield&industry=property&type=commercial&zone=north"),
            (names{"Acme Facilities Ltd"}));
  EXPECT_EQ(items("city=shelbyville"), (names{"Acme Cooling"}));

  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = get("/v1/customers?q=zeta&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    auto page = json_of(r);
    for (const auto& d : page.find("items")->as_array()) {
      EXPECT_TRUE(seen.insert(std::string(d.string_at("id"))).second);
    }
    cursor = page.find("next_cursor")->is_null() ? "" : page.find("next_cursor")->as_string();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(pages, 2);
}

TEST_P(ApiTest, ContactsAreAddedListedChangedSearchedAndRemoved) {
  const auto acme = create_customer(k_acme);
  const auto other = create_customer(R"({"name":"Other Co"})");
  const auto david = add_contact(acme, R"({"name":"David Chen","title":"Facilities Manager",
    "roles":["approval_authority"],"phone":"+1 555 0101","mobile":"+1 555 0199",
    "email":"david@acme.example","site_id":null,"notify":{"work_orders":true,
    "quote_approvals":true,"completions":false,"invoices":false},"notes":"Prefers text messages"})");
  const auto erin = add_contact(acme, R"({"name":"Erin Diaz","roles":["billing"]})");
  add_contact(other, R"({"name":"Dana Chen"})");

  auto doc = json_of(get("/v1/contacts/" + david));
  EXPECT_EQ(doc.string_at("customer_id"), acme);
  EXPECT_EQ(doc.find("primary")->as_bool(), true);
  EXPECT_EQ(doc.find("notify")->find("work_orders")->as_bool(), true);
  EXPECT_EQ(json_of(get("/v1/contacts/" + erin)).find("primary")->as_bool(), false);

  auto list = json_of(get("/v1/customers/" + acme + "/contacts"));
  ASSERT_EQ(list.find("items")->as_array().size(), 2u);
  EXPECT_EQ(list.find("items")->as_array()[0].string_at("id"), david);

  EXPECT_EQ(json_of(get("/v1/contacts?q=chen")).find("items")->as_array().size(), 2u);
  EXPECT_EQ(json_of(get("/v1/contacts?q=chen&customer=acme")).find("items")->as_array().size(), 1u);
  EXPECT_EQ(json_of(get("/v1/contacts?customer=" + other)).find("items")->as_array().size(), 1u);
  EXPECT_EQ(json_of(get("/v1/contacts?role=billing")).find("items")->as_array()[0].string_at("id"),
            erin);
  EXPECT_EQ(json_of(get("/v1/contacts?q=david%40acme")).find("items")->as_array().size(), 1u);

  auto r = command("PATCH", "/v1/contacts/" + erin, R"({"title":"Accounts"})", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(get("/v1/contacts/" + erin)).string_at("title"), "Accounts");

  ASSERT_EQ(command("DELETE", "/v1/contacts/" + erin).status, 200);
  problem_of(get("/v1/contacts/" + erin), 404);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/contacts")).find("items")->as_array().size(), 1u);
  EXPECT_EQ(json_of(get("/v1/contacts?q=erin")).find("items")->as_array().size(), 0u);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme)).find("counts")->find("contacts")->as_int(), 1);
  problem_of(command("PATCH", "/v1/contacts/" + erin, R"({"title":"x"})"), 404);
}

TEST_P(ApiTest, RemovingThePrimaryLeavesNoneUntilAnotherIsDesignated) {
  const auto acme = create_customer(k_acme);
  const auto david = add_contact(acme, R"({"name":"David Chen"})");
  const auto erin = add_contact(acme, R"({"name":"Erin Diaz"})");
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/primary-contact")).string_at("id"), david);

  ASSERT_EQ(command("DELETE", "/v1/contacts/" + david).status, 200);
  problem_of(get("/v1/customers/" + acme + "/primary-contact"), 404);
  EXPECT_TRUE(json_of(get("/v1/customers/" + acme)).find("primary_contact")->is_null());

  ASSERT_EQ(command("POST", "/v1/contacts/" + erin + "/make-primary").status, 200);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/primary-contact")).string_at("id"), erin);
}

TEST_P(ApiTest, ConcurrentMakePrimaryRequestsLeaveExactlyOnePrimary) {
  const auto acme = create_customer(k_acme);
  std::vector<std::string> contacts;
  for (int i = 0; i < 4; ++i) contacts.push_back(add_contact(acme, R"({"name":"C )" + std::to_string(i) + R"("})"));

  std::vector<std::thread> threads;
  std::mutex mu;
  std::string last;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = send("POST", "/v1/contacts/" + contacts[(t + i) % 4] + "/make-primary");
        EXPECT_EQ(r.status, 200) << r.body;
        std::lock_guard lock(mu);
        const std::string pos(json_of(r).string_at("position"));
        if (domain::parse_log_position(pos) > domain::parse_log_position(last)) last = pos;
      }
    });
  }
  for (auto& t : threads) t.join();
  remember(last);
  int primaries = 0;
  std::string primary;
  const auto list = json_of(get("/v1/customers/" + acme + "/contacts"));
  for (const auto& c : list.find("items")->as_array()) {
    if (c.find("primary")->as_bool()) {
      ++primaries;
      primary = c.string_at("id");
    }
  }
  EXPECT_EQ(primaries, 1);
  EXPECT_EQ(json_of(get("/v1/customers/" + acme + "/primary-contact")).string_at("id"), primary);
  EXPECT_EQ(model_.customer(domain::customer_id{acme}).primary_contact, primary);
}

TEST_P(ApiTest, AQueryForAPositionNotYetAppliedAnswers503WithRetryAfter) {
  create_customer(k_acme);
  auto r = send("GET", "/v1/customers", {}, {{"X-Min-Position", "0-100000"}});
  problem_of(r, 503);
  EXPECT_EQ(r.headers["retry-after"], "1");
  problem_of(send("GET", "/v1/customers", {}, {{"X-Min-Position", "yesterday"}}), 400);
  problem_of(send("GET", "/v1/customers", {}, {{"X-Min-Position", "99-0"}}), 400);
  problem_of(send("GET", "/v1/customers", {}, {{"X-Min-Position", "0-0,"}}), 400);
  problem_of(send("GET", "/v1/customers", {}, {{"X-Min-Position", "0-0, 1-100000"}}), 503);
}

TEST_P(ApiTest, AnIdempotentRetryReturnsTheFirstAnswerAndAppendsNothing) {
  auto first = command("POST", "/v1/customers", k_acme, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201);
  const auto size = log_size();
  auto again = send("POST", "/v1/customers", k_acme, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(log_size(), size);
  auto e = problem_of(send("POST", "/v1/customers", R"({"name":"Other"})", {{"Idempotency-Key", "k-1"}}),
                      422);
  EXPECT_EQ(log_size(), size);
}

TEST_P(ApiTest, BadRequestsGetPreciseProblemsAndAppendNothing) {
  const auto acme = create_customer(k_acme);
  ASSERT_EQ(get("/v1/customers/" + acme).status, 200);  // the views have it
  const auto size = log_size();
  auto p = problem_of(send("POST", "/v1/customers", R"({"name":"A",)"), 400);
  EXPECT_NE(p.string_at("detail").find("byte"), std::string_view::npos);
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/customers", R"({"dba_name":"A"})"), 422)), "name");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/customers", R"({"name":"A","colour":"red"})"), 400)),
            "colour");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/customers", R"({"name":"A","email":"nope"})"), 422)),
            "email");
  EXPECT_EQ(first_field(problem_of(
                send("POST", "/v1/customers",
                     R"({"name":"A","billing_address":{"country":"US","lat":91}})"),
                422)),
            "billing_address.lat");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/customers/" + acme + "/contacts",
                                        R"({"name":"A","roles":["boss"]})"),
                                   422)),
            "roles");
  problem_of(send("POST", "/v1/customers", R"([1,2])"), 400);
  problem_of(send("POST", "/v1/customers", R"({"name":"A","name":"B"})"), 400);
  auto dup = problem_of(send("POST", "/v1/customers", R"({"name":"A","external_id":"BILL-1001"})"), 409);
  EXPECT_EQ(dup.string_at("conflicting_id"), acme);
  problem_of(send("POST", "/v1/customers", k_acme, {{"Content-Type", "text/plain"}}), 415);
  problem_of(send("GET", "/v1/customers/" + acme, {}, {{"Accept", "text/html"}}), 406);
  EXPECT_EQ(send("GET", "/v1/customers/" + acme, {}, {{"Accept", "text/html, application/json"}}).status,
            200);
  auto wrong = send("PUT", "/v1/customers/" + acme, "{}");
  problem_of(wrong, 405);
  EXPECT_EQ(wrong.headers["allow"], "GET, PATCH, DELETE");
  problem_of(send("GET", "/v1/customers/0190b5e2-7c1a-7000-8000-000000000000"), 404);
  problem_of(send("GET", "/v1/customers/not-an-id"), 404);
  problem_of(send("GET", "/v1/nothing-here"), 404);
  problem_of(send("GET", "/v1/customers//contacts"), 404);
  problem_of(send("GET", "/v1/customers/"), 404);
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers?colour=red"), 400)), "colour");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers?limit=0"), 422)), "limit");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers?cursor=zz"), 422)), "cursor");
  EXPECT_EQ(first_field(problem_of(send("GET", "/v1/customers?status=gone"), 422)), "status");
  problem_of(send("POST", "/v1/customers", R"({"name":")" + std::string(70 * 1024, 'a') + R"("})"), 413);
  EXPECT_EQ(log_size(), size);
}

TEST_P(ApiTest, EveryRouteButHealthNeedsAValidKey) {
  EXPECT_EQ(e2e::http(port_, "GET", "/healthz").status, 200);
  auto r = e2e::http(port_, "GET", "/v1/customers");
  problem_of(r, 401);
  EXPECT_EQ(r.headers["www-authenticate"], "Bearer realm=\"fieldledger\"");
  problem_of(e2e::http(port_, "GET", "/readyz"), 401);
  problem_of(e2e::http(port_, "GET", "/v1/customers", {}, {{"Authorization", "Bearer wrong-key-0123456789"}}),
             401);
  EXPECT_EQ(send("GET", "/readyz").status, 200);
}

TEST_P(ApiTest, ABrokerOutageAnswers503AndServiceResumesWithoutRestart) {
  if (GetParam() != "kafka") GTEST_SKIP() << "a broker outage needs the Kafka log";
  const auto acme = create_customer(k_acme);
  const auto size = log_size();
  for (int b = 1; b <= 3; ++b) mock_->set_broker_down(b);
  const auto start = std::chrono::steady_clock::now();
  auto r = send("POST", "/v1/customers", R"({"name":"During the outage"})");
  problem_of(r, 503);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  for (int b = 1; b <= 3; ++b) mock_->set_broker_up(b);
  // Nothing of the failed command is visible, and service resumes without a restart.
  http_response after;
  for (int i = 0; i < 40; ++i) {
    after = command("POST", "/v1/customers", R"({"name":"After the outage"})");
    if (after.status == 201) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(after.status, 201) << after.body;
  // The consumers reconnect on their own; the views catch up within a bounded time.
  http_response seen;
  for (int i = 0; i < 40 && seen.status != 200; ++i) seen = get("/v1/customers?q=after");
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(json_of(get("/v1/customers?q=during")).find("items")->as_array().size(), 0u);
  EXPECT_EQ(json_of(get("/v1/customers?q=after")).find("items")->as_array().size(), 1u);
  EXPECT_EQ(log_size(), size + 1) << "no duplicates, nothing of the failed command";
  EXPECT_EQ(json_of(get("/v1/customers/" + acme)).string_at("number"), "C-000001");
}

INSTANTIATE_TEST_SUITE_P(Logs, ApiTest, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

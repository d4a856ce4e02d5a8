// Systems over HTTP: the admin's type catalogue, systems assigned to customers and sites with
// values checked against their type, secrets masked in every ordinary answer, revealed to an
// admin only (and audited), and never in the log as plaintext.
#include "json/event_codec.hpp"
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

constexpr const char* k_type = R"({"name":"Access control","fields":[
  {"key":"ip_address","type":"ipv4","required":true},{"key":"login","type":"string"},
  {"key":"password","type":"secret"},{"key":"version","type":"string"},
  {"key":"mode","type":"choice","choices":["armed","disarmed"]}]})";

constexpr const char* k_secret = "Tr0ub4dor&3-unique-7731";
constexpr const char* k_new_secret = "correct-horse-battery-9917";

class SystemApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (HasFatalFailure()) return;
    writer_ = make_key("dispatch", "writer");
    reader_ = make_key("portal", "reader");
    auditor_ = make_key("audit", "auditor");
    acme_ = create_customer(k_acme);
    auto r = command("POST", "/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
    ASSERT_EQ(r.status, 201) << r.body;
    site_ = json_of(r).string_at("id");
    r = command("POST", "/v1/system-types", k_type);
    ASSERT_EQ(r.status, 201) << r.body;
    type_ = json_of(r).string_at("id");
    EXPECT_EQ(r.headers["location"], "/v1/system-types/" + type_);
  }
  std::string make_key(const std::string& name, const std::string& role) {
    auto r =
        send("POST", "/v1/admin/keys", R"({"name":")" + name + R"(","role":")" + role + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("key"));
  }
  // A request with another key; a command's position is remembered for get().
  http_response as(const std::string& key, const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    std::string positions;
    for (const auto& [p, pos] : written_) positions += (positions.empty() ? "" : ",") + pos;
    std::map<std::string, std::string> h{{"Authorization", "Bearer " + key}};
    if (method == "GET" && !positions.empty()) h.emplace("X-Min-Position", positions);
    auto r = e2e::http(port_, method, target, body, h);
    if (method != "GET" && r.status / 100 == 2) remember(json_of(r).string_at("position"));
    answers_.push_back(r.body);
    return r;
  }
  std::string assign(const std::string& values, bool at_site = true) {
    auto r = as(writer_, "POST", "/v1/customers/" + acme_ + "/systems",
                R"({"type_id":")" + type_ + R"(")" +
                    (at_site ? R"(,"site_id":")" + site_ + R"(")" : std::string()) +
                    R"(,"values":)" + values + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.headers["location"], "/v1/systems/" + std::string(json_of(r).string_at("id")));
    return std::string(json_of(r).string_at("id"));
  }
  // Every event in the log, as the log's encoding (the bytes the log keeps).
  std::string log_bytes() {
    std::string all;
    for (std::uint32_t p = 0; p < log_->partition_count(); ++p) {
      auto events = log_->read(domain::partition_id{p}, domain::log_offset{0}, 100'000);
      EXPECT_TRUE(events);
      for (const auto& re : *events) all += json::encode_event(re.e) + "\n";
    }
    return all;
  }
  std::string writer_, reader_, auditor_, acme_, site_, type_;
  std::vector<std::string> answers_;  // the bodies of every answer to a non-admin key
};

TEST_P(SystemApi, TheTypeCatalogueIsTheAdminsAndItsErrorsNameTheMember) {
  auto one = as(reader_, "GET", "/v1/system-types/" + type_);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json_of(one).string_at("name"), "Access control");
  EXPECT_EQ(one.headers["etag"], "\"1\"");
  auto list = as(reader_, "GET", "/v1/system-types");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json_of(list).find("items")->as_array().size(), 1u);

  EXPECT_EQ(first_field(problem_of(as(writer_, "POST", "/v1/system-types", k_type), 403)),
            "Authorization");
  const auto before = log_size();
  EXPECT_EQ(
      first_field(problem_of(
          command("POST", "/v1/system-types",
                  R"({"name":"X","fields":[{"key":"a","type":"int"},{"key":"b","type":"blob"}]})"),
          422)),
      "fields[1].type");
  EXPECT_EQ(first_field(problem_of(
                command("POST", "/v1/system-types", R"({"name":"X","fields":[]})"), 422)),
            "fields");
  // A field may be added; none removed or retyped.
  auto t = json_of(one);
  auto fields = t.find("fields")->as_array();
  EXPECT_EQ(first_field(problem_of(
                command("PATCH", "/v1/system-types/" + type_,
                        R"({"fields":)" +
                            domain::to_json(domain::array(fields.begin() + 1, fields.end())) + "}"),
                422)),
            "fields");
  EXPECT_EQ(log_size(), before) << "refused commands append nothing";
  fields.push_back(domain::object{{"key", "firmware"}, {"type", "string"}});
  auto r = command("PATCH", "/v1/system-types/" + type_,
                   R"({"name":"Access control panel","fields":)" + domain::to_json(fields) + "}",
                   {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).find("version")->as_int(), 2);
  auto changed = json_of(get("/v1/system-types/" + type_));
  EXPECT_EQ(changed.string_at("name"), "Access control panel");
  EXPECT_EQ(changed.find("fields")->as_array().size(), 6u);
}

TEST_P(SystemApi, SystemsAreAssignedReadChangedAndRemovedWithSecretsMasked) {
  const auto id = assign(R"({"ip_address":"10.1.2.3","login":"admin","password":")" +
                         std::string(k_secret) + R"(","version":"4.2"})");
  auto doc = as(reader_, "GET", "/v1/systems/" + id);
  ASSERT_EQ(doc.status, 200) << doc.body;
  auto d = json_of(doc);
  EXPECT_EQ(d.string_at("type_id"), type_);
  EXPECT_EQ(d.string_at("site_id"), site_);
  EXPECT_EQ(d.string_at("customer_id"), acme_);
  EXPECT_EQ(d.find("values")->string_at("ip_address"), "10.1.2.3");
  EXPECT_EQ(*d.find("values")->find("password"), value(domain::object{{"set", true}}));
  EXPECT_EQ(doc.headers["etag"], "\"1\"");
  const auto listed = [&](const std::string& target) {
    std::vector<std::string> out;
    auto r = as(reader_, "GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto page = json_of(r);
    for (const auto& s : page.find("items")->as_array()) out.emplace_back(s.string_at("id"));
    return out;
  };
  const auto other = assign(R"({"ip_address":"10.1.2.4"})", false);
  EXPECT_EQ(listed("/v1/customers/" + acme_ + "/systems").size(), 2u);
  EXPECT_EQ(listed("/v1/sites/" + site_ + "/systems"), std::vector<std::string>{id});

  // Bad values: 422 naming the value, nothing appended.
  const auto before = log_size();
  const auto bad = [&](const std::string& method, const std::string& target,
                       const std::string& body) {
    return first_field(problem_of(as(writer_, method, target, body), 422));
  };
  const std::string systems = "/v1/customers/" + acme_ + "/systems";
  EXPECT_EQ(
      bad("POST", systems, R"({"type_id":")" + type_ + R"(","values":{"ip_address":"10.1.2"}})"),
      "values.ip_address");
  EXPECT_EQ(bad("POST", systems, R"({"type_id":")" + type_ + R"(","values":{"login":"x"}})"),
            "values.ip_address");
  EXPECT_EQ(
      bad("POST", systems,
          R"({"type_id":")" + type_ + R"(","values":{"ip_address":"10.0.0.1","colour":"red"}})"),
      "values.colour");
  EXPECT_EQ(bad("POST", systems, R"({"type_id":")" + domain::new_id() + R"(","values":{}})"),
            "type_id");
  EXPECT_EQ(bad("PATCH", "/v1/systems/" + id, R"({"values":{"mode":"sleeping"}})"), "values.mode");
  EXPECT_EQ(bad("PATCH", "/v1/systems/" + id, R"({"values":{"ip_address":null}})"),
            "values.ip_address");
  EXPECT_EQ(log_size(), before);

  auto r = as(writer_, "PATCH", "/v1/systems/" + id,
              R"({"values":{"password":")" + std::string(k_new_secret) +
                  R"(","version":"4.3","login":null}})");
  ASSERT_EQ(r.status, 200) << r.body;
  d = json_of(as(reader_, "GET", "/v1/systems/" + id));
  EXPECT_EQ(d.find("values")->string_at("version"), "4.3");
  EXPECT_EQ(d.find("values")->find("login"), nullptr);
  EXPECT_EQ(d.find("version")->as_int(), 2);

  // The history of each value, secrets masked.
  auto h = as(auditor_, "GET", "/v1/systems/" + id + "/history?key=version");
  ASSERT_EQ(h.status, 200) << h.body;
  const auto history = json_of(h);
  const auto& items = history.find("items")->as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].find("changes")->as_array()[0].string_at("before"), "4.2");
  EXPECT_EQ(items[0].find("changes")->as_array()[0].string_at("after"), "4.3");
  EXPECT_EQ(items[0].string_at("actor"), "dispatch");
  h = as(auditor_, "GET", "/v1/systems/" + id + "/history?key=password");
  ASSERT_EQ(h.status, 200) << h.body;
  ASSERT_EQ(json_of(h).find("items")->as_array().size(), 2u);
  EXPECT_EQ(*json_of(h).find("items")->as_array()[0].find("changes")->as_array()[0].find("after"),
            value(domain::object{{"set", true}}));
  EXPECT_EQ(first_field(problem_of(as(reader_, "GET", "/v1/systems/" + id + "/history"), 403)),
            "Authorization");

  ASSERT_EQ(as(writer_, "DELETE", "/v1/systems/" + other).status, 200);
  problem_of(as(reader_, "GET", "/v1/systems/" + other), 404);
  EXPECT_EQ(listed("/v1/customers/" + acme_ + "/systems"), std::vector<std::string>{id});
  EXPECT_EQ(as(auditor_, "GET", "/v1/systems/" + other + "/history").status, 200)
      << "a removed system keeps its history";

  for (const auto& body : answers_) {
    EXPECT_EQ(body.find(k_secret), std::string::npos) << body;
    EXPECT_EQ(body.find(k_new_secret), std::string::npos) << body;
  }
  const auto bytes = log_bytes();
  EXPECT_NE(bytes.find("system.changed"), std::string::npos);
  EXPECT_EQ(bytes.find(k_secret), std::string::npos) << "the log holds ciphertext only";
  EXPECT_EQ(bytes.find(k_new_secret), std::string::npos);
}

TEST_P(SystemApi, OnlyAnAdminSeesASecretAndEachRevealIsAudited) {
  const auto id =
      assign(R"({"ip_address":"10.1.2.3","password":")" + std::string(k_secret) + R"("})");
  EXPECT_EQ(first_field(problem_of(as(writer_, "POST", "/v1/systems/" + id + "/reveal"), 403)),
            "Authorization");
  problem_of(as(auditor_, "POST", "/v1/systems/" + id + "/reveal"), 403);
  problem_of(as(reader_, "POST", "/v1/systems/" + id + "/reveal"), 403);
  const auto before = log_size();
  auto r = command("POST", "/v1/systems/" + id + "/reveal");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).find("values")->string_at("password"), k_secret);
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  EXPECT_EQ(log_size(), before + 1) << "one audit event";
  EXPECT_EQ(first_field(problem_of(
                command("POST", "/v1/systems/" + id + "/reveal", R"({"keys":["login"]})"), 422)),
            "keys[0]");
  problem_of(command("POST", "/v1/systems/" + domain::new_id() + "/reveal"), 404);

  // The secret changes: the next reveal shows the new one; the audit trail names who looked.
  ASSERT_EQ(as(writer_, "PATCH", "/v1/systems/" + id,
               R"({"values":{"password":")" + std::string(k_new_secret) + R"("}})")
                .status,
            200);
  r = command("POST", "/v1/systems/" + id + "/reveal", R"({"keys":["password"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).find("values")->string_at("password"), k_new_secret);
  auto h = as(auditor_, "GET", "/v1/customers/" + acme_ + "/history?type=system.secret-revealed");
  ASSERT_EQ(h.status, 200) << h.body;
  const auto history = json_of(h);
  const auto& items = history.find("items")->as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].string_at("actor"), "admin");
  EXPECT_EQ(items[0].string_at("entity"), "systems/" + id);
  EXPECT_EQ(domain::to_json(*items[0].find("changes")),
            R"([{"after":["password"],"before":null,"field":"revealed"}])");
  // A reveal is no batch command.
  auto batch =
      command("POST", "/v1/batch",
              R"({"commands":[{"method":"POST","path":"/v1/systems/)" + id + R"(/reveal"}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(json_of(batch).find("results")->as_array()[0].find("status")->as_int(), 422);

  // Not in the log, not in the feed an auditor reads, not in any answer but the admin's reveal.
  auto feed = as(auditor_, "GET", "/v1/events?limit=5000");
  ASSERT_EQ(feed.status, 200);
  EXPECT_NE(feed.body.find("\"sealed\""), std::string::npos);
  for (const auto& body : answers_) {
    EXPECT_EQ(body.find(k_secret), std::string::npos) << body;
    EXPECT_EQ(body.find(k_new_secret), std::string::npos) << body;
  }
  const auto bytes = log_bytes();
  EXPECT_NE(bytes.find("system.secret-revealed"), std::string::npos);
  EXPECT_EQ(bytes.find(k_secret), std::string::npos);
  EXPECT_EQ(bytes.find(k_new_secret), std::string::npos);
}

TEST_P(SystemApi, AsOfShowsASystemAsItWasWithItsSecretMasked) {
  const auto id =
      assign(R"({"ip_address":"10.1.2.3","password":")" + std::string(k_secret) + R"("})");
  const auto then = domain::now_rfc3339();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(
      as(writer_, "PATCH", "/v1/systems/" + id, R"({"values":{"ip_address":"10.9.9.9"}})").status,
      200);
  auto past = as(auditor_, "GET", "/v1/systems/" + id + "?as_of=" + then);
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(json_of(past).find("values")->string_at("ip_address"), "10.1.2.3");
  EXPECT_EQ(*json_of(past).find("values")->find("password"), value(domain::object{{"set", true}}));
  EXPECT_EQ(past.body.find(k_secret), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Logs, SystemApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

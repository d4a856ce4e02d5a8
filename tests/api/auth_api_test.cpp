// API keys and roles over HTTP: every route × every role, keys shown once and stored hashed,
// the key's name as the actor, revocation at once.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

class AuthApi : public ApiTest {
 protected:
  // Creates a key with the admin key; returns {id, key}.
  std::pair<std::string, std::string> make_key(const std::string& name, const std::string& role) {
    auto r =
        send("POST", "/v1/admin/keys", R"({"name":")" + name + R"(","role":")" + role + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    const auto v = json_of(r);
    return {std::string(v.string_at("id")), std::string(v.string_at("key"))};
  }
  http_response as(const std::string& key, const std::string& method, const std::string& target,
                   const std::string& body = {}) const {
    std::map<std::string, std::string> h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return e2e::http(port_, method, target, body, h);
  }
};

// The policy, written out independently of the handler: what each route needs.
std::string needs(const std::string& method, const std::string& pattern) {
  if (pattern.starts_with("/v1/admin/")) return "admin";
  if (pattern.starts_with("/v1/picklists/") && method != "GET") return "admin";  // admin-managed
  // systems: the type catalogue is written by an admin; only an admin sees a secret
  if (pattern.starts_with("/v1/system-types") && method != "GET") return "admin";
  if (pattern.ends_with("/reveal")) return "admin";
  if (pattern.ends_with("/history") || pattern == "/v1/events") return "audit";
  return method == "GET" ? "read" : "write";
}

bool role_may(const std::string& role, const std::string& need) {
  if (role == "admin") return true;
  if (need == "read") return role == "reader" || role == "writer" || role == "auditor";
  if (need == "write") return role == "writer";
  if (need == "audit") return role == "auditor";
  return false;
}

TEST_P(AuthApi, EveryRouteTimesEveryRoleGetsWhatTheRoleAllows) {
  std::map<std::string, std::string> keys{{"admin", k_key}};
  for (const std::string role : {"reader", "writer", "auditor"}) {
    keys[role] = make_key("k-" + role, role).second;
  }
  const auto routes = handler::routes();
  ASSERT_GT(routes.size(), 50u);
  const std::string some_id = "01a2085e-2d6a-7000-8dc5-9574100495dd";
  const auto log_before = log_size();
  int checked = 0;
  for (const auto& [method, pattern] : routes) {
    if (pattern == "/healthz") continue;  // no key needed
    std::string target;
    for (std::size_t at = 0; at < pattern.size();) {
      const auto next = pattern.find('/', at + 1);
      auto seg = pattern.substr(at, next == std::string::npos ? std::string::npos : next - at);
      if (seg == "/*") seg = "/" + some_id;
      if (seg == "/+") seg = "/nothing-here";
      target += seg;
      at = next == std::string::npos ? pattern.size() : next;
    }
    if (pattern == "/v1/admin/projections/rebuild") continue;  // starts real work; below
    const std::string body = method == "GET" || method == "DELETE" ? "" : "{}";
    // No key: 401 with a challenge, whatever the route.
    const auto anonymous = as("", method, target, body);
    EXPECT_EQ(anonymous.status, 401) << method << " " << target;
    EXPECT_TRUE(anonymous.headers.contains("www-authenticate"));
    for (const auto& [role, key] : keys) {
      const auto r = as(key, method, target, body);
      const bool may = role_may(role, needs(method, pattern));
      if (may) {
        EXPECT_NE(r.status, 403) << role << " " << method << " " << target << " " << r.body;
        EXPECT_NE(r.status, 401) << role << " " << method << " " << target;
      } else {
        EXPECT_EQ(r.status, 403) << role << " " << method << " " << target << " " << r.body;
        if (r.status == 403) {
          EXPECT_EQ(first_field(problem_of(r, 403)), "Authorization");
        }
      }
      ++checked;
    }
    // As-of reads are the auditors' too.
    if (method == "GET" && pattern == "/v1/customers/*") {
      EXPECT_EQ(as(keys["reader"], "GET", target + "?as_of=2026-01-01T00:00:00Z").status, 403);
      EXPECT_NE(as(keys["auditor"], "GET", target + "?as_of=2026-01-01T00:00:00Z").status, 403);
    }
  }
  EXPECT_EQ(checked, static_cast<int>(routes.size() - 2) * 4);  // all but healthz and rebuild
  EXPECT_EQ(log_size(), log_before) << "no refused or empty command appended anything";
  EXPECT_EQ(as(keys["writer"], "POST", "/v1/admin/projections/rebuild").status, 403);
  EXPECT_EQ(as(keys["auditor"], "POST", "/v1/admin/projections/rebuild").status, 403);
}

TEST_P(AuthApi, AKeyIsShownOnceStoredHashedAndItsNameIsTheActor) {
  const auto [id, key] = make_key("dispatch", "writer");
  ASSERT_TRUE(key.starts_with("flk_" + id + "_")) << key;
  auto r = as(key, "POST", "/v1/customers", R"({"name":"Acme"})");
  ASSERT_EQ(r.status, 201) << r.body;
  remember(json_of(r).string_at("position"));
  const std::string customer(json_of(r).string_at("id"));
  auto history = get("/v1/customers/" + customer + "/history");
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(json_of(history).find("items")->as_array()[0].string_at("actor"), "dispatch");

  auto listed = send("GET", "/v1/admin/keys");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(key.substr(18)), std::string::npos) << "the secret is shown once";
  EXPECT_NE(listed.body.find("\"dispatch\""), std::string::npos);
  auto one = send("GET", "/v1/admin/keys/" + id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json_of(one).string_at("role"), "writer");
  EXPECT_EQ(json_of(one).find("key"), nullptr);
  std::ifstream file(auth_dir_ / "keys");
  std::stringstream stored;
  stored << file.rdbuf();
  EXPECT_NE(stored.str().find(id), std::string::npos);
  EXPECT_EQ(stored.str().find(key.substr(18)), std::string::npos) << "only a salted hash is kept";

  // Bad requests name the field; a second key of the same name is a conflict.
  EXPECT_EQ(
      first_field(problem_of(send("POST", "/v1/admin/keys", R"({"name":"x","role":"boss"})"), 422)),
      "role");
  EXPECT_EQ(first_field(problem_of(
                send("POST", "/v1/admin/keys", R"({"name":"a b","role":"reader"})"), 422)),
            "name");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/admin/keys", R"({"role":"reader"})"), 422)),
            "name");
  EXPECT_EQ(first_field(problem_of(
                send("POST", "/v1/admin/keys", R"({"name":"y","role":"reader","scope":1})"), 422)),
            "scope");
  problem_of(send("POST", "/v1/admin/keys", R"({"name":"dispatch","role":"reader"})"), 409);
  problem_of(send("POST", "/v1/admin/keys", R"({"name":"admin","role":"reader"})"), 409);
  problem_of(send("DELETE", "/v1/admin/keys/000000000000"), 404);
}

TEST_P(AuthApi, ARevokedKeyStopsWorkingAtOnce) {
  const auto [id, key] = make_key("temp", "reader");
  EXPECT_EQ(as(key, "GET", "/v1/customers").status, 200);
  auto revoked = send("DELETE", "/v1/admin/keys/" + id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_FALSE(json_of(revoked).string_at("revoked_at").empty());
  const auto after = as(key, "GET", "/v1/customers");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(first_field(problem_of(after, 401)), "Authorization");
  // A tampered key of a known id is no key either.
  const auto [id2, key2] = make_key("other", "reader");
  std::string tampered = key2;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(as(tampered, "GET", "/v1/customers").status, 401);
  EXPECT_EQ(as(key2, "GET", "/v1/customers").status, 200);
  // The name of a revoked key may be given to a new one.
  EXPECT_EQ(send("POST", "/v1/admin/keys", R"({"name":"temp","role":"reader"})").status, 201);
}

INSTANTIATE_TEST_SUITE_P(Memory, AuthApi, ::testing::Values("memory"), log_name);

}  // namespace
}  // namespace fieldledger::api

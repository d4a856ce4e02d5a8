// Bad input, table-driven: each case gets its status and a problem naming the field that is
// wrong, and appends nothing. Secrets sent in a request never come back in an answer.
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

struct bad_case {
  std::string what;
  std::string method, target;  // {c} is a customer id, {s} a site of it
  std::string body;
  std::map<std::string, std::string> headers;
  int status;
  std::string field;  // errors[0].field
};

class BadInputApi : public ApiTest {};

TEST_P(BadInputApi, EveryKindOfBadInputGetsAPreciseProblemAndAppendsNothing) {
  const auto c = create_customer(k_acme);
  auto site = command("POST", "/v1/customers/" + c + "/sites", R"({"name":"North"})");
  ASSERT_EQ(site.status, 201);
  const std::string s(json_of(site).string_at("id"));
  ASSERT_EQ(get("/v1/customers/" + c).status, 200);
  const std::vector<bad_case> cases = {
      {"malformed JSON", "POST", "/v1/customers", R"({"name":"A",)", {}, 400, "body"},
      {"not an object", "POST", "/v1/customers", "[1,2]", {}, 400, "body"},
      {"no body", "POST", "/v1/customers", "", {}, 400, "body"},
      {"duplicate keys", "POST", "/v1/customers", R"({"name":"A","name":"B"})", {}, 400, "body"},
      {"too deep",
       "POST",
       "/v1/customers",
       R"({"name":"A","x":)" + std::string(40, '[') + std::string(40, ']') + "}",
       {},
       400,
       "body"},
      {"invalid UTF-8", "POST", "/v1/customers", "{\"name\":\"\xff\xfe\"}", {}, 400, "body"},
      {"raw NUL in a string",
       "POST",
       "/v1/customers",
       std::string("{\"name\":\"A\0B\"}", 14),
       {},
       400,
       "body"},
      {"escaped NUL", "POST", "/v1/customers", R"({"name":"A\u0000B"})", {}, 422, "name"},
      {"wrong type", "POST", "/v1/customers", R"({"name":123})", {}, 422, "name"},
      {"wrong type nested",
       "POST",
       "/v1/customers",
       R"({"name":"A","billing_address":"x"})",
       {},
       422,
       "billing_address"},
      {"unknown field",
       "POST",
       "/v1/customers",
       R"({"name":"A","colour":"red"})",
       {},
       400,
       "colour"},
      {"missing required", "POST", "/v1/customers", R"({"dba_name":"A"})", {}, 422, "name"},
      {"blank required", "POST", "/v1/customers", R"({"name":"   "})", {}, 422, "name"},
      {"latitude out of range",
       "POST",
       "/v1/customers",
       R"({"name":"A","billing_address":{"lat":91,"lng":0}})",
       {},
       422,
       "billing_address.lat"},
      {"longitude out of range",
       "POST",
       "/v1/customers",
       R"({"name":"A","billing_address":{"lat":0,"lng":-181}})",
       {},
       422,
       "billing_address.lng"},
      {"date that does not exist",
       "POST",
       "/v1/customers/{c}/assets",
       R"({"site_id":"{s}","install_date":"2024-02-30"})",
       {},
       422,
       "install_date"},
      {"month out of range",
       "POST",
       "/v1/customers/{c}/assets",
       R"({"site_id":"{s}","warranty_end":"2024-13-01"})",
       {},
       422,
       "warranty_end"},
      {"invalid email", "POST", "/v1/customers", R"({"name":"A","email":"a@b"})", {}, 422, "email"},
      {"invalid country",
       "POST",
       "/v1/customers",
       R"({"name":"A","billing_address":{"country":"us"}})",
       {},
       422,
       "billing_address.country"},
      {"id of the wrong shape in a body",
       "POST",
       "/v1/customers",
       R"({"name":"A","parent_id":"x"})",
       {},
       422,
       "parent_id"},
      {"id of the wrong shape in a path", "GET", "/v1/customers/not-an-id", "", {}, 404, "id"},
      {"unsupported media type",
       "POST",
       "/v1/customers",
       R"({"name":"A"})",
       {{"Content-Type", "text/plain"}},
       415,
       "Content-Type"},
      {"unsupported Accept",
       "GET",
       "/v1/customers/{c}",
       "",
       {{"Accept", "text/html"}},
       406,
       "Accept"},
      {"unknown parameter", "GET", "/v1/customers?colour=red", "", {}, 400, "colour"},
      {"bad limit", "GET", "/v1/customers?limit=0", "", {}, 422, "limit"},
      {"bad If-Match",
       "PATCH",
       "/v1/customers/{c}",
       R"({"name":"B"})",
       {{"If-Match", "yes"}},
       400,
       "If-Match"},
      {"stale If-Match",
       "PATCH",
       "/v1/customers/{c}",
       R"({"name":"B"})",
       {{"If-Match", "\"9\""}},
       412,
       "If-Match"},
      {"bad X-Min-Position",
       "GET",
       "/v1/customers/{c}",
       "",
       {{"X-Min-Position", "zz"}},
       400,
       "X-Min-Position"},
      {"bad as_of", "GET", "/v1/customers/{c}?as_of=yesterday", "", {}, 422, "as_of"},
  };
  const auto size = log_size();
  for (auto bc : cases) {
    for (auto* text : {&bc.target, &bc.body}) {
      for (const auto& [from, to] : {std::pair<std::string, std::string>{"{c}", c}, {"{s}", s}}) {
        for (auto at = text->find(from); at != std::string::npos; at = text->find(from)) {
          text->replace(at, from.size(), to);
        }
      }
    }
    const auto r = send(bc.method, bc.target, bc.body, bc.headers);
    const auto p = problem_of(r, bc.status);
    EXPECT_EQ(first_field(p), bc.field) << bc.what << ": " << r.body;
    EXPECT_EQ(log_size(), size) << bc.what << " appended something";
  }
  // 405 names what is allowed.
  auto wrong = send("PUT", "/v1/customers/" + c, "{}");
  problem_of(wrong, 405);
  EXPECT_EQ(wrong.headers["allow"], "GET, PATCH, DELETE");
  EXPECT_EQ(log_size(), size);
}

TEST_P(BadInputApi, KeysNeverComeBackInAnswers) {
  const std::string guess = "flk_0123456789ab_thisIsNotAKeyButLooksLikeOne0123456789abcd";
  auto r = e2e::http(port_, "GET", "/v1/customers", {}, {{"Authorization", "Bearer " + guess}});
  problem_of(r, 401);
  EXPECT_EQ(r.body.find("thisIsNotAKey"), std::string::npos);
  auto made = send("POST", "/v1/admin/keys", R"({"name":"ops","role":"reader"})");
  ASSERT_EQ(made.status, 201);
  const std::string key(json_of(made).string_at("key"));
  const auto denied =
      e2e::http(port_, "POST", "/v1/customers", R"({"name":"A"})",
                {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
  problem_of(denied, 403);
  EXPECT_EQ(denied.body.find(key.substr(18)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Logs, BadInputApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

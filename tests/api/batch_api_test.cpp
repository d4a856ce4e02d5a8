// POST /v1/batch: many commands in one request and one group commit, a result per command in
// order; "atomic": true makes it all or nothing.
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

class BatchApi : public ApiTest {
 protected:
  static std::string cmd(const std::string& method, const std::string& path,
                         const std::string& body) {
    return R"({"method":")" + method + R"(","path":")" + path + R"(","body":)" + body + "}";
  }
  static std::string batch(const std::vector<std::string>& cmds, bool atomic = false) {
    std::string out = R"({"atomic":)" + std::string(atomic ? "true" : "false") + R"(,"commands":[)";
    for (std::size_t i = 0; i < cmds.size(); ++i) out += (i ? "," : "") + cmds[i];
    return out + "]}";
  }
  std::vector<int> statuses(const http_response& r) {
    std::vector<int> out;
    EXPECT_EQ(r.status, 200) << r.body;
    const auto v = json_of(r);
    if (const value* results = v.find("results"); results != nullptr && results->is_array()) {
      for (const auto& res : results->as_array()) {
        out.push_back(static_cast<int>(res.find("status")->as_int()));
        if (const value* b = res.find("body"); b != nullptr && !b->string_at("position").empty()) {
          remember(b->string_at("position"));
        }
      }
    }
    return out;
  }
};

TEST_P(BatchApi, EachCommandGetsItsOwnResultInOrder) {
  const auto acme = create_customer(k_acme);
  const auto before = log_size();
  auto r = send("POST", "/v1/batch",
                batch({cmd("POST", "/v1/customers", R"({"name":"Beta"})"),
                       cmd("POST", "/v1/customers/" + acme + "/contacts", R"({"name":"Dana"})"),
                       cmd("POST", "/v1/customers", R"({"dba_name":"nameless"})"),
                       cmd("PATCH", "/v1/customers/" + acme, R"({"phone1":"555-0199"})")}));
  EXPECT_EQ(statuses(r), (std::vector<int>{201, 201, 422, 200}));
  EXPECT_FALSE(json_of(r).find("applied")->as_bool());
  const auto doc = json_of(r);
  const auto& results = doc.find("results")->as_array();
  EXPECT_EQ(results[2].find("body")->find("errors")->as_array()[0].string_at("field"), "name");
  EXPECT_EQ(log_size(), before + 4) << "registered, contact added and made primary, changed";
  auto customer = json_of(get("/v1/customers/" + acme));
  EXPECT_EQ(customer.string_at("phone1"), "555-0199");
  EXPECT_EQ(customer.find("primary_contact")->string_at("name"), "Dana");
}

TEST_P(BatchApi, AnAtomicBatchIsAllOrNothing) {
  const auto before = log_size();
  // Refused while reading the request: nothing goes to the pipeline.
  auto refused = send("POST", "/v1/batch",
                      batch({cmd("POST", "/v1/customers", R"({"name":"Gamma"})"),
                             cmd("POST", "/v1/customers", R"({"name":"Delta","email":"nope"})")},
                            true));
  EXPECT_EQ(statuses(refused), (std::vector<int>{409, 422}));
  // Refused when decided: the second takes the external id the first just took.
  auto clash = send("POST", "/v1/batch",
                    batch({cmd("POST", "/v1/customers", R"({"name":"Eps","external_id":"X-1"})"),
                           cmd("POST", "/v1/customers", R"({"name":"Zeta","external_id":"X-1"})")},
                          true));
  EXPECT_EQ(statuses(clash), (std::vector<int>{409, 409}));
  EXPECT_FALSE(json_of(clash).find("applied")->as_bool());
  EXPECT_EQ(log_size(), before) << "nothing of either batch was appended";
  auto none = json_of(get("/v1/customers?q=eps"));
  EXPECT_TRUE(none.find("items")->as_array().empty());

  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(cmd("POST", "/v1/customers", R"({"name":"Bulk )" + std::to_string(i) + R"("})"));
  }
  auto all = send("POST", "/v1/batch", batch(many, true));
  const auto got = statuses(all);
  EXPECT_EQ(got, std::vector<int>(100, 201));
  EXPECT_TRUE(json_of(all).find("applied")->as_bool());
  EXPECT_EQ(json_of(get("/v1/customers?q=bulk&limit=200")).find("items")->as_array().size(), 100u);
}

TEST_P(BatchApi, ABadBatchNamesTheFieldAndAppendsNothing) {
  const auto before = log_size();
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/batch", R"({"commands":[]})"), 422)),
            "commands");
  EXPECT_EQ(
      first_field(problem_of(send("POST", "/v1/batch", R"({"commands":[{}],"extra":1})"), 400)),
      "extra");
  EXPECT_EQ(first_field(
                problem_of(send("POST", "/v1/batch", R"({"commands":[{}],"atomic":"yes"})"), 422)),
            "atomic");
  auto r = send("POST", "/v1/batch",
                batch({R"({"method":"GET","path":"/v1/customers"})",
                       cmd("POST", "/v1/admin/keys", R"({"name":"x","role":"admin"})"),
                       cmd("POST", "/v1/customers", "[1]"),
                       R"({"method":"POST","path":"/v1/customers","x":1})",
                       cmd("POST", "/v1/nowhere", "{}")}));
  EXPECT_EQ(statuses(r), (std::vector<int>{422, 422, 422, 400, 404}));
  const auto doc = json_of(r);
  const auto& results = doc.find("results")->as_array();
  EXPECT_EQ(results[0].find("body")->find("errors")->as_array()[0].string_at("field"),
            "commands[0].method");
  EXPECT_EQ(results[1].find("body")->find("errors")->as_array()[0].string_at("field"),
            "commands[1].path");
  EXPECT_EQ(results[2].find("body")->find("errors")->as_array()[0].string_at("field"),
            "commands[2].body");
  EXPECT_EQ(results[3].find("body")->find("errors")->as_array()[0].string_at("field"),
            "commands[3].x");
  EXPECT_EQ(log_size(), before);
}

INSTANTIATE_TEST_SUITE_P(Logs, BatchApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

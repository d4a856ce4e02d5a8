// Decisions about system types and systems: the type definition's errors, every field type's
// good and bad values, required and unknown values, and secrets that leave decide() sealed only.
#include <gtest/gtest.h>

#include <map>

#include "domain/customer.hpp"
#include "domain/secret.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

using test_support::apply_events;
using test_support::fake_decide_env;

// The fake env plus a system type catalogue and a fake seal: deterministic, reversible by the
// test, and never the plaintext ("fake:" + the associated data + ":" + the bytes, hex, xor 0x5a).
class system_env final : public decide_env {
 public:
  fake_decide_env inner;
  std::map<std::string, owned_state, std::less<>> types;
  int seals = 0;
  bool seal_fails = false;

  std::optional<customer_id> external_id_owner(std::string_view x) const override {
    return inner.external_id_owner(x);
  }
  bool customer_exists(const customer_id& id) const override { return inner.customer_exists(id); }
  std::string new_entity_id() override { return inner.new_entity_id(); }
  std::string next_customer_number() override { return inner.next_customer_number(); }
  std::string next_work_order_number() override { return inner.next_work_order_number(); }
  const owned_state* system_type(std::string_view id) const override {
    auto it = types.find(id);
    return it == types.end() ? nullptr : &it->second;
  }
  result<std::string> seal(std::string_view plaintext, std::string_view ad) override {
    if (seal_fails) return fail(errc::unavailable, "no key");
    ++seals;
    std::string out = "fake:" + std::string(ad) + ":";
    static constexpr char k_hex[] = "0123456789abcdef";
    for (unsigned char c : plaintext) {
      const unsigned char x = c ^ 0x5a;
      out += k_hex[x >> 4];
      out += k_hex[x & 15];
    }
    return out;
  }
  static std::string unseal(std::string_view sealed) {
    const auto colon = sealed.rfind(':');
    std::string out;
    for (std::size_t i = colon + 1; i + 1 < sealed.size(); i += 2) {
      const auto nib = [](char h) { return h <= '9' ? h - '0' : h - 'a' + 10; };
      out += static_cast<char>((nib(sealed[i]) << 4 | nib(sealed[i + 1])) ^ 0x5a);
    }
    return out;
  }
};

value field(std::string key, std::string type, bool required = false) {
  return object{{"key", std::move(key)}, {"type", std::move(type)}, {"required", required}};
}

class SystemDecide : public ::testing::Test {
 protected:
  system_env env;
  customer_state customer;
  std::string type_id, site;

  void SetUp() override {
    apply_events(customer, *decide(customer, register_customer{object{{"name", "Acme"}}}, env));
    type_id =
        define(object{{"name", "Access control"},
                      {"fields", array{field("ip_address", "ipv4", true), field("login", "string"),
                                       field("password", "secret"), field("version", "string"),
                                       field("notes", "text"), field("ports", "int"),
                                       field("load", "decimal"), field("enabled", "bool"),
                                       field("installed", "date"), field("panel", "url"),
                                       object{{"key", "mode"},
                                              {"type", "choice"},
                                              {"choices", array{"armed", "disarmed"}}}}}});
    site = run(add_site{customer.id, object{{"name", "North"}}});
  }

  // Creates a type through decide and evolve; returns its id.
  std::string define(const value& body) {
    auto events = decide(customer_state{}, create_system_type{body}, env);
    EXPECT_TRUE(events) << (events ? "" : events.error().detail);
    if (!events) return {};
    auto e = events->front();
    e.time = "2026-01-01T00:00:00.000Z";
    evolve_system_type(env.types[e.entity_id], e);
    return e.entity_id;
  }
  std::string run(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_TRUE(events) << events.error().detail;
    if (!events || events->empty()) return {};
    apply_events(customer, *events);
    return events->front().entity_id;
  }
  error failure(const command& cmd) {
    auto events = decide(customer, cmd, env);
    EXPECT_FALSE(events);
    return events ? error{} : events.error();
  }
  std::vector<std::string> fields_of(const error& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields) out.push_back(f.field);
    return out;
  }
  assign_system assign(object values) {
    return assign_system{customer.id, object{{"type_id", type_id}, {"values", std::move(values)}}};
  }
  // Checks that a single value is accepted (ok) or refused naming it.
  void check_value(const std::string& key, const value& v, bool ok) {
    object values{{"ip_address", "10.0.0.1"}};
    values[key] = v;
    auto events = decide(customer, assign(values), env);
    if (ok) {
      EXPECT_TRUE(events) << key << " = " << to_json(v) << ": "
                          << (events ? "" : events.error().fields.front().message);
    } else {
      ASSERT_FALSE(events) << key << " = " << to_json(v) << " was accepted";
      EXPECT_EQ(events.error().code, errc::invalid);
      EXPECT_EQ(fields_of(events.error()), std::vector<std::string>{"values." + key})
          << key << " = " << to_json(v);
    }
  }
};

TEST_F(SystemDecide, DefinesATypeInItsNormalForm) {
  const owned_state& t = env.types.at(type_id);
  const auto& fields = t.fields.find("fields")->as_array();
  ASSERT_EQ(fields.size(), 11u);
  EXPECT_EQ(fields[1], (value(object{{"key", "login"}, {"type", "string"}, {"required", false}})));
  EXPECT_EQ(t.fields.string_at("name"), "Access control");
}

TEST_F(SystemDecide, TypeDefinitionErrorsNameTheMember) {
  const auto error_of = [&](const value& body) {
    auto events = decide(customer_state{}, create_system_type{body}, env);
    EXPECT_FALSE(events);
    return events ? error{} : events.error();
  };
  const value ok_field = field("login", "string");
  auto e =
      error_of(object{{"name", "X"}, {"fields", array{ok_field, ok_field, field("b", "blob")}}});
  EXPECT_EQ(e.code, errc::invalid);
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"fields[1].key", "fields[2].type"}));
  e = error_of(object{{"fields", array{field("Bad Key", "string")}}});
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"name", "fields[0].key"}));
  e = error_of(object{{"name", "X"}, {"fields", array{}}});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"fields"});
  e = error_of(
      object{{"name", "X"},
             {"fields", array{object{{"key", "m"}, {"type", "choice"}},
                              object{{"key", "n"}, {"type", "int"}, {"choices", array{"a"}}},
                              object{{"key", "o"}, {"type", "bool"}, {"required", "yes"}}}}});
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"fields[0].choices", "fields[1].choices",
                                                    "fields[2].required"}));
  e = error_of(object{{"name", "X"},
                      {"fields", array{object{{"key", "a"}, {"type", "int"}, {"label", "A"}}}}});
  EXPECT_EQ(e.code, errc::malformed);
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"fields[0].label"});
  EXPECT_TRUE(env.types.size() == 1) << "nothing else was defined";
}

TEST_F(SystemDecide, ATypeGainsFieldsAndANameButNeverLosesOrRetypesOne) {
  const auto& before = env.types.at(type_id).fields.find("fields")->as_array();
  array more = before;
  more.push_back(field("firmware", "string"));
  auto events =
      decide(customer_state{},
             change_system_type{system_type_id{type_id},
                                object{{"name", "Access"}, {"fields", more}}, entity_version{1}},
             env);
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(events->front().type, event_types::system_type_changed);
  EXPECT_EQ(events->front().version, entity_version{2});
  EXPECT_EQ(events->front().data.find("changed")->string_at("name"), "Access");

  array fewer(before.begin() + 1, before.end());
  auto e = decide(
      customer_state{},
      change_system_type{system_type_id{type_id}, object{{"fields", fewer}}, std::nullopt}, env);
  ASSERT_FALSE(e);
  EXPECT_EQ(fields_of(e.error()), std::vector<std::string>{"fields"});
  EXPECT_NE(e.error().fields[0].message.find("ip_address"), std::string::npos);

  array retyped = before;
  retyped[2] = field("password", "string");
  e = decide(customer_state{},
             change_system_type{system_type_id{type_id}, object{{"fields", retyped}}, std::nullopt},
             env);
  ASSERT_FALSE(e);
  EXPECT_EQ(fields_of(e.error()), std::vector<std::string>{"fields[2].type"});
  e = decide(customer_state{},
             change_system_type{system_type_id{type_id}, object{{"name", "Y"}}, entity_version{7}},
             env);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, errc::precondition_failed);
}

TEST_F(SystemDecide, EveryFieldTypeTakesGoodValuesAndNamesBadOnes) {
  check_value("ip_address", "192.168.1.20", true);
  check_value("ip_address", "0.0.0.0", true);
  for (const value& bad : {value("256.1.1.1"), value("10.0.0"), value("10.0.0.01"),
                           value("10.0.0.1.5"), value("a.b.c.d"), value(10)}) {
    check_value("ip_address", bad, false);
  }
  check_value("login", "admin", true);
  check_value("login", "two\nlines", false);
  check_value("login", std::string(501, 'x'), false);
  check_value("notes", "two\nlines", true);
  check_value("notes", 5, false);
  check_value("ports", 8080, true);
  check_value("ports", -3, true);
  check_value("ports", 1.5, false);
  check_value("ports", "80", false);
  check_value("load", 0.75, true);
  check_value("load", 3, true);
  check_value("load", "0.75", false);
  check_value("enabled", true, true);
  check_value("enabled", "true", false);
  check_value("installed", "2024-02-29", true);
  check_value("installed", "2023-02-29", false);
  check_value("installed", "2024-2-1", false);
  check_value("panel", "https://panel.example/login", true);
  check_value("panel", "ftp://panel.example", false);
  check_value("panel", "https://", false);
  check_value("mode", "armed", true);
  check_value("mode", "sleeping", false);
  check_value("password", "s3cret!", true);
  check_value("password", "", false);
  check_value("password", 1234, false);
  check_value("password", std::string(k_max_secret_bytes + 1, 'p'), false);
}

TEST_F(SystemDecide, RequiredAndUnknownValuesAreNamed) {
  auto e = failure(assign(object{{"login", "admin"}, {"colour", "red"}}));
  EXPECT_EQ(e.code, errc::invalid);
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"values.colour", "values.ip_address"}));
  e = failure(assign_system{customer.id, object{{"type_id", new_id()}, {"values", object{}}}});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"type_id"});
  e = failure(assign_system{customer.id, object{{"values", object{}}}});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"type_id"});
  e = failure(assign_system{customer.id, object{{"type_id", type_id},
                                                {"site_id", new_id()},
                                                {"values", object{{"ip_address", "10.0.0.1"}}}}});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"site_id"});
  e = failure(assign_system{customer.id, object{{"type_id", type_id}, {"colour", 1}}});
  EXPECT_EQ(e.code, errc::malformed);
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"colour"});
  EXPECT_EQ(env.seals, 0) << "nothing was sealed for a refused command";
}

TEST_F(SystemDecide, ASecretLeavesDecideSealedAndBoundToItsSystemAndField) {
  auto events =
      decide(customer,
             assign_system{customer.id, object{{"type_id", type_id},
                                               {"site_id", site},
                                               {"values", object{{"ip_address", "10.0.0.1"},
                                                                 {"password", "hunter2"}}}}},
             env);
  ASSERT_TRUE(events) << events.error().detail;
  const event& e = events->front();
  EXPECT_EQ(e.type, event_types::system_assigned);
  EXPECT_EQ(e.subject, "customers/" + customer.id.get() + "/systems/" + e.entity_id);
  EXPECT_EQ(to_json(e.data).find("hunter2"), std::string::npos) << to_json(e.data);
  const value& password = *e.data.find("values")->find("password");
  ASSERT_TRUE(is_sealed(password)) << to_json(password);
  EXPECT_EQ(password.string_at("sealed"),
            "fake:" + secret_associated_data(e.entity_id, "password") + ":" +
                std::string(password.string_at("sealed"))
                    .substr(password.string_at("sealed").rfind(':') + 1));
  EXPECT_EQ(system_env::unseal(password.string_at("sealed")), "hunter2");
  EXPECT_EQ(masked(password), value(object{{"set", true}}));
  EXPECT_EQ(e.data.string_at("site_id"), site);
  apply_events(customer, *events);
  const std::string id = e.entity_id;

  // A change: the new secret sealed, the old one only as its sealed form, never plaintext.
  auto changed = decide(
      customer,
      change_system{system_id{id},
                    object{{"values", object{{"password", "correct horse"}, {"version", "2.1"}}}},
                    entity_version{1}},
      env);
  ASSERT_TRUE(changed) << changed.error().detail;
  const std::string text = to_json(changed->front().data);
  EXPECT_EQ(text.find("correct horse"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(*changed->front().data.find("previous")->find("password"), password);
  EXPECT_EQ(changed->front().data.find("previous")->find("version")->is_null(), true);
  EXPECT_EQ(changed->front().version, entity_version{2});
  apply_events(customer, *changed);

  env.seal_fails = true;
  const auto refused = failure(
      change_system{system_id{id}, object{{"values", object{{"password", "x"}}}}, std::nullopt});
  EXPECT_EQ(refused.code, errc::unavailable);
}

TEST_F(SystemDecide, PatchesValuesRemovesOptionalOnesAndKeepsRequiredOnes) {
  const auto id = run(assign(object{{"ip_address", "10.0.0.1"}, {"login", "admin"}}));
  EXPECT_TRUE(decide(customer,
                     change_system{system_id{id}, object{{"values", object{{"login", "admin"}}}},
                                   std::nullopt},
                     env)
                  ->empty())
      << "setting what is there changes nothing";
  auto e = failure(change_system{system_id{id}, object{{"values", object{{"ip_address", nullptr}}}},
                                 std::nullopt});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"values.ip_address"});
  e = failure(
      change_system{system_id{id}, object{{"values", object{{"ports", "x"}}}}, std::nullopt});
  EXPECT_EQ(fields_of(e), std::vector<std::string>{"values.ports"});
  e = failure(change_system{system_id{id}, object{{"type_id", type_id}}, std::nullopt});
  EXPECT_EQ(e.code, errc::malformed);
  run(change_system{system_id{id}, object{{"values", object{{"login", nullptr}}}}, std::nullopt});
  EXPECT_EQ(customer.systems.at(id).fields.find("values")->find("login"), nullptr);
  run(remove_system{system_id{id}, entity_version{2}});
  EXPECT_EQ(live_system(customer, id), nullptr);
  EXPECT_EQ(failure(remove_system{system_id{id}, std::nullopt}).code, errc::not_found);
}

TEST_F(SystemDecide, ARevealNamesTheSecretsShownAndOnlySecretsThatAreSet) {
  const auto id = run(assign(object{{"ip_address", "10.0.0.1"}}));
  EXPECT_EQ(failure(reveal_system_secrets{system_id{id}, {}}).code, errc::not_found);
  auto e = failure(reveal_system_secrets{system_id{id}, {"password", "login"}});
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"keys[0]", "keys[1]"}));
  run(change_system{system_id{id}, object{{"values", object{{"password", "pw"}}}}, std::nullopt});
  auto events = decide(customer, reveal_system_secrets{system_id{id}, {}}, env);
  ASSERT_TRUE(events) << events.error().detail;
  EXPECT_EQ(events->front().type, event_types::system_secret_revealed);
  EXPECT_EQ(*events->front().data.find("keys"), value(array{"password"}));
  EXPECT_EQ(events->front().version, entity_version{3});
}

TEST_F(SystemDecide, ASiteWithALiveSystemIsNotRemoved) {
  const auto id =
      run(assign_system{customer.id, object{{"type_id", type_id},
                                            {"site_id", site},
                                            {"values", object{{"ip_address", "10.0.0.1"}}}}});
  const auto e = failure(remove_site{site_id{site}, std::nullopt});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_NE(e.detail.find("1 system"), std::string::npos) << e.detail;
  run(remove_system{system_id{id}, std::nullopt});
  EXPECT_FALSE(run(remove_site{site_id{site}, std::nullopt}).empty());
}

}  // namespace
}  // namespace fieldledger::domain

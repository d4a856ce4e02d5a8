#include "domain/schema.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"
#include "domain/ids.hpp"

namespace fieldledger::domain {
namespace {

// One row of a per-kind table: the value of field "f", and either the normal form it
// validates to or (part of) the message that rejects it.
struct kind_case {
  value input;
  bool ok;
  std::string message = {};
};

// Runs the table against a single-field spec.
void check_kind(const field_spec& spec, const std::vector<kind_case>& cases) {
  const field_spec specs[] = {spec};
  for (const auto& c : cases) {
    const auto r = validate_fields(specs, object{{std::string(spec.name), c.input}});
    const std::string shown = to_json(c.input);
    if (c.ok) {
      EXPECT_TRUE(r.has_value()) << shown << ": " << (r ? "" : r.error().fields.at(0).message);
      continue;
    }
    ASSERT_FALSE(r.has_value()) << shown;
    EXPECT_EQ(r.error().code, errc::invalid) << shown;
    ASSERT_EQ(r.error().fields.size(), 1u) << shown;
    EXPECT_EQ(r.error().fields[0].field, spec.name) << shown;
    EXPECT_NE(r.error().fields[0].message.find(c.message), std::string::npos)
        << shown << " -> " << r.error().fields[0].message;
  }
}

TEST(SchemaKindString, AcceptsSingleLineTextWithinTheLimit) {
  check_kind({.name = "f", .kind = field_kind::string, .max_length = 10},
             {
                 {"Acme", true},
                 {"", true},
                 {"caf\xc3\xa9", true},
                 {std::string(10, 'x'), true},
                 {std::string(11, 'x'), false, "at most 10 bytes"},
                 {"a\nb", false, "single line"},
                 {"a\tb", false, "single line"},
                 {std::string("a\0b", 3), false, "control characters"},
                 {"\x7f", false, "control characters"},
                 {"\xc2\x85", false, "control characters"},
                 {"\xff", false, "UTF-8"},
                 {"\xc3", false, "UTF-8"},
                 {"\xed\xa0\x80", false, "UTF-8"},
                 {42, false, "must be a string"},
                 {array{}, false, "must be a string"},
             });
}

TEST(SchemaKindString, RejectsEmptyAndBlankWhenRequired) {
  check_kind({.name = "f", .kind = field_kind::string, .required = true},
             {
                 {"x", true},
                 {"", false, "must not be empty"},
                 {"   ", false, "must not be empty"},
             });
}

TEST(SchemaKindText, AllowsNewlinesAndTabsOnly) {
  check_kind({.name = "f", .kind = field_kind::text, .max_length = 4000},
             {
                 {"line 1\r\nline 2\n\tindented", true},
                 {"", true},
                 {std::string(4000, 'x'), true},
                 {std::string(4001, 'x'), false, "at most 4000 bytes"},
                 {"bell\x07", false, "control characters"},
                 {std::string(1, '\0'), false, "control characters"},
                 {"\x1b[31m", false, "control characters"},
             });
}

// A domain of 187 + n bytes whose labels are all within the DNS limit of 63.
std::string long_domain(std::size_t n) {
  return std::string(60, 'b') + "." + std::string(60, 'c') + "." + std::string(60, 'd') + "." +
         std::string(n, 'e') + ".com";
}

TEST(SchemaKindEmail, AcceptsOneAtAndADottedDomain) {
  check_kind({.name = "f", .kind = field_kind::email, .max_length = 254},
             {
                 {"a@b.co", true},
                 {"first.last+tag@mail.example.co.uk", true},
                 {"o'brien@example-shop.com", true},
                 {std::string(64, 'a') + "@" + long_domain(2), true},
                 {std::string(64, 'a') + "@" + long_domain(3), false, "email address"},
                 {std::string(65, 'a') + "@example.com", false, "email address"},
                 {"a@" + std::string(64, 'b') + ".com", false, "email address"},
                 {"", false, "email address"},
                 {"plain", false, "email address"},
                 {"@example.com", false, "email address"},
                 {"a@example", false, "email address"},
                 {"a@@example.com", false, "email address"},
                 {"a@b@example.com", false, "email address"},
                 {"a b@example.com", false, "email address"},
                 {"a@exa mple.com", false, "email address"},
                 {"a@.example.com", false, "email address"},
                 {"a@example..com", false, "email address"},
                 {"a@example.com.", false, "email address"},
                 {"a@example.c", false, "email address"},
                 {".a@example.com", false, "email address"},
                 {"a..b@example.com", false, "email address"},
                 {"a@-example.com", false, "email address"},
                 {"a\n@example.com", false, "email address"},
                 {7, false, "email address"},
             });
}

TEST(SchemaKindUrl, AcceptsHttpAndHttpsWithAHost) {
  check_kind({.name = "f", .kind = field_kind::url, .max_length = 2000},
             {
                 {"https://example.com", true},
                 {"http://example.com:8080/path?q=1#top", true},
                 {"HTTPS://Example.COM/", true},
                 {"http://[::1]:8080/", true},
                 {"https://user@example.com", true},
                 {"http://localhost", true},
                 {"https://example.com/" + std::string(1980, 'x'), true},
                 {"https://example.com/" + std::string(1981, 'x'), false, "URL"},
                 {"", false, "URL"},
                 {"example.com", false, "URL"},
                 {"ftp://example.com", false, "URL"},
                 {"http://", false, "URL"},
                 {"http:///path", false, "URL"},
                 {"https://exa mple.com", false, "URL"},
                 {"https://example.com/a b", false, "URL"},
                 {"http://example.com:port", false, "URL"},
                 {"http://ex_ample..com", false, "URL"},
                 {"javascript:alert(1)", false, "URL"},
             });
}

TEST(SchemaKindEmail, HonoursATighterMaxLength) {
  check_kind({.name = "f", .kind = field_kind::email, .max_length = 10},
             {
                 {"a@b.co", true},
                 {"ab@cde.com", true},
                 {"abc@def.com", false, "at most 10 bytes"},
             });
}

TEST(SchemaKindPhone, AcceptsDigitsWithPunctuationAndExtension) {
  check_kind({.name = "f", .kind = field_kind::phone},
             {
                 {"+1 (555) 010-0199 x12", true},
                 {"555", true},
                 {"555.0100 X 7", true},
                 {"+" + std::string(39, '1'), true},
                 {"+" + std::string(40, '1'), false, "phone number"},
                 {"12", false, "at least 3 digits"},
                 {"", false, "phone number"},
                 {"call me", false, "phone number"},
                 {"555#123", false, "phone number"},
                 {"555/123", false, "phone number"},
                 {5550100, false, "phone number"},
             });
}

TEST(SchemaKindId, AcceptsOnlyIdsMadeByNewId) {
  check_kind({.name = "f", .kind = field_kind::id},
             {
                 {new_id(), true},
                 {"", false, "must be an id"},
                 {"C-000001", false, "must be an id"},
                 {"0190B2A4-8C1E-7B3A-9F00-123456789012", false, "must be an id"},
                 {42, false, "must be an id"},
             });
}

TEST(SchemaKindInteger, AcceptsWholeNumbersInRange) {
  check_kind({.name = "f", .kind = field_kind::integer, .min = 0, .max = 10'000'000},
             {
                 {0, true},
                 {10'000'000, true},
                 {-1, false, "between 0 and 10000000"},
                 {std::int64_t{10'000'001}, false, "between 0 and 10000000"},
                 {12.0, false, "must be a whole number"},
                 {12.5, false, "must be a whole number"},
                 {"12", false, "must be a whole number"},
                 {true, false, "must be a whole number"},
             });
}

TEST(SchemaKindRoleList, AcceptsDistinctKnownRoles) {
  check_kind({.name = "f", .kind = field_kind::role_list},
             {
                 {array{}, true},
                 {array{"billing", "emergency", "site_technical"}, true},
                 {array{"approval_authority", "service_requester"}, true},
                 {"billing", false, "must be an array"},
                 {array{"boss"}, false, "\"boss\" is not a role; allowed: site_technical, billing"},
                 {array{"billing", "billing"}, false, "\"billing\" is listed more than once"},
                 {array{1}, false, "allowed: site_technical"},
                 {array{"Billing"}, false, "not a role"},
             });
}

TEST(SchemaKindNotify, AcceptsTheFourBooleans) {
  check_kind({.name = "f", .kind = field_kind::notify},
             {
                 {object{}, true},
                 {object{{"work_orders", true},
                         {"quote_approvals", false},
                         {"completions", true},
                         {"invoices", false}},
                  true},
                 {true, false, "must be an object of booleans"},
             });
  const field_spec specs[] = {{.name = "notify", .kind = field_kind::notify}};
  auto r = validate_fields(specs, object{{"notify", object{{"invoices", "yes"}}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid);
  EXPECT_EQ(r.error().fields,
            (std::vector<field_error>{{"notify.invoices", "must be true or false"}}));
}

TEST(SchemaKindNotify, RejectsUnknownKeysAsMalformed) {
  const field_spec specs[] = {{.name = "notify", .kind = field_kind::notify}};
  auto r = validate_fields(specs, object{{"notify", object{{"sms", true}}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "notify.sms");
}

TEST(SchemaKindNotify, DropsNullMembers) {
  const field_spec specs[] = {{.name = "notify", .kind = field_kind::notify}};
  auto r = validate_fields(
      specs,
      object{{"notify", object{{"sms", nullptr}, {"invoices", nullptr}, {"completions", true}}}});
  ASSERT_FALSE(r) << "an unknown key is unknown even when null";
  r = validate_fields(specs,
                      object{{"notify", object{{"invoices", nullptr}, {"completions", true}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, value(object{{"notify", object{{"completions", true}}}}));
}

// ---- address -----------------------------------------------------------------------------

const field_spec k_address_spec[] = {{.name = "billing_address", .kind = field_kind::address}};

result<value> check_address(value address) {
  return validate_fields(k_address_spec, object{{"billing_address", std::move(address)}});
}

TEST(SchemaKindAddress, AcceptsAFullAddress) {
  const value full = object{
      {"street", "1 Main St"}, {"city", "Springfield"}, {"state", "IL"}, {"postcode", "62701"},
      {"country", "US"},       {"lat", 39.78},          {"lng", -89}};
  auto r = check_address(full);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(*r->find("billing_address"), full);
  EXPECT_TRUE(check_address(object{}));
  EXPECT_TRUE(check_address(object{{"lat", 90}, {"lng", -180}}));
  EXPECT_TRUE(check_address(object{{"lat", -90.0}, {"lng", 180.0}}));
}

TEST(SchemaKindAddress, DropsNullMembers) {
  auto r = check_address(object{{"city", "Oslo"}, {"street", nullptr}, {"lat", nullptr}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->find("billing_address"), value(object{{"city", "Oslo"}}));
}

TEST(SchemaKindAddress, RejectsEachBadPart) {
  struct test_case {
    value address;
    std::string field, message;
  };
  const test_case cases[] = {
      {"Main St", "billing_address", "must be an object"},
      {object{{"country", "us"}}, "billing_address.country", "ISO 3166-1 alpha-2"},
      {object{{"country", "XX"}}, "billing_address.country", "ISO 3166-1 alpha-2"},
      {object{{"country", "UK"}}, "billing_address.country", "ISO 3166-1 alpha-2"},
      {object{{"country", "USA"}}, "billing_address.country", "ISO 3166-1 alpha-2"},
      {object{{"postcode", std::string(21, '9')}}, "billing_address.postcode", "at most 20"},
      {object{{"street", std::string(201, 's')}}, "billing_address.street", "at most 200"},
      {object{{"city", "a\nb"}}, "billing_address.city", "single line"},
      {object{{"state", 5}}, "billing_address.state", "must be a string"},
      {object{{"lat", 90.5}, {"lng", 0}}, "billing_address.lat", "between -90 and 90"},
      {object{{"lat", 0}, {"lng", -181}}, "billing_address.lng", "between -180 and 180"},
      {object{{"lat", "1"}, {"lng", 0}}, "billing_address.lat", "must be a number"},
      {object{{"lat", 1}}, "billing_address.lng", "together"},
      {object{{"lng", 1}}, "billing_address.lat", "together"},
      {object{{"lat", 1}, {"lng", nullptr}}, "billing_address.lng", "together"},
  };
  for (const auto& c : cases) {
    auto r = check_address(c.address);
    ASSERT_FALSE(r) << to_json(c.address);
    EXPECT_EQ(r.error().code, errc::invalid) << to_json(c.address);
    ASSERT_EQ(r.error().fields.size(), 1u) << to_json(c.address);
    EXPECT_EQ(r.error().fields[0].field, c.field) << to_json(c.address);
    EXPECT_NE(r.error().fields[0].message.find(c.message), std::string::npos)
        << to_json(c.address) << " -> " << r.error().fields[0].message;
  }
}

TEST(SchemaKindAddress, ReportsEveryBadPart) {
  auto r = check_address(object{{"country", "zz"}, {"postcode", std::string(30, '1')}});
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().fields.size(), 2u);
  EXPECT_EQ(r.error().detail, "2 fields are invalid");
}

TEST(SchemaKindAddress, RejectsUnknownKeysAsMalformedNamingThePath) {
  auto r = check_address(object{{"zip", "12345"}, {"country", "??"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "billing_address.zip");
  EXPECT_NE(r.error().fields[0].message.find("street, city, state, postcode, country, lat, lng"),
            std::string::npos);
}

// ---- whole field sets -------------------------------------------------------------------

const field_spec k_specs[] = {
    {.name = "name", .kind = field_kind::string, .required = true},
    {.name = "email", .kind = field_kind::email},
    {.name = "employees", .kind = field_kind::integer, .min = 0, .max = 10},
    {.name = "address", .kind = field_kind::address},
};

TEST(ValidateFields, ReturnsTheNormalFormWithoutNulls) {
  auto r =
      validate_fields(k_specs, object{{"name", "Acme"},
                                      {"email", nullptr},
                                      {"address", object{{"city", "Oslo"}, {"state", nullptr}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, value(object{{"name", "Acme"}, {"address", object{{"city", "Oslo"}}}}));
}

TEST(ValidateFields, RequiresRequiredFields) {
  for (const value& body : {value(object{}), value(object{{"name", nullptr}})}) {
    auto r = validate_fields(k_specs, body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid);
    EXPECT_EQ(r.error().fields, (std::vector<field_error>{{"name", "is required"}}));
    EXPECT_EQ(r.error().detail, "1 field is invalid");
  }
}

TEST(ValidateFields, ReportsEveryInvalidField) {
  auto r = validate_fields(k_specs, object{{"email", "nope"}, {"employees", 11}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid);
  EXPECT_EQ(r.error().detail, "3 fields are invalid");
  std::vector<std::string> names;
  for (const auto& f : r.error().fields) names.push_back(f.field);
  EXPECT_EQ(names, (std::vector<std::string>{"name", "email", "employees"}));
}

TEST(ValidateFields, RejectsUnknownFieldsAsMalformedBeforeInvalidOnes) {
  auto r = validate_fields(k_specs, object{{"nmae", "Acme"}, {"email", "nope"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "nmae");
  EXPECT_EQ(r.error().detail, "unknown field \"nmae\"");
}

TEST(ValidateFields, CountsSeveralUnknownFields) {
  auto r = validate_fields(k_specs, object{{"name", "x"}, {"a", 1}, {"b", 2}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  EXPECT_EQ(r.error().detail, "2 unknown fields");
}

TEST(ValidateFields, PrefixesFieldPaths) {
  auto r = validate_fields(k_specs, object{{"address", object{{"country", "x"}}}}, "items.0");
  ASSERT_FALSE(r);
  std::vector<std::string> names;
  for (const auto& f : r.error().fields) names.push_back(f.field);
  EXPECT_EQ(names, (std::vector<std::string>{"items.0.name", "items.0.address.country"}));
  r = validate_fields(k_specs, object{{"name", "x"}, {"bogus", 1}}, "body");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fields[0].field, "body.bogus");
}

TEST(ValidateFields, RejectsANonObjectAsMalformed) {
  for (const value& body : {value{}, value("x"), value(array{})}) {
    auto r = validate_fields(k_specs, body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::malformed);
  }
}

TEST(CheckPatchKeys, AcceptsKnownKeysIncludingNulls) {
  EXPECT_TRUE(check_patch_keys(k_specs, object{{"name", "x"}, {"email", nullptr}}));
  EXPECT_TRUE(check_patch_keys(k_specs, object{}));
}

TEST(CheckPatchKeys, RejectsUnknownKeysAsMalformed) {
  auto r = check_patch_keys(k_specs, object{{"name", "x"}, {"colour", "red"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::malformed);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "colour");
}

TEST(CheckPatchKeys, RejectsANonObjectPatchAsMalformed) {
  for (const value& patch : {value{}, value(array{}), value("x")}) {
    auto r = check_patch_keys(k_specs, patch);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::malformed);
  }
}

TEST(IsValidCountry, KnowsExactlyTheAssignedCodes) {
  int valid = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) valid += is_valid_country(std::string{a, b}) ? 1 : 0;
  }
  EXPECT_EQ(valid, 249);
  for (std::string_view c : {"US", "GB", "DE", "AX", "BQ", "CW", "SS", "SX", "ZW", "AD"}) {
    EXPECT_TRUE(is_valid_country(c)) << c;
  }
  for (std::string_view c : {"UK", "EU", "XK", "AN", "YU", "us", "Us", "USA", "U", ""}) {
    EXPECT_FALSE(is_valid_country(c)) << c;
  }
}

TEST(IsValidEmail, AgreesWithTheEmailKind) {
  EXPECT_TRUE(is_valid_email("ops@fieldledger.example"));
  EXPECT_FALSE(is_valid_email("ops@fieldledger"));
}

// validate_patch against what it stands for: the merged whole validated, then compared with
// before (errors too: code, detail and every field in order).
result<std::optional<value>> patch_the_long_way(std::span<const field_spec> specs,
                                                const value& before, const value& patch) {
  if (auto ok = check_patch_keys(specs, patch); !ok) return std::unexpected(ok.error());
  auto after = validate_fields(specs, merge_patch(before, patch));
  if (!after) return std::unexpected(after.error());
  return detail::field_changes(before, *after);
}

TEST(ValidatePatch, AnswersAsValidatingTheMergedWholeWould) {
  const std::vector<value> befores = {
      value(object{{"name", "Acme"}}),
      value(object{{"name", "Acme"},
                   {"phone1", "+1 555 0100"},
                   {"email", "ops@acme.example"},
                   {"employees", std::int64_t{12}},
                   {"billing_address", value(object{{"street", "1 Main St"},
                                                    {"city", "Springfield"},
                                                    {"country", "US"},
                                                    {"lat", 39.8},
                                                    {"lng", -89.6}})},
                   {"external_id", "A-1"},
                   {"type", "commercial"}}),
  };
  const std::vector<value> patches = {
      value(object{}),
      value(object{{"phone1", "+1 555 0199"}}),
      value(object{{"phone1", "+1 555 0100"}}),
      value(object{{"phone1", nullptr}}),
      value(object{{"phone2", nullptr}}),
      value(object{{"name", nullptr}}),
      value(object{{"name", "  "}}),
      value(object{{"name", "Acme Inc"}, {"dba_name", "Acme"}, {"employees", std::int64_t{13}}}),
      value(object{{"phone1", "call me"}, {"email", "nope"}, {"employees", std::int64_t{-1}}}),
      value(object{{"employees", "many"}}),
      value(object{{"billing_address", value(object{{"city", "Shelbyville"}})}}),
      value(object{{"billing_address", value(object{{"city", "Springfield"}})}}),
      value(object{{"billing_address", value(object{{"lat", nullptr}})}}),
      value(object{{"billing_address", value(object{{"lat", nullptr}, {"lng", nullptr}})}}),
      value(object{{"billing_address", value(object{{"country", "usa"}})}}),
      value(object{{"billing_address", value(object{{"floor", std::int64_t{3}}})}}),
      value(object{{"billing_address", nullptr}}),
      value(object{{"billing_address", "somewhere"}}),
      value(
          object{{"shipping_address", value(object{{"street", "2 Side St"}, {"country", "CA"}})}}),
      value(object{{"shipping_address", value(object{{"lat", std::int64_t{1}}})}}),
      value(object{{"colour", "red"}}),
      value(object{{"colour", "red"}, {"phone1", "bad"}}),
      value(object{{"external_id", nullptr}, {"parent_id", "not-an-id"}}),
      value(object{{"description", "two\nlines"}, {"tax_id", "X-1"}}),
      value(array{}),
      "name",
  };
  for (const auto& before : befores) {
    for (const auto& patch : patches) {
      const auto want = patch_the_long_way(customer_fields(), before, patch);
      const auto got = validate_patch(customer_fields(), before, patch);
      const std::string shown = to_json(before) + " + " + to_json(patch);
      ASSERT_EQ(got.has_value(), want.has_value()) << shown;
      if (!want) {
        EXPECT_EQ(got.error().code, want.error().code) << shown;
        EXPECT_EQ(got.error().detail, want.error().detail) << shown;
        EXPECT_EQ(got.error().fields, want.error().fields) << shown;
        continue;
      }
      ASSERT_EQ(got->has_value(), want->has_value()) << shown;
      if (*want) {
        EXPECT_EQ(to_json(**got), to_json(**want)) << shown;
      }
    }
  }
}

TEST(ValidatePatch, ChecksOnlyTheMembersThePatchNames) {
  // A stored record the current rules would refuse (a phone number of one digit): a patch of
  // another member is still checked on its own.
  const value before = object{{"name", "Acme"}, {"phone1", "1"}};
  const auto got = validate_patch(customer_fields(), before, object{{"fax", "+1 555 0100"}});
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(to_json(**got), R"({"changed":{"fax":"+1 555 0100"},"previous":{"fax":null}})");
}

}  // namespace
}  // namespace fieldledger::domain

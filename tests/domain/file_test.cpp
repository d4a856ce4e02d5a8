// Files in the customer aggregate: attaching to a customer, site or asset, removal, and file
// names made safe.
#include <gtest/gtest.h>

#include "domain/customer.hpp"
#include "domain/file_name.hpp"
#include "tests/domain/fake_decide_env.hpp"

namespace fieldledger::domain {
namespace {

std::string field_of(const error& e) { return e.fields.empty() ? "" : e.fields[0].field; }

TEST(FileName, KeepsTheLastPathComponentWithoutControlCharacters) {
  EXPECT_EQ(*sanitize_file_name("report.pdf"), "report.pdf");
  EXPECT_EQ(*sanitize_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(*sanitize_file_name("C:\\Users\\bob\\plan.dwg"), "plan.dwg");
  EXPECT_EQ(*sanitize_file_name("  a\tb\r\nc\x7f.txt  "), "abc.txt");
  EXPECT_EQ(*sanitize_file_name("x\xC2\x85y"), "xy") << "C1 controls go too";
  EXPECT_EQ(*sanitize_file_name("Pr\xC3\xBC"
                                "fung.pdf"),
            "Pr\xC3\xBC"
            "fung.pdf");
  EXPECT_EQ(*sanitize_file_name("..hidden"), "..hidden");
}

TEST(FileName, CutsLongNamesOnACharacterBoundary) {
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xBC";  // 400 bytes
  auto cut = sanitize_file_name(name);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->size(), 254u);
  EXPECT_TRUE(is_valid_utf8(*cut));
  EXPECT_EQ(sanitize_file_name(std::string(300, 'a'))->size(), k_max_file_name);
}

TEST(FileName, RefusesWhatHasNothingUsableOrIsNotUtf8) {
  for (const std::string bad : {"", "   ", ".", "..", "a/..", "dir/", "\r\n", "\xFF.pdf",
                                "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    auto r = sanitize_file_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, errc::invalid);
    EXPECT_EQ(field_of(r.error()), "filename");
  }
}

class FileDecide : public ::testing::Test {
 protected:
  void SetUp() override {
    apply(decide(state_, register_customer{object{{"name", "Acme"}}}, env_));
    apply(decide(state_, add_site{state_.id, object{{"name", "North"}}}, env_));
    site_ = state_.sites.begin()->first;
  }
  void apply(const result<std::vector<event>>& r) {
    ASSERT_TRUE(r) << r.error().detail;
    for (auto e : *r) {
      e.time = "2026-11-23T10:00:00.000Z";
      e.actor = "tester";
      evolve(state_, e);
    }
  }
  static value fields(std::string name = "a.pdf") {
    return object{{"name", std::move(name)},
                  {"size", 10},
                  {"content_type", "application/pdf"},
                  {"sha256", std::string(64, 'a')}};
  }
  customer_state state_;
  test_support::fake_decide_env env_;
  std::string site_;
};

TEST_F(FileDecide, AttachesToTheCustomerOrALiveSite) {
  auto r = decide(state_, attach_file{file_owner::customer, state_.id.get(), fields()}, env_);
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->size(), 1u);
  const event& e = (*r)[0];
  EXPECT_EQ(e.type, event_types::file_attached);
  EXPECT_EQ(e.subject, "customers/" + state_.id.get() + "/files/" + e.entity_id);
  EXPECT_EQ(e.version, entity_version{1});
  EXPECT_EQ(e.data.find("fields")->string_at("sha256"), std::string(64, 'a'));

  auto at_site = decide(state_, attach_file{file_owner::site, site_, fields()}, env_);
  ASSERT_TRUE(at_site);
  EXPECT_EQ((*at_site)[0].data.find("fields")->string_at("site_id"), site_);
  apply(at_site);
  EXPECT_EQ(state_.files.size(), 1u);
}

TEST_F(FileDecide, AnUnknownOwnerIsNotFound) {
  const std::string other = "01a2085e-2d6a-7000-8dc5-9574100495dd";
  for (auto kind : {file_owner::customer, file_owner::site, file_owner::asset}) {
    auto r = decide(state_, attach_file{kind, other, fields()}, env_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::not_found);
  }
}

TEST_F(FileDecide, RefusesMetadataThatIsNotValid) {
  for (const auto& [field, v] : {std::pair<std::string, value>{"name", "../x"},
                                 {"name", ""},
                                 {"content_type", "pdf"},
                                 {"sha256", std::string(64, 'A')},
                                 {"size", -1}}) {
    value f = fields();
    f.as_object()[field] = v;
    auto r = decide(state_, attach_file{file_owner::customer, state_.id.get(), f}, env_);
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, errc::invalid) << field;
    EXPECT_EQ(field_of(r.error()), field);
  }
}

TEST_F(FileDecide, RemovalKeepsTheNameInTheEventAndTheFileInTheState) {
  apply(decide(state_, attach_file{file_owner::customer, state_.id.get(), fields("q.pdf")}, env_));
  const file_id id{state_.files.begin()->first};
  auto stale = decide(state_, remove_file{id, entity_version{5}}, env_);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, errc::precondition_failed);
  auto r = decide(state_, remove_file{id, entity_version{1}}, env_);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].type, event_types::file_removed);
  EXPECT_EQ((*r)[0].data.string_at("name"), "q.pdf");
  apply(r);
  EXPECT_TRUE(state_.files.at(id.get()).removed);
  auto again = decide(state_, remove_file{id, std::nullopt}, env_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::not_found);
}

TEST_F(FileDecide, AnArchivedCustomerTakesNoFiles) {
  apply(decide(state_, archive_customer{state_.id, std::nullopt}, env_));
  auto r = decide(state_, attach_file{file_owner::customer, state_.id.get(), fields()}, env_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::conflict);
}

}  // namespace
}  // namespace fieldledger::domain

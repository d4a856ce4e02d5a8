// The primary contact of a customer is kept whole: pc/<customer> holds the primary contact's
// document, equal to it through designation, change, a new designation and removal, so that the
// lookup is one read. Entries written by an earlier release hold the contact's id and still
// answer, from the document.
#include <gtest/gtest.h>

#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/queries.hpp"
#include "tests/projections/test_support.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;

class ContactViews : public test_support::views_test {
 protected:
  std::string add(const char* name) {
    return std::string(run(add_contact{customer_, object{{"name", name}}}).string_at("id"));
  }
  std::optional<std::string> contact(const std::string& id) { return at(keys::contact(id)); }
  std::optional<std::string> entry() { return at(keys::primary_contact(customer_.get())); }
  // The lookup's answer, and how many keys it read.
  std::pair<result<std::string>, std::size_t> lookup() {
    test_support::counting_store counted(store_);
    auto r = queries(counted).primary_contact(customer_);
    return {std::move(r), counted.gets.load()};
  }
};

TEST_F(ContactViews, TheEntryHoldsThePrimaryContactsDocumentThroughEveryChange) {
  const auto david = add("David Chen");  // the first contact becomes the primary one
  const auto erin = add("Erin Diaz");
  catch_up();
  ASSERT_TRUE(contact(david));
  EXPECT_EQ(entry(), contact(david)) << "first contact";

  run(change_contact{contact_id{david}, object{{"title", "Owner"}}, std::nullopt});
  catch_up();
  EXPECT_EQ(json::parse(*contact(david))->string_at("title"), "Owner");
  EXPECT_EQ(entry(), contact(david)) << "the primary contact changed";

  run(change_contact{contact_id{erin}, object{{"title", "Accounts"}}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), contact(david)) << "another contact changed";

  run(make_primary_contact{contact_id{erin}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), contact(erin)) << "a new designation";
  EXPECT_EQ(json::parse(*entry())->find("primary")->as_bool(), true);
  EXPECT_EQ(json::parse(*contact(david))->find("primary")->as_bool(), false);

  run(change_contact{contact_id{david}, object{{"title", "Former owner"}}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), contact(erin)) << "the former primary contact changed";

  run(remove_contact{contact_id{david}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), contact(erin)) << "another contact removed";

  run(remove_contact{contact_id{erin}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), std::nullopt) << "the primary contact removed";
  const auto [none, reads] = lookup();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
  EXPECT_NE(none.error().detail.find("has no primary contact"), std::string::npos);
}

TEST_F(ContactViews, ALookupReadsOneKey) {
  const auto david = add("David Chen");
  add("Erin Diaz");
  catch_up();
  const auto [doc, reads] = lookup();
  ASSERT_TRUE(doc) << doc.error().detail;
  EXPECT_EQ(*doc, contact(david));
  EXPECT_EQ(reads, 1u);
}

TEST_F(ContactViews, AnEntryOfAnEarlierReleaseIsAnsweredFromTheDocument) {
  const auto david = add("David Chen");
  catch_up();
  const write_op old{keys::primary_contact(customer_.get()), david};
  ASSERT_TRUE(store_.commit(std::span(&old, 1)));
  const auto [doc, reads] = lookup();
  ASSERT_TRUE(doc) << doc.error().detail;
  EXPECT_EQ(*doc, contact(david));
  EXPECT_EQ(reads, 2u) << "the entry, and the document it names";

  // Removing the contact still removes such an entry.
  run(remove_contact{contact_id{david}, std::nullopt});
  catch_up();
  EXPECT_EQ(entry(), std::nullopt);
}

TEST_F(ContactViews, ALookupOfAnUnknownCustomerSaysSo) {
  test_support::counting_store counted(store_);
  auto r = queries(counted).primary_contact(customer_id{"0190a1b2-0000-7000-8000-000000000000"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
  EXPECT_NE(r.error().detail.find("no customer with id"), std::string::npos);
}

}  // namespace
}  // namespace fieldledger::projections

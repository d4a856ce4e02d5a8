// The assets of a site are a covering index: each sa/<site>/<asset> entry holds the asset's
// document, kept equal to it through registration, change, move and retirement, so that a page
// of a site's assets reads no document key. Entries written empty by an earlier release still
// answer, from the document.
#include <gtest/gtest.h>

#include <algorithm>

#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/queries.hpp"
#include "tests/projections/test_support.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;

class EquipmentViews : public test_support::views_test {
 protected:
  void SetUp() override {
    views_test::SetUp();
    if (HasFatalFailure()) return;
    north_ =
        site_id{std::string(run(add_site{customer_, object{{"name", "North"}}}).string_at("id"))};
    south_ =
        site_id{std::string(run(add_site{customer_, object{{"name", "South"}}}).string_at("id"))};
  }
  std::vector<std::string> page_of(const site_id& s, const asset_filter& f = {}) {
    test_support::counting_store counted(store_);
    auto p = queries(counted).assets_of_site(s, f);
    EXPECT_TRUE(p) << p.error().detail;
    last_gets_ = counted.gets;
    return p ? p->items : std::vector<std::string>{};
  }

  site_id north_, south_;
  std::size_t last_gets_ = 0;
};

TEST_F(EquipmentViews, ASitesEntryHoldsTheAssetDocumentThroughEveryChange) {
  const std::string id(
      run(register_asset{customer_, object{{"site_id", north_.get()}, {"brand", "Carrier"}}})
          .string_at("id"));
  const auto doc = keys::key(keys::asset_prefix, id);
  const auto in_north = keys::key("sa/", north_.get(), id);
  const auto in_south = keys::key("sa/", south_.get(), id);
  catch_up();
  ASSERT_TRUE(at(doc));
  EXPECT_EQ(at(in_north), at(doc)) << "registered";

  run(change_asset{asset_id{id}, object{{"brand", "Daikin"}}, std::nullopt});
  catch_up();
  EXPECT_EQ(json::parse(*at(doc))->string_at("brand"), "Daikin");
  EXPECT_EQ(at(in_north), at(doc)) << "changed";

  run(move_asset{asset_id{id}, south_, std::nullopt});
  catch_up();
  EXPECT_EQ(at(in_north), std::nullopt) << "moved away";
  EXPECT_EQ(at(in_south), at(doc)) << "moved in";

  run(retire_asset{asset_id{id}, std::nullopt});
  catch_up();
  EXPECT_EQ(json::parse(*at(doc))->string_at("status"), "retired");
  EXPECT_EQ(at(in_south), at(doc)) << "retired";
}

TEST_F(EquipmentViews, ASitesPageReadsNoDocumentKey) {
  for (int i = 0; i < 5; ++i) {
    run(register_asset{customer_, object{{"site_id", north_.get()},
                                         {"product_class", i % 2 == 0 ? "hvac" : "pump"}}});
  }
  catch_up();
  EXPECT_EQ(page_of(north_).size(), 5u);
  EXPECT_EQ(last_gets_, 1u) << "the site's own document only";
  EXPECT_EQ(page_of(north_, asset_filter{.product_class = "pump"}).size(), 2u);
  EXPECT_EQ(last_gets_, 1u);
}

TEST_F(EquipmentViews, AnEmptyEntryOfAnEarlierReleaseIsAnsweredFromTheDocument) {
  const std::string id(
      run(register_asset{customer_, object{{"site_id", north_.get()}}}).string_at("id"));
  run(register_asset{customer_, object{{"site_id", north_.get()}}});
  catch_up();
  const write_op old{keys::key("sa/", north_.get(), id), std::string()};
  ASSERT_TRUE(store_.commit(std::span(&old, 1)));
  const auto items = page_of(north_);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(last_gets_, 2u) << "the site, and the one document behind the empty entry";
  EXPECT_TRUE(std::ranges::find(items, *at(keys::key(keys::asset_prefix, id))) != items.end());
}

}  // namespace
}  // namespace fieldledger::projections

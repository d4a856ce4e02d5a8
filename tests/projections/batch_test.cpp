// The batch of a commit: raw writes and decoded documents read each other's writes, a decoded
// document is parsed once and written once (its last state), and a put or delete of its key
// supersedes it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "json/parse.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/view.hpp"
#include "tests/projections/test_support.hpp"

namespace fieldledger::projections {
namespace {

using namespace fieldledger::domain;

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<write_op> seed{{"cu/1", R"({"counts":{"sites":1},"name":"Acme"})"},
                                     {"cu/2", R"({"name":"Beta"})"}};
    ASSERT_TRUE(inner_.commit(seed));
  }
  // The ops of key in ops (a key must appear at most once).
  static std::vector<write_op> ops_of(const std::vector<write_op>& ops, std::string_view key) {
    std::vector<write_op> out;
    std::ranges::copy_if(ops, std::back_inserter(out),
                         [&](const write_op& op) { return op.key == key; });
    return out;
  }
  static void set_sites(const batch::document& d, std::int64_t n) {
    d->as_object()["counts"].as_object()["sites"] = n;
    d.changed();
  }

  memory_view_store inner_;
  test_support::counting_store store_{inner_};
};

TEST_F(BatchTest, ADocumentIsReadAndParsedOnceAndIsTheSameObjectEachTime) {
  batch b(store_);
  auto first = b.doc("cu/1");
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->string_at("name"), "Acme");
  set_sites(*first, 2);
  auto second = b.doc("cu/1");
  ASSERT_TRUE(second);
  EXPECT_EQ(&**first, &**second);
  EXPECT_EQ((*second)->find("counts")->find("sites")->as_int(), 2);
  EXPECT_EQ(store_.gets, 1U);
}

TEST_F(BatchTest, TakeWritesAChangedDocumentOnceWithItsLastStateAndAnUnchangedOneNotAtAll) {
  batch b(store_);
  for (std::int64_t n = 2; n <= 5; ++n) {
    auto d = b.doc("cu/1");
    ASSERT_TRUE(d);
    set_sites(*d, n);
  }
  ASSERT_TRUE(b.doc("cu/2"));  // read only
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].key, "cu/1");
  EXPECT_EQ(ops[0].value, R"({"counts":{"sites":5},"name":"Acme"})");
  EXPECT_TRUE(b.empty());
}

TEST_F(BatchTest, GetSeesEachStateOfAChangedDocument) {
  batch b(store_);
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  set_sites(*d, 2);
  EXPECT_EQ(*b.get("cu/1"), R"({"counts":{"sites":2},"name":"Acme"})");
  // changed again after a read: the read did not freeze it
  set_sites(*d, 3);
  EXPECT_EQ(*b.get("cu/1"), R"({"counts":{"sites":3},"name":"Acme"})");
  const auto ops = b.take();
  ASSERT_EQ(ops_of(ops, "cu/1").size(), 1U);
  EXPECT_EQ(ops_of(ops, "cu/1")[0].value, R"({"counts":{"sites":3},"name":"Acme"})");
}

TEST_F(BatchTest, ADocumentReadsWhatAPutOfTheBatchWrote) {
  batch b(store_);
  b.put("cu/1", R"({"name":"Acme Ltd"})");
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->string_at("name"), "Acme Ltd");
  EXPECT_EQ(store_.gets, 0U);
}

TEST_F(BatchTest, APutSupersedesAChangedDocument) {
  batch b(store_);
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  set_sites(*d, 7);
  b.put("cu/1", R"({"name":"Replaced"})");
  EXPECT_EQ(*b.get("cu/1"), R"({"name":"Replaced"})");
  auto again = b.doc("cu/1");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->string_at("name"), "Replaced");
  EXPECT_EQ((*again)->find("counts"), nullptr);
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].value, R"({"name":"Replaced"})");
}

TEST_F(BatchTest, ADeleteDropsTheDocument) {
  batch b(store_);
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  set_sites(*d, 2);
  b.del("cu/1");
  EXPECT_EQ(*b.get("cu/1"), std::nullopt);
  auto again = b.doc("cu/1");
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->is_null());
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].key, "cu/1");
  EXPECT_EQ(ops[0].value, std::nullopt);
}

TEST_F(BatchTest, AnAbsentDocumentIsNullAndIsCreatedWhenChanged) {
  batch b(store_);
  auto d = b.doc("sm/9");
  ASSERT_TRUE(d);
  EXPECT_TRUE((*d)->is_null());
  **d = object{{"notes", 1}};
  d->changed();
  EXPECT_EQ(*b.get("sm/9"), R"({"notes":1})");
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].value, R"({"notes":1})");
}

TEST_F(BatchTest, ADocumentLeftNullIsWrittenAsADelete) {
  batch b(store_);
  auto d = b.doc("cu/2");
  ASSERT_TRUE(d);
  **d = value{};
  d->changed();
  EXPECT_EQ(*b.get("cu/2"), std::nullopt);
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].value, std::nullopt);
}

TEST_F(BatchTest, PutDocWritesWithoutReadingAndLaterChangesWriteOnce) {
  batch b(store_);
  b.put_doc("cu/3", object{{"name", "Gamma"}, {"counts", object{{"sites", 0}}}});
  EXPECT_EQ(store_.gets, 0U);
  auto d = b.doc("cu/3");
  ASSERT_TRUE(d);
  set_sites(*d, 1);
  EXPECT_EQ(*b.get("cu/3"), R"({"counts":{"sites":1},"name":"Gamma"})");
  EXPECT_EQ(store_.gets, 0U);
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1U);
  EXPECT_EQ(ops[0].value, R"({"counts":{"sites":1},"name":"Gamma"})");
}

TEST_F(BatchTest, TakeForgetsTheDocumentsSoTheNextBatchReadsTheStore) {
  batch b(store_);
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  set_sites(*d, 4);
  const auto ops = b.take();  // not committed: the store still holds the old document
  auto again = b.doc("cu/1");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->find("counts")->find("sites")->as_int(), 1);
  EXPECT_TRUE(b.take().empty());
}

TEST_F(BatchTest, ACorruptDocumentIsAnInternalError) {
  const std::vector<write_op> bad{{"cu/4", "[1,2]"}, {"cu/5", "{\"name\":"}};
  ASSERT_TRUE(inner_.commit(bad));
  batch b(store_);
  for (const auto* key : {"cu/4", "cu/5"}) {
    auto d = b.doc(key);
    ASSERT_FALSE(d) << key;
    EXPECT_EQ(d.error().code, errc::internal);
  }
  b.put("cu/6", "not json");
  ASSERT_FALSE(b.doc("cu/6"));
}

// Raw reads and writes of other keys do not disturb a decoded document.
TEST_F(BatchTest, RawWritesOfOtherKeysLeaveADocumentAsChanged) {
  batch b(store_);
  auto d = b.doc("cu/1");
  ASSERT_TRUE(d);
  set_sites(*d, 2);
  for (int i = 0; i < 1000; ++i) b.put("k/" + std::to_string(i), "x");  // rehashes the index
  set_sites(*d, 3);
  const auto ops = b.take();
  ASSERT_EQ(ops.size(), 1001U);
  ASSERT_EQ(ops_of(ops, "cu/1").size(), 1U);
  EXPECT_EQ(ops_of(ops, "cu/1")[0].value, R"({"counts":{"sites":3},"name":"Acme"})");
}

}  // namespace
}  // namespace fieldledger::projections

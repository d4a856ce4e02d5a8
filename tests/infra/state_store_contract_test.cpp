// One contract for every state store (the fake and RocksDB's): a state comes back exactly as
// it was put, with every kind of entry and value; a put replaces; RocksDB's store starts empty
// and refuses text it did not write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "infra/memory_state_store.hpp"
#include "infra/rocksdb_state_store.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;
namespace fs = std::filesystem;

fs::path temp_dir() {
  static int n = 0;
  auto dir = fs::path(::testing::TempDir()) /
             ("fieldledger-states-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  fs::remove_all(dir);
  return dir;
}

owned_state entry(const std::string& id, std::int64_t version, value fields) {
  owned_state o;
  o.id = contact_id{id};
  o.version = entity_version{version};
  o.fields = std::move(fields);
  o.created = {"2026-12-01T08:00:00.000Z", "dispatch"};
  o.modified = {"2026-12-02T09:30:00.125Z", "admin"};
  return o;
}

// A customer with every kind of entry and every kind of value.
commands::stored_state rich() {
  commands::stored_state s;
  s.events = 42;
  auto& st = s.state;
  st.id = customer_id{"01JCUSTOMER0000000000000001"};
  st.version = entity_version{7};
  st.number = "C-000123";
  st.status = "active";
  st.fields = object{{"name", value("Åcme \"Facilities\" Ltd\n")},
                     {"credit_limit", value(5600000.0)},
                     {"rating", value(4.25)},
                     {"employees", value(std::int64_t{1} << 40)},
                     {"tax_exempt", value(false)},
                     {"tags", value(array{value("hvac"), value(nullptr), value(3)})},
                     {"billing", value(object{{"city", value("Leeds")}, {"zip", value("LS1")}})}};
  st.primary_contact = "01JCONTACT";
  st.created = {"2026-11-01T00:00:00.000Z", "importer"};
  st.modified = {"2026-12-02T10:00:00.000Z", "dispatch"};
  st.contacts.emplace("01JCONTACT", entry("01JCONTACT", 2, object{{"name", value("Dana")}}));
  auto gone = entry("01JGONE", 3, object{{"name", value("Eli")}});
  gone.removed = true;
  st.contacts.emplace("01JGONE", gone);
  st.sites.emplace("01JSITE", entry("01JSITE", 1, object{{"name", value("North")}}));
  auto retired = entry("01JASSET", 4, object{{"serial_no", value("SN-1")}});
  retired.removed = true;
  st.assets.emplace("01JASSET", retired);
  auto part = entry("01JPART", 1, object{{"name", value("Fan")}});
  part.parent = "01JASSET";
  st.parts.emplace("01JPART", part);
  st.notes.emplace("01JNOTE", entry("01JNOTE", 1, object{{"text", value("Gate code")}}));
  st.work_orders.emplace("01JWO", entry("01JWO", 2, object{{"number", value("WO-000001")}}));
  st.files.emplace("01JFILE", entry("01JFILE", 1, object{{"sha256", value(std::string(64, 'a'))}}));
  st.systems.emplace("01JSYS", entry("01JSYS", 1, object{{"values", value(object{})}}));
  st.geofences.emplace("01JSITE",
                       value(object{{"type", value("circle")},
                                    {"center", value(array{value(-1.5491), value(53.8008)})},
                                    {"radius_m", value(250.0)}}));
  return s;
}

class StateStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<memory_state_store>();
    } else {
      dir_ = temp_dir();
      auto opened = rocksdb_state_store::open(dir_.string());
      ASSERT_TRUE(opened) << opened.error().detail;
      store_ = std::move(*opened);
    }
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::unique_ptr<commands::state_store> store_;
  fs::path dir_;
};

TEST_P(StateStoreContract, AStateComesBackExactlyAsItWasPut) {
  const auto s = rich();
  ASSERT_TRUE(store_->put(s));
  auto got = store_->get(s.state.id);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->events, 42u);
  EXPECT_EQ((*got)->state, s.state);
  EXPECT_TRUE((*got)->state.fields.find("credit_limit")->is_double()) << "a whole double stays one";
}

TEST_P(StateStoreContract, AnUnknownCustomerHasNoState) {
  auto got = store_->get(customer_id{"01JNOBODY"});
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

TEST_P(StateStoreContract, APutReplacesTheStateBefore) {
  auto s = rich();
  ASSERT_TRUE(store_->put(s));
  s.events = 43;
  s.state.version = entity_version{8};
  s.state.contacts.clear();
  ASSERT_TRUE(store_->put(s));
  auto got = store_->get(s.state.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->events, 43u);
  EXPECT_EQ((*got)->state, s.state);
}

INSTANTIATE_TEST_SUITE_P(Stores, StateStoreContract, ::testing::Values("memory", "rocksdb"),
                         [](const auto& info) { return info.param; });

TEST(RocksdbStateStore, OpensEmptyEvenOverAnEarlierProcesssStates) {
  const auto dir = temp_dir();
  {
    auto store = rocksdb_state_store::open(dir.string());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->put(rich()));
  }
  auto store = rocksdb_state_store::open(dir.string());
  ASSERT_TRUE(store) << store.error().detail;
  auto got = (*store)->get(rich().state.id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  store->reset();
  fs::remove_all(dir);
}

TEST(RocksdbStateStore, TextItDidNotWriteIsMalformed) {
  for (const std::string text : {"", "[]", R"({"events":1})", R"({"events":-1,"v":1,"f":{}})",
                                 R"({"events":1,"v":1,"f":{},"c":["a"],"m":["a","b"]})",
                                 R"({"events":1,"v":1,"f":{},"c":["a","b"],"m":["a","b"],)"
                                 R"("contacts":[{"id":"x"}]})"}) {
    auto got = decode_state(text);
    ASSERT_FALSE(got) << text;
    EXPECT_EQ(got.error().code, errc::malformed) << text;
  }
  auto round = decode_state(encode_state(rich()));
  ASSERT_TRUE(round) << round.error().detail;
  EXPECT_EQ(round->state, rich().state);
}

}  // namespace
}  // namespace fieldledger::infra

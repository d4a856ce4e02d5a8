// Sites, assets and parts over HTTP: the equipment hierarchy, per-site lists, moves, serial
// uniqueness under concurrency, children of a customer.
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

class EquipmentApi : public ApiTest {
 protected:
  std::string create(const std::string& target, const std::string& body) {
    auto r = command("POST", target, body);
    EXPECT_EQ(r.status, 201) << target << " " << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  std::vector<std::string> ids(const std::string& target) {
    auto r = get(target);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const auto page = json_of(r);
    if (const value* items = page.find("items")) {
      for (const auto& d : items->as_array()) out.emplace_back(d.string_at("id"));
    }
    return out;
  }
  void SetUp() override {
    ApiTest::SetUp();
    acme_ = create("/v1/customers", k_acme);
  }
  std::string acme_;
};

TEST_P(EquipmentApi, SitesAreAddedListedChangedAndShowTheirContacts) {
  const auto contact = create("/v1/customers/" + acme_ + "/contacts", R"({"name":"David Chen"})");
  auto r = command("POST", "/v1/customers/" + acme_ + "/sites",
                   R"({"name":"North Campus","code":"NC-1","address":{"street":"2 Elm St","city":"Springfield",
                       "state":"IL","postcode":"62702","country":"US","lat":39.8,"lng":-89.6},
                       "phone":"+1 555 0200","email":"north@acme.example","site_contact_id":")" +
                       contact + R"("})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string site(json_of(r).string_at("id"));
  EXPECT_EQ(r.headers["location"], "/v1/sites/" + site);
  ASSERT_EQ(command("PATCH", "/v1/contacts/" + contact, R"({"site_id":")" + site + R"("})").status,
            200);

  auto doc = json_of(get("/v1/sites/" + site));
  EXPECT_EQ(doc.string_at("name"), "North Campus");
  EXPECT_EQ(doc.string_at("customer_id"), acme_);
  EXPECT_EQ(doc.find("address")->string_at("city"), "Springfield");
  ASSERT_EQ(doc.find("contacts")->as_array().size(), 1u);
  EXPECT_EQ(doc.find("contacts")->as_array()[0].string_at("id"), contact);
  EXPECT_EQ(ids("/v1/customers/" + acme_ + "/sites"), std::vector<std::string>{site});

  ASSERT_EQ(command("PATCH", "/v1/sites/" + site, R"({"code":"NC-2"})", {{"If-Match", "\"1\""}}).status,
            200);
  EXPECT_EQ(json_of(get("/v1/sites/" + site)).string_at("code"), "NC-2");
  EXPECT_EQ(json_of(get("/v1/customers/" + acme_)).find("counts")->find("sites")->as_int(), 1);

  // A contact of another customer cannot be the site contact.
  const auto other = create("/v1/customers", R"({"name":"Other"})");
  const auto stranger = create("/v1/customers/" + other + "/contacts", R"({"name":"S"})");
  EXPECT_EQ(first_field(problem_of(send("PATCH", "/v1/sites/" + site,
                                        R"({"site_contact_id":")" + stranger + R"("})"),
                                   422)),
            "site_contact_id");
}

TEST_P(EquipmentApi, AssetsAreListedPerSiteFilteredAndFoundBySerial) {
  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto south = create("/v1/customers/" + acme_ + "/sites", R"({"name":"South"})");
  auto r = command("POST", "/v1/customers/" + acme_ + "/assets",
                   R"({"site_id":")" + north + R"(","serial_no":"SN-778812","product_code":"HVAC-200",
                       "brand":"Carrier","model":"200X","description":"Rooftop unit","product_class":"hvac",
                       "install_date":"2024-05-01","warranty_end":"2027-05-01","cost_centre":"CC-12",
                       "status":"in_service"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string hvac(json_of(r).string_at("id"));
  EXPECT_EQ(r.headers["location"], "/v1/assets/" + hvac);
  const auto pump = create("/v1/customers/" + acme_ + "/assets",
                           R"({"site_id":")" + north + R"(","serial_no":"P-1","brand":"Grundfos","product_class":"pump"})");
  const auto boiler = create("/v1/customers/" + acme_ + "/assets",
                             R"({"site_id":")" + south + R"(","brand":"Carrier","product_class":"boiler"})");

  EXPECT_EQ(ids("/v1/sites/" + north + "/assets").size(), 2u);
  EXPECT_EQ(ids("/v1/sites/" + north + "/assets?product_class=HVAC"), std::vector<std::string>{hvac});
  EXPECT_EQ(ids("/v1/sites/" + north + "/assets?brand=grundfos"), std::vector<std::string>{pump});
  EXPECT_EQ(ids("/v1/customers/" + acme_ + "/assets?brand=carrier").size(), 2u);
  EXPECT_EQ(ids("/v1/customers/" + acme_ + "/assets").size(), 3u);
  EXPECT_EQ(ids("/v1/assets?serial=SN-778812"), std::vector<std::string>{hvac});
  EXPECT_TRUE(ids("/v1/assets?serial=nope").empty());
  problem_of(send("GET", "/v1/assets"), 422);

  auto doc = json_of(get("/v1/assets/" + hvac));
  EXPECT_EQ(doc.string_at("model"), "200X");
  EXPECT_EQ(doc.string_at("warranty_end"), "2027-05-01");
  EXPECT_EQ(json_of(get("/v1/customers/" + acme_)).find("counts")->find("assets")->as_int(), 3);

  // Customer search by installed equipment (product class or brand).
  const auto items = [&](const std::string& q) { return ids("/v1/customers?" + q); };
  EXPECT_EQ(items("equipment=boiler"), std::vector<std::string>{acme_});
  EXPECT_TRUE(items("equipment=chiller").empty());
  ASSERT_EQ(command("DELETE", "/v1/assets/" + boiler).status, 200);
  EXPECT_TRUE(items("equipment=boiler").empty());
  EXPECT_EQ(json_of(get("/v1/assets/" + boiler)).string_at("status"), "retired");
  EXPECT_EQ(ids("/v1/sites/" + south + "/assets?status=retired"), std::vector<std::string>{boiler});

  // Paging a site's list walks each asset once.
  std::set<std::string> seen;
  auto page = json_of(get("/v1/sites/" + north + "/assets?limit=1"));
  seen.insert(std::string(page.find("items")->as_array().at(0).string_at("id")));
  page = json_of(get("/v1/sites/" + north + "/assets?limit=1&cursor=" +
                     page.find("next_cursor")->as_string()));
  seen.insert(std::string(page.find("items")->as_array().at(0).string_at("id")));
  EXPECT_TRUE(page.find("next_cursor")->is_null());
  EXPECT_EQ(seen, (std::set<std::string>{hvac, pump}));
}

TEST_P(EquipmentApi, AMovedAssetShowsInTheNewSiteOnly) {
  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto south = create("/v1/customers/" + acme_ + "/sites", R"({"name":"South"})");
  const auto a = create("/v1/customers/" + acme_ + "/assets", R"({"site_id":")" + north + R"("})");
  auto r = command("POST", "/v1/assets/" + a + "/move", R"({"site_id":")" + south + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids("/v1/sites/" + north + "/assets").empty());
  EXPECT_EQ(ids("/v1/sites/" + south + "/assets"), std::vector<std::string>{a});
  EXPECT_EQ(json_of(get("/v1/assets/" + a)).string_at("site_id"), south);
  EXPECT_EQ(json_of(get("/v1/sites/" + south)).find("counts")->find("assets")->as_int(), 1);
  EXPECT_EQ(json_of(get("/v1/sites/" + north)).find("counts")->find("assets")->as_int(), 0);

  const auto other = create("/v1/customers", R"({"name":"Other"})");
  const auto elsewhere = create("/v1/customers/" + other + "/sites", R"({"name":"Elsewhere"})");
  EXPECT_EQ(first_field(problem_of(command("POST", "/v1/assets/" + a + "/move",
                                           R"({"site_id":")" + elsewhere + R"("})"),
                                   422)),
            "site_id");
  EXPECT_EQ(first_field(problem_of(send("POST", "/v1/assets/" + a + "/move", R"({"site":"x"})"), 400)),
            "site");
}

TEST_P(EquipmentApi, ASiteWithAssetsCannotBeRemoved) {
  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto a = create("/v1/customers/" + acme_ + "/assets", R"({"site_id":")" + north + R"("})");
  auto p = problem_of(send("DELETE", "/v1/sites/" + north), 409);
  EXPECT_NE(p.string_at("detail").find("1 asset"), std::string_view::npos);
  ASSERT_EQ(command("DELETE", "/v1/assets/" + a).status, 200);
  ASSERT_EQ(command("DELETE", "/v1/sites/" + north).status, 200);
  problem_of(get("/v1/sites/" + north), 404);
  EXPECT_TRUE(ids("/v1/customers/" + acme_ + "/sites").empty());
}

TEST_P(EquipmentApi, ConcurrentRegistrationsOfOneSerialLetExactlyOneWin) {
  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto other = create("/v1/customers", R"({"name":"Other"})");
  const auto far = create("/v1/customers/" + other + "/sites", R"({"name":"Far"})");
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const auto& [customer, site] = t % 2 == 0 ? std::pair{acme_, north} : std::pair{other, far};
      auto r = send("POST", "/v1/customers/" + customer + "/assets",
                    R"({"site_id":")" + site + R"(","serial_no":"SN-RACE"})");
      if (r.status == 201) ++created;
      if (r.status == 409) ++conflicts;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

TEST_P(EquipmentApi, PartsAreAddedToAnAssetChangedAndRemoved) {
  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto a = create("/v1/customers/" + acme_ + "/assets", R"({"site_id":")" + north + R"("})");
  auto r = command("POST", "/v1/assets/" + a + "/parts",
                   R"({"name":"Compressor","part_number":"CMP-9","serial_no":"C-1","install_date":"2024-06-01"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string part(json_of(r).string_at("id"));
  EXPECT_EQ(r.headers["location"], "/v1/asset-parts/" + part);
  EXPECT_EQ(ids("/v1/assets/" + a + "/parts"), std::vector<std::string>{part});
  EXPECT_EQ(json_of(get("/v1/asset-parts/" + part)).string_at("asset_id"), a);
  ASSERT_EQ(command("PATCH", "/v1/asset-parts/" + part, R"({"part_number":"CMP-10"})").status, 200);
  EXPECT_EQ(json_of(get("/v1/asset-parts/" + part)).string_at("part_number"), "CMP-10");
  ASSERT_EQ(command("DELETE", "/v1/asset-parts/" + part).status, 200);
  EXPECT_TRUE(ids("/v1/assets/" + a + "/parts").empty());
  problem_of(get("/v1/asset-parts/" + part), 404);
  problem_of(send("POST", "/v1/assets/" + domain::new_id() + "/parts", R"({"name":"x"})"), 404);
}

TEST_P(EquipmentApi, ChildrenAreListedAndCyclesAreRefused) {
  const auto branch = create("/v1/customers", R"({"name":"Acme North","parent_id":")" + acme_ + R"("})");
  EXPECT_EQ(ids("/v1/customers/" + acme_ + "/children"), std::vector<std::string>{branch});
  EXPECT_EQ(first_field(problem_of(command("PATCH", "/v1/customers/" + acme_,
                                           R"({"parent_id":")" + branch + R"("})"),
                                   422)),
            "parent_id");
  ASSERT_EQ(command("PATCH", "/v1/customers/" + branch, R"({"parent_id":null})").status, 200);
  EXPECT_TRUE(ids("/v1/customers/" + acme_ + "/children").empty());
}

TEST_P(EquipmentApi, AKnownProductCodeFillsInWhatTheAssetLeavesOut) {
  auto r = command("POST", "/v1/products",
                   R"({"code":"HVAC-200","brand":"Carrier","model":"200X","description":"Rooftop unit","product_class":"hvac"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["location"], "/v1/products/HVAC-200");
  problem_of(send("POST", "/v1/products", R"({"code":"HVAC-200"})"), 409);
  EXPECT_EQ(json_of(get("/v1/products/HVAC-200")).string_at("brand"), "Carrier");
  EXPECT_EQ(json_of(get("/v1/products?q=carr")).find("items")->as_array().size(), 1u);
  EXPECT_EQ(json_of(get("/v1/products?q=rooftop")).find("items")->as_array().size(), 0u);

  const auto north = create("/v1/customers/" + acme_ + "/sites", R"({"name":"North"})");
  const auto a = create("/v1/customers/" + acme_ + "/assets",
                        R"({"site_id":")" + north + R"(","product_code":"HVAC-200","model":"200Y"})");
  auto doc = json_of(get("/v1/assets/" + a));
  EXPECT_EQ(doc.string_at("brand"), "Carrier");
  EXPECT_EQ(doc.string_at("product_class"), "hvac");
  EXPECT_EQ(doc.string_at("description"), "Rooftop unit");
  EXPECT_EQ(doc.string_at("model"), "200Y") << "what the request gives wins";

  // The event says which fields came from the catalogue.
  bool found = false;
  for (std::uint32_t p = 0; p < log_->partition_count(); ++p) {
    const auto events = log_->read(domain::partition_id{p}, domain::log_offset{0}, 1000);
    ASSERT_TRUE(events);
    for (const auto& re : *events) {
      if (re.e.type != domain::event_types::asset_registered) continue;
      found = true;
      EXPECT_EQ(*re.e.data.find("filled_from_product"),
                (value(domain::array{"brand", "description", "product_class"})));
    }
  }
  EXPECT_TRUE(found);

  ASSERT_EQ(command("PATCH", "/v1/products/HVAC-200", R"({"brand":"Carrier Corp"})").status, 200);
  EXPECT_EQ(json_of(get("/v1/products/HVAC-200")).string_at("brand"), "Carrier Corp");
  EXPECT_EQ(first_field(problem_of(send("PATCH", "/v1/products/HVAC-200", R"({"code":"X"})"), 422)),
            "code");
  problem_of(send("PATCH", "/v1/products/NOPE", R"({"brand":"x"})"), 404);
}

INSTANTIATE_TEST_SUITE_P(Logs, EquipmentApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

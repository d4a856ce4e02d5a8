// Files over HTTP, on both logs: upload (raw and multipart), download byte-equal with the
// SHA-256 as ETag, one blob per distinct content, nothing stored for a refused upload, file
// names made safe, removal from lists with the metadata kept in history, and collection of
// unreferenced content only.
#include <openssl/sha.h>

#include <atomic>

#include "infra/file_blob_store.hpp"
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;

constexpr std::size_t k_limit = 128 * 1024;

// SHA-256 by OpenSSL, independent of the server's libsodium.
std::string sha256_of(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += k_hex[c >> 4];
    out += k_hex[c & 0xf];
  }
  return out;
}

std::string binary_content(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + i / 3) & 0xff);
  return s;
}

class FilesApi : public ApiTest {
 protected:
  void configure(server_options& o) override { o.handling.max_file_bytes = k_limit; }

  http_response upload(const std::string& owner_path, const std::string& content,
                       const std::string& name, const std::string& type = "application/pdf") {
    return command("POST", owner_path + "/files?filename=" + name, content,
                   {{"Content-Type", type}});
  }
  std::string upload_id(const std::string& owner_path, const std::string& content,
                        const std::string& name) {
    auto r = upload(owner_path, content, name);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  std::vector<std::string> blobs() const {
    auto l = blobs_->list();
    EXPECT_TRUE(l);
    return l ? *l : std::vector<std::string>{};
  }
  static std::vector<std::string> ids_of(const http_response& r) {
    std::vector<std::string> out;
    const value doc = json_of(r);
    const value* items = doc.find("items");
    if (items == nullptr) return out;
    for (const auto& i : items->as_array()) out.emplace_back(i.string_at("id"));
    return out;
  }
  std::string site_of(const std::string& customer) {
    auto r = command("POST", "/v1/customers/" + customer + "/sites", R"({"name":"North Campus"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }
};

TEST_P(FilesApi, ARawUploadDownloadsByteEqualWithItsSha256AsETag) {
  const auto acme = create_customer(k_acme);
  const std::string content = binary_content(70'000, 1);
  auto r = upload("/v1/customers/" + acme, content, "service-report.pdf");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = std::string(json_of(r).string_at("id"));
  EXPECT_EQ(r.headers["location"], "/v1/files/" + id);
  EXPECT_EQ(json_of(r).string_at("customer_id"), acme);

  auto down = get("/v1/files/" + id);
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(down.body, content);
  EXPECT_EQ(down.headers["content-type"], "application/pdf");
  EXPECT_EQ(down.headers["content-length"], std::to_string(content.size()));
  EXPECT_EQ(down.headers["etag"], "\"" + sha256_of(content) + "\"");
  EXPECT_EQ(down.headers["content-disposition"],
            "attachment; filename=\"service-report.pdf\"; filename*=UTF-8''service-report.pdf");

  auto same = send("GET", "/v1/files/" + id, {}, {{"If-None-Match", down.headers["etag"]}});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());

  auto meta = json_of(get("/v1/files/" + id + "/metadata"));
  EXPECT_EQ(meta.string_at("name"), "service-report.pdf");
  EXPECT_EQ(meta.string_at("sha256"), sha256_of(content));
  EXPECT_EQ(meta.find("size")->as_int(), static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(meta.string_at("created_by"), "admin");
}

TEST_P(FilesApi, AMultipartUploadToASiteOrAnAssetIsListedThereAndUnderTheCustomer) {
  const auto acme = create_customer(k_acme);
  const auto site = site_of(acme);
  auto a = command("POST", "/v1/customers/" + acme + "/assets",
                   R"({"site_id":")" + site + R"(","serial_no":"SN-1"})");
  ASSERT_EQ(a.status, 201) << a.body;
  const auto asset = std::string(json_of(a).string_at("id"));

  const std::string photo = binary_content(5000, 2) + "\r\n--not-the-boundary\r\n";
  const std::string body =
      "preamble\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"boiler.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      photo + "\r\n--XyZ--\r\nepilogue";
  auto r = command("POST", "/v1/sites/" + site + "/files", body,
                   {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto at_site = std::string(json_of(r).string_at("id"));
  const auto at_asset = upload_id("/v1/assets/" + asset, "nameplate", "nameplate.txt");
  const auto at_customer = upload_id("/v1/customers/" + acme, "contract", "contract.pdf");

  auto down = get("/v1/files/" + at_site);
  EXPECT_EQ(down.body, photo);
  EXPECT_EQ(down.headers["content-type"], "image/jpeg");
  EXPECT_EQ(json_of(get("/v1/files/" + at_site + "/metadata")).string_at("site_id"), site);

  EXPECT_EQ(ids_of(get("/v1/sites/" + site + "/files")), std::vector<std::string>{at_site});
  EXPECT_EQ(ids_of(get("/v1/assets/" + asset + "/files")), std::vector<std::string>{at_asset});
  EXPECT_EQ(ids_of(get("/v1/customers/" + acme + "/files")),
            (std::vector<std::string>{at_customer, at_asset, at_site}))
      << "every file of the customer, newest first";
  auto page = json_of(get("/v1/customers/" + acme + "/files?limit=2"));
  ASSERT_EQ(page.find("items")->as_array().size(), 2u);
  auto rest = get("/v1/customers/" + acme +
                  "/files?limit=2&cursor=" + std::string(page.string_at("next_cursor")));
  EXPECT_EQ(ids_of(rest), std::vector<std::string>{at_site});
}

TEST_P(FilesApi, EqualContentIsStoredOnce) {
  const auto acme = create_customer(k_acme);
  const std::string content = binary_content(1000, 3);
  const auto a = upload_id("/v1/customers/" + acme, content, "a.pdf");
  const auto b = upload_id("/v1/customers/" + acme, content, "b.pdf");
  EXPECT_NE(a, b);
  EXPECT_EQ(blobs(), std::vector<std::string>{sha256_of(content)});
  EXPECT_EQ(get("/v1/files/" + b).body, content);
}

TEST_P(FilesApi, AnUnknownOwnerIs404AndNothingIsStoredOrAppended) {
  const auto acme = create_customer(k_acme);
  const auto before = log_size();
  const std::string nobody = "01a2085e-2d6a-7000-8dc5-9574100495dd";
  for (const std::string owner : {"customers", "sites", "assets"}) {
    problem_of(upload("/v1/" + owner + "/" + nobody, "content", "x.pdf"), 404);
  }
  problem_of(upload("/v1/customers/not-an-id", "content", "x.pdf"), 404);
  EXPECT_EQ(log_size(), before);
  EXPECT_TRUE(blobs().empty());
  problem_of(get("/v1/files/" + nobody), 404);
  problem_of(get("/v1/customers/" + nobody + "/files"), 404);
}

TEST_P(FilesApi, AFileOverTheLimitIs413AndNothingIsStored) {
  const auto acme = create_customer(k_acme);
  const auto before = log_size();
  auto r = upload("/v1/customers/" + acme, std::string(k_limit + 1, 'x'), "big.bin");
  EXPECT_EQ(first_field(problem_of(r, 413)), "body");
  EXPECT_EQ(log_size(), before);
  EXPECT_TRUE(blobs().empty());
  // The same size is fine as a file, but other routes keep their own (smaller) limit.
  EXPECT_EQ(upload("/v1/customers/" + acme, std::string(k_limit, 'x'), "just.bin").status, 201);
  problem_of(send("POST", "/v1/customers", R"({"name":")" + std::string(70 * 1024, 'a') + R"("})"),
             413);
}

TEST_P(FilesApi, FileNamesLoseTheirDirectoriesAndControlCharacters) {
  const auto acme = create_customer(k_acme);
  const auto path = "/v1/customers/" + acme;
  struct named {
    std::string sent, kept;
  };
  for (const auto& [sent, kept] :
       {named{"..%2F..%2Fetc%2Fpasswd", "passwd"}, named{"C:%5CUsers%5Cbob%5Cplan.dwg", "plan.dwg"},
        named{"a%0D%0AX-Evil:%201.pdf", "aX-Evil: 1.pdf"},
        named{"Pr%C3%BCfbericht%20%22final%22.pdf",
              "Pr\xC3\xBC"
              "fbericht \"final\".pdf"}}) {
    auto r = upload(path, "c", sent);
    ASSERT_EQ(r.status, 201) << sent << " " << r.body;
    const auto id = std::string(json_of(r).string_at("id"));
    EXPECT_EQ(json_of(get("/v1/files/" + id + "/metadata")).string_at("name"), kept) << sent;
  }
  auto ids = ids_of(get(path + "/files"));
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(get("/v1/files/" + ids.front()).headers["content-disposition"],
            "attachment; filename=\"Pr_fbericht _final_.pdf\"; "
            "filename*=UTF-8''Pr%C3%BCfbericht%20%22final%22.pdf");

  const auto before = log_size();
  for (const std::string bad : {"..", "%2F..%2F..", "dir%2F", "%0A%0D", "%FF.pdf"}) {
    EXPECT_EQ(first_field(problem_of(upload(path, "c", bad), 422)), "filename") << bad;
  }
  EXPECT_EQ(first_field(problem_of(
                command("POST", path + "/files", "c", {{"Content-Type", "text/plain"}}), 422)),
            "filename");
  EXPECT_EQ(first_field(problem_of(upload(path, "c", "a.txt", "not a type"), 422)), "Content-Type");
  auto no_file = command("POST", path + "/files",
                         "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--",
                         {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(first_field(problem_of(no_file, 422)), "file");
  auto torn = command("POST", path + "/files?filename=x",
                      "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx",
                      {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(first_field(problem_of(torn, 400)), "body");
  EXPECT_EQ(log_size(), before);
}

TEST_P(FilesApi, ARemovedFileLeavesTheListsButHistoryKeepsItsMetadata) {
  const auto acme = create_customer(k_acme);
  const std::string content = "quote v1";
  const auto id = upload_id("/v1/customers/" + acme, content, "quote.pdf");
  ASSERT_EQ(get("/v1/files/" + id).status, 200);
  // Event times have millisecond resolution: keep the removal out of the upload's millisecond,
  // so that an as-of read at the upload's time sees the file.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  problem_of(command("DELETE", "/v1/files/" + id, {}, {{"If-Match", "\"7\""}}), 412);
  auto del = command("DELETE", "/v1/files/" + id, {}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json_of(del).find("version")->as_int(), 2);
  problem_of(get("/v1/files/" + id), 404);
  problem_of(get("/v1/files/" + id + "/metadata"), 404);
  EXPECT_TRUE(ids_of(get("/v1/customers/" + acme + "/files")).empty());
  problem_of(command("DELETE", "/v1/files/" + id), 404);

  auto history = json_of(get("/v1/customers/" + acme + "/history?entity=files/" + id));
  const auto& items = history.find("items")->as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].string_at("type"), "file.removed");
  EXPECT_EQ(items[1].string_at("type"), "file.attached");
  std::map<std::string, value> attached;
  for (const auto& c : items[1].find("changes")->as_array()) {
    attached[std::string(c.string_at("field"))] = *c.find("after");
  }
  EXPECT_EQ(attached["name"], value("quote.pdf"));
  EXPECT_EQ(attached["sha256"], value(sha256_of(content)));
  EXPECT_EQ(attached["size"], value(std::int64_t{8}));
  // As of a moment between upload and removal, the customer's list has it.
  const std::string then = std::string(items[1].string_at("time"));
  auto past = send("GET", "/v1/customers/" + acme + "/files?as_of=" + then);
  EXPECT_EQ(ids_of(past), std::vector<std::string>{id}) << past.body;
}

TEST_P(FilesApi, CollectionRemovesUnreferencedContentOnly) {
  const auto acme = create_customer(k_acme);
  const auto kept = upload_id("/v1/customers/" + acme, "kept", "kept.txt");
  const auto gone = upload_id("/v1/customers/" + acme, "gone", "gone.txt");
  const auto shared_a = upload_id("/v1/customers/" + acme, "shared", "a.txt");
  upload_id("/v1/customers/" + acme, "shared", "b.txt");
  ASSERT_EQ(command("DELETE", "/v1/files/" + gone).status, 200);
  ASSERT_EQ(command("DELETE", "/v1/files/" + shared_a).status, 200);
  ASSERT_EQ(get("/v1/files/" + kept).status, 200);
  pipeline_->stop();  // the write model is the writer thread's; read it once it has stopped
  const auto live = model_.live_file_digests();
  EXPECT_EQ(live.size(), 2u);
  auto young = blobs_->collect(live, std::chrono::hours(1));
  ASSERT_TRUE(young);
  EXPECT_EQ(*young, 0u) << "content younger than the grace period stays";
  auto removed = blobs_->collect(live, std::chrono::seconds(0));
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);
  auto left = blobs();
  std::ranges::sort(left);
  std::vector<std::string> expected{sha256_of("kept"), sha256_of("shared")};
  std::ranges::sort(expected);
  EXPECT_EQ(left, expected);
  EXPECT_EQ(get("/v1/files/" + kept).body, "kept");
}

INSTANTIATE_TEST_SUITE_P(Logs, FilesApi, ::testing::Values("memory", "kafka"), log_name);

// The durable store under the API, with a write or sync that fails on demand.
class FilesOnDiskApi : public FilesApi {
 protected:
  void configure(server_options& o) override {
    FilesApi::configure(o);
    dir_ = auth_dir_ / "blobs";
    auto store = infra::file_blob_store::open(
        dir_.string(), {.fail_at = [this](std::string_view step) { return step == failing_; }});
    ASSERT_TRUE(store);
    blobs_ = std::shared_ptr<infra::file_blob_store>(std::move(*store));
  }
  std::size_t files_on_disk() const {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }
  std::filesystem::path dir_;
  std::string failing_;
};

TEST_P(FilesOnDiskApi, AFailedWriteOrSyncLeavesNoFileAndNoEvent) {
  const auto acme = create_customer(k_acme);
  const auto before = log_size();
  for (const std::string step : {"open", "write", "fsync", "rename"}) {
    failing_ = step;
    auto r = upload("/v1/customers/" + acme, "the content", "x.pdf");
    EXPECT_EQ(problem_of(r, 503).string_at("title").empty(), false) << step;
    EXPECT_EQ(files_on_disk(), 0u) << step;
    EXPECT_EQ(log_size(), before) << step;
  }
  failing_.clear();
  const auto id = upload_id("/v1/customers/" + acme, "the content", "x.pdf");
  EXPECT_EQ(files_on_disk(), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / sha256_of("the content").substr(0, 2) /
                                      sha256_of("the content")));
  EXPECT_EQ(get("/v1/files/" + id).body, "the content");
}

INSTANTIATE_TEST_SUITE_P(Logs, FilesOnDiskApi, ::testing::Values("memory"), log_name);

}  // namespace
}  // namespace fieldledger::api

// End to end against the real fieldledgerd on the embedded log: a system secret is never in
// the data directory's bytes (log, views) nor in an export, the key file is private, and the
// same key opens the secret after a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "json/parse.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_secret = "Zx9-never-on-disk-4471";
constexpr const char* k_login = "login-on-disk-8830";  // not a secret: the scan must find it

std::string field_of(const http_response& r, std::string_view name) {
  auto v = json::parse(r.body);
  EXPECT_TRUE(v) << r.body;
  return v ? std::string(v->string_at(name)) : std::string();
}

// The files under dir that contain needle.
std::vector<std::string> files_holding(const fs::path& dir, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(needle) != std::string::npos) out.push_back(f.path().string());
  }
  return out;
}

TEST(SystemSecretE2e, NoSecretOnDiskAndTheKeyOpensItAfterARestart) {
  const fs::path dir =
      fs::temp_directory_path() / ("fieldledger-e2e-secret-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string key = "flk_e2e_test_key_0123456789";
  std::string system;
  {
    daemon d(dir.string(), key);
    d.start();
    auto r = d.send("POST", "/v1/customers", R"({"name":"Acme"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto customer = field_of(r, "id");
    r = d.send("POST", "/v1/system-types",
               R"({"name":"Access control","fields":[{"key":"ip_address","type":"ipv4"},
                   {"key":"login","type":"string"},{"key":"password","type":"secret"}]})");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto type = field_of(r, "id");
    r = d.send("POST", "/v1/customers/" + customer + "/systems",
               R"({"type_id":")" + type + R"(","values":{"ip_address":"10.0.0.1","login":")" +
                   k_login + R"(","password":")" + k_secret + R"("}})");
    ASSERT_EQ(r.status, 201) << r.body;
    system = field_of(r, "id");
    r = d.send("POST", "/v1/systems/" + system + "/reveal", "");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(k_secret), std::string::npos);
    EXPECT_EQ(d.kill(SIGTERM), 0);
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir / "secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(files_holding(dir, k_login).empty()) << "the scan sees what the log holds";
  EXPECT_EQ(files_holding(dir, k_secret), std::vector<std::string>{});
  const auto exported = run_command(std::string(FIELDLEDGER_BINARY_DIR) +
                                    "/fieldledger export --data " + dir.string() + " 2>/dev/null");
  ASSERT_EQ(exported.status, 0);
  EXPECT_NE(exported.out.find(k_login), std::string::npos);
  EXPECT_NE(exported.out.find("\"sealed\""), std::string::npos);
  EXPECT_EQ(exported.out.find(k_secret), std::string::npos);

  daemon again(dir.string(), key);
  again.start();
  auto r = again.send("POST", "/v1/systems/" + system + "/reveal", R"({"keys":["password"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(k_secret), std::string::npos) << "the same key after a restart";
  again.kill(SIGTERM);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fieldledger::e2e

// HTTPS end to end: fieldledgerd with --tls-cert/--tls-key and a certificate made for the test
// (openssl), driven with curl verifying it; plain HTTP on that port gets no answer, and the
// server goes on serving.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "json/parse.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::e2e {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& cmd) { return run_command(cmd).out; }

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : dir_(fs::temp_directory_path() / ("fieldledger-tls-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TlsTest() override { fs::remove_all(dir_); }

  // curl over HTTPS, trusting only the test's certificate; "<status> <body>".
  std::string curl(std::uint16_t port, const std::string& path,
                   const std::string& args = {}) const {
    return run("curl -s -m 10 --cacert " + (dir_ / "cert.pem").string() +
               " -H 'Authorization: Bearer " + key_ + "' -w ' %{http_code}' " + args +
               " https://127.0.0.1:" + std::to_string(port) + path);
  }

  fs::path dir_;
  const std::string key_ = "flk_tls_test_key_0123456789";
};

TEST_F(TlsTest, ServesHttpsWithAGeneratedCertificate) {
  const auto cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
  ASSERT_EQ(
      std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                   " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                   "2>/dev/null")
                      .c_str()),
      0);
  daemon d((dir_ / "data").string(), key_, {"--tls-cert", cert, "--tls-key", key});
  d.ready_when([&] { return curl(d.port(), "/readyz").ends_with(" 200"); });
  d.start();

  auto created = curl(d.port(), "/v1/customers",
                      "-H 'Content-Type: application/json' -d '{\"name\":\"Over TLS\"}'");
  ASSERT_TRUE(created.ends_with(" 201")) << created;
  auto v = json::parse(created.substr(0, created.rfind(' ')));
  ASSERT_TRUE(v) << created;
  const std::string id(v->string_at("id"));
  auto read = curl(d.port(), "/v1/customers/" + id);
  EXPECT_TRUE(read.ends_with(" 200")) << read;
  EXPECT_NE(read.find("Over TLS"), std::string::npos);

  // Plain HTTP on the TLS port: no HTTP answer; the server serves HTTPS as before.
  EXPECT_EQ(http(d.port(), "GET", "/healthz").status, 0);
  EXPECT_TRUE(curl(d.port(), "/healthz").ends_with(" 200"));
  // A client that does not trust the certificate does not get through.
  EXPECT_EQ(run("curl -s -m 10 -o /dev/null -w '%{http_code}' https://127.0.0.1:" +
                std::to_string(d.port()) + "/healthz"),
            "000");
}

TEST_F(TlsTest, RefusesToStartWithoutAUsableCertificate) {
  const auto missing = (dir_ / "missing.pem").string();
  daemon d((dir_ / "data").string(), key_, {"--tls-cert", missing, "--tls-key", missing});
  EXPECT_THROW(d.start(), std::runtime_error);
  const auto garbage = (dir_ / "garbage.pem").string();
  ASSERT_EQ(std::system(("echo 'not a certificate' > " + garbage).c_str()), 0);
  daemon g((dir_ / "data").string(), key_, {"--tls-cert", garbage, "--tls-key", garbage});
  EXPECT_THROW(g.start(), std::runtime_error);
}

}  // namespace
}  // namespace fieldledger::e2e

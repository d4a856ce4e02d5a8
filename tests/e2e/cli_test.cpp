// The operator's tool against a real data directory: export → import → rebuild → verify gives
// the same views; verify names a corrupted entry; a bad file imports nothing; an online
// rebuild in fieldledgerd leaves a generation that survives a restart and verifies.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "infra/rocksdb_view_store.hpp"
#include "infra/view_generations.hpp"
#include "json/parse.hpp"
#include "tests/e2e/daemon.hpp"

namespace fieldledger::e2e {
namespace {

namespace fs = std::filesystem;

// Runs the fieldledger tool with a shell command line of arguments.
command_result tool(const std::string& args) {
  return run_command(std::string(FIELDLEDGER_BINARY_DIR) + "/fieldledger " + args);
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() : root_(fs::temp_directory_path() / ("fieldledger-cli-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~CliTest() override { fs::remove_all(root_); }

  std::string dir(const std::string& name) const { return (root_ / name).string(); }

  // A data directory with customers, contacts, sites, assets and parts, written by fieldledgerd.
  void populate(const std::string& data) {
    daemon d(data, key_);
    d.start();
    for (int i = 0; i < 12; ++i) {
      auto c =
          d.send("POST", "/v1/customers", R"({"name":"Customer )" + std::to_string(i) + R"("})");
      ASSERT_EQ(c.status, 201) << c.body;
      const std::string id(json::parse(c.body)->string_at("id"));
      ASSERT_EQ(d.send("POST", "/v1/customers/" + id + "/contacts", R"({"name":"Pat"})").status,
                201);
      auto s = d.send("POST", "/v1/customers/" + id + "/sites", R"({"name":"Main"})");
      ASSERT_EQ(s.status, 201) << s.body;
      const std::string site(json::parse(s.body)->string_at("id"));
      auto a =
          d.send("POST", "/v1/customers/" + id + "/assets",
                 R"({"site_id":")" + site + R"(","serial_no":"SN-)" + std::to_string(i) + R"("})");
      ASSERT_EQ(a.status, 201) << a.body;
      const std::string asset(json::parse(a.body)->string_at("id"));
      ASSERT_EQ(d.send("POST", "/v1/assets/" + asset + "/parts", R"({"name":"Fan"})").status, 201);
    }
    ASSERT_EQ(
        d.send("PATCH",
               "/v1/customers/" + std::string(json::parse(d.get("/v1/customers?q=customer").body)
                                                  ->find("items")
                                                  ->as_array()[0]
                                                  .string_at("id")),
               R"({"phone1":"555-0100"})")
            .status,
        200);
    d.kill(SIGTERM);
  }

  fs::path root_;
  const std::string key_ = "flk_cli_test_key_0123456789";
};

TEST_F(CliTest, ExportImportRebuildVerifyRoundTripsAndVerifyNamesACorruptedEntry) {
  const auto a = dir("a"), b = dir("b"), file = dir("events.ndjson");
  populate(a);
  const auto verified = tool("verify --data " + a + " 2>/dev/null");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find("views equal a rebuild from the log"), std::string::npos);

  ASSERT_EQ(tool("export --data " + a + " > " + file + " 2>/dev/null").status, 0);
  std::ifstream in(file);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    auto v = json::parse(line);
    ASSERT_TRUE(v) << line;
    EXPECT_EQ(v->string_at("specversion"), "1.0");
  }
  EXPECT_EQ(lines, 12u * 6 + 1)
      << "registered, contact added, primary, site, asset, part; a change";

  ASSERT_EQ(tool("import --data " + b + " < " + file + " 2>/dev/null").status, 0);
  EXPECT_EQ(tool("import --data " + b + " < " + file + " 2>/dev/null").status, 1)
      << "import appends to an empty log only";
  ASSERT_EQ(tool("rebuild --data " + b + " 2>/dev/null").status, 0);
  const auto round_trip = tool("verify --data " + b + " 2>/dev/null");
  EXPECT_EQ(round_trip.status, 0) << round_trip.out;
  // The imported views are the exported ones, key for key (checkpoints too: same offsets).
  const auto sums = [](const std::string& out) {
    std::vector<std::string> lines;
    std::istringstream s(out);
    for (std::string l; std::getline(s, l);) lines.push_back(l);
    return lines;
  };
  EXPECT_EQ(sums(round_trip.out), sums(verified.out));

  // A corrupted view entry: verify fails and names it.
  std::string victim;
  {
    auto views = infra::rocksdb_view_store::open(
        infra::view_generation_dir(b, *infra::current_view_generation(b)));
    ASSERT_TRUE(views);
    ASSERT_TRUE((*views)->scan("cu/", "", [&](std::string_view k, std::string_view) {
      victim = std::string(k);
      return false;
    }));
    const projections::write_op op{victim, std::string(R"({"name":"tampered"})")};
    ASSERT_TRUE((*views)->commit(std::span(&op, 1)));
  }
  const auto caught = tool("verify --data " + b + " 2>/dev/null");
  EXPECT_EQ(caught.status, 3) << caught.out;
  EXPECT_NE(caught.out.find("cu/ "), std::string::npos);
  EXPECT_NE(caught.out.find("DIFFERS"), std::string::npos) << caught.out;
  EXPECT_NE(caught.out.find("first differing key: "), std::string::npos) << caught.out;
  EXPECT_NE(caught.out.find("views DIFFER"), std::string::npos);
  ASSERT_EQ(tool("rebuild --data " + b + " 2>/dev/null").status, 0);
  EXPECT_EQ(tool("verify --data " + b + " 2>/dev/null").status, 0) << "rebuild repairs it";
}

// Views written by an earlier release hold one checkpoint key per view; verify compares what the
// checkpoints say, so such a data directory verifies, and a checkpoint that is wrong does not.
TEST_F(CliTest, VerifyComparesCheckpointsByTheirOffsetsNotTheirKeys) {
  const auto a = dir("a");
  populate(a);
  const auto view_dir = infra::view_generation_dir(a, *infra::current_view_generation(a));
  std::string one_view_key;
  {
    auto views = infra::rocksdb_view_store::open(view_dir);
    ASSERT_TRUE(views);
    std::vector<projections::write_op> old_format;
    ASSERT_TRUE((*views)->scan("~ckpt/*/", "", [&](std::string_view k, std::string_view v) {
      const std::string partition(k.substr(k.rfind('/') + 1));
      const std::string text(v);
      const auto nl = text.find('\n');
      const std::string offset = text.substr(0, nl);
      old_format.push_back({std::string(k), std::nullopt});
      for (std::size_t at = nl; at != std::string::npos;) {
        const auto next = text.find('\n', at + 1);
        const auto name = text.substr(at + 1, next == std::string::npos ? next : next - at - 1);
        old_format.push_back({"~ckpt/" + name + "/" + partition, offset});
        at = next;
      }
      return true;
    }));
    ASSERT_GT(old_format.size(), 10u);
    one_view_key = old_format.back().key;
    ASSERT_TRUE((*views)->commit(old_format));
  }
  const auto old = tool("verify --data " + a + " 2>/dev/null");
  EXPECT_EQ(old.status, 0) << old.out;
  {
    auto views = infra::rocksdb_view_store::open(view_dir);
    ASSERT_TRUE(views);
    const projections::write_op behind{one_view_key, std::string("1")};
    ASSERT_TRUE((*views)->commit(std::span(&behind, 1)));
  }
  const auto wrong = tool("verify --data " + a + " 2>/dev/null");
  EXPECT_EQ(wrong.status, 3) << wrong.out;
  EXPECT_NE(wrong.out.find("~ckpt/"), std::string::npos);
  EXPECT_NE(wrong.out.find("DIFFERS"), std::string::npos) << wrong.out;
}

TEST_F(CliTest, ABadFileImportsNothing) {
  const auto a = dir("a"), c = dir("c"), file = dir("bad.ndjson");
  populate(a);
  ASSERT_EQ(tool("export --data " + a + " > " + file + " 2>/dev/null").status, 0);
  { std::ofstream(file, std::ios::app) << "{\"specversion\":\"1.0\"}\n"; }
  EXPECT_EQ(tool("import --data " + c + " < " + file + " 2>/dev/null").status, 1);
  EXPECT_EQ(tool("export --data " + c + " 2>/dev/null").out, "") << "nothing was imported";
}

TEST_F(CliTest, AnOnlineRebuildSurvivesARestartAndVerifies) {
  const auto a = dir("a");
  populate(a);
  {
    daemon d(a, key_);
    d.start();
    auto started = d.send("POST", "/v1/admin/projections/rebuild", "");
    ASSERT_EQ(started.status, 202) << started.body;
    for (int i = 0; i < 200; ++i) {
      auto state = json::parse(d.get("/v1/admin/projections").body);
      ASSERT_TRUE(state);
      if (state->find("rebuild")->string_at("state") == "done") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    auto state = json::parse(d.get("/v1/admin/projections").body);
    EXPECT_EQ(state->find("rebuild")->string_at("state"), "done");
    EXPECT_EQ(state->find("generation")->as_int(), 2);
    ASSERT_EQ(d.send("POST", "/v1/customers", R"({"name":"After the switch"})").status, 201);
    d.kill(SIGTERM);
  }
  EXPECT_EQ(*infra::current_view_generation(a), 2u);
  EXPECT_TRUE(fs::exists(a + "/views.2"));
  EXPECT_FALSE(fs::exists(a + "/views")) << "the old generation is removed";
  const auto v = tool("verify --data " + a + " 2>/dev/null");
  EXPECT_EQ(v.status, 0) << v.out;
  daemon again(a, key_);
  again.start();
  auto found = again.get("/v1/customers?q=after");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(json::parse(found.body)->find("items")->as_array().size(), 1u);
}

TEST_F(CliTest, KeysMadeAndRevokedByTheToolTakeEffectInARunningServer) {
  const auto a = dir("a");
  daemon d(a, key_);
  d.start();
  const auto made =
      tool("keys create --data " + a + " --name night-shift --role writer 2>/dev/null");
  ASSERT_EQ(made.status, 0);
  const std::string key = made.out.substr(0, made.out.find('\n'));
  ASSERT_TRUE(key.starts_with("flk_")) << made.out;
  const std::map<std::string, std::string> as_it{{"Authorization", "Bearer " + key},
                                                 {"Content-Type", "application/json"}};
  auto r = http(d.port(), "POST", "/v1/customers", R"({"name":"Made at night"})", as_it);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(http(d.port(), "GET", "/v1/admin/keys", {}, as_it).status, 403)
      << "a writer is no admin";

  const auto listed = tool("keys list --data " + a + " 2>/dev/null");
  EXPECT_NE(listed.out.find("night-shift"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(key.substr(18)), std::string::npos) << "never the secret";
  const std::string id = key.substr(4, 12);
  ASSERT_EQ(tool("keys revoke --data " + a + " " + id + " 2>/dev/null").status, 0);
  EXPECT_EQ(http(d.port(), "GET", "/v1/customers", {}, as_it).status, 401) << "revoked at once";
  EXPECT_EQ(tool("keys revoke --data " + a + " 000000000000 2>/dev/null").status, 1);
  EXPECT_NE(tool("keys create --data " + a + " --name x --role boss 2>/dev/null").status, 0);
}

}  // namespace
}  // namespace fieldledger::e2e

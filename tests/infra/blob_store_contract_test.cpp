// One contract for every blob store (the fake and the durable one), and the durable store's
// failure paths by injection: a failing open, write, fsync or rename leaves no file behind.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "infra/file_blob_store.hpp"
#include "infra/memory_blob_store.hpp"
#include "infra/sha256.hpp"

namespace fieldledger::infra {
namespace {

using namespace fieldledger::domain;
namespace fs = std::filesystem;

std::string openssl_sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  static constexpr char k_hex[] = "0123456789abcdef";
  for (unsigned char c : d) {
    out += k_hex[c >> 4];
    out += k_hex[c & 0xf];
  }
  return out;
}

fs::path temp_dir(const std::string& name) {
  static int n = 0;
  auto dir =
      fs::path(::testing::TempDir()) /
      ("fieldledger-blobs-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  fs::remove_all(dir);
  return dir;
}

class BlobStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<memory_blob_store>();
    } else {
      dir_ = temp_dir("contract");
      auto s = file_blob_store::open(dir_.string());
      ASSERT_TRUE(s) << s.error().detail;
      store_ = std::move(*s);
    }
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::vector<std::string> listed() {
    auto l = store_->list();
    EXPECT_TRUE(l);
    auto v = l ? *l : std::vector<std::string>{};
    std::ranges::sort(v);
    return v;
  }
  std::unique_ptr<blob_store> store_;
  fs::path dir_;
};

TEST_P(BlobStoreContract, PutReturnsTheSha256AndGetGivesTheBytesBack) {
  std::string content(100'000, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 256);
  auto put = store_->put(content);
  ASSERT_TRUE(put) << put.error().detail;
  EXPECT_EQ(put->sha256, openssl_sha256(content));
  EXPECT_EQ(put->size, content.size());
  auto got = store_->get(put->sha256);
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ(**got, content);
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_P(BlobStoreContract, EqualContentIsStoredOnce) {
  auto a = store_->put("same");
  auto b = store_->put("same");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  ASSERT_TRUE(store_->put("other"));
  EXPECT_EQ(listed().size(), 2u);
}

TEST_P(BlobStoreContract, AnUnknownOrMalformedDigestIsAbsent) {
  for (const std::string& d : {std::string(64, 'a'), std::string("../../etc/passwd"),
                               std::string(""), std::string(64, 'G')}) {
    auto got = store_->get(d);
    ASSERT_TRUE(got) << d;
    EXPECT_FALSE(*got) << d;
  }
}

TEST_P(BlobStoreContract, CollectRemovesOnlyUnreferencedBlobsOlderThanTheGrace) {
  auto live = store_->put("live");
  auto dead = store_->put("dead");
  ASSERT_TRUE(live && dead);
  auto none = store_->collect({live->sha256}, std::chrono::hours(1));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u) << "within the grace period nothing goes";
  EXPECT_EQ(listed().size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto one = store_->collect({live->sha256}, std::chrono::seconds(0));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1u);
  EXPECT_EQ(listed(), std::vector<std::string>{live->sha256});
  EXPECT_FALSE(*store_->get(dead->sha256));
  EXPECT_EQ(**store_->get(live->sha256), "live");
}

TEST_P(BlobStoreContract, PuttingStoredContentAgainRestartsItsGracePeriod) {
  ASSERT_TRUE(store_->put("again"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(store_->put("again"));  // an upload in flight, its event not yet appended
  auto removed = store_->collect({}, std::chrono::seconds(1));
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, BlobStoreContract, ::testing::Values("memory", "file"),
                         [](const auto& info) { return info.param; });

TEST(FileBlobStore, LaysBlobsOutByTheirDigest) {
  const auto dir = temp_dir("layout");
  auto store = file_blob_store::open(dir.string());
  ASSERT_TRUE(store);
  auto put = (*store)->put("layout");
  ASSERT_TRUE(put);
  EXPECT_TRUE(fs::is_regular_file(dir / put->sha256.substr(0, 2) / put->sha256));
  EXPECT_EQ((*store)->path_of(put->sha256),
            (dir / put->sha256.substr(0, 2) / put->sha256).string());
  fs::remove_all(dir);
}

TEST(FileBlobStore, AFailingStepLeavesNoFileBehind) {
  const auto dir = temp_dir("faults");
  std::string failing;
  auto store = file_blob_store::open(
      dir.string(), {.fail_at = [&](std::string_view step) { return step == failing; }});
  ASSERT_TRUE(store);
  const auto files = [&] {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
    return n;
  };
  for (const std::string step : {"open", "write", "fsync", "rename"}) {
    failing = step;
    auto put = (*store)->put("content that must not land");
    ASSERT_FALSE(put) << step;
    EXPECT_EQ(put.error().code, errc::unavailable) << step;
    EXPECT_EQ(files(), 0u) << step;
  }
  failing.clear();
  ASSERT_TRUE((*store)->put("content that must not land"));
  EXPECT_EQ(files(), 1u);
  fs::remove_all(dir);
}

TEST(FileBlobStore, CollectRemovesTemporaryFilesLeftByACrash) {
  const auto dir = temp_dir("crash");
  auto store = file_blob_store::open(dir.string());
  ASSERT_TRUE(store);
  fs::create_directories(dir / "ab");
  { std::ofstream(dir / "ab" / ".tmp-abcdef-0123") << "half a blob"; }
  auto removed = (*store)->collect({}, std::chrono::seconds(0));
  ASSERT_TRUE(removed);
  EXPECT_FALSE(fs::exists(dir / "ab" / ".tmp-abcdef-0123"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fieldledger::infra

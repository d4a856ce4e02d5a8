// The libsodium secret box of system secrets: round trips, tampering and wrong associated data
// fail, the key file is private and reused across restarts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "infra/secret_box.hpp"

namespace fieldledger::infra {
namespace {

class SecretBox : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("fieldledger-secret-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretBox, SealsWithAFreshNonceAndOpensWithTheSameAssociatedData) {
  auto box = sodium_secret_box::generate();
  auto a = box->seal("hunter2", "sys/1/password");
  auto b = box->seal("hunter2", "sys/1/password");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b) << "a random nonce per seal";
  EXPECT_EQ(a->find("hunter2"), std::string::npos);
  auto plain = box->open(*a, "sys/1/password");
  ASSERT_TRUE(plain) << plain.error().detail;
  EXPECT_EQ(*plain, "hunter2");
  auto empty = box->seal("", "ad");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*box->open(*empty, "ad"), "");
}

TEST_F(SecretBox, ATamperedValueOrOtherAssociatedDataOrAnotherKeyDoesNotOpen) {
  auto box = sodium_secret_box::generate();
  const auto sealed = *box->seal("hunter2", "sys/1/password");
  EXPECT_FALSE(box->open(sealed, "sys/1/login"));
  EXPECT_FALSE(box->open(sealed, "sys/2/password"));
  for (std::size_t i = 0; i < sealed.size(); i += 7) {
    std::string tampered = sealed;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(box->open(tampered, "sys/1/password")) << "byte " << i;
  }
  EXPECT_FALSE(box->open(sealed.substr(0, sealed.size() - 4), "sys/1/password"));
  EXPECT_FALSE(box->open("not base64 !", "sys/1/password"));
  EXPECT_FALSE(box->open("", "sys/1/password"));
  auto other = sodium_secret_box::generate();
  EXPECT_FALSE(other->open(sealed, "sys/1/password"));
}

TEST_F(SecretBox, TheKeyFileIsCreatedPrivateAndReusedAfterARestart) {
  std::string sealed;
  {
    auto box = sodium_secret_box::open_key_file(dir_.string());
    ASSERT_TRUE(box) << box.error().detail;
    sealed = *(*box)->seal("hunter2", "ad");
  }
  const auto path = dir_ / "secret.key";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "secret.key.tmp"));
  EXPECT_EQ(std::filesystem::file_size(path), 65u);  // 64 hex digits and a newline
  auto again = sodium_secret_box::open_key_file(dir_.string());
  ASSERT_TRUE(again) << again.error().detail;
  auto plain = (*again)->open(sealed, "ad");
  ASSERT_TRUE(plain) << "the same key after a restart";
  EXPECT_EQ(*plain, "hunter2");
}

TEST_F(SecretBox, RefusesAKeyFileOthersCanReadOrThatIsNotAKey) {
  ASSERT_TRUE(sodium_secret_box::open_key_file(dir_.string()));
  const auto path = dir_ / "secret.key";
  ::chmod(path.c_str(), 0644);
  auto open = sodium_secret_box::open_key_file(dir_.string());
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().detail.find("chmod 600"), std::string::npos) << open.error().detail;
  ::chmod(path.c_str(), 0600);
  { std::ofstream(path) << "not a key\n"; }
  EXPECT_FALSE(sodium_secret_box::open_key_file(dir_.string()));
}

}  // namespace
}  // namespace fieldledger::infra

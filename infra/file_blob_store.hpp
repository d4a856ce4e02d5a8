#pragma once
// The durable blob store: DIR/<first 2 hex>/<sha256 hex>, one file per distinct content.
// A put writes a temporary file in the same directory, fsyncs it, renames it into place and
// fsyncs the directory, so a blob is either whole under its name or absent.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "domain/blob_store.hpp"

namespace fieldledger::infra {

struct file_blob_options {
  // For tests of failure paths: called before each step of a put ("open", "write", "fsync",
  // "rename", "dirsync"); when it returns true that step fails as with EIO.
  std::function<bool(std::string_view step)> fail_at;
};

class file_blob_store final : public domain::blob_store {
 public:
  // Creates dir when missing. Temporary files left by a crash are removed by collect().
  [[nodiscard]] static domain::result<std::unique_ptr<file_blob_store>> open(
      std::string dir, file_blob_options options = {});

  domain::result<domain::blob_info> put(std::string_view content) override;
  domain::result<std::optional<std::string>> get(std::string_view sha256) const override;
  domain::result<std::vector<std::string>> list() const override;
  domain::result<std::size_t> collect(const std::vector<std::string>& live,
                                      std::chrono::seconds grace) override;

  // Where the blob with this digest is (whether or not it exists).
  std::string path_of(std::string_view sha256) const;
  const std::string& dir() const noexcept { return dir_; }

 private:
  file_blob_store(std::string dir, file_blob_options o)
      : dir_(std::move(dir)), options_(std::move(o)) {}
  bool fails(std::string_view step) const { return options_.fail_at && options_.fail_at(step); }

  std::string dir_;
  file_blob_options options_;
  // Orders "is it there? then refresh it" in put against "is it old? then remove it" in
  // collect, so that collect never removes content a put has just counted as stored.
  mutable std::mutex mu_;
};

}  // namespace fieldledger::infra

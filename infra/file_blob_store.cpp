#include "infra/file_blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include "domain/file_name.hpp"
#include "infra/sha256.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_temp_prefix = ".tmp-";

std::unexpected<error> io_failure(std::string what, int err) {
  return fail(errc::unavailable, "the blob store could not " + what + ": " + std::strerror(err) +
                                     ". Hint: check the data directory's disk.");
}

// fsync of a directory, so that a rename or a new entry in it is durable.
int sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

result<std::unique_ptr<file_blob_store>> file_blob_store::open(std::string dir,
                                                               file_blob_options options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_failure("create " + dir, ec.value());
  return std::unique_ptr<file_blob_store>(new file_blob_store(std::move(dir), std::move(options)));
}

std::string file_blob_store::path_of(std::string_view sha256) const {
  std::string p = dir_;
  p += '/';
  p += sha256.substr(0, 2);
  p += '/';
  p += sha256;
  return p;
}

result<blob_info> file_blob_store::put(std::string_view content) {
  blob_info info{sha256_hex(content), content.size()};
  const std::string final_path = path_of(info.sha256);
  const std::string sub = dir_ + "/" + info.sha256.substr(0, 2);
  {
    std::lock_guard lock(mu_);
    // Already stored: refresh its time so that collect() leaves it to this upload's event.
    if (::utimensat(AT_FDCWD, final_path.c_str(), nullptr, 0) == 0) return info;
  }
  std::error_code ec;
  if (!fs::exists(sub, ec)) {
    fs::create_directories(sub, ec);
    if (ec) return io_failure("create " + sub, ec.value());
    if (const int err = sync_dir(dir_); err != 0) return io_failure("sync " + dir_, err);
  }
  const std::string temp =
      sub + "/" + std::string(k_temp_prefix) + info.sha256.substr(0, 16) + "-" + random_suffix();
  const bool open_fails = fails("open");
  const int fd =
      open_fails ? -1 : ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return io_failure("create a file in " + sub, open_fails ? EIO : errno);
  const auto abandon = [&](std::string what, int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    return io_failure(std::move(what), err);
  };
  for (std::size_t done = 0; done < content.size();) {
    if (fails("write")) return abandon("write " + temp, EIO);
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return abandon("write " + temp, n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (fails("fsync")) return abandon("sync " + temp, EIO);
  if (::fsync(fd) != 0) return abandon("sync " + temp, errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return io_failure("close " + temp, err);
  }
  {
    std::lock_guard lock(mu_);
    const bool rename_fails = fails("rename");
    if (rename_fails || ::rename(temp.c_str(), final_path.c_str()) != 0) {
      const int err = rename_fails ? EIO : errno;
      ::unlink(temp.c_str());
      return io_failure("move the blob into place", err);
    }
  }
  // Should the directory not sync, the blob may not survive a crash: no event may reference it.
  // It stays (a concurrent put of the same content may already count on it); unreferenced, it
  // is collected later.
  if (fails("dirsync")) return io_failure("sync " + sub, EIO);
  if (const int err = sync_dir(sub); err != 0) return io_failure("sync " + sub, err);
  return info;
}

result<std::optional<std::string>> file_blob_store::get(std::string_view sha256) const {
  if (!is_sha256_hex(sha256)) return std::optional<std::string>{};
  const std::string path = path_of(sha256);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return io_failure("open " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_failure("stat " + path, err);
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != out.size()) return fail(errc::internal, "blob " + std::string(sha256) + " is short");
  return std::optional<std::string>{std::move(out)};
}

result<std::vector<std::string>> file_blob_store::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(dir_, ec)) {
    if (!sub.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(sub.path(), ec)) {
      const auto name = f.path().filename().string();
      if (is_sha256_hex(name)) out.push_back(name);
    }
  }
  if (ec) return io_failure("list " + dir_, ec.value());
  return out;
}

result<std::size_t> file_blob_store::collect(const std::vector<std::string>& live,
                                             std::chrono::seconds grace) {
  const std::set<std::string, std::less<>> keep(live.begin(), live.end());
  const auto cutoff = std::chrono::system_clock::now() - grace;
  const auto old_enough = [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    return mtime <= cutoff;
  };
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(dir_, ec)) {
    if (!sub.is_directory()) continue;
    std::vector<std::string> names;
    std::error_code inner;
    for (const auto& f : fs::directory_iterator(sub.path(), inner)) {
      names.push_back(f.path().filename().string());
    }
    if (inner) return io_failure("list " + sub.path().string(), inner.value());
    for (const auto& name : names) {
      const std::string path = sub.path().string() + "/" + name;
      const bool temp = name.starts_with(k_temp_prefix);
      if (!temp && (!is_sha256_hex(name) || keep.contains(name))) continue;
      std::lock_guard lock(mu_);
      if (!old_enough(path)) continue;
      if (::unlink(path.c_str()) == 0 && !temp) ++removed;
    }
  }
  if (ec) return io_failure("list " + dir_, ec.value());
  return removed;
}

}  // namespace fieldledger::infra

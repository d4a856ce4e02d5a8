#include "infra/view_generations.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "infra/cached_view_store.hpp"
#include "infra/rocksdb_view_store.hpp"

namespace fieldledger::infra {

namespace fs = std::filesystem;
using namespace fieldledger::domain;

namespace {

constexpr std::string_view k_current_file = "views.current";

std::optional<std::uint64_t> generation_of(const std::string& name) {
  if (name == "views") return 1;
  if (!name.starts_with("views.") || name == k_current_file) return std::nullopt;
  std::uint64_t n = 0;
  const auto digits = std::string_view(name).substr(6);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n < 2) return std::nullopt;
  return n;
}

}  // namespace

std::string view_generation_dir(const std::string& data, std::uint64_t generation) {
  return data + (generation <= 1 ? "/views" : "/views." + std::to_string(generation));
}

result<std::uint64_t> current_view_generation(const std::string& data) {
  const auto path = fs::path(data) / k_current_file;
  std::ifstream in(path);
  if (!in) return std::uint64_t{1};
  std::string text;
  std::getline(in, text);
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1) {
    return fail(errc::internal, path.string() + " does not name a generation of the views");
  }
  return n;
}

result<void> set_current_view_generation(const std::string& data, std::uint64_t generation) {
  const auto path = fs::path(data) / k_current_file;
  const auto aside = path.string() + ".tmp";
  const std::string text = std::to_string(generation) + "\n";
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errc::unavailable, "cannot write " + aside);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(aside.c_str(), path.c_str()) != 0) {
    return fail(errc::unavailable, "cannot record the current generation in " + path.string());
  }
  if (const int dir = ::open(data.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

result<std::shared_ptr<projections::view_store>> open_view_generation(
    const std::string& data, std::uint64_t generation, view_generation_mode mode,
    const view_store_memory& memory) {
  const auto dir = view_generation_dir(data, generation);
  auto store =
      rocksdb_view_store::open(dir,
                               mode == view_generation_mode::bulk ? rocksdb_view_store::mode::bulk
                                                                  : rocksdb_view_store::mode::live,
                               memory);
  if (!store) return std::unexpected(store.error());
  std::shared_ptr<projections::view_store> disk(
      store->release(), [data, dir, generation](projections::view_store* s) {
        delete s;
        const auto current = current_view_generation(data);
        if (current && *current != generation) {
          std::error_code ignored;
          fs::remove_all(dir, ignored);
        }
      });
  if (memory.value_cache_bytes == 0) return disk;
  // A bulk build passes by the cache until it is sealed.
  return std::shared_ptr<projections::view_store>(std::make_shared<cached_view_store>(
      std::move(disk), memory.value_cache_bytes, mode == view_generation_mode::live));
}

void remove_other_view_generations(const std::string& data, std::uint64_t keep) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data, ec)) {
    const auto g = generation_of(entry.path().filename().string());
    if (g && *g != keep && entry.is_directory()) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

}  // namespace fieldledger::infra

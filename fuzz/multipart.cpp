// Fuzz target: multipart/form-data bodies and file names as an upload brings them. The first
// line of the input is the boundary, the rest the body.
// Properties: nothing crashes; every part's body lies inside the input; a sanitized name is
// valid UTF-8, at most 255 bytes, has no '/' '\' or control character, and sanitizes to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/multipart.hpp"
#include "domain/file_name.hpp"

using namespace fieldledger;

namespace {

void check_name(std::string_view raw) {
  auto name = domain::sanitize_file_name(raw);
  if (!name) return;
  if (!domain::is_valid_utf8(*name) || name->size() > domain::k_max_file_name ||
      name->find_first_of("/\\") != std::string::npos || *name == "." || *name == "..") {
    std::abort();
  }
  for (unsigned char c : *name) {
    if (c < 0x20 || c == 0x7f) std::abort();
  }
  auto again = domain::sanitize_file_name(*name);
  if (!again || *again != *name) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_name(input);
  const auto nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  const auto boundary = input.substr(0, nl);
  const auto body = input.substr(nl + 1);
  auto parts = api::parse_multipart(boundary, body);
  if (!parts) {
    if (parts.error().fields.empty()) std::abort();  // every refusal names what is wrong
    return 0;
  }
  for (const auto& p : *parts) {
    if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size()) {
      std::abort();
    }
    if (p.filename) check_name(*p.filename);
  }
  return 0;
}

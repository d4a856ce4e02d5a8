// Fuzz target: a command body as the API reads it. JSON parsing (with its depth and length
// bounds), then the field validation of every entity kind, as a POST and as a merge patch.
// Properties: nothing crashes; what validates stays valid when validated again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/customer.hpp"
#include "domain/schema.hpp"
#include "json/parse.hpp"

using namespace fieldledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = json::parse(text);
  if (!v || !v->is_object()) return 0;
  for (auto specs : {domain::customer_fields(), domain::contact_fields(), domain::site_fields(),
                     domain::asset_fields(), domain::part_fields(), domain::product_fields(),
                     domain::note_fields(), domain::work_order_fields()}) {
    auto ok = domain::validate_fields(specs, *v);
    if (ok) {
      auto again = domain::validate_fields(specs, *ok);
      if (!again || !(*again == *ok)) std::abort();  // the normal form is a fixed point
    } else if (ok.error().detail.empty()) {
      std::abort();  // every refusal says why
    }
    (void)domain::check_patch_keys(specs, *v);
  }
  return 0;
}

#include "projections/checkpoints.hpp"

#include <algorithm>
#include <charconv>

namespace fieldledger::projections {

using namespace fieldledger::domain;

namespace {

// A checkpoint value's offset; a value that is not one reads as a store fault.
result<std::int64_t> offset_of(std::string_view text, std::string_view key) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 0) {
    return fail(errc::internal, "the checkpoint at \"" + std::string(key) +
                                    "\" is not an offset. Hint: rebuild the views "
                                    "(fieldledger rebuild).");
  }
  return n;
}

}  // namespace

std::string shared_checkpoint_key(std::uint32_t partition) {
  return checkpoint_key("*", partition);
}

result<partition_checkpoints> partition_checkpoints::read(const view_store& store,
                                                          std::span<const std::string> views,
                                                          std::uint32_t partition) {
  partition_checkpoints out;
  out.partition_ = partition;
  out.next_.assign(views.size(), 0);
  out.own_.assign(views.size(), std::nullopt);
  const auto shared_key = shared_checkpoint_key(partition);
  auto shared = store.get(shared_key);
  if (!shared) return std::unexpected(shared.error());
  if (*shared) {
    const std::string_view text = **shared;
    const auto line = text.find('\n');
    auto at = offset_of(text.substr(0, line), shared_key);
    if (!at) return std::unexpected(at.error());
    for (auto rest = line == std::string_view::npos ? std::string_view{} : text.substr(line + 1);
         !rest.empty();) {
      const auto nl = rest.find('\n');
      const auto name = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      const auto it = std::ranges::find(views, name);
      if (it != views.end()) out.next_[static_cast<std::size_t>(it - views.begin())] = *at;
    }
  }
  for (std::size_t v = 0; v < views.size(); ++v) {
    const auto key = checkpoint_key(views[v], partition);
    auto own = store.get(key);
    if (!own) return std::unexpected(own.error());
    if (!*own) continue;
    auto at = offset_of(**own, key);
    if (!at) return std::unexpected(at.error());
    out.own_[v] = *at;
    out.next_[v] = std::max(out.next_[v], *at);
  }
  return out;
}

void partition_checkpoints::advance(batch& b, std::span<const std::string> views, std::int64_t end,
                                    const std::vector<std::int64_t>& next) {
  std::string shared = std::to_string(end);
  for (std::size_t v = 0; v < views.size(); ++v) {
    next_[v] = next[v];
    if (next[v] == end) {
      shared += '\n';
      shared += views[v];
      if (own_[v]) {
        b.del(checkpoint_key(views[v], partition_));
        own_[v].reset();
      }
    } else if (own_[v] != next[v]) {
      b.put(checkpoint_key(views[v], partition_), std::to_string(next[v]));
      own_[v] = next[v];
    }
  }
  b.put(shared_checkpoint_key(partition_), std::move(shared));
}

}  // namespace fieldledger::projections

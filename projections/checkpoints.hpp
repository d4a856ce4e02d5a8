#pragma once
// Checkpoints: how far each view has applied each partition (the next offset to apply), written
// in the same commit as the view data they cover.
//
// Views at the same offset of a partition share one key, "~ckpt/*/<partition>" ->
// "<next offset>\n<view>\n<view>…" (the views it holds for); a view at another offset (one
// added to an existing data directory, catching up on its own) has its own key,
// checkpoint_key(view, partition) -> "<next offset>". A view's checkpoint is the larger of the
// two. So a commit writes one checkpoint key, not one per view: a busy server commits single
// commands a few events at a time, and one key per view (19) was most of what such a commit
// wrote. Stores written before the shared key existed hold only own keys; they are read as they
// are and replaced by the shared key at the next commit.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "projections/view.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

std::string shared_checkpoint_key(std::uint32_t partition);

// The checkpoints of a set of views (in the order named) in one partition. Cheap to copy (no
// names: every call takes the same list of view names). Not thread-safe.
class partition_checkpoints {
 public:
  // Reads them from the store; views it holds nothing for are at 0. Returns the store's error.
  [[nodiscard]] static domain::result<partition_checkpoints> read(
      const view_store& store, std::span<const std::string> views, std::uint32_t partition);

  // The next offset each view applies.
  const std::vector<std::int64_t>& next() const noexcept { return next_; }

  // Records that the views now stand at next (no view moves back; end is where the views that
  // applied this batch stand, at least one of them) and puts into b what the store needs for
  // that: the shared key for the views at end, own keys for the others where they changed, and
  // deletes of own keys that the shared key now covers. Commit b before calling again.
  // REQUIRES: views as given to read().
  void advance(batch& b, std::span<const std::string> views, std::int64_t end,
               const std::vector<std::int64_t>& next);

 private:
  std::uint32_t partition_ = 0;
  std::vector<std::int64_t> next_;
  std::vector<std::optional<std::int64_t>> own_;  // what each view's own key holds, if present
};

}  // namespace fieldledger::projections

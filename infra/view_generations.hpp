#pragma once
// Generations of the views in a data directory. Generation 1 lives in "views", generation n
// in "views.<n>"; the file "views.current" names the current one (absent: generation 1). An
// online rebuild fills the next generation and records it here once it is current; a
// generation that is no longer current is removed when its store is released.
#include <cstdint>
#include <memory>
#include <string>

#include "domain/error.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::infra {

std::string view_generation_dir(const std::string& data, std::uint64_t generation);

// The current generation, 1 when none is recorded.
[[nodiscard]] domain::result<std::uint64_t> current_view_generation(const std::string& data);

// Records generation as current, durably (written aside, fsynced, renamed over).
[[nodiscard]] domain::result<void> set_current_view_generation(const std::string& data,
                                                               std::uint64_t generation);

// How a generation's store is opened: `live` for the current one; `bulk` for a generation
// being rebuilt, which skips the write-ahead log until view_store::seal() (call it before
// set_current_view_generation: a crash before then leaves the old generation current, and
// the half-built one is removed like any generation that is not current).
enum class view_generation_mode { live, bulk };

// Opens (creating if need be) a generation's RocksDB view store. Releasing the store removes
// its directory when, by then, another generation is current.
[[nodiscard]] domain::result<std::shared_ptr<projections::view_store>> open_view_generation(
    const std::string& data, std::uint64_t generation,
    view_generation_mode mode = view_generation_mode::live, const view_store_memory& memory = {});

// Removes the directories of every generation but keep (left behind by a crash mid-rebuild).
void remove_other_view_generations(const std::string& data, std::uint64_t keep);

}  // namespace fieldledger::infra

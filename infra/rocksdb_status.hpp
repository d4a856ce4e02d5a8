#pragma once
// RocksDB's status stops here: it becomes a domain error (internal, or unavailable when the
// condition may pass: busy, timed out, out of space).
#include <rocksdb/status.h>

#include <string>

#include "domain/error.hpp"

namespace fieldledger::infra {

inline std::unexpected<domain::error> from_rocksdb(const rocksdb::Status& s,
                                                   const std::string& what) {
  const bool retry = s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsNoSpace() ||
                     s.IsIncomplete();
  return domain::fail(retry ? domain::errc::unavailable : domain::errc::internal,
                      "cannot " + what + ": " + s.ToString());
}

}  // namespace fieldledger::infra

#pragma once
// The embedded, durable event log on RocksDB. Each append is one WriteBatch written with
// sync=true, so it is atomic and on disk when append() returns.
// Keys:  "m:partitions"                          -> partition count (fixed at creation)
//        "e" + partition (4 BE) + offset (8 BE)  -> the event as a CloudEvents JSON document
// (Logs written before the history view existed also hold "c" + customer id + … keys, a
// per-customer index that nothing reads any more; the history view is that index now.)
#include <memory>
#include <string>

#include "domain/event_log.hpp"

namespace fieldledger::infra {

class rocksdb_event_log final : public domain::event_log {
 public:
  // Opens (creating when missing) the log in directory dir. An existing log keeps the
  // partition count it was created with; asking for another one is errc::invalid.
  [[nodiscard]] static domain::result<std::unique_ptr<rocksdb_event_log>> open(
      const std::string& dir, std::uint32_t partitions);
  ~rocksdb_event_log() override;

  std::uint32_t partition_count() const noexcept override;
  domain::result<std::vector<domain::log_position>> append(
      std::span<const domain::event> events) override;
  domain::result<std::vector<domain::recorded_event>> read(domain::partition_id p,
                                                           domain::log_offset from,
                                                           std::size_t max) override;
  domain::log_offset end_offset(domain::partition_id p) override;
  bool wait_for(domain::partition_id p, domain::log_offset offset,
                std::chrono::milliseconds timeout) override;
  void close() override;

  struct impl;

 private:
  explicit rocksdb_event_log(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::infra

#include "infra/rocksdb_event_log.hpp"

#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <mutex>

#include "infra/rocksdb_status.hpp"
#include "json/event_codec.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

namespace {

constexpr std::string_view k_partitions_key = "m:partitions";

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_be(std::string_view s) {
  std::uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

constexpr std::size_t k_partition_prefix_size = 5;  // "e" + the partition, big-endian

std::string partition_prefix(std::uint32_t p) {
  std::string k = "e";
  put_be(k, p, 4);
  return k;
}

std::string event_key(std::uint32_t p, std::int64_t offset) {
  std::string k = partition_prefix(p);
  put_be(k, static_cast<std::uint64_t>(offset), 8);
  return k;
}

}  // namespace

struct rocksdb_event_log::impl {
  std::unique_ptr<rocksdb::DB> db;
  std::uint32_t partitions = 1;
  // Serializes appends (each takes the next offsets), held across the synced write; readers
  // and waiters do not take it, so they never wait for an fsync.
  std::mutex appending;
  std::mutex mu;  // guards ends and closed
  // One per partition: an append wakes only the readers of the partitions it wrote to (with
  // one for all, every projection thread woke for every append).
  std::unique_ptr<std::condition_variable[]> appended;
  std::vector<std::int64_t> ends;
  bool closed = false;
};

rocksdb_event_log::rocksdb_event_log(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
rocksdb_event_log::~rocksdb_event_log() { close(); }

result<std::unique_ptr<rocksdb_event_log>> rocksdb_event_log::open(const std::string& dir,
                                                                   std::uint32_t partitions) {
  if (partitions == 0 || partitions > 1024) {
    return fail(errc::invalid, "the partition count must be between 1 and 1024");
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  // Appends go to the end of each partition's keys, the partitions interleaved: a hint of the
  // last insert per partition ("e" + 4 bytes) makes a memtable insert start where the last
  // one of its partition ended instead of searching the skip list from the top.
  options.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(k_partition_prefix_size));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return from_rocksdb(s, "open the event log at " + dir);
  auto p = std::make_unique<impl>();
  p->db.reset(raw);

  std::string stored;
  s = p->db->Get(rocksdb::ReadOptions(), k_partitions_key, &stored);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = p->db->Put(wo, k_partitions_key, std::to_string(partitions));
    if (!s.ok()) return from_rocksdb(s, "record the partition count");
    p->partitions = partitions;
  } else if (!s.ok()) {
    return from_rocksdb(s, "read the partition count");
  } else {
    const auto existing = static_cast<std::uint32_t>(std::stoul(stored));
    if (existing != partitions) {
      return fail(errc::invalid, "the event log at " + dir + " has " + stored +
                                     " partitions, not " + std::to_string(partitions));
    }
    p->partitions = existing;
  }

  p->ends.assign(p->partitions, 0);
  p->appended = std::make_unique<std::condition_variable[]>(p->partitions);
  std::unique_ptr<rocksdb::Iterator> it(p->db->NewIterator(rocksdb::ReadOptions()));
  for (std::uint32_t part = 0; part < p->partitions; ++part) {
    const auto prefix = partition_prefix(part);
    it->SeekForPrev(event_key(part, std::numeric_limits<std::int64_t>::max()));
    if (it->Valid() && it->key().starts_with(prefix)) {
      const auto k = it->key().ToStringView();
      p->ends[part] = static_cast<std::int64_t>(get_be(k.substr(prefix.size()))) + 1;
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scan the event log");
  return std::unique_ptr<rocksdb_event_log>(new rocksdb_event_log(std::move(p)));
}

std::uint32_t rocksdb_event_log::partition_count() const noexcept { return impl_->partitions; }

result<std::vector<log_position>> rocksdb_event_log::append(std::span<const event> events) {
  std::vector<log_position> out;
  out.reserve(events.size());
  std::lock_guard appending(impl_->appending);
  std::vector<std::int64_t> ends;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closed) return fail(errc::unavailable, "the event log is closed");
    ends = impl_->ends;  // only appends change them, and this one holds `appending`
  }
  rocksdb::WriteBatch batch;
  std::string doc;
  for (const auto& e : events) {
    const auto p = partition_for(e.customer, impl_->partitions);
    const auto offset = ends[p.get()]++;
    doc.clear();
    json::encode_event(e, doc);
    batch.Put(event_key(p.get(), offset), doc);
    out.push_back({p, log_offset{offset}});
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto s = impl_->db->Write(wo, &batch);
  if (!s.ok()) return from_rocksdb(s, "append to the event log");
  std::vector<std::uint32_t> grown;
  {
    std::lock_guard lock(impl_->mu);
    for (std::uint32_t p = 0; p < impl_->partitions; ++p) {
      if (ends[p] != impl_->ends[p]) grown.push_back(p);
    }
    impl_->ends = std::move(ends);
  }
  for (const auto p : grown) impl_->appended[p].notify_all();
  return out;
}

result<std::vector<recorded_event>> rocksdb_event_log::read(partition_id p, log_offset from,
                                                            std::size_t max) {
  if (p.get() >= impl_->partitions) return fail(errc::invalid, "no such partition");
  std::vector<recorded_event> out;
  // A reader that has everything (a projection thread asks once more before it waits) is
  // answered from the end, without an iterator over the log: an append's events are in the
  // database before the end moves, so nothing at or past it is missed.
  if (max == 0 || from.get() >= end_offset(p).get()) return out;
  const auto prefix = partition_prefix(p.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(event_key(p.get(), std::max<std::int64_t>(from.get(), 0)));
       it->Valid() && it->key().starts_with(prefix) && out.size() < max; it->Next()) {
    auto e = json::decode_event(it->value().ToStringView());
    const auto offset =
        static_cast<std::int64_t>(get_be(it->key().ToStringView().substr(prefix.size())));
    if (!e) {
      return fail(errc::internal, "event " + std::to_string(p.get()) + "-" +
                                      std::to_string(offset) +
                                      " cannot be read: " + e.error().detail);
    }
    out.push_back({log_position{p, log_offset{offset}}, std::move(*e)});
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "read the event log");
  return out;
}

log_offset rocksdb_event_log::end_offset(partition_id p) {
  std::lock_guard lock(impl_->mu);
  return log_offset{p.get() < impl_->partitions ? impl_->ends[p.get()] : 0};
}

bool rocksdb_event_log::wait_for(partition_id p, log_offset offset,
                                 std::chrono::milliseconds timeout) {
  if (p.get() >= impl_->partitions) return false;
  std::unique_lock lock(impl_->mu);
  const auto ready = [&] { return impl_->closed || impl_->ends[p.get()] > offset.get(); };
  impl_->appended[p.get()].wait_for(lock, timeout, ready);
  return impl_->ends[p.get()] > offset.get();
}

void rocksdb_event_log::close() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->closed = true;
  }
  for (std::uint32_t p = 0; p < impl_->partitions; ++p) impl_->appended[p].notify_all();
}

}  // namespace fieldledger::infra

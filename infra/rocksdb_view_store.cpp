#include "infra/rocksdb_view_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "infra/rocksdb_status.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

struct rocksdb_view_store::impl {
  std::unique_ptr<rocksdb::DB> db;
  // Guards bulk (seal() against seal()). Writes need no lock against seal(): none of them has a
  // write-ahead log, and RocksDB's flush holds every write that returned before it began.
  std::mutex sealing;
  bool bulk = false;

  // No write-ahead log, live or bulk: the views are derived from the event log, and each
  // commit carries its checkpoint. RocksDB flushes a single column family's memtables in
  // order, so after a crash the store holds every commit up to some point and none after it
  // (checkpoints included), and the runner applies the rest again from the log. Without the
  // log a projection commit skips its write(2), the record's CRC and the WAL bookkeeping:
  // projection-thread CPU per request on 20k customers (medians of 3 alternating runs),
  // PATCH /v1/customers 54.8 -> 52.0 us, POST 47.1 -> 43.8 us, small against the noise.
  static rocksdb::WriteOptions write_options() {
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    return wo;
  }
};

namespace {
// A bulk build writes each key about once, and most of them into a fresh store: larger and more
// memtables mean fewer, larger level-0 files and less compaction while it runs.
constexpr std::size_t k_bulk_write_buffer_bytes = 128 << 20;
constexpr int k_bulk_write_buffers = 4;
constexpr std::size_t k_live_write_buffer_bytes = 64 << 20;  // RocksDB's defaults
constexpr int k_live_write_buffers = 2;
// A WriteBatch's layout: a 12-byte header (sequence, count), then per record a type byte and a
// varint length before the key and before the value (at most 5 bytes each).
constexpr std::size_t k_batch_header_bytes = 12;
constexpr std::size_t k_batch_record_bytes = 11;
}  // namespace

rocksdb_view_store::rocksdb_view_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
// A clean close keeps every commit: what the memtables hold goes to table files first (RocksDB
// would flush them on close too, unless avoid_flush_during_shutdown is set; this does not
// depend on it). A failed flush loses nothing the event log cannot give again.
rocksdb_view_store::~rocksdb_view_store() {
  if (!impl_ || !impl_->db) return;
  rocksdb::FlushOptions flush;
  flush.wait = true;
  (void)impl_->db->Flush(flush);
}

result<std::unique_ptr<rocksdb_view_store>> rocksdb_view_store::open(
    const std::string& dir, mode m, const view_store_memory& memory) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  // The projection runner's threads (one per partition) commit at once: one thread inserting
  // the group's writes into the memtable cost less CPU than concurrent inserts (POST /v1/batch
  // on a busy machine: 3.4-4.5 ms of server CPU per 100 commands against 4.0-6.1 ms, four
  // alternating pairs of runs).
  options.allow_concurrent_memtable_write = false;
  if (m == mode::bulk) {
    options.write_buffer_size = k_bulk_write_buffer_bytes;
    options.max_write_buffer_number = k_bulk_write_buffers;
  }
  // Queries are mostly point reads: bloom filters spare a read per SST file that lacks the key,
  // and a block cache of bounded size keeps hot data blocks in memory. Index and filter blocks
  // stay outside it (with cache_index_and_filter_blocks, bench/run measured GET of a customer
  // at 2.9k req/s instead of 56k on the default data set). A row cache (RocksDB's cache
  // of whole values) and a hash index per data block were tried: no gain measured on GET of
  // a customer over random ids, and site asset pages got slower.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(memory.block_cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  const auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return from_rocksdb(s, "open the views at " + dir);
  auto p = std::make_unique<impl>();
  p->db.reset(raw);
  p->bulk = m == mode::bulk;
  return std::unique_ptr<rocksdb_view_store>(new rocksdb_view_store(std::move(p)));
}

result<std::optional<std::string>> rocksdb_view_store::get(std::string_view key) const {
  std::string v;
  const auto s = impl_->db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return from_rocksdb(s, "read a view");
  return std::optional<std::string>{std::move(v)};
}

// RocksDB's MultiGet: one look at the memtables and table versions for all the keys, and the
// keys that share a data block read it once.
result<std::vector<std::optional<std::string>>> rocksdb_view_store::get_many(
    std::span<const std::string> keys) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(), keys.size(),
                      slices.data(), values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return from_rocksdb(statuses[i], "read a view");
    out[i].emplace(values[i].data(), values[i].size());
  }
  return out;
}

result<void> rocksdb_view_store::scan(std::string_view prefix, std::string_view after,
                                      const scan_fn& fn) const {
  // An iterator reads one consistent state of the store (RocksDB pins it when it is created),
  // without taking a snapshot, which would lock the database twice per scan.
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  // Start at the prefix, or just after `after` when that lies beyond it.
  const std::string start = after > prefix ? std::string(after) : std::string(prefix);
  it->Seek(rocksdb::Slice(start));
  if (!after.empty() && it->Valid() && it->key().ToStringView() == after) it->Next();
  for (; it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (const auto s = it->status(); !s.ok()) return from_rocksdb(s, "scan a view");
  return {};
}

result<void> rocksdb_view_store::commit(std::span<const projections::write_op> ops) {
  // In key order (a later op on the same key still after an earlier one): the memtable's skip
  // list finds where each key goes from where the previous one went, instead of from the top.
  // The keys are sorted as views held side by side with their op's place, which breaks ties.
  std::vector<std::pair<std::string_view, std::size_t>> sorted;
  sorted.reserve(ops.size());
  // The batch's bytes, reserved at once: a rebuild's commit of 200k ops grew it by doubling,
  // copying and faulting in fresh pages each time (10 % of a rebuild's CPU was page faults,
  // most of them there).
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    sorted.emplace_back(ops[i].key, i);
    bytes += ops[i].key.size() + (ops[i].value ? ops[i].value->size() : 0) + k_batch_record_bytes;
  }
  std::sort(sorted.begin(), sorted.end());
  rocksdb::WriteBatch batch(k_batch_header_bytes + bytes);
  for (const auto& [key, i] : sorted) {
    const auto& op = ops[i];
    if (op.value) {
      batch.Put(op.key, *op.value);
    } else {
      batch.Delete(op.key);
    }
  }
  const auto s = impl_->db->Write(impl_->write_options(), &batch);
  if (!s.ok()) return from_rocksdb(s, "write the views");
  return {};
}

result<void> rocksdb_view_store::clear() {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(it->key());
  if (!it->status().ok()) return from_rocksdb(it->status(), "clear the views");
  const auto s = impl_->db->Write(impl_->write_options(), &batch);
  if (!s.ok()) return from_rocksdb(s, "clear the views");
  return {};
}

result<void> rocksdb_view_store::seal() {
  std::lock_guard lock(impl_->sealing);
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (const auto s = impl_->db->Flush(flush); !s.ok()) return from_rocksdb(s, "seal the views");
  if (!impl_->bulk) return {};
  impl_->bulk = false;
  // Live writes are few and small: back to RocksDB's default memtables.
  const auto s =
      impl_->db->SetOptions({{"write_buffer_size", std::to_string(k_live_write_buffer_bytes)},
                             {"max_write_buffer_number", std::to_string(k_live_write_buffers)}});
  if (!s.ok()) return from_rocksdb(s, "seal the views");
  return {};
}

}  // namespace fieldledger::infra

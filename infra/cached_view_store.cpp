#include "infra/cached_view_store.hpp"

#include <rocksdb/cache.h>

#include <bit>
#include <functional>

namespace fieldledger::infra {

using domain::result;
using projections::write_op;

namespace {
using cached = std::optional<std::string>;  // nullopt: the key is absent from the store

void drop(const rocksdb::Slice&, void* value) { delete static_cast<cached*>(value); }

std::size_t charge_of(std::string_view key, const cached& value) {
  return key.size() + sizeof(cached) + (value ? value->capacity() : 0);
}
}  // namespace

cached_view_store::cached_view_store(std::shared_ptr<projections::view_store> inner,
                                     std::size_t capacity_bytes, bool enabled)
    : inner_(std::move(inner)),
      cache_(rocksdb::NewLRUCache(capacity_bytes)),
      enabled_(enabled && capacity_bytes > 0) {}

cached_view_store::~cached_view_store() = default;

std::size_t cached_view_store::stripe_of(std::string_view key) {
  return std::hash<std::string_view>{}(key) % k_stripes;
}

cached_view_store::observed cached_view_store::observe(std::string_view key) const {
  const auto i = stripe_of(key);
  std::lock_guard lock(stripes_[i].mu);
  return {i, stripes_[i].seq};
}

void cached_view_store::keep(std::string_view key, const std::optional<std::string>& value,
                             const observed& before) const {
  auto& s = stripes_[before.stripe];
  std::lock_guard lock(s.mu);
  // A commit in flight when the read began is still, or has moved the sequence when done.
  if (s.seq != before.seq || s.writers != 0) return;  // what we read may be old
  auto* copy = new cached(value);
  // Insert takes ownership (and frees it at once when the entry cannot be kept).
  (void)cache_->Insert(rocksdb::Slice(key.data(), key.size()), copy, charge_of(key, *copy), drop);
}

bool cached_view_store::lookup(std::string_view key, std::optional<std::string>& out) const {
  auto* h = cache_->Lookup(rocksdb::Slice(key.data(), key.size()));
  if (h == nullptr) return false;
  out = *static_cast<const cached*>(cache_->Value(h));
  cache_->Release(h);
  return true;
}

result<std::optional<std::string>> cached_view_store::get(std::string_view key) const {
  if (!enabled_.load(std::memory_order_acquire)) return inner_->get(key);
  std::optional<std::string> hit;
  if (lookup(key, hit)) return hit;
  const auto before = observe(key);
  auto v = inner_->get(key);
  if (v) keep(key, *v, before);
  return v;
}

// A page of documents: the values held answer, the rest are read from the store and not kept
// (pages over a store larger than the cache would only churn it: a site's asset page over 500k
// assets cost 20 % more server CPU when every page kept its documents).
result<std::vector<std::optional<std::string>>> cached_view_store::get_many(
    std::span<const std::string> keys) const {
  if (!enabled_.load(std::memory_order_acquire)) return inner_->get_many(keys);
  std::vector<std::optional<std::string>> out(keys.size());
  std::vector<std::size_t> missed;
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (lookup(keys[i], out[i])) continue;
    missed.push_back(i);
    missing.push_back(keys[i]);
  }
  if (missing.empty()) return out;
  auto read = inner_->get_many(missing);
  if (!read) return std::unexpected(read.error());
  for (std::size_t j = 0; j < missed.size(); ++j) out[missed[j]] = std::move((*read)[j]);
  return out;
}

result<void> cached_view_store::scan(std::string_view prefix, std::string_view after,
                                     const scan_fn& fn) const {
  return inner_->scan(prefix, after, fn);
}

// Until writes over the stripes in `mask` end, no read keeps what it read of them, and a read
// that began before keeps nothing either (the sequence moved).
void cached_view_store::writing(std::uint64_t mask, bool begins) const {
  static_assert(k_stripes <= 64, "one bit per stripe");
  for (auto bits = mask; bits != 0; bits &= bits - 1) {
    auto& s = stripes_[std::countr_zero(bits)];
    std::lock_guard lock(s.mu);
    s.writers = begins ? s.writers + 1 : s.writers - 1;
    ++s.seq;
  }
}

result<void> cached_view_store::commit(std::span<const write_op> ops) {
  if (!enabled_.load(std::memory_order_acquire)) return inner_->commit(ops);
  std::uint64_t touched = 0;
  for (const auto& op : ops) touched |= std::uint64_t{1} << stripe_of(op.key);
  writing(touched, true);
  for (const auto& op : ops) cache_->Erase(rocksdb::Slice(op.key));
  auto ok = inner_->commit(ops);
  writing(touched, false);
  return ok;
}

result<void> cached_view_store::clear() {
  if (!enabled_.load(std::memory_order_acquire)) return inner_->clear();
  constexpr auto all = ~std::uint64_t{0} >> (64 - k_stripes);
  writing(all, true);
  // Erase (unlike EraseUnRefEntries) also removes an entry a reader holds at this moment.
  std::vector<std::string> keys;
  cache_->ApplyToAllEntries([&](const rocksdb::Slice& key, void*, std::size_t,
                                rocksdb::Cache::DeleterFn) { keys.push_back(key.ToString()); },
                            {});
  for (const auto& k : keys) cache_->Erase(k);
  auto ok = inner_->clear();
  writing(all, false);
  return ok;
}

result<void> cached_view_store::seal() {
  auto ok = inner_->seal();
  if (ok && cache_->GetCapacity() > 0) enabled_.store(true, std::memory_order_release);
  return ok;
}

std::size_t cached_view_store::usage() const { return cache_->GetUsage(); }

}  // namespace fieldledger::infra

#include "infra/rocksdb_state_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>

#include <filesystem>

#include "infra/rocksdb_status.hpp"
#include "json/parse.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;

namespace {

// The encoder writes JSON text directly, without building a tree (that copied every field of
// the state first): members as "key":value, separated by commas.
struct json_out {
  std::string& out;
  bool first = true;

  void key(std::string_view k) {
    if (!first) out.push_back(',');
    first = false;
    write_json_string(k, out);
    out.push_back(':');
  }
  void text(std::string_view k, std::string_view v) {
    key(k);
    write_json_string(v, out);
  }
  void number(std::string_view k, std::int64_t v) {
    key(k);
    out += std::to_string(v);
  }
  void member(std::string_view k, const value& v) {
    key(k);
    write_json(v, out);
  }
  // {"at","by"} as a two-element array.
  void stamp(std::string_view k, const audit_stamp& s) {
    key(k);
    out.push_back('[');
    write_json_string(s.at, out);
    out.push_back(',');
    write_json_string(s.by, out);
    out.push_back(']');
  }
};

void write_owned(const owned_state& o, std::string& out) {
  out.push_back('{');
  json_out w{out};
  w.text("id", o.id.get());
  w.number("v", o.version.get());
  w.member("f", o.fields);
  w.stamp("c", o.created);
  w.stamp("m", o.modified);
  if (o.removed) {
    w.key("r");
    out += "true";
  }
  if (!o.parent.empty()) w.text("p", o.parent);
  out.push_back('}');
}

void write_entries(const std::map<std::string, owned_state, std::less<>>& m, std::string& out) {
  out.push_back('[');
  bool first = true;
  for (const auto& [id, o] : m) {
    if (!first) out.push_back(',');
    first = false;
    write_owned(o, out);
  }
  out.push_back(']');
}

std::unexpected<error> bad(std::string_view what) {
  return fail(errc::malformed, "a stored customer state is not readable: " + std::string(what));
}

result<audit_stamp> read_stamp(const value* v) {
  if (v == nullptr || !v->is_array() || v->as_array().size() != 2 ||
      !v->as_array()[0].is_string() || !v->as_array()[1].is_string()) {
    return bad("an audit stamp");
  }
  return audit_stamp{v->as_array()[0].as_string(), v->as_array()[1].as_string()};
}

// The created ("c") and modified ("m") stamps of an entry or a state.
result<void> read_stamps(const value& v, audit_stamp& created, audit_stamp& modified) {
  auto c = read_stamp(v.find("c"));
  if (!c) return std::unexpected(c.error());
  auto m = read_stamp(v.find("m"));
  if (!m) return std::unexpected(m.error());
  created = std::move(*c);
  modified = std::move(*m);
  return {};
}

std::int64_t int_at(const value& v, std::string_view key) {
  const value* x = v.find(key);
  return x != nullptr && x->is_int() ? x->as_int() : -1;
}

// Reads an entry of a parsed state, moving its fields out of it (the tree is the decoder's own).
result<owned_state> read_owned(value& v) {
  owned_state o;
  value* f = v.find("f");
  const auto version = int_at(v, "v");
  if (f == nullptr || version < 0 || v.string_at("id").empty()) {
    return bad("an entry");
  }
  o.id = contact_id{std::string(v.string_at("id"))};
  o.version = entity_version{version};
  o.fields = std::move(*f);
  const value* r = v.find("r");
  o.removed = r != nullptr && r->is_bool() && r->as_bool();
  o.parent = std::string(v.string_at("p"));
  if (auto ok = read_stamps(v, o.created, o.modified); !ok) return std::unexpected(ok.error());
  return o;
}

result<void> read_entries(value& v, std::string_view key,
                          std::map<std::string, owned_state, std::less<>>& into) {
  value* list = v.find(key);
  if (list == nullptr) return {};
  if (!list->is_array()) return bad(key);
  for (auto& e : list->as_array()) {
    auto o = read_owned(e);
    if (!o) return std::unexpected(o.error());
    auto id = o->id.get();
    into.emplace(std::move(id), std::move(*o));
  }
  return {};
}

// The maps of entries a state has, by the key each is stored under.
template <typename State>
auto entry_maps(State& st) {
  return std::array{std::pair{"contacts", &st.contacts}, std::pair{"sites", &st.sites},
                    std::pair{"assets", &st.assets},     std::pair{"parts", &st.parts},
                    std::pair{"notes", &st.notes},       std::pair{"work_orders", &st.work_orders},
                    std::pair{"files", &st.files},       std::pair{"systems", &st.systems}};
}

}  // namespace

std::string encode_state(const commands::stored_state& s) {
  const auto& st = s.state;
  std::string out;
  out.push_back('{');
  json_out w{out};
  w.number("events", static_cast<std::int64_t>(s.events));
  w.text("id", st.id.get());
  w.number("v", st.version.get());
  w.text("number", st.number);
  w.text("status", st.status);
  w.member("f", st.fields);
  w.text("primary", st.primary_contact);
  w.stamp("c", st.created);
  w.stamp("m", st.modified);
  for (const auto& [key, map] : entry_maps(st)) {
    if (map->empty()) continue;
    w.key(key);
    write_entries(*map, out);
  }
  if (!st.geofences.empty()) {
    w.key("geofences");
    out.push_back('{');
    json_out fences{out};
    for (const auto& [owner, fence] : st.geofences) fences.member(owner, fence);
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

result<commands::stored_state> decode_state(std::string_view text) {
  auto parsed = json::parse(text, {.max_depth = 64, .max_string_bytes = std::size_t{1} << 30});
  if (!parsed) return bad(parsed.error().detail);
  // The parsed tree is ours: fields and geofences are moved out of it, not copied.
  value& v = *parsed;
  const auto events = int_at(v, "events");
  const auto version = int_at(v, "v");
  value* f = v.find("f");
  if (events < 0 || version < 0 || f == nullptr) return bad("its header");
  commands::stored_state out;
  out.events = static_cast<std::uint64_t>(events);
  auto& st = out.state;
  st.id = customer_id{std::string(v.string_at("id"))};
  st.version = entity_version{version};
  st.number = std::string(v.string_at("number"));
  st.status = std::string(v.string_at("status"));
  st.fields = std::move(*f);
  st.primary_contact = std::string(v.string_at("primary"));
  if (auto ok = read_stamps(v, st.created, st.modified); !ok) return std::unexpected(ok.error());
  for (const auto& [key, map] : entry_maps(st)) {
    if (auto ok = read_entries(v, key, *map); !ok) return std::unexpected(ok.error());
  }
  if (value* fences = v.find("geofences")) {
    if (!fences->is_object()) return bad("geofences");
    for (auto& [owner, fence] : fences->as_object()) st.geofences.emplace(owner, std::move(fence));
  }
  return out;
}

struct rocksdb_state_store::impl {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write;
};

rocksdb_state_store::rocksdb_state_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
rocksdb_state_store::~rocksdb_state_store() = default;

result<std::unique_ptr<rocksdb_state_store>> rocksdb_state_store::open(
    const std::string& dir, std::size_t block_cache_bytes) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // a cache of the last process's states: not valid now
  if (ec) return fail(errc::internal, "cannot empty " + dir + ": " + ec.message());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = std::size_t{16} << 20;
  options.max_write_buffer_number = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return from_rocksdb(s, "open the write model's state store at " + dir);
  auto p = std::make_unique<impl>();
  p->db.reset(raw);
  p->write.disableWAL = true;  // lost with the process, as it should be
  return std::unique_ptr<rocksdb_state_store>(new rocksdb_state_store(std::move(p)));
}

result<void> rocksdb_state_store::put(const commands::stored_state& s) {
  const auto text = encode_state(s);
  const auto st = impl_->db->Put(impl_->write, s.state.id.get(), text);
  if (!st.ok()) return from_rocksdb(st, "store the state of customer " + s.state.id.get());
  return {};
}

result<std::optional<commands::stored_state>> rocksdb_state_store::get(const customer_id& id) {
  rocksdb::PinnableSlice text;
  const auto st =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(), id.get(), &text);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) return from_rocksdb(st, "read the state of customer " + id.get());
  auto decoded = decode_state(text.ToStringView());
  if (!decoded) return std::unexpected(decoded.error());
  return std::optional<commands::stored_state>(std::move(*decoded));
}

}  // namespace fieldledger::infra

#include "commands/write_model.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace fieldledger::commands {

using namespace fieldledger::domain;

namespace {

constexpr std::size_t k_restore_batch = 4096;

bool creates_entity(std::string_view type) {
  return type == event_types::customer_registered || type == event_types::contact_added ||
         type == event_types::site_added || type == event_types::asset_registered ||
         type == event_types::part_added || type == event_types::product_created ||
         // notes and work orders
         type == event_types::note_added || type == event_types::work_order_created ||
         // systems
         type == event_types::system_type_created || type == event_types::system_assigned ||
         type == event_types::file_attached;  // files
}

// Whether the event makes an entity a customer owns (a contact, site, asset, part, ...), whose
// owner the model indexes.
bool creates_owned(std::string_view type) {
  return creates_entity(type) && type != event_types::customer_registered &&
         type != event_types::product_created;
}

// Whether domain::evolve() applies the event to its customer's state (the catalogues' events
// change the model's own maps instead).
bool evolves_state(std::string_view type) {
  return !type.starts_with("picklist.") && !type.starts_with("product.") &&
         !type.starts_with("system-type.");
}

std::size_t entities_of(const customer_state& st) {
  return 1 + st.contacts.size() + st.sites.size() + st.assets.size() + st.parts.size() +
         st.notes.size() + st.work_orders.size() + st.files.size() + st.systems.size() +
         st.geofences.size();
}

// Calls fn for every event of log, partition after partition, in offset order.
template <typename F>
result<void> each_event(event_log& log, F&& fn) {
  for (std::uint32_t p = 0; p < log.partition_count(); ++p) {
    log_offset next{0};
    for (;;) {
      auto batch = log.read(partition_id{p}, next, k_restore_batch);
      if (!batch) return std::unexpected(batch.error());
      if (batch->empty()) break;
      for (const auto& re : *batch) fn(re);
      next = log_offset{batch->back().position.offset.get() + 1};
    }
  }
  return {};
}

// The kind of owned entity an event is about (as journaled), 0 for customer and catalogue
// events.
char owned_kind(std::string_view t) {
  return t.starts_with("contact.")      ? 'c'
         : t.starts_with("site.")       ? 's'
         : t.starts_with("asset.")      ? 'a'
         : t.starts_with("asset-part.") ? 'p'
         : t.starts_with("note.")       ? 'n'
         : t.starts_with("work-order.") ? 'w'
         : t.starts_with("system.")     ? 'y'  // systems
         : t.starts_with("file.")       ? 'f'  // files
                                        : 0;
}

// The map of owned entities of a kind other than 'c' (contacts have their own type).
template <typename State>
auto& owned_map(State& st, char kind) {
  return kind == 's'   ? st.sites
         : kind == 'a' ? st.assets
         : kind == 'n' ? st.notes
         : kind == 'w' ? st.work_orders
         : kind == 'y' ? st.systems  // systems
         : kind == 'f' ? st.files    // files
                       : st.parts;
}

std::string idempotency_slot(std::string_view actor, std::string_view key) {
  std::string slot(actor);
  slot.push_back('\n');
  slot.append(key);
  return slot;
}

std::int64_t number_value(std::string_view number) {
  std::int64_t n = 0;
  if (number.size() > 2) std::from_chars(number.data() + 2, number.data() + number.size(), n);
  return n;
}

// The job number of a work-order.created event ("WO-000042": 42).
std::int64_t work_order_number_value(const value& data) {
  const std::string_view number = data.string_at("number");
  std::int64_t n = 0;
  if (number.size() > 3) std::from_chars(number.data() + 3, number.data() + number.size(), n);
  return n;
}

}  // namespace

command_outcome make_outcome(const customer_state& state, const std::string& entity_id,
                             entity_version version, std::optional<log_position> position,
                             bool created) {
  command_outcome out;
  if (!state.exists() &&
      std::ranges::find(k_picklist_names, entity_id) != std::end(k_picklist_names)) {  // a picklist
    out.status = 200;
    out.location = "/v1/picklists/" + entity_id;
    out.entity_id = entity_id;
    out.version = version;
    out.position = position;
    out.body = object{{"name", entity_id},
                      {"version", version.get()},
                      {"position", position ? value(to_string(*position)) : value()}};
    return out;
  }
  if (!state.exists() && state.id.get() == k_system_types) {  // systems: the type catalogue
    out.status = created ? 201 : 200;
    out.location = "/v1/system-types/" + entity_id;
    out.entity_id = entity_id;
    out.version = version;
    out.position = position;
    out.body = object{{"id", entity_id},
                      {"version", version.get()},
                      {"position", position ? value(to_string(*position)) : value()}};
    return out;
  }
  if (!state.exists()) {  // only the product catalogue answers without a customer
    out.status = created ? 201 : 200;
    out.location = "/v1/products/" + entity_id;
    out.entity_id = entity_id;
    out.version = version;
    out.position = position;
    out.body = object{{"code", entity_id},
                      {"version", version.get()},
                      {"position", position ? value(to_string(*position)) : value()}};
    return out;
  }
  const bool is_customer = entity_id == state.id.get();
  out.status = created ? 201 : 200;
  const char* collection = is_customer                             ? "/v1/customers/"
                           : state.sites.contains(entity_id)       ? "/v1/sites/"
                           : state.assets.contains(entity_id)      ? "/v1/assets/"
                           : state.parts.contains(entity_id)       ? "/v1/asset-parts/"
                           : state.notes.contains(entity_id)       ? "/v1/notes/"
                           : state.work_orders.contains(entity_id) ? "/v1/work-orders/"
                                                                   : "/v1/contacts/";
  if (!is_customer && state.systems.contains(entity_id)) collection = "/v1/systems/";  // systems
  if (!is_customer && state.files.contains(entity_id)) collection = "/v1/files/";      // files
  out.location = collection + entity_id;
  out.entity_id = entity_id;
  out.version = version;
  out.position = position;
  object body{{"id", value(entity_id)},
              {"version", value(version.get())},
              {"position", position ? value(to_string(*position)) : value()}};
  if (is_customer) {
    body.emplace("number", value(state.number));
  } else if (const owned_state* wo = state.work_order(entity_id)) {
    body.emplace("customer_id", value(state.id.get()));
    body.emplace("number", value(std::string(wo->fields.string_at("number"))));
  } else {
    body.emplace("customer_id", value(state.id.get()));
  }
  out.body = value(std::move(body));
  return out;
}

void write_model::clear() {
  journal_ = journal{};
  customers_.clear();
  lru_.clear();
  held_customers_ = 0;
  held_entities_ = 0;
  loads_ = 0;
  evictions_ = 0;
  file_digests_.clear();
  owners_.clear();
  external_ids_.clear();
  serials_.clear();
  asset_serials_.clear();
  products_.clear();
  picklists_.clear();
  system_types_.clear();  // systems
  idempotency_.clear();
  idempotency_by_time_.clear();
  newest_event_at_ = 0;
  last_number_ = 0;
  reserved_number_ = 0;
  last_wo_number_ = 0;
  reserved_wo_number_ = 0;
}

result<void> write_model::restore(event_log& log) {
  clear();
  log_ = &log;
  // Every entity is made by an event: a log with no more events than the limit fits in it.
  std::uint64_t events = 0;
  for (std::uint32_t p = 0; p < log.partition_count(); ++p) {
    events += static_cast<std::uint64_t>(log.end_offset(partition_id{p}).get());
  }
  if (entity_limit_ > 0 && events > entity_limit_) return restore_limited(log);
  if (auto read = each_event(log, [this](const recorded_event& re) { apply(re); }); !read) {
    return read;
  }
  // The partitions are replayed one after the other, not in the order their events were
  // decided: an external id or serial that one customer gave up and one in an earlier
  // partition then took would be dropped by the replay of the later partition. The final
  // states say who holds each.
  external_ids_.clear();
  serials_.clear();
  asset_serials_.clear();
  file_digests_.clear();
  for (auto& s : customers_) index_final_state(s.second);
  return {};
}

void write_model::index_final_state(const customer_entry& entry) {
  const auto& st = *entry.state;
  if (!st.exists()) return;
  if (const auto ext = st.fields.string_at("external_id"); !ext.empty()) {
    external_ids_.insert_or_assign(std::string(ext), st.id.get());
  }
  for (const auto& [id, asset] : st.assets) {
    std::string serial(asset.fields.string_at("serial_no"));
    if (serial.empty()) continue;
    serials_.insert_or_assign(serial, id);
    asset_serials_.insert_or_assign(id, std::move(serial));
  }
  for (const auto& [id, f] : st.files) {
    if (!f.removed) file_digests_.insert_or_assign(id, std::string(f.fields.string_at("sha256")));
  }
}

// Under a limit, replaying the log in its order would read a customer back for nearly every
// event once the customers outnumber the limit. Instead: a first pass over the log records
// each customer's offsets (and applies the catalogues, the owners and the numbers, which do
// not need a customer's state); then each customer is read back once, in the order it first
// appears, its indexes taken from its final state, and evicted as the limit requires. The
// indexes equal the ones the log's order makes because every command kept them unique: each
// external id and serial belongs, at the end, to the one customer or asset whose final state
// has it.
result<void> write_model::restore_limited(event_log& log) {
  std::vector<slot*> order;
  auto read = each_event(log, [&](const recorded_event& re) {
    const auto& e = re.e;
    if (!evolves_state(e.type)) {
      apply(re);
      return;
    }
    newest_event_at_ = std::max(newest_event_at_, seconds_of(e.time));
    auto [it, fresh] = customers_.try_emplace(e.customer.get());
    if (fresh) order.push_back(&*it);
    it->second.last = re.position;
    it->second.offsets.push_back(re.position.offset.get());
    if (creates_owned(e.type)) owners_.insert_or_assign(e.entity_id, e.customer.get());
    if (e.type == event_types::work_order_created) {
      last_wo_number_ = std::max(last_wo_number_, work_order_number_value(e.data));
    }
  });
  if (!read) return read;
  forget_old_idempotency_keys();
  for (slot* s : order) {
    if (s->second.state) continue;  // a catalogue's entry (never evicted)
    if (auto loaded = load_entry(*s, true); !loaded) return loaded;
    index_final_state(s->second);
    last_number_ = std::max(last_number_, number_value(s->second.state->number));
    trim();
  }
  return {};
}

write_model::slot& write_model::entry_of(const std::string& id) {
  auto [it, fresh] = customers_.try_emplace(id);
  if (fresh) {
    it->second.state = std::make_unique<customer_state>();
    ++held_customers_;
  }
  return *it;
}

void write_model::hold(slot& s) {
  if (s.second.state) return;
  if (auto held = load_entry(s); !held) {
    // The pipeline loads every customer it decides against or evolves before it does.
    std::fprintf(stderr, "write model: customer %s was not loaded: %s\n", s.first.c_str(),
                 held.error().detail.c_str());
    std::abort();
  }
}

result<void> write_model::load(const customer_id& id) {
  auto it = customers_.find(id.get());
  if (it == customers_.end()) return {};
  if (!it->second.state) return load_entry(*it);
  if (it->second.linked) lru_.splice(lru_.begin(), lru_, it->second.lru);  // most recently used
  return {};
}

result<void> write_model::load_entry(slot& s, bool restoring) {
  auto& entry = s.second;
  if (log_ == nullptr || !entry.last) {
    return fail(errc::internal,
                "customer " + s.first + " was evicted without a log to read it from");
  }
  auto st = std::make_unique<customer_state>();
  st->id = customer_id{s.first};
  const auto& offsets = entry.offsets;
  std::size_t first = 0;  // the first of offsets to read from the log
  if (store_ != nullptr && !restoring) {
    auto stored = store_->get(st->id);
    if (!stored) {
      ++store_failures_;
    } else if (*stored && (*stored)->events <= offsets.size() && (*stored)->state.id == st->id) {
      *st = std::move((*stored)->state);
      first = (*stored)->events;
      ++from_store_;
    }
  }
  const partition_id p = entry.last->partition;
  // Runs of consecutive offsets, each read as a whole (a read may answer fewer than asked).
  for (std::size_t i = first; i < offsets.size();) {
    std::size_t j = i + 1;
    while (j < offsets.size() && offsets[j] == offsets[j - 1] + 1) ++j;
    const std::int64_t last = offsets[j - 1];
    for (std::int64_t next = offsets[i]; next <= last;) {
      auto run = log_->read_shared(p, log_offset{next}, static_cast<std::size_t>(last - next + 1));
      if (!run) return std::unexpected(run.error());
      if (run->empty()) {
        return fail(errc::internal, "the log ends before event " + std::to_string(next) +
                                        " of customer " + s.first);
      }
      for (const auto& re : *run) {
        if (re->position.offset.get() > last) break;
        if (re->e.customer.get() == s.first && evolves_state(re->e.type)) {
          domain::evolve(*st, re->e);
          if (restoring) remember_key(re->e, re->position, *st);
        }
      }
      next = run->back()->position.offset.get() + 1;
    }
    i = j;
  }
  entry.state = std::move(st);
  ++held_customers_;
  ++loads_;
  refresh(s);
  return {};
}

void write_model::refresh(slot& s) {
  auto& entry = s.second;
  const auto& st = *entry.state;
  entry.exists = st.exists();
  if (const auto parent = st.fields.string_at("parent_id"); entry.parent != parent) {
    entry.parent.assign(parent);
  }
  const std::size_t weight = entities_of(st);
  held_entities_ = held_entities_ - entry.weight + weight;
  entry.weight = weight;
  if (entity_limit_ == 0 || !entry.exists) return;  // the catalogues' entries stay
  if (entry.linked) {
    lru_.splice(lru_.begin(), lru_, entry.lru);
  } else {
    lru_.push_front(&s);
    entry.lru = lru_.begin();
    entry.linked = true;
  }
}

void write_model::erase_customer(const std::string& id) {
  auto it = customers_.find(id);
  if (it == customers_.end()) return;
  auto& entry = it->second;
  if (entry.linked) lru_.erase(entry.lru);
  held_entities_ -= entry.weight;
  if (entry.state) --held_customers_;
  customers_.erase(it);
}

void write_model::trim() {
  if (entity_limit_ == 0) return;
  while (held_entities_ > entity_limit_ && !lru_.empty()) {
    auto& entry = lru_.back()->second;
    lru_.pop_back();
    entry.linked = false;
    held_entities_ -= entry.weight;
    entry.weight = 0;
    if (store_ != nullptr) {
      // Every event the state has applied has settled (a batch does not evict).
      if (!store_->put(stored_state{std::move(*entry.state), entry.offsets.size()})) {
        ++store_failures_;
      }
    }
    entry.state.reset();
    --held_customers_;
    ++evictions_;
  }
}

void write_model::apply(const recorded_event& re) {
  evolve(re.e);
  settle(re.e, re.position);
}

void write_model::set_index(index& idx, const std::string& key, std::optional<std::string> v) {
  auto it = idx.find(key);
  if (journal_.active) {
    journal_.index_ops.emplace_back(
        &idx, key, it == idx.end() ? std::nullopt : std::optional<std::string>(it->second));
  }
  if (v) {
    idx.insert_or_assign(key, std::move(*v));
  } else if (it != idx.end()) {
    idx.erase(it);
  }
}

void write_model::begin_batch() {
  trim();  // between batches: every state the last one touched has settled
  journal_ = journal{};
  journal_.active = true;
  journal_.last_number = last_number_;
  journal_.reserved_number = reserved_number_;
  journal_.last_wo_number = last_wo_number_;
}

void write_model::rollback_batch() {
  if (!journal_.active) return;
  for (auto it = journal_.index_ops.rbegin(); it != journal_.index_ops.rend(); ++it) {
    auto& [idx, key, old] = *it;
    if (old) {
      idx->insert_or_assign(key, *old);
    } else {
      idx->erase(key);
    }
  }
  for (auto it = journal_.entries.rbegin(); it != journal_.entries.rend(); ++it) {
    auto c = customers_.find(it->customer);
    if (c == customers_.end() || !c->second.state) continue;
    auto& st = *c->second.state;
    if (it->kind == 'c') {
      if (it->contact) {
        st.contacts.insert_or_assign(it->id, std::move(*it->contact));
      } else {
        st.contacts.erase(it->id);
      }
      continue;
    }
    auto& m = owned_map(st, it->kind);
    if (it->owned) {
      m.insert_or_assign(it->id, std::move(*it->owned));
    } else {
      m.erase(it->id);
    }
  }
  for (auto& [id, saved] : journal_.customers) {
    if (!saved) {
      erase_customer(id);
      continue;
    }
    auto& s = entry_of(id);
    hold(s);  // touched in this batch, so held
    auto& entry = s.second;
    auto& st = *entry.state;
    st.id = saved->id;
    st.version = saved->version;
    st.number = std::move(saved->number);
    st.status = std::move(saved->status);
    st.fields = std::move(saved->fields);
    st.primary_contact = std::move(saved->primary_contact);
    st.created = std::move(saved->created);
    st.modified = std::move(saved->modified);
    entry.last = saved->last;
    st.geofences = std::move(saved->geofences);  // geofences
    refresh(s);
  }
  for (auto& [name, saved] : journal_.picklists) {
    if (saved) {
      picklists_.insert_or_assign(name, std::move(*saved));
    } else {
      picklists_.erase(name);
    }
  }
  for (auto& [code, saved] : journal_.products) {
    if (saved) {
      products_.insert_or_assign(code, std::move(*saved));
    } else {
      products_.erase(code);
    }
  }
  for (auto& [id, saved] : journal_.system_types) {  // systems
    if (saved) {
      system_types_.insert_or_assign(id, std::move(*saved));
    } else {
      system_types_.erase(id);
    }
  }
  last_number_ = journal_.last_number;
  last_wo_number_ = journal_.last_wo_number;
  // Numbers handed out to the failed batch are not reused: a retry gets a fresh one, which
  // keeps numbers unique even if an unacknowledged append did land after all.
  journal_ = journal{};
}

void write_model::end_batch() { journal_ = journal{}; }

void write_model::journal_touch(const event& e) {
  const std::string& cid = e.customer.get();
  const auto it = customers_.find(cid);
  auto [first, fresh] = journal_.customers.try_emplace(cid);
  if (fresh && it != customers_.end()) {
    const auto& st = *it->second.state;
    first->second = customer_scalars{st.id,      st.version,  st.number,
                                     st.status,  st.fields,   st.primary_contact,
                                     st.created, st.modified, it->second.last};
    first->second->geofences = st.geofences;  // geofences
  }
  if (!first->second) return;  // new in this batch: a rollback erases it whole
  const char kind = owned_kind(e.type);
  if (kind == 0) return;  // customer.* events change only what customer_scalars holds
  std::string seen = cid;
  seen += '\n';
  seen += kind;
  seen += e.entity_id;
  if (!journal_.entries_seen.try_emplace(std::move(seen), true).second) return;
  entry_undo undo{cid, kind, e.entity_id, std::nullopt, std::nullopt};
  const auto& st = *it->second.state;
  if (kind == 'c') {
    if (auto c = st.contacts.find(e.entity_id); c != st.contacts.end()) undo.contact = c->second;
  } else {
    const auto& m = owned_map(st, kind);
    if (auto o = m.find(e.entity_id); o != m.end()) undo.owned = o->second;
  }
  journal_.entries.push_back(std::move(undo));
}

void write_model::evolve(const event& e) {
  if (e.type.starts_with("picklist.")) {
    if (journal_.active && !journal_.picklists.contains(e.entity_id)) {
      auto it = picklists_.find(e.entity_id);
      journal_.picklists.emplace(e.entity_id, it == picklists_.end()
                                                  ? std::nullopt
                                                  : std::optional<picklist_state>(it->second));
    }
    domain::evolve_picklist(picklists_[e.entity_id], e);
    return;
  }
  if (e.type.starts_with("product.")) {
    if (journal_.active && !journal_.products.contains(e.entity_id)) {
      auto it = products_.find(e.entity_id);
      journal_.products.emplace(e.entity_id, it == products_.end()
                                                 ? std::nullopt
                                                 : std::optional<owned_state>(it->second));
    }
    domain::evolve_product(products_[e.entity_id], e);
    return;
  }
  if (e.type.starts_with("system-type.")) {  // systems: the type catalogue, like products
    if (journal_.active && !journal_.system_types.contains(e.entity_id)) {
      auto it = system_types_.find(e.entity_id);
      journal_.system_types.emplace(e.entity_id, it == system_types_.end()
                                                     ? std::nullopt
                                                     : std::optional<owned_state>(it->second));
    }
    domain::evolve_system_type(system_types_[e.entity_id], e);
    // The catalogue's pseudo customer is named, so that answers know it (make_outcome).
    if (auto& st = *entry_of(e.customer.get()).second.state; st.id.get().empty()) {
      st.id = e.customer;
    }
    return;
  }
  if (journal_.active) {
    // A journal copies what the customer was: an evicted one is read back first.
    if (auto it = customers_.find(e.customer.get()); it != customers_.end()) hold(*it);
    journal_touch(e);
  }
  auto& s = entry_of(e.customer.get());
  hold(s);
  auto& state = *s.second.state;
  if (state.id.get().empty()) state.id = e.customer;
  const std::string old_external(state.fields.string_at("external_id"));
  domain::evolve(state, e);
  refresh(s);
  const std::string new_external(state.fields.string_at("external_id"));
  if (old_external != new_external) {
    if (auto it = external_ids_.find(old_external);
        it != external_ids_.end() && it->second == e.customer.get()) {
      set_index(external_ids_, old_external, std::nullopt);
    }
    if (!new_external.empty()) set_index(external_ids_, new_external, e.customer.get());
  }
  if (creates_owned(e.type)) set_index(owners_, e.entity_id, e.customer.get());
  if (e.type.starts_with("asset.")) {
    // The serial index follows the asset's serial number; a retired asset keeps its serial.
    if (auto a = state.assets.find(e.entity_id); a != state.assets.end()) {
      const std::string serial(a->second.fields.string_at("serial_no"));
      const auto held_it = asset_serials_.find(e.entity_id);
      const std::string held = held_it == asset_serials_.end() ? std::string() : held_it->second;
      if (held != serial) {
        if (auto it = serials_.find(held); it != serials_.end() && it->second == e.entity_id) {
          set_index(serials_, held, std::nullopt);
        }
        if (!serial.empty()) set_index(serials_, serial, e.entity_id);
        set_index(asset_serials_, e.entity_id, serial);
      }
    }
  }
  if (e.type.starts_with("file.")) {
    // The digests of live files (what blob collection keeps).
    if (auto f = state.files.find(e.entity_id); f != state.files.end() && !f->second.removed) {
      const std::string digest(f->second.fields.string_at("sha256"));
      if (auto held = file_digests_.find(e.entity_id);
          held == file_digests_.end() || held->second != digest) {
        set_index(file_digests_, e.entity_id, digest);
      }
    } else if (file_digests_.contains(e.entity_id)) {
      set_index(file_digests_, e.entity_id, std::nullopt);
    }
  }
  if (e.type == event_types::customer_registered) {
    last_number_ = std::max(last_number_, number_value(state.number));
  }
  if (e.type == event_types::work_order_created) {
    last_wo_number_ = std::max(last_wo_number_, work_order_number_value(e.data));
  }
}

void write_model::settle(const event& e, const log_position& pos) {
  auto& s = entry_of(e.customer.get());  // for the catalogue: its last position only
  auto& entry = s.second;
  entry.last = pos;
  if (entity_limit_ > 0 && evolves_state(e.type)) entry.offsets.push_back(pos.offset.get());
  const auto at = seconds_of(e.time);
  if (at > newest_event_at_) {
    newest_event_at_ = at;
    forget_old_idempotency_keys();
  }
  hold(s);  // evolved in this batch (or just restored), so held
  remember_key(e, pos, *entry.state);
}

// The idempotency record of an event's command, from its customer's state after the event.
void write_model::remember_key(const event& e, const log_position& pos,
                               const customer_state& state) {
  if (e.idempotency_key.empty()) return;
  const auto at = seconds_of(e.time);
  if (at < newest_event_at_ - idempotency_retention_.count()) return;  // already past it
  auto key = idempotency_slot(e.actor, e.idempotency_key);
  auto& rec = idempotency_[key];
  // A command's events share its correlation id; its answer is about its last event, with
  // the status of its first (201 when that created the entity).
  const bool first_of_command = rec.correlation_id != e.correlation_id;
  if (first_of_command) {
    rec.at = at;
    idempotency_by_time_.emplace(at, std::move(key));
  }
  const bool created = first_of_command ? creates_entity(e.type) : rec.outcome.status == 201;
  rec.request_digest = e.request_digest;
  rec.correlation_id = e.correlation_id;
  rec.outcome = make_outcome(state, e.entity_id, e.version, pos, created);
  rec.outcome.replayed = true;
}

// Seconds since the epoch of an event's RFC 3339 UTC time ("2026-11-23T18:19:02.123Z"); 0 when
// it does not parse (such a record is the first to go).
std::int64_t write_model::seconds_of(std::string_view time) {
  // "YYYY-MM-DDTHH:MM:SS": fixed places, digits only.
  if (time.size() < 19 || time[4] != '-' || time[7] != '-' || time[10] != 'T' || time[13] != ':' ||
      time[16] != ':') {
    return 0;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  const auto field = [&](std::size_t at, std::size_t n, int& out) {
    const auto [end, ec] = std::from_chars(time.data() + at, time.data() + at + n, out);
    return ec == std::errc{} && end == time.data() + at + n;
  };
  if (!field(0, 4, y) || !field(5, 2, mo) || !field(8, 2, d) || !field(11, 2, h) ||
      !field(14, 2, mi) || !field(17, 2, sec)) {
    return 0;
  }
  const auto days = std::chrono::sys_days(std::chrono::year(y) / mo / d).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::seconds>(days).count() + h * 3600 + mi * 60 + sec;
}

// Drops the idempotency records of commands older than the retention before the newest event.
void write_model::forget_old_idempotency_keys() {
  const auto cutoff = newest_event_at_ - idempotency_retention_.count();
  auto it = idempotency_by_time_.begin();
  for (; it != idempotency_by_time_.end() && it->first < cutoff; ++it) {
    auto rec = idempotency_.find(it->second);
    // The slot may have been taken again since (a retry after expiry): keep the newer record.
    if (rec != idempotency_.end() && rec->second.at == it->first) idempotency_.erase(rec);
  }
  idempotency_by_time_.erase(idempotency_by_time_.begin(), it);
}

std::optional<customer_id> write_model::owner_of(std::string_view contact_id) const {
  auto it = owners_.find(std::string(contact_id));
  if (it == owners_.end()) return std::nullopt;
  return customer_id{it->second};
}

const customer_state& write_model::customer(const customer_id& id) const {
  static const customer_state k_empty{};
  // The model is the writer thread's alone and never const itself: loading an evicted state
  // is not a change of what it answers.
  auto& self = const_cast<write_model&>(*this);
  auto it = self.customers_.find(id.get());
  if (it == self.customers_.end()) return k_empty;
  if (!it->second.state && !self.load_entry(*it)) return k_empty;
  return *it->second.state;
}

std::optional<log_position> write_model::last_position(const customer_id& id) const {
  auto it = customers_.find(id.get());
  return it == customers_.end() ? std::nullopt : it->second.last;
}

const idempotency_record* write_model::idempotency(std::string_view actor,
                                                   std::string_view key) const {
  auto it = idempotency_.find(idempotency_slot(actor, key));
  return it == idempotency_.end() ? nullptr : &it->second;
}

std::optional<customer_id> write_model::external_id_owner(std::string_view external_id) const {
  auto it = external_ids_.find(std::string(external_id));
  if (it == external_ids_.end()) return std::nullopt;
  return customer_id{it->second};
}

bool write_model::customer_exists(const customer_id& id) const {
  auto it = customers_.find(id.get());
  return it != customers_.end() && it->second.exists;
}

std::optional<std::string> write_model::serial_owner(std::string_view serial) const {
  auto it = serials_.find(std::string(serial));
  if (it == serials_.end()) return std::nullopt;
  return it->second;
}

std::optional<customer_id> write_model::parent_of(const customer_id& id) const {
  auto it = customers_.find(id.get());
  if (it == customers_.end() || it->second.parent.empty()) return std::nullopt;
  return customer_id{it->second.parent};
}

const owned_state* write_model::product(std::string_view code) const {
  auto it = products_.find(std::string(code));
  return it == products_.end() ? nullptr : &it->second;
}

const picklist_state* write_model::picklist(std::string_view name) const {
  auto it = picklists_.find(std::string(name));
  return it == picklists_.end() ? nullptr : &it->second;
}

std::string write_model::new_entity_id() { return new_id(); }

std::vector<std::string> write_model::live_file_digests() const {
  std::vector<std::string> out;
  out.reserve(file_digests_.size());
  for (const auto& [id, digest] : file_digests_) out.push_back(digest);
  return out;
}

std::string write_model::next_customer_number() {
  reserved_number_ = std::max(reserved_number_, last_number_) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "C-%06lld", static_cast<long long>(reserved_number_));
  return buf;
}

std::string write_model::next_work_order_number() {
  reserved_wo_number_ = std::max(reserved_wo_number_, last_wo_number_) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "WO-%06lld", static_cast<long long>(reserved_wo_number_));
  return buf;
}

// ---- systems ----------------------------------------------------------------------------------

const owned_state* write_model::system_type(std::string_view id) const {
  auto it = system_types_.find(std::string(id));
  return it == system_types_.end() ? nullptr : &it->second;
}

result<std::string> write_model::seal(std::string_view plaintext,
                                      std::string_view associated_data) {
  if (secrets_ == nullptr) return decide_env::seal(plaintext, associated_data);
  return secrets_->seal(plaintext, associated_data);
}

}  // namespace fieldledger::commands

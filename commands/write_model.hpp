#pragma once
// The write model: the state commands are decided against. Derived from the log only:
// restore() replays it before commands are accepted; the pipeline applies each durable batch.
// Owned by the writer thread: not thread-safe.
//
// Memory: the indexes (owners, external ids, serials, files) and, per customer, a few scalars
// and the offsets of its events are always held; the customers' states (their contacts, sites,
// assets, parts, notes, ...) are held up to a limit of entities (set_entity_limit), least
// recently used first out, and read back when a command needs one that is not held: from a
// state store if one is set (set_state_store) plus the events since, else from the customer's
// events in the log.
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "commands/outcome.hpp"
#include "commands/state_store.hpp"
#include "domain/customer.hpp"
#include "domain/event_log.hpp"
#include "domain/secret.hpp"

namespace fieldledger::commands {

struct idempotency_record {
  std::int64_t at = 0;  // seconds since the epoch of the command's events (their "time")
  std::string request_digest;
  std::string correlation_id;  // the command that made the record
  command_outcome outcome;     // its first answer (replayed = true)
};

class write_model final : public domain::decide_env {
 public:
  // Replays every partition of log from the start. Clears what was there. The model reads
  // evicted customers back from this log: it must outlive the model.
  [[nodiscard]] domain::result<void> restore(domain::event_log& log);

  // At most this many entities (customers and their contacts, sites, assets, parts, notes,
  // work orders, files, systems and geofences) held in customer states between batches; 0: no
  // limit (the default). A batch may go over it while it runs. Set it before restore().
  void set_entity_limit(std::size_t entities) noexcept { entity_limit_ = entities; }
  // Where evicted states go (not owned; must outlive the model): reading one back is then a
  // lookup plus the customer's events since it was put. Without one, or when the store fails,
  // a state is read back from the log alone.
  void set_state_store(state_store* store) noexcept { store_ = store; }
  // Makes the state of customer id held (reading it back from the log if it was evicted), so
  // that customer() answers it. A no-op for a held or unknown customer. The pipeline calls it
  // before deciding against a customer; an error is the log's (nothing changed).
  [[nodiscard]] domain::result<void> load(const domain::customer_id& id);

  struct memory_stats {
    std::size_t held_customers = 0, held_entities = 0;
    std::uint64_t loads = 0, evictions = 0;  // since restore()
    std::uint64_t from_store = 0;            // loads that started from a stored state
    std::uint64_t store_failures = 0;        // puts and gets that failed (the log answered instead)
  };
  memory_stats memory() const noexcept {
    return {held_customers_, held_entities_, loads_, evictions_, from_store_, store_failures_};
  }

  // Applies one durable event (in log order per customer): evolve() then settle().
  void apply(const domain::recorded_event& re);

  // The two halves of apply(), for the pipeline: evolve() applies an event decided in the
  // current batch before its position is known, so that later commands of the batch see it;
  // settle() records the position once the append succeeded.
  void evolve(const domain::event& e);
  void settle(const domain::event& e, const domain::log_position& pos);

  // A batch's tentative changes: between begin_batch() and end_batch(), evolve() journals what
  // it changes, and rollback_batch() puts the model back as it was at begin_batch() — so a
  // failed append is undone without reading the log (which may be what is failing).
  void begin_batch();
  void rollback_batch();
  void end_batch();

  // The customer owning a contact, site, asset or part, if known.
  std::optional<domain::customer_id> owner_of(std::string_view entity_id) const;
  // The state of a customer; an empty state when unknown. One that is not held is loaded
  // first (load()); if the log cannot be read, an empty state.
  const domain::customer_state& customer(const domain::customer_id& id) const;
  // The latest log position of a customer's events.
  std::optional<domain::log_position> last_position(const domain::customer_id& id) const;

  const idempotency_record* idempotency(std::string_view actor, std::string_view key) const;

  // decide_env
  std::optional<domain::customer_id> external_id_owner(std::string_view external_id) const override;
  bool customer_exists(const domain::customer_id& id) const override;
  std::string new_entity_id() override;
  std::string next_customer_number() override;
  std::string next_work_order_number() override;
  std::optional<std::string> serial_owner(std::string_view serial) const override;
  std::optional<domain::customer_id> parent_of(const domain::customer_id& id) const override;
  const domain::owned_state* product(std::string_view code) const override;
  const domain::picklist_state* picklist(std::string_view name) const override;

  std::size_t customer_count() const noexcept { return customers_.size(); }

  // ---- systems
  // The key that seals secret values (not owned; must outlive the model). Without one, a
  // command that stores a secret answers unavailable.
  void set_secrets(const domain::secret_box* box) noexcept { secrets_ = box; }

  // How long an Idempotency-Key is remembered, counted in the log's own time: a record is
  // dropped once an event more than this newer than its command has settled (restore() drops
  // the same ones, so the model stays a function of the log). Default 24 h. Set it before
  // restore().
  void set_idempotency_retention(std::chrono::seconds retention) noexcept {
    idempotency_retention_ = retention;
  }
  std::size_t idempotency_records() const noexcept { return idempotency_.size(); }
  const domain::owned_state* system_type(std::string_view id) const override;
  domain::result<std::string> seal(std::string_view plaintext,
                                   std::string_view associated_data) override;
  // files: the SHA-256 digests of every file not removed (the blobs garbage collection keeps).
  std::vector<std::string> live_file_digests() const;

 private:
  struct customer_entry {
    std::unique_ptr<domain::customer_state> state;  // null: evicted; load() reads it back
    std::optional<domain::log_position> last;
    // What load() replays: the offsets (in the customer's partition) of the events that
    // domain::evolve() applied to the state. Kept only under an entity limit.
    std::vector<std::int64_t> offsets;
    // Mirrors of the state, for the checks that must not load it.
    bool exists = false;
    std::string parent;      // fields.parent_id
    std::size_t weight = 0;  // entities of the state while held
    bool linked = false;     // in lru_ (held customers that exist)
    std::list<std::pair<const std::string, customer_entry>*>::iterator lru;
  };
  using slot = std::pair<const std::string, customer_entry>;  // a node of customers_
  // The entry of id, created (held, with an empty state) if unknown.
  slot& entry_of(const std::string& id);
  // Loads the state if it was evicted; aborts if that fails (the pipeline loads every customer
  // it decides against or evolves first, and a batch does not evict).
  void hold(slot& s);
  // Reads the customer's events back and evolves a new state from them; restoring, it also
  // makes the idempotency records of their commands.
  domain::result<void> load_entry(slot& s, bool restoring = false);
  domain::result<void> restore_limited(domain::event_log& log);
  // Sets the external-id, serial and file indexes from a customer's final state.
  void index_final_state(const customer_entry& entry);
  void remember_key(const domain::event& e, const domain::log_position& pos,
                    const domain::customer_state& state);
  // Updates the mirrors, the weight and the place in lru_ after the state changed.
  void refresh(slot& s);
  void erase_customer(const std::string& id);
  // Evicts least recently used states until the held entities are within the limit.
  void trim();
  void clear();
  using index = std::unordered_map<std::string, std::string>;
  // Sets (or, with nullopt, erases) index[key], journaling the old value during a batch.
  void set_index(index& idx, const std::string& key, std::optional<std::string> v);

  // What a customer was at its first touch in a batch, apart from its contacts, sites, assets
  // and parts (those are journaled entry by entry, so a batch never copies a whole customer).
  struct customer_scalars {
    domain::customer_id id;
    domain::entity_version version{0};
    std::string number, status;
    domain::value fields;
    std::string primary_contact;
    domain::audit_stamp created, modified;
    std::optional<domain::log_position> last;
    std::map<std::string, domain::value, std::less<>> geofences;  // the customer's and its sites'
  };
  // One contact, site, asset or part as it was at its first touch in a batch.
  struct entry_undo {
    std::string customer;
    char kind = 0;  // 'c'ontact, 's'ite, 'a'sset, 'p'art, 'n'ote, 'w'ork order, s'y'stem, 'f'ile
    std::string id;
    std::optional<domain::contact_state> contact;
    std::optional<domain::owned_state> owned;
  };
  void journal_touch(const domain::event& e);

  struct journal {
    bool active = false;
    // First touch of each customer; nullopt: it did not exist (a rollback erases it whole).
    std::unordered_map<std::string, std::optional<customer_scalars>> customers;
    std::vector<entry_undo> entries;
    std::unordered_map<std::string, bool> entries_seen;  // customer + kind + id
    std::unordered_map<std::string, std::optional<domain::owned_state>> products;
    std::vector<std::tuple<index*, std::string, std::optional<std::string>>> index_ops;
    std::int64_t last_number = 0, reserved_number = 0;
    std::int64_t last_wo_number = 0;
    std::unordered_map<std::string, std::optional<domain::picklist_state>> picklists;
    std::unordered_map<std::string, std::optional<domain::owned_state>> system_types;  // systems
  };
  journal journal_;

  std::unordered_map<std::string, customer_entry> customers_;
  std::list<slot*> lru_;  // the held customers that exist, most recently used first
  std::size_t held_customers_ = 0, held_entities_ = 0;
  std::uint64_t loads_ = 0;
  std::uint64_t evictions_ = 0;
  std::size_t entity_limit_ = 0;
  state_store* store_ = nullptr;
  std::uint64_t from_store_ = 0, store_failures_ = 0;
  domain::event_log* log_ = nullptr;
  std::unordered_map<std::string, std::string> file_digests_;  // live file id -> sha256
  std::unordered_map<std::string, std::string> owners_;  // contact/site/asset/part id -> customer
  std::unordered_map<std::string, std::string> external_ids_;          // external id -> customer id
  std::unordered_map<std::string, std::string> serials_;               // serial no -> asset id
  std::unordered_map<std::string, std::string> asset_serials_;         // asset id -> serial no
  std::unordered_map<std::string, domain::owned_state> products_;      // by product code
  std::unordered_map<std::string, domain::picklist_state> picklists_;  // by list name
  std::unordered_map<std::string, idempotency_record> idempotency_;    // actor + '\n' + key
  static std::int64_t seconds_of(std::string_view time);
  void forget_old_idempotency_keys();
  std::multimap<std::int64_t, std::string> idempotency_by_time_;  // at -> slot
  std::int64_t newest_event_at_ = 0;                              // seconds, of any event
  std::chrono::seconds idempotency_retention_{std::chrono::hours(24)};
  std::int64_t last_number_ = 0;      // highest customer number in the model
  std::int64_t reserved_number_ = 0;  // highest number handed to a decision
  // The same for work-order numbers ("WO-000001").
  std::int64_t last_wo_number_ = 0;
  std::int64_t reserved_wo_number_ = 0;
  // systems
  std::unordered_map<std::string, domain::owned_state> system_types_;  // by type id
  const domain::secret_box* secrets_ = nullptr;
};

}  // namespace fieldledger::commands

#include "commands/pipeline.hpp"

#include <algorithm>

#include <pthread.h>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace fieldledger::commands {

using namespace fieldledger::domain;

namespace {

// Commands submitted together: kept together in one group commit.
struct group_info {
  std::size_t size = 0;
  bool atomic = false;
};

struct queued {
  command cmd;
  command_meta meta;
  command_callback done;
  std::shared_ptr<const group_info> group;  // set on each command of a group, null otherwise
};

// The customer a command is decided against, or not_found for an unknown contact.
result<customer_id> target_customer(const command& cmd, const write_model& model) {
  struct visitor {
    const write_model& model;
    result<customer_id> owner(const std::string& id, std::string_view what) const {
      if (auto owner = model.owner_of(id)) return *owner;
      return fail(errc::not_found, "no " + std::string(what) + " with id \"" + id + "\"");
    }
    result<customer_id> contact_owner(const contact_id& id) const {
      return owner(id.get(), "contact");
    }
    result<customer_id> operator()(const register_customer&) const { return customer_id{}; }
    result<customer_id> operator()(const change_customer& c) const { return c.id; }
    result<customer_id> operator()(const deactivate_customer& c) const { return c.id; }
    result<customer_id> operator()(const reactivate_customer& c) const { return c.id; }
    result<customer_id> operator()(const archive_customer& c) const { return c.id; }
    result<customer_id> operator()(const add_contact& c) const { return c.customer; }
    result<customer_id> operator()(const change_contact& c) const { return contact_owner(c.id); }
    result<customer_id> operator()(const remove_contact& c) const { return contact_owner(c.id); }
    result<customer_id> operator()(const make_primary_contact& c) const {
      return contact_owner(c.id);
    }
    result<customer_id> operator()(const add_site& c) const { return c.customer; }
    result<customer_id> operator()(const change_site& c) const { return owner(c.id.get(), "site"); }
    result<customer_id> operator()(const remove_site& c) const { return owner(c.id.get(), "site"); }
    result<customer_id> operator()(const register_asset& c) const { return c.customer; }
    result<customer_id> operator()(const change_asset& c) const {
      return owner(c.id.get(), "asset");
    }
    result<customer_id> operator()(const move_asset& c) const { return owner(c.id.get(), "asset"); }
    result<customer_id> operator()(const retire_asset& c) const {
      return owner(c.id.get(), "asset");
    }
    result<customer_id> operator()(const add_part& c) const {
      return owner(c.asset.get(), "asset");
    }
    result<customer_id> operator()(const change_part& c) const {
      return owner(c.id.get(), "asset part");
    }
    result<customer_id> operator()(const remove_part& c) const {
      return owner(c.id.get(), "asset part");
    }
    result<customer_id> operator()(const create_product&) const {
      return customer_id{std::string(k_catalogue)};
    }
    result<customer_id> operator()(const change_product&) const {
      return customer_id{std::string(k_catalogue)};
    }
    // notes and work orders
    result<customer_id> operator()(const add_note& c) const { return c.customer; }
    result<customer_id> operator()(const change_note& c) const { return owner(c.id.get(), "note"); }
    result<customer_id> operator()(const remove_note& c) const { return owner(c.id.get(), "note"); }
    result<customer_id> operator()(const create_work_order& c) const { return c.customer; }
    result<customer_id> operator()(const move_work_order& c) const {
      return owner(c.id.get(), "work order");
    }
    result<customer_id> operator()(const change_picklist&) const {
      return customer_id{std::string(k_picklists)};
    }
    // systems
    result<customer_id> operator()(const create_system_type&) const {
      return customer_id{std::string(k_system_types)};
    }
    result<customer_id> operator()(const change_system_type&) const {
      return customer_id{std::string(k_system_types)};
    }
    result<customer_id> operator()(const assign_system& c) const { return c.customer; }
    result<customer_id> operator()(const change_system& c) const {
      return owner(c.id.get(), "system");
    }
    result<customer_id> operator()(const remove_system& c) const {
      return owner(c.id.get(), "system");
    }
    result<customer_id> operator()(const reveal_system_secrets& c) const {
      return owner(c.id.get(), "system");
    }
    // files
    result<customer_id> operator()(const attach_file& c) const {
      switch (c.kind) {
        case file_owner::site:
          return owner(c.owner, "site");
        case file_owner::asset:
          return owner(c.owner, "asset");
        case file_owner::customer:
          break;
      }
      return customer_id{c.owner};
    }
    result<customer_id> operator()(const remove_file& c) const { return owner(c.id.get(), "file"); }
    // geofences
    result<customer_id> operator()(const set_customer_geofence& c) const { return c.id; }
    result<customer_id> operator()(const clear_customer_geofence& c) const { return c.id; }
    result<customer_id> operator()(const set_site_geofence& c) const {
      return owner(c.id.get(), "site");
    }
    result<customer_id> operator()(const clear_site_geofence& c) const {
      return owner(c.id.get(), "site");
    }
  };
  return std::visit(visitor{model}, cmd);
}

// The entity a command addresses (for the answer to a command that changed nothing).
std::string addressed_entity(const command& cmd) {
  return std::visit(
      [](const auto& c) -> std::string {
        using t = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<t, register_customer> || std::is_same_v<t, create_product> ||
                      std::is_same_v<t, create_system_type>) {
          return {};
        } else if constexpr (std::is_same_v<t, change_product>) {
          return c.code;
        } else if constexpr (std::is_same_v<t, change_picklist>) {
          return c.name;
        } else if constexpr (std::is_same_v<t, add_contact> || std::is_same_v<t, add_site> ||
                             std::is_same_v<t, register_asset> || std::is_same_v<t, add_note> ||
                             std::is_same_v<t, create_work_order> ||
                             std::is_same_v<t, assign_system>) {
          return c.customer.get();
        } else if constexpr (std::is_same_v<t, add_part>) {
          return c.asset.get();
        } else if constexpr (std::is_same_v<t, attach_file>) {  // files
          return c.owner;
        } else {
          return c.id.get();
        }
      },
      cmd);
}

command_outcome unchanged_outcome(const command& cmd, const customer_state& state,
                                  std::optional<log_position> last, const write_model& model) {
  const std::string entity = addressed_entity(cmd);
  entity_version version = state.version;
  if (std::holds_alternative<change_product>(cmd)) {
    if (const auto* p = model.product(entity)) version = p->version;
  }
  if (std::holds_alternative<change_picklist>(cmd)) {
    if (const auto* p = model.picklist(entity)) version = p->version;
  }
  if (const auto* c = state.find_contact(entity)) version = c->version;
  for (const auto* m : {&state.sites, &state.assets, &state.parts, &state.notes, &state.work_orders,
                        &state.files}) {
    if (auto it = m->find(entity); it != m->end()) version = it->second.version;
  }
  // systems
  if (auto it = state.systems.find(entity); it != state.systems.end()) version = it->second.version;
  if (std::holds_alternative<change_system_type>(cmd)) {
    if (const auto* t = model.system_type(entity)) version = t->version;
  }
  return make_outcome(state, entity, version, last, false);
}

}  // namespace

struct pipeline::impl {
  event_log& log;
  write_model& model;
  pipeline_options options;

  std::mutex mu;
  std::condition_variable wake;
  std::deque<queued> queue;
  bool running = false;
  bool stopping = false;
  std::thread thread;

  // One command of the batch being processed.
  struct item {
    queued q;
    std::size_t first_event = 0, event_count = 0;
    std::optional<result<command_outcome>> answer;  // set when decided without events
    std::string replay_slot;                        // answered by a duplicate key of this batch
  };

  impl(event_log& l, write_model& m, pipeline_options o) : log(l), model(m), options(o) {}

  void run() {
    std::vector<queued> taken;
    bool atomic = false;
    for (;;) {
      {
        std::unique_lock lock(mu);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        taken.clear();
        atomic = false;
        // Up to max_batch commands; a group is never split, and an atomic group goes alone.
        while (!queue.empty() && taken.size() < options.max_batch) {
          const auto group = queue.front().group;
          const std::size_t n = group ? group->size : 1;
          if (group && group->atomic && !taken.empty()) break;
          if (!taken.empty() && taken.size() + n > options.max_batch) break;
          for (std::size_t i = 0; i < n; ++i) {
            taken.push_back(std::move(queue.front()));
            queue.pop_front();
          }
          if (group && group->atomic) {
            atomic = true;
            break;
          }
        }
      }
      process(taken, atomic);
    }
  }

  void stamp(std::vector<event>& events, const command_meta& meta) {
    const std::string time = now_rfc3339();
    const std::string correlation = new_id();
    for (auto& e : events) {
      e.id = new_id();
      e.time = time;
      e.actor = meta.actor;
      e.correlation_id = correlation;
      e.idempotency_key = meta.idempotency_key;
      e.request_digest = meta.idempotency_key.empty() ? std::string() : meta.request_digest;
    }
  }

  // Decides one command against the model (which already holds this batch's earlier events).
  void decide_one(item& it, std::vector<event>& batch_events,
                  std::unordered_map<std::string, std::size_t>& keys_in_batch, std::size_t index) {
    const auto& meta = it.q.meta;
    if (!meta.idempotency_key.empty()) {
      const std::string slot = meta.actor + '\n' + meta.idempotency_key;
      if (const auto* rec = model.idempotency(meta.actor, meta.idempotency_key)) {
        if (rec->request_digest != meta.request_digest) {
          it.answer = fail(errc::idempotency_mismatch,
                           "Idempotency-Key was already used with a different request. Hint: "
                           "use a new key for a new request.");
        } else {
          it.answer = rec->outcome;
        }
        return;
      }
      if (keys_in_batch.contains(slot)) {
        it.replay_slot = slot;  // answered after the append, from the first one's record
        return;
      }
      keys_in_batch.emplace(slot, index);
    }
    auto target = target_customer(it.q.cmd, model);
    if (!target) {
      it.answer = std::unexpected(target.error());
      return;
    }
    // A customer whose state was evicted is read back first (from the state store and the log);
    // a log that cannot be read leaves the command undecided and the model as it was.
    const auto held = [&](const customer_id& id) {
      auto loaded = model.load(id);
      if (!loaded) {
        it.answer =
            fail(errc::unavailable, "the customer's events could not be read from the event log: " +
                                        loaded.error().detail);
      }
      return loaded.has_value();
    };
    if (!held(*target)) return;
    const customer_state& state = model.customer(*target);
    auto events = decide(state, it.q.cmd, model);
    if (!events) {
      it.answer = std::unexpected(events.error());
      return;
    }
    for (const auto& e : *events) {
      if (!held(e.customer)) return;
    }
    if (events->empty() || meta.dry_run) {
      it.answer = unchanged_outcome(it.q.cmd, state, model.last_position(*target), model);
      return;
    }
    stamp(*events, meta);
    it.first_event = batch_events.size();
    it.event_count = events->size();
    for (auto& e : *events) {
      model.evolve(e);
      batch_events.push_back(std::move(e));
    }
  }

  void process(std::vector<queued>& taken, bool atomic) {
    std::vector<item> items;
    items.reserve(taken.size());
    for (auto& q : taken) items.push_back(item{std::move(q)});
    std::vector<event> events;
    std::unordered_map<std::string, std::size_t> keys_in_batch;
    model.begin_batch();
    for (std::size_t i = 0; i < items.size(); ++i) decide_one(items[i], events, keys_in_batch, i);
    if (atomic) {
      // All or nothing: one refused command undoes the others' tentative changes.
      const auto refused = std::ranges::find_if(
          items, [](const item& it) { return it.answer && !it.answer->has_value(); });
      if (refused != items.end()) {
        model.rollback_batch();
        const auto at = static_cast<std::size_t>(refused - items.begin());
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i == at) {
            items[i].q.done(std::move(*items[i].answer));
          } else {
            items[i].q.done(fail(errc::conflict, "not applied: command " + std::to_string(at) +
                                                     " of this atomic batch was refused"));
          }
        }
        return;
      }
    }

    if (events.empty()) model.end_batch();
    if (!events.empty()) {
      // The log takes the events and answers them recorded: a log that keeps recent events
      // keeps these, instead of a copy of each.
      auto recorded = log.append_shared(std::move(events));
      if (!recorded) {
        fail_batch(items, recorded.error());
        return;
      }
      model.end_batch();
      for (const auto& re : *recorded) model.settle(re->e, re->position);
      for (auto& it : items) {
        if (it.event_count == 0) continue;
        const auto& last = *(*recorded)[it.first_event + it.event_count - 1];
        const auto& first = (*recorded)[it.first_event]->e;
        const bool created =
            first.type == event_types::customer_registered ||
            first.type == event_types::contact_added || first.type == event_types::site_added ||
            first.type == event_types::asset_registered || first.type == event_types::part_added ||
            first.type == event_types::product_created || first.type == event_types::note_added ||
            first.type == event_types::work_order_created ||
            // systems
            first.type == event_types::system_type_created ||
            first.type == event_types::system_assigned ||
            first.type == event_types::file_attached;  // files
        it.answer = make_outcome(model.customer(last.e.customer), last.e.entity_id, last.e.version,
                                 last.position, created);
      }
    }
    for (auto& it : items) {
      if (!it.replay_slot.empty()) {
        const auto nl = it.replay_slot.find('\n');
        const auto* rec = model.idempotency(std::string_view(it.replay_slot).substr(0, nl),
                                            std::string_view(it.replay_slot).substr(nl + 1));
        if (rec == nullptr) {
          // The first command with this key failed or changed nothing, so there is no answer
          // to replay; the client's retry is decided anew.
          it.answer = fail(errc::unavailable,
                           "a request with the same Idempotency-Key was in flight; retry it");
        } else if (rec->request_digest != it.q.meta.request_digest) {
          it.answer = fail(errc::idempotency_mismatch,
                           "Idempotency-Key was already used with a different request. Hint: "
                           "use a new key for a new request.");
        } else {
          it.answer = rec->outcome;
        }
      }
      it.q.done(std::move(*it.answer));
    }
  }

  // The append failed: nothing of the batch is in the log, so the model goes back to what the
  // log holds, and every command that was waiting on the append gets the error.
  void fail_batch(std::vector<item>& items, const error& why) {
    model.rollback_batch();
    error answer = why;
    if (answer.code != errc::unavailable) answer.code = errc::unavailable;
    answer.detail = "the event log did not accept the append: " + why.detail;
    for (auto& it : items) {
      if (it.event_count > 0 || !it.replay_slot.empty()) {
        it.q.done(std::unexpected(answer));
      } else {
        it.q.done(std::move(*it.answer));
      }
    }
  }
};

pipeline::pipeline(event_log& log, write_model& model, pipeline_options options)
    : impl_(std::make_unique<impl>(log, model, options)) {}

pipeline::~pipeline() { stop(); }

void pipeline::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->running) return;
  impl_->running = true;
  impl_->stopping = false;
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "fl-writer");  // for top -H and perf
    impl_->run();
  });
}

void pipeline::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->running) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  std::lock_guard lock(impl_->mu);
  impl_->running = false;
}

void pipeline::submit_group(std::vector<std::pair<command, command_meta>> cmds, bool atomic,
                            group_callback done) {
  struct collected {
    std::mutex mu;
    std::vector<std::optional<result<command_outcome>>> answers;
    std::size_t left = 0;
    group_callback done;
  };
  if (cmds.empty()) return done({});
  auto state = std::make_shared<collected>();
  state->answers.resize(cmds.size());
  state->left = cmds.size();
  state->done = std::move(done);
  const auto answer = [state](std::size_t i, result<command_outcome> r) {
    std::unique_lock lock(state->mu);
    state->answers[i] = std::move(r);
    if (--state->left > 0) return;
    std::vector<result<command_outcome>> all;
    all.reserve(state->answers.size());
    for (auto& a : state->answers) all.push_back(std::move(*a));
    lock.unlock();
    state->done(std::move(all));
  };
  const auto group = std::make_shared<group_info>(group_info{cmds.size(), atomic});
  {
    std::unique_lock lock(impl_->mu);
    const bool closed = !impl_->running || impl_->stopping;
    if (closed || impl_->queue.size() + cmds.size() > impl_->options.max_queue) {
      lock.unlock();
      const auto why = closed ? fail(errc::unavailable, "the server is shutting down or not ready")
                              : fail(errc::unavailable,
                                     "too many commands in flight. Hint: retry after a moment.");
      for (std::size_t i = 0; i < cmds.size(); ++i) answer(i, why);
      return;
    }
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      impl_->queue.push_back(
          queued{std::move(cmds[i].first), std::move(cmds[i].second),
                 [answer, i](result<command_outcome> r) { answer(i, std::move(r)); }, group});
    }
  }
  impl_->wake.notify_one();
}

void pipeline::submit(command cmd, command_meta meta, command_callback done) {
  {
    std::unique_lock lock(impl_->mu);
    if (!impl_->running || impl_->stopping) {
      lock.unlock();
      done(fail(errc::unavailable, "the server is shutting down or not ready"));
      return;
    }
    if (impl_->queue.size() >= impl_->options.max_queue) {
      lock.unlock();
      done(fail(errc::unavailable, "too many commands in flight. Hint: retry after a moment."));
      return;
    }
    impl_->queue.push_back(queued{std::move(cmd), std::move(meta), std::move(done), nullptr});
  }
  impl_->wake.notify_one();
}

}  // namespace fieldledger::commands

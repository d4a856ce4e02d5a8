// Notes and work orders: the service half of the customer file. Both belong to one customer,
// so their events are keyed by it and decided against its state, like sites and assets.
#include <algorithm>
#include <array>
#include <string>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"

namespace fieldledger::domain {

namespace {

constexpr std::array k_note_fields = {
    field_spec{.name = "text", .kind = field_kind::text, .required = true, .max_length = 10000},
    field_spec{.name = "urgent", .kind = field_kind::boolean},
    field_spec{.name = "site_id", .kind = field_kind::id},
    field_spec{.name = "asset_id", .kind = field_kind::id},
};

constexpr std::array k_work_order_fields = {
    field_spec{.name = "site_id", .kind = field_kind::id},
    field_spec{.name = "asset_id", .kind = field_kind::id},
    field_spec{.name = "summary", .kind = field_kind::string, .required = true, .max_length = 500},
    field_spec{.name = "description", .kind = field_kind::text, .max_length = 10000},
    field_spec{.name = "category", .kind = field_kind::string, .max_length = 100},
    field_spec{.name = "priority", .kind = field_kind::choice, .choices = k_wo_priorities},
    field_spec{.name = "assignee", .kind = field_kind::string, .max_length = 200},
    field_spec{.name = "contact_id", .kind = field_kind::id},
};

constexpr std::array k_assign_fields = {
    field_spec{.name = "assignee", .kind = field_kind::string, .required = true},
};
constexpr std::array k_complete_fields = {
    field_spec{.name = "resolution", .kind = field_kind::text, .max_length = 10000},
};
constexpr std::array k_cancel_fields = {
    field_spec{.name = "reason", .kind = field_kind::text, .max_length = 10000},
};

}  // namespace

std::span<const field_spec> note_fields() { return k_note_fields; }
std::span<const field_spec> work_order_fields() { return k_work_order_fields; }

const owned_state* customer_state::live_note(std::string_view id) const {
  auto it = notes.find(id);
  return it == notes.end() || it->second.removed ? nullptr : &it->second;
}

const owned_state* customer_state::work_order(std::string_view id) const {
  auto it = work_orders.find(id);
  return it == work_orders.end() ? nullptr : &it->second;
}

namespace detail {

namespace {

event entity_event(const customer_state& state, std::string_view kind, const std::string& id,
                   entity_version version, std::string_view type, value data) {
  return make_event(type, state.id, id, owned_subject(state.id, kind, id), version,
                    std::move(data));
}

// The site and asset a note or work order names must be live ones of this customer, and the
// asset must be at the site when both are given.
result<void> check_place(const customer_state& state, const value& fields) {
  const auto site = fields.string_at("site_id");
  const auto asset = fields.string_at("asset_id");
  if (!site.empty() && state.live_site(site) == nullptr) {
    return fail(errc::invalid, "the site is not a site of this customer",
                {{"site_id", "no site \"" + std::string(site) + "\" belongs to this customer"}});
  }
  if (asset.empty()) return {};
  const owned_state* a = state.live_asset(asset);
  if (a == nullptr) {
    return fail(
        errc::invalid, "the asset is not an asset of this customer",
        {{"asset_id", "no live asset \"" + std::string(asset) + "\" belongs to this customer"}});
  }
  if (!site.empty() && a->fields.string_at("site_id") != site) {
    return fail(errc::invalid, "the asset is not at that site",
                {{"asset_id", "is at site \"" + std::string(a->fields.string_at("site_id")) +
                                  "\", not at \"" + std::string(site) + "\""}});
  }
  return {};
}

// ---- notes -----------------------------------------------------------------------------------

result<const owned_state*> addressed_note(const customer_state& state, const std::string& id,
                                          const std::optional<entity_version>& if_match) {
  const owned_state* n = state.exists() ? state.live_note(id) : nullptr;
  if (n == nullptr) return not_found("note", id);
  if (auto ok = check_if_match(if_match, n->version, "note"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return n;
}

// The first 80 bytes of a note's text, cut at a character boundary.
std::string excerpt(std::string_view text) {
  if (text.size() <= 80) return std::string(text);
  std::size_t n = 80;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n)) + "…";
}

}  // namespace

result<std::vector<event>> decide_service(const customer_state& state, const add_note& cmd,
                                          decide_env& env) {
  if (auto ok = check_owner(state, cmd.customer); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(note_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  if (auto ok = check_place(state, *fields); !ok) return std::unexpected(ok.error());
  if (fields->find("urgent") == nullptr) fields->as_object()["urgent"] = false;
  return detail::single(entity_event(state, "notes", env.new_entity_id(), entity_version{1},
                                     event_types::note_added,
                                     object{{"fields", std::move(*fields)}}));
}

result<std::vector<event>> decide_service(const customer_state& state, const change_note& cmd,
                                          decide_env&) {
  auto note = addressed_note(state, cmd.id.get(), cmd.if_match);
  if (!note) return std::unexpected(note.error());
  if (auto ok = check_patch_keys(note_fields(), cmd.patch); !ok) {
    return std::unexpected(ok.error());
  }
  auto after = validate_fields(note_fields(), merge_patch((*note)->fields, cmd.patch));
  if (!after) return std::unexpected(std::move(after.error()));
  if (after->find("urgent") == nullptr) after->as_object()["urgent"] = false;
  if (auto ok = check_place(state, *after); !ok) return std::unexpected(ok.error());
  auto changes = field_changes((*note)->fields, *after);
  if (!changes) return std::vector<event>{};
  return detail::single(entity_event(state, "notes", cmd.id.get(),
                                     entity_version{(*note)->version.get() + 1},
                                     event_types::note_changed, std::move(*changes)));
}

result<std::vector<event>> decide_service(const customer_state& state, const remove_note& cmd,
                                          decide_env&) {
  auto note = addressed_note(state, cmd.id.get(), cmd.if_match);
  if (!note) return std::unexpected(note.error());
  return detail::single(entity_event(
      state, "notes", cmd.id.get(), entity_version{(*note)->version.get() + 1},
      event_types::note_removed, object{{"text", excerpt((*note)->fields.string_at("text"))}}));
}

// ---- work orders -----------------------------------------------------------------------------

result<std::vector<event>> decide_service(const customer_state& state, const create_work_order& cmd,
                                          decide_env& env) {
  if (auto ok = check_owner(state, cmd.customer); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(work_order_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  auto& f = fields->as_object();
  // The site follows from the asset when only the asset is given.
  if (f.find("site_id") == f.end()) {
    const owned_state* a = state.live_asset(fields->string_at("asset_id"));
    if (a == nullptr && fields->string_at("asset_id").empty()) {
      return fail(errc::invalid, "a work order is for a site or an asset of the customer",
                  {{"site_id", "is required unless asset_id is given"}});
    }
    if (a != nullptr) f["site_id"] = a->fields.string_at("site_id");
  }
  if (auto ok = check_place(state, *fields); !ok) return std::unexpected(ok.error());
  // The contact: as given, else the site's contact, else the primary contact.
  std::string contact(fields->string_at("contact_id"));
  if (!contact.empty()) {
    const contact_state* c = state.find_contact(contact);
    if (c == nullptr || c->removed) {
      return fail(errc::invalid, "the contact is not a contact of this customer",
                  {{"contact_id", "no contact \"" + contact + "\" belongs to this customer"}});
    }
  } else {
    const owned_state* site = state.live_site(fields->string_at("site_id"));
    const std::string site_contact(site != nullptr ? site->fields.string_at("site_contact_id")
                                                   : std::string_view{});
    const contact_state* c = state.find_contact(site_contact);
    if (c == nullptr || c->removed) c = state.find_contact(state.primary_contact);
    if (c != nullptr && !c->removed) contact = c->id.get();
  }
  if (!contact.empty()) {
    f["contact_id"] = contact;
    f["contact_name"] = state.find_contact(contact)->fields.string_at("name");
  }
  if (f.find("priority") == f.end()) f["priority"] = "normal";
  f["status"] = f.find("assignee") != f.end() ? k_wo_assigned : k_wo_open;
  return detail::single(entity_event(
      state, "work-orders", env.new_entity_id(), entity_version{1}, event_types::work_order_created,
      object{{"number", env.next_work_order_number()}, {"fields", std::move(*fields)}}));
}

result<std::vector<event>> decide_service(const customer_state& state, const move_work_order& cmd,
                                          decide_env&) {
  const owned_state* wo = state.exists() ? state.work_order(cmd.id.get()) : nullptr;
  if (wo == nullptr) return not_found("work order", cmd.id.get());
  if (auto ok = check_if_match(cmd.if_match, wo->version, "work order"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  const std::string status(wo->fields.string_at("status"));
  const auto spec = cmd.step == work_order_step::assign     ? std::span(k_assign_fields)
                    : cmd.step == work_order_step::complete ? std::span(k_complete_fields)
                                                            : std::span(k_cancel_fields);
  auto body = validate_fields(spec, cmd.body);
  if (!body) return std::unexpected(std::move(body.error()));
  if (status == k_wo_completed || status == k_wo_cancelled) {
    return fail(errc::conflict, "the work order is " + status + " and cannot change any more");
  }
  const auto next = entity_version{wo->version.get() + 1};
  object data = body->as_object();
  data["previous_status"] = status;
  std::string_view type;
  switch (cmd.step) {
    case work_order_step::assign: {
      const auto previous = wo->fields.string_at("assignee");
      if (previous == body->string_at("assignee")) return std::vector<event>{};
      data["previous_assignee"] = previous.empty() ? value() : value(std::string(previous));
      type = event_types::work_order_assigned;
      break;
    }
    case work_order_step::complete:
      type = event_types::work_order_completed;
      break;
    case work_order_step::cancel:
      type = event_types::work_order_cancelled;
      break;
  }
  return detail::single(
      entity_event(state, "work-orders", cmd.id.get(), next, type, std::move(data)));
}

// ---- evolve ----------------------------------------------------------------------------------

bool evolve_service(customer_state& state, const event& e) {
  const auto& t = e.type;
  const bool note = t.starts_with("note.");
  if (!note && !t.starts_with("work-order.")) return false;
  auto& m = note ? state.notes : state.work_orders;
  const audit_stamp stamp{e.time, e.actor};
  if (t == event_types::note_added || t == event_types::work_order_created) {
    owned_state o;
    o.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    o.fields = fields != nullptr ? *fields : value(object{});
    if (!note) o.fields.as_object()["number"] = e.data.string_at("number");
    o.created = stamp;
    m.insert_or_assign(e.entity_id, std::move(o));
  }
  auto it = m.find(e.entity_id);
  if (it == m.end()) return true;  // an event of an unknown entity: ignored
  owned_state& o = it->second;
  auto& f = o.fields.as_object();
  if (t == event_types::note_changed) {
    apply_changes(o.fields, e.data);
  } else if (t == event_types::note_removed) {
    o.removed = true;
  } else if (t == event_types::work_order_assigned) {
    f["assignee"] = e.data.string_at("assignee");
    f["status"] = k_wo_assigned;
  } else if (t == event_types::work_order_completed) {
    f["status"] = k_wo_completed;
    if (const auto r = e.data.string_at("resolution"); !r.empty()) f["resolution"] = r;
  } else if (t == event_types::work_order_cancelled) {
    f["status"] = k_wo_cancelled;
    if (const auto r = e.data.string_at("reason"); !r.empty()) f["cancel_reason"] = r;
  }
  o.version = e.version;
  o.modified = stamp;
  return true;
}

}  // namespace detail

}  // namespace fieldledger::domain

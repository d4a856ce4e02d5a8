// The contact half of the customer aggregate: decisions about and evolution of contacts.
#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"

namespace fieldledger::domain::detail {

namespace {

std::unexpected<error> contact_not_found(const contact_id& id) {
  return fail(errc::not_found, "no contact with id \"" + id.get() + "\"");
}

// The addressed contact: known, not removed, at the expected version, of a customer that
// is not archived.
result<const contact_state*> addressed_contact(const customer_state& state, const contact_id& id,
                                               const std::optional<entity_version>& if_match) {
  const contact_state* c = state.exists() ? state.find_contact(id.get()) : nullptr;
  if (c == nullptr || c->removed) return contact_not_found(id);
  if (auto ok = check_if_match(if_match, c->version, "contact"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return c;
}

// A contact's site must be a live site of its customer.
result<void> check_contact_site(const customer_state& state, const value& fields) {
  const auto site = fields.string_at("site_id");
  if (site.empty() || state.live_site(site) != nullptr) return {};
  return fail(errc::invalid, "the contact's site is not a site of this customer",
              {{"site_id", "no site \"" + std::string(site) + "\" belongs to this customer"}});
}

event contact_event(const customer_state& state, const contact_state& c, std::string_view type,
                    value data) {
  return make_event(type, state.id, c.id.get(), contact_subject(state.id, c.id.get()),
                    entity_version{c.version.get() + 1}, std::move(data));
}

}  // namespace

result<std::vector<event>> decide_contact(const customer_state& state, const add_contact& cmd,
                                          decide_env& env) {
  if (!state.exists() || state.id != cmd.customer) {
    return fail(errc::not_found, "no customer with id \"" + cmd.customer.get() + "\"");
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  auto fields = validate_fields(contact_fields(), cmd.body);
  if (!fields) return std::unexpected(std::move(fields.error()));
  if (auto ok = check_contact_site(state, *fields); !ok) return std::unexpected(ok.error());
  const std::string id = env.new_entity_id();
  auto events =
      single(make_event(event_types::contact_added, state.id, id, contact_subject(state.id, id),
                        entity_version{1}, object{{"fields", std::move(*fields)}}));
  // Only the very first contact becomes primary on its own: once a customer has had
  // contacts, choosing the primary is a deliberate act (make_primary_contact).
  if (state.primary_contact.empty() && state.contacts.empty()) {
    events.push_back(make_event(event_types::contact_primary_designated, state.id, id,
                                contact_subject(state.id, id), entity_version{2},
                                object{{"previous_contact_id", nullptr}}));
  }
  return events;
}

result<std::vector<event>> decide_contact(const customer_state& state, const change_contact& cmd) {
  auto c = addressed_contact(state, cmd.id, cmd.if_match);
  if (!c) return std::unexpected(std::move(c.error()));
  auto changes = validate_patch(contact_fields(), (*c)->fields, cmd.patch);
  if (!changes) return std::unexpected(std::move(changes.error()));
  if (!*changes) return std::vector<event>{};
  // A changed site_id is checked; a removed one (null in changed) names no site.
  if (auto ok = check_contact_site(state, *(*changes)->find("changed")); !ok) {
    return std::unexpected(ok.error());
  }
  return detail::single(
      contact_event(state, **c, event_types::contact_changed, std::move(**changes)));
}

result<std::vector<event>> decide_contact(const customer_state& state, const remove_contact& cmd) {
  auto c = addressed_contact(state, cmd.id, cmd.if_match);
  if (!c) return std::unexpected(std::move(c.error()));
  const value name((*c)->fields.string_at("name"));
  return detail::single(
      contact_event(state, **c, event_types::contact_removed, object{{"name", name}}));
}

result<std::vector<event>> decide_contact(const customer_state& state,
                                          const make_primary_contact& cmd) {
  auto c = addressed_contact(state, cmd.id, cmd.if_match);
  if (!c) return std::unexpected(std::move(c.error()));
  if (state.primary_contact == cmd.id.get()) return std::vector<event>{};
  const value previous = state.primary_contact.empty() ? value{} : value(state.primary_contact);
  return detail::single(contact_event(state, **c, event_types::contact_primary_designated,
                                      object{{"previous_contact_id", previous}}));
}

bool evolve_contact(customer_state& state, const event& e) {
  const audit_stamp stamp{e.time, e.actor};
  if (e.type == event_types::contact_added) {
    contact_state c;
    c.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    c.fields = fields != nullptr ? *fields : value(object{});
    c.created = stamp;
    state.contacts.insert_or_assign(e.entity_id, std::move(c));
  } else if (e.type != event_types::contact_changed && e.type != event_types::contact_removed &&
             e.type != event_types::contact_primary_designated) {
    return false;
  }
  auto it = state.contacts.find(e.entity_id);
  if (it == state.contacts.end()) return true;  // a contact event of an unknown contact: ignored
  contact_state& c = it->second;
  if (e.type == event_types::contact_changed) {
    apply_changes(c.fields, e.data);
  } else if (e.type == event_types::contact_removed) {
    c.removed = true;
    if (state.primary_contact == e.entity_id) state.primary_contact.clear();
  } else if (e.type == event_types::contact_primary_designated) {
    state.primary_contact = e.entity_id;
  }
  c.version = e.version;
  c.modified = stamp;
  return true;
}

}  // namespace fieldledger::domain::detail

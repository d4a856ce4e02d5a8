// Systems: the system type catalogue, systems assigned to customers (and their sites), their
// typed values and sealed secrets. See domain/system.hpp for the events.
#include "domain/system.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"
#include "domain/secret.hpp"

namespace fieldledger::domain {

namespace {

std::string join(std::span<const std::string_view> names) {
  std::string s;
  for (auto n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

bool is_field_key(std::string_view k) {
  if (k.empty() || k.size() > 64 || k.front() < 'a' || k.front() > 'z') return false;
  return std::ranges::all_of(
      k, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool is_field_type(std::string_view t) {
  return std::ranges::find(k_system_field_types, t) != std::end(k_system_field_types);
}

// Checks one field definition at path ("fields[i]"); appends its normal form to out.
void check_field_definition(const value& f, const std::string& path, std::set<std::string>& keys,
                            array& out, std::vector<field_error>& unknown,
                            std::vector<field_error>& invalid) {
  if (!f.is_object()) {
    invalid.push_back({path, "must be an object with key, type, required and choices"});
    return;
  }
  for (const auto& [k, unused] : f.as_object()) {
    if (k != "key" && k != "type" && k != "required" && k != "choices") {
      unknown.push_back({path + "." + k, "unknown field; allowed: key, type, required, choices"});
    }
  }
  object normal;
  const value* key = f.find("key");
  if (key == nullptr || !key->is_string() || !is_field_key(key->as_string())) {
    invalid.push_back(
        {path + ".key",
         "must be 1 to 64 of a-z, 0-9 and _, starting with a letter (e.g. ip_address)"});
  } else if (!keys.insert(key->as_string()).second) {
    invalid.push_back({path + ".key", "\"" + key->as_string() + "\" is defined twice"});
  } else {
    normal["key"] = *key;
  }
  const value* type = f.find("type");
  const bool type_ok = type != nullptr && type->is_string() && is_field_type(type->as_string());
  if (!type_ok) {
    invalid.push_back({path + ".type", "must be one of " + join(k_system_field_types)});
  } else {
    normal["type"] = *type;
  }
  const value* required = f.find("required");
  if (required != nullptr && !required->is_null() && !required->is_bool()) {
    invalid.push_back({path + ".required", "must be true or false"});
  }
  normal["required"] = required != nullptr && required->is_bool() && required->as_bool();
  const value* choices = f.find("choices");
  const bool is_choice = type_ok && type->as_string() == "choice";
  if (is_choice) {
    std::set<std::string> seen;
    bool ok = choices != nullptr && choices->is_array() && !choices->as_array().empty() &&
              choices->as_array().size() <= 100;
    for (std::size_t i = 0; ok && i < choices->as_array().size(); ++i) {
      const value& c = choices->as_array()[i];
      ok = c.is_string() && !c.as_string().empty() && c.as_string().size() <= 100 &&
           seen.insert(c.as_string()).second;
    }
    if (!ok) {
      invalid.push_back(
          {path + ".choices", "must be 1 to 100 distinct, non-empty strings (at most 100 bytes)"});
    } else {
      normal["choices"] = *choices;
    }
  } else if (choices != nullptr && !choices->is_null()) {
    invalid.push_back({path + ".choices", "only a field of type choice has choices"});
  }
  out.emplace_back(std::move(normal));
}

std::unexpected<error> invalid_fields(std::string detail, std::vector<field_error> fields) {
  return fail(errc::invalid, std::move(detail), std::move(fields));
}

// The definition of key in a type's normal form, or nullptr.
const value* definition(const value& type, std::string_view key) {
  const value* fields = type.find("fields");
  if (fields == nullptr || !fields->is_array()) return nullptr;
  for (const auto& f : fields->as_array()) {
    if (f.string_at("key") == key) return &f;
  }
  return nullptr;
}

// Checks one non-null value v of the field def; records what is wrong at path.
void check_value(const value& def, const value& v, const std::string& path,
                 std::vector<field_error>& invalid) {
  const auto type = def.string_at("type");
  const auto bad = [&](std::string why) { invalid.push_back({path, std::move(why)}); };
  // The kinds the entity schemas know are checked by the same code (one spec, one member).
  const auto with_spec = [&](field_spec spec) {
    spec.name = def.string_at("key");
    auto r = validate_fields(std::span<const field_spec>(&spec, 1),
                             value(object{{std::string(spec.name), v}}), "values");
    if (!r) {
      for (auto& f : r.error().fields) invalid.push_back(std::move(f));
    }
  };
  if (type == "string") {
    with_spec({.kind = field_kind::string, .max_length = 500});
  } else if (type == "text") {
    with_spec({.kind = field_kind::text, .max_length = 10'000});
  } else if (type == "int") {
    with_spec({.kind = field_kind::integer,
               .min = std::numeric_limits<std::int64_t>::min(),
               .max = std::numeric_limits<std::int64_t>::max()});
  } else if (type == "date") {
    with_spec({.kind = field_kind::date, .max_length = 10});
  } else if (type == "url") {
    with_spec({.kind = field_kind::url, .max_length = 2000});
  } else if (type == "decimal") {
    if (!v.is_number() || !std::isfinite(v.as_number())) bad("must be a number");
  } else if (type == "bool") {
    if (!v.is_bool()) bad("must be true or false");
  } else if (type == "ipv4") {
    if (!v.is_string() || !is_valid_ipv4(v.as_string())) {
      bad("must be an IPv4 address like 192.168.1.20");
    }
  } else if (type == "secret") {
    if (!v.is_string() || v.as_string().empty() || v.as_string().size() > k_max_secret_bytes) {
      bad("must be a non-empty string of at most " + std::to_string(k_max_secret_bytes) + " bytes");
    } else if (v.as_string().find('\0') != std::string::npos) {
      bad("must not contain NUL characters");
    }
  } else if (type == "choice") {
    const value* choices = def.find("choices");
    const bool ok =
        v.is_string() && choices != nullptr && choices->is_array() &&
        std::ranges::any_of(choices->as_array(), [&](const value& c) { return c == v; });
    if (!ok) {
      std::string list;
      if (choices != nullptr && choices->is_array()) {
        for (const auto& c : choices->as_array()) {
          list += (list.empty() ? "" : ", ") + std::string(c.is_string() ? c.as_string() : "");
        }
      }
      bad("must be one of " + list);
    }
  } else {
    bad("has a type this release does not know");
  }
}

const owned_state* find_type(const decide_env& env, std::string_view id) {
  return is_id(id) ? env.system_type(id) : nullptr;
}

std::string system_subject(const customer_id& customer, std::string_view id) {
  return detail::owned_subject(customer, "systems", id);
}

event system_event(const customer_state& state, const owned_state& s, std::string_view type,
                   value data) {
  return detail::make_event(type, state.id, s.id.get(), system_subject(state.id, s.id.get()),
                            entity_version{s.version.get() + 1}, std::move(data));
}

// The addressed live system, at the expected version.
result<const owned_state*> addressed(const customer_state& state, const system_id& id,
                                     const std::optional<entity_version>& if_match) {
  const owned_state* s = state.exists() ? live_system(state, id.get()) : nullptr;
  if (s == nullptr) return detail::not_found("system", id.get());
  if (auto ok = detail::check_if_match(if_match, s->version, "system"); !ok) {
    return std::unexpected(ok.error());
  }
  return s;
}

// The values with each secret sealed for system `id`; every other value as it is.
result<value> seal_secrets(const value& type, const value& values, std::string_view id,
                           decide_env& env) {
  object out;
  for (const auto& [k, v] : values.as_object()) {
    const value* def = definition(type, k);
    if (v.is_null() || def == nullptr || def->string_at("type") != "secret") {
      out.emplace(k, v);
      continue;
    }
    auto sealed = env.seal(v.as_string(), secret_associated_data(id, k));
    if (!sealed) return std::unexpected(sealed.error());
    out.emplace(k, object{{"sealed", std::move(*sealed)}});
  }
  return value(std::move(out));
}

// Reads the optional string member `name` of body that must be an id; "" when absent.
void id_member(const value& body, std::string_view name, bool required, std::string& out,
               std::vector<field_error>& invalid) {
  const value* v = body.find(name);
  if (v == nullptr || v->is_null()) {
    if (required) invalid.push_back({std::string(name), "is required"});
    return;
  }
  if (!v->is_string() || !is_id(v->as_string())) {
    invalid.push_back({std::string(name), "must be an id (a lower-case UUID)"});
    return;
  }
  out = v->as_string();
}

}  // namespace

// ---- validation ------------------------------------------------------------------------------

bool is_valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t at = 0;
  while (parts < 4) {
    const auto dot = s.find('.', at);
    const auto part =
        s.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) return false;
    int n = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    if (n > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) return parts == 4;
    at = dot + 1;
  }
  return false;
}

bool is_sealed(const value& v) {
  return v.is_object() && v.as_object().size() == 1 && v.find("sealed") != nullptr &&
         v.find("sealed")->is_string();
}

value masked(const value& v) { return is_sealed(v) ? value(object{{"set", true}}) : v; }

result<value> validate_system_type(const value& body) {
  if (!body.is_object()) {
    return fail(errc::malformed, "the body must be a JSON object",
                {{"body", "must be a JSON object"}});
  }
  std::vector<field_error> unknown, invalid;
  for (const auto& [k, unused] : body.as_object()) {
    if (k != "name" && k != "fields")
      unknown.push_back({k, "unknown field; allowed: name, fields"});
  }
  object normal;
  const value* name = body.find("name");
  if (name == nullptr || name->is_null()) {
    invalid.push_back({"name", "is required"});
  } else {
    const field_spec spec{
        .name = "name", .kind = field_kind::string, .required = true, .max_length = 100};
    auto ok = validate_fields(std::span<const field_spec>(&spec, 1), object{{"name", *name}});
    if (!ok) {
      for (auto& f : ok.error().fields) invalid.push_back(std::move(f));
    } else {
      normal["name"] = *name;
    }
  }
  const value* fields = body.find("fields");
  if (fields == nullptr || !fields->is_array() || fields->as_array().empty() ||
      fields->as_array().size() > k_max_system_fields) {
    invalid.push_back({"fields", "must be an array of 1 to " + std::to_string(k_max_system_fields) +
                                     " field definitions"});
  } else {
    std::set<std::string> keys;
    array out;
    for (std::size_t i = 0; i < fields->as_array().size(); ++i) {
      check_field_definition(fields->as_array()[i], "fields[" + std::to_string(i) + "]", keys, out,
                             unknown, invalid);
    }
    normal["fields"] = std::move(out);
  }
  if (!unknown.empty()) {
    return fail(errc::malformed, "the system type has unknown fields", std::move(unknown));
  }
  if (!invalid.empty()) return invalid_fields("the system type is not valid", std::move(invalid));
  return value(std::move(normal));
}

result<value> validate_system_values(const value& type, const value& values, bool complete) {
  if (!values.is_object()) {
    return invalid_fields("values must be an object", {{"values", "must be a JSON object"}});
  }
  std::vector<field_error> invalid;
  object out;
  for (const auto& [k, v] : values.as_object()) {
    const std::string path = "values." + k;
    const value* def = definition(type, k);
    if (def == nullptr) {
      invalid.push_back({path, "is not a field of this system type"});
      continue;
    }
    if (v.is_null()) {
      const value* required = def->find("required");
      if (!complete && required != nullptr && required->is_bool() && required->as_bool()) {
        invalid.push_back({path, "is required and cannot be removed"});
      } else if (!complete) {
        out.emplace(k, v);
      }
      continue;
    }
    const auto before = invalid.size();
    check_value(*def, v, path, invalid);
    if (invalid.size() == before) out.emplace(k, v);
  }
  if (complete) {
    const value* fields = type.find("fields");
    for (const auto& f : fields != nullptr && fields->is_array() ? fields->as_array() : array{}) {
      const value* required = f.find("required");
      const value* v = values.find(f.string_at("key"));
      if (required != nullptr && required->is_bool() && required->as_bool() &&
          (v == nullptr || v->is_null())) {
        invalid.push_back({"values." + std::string(f.string_at("key")), "is required"});
      }
    }
  }
  if (!invalid.empty()) {
    return invalid_fields(std::to_string(invalid.size()) +
                              (invalid.size() == 1 ? " value is invalid" : " values are invalid"),
                          std::move(invalid));
  }
  return value(std::move(out));
}

const owned_state* live_system(const customer_state& state, std::string_view id) {
  auto it = state.systems.find(id);
  return it == state.systems.end() || it->second.removed ? nullptr : &it->second;
}

void evolve_system_type(owned_state& type, const event& e) {
  const audit_stamp stamp{e.time, e.actor};
  if (e.type == event_types::system_type_created) {
    type = owned_state{};
    type.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    type.fields = fields != nullptr ? *fields : value(object{});
    type.created = stamp;
  } else if (e.type == event_types::system_type_changed) {
    detail::apply_changes(type.fields, e.data);
  } else {
    return;
  }
  type.version = e.version;
  type.modified = stamp;
}

namespace detail {

// ---- the system type catalogue -----------------------------------------------------------------

result<std::vector<event>> decide_system(const create_system_type& cmd, decide_env& env) {
  auto type = validate_system_type(cmd.body);
  if (!type) return std::unexpected(std::move(type.error()));
  const std::string id = env.new_entity_id();
  return detail::single(
      make_event(event_types::system_type_created, customer_id{std::string(k_system_types)}, id,
                 "system-types/" + id, entity_version{1}, object{{"fields", std::move(*type)}}));
}

result<std::vector<event>> decide_system(const change_system_type& cmd, decide_env& env) {
  const owned_state* type = find_type(env, cmd.id.get());
  if (type == nullptr) return not_found("system type", cmd.id.get());
  if (auto ok = check_if_match(cmd.if_match, type->version, "system type"); !ok) {
    return std::unexpected(ok.error());
  }
  if (!cmd.patch.is_object()) return fail(errc::malformed, "a merge patch must be a JSON object");
  auto after = validate_system_type(merge_patch(type->fields, cmd.patch));
  if (!after) return std::unexpected(std::move(after.error()));
  // Fields are never removed or retyped: the values stored under them keep their meaning.
  std::vector<field_error> invalid;
  const auto& new_fields = after->find("fields")->as_array();
  for (const auto& old : type->fields.find("fields")->as_array()) {
    const auto key = old.string_at("key");
    const auto it =
        std::ranges::find_if(new_fields, [&](const value& f) { return f.string_at("key") == key; });
    if (it == new_fields.end()) {
      invalid.push_back({"fields", "field \"" + std::string(key) +
                                       "\" cannot be removed: systems may hold values of it. "
                                       "Hint: send the whole list with the new fields added."});
    } else if (it->string_at("type") != old.string_at("type")) {
      invalid.push_back({"fields[" + std::to_string(it - new_fields.begin()) + "].type",
                         "cannot change from " + std::string(old.string_at("type")) +
                             "; define a field with another key instead"});
    }
  }
  if (!invalid.empty())
    return invalid_fields("the system type cannot change so", std::move(invalid));
  auto changes = field_changes(type->fields, *after);
  if (!changes) return std::vector<event>{};
  return detail::single(make_event(event_types::system_type_changed,
                                   customer_id{std::string(k_system_types)}, cmd.id.get(),
                                   "system-types/" + cmd.id.get(),
                                   entity_version{type->version.get() + 1}, std::move(*changes)));
}

// ---- systems of a customer -------------------------------------------------------------------

result<std::vector<event>> decide_system(const customer_state& state, const assign_system& cmd,
                                         decide_env& env) {
  if (!state.exists() || state.id != cmd.customer) {
    return fail(errc::not_found, "no customer with id \"" + cmd.customer.get() + "\"");
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  if (!cmd.body.is_object()) {
    return fail(errc::malformed, "the body must be a JSON object",
                {{"body", "must be a JSON object"}});
  }
  std::vector<field_error> unknown, invalid;
  for (const auto& [k, unused] : cmd.body.as_object()) {
    if (k != "type_id" && k != "site_id" && k != "values") {
      unknown.push_back({k, "unknown field; allowed: type_id, site_id, values"});
    }
  }
  if (!unknown.empty()) return fail(errc::malformed, "unknown fields", std::move(unknown));
  std::string type_id, site;
  id_member(cmd.body, "type_id", true, type_id, invalid);
  id_member(cmd.body, "site_id", false, site, invalid);
  if (!invalid.empty()) return invalid_fields("the system cannot be assigned", std::move(invalid));
  const owned_state* type = env.system_type(type_id);
  if (type == nullptr) {
    return invalid_fields("no such system type", {{"type_id", "no system type \"" + type_id +
                                                                  "\"; see GET /v1/system-types"}});
  }
  if (!site.empty() && state.live_site(site) == nullptr) {
    return invalid_fields("the site is not a site of this customer",
                          {{"site_id", "no site \"" + site + "\" belongs to this customer"}});
  }
  const value* given = cmd.body.find("values");
  auto values = validate_system_values(
      type->fields, given != nullptr && !given->is_null() ? *given : value(object{}), true);
  if (!values) return std::unexpected(std::move(values.error()));
  const std::string id = env.new_entity_id();
  auto sealed = seal_secrets(type->fields, *values, id, env);
  if (!sealed) return std::unexpected(std::move(sealed.error()));
  object data{{"type_id", type_id}, {"values", std::move(*sealed)}};
  if (!site.empty()) data["site_id"] = site;
  return detail::single(make_event(event_types::system_assigned, state.id, id,
                                   system_subject(state.id, id), entity_version{1},
                                   std::move(data)));
}

result<std::vector<event>> decide_system(const customer_state& state, const change_system& cmd,
                                         decide_env& env) {
  auto s = addressed(state, cmd.id, cmd.if_match);
  if (!s) return std::unexpected(s.error());
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  if (!cmd.patch.is_object()) return fail(errc::malformed, "a merge patch must be a JSON object");
  for (const auto& [k, unused] : cmd.patch.as_object()) {
    if (k != "values") {
      return fail(errc::malformed, "unknown field \"" + k + "\"",
                  {{k, "unknown field; allowed: values (a system's type and site do not change)"}});
    }
  }
  const value* patch = cmd.patch.find("values");
  if (patch == nullptr || patch->is_null()) return std::vector<event>{};
  const auto type_id = (*s)->fields.string_at("type_id");
  const owned_state* type = env.system_type(type_id);
  if (type == nullptr) return fail(errc::internal, "the system's type is missing");
  auto values = validate_system_values(type->fields, *patch, false);
  if (!values) return std::unexpected(std::move(values.error()));
  auto sealed = seal_secrets(type->fields, *values, cmd.id.get(), env);
  if (!sealed) return std::unexpected(std::move(sealed.error()));
  const value* current = (*s)->fields.find("values");
  object changed, previous;
  for (const auto& [k, v] : sealed->as_object()) {
    const value* old = current != nullptr ? current->find(k) : nullptr;
    const value before = old != nullptr ? *old : value{};
    // A secret sent again is sealed anew (its plaintext is not compared): it counts as changed.
    if (before == v || (v.is_null() && before.is_null())) continue;
    changed.emplace(k, v);
    previous.emplace(k, before);
  }
  if (changed.empty()) return std::vector<event>{};
  return detail::single(
      system_event(state, **s, event_types::system_changed,
                   object{{"changed", std::move(changed)}, {"previous", std::move(previous)}}));
}

result<std::vector<event>> decide_system(const customer_state& state, const remove_system& cmd) {
  auto s = addressed(state, cmd.id, cmd.if_match);
  if (!s) return std::unexpected(s.error());
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return detail::single(system_event(state, **s, event_types::system_removed,
                                     object{{"type_id", (*s)->fields.string_at("type_id")}}));
}

result<std::vector<event>> decide_system(const customer_state& state,
                                         const reveal_system_secrets& cmd, decide_env& env) {
  auto s = addressed(state, cmd.id, std::nullopt);
  if (!s) return std::unexpected(s.error());
  const owned_state* type = env.system_type((*s)->fields.string_at("type_id"));
  if (type == nullptr) return fail(errc::internal, "the system's type is missing");
  const value* values = (*s)->fields.find("values");
  const auto is_set = [&](std::string_view k) {
    const value* v = values != nullptr ? values->find(k) : nullptr;
    return v != nullptr && is_sealed(*v);
  };
  array keys;
  std::vector<field_error> invalid;
  if (cmd.keys.empty()) {
    for (const auto& f : type->fields.find("fields")->as_array()) {
      if (f.string_at("type") == "secret" && is_set(f.string_at("key"))) {
        keys.emplace_back(f.string_at("key"));
      }
    }
    if (keys.empty()) return fail(errc::not_found, "the system has no secret value set");
  }
  for (std::size_t i = 0; i < cmd.keys.size(); ++i) {
    const auto& k = cmd.keys[i];
    const value* def = definition(type->fields, k);
    const std::string path = "keys[" + std::to_string(i) + "]";
    if (def == nullptr || def->string_at("type") != "secret") {
      invalid.push_back({path, "\"" + k + "\" is not a secret field of this system's type"});
    } else if (!is_set(k)) {
      invalid.push_back({path, "\"" + k + "\" has no value"});
    } else if (std::ranges::find(keys, value(k)) == keys.end()) {
      keys.emplace_back(k);
    }
  }
  if (!invalid.empty())
    return invalid_fields("these secrets cannot be revealed", std::move(invalid));
  return detail::single(system_event(state, **s, event_types::system_secret_revealed,
                                     object{{"keys", std::move(keys)}}));
}

bool evolve_system(customer_state& state, const event& e) {
  const auto& t = e.type;
  if (!t.starts_with("system.")) return false;
  const audit_stamp stamp{e.time, e.actor};
  if (t == event_types::system_assigned) {
    owned_state s;
    s.id = contact_id{e.entity_id};
    object fields{{"type_id", e.data.string_at("type_id")}};
    if (const auto site = e.data.string_at("site_id"); !site.empty()) fields["site_id"] = site;
    const value* values = e.data.find("values");
    fields["values"] = values != nullptr && values->is_object() ? *values : value(object{});
    s.fields = std::move(fields);
    s.parent = e.data.string_at("type_id");
    s.created = stamp;
    state.systems.insert_or_assign(e.entity_id, std::move(s));
  }
  auto it = state.systems.find(e.entity_id);
  if (it == state.systems.end()) return true;  // an event of an unknown system: ignored
  owned_state& s = it->second;
  if (t == event_types::system_changed) {
    value& values = s.fields.as_object()["values"];
    apply_changes(values, e.data);
  } else if (t == event_types::system_removed) {
    s.removed = true;
  }
  s.version = e.version;
  if (t != event_types::system_secret_revealed) s.modified = stamp;  // a reveal changes nothing
  return true;
}

}  // namespace detail

}  // namespace fieldledger::domain

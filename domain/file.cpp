// Files of a customer, of one of its sites or of one of its assets. The content lives in the
// blob store (stored before the command is submitted); the events hold the metadata, so that
// history keeps it after the file is removed.
#include <algorithm>
#include <array>
#include <string>

#include "domain/customer.hpp"
#include "domain/customer_detail.hpp"
#include "domain/file_name.hpp"

namespace fieldledger::domain::detail {

namespace {

constexpr std::array k_file_fields = {
    field_spec{.name = "name",
               .kind = field_kind::string,
               .required = true,
               .max_length = k_max_file_name},
    field_spec{.name = "size",
               .kind = field_kind::integer,
               .required = true,
               .min = 0,
               .max = std::int64_t{1} << 50},
    field_spec{
        .name = "content_type", .kind = field_kind::string, .required = true, .max_length = 255},
    field_spec{.name = "sha256", .kind = field_kind::string, .required = true, .max_length = 64},
};

// type/subtype, each a token (RFC 9110), parameters allowed after ';'.
bool is_media_type(std::string_view s) {
  const auto token_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  const auto semi = s.find(';');
  const auto type = s.substr(0, semi);
  const auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (i != slash && !token_char(type[i])) return false;
  }
  return std::ranges::all_of(s, [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

result<std::vector<event>> decide_file(const customer_state& state, const attach_file& cmd,
                                       decide_env& env) {
  object fields;
  switch (cmd.kind) {
    case file_owner::customer:
      if (!state.exists() || state.id.get() != cmd.owner) return not_found("customer", cmd.owner);
      break;
    case file_owner::site:
      if (!state.exists() || state.live_site(cmd.owner) == nullptr) {
        return not_found("site", cmd.owner);
      }
      fields["site_id"] = cmd.owner;
      break;
    case file_owner::asset:
      if (!state.exists() || state.live_asset(cmd.owner) == nullptr) {
        return not_found("asset", cmd.owner);
      }
      fields["asset_id"] = cmd.owner;
      break;
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  auto valid = validate_fields(k_file_fields, cmd.fields);
  if (!valid) return std::unexpected(std::move(valid.error()));
  std::vector<field_error> wrong;
  const auto name = valid->string_at("name");
  if (auto clean = sanitize_file_name(name); !clean || *clean != name) {
    wrong.push_back({"name", "must be a sanitized file name"});
  }
  if (!is_media_type(valid->string_at("content_type"))) {
    wrong.push_back({"content_type", "must be a media type such as application/pdf"});
  }
  if (!is_sha256_hex(valid->string_at("sha256"))) {
    wrong.push_back({"sha256", "must be a SHA-256 digest in lower-case hex"});
  }
  if (!wrong.empty()) {
    return fail(errc::invalid, "the file's metadata is not valid", std::move(wrong));
  }
  for (auto& [k, v] : valid->as_object()) fields[k] = std::move(v);
  const std::string id = env.new_entity_id();
  return detail::single(make_event(event_types::file_attached, state.id, id,
                                   owned_subject(state.id, "files", id), entity_version{1},
                                   object{{"fields", std::move(fields)}}));
}

result<std::vector<event>> decide_file(const customer_state& state, const remove_file& cmd) {
  auto it = state.exists() ? state.files.find(cmd.id.get()) : state.files.end();
  if (it == state.files.end() || it->second.removed) return not_found("file", cmd.id.get());
  const owned_state& f = it->second;
  if (auto ok = check_if_match(cmd.if_match, f.version, "file"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_not_archived(state); !ok) return std::unexpected(ok.error());
  return detail::single(make_event(
      event_types::file_removed, state.id, f.id.get(), owned_subject(state.id, "files", f.id.get()),
      entity_version{f.version.get() + 1},
      object{{"name", f.fields.string_at("name")}, {"sha256", f.fields.string_at("sha256")}}));
}

bool evolve_file(customer_state& state, const event& e) {
  if (!e.type.starts_with("file.")) return false;
  const audit_stamp stamp{e.time, e.actor};
  if (e.type == event_types::file_attached) {
    owned_state o;
    o.id = contact_id{e.entity_id};
    const value* fields = e.data.find("fields");
    o.fields = fields != nullptr ? *fields : value(object{});
    o.parent = std::string(o.fields.string_at("site_id"));
    if (o.parent.empty()) o.parent = std::string(o.fields.string_at("asset_id"));
    o.created = stamp;
    state.files.insert_or_assign(e.entity_id, std::move(o));
  }
  auto it = state.files.find(e.entity_id);
  if (it == state.files.end()) return true;  // an event of an unknown file: ignored
  if (e.type == event_types::file_removed) it->second.removed = true;
  it->second.version = e.version;
  it->second.modified = stamp;
  return true;
}

}  // namespace fieldledger::domain::detail

#include "projections/audit.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

#include "domain/customer.hpp"
#include "json/event_codec.hpp"
#include "json/parse.hpp"
#include "projections/keys.hpp"
#include "projections/system_views.hpp"
#include "projections/text.hpp"
#include "projections/view.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;
namespace et = domain::event_types;

std::optional<std::string> normalize_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (t.size() < 20 || t.back() != 'Z' || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  }
  if (!is_valid_date(t.substr(0, 10))) return std::nullopt;
  const int hh = (t[11] - '0') * 10 + (t[12] - '0'), mm = (t[14] - '0') * 10 + (t[15] - '0'),
            ss = (t[17] - '0') * 10 + (t[18] - '0');
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::string frac = "000";
  const auto rest = t.substr(19, t.size() - 20);  // "" or ".ddd…"
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
      if (i <= 3) frac[i - 1] = rest[i];
    }
  }
  return std::string(t.substr(0, 19)) + "." + frac + "Z";
}

namespace {

// The entity an event is about, relative to its customer: "customer", "contacts/{id}", …
std::string entity_of(const event& e) {
  const std::string prefix = "customers/" + e.customer.get() + "/";
  if (e.subject.starts_with(prefix)) return e.subject.substr(prefix.size());
  return "customer";
}

// Calls fn(field, before, after) for what an event changed, field by field (not for systems:
// system_changes masks their secrets).
template <typename Fn>
void for_each_change(const event& e, Fn&& fn) {
  const value& d = e.data;
  const value none;
  if (const value* changed = d.find("changed"); changed != nullptr && changed->is_object()) {
    const value* previous = d.find("previous");
    for (const auto& [k, v] : changed->as_object()) {
      const value* before = previous != nullptr ? previous->find(k) : nullptr;
      fn(k, before != nullptr ? *before : none, v);
    }
    return;
  }
  if (const value* fields = d.find("fields"); fields != nullptr && fields->is_object()) {
    if (const auto number = d.string_at("number"); !number.empty()) {
      fn("number", none, value(std::string(number)));
    }
    if (const auto asset = d.string_at("asset_id"); !asset.empty()) {
      fn("asset_id", none, value(std::string(asset)));
    }
    for (const auto& [k, v] : fields->as_object()) fn(k, none, v);
    return;
  }
  const auto text = [](std::string_view t) { return value(std::string(t)); };
  if (e.type == et::customer_deactivated || e.type == et::customer_reactivated ||
      e.type == et::customer_archived || e.type == et::asset_retired) {
    const std::string_view after = e.type == et::customer_deactivated   ? k_status_inactive
                                   : e.type == et::customer_reactivated ? k_status_active
                                   : e.type == et::customer_archived    ? k_status_archived
                                                                        : k_asset_retired;
    fn("status", text(d.string_at("previous_status")), text(after));
  } else if (e.type == et::asset_moved) {
    fn("site_id", text(d.string_at("from_site_id")), text(d.string_at("to_site_id")));
  } else if (e.type.ends_with(".removed")) {
    fn("name", text(d.string_at("name")), none);
  } else if (e.type == et::contact_primary_designated) {
    fn("primary", value(false), value(true));
  }
}

// A history entry, written straight to text: the compact JSON that to_json gives for
// {"actor","changes":[{"after","before","field"}…],"entity","position","time","type"} (members
// in byte order, as to_json writes an object), without building that object first (a rebuild
// renders one per event).
std::string history_entry(const recorded_event& re) {
  const event& e = re.e;
  std::string out;
  out.reserve(256);
  out += "{\"actor\":";
  write_json_string(e.actor, out);
  out += ",\"changes\":[";
  bool first = true;
  const auto separate = [&] {
    if (!first) out += ',';
    first = false;
  };
  if (auto system = system_changes(e)) {  // systems: secrets masked
    for (const auto& c : *system) {
      separate();
      write_json(c, out);
    }
  } else {
    for_each_change(e, [&](std::string_view field, const value& before, const value& after) {
      separate();
      out += "{\"after\":";
      write_json(after, out);
      out += ",\"before\":";
      write_json(before, out);
      out += ",\"field\":";
      write_json_string(field, out);
      out += '}';
    });
  }
  out += "],\"entity\":";
  write_json_string(entity_of(e), out);
  out += ",\"position\":";
  write_json_string(to_string(re.position), out);
  out += ",\"time\":";
  write_json_string(e.time, out);
  out += ",\"type\":";
  write_json_string(e.type, out);
  out += '}';
  return out;
}

constexpr std::string_view k_history_prefix = "hi/";

// "hi/<customer>/<offset inverted, 19 digits>": a forward scan gives newest first. A
// customer's events share one partition, so the offset alone orders them.
std::string history_key(std::string_view customer, std::int64_t offset) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%019lld",
                static_cast<long long>(std::numeric_limits<std::int64_t>::max() - offset));
  std::string k(k_history_prefix);
  k += customer;
  k += '/';
  k += digits;
  return k;
}

std::int64_t offset_of_history_key(std::string_view key) {
  long long inverted = 0;
  const auto digits = key.substr(key.size() - 19);
  std::from_chars(digits.data(), digits.data() + digits.size(), inverted);
  return std::numeric_limits<std::int64_t>::max() - inverted;
}

// The history of every customer, one entry per event, as history() answers it.
class history_view final : public view {
 public:
  std::string_view name() const override { return "history"; }
  result<void> apply(const recorded_event& re, batch& b) override {
    b.put(history_key(re.e.customer.get(), re.position.offset.get()), history_entry(re));
    return {};
  }
};

}  // namespace

std::unique_ptr<view> make_history_view() { return std::make_unique<history_view>(); }

result<std::vector<recorded_event>> audit::events_of(const customer_id& customer) const {
  // The customer's offsets, from its history entries (newest first), then its events from
  // the log in runs of consecutive offsets.
  std::vector<std::int64_t> offsets;
  const auto prefix =
      history_key(customer.get(), 0).substr(0, k_history_prefix.size() + customer.get().size() + 1);
  auto scanned = views_.scan(prefix, "", [&](std::string_view k, std::string_view) {
    offsets.push_back(offset_of_history_key(k));
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  std::ranges::reverse(offsets);
  const auto p = partition_for(customer, log_.partition_count());
  std::vector<recorded_event> out;
  for (std::size_t i = 0; i < offsets.size();) {
    std::size_t j = i + 1;
    while (j < offsets.size() && offsets[j] == offsets[j - 1] + 1) ++j;
    auto run = log_.read(p, log_offset{offsets[i]}, j - i);
    if (!run) return std::unexpected(run.error());
    for (auto& re : *run) {
      if (re.e.customer == customer && re.position.offset.get() <= offsets[j - 1]) {
        out.push_back(std::move(re));
      }
    }
    i = j;
  }
  return out;
}

result<customer_id> audit::owner_of(std::string_view entity_id) const {
  auto owner = views_.get(keys::key("ow/", entity_id));
  if (!owner) return std::unexpected(owner.error());
  if (*owner) return customer_id{**owner};
  // Not an owned entity: a customer id (or nothing, which the customer's empty log tells).
  return customer_id{std::string(entity_id)};
}

result<page> audit::history(const customer_id& customer, const history_filter& f) const {
  std::string after;
  if (!f.cursor.empty()) {
    std::int64_t offset = 0;
    const auto [p, ec] =
        std::from_chars(f.cursor.data(), f.cursor.data() + f.cursor.size(), offset);
    if (ec != std::errc{} || p != f.cursor.data() + f.cursor.size() || offset < 0) {
      return fail(errc::invalid, "the cursor does not belong to this history",
                  {{"cursor", "pass the next_cursor of the previous page"}});
    }
    after = history_key(customer.get(), offset);
  }
  const auto prefix =
      history_key(customer.get(), 0).substr(0, k_history_prefix.size() + customer.get().size() + 1);
  const std::size_t limit =
      std::clamp<std::size_t>(f.limit == 0 ? k_default_page : f.limit, 1, k_max_page);
  page out;
  bool any = !f.cursor.empty();
  std::int64_t last_taken = -1;
  std::optional<error> bad;
  auto scanned = views_.scan(prefix, after, [&](std::string_view k, std::string_view v) {
    any = true;
    auto item = json::parse(v);
    if (!item) {
      bad = item.error();
      return false;
    }
    const auto time = item->string_at("time");
    if ((!f.entity.empty() && item->string_at("entity") != f.entity) ||
        (!f.type.empty() && item->string_at("type") != f.type) ||
        (!f.actor.empty() && item->string_at("actor") != f.actor) ||
        (!f.since.empty() && time < f.since) || (!f.until.empty() && time > f.until)) {
      return true;
    }
    if (out.items.size() == limit) {
      out.next_cursor = std::to_string(last_taken);  // the next page starts below it
      return false;
    }
    out.items.emplace_back(v);
    last_taken = offset_of_history_key(k);
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (bad) return std::unexpected(*bad);
  if (!any) return fail(errc::not_found, "no customer with id \"" + customer.get() + "\"");
  return out;
}

result<std::unique_ptr<memory_view_store>> audit::as_of(const customer_id& customer,
                                                        const std::string& as_of) const {
  auto events = events_of(customer);
  if (!events) return std::unexpected(events.error());
  auto store = std::make_unique<memory_view_store>();
  auto views = make_views();
  std::erase_if(views, [](const auto& v) { return v->name() == "history"; });  // not asked of it
  for (const auto& re : *events) {
    if (re.e.time > as_of) break;  // a customer's events are in time order
    batch b(*store);
    for (auto& v : views) {
      if (auto ok = v->apply(re, b); !ok) return std::unexpected(ok.error());
    }
    const auto ops = b.take();
    if (auto ok = store->commit(ops); !ok) return std::unexpected(ok.error());
  }
  return store;
}

result<feed_page> audit::events(const feed_filter& f) const {
  const auto n = log_.partition_count();
  std::vector<std::int64_t> next(n, 0);
  if (!f.after.empty()) {
    // "o0.o1.…": the next offset of every partition.
    std::size_t p = 0;
    std::string_view rest = f.after;
    while (p < n) {
      const auto dot = rest.find('.');
      const auto item = rest.substr(0, dot);
      const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), next[p]);
      if (ec != std::errc{} || end != item.data() + item.size() || next[p] < 0) break;
      ++p;
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    if (p != n) {
      return fail(errc::invalid, "after is not a cursor of this feed",
                  {{"after", "pass the next cursor of the previous page"}});
    }
  }
  const std::size_t limit = std::clamp<std::size_t>(f.limit == 0 ? 500 : f.limit, 1, 5000);
  feed_page out;
  const auto wanted = [&](const event& e) {
    return (f.customer.empty() || e.customer.get() == f.customer) &&
           (f.types.empty() || std::ranges::find(f.types, e.type) != f.types.end());
  };
  const auto render = [](const recorded_event& re) {
    std::string doc = json::encode_event(re.e);
    doc.pop_back();
    doc += ",\"position\":\"" + to_string(re.position) + "\"}";
    return doc;
  };
  const auto cursor = [&] {
    std::string c;
    for (std::uint32_t q = 0; q < n; ++q) {
      if (q > 0) c += '.';
      c += std::to_string(next[q]);
    }
    return c;
  };
  for (std::uint32_t p = 0; p < n && out.items.size() < limit; ++p) {
    if (!f.customer.empty() && partition_for(customer_id{f.customer}, n).get() != p) continue;
    while (out.items.size() < limit) {
      // Shared: a page at the head of the log (what a live stream polls for) is the recent
      // events this server keeps, not a copy of each.
      auto batch = log_.read_shared(partition_id{p}, log_offset{next[p]}, 1024);
      if (!batch) return std::unexpected(batch.error());
      if (batch->empty()) break;
      for (const auto& re : *batch) {
        if (out.items.size() == limit) break;
        next[p] = re->position.offset.get() + 1;
        if (wanted(re->e)) {
          out.items.push_back(render(*re));
          out.cursors.push_back(cursor());
        }
      }
    }
  }
  out.next = cursor();
  return out;
}

}  // namespace fieldledger::projections

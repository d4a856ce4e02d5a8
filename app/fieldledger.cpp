// fieldledger: the operator's tool. `keys create|list|revoke` manage API keys (also while the
// server runs). For a stopped server's data directory (embedded log):
//   rebuild  rebuilds every view from the log
//   verify   rebuilds into memory and compares with the views on disk (exit 0 only if equal)
//   export   writes the events as newline-delimited CloudEvents JSON
//   import   appends such a file to an empty log
// and `kafka-mock`, which runs librdkafka's mock Kafka cluster in the foreground, so anyone
// can try fieldledgerd's Kafka mode, or point a Kafka client at it, without a broker.
#include <utility>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <set>

#include <sodium.h>

#include <iostream>
#include <map>

#include "api/auth.hpp"
#include "commands/write_model.hpp"
#include "infra/file_blob_store.hpp"
#include "infra/kafka_mock.hpp"
#include "infra/rocksdb_event_log.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "infra/view_generations.hpp"
#include "json/event_codec.hpp"
#include "projections/audit.hpp"
#include "projections/checkpoints.hpp"
#include "projections/memory_view_store.hpp"
#include "projections/runner.hpp"
#include "projections/text.hpp"

using namespace fieldledger;

namespace {

// Logs why a command failed; its exit status.
int failed(const domain::error& e) {
  spdlog::error("{}", e.detail);
  return 1;
}

int kafka_mock(int brokers, int partitions, const std::string& topic) {
  auto cluster = infra::kafka_mock_cluster::start(brokers, topic, partitions);
  if (!cluster) return failed(cluster.error());
  std::printf("%s\n", (*cluster)->bootstraps().c_str());
  std::fflush(stdout);
  spdlog::info(
      "mock Kafka cluster: {} brokers, topic {} with {} partitions; bootstrap servers "
      "{} (printed on stdout). Ctrl-C stops it; its data lives in memory only.",
      brokers, topic, partitions, (*cluster)->bootstraps());
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}

// Reports a long run's progress on stderr about once a second: done of total, events/s, ETA.
class progress {
 public:
  using clock = std::chrono::steady_clock;
  progress(std::string what, std::uint64_t total) : what_(std::move(what)), total_(total) {}

  void update(std::uint64_t done, bool final = false) {
    const auto now = clock::now();
    if (!final && now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    if (final) {
      spdlog::info("{}: {} events in {:.1f} s ({:.0f} events/s)", what_, done, secs, rate);
      return;
    }
    const double left = rate > 0 && total_ > done ? static_cast<double>(total_ - done) / rate : 0;
    spdlog::info("{}: {} of {} ({:.0f} events/s, ETA {:.0f} s)", what_, done, total_, rate, left);
  }

 private:
  std::string what_;
  std::uint64_t total_;
  clock::time_point start_ = clock::now(), last_ = clock::now();
};

std::uint64_t log_size(domain::event_log& log) {
  std::uint64_t n = 0;
  for (std::uint32_t p = 0; p < log.partition_count(); ++p) {
    n += static_cast<std::uint64_t>(log.end_offset(domain::partition_id{p}).get());
  }
  return n;
}

std::uint64_t applied_sum(const projections::runner& r) {
  std::uint64_t n = 0;
  for (const auto& o : r.applied()) n += static_cast<std::uint64_t>(o.get());
  return n;
}

// Runs r.catch_up() on a thread of its own, reporting progress meanwhile, then finish (if
// any) before the final figure, so that the figure covers it too.
domain::result<void> catch_up_showing(projections::runner& r, domain::event_log& log,
                                      const std::string& what,
                                      const std::function<domain::result<void>()>& finish = {}) {
  progress shown(what, log_size(log));
  auto done = std::async(std::launch::async, [&r] { return r.catch_up(); });
  while (done.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) {
    shown.update(applied_sum(r));
  }
  auto outcome = done.get();
  if (outcome && finish) outcome = finish();
  if (outcome) shown.update(applied_sum(r), true);
  return outcome;
}

struct data_options {
  std::string data = "./data";
  std::uint32_t partitions = 4;
};

// Opens the embedded log of a stopped server (RocksDB's lock refuses a running one).
std::unique_ptr<infra::rocksdb_event_log> open_log(const data_options& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.data, ec);
  auto log = infra::rocksdb_event_log::open(o.data + "/log", o.partitions);
  if (!log) {
    const bool locked = log.error().detail.find("lock") != std::string::npos;
    spdlog::error("{}{}", log.error().detail,
                  locked ? ". Hint: stop fieldledgerd first; it holds the data directory." : "");
    return nullptr;
  }
  return std::move(*log);
}

// The current generation of the views (see infra/view_generations.hpp).
domain::result<std::shared_ptr<projections::view_store>> open_views(const data_options& o) {
  auto generation = infra::current_view_generation(o.data);
  if (!generation) return std::unexpected(generation.error());
  return infra::open_view_generation(o.data, *generation);
}

// Builds the next generation of the views without a write-ahead log, seals it (flushed to
// table files) and only then records it as current: a crash or a failure before that leaves
// the previous generation current and whole, and its half-built successor is removed (here, on
// the next rebuild, or by fieldledgerd at start).
int rebuild(const data_options& o) {
  auto log = open_log(o);
  if (!log) return 1;
  const auto current = infra::current_view_generation(o.data);
  if (!current) return failed(current.error());
  infra::remove_other_view_generations(o.data, *current);  // left by a crash mid-rebuild
  const auto next = *current + 1;
  auto views = infra::open_view_generation(o.data, next, infra::view_generation_mode::bulk);
  if (!views) return failed(views.error());
  {
    projections::runner runner(*log, **views, projections::make_views());
    const auto seal = [&views] { return (*views)->seal(); };
    if (auto ok = catch_up_showing(runner, *log, "rebuild", seal); !ok) {
      spdlog::error("rebuild failed: {}; generation {} of the views stays current",
                    ok.error().detail, *current);
      return 1;
    }
  }
  if (auto ok = infra::set_current_view_generation(o.data, next); !ok) return failed(ok.error());
  views->reset();
  infra::remove_other_view_generations(o.data, next);
  spdlog::info("views rebuilt from the log in {} (generation {})", o.data, next);
  return 0;
}

// Keys grouped by view prefix ("cu/", "ct/", …, "~ckpt/"), with a checksum per group.
struct group_summary {
  std::size_t keys = 0;
  crypto_generichash_state hash{};
};

int verify(const data_options& o) {
  auto log = open_log(o);
  if (!log) return 1;
  auto live = open_views(o);
  if (!live) return failed(live.error());
  projections::memory_view_store fresh;
  projections::runner runner(*log, fresh, projections::make_views());
  if (auto ok = catch_up_showing(runner, *log, "rebuild into memory"); !ok) {
    spdlog::error("rebuild into memory failed: {}", ok.error().detail);
    return 1;
  }
  // Checkpoints are compared by what they say (each view's next offset in each partition), not
  // by how they are keyed: views written by an earlier release keep one key per view until a
  // partition's next commit, where a rebuild writes one key for all.
  const auto names = runner.view_names();
  std::optional<domain::error> unreadable;
  const auto dump = [&](const projections::view_store& s) {
    std::vector<std::pair<std::string, std::string>> out;
    (void)s.scan("", "", [&](std::string_view k, std::string_view v) {
      if (!k.starts_with("~ckpt/")) out.emplace_back(k, v);
      return true;
    });
    for (std::uint32_t p = 0; p < log->partition_count(); ++p) {
      auto ck = projections::partition_checkpoints::read(s, names, p);
      if (!ck) {
        unreadable = ck.error();
        break;
      }
      for (std::size_t v = 0; v < names.size(); ++v) {
        if (ck->next()[v] == 0) continue;
        out.emplace_back(projections::checkpoint_key(names[v], p), std::to_string(ck->next()[v]));
      }
    }
    return out;
  };
  const auto a = dump(**live), b = dump(fresh);
  if (unreadable) return failed(*unreadable);
  const auto group_of = [](const std::string& key) {
    const auto slash = key.find('/');
    return slash == std::string::npos ? key : key.substr(0, slash + 1);
  };
  const auto summarize = [&](const std::vector<std::pair<std::string, std::string>>& kv) {
    std::map<std::string, group_summary> out;
    for (const auto& [k, v] : kv) {
      auto [it, fresh_group] = out.try_emplace(group_of(k));
      if (fresh_group) crypto_generichash_init(&it->second.hash, nullptr, 0, 32);
      ++it->second.keys;
      const std::string line = k + '\0' + v + '\0';
      crypto_generichash_update(&it->second.hash,
                                reinterpret_cast<const unsigned char*>(line.data()), line.size());
    }
    std::map<std::string, std::pair<std::size_t, std::string>> sums;
    for (auto& [g, sum] : out) {
      unsigned char digest[32];
      crypto_generichash_final(&sum.hash, digest, sizeof digest);
      char hex[65];
      sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
      sums[g] = {sum.keys, std::string(hex, 16)};
    }
    return sums;
  };
  const auto live_sums = summarize(a), fresh_sums = summarize(b);
  bool equal = true;
  std::set<std::string> groups;
  for (const auto& [g, s] : live_sums) groups.insert(g);
  for (const auto& [g, s] : fresh_sums) groups.insert(g);
  for (const auto& g : groups) {
    const auto l =
        live_sums.contains(g) ? live_sums.at(g) : std::pair<std::size_t, std::string>{0, "-"};
    const auto f =
        fresh_sums.contains(g) ? fresh_sums.at(g) : std::pair<std::size_t, std::string>{0, "-"};
    const bool same = l == f;
    equal = equal && same;
    std::printf(
        "%-8s %8zu keys  %s  %s\n", g.c_str(), l.first, l.second.c_str(),
        same
            ? "ok"
            : ("DIFFERS (rebuilt: " + std::to_string(f.first) + " keys " + f.second + ")").c_str());
  }
  if (!equal) {
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    const std::string key = i < a.size() ? a[i].first : i < b.size() ? b[i].first : "";
    std::printf("first differing key: %s\n", projections::encode_cursor(key).c_str());
  }
  std::printf("%s\n", equal ? "views equal a rebuild from the log" : "views DIFFER from a rebuild");
  return equal ? 0 : 3;
}

int export_events(const data_options& o, const std::string& after, const std::string& customer) {
  auto log = open_log(o);
  if (!log) return 1;
  projections::memory_view_store none;
  projections::audit audit(*log, none);
  projections::feed_filter f;
  f.after = after;
  f.customer = customer;
  f.limit = 5000;
  std::size_t n = 0;
  progress shown("export", log_size(*log));
  const auto scanned = [](const std::string& cursor) {
    std::uint64_t sum = 0;
    for (std::size_t at = 0; at < cursor.size();) {
      auto dot = cursor.find('.', at);
      if (dot == std::string::npos) dot = cursor.size();
      sum += std::strtoull(cursor.substr(at, dot - at).c_str(), nullptr, 10);
      at = dot + 1;
    }
    return sum;
  };
  for (;;) {
    auto page = audit.events(f);
    if (!page) {
      spdlog::error("{}", page.error().detail);
      return 1;
    }
    for (const auto& doc : page->items) {
      std::fwrite(doc.data(), 1, doc.size(), stdout);
      std::fputc('\n', stdout);
    }
    n += page->items.size();
    shown.update(scanned(page->next));
    if (page->items.empty() || page->next == f.after) break;
    f.after = page->next;
  }
  std::fflush(stdout);
  shown.update(n, true);
  spdlog::info("exported {} events; continue after {}", n, f.after);
  return 0;
}

int import_events(const data_options& o) {
  auto log = open_log(o);
  if (!log) return 1;
  for (std::uint32_t p = 0; p < log->partition_count(); ++p) {
    if (log->end_offset(domain::partition_id{p}).get() > 0) {
      spdlog::error("the log in {} is not empty; import appends to an empty log only", o.data);
      return 1;
    }
  }
  // Every line is read and checked before anything is appended: a bad file imports nothing.
  std::vector<domain::event> events;
  std::size_t line_no = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (line.empty()) continue;
    auto e = json::decode_event(line);
    if (!e) {
      spdlog::error("line {}: {}; nothing was imported", line_no, e.error().detail);
      return 1;
    }
    events.push_back(std::move(*e));
  }
  std::size_t n = 0;
  progress shown("import", events.size());
  for (std::size_t i = 0; i < events.size(); i += 1000) {
    const auto count = std::min<std::size_t>(1000, events.size() - i);
    auto r = log->append(std::span(events).subspan(i, count));
    if (!r) {
      spdlog::error("append failed after {} events: {}", n, r.error().detail);
      return 1;
    }
    n += count;
    shown.update(n);
  }
  shown.update(n, true);
  spdlog::info("imported {} events into {}; start fieldledgerd (or run rebuild) to build the views",
               n, o.data);
  return 0;
}

// API keys (see api/auth.hpp); safe while fieldledgerd runs: it re-reads the key file.
// files: removes the content no file references any more, past the grace period.
int files_gc(const data_options& o, int grace_s) {
  auto log = open_log(o);
  if (!log) return 1;
  commands::write_model model;
  if (auto restored = model.restore(*log); !restored) return failed(restored.error());
  auto blobs = infra::file_blob_store::open(o.data + "/blobs");
  if (!blobs) return failed(blobs.error());
  const auto live = model.live_file_digests();
  auto removed = (*blobs)->collect(live, std::chrono::seconds(grace_s));
  if (!removed) return failed(removed.error());
  std::printf("removed %zu unreferenced blobs; %zu files reference content\n", *removed,
              live.size());
  return 0;
}

std::unique_ptr<api::auth> open_keys(const std::string& data) {
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  auto keys = api::auth::open(data);
  if (!keys) {
    spdlog::error("{}", keys.error().detail);
    return nullptr;
  }
  return std::move(*keys);
}

int keys_create(const std::string& data, const std::string& name, const std::string& role) {
  auto keys = open_keys(data);
  if (!keys) return 1;
  auto made = keys->create(name, role);
  if (!made) return failed(made.error());
  std::printf("%s\n", made->key.c_str());
  spdlog::info("key {} named {} with role {} created; it is shown once, above, and stored nowhere",
               made->record.id, name, role);
  return 0;
}

int keys_list(const std::string& data) {
  auto keys = open_keys(data);
  if (!keys) return 1;
  auto all = keys->list();
  if (!all) return failed(all.error());
  std::printf("%-12s  %-24s  %-8s  %-24s  %s\n", "id", "name", "role", "created", "revoked");
  for (const auto& k : *all) {
    std::printf("%-12s  %-24s  %-8s  %-24s  %s\n", k.id.c_str(), k.name.c_str(), k.role.c_str(),
                k.created_at.c_str(), k.revoked_at.empty() ? "-" : k.revoked_at.c_str());
  }
  return 0;
}

int keys_revoke(const std::string& data, const std::string& id) {
  auto keys = open_keys(data);
  if (!keys) return 1;
  auto revoked = keys->revoke(id);
  if (!revoked) return failed(revoked.error());
  spdlog::info("key {} ({}) revoked at {}", id, revoked->name, revoked->revoked_at);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("fieldledger"));  // stdout carries data
  CLI::App app{"fieldledger: operator tool for fieldledgerd"};
  app.require_subcommand(1);
  int brokers = 3, partitions = 4;
  std::string topic = "fieldledger.events";
  auto* mock = app.add_subcommand("kafka-mock", "run librdkafka's mock Kafka cluster");
  mock->add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 9));
  mock->add_option("--partitions", partitions, "partitions of the events topic")
      ->check(CLI::Range(1, 256));
  mock->add_option("--topic", topic, "the topic to create");

  data_options data;
  std::string after, customer;
  const auto with_data = [&](CLI::App* cmd) {
    cmd->add_option("--data", data.data, "the data directory of a stopped fieldledgerd");
    cmd->add_option("--partitions", data.partitions, "partitions of a new log (import)")
        ->check(CLI::Range(1, 256));
    return cmd;
  };
  auto* rebuild_cmd = with_data(app.add_subcommand("rebuild", "rebuild every view from the log"));
  auto* verify_cmd = with_data(app.add_subcommand(
      "verify", "compare the views with a rebuild from the log (exit 0 only when equal)"));
  auto* export_cmd = with_data(app.add_subcommand(
      "export", "write the events as newline-delimited CloudEvents JSON to stdout"));
  export_cmd->add_option("--after", after, "continue after this feed cursor (from /v1/events)");
  export_cmd->add_option("--customer", customer, "only this customer's events");
  auto* import_cmd = with_data(app.add_subcommand(
      "import", "append newline-delimited CloudEvents JSON from stdin to an empty log"));
  auto* keys_cmd = app.add_subcommand("keys", "API keys: create, list, revoke");
  keys_cmd->require_subcommand(1);
  std::string key_data = "./data", key_name, key_role, key_id;
  auto* key_create = keys_cmd->add_subcommand("create", "create a key; it is printed once");
  key_create->add_option("--name", key_name, "who holds it: the actor of the events it causes")
      ->required();
  key_create->add_option("--role", key_role, "reader, writer, auditor or admin")
      ->required()
      ->check(CLI::IsMember({"reader", "writer", "auditor", "admin"}));
  auto* key_list = keys_cmd->add_subcommand("list", "list the keys (never their secrets)");
  auto* key_revoke = keys_cmd->add_subcommand("revoke", "revoke a key at once");
  key_revoke->add_option("id", key_id, "the key's id (from keys list)")->required();
  for (auto* c : {key_create, key_list, key_revoke}) {
    c->add_option("--data", key_data, "the data directory");
  }
  // files
  auto* files_cmd = app.add_subcommand("files", "file content in DATA/blobs");
  files_cmd->require_subcommand(1);
  int grace_s = 3600;
  auto* files_gc_cmd = with_data(files_cmd->add_subcommand(
      "gc", "remove content no file references (removed files, uploads that never completed)"));
  files_gc_cmd->add_option("--grace", grace_s, "keep content younger than this, in seconds")
      ->check(CLI::Range(0, 30 * 24 * 3600));
  CLI11_PARSE(app, argc, argv);
  if (files_gc_cmd->parsed()) return files_gc(data, grace_s);
  if (key_create->parsed()) return keys_create(key_data, key_name, key_role);
  if (key_list->parsed()) return keys_list(key_data);
  if (key_revoke->parsed()) return keys_revoke(key_data, key_id);
  if (rebuild_cmd->parsed()) return rebuild(data);
  if (verify_cmd->parsed()) return verify(data);
  if (export_cmd->parsed()) return export_events(data, after, customer);
  if (import_cmd->parsed()) return import_events(data);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (mock->parsed()) return kafka_mock(brokers, partitions, topic);
  return 2;
}

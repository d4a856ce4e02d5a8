// fieldledgerd: the server. Wires the event log (embedded RocksDB by default, or Kafka), the
// write side, the projections and the HTTP API together, and stops them cleanly on SIGINT /
// SIGTERM.
#include <utility>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>

#include "api/auth.hpp"
#include "api/server.hpp"
#include "commands/pipeline.hpp"
#include "infra/file_blob_store.hpp"
#include "infra/kafka_event_log.hpp"
#include "infra/recent_events_log.hpp"
#include "infra/rocksdb_event_log.hpp"
#include "infra/rocksdb_state_store.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "infra/secret_box.hpp"
#include "infra/view_generations.hpp"
#include "projections/generation_store.hpp"
#include "projections/queries.hpp"
#include "projections/rebuilder.hpp"
#include "projections/runner.hpp"

using namespace fieldledger;

namespace {

struct config {
  std::string data = "./data";
  std::string listen = "127.0.0.1:8080";
  std::uint32_t partitions = 4;
  std::size_t threads = 2;
  std::size_t body_limit = 1 << 20;
  std::string kafka;  // bootstrap servers; empty: the embedded log
  std::string kafka_topic = "fieldledger.events";
  std::string kafka_transactional_id;
  int kafka_replication = 1;
  int kafka_timeout_ms = 10000;
  std::string tls_cert, tls_key;  // both: HTTPS
  std::size_t header_limit = 16 << 10;
  std::size_t max_connections = 4096;
  std::size_t max_streams = 64;
  int read_timeout_s = 30;
  // files
  std::size_t max_file_bytes = std::size_t{32} << 20;
  int blob_grace_s = 3600;           // unreferenced content younger than this is not collected
  std::size_t block_cache_mb = 256;  // the views' data blocks in memory, MiB
  std::size_t value_cache_mb = 128;  // the views' recently read values in memory, MiB
  std::size_t recent_events = 1024;  // events appended here kept decoded, per partition
  int idempotency_retention_h = 24;  // how long an Idempotency-Key is remembered
  // Customer states held by the write model, in entities (customers, contacts, sites, ...);
  // the others are read back (DATA/write-model, then the log) when a command needs them.
  // 0: no limit.
  std::size_t write_model_entities = 2'000'000;
  infra::view_store_memory view_memory() const {
    return {.block_cache_bytes = block_cache_mb << 20, .value_cache_bytes = value_cache_mb << 20};
  }
};

domain::result<std::unique_ptr<domain::event_log>> open_log(const config& cfg) {
  if (cfg.kafka.empty()) {
    auto log = infra::rocksdb_event_log::open(cfg.data + "/log", cfg.partitions);
    if (!log) return std::unexpected(log.error());
    return std::unique_ptr<domain::event_log>(std::move(*log));
  }
  infra::kafka_options o;
  o.brokers = cfg.kafka;
  o.topic = cfg.kafka_topic;
  o.partitions = cfg.partitions;
  o.replication_factor = cfg.kafka_replication;
  o.transactional_id = cfg.kafka_transactional_id;
  o.timeout = std::chrono::milliseconds(cfg.kafka_timeout_ms);
  auto log = infra::kafka_event_log::open(o);
  if (!log) return std::unexpected(log.error());
  return std::unique_ptr<domain::event_log>(std::move(*log));
}

bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return !host.empty();
}

int serve(const config& cfg) {
  std::error_code ec;
  std::filesystem::create_directories(cfg.data, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", cfg.data, ec.message());
    return 1;
  }
  auto log = open_log(cfg);
  if (!log) {
    spdlog::error("cannot open the event log: {}", log.error().detail);
    return 1;
  }
  // The events this process appends reach the projections (and live streams) as they were
  // appended, without being read back from the log and decoded.
  *log = std::make_unique<infra::recent_events_log>(std::move(*log), cfg.recent_events);
  const auto generation = infra::current_view_generation(cfg.data);
  if (!generation) {
    spdlog::error("{}", generation.error().detail);
    return 1;
  }
  infra::remove_other_view_generations(cfg.data, *generation);  // left by a crash mid-rebuild
  auto views = infra::open_view_generation(cfg.data, *generation, infra::view_generation_mode::live,
                                           cfg.view_memory());
  if (!views) {
    spdlog::error("cannot open the views: {}", views.error().detail);
    return 1;
  }
  projections::generation_store store(std::move(*views), *generation);
  auto keys = api::auth::open(cfg.data);
  if (!keys) {
    spdlog::error("cannot set up API keys: {}", keys.error().detail);
    return 1;
  }

  // systems: the key that seals secret values (DATA_DIR/secret.key, created on first start)
  auto secrets = infra::sodium_secret_box::open_key_file(cfg.data);
  if (!secrets) {
    spdlog::error("cannot set up the secret key: {}", secrets.error().detail);
    return 1;
  }
  commands::write_model model;
  model.set_secrets(secrets->get());
  model.set_idempotency_retention(std::chrono::hours(cfg.idempotency_retention_h));
  model.set_entity_limit(cfg.write_model_entities);
  // Evicted states go to DATA/write-model (emptied here: a cache of this process's states).
  std::unique_ptr<infra::rocksdb_state_store> states;
  if (cfg.write_model_entities > 0) {
    auto opened = infra::rocksdb_state_store::open(cfg.data + "/write-model");
    if (!opened) {
      spdlog::error("cannot open the write model's state store: {}", opened.error().detail);
      return 1;
    }
    states = std::move(*opened);
    model.set_state_store(states.get());
  }
  if (auto restored = model.restore(**log); !restored) {
    spdlog::error("cannot restore the write model: {}", restored.error().detail);
    return 1;
  }
  const auto held = model.memory();
  spdlog::info(
      "write model restored: {} customers, {} held ({} entities; {} read back from the "
      "log while restoring)",
      model.customer_count(), held.held_customers, held.held_entities, held.loads);

  // files: content in DATA/blobs; what no file references any more (removed files, uploads
  // whose event never made it) is collected now, from the restored model, past the grace.
  auto blobs = infra::file_blob_store::open(cfg.data + "/blobs");
  if (!blobs) {
    spdlog::error("cannot open the blob store: {}", blobs.error().detail);
    return 1;
  }
  if (auto removed =
          (*blobs)->collect(model.live_file_digests(), std::chrono::seconds(cfg.blob_grace_s));
      !removed) {
    spdlog::warn("blob collection failed: {}", removed.error().detail);
  } else if (*removed > 0) {
    spdlog::info("blobs: removed {} no file references", *removed);
  }
  boost::asio::thread_pool blob_io(2);  // writes and syncs of uploads, off the I/O threads

  // Views are ready once they have applied what the log held at start-up: every partition's
  // end offset at start, less the offsets that hold no event (Kafka transaction markers).
  std::vector<domain::log_offset> ends;
  for (std::uint32_t p = 0; p < (*log)->partition_count(); ++p) {
    ends.push_back((*log)->end_offset(domain::partition_id{p}));
  }
  projections::runner runner(**log, store, projections::make_views());
  runner.start();
  projections::queries queries(store);
  projections::audit audit(**log, store);
  projections::rebuilder rebuild(
      **log, store, runner,
      [&cfg](std::uint64_t g) {
        return infra::open_view_generation(cfg.data, g, infra::view_generation_mode::bulk,
                                           cfg.view_memory());
      },
      [&cfg](std::uint64_t g) -> domain::result<void> {
        if (auto ok = infra::set_current_view_generation(cfg.data, g); !ok) return ok;
        spdlog::info("views: generation {} rebuilt from the log and now current", g);
        return {};
      });
  commands::pipeline pipeline(**log, model);
  pipeline.start();

  std::string host;
  std::uint16_t port = 0;
  split_listen(cfg.listen, host, port);
  api::server_options options;
  options.address = host;
  options.port = port;
  options.threads = cfg.threads;
  options.body_limit = cfg.body_limit;
  options.header_limit = cfg.header_limit;
  options.max_connections = cfg.max_connections;
  options.max_streams = cfg.max_streams;
  options.read_timeout = std::chrono::seconds(cfg.read_timeout_s);
  options.tls_cert = cfg.tls_cert;
  options.tls_key = cfg.tls_key;
  options.handling.max_file_bytes = cfg.max_file_bytes;
  auto caught_up = std::make_shared<std::atomic<bool>>(false);
  auto ready = [&runner, &log, ends, caught_up] {
    if (*caught_up) return true;
    const auto applied = runner.applied();
    for (std::uint32_t p = 0; p < ends.size(); ++p) {
      if (applied.size() <= p) return false;
      if (applied[p] >= ends[p]) continue;
      // Behind the end seen at start: ready only when nothing but markers lies between.
      auto rest = (*log)->read(domain::partition_id{p}, applied[p], 1);
      if (!rest) return false;
      if (!rest->empty() && rest->front().position.offset < ends[p]) return false;
    }
    *caught_up = true;
    return true;
  };
  api::services services{pipeline, queries, runner, **keys, ready, audit, &rebuild, secrets->get()};
  services.blobs = blobs->get();
  services.run_blocking = [&blob_io](std::function<void()> work) {
    boost::asio::post(blob_io, std::move(work));
  };
  api::server server(std::move(services), options);
  const auto bound = server.start();
  if (!bound) {
    spdlog::error("{}", bound.error().detail);
    rebuild.stop();
    pipeline.stop();
    runner.stop();
    return 1;
  }
  spdlog::info("fieldledgerd listening on {}://{}:{} (data in {}, {}, {} partitions)",
               cfg.tls_cert.empty() ? "http" : "https", host, *bound, cfg.data,
               cfg.kafka.empty() ? std::string("embedded log")
                                 : "Kafka topic " + cfg.kafka_topic + " at " + cfg.kafka,
               cfg.partitions);
  spdlog::info("admin API key: {} (send it as 'Authorization: Bearer <key>')",
               (*keys)->admin_key_path().empty() ? std::string("from FIELDLEDGER_ADMIN_KEY")
                                                 : "written to " + (*keys)->admin_key_path());

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  server.stop();
  blob_io.join();  // uploads in progress finish (their commands still reach the pipeline)
  rebuild.stop();
  pipeline.stop();
  // The views take in the tail of the log (nothing is appended any more), so that a clean stop
  // leaves them equal to the log and `fieldledger verify` agrees.
  if (auto drained = runner.stop_drained(); !drained) {
    spdlog::warn(
        "views: the tail of the log was not applied at stop ({}); they catch up at the "
        "next start",
        drained.error().detail);
  }
  (*log)->close();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  CLI::App app{"fieldledgerd: the fieldledger server (event-sourced customer management)"};
  app.add_option("--data", cfg.data, "data directory (event log, views, admin.key)");
  app.add_option("--listen", cfg.listen, "address:port to listen on")
      ->check([](const std::string& s) {
        std::string h;
        std::uint16_t p;
        return split_listen(s, h, p) ? std::string() : "expected HOST:PORT, e.g. 127.0.0.1:8080";
      });
  app.add_option("--partitions", cfg.partitions,
                 "partitions of a new embedded log / of the Kafka topic")
      ->check(CLI::Range(1, 256));
  app.add_option("--kafka", cfg.kafka,
                 "Kafka bootstrap servers (host:port,...): use Kafka as the event log");
  app.add_option("--kafka-topic", cfg.kafka_topic, "the Kafka topic of the events");
  app.add_option("--kafka-transactional-id", cfg.kafka_transactional_id,
                 "the producer's transactional.id (default fieldledger-<topic>); one writer "
                 "per id");
  app.add_option("--kafka-replication", cfg.kafka_replication,
                 "replication factor when fieldledgerd creates the topic")
      ->check(CLI::Range(1, 16));
  app.add_option("--kafka-timeout-ms", cfg.kafka_timeout_ms,
                 "bound on an append before the command answers 503")
      ->check(CLI::Range(100, 600000));
  app.add_option("--threads", cfg.threads, "HTTP I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--body-limit", cfg.body_limit, "largest request body in bytes");
  app.add_option("--header-limit", cfg.header_limit, "largest request header in bytes (431)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 20));
  app.add_option("--max-connections", cfg.max_connections, "connections at once; more are refused")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--max-streams", cfg.max_streams, "live event streams at once; more get 503")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}));
  app.add_option("--read-timeout", cfg.read_timeout_s,
                 "seconds a client has to send each request (also the keep-alive idle time)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-file-bytes", cfg.max_file_bytes,
                 "largest file an upload may carry, in bytes (413 above it)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32));
  app.add_option("--blob-grace", cfg.blob_grace_s,
                 "seconds unreferenced file content is kept before it is collected")
      ->check(CLI::Range(0, 30 * 24 * 3600));
  app.add_option("--idempotency-retention-hours", cfg.idempotency_retention_h,
                 "hours an Idempotency-Key is remembered (by the log's time); a retry after "
                 "that is decided anew")
      ->check(CLI::Range(1, 24 * 365));
  app.add_option("--block-cache-mb", cfg.block_cache_mb,
                 "MiB of the views' data blocks kept in memory (RocksDB block cache)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--value-cache-mb", cfg.value_cache_mb,
                 "MiB of the views' recently read documents kept in memory in front of RocksDB "
                 "(0: none)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  app.add_option("--write-model-entities", cfg.write_model_entities,
                 "entities (customers, contacts, sites, assets, parts, ...) whose state the "
                 "write model holds in memory; a command on another customer reads it back "
                 "first, from DATA/write-model and the log (0: no limit, every customer held)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 40));
  app.add_option("--recent-events", cfg.recent_events,
                 "events appended by this server kept decoded per partition, so that the views "
                 "apply them without reading them back from the log (0: none)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  auto* cert = app.add_option("--tls-cert", cfg.tls_cert, "serve HTTPS: PEM certificate (chain)")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", cfg.tls_key, "serve HTTPS: PEM private key")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  CLI11_PARSE(app, argc, argv);

  // Signals are taken by sigwait on the main thread only: block them before threads start.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return serve(cfg);
}

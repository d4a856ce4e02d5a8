// fieldledgerd: the server. Wires the embedded event log, the write side, the projections and
// the HTTP API together, and stops them cleanly on SIGINT / SIGTERM.
#include <utility>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <filesystem>

#include "api/auth.hpp"
#include "api/server.hpp"
#include "commands/pipeline.hpp"
#include "infra/rocksdb_event_log.hpp"
#include "infra/rocksdb_view_store.hpp"
#include "projections/queries.hpp"
#include "projections/runner.hpp"

using namespace fieldledger;

namespace {

struct config {
  std::string data = "./data";
  std::string listen = "127.0.0.1:8080";
  std::uint32_t partitions = 4;
  std::size_t threads = 2;
  std::size_t body_limit = 1 << 20;
};

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
  auto log = infra::rocksdb_event_log::open(cfg.data + "/log", cfg.partitions);
  if (!log) {
    spdlog::error("cannot open the event log: {}", log.error().detail);
    return 1;
  }
  auto views = infra::rocksdb_view_store::open(cfg.data + "/views");
  if (!views) {
    spdlog::error("cannot open the views: {}", views.error().detail);
    return 1;
  }
  auto keys = api::auth::open(cfg.data);
  if (!keys) {
    spdlog::error("cannot set up API keys: {}", keys.error().detail);
    return 1;
  }

  commands::write_model model;
  if (auto restored = model.restore(**log); !restored) {
    spdlog::error("cannot restore the write model: {}", restored.error().detail);
    return 1;
  }
  spdlog::info("write model restored: {} customers", model.customer_count());

  // Views are ready once they have applied what the log held at start-up.
  std::vector<domain::log_position> heads;
  for (std::uint32_t p = 0; p < (*log)->partition_count(); ++p) {
    const auto end = (*log)->end_offset(domain::partition_id{p});
    if (end.get() > 0)
      heads.push_back({domain::partition_id{p}, domain::log_offset{end.get() - 1}});
  }
  projections::runner runner(**log, **views, projections::make_views());
  runner.start();
  projections::queries queries(**views);
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
  auto ready = [&runner, heads] {
    for (const auto& h : heads) {
      if (!runner.has_applied(h)) return false;
    }
    return true;
  };
  api::server server(api::services{pipeline, queries, runner, **keys, ready}, options);
  const auto bound = server.start();
  if (!bound) {
    spdlog::error("{}", bound.error().detail);
    pipeline.stop();
    runner.stop();
    return 1;
  }
  spdlog::info("fieldledgerd listening on http://{}:{} (data in {}, embedded log, {} partitions)",
               host, *bound, cfg.data, cfg.partitions);
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
  pipeline.stop();
  runner.stop();
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
  app.add_option("--partitions", cfg.partitions, "partitions of a new embedded log")
      ->check(CLI::Range(1, 256));
  app.add_option("--threads", cfg.threads, "HTTP I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--body-limit", cfg.body_limit, "largest request body in bytes");
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

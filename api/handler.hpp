#pragma once
// The HTTP handler: a request in, a response out, apart from the session that owns the
// socket (as in Beast's advanced server). Queries answer on the caller's thread (or the
// projection runner's, after an X-Min-Position wait); commands answer on the pipeline's.
#include <chrono>
#include <functional>

#include "api/auth.hpp"
#include "api/http.hpp"
#include "commands/pipeline.hpp"
#include "domain/blob_store.hpp"
#include "domain/secret.hpp"
#include "projections/audit.hpp"
#include "projections/queries.hpp"
#include "projections/rebuilder.hpp"
#include "projections/runner.hpp"

namespace fieldledger::api {

struct services {
  commands::pipeline& pipeline;
  projections::queries& queries;
  projections::runner& runner;
  auth& keys;                   // authentication, and key management on the admin routes
  std::function<bool()> ready;  // true once the views have caught up with the log at start
  projections::audit& audit;    // history, as-of reads, the event feed
  projections::rebuilder* rebuild = nullptr;  // online rebuild; absent: its routes answer 503
  // systems: opens sealed secrets for an admin's reveal; absent: reveals answer 503
  const domain::secret_box* secrets = nullptr;
  // files: where file content is stored (absent: the file routes answer 503), and where the
  // blocking part of an upload (writing and syncing the blob) runs; absent: inline.
  domain::blob_store* blobs = nullptr;
  std::function<void(std::function<void()>)> run_blocking;
};

struct handler_options {
  // How long a query with X-Min-Position waits for the views before answering 503.
  std::chrono::milliseconds min_position_wait{5000};
  // The event stream (Server-Sent Events): how often it looks for new events, and the longest
  // silence before a heartbeat comment.
  std::chrono::milliseconds stream_poll{200};
  std::chrono::milliseconds stream_heartbeat{15000};
  // files: the largest file an upload may carry, in bytes (larger: 413, nothing stored).
  std::size_t max_file_bytes = std::size_t{32} << 20;
};

// A route as the handler serves it: "GET", "/v1/customers/*" ("*" an id, "+" any segment).
struct route_info {
  std::string method;
  std::string pattern;
};

class handler {
 public:
  // Every route and method, for tests that must cover them all.
  static std::vector<route_info> routes();

  explicit handler(services s, handler_options o = {}) : s_(std::move(s)), o_(o) {}

  // Answers req through respond, exactly once, or, for a live event stream, through stream
  // (absent: such requests get 406). Thread-safe.
  void handle(request req, responder respond, stream_responder stream = {}) const;

 private:
  services s_;
  handler_options o_;
};

}  // namespace fieldledger::api

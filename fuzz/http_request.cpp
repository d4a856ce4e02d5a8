// Fuzz target: raw bytes on an HTTP connection, through Beast's parser (with the server's
// limits) into the handler, over an in-memory log and views, with a valid admin key added to
// half of the inputs so that commands get past authentication. Properties: nothing crashes;
// every request gets exactly one answer with a status code from 200 to 599, and every error
// is application/problem+json.
#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "api/handler.hpp"
#include "commands/pipeline.hpp"
#include "infra/memory_event_log.hpp"
#include "projections/memory_view_store.hpp"

using namespace fieldledger;
namespace http = boost::beast::http;

namespace {

constexpr const char* k_key = "flk_fuzz_admin_key_0123456789";

std::unique_ptr<api::auth> open_keys() {
  ::setenv("FIELDLEDGER_ADMIN_KEY", k_key, 1);
  const auto dir = std::filesystem::temp_directory_path() / "fieldledger-fuzz-keys";
  std::filesystem::create_directories(dir);
  auto keys = api::auth::open(dir.string());
  if (!keys) std::abort();
  return std::move(*keys);
}

struct world {
  world() {
    runner.start();
    pipeline.start();
  }
  ~world() {
    pipeline.stop();
    runner.stop();
  }
  infra::memory_event_log log{4};
  commands::write_model model;
  projections::memory_view_store store;
  projections::runner runner{log, store, projections::make_views()};
  projections::queries queries{store};
  projections::audit audit{log, store};
  commands::pipeline pipeline{log, model};
  std::unique_ptr<api::auth> keys = open_keys();
  api::handler handler{api::services{pipeline, queries, runner, *keys, [] { return true; }, audit},
                       api::handler_options{std::chrono::milliseconds(50)}};
};

world& the_world() {
  static world w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = the_world();
  std::string raw(reinterpret_cast<const char*>(data), size);
  // Half the inputs carry a valid key, inserted after the request line.
  if (size > 0 && (data[0] & 1) != 0) {
    if (const auto eol = raw.find("\r\n"); eol != std::string::npos) {
      raw.insert(eol + 2, std::string("Authorization: Bearer ") + k_key + "\r\n");
    }
  }
  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  parser.header_limit(16 * 1024);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  std::promise<api::response> answered;
  w.handler.handle(
      parser.release(), [&](api::response res) { answered.set_value(std::move(res)); },
      [&](api::response head, api::live_body) { answered.set_value(std::move(head)); });
  const auto res = answered.get_future().get();  // a second answer would throw: a bug
  const auto status = res.result_int();
  if (status < 200 || status > 599) std::abort();
  if (status >= 400 && res[http::field::content_type] != "application/problem+json") std::abort();
  return 0;
}

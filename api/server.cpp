#include "api/server.hpp"

#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "api/problem.hpp"

namespace fieldledger::api {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, const handler& h, const server_options& o,
          std::atomic<std::size_t>& open)
      : stream_(std::move(socket)), handler_(h), options_(o), open_(open) {}
  ~session() { --open_; }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    stream_.expires_after(options_.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // The request cannot be read: answer what went wrong where we can, then close.
      request stub;
      stub.version(11);
      stub.keep_alive(false);
      if (ec == http::error::body_limit) {
        return write(problem(stub, 413,
                             "the request body is larger than " +
                                 std::to_string(options_.body_limit) + " bytes",
                             {{"body", "too large"}}));
      }
      if (ec == http::error::header_limit) {
        return write(problem(stub, 431, "the request header fields are too large"));
      }
      return write(problem(stub, 400, "the request is not valid HTTP/1.1: " + ec.message()));
    }
    stream_.expires_never();
    auto self = shared_from_this();
    handler_.handle(parser_->release(), [self](response res) {
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    });
  }

  void write(response res) {
    res_ = std::make_shared<response>(std::move(res));
    const bool close_after = res_->need_eof();
    stream_.expires_after(options_.read_timeout);
    http::async_write(stream_, *res_,
                      [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                        self->res_.reset();
                        if (ec || close_after) return self->close();
                        self->do_read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<response> res_;
  const handler& handler_;
  const server_options& options_;
  std::atomic<std::size_t>& open_;
};

}  // namespace

struct server::impl {
  impl(services s, server_options o)
      : options(std::move(o)), h(std::move(s), options.handling), acceptor(ioc) {}

  server_options options;
  handler h;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> open{0};

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (open.load() >= options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);  // over the limit: refuse rather than queue
        } else {
          ++open;
          std::make_shared<session>(std::move(socket), h, options, open)->run();
        }
      }
      do_accept();
    });
  }
};

server::server(services s, server_options options)
    : impl_(std::make_unique<impl>(std::move(s), std::move(options))) {}

server::~server() { stop(); }

domain::result<std::uint16_t> server::start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.address, ec);
  if (ec) {
    return domain::fail(domain::errc::invalid,
                        "cannot listen on \"" + impl_->options.address + "\": " + ec.message());
  }
  const tcp::endpoint endpoint{address, impl_->options.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return domain::fail(domain::errc::unavailable,
                        "cannot listen on " + impl_->options.address + ":" +
                            std::to_string(impl_->options.port) + ": " + ec.message());
  }
  const auto port = acceptor.local_endpoint().port();
  impl_->do_accept();
  const unsigned n = std::max(1u, impl_->options.threads);
  for (unsigned i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return port;
}

void server::stop() {
  if (impl_->threads.empty()) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace fieldledger::api

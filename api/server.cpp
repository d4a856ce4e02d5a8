#include "api/server.hpp"

#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <pthread.h>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "api/files.hpp"
#include "api/problem.hpp"

namespace fieldledger::api {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
// Sockets and timers bound to the io_context's own executor type, not the type-erased
// any_io_executor: every handler of a request is dispatched through it (GET of a customer: see
// bench/RESULTS.md).
using executor = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor>;
using timer_type = net::basic_waitable_timer<std::chrono::steady_clock,
                                             net::wait_traits<std::chrono::steady_clock>, executor>;
using tls_stream = beast::ssl_stream<socket_type>;

namespace {

// A live body's chunks between its producer thread and the session that writes them.
class live_stream final : public body_stream {
 public:
  live_stream(std::size_t backlog_limit, std::chrono::milliseconds stall, std::string resume,
              std::function<void()> kick)
      : limit_(backlog_limit),
        stall_(stall),
        last_resume_(std::move(resume)),
        kick_(std::move(kick)) {}

  // Queues a chunk. While what waits would pass the backlog limit the producer waits for the
  // client (backpressure: the log keeps what it has not read yet); a client that takes nothing
  // for the stall time meanwhile is dropped, and what waits with it.
  bool push(std::string chunk, std::string resume) override {
    bool accepted = false;
    {
      std::unique_lock lock(mu_);
      while (!gone_ && !dropped_ && !queue_.empty() && queued_ + chunk.size() > limit_) {
        const auto before = progress_;
        if (!cv_.wait_for(lock, stall_, [&] { return gone_ || dropped_ || progress_ != before; })) {
          dropped_ = true;
          queue_.clear();
          queued_ = 0;
          cv_.notify_all();
        }
      }
      if (gone_) return false;
      if (!dropped_) {
        queued_ += chunk.size();
        queue_.emplace_back(std::move(chunk), std::move(resume));
        accepted = true;
      }
    }
    kick_();  // a chunk to write, or the farewell
    return accepted;
  }

  bool gone_within(std::chrono::milliseconds d) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return gone_ || dropped_; });
    return gone_ || dropped_;
  }

  void set_gone() {
    std::lock_guard lock(mu_);
    gone_ = true;
    cv_.notify_all();
  }
  void set_ended() {
    {
      std::lock_guard lock(mu_);
      ended_ = true;
    }
    kick_();
  }

  // What the writer does next.
  struct step {
    enum { wait, chunk, farewell, end } what = wait;
    std::string text, resume;
  };
  step take() {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) {
      auto [text, resume] = std::move(queue_.front());
      queue_.pop_front();
      queued_ -= text.size();
      ++progress_;
      cv_.notify_all();  // room for a producer that waits
      return {step::chunk, std::move(text), std::move(resume)};
    }
    if (dropped_) return {step::farewell, "", last_resume_};
    if (ended_) return {step::end, "", ""};
    return {};
  }
  // The client took some bytes of the chunk being written.
  void progressed() {
    std::lock_guard lock(mu_);
    ++progress_;
    cv_.notify_all();
  }
  void written(std::string resume) {
    std::lock_guard lock(mu_);
    last_resume_ = std::move(resume);
  }

 private:
  const std::size_t limit_;
  const std::chrono::milliseconds stall_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  std::size_t queued_ = 0;
  std::uint64_t progress_ = 0;  // chunks taken and partial writes: the client's progress
  std::string last_resume_;     // where a client resumes after the last chunk written
  bool gone_ = false, dropped_ = false, ended_ = false;
  std::function<void()> kick_;
};

// The live streams of a server: their number, and each one, so that stop() can end them.
struct stream_registry {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t running = 0;  // producer threads alive
  bool stopping = false;
  std::vector<std::weak_ptr<live_stream>> live;
};

// One HTTP/1.1 chunk of the chunked transfer coding.
std::string as_chunk(std::string_view data, bool last) {
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<std::size_t>(n));
  out.append(data);
  out += "\r\n";
  if (last) out += "0\r\n\r\n";
  return out;
}

// One connection, over plain TCP (Stream = socket_type) or TLS (tls_stream).
//
// Deadlines: each timed step (the TLS handshake, reading one request, writing its response or
// a chunk of a stream, the TLS shutdown) must end by the deadline set as it begins; a step that
// does not is ended by closing the socket. One timer per connection, armed when it is idle and
// a deadline is set, checks the deadline when it fires and re-arms itself for a later one, so
// a request costs no timer operations (Beast's basic_stream started and cancelled a timer
// wait for each read and each write).
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool k_tls = std::is_same_v<Stream, tls_stream>;
  using std::enable_shared_from_this<session<Stream>>::shared_from_this;

 public:
  session(socket_type socket, const handler& h, const server_options& o,
          std::atomic<std::size_t>& open, stream_registry& streams, ssl::context* tls)
      : stream_(make_stream(std::move(socket), tls)),
        timer_(lowest().get_executor()),
        handler_(h),
        options_(o),
        open_(open),
        streams_(streams) {}
  ~session() { --open_; }

  void run() {
    net::dispatch(lowest().get_executor(), [self = shared_from_this()] {
      if constexpr (k_tls) {
        // The handshake is bounded by the read deadline too.
        self->deadline_after(self->options_.read_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          self->no_deadline();
          if (ec) return self->end_stream();
          self->do_read();
        });
      } else {
        self->do_read();
      }
    });
  }

 private:
  static Stream make_stream(socket_type socket, ssl::context* tls) {
    if constexpr (k_tls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }
  socket_type& lowest() { return beast::get_lowest_layer(stream_); }

  // The current step must end by now + d.
  void deadline_after(std::chrono::steady_clock::duration d) {
    deadline_ = std::chrono::steady_clock::now() + d;
    if (!timer_armed_) arm_timer();
  }
  // No step is timed (handling a request, waiting for a stream's next event).
  void no_deadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void arm_timer() {
    timer_armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      const auto self = weak.lock();
      if (!self) return;
      self->timer_armed_ = false;
      if (ec == net::error::operation_aborted) return;
      if (self->deadline_ == std::chrono::steady_clock::time_point::max()) return;
      if (std::chrono::steady_clock::now() < self->deadline_) return self->arm_timer();
      // Late: the pending operations end with operation_aborted, and the session with them.
      beast::error_code ignored;
      self->lowest().close(ignored);
    });
  }

  void do_read() {
    parser_.emplace();
    // files: the header says whether this is an upload, which may be larger than other bodies;
    // until it is read, the larger limit holds (a Content-Length is checked against it as soon
    // as the header is complete), then the request's own.
    body_limit_ = std::max(options_.body_limit, options_.handling.max_file_bytes);
    parser_->body_limit(body_limit_);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    deadline_after(options_.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  // files: the body limit of this request, known from its header.
  void on_header(beast::error_code ec) {
    if (!ec) {
      const auto& h = parser_->get();
      body_limit_ =
          is_file_upload(h.method(), std::string_view(h.target().data(), h.target().size()))
              ? options_.handling.max_file_bytes
              : options_.body_limit;
      if (const auto n = parser_->content_length(); n && *n > body_limit_) {
        ec = http::error::body_limit;
      } else {
        parser_->body_limit(body_limit_);
      }
    }
    if (ec) return on_read(ec);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == ssl::error::stream_truncated) {
      return close();
    }
    if (ec) {
      // The request cannot be read: answer what went wrong where we can, then close.
      request bare;  // no request could be read: answer as HTTP/1.1
      bare.version(11);
      bare.keep_alive(false);
      if (ec == http::error::body_limit) {
        return write(problem(
            bare, 413, "the request body is larger than " + std::to_string(body_limit_) + " bytes",
            {{"body", "too large"}}));
      }
      if (ec == http::error::header_limit) {
        return write(problem(bare, 431, "the request header fields are too large"));
      }
      return write(problem(bare, 400, "the request is not valid HTTP/1.1: " + ec.message()));
    }
    no_deadline();
    auto self = shared_from_this();
    handler_.handle(
        parser_->release(),
        [self](response res) {
          // Inline when the answer comes on the session's own I/O thread (a query answered at
          // once); posted to it from other threads (the command pipeline, the runner).
          net::dispatch(self->lowest().get_executor(),
                        [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
        },
        [self](response head, live_body body) {
          net::post(self->lowest().get_executor(),
                    [self, head = std::move(head), body = std::move(body)]() mutable {
                      self->start_stream(std::move(head), std::move(body));
                    });
        });
  }

  // A live body: the head, then chunks as the producer (on a thread of its own) pushes them.
  void start_stream(response head, live_body body) {
    {
      std::lock_guard lock(streams_.mu);
      if (streams_.stopping || streams_.running >= options_.max_streams) {
        request bare;  // no request could be read: answer as HTTP/1.1
        bare.version(head.version());
        auto res = problem(bare, 503,
                           "too many live event streams (" + std::to_string(options_.max_streams) +
                               "); page with ?after instead");
        res.set(http::field::retry_after, "5");
        res.keep_alive(false);
        return write(std::move(res));
      }
      ++streams_.running;
    }
    std::weak_ptr<session> weak = shared_from_this();
    live_ = std::make_shared<live_stream>(
        options_.stream_backlog, options_.stream_stall, body.resume, [weak] {
          if (auto self = weak.lock()) {
            net::post(self->lowest().get_executor(), [self] { self->pump(); });
          }
        });
    {
      std::lock_guard lock(streams_.mu);
      std::erase_if(streams_.live, [](const auto& w) { return w.expired(); });
      streams_.live.push_back(live_);
    }
    farewell_ = std::move(body.dropped);
    if (options_.stream_socket_buffer > 0) {
      beast::error_code ignored;
      lowest().set_option(net::socket_base::send_buffer_size(options_.stream_socket_buffer),
                          ignored);
    }
    std::thread([live = live_, produce = std::move(body.produce), &streams = streams_]() mutable {
      produce(*live);
      produce = nullptr;
      live->set_ended();
      live.reset();
      std::lock_guard lock(streams.mu);
      --streams.running;
      streams.cv.notify_all();
    }).detach();

    head.body().clear();
    head.chunked(true);
    head.keep_alive(false);
    head_ = std::make_shared<response>(std::move(head));
    head_sr_ = std::make_shared<http::response_serializer<http::string_body>>(*head_);
    deadline_after(options_.read_timeout);
    http::async_write_header(stream_, *head_sr_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->no_deadline();
                               if (ec) return self->end_stream();
                               self->head_written_ = true;
                               self->watch_for_close();
                               self->pump();
                             });
  }

  // The client sends nothing on a stream: a read that ends means it has gone. The read is not a
  // timed step (only the chunk writes are).
  void watch_for_close() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->live_->set_gone();
                              self->watch_for_close();
                            });
  }

  void pump() {
    if (!head_written_ || writing_ || finished_) return;
    auto next = live_->take();
    if (next.what == live_stream::step::wait) return;
    if (next.what == live_stream::step::chunk) {
      chunk_ = std::make_shared<std::string>(as_chunk(next.text, false));
    } else {
      finished_ = true;
      chunk_ = std::make_shared<std::string>(next.what == live_stream::step::farewell
                                                 ? as_chunk(farewell_(next.resume), true)
                                                 : "0\r\n\r\n");
    }
    writing_ = true;
    chunk_written_ = 0;
    write_chunk(std::move(next.resume));
  }

  // Writes what is left of chunk_ a piece at a time, each piece the client takes counting as
  // progress (a chunk may be larger than what a slow client takes within the stall time).
  void write_chunk(std::string resume) {
    deadline_after(options_.read_timeout);
    stream_.async_write_some(net::buffer(*chunk_) + chunk_written_,
                             [self = shared_from_this(), resume = std::move(resume)](
                                 beast::error_code ec, std::size_t n) mutable {
                               self->no_deadline();
                               if (ec) {
                                 self->writing_ = false;
                                 return self->end_stream();
                               }
                               self->chunk_written_ += n;
                               if (self->chunk_written_ < self->chunk_->size()) {
                                 self->live_->progressed();
                                 return self->write_chunk(std::move(resume));
                               }
                               self->writing_ = false;
                               if (self->finished_) return self->end_stream();
                               self->live_->written(std::move(resume));
                               self->pump();
                             });
  }

  void end_stream() {
    if (live_) live_->set_gone();
    beast::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
  }

  void write(response res) {
    const bool close_after = res.need_eof();
    deadline_after(options_.read_timeout);
    const auto done = [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
      self->no_deadline();
      self->res_.reset();
      if (ec || close_after) return self->close();
      self->do_read();
    };
    if (res.chunked()) {
      res_ = std::make_shared<response>(std::move(res));
      return http::async_write(stream_, *res_, done);
    }
    // The whole message in one buffer, as Beast's serializer would write it (status line,
    // the fields in order, the body as it is): one contiguous write instead of the serializer's
    // views over header pieces and body (GET of a customer: see bench/RESULTS.md).
    wire_.clear();
    wire_ += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    wire_ += std::to_string(res.result_int());
    wire_ += ' ';
    const auto reason = res.reason().empty() ? http::obsolete_reason(res.result()) : res.reason();
    wire_.append(reason.data(), reason.size());
    wire_ += "\r\n";
    for (const auto& f : res.base()) {
      wire_.append(f.name_string().data(), f.name_string().size());
      wire_ += ": ";
      wire_.append(f.value().data(), f.value().size());
      wire_ += "\r\n";
    }
    wire_ += "\r\n";
    wire_ += res.body();
    net::async_write(stream_, net::buffer(wire_), done);
  }

  void close() {
    if constexpr (k_tls) {
      deadline_after(std::chrono::seconds(5));
      stream_.async_shutdown(
          [self = shared_from_this()](beast::error_code) { self->end_stream(); });
    } else {
      beast::error_code ignored;
      stream_.shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  timer_type timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool timer_armed_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::size_t body_limit_ = 0;  // of the request being read
  std::shared_ptr<response> res_;
  std::string wire_;  // the response being written, when not chunked
  const handler& handler_;
  const server_options& options_;
  std::atomic<std::size_t>& open_;
  stream_registry& streams_;
  // A live body, once start_stream has begun one.
  std::shared_ptr<live_stream> live_;
  std::function<std::string(const std::string&)> farewell_;
  std::shared_ptr<response> head_;
  std::shared_ptr<http::response_serializer<http::string_body>> head_sr_;
  std::shared_ptr<std::string> chunk_;
  std::size_t chunk_written_ = 0;  // bytes of chunk_ written so far
  std::array<char, 64> scratch_{};
  bool head_written_ = false, writing_ = false, finished_ = false;
};

}  // namespace

struct server::impl {
  impl(services s, server_options o)
      : options(std::move(o)),
        h(std::move(s), options.handling),
        iocs(make_contexts(std::max(1u, options.threads))),
        acceptor(*iocs.front()) {}

  // One io_context per I/O thread, each run by that thread alone: a connection lives on one
  // of them, so its handlers never run concurrently without a strand, and the threads do not
  // wake each other for every completion (they did, sharing one context: futex calls on every
  // sixth request).
  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> v;
    for (unsigned i = 0; i < n; ++i) v.push_back(std::make_unique<net::io_context>(1));
    return v;
  }

  server_options options;
  handler h;
  std::vector<std::unique_ptr<net::io_context>> iocs;
  // Each context runs until stop(), even while it has no connection (run() would return).
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::size_t next_ioc = 0;  // the accept loop's round robin (on iocs[0]'s thread only)
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> open{0};
  stream_registry streams;
  std::unique_ptr<ssl::context> tls;  // set when the server speaks HTTPS

  void do_accept() {
    auto& ioc = *iocs[next_ioc++ % iocs.size()];
    acceptor.async_accept(ioc.get_executor(), [this](beast::error_code ec, socket_type socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (open.load() >= options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);  // over the limit: refuse rather than queue
        } else {
          ++open;
          if (tls) {
            std::make_shared<session<tls_stream>>(std::move(socket), h, options, open, streams,
                                                  tls.get())
                ->run();
          } else {
            std::make_shared<session<socket_type>>(std::move(socket), h, options, open, streams,
                                                   nullptr)
                ->run();
          }
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
  const auto& o = impl_->options;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return domain::fail(domain::errc::invalid, "TLS needs both a certificate and a key file");
  }
  if (!o.tls_cert.empty()) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    ctx->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) {
      return domain::fail(domain::errc::invalid,
                          "cannot use the TLS certificate " + o.tls_cert + ": " + ec.message());
    }
    ctx->use_private_key_file(o.tls_key, ssl::context::pem, ec);
    if (ec) {
      return domain::fail(domain::errc::invalid,
                          "cannot use the TLS key " + o.tls_key + ": " + ec.message());
    }
    impl_->tls = std::move(ctx);
  }
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
    return domain::fail(domain::errc::unavailable, "cannot listen on " + impl_->options.address +
                                                       ":" + std::to_string(impl_->options.port) +
                                                       ": " + ec.message());
  }
  const auto port = acceptor.local_endpoint().port();
  impl_->do_accept();
  for (auto& ioc : impl_->iocs) {
    impl_->keep_running.push_back(net::make_work_guard(*ioc));
    impl_->threads.emplace_back([&ioc = *ioc] {
      pthread_setname_np(pthread_self(), "fl-http");  // for top -H and perf
      ioc.run();
    });
  }
  return port;
}

void server::stop() {
  if (impl_->threads.empty()) return;
  {
    std::lock_guard lock(impl_->streams.mu);
    impl_->streams.stopping = true;
    for (auto& w : impl_->streams.live) {
      if (auto live = w.lock()) live->set_gone();
    }
  }
  net::post(*impl_->iocs.front(), [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->keep_running.clear();
  for (auto& ioc : impl_->iocs) ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  std::unique_lock lock(impl_->streams.mu);
  impl_->streams.cv.wait(lock, [&] { return impl_->streams.running == 0; });
}

}  // namespace fieldledger::api

#pragma once
// The HTTP/1.1 server (Boost.Beast): keep-alive sessions on a pool of I/O threads, per-request
// body and header limits, and a deadline for reading each request, so that a slow or idle
// client cannot hold a connection.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/handler.hpp"

namespace fieldledger::api {

struct server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port
  unsigned threads = 2;
  std::size_t body_limit = 1 << 20;       // bytes; larger bodies get 413
  std::size_t header_limit = 16 << 10;    // bytes; larger headers get 431
  std::chrono::seconds read_timeout{30};  // to read one request (also the keep-alive idle time)
  std::size_t max_connections = 4096;
  std::size_t max_streams = 64;          // live event streams at once; more get 503
  std::size_t stream_backlog = 1 << 20;  // bytes queued for a stream's client; when full, the
                                         // stream waits for the client to take some
  std::chrono::milliseconds stream_stall{10000};  // a client that takes nothing for this long
                                                  // while its backlog is full is dropped (told
                                                  // where to resume); below read_timeout
  int stream_socket_buffer = 64 << 10;  // a stream socket's kernel send buffer (SO_SNDBUF):
                                        // bounds what a slow client holds in the kernel
  // HTTPS when both are set: PEM certificate chain and private key (TLS 1.2 and later).
  std::string tls_cert, tls_key;
  handler_options handling;
};

class server {
 public:
  server(services s, server_options options);
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port.
  [[nodiscard]] domain::result<std::uint16_t> start();
  // Stops accepting and closes every connection; joins the I/O threads.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::api

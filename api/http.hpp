#pragma once
// The HTTP types the api speaks (Boost.Beast), in one place.
#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace fieldledger::api {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// Called exactly once with the answer to a request; thread-safe (it may be called on the
// command pipeline's or the projection runner's thread).
using responder = std::function<void(response)>;

// A body written while it is produced (Server-Sent Events), from a thread of its own.
class body_stream {
 public:
  virtual ~body_stream() = default;
  // Queues chunk for the client; resume is where a client resumes once it has the chunk.
  // Waits while the client's backlog is full. False once the client has gone, or has taken
  // nothing for a while with its backlog full (the server then ends the stream with
  // live_body::dropped): stop producing.
  virtual bool push(std::string chunk, std::string resume) = 0;
  // Waits up to d; true when the client has gone meanwhile (or the server is stopping).
  virtual bool gone_within(std::chrono::milliseconds d) = 0;
};

struct live_body {
  std::string resume;  // where a client resumes before the first chunk
  // Produces the body until push or gone_within says stop.
  std::function<void(body_stream&)> produce;
  // The last chunk for a client that fell too far behind, given where it resumes.
  std::function<std::string(const std::string& resume)> dropped;
};

// Answers with head (its body is ignored), then streams body. Thread-safe.
using stream_responder = std::function<void(response head, live_body body)>;

}  // namespace fieldledger::api

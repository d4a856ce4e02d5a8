#pragma once
// The HTTP types the api speaks (Boost.Beast), in one place.
#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

namespace fieldledger::api {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// Called exactly once with the answer to a request; thread-safe (it may be called on the
// command pipeline's or the projection runner's thread).
using responder = std::function<void(response)>;

}  // namespace fieldledger::api

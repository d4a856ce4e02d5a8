// The one translation unit that compiles Boost.Beast's and Boost.Asio's sources
// (BOOST_BEAST_SEPARATE_COMPILATION / BOOST_ASIO_SEPARATE_COMPILATION are set for api/).
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

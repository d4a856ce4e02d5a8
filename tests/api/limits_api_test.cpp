// Connection limits: a client sending a byte at a time (slowloris) or nothing at all is
// dropped at the read deadline while others are served; oversized headers get 431. Each
// request of a kept-alive connection has a deadline of its own, and a live event stream is not
// held to one while it waits for events.
#include <poll.h>

#include <optional>
#include <thread>

#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;
using clock = std::chrono::steady_clock;

class LimitsApi : public ApiTest {
 protected:
  void configure(server_options& o) override {
    o.read_timeout = std::chrono::seconds(1);
    o.header_limit = 2048;
  }
  int connect_raw() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
  // True once the server has closed fd (a read sees the end, or a send fails).
  static bool closed_by_server(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char buf[512];
    return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0;
  }
  // How long until the server closed fd, looked at every 50 ms for up to `limit`; nullopt if
  // it did not.
  static std::optional<clock::duration> time_to_close(int fd, clock::duration limit) {
    const auto began = clock::now();
    while (clock::now() - began < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (closed_by_server(fd)) return clock::now() - began;
    }
    return std::nullopt;
  }
  // Sends text on fd and reads until `until` has arrived (or 3 s pass); returns what came.
  static std::string exchange(int fd, const std::string& text, std::string_view until) {
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    std::string got;
    const auto began = clock::now();
    while (got.find(until) == std::string::npos && clock::now() - began < std::chrono::seconds(3)) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
};

TEST_P(LimitsApi, ASlowlorisClientIsDroppedAtTheDeadlineWhileOthersAreServed) {
  const int slow = connect_raw();
  const std::string start = "GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  ASSERT_GT(::send(slow, start.data(), start.size(), MSG_NOSIGNAL), 0);
  const auto began = clock::now();
  bool dropped = false;
  int served = 0;
  while (clock::now() - began < std::chrono::seconds(6)) {
    if (closed_by_server(slow) || ::send(slow, "X", 1, MSG_NOSIGNAL) < 0) {
      dropped = true;
      break;
    }
    if (send("GET", "/v1/customers").status == 200) ++served;  // others go on meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  const auto took = clock::now() - began;
  ::close(slow);
  EXPECT_TRUE(dropped) << "a byte at a time does not hold the connection";
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  EXPECT_GT(served, 2);
}

TEST_P(LimitsApi, AnIdleConnectionIsDroppedAndHugeHeadersGet431) {
  const int idle = connect_raw();
  const auto dropped = time_to_close(idle, std::chrono::seconds(5));
  ::close(idle);
  EXPECT_TRUE(dropped);
  EXPECT_LT(dropped.value_or(std::chrono::seconds(5)), std::chrono::milliseconds(3000));

  auto big = send("GET", "/v1/customers", {}, {{"X-Padding", std::string(4096, 'p')}});
  problem_of(big, 431);
  EXPECT_EQ(send("GET", "/v1/customers").status, 200) << "and the server goes on";
}

TEST_P(LimitsApi, EachRequestOfAKeptAliveConnectionHasADeadlineOfItsOwn) {
  const int fd = connect_raw();
  const std::string get =
      "GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
      std::string(k_key) + "\r\n\r\n";
  // Four requests 0.7 s apart: 2.1 s in all, past the first requests' deadlines.
  for (int i = 0; i < 4; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const auto got = exchange(fd, get, "\"next_cursor\"");
    ASSERT_TRUE(got.starts_with("HTTP/1.1 200")) << "request " << i << ": " << got;
  }
  const auto idle = time_to_close(fd, std::chrono::seconds(4));
  ::close(fd);
  EXPECT_TRUE(idle) << "then idle: dropped";
  EXPECT_GT(idle.value_or(std::chrono::seconds(4)), std::chrono::milliseconds(800))
      << "not before its own deadline";
  EXPECT_LT(idle.value_or(std::chrono::seconds(4)), std::chrono::milliseconds(2500));
}

TEST_P(LimitsApi, AnEventStreamWaitingLongerThanTheReadDeadlineStaysOpen) {
  const int fd = connect_raw();
  const auto head =
      exchange(fd,
               "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
               "Authorization: Bearer " +
                   std::string(k_key) + "\r\n\r\n",
               "\r\n\r\n");
  ASSERT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // no event, no heartbeat yet
  ASSERT_EQ(command("POST", "/v1/customers", R"({"name":"After the quiet"})").status, 201);
  const auto got = exchange(fd, "", "After the quiet");
  ::close(fd);
  EXPECT_NE(got.find("After the quiet"), std::string::npos) << got;
}

INSTANTIATE_TEST_SUITE_P(Memory, LimitsApi, ::testing::Values("memory"), log_name);

}  // namespace
}  // namespace fieldledger::api

// The live event stream (Server-Sent Events) and the online rebuild, over HTTP.
#include <poll.h>

#include <set>
#include <thread>

#include "projections/memory_view_store.hpp"
#include "tests/api/api_fixture.hpp"

namespace fieldledger::api {
namespace {

using namespace test_support;
using clock = std::chrono::steady_clock;

struct sse_event {
  std::string id, event, data;
};

// A client of GET /v1/events with Accept: text/event-stream, on a socket of its own: it
// undoes the chunked coding and splits the body into events and comments.
class sse_client {
 public:
  sse_client(std::uint16_t port, const std::string& target,
             const std::map<std::string, std::string>& headers = {}, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    std::string req = "GET " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\nAccept: text/event-stream\r\nAuthorization: Bearer " +
                      std::string(k_key) + "\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n";
    (void)::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~sse_client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reads until done() holds, the stream ends, or the timeout passes. Returns done().
  bool read_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = clock::now() + timeout;
    while (!done() && !ended && clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[16384];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        ended = true;
        break;
      }
      raw_.append(buf, static_cast<std::size_t>(n));
      parse();
    }
    return done();
  }
  // Reads nothing for a while (a slow client).
  static void stall(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

  int status = 0;
  std::string content_type;
  std::vector<sse_event> events;
  std::vector<std::string> comments;
  bool ended = false;  // the server closed the stream (or ended the chunked body)

 private:
  void parse() {
    if (status == 0) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      status = std::atoi(raw_.c_str() + 9);
      const auto ct = raw_.find("Content-Type: ");
      if (ct < end) content_type = raw_.substr(ct + 14, raw_.find("\r\n", ct) - ct - 14);
      chunked_ = raw_.find("Transfer-Encoding: chunked") < end;
      raw_.erase(0, end + 4);
    }
    if (!chunked_) {  // a plain answer (an error): the body as it comes
      text_ += raw_;
      raw_.clear();
      return;
    }
    for (;;) {  // chunks: "<hex size>\r\n<data>\r\n", the last of size 0
      const auto eol = raw_.find("\r\n");
      if (eol == std::string::npos) break;
      const auto size = std::stoul(raw_.substr(0, eol), nullptr, 16);
      if (raw_.size() < eol + 2 + size + 2) break;
      text_ += raw_.substr(eol + 2, size);
      raw_.erase(0, eol + 2 + size + 2);
      if (size == 0) ended = true;
    }
    for (std::size_t end; (end = text_.find("\n\n")) != std::string::npos;) {
      const auto block = text_.substr(0, end);
      text_.erase(0, end + 2);
      if (block.starts_with(':')) {
        comments.push_back(block);
        continue;
      }
      sse_event e;
      std::size_t at = 0;
      while (at < block.size()) {
        auto nl = block.find('\n', at);
        if (nl == std::string::npos) nl = block.size();
        const auto line = block.substr(at, nl - at);
        if (line.starts_with("id: ")) e.id = line.substr(4);
        if (line.starts_with("event: ")) e.event = line.substr(7);
        if (line.starts_with("data: ")) e.data += line.substr(6);
        at = nl + 1;
      }
      events.push_back(std::move(e));
    }
  }

  int fd_ = -1;
  std::string raw_, text_;
  bool chunked_ = false;
};

class StreamApi : public ApiTest {
 protected:
  void configure(server_options& o) override {
    o.handling.stream_poll = std::chrono::milliseconds(20);
    o.handling.stream_heartbeat = std::chrono::milliseconds(150);
    o.stream_backlog = 8 * 1024;
    o.stream_stall = std::chrono::milliseconds(1000);
    // Small kernel buffers, so that a stalled client holds little and the server's backlog
    // fills after a few dozen events, however slowly the server runs (a sanitizer build on a
    // busy machine produced too few within the stall to be dropped with the default 64 KiB).
    o.stream_socket_buffer = 4096;
  }
  // n customers registered by 4 writers at once, each event a little larger than bare.
  void fill(int n) {
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([this, w, n] {
        for (int i = 0; i < n / 4; ++i) {
          auto r =
              send("POST", "/v1/customers",
                   R"({"name":"Filler )" + std::to_string(w) + "-" + std::to_string(i) +
                       R"(","dba_name":"A name long enough to make each event a little larger"})");
          EXPECT_EQ(r.status, 201);
        }
      });
    }
    for (auto& t : writers) t.join();
  }
  std::string create(const std::string& name) {
    auto r = command("POST", "/v1/customers", R"({"name":")" + name + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).string_at("id"));
  }
  // The CloudEvents ids of the events a client got (data, not the SSE cursor).
  static std::vector<std::string> event_ids(const sse_client& c) {
    std::vector<std::string> out;
    for (const auto& e : c.events) {
      if (!e.event.empty()) continue;
      auto v = json::parse(e.data);
      EXPECT_TRUE(v) << e.data;
      if (v) out.emplace_back(v->string_at("id"));
    }
    return out;
  }
  // Every view's data, as a map (checkpoints apart: a rebuild may read a log further).
  static std::map<std::string, std::string> views_of(const projections::view_store& s) {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(s.scan("", "", [&](std::string_view k, std::string_view v) {
      if (!k.starts_with("~ckpt/")) out.emplace(k, v);
      return true;
    }));
    return out;
  }
};

TEST_P(StreamApi, AClientThatResumesWithLastEventIdMissesNothingAndSeesNothingTwice) {
  for (int i = 0; i < 4; ++i) create("Before " + std::to_string(i));
  std::vector<std::string> seen;
  std::string last_id;
  {
    sse_client first(port_, "/v1/events");
    ASSERT_TRUE(first.read_until([&] { return first.events.size() >= 4; })) << first.status;
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.content_type, "text/event-stream; charset=utf-8");
    create("Live while connected");
    ASSERT_TRUE(first.read_until([&] { return first.events.size() >= 5; }));
    for (const auto& e : first.events) EXPECT_FALSE(e.id.empty());
    seen = event_ids(first);
    last_id = first.events.back().id;
  }  // the client goes away
  for (int i = 0; i < 3; ++i) create("While away " + std::to_string(i));
  sse_client again(port_, "/v1/events", {{"Last-Event-ID", last_id}});
  ASSERT_TRUE(again.read_until([&] { return again.events.size() >= 3; }));
  create("Live after resuming");
  create("And another");
  ASSERT_TRUE(again.read_until([&] { return again.events.size() >= 5; }));
  again.read_until([] { return false; }, std::chrono::milliseconds(200));  // nothing more comes
  for (auto& id : event_ids(again)) seen.push_back(id);
  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 10u) << "every event once";
  EXPECT_EQ(unique.size(), seen.size()) << "nothing twice";
}

TEST_P(StreamApi, AQuietStreamSendsHeartbeatsAndHonoursFilters) {
  const auto acme = create("Acme");
  create("Other");
  sse_client c(port_, "/v1/events?customer=" + acme);
  ASSERT_TRUE(c.read_until([&] { return c.comments.size() >= 2; }));
  ASSERT_EQ(c.events.size(), 1u) << "only Acme's registration";
  EXPECT_NE(c.events[0].data.find(acme), std::string::npos);
  EXPECT_EQ(c.comments[0], ": heartbeat");

  // A bad cursor is a problem before any stream begins; so is an unknown parameter.
  sse_client bad(port_, "/v1/events", {{"Last-Event-ID", "not-a-cursor"}});
  bad.read_until([&] { return bad.ended; }, std::chrono::seconds(3));
  EXPECT_EQ(bad.status, 422);
  sse_client unknown(port_, "/v1/events?from=1");
  unknown.read_until([&] { return unknown.ended; }, std::chrono::seconds(3));
  EXPECT_EQ(unknown.status, 400);
}

TEST_P(StreamApi, AClientThatFallsTooFarBehindIsDroppedAndToldWhereToResume) {
  if (GetParam() == "kafka") GTEST_SKIP() << "the backlog is the server's, whatever the log";
  // Enough events to fill the socket buffers of a client that reads nothing, then the
  // server's backlog for it (8 KiB here): one event per chunk with limit=1. It takes nothing
  // for three times the stall time (1 s here): two seconds for the server to fill what it
  // holds (a few dozen events), then the stall.
  fill(800);
  sse_client slow(port_, "/v1/events?limit=1", {}, 4096);
  ASSERT_TRUE(slow.read_until([&] { return slow.events.size() >= 1; }));
  sse_client::stall(std::chrono::milliseconds(3000));
  ASSERT_TRUE(slow.read_until([&] { return slow.ended; }, std::chrono::seconds(20)));
  ASSERT_FALSE(slow.events.empty());
  const auto& last = slow.events.back();
  ASSERT_EQ(last.event, "dropped") << "the stream ends with where to resume";
  auto notice = json::parse(last.data);
  ASSERT_TRUE(notice) << last.data;
  const std::string resume(notice->string_at("resume_after"));
  EXPECT_EQ(resume, last.id);
  const auto got = event_ids(slow);
  ASSERT_LT(got.size(), 800u) << "it was dropped before the end";
  // Resuming there (again after each drop, as a client does) gives exactly the rest.
  std::set<std::string> all(got.begin(), got.end());
  EXPECT_EQ(all.size(), got.size());
  std::string from = resume;
  for (int attempt = 0; attempt < 100 && all.size() < 800; ++attempt) {
    sse_client rest(port_, "/v1/events?limit=50", {{"Last-Event-ID", from}});
    rest.read_until([&] { return all.size() + event_ids(rest).size() >= 800 || rest.ended; },
                    std::chrono::seconds(10));
    for (const auto& id : event_ids(rest)) {
      EXPECT_TRUE(all.insert(id).second) << "seen twice: " << id;
    }
    if (rest.events.empty()) break;
    from = rest.events.back().id;
  }
  EXPECT_EQ(all.size(), 800u);
}

TEST_P(StreamApi, AClientThatReadsSlowlyButSteadilyGetsEverythingWithoutADrop) {
  if (GetParam() == "kafka") GTEST_SKIP() << "the backlog is the server's, whatever the log";
  // More than the socket buffers hold, in pages of 50 events, each larger than the backlog
  // (8 KiB here): the stream waits for the client instead of dropping it, as long as it keeps
  // taking (its pauses are shorter than the stall time).
  fill(800);
  sse_client steady(port_, "/v1/events?limit=50", {}, 4096);
  const auto started = clock::now();
  ASSERT_TRUE(steady.read_until(
      [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return event_ids(steady).size() >= 800 ||
               (!steady.events.empty() && steady.events.back().event == "dropped");
      },
      std::chrono::seconds(30)));
  ASSERT_FALSE(steady.events.empty());
  EXPECT_EQ(steady.events.back().event, "") << "not dropped";
  const auto got = event_ids(steady);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 800u);
  EXPECT_GT(clock::now() - started, std::chrono::milliseconds(500)) << "it did read slowly";
}

TEST_P(StreamApi, OnlineRebuildWhileWritesContinueEndsEqualToAFreshRebuild) {
  for (int i = 0; i < 50; ++i) create("Before " + std::to_string(i));
  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; writing && i < 150; ++i) {  // bounded: the list below is one page
      if (command("POST", "/v1/customers", R"({"name":"During )" + std::to_string(i) + R"("})")
              .status == 201) {
        ++written;
      }
    }
  });
  while (written < 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto started = send("POST", "/v1/admin/projections/rebuild");
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(json_of(started).string_at("state"), "building");
  EXPECT_EQ(json_of(started).find("generation")->as_int(), 2);
  // Reads go on meanwhile, from whichever generation is current.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(send("GET", "/v1/customers?q=before").status, 200);
  rebuild_->wait();
  const auto before_more = written.load();
  for (int i = 0; i < 400 && written < before_more + 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  writing = false;
  writer.join();

  // Every write made it, into the generation now current.
  auto all = get("/v1/customers?limit=200");  // waits for the last write
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(json_of(all).find("items")->as_array().size(),
            static_cast<std::size_t>(50 + written.load()));
  auto state = send("GET", "/v1/admin/projections");
  ASSERT_EQ(state.status, 200) << state.body;
  const auto doc = json_of(state);
  EXPECT_EQ(doc.find("generation")->as_int(), 2);
  const auto& rebuild = *doc.find("rebuild");
  EXPECT_EQ(rebuild.string_at("state"), "done") << state.body;
  EXPECT_GE(rebuild.find("applied")->as_int(), 55);
  const auto& views = doc.find("views")->as_array();
  ASSERT_FALSE(views.empty());
  for (const auto& v : views) {
    EXPECT_EQ(v.string_at("state"), "live") << state.body;
    EXPECT_EQ(v.find("lag")->as_int(), 0);
    EXPECT_EQ(v.find("checkpoints")->as_array().size(), 4u);
  }
  projections::memory_view_store fresh;
  projections::runner rebuild_from_log(*log_, fresh, projections::make_views());
  ASSERT_TRUE(rebuild_from_log.catch_up());
  EXPECT_EQ(views_of(store_), views_of(fresh));
  // One at a time: a second rebuild while one runs is a conflict.
  ASSERT_EQ(send("POST", "/v1/admin/projections/rebuild").status, 202);
  auto second = send("POST", "/v1/admin/projections/rebuild");
  if (second.status != 202) problem_of(second, 409);  // unless the first had finished
  rebuild_->wait();
}

INSTANTIATE_TEST_SUITE_P(Logs, StreamApi, ::testing::Values("memory", "kafka"), log_name);

}  // namespace
}  // namespace fieldledger::api

#pragma once
// Runs the real fieldledgerd binary for end-to-end tests, and talks HTTP/1.1 to it over a
// plain loopback socket (one request per connection; enough for black-box tests).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fieldledger::e2e {

struct http_response {
  int status = 0;                              // 0: no answer (connection refused or dropped)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

inline http_response http(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {}) {
  http_response out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() && !headers.contains("Content-Type")) {
    req += "Content-Type: application/json\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  for (std::size_t sent = 0; sent < req.size();) {
    const auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return out;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) return out;
  out.status = std::atoi(raw.c_str() + 9);
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const auto eol = raw.find("\r\n", line);
    const auto colon = raw.find(':', line);
    if (colon < eol) {
      std::string name = raw.substr(line, colon - line);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto v = raw.substr(colon + 1, eol - colon - 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      out.headers[name] = v;
    }
    line = eol + 2;
  }
  out.body = raw.substr(head_end + 4);
  return out;
}

// Runs a shell command; its exit status and standard output.
struct command_result {
  int status = -1;
  std::string out;
};
inline command_result run_command(const std::string& cmd) {
  command_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A free loopback port (bound and released; good enough for a test).
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class daemon {
 public:
  daemon(std::string data_dir, std::string admin_key, std::vector<std::string> extra_args = {})
      : data_(std::move(data_dir)), key_(std::move(admin_key)), extra_(std::move(extra_args)) {}
  ~daemon() {
    if (pid_ > 0) kill(SIGKILL);
  }

  // Starts fieldledgerd and waits until /readyz answers 200.
  void start() {
    port_ = free_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("FIELDLEDGER_ADMIN_KEY", key_.c_str(), 1);
      const std::string bin = std::string(FIELDLEDGER_BINARY_DIR) + "/fieldledgerd";
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      std::vector<const char*> argv{bin.c_str(), "--data", data_.c_str(), "--listen",
                                    listen.c_str()};
      for (const auto& a : extra_) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready_()) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("fieldledgerd exited during start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("fieldledgerd did not become ready");
  }

  // Sends sig and waits for the process; returns its wait status.
  int kill(int sig) {
    int status = 0;
    if (pid_ <= 0) return status;
    ::kill(pid_, sig);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::map<std::string, std::string> auth() const { return {{"Authorization", "Bearer " + key_}}; }

  // How start() tells that the server is ready (by default: GET /readyz over plain HTTP).
  void ready_when(std::function<bool()> check) { ready_ = std::move(check); }

  http_response get(const std::string& target,
                    std::map<std::string, std::string> extra = {}) const {
    extra.merge(auth());
    return http(port_, "GET", target, {}, extra);
  }
  http_response send(const std::string& method, const std::string& target, const std::string& body,
                     std::map<std::string, std::string> extra = {}) const {
    extra.merge(auth());
    extra.emplace("Content-Type", "application/json");
    return http(port_, method, target, body, extra);
  }

  std::uint16_t port() const noexcept { return port_; }

 private:
  std::string data_, key_;
  std::vector<std::string> extra_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::function<bool()> ready_ = [this] {
    return http(port_, "GET", "/readyz", {}, auth()).status == 200;
  };
};

}  // namespace fieldledger::e2e

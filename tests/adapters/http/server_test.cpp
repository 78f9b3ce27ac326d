// The listener and sessions over real loopback sockets, with a minimal blocking client, so what
// is tested is what a phone system or curl sees: keep-alive, limits, timeouts, the connection
// cap and graceful shutdown. Timeouts are short and configured per test; every client read is
// bounded (SO_RCVTIMEO), so a broken server fails a test instead of hanging it.
#include "adapters/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/sinks/null_sink.h>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <csignal>
#include <future>

#include "adapters/http/json_log.h"
#include "adapters/http/request_handler.h"

namespace ombud::http {
namespace {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::string head;  // status line and header fields
  std::string body;

  bool has_header(std::string_view line) const { return head.find(line) != std::string::npos; }
};

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send failed: " << std::strerror(errno);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One response with a Content-Length body (all the server sends); nullopt when the connection
  // ended first.
  std::optional<RawResponse> read_response() {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    RawResponse response;
    response.head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    response.status = std::stoi(response.head.substr(9, 3));
    std::size_t length = 0;
    if (const auto at = response.head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(response.head.substr(at + 16));
    }
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // Whether the server closed the connection (end of stream or reset) with nothing more sent.
  bool closed_by_server() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  std::string request(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view extra = {}) {
    std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n";
    r += extra;
    if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += "\r\n";
    r += body;
    return r;
  }

 private:
  bool fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  std::string buffer_;
};

std::string error_code_of(const RawResponse& response) {
  return std::string(boost::json::parse(response.body).at("error").at("code").as_string());
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.add("GET", "/v1/instances/{id}", [](const HttpRequest&, const RouteMatch& m) {
      return HttpResponse::text(200, "instance " + std::string(m.param("id")));
    });
    router_.add("POST", "/v1/echo", [](const HttpRequest& r, const RouteMatch&) {
      return HttpResponse::text(200, r.body);
    });
    router_.add("GET", "/slow", [this](const HttpRequest&, const RouteMatch&) {
      entered_.set_value();
      release_.get_future().wait();
      return HttpResponse::text(200, "finished");
    });
    options_.listen = {"127.0.0.1", 0};
    options_.io_threads = 2;
    options_.body_limit = 1024;
    options_.header_timeout = 300ms;
    options_.body_timeout = 300ms;
    options_.write_timeout = 1s;
  }

  Server& start() {
    server_ = std::make_unique<Server>(options_, [this](HttpRequest&& r) { return handler_(r); });
    const auto port = server_->start();
    EXPECT_TRUE(port.has_value()) << port.error().message();
    return *server_;
  }

  // The /slow request in flight when the server stopped: answered, and told the connection ends.
  static void expect_slow_answered_and_closed(Client& busy) {
    const auto response = busy.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "finished");
    EXPECT_TRUE(response->has_header("Connection: close"));
  }

  // Waits for the server's threads, failing (not hanging) if shutdown does not complete.
  void expect_shutdown_completes() {
    auto done = std::async(std::launch::async, [this] { server_->wait(); });
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready) << "shutdown did not complete";
  }

  Router router_;
  MetricsRegistry metrics_;
  RequestHandler handler_{
      router_, metrics_, make_json_logger("http", std::make_shared<spdlog::sinks::null_sink_mt>())};
  ServerOptions options_;
  std::promise<void> entered_;
  std::promise<void> release_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, PortZeroPicksAFreePortAndASecondBindFails) {
  Server& server = start();
  EXPECT_NE(server.port(), 0);
  ServerOptions same = options_;
  same.listen.port = server.port();
  Server second(same, [](HttpRequest&&) { return HttpResponse{}; });
  const auto result = second.start();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error(), boost::system::errc::address_in_use);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Server& server = start();
  Client client(server.port());
  ASSERT_TRUE(client.connected());
  client.send(client.request("GET", "/v1/instances/a"));
  const auto first = client.read_response();
  client.send(client.request("POST", "/v1/echo", "hello"));
  const auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "instance a");
  EXPECT_TRUE(first->has_header("X-Request-Id: "));
  EXPECT_FALSE(first->has_header("Connection: close"));
  EXPECT_EQ(second->body, "hello");
  EXPECT_EQ(server.stats().accepted, 1U);
}

TEST_F(ServerTest, UnknownPathAndWrongMethodAnswerJsonErrors) {
  Server& server = start();
  Client client(server.port());
  client.send(client.request("GET", "/nowhere"));
  const auto not_found = client.read_response();
  client.send(client.request("DELETE", "/v1/instances/a"));
  const auto not_allowed = client.read_response();
  ASSERT_TRUE(not_found && not_allowed);
  EXPECT_EQ(not_found->status, 404);
  EXPECT_TRUE(not_found->has_header("Content-Type: application/json"));
  EXPECT_EQ(error_code_of(*not_found), "not_found");
  EXPECT_EQ(not_allowed->status, 405);
  EXPECT_TRUE(not_allowed->has_header("Allow: GET, HEAD\r\n"));
  EXPECT_EQ(error_code_of(*not_allowed), "method_not_allowed");
}

TEST_F(ServerTest, OversizedBodyIs413AndTheConnectionCloses) {
  Server& server = start();
  Client client(server.port());
  client.send(client.request("POST", "/v1/echo", std::string(4096, 'x')));
  const auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(error_code_of(*response), "body_too_large");
  EXPECT_TRUE(response->has_header("Connection: close"));
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  Server& server = start();
  Client client(server.port());
  const std::string chunk(1500, 'y');
  client.send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n" +
              chunk + "\r\n0\r\n\r\n");
  const auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
}

// A coding the server does not read (gzip) would leave the body to be read as the next
// request, which a proxy in front may not see as one: 400, and the connection closes.
TEST_F(ServerTest, ATransferEncodingOtherThanChunkedIs400AndCloses) {
  Server& server = start();
  Client client(server.port());
  const std::string smuggled = "GET /v1/echo HTTP/1.1\r\nHost: t\r\n\r\n";
  client.send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled);
  const auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(error_code_of(*response), "unsupported_transfer_encoding");
  EXPECT_FALSE(client.read_response().has_value());  // the smuggled request is never answered

  // An empty first field does not hide a second one.
  Client twice(server.port());
  twice.send(
      "POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \r\nTransfer-Encoding: "
      "gzip\r\n\r\n" +
      smuggled);
  const auto second = twice.read_response();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 400);
  EXPECT_FALSE(twice.read_response().has_value());
}

TEST_F(ServerTest, MalformedRequestIs400) {
  Server& server = start();
  Client client(server.port());
  client.send("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  const auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(error_code_of(*response), "bad_request");
}

TEST_F(ServerTest, SlowHeaderIsCutOffAtTheHeaderTimeout) {
  Server& server = start();
  Client client(server.port());
  client.send("GET /v1/instances/a HTTP/1.1\r\nHost: t\r\n");  // never finishes its header
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // the timeout, not the guard
  // The socket closes before the session counts the timeout; after shutdown the count is final.
  server.stop();
  expect_shutdown_completes();
  EXPECT_EQ(server.stats().timed_out, 1U);
}

TEST_F(ServerTest, SlowBodyIsCutOffAtTheBodyTimeout) {
  Server& server = start();
  Client client(server.port());
  client.send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
  EXPECT_TRUE(client.closed_by_server());
  server.stop();
  expect_shutdown_completes();
  EXPECT_EQ(server.stats().timed_out, 1U);
}

TEST_F(ServerTest, ExpectContinueGetsTheGoAhead) {
  Server& server = start();
  Client client(server.port());
  client.send(
      "POST /v1/echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  const auto go_ahead = client.read_response();
  ASSERT_TRUE(go_ahead.has_value());
  EXPECT_EQ(go_ahead->status, 100);
  client.send("hello");
  const auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "hello");
}

TEST_F(ServerTest, ConnectionsOverTheCapGet503) {
  options_.max_connections = 1;
  Server& server = start();
  Client first(server.port());
  first.send(first.request("GET", "/v1/instances/a"));
  ASSERT_TRUE(first.read_response().has_value());  // now surely counted as active
  Client second(server.port());
  const auto refused = second.read_response();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(error_code_of(*refused), "over_capacity");
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_EQ(server.stats().rejected_over_cap, 1U);
  // The first connection is unaffected.
  first.send(first.request("GET", "/v1/instances/b"));
  const auto again = first.read_response();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "instance b");
}

TEST_F(ServerTest, GracefulShutdownFinishesTheRequestInFlight) {
  options_.header_timeout = 30s;  // so only stop() can end the idle connection
  Server& server = start();
  const auto port = server.port();
  Client idle(port);
  idle.send(idle.request("GET", "/v1/instances/a"));
  ASSERT_TRUE(idle.read_response().has_value());

  Client busy(port);
  busy.send(busy.request("GET", "/slow"));
  entered_.get_future().wait();
  server.stop();
  // The idle keep-alive connection is closed without waiting for its header timeout.
  EXPECT_TRUE(idle.closed_by_server());
  release_.set_value();

  expect_slow_answered_and_closed(busy);
  EXPECT_TRUE(busy.closed_by_server());
  expect_shutdown_completes();
  Client late(port);
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.connect_errno(), ECONNREFUSED);
}

// A client that stopped half way through its body (it died, or it is slow on purpose) does not
// hold the shutdown for body_timeout: nothing of its request was handled, and it is closed.
TEST_F(ServerTest, GracefulShutdownClosesARequestStillBeingReceived) {
  options_.body_timeout = 60s;
  Server& server = start();
  Client half(server.port());
  half.send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b");
  // Time for the server to read the header: the connection is past idle when the shutdown
  // begins (had it not been, the test would pass without the server closing a body read).
  std::this_thread::sleep_for(300ms);
  server.stop();
  EXPECT_TRUE(half.closed_by_server());  // within the client's 10 s read timeout, not 60 s
  expect_shutdown_completes();
}

// Sends one request and returns the answer's body; "(no answer)" when none came in time.
std::string body_of(Client& client, std::string_view method, std::string_view target,
                    std::string_view body = {}) {
  client.send(client.request(method, target, body));
  const auto response = client.read_response();
  return response ? response->body : "(no answer)";
}

// With request threads, a request that waits (here /slow, sent with POST semantics: not inline)
// holds no I/O thread: with a single I/O thread, a quick GET is still answered meanwhile.
TEST_F(ServerTest, AWaitingRequestOnARequestThreadHoldsNoIoThread) {
  options_.io_threads = 1;
  options_.request_threads = 2;
  options_.runs_inline = [](const HttpRequest& r) { return r.target != "/slow"; };
  Server& server = start();
  Client busy(server.port());
  busy.send(busy.request("GET", "/slow"));
  entered_.get_future().wait();

  Client quick(server.port());
  EXPECT_EQ(body_of(quick, "GET", "/v1/instances/a"), "instance a");

  release_.set_value();
  const auto finished = busy.read_response();
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->body, "finished");
  // The same connection goes on after a request thread answered it.
  EXPECT_EQ(body_of(busy, "POST", "/v1/echo", "again"), "again");
}

// Without the inline rule every request runs on a request thread, and graceful shutdown still
// lets the one in flight finish.
TEST_F(ServerTest, GracefulShutdownWaitsForARequestOnARequestThread) {
  options_.request_threads = 1;
  Server& server = start();
  Client busy(server.port());
  busy.send(busy.request("GET", "/slow"));
  entered_.get_future().wait();
  server.stop();
  release_.set_value();
  expect_slow_answered_and_closed(busy);
  expect_shutdown_completes();
}

TEST_F(ServerTest, SigtermStopsTheServer) {
  options_.handle_signals = true;
  start();
  std::raise(SIGTERM);
  expect_shutdown_completes();
}

TEST(ListenAddress, ParsesHostAndPort) {
  std::string error;
  const auto v4 = parse_listen_address("127.0.0.1:8080", &error);
  ASSERT_TRUE(v4.has_value()) << error;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  const auto v6 = parse_listen_address("[::1]:0", &error);
  ASSERT_TRUE(v6.has_value()) << error;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(parse_listen_address(":9000", &error)->host, "0.0.0.0");
}

TEST(ListenAddress, ExplainsWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(parse_listen_address("localhost", &error).has_value());
  EXPECT_EQ(error, "listen address 'localhost': expected HOST:PORT");
  EXPECT_FALSE(parse_listen_address("x:99999", &error).has_value());
  EXPECT_EQ(error, "listen address 'x:99999': port must be 0-65535");
  EXPECT_FALSE(parse_listen_address("::1:80", &error).has_value());
  EXPECT_FALSE(parse_listen_address("x:", &error).has_value());
}

}  // namespace
}  // namespace ombud::http

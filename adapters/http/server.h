// The HTTP/1.1 server: a listener and sessions on Boost.Beast with C++20 coroutines, around a
// plain function from request to response. Beast stays inside server.cpp.
//
//   Router router;  ... router.add(...);
//   RequestHandler handler(router, metrics, logger);
//   Server server(options, [&](HttpRequest&& r) { return handler(r); });
//   auto port = server.start();      // binds; port 0 picks a free one
//   server.wait();                   // until stop() or SIGTERM/SIGINT, then in-flight finishes
//
// Per connection: keep-alive; a header must arrive within header_timeout (which is also how long
// an idle keep-alive connection may wait for its next request) and a body within body_timeout,
// so a slow client cannot hold a connection; a body over body_limit is answered 413 and the
// connection closed. Past max_connections a new connection is answered 503 and closed.
// Every answer the server makes itself (400, 413, 431, 500, 503) uses the JSON error shape.
#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/http/http_message.h"

namespace ombud::http {

struct ListenAddress {
  std::string host = "127.0.0.1";  // an IP literal or a name the resolver knows
  std::uint16_t port = 0;          // 0: the OS picks a free port; Server::port() tells which
};

// Parses "HOST:PORT", "[IPv6]:PORT" or ":PORT" (all interfaces). On failure returns nullopt and
// sets *error to what is wrong, e.g. "listen address 'x:99999': port must be 0-65535".
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* error);

// Called on the session's thread before its request is handled: true runs the request right
// there on the I/O thread, false hands it to the request threads (ServerOptions).
using RunsInline = std::function<bool(const HttpRequest&)>;

struct ServerOptions {
  ListenAddress listen;
  int io_threads = 2;
  // Threads for requests that may wait (for a commit, a database round trip). 0: every request
  // runs on the I/O thread that read it. Otherwise a request runs on an I/O thread only when
  // `runs_inline` says so (a quick read), and on one of these threads else; its connection's
  // coroutine resumes when the answer is ready, so a waiting request holds no I/O thread.
  int request_threads = 0;
  RunsInline runs_inline;
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_connections = 1024;
  // Stop gracefully on SIGTERM and SIGINT. Off for embedding and most tests.
  bool handle_signals = false;
};

// Called on an I/O thread or a request thread (ServerOptions::request_threads), concurrently for
// different connections; must be thread-safe. Slow work holds the thread it runs on, not the
// connection's timeouts.
using RequestFunction = std::function<HttpResponse(HttpRequest&&)>;

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected_over_cap = 0;  // answered 503
  std::uint64_t timed_out = 0;          // closed because a header, body or write was too slow
  std::uint64_t active = 0;             // connections open now
};

class Server {
 public:
  Server(ServerOptions options, RequestFunction handler);
  // Stops and waits, as stop() then wait().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port, or the error from resolve,
  // bind or listen (e.g. address_in_use); then nothing is running. Call once.
  boost::system::result<std::uint16_t> start();
  std::uint16_t port() const;

  // Begins a graceful shutdown and returns at once: stop accepting, close connections that are
  // waiting for a request or still receiving one (nothing of it was handled: the client sends it
  // again), let requests in progress be answered (with Connection: close), then the I/O threads
  // end. Safe from any thread, a handler or a signal; repeated calls do nothing.
  void stop();
  // Blocks until the I/O threads ended after a stop() (or a signal). Call from one thread.
  void wait();

  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ombud::http

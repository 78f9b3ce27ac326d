#include "adapters/http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "adapters/http/beast_message.h"
#include "adapters/http/http_error.h"

namespace ombud::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* error) {
  const auto fail = [&](std::string_view why) -> std::optional<ListenAddress> {
    if (error != nullptr)
      *error = "listen address '" + std::string(text) + "': " + std::string(why);
    return std::nullopt;
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("expected HOST:PORT");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return fail("an IPv6 address must be in brackets, e.g. [::1]:8080");
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return fail("port must be 0-65535");
  }
  return ListenAddress{host.empty() ? std::string("0.0.0.0") : std::string(host),
                       static_cast<std::uint16_t>(port)};
}

namespace {

// One connection. Its stream lives on its own strand; `idle` is read and written only there.
struct Session {
  explicit Session(tcp::socket&& socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = true;  // waiting for the next request's header: safe to close on shutdown
  // Reading a request's body: nothing handled yet, so a shutdown closes it too rather than
  // wait up to body_timeout for a client that stopped sending (the client sends it again).
  bool receiving = false;
};

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// After an error answer, the client may still be sending (the rest of an oversized body).
// Closing with unread data makes the kernel send RST, which can destroy our answer before the
// client reads it, so: stop sending, read and discard for a short while, then close.
asio::awaitable<void> linger_and_close(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16 * 1024> sink{};
  std::size_t drained = 0;
  while (drained < 4 * 1024 * 1024) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kAsTuple);
    if (read_ec) break;
    drained += n;
  }
  stream.close();
}

bool is_timeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, RequestFunction h)
      : options(std::move(o)),
        handler(std::move(h)),
        ioc(std::max(1, options.io_threads)),
        acceptor(asio::make_strand(ioc)),
        signals(ioc) {
    if (options.request_threads > 0) {
      requests.emplace(static_cast<std::size_t>(options.request_threads));
    }
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Session> session);
  asio::awaitable<void> reject_over_cap(tcp::socket socket);
  HttpResponse handle(HttpRequest&& request) const;
  asio::awaitable<bool> write_error(beast::tcp_stream& stream, const HttpError& error,
                                    unsigned version);
  void begin_stop();

  // Constant after construction
  const ServerOptions options;
  const RequestFunction handler;
  asio::io_context ioc;
  tcp::acceptor acceptor;  // used on its strand only
  asio::signal_set signals;
  std::uint16_t bound_port = 0;
  std::vector<std::thread> threads;
  std::optional<asio::thread_pool> requests;  // request_threads > 0

  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> timed_out{0};
  std::atomic<std::uint64_t> active{0};

  std::mutex sessions_mutex;
  std::unordered_set<std::shared_ptr<Session>> sessions;  // guarded by sessions_mutex
};

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kAsTuple);
    if (stopping.load()) break;
    if (ec) {
      // Out of descriptors and the like: keep serving the connections we have, and try again
      // in a moment (at once, the loop would spin on the same error, a core at full load).
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kAsTuple);
      continue;
    }
    accepted.fetch_add(1);
    if (active.load() >= options.max_connections) {
      rejected.fetch_add(1);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, reject_over_cap(std::move(socket)), asio::detached);
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    {
      const std::lock_guard lock(sessions_mutex);
      sessions.insert(session);
    }
    active.fetch_add(1);
    auto executor = session->stream.get_executor();
    asio::co_spawn(executor, serve(std::move(session)), asio::detached);
  }
}

HttpResponse Server::Impl::handle(HttpRequest&& request) const {
  try {
    return handler(std::move(request));
  } catch (const std::exception&) {
    // The request handler (RequestHandler) logs and converts its own failures; this is the last
    // line for a bare RequestFunction.
    return error_response(500, "internal", "internal error");
  }
}

asio::awaitable<void> Server::Impl::reject_over_cap(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(options.write_timeout);
  HttpError error{503, "over_capacity", "too many connections; try again shortly", ""};
  if (co_await write_error(stream, error, 11)) co_await linger_and_close(stream);
}

asio::awaitable<bool> Server::Impl::write_error(beast::tcp_stream& stream, const HttpError& error,
                                                unsigned version) {
  auto response = detail::to_beast(error_response(error), version, false);
  stream.expires_after(options.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, response, kAsTuple);
  if (is_timeout(ec)) timed_out.fetch_add(1);
  co_return !ec;
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Session> session) {
  beast::tcp_stream& stream = session->stream;
  beast::error_code endpoint_ec;
  const auto peer = stream.socket().remote_endpoint(endpoint_ec);
  const std::string remote =
      endpoint_ec ? std::string() : peer.address().to_string() + ":" + std::to_string(peer.port());
  beast::flat_buffer buffer;
  bool linger = false;

  while (!stopping.load()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));

    session->idle = true;
    stream.expires_after(options.header_timeout);
    auto [header_ec, header_n] =
        co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
    session->idle = false;
    if (header_ec) {
      if (is_timeout(header_ec)) timed_out.fetch_add(1);
      // A clean end, a timeout or a shutdown: nothing to answer. A malformed or oversized
      // header (a Content-Length over the limit fails here already): answer, then close.
      if (header_ec != bhttp::error::end_of_stream && !is_timeout(header_ec) &&
          header_ec != asio::error::operation_aborted && header_ec != asio::error::eof &&
          header_ec != asio::error::connection_reset) {
        linger =
            co_await write_error(stream, detail::parse_failure(header_ec, options.body_limit), 11);
      }
      break;
    }
    const unsigned version = parser.get().version();
    // A coding other than chunked (gzip, a list) is not read, so its body would be read as the
    // next request: a proxy in front reading it otherwise would see another one (smuggling).
    // RFC 9112 6.1: answer 400 and close.
    const auto codings = parser.get().equal_range(bhttp::field::transfer_encoding);
    const auto count = std::distance(codings.first, codings.second);
    if (count > 1 || (count == 1 && !iequals(trim_spaces(codings.first->value()), "chunked"))) {
      const HttpError refused{
          400, "unsupported_transfer_encoding",
          "Transfer-Encoding '" + std::string(codings.first->value()) +
              (count > 1 ? "' (and more)" : "'") +
              " is not accepted; send the body as is, or with one Transfer-Encoding: chunked",
          "Transfer-Encoding"};
      linger = co_await write_error(stream, refused, version);
      break;
    }

    // A client that asked before sending its body gets the go-ahead only now that the header
    // passed (curl does this for bodies over 1 KiB).
    if (const auto expect = parser.get()[bhttp::field::expect];
        iequals(expect, "100-continue") && !parser.is_done()) {
      bhttp::response<bhttp::empty_body> go_ahead{bhttp::status::continue_, version};
      stream.expires_after(options.write_timeout);
      auto [continue_ec, continue_n] = co_await bhttp::async_write(stream, go_ahead, kAsTuple);
      if (continue_ec) break;
    }
    if (!parser.is_done()) {
      if (stopping.load()) break;  // began after the shutdown's cancel went by
      stream.expires_after(options.body_timeout);
      session->receiving = true;
      auto [body_ec, body_n] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
      session->receiving = false;
      if (body_ec) {
        if (is_timeout(body_ec)) {
          timed_out.fetch_add(1);
        } else if (body_ec != asio::error::operation_aborted && body_ec != asio::error::eof &&
                   body_ec != bhttp::error::end_of_stream &&
                   body_ec != asio::error::connection_reset) {
          linger = co_await write_error(stream, detail::parse_failure(body_ec, options.body_limit),
                                        version);
        }
        break;
      }
    }

    const bool client_keep_alive = parser.get().keep_alive();
    HttpRequest request = detail::from_beast(parser.release(), remote);
    HttpResponse response;
    if (requests && !(options.runs_inline && options.runs_inline(request))) {
      // On a request thread; this coroutine resumes on the session's strand with the answer.
      response = co_await asio::co_spawn(
          requests->get_executor(),
          [this, &request]() -> asio::awaitable<HttpResponse> {
            co_return handle(std::move(request));
          },
          asio::use_awaitable);
    } else {
      response = handle(std::move(request));
    }
    const bool keep_alive = client_keep_alive && !stopping.load() &&
                            !iequals(response.headers.get("Connection").value_or(""), "close");
    auto message = detail::to_beast(std::move(response), version, keep_alive);
    stream.expires_after(options.write_timeout);
    auto [write_ec, write_n] = co_await bhttp::async_write(stream, message, kAsTuple);
    if (write_ec) {
      if (is_timeout(write_ec)) timed_out.fetch_add(1);
      break;
    }
    if (!keep_alive) {
      // The request was read completely, so there is nothing unread to turn the close into a
      // reset: a FIN now, no lingering.
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
  }

  if (linger) {
    co_await linger_and_close(stream);
  } else {
    stream.close();
  }
  {
    const std::lock_guard lock(sessions_mutex);
    sessions.erase(session);
  }
  active.fetch_sub(1);
}

void Server::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ec;
    acceptor.close(ec);
  });
  asio::post(ioc, [this] {
    beast::error_code ec;
    signals.cancel(ec);
  });
  const std::lock_guard lock(sessions_mutex);
  for (const auto& session : sessions) {
    // On the session's strand, so it cannot race the coroutine: either the coroutine is suspended
    // in a header or body read (nothing handled yet) and the read is cancelled, or the request
    // is being handled and will be answered with Connection: close, seeing `stopping`.
    asio::post(session->stream.get_executor(), [session] {
      if (session->idle || session->receiving) session->stream.cancel();
    });
  }
}

Server::Server(ServerOptions options, RequestFunction handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() {
  stop();
  wait();
}

boost::system::result<std::uint16_t> Server::start() {
  Impl& s = *impl_;
  beast::error_code ec;
  auto address = asio::ip::make_address(s.options.listen.host, ec);
  if (ec) {
    tcp::resolver resolver(s.ioc);
    const auto results = resolver.resolve(s.options.listen.host, "", ec);
    if (ec) return ec;
    if (results.empty()) return beast::error_code(asio::error::host_not_found);
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, s.options.listen.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) s.bound_port = s.acceptor.local_endpoint(ec).port();
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return ec;
  }

  asio::co_spawn(s.acceptor.get_executor(), s.accept_loop(), asio::detached);
  if (s.options.handle_signals) {
    s.signals.add(SIGTERM);
    s.signals.add(SIGINT);
    s.signals.async_wait([this](const beast::error_code& signal_ec, int) {
      if (!signal_ec) stop();
    });
  }
  for (int i = 0; i < std::max(1, s.options.io_threads); ++i) {
    s.threads.emplace_back([&s] { s.ioc.run(); });
  }
  return s.bound_port;
}

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::stop() { impl_->begin_stop(); }

void Server::wait() {
  for (auto& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
  // Every connection has ended, so no request is left on the request threads.
  if (impl_->requests) impl_->requests->join();
}

ServerStats Server::stats() const {
  return ServerStats{impl_->accepted.load(), impl_->rejected.load(), impl_->timed_out.load(),
                     impl_->active.load()};
}

}  // namespace ombud::http

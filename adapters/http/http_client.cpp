#include "adapters/http/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace ombud::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kAnswerLimit = 64 * 1024;

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" at least
};

std::optional<Endpoint> endpoint_of(std::string_view url, std::string& error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    error = "'" + std::string(url) + "' is not a URL (" + parsed.error().message() + ")";
    return std::nullopt;
  }
  const boost::urls::url_view u = *parsed;
  Endpoint e;
  const std::string scheme(u.scheme());
  if (scheme != "http" && scheme != "https") {
    error = "the scheme must be http or https, not '" + scheme + "'";
    return std::nullopt;
  }
  e.tls = scheme == "https";
  e.host = std::string(u.encoded_host());
  if (e.host.empty()) {
    error = "'" + std::string(url) + "' names no host";
    return std::nullopt;
  }
  if (u.has_userinfo()) {
    error = "a user and password in the URL are not sent; use the signature secret";
    return std::nullopt;
  }
  if (u.has_fragment()) {
    error = "a URL to post to has no #fragment";
    return std::nullopt;
  }
  // [::1] → ::1 for the resolver.
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  if (u.has_port() && u.port_number() == 0) {
    error = "the port must be 1-65535, not '" + std::string(u.port()) + "'";
    return std::nullopt;
  }
  e.port = u.has_port() ? std::string(u.port()) : (e.tls ? "443" : "80");
  e.target = std::string(u.encoded_path());
  if (e.target.empty()) e.target = "/";
  if (u.has_query()) e.target += "?" + std::string(u.encoded_query());
  return e;
}

// The call as a chain of handlers; each step sets `result.error` when it fails and stops.
template <class Stream>
class Call {
 public:
  Call(Stream& stream, const Endpoint& to, bhttp::request<bhttp::string_body>& request,
       PostResult& result)
      : stream_(stream), to_(to), request_(request), result_(result) {
    parser_.body_limit(kAnswerLimit);
  }

  // After the connection: the TLS handshake (when any), then the request.
  void connected() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      write();
    } else {
      stream_.async_handshake(asio::ssl::stream_base::client, [this](beast::error_code ec) {
        if (ec) return fail("TLS handshake with " + to_.host, ec);
        write();
      });
    }
  }

 private:
  void write() {
    bhttp::async_write(stream_, request_, [this](beast::error_code ec, std::size_t) {
      if (ec) return fail("sending to " + to_.host, ec);
      bhttp::async_read(stream_, buffer_, parser_, [this](beast::error_code rc, std::size_t) {
        // An answer whose body is longer than we keep still has its status.
        if (rc && rc != bhttp::error::body_limit) return fail("reading the answer", rc);
        result_.status = static_cast<int>(parser_.get().result_int());
        result_.body = parser_.get().body();
      });
    });
  }

  void fail(const std::string& what, beast::error_code ec) {
    result_.error = what + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
  }

  Stream& stream_;
  const Endpoint& to_;
  bhttp::request<bhttp::string_body>& request_;
  PostResult& result_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
};

tcp::socket& lowest(beast::tcp_stream& s) { return s.socket(); }
tcp::socket& lowest(asio::ssl::stream<beast::tcp_stream>& s) { return s.next_layer().socket(); }
beast::tcp_stream& tcp_layer(beast::tcp_stream& s) { return s; }
beast::tcp_stream& tcp_layer(asio::ssl::stream<beast::tcp_stream>& s) { return s.next_layer(); }

// The host's addresses, by the deadline. getaddrinfo has no deadline of its own and cannot be
// cancelled, so the lookup runs on a thread of its own, which this call stops waiting for at
// the deadline (the thread ends with the lookup; a slow DNS server costs a sleeping thread, not
// the delivery's sender). An address needs no lookup.
std::vector<tcp::endpoint> addresses_of(const Endpoint& to,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::string& error) {
  unsigned short port = 0;
  std::from_chars(to.port.data(), to.port.data() + to.port.size(), port);
  boost::system::error_code not_ip;
  const asio::ip::address address = asio::ip::make_address(to.host, not_ip);
  if (!not_ip) return {tcp::endpoint(address, port)};

  struct Lookup {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::vector<tcp::endpoint> found;
    boost::system::error_code ec;
  };
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host = to.host, service = to.port] {
    asio::io_context io;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    std::vector<tcp::endpoint> found;
    for (const auto& entry : resolver.resolve(host, service, ec)) found.push_back(entry);
    {
      const std::lock_guard lock(lookup->mutex);
      lookup->found = std::move(found);
      lookup->ec = ec;
      lookup->done = true;
    }
    lookup->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->mutex);
  if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    error = "resolving " + to.host + ": timed out";
    return {};
  }
  if (lookup->ec) {
    error = "resolving " + to.host + ": " + lookup->ec.message();
  } else if (lookup->found.empty()) {
    error = "resolving " + to.host + ": no address";
  }
  return lookup->found;
}

template <class Stream>
PostResult run(asio::io_context& io, Stream& stream, const Endpoint& to,
               bhttp::request<bhttp::string_body>& request, std::chrono::milliseconds timeout) {
  PostResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::vector<tcp::endpoint> addresses = addresses_of(to, deadline, result.error);
  if (!result.error.empty()) return result;
  Call<Stream> call(stream, to, request, result);
  // One deadline for every step after the lookup: the stream's timer closes the socket when it
  // passes.
  tcp_layer(stream).expires_at(deadline);
  tcp_layer(stream).async_connect(addresses, [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      result.error = "connect to " + to.host + ":" + to.port + ": " +
                     (ec == beast::error::timeout ? "timed out" : ec.message());
      return;
    }
    call.connected();
  });
  io.run();  // ends when the call does, by the deadline at the latest
  if (result.status != 0) {
    beast::error_code ignored;
    lowest(stream).shutdown(tcp::socket::shutdown_both, ignored);
  }
  return result;
}

}  // namespace

std::string check_post_url(std::string_view url) {
  std::string error;
  return endpoint_of(url, error) ? "" : error;
}

PostResult http_post(std::string_view url, std::string_view body,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout) {
  std::string error;
  const std::optional<Endpoint> to = endpoint_of(url, error);
  if (!to) return PostResult{0, error, ""};

  bhttp::request<bhttp::string_body> request{bhttp::verb::post, to->target, 11};
  const bool default_port = to->port == (to->tls ? "443" : "80");
  boost::system::error_code not_ip;
  const auto address = asio::ip::make_address(to->host, not_ip);
  const std::string host = !not_ip && address.is_v6() ? "[" + to->host + "]" : to->host;
  request.set(bhttp::field::host, default_port ? host : host + ":" + to->port);
  request.set(bhttp::field::user_agent, "ombud");
  request.set(bhttp::field::content_type, "application/json");
  request.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();

  asio::io_context io;
  if (!to->tls) {
    beast::tcp_stream stream(io);
    return run(io, stream, *to, request, timeout);
  }
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<beast::tcp_stream> stream(io, tls);
  stream.set_verify_callback(asio::ssl::host_name_verification(to->host));
  // The server name, for servers that host several (SNI); never an address (RFC 6066).
  if (not_ip && SSL_set_tlsext_host_name(stream.native_handle(), to->host.c_str()) != 1) {
    return PostResult{0, "TLS: cannot name the server '" + to->host + "'", ""};
  }
  return run(io, stream, *to, request, timeout);
}

}  // namespace ombud::http

#include "adapters/http/beast_message.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "adapters/http/wire.h"

namespace ombud::http {

namespace bhttp = boost::beast::http;

namespace detail {

HttpRequest from_beast(BeastRequest&& request, std::string remote_address) {
  HttpRequest result;
  result.method = std::string(request.method_string());
  result.target = std::string(request.target());
  result.version = request.version();
  for (const auto& field : request) {
    result.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  result.body = std::move(request.body());
  result.remote_address = std::move(remote_address);
  return result;
}

BeastResponse to_beast(HttpResponse&& response, unsigned version, bool keep_alive) {
  BeastResponse result;
  result.version(version);
  result.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) result.insert(name, value);
  result.body() = std::move(response.body);
  result.keep_alive(keep_alive);
  result.prepare_payload();
  if (response.head_only) result.body().clear();  // Content-Length stays the GET body's
  return result;
}

HttpError parse_failure(const boost::beast::error_code& ec, std::size_t body_limit) {
  if (ec == bhttp::error::body_limit) {
    return HttpError{413, "body_too_large",
                     "the request body is larger than this server accepts (" +
                         std::to_string(body_limit) + " bytes)",
                     ""};
  }
  if (ec == bhttp::error::header_limit) {
    return HttpError{431, "header_too_large",
                     "the request header is larger than this server accepts", ""};
  }
  return HttpError{400, "bad_request", "malformed HTTP request: " + ec.message(), ""};
}

}  // namespace detail

HttpResult<HttpRequest> parse_request(std::string_view raw, std::size_t body_limit,
                                      std::size_t header_limit) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(body_limit);
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  boost::beast::error_code ec;
  // put() consumes what it can; feed it the rest until it finishes, fails or needs more input.
  while (!raw.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return detail::parse_failure(ec, body_limit);
    if (used == 0) break;
    raw.remove_prefix(used);
  }
  if (!parser.is_done() && parser.got_some()) {
    // A body delimited by the end of the connection ends here; anything else is truncated.
    parser.put_eof(ec);
    if (ec) return detail::parse_failure(ec, body_limit);
  }
  if (!parser.is_done()) {
    return HttpError{400, "bad_request", "malformed HTTP request: incomplete message", ""};
  }
  return detail::from_beast(parser.release(), "");
}

std::string serialize_response(const HttpResponse& response, unsigned version, bool keep_alive) {
  auto message = detail::to_beast(HttpResponse(response), version, keep_alive);
  std::ostringstream out;
  out << message;
  return out.str();
}

}  // namespace ombud::http

// Private to the adapter: conversions between Beast messages and the value types, shared by
// server.cpp and beast_message.cpp — the only two files that include Beast.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "adapters/http/http_error.h"
#include "adapters/http/http_message.h"

namespace ombud::http::detail {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

HttpRequest from_beast(BeastRequest&& request, std::string remote_address);
BeastResponse to_beast(HttpResponse&& response, unsigned version, bool keep_alive);

// The answer to a request the parser rejected: 413 (naming `body_limit`, the bytes a body may
// have), 431 or 400.
HttpError parse_failure(const boost::beast::error_code& ec, std::size_t body_limit);

}  // namespace ombud::http::detail

// The one error shape every HTTP answer uses:
//   {"error": {"code": "malformed_json", "message": "...", "field": "data.priority"}}
// `code` is stable and machine-readable, `message` is for people and names the thing and the
// place, `field` (optional) points into the request.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <string>

#include "adapters/http/http_message.h"

namespace ombud::http {

struct HttpError {
  int status = 400;
  std::string code;
  std::string message;
  std::string field;  // empty when the error is not about one field
};

HttpResponse error_response(const HttpError& error);
HttpResponse error_response(int status, std::string code, std::string message,
                            std::string field = {});

// A value or the error to answer with. Handlers return early with `return error_response(...)`.
template <class T>
using HttpResult = boost::system::result<T, HttpError>;

// Lets HttpResult<T>::value() throw (it is meant to be checked first; this only makes a misuse
// loud instead of ill-formed).
[[noreturn]] void throw_exception_from_error(const HttpError& error,
                                             const boost::source_location& location);

}  // namespace ombud::http

#include "adapters/http/http_error.h"

#include <boost/json/object.hpp>
#include <stdexcept>

namespace ombud::http {

HttpResponse error_response(const HttpError& error) {
  boost::json::object body;
  body["code"] = error.code;
  body["message"] = error.message;
  if (!error.field.empty()) body["field"] = error.field;
  return HttpResponse::json(error.status, boost::json::object{{"error", std::move(body)}});
}

HttpResponse error_response(int status, std::string code, std::string message, std::string field) {
  return error_response(HttpError{status, std::move(code), std::move(message), std::move(field)});
}

void throw_exception_from_error(const HttpError& error, const boost::source_location&) {
  throw std::runtime_error(error.code + ": " + error.message);
}

}  // namespace ombud::http

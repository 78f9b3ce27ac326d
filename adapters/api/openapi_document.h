// The API's OpenAPI 3.1 document, docs/openapi.json as it was when this library was built.
#pragma once

#include <string_view>

namespace ombud::api {

std::string_view openapi_document();

}  // namespace ombud::api

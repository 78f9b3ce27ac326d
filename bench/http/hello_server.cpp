// The baseline of the HTTP benchmark: ombud's own listener (Boost.Beast, the same sessions,
// limits and threads as `ombud serve`) answering every request with a fixed "hello" — no
// routing, no authentication, no JSON, no store. `ombud serve` divided by this is what the API
// itself costs per request.
//
//   hello_server [PORT] [IO_THREADS]    prints "listening on PORT", stops on SIGTERM/SIGINT
#include <cstdlib>
#include <iostream>

#include "adapters/http/server.h"

int main(int argc, char** argv) {
  ombud::http::ServerOptions options;
  options.listen.port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 0;
  options.io_threads = argc > 2 ? std::atoi(argv[2]) : 2;
  options.handle_signals = true;
  ombud::http::Server server(options, [](ombud::http::HttpRequest&&) {
    return ombud::http::HttpResponse::text(200, "hello\n");
  });
  auto port = server.start();
  if (!port) {
    std::cerr << "hello_server: " << port.error().message() << "\n";
    return 1;
  }
  std::cout << "listening on " << *port << std::endl;
  server.wait();
  return 0;
}

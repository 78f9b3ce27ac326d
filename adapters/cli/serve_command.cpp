// `ombud serve [--config FILE] [--listen HOST:PORT] [--store URL] [--node NAME]`
//
// The node behind HTTP: opens the store (migrating it), publishes the workflows of the config's
// `workflows:` directory (a new version only for changed files), starts the worker and serves the
// API until SIGTERM or SIGINT, then stops accepting, answers what is in flight, commits and
// exits 0. The flags override the config file; `--listen 127.0.0.1:0` picks a free port, and the
// log says which.
//
// On a store without any API token it makes an admin token and writes it to --token-file
// (0600): that is how the first admin gets in. `ombud token create` makes more.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "adapters/api/api.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/cli/node_lock.h"
#include "adapters/http/api_token.h"
#include "adapters/http/json_log.h"
#include "adapters/http/log_sink.h"
#include "adapters/http/outbox_delivery.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/server.h"
#include "adapters/node/scheduler.h"
#include "adapters/sql/sql_store.h"
#include "adapters/sql/store_url.h"
#include "adapters/yaml/config_loader.h"
#include "engine/time.h"

namespace ombud::cli {
namespace {

struct ServeOptions {
  std::string config = "config/ombud.yaml";
  std::string listen;
  std::string store;
  std::string node;  // "": the host's name
  std::string token_file = "var/admin.token";
  std::string openapi;
  int io_threads = 2;
  int request_threads = 32;
  int lease_ms = 30'000;
};

// The first admin token, when the store has none: written where only this user can read it.
// A file already there (another store's token, shown nowhere else) is moved aside, not
// overwritten.
void bootstrap_admin_token(Store& store, const std::string& file, spdlog::logger& log) {
  if (!store.api_tokens().empty()) return;
  const http::NewApiToken token = http::generate_api_token();
  std::error_code ec;
  const std::filesystem::path path(file);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  // A link there (dangling or not) is moved aside too, never written through.
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    std::string stamp = format_timestamp(SystemClock().now());
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    const std::string aside = file + "." + stamp;
    std::filesystem::rename(path, aside, ec);
    if (ec) {
      throw std::runtime_error(file + " exists and cannot be moved aside (" + ec.message() +
                               "); move it, or name another file with --token-file");
    }
    http::log_fields(log, spdlog::level::warn,
                     "this store has no token yet; the token file there is kept under another name",
                     {{"token_file", file}, {"moved_to", aside}});
  }
  {
    // Created readable by its owner only (never another's for a moment, whatever the umask),
    // and never through a link put in its place.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          S_IRUSR | S_IWUSR);
    if (fd < 0) {
      throw std::runtime_error("cannot create " + file +
                               " for the admin token: " + std::strerror(errno));
    }
    const std::string line = token.token + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    const bool closed = ::close(fd) == 0;
    if (!written || !closed) throw std::runtime_error("cannot write the admin token to " + file);
  }
  store.save_api_token(
      {token.id, token.hash, "admin", "", "first admin (ombud serve)", SystemClock().now(), false});
  http::log_fields(log, spdlog::level::warn, "created the first admin token",
                   {{"token_file", file}, {"token_id", token.id}});
}

// True (and says why in the log) when a newer node has migrated the store past what this build
// knows while it ran: its writes would follow the old schema's rules (decision 0013 changed what
// a timer row means, for one), so the node stops rather than lose timers.
bool newer_schema(Node& node, spdlog::logger& log) {
  const auto* sql = dynamic_cast<const sql::SqlStore*>(&node.store());
  if (sql == nullptr) return false;
  try {
    const auto applied = sql->applied_migrations();
    const int version = applied.empty() ? 0 : applied.back().version;
    const int known = sql::SqlStore::latest_schema_version();
    if (version <= known) return false;
    http::log_fields(log, spdlog::level::err,
                     "the store's schema is newer than this build knows: stopping this node; "
                     "upgrade it",
                     {{"schema_version", version}, {"known", known}});
    return true;
  } catch (const std::exception&) {
    return false;  // the store is away: the next pass looks again
  }
}

// One line per scheduled start made or refused; one made before (another node) is not logged.
void log_schedule(spdlog::logger& log, const ScheduleOutcome& o, Node& node) {
  using Kind = ScheduleOutcome::Kind;
  if (o.kind == Kind::done_before) return;
  const auto late =
      std::chrono::duration_cast<std::chrono::seconds>(node.clock().now() - o.due).count();
  switch (o.kind) {
    case Kind::started:
      http::log_fields(log, spdlog::level::info, "scheduled start",
                       {{"workflow", o.workflow},
                        {"due", format_timestamp(o.due)},
                        {"instance", o.instance_id},
                        {"late_s", static_cast<std::int64_t>(late)}});
      break;
    case Kind::refused:
      http::log_fields(
          log, spdlog::level::warn, "scheduled start refused",
          {{"workflow", o.workflow}, {"due", format_timestamp(o.due)}, {"error", o.error}});
      break;
    case Kind::done_before:
      break;
  }
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "ombud-1";
  return name.data();
}

int serve(const ServeOptions& o) {
  // Lines are written to stderr in blocks (adapters/http/log_sink.h): warnings at once.
  auto log =
      http::make_json_logger("ombud", std::make_shared<http::BufferedLogSink>(STDERR_FILENO));
  Diagnostics diags;
  std::optional<Config> config = yaml::load_config_file(o.config, diags);
  if (!config || diags.has_errors()) {
    diags.sort();
    print_text(std::cerr, diags);
    return 1;
  }
  const std::filesystem::path config_dir = std::filesystem::path(o.config).parent_path();
  const std::string listen_text = o.listen.empty() ? config->listen : o.listen;
  std::string error;
  auto listen = http::parse_listen_address(listen_text, &error);
  if (!listen) {
    std::cerr << "ombud serve: " << error << "\n";
    return 2;
  }

  // Notifications and outbound webhooks leave through here, on the worker's outbox thread.
  http::OutboxDelivery delivery(*config, log);
  if (const auto problems = delivery.problems(); !problems.empty()) {
    for (const std::string& p : problems) std::cerr << p << "\n";
    return 1;
  }
  for (const std::string& warning : delivery.warnings()) {
    http::log_fields(*log, spdlog::level::warn, warning, {});
  }
  if (config->public_url.empty()) {
    for (const HookSource& source : config->hooks) {
      if (source.verify.scheme != HookScheme::twilio) continue;
      http::log_fields(*log, spdlog::level::warn,
                       "hook source '" + source.name +
                           "' is checked against the URL in each request's Host and "
                           "X-Forwarded-Proto headers; set public_url in the config to the "
                           "address Twilio calls",
                       {});
    }
  }

  NodeOptions options;
  options.config_file = o.config;
  options.sink = &delivery;
  options.workflow_paths = {(config_dir / config->workflows_dir).string()};
  options.store_url = o.store.empty() ? config->store : o.store;
  options.published_by = "ombud serve";
  // Nodes sharing a PostgreSQL store tell their timer leases apart by this name: two nodes of
  // one name would each take the other's leases for their own. The host's name is unique per
  // machine and stays the same across restarts (a restarted node finds its own leases).
  const std::string node_name = o.node.empty() ? host_name() : o.node;
  options.worker.node = node_name;
  options.worker.lease = std::chrono::milliseconds(o.lease_ms);
  std::string lock_error;
  const auto node_lock = NodeLock::take(options.store_url, &lock_error);  // outlives the node
  if (!node_lock) {
    std::cerr << "ombud serve: " << lock_error << "\n";
    return 1;
  }
  std::unique_ptr<Node> node = Node::open(options, diags);
  if (!node) {
    diags.sort();
    print_text(std::cerr, diags);
    return 1;
  }
  for (const Diagnostic& d : diags.items()) {  // warnings: lint, files left unpublished
    http::log_fields(*log, spdlog::level::warn, d.message, {{"file", d.file}});
  }

  http::MetricsRegistry metrics;
  api::ApiOptions api_options;
  api_options.openapi_file = o.openapi;
  api_options.log = log;
  api::Api api(*node, metrics, api_options);
  node->worker().on_commit = [&api](std::span<const RuntimeResult> r) { api.record_commit(r); };
  node->worker().on_flush = [&api](std::chrono::nanoseconds took) { api.record_flush(took); };
  http::Router router;
  api.add_routes(router);
  for (const std::string& source : api.unconfigured_hooks()) {
    http::log_fields(*log, spdlog::level::warn, "webhook source has no secret: it answers 503",
                     {{"source", source}});
  }
  http::RequestHandler handler(router, metrics, log);

  try {
    bootstrap_admin_token(node->store(), o.token_file, *log);
  } catch (const std::exception& e) {
    std::cerr << "ombud serve: " << e.what() << "\n";
    return 1;
  }
  node->worker().start();

  http::ServerOptions server_options;
  server_options.listen = *listen;
  server_options.handle_signals = true;
  // A request that writes waits for its group commit on a request thread: more threads, bigger
  // batches. A read on the embedded store (SQLite, memory) takes microseconds and runs on the
  // I/O thread that read it, which spares two thread hand-offs per request; on PostgreSQL a read
  // is a round trip, so it goes to the request threads too.
  server_options.io_threads = o.io_threads;
  server_options.request_threads = o.request_threads;
  if (!node->store_is_shared()) {
    server_options.runs_inline = [](const http::HttpRequest& r) {
      return r.method == "GET" || r.method == "HEAD";
    };
  }
  http::Server server(server_options, [&handler](http::HttpRequest&& r) { return handler(r); });
  auto port = server.start();
  if (!port) {
    std::cerr << "ombud serve: cannot listen on " << listen_text << ": " << port.error().message()
              << "\n";
    node->worker().stop();
    return 1;
  }
  // Versions published through another node sharing the store are loaded within seconds, and
  // the workflows' scheduled starts are made within seconds of coming due.
  std::jthread refresher([&node, &log](const std::stop_token& stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    // Not further back than idempotency keys are kept: a start made before is known by its key.
    const Millis kept = node->config() != nullptr && node->config()->retention.idempotency_keys
                            ? *node->config()->retention.idempotency_keys
                            : WorkerOptions{}.keep_idempotency_keys;
    Scheduler scheduler(*node, kept.count() > 0 ? std::min<Millis>(kept, std::chrono::hours(24))
                                                : Millis(std::chrono::hours(24)));
    for (bool first = true; !stop.stop_requested(); first = false) {
      if (!first) {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, stop, std::chrono::seconds(5), [] { return false; });
      }
      if (stop.stop_requested()) break;
      try {
        Diagnostics found;
        if (const std::size_t n = node->refresh_definitions(found); n > 0 && !first) {
          http::log_fields(*log, spdlog::level::info, "loaded versions published elsewhere",
                           {{"versions", n}});
        }
      } catch (const std::exception& e) {
        http::log_fields(*log, spdlog::level::warn, "reading published versions failed",
                         {{"error", e.what()}});
      }
      if (newer_schema(*node, *log)) {
        // Stopped as on SIGTERM: what is under way is committed and answered first.
        std::raise(SIGTERM);
        break;
      }
      try {
        for (const ScheduleOutcome& o : scheduler.run_due(stop)) log_schedule(*log, o, *node);
      } catch (const std::exception& e) {
        http::log_fields(*log, spdlog::level::warn, "scheduled starts failed; retried shortly",
                         {{"error", e.what()}});
      }
    }
  });
  const std::string url = "http://" + listen->host + ":" + std::to_string(*port);
  http::log_fields(*log, spdlog::level::info, "listening",
                   {{"url", url},
                    {"port", *port},
                    {"store", sql::shown_store_url(options.store_url)},
                    {"node", node_name},
                    {"workflows", node->workflow_names().size()}});
  std::cout << "ombud serving on " << url << " (store " << sql::shown_store_url(options.store_url)
            << ")\n"
            << "  admin token: in " << o.token_file
            << " on first start; more with: ombud token create --role admin\n"
            << "  try: curl -H \"Authorization: Bearer $(cat " << o.token_file << ")\" " << url
            << "/v1/workflows\n"
            << std::flush;
  server.wait();
  refresher.request_stop();
  refresher.join();
  node->worker().stop();  // commits and answers what was submitted; gives up the timer leases
  http::log_fields(*log, spdlog::level::info, "stopped", {{"url", url}});
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the REST API and webhooks");
  cmd->add_option("--config", o->config, "Configuration file")->capture_default_str();
  cmd->add_option("--listen", o->listen, "HOST:PORT to listen on (port 0: a free one)");
  cmd->add_option("--store", o->store, "Store URL (sqlite:PATH or postgresql://...)");
  cmd->add_option("--node", o->node,
                  "This node's name in timer leases, unique among the nodes of a store (default: "
                  "the host's name)");
  cmd->add_option("--token-file", o->token_file, "Where the first admin token is written")
      ->capture_default_str();
  cmd->add_option("--openapi", o->openapi,
                  "Serve this file at /openapi.json instead of the document built in")
      ->check(CLI::ExistingFile);
  cmd->add_option("--io-threads", o->io_threads, "Threads reading and writing connections")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  cmd->add_option("--request-threads", o->request_threads,
                  "Threads running requests that may wait for a commit or the database")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  cmd->add_option("--lease-ms", o->lease_ms, "Timer lease length")->check(CLI::Range(100, 600000));
  cmd->callback([&run, o] { run = [o] { return serve(*o); }; });
}

}  // namespace ombud::cli

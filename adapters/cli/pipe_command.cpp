// `ombud pipe [--config FILE] [--store URL] [--node NAME] [--keep-running] WORKFLOWS...`
//
// The engine over standard input and output: one JSON request per line in, one JSON answer per
// line out, each written only after the request's step was committed. Timers fire while it
// runs. Meant for scripts, batch imports and the crash tests; `ombud serve` is the same node
// behind HTTP.
//
//   {"ref": "a1", "start": {"workflow": "complaint", "data": {...}, "idempotency_key": "..."}}
//   {"ref": "a2", "event": {"instance": "complaint-1", "name": "assigned", "data": {...}}}
//   {"ref": "a3", "event": {"workflow": "complaint", "key": "138...", "name": "called"}}
//
// Answer: {"ref": "a1", "status": "ok", "instance": {...}, "history": [...]} — status as in
// the API: ok, not_handled, rejected, not_found, conflict, unavailable, key_reused; or
// "invalid" with an error for a line that is not a request.
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/cli/node_lock.h"
#include "adapters/cli/store_choice.h"
#include "adapters/http/json_body.h"
#include "adapters/node/node.h"

namespace ombud::cli {

namespace {

struct PipeOptions {
  std::vector<std::string> workflows;
  std::string config;
  std::string store;  // "": the config's, else sqlite:var/ombud.db (chosen_store)
  std::string node = "ombud-pipe";
  bool keep_running = false;
  int lease_ms = 30'000;
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

std::string text_field(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

boost::json::object object_field(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_object() ? it->value().as_object() : boost::json::object{};
}

// Turns one input line into a submitted request; an error text when the line is not one.
std::variant<std::future<RuntimeResult>, std::string> submit_line(Worker& worker,
                                                                  const std::string& line,
                                                                  boost::json::value& ref) {
  // As the HTTP API reads a body: the position of a mistake, and no NUL in a text (PostgreSQL
  // would fail the whole group commit it is in).
  auto parsed = http::parse_json(line);
  if (!parsed) return parsed.error().message;
  const boost::json::value v = std::move(*parsed);
  if (!v.is_object()) return "a request is a JSON object, one per line";
  const auto& o = v.as_object();
  if (auto it = o.find("ref"); it != o.end()) ref = it->value();
  // A member nobody reads would be dropped in silence (a misspelt idempotency_key, say).
  const auto unknown = [](const boost::json::object& obj, std::string_view where,
                          std::initializer_list<std::string_view> known) -> std::string {
    for (const auto& member : obj) {
      if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
        return std::string(where) + "unknown member '" + std::string(member.key()) + "'";
      }
    }
    return "";
  };
  if (auto why = unknown(o, "", {"ref", "start", "event"}); !why.empty()) return why;
  if (o.contains("start") && o.contains("event"))
    return "a request has 'start' or 'event', not both";
  if (auto it = o.find("start"); it != o.end() && it->value().is_object()) {
    const auto& s = it->value().as_object();
    if (auto why = unknown(s, "start: ", {"workflow", "data", "idempotency_key", "actor"});
        !why.empty()) {
      return why;
    }
    StartRequest r;
    r.workflow = text_field(s, "workflow");
    r.data = object_field(s, "data");
    r.idempotency_key = text_field(s, "idempotency_key");
    r.actor = text_field(s, "actor");
    if (r.workflow.empty()) return "start: 'workflow' is required";
    if (auto why = reserved_key_reason(r.idempotency_key); !why.empty()) return "start: " + why;
    return worker.submit(std::move(r));
  }
  if (auto it = o.find("event"); it != o.end() && it->value().is_object()) {
    const auto& e = it->value().as_object();
    if (auto why = unknown(
            e,
            "event: ", {"instance", "workflow", "key", "name", "data", "idempotency_key", "actor"});
        !why.empty()) {
      return why;
    }
    EventRequest r;
    r.instance_id = text_field(e, "instance");
    r.workflow = text_field(e, "workflow");
    r.key = text_field(e, "key");
    r.event = text_field(e, "name");
    r.data = object_field(e, "data");
    r.idempotency_key = text_field(e, "idempotency_key");
    r.actor = text_field(e, "actor");
    if (r.event.empty()) return "event: 'name' is required";
    if (auto why = reserved_key_reason(r.idempotency_key); !why.empty()) return "event: " + why;
    if (r.instance_id.empty() && (r.workflow.empty() || r.key.empty())) {
      return "event: 'instance', or 'workflow' and 'key', are required";
    }
    return worker.submit(std::move(r));
  }
  return "a request has 'start' or 'event'";
}

int run_pipe(const PipeOptions& o) {
  NodeOptions options;
  options.config_file = o.config;
  options.workflow_paths = o.workflows;
  const auto store = chosen_store(o.store, o.config, std::cerr);
  if (!store) return 1;
  options.store_url = *store;
  options.worker.node = o.node;
  options.worker.lease = Millis(o.lease_ms);
  std::string lock_error;
  const auto node_lock = NodeLock::take(options.store_url, &lock_error);  // outlives the node
  if (!node_lock) {
    std::cerr << "ombud pipe: " << lock_error << "\n";
    return 1;
  }
  Diagnostics diags;
  std::unique_ptr<Node> node = Node::open(options, diags);
  if (!node) {
    diags.sort();
    print_text(std::cerr, diags);
    return 1;
  }
  print_text(std::cerr, diags);  // warnings: the files' lint, files left unpublished
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  node->worker().start();

  // Answers are written in request order by this thread while the reader keeps submitting, so
  // requests arriving together are committed together.
  struct Answer {
    boost::json::value ref;
    std::variant<std::future<RuntimeResult>, std::string> result;
  };
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Answer> answers;
  bool input_done = false;
  bool accepting = true;  // false once the worker is stopping: a line read then is not submitted
  std::thread writer([&] {
    for (;;) {
      Answer a;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return !answers.empty() || input_done; });
        if (answers.empty()) return;
        a = std::move(answers.front());
        answers.pop_front();
      }
      boost::json::object out;
      if (auto* error = std::get_if<std::string>(&a.result)) {
        out = {{"status", "invalid"}, {"error", *error}};
      } else {
        out = std::get<0>(a.result).get().to_json();
      }
      out["ref"] = a.ref;
      const std::string line = boost::json::serialize(out) + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      bool more;
      {
        const std::lock_guard lock(mutex);
        more = !answers.empty();
      }
      if (!more) std::fflush(stdout);
    }
  });
  std::thread reader([&] {
    std::string line;
    while (!g_stop && std::getline(std::cin, line)) {
      if (line.empty()) continue;
      {
        // Under the lock the stop takes first: a line read during the shutdown is not handed to
        // a worker that will never answer it (the writer would wait for it for ever).
        const std::lock_guard lock(mutex);
        if (!accepting) break;
        Answer a;
        a.result = submit_line(node->worker(), line, a.ref);
        answers.push_back(std::move(a));
      }
      ready.notify_one();
    }
    {
      const std::lock_guard lock(mutex);
      input_done = true;
    }
    ready.notify_one();
  });
  // Runs until the input ended and every answer was written (or, with --keep-running, until a
  // signal), or until SIGTERM/SIGINT: then what was submitted is committed and answered first.
  std::atomic<bool> writer_done{false};
  std::thread waiter([&] {
    writer.join();
    writer_done = true;
  });
  while (!g_stop && !(writer_done && !o.keep_running)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    const std::lock_guard lock(mutex);
    accepting = false;
  }
  node->worker().stop();  // commits and answers everything already submitted
  {
    const std::lock_guard lock(mutex);
    input_done = true;  // the reader may still be blocked on stdin: stop waiting for it
  }
  ready.notify_one();
  waiter.join();
  std::fflush(stdout);
  reader.detach();  // blocked reading stdin, or finished; the process is ending
  node.reset();
  std::_Exit(0);
}

}  // namespace

void add_pipe_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<PipeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "pipe", "Run the engine over stdin/stdout: one JSON request per line in, one answer out");
  cmd->add_option("workflows", options->workflows, "Workflow files or directories to publish");
  cmd->add_option("--config", options->config, "Config file (calendars, directory)");
  cmd->add_option("--store", options->store,
                  "Store URL: sqlite:PATH, postgresql://..., memory: (default: the config's "
                  "store, else sqlite:var/ombud.db)");
  cmd->add_option("--node", options->node, "This node's name in timer leases")
      ->capture_default_str();
  cmd->add_option("--lease-ms", options->lease_ms, "Timer lease length in milliseconds")
      ->capture_default_str();
  cmd->add_flag("--keep-running", options->keep_running,
                "Keep firing timers after the input ends, until SIGTERM or SIGINT");
  cmd->callback([&run, options] { run = [options] { return run_pipe(*options); }; });
}

}  // namespace ombud::cli

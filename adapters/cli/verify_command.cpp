// `ombud verify [--config FILE] [--store URL] [--format text|json]`
//
// Audits a store: every instance's history replays (start/step again from its recorded
// inputs) to the instance as stored; no timer fired twice; each instance's earliest pending timer
// has its row in the timer index and every row belongs to a pending timer. Exit 0 when all
// holds, 1 when anything does not (each problem is printed), 2 when the store cannot be read.
// With --format json it also lists each instance's inputs, for tools that reconcile what they
// sent against what the store kept.
//
// The store is --store, else the config's `store:`; the config is --config, else
// config/ombud.yaml when there is one (as for `ombud serve`): without the calendars it names,
// clocks replay on wall-clock time and differ from the stored ones. A SQLite file that does not
// exist is an error, not a new empty store that verifies.
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/cli/store_choice.h"
#include "adapters/node/node.h"
#include "adapters/sql/store_url.h"
#include "engine/replay.h"

namespace ombud::cli {

namespace {

struct VerifyOptions {
  std::string config;
  std::string store;
  std::string format = "text";
};

int run_verify(const VerifyOptions& o) {
  NodeOptions options;
  options.config_file = chosen_config(o.config);
  if (options.config_file.empty()) {
    std::cerr << "ombud verify: no --config and no config/ombud.yaml: clocks replay on wall-clock "
                 "time, without the directory\n";
  }
  const auto store_url = chosen_store(o.store, options.config_file, std::cerr);
  if (!store_url) return 2;
  options.store_url = *store_url;
  if (const std::string missing = missing_sqlite_store(options.store_url); !missing.empty()) {
    std::cerr << "ombud verify: no store at " << missing << "\n";
    return 2;
  }
  Diagnostics diags;
  std::unique_ptr<Node> node = Node::open(options, diags);
  if (!node) {
    diags.sort();
    print_text(std::cerr, diags);
    return 2;
  }
  Store& store = node->store();
  std::set<std::pair<std::string, std::uint64_t>> rows;
  for (const auto& t :
       store.due_timers(Timestamp::max(), std::numeric_limits<std::size_t>::max())) {
    rows.insert({t.instance_id, t.timer_id});
  }
  boost::json::array problems;
  boost::json::array instances;
  std::size_t count = 0;
  auto problem = [&](const std::string& id, const std::string& what) {
    problems.push_back({{"instance", id}, {"problem", what}});
    if (o.format == "text") std::cout << id << ": " << what << '\n';
  };
  InstanceFilter filter;
  filter.limit = 500;
  for (;;) {
    const auto page = store.find_instances(filter);
    for (const auto& in : page) {
      ++count;
      const auto history = store.history(in.id);
      const auto def = node->definition(in.workflow, in.version);
      if (!def) {
        problem(in.id, "workflow " + in.workflow + " version " + std::to_string(in.version) +
                           " is not in the store");
        continue;
      }
      const ReplayResult r = replay(*def, in, history, node->context());
      for (const auto& d : r.differences) problem(in.id, "replay: " + d);
      std::map<std::uint64_t, int> fired;
      boost::json::array inputs;
      for (const auto& h : history) {
        if (h.input.empty()) continue;
        inputs.push_back(h.input);
        if (auto t = h.input.find("timer"); t != h.input.end()) {
          fired[t->value().to_number<std::uint64_t>()] += 1;
        }
      }
      for (const auto& [timer, n] : fired) {
        if (n > 1)
          problem(in.id,
                  "timer #" + std::to_string(timer) + " fired " + std::to_string(n) + " times");
      }
      // The earliest pending timer has its row; the later ones wait in the instance and get
      // theirs when the one before fires (decision 0013), or still have one written before.
      if (const PendingTimer* first = earliest_timer(in.timers);
          first != nullptr && rows.count({in.id, first->id}) == 0) {
        problem(in.id, "pending timer #" + std::to_string(first->id) +
                           ", the earliest, has no row: the case's timers would never fire");
      }
      for (const auto& t : in.timers) rows.erase({in.id, t.id});
      if (o.format == "json") {
        instances.push_back({{"id", in.id},
                             {"workflow", in.workflow.str()},
                             {"state", in.state.str()},
                             {"revision", in.revision},
                             {"data", in.data.to_object()},
                             {"inputs", std::move(inputs)}});
      }
    }
    if (page.size() < filter.limit) break;
    filter.after_id = page.back().id;
  }
  for (const auto& [id, timer] : rows) {
    problem(id, "timer row #" + std::to_string(timer) + " belongs to no pending timer");
  }
  if (o.format == "json") {
    boost::json::object out{{"ok", problems.empty()},
                            {"instances", count},
                            {"problems", std::move(problems)},
                            {"cases", std::move(instances)}};
    std::cout << boost::json::serialize(out) << '\n';
  } else {
    std::cout << (problems.empty() ? "ok: " : "FAILED: ") << count << " instances, "
              << problems.size() << " problems\n";
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace

void add_verify_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Audit a store: histories replay to the stored state, timers fire exactly once");
  cmd->add_option("--config", options->config,
                  "Config file (calendars, directory; default: config/ombud.yaml if present)");
  cmd->add_option("--store", options->store,
                  "Store URL: sqlite:PATH, postgresql://... (default: the config's store)");
  cmd->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&run, options] { run = [options] { return run_verify(*options); }; });
}

}  // namespace ombud::cli

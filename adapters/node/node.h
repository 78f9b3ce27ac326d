// A running ombud node: configuration, the store, the published workflows and the worker,
// assembled once for `ombud serve`, `ombud pipe` and `ombud verify`.
//
// At open the node reads the config, opens the store (applying migrations), publishes the
// workflow files it was given — a new version only when a file's content is new to the store (a
// file holding an older version's content is left out, with a warning in `diags`) — and loads
// every stored version, so instances that started on an older one continue on it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/config_calendars.h"
#include "engine/diagnostics.h"
#include "engine/directory.h"
#include "engine/store.h"
#include "engine/worker.h"

namespace ombud {

struct NodeOptions {
  std::string config_file;                  // "" = no config (wall-clock calendars, no people)
  std::vector<std::string> workflow_paths;  // files or directories published at open
  std::string store_url = "sqlite:var/ombud.db";
  std::string published_by = "ombud";
  WorkerOptions worker;
  OutboxSink* sink = nullptr;
  const Clock* clock = nullptr;  // null: the system clock
};

class Node {
 public:
  // Null when something is wrong; `diags` says what (file:line:col for YAML, the store's error).
  // Warnings (files not published) may be left in `diags` when it opens.
  static std::unique_ptr<Node> open(const NodeOptions& options, Diagnostics& diags);
  ~Node();

  Store& store() { return *store_; }
  // True for a PostgreSQL store, which several nodes may share: every read is a round trip and
  // what this node holds in memory may be stale. False for SQLite and memory, which this node
  // alone writes.
  bool store_is_shared() const { return store_is_shared_; }
  Worker& worker() { return *worker_; }
  const Config* config() const { return config_ ? &*config_ : nullptr; }
  const StepContext& context() const { return context_; }
  const Clock& clock() const { return *clock_; }

  // Checks `yaml` (as the file `file`) against the config and the other workflows and publishes
  // it: a new version when the content changed. Nullopt with diagnostics when it is not valid.
  std::optional<PublishResult> publish(const std::string& file, const std::string& yaml,
                                       const std::string& published_by, Diagnostics& diags);
  // A loaded definition, or null. version 0: the latest.
  std::shared_ptr<const Definition> definition(const std::string& name, int version = 0) const;
  std::vector<std::string> workflow_names() const;
  // Loads the versions other nodes published since this node looked (the store is shared).
  // Returns how many were new; diagnostics for a stored version that no longer loads.
  std::size_t refresh_definitions(Diagnostics& diags);

 private:
  Node() = default;
  bool load_stored_versions(Diagnostics& diags);
  void register_version(std::shared_ptr<const Definition> def, int version);

  NodeOptions options_;
  std::optional<Config> config_;
  std::unique_ptr<ConfigCalendars> calendars_;
  std::unique_ptr<ConfigDirectory> directory_;
  std::unique_ptr<Store> store_;
  bool store_is_shared_ = false;
  std::unique_ptr<Clock> own_clock_;
  const Clock* clock_ = nullptr;
  StepContext context_;
  std::unique_ptr<Worker> worker_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> versions_;
  std::map<std::string, int> latest_;
};

// The SHA-256 of `text` in hex: a published definition's content hash.
std::string sha256_hex(const std::string& text);

// Opens a store by URL: `sqlite:PATH`, `postgresql://...`, or `memory:` (nothing kept).
// Throws std::runtime_error with a readable message when it cannot.
std::unique_ptr<Store> open_store_url(const std::string& url);

}  // namespace ombud

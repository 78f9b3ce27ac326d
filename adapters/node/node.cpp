#include "adapters/node/node.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "adapters/sql/sql_store.h"
#include "adapters/sql/store_url.h"
#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_files.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/definition_check.h"
#include "engine/memory_store.h"

namespace ombud {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::unique_ptr<Store> open_store_url(const std::string& url) {
  if (url == "memory:") return std::make_unique<MemoryStore>();
  return sql::open_store(url);
}

Node::~Node() {
  if (worker_) worker_->stop();
}

std::unique_ptr<Node> Node::open(const NodeOptions& options, Diagnostics& diags) {
  std::unique_ptr<Node> node(new Node());
  node->options_ = options;
  if (!options.config_file.empty()) {
    node->config_ = yaml::load_config_file(options.config_file, diags);
    if (!node->config_ || diags.has_errors()) return nullptr;
  }
  std::vector<std::pair<const CalendarSpec*, std::string>> problems;
  node->calendars_ = node->config_ ? std::make_unique<ConfigCalendars>(*node->config_, problems)
                                   : std::make_unique<ConfigCalendars>();
  for (const auto& [spec, problem] : problems) diags.error(node->config_->file, spec->pos, problem);
  if (diags.has_errors()) return nullptr;
  if (node->config_) node->directory_ = std::make_unique<ConfigDirectory>(*node->config_);
  node->context_.calendars = node->calendars_.get();
  node->context_.directory = node->directory_.get();
  node->context_.templates = node->config();
  if (options.clock == nullptr) node->own_clock_ = std::make_unique<SystemClock>();
  node->clock_ = options.clock != nullptr ? options.clock : node->own_clock_.get();

  try {
    node->store_ = open_store_url(options.store_url);
  } catch (const std::exception& e) {
    diags.error(sql::shown_store_url(options.store_url), {}, e.what());
    return nullptr;
  }
  // Opened above, so valid; nullopt for "memory:", which is no SQL store.
  const auto url = sql::parse_store_url(options.store_url, nullptr);
  node->store_is_shared_ = url && url->dialect == sql::Dialect::postgresql;
  WorkerOptions worker_options = options.worker;
  if (node->config_) {
    const Retention& keep = node->config_->retention;
    if (keep.idempotency_keys) worker_options.keep_idempotency_keys = *keep.idempotency_keys;
    if (keep.delivered_messages) worker_options.keep_delivered_messages = *keep.delivered_messages;
  }
  if (!worker_options.remember_instances) {
    // SQLite is written by this node alone, so committed instances can stay in memory; a
    // PostgreSQL store is shared by nodes, and each step reads the instance afresh.
    const bool sqlite = url && url->dialect == sql::Dialect::sqlite;
    worker_options.remember_instances = sqlite ? 10'000 : 0;
  }
  node->worker_ = std::make_unique<Worker>(*node->store_, *node->clock_, node->context_,
                                           worker_options, options.sink);

  // Publish the given files (each checked against the others), then load every stored version.
  const auto set = yaml::load_workflow_set(options.workflow_paths, node->config(), false, diags,
                                           Severity::warning);
  if (diags.has_errors()) return nullptr;
  for (std::size_t i = 0; i < set.files.size(); ++i) {
    std::string text;
    if (!yaml::read_file(set.files[i], text)) continue;
    PublishedDefinition d;
    d.name = set.definitions[i].name;
    d.content_hash = sha256_hex(text);
    d.source = std::move(text);
    d.published_by = options.published_by;
    d.published_at = node->clock_->now();
    try {
      // A file holding an earlier version's content is older than what is published (a version
      // put through the API since, or a node of a rolling deploy with newer files): publishing
      // it would roll every new case back to it. It is left as it is, and the latest stays.
      const PublishResult r = node->store_->publish_definition(d, EarlierContent::keep_latest);
      if (r.earlier_version != 0) {
        const PublishedDefinition& latest = r.definition;
        diags.warning(
            set.files[i], {},
            "not published: this is the content of version " + std::to_string(r.earlier_version) +
                " of '" + d.name + "'; new cases stay on version " +
                std::to_string(latest.version) + ", published later by " + latest.published_by +
                " (to make this content the latest again, PUT it to /v1/workflows/" + d.name + ")");
      }
    } catch (const std::exception& e) {
      diags.error(set.files[i], {}, std::string("publishing failed: ") + e.what());
      return nullptr;
    }
  }
  if (!node->load_stored_versions(diags)) return nullptr;
  if (const Config* config = node->config(); config != nullptr) {
    // `ombud validate --config` makes these errors; a running node only warns, since a route
    // may name a workflow another node is about to publish.
    check_hook_routes(
        *config, [&](const std::string& name) { return node->definition(name).get(); },
        node->workflow_names(), diags, Severity::warning);
  }
  return node;
}

void Node::register_version(std::shared_ptr<const Definition> def, int version) {
  {
    const std::lock_guard lock(mutex_);
    versions_[{def->name, version}] = def;
    auto& latest = latest_[def->name];
    latest = std::max(latest, version);
  }
  worker_->add_definition(std::move(def), version);
}

std::size_t Node::refresh_definitions(Diagnostics& diags) {
  const std::size_t before = [&] {
    const std::lock_guard lock(mutex_);
    return versions_.size();
  }();
  if (!load_stored_versions(diags)) return 0;
  const std::lock_guard lock(mutex_);
  return versions_.size() - before;
}

bool Node::load_stored_versions(Diagnostics& diags) {
  std::vector<PublishedDefinition> all;
  try {
    for (const auto& latest : store_->latest_definitions()) {
      for (auto& v : store_->definition_versions(latest.name)) all.push_back(std::move(v));
    }
  } catch (const std::exception& e) {
    diags.error(sql::shown_store_url(options_.store_url), {},
                std::string("reading definitions failed: ") + e.what());
    return false;
  }
  for (const auto& v : all) {
    {
      const std::lock_guard lock(mutex_);
      if (versions_.count({v.name, v.version}) > 0) continue;  // loaded already
    }
    // Versions were checked when they were published; a config change since may make an old
    // version invalid, but its running instances must still continue: load without the checks.
    const std::string file = v.name + "@v" + std::to_string(v.version);
    Diagnostics local;
    auto def = yaml::load_workflow(file, v.source, local);
    if (!def) {
      for (const auto& d : local.items()) diags.add(d);
      return false;
    }
    register_version(std::make_shared<const Definition>(std::move(*def)), v.version);
  }
  return true;
}

std::optional<PublishResult> Node::publish(const std::string& file, const std::string& yaml,
                                           const std::string& published_by, Diagnostics& diags) {
  auto def = yaml::load_workflow(file, yaml, diags);
  if (!def) return std::nullopt;
  // Checked even when reading found errors, as `ombud validate` does: an admin gets every
  // mistake in one answer, not one round trip per kind of mistake.
  std::vector<std::string> names = workflow_names();
  if (std::find(names.begin(), names.end(), def->name) == names.end()) names.push_back(def->name);
  CheckOptions check;
  check.config = config();
  check.workflows = &names;
  std::shared_ptr<const Definition> started;  // kept alive while the check reads it
  check.find_workflow = [&](const std::string& name) {
    started = definition(name);
    return started.get();
  };
  check_definition(*def, diags, check);
  if (const Config* config = this->config(); config != nullptr) {
    // The phone system's routes that this version would break (an event it no longer
    // handles): every call those routes take would go to the inbox. What the routes lacked
    // already is not this version's doing and stays a start-up warning.
    const auto routes = [&](const Definition* replacing) {
      Diagnostics found;
      check_hook_routes(
          *config,
          [&](const std::string& name) -> const Definition* {
            if (replacing != nullptr && name == replacing->name) return replacing;
            started = definition(name);
            return started.get();
          },
          names, found);
      return found.items();
    };
    const std::vector<Diagnostic> before = routes(nullptr);
    for (const Diagnostic& d : routes(&*def)) {
      // By place, not text: a route broken before may be described differently now (another
      // "did you mean").
      const bool old = std::any_of(before.begin(), before.end(),
                                   [&](const Diagnostic& b) { return b.pos == d.pos; });
      if (!old) diags.add(d);
    }
  }
  if (diags.has_errors()) return std::nullopt;
  PublishedDefinition d;
  d.name = def->name;
  d.content_hash = sha256_hex(yaml);
  d.source = yaml;
  d.published_by = published_by;
  d.published_at = clock_->now();
  PublishResult result = store_->publish_definition(d);
  if (result.created) {
    register_version(std::make_shared<const Definition>(std::move(*def)),
                     result.definition.version);
  }
  return result;
}

std::shared_ptr<const Definition> Node::definition(const std::string& name, int version) const {
  const std::lock_guard lock(mutex_);
  if (version == 0) {
    auto it = latest_.find(name);
    if (it == latest_.end()) return nullptr;
    version = it->second;
  }
  auto it = versions_.find({name, version});
  return it == versions_.end() ? nullptr : it->second;
}

std::vector<std::string> Node::workflow_names() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, v] : latest_) names.push_back(name);
  return names;
}

}  // namespace ombud

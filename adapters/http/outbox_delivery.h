// The outbox's way out (engine/worker.h, OutboxSink): notifications to the gateway of the
// config's `notifications:`, webhooks to its `webhook_targets:`. Each one is an HTTP POST of
// JSON, signed like an ombud-scheme webhook when the target has a secret (docs/webhooks.md,
// "Outbound"), or a line in the log for `deliver: log`. A message with nowhere to go fails with
// the reason and stays in the outbox, retried with the rest.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/worker.h"

namespace ombud::http {

class OutboxDelivery final : public OutboxSink {
 public:
  // Reads each target's `secret_env` now, once, as the webhook sources do. `config` must outlive
  // this (recipients' names and contacts are looked up in its directory at delivery).
  OutboxDelivery(const Config& config, std::shared_ptr<spdlog::logger> log);

  std::string deliver(const OutboxMessage& message) override;

  // Targets that can never be posted to (a URL with a password or a #fragment, ...): the server
  // refuses to start with them.
  std::vector<std::string> problems() const;

  // What an operator should know at start-up: notifications with nowhere to go, a secret whose
  // variable is not set. One line each.
  std::vector<std::string> warnings() const;

  // The JSON a notification is posted as (what `deliver: log` writes too).
  std::string notification_body(const OutboxMessage& message) const;

 private:
  std::string post(const DeliveryTarget& target, const OutboxMessage& message,
                   const std::string& body);

  // A target that gave no answer (refused, unknown host, timed out) is left alone for a while:
  // its other messages fail at once with why, instead of each holding a sender for its
  // timeout. They are retried with their backoff, as any failed delivery.
  struct Silent {
    std::chrono::steady_clock::time_point until;
    std::string error;
  };

  const Config& config_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, std::string> secrets_;         // by target name
  std::map<std::string, std::string> missing_secret_;  // target name → the unset variable
  std::mutex silent_mutex_;               // deliver() is called from several senders at once
  std::map<std::string, Silent> silent_;  // by target name
};

}  // namespace ombud::http

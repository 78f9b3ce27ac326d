// Ports for who can take a case: the directory of people, roles and queues, and the current
// workload. The engine reads them; adapters provide them (config file today, an HR system later).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config.h"

namespace ombud {

// People, roles, managers and queues. Implementations must be deterministic: the same question
// always gets the same answer, in the same order, so assignment is reproducible in simulation.
class Directory {
 public:
  virtual ~Directory() = default;

  virtual const Person* person(std::string_view id) const = 0;
  // Explicit members plus everyone holding one of the queue's roles, without duplicates,
  // sorted by person id. Empty for an unknown queue.
  virtual std::vector<const Person*> queue_members(std::string_view queue) const = 0;
  // Everyone holding `role`, sorted by person id.
  virtual std::vector<const Person*> people_with_role(std::string_view role) const = 0;
};

// How many open cases each person holds right now (the runtime keeps this count).
class Workload {
 public:
  virtual ~Workload() = default;
  virtual int open_cases(std::string_view person) const = 0;
};

// A Directory over the `directory:` section of config/ombud.yaml. Keeps a reference: the
// Config must outlive it.
class ConfigDirectory final : public Directory {
 public:
  explicit ConfigDirectory(const Config& config) : config_(config) {}

  const Person* person(std::string_view id) const override;
  std::vector<const Person*> queue_members(std::string_view queue) const override;
  std::vector<const Person*> people_with_role(std::string_view role) const override;

 private:
  const Config& config_;
};

}  // namespace ombud

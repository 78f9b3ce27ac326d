// One node per SQLite file: `ombud serve` and `ombud pipe` hold an advisory lock on
// `<file>.node-lock` while they run, and a second one on the same file refuses to start.
//
// SQLite is the one-node store (decision 0007): a node keeps the instances and documents it
// committed in memory, which is right only while no other process writes the file. PostgreSQL
// is what several nodes share, and takes no lock here. The lock is flock(2) on a file of its
// own, apart from the database's own locks; the kernel drops it when the process ends, however
// it ends, so a node killed with -9 does not keep the next one out.
#pragma once

#include <optional>
#include <string>

namespace ombud::cli {

class NodeLock {
 public:
  NodeLock(NodeLock&& other) noexcept;
  NodeLock& operator=(NodeLock&&) = delete;
  NodeLock(const NodeLock&) = delete;
  NodeLock& operator=(const NodeLock&) = delete;
  ~NodeLock();

  // The lock for the store at `url`: a NodeLock holding nothing for a store that is not an
  // SQLite file; nullopt with `error` set when another node holds the file or the lock file
  // cannot be made.
  static std::optional<NodeLock> take(const std::string& url, std::string* error);

 private:
  explicit NodeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ombud::cli

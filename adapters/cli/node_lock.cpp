#include "adapters/cli/node_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "adapters/sql/store_url.h"

namespace ombud::cli {

NodeLock::NodeLock(NodeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

NodeLock::~NodeLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the lock
}

std::optional<NodeLock> NodeLock::take(const std::string& url, std::string* error) {
  const auto parsed = sql::parse_store_url(url, nullptr);
  if (!parsed || parsed->dialect != sql::Dialect::sqlite) return NodeLock(-1);
  const std::filesystem::path file(parsed->sqlite_path);
  const std::string lock_path = file.string() + ".node-lock";
  std::error_code ignored;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ignored);
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open " + lock_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int reason = errno;
    ::close(fd);
    *error = reason == EWOULDBLOCK
                 ? "another ombud node (serve or pipe) is running on " + url + " (it holds " +
                       lock_path +
                       "). An SQLite file serves one node: stop the other one, or share a "
                       "PostgreSQL store between nodes"
                 : "cannot lock " + lock_path + ": " + std::strerror(reason);
    return std::nullopt;
  }
  return NodeLock(fd);
}

}  // namespace ombud::cli

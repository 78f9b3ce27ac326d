// Checkpoints an SQLite store's write-ahead log on a thread of its own.
//
// In WAL mode every commit appends the pages it changed to the log, and a checkpoint later
// copies them into the database file and syncs it. By default SQLite runs that checkpoint inside
// the commit that takes the log past 1,000 pages, so one caller in every few hundred waits for
// a thousand page writes and an fsync of the database file, on the one thread that commits.
//
// Here a commit past `background_pages` only signals (a WAL hook on each pooled connection),
// and this thread runs a PASSIVE checkpoint on its own connection, which never blocks the
// writer: commits go on appending while it copies. The log is written again from its beginning
// only after a checkpoint that copied all of it, which a pass running beside commits never
// does; so the next commit after a pass copies the few pages appended meanwhile itself.
//
// If this thread falls far behind, the committing connection checkpoints once the log reaches
// 4 × `background_pages`, as SQLite would. (A long read keeps any checkpoint from copying what
// it may still need, this thread's and SQLite's alike.)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/sql/sql_store.h"

struct sqlite3;

namespace ombud::sql {

class SqliteCheckpointer {
 public:
  // Opens its own connection to `path` (synchronous as the store's, by PRAGMA name) and starts
  // the thread. Throws std::runtime_error when the file cannot be opened.
  SqliteCheckpointer(const std::string& path, std::string_view synchronous, int background_pages);
  ~SqliteCheckpointer();  // unhooks the watched connections, stops the thread, closes
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Replaces `connection`'s automatic checkpoint with a signal to this thread. `connection` is
  // an sqlite3* (void*: SOCI declares it in a namespace of its own) of the same file whose commits
  // are serialised with every other watched connection's (the store's writer mutex); it must stay
  // open until this object is destroyed.
  void watch(void* connection);

  CheckpointCounts counts() const { return {background_.load(), tails_.load(), inline_.load()}; }

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();
  bool stopping();

  const int background_pages_;
  const int inline_pages_;
  sqlite3* db_ = nullptr;  // used by the thread only, after construction
  std::string pragma_;
  std::vector<sqlite3*> watched_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;                   // guarded by mutex_: a commit asked for a pass
  bool stopping_ = false;              // guarded by mutex_
  std::atomic<bool> tail_due_{false};  // a pass ended: the next commit copies the rest
  std::atomic<std::uint64_t> background_{0};
  std::atomic<std::uint64_t> tails_{0};
  std::atomic<std::uint64_t> inline_{0};
  std::thread thread_;
};

}  // namespace ombud::sql

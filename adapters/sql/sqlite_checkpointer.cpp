#include "adapters/sql/sqlite_checkpointer.h"

#include <sqlite3.h>

#include <stdexcept>

namespace ombud::sql {

namespace {
constexpr int kTailPages = 64;  // what a commit may be left to copy
constexpr int kMaxPasses = 8;   // then let the commits signal again
}  // namespace

SqliteCheckpointer::SqliteCheckpointer(const std::string& path, std::string_view synchronous,
                                       int background_pages)
    : background_pages_(background_pages), inline_pages_(4 * background_pages) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path + " for checkpoints: " + why);
  }
  // A checkpoint syncs the database file as this connection's `synchronous` says. The pragma
  // also reads the schema, which opens the log: a pass on a connection that has not seen it
  // reports a log of -1 pages and copies nothing (then the pragma is run again).
  pragma_ = "PRAGMA synchronous = " + std::string(synchronous);
  sqlite3_busy_timeout(db_, 1000);
  sqlite3_exec(db_, pragma_.c_str(), nullptr, nullptr, nullptr);
  thread_ = std::thread([this] { run(); });
}

SqliteCheckpointer::~SqliteCheckpointer() {
  // Back to SQLite's own checkpoints, for whatever the connections still commit.
  for (sqlite3* connection : watched_) sqlite3_wal_autocheckpoint(connection, 1000);
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void SqliteCheckpointer::watch(void* connection) {
  auto* db = static_cast<sqlite3*>(connection);
  sqlite3_wal_hook(db, &SqliteCheckpointer::on_commit, this);  // replaces wal_autocheckpoint
  watched_.push_back(db);
}

// Called by SQLite after each commit on a watched connection, with the log's length in pages.
// The commit's writer still holds the store's writer mutex: no other commit runs meanwhile.
int SqliteCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& me = *static_cast<SqliteCheckpointer*>(self);
  if (pages < me.background_pages_) {
    // The log started afresh since the thread's passes: nothing is left over from them.
    if (me.tail_due_.load(std::memory_order_relaxed)) me.tail_due_ = false;
    return SQLITE_OK;
  }
  // Fallen far behind, or the thread's passes left a rest: this commit copies. With no other
  // commit running, a copy of a rest leaves the log copied entirely, and the next commit writes
  // it again from its beginning (unless a reader still reads from it).
  const bool tail = me.tail_due_.exchange(false);
  if (tail || pages >= me.inline_pages_) {
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
        SQLITE_OK) {
      (pages >= me.inline_pages_ ? me.inline_ : me.tails_).fetch_add(1);
    }
  } else {
    bool wake = false;
    {
      const std::lock_guard lock(me.mutex_);
      wake = !me.due_;
      me.due_ = true;
    }
    if (wake) me.wake_.notify_one();
  }
  return SQLITE_OK;
}

bool SqliteCheckpointer::stopping() {
  const std::lock_guard lock(mutex_);
  return stopping_;
}

void SqliteCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return due_ || stopping_; });
    if (stopping_) return;
    lock.unlock();
    // PASSIVE: copies the log as it was when the pass began and returns; never waits for the
    // writer. Commits append meanwhile, so passes follow each other until one found fewer than
    // kTailPages new pages: the commit that then copies the rest waits for little. A failed
    // pass is tried again at the next commit's signal.
    int previous = -1;
    bool caught_up = false;
    for (int pass = 0; pass < kMaxPasses && !caught_up && !stopping(); ++pass) {
      int log = 0;
      int copied = 0;
      if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) !=
          SQLITE_OK) {
        break;
      }
      if (log < 0) {  // this connection has not opened the log yet
        sqlite3_exec(db_, pragma_.c_str(), nullptr, nullptr, nullptr);
        break;
      }
      background_.fetch_add(1);
      caught_up = previous >= 0 && log - previous < kTailPages;
      previous = log;
    }
    tail_due_ = caught_up;
    lock.lock();
    due_ = false;
  }
}

}  // namespace ombud::sql

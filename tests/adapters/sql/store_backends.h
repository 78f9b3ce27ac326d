// The stores the conformance tests run on, each a fresh, empty store per test:
//   MemoryBackend    engine/memory_store.h, the reference behaviour
//   SqliteBackend    a database file in a temporary directory on disk
//   PostgresBackend  a schema of its own in the PostgreSQL cluster that CTest started
//                    (tests/support/pg_cluster.sh); its URL is in $OMBUD_TEST_PG_URL_FILE.
// A missing PostgreSQL fails the test: it is never skipped.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "adapters/sql/sql_store.h"
#include "engine/memory_store.h"

namespace ombud::testing {

inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

class MemoryBackend {
 public:
  static constexpr const char* kName = "Memory";
  std::unique_ptr<Store> open() { return std::make_unique<MemoryStore>(); }
  static constexpr bool kPersistent = false;
};

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  static constexpr bool kPersistent = true;

  SqliteBackend()
      : dir_(std::filesystem::temp_directory_path() / ("ombud-sql-test-" + unique_suffix())) {}
  ~SqliteBackend() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  // A nested path, so that every test also checks that the store creates the parent directory.
  std::string url() const { return "sqlite:" + (dir_ / "var" / "ombud.db").string(); }
  std::filesystem::path dir() const { return dir_; }
  std::unique_ptr<sql::SqlStore> open_sql(const sql::StoreOptions& options = {}) {
    return sql::open_store(url(), options);
  }
  std::unique_ptr<Store> open() { return open_sql(); }

 private:
  std::filesystem::path dir_;
};

// The URL of the test cluster, or an exception saying why there is none.
inline std::string postgres_test_url() {
  const char* file = std::getenv("OMBUD_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') {
    throw std::runtime_error(
        "OMBUD_TEST_PG_URL_FILE is not set: run these tests through ctest, which starts "
        "PostgreSQL (tests/support/pg_cluster.sh)");
  }
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    throw std::runtime_error(std::string("no PostgreSQL URL in ") + file +
                             ": the pg_cluster fixture did not start (see its test output)");
  }
  return url;
}

// Runs one SQL command on the test cluster through libpq, independently of the store under test,
// and returns the first column of its first row ("" if none, or NULL).
inline std::string postgres_query(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to " + url + ": " + error);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
  std::string error = ok ? "" : PQerrorMessage(conn);
  std::string first = ok && PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "";
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + error);
  return first;
}

inline void postgres_exec(const std::string& url, const std::string& sql) {
  postgres_query(url, sql);
}

class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgres";
  static constexpr bool kPersistent = true;

  // Each test gets its own schema (and the store finds its tables there through search_path),
  // so tests that CTest runs in parallel never see each other's rows.
  PostgresBackend() : base_(postgres_test_url()), schema_("t_" + unique_suffix()) {
    postgres_exec(base_, "CREATE SCHEMA " + schema_);
  }
  ~PostgresBackend() {
    try {
      postgres_exec(base_, "DROP SCHEMA " + schema_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;

  std::string url() const {
    return base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }
  std::unique_ptr<sql::SqlStore> open_sql(const sql::StoreOptions& options = {}) {
    return sql::open_store(url(), options);
  }
  std::unique_ptr<Store> open() { return open_sql(); }

 private:
  std::string base_;
  std::string schema_;
};

// StoreOptions with some fields set: options([](auto& o) { o.migrate = false; }).
template <class Set>
sql::StoreOptions options(Set set) {
  sql::StoreOptions o;
  set(o);
  return o;
}

struct BackendName {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace ombud::testing

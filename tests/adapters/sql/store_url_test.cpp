// Store URLs: what people write in the config, and the messages they get when it is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/sql/sql_store.h"
#include "adapters/sql/store_url.h"

namespace ombud::sql {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(std::string_view url) {
  std::string error;
  EXPECT_FALSE(parse_store_url(url, &error)) << url;
  return error;
}

TEST(StoreUrl, SqliteTakesThePathAsWritten) {
  std::string error;
  auto u = parse_store_url("sqlite:var/ombud.db", &error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->dialect, Dialect::sqlite);
  EXPECT_EQ(u->sqlite_path, "var/ombud.db");
  EXPECT_EQ(parse_store_url("sqlite:/srv/ombud db/x.db", &error)->sqlite_path,
            "/srv/ombud db/x.db");
}

TEST(StoreUrl, SqliteTakesSynchronousAndNothingElse) {
  std::string error;
  auto u = parse_store_url("sqlite:var/ombud.db?synchronous=normal", &error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->sqlite_path, "var/ombud.db");
  EXPECT_EQ(u->sqlite_synchronous, "normal");
  EXPECT_EQ(parse_store_url("sqlite:var/ombud.db", &error)->sqlite_synchronous, "");
  EXPECT_THAT(error_of("sqlite:var/ombud.db?synchronous=fast"),
              HasSubstr("synchronous must be full, normal or off, not 'fast'"));
  EXPECT_THAT(error_of("sqlite:var/ombud.db?cache=shared"),
              HasSubstr("unknown parameter 'cache' (sqlite takes synchronous=full|normal|off)"));
  EXPECT_THAT(error_of("sqlite:var/ombud.db?synchronous=off&"), HasSubstr("unknown parameter ''"));
}

TEST(StoreUrl, PostgresqlBecomesLibpqKeywords) {
  std::string error;
  auto u = parse_store_url(
      "postgresql://ombud:s3cr%27t@db.example:6432/cases?sslmode=require&connect_timeout=5",
      &error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->dialect, Dialect::postgresql);
  EXPECT_EQ(u->connect_string,
            "host='db.example' port='6432' dbname='cases' user='ombud' password='s3cr\\'t' "
            "sslmode='require' connect_timeout='5'");
  EXPECT_EQ(parse_store_url("postgres://localhost/db", &error)->connect_string,
            "host='localhost' dbname='db'");
  EXPECT_EQ(parse_store_url("postgresql://u@[::1]:5432/db", &error)->connect_string,
            "host='::1' port='5432' dbname='db' user='u'");
}

TEST(StoreUrl, BadUrlsSayWhatIsWrong) {
  EXPECT_THAT(error_of("mysql://u@h/db"), HasSubstr("unsupported scheme 'mysql'"));
  EXPECT_THAT(error_of("var/ombud.db"), HasSubstr("no scheme"));
  EXPECT_THAT(error_of("sqlite:"), HasSubstr("no file"));
  EXPECT_THAT(error_of("sqlite::memory:"), HasSubstr("only a database file"));
  EXPECT_THAT(error_of("sqlite://var/x.db"), HasSubstr("sqlite:PATH"));
  EXPECT_THAT(error_of("postgresql://u@h:5432"), HasSubstr("database name"));
  EXPECT_THAT(error_of("postgresql:///db"), HasSubstr("no host"));
  EXPECT_THAT(error_of("postgresql://u@h/db?host=x"), HasSubstr("'host' belongs in the URL"));
  EXPECT_THAT(error_of("postgresql://u@h/db?bad%20key=1"), HasSubstr("bad connection parameter"));
}

TEST(StoreUrl, MessagesNeverShowThePassword) {
  const std::string error = error_of("postgresql://u:hunter2@h:5432");
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
  EXPECT_THAT(error, HasSubstr("u:***@h"));
  EXPECT_EQ(shown_store_url("postgresql://u@h/db?sslmode=require&password=hunter2"),
            "postgresql://u@h/db?sslmode=require&password=***");
  EXPECT_EQ(shown_store_url("sqlite:var/ombud.db"), "sqlite:var/ombud.db");
}

TEST(OpenStore, ABadUrlThrowsWithTheMessage) {
  try {
    open_store("redis://localhost");
    FAIL() << "opened redis://";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unsupported scheme 'redis'"));
  }
}

}  // namespace
}  // namespace ombud::sql

#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#   pg_cluster.sh start DIR   initdb in a fresh temporary directory, start it on a free
#                             127.0.0.1 port, create the database, write its URL to DIR/url
#   pg_cluster.sh stop DIR    stop it and delete its data
# DIR (in the build tree) holds only small files: url, the data directory's path, the log.
# The data directory lives under $TMPDIR because the server runs as the `postgres` user when we
# are root (initdb refuses root), and that user may not be able to enter the build tree.
# Missing PostgreSQL binaries are an error, not a skip: `make test` installs them.
set -euo pipefail

action=${1:-}
dir=${2:-}
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

bindir=${OMBUD_PG_BINDIR:-/usr/lib/postgresql/15/bin}
database=ombud_test
superuser=ombud

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  for tool in initdb pg_ctl createdb; do
    if [ ! -x "$bindir/$tool" ]; then
      echo "pg_cluster: $bindir/$tool not found: install PostgreSQL 15 (scripts/install-deps.sh)" >&2
      exit 1
    fi
  done
  if [ "$(id -u)" -eq 0 ] && ! id postgres > /dev/null 2>&1; then
    echo "pg_cluster: running as root but there is no 'postgres' user to run the server" >&2
    exit 1
  fi
  mkdir -p "$dir"
  [ -f "$dir/datadir" ] && stop  # a cluster left over by an interrupted run

  local data
  data=$(mktemp -d "${TMPDIR:-/tmp}/ombud-pg.XXXXXX")
  echo "$data" > "$dir/datadir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
  chmod 700 "$data"

  # trust on 127.0.0.1 only: the cluster lives for one test run and listens nowhere else.
  # C locale: byte-order text comparisons, the same as SQLite and the in-memory store.
  as_owner "$bindir/initdb" -D "$data/pgdata" -U "$superuser" --auth=trust --locale=C \
    -E UTF8 > "$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }

  # A free port: try a few random ones; the server itself is the final judge (bind fails).
  local port tries=0
  while :; do
    tries=$((tries + 1))
    port=$((20000 + RANDOM % 30000))
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      continue  # something listens there
    fi
    if as_owner "$bindir/pg_ctl" -D "$data/pgdata" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' \
          -c max_connections=200" start > "$dir/pg_ctl.log" 2>&1; then
      break
    fi
    if [ "$tries" -ge 5 ]; then
      cat "$dir/pg_ctl.log" "$data/server.log" >&2 || true
      exit 1
    fi
  done

  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$superuser" "$database"
  echo "postgresql://$superuser@127.0.0.1:$port/$database" > "$dir/url"
  echo "pg_cluster: PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, data in $data"
}

stop() {
  [ -f "$dir/datadir" ] || return 0
  local data
  data=$(cat "$dir/datadir")
  if [ -d "$data/pgdata" ]; then
    as_owner "$bindir/pg_ctl" -D "$data/pgdata" -m fast -w stop > /dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$dir/datadir" "$dir/url"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac

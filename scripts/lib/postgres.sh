# Sourced by scripts that need a throwaway PostgreSQL server on loopback (as the tests' harness starts one).
# pg_start DIR PORT: initdb into DIR (as the `postgres` account when run as root: PostgreSQL refuses root), start it on
# 127.0.0.1:PORT with durable settings (fsync on), and set PG_URL to an Npgsql connection string for database
# `lasthope`. pg_stop stops it. Callers trap pg_stop.
pg_bin() {
  local bin
  bin="$(pg_config --bindir 2> /dev/null || true)"
  [ -x "$bin/initdb" ] || bin="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)"
  [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; return 1; }
  echo "$bin"
}

pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi
}

pg_start() {
  PG_DIR="$1"; PG_PORT="$2"; PG_BIN="$(pg_bin)"
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 > "$PG_DIR/initdb.log" 2>&1
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=200" start > /dev/null
  pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres lasthope
  PG_URL="Host=127.0.0.1;Port=$PG_PORT;Database=lasthope;Username=postgres"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] && pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop > /dev/null 2>&1 || true
}

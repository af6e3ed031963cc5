# Sourced by scripts that need a throwaway PostgreSQL cluster on loopback, started as the tests' harness starts one
# (tests/Lasthope.Testing/PostgresServer.cs), but with fsync on: the scripts measure the durable path.
#   pg_start DIR: initdb into DIR/pg (as the `postgres` account when run as root, else `nobody`: PostgreSQL refuses
#     root), trust auth on 127.0.0.1, a free port; creates database `lasthope`; sets PG_URL (an Npgsql connection
#     string), PG_PORT and PG_BIN.
#   pg_stop: stops it (callers trap it). free_port: a free loopback port.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

if [ "$(id -u)" = 0 ]; then
  pg_owner="$(id -u postgres 2> /dev/null || id -u nobody)"
  pg_group="$(id -g "$pg_owner")"
  as_pg() { setpriv --reuid="$pg_owner" --regid="$pg_group" --clear-groups -- "$@"; }
else
  as_pg() { "$@"; }
fi

pg_start() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)"
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; return 2; }
  PG_DIR="$1"
  mkdir -p "$PG_DIR/socket"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$pg_owner:$pg_group" "$PG_DIR"
    chmod o+x "$(dirname "$PG_DIR")"   # a mktemp -d directory is 700: the owner must be able to reach its cluster
  fi
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U lasthope --auth=trust -E UTF8 --locale=C > "$PG_DIR/initdb.log"
  PG_PORT="$(free_port)"
  as_pg "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR/socket -c fsync=on -c max_connections=300" > /dev/null
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U lasthope lasthope
  PG_URL="Host=127.0.0.1;Port=$PG_PORT;Username=lasthope;Database=lasthope"
  echo "postgres $("$PG_BIN/postgres" --version | awk '{print $NF}') on 127.0.0.1:$PG_PORT, $("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U lasthope -d lasthope -Atc "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')")"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -t 30 > /dev/null 2>&1 || true; fi
}

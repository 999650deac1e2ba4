#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests and the demo (Debian's postgresql-15).
#   scripts/pg.sh start <dir>            initdb into <dir>/data, start it, print the conninfo
#   scripts/pg.sh stop <dir>             stop it (fast) and remove <dir>
#   scripts/pg.sh createdb <dir> <name>  create database <name> (UTF8, C collation)
#   scripts/pg.sh conninfo <dir>         print the conninfo again
#
# The server listens only on a Unix socket in <dir> (no TCP), trusts every local connection
# (role `tsunagu`, a superuser) and keeps fsync on. `start` prints, and writes to <dir>/conninfo:
#   host=<dir> port=<port> user=tsunagu dbname=postgres
# <dir> must be new or empty, an absolute-able path without spaces or quotes, short enough for a
# socket name (<dir>/.s.PGSQL.<port> within 107 bytes): mktemp -d under /tmp is right.
#
# initdb and postgres refuse to run as root. Run as root, this script runs the server programs as
# an unprivileged user — $TSUNAGU_PG_USER, else `postgres` (made by the Debian package), else
# `nobody` — which then owns <dir> (mode 0700; root still reaches the socket) and must be able to
# traverse every directory above <dir>. Run as anyone else, the server runs as that user.
# PG_BINDIR overrides /usr/lib/postgresql/15/bin.
set -euo pipefail

PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
PG_ROLE=tsunagu
MARKER=.tsunagu-pg  # written first into <dir>: `stop` removes only directories that have it

die() { printf 'pg.sh: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: pg.sh start <dir> | stop <dir> | createdb <dir> <name> | conninfo <dir>"; }

# The user the server programs run as, and the command prefix that becomes it (set_server_user).
server_user="$(id -un)"
as_server=()
set_server_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  server_user="$1"
  id -u "$server_user" >/dev/null 2>&1 || die "no user '$server_user' to run PostgreSQL as"
  [ "$(id -u "$server_user")" -ne 0 ] || die "PostgreSQL cannot run as root (TSUNAGU_PG_USER=$server_user)"
  as_server=(setpriv --reuid="$(id -u "$server_user")" --regid="$(id -g "$server_user")" --init-groups --)
}
default_server_user() {
  if [ -n "${TSUNAGU_PG_USER:-}" ]; then
    printf '%s\n' "$TSUNAGU_PG_USER"
  elif id -u postgres >/dev/null 2>&1; then
    echo postgres
  else
    echo nobody
  fi
}

# run_server_program <program> [args…]: from / (the caller's directory may be closed to the server
# user, and initdb fails when it cannot resolve its working directory).
run_server_program() {
  local program="$1"
  shift
  (cd / && "${as_server[@]}" "$PG_BINDIR/$program" "$@")
}

absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
  esac
}

# conninfo_field <dir> <key>: one value of the conninfo written by `start`.
conninfo_field() {
  local dir="$1" key="$2" word words
  [ -f "$dir/conninfo" ] || die "$dir/conninfo: no cluster started there"
  read -r -a words <"$dir/conninfo"
  for word in "${words[@]}"; do
    case "$word" in "$key="*) printf '%s\n' "${word#"$key"=}"; return 0 ;; esac
  done
  die "$dir/conninfo: no $key"
}

cmd_start() {
  local dir
  dir="$(absolute "$1")"
  dir="${dir%/}"
  case "$dir" in
    *[[:space:]\'\"\\]*) die "$dir: the path must not hold spaces, quotes or backslashes (it goes into a conninfo)" ;;
  esac
  [ -x "$PG_BINDIR/initdb" ] || die "$PG_BINDIR/initdb not found: install postgresql-15"
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty: give a new or empty directory (scripts/pg.sh stop removes a cluster)"
  fi
  # sockaddr_un holds 107 bytes and a NUL: "<dir>/.s.PGSQL.NNNNN" must fit.
  [ $(( ${#dir} + 16 )) -le 107 ] || die "$dir: too long for a Unix socket name (at most 91 bytes)"

  set_server_user "$(default_server_user)"
  mkdir -p "$dir"
  : >"$dir/$MARKER"
  chmod 0700 "$dir"
  if [ "${#as_server[@]}" -gt 0 ]; then
    chown "$server_user:" "$dir"
    # Every directory above <dir> must let the server user through.
    (cd / && "${as_server[@]}" test -w "$dir" -a -x "$dir") ||
      die "$dir: user '$server_user' cannot reach it (a directory above it is closed to others); use a directory under /tmp"
  fi

  run_server_program initdb --pgdata="$dir/data" --auth=trust --username="$PG_ROLE" \
    --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }

  # The port only names the socket (<dir>/.s.PGSQL.<port>) and its lock file: no TCP is opened, so
  # two clusters in different directories never collide, even on the same number. A random one
  # keeps the conninfo of concurrent clusters visibly apart; a failed start tries another.
  local port attempt started=0
  for attempt in 1 2 3 4 5; do
    port=$(( 54320 + RANDOM % 10000 ))
    cat >"$dir/data/postgresql.auto.conf" <<EOF
# scripts/pg.sh: a throwaway cluster for the tests and the demo.
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
port = $port
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
shared_buffers = 128MB
EOF
    [ "${#as_server[@]}" -eq 0 ] || chown "$server_user:" "$dir/data/postgresql.auto.conf"
    if run_server_program pg_ctl start --pgdata="$dir/data" --log="$dir/postgres.log" \
         --wait --timeout=60 --silent >/dev/null 2>"$dir/pg_ctl.log"; then
      started=1
      break
    fi
    cat "$dir/pg_ctl.log" >&2
    echo "pg.sh: start on port $port failed (attempt $attempt), see $dir/postgres.log" >&2
    run_server_program pg_ctl stop --pgdata="$dir/data" --mode=immediate --silent >/dev/null 2>&1 || true
  done
  [ "$started" = 1 ] || { tail -n 20 "$dir/postgres.log" >&2 || true; die "PostgreSQL did not start in $dir"; }

  local ready=0
  for _ in $(seq 1 300); do
    if "$PG_BINDIR/pg_isready" --quiet --host="$dir" --port="$port" --username="$PG_ROLE" \
         --dbname=postgres; then
      ready=1
      break
    fi
    sleep 0.1
  done
  [ "$ready" = 1 ] || { tail -n 20 "$dir/postgres.log" >&2 || true; die "PostgreSQL in $dir does not accept connections"; }

  local conninfo="host=$dir port=$port user=$PG_ROLE dbname=postgres"
  printf '%s\n' "$conninfo" >"$dir/conninfo"
  printf '%s\n' "$conninfo"
}

cmd_stop() {
  local dir
  dir="$(absolute "$1")"
  dir="${dir%/}"
  [ -e "$dir" ] || return 0
  [ -f "$dir/$MARKER" ] || die "$dir was not made by pg.sh start (no $MARKER): not removing it"
  # As root: as whoever owns the cluster (pg_ctl refuses root).
  [ ! -d "$dir/data" ] || set_server_user "$(stat -c %U "$dir/data")"
  if [ -f "$dir/data/postmaster.pid" ]; then
    run_server_program pg_ctl stop --pgdata="$dir/data" --mode=fast --wait --timeout=60 --silent \
      >/dev/null 2>&1 ||
      run_server_program pg_ctl stop --pgdata="$dir/data" --mode=immediate --wait --silent \
        >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/data/postmaster.pid" ] &&
     run_server_program pg_ctl status --pgdata="$dir/data" >/dev/null 2>&1; then
    die "PostgreSQL in $dir is still running: not removing it"
  fi
  rm -rf -- "$dir"
}

cmd_createdb() {
  local dir name
  dir="$(absolute "$1")"
  dir="${dir%/}"
  name="$2"
  "$PG_BINDIR/createdb" --host="$(conninfo_field "$dir" host)" --port="$(conninfo_field "$dir" port)" \
    --username="$PG_ROLE" --encoding=UTF8 --locale=C --template=template0 -- "$name"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  createdb) [ $# -eq 3 ] || usage; cmd_createdb "$2" "$3" ;;
  conninfo) [ $# -eq 2 ] || usage; cat "$(absolute "$2")/conninfo" ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Installs what is missing, builds, and runs the hub on its embedded default (SQLite, the bundled
# config, the sample exports in config/demo/). Prints what was stored and quarantined, then keeps
# the hub running until Ctrl-C.
#   scripts/demo.sh           — run until interrupted
#   scripts/demo.sh --once    — ingest the samples, print the summary, stop
#   scripts/demo.sh --postgres [--once] — the same on a throwaway PostgreSQL (config/tsunagu-postgres.xml,
#                               data in var/demo-pg/data); the database is new on every run and
#                               removed when the demo stops
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$TSUNAGU_ROOT"

once=0
postgres=0
for arg in "$@"; do
  case "$arg" in
    --once) once=1 ;;
    --postgres) postgres=1 ;;
    *) log "unknown option $arg (use --once, --postgres)"; exit 64 ;;
  esac
done

# On exit — Ctrl-C, --once, or an error — the daemon stops first, then the demo's PostgreSQL.
daemon=""
pg_dir=""
cleanup() {
  if [ -n "$daemon" ]; then
    kill -TERM "$daemon" 2>/dev/null || true  # (already gone when it failed by itself)
    wait "$daemon" 2>/dev/null || true
  fi
  if [ -n "$pg_dir" ]; then
    pg_stop "$pg_dir" || log "could not remove the demo's PostgreSQL in $pg_dir"
  fi
}
trap cleanup EXIT

install_packages
build_dir="$TSUNAGU_ROOT/build/demo"
configure_and_build "$build_dir" -DTSUNAGU_BUILD_TESTS=OFF

data_dir="$TSUNAGU_ROOT/var/demo"
config="$TSUNAGU_ROOT/config/tsunagu.xml"
bin="$build_dir/bin"
if [ "$postgres" = "1" ]; then
  data_dir="$TSUNAGU_ROOT/var/demo-pg/data"
  config="$TSUNAGU_ROOT/config/tsunagu-postgres.xml"
  # The cluster lives in a temporary directory rather than under var/: its socket path must stay
  # short, and run as root the server runs as an unprivileged user that must reach the directory.
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/tsunagu-demo-pg.XXXXXX")"
  log "starting a throwaway PostgreSQL in $pg_dir"
  pg_start "$pg_dir" >/dev/null
  pg_createdb "$pg_dir" tsunagu
  # The config's conninfo is only "dbname=tsunagu": libpq takes the rest from these.
  PGHOST="$pg_dir"
  PGPORT="$("$TSUNAGU_ROOT/scripts/pg.sh" conninfo "$pg_dir" | sed -n 's/.*port=\([0-9]*\).*/\1/p')"
  PGUSER=tsunagu
  export PGHOST PGPORT PGUSER
  log "PostgreSQL: host=$PGHOST port=$PGPORT user=$PGUSER dbname=tsunagu (removed when the demo stops)"
  # The database is new, so the accounts of an earlier run are not in it: make them again.
  rm -f "$data_dir/demo-accounts.txt"
fi
mkdir -p "$data_dir"
# HTTPS (on in the bundled config) needs a CA, the hub's certificate and the systems' client
# certificates; the first run makes them, later runs keep them.
"$TSUNAGU_ROOT/scripts/make-certs.sh" "$data_dir/tls" >/dev/null
log "TLS certificates in $data_dir/tls (ca.crt, server.crt, clients/<system>.crt)"

"$bin/tsunagu" --config "$config" --data-dir "$data_dir" config check

# Drop the sample exports the way a system would: write under a dot-name, then rename.
for src in "$TSUNAGU_ROOT"/config/demo/spool/*/*; do
  system="$(basename "$(dirname "$src")")"
  dest="$data_dir/spool/$system"
  mkdir -p "$dest"
  cp "$src" "$dest/.$(basename "$src").part"
  mv "$dest/.$(basename "$src").part" "$dest/$(basename "$src")"
done

log "starting tsunagud (data directory $data_dir)"
"$bin/tsunagud" --config "$config" --data-dir "$data_dir" &
daemon=$!

# Wait until every dropped file has left the spool (done/ or failed/).
for _ in $(seq 1 600); do
  # (work/ appears when the daemon claims its first file: not there yet is not an error.)
  pending=$( { find "$data_dir"/spool/*/ -maxdepth 1 -type f ! -name '.*';
               find "$data_dir"/spool/*/work/ -type f; } 2>/dev/null | wc -l) || pending=1
  [ "$pending" -eq 0 ] && break
  sleep 0.2
done

echo
echo "===== 取込結果 (what was ingested) ====="
"$bin/tsunagu" --config "$config" --data-dir "$data_dir" inputs list
echo
echo "===== 隔離されたレコード (quarantined records) ====="
"$bin/tsunagu" --config "$config" --data-dir "$data_dir" quarantine list
echo
"$bin/tsunagu" --config "$config" --data-dir "$data_dir" events list --limit 5
# Timers and escalations run every two seconds; give the first tick its turn.
sleep 3
echo
echo "===== 通知 (notices routed to officers, most urgent first) ====="
"$bin/tsunagu" --config "$config" --data-dir "$data_dir" notices list --all

# Demo accounts for the pages: a liaison of 東区 (higashi-liaison-1 in config/roster.xml) and an
# auditor. Passwords are made on the first run and kept in DATA/demo-accounts.txt.
accounts="$data_dir/demo-accounts.txt"
if [ ! -f "$accounts" ]; then
  liaison_pw="$(openssl rand -base64 12)"
  auditor_pw="$(openssl rand -base64 12)"
  printf '%s\n' "$liaison_pw" | "$bin/tsunagu" --config "$config" --data-dir "$data_dir" \
    user add higashi-liaison --role liaison --officer higashi-liaison-1 --ward 01103 >/dev/null
  printf '%s\n' "$auditor_pw" | "$bin/tsunagu" --config "$config" --data-dir "$data_dir" \
    user add auditor --role auditor >/dev/null
  umask 077
  printf 'higashi-liaison  %s  (東区 子ども支援窓口)\nauditor          %s  (監査)\n' \
    "$liaison_pw" "$auditor_pw" > "$accounts"
fi
echo
echo "スプール (drop files here): $data_dir/spool/<system>/"
echo "処理済み (processed):       $data_dir/spool/<system>/done/  (.errors reports beside files with rejected records)"
echo "管理コマンド (CLI):          $bin/tsunagu --config $config --data-dir $data_dir --help"
port="$(cat "$data_dir/run/https.port" 2>/dev/null || echo 8443)"
tls="$data_dir/tls"
echo "受信箱 (inbox):              https://127.0.0.1:$port/inbox   — log in with an account from $accounts:"
sed 's/^/                              /' "$accounts"
echo "                              (the browser must trust $tls/ca.crt, or accept the warning)"
echo "監査 (auditor):              https://127.0.0.1:$port/audit"
echo "HTTPS:                      https://127.0.0.1:$port/healthz  /metrics  (certificates: $tls/)"
echo "プッシュ (push):             curl --cacert $tls/ca.crt --cert $tls/clients/child_guidance.crt \\"
echo "    --key $tls/clients/child_guidance.key -H 'Content-Type: application/x-ndjson' \\"
echo "    --data-binary @FILE.ndjson https://127.0.0.1:$port/api/v1/ingest/child_guidance"

if [ "$once" = "1" ]; then
  exit 0
fi
echo
log "tsunagud is running; Ctrl-C stops it"
wait "$daemon"

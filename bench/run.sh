#!/usr/bin/env bash
# Runs the benchmarks of issue 10 and rewrites bench/RESULTS.md (the part between its markers).
#
#   bench/run.sh           full sizes (B1 1M rows, B2 1M and 4M rows, B3 100k documents, B5 10M
#                          entries, B6 100k events against 100k persons): the better part of an hour
#   bench/run.sh --quick   reduced sizes, well under 5 minutes once built; each row says its size
#   bench/run.sh --only B7 [--quick]   just B7 (and the machine lines) into
#                          build/bench/results-<mode>-B7.txt; RESULTS.md is left alone
#
# Builds Release (-O2; ccache) in build/bench, generates seeded data into build/bench-data (kept,
# never in git, regenerated only when missing), prints every figure and ratio, and writes the
# table with the machine it ran on. Not part of scripts/test.sh or CI: timings are not tests.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$TSUNAGU_ROOT"

mode=full
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --only) [ "${2:-}" = B7 ] || { echo "bench/run.sh: --only takes B7" >&2; exit 64; }; only=B7; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--only B7]" >&2; exit 64 ;;
  esac
  shift
done

if [ "$mode" = quick ]; then
  pa_rows=50000; b2_large=200000; hc_docs=20000; audit_entries=200000; id_persons=10000
  id_events=10000; https_requests=2000; https_rate_requests=2000; micro_time=0.02; b7_rows=20000
else
  pa_rows=1000000; b2_large=4000000; hc_docs=100000; audit_entries=10000000; id_persons=100000
  id_events=100000; https_requests=20000; https_rate_requests=5000; micro_time=0.2; b7_rows=200000
fi

install_packages xsltproc  # the B3 peer; libxml2-utils (xmllint) is in the base list
build="$TSUNAGU_ROOT/build/bench"
data="$TSUNAGU_ROOT/build/bench-data"
work="$build/work"
# -O2 rather than CMake's -O3: GCC 12 reports false -Wrestrict errors inside libstdc++ at -O3.
configure_and_build "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DTSUNAGU_BUILD_TESTS=OFF -DTSUNAGU_BUILD_BENCH=ON \
  -DTSUNAGU_WERROR=ON
bin="$build/bin"
mkdir -p "$data" "$work"
results="$build/results-$mode${only:+-$only}.txt"
micro="$build/micro-$mode.txt"
: >"$results"

figure() { echo "RESULT $*" | tee -a "$results"; }
# step NAME COMMAND…: runs a driver (its account on the terminal and in work/NAME.err), keeps
# its RESULT lines; a failing step is reported and the run goes on.
step() {
  local name="$1" status=0
  shift
  log "$name"
  "$@" >"$work/$name.out" 2> >(tee "$work/$name.err" >&2) || status=$?
  grep '^RESULT' "$work/$name.out" | tee -a "$results" || true
  [ "$status" = 0 ] || log "$name FAILED (exit $status); see $work/$name.err"
}
# gen SYSTEM N FILE: generated once, then reused (the generator is deterministic).
gen() {
  [ -f "$3" ] || { log "generating $3"; "$bin/tsunagu-bench-gen" "$1" "$2" "$3"; }
}

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- core adapters bench mappings ':!bench/RESULTS.md' 2>/dev/null || commit="$commit (with uncommitted changes in the code measured)"
figure machine mode "$mode"
figure machine date "$(date -u '+%Y-%m-%d %H:%M UTC')"
figure machine commit "$commit"
figure machine nproc "$(nproc)"
figure machine cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
figure machine memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
figure machine os "$(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r)"
figure machine load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

# B7: PostgreSQL, one tsunagud vs two on one database (the same file, cut in two halves), on a
# throwaway server (scripts/pg.sh) that is removed on exit whatever happens.
b7() {
  local pg_dir conninfo
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/tsunagu-bench-pg.XXXXXX")"
  trap 'pg_stop "'"$pg_dir"'" || log "could not remove the benchmark PostgreSQL in '"$pg_dir"'"' EXIT
  log "starting a throwaway PostgreSQL in $pg_dir"
  if ! conninfo="$(pg_start "$pg_dir")"; then
    figure B7 status "the throwaway PostgreSQL did not start (scripts/pg.sh)"
    return 0
  fi
  local pa_b7="$data/PA_EVENTS_${b7_rows}.csv"
  gen public_assistance "$b7_rows" "$pa_b7"
  step b7-pg "$bin/tsunagu-bench" pg "$pa_b7" "$work/pg" --conninfo "$conninfo" --id B7
  pg_stop "$pg_dir" || log "could not remove the benchmark PostgreSQL in $pg_dir"
  trap - EXIT
}
if [ "$only" = B7 ]; then
  b7
  figure machine load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
  log "B7 figures in $results (RESULTS.md not rewritten)"
  exit 0
fi

log "micro-benchmarks"
"$bin/tsunagu-bench-micro" --benchmark_min_time="$micro_time" 2>&1 | grep -v '^\*\*\*WARNING' | tee "$micro"

# B1: the real daemon on a public_assistance spool file, and the raw SQLite ceiling of its rows.
pa="$data/PA_EVENTS_${pa_rows}.csv"
gen public_assistance "$pa_rows" "$pa"
step b1-ceiling "$bin/tsunagu-bench" ceiling "$pa" "$work/ceiling"
step b1-spool "$bin/tsunagu-bench" spool public_assistance "$pa" "$work/spool" --id B1

# The same file with spool/batch-size 5000 instead of the default 500: how much of B1 is the
# per-commit cost (an informative row, not a target).
step b1-batch5000 "$bin/tsunagu-bench" spool public_assistance "$pa" "$work/spool" --id B1 \
  --prefix batch5000_ --batch 5000

# B2: peak memory at B1's size (from B1's run) and at four times it.
if grep -q '^RESULT B1 peak_rss_mb' "$results"; then
  figure B2 small_rows "$(sed -n 's/^RESULT B1 rows //p' "$results")"
  figure B2 small_peak_rss_mb "$(sed -n 's/^RESULT B1 peak_rss_mb //p' "$results")"
fi
pa_large="$data/PA_EVENTS_${b2_large}.csv"
gen public_assistance "$b2_large" "$pa_large"
step b2-spool "$bin/tsunagu-bench" spool public_assistance "$pa_large" "$work/spool-large" --id B2 --prefix large_

# B3: health_centre decode + map next to xsltproc and xmllint --stream on the same file.
hc="$data/HC_${hc_docs}.xml"
gen health_centre "$hc_docs" "$hc"
step b3-hc "$bin/tsunagu-bench" hc "$hc" "$work/hc"

# B4: HTTPS pushes, once the endpoint has landed (core/src/http committed).
if git ls-files --error-unmatch core/src/http/ingest_endpoint.cpp >/dev/null 2>&1; then
  step b4-https "$bin/tsunagu-bench" https "$work/https" --requests "$https_requests" \
    --connections 16 --rate 1000 --rate-requests "$https_rate_requests"
  # The same burst over 64 connections, on a fresh instance (informative).
  step b4-wide "$bin/tsunagu-bench" https "$work/https-wide" --requests "$https_requests" \
    --connections 64 --only-burst yes
else
  figure B4 status "the HTTPS push endpoint (core/src/http) has not landed on this branch yet"
fi

# B5: the exchange log.
step b5-audit "$bin/tsunagu-bench" audit "$work/audit" --entries "$audit_entries" --batch 10000

# B6: identity linking.
step b6-identity "$bin/tsunagu-bench" identity "$work/identity" --persons "$id_persons" --events "$id_events"

b7

figure machine load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
log "writing bench/RESULTS.md"
"$bin/tsunagu-bench" report --results "$results" --micro "$micro" --out "$TSUNAGU_ROOT/bench/RESULTS.md"

#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every test.
#   scripts/test.sh               — the full suite (what CI runs)
#   TSUNAGU_SANITIZE=1 scripts/test.sh — the same under ASan + UBSan, in build/sanitize
# Extra arguments go to ctest (e.g. -R Loader).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$TSUNAGU_ROOT"

install_packages

build_dir="$TSUNAGU_ROOT/build/test"
options=(-DTSUNAGU_WERROR=ON -DTSUNAGU_BUILD_TESTS=ON)
if [ "${TSUNAGU_SANITIZE:-0}" = "1" ]; then
  build_dir="$TSUNAGU_ROOT/build/sanitize"
  options+=(-DTSUNAGU_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
configure_and_build "$build_dir" "${options[@]}"

# The PostgreSQL store's tests use the server named by TSUNAGU_TEST_PG (a superuser's conninfo to
# its maintenance database; they create their own databases). Unless the caller gives one, a
# throwaway cluster runs for these tests and is removed on exit, whatever the outcome.
if [ -z "${TSUNAGU_TEST_PG:-}" ]; then
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/tsunagu-test-pg.XXXXXX")"
  trap 'pg_stop "$pg_dir" || log "could not remove the test PostgreSQL in $pg_dir"' EXIT
  log "starting a throwaway PostgreSQL in $pg_dir"
  TSUNAGU_TEST_PG="$(pg_start "$pg_dir")"
fi
export TSUNAGU_TEST_PG
log "PostgreSQL for the tests: $TSUNAGU_TEST_PG"

log "running tests"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 1800 "$@"
# Every fuzz target briefly (README, "Fuzzing"); TSUNAGU_FUZZ_SECONDS=0 skips it.
"$TSUNAGU_ROOT/scripts/fuzz.sh" "${TSUNAGU_FUZZ_SECONDS:-20}"

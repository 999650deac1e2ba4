#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, in build/fuzz) and runs each
# for a while, starting from its seeds (tests/fuzz/corpus/<target>/) and past crashes
# (tests/fuzz/regressions/<target>/).
#   scripts/fuzz.sh                        every target for 20 seconds (what scripts/test.sh runs)
#   scripts/fuzz.sh 3600                   the long run: an hour per target
#   scripts/fuzz.sh 300 mapping education  only these targets
# Seconds 0 builds nothing and runs nothing. Up to two targets run at once.
#
# The inputs a run generates stay in build/fuzz/corpus/<target>/ (a copy, grown run after run;
# delete it to start again from the seeds); nothing is written into the checkout. Exits non-zero
# if any target crashed, leaked, hung or broke an invariant, naming the input that did it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$TSUNAGU_ROOT"

seconds="${1:-20}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  log "usage: scripts/fuzz.sh [seconds-per-target] [target…]"
  exit 64
fi
if [ "$seconds" -eq 0 ]; then
  log "fuzzing skipped (0 seconds)"
  exit 0
fi

install_packages clang libclang-rt-14-dev

build_dir="$TSUNAGU_ROOT/build/fuzz"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
log "configuring $build_dir (clang, libFuzzer + ASan + UBSan)"
# Warnings are scripts/test.sh's business; the fuzz targets themselves build with -Werror.
CC=clang CXX=clang++ cmake -S "$TSUNAGU_ROOT" -B "$build_dir" -G Ninja \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTSUNAGU_BUILD_FUZZ=ON -DTSUNAGU_BUILD_TESTS=OFF \
  -DTSUNAGU_WERROR=OFF >/dev/null
log "building the fuzz targets"
cmake --build "$build_dir" --target tsunagu_fuzz -j "$(nproc)"

mapfile -t available < "$build_dir/fuzz/targets.txt"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${available[@]}")
fi
for target in "${targets[@]}"; do
  if [[ ! " ${available[*]} " == *" $target "* ]]; then
    log "no fuzz target '$target' in this build; there are: ${available[*]}"
    exit 64
  fi
done

# Leaks are findings here (scripts/test.sh turns them off for its sanitizer build).
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Runs one target in the background; its output goes to logs/<target>.log.
run_target() {
  local target="$1"
  local corpus="$build_dir/corpus/$target"
  local artifacts="$build_dir/artifacts/$target"
  mkdir -p "$corpus" "$artifacts" "$build_dir/logs"
  local dir
  for dir in "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target"; do
    if [ -d "$dir" ]; then
      find "$dir" -maxdepth 1 -type f -exec cp -n -t "$corpus" {} +
    fi
  done
  "$build_dir/fuzz/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 \
    >"$build_dir/logs/$target.log" 2>&1
}

report() {
  local target="$1" status="$2"
  local log_file="$build_dir/logs/$target.log"
  local stats
  stats="$(grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$log_file" | tail -1 || true)"
  if [ "$status" -eq 0 ]; then
    log "fuzz_$target: no crash in ${seconds}s (${stats:-see $log_file})"
    return 0
  fi
  log "fuzz_$target FAILED (exit $status); the end of $log_file:"
  tail -n 40 "$log_file" >&2
  local input
  input="$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log_file" | tail -1)"
  if [ -n "$input" ]; then
    log "the input: $input"
    log "  reproduce: $build_dir/fuzz/fuzz_$target $input"
    log "  once fixed, keep it: cp $input tests/fuzz/regressions/$target/"
  fi
  return 1
}

log "fuzzing ${targets[*]} for ${seconds}s each"
failed=()
parallel=$(( $(nproc) >= 2 ? 2 : 1 ))
declare -A pids=()
# Reports the targets that have finished (all of them with "all").
reap() {
  local t status
  for t in "${!pids[@]}"; do
    if [ "${1:-}" = all ] || ! kill -0 "${pids[$t]}" 2>/dev/null; then
      status=0
      wait "${pids[$t]}" || status=$?
      report "$t" "$status" || failed+=("$t")
      unset "pids[$t]"
    fi
  done
}
for target in "${targets[@]}"; do
  while [ ${#pids[@]} -ge "$parallel" ]; do
    sleep 1
    reap
  done
  run_target "$target" &
  pids[$target]=$!
done
reap all

if [ ${#failed[@]} -gt 0 ]; then
  log "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
log "fuzzing: no crash in ${targets[*]}"

#!/usr/bin/env bash
# A longer crash-safety run than the one scripts/test.sh makes (20 kills): more kills, a bigger
# batch, several seeds. Usage: scripts/chaos.sh [kills] [children] [seeds…]
#   scripts/chaos.sh 100 1000 1 2 3
# Needs a build from scripts/test.sh (build/). Each seed is one full run of
# tests/chaos/crash_harness_test.cpp: a reference run, then the killed one, compared.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kills="${1:-100}"
children="${2:-1000}"
shift $(( $# > 2 ? 2 : $# ))
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3)
binary="$root/build/bin/crash_harness_test"
[ -x "$binary" ] || { echo "build first: scripts/test.sh" >&2; exit 1; }
for seed in "${seeds[@]}"; do
  echo "[chaos] seed $seed: $kills kills, $children children" >&2
  TSUNAGU_CHAOS_KILLS="$kills" TSUNAGU_CHAOS_CHILDREN="$children" TSUNAGU_CHAOS_SEED="$seed" \
    "$binary" --gtest_brief=1
done

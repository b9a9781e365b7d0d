#!/usr/bin/env bash
# Runs every libFuzzer target (ASan + UBSan, clang-14) on its seed corpus.
#
#   scripts/fuzz.sh [--total SECONDS | --each SECONDS] [--jobs N] [NAME_FILTER]
#
# CI uses --total 120 (the budget is split evenly between targets). A longer local campaign:
#   scripts/fuzz.sh --each 1800 --jobs 2 sevsnp
# New inputs that grow coverage are kept in build-fuzz/corpus/<target>/ (merge them into
# test/fuzz/corpus/<dir>/ by hand when worthwhile). A crash, leak or timeout is copied into the
# target's seed corpus as regression-<sha1> (so every ctest run replays it from then on) and
# the script fails; fix the bug and commit the input with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=""
EACH=""
JOBS=1
FILTER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --total) TOTAL="$2"; shift 2 ;;
    --each) EACH="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    *) FILTER="$1"; shift ;;
  esac
done
./scripts/deps.sh
BUILD_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DTWI_FUZZ=ON -DTWI_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only" \
    "-DCMAKE_C_FLAGS_RELEASE=-O1 -gline-tables-only" >/dev/null
fi
# Target name and seed corpus of every fuzz target (written by twi_fuzz() at configure time).
mapfile -t TARGETS < <(grep -- "${FILTER}" "$BUILD_DIR/fuzz-targets.txt" || true)
if [ ${#TARGETS[@]} -eq 0 ]; then echo "fuzz.sh: no fuzz targets match \"$FILTER\"" >&2; exit 1; fi
names=()
for t in "${TARGETS[@]}"; do names+=("${t%% *}"); done
cmake --build "$BUILD_DIR" -j "${JOBS_BUILD:-2}" --target "${names[@]}"
if [ -z "$EACH" ]; then EACH=$(( ${TOTAL:-150} / ${#TARGETS[@]} )); fi
[ "$EACH" -ge 1 ] || EACH=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${TARGETS[@]}"; do
  read -r name seeds <<<"$t"
  bin="$PWD/$BUILD_DIR/fuzz/$name"
  work="$PWD/$BUILD_DIR/corpus/$name"
  artifacts="$PWD/$BUILD_DIR/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  echo "=== $name: ${EACH}s on $seeds"
  parallel=()
  if [ "$JOBS" -gt 1 ]; then parallel=(-jobs="$JOBS" -workers="$JOBS"); fi
  # Run inside the artifacts directory: with --jobs libFuzzer writes fuzz-<n>.log there.
  if ! (cd "$artifacts" && "$bin" -max_total_time="$EACH" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "${parallel[@]}" -artifact_prefix="$artifacts/" "$work" "$seeds") \
       >"$artifacts/log.txt" 2>&1; then
    status=1
    tail -n 40 "$artifacts/log.txt"
  fi
  for crash in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [ -e "$crash" ] || continue
    dest="$seeds/regression-$(sha1sum "$crash" | cut -c1-40)"
    cp "$crash" "$dest"
    echo "fuzz.sh: $name: $(basename "$crash") kept as $dest"
    status=1
  done
  grep -E "stat::number_of_executed_units|cov:" "$artifacts/log.txt" | tail -n 2 || true
done
exit $status

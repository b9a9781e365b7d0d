#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, vectors, end to end, fuzz
# corpus replays) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
BUILD_DIR="${BUILD_DIR:-build}" ./scripts/build.sh "$@"
# TWI_CTEST_ARGS: extra ctest arguments, e.g. "-LE spire" or "-R Azure".
# shellcheck disable=SC2086
ctest --test-dir "${BUILD_DIR:-build}" -j "${JOBS:-$(nproc)}" --output-on-failure --timeout 300 ${TWI_CTEST_ARGS:-}

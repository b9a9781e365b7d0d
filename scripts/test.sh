#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, vectors, end to end, fuzz
# corpus replays) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
BUILD_DIR="${BUILD_DIR:-build}" ./scripts/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" -j "${JOBS:-$(nproc)}" --output-on-failure --timeout 300

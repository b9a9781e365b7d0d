#!/usr/bin/env bash
# Installs what is missing, builds, and runs one node attestation of a simulated
# confidential VM through the host harness (see examples/quickstart.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
exec ./examples/quickstart.sh "$@"

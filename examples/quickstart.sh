#!/usr/bin/env bash
# Quickstart: builds the plugins if needed, then plays SPIRE's part with the twi-host harness:
# launches twi-agent-nodeattestor and twi-server-nodeattestor exactly as SPIRE would, relays
# one node attestation of a simulated SEV-SNP confidential VM, and prints the agent ID and
# selectors the server would register.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [ ! -x "$BUILD_DIR/bin/twi-host" ] || [ ! -x "$BUILD_DIR/bin/twi-agent-nodeattestor" ]; then
  BUILD_DIR="$BUILD_DIR" TARGETS="twi-host twi-agent-nodeattestor twi-server-nodeattestor twi-workloadattestor twi" \
    ./scripts/build.sh
fi
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT
sed "s|@STATE@|$STATE|g" examples/quickstart/agent.hcl > "$STATE/agent.hcl"
"$BUILD_DIR/bin/twi-host" attest \
  --agent-plugin "$BUILD_DIR/bin/twi-agent-nodeattestor" \
  --server-plugin "$BUILD_DIR/bin/twi-server-nodeattestor" \
  --agent-config "$STATE/agent.hcl" \
  --server-config examples/quickstart/server.hcl \
  --trust-domain example.org "$@"

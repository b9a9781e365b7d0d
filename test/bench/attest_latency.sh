#!/usr/bin/env bash
# Latency of full node attestations through the host harness (both plugins launched as SPIRE
# does), p50/p99 over N runs, plus each plugin's idle RSS after Configure. Reports figures;
# asserts nothing. Usage: test/bench/attest_latency.sh [BUILD_DIR] [N] [agent|sim|tdx]
# (sim: simulated SEV-SNP; tdx: simulated TDX with offline collateral, the full verification:
# PCK chain, CRLs, TCB Info and QE Identity signatures, TCB level, policy; the warm path serves
# the chain and collateral from the verification cache after the first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
N="${2:-100}"
MODE="${3:-sim}"
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT
if [ "$MODE" = sim ]; then
  "$BUILD_DIR/bin/twi" sim sev-snp --out "$STATE/sim" > /dev/null  # the simulator's hierarchy, pinned below
  printf 'state_dir = "%s/agent"\nsimulate = "sev-snp"\nsimulation_dir = "%s/sim/sim-amd"\n' "$STATE" "$STATE" > "$STATE/agent.hcl"
  printf 'insecure_simulation_roots = true\nsev_snp {\n  extra_roots = ["vcek:%s/sim/sim-amd/ark.pem"]\n}\n' "$STATE" > "$STATE/server.hcl"
elif [ "$MODE" = tdx ]; then
  SIM="$STATE/sim/sim-intel"
  "$BUILD_DIR/bin/twi" sim tdx --report-data 00 --out "$STATE/sim" > /dev/null
  printf 'state_dir = "%s/agent"\nsimulate = "tdx"\nsimulation_dir = "%s"\n' "$STATE" "$SIM" > "$STATE/agent.hcl"
  printf 'insecure_simulation_roots = true\ntdx {\n  extra_roots = ["%s/root.pem"]\n  collateral_offline_path = "%s/collateral.json"\n}\n' "$SIM" "$SIM" > "$STATE/server.hcl"
else
  printf 'state_dir = "%s/agent"\n' "$STATE" > "$STATE/agent.hcl"
  printf 'insecure_allow_no_tee = true\n' > "$STATE/server.hcl"
fi
"$BUILD_DIR/bin/twi-host" attest --count "$N" --json \
  --agent-plugin "$BUILD_DIR/bin/twi-agent-nodeattestor" \
  --server-plugin "$BUILD_DIR/bin/twi-server-nodeattestor" \
  --agent-config "$STATE/agent.hcl" --server-config "$STATE/server.hcl"

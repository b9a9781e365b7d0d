#!/usr/bin/env bash
# Latency of full node attestations through the host harness (both plugins launched as SPIRE
# does), p50/p99 over N runs, plus each plugin's idle RSS after Configure. Reports figures;
# asserts nothing. Usage: test/bench/attest_latency.sh [BUILD_DIR] [N] [agent|sim|tdx|tpm]
# (sim: simulated SEV-SNP; tdx: simulated TDX with offline collateral, the full verification:
# PCK chain, CRLs, TCB Info and QE Identity signatures, TCB level, policy; the warm path serves
# the chain and collateral from the verification cache after the first run; tpm: the agent on a
# swtpm started here (port 25270, fresh state), the server trusting its EK by hash: credential
# activation, a sha256 quote of PCRs 0-7 and its verification per run).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
N="${2:-100}"
MODE="${3:-sim}"
STATE="$(mktemp -d)"
# shellcheck source=../tpm/swtpm.sh
. test/tpm/swtpm.sh
cleanup() {
  swtpm_stop
  rm -rf "$STATE"
}
trap cleanup EXIT
if [ "$MODE" = tpm ]; then
  PORT=25270
  swtpm_start "$STATE" "$PORT"
  EK_HASH="$(swtpm_ek_hash "$BUILD_DIR/bin/twi" "swtpm:port=$PORT")"
  printf 'state_dir = "%s/agent"\ntpm {\n  tcti = "swtpm:port=%s"\n  event_log_path = ""\n}\n' "$STATE" "$PORT" > "$STATE/agent.hcl"
  printf 'tpm {\n  ek_hashes = ["%s"]\n}\n' "$EK_HASH" > "$STATE/server.hcl"
elif [ "$MODE" = sim ]; then
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

#!/usr/bin/env bash
# Latency of full node attestations through the host harness (both plugins launched as SPIRE
# does), p50/p99 over N runs, plus each plugin's idle RSS after Configure. Reports figures;
# asserts nothing. Usage: test/bench/attest_latency.sh [BUILD_DIR] [N] [agent|sim|tpm]
# tpm: the agent on a swtpm started here (port 25270, fresh state), the server trusting its EK
# by hash: credential activation, a sha256 quote of PCRs 0-7 and its verification per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
N="${2:-100}"
MODE="${3:-sim}"
STATE="$(mktemp -d)"
SWTPM_PID=""
cleanup() {
  if [ -n "$SWTPM_PID" ]; then kill "$SWTPM_PID" 2>/dev/null || true; wait "$SWTPM_PID" 2>/dev/null || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT
if [ "$MODE" = tpm ]; then
  PORT=25270
  mkdir "$STATE/tpm"
  swtpm socket --tpm2 --tpmstate dir="$STATE/tpm" \
    --server type=tcp,port=$PORT,bindaddr=127.0.0.1 --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear > "$STATE/swtpm.log" 2>&1 &
  SWTPM_PID=$!
  for _ in $(seq 100); do
    if TSS2_LOG=all+NONE "$BUILD_DIR/bin/twi" tpm info --tcti "swtpm:port=$PORT" --json > "$STATE/info.json" 2>/dev/null; then break; fi
    sleep 0.05
  done
  EK_HASH="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ek"]["ek_hash"])' "$STATE/info.json")"
  printf 'state_dir = "%s/agent"\ntpm {\n  tcti = "swtpm:port=%s"\n  event_log_path = ""\n}\n' "$STATE" "$PORT" > "$STATE/agent.hcl"
  printf 'tpm {\n  ek_hashes = ["%s"]\n}\n' "$EK_HASH" > "$STATE/server.hcl"
elif [ "$MODE" = sim ]; then
  "$BUILD_DIR/bin/twi" sim sev-snp --out "$STATE/sim" > /dev/null  # the simulator's hierarchy, pinned below
  printf 'state_dir = "%s/agent"\nsimulate = "sev-snp"\nsimulation_dir = "%s/sim/sim-amd"\n' "$STATE" "$STATE" > "$STATE/agent.hcl"
  printf 'insecure_simulation_roots = true\nsev_snp {\n  extra_roots = ["vcek:%s/sim/sim-amd/ark.pem"]\n}\n' "$STATE" > "$STATE/server.hcl"
else
  printf 'state_dir = "%s/agent"\n' "$STATE" > "$STATE/agent.hcl"
  printf 'insecure_allow_no_tee = true\n' > "$STATE/server.hcl"
fi
"$BUILD_DIR/bin/twi-host" attest --count "$N" --json \
  --agent-plugin "$BUILD_DIR/bin/twi-agent-nodeattestor" \
  --server-plugin "$BUILD_DIR/bin/twi-server-nodeattestor" \
  --agent-config "$STATE/agent.hcl" --server-config "$STATE/server.hcl"

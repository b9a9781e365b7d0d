#!/usr/bin/env bash
# Load through one server plugin, both plugins launched as SPIRE does (host harness), with the
# simulated SEV-SNP agent:
#   1. 100 attestations in flight at once: every one must succeed (exit 1 otherwise);
#   2. COUNT sequential attestations (default 100000) with the server's RSS sampled 20 times:
#      the curve shows whether memory stays flat.
# Reports figures as JSON lines; asserts only success.
# Usage: test/bench/attest_load.sh [BUILD_DIR] [COUNT] [PARALLEL]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
COUNT="${2:-100000}"
PARALLEL="${3:-100}"
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT
"$BUILD_DIR/bin/twi" sim sev-snp --out "$STATE/sim" > /dev/null  # the simulator's hierarchy, pinned below
printf 'state_dir = "%s/agent"\nsimulate = "sev-snp"\nsimulation_dir = "%s/sim/sim-amd"\n' "$STATE" "$STATE" > "$STATE/agent.hcl"
printf 'insecure_simulation_roots = true\nsev_snp {\n  extra_roots = ["vcek:%s/sim/sim-amd/ark.pem"]\n}\nlog_level = "warn"\n' "$STATE" > "$STATE/server.hcl"
host=("$BUILD_DIR/bin/twi-host" attest --json
      --agent-plugin "$BUILD_DIR/bin/twi-agent-nodeattestor"
      --server-plugin "$BUILD_DIR/bin/twi-server-nodeattestor"
      --agent-config "$STATE/agent.hcl" --server-config "$STATE/server.hcl")
echo "== $PARALLEL concurrent attestations through one server plugin"
"${host[@]}" --count "$PARALLEL" --parallel "$PARALLEL" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(json.dumps({"concurrent": j.get("latency_us", {}).get("runs"), "ok": j["ok"],
                  "latency_us": j.get("latency_us"), "error": j.get("error")}))
sys.exit(0 if j["ok"] else 1)'
echo "== $COUNT sequential attestations, server RSS curve"
every=$(( COUNT / 20 > 0 ? COUNT / 20 : 1 ))
"${host[@]}" --count "$COUNT" --rss-every "$every" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(json.dumps({"sequential": j.get("latency_us", {}).get("runs"), "ok": j["ok"],
                  "idle_rss_kib": j.get("idle_rss_kib"), "rss_curve_kib": j.get("server_rss_curve_kib"),
                  "latency_us": j.get("latency_us"), "error": j.get("error")}))
sys.exit(0 if j["ok"] else 1)'

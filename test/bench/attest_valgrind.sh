#!/usr/bin/env bash
# Full node attestations (simulated SEV-SNP agent) with the server plugin under valgrind
# memcheck; fails unless valgrind reports 0 definitely lost bytes and no errors.
# Usage: test/bench/attest_valgrind.sh [BUILD_DIR] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="$(cd "${1:-build}" && pwd)"
COUNT="${2:-3}"
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT
"$BUILD_DIR/bin/twi" sim sev-snp --out "$STATE/sim" > /dev/null  # the simulator's hierarchy, pinned below
printf 'state_dir = "%s/agent"\nsimulate = "sev-snp"\nsimulation_dir = "%s/sim/sim-amd"\n' "$STATE" "$STATE" > "$STATE/agent.hcl"
printf 'insecure_simulation_roots = true\nsev_snp {\n  extra_roots = ["vcek:%s/sim/sim-amd/ark.pem"]\n}\n' "$STATE" > "$STATE/server.hcl"
cat > "$STATE/server-under-valgrind" <<WRAP
#!/bin/sh
exec valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
  --log-file="$STATE/valgrind.%p.log" "$BUILD_DIR/bin/twi-server-nodeattestor" "\$@"
WRAP
chmod +x "$STATE/server-under-valgrind"
TWI_HOST_SHUTDOWN_GRACE_S=120 "$BUILD_DIR/bin/twi-host" attest --count "$COUNT" \
  --agent-plugin "$BUILD_DIR/bin/twi-agent-nodeattestor" \
  --server-plugin "$STATE/server-under-valgrind" \
  --agent-config "$STATE/agent.hcl" --server-config "$STATE/server.hcl" >/dev/null
log=$(ls "$STATE"/valgrind.*.log)
sed -n '/LEAK SUMMARY/,$p' "$log"
if grep -qE "definitely lost: [1-9]|ERROR SUMMARY: [1-9]" "$log"; then
  echo "valgrind: definite leaks or errors (see above)"; exit 1
fi
echo "valgrind: $COUNT attestations through the server plugin: 0 bytes definitely lost, 0 errors"

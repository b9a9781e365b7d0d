#!/usr/bin/env bash
# ctest: TDX through hashicorp/go-plugin (gohost steps): the simulated TD attests and gets its
# tdx: selectors; then, on the same plugins, policy refusals: a wrong MRTD, a debug TD, a TCB
# status the policy does not accept.
set -euo pipefail
BIN_DIR="$1"
GOHOST="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
SIM="$TMP/agent/sim-intel"
# The simulated Intel hierarchy the agent will use (its simulation_dir default), made before
# the server pins its root.pem; the agent rewrites collateral.json there at Configure.
mkdir -p "$TMP/agent"
"$BIN_DIR/twi" sim tdx --report-data 00 --out "$TMP/sim" --hierarchy-dir "$SIM" > /dev/null
printf 'state_dir = "%s/agent"\nsimulate = "tdx"\n' "$TMP" > "$TMP/agent.hcl"
printf 'state_dir = "%s/agent"\nsimulate = "tdx"\nsimulate_debug_td = true\n' "$TMP" > "$TMP/debug.hcl"
server() {  # server FILE TDX_BODY
  printf 'insecure_simulation_roots = true\ntdx {\n  extra_roots = ["%s/root.pem"]\n  collateral_offline_path = "%s/collateral.json"\n%s}\n' \
    "$SIM" "$SIM" "$2" > "$TMP/$1"
}
server ok.hcl ""
server mrtd.hcl "  mrtd = [\"$(printf 'a%.0s' $(seq 96))\"]
"
server tcb.hcl "  allowed_tcb_statuses = [\"OutOfDate\"]
"
"$GOHOST" "$BIN_DIR/twi-agent-nodeattestor" "$TMP/agent.hcl" "$BIN_DIR/twi-server-nodeattestor" "$TMP/ok.hcl" \
  attest server="$TMP/mrtd.hcl" attest server="$TMP/tcb.hcl" attest \
  server="$TMP/ok.hcl" agent="$TMP/debug.hcl" attest > "$TMP/out" 2> "$TMP/err" || { tail -20 "$TMP/err"; exit 1; }
cat "$TMP/out"
fail() { echo "FAIL: $*"; tail -50 "$TMP/err"; exit 1; }
grep '^attest: ' "$TMP/out" > "$TMP/steps"
sed -n 1p "$TMP/steps" | grep -q '^attest: ok$' || fail "simulated TD not attested"
for s in 'tee:tdx' 'tdx:tcb-status:UpToDate' 'tdx:debug:false' 'tdx:root:extra' 'tdx:simulated:true' 'tdx:fmspc:00806f050000'; do
  grep -q "^selector: twi:$s\$" "$TMP/out" || fail "no selector $s"
done
grep -q '^selector: twi:tdx:mrtd:[0-9a-f]\{96\}$' "$TMP/out" || fail "no mrtd selector"
sed -n 2p "$TMP/steps" | grep -q 'PermissionDenied desc = tdx: policy.mrtd: ' || fail "wrong MRTD not refused"
sed -n 3p "$TMP/steps" | grep -q 'PermissionDenied desc = tdx: policy.tcb_status: ' || fail "TCB status not refused"
sed -n 4p "$TMP/steps" | grep -q 'PermissionDenied desc = tdx: policy.debug: ' || fail "debug TD not refused"
echo "go-plugin host TDX: passed"

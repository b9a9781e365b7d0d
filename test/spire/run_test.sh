#!/usr/bin/env bash
# ctest: the twi plugins inside unmodified SPIRE (the version scripts/spire.sh provides).
#   run_test.sh e2e BIN_DIR         the whole story plus refusals, reconfiguration, shutdown
#   run_test.sh quickstart BUILD_DIR   the README's first command prints a SPIRE-issued SPIFFE ID
#   run_test.sh keybinding BIN_DIR  agent SVID keys bound to the evidence (keybinding.sh)
# Everything runs in a private temp dir with a free loopback port and unix sockets.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MODE="${1:?usage: run_test.sh e2e|quickstart DIR}"
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() {  # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# ---------------------------------------------------------------------------------------------
if [ "$MODE" = quickstart ]; then
  BUILD_DIR="$(cd "${2:?build dir}" && pwd)"
  OUT="$(mktemp)"
  trap 'rm -f "$OUT"' EXIT
  # The README's first command, verbatim, on the build tree under test.
  README_CMD="$(awk '/^```sh$/ {f = 1; next} f {print; exit}' "$ROOT/README.md")"
  check "README's first command is ./scripts/quickstart.sh" [ "$README_CMD" = ./scripts/quickstart.sh ]
  if (cd "$ROOT" && BUILD_DIR="$BUILD_DIR" ./scripts/quickstart.sh > "$OUT" 2>&1); then
    ok "quickstart exited 0"
  else
    bad "quickstart exited non-zero"
  fi
  cat "$OUT"
  check "prints the workload's SPIFFE ID" grep -q '^   SPIFFE ID: spiffe://example.org/demo/workload$' "$OUT"
  check "the SVID chains to spire-server's CA" grep -q '^   issuer: .*chain verified$' "$OUT"
  check "prints the agent ID issued by SPIRE" grep -Eq '^   agent ID: spiffe://example.org/spire/agent/twi/[0-9a-f]{64}$' "$OUT"
  check "prints what the SVID rests on" grep -q '^   rests on:  a verified SEV-SNP report' "$OUT"
  dir="$(sed -n 's/^   work dir \(.*\) (removed on exit)$/\1/p' "$OUT")"
  gone() { [ -n "$1" ] && [ ! -e "$1" ]; }
  check "the temp dir is removed on exit" gone "$dir"
  finish
  exit
fi

[ "$MODE" = e2e ] || [ "$MODE" = keybinding ] || { echo "unknown mode $MODE"; exit 2; }
TWI_BIN="$(cd "${2:?bin dir}" && pwd)"
SPIRE_PATHS="$("$ROOT/scripts/spire.sh")"
eval "$SPIRE_PATHS"
QS_DIR="$(mktemp -d /tmp/twi-spire.XXXXXX)"
chmod 0755 "$QS_DIR"  # the other-uid workload must reach the Workload API socket
source "$ROOT/examples/quickstart/lib.sh"
KEEP="${TWI_KEEP_SPIRE_DIR:-}"
cleanup() {
  qs_stop_all
  if [ -n "$KEEP" ]; then echo "kept $QS_DIR"; else rm -rf "$QS_DIR"; fi
}
trap cleanup EXIT
dump_logs() {
  for log in "$QS_DIR"/*.log; do
    [ -f "$log" ] || continue
    echo "--- $(basename "$log") (last 40 lines)"
    tail -n 40 "$log"
  done
}
die() { bad "$*"; dump_logs; finish || true; exit 1; }

# wait_for SECONDS FILE PATTERN [SKIP_LINES]: waits until grep -E PATTERN matches a line of
# FILE after its first SKIP_LINES lines.
wait_for() {
  local secs="$1" file="$2" pat="$3" skip="${4:-0}"
  local deadline=$(( $(date +%s) + secs ))
  until tail -n +"$((skip + 1))" "$file" 2>/dev/null | grep -Eq -- "$pat"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
lines() { wc -l < "$1"; }
ours() {  # pids of live processes started under this test's TMPDIR (SPIRE and its plugins)
  local e
  for e in /proc/[0-9]*/environ; do
    { tr '\0' '\n' < "$e"; } 2>/dev/null | grep -qx "TMPDIR=$QS_DIR/tmp" && basename "$(dirname "$e")"
  done
  return 0
}
pid_of() {  # pid_of PLUGIN: our live process running TWI_BIN/PLUGIN
  local p
  for p in $(ours); do [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$TWI_BIN/$1" ] && echo "$p"; done
  return 0
}

echo "SPIRE $("$SPIRE_SERVER" --version 2>&1 | head -n1) at $(dirname "$SPIRE_SERVER"), plugins in $TWI_BIN"
SIM_MEASUREMENT="$(printf 'twi-sim measurement' | sha384sum | cut -d' ' -f1)"
OTHER_MEASUREMENT="$(printf 'not this image' | sha384sum | cut -d' ' -f1)"
TWI_DATA="$QS_DIR/twi-server.hcl"
# The simulated agents' AMD hierarchy (QS_SIM_DIR), made first: the server pins its ark.pem.
qs_make_sim_hierarchy || { echo "twi sim could not create the simulated AMD hierarchy"; exit 1; }
SIM_ROOTS="extra_roots = [\"vcek:$QS_SIM_DIR/ark.pem\"]"
if [ "$MODE" = keybinding ]; then
  source "$HERE/keybinding.sh"
  finish
  exit
fi
printf 'insecure_simulation_roots = true\nlog_level = "debug"\nsev_snp {\n  %s\n}\n' "$SIM_ROOTS" > "$TWI_DATA"
QS_SERVER_TWI_DATA="plugin_data_file = \"$TWI_DATA\""
QS_LOG_LEVEL=DEBUG
QS_AGENT_TTL=20s  # the agent re-attests at half of it
PORT="$(qs_free_port)"
qs_write_server_conf "$QS_DIR/server.conf" "$PORT"
qs_write_agent_conf "$QS_DIR/agent.conf" agent "$PORT"
SLOG="$QS_DIR/server.log"
ALOG="$QS_DIR/agent.log"

# --- 1. node attestation through both plugins --------------------------------------------------
qs_start_server "$QS_DIR/server.conf" || die "spire-server starts with NodeAttestor twi (plugin_data_file)"
ok "spire-server starts with NodeAttestor twi (plugin_data_file, checksum)"
qs_start_agent AGENT_PID "$QS_DIR/agent.conf" agent
qs_wait_agent "$AGENT_PID" agent || die "spire-agent attests through twi"
ok "spire-agent attests through twi"
AGENT_ID="$(qs_agent_id agent)"
SUFFIX="${AGENT_ID##*/}"
check "agent ID is spiffe://example.org/spire/agent/twi/<64 hex> ($AGENT_ID)" \
  grep -Eq '^spiffe://example.org/spire/agent/twi/[0-9a-f]{64}$' <<< "$AGENT_ID"
qs_server_sub agent list > "$QS_DIR/agent-list.txt"
check "spire-server agent list shows the agent" grep -q "SPIFFE ID *: $AGENT_ID\$" "$QS_DIR/agent-list.txt"
check "agent list: attestation type twi" grep -q "Attestation type *: twi\$" "$QS_DIR/agent-list.txt"
check "agent list: can re-attest" grep -q "Can re-attest *: true\$" "$QS_DIR/agent-list.txt"
qs_server_sub agent show -spiffeID "$AGENT_ID" > "$QS_DIR/agent-show.txt"
for sel in twi:tee:sev-snp "twi:sev-snp:measurement:$SIM_MEASUREMENT" twi:sev-snp:simulated:true \
           "twi:instance:$SUFFIX" twi:sev-snp:policy-debug:false; do
  check "agent selector $sel" grep -q "Selectors *: $sel\$" "$QS_DIR/agent-show.txt"
done
check "server plugin consulted SPIRE's AgentStore through the broker (agent=new)" \
  grep -q 'agent attested.*agent=new' "$SLOG"

# --- 2. registration entries and the workload's SVID -------------------------------------------
mkdir -p "$QS_DIR/bin"
WORKLOAD="$QS_DIR/bin/workload"
qs_make_workload "$WORKLOAD" "twi spire e2e workload"
WL_HASH="$(qs_sha256 "$WORKLOAD")"
NODE_ID="spiffe://example.org/cvm/sim"
WL_ID="spiffe://example.org/workload/e2e"
check "node entry created (-node, twi:tee:sev-snp + measurement)" \
  qs_server_sub entry create -node -spiffeID "$NODE_ID" \
    -selector twi:tee:sev-snp -selector "twi:sev-snp:measurement:$SIM_MEASUREMENT"
check "workload entry created (twi:uid, twi:sha256)" \
  qs_server_sub entry create -parentID "$NODE_ID" -spiffeID "$WL_ID" \
    -selector "twi:uid:$(id -u)" -selector "twi:sha256:$WL_HASH"
qs_server_sub entry show > "$QS_DIR/entries.txt"
check "entry show: the workload entry's selectors" grep -q "Selector *: twi:sha256:$WL_HASH" "$QS_DIR/entries.txt"

fetch_ok() {  # fetch_ok OUTDIR: the workload fetches an SVID (the agent syncs entries every 5 s)
  local deadline=$(( $(date +%s) + 40 ))
  until qs_fetch agent "$1" "$WORKLOAD" > "$1.txt" 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}
svid_id() { openssl x509 -in "$1/svid.0.pem" -noout -ext subjectAltName | sed -n 's/.*URI:\(spiffe:[^, ]*\).*/\1/p'; }
fetch_ok "$QS_DIR/svid1" || die "workload fetches an X509-SVID: $(tail -n2 "$QS_DIR/svid1.txt")"
ok "workload fetches an X509-SVID through the Workload API"
check "the SVID's URI SAN is the entry's SPIFFE ID" [ "$(svid_id "$QS_DIR/svid1")" = "$WL_ID" ]
check "the SVID chains to the trust bundle" \
  openssl verify -CAfile "$QS_DIR/bundle.pem" "$QS_DIR/svid1/svid.0.pem"

no_identity() {  # no_identity OUTDIR CMD...: the caller gets no SVID (and the agent says why)
  local out="$1"
  shift
  ! qs_fetch agent "$out" "$@" > "$out.txt" 2>&1 && grep -q "no identity issued" "$out.txt"
}
check "a different binary (unmodified spire-agent, other sha256) gets no SVID" \
  no_identity "$QS_DIR/other-bin" "$SPIRE_AGENT"
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
  check "the same binary under another uid (65534) gets no SVID" \
    no_identity "$QS_DIR/other-uid" setpriv --reuid=65534 --regid=65534 --clear-groups "$WORKLOAD"
else
  echo "skipped: other-uid check (needs root and setpriv)"
fi

# --- 3. re-attestation (agent_ttl 20s) -------------------------------------------------------------
wait_for 60 "$ALOG" "Successfully reattested node" || die "agent re-attests through twi (can_reattest)"
ok "agent re-attests through twi when its SVID rotates"
known_agent() { grep "agent attested" "$SLOG" | grep "agent=known" | grep -q "agent_id=\"$AGENT_ID\""; }
check "server plugin saw the re-attesting agent as known (AgentStore)" known_agent
fetch_ok "$QS_DIR/svid2" || true
check "workload still gets its SVID after re-attestation" [ "$(svid_id "$QS_DIR/svid2" 2>/dev/null)" = "$WL_ID" ]

# --- 4. reconfiguration through plugin_data_file + SIGUSR1 -----------------------------------------
# An invalid file is refused (every problem named) and the old configuration stays.
printf 'insecure_simulation_roots = "yes"\nbogus_key = 1\nsev_snp {\n  measurements = ["abc"]\n}\n' > "$TWI_DATA"
mark="$(lines "$SLOG")"
kill -USR1 "$QS_SERVER_PID"
wait_for 20 "$SLOG" "Failed to reconfigure plugin" "$mark" && ok "SIGUSR1 with an invalid plugin_data_file: refused" ||
  bad "SIGUSR1 with an invalid plugin_data_file: refused"
refusal="$(tail -n +"$((mark + 1))" "$SLOG" | grep "Failed to reconfigure plugin" | head -n1)"
for problem in insecure_simulation_roots bogus_key measurements; do
  check "reconfigure refusal names $problem" grep -q "$problem" <<< "$refusal"
done
# A SIGUSR1 that reaches the plugin too (sent to SPIRE's process group) must not kill it.
splugin="$(pid_of twi-server-nodeattestor)"
[ -n "$splugin" ] && kill -USR1 "$splugin"
sleep 1
check "the server plugin survives a SIGUSR1 of its own" kill -0 "${splugin:-0}"
amark="$(lines "$ALOG")"
wait_for 40 "$ALOG" "Successfully reattested node" "$amark" &&
  ok "old configuration kept: the agent re-attests after the refused reconfigure" ||
  bad "old configuration kept: the agent re-attests after the refused reconfigure"

# A valid file excluding the simulated measurement applies to the next attestation.
printf 'insecure_simulation_roots = true\nlog_level = "debug"\nsev_snp {\n  %s\n  measurements = ["%s"]\n}\n' \
  "$SIM_ROOTS" "$OTHER_MEASUREMENT" > "$TWI_DATA"
mark="$(lines "$SLOG")"
amark="$(lines "$ALOG")"
kill -USR1 "$QS_SERVER_PID"
wait_for 20 "$SLOG" "Plugin reconfigured" "$mark" && ok "SIGUSR1 with a valid plugin_data_file: reconfigured" ||
  bad "SIGUSR1 with a valid plugin_data_file: reconfigured"
qs_write_agent_conf "$QS_DIR/agent2.conf" agent2 "$PORT"
qs_start_agent AGENT2_PID "$QS_DIR/agent2.conf" agent2
for i in $(seq 1 60); do kill -0 "$AGENT2_PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$AGENT2_PID" 2>/dev/null; then
  bad "an agent outside the policy gives up at once"
else
  ok "an agent outside the policy gives up at once"
fi
A2LOG="$QS_DIR/agent2.log"
check "agent log: PermissionDenied" grep -q "PermissionDenied" "$A2LOG"
check "agent log: our refusal naming the check (policy.measurement)" \
  grep -q "nodeattestor(twi): .*policy.measurement" "$A2LOG"
grep -m1 "policy.measurement" "$A2LOG" | cut -c1-400
check "server log: the plugin's refusal" grep -q 'attestation rejected.*code=PERMISSION_DENIED' "$SLOG"
wait_for 30 "$ALOG" "Could not reattest agent.*PermissionDenied.*policy.measurement" "$amark" &&
  ok "the running agent's next re-attestation is refused by the new policy too" ||
  bad "the running agent's next re-attestation is refused by the new policy too"

# And a policy pinning the simulated measurement admits it again.
printf 'insecure_simulation_roots = true\nlog_level = "debug"\nsev_snp {\n  %s\n  measurements = ["%s"]\n}\n' \
  "$SIM_ROOTS" "$SIM_MEASUREMENT" > "$TWI_DATA"
mark="$(lines "$SLOG")"
kill -USR1 "$QS_SERVER_PID"
wait_for 20 "$SLOG" "Plugin reconfigured" "$mark" || bad "SIGUSR1: pinned measurement applied"
mv "$A2LOG" "$QS_DIR/agent2-refused.txt"
qs_start_agent AGENT2_PID "$QS_DIR/agent2.conf" agent2
qs_wait_agent "$AGENT2_PID" agent2 && ok "after reconfiguring to the pinned measurement a new agent attests" ||
  bad "after reconfiguring to the pinned measurement a new agent attests"

# --- 5. bad plugin_data as an operator sees it -------------------------------------------------------
# SPIRE v1.13.3's `validate` parses SPIRE's own config only; it starts no plugin (the plugins'
# Config.Validate RPC is not called by this version), so a bad plugin_data passes it. The
# problems come out when the server or agent starts and our Configure refuses them all.
mkdir -p "$QS_DIR/bad"
QS_SERVER_TWI_DATA='plugin_data {
            insecure_simulation_roots = "yes"
            bogus_key = 1
            sev_snp {
                measurements = ["abc"]
                min_tcb { snp = -1 }
            }
        }'
(QS_DIR="$QS_DIR/bad" qs_write_server_conf "$QS_DIR/bad/server.conf" "$(qs_free_port)")
QS_AGENT_TWI_DATA='plugin_data {
            simulate = "tdx-maybe"
            stat_dir = "/x"
            sev_snp { vmpl = 7 }
        }'
(QS_DIR="$QS_DIR/bad" qs_write_agent_conf "$QS_DIR/bad/agent.conf" agent "$PORT")
unset QS_AGENT_TWI_DATA
TMPDIR="$QS_DIR/tmp" "$SPIRE_SERVER" validate -config "$QS_DIR/bad/server.conf" > "$QS_DIR/bad/server-validate.txt" 2>&1 || true
TMPDIR="$QS_DIR/tmp" "$SPIRE_AGENT" validate -config "$QS_DIR/bad/agent.conf" > "$QS_DIR/bad/agent-validate.txt" 2>&1 || true
echo "spire-server validate says: $(cat "$QS_DIR/bad/server-validate.txt")"
echo "spire-agent validate says: $(cat "$QS_DIR/bad/agent-validate.txt")"
check "spire-server validate (v1.13.3) checks SPIRE's config only: bad twi plugin_data passes" \
  grep -q "SPIRE server configuration file is valid" "$QS_DIR/bad/server-validate.txt"
check "spire-agent validate (v1.13.3) checks SPIRE's config only: bad twi plugin_data passes" \
  grep -q "SPIRE agent configuration file is valid" "$QS_DIR/bad/agent-validate.txt"
! timeout 60 env TMPDIR="$QS_DIR/tmp" "$SPIRE_SERVER" run -config "$QS_DIR/bad/server.conf" \
  > "$QS_DIR/bad/server-run.txt" 2>&1 && ok "spire-server refuses to start with bad twi plugin_data" ||
  bad "spire-server refuses to start with bad twi plugin_data"
for problem in insecure_simulation_roots bogus_key measurements min_tcb.snp; do
  check "spire-server's refusal names $problem" grep -q "InvalidArgument.*$problem" "$QS_DIR/bad/server-run.txt"
done
! timeout 60 env TMPDIR="$QS_DIR/tmp" "$SPIRE_AGENT" run -config "$QS_DIR/bad/agent.conf" \
  > "$QS_DIR/bad/agent-run.txt" 2>&1 && ok "spire-agent refuses to start with bad twi plugin_data" ||
  bad "spire-agent refuses to start with bad twi plugin_data"
for problem in simulate stat_dir vmpl; do
  check "spire-agent's refusal names $problem" grep -q "InvalidArgument.*$problem" "$QS_DIR/bad/agent-run.txt"
done
grep -m1 "InvalidArgument" "$QS_DIR/bad/server-run.txt" | cut -c1-600

# --- 6. shutdown leaves nothing behind ----------------------------------------------------------------
count_exe() {  # count_exe PATH: how many of our live processes run PATH
  local n=0 p want
  want="$(readlink -f "$1")"
  for p in $(ours); do [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$want" ] && n=$((n + 1)); done
  echo "$n"
}
# Agent A may have shut itself down: when its SVID expired while the excluding policy refused
# its re-attestations, SPIRE removes the SVID and stops the agent (the policy working).
agents="$(count_exe "$SPIRE_AGENT")"
plugins=0
for p in twi-server-nodeattestor twi-agent-nodeattestor twi-workloadattestor; do
  plugins=$((plugins + $(count_exe "$TWI_BIN/$p")))
done
echo "before shutdown: $agents agents, $plugins plugin processes"
plugins_match() { [ "$agents" -ge 1 ] && [ "$plugins" -eq $((1 + 2 * agents)) ]; }
check "each live SPIRE process has its plugins (server 1 + 2 per agent)" plugins_match
qs_stop_all
check "no SPIRE or plugin process remains" [ -z "$(ours)" ]
check "no socket remains" [ -z "$(find "$QS_DIR" -type s)" ]
check "server plugin exited on the host's Shutdown" grep -q "shutting down.*host requested shutdown" "$SLOG"
exited() { grep "plugin process exited" "$1" | grep -q "plugin=$TWI_BIN/$2"; }
for p in twi-agent-nodeattestor twi-workloadattestor; do
  check "agent's $p exited when unloaded" exited "$ALOG" "$p"
done
check "no plugin had to be killed" [ -z "$(grep -l "failed to exit gracefully" "$QS_DIR"/*.log)" ]
finish

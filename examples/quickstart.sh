#!/usr/bin/env bash
# Quickstart: the whole story with unmodified SPIRE. Builds the twi plugins if needed, gets
# SPIRE (scripts/spire.sh: built once, then cached), starts spire-server and spire-agent with
# the twi plugins in a simulated SEV-SNP confidential VM, registers a node entry and a
# workload entry on twi: selectors, fetches the workload's X509-SVID through the Workload API
# and prints what it rests on. Everything lives in a temp dir; processes and files are
# removed on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
NEEDED="twi-agent-nodeattestor twi-server-nodeattestor twi-workloadattestor twi-sim"
have_all() { for p in $NEEDED; do [ -x "$1/bin/$p" ] || return 1; done; }
if ! have_all "$BUILD_DIR"; then
  # A first run builds only what it runs (the three plugins and the simulator, SEV-SNP only:
  # TWI_KINDS), at -O1 without debug information, each library as a few merged translation
  # units (unity build), into its own directory: far less compile time than the tests'
  # RelWithDebInfo build of every kind in BUILD_DIR, which is used instead once it has these
  # binaries.
  QS_BUILD_DIR="${QS_BUILD_DIR:-build-quickstart}"
  if ! have_all "$QS_BUILD_DIR"; then
    echo "building the twi plugins and simulator into $QS_BUILD_DIR/bin ..."
    build_start=$(date +%s)
    BUILD_DIR="$QS_BUILD_DIR" TARGETS="$NEEDED" ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_C_FLAGS_RELEASE=-O1 -DTWI_TESTS=OFF -DTWI_BENCH=OFF \
      -DTWI_KINDS=sev-snp -DCMAKE_UNITY_BUILD=ON >&2
    echo "built in $(( $(date +%s) - build_start )) s"
  fi
  BUILD_DIR="$QS_BUILD_DIR"
fi
TWI_BIN="$(cd "$BUILD_DIR/bin" && pwd)"
SPIRE_PATHS="$(./scripts/spire.sh)"
eval "$SPIRE_PATHS"

QS_DIR="$(mktemp -d /tmp/twi-qs.XXXXXX)"
source examples/quickstart/lib.sh
cleanup() {
  qs_stop_all
  rm -rf "$QS_DIR"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "quickstart failed: $*" >&2
  for log in "$QS_DIR"/*.log; do
    [ -f "$log" ] || continue
    echo "--- last lines of $(basename "$log")" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

SPIRE_VER="$("$SPIRE_SERVER" --version 2>&1 | head -n1)"
echo "== twi quickstart: unmodified SPIRE $SPIRE_VER with the twi plugins, simulated AMD SEV-SNP VM"
echo "   work dir $QS_DIR (removed on exit)"

qs_make_sim_hierarchy || fail "twi sim could not create the simulated AMD hierarchy"
PORT="$(qs_free_port)"
qs_write_server_conf "$QS_DIR/server.conf" "$PORT"
qs_write_agent_conf "$QS_DIR/agent.conf" agent "$PORT"
qs_start_server "$QS_DIR/server.conf" || fail "spire-server did not start"
echo "1. spire-server on 127.0.0.1:$PORT, NodeAttestor \"twi\" = $TWI_BIN/twi-server-nodeattestor"
qs_start_agent AGENT_PID "$QS_DIR/agent.conf" agent
qs_wait_agent "$AGENT_PID" agent || fail "spire-agent did not attest"

AGENT_ID="$(qs_agent_id agent)"
[ -n "$AGENT_ID" ] || fail "no agent ID in the agent's log"
echo "2. spire-agent attested through twi-agent-nodeattestor -> twi-server-nodeattestor"
echo "   agent ID: $AGENT_ID"
echo "   selectors (spire-server agent show):"
qs_server_sub agent show -spiffeID "$AGENT_ID" > "$QS_DIR/agent-show.txt"
sed -n 's/^Selectors *: *\(.*\)$/     \1/p' "$QS_DIR/agent-show.txt"
MEASUREMENT="$(sed -n 's/.*twi:sev-snp:measurement:\([0-9a-f]*\).*/\1/p' "$QS_DIR/agent-show.txt" | head -n1)"
INSTANCE="$(sed -n 's/.*twi:instance:\([0-9a-f]*\).*/\1/p' "$QS_DIR/agent-show.txt" | head -n1)"
[ -n "$MEASUREMENT" ] || fail "the agent has no measurement selector"

mkdir -p "$QS_DIR/bin"
WORKLOAD="$QS_DIR/bin/demo-workload"
qs_make_workload "$WORKLOAD" "twi quickstart workload"
WL_HASH="$(qs_sha256 "$WORKLOAD")"
NODE_ID="spiffe://$QS_TRUST_DOMAIN/cvm/demo"
WL_ID="spiffe://$QS_TRUST_DOMAIN/demo/workload"
qs_server_sub entry create -node -spiffeID "$NODE_ID" \
  -selector twi:tee:sev-snp -selector "twi:sev-snp:measurement:$MEASUREMENT" > /dev/null
qs_server_sub entry create -parentID "$NODE_ID" -spiffeID "$WL_ID" \
  -selector "twi:uid:$(id -u)" -selector "twi:sha256:$WL_HASH" > /dev/null
echo "3. registration entries (spire-server entry show):"
qs_server_sub entry show | awk -F' *: ' '
  $1 == "SPIFFE ID" { printf "   - %s\n", $2 }
  $1 == "Parent ID" { printf "       parent   %s\n", $2 }
  $1 == "Selector"  { printf "       selector %s\n", $2 }'

deadline=$(( $(date +%s) + 60 ))
until qs_fetch agent "$QS_DIR/svid" "$WORKLOAD" > "$QS_DIR/fetch.txt" 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the workload got no SVID: $(tail -n1 "$QS_DIR/fetch.txt")"
  sleep 1
done
SVID="$QS_DIR/svid/svid.0.pem"
GOT_ID="$(openssl x509 -in "$SVID" -noout -ext subjectAltName | sed -n 's/.*URI:\(spiffe:[^, ]*\).*/\1/p')"
[ "$GOT_ID" = "$WL_ID" ] || fail "SVID carries $GOT_ID, want $WL_ID"
openssl verify -CAfile "$QS_DIR/svid/bundle.0.pem" "$SVID" > /dev/null || fail "SVID does not chain to SPIRE's bundle"
echo "4. the workload ($WORKLOAD, uid $(id -u)) fetched its X509-SVID through the Workload API:"
echo "   SPIFFE ID: $GOT_ID"
echo "   serial:    $(openssl x509 -in "$SVID" -noout -serial | cut -d= -f2)"
echo "   expires:   $(openssl x509 -in "$SVID" -noout -enddate | cut -d= -f2)"
echo "   issuer:    spire-server's CA ($(openssl x509 -in "$SVID" -noout -issuer | sed 's/^issuer=//')), chain verified"
echo "   rests on:  a verified SEV-SNP report (chained to the pinned simulator root) with launch measurement ${MEASUREMENT:0:16}..." \
     "bound to agent instance key ${INSTANCE:0:16}..., and a process of uid $(id -u) running the executable" \
     "with SHA-256 ${WL_HASH:0:16}..."

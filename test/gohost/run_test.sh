#!/usr/bin/env bash
# ctest: a real hashicorp/go-plugin client (gohost) loads both node attestor plugins, relays
# one attestation, and shuts them down; checks the result and that the server reached the
# host's AgentStore through go-plugin's broker.
set -euo pipefail
BIN_DIR="$1"
GOHOST="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
printf 'state_dir = "%s/agent"\n' "$TMP" > "$TMP/agent.hcl"
printf 'insecure_allow_no_tee = true\nlog_level = "debug"\n' > "$TMP/server.hcl"
"$GOHOST" "$BIN_DIR/twi-agent-nodeattestor" "$TMP/agent.hcl" \
          "$BIN_DIR/twi-server-nodeattestor" "$TMP/server.hcl" > "$TMP/out" 2> "$TMP/err"
cat "$TMP/out"
fail() { echo "FAIL: $*"; cat "$TMP/err"; exit 1; }
grep -q '^agent ID: spiffe://example.org/spire/agent/twi/[0-9a-f]\{64\}$' "$TMP/out" || fail "no agent ID"
grep -q '^selector: twi:instance:[0-9a-f]\{64\}$' "$TMP/out" || fail "no instance selector"
grep -q '^can_reattest: true$' "$TMP/out" || fail "can_reattest not true"
grep -q '^ok$' "$TMP/out" || fail "attestation did not complete"
# go-plugin parsed our hclog JSON lines (they appear as structured entries, not raw text).
grep -q 'gohost.twi-server-nodeattestor: agent attested: .*agent=new' "$TMP/err" || fail "AgentStore not consulted through the broker"
grep -q 'plugin process exited: path=.*twi-server-nodeattestor' "$TMP/err" || fail "server plugin did not exit"
if ls "${TMPDIR:-/tmp}"/plugin* 2>/dev/null | xargs -r -n1 fuser 2>/dev/null | grep -q .; then :; fi
echo "go-plugin host: passed"

#!/usr/bin/env bash
# ctest: the go-plugin host (gohost) loads both node attestor plugins with a TPM: the agent on
# a swtpm this script starts (port 25260, fresh state, no EK certificate), the server trusting
# that TPM's EK by hash (read with `twi tpm info`). Checks the TPM selectors and the agent ID
# built from the EK hash.
set -euo pipefail
BIN_DIR="$1"
GOHOST="$2"
PORT=25260
command -v swtpm >/dev/null || { echo "swtpm not installed: skipped"; exit 0; }
TMP="$(mktemp -d)"
# shellcheck source=../tpm/swtpm.sh
. "$(dirname "$0")/../tpm/swtpm.sh"
cleanup() {
  swtpm_stop
  rm -rf "$TMP"
}
trap cleanup EXIT
swtpm_start "$TMP" "$PORT"
TCTI="swtpm:port=$PORT"
fail() { echo "FAIL: $*"; cat "$TMP/err" 2>/dev/null || true; exit 1; }
EK_HASH="$(swtpm_ek_hash "$BIN_DIR/twi" "$TCTI")" || fail "twi tpm info did not answer"
printf 'state_dir = "%s/agent"\ntpm {\n  tcti = "%s"\n  event_log_path = ""\n}\n' "$TMP" "$TCTI" > "$TMP/agent.hcl"
printf 'agent_path_template = "tpm/{tpm.ek_hash}"\ntpm {\n  ek_hashes = ["%s"]\n  selector_pcrs = [0]\n}\n' \
  "$EK_HASH" > "$TMP/server.hcl"
"$GOHOST" "$BIN_DIR/twi-agent-nodeattestor" "$TMP/agent.hcl" \
          "$BIN_DIR/twi-server-nodeattestor" "$TMP/server.hcl" > "$TMP/out" 2> "$TMP/err" || fail "gohost failed"
cat "$TMP/out"
grep -q "^agent ID: spiffe://example.org/spire/agent/twi/tpm/$EK_HASH\$" "$TMP/out" || fail "no agent ID from the EK hash"
grep -q '^selector: twi:tee:tpm$' "$TMP/out" || fail "no tee:tpm selector"
grep -q "^selector: twi:tpm:ek-hash:$EK_HASH\$" "$TMP/out" || fail "no ek-hash selector"
grep -q '^selector: twi:tpm:trust-route:ek_hash$' "$TMP/out" || fail "no trust-route selector"
grep -q '^selector: twi:tpm:pcr:sha256:0:0\{64\}$' "$TMP/out" || fail "no PCR 0 selector"
grep -q '^ok$' "$TMP/out" || fail "attestation did not complete"
echo "go-plugin host with TPM: passed"

#!/usr/bin/env bash
# ctest: an image rollout under the claims mapper through hashicorp/go-plugin (gohost steps):
# image A -> claim; unknown image B -> refused; B added -> the same claim; A revoked ->
# refused; an invalid policy is refused on reconfiguration and the previous one stays.
set -euo pipefail
BIN_DIR="$1"
GOHOST="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
A=$(printf 'a%.0s' $(seq 96)); B=$(printf 'b%.0s' $(seq 96))
agent() { printf 'state_dir = "%s/agent"\nsimulate = "sev-snp"\nsimulate_measurement = "%s"\n' "$TMP" "$1" > "$TMP/$2"; }
# policy FILE VERSIONS...: each version "name:image:state".
policy() {
  local file="$1"; shift
  { printf 'insecure_simulation_roots = true\nsev_snp {\n  extra_roots = ["vcek:%s/agent/sim-amd/ark.pem"]\n}\n' "$TMP"
    printf 'claims_mapper {\n  policy_id = "acme-tee-7"\n  refset "payroll-image" {\n'
    for v in "$@"; do IFS=: read -r name image state <<< "$v"
      printf '    version "%s" {\n      state = "%s"\n      sev_snp_measurement = ["%s"]\n    }\n' "$name" "$state" "$image"; done
    printf '  }\n  rule "payroll" {\n    when { refset = "payroll-image" }\n    emit = ["claim:workload:payroll"]\n  }\n}\n'
  } > "$TMP/$file"
}
agent "$A" a.hcl; agent "$B" b.hcl
# The agent's simulated AMD hierarchy (RSA-4096, as the agent wants), made before the server pins
# its ark.pem. Always a fresh one: the e2e tests' cached hierarchy may still be being written by a
# test running in parallel.
mkdir -p "$TMP/agent"
"$BIN_DIR/twi" sim sev-snp --out "$TMP/sim" --hierarchy-dir "$TMP/agent/sim-amd" > /dev/null
policy p1.hcl "A:$A:active"
policy p2.hcl "A:$A:active" "B:$B:active"
policy p3.hcl "A:$A:revoked" "B:$B:active"
policy bad.hcl "A:$A:active" "B:abcd:active"
"$GOHOST" "$BIN_DIR/twi-agent-nodeattestor" "$TMP/a.hcl" "$BIN_DIR/twi-server-nodeattestor" "$TMP/p1.hcl" \
  attest agent="$TMP/b.hcl" attest server="$TMP/p2.hcl" attest server="$TMP/p3.hcl" agent="$TMP/a.hcl" attest \
  server="$TMP/bad.hcl" attest agent="$TMP/b.hcl" attest > "$TMP/out" 2> "$TMP/err" || { tail -20 "$TMP/err"; exit 1; }
cat "$TMP/out"
fail() { echo "FAIL: $*"; tail -50 "$TMP/err"; exit 1; }
grep '^attest: \|^configure server' "$TMP/out" > "$TMP/steps"
cat > "$TMP/want" <<WANT
attest: ok
attest: refused: server: rpc error: code = PermissionDenied desc = claims.policy: policy "acme-tee-7": no claims rule matched; closest rule "payroll" lacked: refset "payroll-image": no live version matches (A: sev_snp_measurement: bbbbbbbbbbbbbbbb... is not listed (1 value))
configure server: ok
attest: ok
configure server: ok
attest: refused: server: rpc error: code = PermissionDenied desc = claims.policy: policy "acme-tee-7": no claims rule matched; closest rule "payroll" lacked: refset "payroll-image": no live version matches (A: revoked; B: sev_snp_measurement: aaaaaaaaaaaaaaaa... is not listed (1 value))
WANT
head -6 "$TMP/steps" | diff "$TMP/want" - || fail "unexpected rollout steps"
sed -n 7p "$TMP/steps" | grep -q '^configure server: refused: .*InvalidArgument.*sev_snp_measurement must be 96 hex digits, got 4' || fail "invalid policy not refused"
sed -n 8p "$TMP/steps" | grep -q '^attest: refused: .*A: revoked' || fail "old policy not kept (A must stay revoked)"
sed -n 9p "$TMP/steps" | grep -q '^attest: ok$' || fail "B not attested after the refused reconfiguration"
[ "$(grep -c '^selector: twi:claim:workload:payroll$' "$TMP/out")" = 3 ] || fail "claim not emitted three times"
grep -q 'the previous one stays in force' "$TMP/err" || fail "refused reconfiguration not logged"
[ "$(grep -c 'attestation result' "$TMP/err")" = 6 ] || fail "not one EAR per attestation"
echo "go-plugin host claims rollout: passed"

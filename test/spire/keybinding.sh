# Key binding (issue 14) in unmodified SPIRE; sourced by run_test.sh keybinding BIN_DIR after
# the common set-up (QS_DIR, lib.sh, the simulated AMD hierarchy, check/wait_for helpers).
#
# Agent: twi-agent-keymanager + twi NodeAttestor with key_binding. Server: twi NodeAttestor
# with key_binding (it serves binding records) + twi-server-credentialcomposer. The agent SVID
# that SPIRE stores in the agent's data dir (agent-data.json) is compared with the key the
# server plugin saw bound in the evidence (its "binding record written" log line) and the key
# the composer consumed a record for: at first attestation, at re-attestation (agent_ttl 12s:
# SPIRE rotates at half of it, into the other key slot) and after an agent restart (in-memory
# keys: the restarted agent has none, generates one and attests again).
RECORDS="$QS_DIR/kb/records.sock"
EXT_OID=1.3.6.1.4.1.32473.1  # RFC 5612's documentation enterprise number
KEYS="$QS_DIR/agent-kb/keys.sock"
QS_LOG_LEVEL=DEBUG
QS_AGENT_TTL=12s
QS_SERVER_TWI_DATA="plugin_data {
            insecure_simulation_roots = true
            log_level = \"debug\"
            sev_snp {
                $SIM_ROOTS
            }
            key_binding {
                records_socket = \"$RECORDS\"
            }
        }"
QS_SERVER_EXTRA_PLUGINS="
    CredentialComposer \"twi\" {
        plugin_cmd = \"$TWI_BIN/twi-server-credentialcomposer\"
        plugin_checksum = \"$(qs_sha256 "$TWI_BIN/twi-server-credentialcomposer")\"
        plugin_data {
            records_socket = \"$RECORDS\"
            attestation_extension_oid = \"$EXT_OID\"
        }
    }"
# kb_agent NAME KEYS: the agent NAME's twi KeyManager (socket KEYS) and key-bound NodeAttestor.
kb_agent() {
  QS_AGENT_KEYMANAGER="KeyManager \"twi\" {
        plugin_cmd = \"$TWI_BIN/twi-agent-keymanager\"
        plugin_checksum = \"$(qs_sha256 "$TWI_BIN/twi-agent-keymanager")\"
        plugin_data {
            socket_path = \"$2\"
        }
    }"
  QS_AGENT_TWI_DATA="plugin_data {
            state_dir = \"$QS_DIR/$1/twi\"
            simulate = \"sev-snp\"
            simulation_dir = \"$QS_SIM_DIR\"
            key_binding {
                keymanager_socket = \"$2\"
            }
        }"
}
kb_agent agent "$KEYS"
PORT="$(qs_free_port)"
qs_write_server_conf "$QS_DIR/server.conf" "$PORT"
qs_write_agent_conf "$QS_DIR/agent.conf" agent "$PORT"
SLOG="$QS_DIR/server.log"
ALOG="$QS_DIR/agent.log"

# The agent SVID SPIRE stored for agent NAME (QS_AGENT_DATA, default agent): PEM, base64 in JSON.
svid_pem() {
  python3 -c 'import json, base64, sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["svid"][0]))' \
    "$QS_DIR/${QS_AGENT_DATA:-agent}/agent-data.json"
}
key_of() {  # SHA-256 (hex) of the certificate's SPKI
  openssl x509 -in "$1" -pubkey -noout 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null |
    sha256sum | cut -d' ' -f1
}
id_of() { openssl x509 -in "$1" -noout -ext subjectAltName | sed -n 's/.*URI:\(spiffe:[^, ]*\).*/\1/p'; }
# snap FILE K...: waits (up to 20 s) until the stored SVID's key is none of K..., copies that
# SVID to FILE and prints its key. Every check then reads FILE: the agent may rotate meanwhile.
snap() {
  local file="$1" deadline=$(( $(date +%s) + 20 )) k old fresh
  shift
  while :; do
    if svid_pem > "$file.tmp" 2> /dev/null && openssl x509 -in "$file.tmp" -noout 2> /dev/null; then
      k="$(key_of "$file.tmp")"
      fresh=1
      for old in "$@"; do [ "$k" = "$old" ] && fresh=0; done
      if [ "$fresh" = 1 ]; then
        mv "$file.tmp" "$file"
        echo "$k"
        return 0
      fi
    fi
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
recorded() {  # recorded ID KEY: the server plugin wrote a binding record for this ID and key
  grep "binding record written" "$SLOG" | grep "agent_id=\"\\{0,1\\}$1" | grep -q "key_sha256=\"\\{0,1\\}$2"
}
consumed() {  # consumed ID KEY: the composer took that record when SPIRE composed the SVID
  grep "agent key binding verified" "$SLOG" | grep "agent_id=\"\\{0,1\\}$1" | grep -q "key_sha256=\"\\{0,1\\}$2"
}
# extension_matches PEM KEY: the SVID's extension (OCTET STRING of 32 bytes) is the digest the
# server logged with the binding record of KEY.
extension_matches() {
  local digest ext
  digest="$(grep "binding record written" "$SLOG" | grep "key_sha256=\"\\{0,1\\}$2" |
    sed -n 's/.*attestation_digest="\{0,1\}\([0-9a-f]*\).*/\1/p' | tail -n1)"
  ext="$(openssl asn1parse -in "$1" 2> /dev/null | grep -A1 ":$EXT_OID\$" |
    sed -n 's/.*\[HEX DUMP\]://p' | tr 'A-F' 'a-f')"
  [ -n "$digest" ] && [ "$ext" = "0420$digest" ]
}

# --- 1. first attestation --------------------------------------------------------------------
qs_start_server "$QS_DIR/server.conf" || die "spire-server starts with the twi NodeAttestor (key_binding) and CredentialComposer"
ok "spire-server starts with the twi NodeAttestor (key_binding) and CredentialComposer"
check "records socket directory is 0700" [ "$(stat -c %a "$QS_DIR/kb")" = 700 ]
check "records socket is 0600" [ "$(stat -c %a "$RECORDS")" = 600 ]
qs_start_agent AGENT_PID "$QS_DIR/agent.conf" agent
qs_wait_agent "$AGENT_PID" agent || die "spire-agent with twi-agent-keymanager attests through twi (key-bound)"
ok "spire-agent with twi-agent-keymanager attests through twi (key-bound)"
AGENT_ID="$(qs_agent_id agent)"
check "agent ID is spiffe://example.org/spire/agent/twi/<64 hex> ($AGENT_ID)" \
  grep -Eq '^spiffe://example.org/spire/agent/twi/[0-9a-f]{64}$' <<< "$AGENT_ID"
K1="$(snap "$QS_DIR/svid1.pem")" || die "the agent's stored SVID has a key"
echo "agent SVID key (SHA-256 of SPKI): $K1"
check "the stored SVID is the agent's" [ "$(id_of "$QS_DIR/svid1.pem")" = "$AGENT_ID" ]
check "server plugin recorded exactly this SVID key as bound in the evidence" recorded "$AGENT_ID" "$K1"
check "composer consumed the record for this SVID key" consumed "$AGENT_ID" "$K1"
check "the SVID carries the attestation digest extension of that record" extension_matches "$QS_DIR/svid1.pem" "$K1"
qs_server_sub agent show -spiffeID "$AGENT_ID" > "$QS_DIR/agent-show.txt"
check "agent show: can re-attest (every agent SVID goes through attestation)" \
  grep -q "Can re-attest *: true\$" "$QS_DIR/agent-show.txt"

# --- 2. re-attestation at rotation binds the new slot's key -------------------------------
wait_for 40 "$ALOG" "Successfully reattested node" || die "agent re-attests at rotation"
ok "agent re-attests at rotation"
K2="$(snap "$QS_DIR/svid2.pem" "$K1")" && ok "the re-attested SVID has a new key" || bad "the re-attested SVID has a new key"
check "server plugin recorded the new key as bound" recorded "$AGENT_ID" "$K2"
check "composer consumed the record for the new key" consumed "$AGENT_ID" "$K2"
check "the new SVID's extension names its own attestation" extension_matches "$QS_DIR/svid2.pem" "$K2"
check "the agent ID is unchanged (records mode)" [ "$(id_of "$QS_DIR/svid2.pem")" = "$AGENT_ID" ]

# --- 3. a restarted agent (in-memory keys) attests again with a new key ---------------------
kill -TERM "$AGENT_PID"
for i in $(seq 1 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
mv "$ALOG" "$QS_DIR/agent-first-run.txt"
# Every key the first run had (it may have rotated again meanwhile).
OLD_KEYS="$(grep "binding record written" "$SLOG" | sed -n 's/.*key_sha256="\{0,1\}\([0-9a-f]*\).*/\1/p')"
qs_start_agent AGENT_PID "$QS_DIR/agent.conf" agent
qs_wait_agent "$AGENT_PID" agent || die "the restarted agent attests again"
ok "the restarted agent attests again"
check "SPIRE found the stored SVID without its key (KeyManager keys are in memory)" \
  grep -q "SVID recovered, but no keys found" "$ALOG"
# shellcheck disable=SC2086 # one argument per old key
K3="$(snap "$QS_DIR/svid3.pem" $OLD_KEYS)" && ok "the restarted agent's SVID has a new key" ||
  bad "the restarted agent's SVID has a new key"
check "server plugin recorded the restarted agent's key" recorded "$AGENT_ID" "$K3"
check "composer consumed the record for the restarted agent's key" consumed "$AGENT_ID" "$K3"

# --- 4. an agent without key binding is refused --------------------------------------------
unset QS_AGENT_KEYMANAGER QS_AGENT_TWI_DATA
qs_write_agent_conf "$QS_DIR/agent2.conf" agent2 "$PORT"
qs_start_agent AGENT2_PID "$QS_DIR/agent2.conf" agent2
wait_for 40 "$QS_DIR/agent2.log" "PermissionDenied.*requires key binding" &&
  ok "an agent that binds no key is refused, naming the check (PermissionDenied, no svid key)" ||
  bad "an agent that binds no key is refused, naming the check (PermissionDenied, no svid key)"
kill -TERM "$AGENT2_PID" 2> /dev/null || true
check "no composer refusal: every SVID SPIRE composed had its record" \
  bash -c "! grep -q 'agent SVID refused' '$SLOG'"

qs_stop_all
check "no socket remains" [ -z "$(find "$QS_DIR" -type s)" ]
check "no plugin had to be killed" [ -z "$(grep -l "failed to exit gracefully" "$QS_DIR"/*.log)" ]

# --- 5. stateless switch (S3): the key hash in the agent ID, no records socket ----------------
mv "$SLOG" "$QS_DIR/server-records.txt"
QS_SERVER_TWI_DATA="plugin_data {
            insecure_simulation_roots = true
            sev_snp {
                $SIM_ROOTS
            }
            key_binding {
                mode = \"stateless\"
            }
        }"
QS_SERVER_EXTRA_PLUGINS="
    CredentialComposer \"twi\" {
        plugin_cmd = \"$TWI_BIN/twi-server-credentialcomposer\"
        plugin_checksum = \"$(qs_sha256 "$TWI_BIN/twi-server-credentialcomposer")\"
        plugin_data {
            mode = \"stateless\"
        }
    }"
KEYS3="$QS_DIR/agent3-kb/keys.sock"
kb_agent agent3 "$KEYS3"
PORT="$(qs_free_port)"
qs_write_server_conf "$QS_DIR/server-s3.conf" "$PORT"
qs_write_agent_conf "$QS_DIR/agent3.conf" agent3 "$PORT"
qs_start_server "$QS_DIR/server-s3.conf" || die "spire-server starts in stateless key-binding mode"
check "stateless mode opens no records socket" [ ! -e "$RECORDS" ]
qs_start_agent AGENT3_PID "$QS_DIR/agent3.conf" agent3
qs_wait_agent "$AGENT3_PID" agent3 || die "an agent attests in stateless mode"
ok "an agent attests in stateless mode"
S3_KEY="$(QS_AGENT_DATA=agent3 snap "$QS_DIR/s3-1.pem")" || die "the stateless agent's stored SVID has a key"
S3_ID="$(id_of "$QS_DIR/s3-1.pem")"
echo "stateless agent ID: $S3_ID"
check "the agent ID ends in /kb-<SHA-256 of the SVID key's SPKI>" \
  grep -Eq "^spiffe://example.org/spire/agent/twi/[0-9a-f]{64}/kb-$S3_KEY\$" <<< "$S3_ID"
# The open point of spec 7: does SPIRE's agent cope with its own ID changing at re-attestation?
if wait_for 40 "$QS_DIR/agent3.log" "Successfully reattested node"; then
  ok "stateless: the agent re-attests at rotation"
  S3_KEY2="$(QS_AGENT_DATA=agent3 snap "$QS_DIR/s3-2.pem" "$S3_KEY")"
  S3_ID2="$(id_of "$QS_DIR/s3-2.pem")"
  echo "after rotation: $S3_ID2"
  check "stateless: the new agent ID names the new key" [ "$S3_ID2" = "${S3_ID%/kb-*}/kb-$S3_KEY2" ]
  sleep 1
  check "stateless: the agent still serves its Workload API after its ID changed" \
    "$SPIRE_AGENT" healthcheck -socketPath "$QS_DIR/agent3/api.sock"
  qs_server_sub agent list > "$QS_DIR/agent3-list.txt"
  check "stateless: one attested-node entry per rotation (ID churn)" \
    [ "$(grep -c "SPIFFE ID *: ${S3_ID%/kb-*}/kb-" "$QS_DIR/agent3-list.txt")" -ge 2 ]
else
  bad "stateless: the agent re-attests at rotation"
fi
qs_stop_all

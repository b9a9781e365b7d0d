# Functions shared by examples/quickstart.sh and test/spire/run_test.sh: write SPIRE configs
# that load the twi plugins, start and stop spire-server and spire-agent, fetch SVIDs.
# Source it with these set:
#   TWI_BIN      directory of twi-server-nodeattestor, twi-agent-nodeattestor, twi-workloadattestor
#                and twi-sim (the simulator)
#   SPIRE_SERVER, SPIRE_AGENT   the SPIRE binaries (scripts/spire.sh prints them)
#   QS_DIR       an absolute, private temp directory that holds everything (configs, data,
#                sockets, logs); short, since unix socket paths are limited to 107 bytes
# Every process started here is recorded in QS_PIDS; qs_cleanup stops exactly those.

QS_PIDS=()
QS_TRUST_DOMAIN="example.org"

qs_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

qs_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The simulated AMD hierarchy every agent here uses (its simulation_dir) and whose ARK the
# server pins; qs_make_sim_hierarchy creates it (before the server starts, which reads it).
QS_SIM_DIR="$QS_DIR/sim/sim-amd"
qs_make_sim_hierarchy() {
  [ -f "$QS_SIM_DIR/ark.pem" ] || "$TWI_BIN/twi-sim" sev-snp --out "$QS_DIR/sim" > /dev/null
}

# plugin_data (or plugin_data_file) lines for the server's twi NodeAttestor; override before
# calling qs_write_server_conf. Simulated evidence is accepted, and only when it chains to the
# simulator root pinned here: this is a demo on a machine without SEV-SNP, and the server says
# so in the selectors sev-snp:simulated:true and sev-snp:root:extra.
QS_SERVER_TWI_DATA="plugin_data {
            insecure_simulation_roots = true
            sev_snp {
                extra_roots = [\"vcek:$QS_SIM_DIR/ark.pem\"]
            }
        }"

# qs_write_server_conf FILE PORT: spire-server on 127.0.0.1:PORT, admin API on a unix socket,
# sqlite3 datastore and memory key manager under QS_DIR/server. QS_AGENT_TTL and
# QS_SVID_TTL shorten the agent's and workloads' SVIDs (re-attestation comes at half of it);
# QS_SERVER_EXTRA_PLUGINS adds plugin declarations (e.g. a CredentialComposer).
qs_write_server_conf() {
  local file="$1" port="$2"
  mkdir -p "$QS_DIR/server"
  cat > "$file" <<EOF
server {
    bind_address = "127.0.0.1"
    bind_port = "$port"
    socket_path = "$QS_DIR/server/api.sock"
    trust_domain = "$QS_TRUST_DOMAIN"
    data_dir = "$QS_DIR/server"
    log_level = "${QS_LOG_LEVEL:-INFO}"
    agent_ttl = "${QS_AGENT_TTL:-1h}"
    default_x509_svid_ttl = "${QS_SVID_TTL:-1h}"
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "$QS_DIR/server/datastore.sqlite3"
        }
    }

    KeyManager "memory" {
        plugin_data {}
    }

    NodeAttestor "twi" {
        plugin_cmd = "$TWI_BIN/twi-server-nodeattestor"
        plugin_checksum = "$(qs_sha256 "$TWI_BIN/twi-server-nodeattestor")"
        $QS_SERVER_TWI_DATA
    }
${QS_SERVER_EXTRA_PLUGINS:-}
}
EOF
}

# plugin_data of the agent's twi NodeAttestor (NAME is the agent's directory under QS_DIR).
qs_agent_twi_data() {
  printf 'plugin_data {\n            state_dir = "%s"\n            simulate = "sev-snp"\n            simulation_dir = "%s"\n        }' \
    "$QS_DIR/$1/twi" "$QS_SIM_DIR"
}

# qs_write_agent_conf FILE NAME PORT: a spire-agent whose data, Workload API socket and
# instance key live under QS_DIR/NAME, in a simulated SEV-SNP guest. QS_AGENT_KEYMANAGER
# replaces the KeyManager declaration (default: SPIRE's memory KeyManager).
qs_write_agent_conf() {
  local file="$1" name="$2" port="$3"
  local km="${QS_AGENT_KEYMANAGER:-}"
  [ -n "$km" ] || km='KeyManager "memory" {
        plugin_data {}
    }'
  mkdir -p "$QS_DIR/$name"
  cat > "$file" <<EOF
agent {
    data_dir = "$QS_DIR/$name"
    log_level = "${QS_LOG_LEVEL:-INFO}"
    server_address = "127.0.0.1"
    server_port = "$port"
    socket_path = "$QS_DIR/$name/api.sock"
    trust_bundle_path = "$QS_DIR/bundle.pem"
    trust_domain = "$QS_TRUST_DOMAIN"
}

plugins {
    $km

    NodeAttestor "twi" {
        plugin_cmd = "$TWI_BIN/twi-agent-nodeattestor"
        plugin_checksum = "$(qs_sha256 "$TWI_BIN/twi-agent-nodeattestor")"
        ${QS_AGENT_TWI_DATA:-$(qs_agent_twi_data "$name")}
    }

    WorkloadAttestor "twi" {
        plugin_cmd = "$TWI_BIN/twi-workloadattestor"
        plugin_checksum = "$(qs_sha256 "$TWI_BIN/twi-workloadattestor")"
        plugin_data {
            simulate = "sev-snp"
        }
    }
}
EOF
}

# qs_start VAR LOG BINARY ARGS...: starts a SPIRE process in the background, logging to LOG;
# its pid (the binary's own, for signals) goes to VAR and QS_PIDS. Its temp dir, where
# go-plugin's broker sockets and our plugin sockets go, is inside QS_DIR.
qs_start() {
  local var="$1" log="$2"
  shift 2
  mkdir -p "$QS_DIR/tmp"
  TMPDIR="$QS_DIR/tmp" "$@" > "$log" 2>&1 < /dev/null &
  QS_PIDS+=("$!")
  printf -v "$var" '%s' "$!"
}

# qs_wait_healthy PID SECONDS HEALTHCHECK...: polls a healthcheck command until it succeeds;
# fails early when PID exits.
qs_wait_healthy() {
  local pid="$1" secs="$2"
  shift 2
  local deadline=$(( $(date +%s) + secs ))
  while ! "$@" > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 0.5
  done
}

qs_server() { "$SPIRE_SERVER" "$1" "${@:2}" -socketPath "$QS_DIR/server/api.sock"; }
qs_server_sub() { "$SPIRE_SERVER" "$1" "$2" "${@:3}" -socketPath "$QS_DIR/server/api.sock"; }

# qs_start_server CONF: starts spire-server, waits until its API answers, writes the trust
# bundle agents bootstrap from to QS_DIR/bundle.pem. Sets QS_SERVER_PID.
qs_start_server() {
  qs_start QS_SERVER_PID "$QS_DIR/server.log" "$SPIRE_SERVER" run -config "$1"
  qs_wait_healthy "$QS_SERVER_PID" 60 qs_server healthcheck || return 1
  qs_server_sub bundle show > "$QS_DIR/bundle.pem"
}

# qs_start_agent VAR CONF NAME: starts spire-agent (log QS_DIR/NAME.log); VAR gets its pid.
qs_start_agent() {
  qs_start "$1" "$QS_DIR/$3.log" "$SPIRE_AGENT" run -config "$2"
}

# qs_wait_agent PID NAME: waits until the agent attested and serves its Workload API.
qs_wait_agent() {
  qs_wait_healthy "$1" 90 "$SPIRE_AGENT" healthcheck -socketPath "$QS_DIR/$2/api.sock"
}

# qs_agent_id NAME: the agent's SPIFFE ID, from its log.
qs_agent_id() {
  sed -n 's/.*Node attestation was successful.*spiffe_id="\{0,1\}\(spiffe:\/\/[^" ]*\).*/\1/p' \
    "$QS_DIR/$1.log" | tail -n1
}

# qs_make_workload FILE MARK: the demo workload, a copy of spire-agent (whose `api fetch
# x509` is the Workload API client) with MARK appended, so that its SHA-256 is its own:
# the twi:sha256 selector pins exactly this executable.
qs_make_workload() {
  cp "$SPIRE_AGENT" "$1"
  printf '%s' "$2" >> "$1"
  chmod 0755 "$1"
}

# qs_fetch NAME OUTDIR [COMMAND PREFIX...] -- WORKLOAD: runs `WORKLOAD api fetch x509` against
# agent NAME, writing the SVID to OUTDIR; prints the CLI's output.
qs_fetch() {
  local name="$1" out="$2"
  shift 2
  mkdir -p "$out"
  "$@" api fetch x509 -socketPath "$QS_DIR/$name/api.sock" -timeout 5s -write "$out"
}

# Stops every process this file started: SIGTERM, then SIGKILL after 15 s.
qs_stop_all() {
  local pid i
  for pid in "${QS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${QS_PIDS[@]}"; do
    for i in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  QS_PIDS=()
}

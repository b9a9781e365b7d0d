# Sourced by shell tests and benches that need a TPM: a swtpm on a fresh state directory
# (manufactured at first start, no EK certificate) and the EK hash the server allow-lists.
#   swtpm_start DIR PORT      starts swtpm (ports PORT and PORT+1), sets SWTPM_PID
#   swtpm_stop                stops it again (safe when none was started: call it in a trap)
#   swtpm_ek_hash TWI TCTI    waits for the TPM to answer `twi tpm info`, prints the EK hash

SWTPM_PID=""

swtpm_stop() {
  if [ -n "$SWTPM_PID" ]; then kill "$SWTPM_PID" 2>/dev/null || true; wait "$SWTPM_PID" 2>/dev/null || true; fi
  SWTPM_PID=""
}

swtpm_start() {
  mkdir -p "$1/tpm"
  swtpm socket --tpm2 --tpmstate dir="$1/tpm" \
    --server type=tcp,port="$2",bindaddr=127.0.0.1 --ctrl type=tcp,port=$(($2 + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear > "$1/swtpm.log" 2>&1 &
  SWTPM_PID=$!
}

swtpm_ek_hash() {
  local info
  for _ in $(seq 100); do
    if info="$(TSS2_LOG=all+NONE "$1" tpm info --tcti "$2" --json 2>/dev/null)"; then
      python3 -c 'import json,sys; print(json.load(sys.stdin)["ek"]["ek_hash"])' <<< "$info"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

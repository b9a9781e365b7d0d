#!/usr/bin/env bash
# Installs what is missing, then runs the quickstart (examples/quickstart.sh): the twi plugins
# inside unmodified SPIRE, from node attestation of a simulated SEV-SNP VM to a workload's
# X509-SVID.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
exec ./examples/quickstart.sh "$@"

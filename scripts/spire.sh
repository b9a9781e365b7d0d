#!/usr/bin/env bash
# Locates or builds unmodified SPIRE (spire-server and spire-agent) at the tested version and
# prints their paths as shell assignments, for `eval "$(scripts/spire.sh)"`:
#   SPIRE_SERVER=/abs/path/spire-server
#   SPIRE_AGENT=/abs/path/spire-agent
# Reuses, in this order, binaries in $SPIRE_BIN_DIR, in the checkout's cache
# (.cache/spire/<version>/bin, git-ignored) and on PATH, when their --version is the tested
# one. Otherwise builds them from the Go module proxy into the cache. `go install
# module@version` is refused for SPIRE (its go.mod has replace directives), so the build goes
# through an empty module with both commands as tools. Needs Go >= 1.25 (/usr/local/go/bin/go
# is preferred over PATH, where Debian 12's Go 1.19 may come first; GO=... overrides).
# Progress goes to stderr; stdout carries only the two assignments.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SPIRE_VERSION="${SPIRE_VERSION:-v1.13.3}"
CACHE="$ROOT/.cache/spire/$SPIRE_VERSION"

say() { echo "spire.sh: $*" >&2; }

# True when dir holds both binaries reporting the wanted version (SPIRE prints it on stderr).
matches() {
  local dir="$1" b v
  for b in spire-server spire-agent; do
    [ -x "$dir/$b" ] || return 1
    v="$("$dir/$b" --version 2>&1 | head -n1 | tr -d '[:space:]')" || return 1
    # Release builds say 1.13.3; builds from the module proxy say 1.13.3-dev-unk.
    case "$v" in "${SPIRE_VERSION#v}" | "${SPIRE_VERSION#v}"-dev-*) ;; *) return 1 ;; esac
  done
}

emit() {
  local dir
  dir="$(cd "$1" && pwd)"
  echo "SPIRE_SERVER=$dir/spire-server"
  echo "SPIRE_AGENT=$dir/spire-agent"
  exit 0
}

find_go() {
  local g
  for g in "${GO:-}" /usr/local/go/bin/go "$(command -v go || true)"; do
    [ -n "$g" ] && [ -x "$g" ] || continue
    # go1.25 or newer (SPIRE v1.13.3's go.mod says go 1.25.3).
    if "$g" env GOVERSION 2>/dev/null | awk -F'[go.]' '{exit !($3 > 1 || ($3 == 1 && $4 >= 25))}'; then
      echo "$g"
      return 0
    fi
  done
  return 1
}

if [ -n "${SPIRE_BIN_DIR:-}" ] && matches "$SPIRE_BIN_DIR"; then emit "$SPIRE_BIN_DIR"; fi
if matches "$CACHE/bin"; then emit "$CACHE/bin"; fi
if on_path="$(command -v spire-server)" && matches "$(dirname "$on_path")"; then emit "$(dirname "$on_path")"; fi

mkdir -p "$CACHE"
# One build at a time per checkout (ctest may start several SPIRE tests at once).
exec 9>"$CACHE/lock"
flock 9
if matches "$CACHE/bin"; then emit "$CACHE/bin"; fi

if ! GO_BIN="$(find_go)"; then
  say "Go 1.25 or newer is needed to build SPIRE $SPIRE_VERSION (tried \$GO, /usr/local/go/bin/go, go on PATH: $(command -v go >/dev/null && go version || echo none))"
  exit 1
fi
say "building SPIRE $SPIRE_VERSION with $("$GO_BIN" version) into $CACHE/bin (first time only; several minutes)"
start=$(date +%s)
# A fresh module each time: a half-finished earlier attempt must not leave a stale go.mod.
rm -rf "$CACHE/mod"
mkdir -p "$CACHE/mod" "$CACHE/bin"
(
  cd "$CACHE/mod"
  export GOTOOLCHAIN=local GOBIN="$CACHE/bin.partial"
  rm -rf "$GOBIN"
  "$GO_BIN" mod init spirebuild >&2
  "$GO_BIN" get -tool "github.com/spiffe/spire/cmd/spire-server@$SPIRE_VERSION" >&2
  "$GO_BIN" get -tool "github.com/spiffe/spire/cmd/spire-agent@$SPIRE_VERSION" >&2
  "$GO_BIN" install github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent >&2
) || { say "building SPIRE $SPIRE_VERSION failed (see the go output above)"; exit 1; }
mv -f "$CACHE/bin.partial/spire-server" "$CACHE/bin.partial/spire-agent" "$CACHE/bin/"
rmdir "$CACHE/bin.partial" 2>/dev/null || true
if ! matches "$CACHE/bin"; then
  say "built binaries do not report version ${SPIRE_VERSION#v}: $("$CACHE/bin/spire-server" --version 2>&1 | head -n1)"
  exit 1
fi
say "built SPIRE $SPIRE_VERSION in $(( $(date +%s) - start )) s"
emit "$CACHE/bin"

#!/usr/bin/env bash
# Builds the Debian package from a finished build and checks it as an operator would meet it:
# file layout, computed Depends (OpenSSL, libcurl... present; gRPC, Protobuf, abseil absent
# because they are linked statically), then unpacks it into a scratch root (dpkg -x), runs the
# installed `twi version` and plugins' --version, and, when a go-plugin host is given, loads the
# installed plugins through it (test/gohost/run_test.sh).
#
# usage: scripts/package-check.sh [BUILD_DIR] [GOHOST]    (ctest and .ci/run call it)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$(cd "${1:-$ROOT/build}" && pwd)"
GOHOST="${2:-$BUILD_DIR/bin/gohost}"
VERSION="$(sed -n 's/^#define TWI_VERSION "\(.*\)"$/\1/p' "$BUILD_DIR/twi_version.h")"
STATIC="$(sed -n 's/^TWI_STATIC_DEPS:BOOL=//p' "$BUILD_DIR/CMakeCache.txt")"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$TMP/pkg" -D CPACK_OUTPUT_FILE_PREFIX="$TMP/out" > "$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log"; fail "cpack"; }
DEB="$TMP/out/twi-attestor_${VERSION}_amd64.deb"
[ -f "$DEB" ] || { ls "$TMP/out"; fail "no $(basename "$DEB")"; }
echo "package: $(basename "$DEB") ($(du -k "$DEB" | cut -f1) KiB)"

dpkg-deb -c "$DEB" | awk '{print $6}' > "$TMP/files"
for f in ./usr/bin/twi ./usr/lib/twi-attestor/twi-agent-nodeattestor \
         ./usr/lib/twi-attestor/twi-server-nodeattestor ./usr/lib/twi-attestor/twi-workloadattestor \
         ./usr/share/doc/twi-attestor/README.md ./usr/share/twi-attestor/examples/agent.conf \
         ./usr/share/twi-attestor/examples/server.conf ./usr/lib/twi-attestor/twi-server-credentialcomposer; do
  grep -qx "$f" "$TMP/files" || fail "package lacks $f"
done
if grep -v -e '/$' "$TMP/files" | grep -q -e '/test' -e 'gohost' -e 'twi-host' -e '\.a$'; then
  fail "package ships test binaries or archives: $(grep -e test -e host "$TMP/files" | head -3)"
fi

DEPENDS="$(dpkg-deb -f "$DEB" Depends)"
echo "Depends: $DEPENDS"
for d in libc6 libssl3 libcurl libtss2-esys libtss2-mu libtss2-tctildr libtss2-rc; do
  [[ "$DEPENDS" == *"$d"* ]] || fail "Depends lacks $d"
done
if [ "$STATIC" != "OFF" ]; then
  for d in libgrpc libprotobuf libabsl libre2 libc-ares; do
    [[ "$DEPENDS" != *"$d"* ]] || fail "Depends names $d, which should be linked statically"
  done
fi

dpkg -x "$DEB" "$TMP/root"
got="$("$TMP/root/usr/bin/twi" version)"
[ "$got" = "twi $VERSION" ] || fail "installed twi version: got \"$got\", want \"twi $VERSION\""
# The package carries every evidence kind (TWI_KINDS); the plugins that handle evidence say so.
for p in twi-agent-nodeattestor twi-server-nodeattestor twi-workloadattestor twi-server-credentialcomposer; do
  want="$p $VERSION"
  [ "$p" = twi-server-credentialcomposer ] || want="$want (evidence kinds: sev-snp;tdx;tpm;azure;gcp)"
  got="$("$TMP/root/usr/lib/twi-attestor/$p" --version)"
  [ "$got" = "$want" ] || fail "installed $p --version: got \"$got\", want \"$want\""
done
echo "installed binaries run: twi $VERSION"
if [ -x "$GOHOST" ]; then
  "$ROOT/test/gohost/run_test.sh" "$TMP/root/usr/lib/twi-attestor" "$GOHOST" > "$TMP/gohost.log" 2>&1 ||
    { cat "$TMP/gohost.log"; fail "go-plugin host could not load the installed plugins"; }
  echo "go-plugin host loaded the installed plugins"
else
  echo "no go-plugin host at $GOHOST: installed plugins not loaded"
fi
echo "package check: passed"

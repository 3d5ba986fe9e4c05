#!/bin/sh
# A cross-built azrelay-proxy, proven under qemu-user against the native relay
# emulator (build/azrelay-emu) on 127.0.0.1: --version; --check (settings OK
# for ws://, a missing CA bundle refused for wss://); then, through the daemon
# under qemu, a line echoed and 1 MiB of random bytes echoed with equal SHA-256,
# over ws:// and over wss:// (the emulator with tests/tls' "localhost"
# certificate, the daemon trusting their CA: BearSSL for the target, checking);
# and openssl s_client through the daemon's local TLS side (SSLEnabled).
#
#   sh tests/cross/check.sh BINARY QEMU      e.g. build/aarch64-linux-gnu/azrelay-proxy qemu-aarch64-static
#
# QEMU may be "" for a binary this machine runs (a static musl build). Needs
# python3 and openssl (./build.sh test installs both). Exits 1 on any failure.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BINARY QEMU" >&2; exit 2; }
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=$1 QEMU=$2
EMU=${AZR_CROSS_EMU:-$ROOT/build/azrelay-emu}
T=$(mktemp -d "${TMPDIR:-/tmp}/azr-cross.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
name=$(basename "$(dirname "$BIN")")
fail() {
    echo "cross check ($name): FAIL: $*" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    exit 1
}
[ -f "$BIN" ] || fail "no $BIN"
[ -x "$EMU" ] || fail "no native emulator $EMU (./build.sh)"
[ -z "$QEMU" ] || command -v "$QEMU" >/dev/null 2>&1 || fail "$QEMU not found (Debian: qemu-user-static)"

v=$($QEMU "$BIN" --version) || fail "--version under ${QEMU:-no emulator}"
case $v in "azrelay-proxy "*) ;; *) fail "--version said '$v'" ;; esac
$QEMU "$BIN" --check LocalPort=5000 NamespaceAddress=ws://127.0.0.1:9 HybridConnection=hc1 \
    AccessKeyName=send AccessKeyFile=/dev/null >"$T/check.log" 2>&1 && fail "--check took an empty key file"
$QEMU "$BIN" --check LocalPort=5000 NamespaceAddress=ws://127.0.0.1:9 HybridConnection=hc1 \
    AccessKeyName=send >"$T/check.log" 2>&1 && fail "--check took AccessKeyName without AccessKey"
printf 'k1\n' >"$T/key" && chmod 600 "$T/key"
$QEMU "$BIN" --check LocalPort=5000 NamespaceAddress=ws://127.0.0.1:9 HybridConnection=hc1 \
    AccessKeyName=send AccessKeyFile="$T/key" >"$T/check.log" 2>&1 || fail "--check for ws://"
grep -q 'settings OK' "$T/check.log" || fail "--check for ws:// did not say settings OK"
if $QEMU "$BIN" --check LocalPort=5000 NamespaceAddress=myrelay.servicebus.windows.net HybridConnection=hc1 \
    AccessKeyName=send AccessKeyFile="$T/key" SSLCACertFilePaths=/nonexistent.pem >"$T/check.log" 2>&1 ||
    ! grep -q 'no CA certificates for wss://' "$T/check.log"; then
    fail "--check did not refuse wss:// without a CA bundle"
fi
rm -f "$T/check.log"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# echo SCHEME EMU-OPTIONS... -- DAEMON-SETTINGS...: one line and 1 MiB through the daemon
echo_through() {
    scheme=$1
    shift
    emu_opts=""
    while [ "$1" != -- ]; do emu_opts="$emu_opts $1"; shift; done
    shift
    # shellcheck disable=SC2086
    "$EMU" --port 0 --rule send:k1 --echo hc1 $emu_opts >"$T/emu-$scheme.log" 2>&1 &
    pids="$pids $!"
    rport=""
    for _ in $(seq 100); do
        rport=$(sed -n 's/.*listening on wss*:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/emu-$scheme.log")
        [ -n "$rport" ] && break
        sleep 0.1
    done
    [ -n "$rport" ] || fail "the emulator ($scheme) did not start"
    lport=$(free_port)
    $QEMU "$BIN" HybridConnection=hc1 AccessKeyName=send AccessKeyFile="$T/key" LocalHost=127.0.0.1 \
        LocalPort="$lport" "$@" NamespaceAddress="$scheme://$host:$rport" LogLevel=1 >"$T/proxy-$scheme.log" 2>&1 &
    pids="$pids $!"
    python3 - "$lport" "$scheme" <<'PY' || fail "echo over $scheme:// through the daemon under qemu"
import hashlib, os, socket, sys, threading, time
port, scheme = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 30
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("the daemon does not listen on %d" % port)
        time.sleep(0.1)
s.sendall(b"hello over %s\n" % scheme.encode())
want = b"hello over %s\n" % scheme.encode()
got = b""
while len(got) < len(want):
    b = s.recv(4096)
    if not b:
        sys.exit("closed after %r" % got)
    got += b
if got != want:
    sys.exit("echo: %r" % got)
data = os.urandom(1 << 20)
def send():
    s.sendall(data)
threading.Thread(target=send, daemon=True).start()
h, n = hashlib.sha256(), 0
while n < len(data):
    b = s.recv(65536)
    if not b:
        sys.exit("closed after %d of %d bytes" % (n, len(data)))
    h.update(b)
    n += len(b)
if h.hexdigest() != hashlib.sha256(data).hexdigest():
    sys.exit("SHA-256 differs")
print("  %s://: line and 1 MiB echoed, SHA-256 %s" % (scheme, h.hexdigest()[:16]))
PY
}

host=127.0.0.1
echo_through ws --
sh tests/tls/make-certs.sh "$T/certs" >"$T/certs.out" 2>&1 || fail "tests/tls/make-certs.sh"
rm -f "$T/certs.out"
host=localhost
echo_through wss --host localhost --cert "$T/certs/server.pem" --key "$T/certs/server.key" -- \
    SSLServerCACerts="$T/certs/ca.pem"

# the local TLS side: openssl s_client (the independent peer) to the daemon under
# qemu with SSLEnabled, through wss:// to the emulator: a line comes back
lport=$(free_port)
$QEMU "$BIN" HybridConnection=hc1 AccessKeyName=send AccessKeyFile="$T/key" LocalHost=127.0.0.1 \
    LocalPort="$lport" SSLEnabled=True SSLCertStore="$T/certs/both.pem" \
    SSLServerCACerts="$T/certs/ca.pem" NamespaceAddress="wss://localhost:$rport" LogLevel=1 \
    >"$T/proxy-local-tls.log" 2>&1 &
pids="$pids $!"
python3 -c 'import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)' "$lport" || fail "the daemon with SSLEnabled does not listen on $lport"
(printf 'hello over local TLS\n'; sleep 3) |
    timeout 30 openssl s_client -connect "127.0.0.1:$lport" -servername localhost \
        -CAfile "$T/certs/ca.pem" -verify_return_error -quiet -no_ign_eof \
        >"$T/s_client.out" 2>"$T/s_client.log" || true
grep -q '^hello over local TLS$' "$T/s_client.out" || fail "openssl s_client got no echo through the local TLS side"
echo "  local TLS: openssl s_client verified the daemon's certificate and got its line back"
echo "cross check ($name): --version, --check, echo and 1 MiB SHA-256 over ws:// and wss://, openssl s_client on the local TLS side, under ${QEMU:-no emulator}: OK"

#!/bin/sh
# The install, as a Yocto/Buildroot recipe or a firmware Makefile consumes it:
# `./build.sh install` into a temporary DESTDIR (PREFIX=/usr/local), every file
# where it belongs, then README.md's C API example (the text between the
# api-example markers) compiled against the installed tree alone with
# `pkg-config --static` (PKG_CONFIG_LIBDIR and PKG_CONFIG_SYSROOT_DIR pointing
# into DESTDIR) and run: a bad setting is refused, and bytes echo through it
# and the bundled emulator (build/azrelay-emu, ws:// on 127.0.0.1).
# ./build.sh test runs it; any failing step fails it.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CC=${CC:-cc}
T=$(mktemp -d "${TMPDIR:-/tmp}/azr-install.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "install check: FAIL: $*" >&2
    exit 1
}

prefix=/usr/local
D=$T/root
DESTDIR=$D PREFIX=$prefix ./build.sh install >"$T/install.log" 2>&1 || {
    cat "$T/install.log"
    fail "DESTDIR=$D PREFIX=$prefix ./build.sh install"
}
R=$D$prefix
for f in bin/azrelay-proxy lib/libazrelay.a include/azrelay.h lib/pkgconfig/azrelay.pc \
    share/man/man8/azrelay-proxy.8 share/man/man5/azrelay.conf.5 \
    lib/systemd/system/azrelay-proxy.service share/doc/azrelay/azrelay.conf.example; do
    [ -f "$R/$f" ] || fail "$prefix/$f was not installed"
done
[ -x "$R/bin/azrelay-proxy" ] || fail "$prefix/bin/azrelay-proxy is not executable"
grep -q "^ExecStart=$prefix/bin/azrelay-proxy " "$R/lib/systemd/system/azrelay-proxy.service" ||
    fail "the unit's ExecStart does not name $prefix/bin/azrelay-proxy"
outside=$(cd "$D" && find . -type f | grep -v "^\\.$prefix/" || true)
[ -z "$outside" ] || fail "files outside PREFIX: $outside"
"$R/bin/azrelay-proxy" --version | grep -q '^azrelay-proxy ' || fail "the installed azrelay-proxy --version"

# README.md's example, byte for byte
sed -n '/^<!-- api-example: begin/,/^<!-- api-example: end/p' README.md |
    sed -e '1,/^```c$/d' -e '/^```$/,$d' >"$T/relay-fwd.c"
grep -q 'int main' "$T/relay-fwd.c" || fail "README.md has no complete api-example program between its markers"

export PKG_CONFIG_LIBDIR="$R/lib/pkgconfig" PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="$D"
pkg-config --exists azrelay || fail "pkg-config does not find azrelay in $PKG_CONFIG_LIBDIR"
[ "$(pkg-config --modversion azrelay)" = "$(sed -n 's/^#define AZRELAY_VERSION "\(.*\)"$/\1/p' include/azrelay.h)" ] ||
    fail "azrelay.pc's version is not AZRELAY_VERSION"
pkg-config --static --libs azrelay | grep -q -- '-lbearssl' || fail "pkg-config --static --libs azrelay has no -lbearssl"
cflags=$(pkg-config --cflags azrelay)
libs=$(pkg-config --static --libs azrelay)
echo "  $CC -std=c11 -Wall -Wextra -Werror $cflags relay-fwd.c $libs -o relay-fwd"
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror $cflags "$T/relay-fwd.c" $libs -o "$T/relay-fwd" ||
    fail "README's example does not build against the installed tree"

# run it: a setting it cannot take is refused with the library's text
if "$T/relay-fwd" LocalPort=99999 >"$T/bad.log" 2>&1; then fail "relay-fwd LocalPort=99999 exited 0"; fi
grep -q 'LocalPort' "$T/bad.log" || fail "relay-fwd LocalPort=99999 said: $(cat "$T/bad.log")"

# and an echo: relay-fwd in front of the bundled emulator's echo listener
emu=$ROOT/build/azrelay-emu
[ -x "$emu" ] || fail "no $emu (./build.sh builds it)"
"$emu" --port 0 --rule send:k1 --echo hc1 >"$T/emu.log" 2>&1 &
pids="$pids $!"
rport=""
for _ in $(seq 50); do
    rport=$(sed -n 's/.*listening on ws:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/emu.log")
    [ -n "$rport" ] && break
    sleep 0.1
done
[ -n "$rport" ] || fail "the emulator did not start: $(cat "$T/emu.log")"
lport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$T/relay-fwd" NamespaceAddress="ws://127.0.0.1:$rport" HybridConnection=hc1 AccessKeyName=send \
    AccessKey=k1 LocalHost=127.0.0.1 LocalPort="$lport" >"$T/fwd.log" 2>&1 &
pids="$pids $!"
reply=$(bash -c 'for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && break; sleep 0.1; done
    exec 3<>/dev/tcp/127.0.0.1/$1; printf "hello from README\n" >&3; timeout 10 head -c 17 <&3' sh "$lport") || true
[ "$reply" = "hello from README" ] || {
    cat "$T/fwd.log" "$T/emu.log" >&2
    fail "no echo through README's example (got '$reply')"
}
echo "install check: $(cd "$D" && find . -type f | wc -l) files under DESTDIR$prefix; README's example built with pkg-config --static ($libs) and echoed through the emulator"

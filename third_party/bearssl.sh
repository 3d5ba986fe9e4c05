#!/bin/sh
# BearSSL for $CC, from Debian's source package, without root and without the
# system's apt configuration: ./build.sh bearssl runs this.
#
#   CC=aarch64-linux-gnu-gcc third_party/bearssl.sh
#
# 1. The source: bearssl PIN_VERSION from Debian (bookworm), fetched with
#    apt-get through a private configuration in build/third_party/apt/ (its own
#    sources.list with one deb-src line, its own lists, cache and status file;
#    /etc/apt/sources.list* and /var/lib/apt are never read or written). apt
#    checks the files against the signed Sources index; this script then checks
#    the .dsc and the upstream tarball against the SHA-256 sums pinned below,
#    so a mirror serving anything else stops the build.
#    BEARSSL_SOURCE=FILE uses an upstream tarball at hand instead (it must
#    match PIN_ORIG_SHA256; no apt, no network).
# 2. The build: every src/**/*.c with $CC (-Os, one section per function, no
#    unwind tables, plus $CPPFLAGS $CFLAGS so -march/-mfloat-abi match azrelay's
#    objects) into libbearssl.a with $AR, headers beside it:
#    BEARSSL_PREFIX (default third_party/out/<target>/: include/, lib/,
#    LICENSE.txt), <target> as build.sh names it (x86_64-linux-gnu-musl,
#    aarch64-linux-gnu, arm-linux-gnueabihf, ...). build.sh finds it there.
#    A prefix built with other flags or another compiler is rebuilt.
#
# Also honoured: AR, BEARSSL_CFLAGS (replaces the -Os set), BEARSSL_MIRROR
# (default http://deb.debian.org/debian), BEARSSL_SUITE (default bookworm),
# BEARSSL_KEYRING (default /usr/share/keyrings/debian-archive-keyring.gpg).
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/tools/target.sh"

PIN_VERSION=0.6+dfsg.1-3
PIN_DSC=bearssl_0.6+dfsg.1-3.dsc
PIN_DSC_SHA256=9bd17e07fc9824b0223dcb4ba14adac17981a4d8f1d63b6655819fe8f2ed98d1
PIN_ORIG=bearssl_0.6+dfsg.1.orig.tar.xz
PIN_ORIG_SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
PIN_TOPDIR=bearssl-0.6

CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
CPPFLAGS=${CPPFLAGS:-}
MIRROR=${BEARSSL_MIRROR:-http://deb.debian.org/debian}
SUITE=${BEARSSL_SUITE:-bookworm}
KEYRING=${BEARSSL_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
BR_CFLAGS=${BEARSSL_CFLAGS:--Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables}
NPROC=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

say() { printf 'bearssl.sh: %s\n' "$*"; }
die() { printf 'bearssl.sh: error: %s\n' "$*" >&2; exit 1; }

command -v "${CC%% *}" >/dev/null 2>&1 || die "CC=$CC not found"
azr_target "$CC"
AR=${AR:-$(azr_tool "$CC" ar)}
PREFIX=${BEARSSL_PREFIX:-$ROOT/third_party/out/$AZR_TARGET}
W=$ROOT/build/third_party
STAMP="bearssl $PIN_VERSION ($PIN_ORIG_SHA256)
CC=$CC ($($CC --version 2>/dev/null | sed -n 1p))
AR=$AR
FLAGS=$BR_CFLAGS $CPPFLAGS $CFLAGS"

if [ -f "$PREFIX/lib/libbearssl.a" ] && [ -f "$PREFIX/include/bearssl.h" ] &&
    [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" = "$STAMP" ]; then
    say "up to date: $PREFIX (BearSSL $PIN_VERSION for $AZR_TARGET)"
    exit 0
fi

sha256_of() { sha256sum "$1" 2>/dev/null | sed 's/ .*//'; }

verify() { # $1 file, $2 pinned sum
    got=$(sha256_of "$1")
    [ "$got" = "$2" ] || die "$1: SHA-256 $got, pinned $2 (third_party/bearssl.sh): refusing it"
}

# ------------------------------------------------------------------ source
mkdir -p "$W/src"
orig=$W/src/$PIN_ORIG
if [ -n "${BEARSSL_SOURCE:-}" ]; then
    [ -f "$BEARSSL_SOURCE" ] || die "BEARSSL_SOURCE=$BEARSSL_SOURCE: no such file"
    verify "$BEARSSL_SOURCE" "$PIN_ORIG_SHA256"
    cp "$BEARSSL_SOURCE" "$orig.tmp" && mv "$orig.tmp" "$orig"
    say "source: $BEARSSL_SOURCE (SHA-256 matches the pin)"
elif [ -f "$orig" ] && [ "$(sha256_of "$orig")" = "$PIN_ORIG_SHA256" ] &&
    [ -f "$W/src/$PIN_DSC" ] && [ "$(sha256_of "$W/src/$PIN_DSC")" = "$PIN_DSC_SHA256" ]; then
    say "source: $orig (fetched before; SHA-256 matches the pin)"
else
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found: give BEARSSL_SOURCE=$PIN_ORIG (SHA-256 $PIN_ORIG_SHA256) or BEARSSL_DIR to build.sh"
    [ -r "$KEYRING" ] || die "$KEYRING not readable (debian-archive-keyring; or set BEARSSL_KEYRING)"
    A=$W/apt
    rm -rf "$A"
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/dl"
    : >"$A/status"
    printf 'deb-src [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" >"$A/sources.list"
    # only our files: sources, lists, cache, status; no lock on the system's
    set -- -q -o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts="$A/parts" \
        -o Dir::Etc::PreferencesParts="$A/parts" -o Dir::Etc::Preferences="$A/parts/none" \
        -o Dir::State="$A" -o Dir::State::Lists="$A/lists" -o Dir::State::status="$A/status" \
        -o Dir::Cache="$A/cache" -o Dir::Cache::archives="$A/cache/archives" \
        -o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=true
    say "source: apt-get source bearssl=$PIN_VERSION from $MIRROR $SUITE (private apt configuration in $A)"
    apt-get "$@" update >"$A/update.log" 2>&1 || { cat "$A/update.log" >&2; die "apt-get update (private sources.list) failed"; }
    (cd "$A/dl" && apt-get "$@" source --download-only "bearssl=$PIN_VERSION") >"$A/source.log" 2>&1 ||
        { cat "$A/source.log" >&2; die "apt-get source bearssl=$PIN_VERSION failed"; }
    verify "$A/dl/$PIN_DSC" "$PIN_DSC_SHA256"
    verify "$A/dl/$PIN_ORIG" "$PIN_ORIG_SHA256"
    mv "$A/dl/$PIN_DSC" "$W/src/$PIN_DSC"
    mv "$A/dl/$PIN_ORIG" "$orig"
    say "source: $PIN_DSC and $PIN_ORIG, SHA-256 match the pins"
fi

# ------------------------------------------------------------------- build
S=$W/$AZR_TARGET
rm -rf "$S"
mkdir -p "$S/obj"
tar -xJf "$orig" -C "$S" || die "cannot unpack $orig"
src=$S/$PIN_TOPDIR
[ -f "$src/inc/bearssl.h" ] || die "$orig: no $PIN_TOPDIR/inc/bearssl.h"
say "building libbearssl.a for $AZR_TARGET with $CC ($NPROC at once): $BR_CFLAGS $CPPFLAGS $CFLAGS"
(cd "$src" && find src -name '*.c' | sort) >"$S/sources"
export BRB_CC="$CC" BRB_FLAGS="$BR_CFLAGS $CPPFLAGS $CFLAGS" BRB_SRC="$src" BRB_OBJ="$S/obj"
# one object per source, named after its path (src/ssl/ssl_io.c: ssl_ssl_io.o)
xargs -P "$NPROC" -n 16 sh -c '
    for f in "$@"; do
        o=$(printf "%s" "${f#src/}" | tr / _)
        $BRB_CC $BRB_FLAGS -I"$BRB_SRC/inc" -I"$BRB_SRC/src" -c "$BRB_SRC/$f" -o "$BRB_OBJ/${o%.c}.o" || exit 1
    done' sh <"$S/sources" || die "compiling BearSSL failed (see above)"
n=$(wc -l <"$S/sources")
rm -rf "$PREFIX.new"
mkdir -p "$PREFIX.new/lib" "$PREFIX.new/include"
(cd "$S/obj" && $AR rcs "$PREFIX.new/lib/libbearssl.a" *.o) || die "$AR rcs libbearssl.a failed"
cp "$src"/inc/*.h "$PREFIX.new/include/"
cp "$src/LICENSE.txt" "$PREFIX.new/LICENSE.txt"
printf '%s\n' "$STAMP" >"$PREFIX.new/.stamp"
rm -rf "$PREFIX"
mv "$PREFIX.new" "$PREFIX"
rm -rf "$S"
say "built $PREFIX/lib/libbearssl.a ($n sources, $(wc -c <"$PREFIX/lib/libbearssl.a") bytes) and include/"

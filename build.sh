#!/bin/sh
# azrelay build entry point. Plain POSIX sh + a C compiler; no make, no cmake.
#
#   ./build.sh            release build: libazrelay.a, azrelay-proxy (static BearSSL) and, for the
#                         machine's own compiler, azrelay-emu, in build/ (another target: build/<target>/)
#   ./build.sh test       ASan+UBSan build, every cmocka suite, symbol, format and install checks
#   ./build.sh fuzz [S]   libFuzzer targets (clang), each for S or $FUZZ_SECONDS (default 60) seconds
#   ./build.sh bench      throughput, memory per connection and sizes (tests/bench/run.sh)
#   ./build.sh demo       start the proxy against the bundled relay emulator (arrives with the proxy)
#   ./build.sh bearssl    BearSSL's libbearssl.a for $CC from Debian's source package (pinned SHA-256),
#                         into third_party/out/<target>/ (third_party/bearssl.sh; no root)
#   ./build.sh emu        as ./build.sh, and azrelay-emu for a cross target too
#   ./build.sh install    build, then install into $DESTDIR$PREFIX (bin, lib, include, pkg-config, man, unit)
#   ./build.sh size       the stripped size of azrelay-proxy, and what it is made of
#   ./build.sh man        regenerate dist/man/ (azrelay-proxy.8, azrelay.conf.5) from the settings table
#   ./build.sh fmt        apply .clang-format to src/ include/ tests/ fuzz/
#   ./build.sh clean      remove the build directory (build/, or build/<target>/ for a cross target)
#
# Variables:
#   CC, CFLAGS, CPPFLAGS, LDFLAGS   the compiler and its flags (LDFLAGS=-static for a static daemon)
#   AR, STRIP, NM          binutils; default: the ones named like CC (aarch64-linux-gnu-ar), else ar...
#   PROFILE                release (default: -O2) or small (-Os, no unwind tables; sections are
#                          always split and collected with --gc-sections)
#   BUILD_DIR              where objects and programs go; default build/ for the machine's own
#                          compiler, build/<target>/ otherwise, <target> being `$CC -dumpmachine`
#                          (vendor dropped) plus -<libc> when the C library is not the triplet's:
#                          build/aarch64-linux-gnu, build/x86_64-linux-gnu-musl (musl-gcc)
#   BEARSSL_DIR            a BearSSL tree (inc/, build/libbearssl.a) or prefix (include/ or
#                          include/bearssl/, lib/<triplet>/libbearssl.a or lib/libbearssl.a):
#                          BEARSSL_DIR=/usr finds Debian's libbearssl-dev:<arch>
#   BEARSSL_INC, BEARSSL_LIB   the directory of bearssl.h and the libbearssl.a file, overriding
#                          Without them: third_party/out/<target>/ (./build.sh bearssl), then
#                          the compiler's own paths (Debian: libbearssl-dev)
#   PREFIX, DESTDIR        install: default /usr/local, none; BINDIR, LIBDIR, INCLUDEDIR, MANDIR,
#                          UNITDIR, DOCDIR move a part; INSTALL_STRIP=1 strips the daemon;
#                          INSTALL_BEARSSL=1|0 (default: when not on the compiler's own paths)
#   WERROR=0               warnings stay warnings (integrators only; never CI)
#   FUZZ_SECONDS, TEST_JOBS (suites at once; default: one per core), AZR_SOAK_SECONDS (test_soak
#   with Azure's 240 s idle cut for that long, at least 480; default: 10 s against a 3 s cut),
#   AZR_SCALE_CONNS (test_scale: exactly this many relayed connections; default 10,000, or the
#   most the hard descriptor limit allows where it cannot be raised, said in its log)
#   BENCH_* (./build.sh bench: see tests/bench/run.sh)
#
# A cross build (CC not the machine's compiler: another triplet or C library) builds the
# library and the daemon only, never runs apt-get and needs no root; test, fuzz, bench and
# demo run natively. A change of CC, CFLAGS, CPPFLAGS, LDFLAGS, PROFILE or the BearSSL paths
# rebuilds everything (a stamp in the build directory); objects depend on the headers they
# include (-MMD). Output goes to the build directory and third_party/out/ only.
set -eu

cd "$(dirname "$0")"
ROOT=$(pwd)
. "$ROOT/tools/target.sh"
CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
CPPFLAGS=${CPPFLAGS:-}
LDFLAGS=${LDFLAGS:-}
WERROR=${WERROR:-1}
PROFILE=${PROFILE:-release}
VERSION=$(sed -n 's/^#define AZRELAY_VERSION "\(.*\)"$/\1/p' include/azrelay.h)

# What CC builds for, and whether that is this machine's own configuration (NATIVE=1:
# build/, tests, apt-get for what is missing) or a cross target (build/<target>/).
if command -v "${CC%% *}" >/dev/null 2>&1; then
    azr_target "$CC"
    TARGET=$AZR_TARGET
    HOST_TARGET=$TARGET
    if [ "$CC" != cc ] && command -v cc >/dev/null 2>&1; then
        HOST_TARGET=$(azr_target cc && echo "$AZR_TARGET")
        azr_target "$CC"
    fi
else
    # no compiler yet: cc is installed by need_base; anything else is the caller's
    TARGET=unknown HOST_TARGET=unknown AZR_TRIPLET=unknown
fi
NATIVE=0
if [ "$CC" = cc ] || [ "$TARGET" = "$HOST_TARGET" ]; then NATIVE=1; fi
if [ -n "${BUILD_DIR:-}" ]; then
    case $BUILD_DIR in /*) B=$BUILD_DIR ;; *) B=$ROOT/$BUILD_DIR ;; esac
elif [ $NATIVE = 1 ]; then
    B=$ROOT/build
else
    B=$ROOT/build/$TARGET
fi
AR=${AR:-$(azr_tool "$CC" ar)}
STRIP=${STRIP:-$(azr_tool "$CC" strip)}
NM=${NM:-$(azr_tool "$CC" nm)}
case $PROFILE in
release) OPT="-O2" ;;
small) OPT="-Os -fno-asynchronous-unwind-tables -fno-unwind-tables" ;;
*) printf 'build.sh: error: PROFILE=%s: release or small\n' "$PROFILE" >&2; exit 1 ;;
esac

say() { printf 'build.sh: %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
run() { printf '  %s\n' "$*"; "$@" || die "command failed: $*"; }

# ------------------------------------------------------------ parallel jobs
# At most N commands at once, each writing its own output file. POSIX sh has
# no `wait -n`: a FIFO holds one token per free slot, a job takes one before it
# starts and gives it back when it ends. Jobs are joined in the order they were
# started, so what gets printed does not depend on which one ended first.
NPROC=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

jobs_open() { # $1: how many at once
    mkdir -p "$B"
    jb_fifo=$B/.jobs.$$
    rm -f "$jb_fifo"
    mkfifo "$jb_fifo" || die "mkfifo $jb_fifo failed"
    exec 3<>"$jb_fifo"
    rm -f "$jb_fifo"
    jb_n=0
    while [ "$jb_n" -lt "$1" ]; do
        echo >&3
        jb_n=$((jb_n + 1))
    done
    JOBS_STARTED=""
}

job_start() { # $1: output file (stdout and stderr), then the command
    jb_out=$1
    shift
    read -r jb_token <&3
    (
        jb_rc=0
        "$@" >"$jb_out" 2>&1 3>&- || jb_rc=$?
        echo >&3
        exit $jb_rc
    ) &
    JOBS_STARTED="$JOBS_STARTED $jb_out=$!"
}

job_wait() { # $1: a started job's output file; returns the job's status
    for jb in $JOBS_STARTED; do
        case $jb in "$1="*)
            wait "${jb##*=}"
            return
            ;;
        esac
    done
    die "no job writes $1"
}

jobs_close() { exec 3>&-; }

# par_begin, par_run CMD... (as run, but in the background), par_done: a batch
# of compiles, NPROC at once; par_done prints what they wrote (warnings under
# WERROR=0) and dies after all have ended if one failed.
par_begin() {
    rm -rf "$B/.par"
    mkdir -p "$B/.par"
    PAR_N=0
    jobs_open "$NPROC"
}

par_run() {
    printf '  %s\n' "$*"
    PAR_N=$((PAR_N + 1))
    printf '%s\n' "$*" >"$B/.par/$PAR_N.cmd"
    job_start "$B/.par/$PAR_N.out" "$@"
}

par_done() {
    pd_i=0 pd_bad=""
    while [ $pd_i -lt "$PAR_N" ]; do
        pd_i=$((pd_i + 1))
        job_wait "$B/.par/$pd_i.out" || pd_bad=${pd_bad:-$(cat "$B/.par/$pd_i.cmd")}
        cat "$B/.par/$pd_i.out"
    done
    jobs_close
    [ -z "$pd_bad" ] || die "command failed: $pd_bad"
}

# ---------------------------------------------------------------- dependencies
MISSING=""
want_pkg() { case " $MISSING " in *" $1 "*) ;; *) MISSING="$MISSING $1" ;; esac; }

have_header() { # $1 compiler, $2 header, $3 extra flags
    printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <%s>\nint main(void){return 0;}\n' "$2" |
        $1 $3 -x c -fsyntax-only - >/dev/null 2>&1
}

install_missing() {
    [ -z "$MISSING" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing$MISSING with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends $MISSING >/dev/null ||
            die "apt-get install$MISSING failed"
        MISSING=""
        if [ "$TARGET" = unknown ] && have_cc; then # the compiler just arrived
            azr_target "$CC"
            TARGET=$AZR_TARGET HOST_TARGET=$AZR_TARGET
        fi
    else
        die "missing packages; run: sudo apt-get install$MISSING"
    fi
}

# BearSSL's header directory (BR_INC, "" for the compiler's own paths) and
# libbearssl.a (BR_LIB, "" when none): BEARSSL_DIR, else third_party/out/<target>/
# (./build.sh bearssl), else the compiler's paths; BEARSSL_INC / BEARSSL_LIB override.
bearssl_paths() {
    BR_INC="" BR_LIB=""
    if [ -n "${BEARSSL_DIR:-}" ]; then
        [ -d "$BEARSSL_DIR" ] || die "BEARSSL_DIR=$BEARSSL_DIR is not a directory"
        # include/bearssl/ (Debian's layout) before include/: -isystem /usr/include would
        # put the host's headers ahead of a cross compiler's own
        for d in "$BEARSSL_DIR/inc" "$BEARSSL_DIR/include/bearssl" "$BEARSSL_DIR/include"; do
            [ -f "$d/bearssl.h" ] && BR_INC=$d && break
        done
        for f in "$BEARSSL_DIR/build/libbearssl.a" "$BEARSSL_DIR/lib/$AZR_TRIPLET/libbearssl.a" \
            "$BEARSSL_DIR/lib/libbearssl.a" "$BEARSSL_DIR/libbearssl.a"; do
            [ -f "$f" ] && BR_LIB=$f && break
        done
        [ -n "$BR_INC" ] || [ -n "${BEARSSL_INC:-}" ] ||
            die "BEARSSL_DIR=$BEARSSL_DIR has no inc/bearssl.h, include/bearssl/bearssl.h or include/bearssl.h"
        [ -n "$BR_LIB" ] || [ -n "${BEARSSL_LIB:-}" ] ||
            die "BEARSSL_DIR=$BEARSSL_DIR has no build/libbearssl.a, lib/$AZR_TRIPLET/libbearssl.a or lib/libbearssl.a (build BearSSL first)"
    elif [ -f "$ROOT/third_party/out/$TARGET/lib/libbearssl.a" ]; then
        BR_INC=$ROOT/third_party/out/$TARGET/include
        BR_LIB=$ROOT/third_party/out/$TARGET/lib/libbearssl.a
    elif command -v "${CC%% *}" >/dev/null 2>&1; then
        BR_LIB=$($CC -print-file-name=libbearssl.a)
        [ -f "$BR_LIB" ] && have_header "$CC" bearssl.h "$CPPFLAGS" || BR_LIB=""
    fi
    [ -z "${BEARSSL_INC:-}" ] || BR_INC=$BEARSSL_INC
    [ -z "${BEARSSL_LIB:-}" ] || BR_LIB=$BEARSSL_LIB
    [ -z "$BR_INC" ] || [ -f "$BR_INC/bearssl.h" ] || die "no bearssl.h in $BR_INC"
    [ -z "$BR_LIB" ] || [ -f "$BR_LIB" ] || die "BEARSSL_LIB=$BR_LIB: no such file"
    if [ -z "$BR_LIB" ] && [ $NATIVE = 0 ]; then
        arch=$(azr_debian_arch "$AZR_TRIPLET")
        die "no BearSSL for $TARGET (CC=$CC). Either:
  CC=$CC ./build.sh bearssl     builds it from Debian's source package into third_party/out/$TARGET/ (no root)
  BEARSSL_DIR=DIR               a BearSSL tree or prefix built for $TARGET${arch:+
  BEARSSL_DIR=/usr              after apt-get install libbearssl-dev:$arch (dpkg --add-architecture $arch)}
  BEARSSL_INC=DIR BEARSSL_LIB=FILE"
    fi
    config_stamp
}

# The build directory remembers what built it: another compiler, other flags or
# another BearSSL and every object is made again.
config_stamp() {
    cs_new="CC=$CC ($($CC --version 2>/dev/null | sed -n 1p))
CFLAGS=$CFLAGS
CPPFLAGS=$CPPFLAGS
LDFLAGS=$LDFLAGS
PROFILE=$PROFILE
WERROR=$WERROR
BEARSSL=${BR_INC:-<compiler>} ${BR_LIB:-<none>}"
    mkdir -p "$B"
    cs_old=$(cat "$B/.config-stamp" 2>/dev/null || true)
    [ "$cs_new" = "$cs_old" ] && return 0
    if [ -n "$cs_old" ]; then
        say "the configuration changed since the last build in $B: rebuilding everything"
        printf '%s\n' "$cs_new" | diff "$B/.config-stamp" - | sed -n 's/^[<>]/ &/p' || true
    fi
    rm -rf "$B/release" "$B/clang" "$B/test/obj" "$B/test/emu" "$B/test/daemon" "$B/libazrelay.a"
    rm -f "$B"/fuzz/*.o "$B"/fuzz/obj/*.o
    printf '%s\n' "$cs_new" >"$B/.config-stamp"
}

have_cc() { command -v "${CC%% *}" >/dev/null 2>&1; }

need_base() {
    if [ $NATIVE = 0 ]; then
        # a cross toolchain is the integrator's: never apt-get, never root
        have_cc || die "CC=$CC not found (Debian: apt-get install gcc-${CC%-gcc})"
        return 0
    fi
    have_cc || { [ "$CC" = cc ] && want_pkg gcc && want_pkg libc6-dev; }
    command -v "$AR" >/dev/null 2>&1 || want_pkg binutils
    if [ -z "${BEARSSL_DIR:-}${BEARSSL_LIB:-}" ] && [ ! -f "$ROOT/third_party/out/$TARGET/lib/libbearssl.a" ]; then
        if ! have_cc || ! have_header "$CC" bearssl.h "" ||
            [ ! -f "$($CC -print-file-name=libbearssl.a)" ]; then
            want_pkg libbearssl-dev
        fi
    fi
}

need_native() { # $1: the command
    [ $NATIVE = 1 ] || die "./build.sh $1 runs on this machine's own compiler; CC=$CC builds for $TARGET (./build.sh builds the library and the daemon; tests/cross/check.sh runs them under qemu-user)"
}

need_test() {
    need_base
    install_missing
    have_header "$CC" cmocka.h "" || want_pkg libcmocka-dev
    command -v clang-format >/dev/null 2>&1 || want_pkg clang-format
    # the man pages' lint (check_man): groff as man(1) renders them, mandoc as small systems do
    command -v groff >/dev/null 2>&1 || want_pkg groff-base
    command -v mandoc >/dev/null 2>&1 || want_pkg mandoc
    command -v node >/dev/null 2>&1 || want_pkg nodejs
    command -v tinyproxy >/dev/null 2>&1 || want_pkg tinyproxy
    command -v microsocks >/dev/null 2>&1 || want_pkg microsocks
    # test_proxy_auth's proxy (Basic, Digest, NTLM helpers); squid is in /usr/sbin: the file
    [ -x /usr/sbin/squid ] && [ -x /usr/lib/squid/ntlm_fake_auth ] || want_pkg squid
    # test_resolver's DNS server: dnsmasq-base is the program without the system service
    # (the dnsmasq package would start one); /usr/sbin is not in every PATH, so the file
    [ -x /usr/sbin/dnsmasq ] || want_pkg dnsmasq-base
    # a second SOCKS server beside microsocks (SOCKS4, SOCKS4A, SOCKS5)
    [ -x /usr/sbin/danted ] || want_pkg dante-server
    command -v npm >/dev/null 2>&1 || want_pkg npm
    command -v openssl >/dev/null 2>&1 || want_pkg openssl
    command -v ps >/dev/null 2>&1 || want_pkg procps # test_secrets reads `ps -o args=`
    command -v strace >/dev/null 2>&1 || want_pkg strace # test_local_tls sees the daemon's writes
    # test_local_tls runs the daemon as a CPU without AES instructions
    [ "$(uname -m)" != x86_64 ] || [ -x /usr/bin/qemu-x86_64-static ] || want_pkg qemu-user-static
    # --check loads SSLCACertFilePaths' first bundle for wss:// (test_cli and others)
    [ -f /etc/ssl/certs/ca-certificates.crt ] || want_pkg ca-certificates
    # tests/install/check.sh builds README's example with pkg-config --static
    command -v pkg-config >/dev/null 2>&1 || want_pkg pkgconf
    # test_daemon_status parses /metrics with Prometheus's own parser (tests/prom_parse.py)
    /usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1 ||
        want_pkg python3-prometheus-client
    # 32-bit compile check (firmware targets are 32-bit ARM): gcc -m32 needs multilib on x86_64
    if [ "$CC" = cc ] && [ "$(uname -m)" = x86_64 ] && ! printf '#include <limits.h>\n#include <stdio.h>\nint x;\n' |
        cc -m32 -x c -c - -o /dev/null >/dev/null 2>&1; then
        want_pkg gcc-multilib
    fi
    install_missing
    # the integration tests' independent peers, pinned by tests/node/package-lock.json
    if [ ! -f tests/node/node_modules/.package-lock.json ] ||
        [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
        say "installing test peers: npm ci in tests/node"
        (cd tests/node && npm ci --silent --no-audit --no-fund) || die "npm ci in tests/node failed"
    fi
    # Microsoft's hyco-ws cannot be installed by npm (see the script): fetched, integrity-checked
    sh tests/node/fetch-hyco-ws.sh || die "cannot fetch hyco-ws (tests/node/fetch-hyco-ws.sh)"
}

need_fuzz() {
    need_base
    command -v clang >/dev/null 2>&1 || want_pkg clang
    install_missing
    # libFuzzer's runtime lives in libclang-rt-*-dev, which clang only recommends
    if ! printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' |
        clang -fsanitize=fuzzer,address,undefined -x c - -o "${TMPDIR:-/tmp}/azr-fuzz-probe.$$" >/dev/null 2>&1; then
        want_pkg libclang-rt-dev
        install_missing
    fi
    rm -f "${TMPDIR:-/tmp}/azr-fuzz-probe.$$"
}

# --------------------------------------------------------------------- flags
WARN_SRC="-std=c11 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wstrict-prototypes
 -Wmissing-prototypes -Wvla -Wformat=2 -Wundef -Wimplicit-fallthrough"
WARN_TEST="-std=c11 -Wall -Wextra"
[ "$WERROR" = 1 ] && WARN_SRC="$WARN_SRC -Werror" && WARN_TEST="$WARN_TEST -Werror"

LIB_SRCS() { ls "$ROOT"/src/*.c | grep -v -e '/main\.c$'; }
EMU_SRCS() { ls "$ROOT"/src/emu/*.c; } # the bundled relay emulator (a program, not the library)
# the daemon's own modules (systemd, argv, secrets): in azrelay-proxy and the suites that
# include "daemon/...", never in the library
DAEMON_SRCS() { ls "$ROOT"/src/daemon/*.c 2>/dev/null || true; }

inc_flags() {
    printf '%s' "-I$ROOT/include -I$ROOT/src"
    [ -n "$BR_INC" ] && printf ' %s' "-isystem $BR_INC"
    [ -n "$CPPFLAGS" ] && printf ' %s' "$CPPFLAGS"
    return 0
}

# Whether object $2 must be made again from source $1: missing, older than the
# source, or older than a header its .d file (-MMD -MP) lists, or one is gone.
stale() {
    [ -f "$2" ] && [ -f "${2%.o}.d" ] || return 0
    [ "$1" -nt "$2" ] && return 0
    for st_h in $(sed -e 's/^[^:]*://' -e 's/\\$//' "${2%.o}.d"); do
        [ -f "$st_h" ] || return 0
        [ "$st_h" -nt "$2" ] && return 0
    done
    return 1
}

# compile_srcs OUTDIR "FLAGS" CC SRC...: each SRC that is stale into OUTDIR/NAME.o
# (NPROC at once); the objects, made now or before, in CS_OBJS
compile_srcs() {
    cs_out=$1 cs_flags=$2 cs_cc=$3
    shift 3
    mkdir -p "$cs_out"
    CS_OBJS=""
    par_begin
    for s in "$@"; do
        o=$cs_out/$(basename "$s" .c).o
        if stale "$s" "$o"; then
            par_run $cs_cc $cs_flags $(inc_flags) -MMD -MP -c "$s" -o "$o"
        fi
        CS_OBJS="$CS_OBJS $o"
    done
    par_done
}

# compile_lib OUTDIR "FLAGS" [cc]: compiles every library source into OUTDIR/obj
compile_lib() {
    compile_srcs "$1/obj" "$2" "${3:-$CC}" $(LIB_SRCS)
    OBJS=$CS_OBJS
}

write_compile_commands() {
    {
        printf '[\n'
        first=1
        for s in $(LIB_SRCS) $(DAEMON_SRCS) "$ROOT/src/main.c"; do
            [ $first = 1 ] || printf ',\n'
            first=0
            printf '  {"directory": "%s", "file": "%s", "command": "%s %s %s %s -c %s"}' \
                "$ROOT" "$s" "$CC" "$(echo $WARN_SRC)" "$OPT" "$(inc_flags)" "$s"
        done
        printf '\n]\n'
    } >"$B/compile_commands.json"
}

# -------------------------------------------------------------------- targets
# The library and the daemon (and the emulator: natively, or with BUILD_EMU=1).
do_build() {
    need_base
    install_missing
    bearssl_paths
    [ -n "$BR_LIB" ] || die "libbearssl.a not found (install libbearssl-dev, run ./build.sh bearssl or set BEARSSL_DIR)"
    if [ $NATIVE = 1 ]; then
        say "release build with $CC (PROFILE=$PROFILE, BearSSL: ${BR_LIB})"
    else
        say "cross build for $TARGET with $CC into $B (PROFILE=$PROFILE, BearSSL: ${BR_LIB})"
    fi
    with_emu=${BUILD_EMU:-$NATIVE}
    flags="$WARN_SRC $OPT -ffunction-sections -fdata-sections $CFLAGS"
    compile_lib "$B/release" "$flags"
    rm -f "$B/libazrelay.a"
    run $AR rcs "$B/libazrelay.a" $OBJS
    compile_srcs "$B/release" "$flags" "$CC" "$ROOT/src/main.c"
    compile_srcs "$B/release/daemon" "$flags" "$CC" $(DAEMON_SRCS)
    daemon_objs=$CS_OBJS
    if [ "$with_emu" = 1 ]; then
        compile_srcs "$B/release/emu" "$flags" "$CC" $(EMU_SRCS)
        emu_objs=$CS_OBJS
    fi
    par_begin
    par_run $CC $flags "$B/release/main.o" $daemon_objs "$B/libazrelay.a" "$BR_LIB" -Wl,--gc-sections $LDFLAGS -o "$B/azrelay-proxy"
    if [ "$with_emu" = 1 ]; then
        par_run $CC $flags $emu_objs "$B/libazrelay.a" "$BR_LIB" -Wl,--gc-sections $LDFLAGS -o "$B/azrelay-emu"
    fi
    par_done
    write_compile_commands
    say "built $B/libazrelay.a, $B/azrelay-proxy$([ "$with_emu" = 1 ] && echo " and $B/azrelay-emu")"
}

check_symbols() {
    bad=$($NM -g --defined-only "$B/libazrelay.a" 2>/dev/null | awk 'NF==3 {print $3}' | grep -v '^azr_' || true)
    [ -z "$bad" ] || die "libazrelay.a defines symbols without the azr_ prefix: $bad"
    say "symbol check: every exported symbol starts with azr_"
}

check_format() {
    files=$(ls src/*.c src/*.h src/emu/*.c src/emu/*.h src/daemon/*.c src/daemon/*.h include/*.h tests/*.c tests/*.h fuzz/*.c 2>/dev/null || true)
    clang-format --dry-run --Werror $files || die "clang-format differences (run ./build.sh fmt)"
    say "format check: clean"
}

# The man pages: tools/mangen.c turns the templates in tools/man/ and the
# settings table (src/conftable.c, data only) into dist/man/. test_config
# runs build/azrelay-mangen and fails when a committed page is stale.
MAN_PAGES="azrelay-proxy.8 azrelay.conf.5"

build_mangen() {
    mkdir -p "$B"
    run $CC $WARN_SRC -O2 $CFLAGS -I"$ROOT/include" -I"$ROOT/src" "$ROOT/tools/mangen.c" \
        "$ROOT/src/conftable.c" $LDFLAGS -o "$B/azrelay-mangen"
}

lint_man() { # $1: a page; groff -ww and mandoc -Tlint must say nothing
    lm_out=$(groff -man -Tutf8 -ww -z "$1" 2>&1; mandoc -Tlint "$1" 2>&1) || true
    [ -z "$lm_out" ] || die "man page lint, $1:
$lm_out"
}

check_man() {
    build_mangen
    for p in $MAN_PAGES; do lint_man "$ROOT/dist/man/$p"; done
    say "man pages: lint clean (groff -ww, mandoc -Tlint); test_config compares them with the table"
}

do_man() {
    command -v groff >/dev/null 2>&1 || want_pkg groff-base
    command -v mandoc >/dev/null 2>&1 || want_pkg mandoc
    need_base
    install_missing
    build_mangen
    mkdir -p "$ROOT/dist/man"
    for p in $MAN_PAGES; do
        "$B/azrelay-mangen" "$ROOT/tools/man/$p.in" >"$B/$p.new" || die "azrelay-mangen tools/man/$p.in failed"
        lint_man "$B/$p.new"
        mv "$B/$p.new" "$ROOT/dist/man/$p"
    done
    say "wrote dist/man/: $MAN_PAGES (lint clean)"
}

do_test() {
    need_native test
    need_test
    bearssl_paths
    do_build
    check_symbols
    if command -v clang >/dev/null 2>&1 && [ "$CC" != clang ]; then
        say "second compiler: clang -O2 -Werror library build"
        compile_lib "$B/clang" "$WARN_SRC -O2" clang
    fi
    check_format
    check_man
    say "install check: ./build.sh install into a temporary DESTDIR, README's C API example built with pkg-config --static and run (tests/install/check.sh)"
    sh "$ROOT/tests/install/check.sh" || die "install check failed (tests/install/check.sh)"
    if [ "$(uname -m)" = x86_64 ] && printf '#include <limits.h>\n#include <stdio.h>\nint x;\n' | $CC -m32 -x c -c - -o /dev/null >/dev/null 2>&1; then
        say "32-bit check: every source with -m32 (32-bit size_t, as on ARM firmware)"
        m32=""
        # gcc-multilib's one file is the /usr/include/asm link; it conflicts with Debian's
        # cross compilers (which remove it), so the same link in the build tree stands in
        if ! printf '#include <errno.h>\nint x;\n' | $CC -m32 -x c -fsyntax-only - >/dev/null 2>&1 &&
            [ -d /usr/include/x86_64-linux-gnu/asm ]; then
            mkdir -p "$B/m32-include"
            ln -sfn /usr/include/x86_64-linux-gnu/asm "$B/m32-include/asm"
            m32="-idirafter $B/m32-include"
        fi
        par_begin
        for f in "$ROOT"/src/*.c "$ROOT"/src/emu/*.c $(DAEMON_SRCS); do
            par_run $CC -m32 $m32 $WARN_SRC -O2 $(inc_flags) -fsyntax-only "$f"
        done
        par_done
    fi
    san="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
    say "sanitizer build (ASan+UBSan)"
    compile_lib "$B/test" "$WARN_SRC $san $CFLAGS"
    say "sanitizer build of the relay emulator (the integration suites run this one)"
    compile_srcs "$B/test/emu" "$WARN_SRC $san $CFLAGS" "$CC" $(EMU_SRCS)
    emu_objs=$CS_OBJS
    run $CC $san $emu_objs $OBJS ${BR_LIB:-} $LDFLAGS -o "$B/test/azrelay-emu"
    say "sanitizer build of the daemon's modules (src/daemon/, for the suites that include them)"
    compile_srcs "$B/test/daemon" "$WARN_SRC $san $CFLAGS" "$CC" $(DAEMON_SRCS)
    daemon_objs=$CS_OBJS
    export AZR_EMU_BIN="$B/test/azrelay-emu"
    say "test certificates (openssl): tests/tls/make-certs.sh build/test-certs"
    sh "$ROOT/tests/tls/make-certs.sh" "$B/test-certs" || die "cannot make test certificates"
    say "test binaries"
    par_begin
    for t in "$ROOT"/tests/test_*.c; do
        name=$(basename "$t" .c)
        extra=""
        case $name in test_emu_*) extra="$B/test/emu/request.o" ;; esac # the emulator's sans-I/O part
        grep -q '^#include "daemon/' "$t" && extra="$extra $daemon_objs"
        par_run $CC $WARN_TEST $san $(inc_flags) -I"$ROOT/tests" "$t" $OBJS $extra ${BR_LIB:-} -lcmocka $LDFLAGS -o "$B/test/$name"
    done
    par_done
    run_suites
}

# One suite, or "name.poll": the integration suite again on the portable
# backend (two backends, one interface). Its time goes to $B/test/log/$1.secs.
run_suite() {
    rs_t0=$(date +%s) rs_rc=0
    if [ "${1%.poll}" != "$1" ]; then
        (cd "$ROOT/tests" && AZR_TEST_EVENT_LOOP=poll ASAN_OPTIONS=detect_leaks=1 "$B/test/${1%.poll}") || rs_rc=$?
    else
        (cd "$ROOT/tests" && ASAN_OPTIONS=detect_leaks=1 "$B/test/$1") || rs_rc=$?
    fi
    echo $(($(date +%s) - rs_t0)) >"$B/test/log/$1.secs"
    return $rs_rc
}

# The suites are independent processes on loopback ports the kernel picks, so
# they run TEST_JOBS at a time (default: one per core), each into its own log.
# Those that mostly wait (peers, idle timers) start first; the logs are
# printed whole, in name order, each as soon as it and those before it ended.
TEST_FIRST="test_soak test_relay test_relay.poll test_daemon test_daemon_reload test_e2e test_e2e.poll"
run_suites() {
    all=""
    for t in "$ROOT"/tests/test_*.c; do
        name=$(basename "$t" .c)
        all="$all $name"
        case $name in test_e2e | test_relay | test_listener) all="$all $name.poll" ;; esac
    done
    order=""
    for id in $TEST_FIRST; do
        case " $all " in *" $id "*) order="$order $id" ;; esac
    done
    for id in $all; do
        case " $TEST_FIRST " in *" $id "*) ;; *) order="$order $id" ;; esac
    done
    jobs=${TEST_JOBS:-$NPROC}
    say "running the suites, $jobs at a time (TEST_JOBS); test_soak: idle connections for ${AZR_SOAK_SECONDS:-10} s"
    rm -rf "$B/test/log"
    mkdir -p "$B/test/log"
    jobs_open "$jobs"
    for id in $order; do
        job_start "$B/test/log/$id.log" run_suite "$id"
    done
    suites=0 failed=0 failed_names=""
    for id in $all; do
        suites=$((suites + 1))
        if job_wait "$B/test/log/$id.log"; then rs_rc=0; else rs_rc=$?; fi
        case $id in *.poll) label="${id%.poll} (EventLoop=poll)" ;; *) label=$id ;; esac
        printf '\n== %s (%s s)\n' "$label" "$(cat "$B/test/log/$id.secs" 2>/dev/null || echo '?')"
        cat "$B/test/log/$id.log"
        if [ $rs_rc -ne 0 ]; then
            failed=$((failed + 1))
            case $id in *.poll) failed_names="$failed_names ${id%.poll}(poll)" ;; *) failed_names="$failed_names $id" ;; esac
        fi
    done
    jobs_close
    printf '\n'
    if [ $failed -ne 0 ]; then
        die "$failed of $suites suites failed:$failed_names"
    fi
    say "all $suites suites passed"
}

do_fuzz() {
    secs=${1:-${FUZZ_SECONDS:-60}}
    need_native fuzz
    need_fuzz
    bearssl_paths
    fz="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
    say "fuzz build with clang (libFuzzer, ASan+UBSan), $secs s per target"
    compile_lib "$B/fuzz" "$WARN_SRC $fz -DAZR_FUZZING" clang
    run clang $WARN_SRC $fz $(inc_flags) -c "$ROOT/src/emu/request.c" -o "$B/fuzz/emu_request.o"
    run clang $WARN_SRC $fz $(inc_flags) -c "$ROOT/src/daemon/fwdconf.c" -o "$B/fuzz/daemon_fwdconf.o"
    run clang $WARN_SRC $fz $(inc_flags) -c "$ROOT/src/daemon/httpreq.c" -o "$B/fuzz/daemon_httpreq.o"
    OBJS="$OBJS $B/fuzz/emu_request.o $B/fuzz/daemon_fwdconf.o $B/fuzz/daemon_httpreq.o"
    summary=""
    rc=0
    for f in "$ROOT"/fuzz/fuzz_*.c; do
        name=$(basename "$f" .c)
        target=${name#fuzz_}
        run clang $WARN_TEST -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            $(inc_flags) "$f" $OBJS ${BR_LIB:-} -o "$B/fuzz/$name"
        work=$B/fuzz/work/$target
        mkdir -p "$work" "$ROOT/fuzz/corpus/$target"
        log=$B/fuzz/$name.log
        say "running $name for $secs s"
        if (cd "$B/fuzz" && "./$name" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
            -rss_limit_mb=2048 "$work" "$ROOT/fuzz/corpus/$target") >"$log" 2>&1; then
            execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
            summary="$summary
  $target: $execs runs in ${secs} s, $((execs / secs)) exec/s"
        else
            rc=1
            summary="$summary
  $target: FAILED (see $log)"
            tail -40 "$log"
        fi
    done
    say "fuzz summary:$summary"
    [ $rc = 0 ] || die "a fuzz target failed"
}

# The proxy on 127.0.0.1:5000 in front of the bundled relay emulator, whose
# hybrid connection "hc1" has an echo listener. DEMO_PORT / DEMO_RELAY_PORT move them.
do_demo() {
    need_native demo
    do_build
    lport=${DEMO_PORT:-5000}
    rport=${DEMO_RELAY_PORT:-9090}
    key=demo-key-any-text-works
    "$B/azrelay-emu" --port "$rport" --rule "demo:$key" --echo hc1 &
    emu=$!
    px=""
    trap 'kill $emu $px 2>/dev/null; wait 2>/dev/null' EXIT
    trap 'exit 0' INT TERM
    sleep 0.3
    "$B/azrelay-proxy" NamespaceAddress="ws://127.0.0.1:$rport" HybridConnection=hc1 \
        AccessKeyName=demo AccessKey="$key" LocalHost=127.0.0.1 LocalPort="$lport" &
    px=$!
    sleep 0.3
    say "demo: azrelay-proxy on 127.0.0.1:$lport -> azrelay-emu ws://127.0.0.1:$rport, hybrid connection hc1 (echo)"
    say "try:  bash -c 'exec 3<>/dev/tcp/127.0.0.1/$lport; echo hello >&3; head -n1 <&3'"
    say "  or: exec 3<>/dev/tcp/127.0.0.1/$lport; echo hello >&3; head -c 6 <&3   (bash)"
    say "Ctrl-C stops both"
    wait $px
}

# install: the daemon, the library, its header and pkg-config file, the man pages,
# the systemd unit (ExecStart pointing at BINDIR) and the sample configuration,
# under $DESTDIR$PREFIX. Nothing outside it is touched.
do_install() {
    do_build
    prefix=${PREFIX:-/usr/local}
    case $prefix in /*) ;; *) die "PREFIX=$prefix: an absolute path" ;; esac
    bindir=${BINDIR:-$prefix/bin} libdir=${LIBDIR:-$prefix/lib} includedir=${INCLUDEDIR:-$prefix/include}
    mandir=${MANDIR:-$prefix/share/man} unitdir=${UNITDIR:-$prefix/lib/systemd/system}
    docdir=${DOCDIR:-$prefix/share/doc/azrelay}
    D=${DESTDIR:-}
    say "installing into ${D:+$D (DESTDIR), }$prefix"
    run install -d "$D$bindir" "$D$libdir/pkgconfig" "$D$includedir"
    run install -m 755 "$B/azrelay-proxy" "$D$bindir/azrelay-proxy"
    if [ "${INSTALL_STRIP:-0}" = 1 ]; then run $STRIP "$D$bindir/azrelay-proxy"; fi
    run install -m 644 "$B/libazrelay.a" "$D$libdir/libazrelay.a"
    run install -m 644 "$ROOT/include/azrelay.h" "$D$includedir/azrelay.h"
    # Libs.private names BearSSL as -lbearssl. One outside the compiler's own paths
    # (third_party/out/, BEARSSL_DIR) is installed beside libazrelay.a, so the
    # installed tree links on its own (INSTALL_BEARSSL=0 never, 1 always)
    ib=${INSTALL_BEARSSL:-auto}
    if [ "$ib" = auto ]; then
        ib=0
        [ "$($CC -print-file-name=libbearssl.a)" = "$BR_LIB" ] || ib=1
    fi
    if [ "$ib" = 1 ]; then
        run install -m 644 "$BR_LIB" "$D$libdir/libbearssl.a"
        br_license=$(dirname "$BR_LIB")/../LICENSE.txt
        if [ -f "$br_license" ]; then
            run install -d "$D$docdir"
            run install -m 644 "$br_license" "$D$docdir/LICENSE.bearssl"
        fi
    fi
    {
        printf 'prefix=%s\nexec_prefix=${prefix}\n' "$prefix"
        case $libdir in "$prefix"/*) printf 'libdir=${prefix}%s\n' "${libdir#"$prefix"}" ;; *) printf 'libdir=%s\n' "$libdir" ;; esac
        case $includedir in "$prefix"/*) printf 'includedir=${prefix}%s\n' "${includedir#"$prefix"}" ;; *) printf 'includedir=%s\n' "$includedir" ;; esac
        printf '\nName: azrelay\n'
        printf 'Description: Azure Relay Hybrid Connections sender proxy (C API; static library, BearSSL for TLS)\n'
        printf 'Version: %s\n' "$VERSION"
        printf 'Cflags: -I${includedir}\n'
        printf 'Libs: -L${libdir} -lazrelay\n'
        printf 'Libs.private: -lbearssl\n'
    } >"$B/azrelay.pc"
    run install -m 644 "$B/azrelay.pc" "$D$libdir/pkgconfig/azrelay.pc"
    for m in "$ROOT"/dist/man/*.[1-9]; do
        [ -f "$m" ] || continue
        sec=${m##*.}
        run install -d "$D$mandir/man$sec"
        run install -m 644 "$m" "$D$mandir/man$sec/$(basename "$m")"
    done
    if [ -f "$ROOT/dist/azrelay-proxy.service" ]; then
        run install -d "$D$unitdir"
        sed "s|^ExecStart=/usr/bin/azrelay-proxy|ExecStart=$bindir/azrelay-proxy|" \
            "$ROOT/dist/azrelay-proxy.service" >"$B/azrelay-proxy.service"
        run install -m 644 "$B/azrelay-proxy.service" "$D$unitdir/azrelay-proxy.service"
    fi
    if [ -f "$ROOT/dist/azrelay.conf.example" ]; then
        run install -d "$D$docdir"
        run install -m 644 "$ROOT/dist/azrelay.conf.example" "$D$docdir/azrelay.conf.example"
    fi
    say "installed azrelay $VERSION for $TARGET into $D$prefix"
}

# size: azrelay-proxy stripped (STRIP), with BearSSL's and the C library's part
# measured from the link map (the sections each archive put into the binary).
do_size() {
    do_build
    cp "$B/azrelay-proxy" "$B/azrelay-proxy.stripped"
    run $STRIP "$B/azrelay-proxy.stripped"
    total=$(wc -c <"$B/azrelay-proxy.stripped")
    flags="$WARN_SRC $OPT -ffunction-sections -fdata-sections $CFLAGS"
    $CC $flags "$B/release/main.o" $daemon_objs "$B/libazrelay.a" "$BR_LIB" -Wl,--gc-sections $LDFLAGS \
        -Wl,-Map,"$B/azrelay-proxy.map" -o "$B/azrelay-proxy.mapped" || die "link with -Map failed"
    rm -f "$B/azrelay-proxy.mapped"
    # input sections kept in the output: " .text.name  0xADDR  0xSIZE  FILE" (or the name on its own line)
    awk '
        function hex(h, i, n) {
            n = 0; h = tolower(substr(h, 3))
            for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            return n
        }
        BEGIN { skip = 1 } /^Linker script and memory map/ { skip = 0 }
        skip { next }
        /^ \.(text|rodata|data|tdata)/ {
            if (NF == 1) { getline; $0 = "x " $0 }
            if ($3 ~ /^0x/ && $4 != "") {
                f = $4; sz = hex($3)
                if (f ~ /libazrelay\.a|release\/(main|daemon)/) a += sz
                else if (f ~ /libbearssl\.a/) b += sz
                else o += sz
            }
        }
        END { printf "%d %d %d\n", a, b, o }' "$B/azrelay-proxy.map" >"$B/size.parts" 2>/dev/null || echo "0 0 0" >"$B/size.parts"
    read -r s_az s_br s_libc <"$B/size.parts"
    say "size ($TARGET, PROFILE=$PROFILE, LDFLAGS=$LDFLAGS): $B/azrelay-proxy stripped: $total bytes"
    say "  code and data by origin (link map, before alignment): azrelay $s_az, BearSSL $s_br, C library and runtime $s_libc"
}

case "${1:-build}" in
build | release) do_build ;;
emu) BUILD_EMU=1 do_build ;;
bearssl) CC=$CC AR=$AR sh "$ROOT/third_party/bearssl.sh" ;;
install) do_install ;;
size) do_size ;;
test) do_test ;;
fuzz) shift; do_fuzz "${1:-}" ;;
bench)
    need_native bench
    need_test
    command -v socat >/dev/null 2>&1 || want_pkg socat
    command -v valgrind >/dev/null 2>&1 || want_pkg valgrind # callgrind: instructions per MiB
    install_missing
    do_build
    sh "$ROOT/tests/tls/make-certs.sh" "$B/test-certs" || die "cannot make test certificates"
    bash "$ROOT/tests/bench/run.sh" "$B" || die "bench failed"
    say "figures in $B/bench.txt" ;;
demo) do_demo ;;
man) need_native man; do_man ;;
fmt)
    command -v clang-format >/dev/null 2>&1 || { want_pkg clang-format; install_missing; }
    clang-format -i src/*.c src/*.h src/emu/*.c src/emu/*.h src/daemon/*.c src/daemon/*.h include/*.h tests/*.c tests/*.h fuzz/*.c 2>/dev/null || true
    say "formatted" ;;
clean) rm -rf "$B"; say "removed ${B#"$ROOT"/}/" ;;
-h | --help | help) sed -n '2,/^set -eu$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try ./build.sh help)" ;;
esac

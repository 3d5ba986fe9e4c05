#!/bin/sh
# azrelay build entry point. Plain POSIX sh + a C compiler; no make, no cmake.
#
#   ./build.sh            release build: build/libazrelay.a, build/azrelay-proxy (-O2, static BearSSL)
#   ./build.sh test       ASan+UBSan build, every cmocka suite, symbol and format checks
#   ./build.sh fuzz [S]   libFuzzer targets (clang), each for S or $FUZZ_SECONDS (default 60) seconds
#   ./build.sh bench      throughput, memory per connection and sizes (tests/bench/run.sh)
#   ./build.sh demo       start the proxy against the bundled relay emulator (arrives with the proxy)
#   ./build.sh man        regenerate dist/man/ (azrelay-proxy.8, azrelay.conf.5) from the settings table
#   ./build.sh fmt        apply .clang-format to src/ include/ tests/ fuzz/
#   ./build.sh clean      remove build/
#
# Honours CC, CFLAGS, LDFLAGS, BEARSSL_DIR (a BearSSL source tree: inc/ and build/libbearssl.a,
# or an install prefix: include/ and lib/libbearssl.a), WERROR=0 (integrators only; never CI),
# FUZZ_SECONDS, TEST_JOBS (suites at once; default: one per core), AZR_SOAK_SECONDS (test_soak
# with Azure's 240 s idle cut for that long, at least 480; default: 10 s against a 3 s cut).
# Output goes to build/ only.
set -eu

cd "$(dirname "$0")"
ROOT=$(pwd)
B=$ROOT/build
CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
LDFLAGS=${LDFLAGS:-}
WERROR=${WERROR:-1}
VERSION=$(sed -n 's/^#define AZRELAY_VERSION "\(.*\)"$/\1/p' include/azrelay.h)

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
    else
        die "missing packages; run: sudo apt-get install$MISSING"
    fi
}

bearssl_paths() {
    if [ -n "${BEARSSL_DIR:-}" ]; then
        if [ -d "$BEARSSL_DIR/inc" ]; then BR_INC=$BEARSSL_DIR/inc; else BR_INC=$BEARSSL_DIR/include; fi
        BR_LIB=""
        for f in "$BEARSSL_DIR/build/libbearssl.a" "$BEARSSL_DIR/lib/libbearssl.a" "$BEARSSL_DIR/libbearssl.a"; do
            [ -f "$f" ] && BR_LIB=$f && break
        done
        [ -f "$BR_INC/bearssl.h" ] || die "BEARSSL_DIR=$BEARSSL_DIR has no inc/bearssl.h or include/bearssl.h"
        [ -n "$BR_LIB" ] || die "BEARSSL_DIR=$BEARSSL_DIR has no build/libbearssl.a or lib/libbearssl.a (build BearSSL first)"
    else
        BR_INC=""
        BR_LIB=$($CC -print-file-name=libbearssl.a)
        [ -f "$BR_LIB" ] || BR_LIB=""
    fi
}

need_base() {
    command -v "$CC" >/dev/null 2>&1 || { [ "$CC" = cc ] && want_pkg gcc && want_pkg libc6-dev; }
    command -v ar >/dev/null 2>&1 || want_pkg binutils
    if [ -z "${BEARSSL_DIR:-}" ]; then
        if ! command -v "$CC" >/dev/null 2>&1 || ! have_header "$CC" bearssl.h "" ||
            [ ! -f "$($CC -print-file-name=libbearssl.a)" ]; then
            want_pkg libbearssl-dev
        fi
    fi
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
    # test_local_tls runs the daemon as a CPU without AES instructions
    [ "$(uname -m)" != x86_64 ] || [ -x /usr/bin/qemu-x86_64-static ] || want_pkg qemu-user-static
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
    return 0
}

# compile_lib OUTDIR "FLAGS" [cc]: compiles every library source into OUTDIR/obj
compile_lib() {
    out=$1 flags=$2 cc=${3:-$CC}
    mkdir -p "$out/obj"
    OBJS=""
    par_begin
    for s in $(LIB_SRCS); do
        o=$out/obj/$(basename "$s" .c).o
        if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || newer_headers "$o"; then
            par_run $cc $flags $(inc_flags) -c "$s" -o "$o"
        fi
        OBJS="$OBJS $o"
    done
    par_done
}

newer_headers() { # any header newer than $1 (coarse but correct)
    for h in "$ROOT"/src/*.h "$ROOT"/include/*.h; do
        [ -f "$h" ] && [ "$h" -nt "$1" ] && return 0
    done
    return 1
}

write_compile_commands() {
    {
        printf '[\n'
        first=1
        for s in $(LIB_SRCS) $(DAEMON_SRCS) "$ROOT/src/main.c"; do
            [ $first = 1 ] || printf ',\n'
            first=0
            printf '  {"directory": "%s", "file": "%s", "command": "%s %s %s -O2 -c %s"}' \
                "$ROOT" "$s" "$CC" "$(echo $WARN_SRC)" "$(inc_flags)" "$s"
        done
        printf '\n]\n'
    } >"$B/compile_commands.json"
}

# -------------------------------------------------------------------- targets
do_build() {
    need_base
    install_missing
    bearssl_paths
    [ -n "$BR_LIB" ] || die "libbearssl.a not found (install libbearssl-dev or set BEARSSL_DIR)"
    say "release build with $CC (BearSSL: ${BR_LIB})"
    mkdir -p "$B"
    flags="$WARN_SRC -O2 -ffunction-sections -fdata-sections $CFLAGS"
    compile_lib "$B/release" "$flags"
    rm -f "$B/libazrelay.a"
    run ar rcs "$B/libazrelay.a" $OBJS
    mkdir -p "$B/release/emu"
    par_begin
    par_run $CC $flags $(inc_flags) -c "$ROOT/src/main.c" -o "$B/release/main.o"
    mkdir -p "$B/release/daemon"
    daemon_objs=""
    for s in $(DAEMON_SRCS); do
        o=$B/release/daemon/$(basename "$s" .c).o
        par_run $CC $flags $(inc_flags) -c "$s" -o "$o"
        daemon_objs="$daemon_objs $o"
    done
    emu_objs=""
    for s in $(EMU_SRCS); do
        o=$B/release/emu/$(basename "$s" .c).o
        par_run $CC $flags $(inc_flags) -c "$s" -o "$o"
        emu_objs="$emu_objs $o"
    done
    par_done
    par_begin
    par_run $CC $flags "$B/release/main.o" $daemon_objs "$B/libazrelay.a" "$BR_LIB" -Wl,--gc-sections $LDFLAGS -o "$B/azrelay-proxy"
    par_run $CC $flags $emu_objs "$B/libazrelay.a" "$BR_LIB" -Wl,--gc-sections $LDFLAGS -o "$B/azrelay-emu"
    par_done
    write_compile_commands
    say "built $B/libazrelay.a, $B/azrelay-proxy and $B/azrelay-emu"
}

check_symbols() {
    bad=$(nm -g --defined-only "$B/libazrelay.a" 2>/dev/null | awk 'NF==3 {print $3}' | grep -v '^azr_' || true)
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
    if [ "$(uname -m)" = x86_64 ] && printf '#include <limits.h>\n#include <stdio.h>\nint x;\n' | $CC -m32 -x c -c - -o /dev/null >/dev/null 2>&1; then
        say "32-bit check: every source with -m32 (32-bit size_t, as on ARM firmware)"
        par_begin
        for f in "$ROOT"/src/*.c "$ROOT"/src/emu/*.c $(DAEMON_SRCS); do
            par_run $CC -m32 $WARN_SRC -O2 $(inc_flags) -fsyntax-only "$f"
        done
        par_done
    fi
    san="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
    say "sanitizer build (ASan+UBSan)"
    compile_lib "$B/test" "$WARN_SRC $san $CFLAGS"
    say "sanitizer build of the relay emulator (the integration suites run this one)"
    mkdir -p "$B/test/emu"
    emu_objs=""
    par_begin
    for s in $(EMU_SRCS); do
        o=$B/test/emu/$(basename "$s" .c).o
        par_run $CC $WARN_SRC $san $CFLAGS $(inc_flags) -c "$s" -o "$o"
        emu_objs="$emu_objs $o"
    done
    par_done
    run $CC $san $emu_objs $OBJS ${BR_LIB:-} $LDFLAGS -o "$B/test/azrelay-emu"
    say "sanitizer build of the daemon's modules (src/daemon/, for the suites that include them)"
    mkdir -p "$B/test/daemon"
    daemon_objs=""
    par_begin
    for s in $(DAEMON_SRCS); do
        o=$B/test/daemon/$(basename "$s" .c).o
        par_run $CC $WARN_SRC $san $CFLAGS $(inc_flags) -c "$s" -o "$o"
        daemon_objs="$daemon_objs $o"
    done
    par_done
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

case "${1:-build}" in
build | release) do_build ;;
test) do_test ;;
fuzz) shift; do_fuzz "${1:-}" ;;
bench)
    need_test
    command -v socat >/dev/null 2>&1 || { want_pkg socat; install_missing; }
    do_build
    sh "$ROOT/tests/tls/make-certs.sh" "$B/test-certs" || die "cannot make test certificates"
    bash "$ROOT/tests/bench/run.sh" "$B" || die "bench failed"
    say "figures in $B/bench.txt" ;;
demo) do_demo ;;
man) do_man ;;
fmt)
    command -v clang-format >/dev/null 2>&1 || { want_pkg clang-format; install_missing; }
    clang-format -i src/*.c src/*.h src/emu/*.c src/emu/*.h src/daemon/*.c src/daemon/*.h include/*.h tests/*.c tests/*.h fuzz/*.c 2>/dev/null || true
    say "formatted" ;;
clean) rm -rf "$B"; say "removed build/" ;;
-h | --help | help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try ./build.sh help)" ;;
esac

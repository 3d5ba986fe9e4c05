#!/bin/sh
# dist/azrelay-proxy.service checked by systemd itself: `systemd-analyze verify`
# on a copy whose ExecStart names the built binary (verify refuses a command
# that is not there). systemd-analyze exits 0 after an unknown key or a value it
# cannot parse (it only warns), so any word it says is a failure. Then the
# check checks itself: broken copies of the unit must each fail it. Last, the
# lines the unit promises (README, "Running on a gateway"), and `systemd-analyze
# security` printed (measured, not asserted).
#
#   sh tests/systemd/verify-unit.sh [BINARY]     (default build/azrelay-proxy; from .ci/run)
#
# Needs systemd-analyze (Debian: package systemd; installed here when run as
# root with apt-get). It works without systemd running as PID 1.
set -eu
cd "$(dirname "$0")/../.."
unit=dist/azrelay-proxy.service
name=$(basename "$unit")
fail() { printf 'verify-unit: %s\n' "$*" >&2; exit 1; }

bin=${1:-build/azrelay-proxy}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
[ -x "$bin" ] || fail "$bin is not an executable file (run ./build.sh first)"
case $bin in *'#'* | *' '*) fail "the binary's path may hold neither '#' nor spaces: $bin" ;; esac
if ! command -v systemd-analyze >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "verify-unit: installing systemd (for systemd-analyze) with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends systemd >/dev/null ||
            fail "apt-get install systemd failed"
    else
        fail "systemd-analyze is missing; run: sudo apt-get install systemd"
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azr-verify-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# verify FILE: silent and 0, or what systemd-analyze said and 1
verify() {
    if out=$(systemd-analyze verify --man=no "$1" 2>&1) && [ -z "$out" ]; then
        return 0
    fi
    printf '%s\n' "${out:-(exit status not 0, nothing said)}"
    return 1
}

mkdir -p "$tmp/ok"
sed "s#^ExecStart=/usr/bin/azrelay-proxy #ExecStart=$bin #" "$unit" >"$tmp/ok/$name"
grep -q "^ExecStart=$bin -c /etc/azrelay/azrelay.conf" "$tmp/ok/$name" ||
    fail "$unit: ExecStart= does not run /usr/bin/azrelay-proxy -c /etc/azrelay/azrelay.conf"
echo "verify-unit: systemd-analyze verify $unit (ExecStart=$bin ...)"
verify "$tmp/ok/$name" || fail "systemd-analyze verify found the problems above in $unit"

# Each of these breaks the unit; the check must say so.
n=0
for mutation in \
    's/^Type=notify$/Type=notifyy/' \
    's/^\[Service\]$/[Servic]/' \
    's/^NoNewPrivileges=yes$/NoNewPrivileges=maybe/' \
    's/^WatchdogSec=.*/WatchdogSec=thirty/' \
    's/^RestrictAddressFamilies=.*/RestrictAddressFamilies=AF_UNIX AF_INETT/' \
    's/^SystemCallFilter=.*/SystemCallFilter=@system-servic/' \
    's/^Restart=on-failure$/Restart=on-failure\nRestartt=always/' \
    "s#^ExecStart=$bin #ExecStart=$tmp/missing/azrelay-proxy #"; do
    n=$((n + 1))
    mkdir -p "$tmp/bad$n"
    sed "$mutation" "$tmp/ok/$name" >"$tmp/bad$n/$name"
    cmp -s "$tmp/ok/$name" "$tmp/bad$n/$name" && fail "self-test: '$mutation' changed nothing in $unit"
    if verify "$tmp/bad$n/$name" >"$tmp/bad$n/said" 2>&1; then
        fail "self-test: the unit broken by '$mutation' passed systemd-analyze verify"
    fi
done
echo "verify-unit: self-test: $n broken copies of the unit each failed the check"

# What the unit promises.
for line in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
    'WatchdogSec=30s' 'DynamicUser=yes' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=' \
    'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'LoadCredential=relay-key:/etc/azrelay/relay-key'; do
    grep -qxF "$line" "$unit" || fail "$unit lacks the line: $line"
done
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
[ -n "$stop" ] && [ "$stop" -gt 30 ] ||
    fail "$unit: TimeoutStopSec= must be seconds above DrainTimeout's default 30"
echo "verify-unit: $unit has the promised lines (Type=notify, hardening, TimeoutStopSec=${stop}s > DrainTimeout 30)"
systemd-analyze security --offline=yes "$tmp/ok/$name" 2>/dev/null | sed -n 's/^→ /verify-unit: systemd-analyze security: /p' || true
echo "verify-unit: OK"

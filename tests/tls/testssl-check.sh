#!/bin/bash
# testssl.sh (Debian's testssl.sh package) against azrelay-proxy's local TLS
# port (SSLEnabled, certificate web.pem from make-certs.sh, the test CA
# added as trusted), in front of the relay emulator. Prints the count of
# findings by severity; any HIGH or CRITICAL finding fails.
# Usage: testssl-check.sh BUILD_DIR   (TESTSSL_PORT moves the ports)
set -euo pipefail
B=$1
P=${TESTSSL_PORT:-7500}
if ! command -v testssl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "testssl-check: installing testssl.sh with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null
    else
        echo "testssl-check: testssl is missing; run: apt-get install testssl.sh" >&2
        exit 1
    fi
fi
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "testssl-check: nothing listens on port $1" >&2
    exit 1
}
"$B/azrelay-emu" --quiet --port $((P + 1)) --rule ts:testssl-key --echo hc1 >/dev/null 2>&1 &
pids+=($!)
wait_port $((P + 1))
"$B/azrelay-proxy" NamespaceAddress=ws://127.0.0.1:$((P + 1)) HybridConnection=hc1 AccessKeyName=ts \
    AccessKey=testssl-key LocalHost=127.0.0.1 LocalPort=$((P + 2)) ConnectionBacklog=128 LogLevel=0 \
    SSLEnabled=True SSLCertStore="$B/test-certs/web.pem" >/dev/null 2>&1 &
pids+=($!)
wait_port $((P + 2))
rm -f "$B/testssl.json"
echo "testssl-check: testssl $(testssl --version 2>/dev/null | grep -o 'testssl *[0-9.]*' | head -1 | awk '{print $2}') against localhost:$((P + 2)) (takes a few minutes)"
testssl --quiet --color 0 --warnings off --add-ca "$B/test-certs/ca.pem" --ip 127.0.0.1 \
    --jsonfile "$B/testssl.json" "localhost:$((P + 2))" >"$B/testssl.txt" 2>&1 || true
[ -s "$B/testssl.json" ] || { echo "testssl-check: no JSON output" >&2; tail -20 "$B/testssl.txt"; exit 1; }
echo "testssl-check: findings by severity:"
grep -o '"severity" *: *"[A-Z]*"' "$B/testssl.json" | sed 's/.*"\([A-Z]*\)"$/\1/' | sort | uniq -c
# each finding is one JSON object: id, ip, port, severity, finding on their own lines
bad=$(awk '/"id"/ {id=$0} /"severity" *: *"(HIGH|CRITICAL)"/ {sev=$0; getline f; print id " " sev " " f}' \
    "$B/testssl.json" | sed 's/  */ /g')
if [ -n "$bad" ]; then
    echo "testssl-check: HIGH or CRITICAL findings:"
    echo "$bad"
    exit 1
fi
echo "testssl-check: no HIGH or CRITICAL finding"

#!/bin/bash
# ./build.sh bench: measured figures, never asserted. Every path echoes the
# same random bytes through a real process chain on 127.0.0.1, in one run:
#   azrelay      client -> azrelay-proxy -> azrelay-emu (ws://, echo listener)
#   azrelay-tls  the same over wss:// (BearSSL on both ends)
#   node         client -> tests/node/node-proxy.js (Node's ws) -> azrelay-emu
#   socat        client -> socat TCP forwarder -> socat echo (plain TCP, no
#                WebSocket, 32 KiB buffers: what a byte pipe costs at best;
#                64 KiB makes socat's PIPE echo deadlock)
#   reuse        client -> azrelay-proxy -> azrelay-emu over wss://, one byte per
#                new connection, with and without ReuseSSLSession: the time a
#                relay TLS session resumption saves per connection
# Then resident memory per connection (100 idle connections; with TLS on both
# sides also 1 connection, held by Node's tls), and sizes.
# Usage: run.sh BUILD_DIR   (BENCH_MIB, BENCH_RUNS, BENCH_PORT move things)
set -euo pipefail
B=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIB=${BENCH_MIB:-64}
RUNS=${BENCH_RUNS:-3}
P=${BENCH_PORT:-7300}
KEY=bench-key-of-any-text
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench: nothing listens on port $1" >&2
    exit 1
}
start() { # port command...
    local port=$1
    shift
    "$@" >/dev/null 2>&1 &
    pids+=($!)
    wait_port "$port"
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

cc -O2 -o "$B/bench" "$ROOT/tests/bench/bench.c"
start $((P + 1)) "$B/azrelay-emu" --quiet --port $((P + 1)) --rule bench:$KEY --echo hc1
start $((P + 2)) "$B/azrelay-emu" --quiet --port $((P + 2)) --host localhost --rule bench:$KEY --echo hc1 \
    --cert "$B/test-certs/server.pem" --key "$B/test-certs/server.key"
common=(HybridConnection=hc1 AccessKeyName=bench AccessKey=$KEY LocalHost=127.0.0.1 ConnectionBacklog=256 LogLevel=0)
start $((P + 11)) "$B/azrelay-proxy" NamespaceAddress=ws://127.0.0.1:$((P + 1)) LocalPort=$((P + 11)) "${common[@]}"
proxy_pid=${pids[-1]}
start $((P + 12)) "$B/azrelay-proxy" NamespaceAddress=wss://localhost:$((P + 2)) LocalPort=$((P + 12)) \
    SSLCACertFilePaths= SSLServerCACerts="$B/test-certs/ca.pem" "${common[@]}"
tls_pid=${pids[-1]}
start $((P + 14)) "$B/azrelay-proxy" NamespaceAddress=wss://localhost:$((P + 2)) LocalPort=$((P + 14)) \
    SSLCACertFilePaths= SSLServerCACerts="$B/test-certs/ca.pem" ReuseSSLSession=True "${common[@]}"
start $((P + 15)) "$B/azrelay-proxy" NamespaceAddress=wss://localhost:$((P + 2)) LocalPort=$((P + 15)) \
    SSLCACertFilePaths= SSLServerCACerts="$B/test-certs/ca.pem" SSLEnabled=True \
    SSLCertStore="$B/test-certs/both.pem" "${common[@]}"
both_pid=${pids[-1]}
start $((P + 13)) node "$ROOT/tests/node/node-proxy.js" --port $((P + 13)) --relay ws://127.0.0.1:$((P + 1)) \
    --hc hc1 --key-name bench --key $KEY
node_pid=${pids[-1]}
start $((P + 21)) socat -b 32768 TCP-LISTEN:$((P + 21)),reuseaddr,fork PIPE
start $((P + 22)) socat -b 32768 TCP-LISTEN:$((P + 22)),reuseaddr,fork TCP:127.0.0.1:$((P + 21))

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { # port -> median MiB/s of RUNS runs
    for _ in $(seq "$RUNS"); do
        "$B/bench" echo "$1" "$MIB" | awk '{print $2}' || echo "bench: a run on port $1 failed" >&2
    done | median
}
echo "bench: $MIB MiB echoed per run, median of $RUNS runs, $(nproc) cores"
r_az=$(rate $((P + 11)))
r_tls=$(rate $((P + 12)))
r_node=$(rate $((P + 13)))
r_socat=$(rate $((P + 22)))

per_conn() { # port -> mean ms per connection (200 connections, median of RUNS)
    for _ in $(seq "$RUNS"); do "$B/bench" conns "$1" 200 | awk '{print $2}'; done | median
}
c_full=$(per_conn $((P + 12)))
c_reuse=$(per_conn $((P + 14)))

held_tls() { # port pid n -> RSS growth for n TLS connections (both sides TLS)
    local before after
    before=$(rss_kib "$2")
    coproc THOLD { node "$ROOT/tests/bench/tls-hold.js" "$1" "$3" "$B/test-certs/ca.pem"; }
    read -r line <&"${THOLD[0]}"
    after=$(rss_kib "$2")
    exec {THOLD[1]}>&-
    wait "$THOLD_PID" 2>/dev/null || true
    echo "$before $after $3" | awk '{printf "%d KiB before, %d KiB with %d, %.1f KiB per connection", $1, $2, $3, ($2 - $1) / $3}'
}
m_both1=$(held_tls $((P + 15)) "$both_pid" 1)
m_both100=$(held_tls $((P + 15)) "$both_pid" 100)

held() { # port pid -> KiB per connection for 100 idle connections
    local before after
    before=$(rss_kib "$2")
    coproc HOLD { "$B/bench" hold "$1" 100; }
    read -r line <&"${HOLD[0]}"
    after=$(rss_kib "$2")
    exec {HOLD[1]}>&-
    wait "$HOLD_PID" 2>/dev/null || true
    echo "$before $after" | awk '{printf "%d KiB idle, %d KiB with 100 connections, %.1f KiB per connection", $1, $2, ($2 - $1) / 100}'
}
m_az=$(held $((P + 11)) "$proxy_pid")
m_tls=$(held $((P + 12)) "$tls_pid")
m_node=$(held $((P + 13)) "$node_pid")

strip -o "$B/azrelay-proxy.stripped" "$B/azrelay-proxy"
size_proxy=$(stat -c %s "$B/azrelay-proxy.stripped")
size_lib=$(stat -c %s "$B/libazrelay.a")
{
    echo "throughput, MiB/s (echo: the bytes cross each hop twice)"
    printf '  %-12s %8s   %s\n' azrelay "$r_az" "$(awk -v a="$r_az" -v b="$r_node" 'BEGIN {printf "%.2fx node", a / b}')"
    printf '  %-12s %8s\n' azrelay-tls "$r_tls"
    printf '  %-12s %8s\n' node "$r_node"
    printf '  %-12s %8s   %s\n' socat "$r_socat" "$(awk -v a="$r_az" -v b="$r_socat" 'BEGIN {printf "azrelay at %.0f%% of it", 100 * a / b}')"
    echo "new connection to echoed byte through wss://, ms (200 in a row, median of $RUNS)"
    printf '  %-26s %8s\n' "full relay TLS handshake" "$c_full"
    printf '  %-26s %8s   %s\n' "ReuseSSLSession=True" "$c_reuse" "$(awk -v a="$c_full" -v b="$c_reuse" 'BEGIN {printf "%.2f ms saved per connection", a - b}')"
    echo "resident memory of the proxy process"
    echo "  azrelay      $m_az"
    echo "  azrelay-tls  $m_tls"
    echo "  node         $m_node"
    echo "  TLS on both sides (local TLS, EC key; wss:// relay)"
    echo "    1 connection:    $m_both1"
    echo "    100 connections: $m_both100"
    echo "sizes"
    echo "  azrelay-proxy, stripped  $size_proxy bytes"
    echo "  libazrelay.a             $size_lib bytes"
} | tee "$B/bench.txt"

#!/bin/bash
# ./build.sh bench: measured figures, never asserted. Every path echoes the
# same random bytes through a real process chain on 127.0.0.1, in one run:
#   azrelay      client -> azrelay-proxy -> azrelay-emu (ws://, echo listener)
#   azrelay-tls  the same over wss:// (BearSSL on both ends)
#   node         client -> tests/node/node-proxy.js (Node's ws) -> azrelay-emu
#   socat        client -> socat TCP forwarder -> socat echo (plain TCP, no
#                WebSocket, 32 KiB buffers: what a byte pipe costs at best;
#                64 KiB makes socat's PIPE echo deadlock)
# Then resident memory per connection (100 idle connections), and sizes.
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
    echo "resident memory of the proxy process"
    echo "  azrelay      $m_az"
    echo "  azrelay-tls  $m_tls"
    echo "  node         $m_node"
    echo "sizes"
    echo "  azrelay-proxy, stripped  $size_proxy bytes"
    echo "  libazrelay.a             $size_lib bytes"
} | tee "$B/bench.txt"

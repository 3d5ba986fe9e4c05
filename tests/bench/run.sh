#!/bin/bash
# ./build.sh bench: measured figures, never asserted, all from one run on
# 127.0.0.1 (tests/bench/bench.c is the client, the sink counter and the tap).
#
# CPU per GiB: BENCH_UP_MIB MiB uploaded by one client into a sink through
#   each forwarder; the forwarding process's user+sys (/proc/PID/stat fields
#   14-17, reaped children included: socat forks one per connection) over the
#   GiB moved, and the wall-clock MiB/s. BENCH_RUNS rounds, each through every
#   forwarder in turn; the ratios are each round's own, their median printed
#   with the range (a VM's noise moves whole rounds, not one forwarder):
#   floor        socat -b 65536 TCP -> TCP into a socat sink (a byte pipe)
#   socat-tls    socat -b 65536 TCP -> OPENSSL into a socat TLS sink
#   node         tests/node/node-proxy.js (Node's ws) -> azrelay-emu --sink
#   node hyco-ws the same on Microsoft's hyco-ws SDK (--hyco; its ws 1.1)
#   azrelay      azrelay-proxy -> azrelay-emu --sink, ws:// and wss://
# Echo throughput: BENCH_MIB MiB echoed (client -> proxy -> azrelay-emu --echo
#   and back) through azrelay ws://, wss://, node, socat (a forwarder in
#   front of socat EXEC:cat: socat's PIPE echo deadlocks now and then).
# Frames and records towards the relay: `bench tap` between a proxy and the
#   emulator (and between socat and its TLS sink) counts WebSocket frames
#   (ws://) and TLS records (wss://) per direction, and the cipher suite.
# Connection setup: new TCP connection to the first echoed byte through
#   azrelay wss:// (full handshake; ReuseSSLSession=True), against Microsoft's
#   hyco-ws as a direct sender to the same emulator (tests/bench/hyco-conns.js;
#   without and with Node's TLS session cache).
# Memory: RSS growth of the proxy per connection: 100 idle (ws://, wss://,
#   node; TLS on both sides with 1 and 100), and wss:// at BENCH_CONNS
#   (default "1000 10000") connections that each echoed 64 KiB, plus 1000
#   idle ones (one byte). 10,000 wss:// connections need more than 4096
#   descriptors in the emulator (its loop's fixed table), so these runs
#   use three emulators and one proxy with three forwards; the proxy needs
#   2 descriptors per connection, so the count is capped by RLIMIT_NOFILE
#   (the hard limit is raised when the process may; the table says so).
# Instructions per MiB: valgrind --tool=callgrind on azrelay-proxy ws://,
#   BENCH_CG_MIB MiB uploaded minus a 1 MiB run (startup removed).
#
# Usage: run.sh BUILD_DIR. Variables: BENCH_MIB (echo, 64), BENCH_UP_MIB
# (upload, 256), BENCH_RUNS (3), BENCH_CONNS ("1000 10000"), BENCH_SETUP_N
# (connections for setup times, 200), BENCH_TAP_MIB (32), BENCH_CG_MIB (16),
# BENCH_PORT (7300: ports from there to +99), BENCH_KEEP=1 (keep the scratch
# directory: tap reports, callgrind files).
set -euo pipefail
B=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIB=${BENCH_MIB:-64}
UP_MIB=${BENCH_UP_MIB:-256}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNS:-1000 10000}
SETUP_N=${BENCH_SETUP_N:-200}
TAP_MIB=${BENCH_TAP_MIB:-32}
CG_MIB=${BENCH_CG_MIB:-16}
P=${BENCH_PORT:-7300}
KEY=bench-key-of-any-text
CERTS=$B/test-certs
T=$(mktemp -d /tmp/bench-run.XXXXXX)
pids=()
cleanup() {
    # a forking socat's children outlive it (one stuck in an echo would stay)
    for p in "${pids[@]}"; do
        for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# descriptors: as many as this process may have (root with CAP_SYS_RESOURCE
# may raise the hard limit; a container may drop that capability)
NOFILE_NOTE=""
if ulimit -Hn 65536 2>/dev/null; then ulimit -Sn 65536; else
    ulimit -Sn "$(ulimit -Hn)"
    NOFILE_NOTE="hard RLIMIT_NOFILE $(ulimit -Hn), cannot be raised here (no CAP_SYS_RESOURCE)"
fi

wait_port() { # port [seconds]
    local tries=$((${2:-5} * 20))
    for _ in $(seq "$tries"); do
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
stop() { # pid: one of ours, by its id
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a"}'; }

cc -O2 -Wall -o "$B/bench" "$ROOT/tests/bench/bench.c"

EMU=("$B/azrelay-emu" --quiet --rule bench:$KEY --echo hc1 --sink hc2)
TLSEMU=(--host localhost --cert "$CERTS/server.pem" --key "$CERTS/server.key")
start $((P + 1)) "${EMU[@]}" --port $((P + 1))
start $((P + 2)) "${EMU[@]}" --port $((P + 2)) "${TLSEMU[@]}"
common=(AccessKeyName=bench AccessKey=$KEY LocalHost=127.0.0.1 ConnectionBacklog=1024 LogLevel=0)
WS=(NamespaceAddress=ws://127.0.0.1:$((P + 1)))
WSS=(NamespaceAddress=wss://localhost:$((P + 2)) SSLCACertFilePaths= SSLServerCACerts="$CERTS/ca.pem")
proxy() { # port settings...: an azrelay-proxy, its pid in $last
    local port=$1
    shift
    start "$port" "$B/azrelay-proxy" LocalPort="$port" "${common[@]}" "$@"
    last=${pids[-1]}
}
proxy $((P + 11)) "${WS[@]}" HybridConnection=hc1
proxy_pid=$last
proxy $((P + 12)) "${WSS[@]}" HybridConnection=hc1
tls_pid=$last
proxy $((P + 14)) "${WSS[@]}" HybridConnection=hc1 ReuseSSLSession=True
proxy $((P + 15)) "${WSS[@]}" HybridConnection=hc1 SSLEnabled=True SSLCertStore="$CERTS/both.pem"
both_pid=$last
start $((P + 13)) node "$ROOT/tests/node/node-proxy.js" --port $((P + 13)) --relay ws://127.0.0.1:$((P + 1)) \
    --hc hc1 --key-name bench --key $KEY
node_pid=${pids[-1]}
start $((P + 21)) socat -b 65536 TCP-LISTEN:$((P + 21)),reuseaddr,fork EXEC:cat
start $((P + 22)) socat -b 65536 TCP-LISTEN:$((P + 22)),reuseaddr,fork TCP:127.0.0.1:$((P + 21))

# --------------------------------------------------------- CPU per GiB
# sinks, then the forwarders under measurement
start $((P + 41)) socat -u -b 65536 TCP-LISTEN:$((P + 41)),reuseaddr,fork OPEN:/dev/null
start $((P + 43)) socat -u -b 65536 OPENSSL-LISTEN:$((P + 43)),reuseaddr,fork,cert="$CERTS/server.pem",key="$CERTS/server.key",verify=0 OPEN:/dev/null
start $((P + 42)) socat -b 65536 TCP-LISTEN:$((P + 42)),reuseaddr,fork TCP:127.0.0.1:$((P + 41))
up_floor=(${pids[-1]} $((P + 42)))
start $((P + 44)) socat -b 65536 TCP-LISTEN:$((P + 44)),reuseaddr,fork OPENSSL:127.0.0.1:$((P + 43)),verify=0
up_stls=(${pids[-1]} $((P + 44)))
start $((P + 33)) node "$ROOT/tests/node/node-proxy.js" --port $((P + 33)) --relay ws://127.0.0.1:$((P + 1)) \
    --hc hc2 --key-name bench --key $KEY
up_node=(${pids[-1]} $((P + 33)))
start $((P + 34)) node "$ROOT/tests/node/node-proxy.js" --port $((P + 34)) --relay ws://127.0.0.1:$((P + 1)) \
    --hc hc2 --key-name bench --key $KEY --hyco
up_hyco=(${pids[-1]} $((P + 34)))
proxy $((P + 31)) "${WS[@]}" HybridConnection=hc2
up_ws=($last $((P + 31)))
proxy $((P + 32)) "${WSS[@]}" HybridConnection=hc2
up_wss=($last $((P + 32)))

# RUNS rounds, each uploading through every path in turn, so a slow spell
# of the machine (a VM's neighbours) weighs on all paths alike; the ratios
# are taken within each round, and their median printed
UP_PATHS=(floor stls node hyco ws wss)
declare -A up_at=([floor]="${up_floor[*]}" [stls]="${up_stls[*]}" [node]="${up_node[*]}"
    [hyco]="${up_hyco[*]}" [ws]="${up_ws[*]}" [wss]="${up_wss[*]}")
echo "bench: CPU per GiB: $UP_MIB MiB uploads, $RUNS rounds through the ${#UP_PATHS[@]} paths"
for _ in $(seq "$RUNS"); do
    for k in "${UP_PATHS[@]}"; do
        read -r pid port <<<"${up_at[$k]}"
        "$B/bench" upload "$port" "$UP_MIB" "$pid" >>"$T/up.$k" ||
            echo "bench: an upload through port $port ($k) failed" >&2
    done
done
up_med() { awk -v c="$2" '{print $c}' "$T/up.$1" | median; } # path column
# per-round ratio a/b: median, and the range over the rounds
up_ratio() {
    paste -d ' ' "$T/up.$1" "$T/up.$2" | awk '{h = NF / 2; if ($(h + 4) > 0) printf "%.2f\n", $4 / $(h + 4)}' >"$T/ratio"
    [ -s "$T/ratio" ] || { echo "n/a"; return; }
    echo "$(median <"$T/ratio") (rounds $(sort -n "$T/ratio" | head -1)-$(sort -n "$T/ratio" | tail -1))"
}
for k in "${UP_PATHS[@]}"; do
    printf -v "cpu_$k" '%s' "$(up_med "$k" 4)"
    printf -v "mbs_$k" '%s' "$(up_med "$k" 2)"
done

# ----------------------------------------------------- echo throughput
rate() { # port -> median MiB/s of RUNS runs
    for _ in $(seq "$RUNS"); do
        "$B/bench" echo "$1" "$MIB" | awk '{print $2}' || echo "bench: a run on port $1 failed" >&2
    done | median
}
echo "bench: echo: $MIB MiB per run, median of $RUNS"
r_az=$(rate $((P + 11)))
r_tls=$(rate $((P + 12)))
r_node=$(rate $((P + 13)))
r_socat=$(rate $((P + 22)))

# ---------------------------------------------- frames and TLS records
echo "bench: frames and records through bench tap ($TAP_MIB MiB)"
tapped() { # mode tap_port upstream_port run... : the tap's report in $T/tap.PORT
    local mode=$1 tport=$2 uport=$3
    shift 3
    "$B/bench" tap "$mode" "$tport" "$uport" >"$T/tap.$tport" 2>&1 &
    local tap=$!
    pids+=($tap)
    wait_port "$tport"
    "$@" >/dev/null || echo "bench: a run through the tap on $tport failed" >&2
    kill -TERM "$tap" 2>/dev/null || echo "bench: the tap on $tport ended early" >&2
    wait "$tap" || true
}
tap_proxy() { # port ns-settings...: an echo through a proxy started for it
    local port=$1 rc=0
    shift
    proxy "$port" "$@" HybridConnection=hc1
    "$B/bench" echo "$port" "$TAP_MIB" || rc=$?
    stop "$last"
    return $rc
}
tapped ws $((P + 51)) $((P + 1)) tap_proxy $((P + 53)) NamespaceAddress=ws://127.0.0.1:$((P + 51))
tap_ws=$(<"$T/tap.$((P + 51))")
tapped tls $((P + 52)) $((P + 2)) tap_proxy $((P + 54)) NamespaceAddress=wss://localhost:$((P + 52)) \
    SSLCACertFilePaths= SSLServerCACerts="$CERTS/ca.pem"
tap_wss=$(<"$T/tap.$((P + 52))")
start $((P + 45)) socat -b 65536 TCP-LISTEN:$((P + 45)),reuseaddr,fork OPENSSL:127.0.0.1:$((P + 46)),verify=0
tapped tls $((P + 46)) $((P + 43)) "$B/bench" upload $((P + 45)) "$TAP_MIB" "${pids[-1]}"
tap_socat=$(<"$T/tap.$((P + 46))")
tapline() { # report direction -> "N frames (N data, avg N B payload), N other"
    sed 's/[(),]//g' <<<"$1" | awk -v d="$2" '$1 == d {printf "%s %s (%s %s, avg %s B payload), %s other", $4, $5, $6, $7, $9, $12}'
}

# ---------------------------------------------------- connection setup
echo "bench: connection setup, $SETUP_N connections in a row, median of $RUNS"
per_conn() { # port -> mean ms per connection
    for _ in $(seq "$RUNS"); do "$B/bench" conns "$1" "$SETUP_N" | awk '{print $2}'; done | median
}
c_full=$(per_conn $((P + 12)))
c_reuse=$(per_conn $((P + 14)))
c_local=$(for _ in $(seq "$RUNS"); do
    node "$ROOT/tests/bench/tls-conns.js" $((P + 15)) "$SETUP_N" "$CERTS/ca.pem" | awk '{print $2}'
done | median)
hyco() { # [fresh] -> "ms resumed"
    for _ in $(seq "$RUNS"); do
        NODE_EXTRA_CA_CERTS="$CERTS/ca.pem" node "$ROOT/tests/bench/hyco-conns.js" \
            "wss://localhost:$((P + 2))" hc1 bench "$KEY" "$SETUP_N" "$@" | awk '{print $2, $3}'
    done | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'
}
read -r h_fresh h_fresh_res <<<"$(hyco fresh)"
read -r h_cache h_cache_res <<<"$(hyco)"

# -------------------------------------------------------------- memory
held_tls() { # port pid n -> RSS growth for n TLS connections (both sides TLS)
    local before after
    before=$(rss_kib "$2")
    coproc THOLD { node "$ROOT/tests/bench/tls-hold.js" "$1" "$3" "$CERTS/ca.pem"; }
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

# wss:// at scale: three emulators (each holds at most ~4090 connections), one
# proxy with three forwards, a fresh proxy for each figure
for i in 1 2 3; do start $((P + 60 + i)) "${EMU[@]}" --port $((P + 60 + i)) "${TLSEMU[@]}"; done
{
    printf '%s\n' HybridConnection=hc1 AccessKeyName=bench AccessKey=$KEY LocalHost=127.0.0.1 \
        ConnectionBacklog=1024 LogLevel=0 SSLCACertFilePaths= SSLServerCACerts="$CERTS/ca.pem"
    for i in 1 2 3; do
        printf '[forward f%d]\nNamespaceAddress=wss://localhost:%d\nLocalPort=%d\n' "$i" $((P + 60 + i)) $((P + 70 + i))
    done
} >"$T/scale.conf"
chmod 600 "$T/scale.conf"
scale_ports=$((P + 71)),$((P + 72)),$((P + 73))
scale() { # n kib -> scale_out="n KiB/conn seconds before after [note]"
    local n=$1 kib=$2 note=""
    "$B/azrelay-proxy" -c "$T/scale.conf" >/dev/null 2>"$T/scale.log" &
    local px=$!
    pids+=($px)
    wait_port $((P + 73))
    sleep 0.3
    local fds hard max before after line
    fds=$(ls "/proc/$px/fd" | wc -l)
    hard=$(awk '/^Max open files/ {print $5}' "/proc/$px/limits")
    max=$(((hard - fds - 32) / 2))
    if [ "$n" -gt "$max" ]; then
        note="(asked $n: 2 descriptors each need more than the proxy's hard RLIMIT_NOFILE $hard)"
        n=$max
    fi
    before=$(rss_kib "$px")
    coproc SHOLD { "$B/bench" hold "$scale_ports" "$n" "$kib" 2>&1; }
    read -r line <&"${SHOLD[0]}" || line="failed"
    after=$(rss_kib "$px")
    exec {SHOLD[1]}>&-
    wait "$SHOLD_PID" 2>/dev/null || true
    stop "$px"
    case $line in
    HELD*) scale_out="$n $(awk -v a="$before" -v b="$after" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / n}') \
$(awk '{print $3}' <<<"$line") $before $after $note" ;;
    *) scale_out="$n n/a n/a 0 0 (failed: $line)" ;;
    esac
}
echo "bench: wss:// connections held at once: $CONNS (64 KiB each) and 1000 idle"
scale_rows=()
for n in $CONNS; do
    scale "$n" 64
    scale_rows+=("$scale_out")
done
scale 1000 0
scale_idle=$scale_out

# ---------------------------------------------------------- callgrind
cg_note="" cg_per_mib="" cg_top=""
if ! command -v valgrind >/dev/null 2>&1; then
    cg_note="valgrind not installed (apt-get install valgrind)"
else
    echo "bench: callgrind, $CG_MIB MiB and 1 MiB uploads through azrelay ws://"
    cg_run() { # mib -> cg_ir: instructions (Ir) of the whole proxy process
        cg_ir=""
        valgrind --tool=callgrind --callgrind-out-file="$T/cg.$1" "$B/azrelay-proxy" LocalPort=$((P + 81)) \
            "${common[@]}" "${WS[@]}" HybridConnection=hc2 >"$T/cg.$1.log" 2>&1 &
        local px=$!
        pids+=($px)
        wait_port $((P + 81)) 30
        "$B/bench" upload $((P + 81)) "$1" "$px" >/dev/null || echo "bench: the callgrind upload failed" >&2
        stop "$px"
        cg_ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$T/cg.$1" 2>/dev/null || true)
    }
    cg_run 1
    cg_small=$cg_ir
    cg_run "$CG_MIB"
    cg_big=$cg_ir
    if [ -n "$cg_small" ] && [ -n "$cg_big" ]; then
        cg_per_mib=$(awk -v a="$cg_big" -v b="$cg_small" -v m="$CG_MIB" 'BEGIN {printf "%.0f", (a - b) / (m - 1)}')
    else
        cg_note="callgrind gave no totals (BENCH_KEEP=1 keeps its logs: $T/cg.*.log)"
    fi
    if [ -z "$cg_note" ] && command -v callgrind_annotate >/dev/null 2>&1; then
        cg_funcs() { # callgrind file -> "Ir function" per function (self cost)
            callgrind_annotate --threshold=100 "$1" 2>/dev/null | grep -E '^ *[0-9,]+ \([ 0-9.]+%\) ' |
                grep -v 'PROGRAM TOTALS' | sed -E 's/ \[[^]]*\]$//; s/^ *([0-9,]+) \([^)]*\) +[^ ]*:([^: ]+)$/\1 \2/' | tr -d ,
        }
        cg_funcs "$T/cg.1" >"$T/cg.small.txt"
        cg_funcs "$T/cg.$CG_MIB" >"$T/cg.big.txt"
        # what the extra MiB cost, by function: the big run minus the small one
        cg_top=$(awk -v total="$((cg_big - cg_small))" 'NR == FNR {small[$2] = $1; next}
            {d = $1 - small[$2]; if (d > 0) printf "%d %s\n", d, $2}' "$T/cg.small.txt" "$T/cg.big.txt" |
            sort -rn | head -8 | awk -v total="$((cg_big - cg_small))" '{printf "      %5.1f%%  %s\n", 100 * $1 / total, $2}')
    fi
fi

# --------------------------------------------------------------- table
strip -o "$B/azrelay-proxy.stripped" "$B/azrelay-proxy"
size_proxy=$(stat -c %s "$B/azrelay-proxy.stripped")
size_lib=$(stat -c %s "$B/libazrelay.a")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ", with local changes" || true)
row() { printf '  %-34s %8s %9s   %s\n' "$@"; }
{
    echo "azrelay bench: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit$dirty, $(nproc) cores, $(uname -m)"
    echo "command: BENCH_UP_MIB=$UP_MIB BENCH_MIB=$MIB BENCH_RUNS=$RUNS BENCH_CONNS=\"$CONNS\" BENCH_SETUP_N=$SETUP_N ./build.sh bench"
    echo
    echo "CPU of the forwarding process per GiB ($UP_MIB MiB client -> sink, user+sys; $RUNS rounds, each through every path; medians)"
    row path "s/GiB" "MiB/s" ""
    row "floor: socat TCP->TCP, 64 KiB" "$cpu_floor" "$mbs_floor" ""
    row "socat TCP->TLS (OpenSSL)" "$cpu_stls" "$mbs_stls" ""
    row "node proxy (Node's ws), ws://" "$cpu_node" "$mbs_node" ""
    row "node proxy (hyco-ws SDK), ws://" "$cpu_hyco" "$mbs_hyco" ""
    row "azrelay ws://" "$cpu_ws" "$mbs_ws" ""
    row "azrelay wss://" "$cpu_wss" "$mbs_wss" ""
    echo "  ratios, median of the rounds' own (issue 13 targets in brackets):"
    echo "    azrelay wss:// / socat TLS    $(up_ratio wss stls)  [<= 1]"
    echo "    azrelay wss:// / node hyco-ws $(up_ratio wss hyco)  [<= 0.10]"
    echo "    azrelay wss:// / node ws      $(up_ratio wss node)"
    echo "    azrelay wss:// / floor        $(up_ratio wss floor)  [<= 1.7]"
    echo "    socat TLS      / floor        $(up_ratio stls floor)"
    echo "    azrelay ws://  / floor        $(up_ratio ws floor)"
    echo
    echo "echo throughput, MiB/s ($MIB MiB; the bytes cross each hop twice; median of $RUNS)"
    printf '  %-12s %8s   %s\n' azrelay "$r_az" "$(awk -v a="$r_az" -v b="$r_node" 'BEGIN {printf "%.2fx node", a / b}')"
    printf '  %-12s %8s\n' azrelay-tls "$r_tls"
    printf '  %-12s %8s\n' node "$r_node"
    printf '  %-12s %8s   %s\n' socat "$r_socat" "$(awk -v a="$r_az" -v b="$r_socat" 'BEGIN {printf "azrelay at %.0f%% of it", 100 * a / b}')"
    echo
    echo "frames and TLS records on the wire (bench tap; up = towards the relay, down = from it)"
    echo "  azrelay ws://  ($TAP_MIB MiB echoed; WebSocket frames)"
    echo "    up:   $(tapline "$tap_ws" up)"
    echo "    down: $(tapline "$tap_ws" down)  (the emulator's frames)"
    echo "  azrelay wss:// ($TAP_MIB MiB echoed; TLS records, $(awk '$1 == "cipher" {print $3}' <<<"$tap_wss"))"
    echo "    up:   $(tapline "$tap_wss" up)"
    echo "    down: $(tapline "$tap_wss" down)  (the emulator's records)"
    echo "  socat TCP->TLS ($TAP_MIB MiB uploaded; TLS records, $(awk '$1 == "cipher" {print $3}' <<<"$tap_socat"))"
    echo "    up:   $(tapline "$tap_socat" up)"
    echo
    echo "connection setup: new connection to first echoed byte, wss:// to the emulator, ms ($SETUP_N in a row, median of $RUNS)"
    printf '  %-46s %8s\n' "azrelay, full relay TLS handshake" "$c_full"
    printf '  %-46s %8s   %s\n' "azrelay, ReuseSSLSession=True" "$c_reuse" "$(awk -v a="$c_full" -v b="$c_reuse" 'BEGIN {printf "%.2f ms saved per connection", a - b}')"
    printf '  %-46s %8s   %s\n' "hyco-ws direct sender, no TLS session cache" "$h_fresh" "($h_fresh_res of $SETUP_N resumed)"
    printf '  %-46s %8s   %s\n' "hyco-ws direct sender, Node's session cache" "$h_cache" "($h_cache_res of $SETUP_N resumed)"
    echo "  ratios azrelay / direct hyco-ws [target <= 1.1]: full $(ratio "$c_full" "$h_fresh"), resumed $(ratio "$c_reuse" "$h_cache")"
    printf '  %-46s %8s\n' "azrelay, TLS on both sides (Node's tls client)" "$c_local"
    echo
    echo "resident memory of the proxy process"
    echo "  azrelay      $m_az"
    echo "  azrelay-tls  $m_tls"
    echo "  node         $m_node"
    echo "  TLS on both sides (local TLS, EC key; wss:// relay)"
    echo "    1 connection:    $m_both1"
    echo "    100 connections: $m_both100"
    echo "  azrelay wss:// held at once (one proxy, 3 forwards to 3 emulators), RSS growth per connection [target <= 40 KiB at 1000 x 64 KiB]"
    for r in "${scale_rows[@]}"; do
        read -r n per secs before after note <<<"$r"
        printf '    %6s x 64 KiB echoed: %7s KiB per connection (%s -> %s KiB, opened in %s s) %s\n' "$n" "$per" "$before" "$after" "$secs" "$note"
    done
    read -r n per secs before after note <<<"$scale_idle"
    printf '    %6s idle (1 byte):  %7s KiB per connection (%s -> %s KiB, opened in %s s) %s\n' "$n" "$per" "$before" "$after" "$secs" "$note"
    [ -z "$NOFILE_NOTE" ] || echo "    note: $NOFILE_NOTE"
    echo
    echo "instructions per MiB (valgrind --tool=callgrind, azrelay ws:// upload, $CG_MIB MiB minus 1 MiB)"
    if [ -n "$cg_note" ]; then
        echo "  $cg_note"
    else
        echo "  azrelay ws://  $cg_per_mib Ir per MiB ($cg_big for $CG_MIB MiB, $cg_small for 1 MiB)"
        [ -z "$cg_top" ] || { echo "    by function (self cost of the $CG_MIB MiB run minus the 1 MiB run):"; echo "$cg_top"; }
    fi
    echo
    echo "sizes"
    echo "  azrelay-proxy, stripped  $size_proxy bytes"
    echo "  libazrelay.a             $size_lib bytes"
} | tee "$B/bench.txt"

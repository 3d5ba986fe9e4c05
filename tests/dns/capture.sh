#!/bin/sh
# Captures the real DNS answers that tests/test_dnsmsg.c and fuzz/corpus/dns/
# hold. Run as root (it makes its own network namespace): sh tests/dns/capture.sh
# Needs dnsmasq (dnsmasq-base), dig (bind9-dnsutils) and python3.
#
# dig writes the queries (+noedns: a 512-byte stub query like ours) and sends
# them to a small UDP relay that forwards each one to dnsmasq and prints the
# query and dnsmasq's answer in hex; the TCP answer is read by a plain client
# sending dig's query. Two dnsmasq setups: a caching forwarder answering from
# its hosts files and --cname (as a LAN resolver does), and an authoritative
# zone (--auth-zone), whose negative answers carry an SOA (RFC 2308).
set -eu
if [ "${AZR_IN_NS:-}" != 1 ]; then
    exec env AZR_IN_NS=1 unshare -n sh "$0" "$@"
fi
ip link set lo up
T=$(mktemp -d)
trap 'kill $(cat "$T"/pids) 2>/dev/null; rm -rf "$T"' EXIT
cat >"$T/hosts" <<H
192.0.2.10 www.example.test
2001:db8::10 www.example.test
H
i=1
while [ $i -le 40 ]; do echo "198.51.100.$i big.example.test" >>"$T/big"; i=$((i + 1)); done
cat >"$T/relay.py" <<'P'
import socket, struct, sys
if sys.argv[1] == "tcp":
    q = bytes.fromhex(sys.argv[2])
    t = socket.create_connection(("127.0.0.1", 53)); t.sendall(struct.pack(">H", len(q)) + q)
    b = b""
    while len(b) < 2 or len(b) < 2 + struct.unpack(">H", b[:2])[0]:
        c = t.recv(65535)
        if not c: break
        b += c
    print("tcp answer", b[2:].hex()); sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5300))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(4096)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(("127.0.0.1", 53)); u.send(q)
    a = u.recv(65535)
    print("query ", q.hex()); print("answer", a.hex(), flush=True)
    s.sendto(a, peer)
P
ask() {
    echo "== dig $1 $2"
    dig @127.0.0.1 -p 5300 +noedns +nocookie +ignore +tries=1 +time=2 "$1" "$2" >/dev/null || true
    sleep 0.1
    tail -2 "$T/relay.out"
}
start() {
    /usr/sbin/dnsmasq --no-daemon --port 53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
        --no-hosts "$@" 2>/dev/null &
    echo $! >>"$T/pids"
    sleep 0.5
}
python3 "$T/relay.py" udp >"$T/relay.out" &
echo $! >>"$T/pids"
sleep 0.3
/usr/sbin/dnsmasq --version | head -1
echo "# forwarder: hosts files, --cname, --local"
start --addn-hosts="$T/hosts" --addn-hosts="$T/big" --local=/example.test/ --local-ttl=300 \
    --cname=alias.example.test,mid.example.test --cname=mid.example.test,www.example.test \
    --cname=one.example.test,www.example.test
ask www.example.test A
ask www.example.test AAAA
ask alias.example.test A
ask ONE.Example.TEST AAAA
ask nope.example.test A
ask big.example.test A
echo "== tcp big.example.test A (dig's query above)"
python3 "$T/relay.py" tcp "$(tail -2 "$T/relay.out" | sed -n 's/^query  //p')"
kill "$(tail -1 "$T/pids")"
sleep 0.3
echo "# authoritative: --auth-zone with an SOA"
start --auth-server=ns.example.test,127.0.0.1 --auth-zone=example.test --auth-ttl=600 \
    --auth-soa=2024010101,hostmaster.example.test,1200,120,604800 \
    --host-record=www.example.test,192.0.2.10,2001:db8::10 --host-record=v4only.example.test,192.0.2.20 \
    --cname=alias.example.test,mid.example.test --cname=mid.example.test,www.example.test
ask nope.example.test A
ask v4only.example.test AAAA
ask alias.example.test A

#!/bin/bash
# bench_flows: the pcap summarizer of analyze (src/analyze/flows.c, through
# tests/tools/pcap_summary) on a 1 GiB pcap against `tcpdump -r FILE -w
# /dev/null` (libpcap reading and writing every packet: the floor of touching
# each one), same run, page cache warm. The pcap: ~15,000 HTTP-like TCP flows
# over Ethernet/IPv4 (handshake, a GET, 48 segments of 1400 bytes back, ACKs,
# FINs; ~1M packets), generated once (python3) into BENCH_CACHE (default
# build/bench-flows). Printed for each: wall and CPU (user+sys) seconds, peak
# RSS, packets/s and MB/s (by wall time), and the ratios against tcpdump:
# the summary alone, and with every stream reassembled and handed to a
# callback that reads each byte (--scan: what the YARA scan of traffic adds
# before YARA itself); and the pcap read twice, the second time as an NFLOG
# capture's (a symlink big-nflog.pcap) with the cut before it all (--dedup:
# every packet of the first remembered, every one of the second a copy to
# match: the worst case of one packet in two pcaps counted once; its
# packets/s count both reads). BENCH_RUNS=N runs each (best kept, default 3).
set -u
for c in tcpdump python3 bc pcap_summary; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench_flows: no $c (make test-bins; apt-get install tcpdump bc)"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_flows: no /usr/bin/time (apt-get install time)"; exit 1; }
RUNS=${BENCH_RUNS:-3}
CACHE=${BENCH_CACHE:-$CONTAIN_TOP/build/bench-flows}
P=$CACHE/big.pcap
GEN_VERSION=1
mkdir -p "$CACHE" || exit 1
if [ "$(cat "$CACHE/READY" 2>/dev/null)" != "$GEN_VERSION" ]; then
	echo "bench_flows: generating a 1 GiB pcap in $CACHE (once)"
	rm -f "$P" "$CACHE/READY"
	python3 - "$P" $((1024 * 1024 * 1024)) <<'PY' || exit 1
import random, struct, sys
out = open(sys.argv[1], "wb")
target = int(sys.argv[2])
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
written = 24
def ip4(src, dst, l4):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, 6, 0, src, dst) + l4
def tcp(sp, dp, seq, ack, fl, pay=b""):
    return struct.pack(">HHIIBBHHH", sp, dp, seq, ack, 0x50, fl, 65535, 0, 0) + pay
ETH = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
rnd = random.Random(1)
pays = [bytes(rnd.getrandbits(8) for _ in range(1400)) for _ in range(8)]
req = b"GET /index.html HTTP/1.1\r\nHost: bench.example.test\r\nUser-Agent: bench/1\r\n\r\n"
t, flow = 1700000000.0, 0
while written < target:
    flow += 1
    c, s = bytes([10, 1, (flow >> 8) & 255, flow & 255]), bytes([10, 2, 0, 1])
    sp, dp = 1024 + flow % 60000, 80 if flow % 3 else 443
    cs, ss = 1000, 5000
    recs = [ETH + ip4(c, s, tcp(sp, dp, cs, 0, 2)), ETH + ip4(s, c, tcp(dp, sp, ss, cs + 1, 0x12))]
    cs, ss = cs + 1, ss + 1
    recs += [ETH + ip4(c, s, tcp(sp, dp, cs, ss, 0x10)), ETH + ip4(c, s, tcp(sp, dp, cs, ss, 0x18, req))]
    cs += len(req)
    for i in range(48):
        recs.append(ETH + ip4(s, c, tcp(dp, sp, ss, cs, 0x10, pays[i % 8])))
        ss += 1400
        if i % 4 == 3:
            recs.append(ETH + ip4(c, s, tcp(sp, dp, cs, ss, 0x10)))
    recs += [ETH + ip4(c, s, tcp(sp, dp, cs, ss, 0x11)), ETH + ip4(s, c, tcp(dp, sp, ss, cs + 1, 0x11))]
    buf = bytearray()
    for r in recs:
        t += 0.0001
        buf += struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(r), len(r)) + r
    out.write(buf)
    written += len(buf)
PY
	echo "$GEN_VERSION" >"$CACHE/READY"
fi
SIZE=$(stat -L -c %s "$P")
cat "$P" >/dev/null # warm

# best (lowest wall) of RUNS: "wall cpu rss"
best() {
	local i out b=""
	for i in $(seq "$RUNS"); do
		out=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -1)
		read -r w u s m <<<"$out"
		local cpu
		cpu=$(echo "$u + $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$w < ${b%% *}" | bc)" = 1 ]; then b="$w $cpu $m"; fi
	done
	echo "$b"
}
PK=$(pcap_summary "$P" 2>&1 >/dev/null | sed -n 's/.* s, \([0-9]*\) packets,.*/\1/p')
read -r tw tc tm <<<"$(best tcpdump -r "$P" -w /dev/null)"
read -r sw sc sm <<<"$(best pcap_summary "$P")"
read -r xw xc xm <<<"$(best pcap_summary --scan "$P")"
ln -sfn big.pcap "$CACHE/big-nflog.pcap"
read -r dw dc dm <<<"$(best pcap_summary --cut 2000-01-01T00:00:00Z "$P" "$CACHE/big-nflog.pcap")"
show() {
	printf '%-28s wall %6.2f s  cpu %6.2f s  rss %6d KiB  %9.0f packets/s  %7.1f MB/s\n' "$1" "$2" "$3" "$4" \
		"$(echo "$PK / $2" | bc -l)" "$(echo "$SIZE / 1000000 / $2" | bc -l)"
}
echo "pcap: $SIZE bytes, $PK packets"
show "tcpdump -r -w /dev/null" "$tw" "$tc" "$tm"
show "pcap_summary" "$sw" "$sc" "$sm"
show "pcap_summary --scan" "$xw" "$xc" "$xm"
PK1=$PK SIZE1=$SIZE
PK=$((PK * 2)) SIZE=$((SIZE * 2))
show "pcap_summary --dedup (2 reads)" "$dw" "$dc" "$dm"
PK=$PK1 SIZE=$SIZE1
printf 'ratio (wall) summary/tcpdump %.2f, with streams %.2f; (cpu) %.2f, %.2f\n' \
	"$(echo "$sw / $tw" | bc -l)" "$(echo "$xw / $tw" | bc -l)" "$(echo "$sc / $tc" | bc -l)" \
	"$(echo "$xc / $tc" | bc -l)"

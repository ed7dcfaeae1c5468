#!/bin/bash
# t1102: the network summary of contain analyze on a real capture. A runc
# container with a veth to the host keeps fetching a script over plain HTTP
# from a server on the host, looks up a generated-looking name and knocks on a
# C2 port (4444) with nothing listening, asks two names over DNS over TCP
# (two length-framed queries a connection) of a resolver on the host;
# captured (pcap on, the network cut and watched), then analyzed as a
# directory bag and as a tar.gz bag:
# network.pcaps counts equal tcpdump's, the flows to the C2 and the HTTP
# server are there (2 s observed before the cut), the HTTP request and its script body, the DNS question,
# the DNS-over-TCP questions and answers, every packet counted once (the flows'
# packets are the pcaps' records less their copies in another pcap, the
# malformed, the not-IP and the untracked),
# the findings flow.mining-pool, flow.after-cut (with the C2 among its
# destinations), flow.http-download and flow.dga-name; the flows in
# timeline.csv, report.html and report.md; report.json validates against
# docs/report-schema.json. Then captured again while the netns table is
# deleted under the cut (what root in the container could do): its packets
# pass the veth tap and the host table drops and logs them, so both
# capture-eth0.pcap and capture-host-nflog.pcap hold them: analyze counts
# each once (stats.duplicates equals the packets of the host NFLOG pcap
# whose IP bytes but TTL and checksum a packet of the veth pcap has, found
# here by Python byte for byte).
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc jq ip nsenter tcpdump python3 tar timeout
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
IMG=$CONTAIN_TOP/fixtures/cache/fixture-docker.tar
[ -f "$IMG" ] || skip_all "no $IMG (run fixtures/build.sh)"
SCHEMA=$CONTAIN_TOP/docs/report-schema.json

N=t1102-$$
HOSTIF=cfl$$ HOSTIP=10.213.251.1 CTRIP=10.213.251.2
HOSTIF=${HOSTIF:0:12}
runc_run "$N" || skip_all "cannot start a runc container"
on_exit "\"$CONTAIN\" release $N >/dev/null 2>&1"
veth_attach "$CPID" "$HOSTIF" "$HOSTIP/30" "$CTRIP/30" || skip_all "cannot attach a veth"

# the script served over plain HTTP from the host
mkdir -p "$T_DIR/www"
printf '#!/bin/sh\necho stage2\n' >"$T_DIR/www/a.sh"
python3 -m http.server --bind "$HOSTIP" --directory "$T_DIR/www" 8000 >/dev/null 2>&1 &
WEB=$!
on_exit "kill $WEB"
wait_for 10 sh -c "exec 3<>/dev/tcp/$HOSTIP/8000" 2>/dev/null

# a DNS-over-TCP resolver on the host: every question gets A $HOSTIP
cat >"$T_DIR/tcpdns.py" <<'EOF'
import socket, struct, sys, threading
def serve(c):
    with c:
        while True:
            h = c.recv(2, socket.MSG_WAITALL)
            if len(h) < 2: return
            m = c.recv(struct.unpack(">H", h)[0], socket.MSG_WAITALL)
            if len(m) < 12: return
            q = m[12:]
            end = q.index(b"\0") + 5
            r = m[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + q[:end]
            r += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(sys.argv[1])
            c.sendall(struct.pack(">H", len(r)) + r)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 53))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 "$T_DIR/tcpdns.py" "$HOSTIP" >/dev/null 2>&1 &
TCPDNS=$!
on_exit "kill $TCPDNS"
wait_for 10 sh -c "exec 3<>/dev/tcp/$HOSTIP/53" 2>/dev/null
# two framed queries (tcpdns.example.test, tcp2.example.test) as printf's octal escapes
DQ=$(python3 -c '
import struct
def q(i, n):
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for l in n.split("."):
        m += bytes([len(l)]) + l.encode()
    m += b"\0" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(m)) + m
print("".join("\\%03o" % b for b in q(0x5151, "tcpdns.example.test") + q(0x5252, "tcp2.example.test")))')

# four loops, each on its own (a lookup nobody answers must not hold up the rest)
runc_exec "$N" sh -c '
	(while :; do wget -q -O /dev/null http://'"$HOSTIP"':8000/a.sh; sleep 0.2; done \
		>/dev/null 2>&1 &)
	(while :; do nslookup xk3q9zt7vbw2pl8m4nrj.example.test '"$HOSTIP"'; sleep 0.2; done \
		>/dev/null 2>&1 &)
	(while :; do nc -w 1 '"$HOSTIP"' 4444 </dev/null; sleep 0.2; done >/dev/null 2>&1 &)
	(while :; do printf "'"$DQ"'" | nc -w 1 '"$HOSTIP"' 53; sleep 0.3; done >/dev/null 2>&1 &)
' </dev/null
sleep 1

BAG=$T_DIR/bag
run timeout 120 "$CONTAIN" capture "$N" -o "$BAG" --observe 2 --watch-cut 2 --no-memory
is "$RC" 0 "capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
"$CONTAIN" release "$N" >/dev/null 2>&1; [ -z "${FLOWS_KEEP:-}" ] || cp -a "$BAG" "$FLOWS_KEEP"

check_report() {
	local R=$1 l=$2 J=$1/report.json
	ok "$l: report.json" test -s "$J"
	# every pcap: the packets counted are tcpdump's
	local p name got want
	for p in "$BAG"/data/network/*.pcap; do
		name=data/network/$(basename "$p")
		want=$(tcpdump -nn -r "$p" 2>/dev/null | wc -l)
		got=$(jq --arg n "$name" '.network.pcaps[] | select(.name == $n) | .packets' "$J")
		is "$got" "$want" "$l: $name: the packets tcpdump reads"
	done
	like "$(jq -c '.network.flows[] | select(.dport == 4444)' "$J")" \
		"\"src\":\"$CTRIP\".*\"dst\":\"$HOSTIP\"" "$l: the flows to the C2 port, from the container"
	like "$(jq -c '.network.flows[] | select(.dport == 8000) | .state' "$J")" \
		'"(closed|established|reset)"' "$l: the HTTP flows, with their TCP state"
	like "$(jq -c '.network.http[]' "$J")" '"method":"GET","target":"/a.sh".*"body":"script"' \
		"$l: the HTTP request and the script it fetched"
	like "$(jq -c '.network.http[0].host' "$J")" "$HOSTIP:8000" "$l: the HTTP Host"
	like "$(jq -c '.network.dns[].questions[].name' "$J")" 'xk3q9zt7vbw2pl8m4nrj' \
		"$l: the DNS question"
	like "$(jq -c '[.network.dns[] | select(.proto == "tcp" and .response == false) | .questions[0].name] | unique' "$J")" \
		'^\["tcp2\.example\.test","tcpdns\.example\.test"\]$' "$l: both questions of each DNS-over-TCP connection"
	local ans
	ans=$(jq -r '.network.dns[] | select(.proto == "tcp" and .response == true) |
		"\(.from) \(.questions[0].name) \(.answers[0].data)"' "$J" | sort -u)
	is "$ans" "$HOSTIP:53 tcp2.example.test $HOSTIP
$HOSTIP:53 tcpdns.example.test $HOSTIP" "$l: the DNS-over-TCP answers, from the resolver, with the address"
	is "$(jq '[.network.dns[] | select(.proto == "tcp" and .response == false and .id == 20817)] | length > 0' "$J")" true \
		"$l: the DNS-over-TCP query's id"
	is "$(jq '.network.stats as $s | ([.network.flows[] | .packets_out + .packets_in] | add) ==
		$s.packets - $s.duplicates - $s.malformed - $s.not_ip - $s.untracked_packets' "$J")" true \
		"$l: every packet in the flows once (the pcaps' records less copies, malformed, not IP)"
	is "$(jq '([.network.pcaps[].duplicates] | add) == .network.stats.duplicates' "$J")" true \
		"$l: the copies of each pcap add up to stats.duplicates"
	local ids
	ids=$(jq -r '.findings[].id' "$J" | sort -u | tr '\n' ' ')
	like "$ids" 'flow\.mining-pool' "$l: flow.mining-pool"
	like "$ids" 'flow\.http-download' "$l: flow.http-download"
	like "$ids" 'flow\.dga-name' "$l: flow.dga-name"
	like "$ids" 'flow\.after-cut' "$l: flow.after-cut"
	like "$(jq -c '.findings[] | select(.id == "flow.after-cut") | .evidence.destinations[].dst' "$J")" \
		"$HOSTIP:(4444|8000)" "$l: flow.after-cut names what the container tried once cut off"
	like "$(jq -r '.findings[] | select(.id == "flow.http-download") | .path' "$J")" \
		"^http://$HOSTIP:8000/a.sh$" "$l: flow.http-download names the URL"
	ok "$l: the flows in timeline.csv" grep -q '^"[^"]*","network","flow",' "$R/timeline.csv"
	ok "$l: the flows in report.html" grep -q 'Network flows (' "$R/report.html"
	ok "$l: the flows in report.md" grep -q '^## Network flows (' "$R/report.md"
	if python3 -c 'import jsonschema' 2>/dev/null; then
		run python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
errs = list(jsonschema.Draft202012Validator(s).iter_errors(d))
for e in errs[:10]: print("/".join(map(str, e.path)), e.message[:200])
sys.exit(1 if errs else 0)' "$SCHEMA" "$J"
		is "$RC" 0 "$l: report.json validates against docs/report-schema.json"
		[ "$RC" -eq 0 ] || diag "$OUT"
	else
		in_ci && _t_result 1 "$l: CI=true: python3-jsonschema is installed"
	fi
}

run "$CONTAIN" analyze "$BAG" --image "$IMG" -o "$T_DIR/rep-dir"
is "$RC" 1 "analyze (directory bag) exits 1: findings at or above high"
check_report "$T_DIR/rep-dir" "directory bag"

tar -C "$T_DIR" -czf "$T_DIR/bag.tar.gz" bag
run "$CONTAIN" analyze "$T_DIR/bag.tar.gz" --image "$IMG" -o "$T_DIR/rep-tar"
is "$RC" 1 "analyze (tar.gz bag) exits 1"
check_report "$T_DIR/rep-tar" "tar bag"
is "$(jq -c '.network.flows | length' "$T_DIR/rep-tar/report.json")" \
	"$(jq -c '.network.flows | length' "$T_DIR/rep-dir/report.json")" "the same flows from both forms"

section "the netns table deleted under the cut: one packet in two pcaps"
if ! command -v nft >/dev/null 2>&1; then
	in_ci && _t_result 1 "CI=true: nft is installed"
	section_skip "no nft (apt-get install nftables)"
fi
BAG2=$T_DIR/bag2
if [ -z "$_t_skip_reason" ]; then
	# the deleter: the netns table of the quarantine, once it is there
	(for _ in $(seq 600); do
		t=$(nsenter --net="/proc/$CPID/ns/net" nft list tables 2>/dev/null | awk '$2 == "inet" { print $3; exit }')
		if [ -n "$t" ]; then
			nsenter --net="/proc/$CPID/ns/net" nft delete table inet "$t" && echo "$t" >"$T_DIR/deleted"
			break
		fi
		sleep 0.05
	done) &
	DEL=$!
	run timeout 120 "$CONTAIN" capture "$N" -o "$BAG2" --observe 1 --watch-cut 3 --no-memory --no-fs
	wait "$DEL"
	"$CONTAIN" release "$N" >/dev/null 2>&1
	[ -z "${FLOWS_KEEP:-}" ] || cp -a "$BAG2" "$FLOWS_KEEP-2"
fi
ok "the netns table was deleted under the cut" test -s "$T_DIR/deleted"
ok "the bag has the veth and the host NFLOG pcaps" test -s "$BAG2/data/network/capture-eth0.pcap" -a \
	-s "$BAG2/data/network/capture-host-nflog.pcap"
# the copies, byte for byte: host NFLOG records (Linux cooked v2) whose IP
# packet, TTL/hop limit and IPv4 checksums aside, a record of the veth pcap (Ethernet) has
# within 1 s, each veth packet matched once
WANT=$(python3 - "$BAG2/data/network/capture-eth0.pcap" "$BAG2/data/network/capture-host-nflog.pcap" <<'EOF'
import struct, sys
def recs(path, strip):
    d = open(path, "rb").read()
    o, out = 24, []
    while o + 16 <= len(d):
        s, us, cl, _ = struct.unpack("<IIII", d[o:o + 16])
        p = d[o + 16 + strip:o + 16 + cl]
        o += 16 + cl
        if len(p) >= 20 and p[0] >> 4 == 4:
            ihl = (p[0] & 15) * 4
            key = p[:8] + p[9:10] + p[12:]            # no TTL, no header checksum
            if p[9] in (6, 17) and len(p) >= ihl + 18:
                c = ihl + (16 if p[9] == 6 else 6)    # no TCP/UDP checksum
                key = p[:8] + p[9:10] + p[12:c] + p[c + 2:]
            out.append((s + us / 1e6, key))
        elif len(p) >= 40 and p[0] >> 4 == 6:
            out.append((s + us / 1e6, p[:7] + p[8:]))  # no hop limit
    return out
a, b = recs(sys.argv[1], 14), recs(sys.argv[2], 20)
used, n = set(), 0
for t, k in b:
    for i, (u, j) in enumerate(a):
        if i not in used and j == k and abs(u - t) <= 1:
            used.add(i); n += 1; break
print(n)
EOF
)
run "$CONTAIN" analyze "$BAG2" --image "$IMG" -o "$T_DIR/rep2"
J2=$T_DIR/rep2/report.json
ok "analyze reads the second bag" test -s "$J2"
ok "copies are there (the deleted table let packets out to the host table): $WANT" test "${WANT:-0}" -gt 0
is "$(jq '.network.stats.duplicates' "$J2")" "$WANT" "stats.duplicates: the copies Python finds byte for byte"
is "$(jq '.network.pcaps[] | select(.name == "data/network/capture-host-nflog.pcap") | .duplicates' "$J2")" "$WANT" \
	"the copies are the host NFLOG pcap's (read after the veth pcap)"
is "$(jq '.network.stats as $s | ([.network.flows[] | .packets_out + .packets_in] | add) ==
	$s.packets - $s.duplicates - $s.malformed - $s.not_ip - $s.untracked_packets' "$J2")" true \
	"every packet in the flows once"
like "$(jq -c '[.network.flows[] | select(.dport == 4444) | .pcaps | length] | max' "$J2")" '^2$' \
	"a flow to the C2 port lists both pcaps"

done_testing

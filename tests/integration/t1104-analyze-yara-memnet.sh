#!/bin/bash
# t1104: YARA on memory and traffic in contain analyze. A runc container of
# the fixture image runs memtarget (a marker built at run time in its heap,
# never on disk whole: the binary holds only "...-MARKER-%d") and keeps
# sending a marker over TCP through a veth to a listener on the host's end;
# captured with memory and pcap, then analyzed with a user rule (--rules):
# a memory hit of the right pid at the very address memtarget wrote, inside
# its [heap] mapping (.maps), with the mapping, region and member named; no
# hit of that rule outside the heap; every PT_LOAD region of the core read
# (bytes_read = the PT_LOADs' FileSiz, readelf); a network hit with the
# 5-tuple (container -> listener), the direction and the stream offset;
# distinct hits keep distinct paths; report.json validates against
# docs/report-schema.json, the hits are in report.md and report.html;
# --no-yara reads only what mem.anon-elf needs and reports no yara.* finding.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc jq ip nsenter python3 readelf timeout awk
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
IMG=$CONTAIN_TOP/fixtures/cache/fixture-docker.tar
[ -f "$IMG" ] || skip_all "no $IMG (run fixtures/build.sh)"
[ -x "$FIXTURE_ROOTFS/usr/bin/memtarget" ] || skip_all "no memtarget in the fixture image"

N=t1104-$$
HOSTIF=cym$$ HOSTIP=10.213.252.1 CTRIP=10.213.252.2 PORT=7104
HOSTIF=${HOSTIF:0:12}

# the user's rules: the heap marker (a regex: the binary's format string
# "CONTAIN-MEMTARGET-MARKER-%d" does not match it) and the wire marker
cat >"$T_DIR/user.yar" <<'X'
rule t1104_heap {
  meta:
    severity = "high"
    description = "the t1104 heap marker"
  strings:
    $m = /CONTAIN-MEMTARGET-MARKER-[0-9]+/
  condition:
    $m
}
rule t1104_wire {
  meta:
    severity = "high"
    description = "the t1104 wire marker"
  strings:
    $w = "T1104-WIRE-MARKER"
  condition:
    $w
}
X

cat >"$T_DIR/extra" <<'X'
#!/bin/sh
/usr/bin/memtarget >/tmp/memtarget.out 2>&1 &
wait
X
runc_run "$N" --extra "$T_DIR/extra" || skip_all "cannot start a runc container"
on_exit "\"$CONTAIN\" release $N >/dev/null 2>&1"
veth_attach "$CPID" "$HOSTIF" "$HOSTIP/30" "$CTRIP/30" || skip_all "cannot attach a veth"

# the listener: reads each connection to its end, answers, closes
python3 - "$HOSTIP" "$PORT" "$T_DIR/conns" >/dev/null 2>&1 <<'X' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, a = s.accept()
    c.settimeout(5)
    got = b""
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            got += d
        c.sendall(b"ok\n")
    except Exception: pass
    c.close()
    with open(sys.argv[3], "a") as f: f.write("%s:%d %r\n" % (a[0], a[1], got[:64]))
X
LST=$!
on_exit "kill $LST"
wait_for 10 sh -c "exec 3<>/dev/tcp/$HOSTIP/$PORT" 2>/dev/null

wait_for 30 test -s "$CMERGED/tmp/memtarget.addr"
ADDR=$(cat "$CMERGED/tmp/memtarget.addr" 2>/dev/null)
P=""
for p in $(cat "$CCG2/cgroup.procs" 2>/dev/null); do
	case "$(readlink "/proc/$p/exe" 2>/dev/null)" in */usr/bin/memtarget) P=$p ;; esac
done
like "$P" '^[0-9]+$' "memtarget runs in the container"
like "$ADDR" '^0x[0-9a-f]+$' "memtarget wrote its marker's address"

# the sender: "hello " then the marker (built from pieces: the whole marker
# is in no command line), one connection each 0.2 s, nc -w 1 closing it
runc_exec "$N" sh -c '
	(while :; do printf "hello T1104-%s-MARKER\n" WIRE | nc -w 1 '"$HOSTIP"' '"$PORT"';
		sleep 0.2; done >/dev/null 2>&1 &)
' </dev/null
# the listener has had whole connections before the capture starts
wait_for 30 test -s "$T_DIR/conns"
ok "the listener received connections from the container" test -s "$T_DIR/conns"

BAG=$T_DIR/bag
run timeout 180 "$CONTAIN" capture "$N" -o "$BAG" --observe 4
is "$RC" 0 "capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
"$CONTAIN" release "$N" >/dev/null 2>&1
C=$BAG/data/memory/$P.core
ok "the core of memtarget is in the bag" test -s "$C"

run "$CONTAIN" analyze "$BAG" --image "$IMG" --rules "$T_DIR/user.yar" -o "$T_DIR/rep"
is "$RC" 1 "analyze exits 1: findings at or above high"
[ "$RC" -le 1 ] || diag "$OUT $ERR"
J=$T_DIR/rep/report.json

# ---- memory ----
HEAP=$(jq -c --argjson p "$P" '[.findings[] | select(.id == "yara.t1104-heap"
	and .evidence.pid == $p)]' "$J")
is "$(jq length <<<"$HEAP")" 1 "one heap-marker hit in pid $P's core"
H=$(jq -c '.[0]' <<<"$HEAP")
A=$(jq -r '.evidence.address' <<<"$H")
is "$(printf '0x%x' "$A")" "$ADDR" "the hit's address is the marker's (memtarget wrote $ADDR)"
is "$(jq -r '.path' <<<"$H")" "pid:$P@$ADDR" "the finding's path: pid:PID@ADDRESS"
is "$(jq -r '.evidence.mapping' <<<"$H")" "[heap]" "the mapping: [heap]"
is "$(jq -r '.evidence.member' <<<"$H")" "data/memory/$P.core" "the member: the core"
is "$(jq -r '.evidence.process_name' <<<"$H")" "memtarget" "the process name"
like "$(jq -r '.evidence.strings[0].excerpt' <<<"$H")" '^CONTAIN-MEMTARGET-MARKER-[0-9]+$' \
	"the excerpt is the marker"
is "$(jq -r '.evidence.strings[0].offset' <<<"$H")" "$A" "the string's offset is its address"
# inside the [heap] line of the .maps file, and the region the evidence names
read -r HS HE < <(awk '$6 == "[heap]" { split($1, a, "-"); print a[1], a[2]; exit }' \
	"$BAG/data/memory/$P.maps")
in_heap() {
	local a=$1
	[ -n "$HS" ] && [ $((a >= 16#$HS && a < 16#$HE)) -eq 1 ]
}
ok "the address lies inside [heap] of $P.maps ($HS-$HE)" in_heap "$A"
RS=$(jq -r '.evidence.region.start' <<<"$H")
RZ=$(jq -r '.evidence.region.size' <<<"$H")
ok "the address lies inside the region the evidence names" \
	test $((A >= RS && A < RS + RZ)) -eq 1
is "$(jq -r '.evidence.region.perms' <<<"$H")" "rw-" "the region's perms"
is "$(jq -r '[.findings[] | select(.id == "yara.t1104-heap") | .evidence.mapping]
	| unique | join(",")' "$J")" "[heap]" "no hit of the heap rule outside a heap"
# every PT_LOAD region read once: the core's bytes read = its PT_LOADs' FileSiz
FSZ=0
for z in $(readelf -lW "$C" | awk '$1 == "LOAD" { print $5 }'); do FSZ=$((FSZ + z)); done
is "$(jq -r --arg m "data/memory/$P.core" '.analyses.cores[] | select(.member == $m)
	| .bytes_read' "$J")" "$FSZ" "every PT_LOAD of the core read (the FileSiz sum, readelf)"
ok "analyses.yara counts the memory bytes" \
	test "$(jq '.analyses.yara.scanned.bytes' "$J")" -ge "$FSZ"

# ---- traffic ----
W=$(jq -c --arg h "$HOSTIP" --arg c "$CTRIP" --argjson p "$PORT" '[.findings[]
	| select(.id == "yara.t1104-wire" and .evidence.flow != null
		and .evidence.flow.src == $c and .evidence.flow.dst == $h
		and .evidence.flow.dport == $p)]' "$J")
NW=$(jq length <<<"$W")
ok "network hits of the wire marker (container -> listener)" test "$NW" -ge 1
[ "$NW" -ge 1 ] || diag "connections: $(wc -l <"$T_DIR/conns"); flows to $PORT:" \
		"$(jq -c --argjson p "$PORT" '[.network.flows[] | select(.dport == $p)] | length' "$J");" \
		"pcaps: $(jq -c '[.network.pcaps[] | {name, packets}]' "$J");" \
		"yara: $(jq -c '.analyses.yara | {scanned, hits, errors}' "$J")"
# a connection seen from its SYN: the marker after "hello " (offset 6)
W6=$(jq -c '[.[] | select(.evidence.offset == 6)] | .[0]' <<<"$W")
ok "one at stream offset 6 (after \"hello \")" test "$W6" != null
is "$(jq -r '.evidence.flow.proto + " " + .evidence.direction' <<<"$W6")" "tcp to_server" \
	"proto tcp, direction to_server"
is "$(jq -r '.evidence.strings[0].offset' <<<"$W6")" 6 "the string's offset in the stream"
SP=$(jq -r '.evidence.flow.sport' <<<"$W6")
like "$SP" '^[0-9]+$' "the source port"
is "$(jq -r '.path' <<<"$W6")" "tcp $CTRIP:$SP -> $HOSTIP:$PORT to_server@6" \
	"the finding's path: the 5-tuple, direction and offset"
is "$(jq '[.[] | .path] | unique | length' <<<"$W")" "$(jq length <<<"$W")" \
	"distinct connections keep distinct findings (paths)"

report_schema_ok "report.json validates against docs/report-schema.json" "$J"
ok "the memory hit in report.md" grep -q "pid:$P@$ADDR" "$T_DIR/rep/report.md"
ok "the memory hit in report.html" grep -q "pid:$P@$ADDR" "$T_DIR/rep/report.html"

# ---- --no-yara: only what mem.anon-elf needs is read ----
run "$CONTAIN" analyze "$BAG" --image "$IMG" --no-yara -o "$T_DIR/rep-noyara"
ok "analyze --no-yara runs" test "$RC" -le 1
J2=$T_DIR/rep-noyara/report.json
is "$(jq '[.findings[] | select(.id | startswith("yara."))] | length' "$J2")" 0 \
	"--no-yara: no yara.* finding"
ok "--no-yara: fewer bytes of the core read" test "$(jq -r --arg m "data/memory/$P.core" \
	'.analyses.cores[] | select(.member == $m) | .bytes_read' "$J2")" -lt "$FSZ"

done_testing

#!/bin/bash
# t0703: the pcap that runs through the cut, for real (issue 9, finding 4).
# A beacon inside a runc container tries the host end of its veth every
# ~0.3 s; a prober on the host tries the container's httpd. With
# `capture --observe 1 --watch-cut 2`:
#  - index.json (and quarantine.json, the --json summary) state the windows
#    observed / cut_running / frozen with RFC 3339 times, in order;
#  - the container's NFLOG pcap holds outbound attempts made after the cut
#    (the beacon kept running, cut off, until the freeze);
#  - the host table logs its drops to an NFLOG group of the host netns of its
#    own, captured into capture-host-nflog.pcap: inbound attempts after the cut;
#  - the device pcap holds the beacon's attempts before the cut (--observe);
#  - two captures at once bind two different host groups;
#  - bad --observe / --watch-cut values exit 2.
# Times are only compared with the times the bag records, never measured.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq tcpdump sha256sum timeout date busybox awk python3 pgrep
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
HOST=10.213.73.1
CTRA=10.213.73.2
PORT=9999

ep() { date -u -d "$1" +%s.%N; }
# tcpdump -tt lines of SYNs from $1 to $2 (an address.port regex), ts first
syns() { tcpdump -nn -tt -r "$1" 2>/dev/null | grep -E "IP $2\.[0-9]+ > $3: Flags \[S\]"; }
# how many of those lines have from < ts <= to
count_between() { awk -v a="$1" -v b="$2" '$1 > a && $1 <= b' | wc -l; }

# ---------------------------------------------------------------- set-up
# every container up front: a script skips as a whole only before its first test
A=t0703-$S-a
B=t0703-$S-b
C=t0703-$S-c
D=t0703-$S-d
HD=10.213.74.1
CD=10.213.74.2
runc_run "$A" || skip_all "cannot start a runc container here"
APID=$CPID
veth_attach "$APID" "h73v$S" "$HOST/30" "$CTRA/30" || skip_all "cannot attach a veth"
runc_run "$B" || skip_all "cannot start a second runc container"
runc_run "$C" || skip_all "cannot start a third runc container"
runc_run "$D" || skip_all "cannot start a fourth runc container"
DPID=$CPID
veth_attach "$DPID" "h74v$S" "$HD/30" "$CD/30" || skip_all "cannot attach a second veth"

# ---------------------------------------------------------------- bad values
run "$CONTAIN" capture x -o "$T_DIR/x" --observe 3601
is "$RC" 2 "--observe above 3600: exit 2"
run "$CONTAIN" capture x -o "$T_DIR/x" --watch-cut -1
is "$RC" 2 "--watch-cut -1: exit 2"
run "$CONTAIN" capture x -o "$T_DIR/x" --watch-cut 2s
is "$RC" 2 "--watch-cut 2s: exit 2"
run "$CONTAIN" capture x -o "$T_DIR/x" --watch-cut 2 --no-quarantine
is "$RC" 2 "--watch-cut without the quarantine: exit 2"
like "$ERR" "needs the quarantine" "it says why"
run "$CONTAIN" capture x -o "$T_DIR/x" --observe 2 --no-pcap
is "$RC" 2 "--observe without the pcap: exit 2"
ok "no bag made by a usage error" test ! -e "$T_DIR/x"
run "$CONTAIN" capture --help
like "$OUT" "--watch-cut SECS" "--help names --watch-cut"
like "$OUT" "wipe themselves" "--help says what watching risks"
like "$OUT" "keeps talking" "--help says what observing risks"

# ---------------------------------------------------------------- A
# the beacon: one short attempt, a pause, again
runc_exec "$A" sh -c "while :; do nc -w 1 $HOST $PORT </dev/null; sleep 0.3; done" \
	</dev/null >/dev/null 2>&1 &
on_exit "kill $!"
# the prober: the container's httpd from the host
(while :; do timeout 1 busybox nc -w 1 "$CTRA" 8080 </dev/null >/dev/null 2>&1; sleep 0.3; done) &
PROBER=$!
on_exit "kill $PROBER"
ok "the container's httpd answers the host before the capture" \
	wait_for 30 sh -c "timeout 5 busybox wget -q -O /dev/null http://$CTRA:8080/"

# a second container captured at the same time: its own host group
BB=$T_DIR/bag-b
timeout 120 "$CONTAIN" capture "$B" -o "$BB" --pcap-seconds 1 --watch-cut 2 \
	>"$T_DIR/b.out" 2>"$T_DIR/b.err" &
BPID=$!

BA=$T_DIR/bag-a
run timeout 120 "$CONTAIN" capture "$A" -o "$BA" --observe 1 --watch-cut 2 --pcap-seconds 1 --json
is "$RC" 0 "capture --observe 1 --watch-cut 2 exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
wait "$BPID"
is "$?" 0 "the concurrent capture of B exits 0"
kill "$PROBER" 2>/dev/null

# the container's table belongs in its netns: never in the host's (a parent
# that used libnftables before forking once made the child add it here)
host_has_q() {
	local qa qb
	read -r qa _ < <(table_names "$A")
	read -r qb _ < <(table_names "$B")
	nft list tables 2>/dev/null | grep -qE " ($qa|$qb)\$"
}
fails_quiet() { ! "$@"; }
ok "no quarantine table of A or B in the host's netns" fails_quiet host_has_q
ok "contain verify passes" "$CONTAIN" verify "$BA"
ok "sha256sum -c manifest-sha256.txt passes inside the bag" \
	sh -c "cd '$BA' && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt"

# the windows
W=$(jq -c .windows "$BA/index.json")
diag "windows: $W"
for k in pcap cut_start cut freeze_start frozen pcap_stop; do
	like "$(jq -r ".times.$k" <<<"$W")" '^20[0-9-]+T[0-9:.]+Z$' "index.json windows: $k is an RFC 3339 time"
done
T_PCAP=$(ep "$(jq -r .times.pcap <<<"$W")")
T_CUTS=$(ep "$(jq -r .times.cut_start <<<"$W")")
T_CUT=$(ep "$(jq -r .times.cut <<<"$W")")
T_FRZS=$(ep "$(jq -r .times.freeze_start <<<"$W")")
T_FRZ=$(ep "$(jq -r .times.frozen <<<"$W")")
T_STOP=$(ep "$(jq -r .times.pcap_stop <<<"$W")")
ok "the instants are in order: pcap, cut start, cut, freeze start, frozen, pcap stop" \
	awk -v a="$T_PCAP" -v b="$T_CUTS" -v c="$T_CUT" -v d="$T_FRZS" -v e="$T_FRZ" -v f="$T_STOP" \
	'BEGIN { exit !(a <= b && b <= c && c <= d && d <= e && e <= f) }'
is "$(jq -r '[.observed.from, .observed.to, .cut_running.from, .cut_running.to, .frozen.from, .frozen.to] | join(" ")' <<<"$W")" \
	"$(jq -r '[.times.pcap, .times.cut_start, .times.cut, .times.freeze_start, .times.frozen, .times.pcap_stop] | join(" ")' <<<"$W")" \
	"the windows: observed pcap->cut start, cut_running cut->freeze start, frozen frozen->pcap stop"
is "$(jq -r '"\(.observed.seconds_asked) \(.cut_running.seconds_asked)"' <<<"$W")" "1 2" "the windows say what was asked"
is "$(jq -c .windows "$BA/data/quarantine.json")" "$W" "quarantine.json states the same windows"
is "$(jq -c .windows <<<"$OUT")" "$W" "the --json summary states the same windows"

# outbound attempts while cut off and running: in the container's NFLOG pcap
E0=$BA/data/network/capture-eth0.pcap
NF=$BA/data/network/capture-nflog.pcap
HN=$BA/data/network/capture-host-nflog.pcap
ok "tcpdump -r reads the three pcaps" sh -c "tcpdump -nn -r '$E0' && tcpdump -nn -r '$NF' && tcpdump -nn -r '$HN'"
OUTC=$(syns "$NF" "$CTRA" "$HOST\.$PORT" | count_between "$T_CUT" "$T_FRZS")
ok "the beacon's attempts after the cut, before the freeze, are in capture-nflog.pcap ($OUTC)" test "$OUTC" -gt 0
LATE=$(syns "$E0" "$CTRA" "$HOST\.$PORT" | count_between "$T_CUT" 9999999999)
is "$LATE" 0 "no attempt leaves eth0 once the cut holds"
OBS=$(syns "$E0" "$CTRA" "$HOST\.$PORT" | count_between "$T_PCAP" "$T_CUTS")
ok "--observe: the beacon's attempts before the cut are in the device pcap ($OBS)" test "$OBS" -gt 0

# inbound attempts dropped by the host table: the host's NFLOG pcap
HG=$(jq -r '.host_nflog.nflog_group' "$BA/data/network/pcap-stats.json")
NG=$(jq -r '.nflog_group' "$BA/data/network/pcap-stats.json")
like "$HG" '^[0-9]+$' "pcap-stats.json names the host NFLOG group ($HG)"
isnt_same() { [ "$1" != "$2" ]; }
ok "the host group ($HG) is not the netns group ($NG)" isnt_same "$HG" "$NG"
QH=$(jq -r '.state.network.host_table.name' "$BA/data/quarantine.json")
like "$(nft list table netdev "$QH" 2>&1)" "log prefix \"contain-q\" group $HG" \
	"the host table logs its drops to that group"
INC=$(syns "$HN" "$HOST" "$CTRA\.8080" | count_between "$T_CUT" 9999999999)
ok "the prober's attempts after the cut are in capture-host-nflog.pcap ($INC)" test "$INC" -gt 0
[ "$INC" -gt 0 ] || diag "$(tcpdump -nn -tt -r "$HN" 2>&1 | head -20)"
like "$(jq -r '.artifacts[].path' "$BA/index.json")" 'data/network/capture-host-nflog.pcap' \
	"index.json lists the host NFLOG pcap"
if command -v tshark >/dev/null 2>&1; then
	TS=$(tshark -r "$HN" -Y "ip.dst == $CTRA && tcp.dstport == 8080 && tcp.flags.syn == 1" 2>/dev/null | wc -l)
	ok "tshark decodes the host NFLOG pcap: the prober's SYNs ($TS)" test "$TS" -gt 0
	TS=$(tshark -r "$NF" -Y "ip.dst == $HOST && tcp.dstport == $PORT" 2>/dev/null | wc -l)
	ok "tshark decodes the container's NFLOG pcap: the beacon's SYNs ($TS)" test "$TS" -gt 0
else
	skip "tshark decodes the host NFLOG pcap" "no tshark"
	skip "tshark decodes the container's NFLOG pcap" "no tshark"
fi

# B at the same time
ok "B's bag verifies" "$CONTAIN" verify "$BB"
HGB=$(jq -r '.host_nflog.nflog_group' "$BB/data/network/pcap-stats.json" 2>/dev/null)
like "$HGB" '^[0-9]+$' "B's capture bound a host group too ($HGB)"
ok "the two concurrent captures hold different host groups ($HG, $HGB)" isnt_same "$HG" "$HGB"
ok "B's bag states its windows" test "$(jq -r '.windows.cut_running.seconds_asked' "$BB/index.json")" = 2

# A stays quarantined: its host table still logs to HG, which nobody binds
# now. A later capture told to start at HG (test hook) must pass it by, or
# A's drops would land in its bag.
(while :; do timeout 1 busybox nc -w 1 "$CTRA" 8080 </dev/null >/dev/null 2>&1; sleep 0.3; done) &
PROBER=$!
on_exit "kill $PROBER"
BC=$T_DIR/bag-c
run env CONTAIN_TEST_HOST_NFLOG_FIRST="$HG" timeout 120 "$CONTAIN" capture "$C" -o "$BC" --pcap-seconds 2
is "$RC" 0 "a later capture starting at A's host group exits 0"
kill "$PROBER" 2>/dev/null
HGC=$(jq -r '.host_nflog.nflog_group' "$BC/data/network/pcap-stats.json" 2>/dev/null)
like "$HGC" '^[0-9]+$' "it bound a host group ($HGC)"
ok "not the group A's table still logs to ($HG)" isnt_same "$HG" "$HGC"
is "$(syns "$BC/data/network/capture-host-nflog.pcap" "$HOST" "$CTRA\.8080" | wc -l)" 0 \
	"none of A's drops are in its bag"
ok "C's bag verifies" "$CONTAIN" verify "$BC"
read -r QC _ < <(table_names "$C")
like "$QC" '^contain_q_[0-9a-f]{12}$' "C's netns table name (keyed)"
ok "no quarantine table of C in the host's netns" fails_quiet sh -c "nft list tables | grep -q ' $QC\$'"

run "$CONTAIN" release "$A"
is "$RC" 0 "release A"
run "$CONTAIN" release "$C"
is "$RC" 0 "release C"

# ---------------------------------------------------------------- D
# root in the container holds the NFLOG group the capture would take in its
# netns (7700 + pid % 1000, src/capture/capture.c): the capture passes it by,
# binds the next free one, and the netns table logs there
runc_exec "$D" sh -c "while :; do nc -w 1 $HD $PORT </dev/null; sleep 0.3; done" \
	</dev/null >/dev/null 2>&1 &
on_exit "kill $!"
# bind NFLOG groups G .. G+N-1 (NFULNL_CFG_CMD_BIND) and hold them
cat >"$T_DIR/nflog-hold.py" <<'PY'
import socket, struct, sys, time
g0, n = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1
socks, ok = [], 0
for g in range(g0, g0 + n):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    s.bind((0, 0))
    body = struct.pack("=BBH", 0, 0, socket.htons(g)) + struct.pack("=HHB3x", 5, 1, 1)
    s.send(struct.pack("=IHHII", 16 + len(body), (4 << 8) | 1, 1 | 4, 1, 0) + body)
    r = s.recv(4096)
    ok += struct.unpack("=i", r[16:20])[0] == 0
    socks.append(s)
print("bound" if ok == n else "refused", flush=True)
time.sleep(300)
PY
# the pid of contain under `timeout` (the group is derived from it)
capture_pid() { pgrep -P "$1" -x contain | head -1; }
BD=$T_DIR/bag-d
P=$T_DIR/pause-d
CONTAIN_TEST_PAUSE_AT=pcap CONTAIN_TEST_PAUSE_FILE=$P timeout 120 "$CONTAIN" capture "$D" -o "$BD" \
	--pcap-seconds 1 --watch-cut 2 >"$T_DIR/d.out" 2>"$T_DIR/d.err" &
CAPD=$!
ok "the capture of D pauses before its pcap (test hook)" wait_for 60 test -s "$P"
G0=$((7700 + $(capture_pid "$CAPD") % 1000))
nsenter --net="/proc/$DPID/ns/net" python3 "$T_DIR/nflog-hold.py" "$G0" >"$T_DIR/hold.out" 2>&1 &
HOLD=$!
on_exit "kill $HOLD"
ok "a socket in D's netns holds group $G0" wait_for 10 grep -qx bound "$T_DIR/hold.out"
rm -f "$P"
wait "$CAPD"
is "$?" 0 "the capture of D exits 0"
GD=$(jq -r '.nflog_group' "$BD/data/network/pcap-stats.json")
ok "it bound another group of D's netns ($GD, not $G0)" isnt_same "$GD" "$G0"
like "$(jq -c '.steps[0]' "$BD/data/quarantine.json")" "\"nflog_group\":$GD" \
	"the netns table was built to log to that group"
DC=$(ep "$(jq -r .windows.times.cut "$BD/index.json")")
DF=$(ep "$(jq -r .windows.times.freeze_start "$BD/index.json")")
DN=$(syns "$BD/data/network/capture-nflog.pcap" "$CD" "$HD\.$PORT" | count_between "$DC" "$DF")
ok "D's attempts after the cut are in its capture-nflog.pcap all the same ($DN)" test "$DN" -gt 0
kill "$HOLD" 2>/dev/null
run "$CONTAIN" release "$D"
is "$RC" 0 "release D"

# every group the capture would try is held: the post-cut record is lost, and
# the capture says so (exit 1, named missing), the bag still verifies
BD2=$T_DIR/bag-d2
rm -f "$T_DIR/hold.out"
CONTAIN_TEST_PAUSE_AT=pcap CONTAIN_TEST_PAUSE_FILE=$P timeout 120 "$CONTAIN" capture "$D" -o "$BD2" \
	--pcap-seconds 1 --json >"$T_DIR/d2.out" 2>"$T_DIR/d2.err" &
CAPD=$!
wait_for 60 test -s "$P"
G0=$((7700 + $(capture_pid "$CAPD") % 1000))
nsenter --net="/proc/$DPID/ns/net" python3 "$T_DIR/nflog-hold.py" "$G0" 64 >"$T_DIR/hold.out" 2>&1 &
HOLD=$!
on_exit "kill $HOLD"
ok "sockets in D's netns hold the 64 groups from $G0" wait_for 10 grep -qx bound "$T_DIR/hold.out"
rm -f "$P"
wait "$CAPD"
RCD=$?
is "$RCD" 1 "with no free group the capture exits 1"
[ "$RCD" = 1 ] || diag "$(jq -c "{missing, warnings}" "$T_DIR/d2.out"; jq -c ".nflog_group, .notes" "$BD2/data/network/pcap-stats.json"; cat "$T_DIR/hold.out")"
like "$(jq -r '.missing[] | .artifact + ": " + .reason' "$T_DIR/d2.out")" \
	'data/network/capture-nflog.pcap: no free NFLOG group' "it names the NFLOG pcap as missing, and why"
ok "that bag verifies" "$CONTAIN" verify "$BD2"
kill "$HOLD" 2>/dev/null
run "$CONTAIN" release "$D"
is "$RC" 0 "release D again"
run "$CONTAIN" release "$B"
is "$RC" 0 "release B"
done_testing

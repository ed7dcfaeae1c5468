#!/bin/bash
# t0410: contain quarantine / release / audit verify against real runc
# containers with a veth into their netns.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq busybox readelf
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
# the addresses below are this test's own: two runs of it at once (two
# engineers, make check) would collide, so they take turns
exec 9>/tmp/contain-t0410.lock
flock -w 1200 9 || skip_all "another run of t0410 holds /tmp/contain-t0410.lock"

S=$$
HIF=cq${S}a                 # host end of the container's veth
NSIF=cq${S}b                # host end of the second test netns
TNS=contain-t0410-$S
H=10.213.41.1 C=10.213.41.2 # container link /30
T1=10.213.42.1 T2=10.213.42.2 # second netns link /30
HPORT=18101 TPORT=18102

# --- the container: httpd on 8080 (its init), plus a loop that keeps trying
# to reach the host listener, counting attempts and successes in its /tmp
cat >"$T_DIR/extra" <<EOF
#!/bin/sh
while :; do
	if timeout 2 wget -q -O /dev/null http://$H:$HPORT/; then echo x >>/tmp/ok; fi
	echo x >>/tmp/attempts
	sleep 0.2
done
EOF
runc_run "t0410-$S-a" --extra "$T_DIR/extra" || skip_all "runc_run failed"
on_exit "\"$CONTAIN\" release \"$CID\""  # whatever a failed check left in place
A=$CID APID=$CPID AUP=$CUPPER
veth_attach "$APID" "$HIF" "$H/30" "$C/30" || skip_all "cannot make a veth into the container netns"
testns_add "$TNS" "$NSIF" "$T1/30" "$T2/30" "$HIF" || skip_all "cannot make the second test netns"
# IPv6 too (ULA, no DAD wait): the cut must hold for v6, UDP and ICMP
H6=fd00:213:41::1 C6=fd00:213:41::2 UPORT=18103
ip -6 addr add "$H6/64" dev "$HIF" nodad || skip_all "cannot add an IPv6 address on the host veth"
nsenter --net="/proc/$APID/ns/net" ip -6 addr add "$C6/64" dev eth0 nodad ||
	skip_all "cannot add an IPv6 address in the container"
# a UDP listener on the host, v4 and v6: one line per datagram received
python3 -c '
import socket, select, sys
socks = []
for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, int(sys.argv[3])))
    socks.append(s)
with open(sys.argv[4], "a", buffering=1) as f:
    while True:
        for s in select.select(socks, [], [])[0]:
            s.recvfrom(2048)
            f.write("%d\n" % s.family)
' "$H" "$H6" "$UPORT" "$T_DIR/udp.log" &
UDPL=$!
on_exit "kill $UDPL"

mkdir -p "$T_DIR/www"
echo host-side >"$T_DIR/www/index.html"
busybox httpd -f -p "$H:$HPORT" -h "$T_DIR/www" &
HTTPD_H=$!
on_exit "kill $HTTPD_H"
ip netns exec "$TNS" busybox httpd -f -p "$T2:$TPORT" -h "$T_DIR/www" &
HTTPD_T=$!
on_exit "kill $HTTPD_T"

count() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# count_ge FILE N: FILE has at least N lines (evaluated at each poll)
count_ge() { [ "$(count "$1")" -ge "$2" ]; }
host_to_ctr() { timeout 3 busybox wget -q -O- "http://$C:8080/" | grep -q 'contain fixture'; }
ctr_to_host() { in_ctr "$A" timeout 3 wget -q -O- "http://$H:$HPORT/" 2>/dev/null | grep -q host-side; }
ctr_to_testns() { in_ctr "$A" timeout 3 wget -q -O- "http://$T2:$TPORT/" 2>/dev/null | grep -q host-side; }
host_ping4() { busybox ping -c 1 -W 1 "$C" >/dev/null 2>&1; }
host_ping6() { busybox ping -6 -c 1 -W 1 "$C6" >/dev/null 2>&1; }
# UDP from the container (a tftp request) reaches the host listener
ctr_udp() {
	local n0
	n0=$(count "$T_DIR/udp.log")
	in_ctr "$A" timeout 2 tftp -g -r x -l /tmp/tftp.out "$1" "$UPORT" >/dev/null 2>&1
	wait_for 1 count_ge "$T_DIR/udp.log" $((n0 + 1))
}
ctr_loopback() { in_ctr "$A" timeout 3 wget -q -O- "http://127.0.0.1:8080/" 2>/dev/null | grep -q 'contain fixture'; }
# wait until the container's loop has made N more attempts than now
more_attempts() {
	local n0
	n0=$(count "$AUP/tmp/attempts")
	wait_for 60 count_ge "$AUP/tmp/attempts" $((n0 + $1))
}
cg2=/sys/fs/cgroup/unified/contain-test/$A
v1=/sys/fs/cgroup/freezer/contain-test/$A
cgfiles() { cat "$cg2/cgroup.freeze" "$cg2/cgroup.events" "$v1/freezer.state" 2>/dev/null; }
# every task of a cgroup dir: none running, and each State letter is in $2
all_tasks_in_state() {
	local dir=$1 want=$2 t s n=0
	for t in $(cat "$dir/$3"); do
		s=$(awk '/^State:/ {print $2}' "/proc/$t/status" 2>/dev/null) || continue
		[ -z "$s" ] && continue
		case "$want" in *"$s"*) ;; *) echo "task $t in state $s" >&2; return 1 ;; esac
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# --- before: every direction works
wait_for 30 host_to_ctr
ok "before: host reaches the container" host_to_ctr
ok "before: the container reaches the host" ctr_to_host
ok "before: the container reaches the second test netns" wait_for 20 ctr_to_testns
ok "before: the container's loop reaches the host" wait_for 30 count_ge "$AUP/tmp/ok" 2
ok "before: ICMP host -> container" wait_for 10 host_ping4
ok "before: ICMPv6 host -> container" wait_for 10 host_ping6
ok "before: UDP container -> host" wait_for 10 ctr_udp "$H"
ok "before: UDP over IPv6 container -> host" wait_for 10 ctr_udp "$H6"

# other tests may add and remove their own tables on the host at any time:
# the host snapshot holds the tables of this test's containers only
OURS=""
add_ours() {
	local t
	for t in $("$CONTAIN" --json quarantine --dry-run "$1" | jq -r '.netns_ruleset, .host_ruleset' |
		awk '/^create table/ {print $4}'); do
		OURS=${OURS:+$OURS|}$t
	done
}
host_snap() {
	nft -j list ruleset | jq -c --arg re "^($OURS)\$" '[.nftables[] |
		select((.table.name? // .chain.table? // .rule.table? // .set.table? // "") | test($re))]'
}
add_ours "$A"
like "$OURS" "^contain_q_[0-9a-f]{12}[|]contain_h_[0-9a-f]{12}$" "the container's table names"
host_before=$(host_snap)
is "$host_before" "[]" "no table of ours on the host before"
ns_before=$(nft_snapshot "$APID")
cg_before=$(cgfiles)

# --- dry run: prints, touches nothing
run "$CONTAIN" quarantine --dry-run "$A"
is "$RC" 0 "dry run exits 0"
like "$OUT" "create table inet contain_q_" "dry run prints the netns ruleset"
like "$OUT" "hook ingress device \"$HIF\"" "dry run prints the host ingress chain on the host veth"
like "$OUT" "hook egress device \"$HIF\"" "dry run prints the host egress chain"
like "$OUT" "cgroup.freeze|freezer.state" "dry run names the cgroup file"
is "$(host_snap)" "$host_before" "dry run: host ruleset unchanged"
is "$(nft_snapshot "$APID")" "$ns_before" "dry run: netns ruleset unchanged"
is "$(cgfiles)" "$cg_before" "dry run: cgroup files unchanged"
ok "dry run: no state file" test ! -e "$CONTAIN_STATE_DIR/$A.json"
ok "dry run: nothing audited" test ! -s "$CONTAIN_AUDIT_LOG"

# --- network cut only: processes still run
run "$CONTAIN" quarantine --net-only "$A"
is "$RC" 0 "quarantine --net-only exits 0"
like "$OUT" "network cut" "it says what holds"
fails "after: host cannot reach the container" host_to_ctr
fails "after: the container cannot reach the host" ctr_to_host
fails "after: the container cannot reach the second test netns" ctr_to_testns
ok "after: loopback inside the container still works" ctr_loopback
fails "after: ICMP host -> container is cut" host_ping4
fails "after: ICMPv6 host -> container is cut" host_ping6
fails "after: UDP container -> host is cut" ctr_udp "$H"
fails "after: UDP over IPv6 container -> host is cut" ctr_udp "$H6"
more_attempts 2
ok_before=$(count "$AUP/tmp/ok")
ok "the container's loop keeps trying" more_attempts 5
is "$(count "$AUP/tmp/ok")" "$ok_before" "none of its attempts got through"
tbl_h=$(nft list tables netdev | awk '{print $3}' | grep -xE "$OURS")
like "$tbl_h" "^contain_h_[0-9a-f]{12}$" "the host-side netdev table is there"
like "$(nft list table netdev "$tbl_h")" "device \"$HIF\"" "its chains are bound to the host veth"
like "$(nft_snapshot "$APID")" "priority raw - 10; policy drop" "the netns table drops before conntrack"
ok "state file written" test -s "$CONTAIN_STATE_DIR/$A.json"
is "$(stat -c %a "$CONTAIN_STATE_DIR/$A.json")" 600 "state file is 0600"

# --- root in the container's netns flushes its ruleset: the host table holds
nsenter --net="/proc/$APID/ns/net" nft flush ruleset
is "$(nft_snapshot "$APID")" "" "the netns ruleset is flushed (as root inside could)"
fails "after flush: host still cannot reach the container" host_to_ctr
fails "after flush: the container still cannot reach the host" ctr_to_host
fails "after flush: nor the second test netns" ctr_to_testns

# --- freeze too; the flushed netns table is read from the kernel and re-applied
run "$CONTAIN" quarantine "$A"
is "$RC" 0 "quarantine (freeze added) exits 0"
like "$ERR" "re-applied.*netns table" "it says the flushed netns table was re-applied"
like "$(nft_snapshot "$APID")" "priority raw - 10; policy drop" "the netns table is back"
like "$OUT" "frozen \(cgroup2" "frozen through the unified cgroup"
like "$(cat "$cg2/cgroup.events")" "frozen 1" "cgroup.events says frozen 1"
ok "every task is frozen (not running, in the freezer trap)" all_tasks_in_state "$cg2" S cgroup.threads
is "$(jq -r .freeze.kind "$CONTAIN_STATE_DIR/$A.json")" cgroup2 "the state records the freezer used"

# --- idempotent
state_sum=$(sha256sum <"$CONTAIN_STATE_DIR/$A.json")
host_q=$(host_snap)
run "$CONTAIN" quarantine "$A"
is "$RC" 0 "quarantining a quarantined container exits 0"
like "$OUT" "already quarantined" "and says so"
is "$(sha256sum <"$CONTAIN_STATE_DIR/$A.json")" "$state_sum" "the state file is unchanged"
is "$(host_snap)" "$host_q" "the host ruleset is unchanged"

# --- release
run "$CONTAIN" release "$A"
is "$RC" 0 "release exits 0"
unlike "$ERR" "already gone" "every table it recorded was there to remove"
like "$OUT" "thawed" "it thawed"
like "$(cat "$cg2/cgroup.events")" "frozen 0" "the cgroup is thawed"
is "$(cat "$cg2/cgroup.freeze")" 0 "cgroup.freeze is back to 0"
ok "after release: host reaches the container" wait_for 20 host_to_ctr
ok "after release: the container reaches the host" wait_for 20 ctr_to_host
ok "after release: the container reaches the second test netns" wait_for 20 ctr_to_testns
ok "after release: ICMP host -> container" wait_for 10 host_ping4
ok "after release: ICMPv6 host -> container" wait_for 10 host_ping6
ok "after release: UDP container -> host" wait_for 10 ctr_udp "$H"
ok "after release: UDP over IPv6 container -> host" wait_for 10 ctr_udp "$H6"
ok_before=$(count "$AUP/tmp/ok")
ok "after release: the loop gets through again" wait_for 30 count_ge "$AUP/tmp/ok" $((ok_before + 1))
is "$(host_snap)" "$host_before" "no table or chain left on the host"
is "$(nft_snapshot "$APID")" "$ns_before" "no table left in the netns"
is "$(cgfiles)" "$cg_before" "no cgroup setting left behind"
ok "no state file left" test ! -e "$CONTAIN_STATE_DIR/$A.json"

run "$CONTAIN" release "$A"
is "$RC" 1 "releasing a container that is not quarantined exits 1"
like "$ERR" "not quarantined" "and says so"

# --- a full quarantine in one go, with an allow entry and NFLOG, and release
run "$CONTAIN" quarantine --allow "$H/32:$HPORT" --nflog-group 4711 "$A"
is "$RC" 0 "quarantine with --allow and --nflog-group exits 0"
like "$(nft_snapshot "$APID")" "log prefix \"contain-q\" group 4711" "the netns drop chains log to NFLOG"
like "$(nft list table netdev "$tbl_h")" "ip daddr $H meta l4proto \{ tcp, udp \} th dport $HPORT accept" "the host chain lets the allowed collector through"
run "$CONTAIN" --json release "$A"
is "$RC" 0 "release --json exits 0"
is "$(printf '%s' "$OUT" | jq -r '.netns_table_removed and .host_table_removed and .thawed')" true "both tables removed and thawed"
is "$(host_snap)" "$host_before" "host ruleset restored"

# --- --allow really lets the collector through (net only, so we can exec)
run "$CONTAIN" quarantine --net-only --allow "$H/32:$HPORT" "$A"
ok "allowed collector reachable from the container" wait_for 10 ctr_to_host
fails "the second test netns is still cut" ctr_to_testns
fails "the host still cannot reach the container's httpd" host_to_ctr
run "$CONTAIN" release "$A"
is "$RC" 0 "release after --allow"

# --- --keep-network thaws only
run "$CONTAIN" quarantine "$A"
run "$CONTAIN" release --keep-network "$A"
is "$RC" 0 "release --keep-network exits 0"
like "$(cat "$cg2/cgroup.events")" "frozen 0" "--keep-network thaws"
fails "--keep-network: the cut stays" host_to_ctr
run "$CONTAIN" release "$A"
is "$RC" 0 "then a full release"
is "$(host_snap)" "$host_before" "host ruleset restored after --keep-network"
ok "reachable again" wait_for 20 host_to_ctr

# --- without libcrypto (a stub of its SONAME first on LD_LIBRARY_PATH): on a
# CPU with SHA-NI, quarantine and release need it only for --audit-key
so=$(lib_soname libcrypto)
if cpu_sha_ni && [ -n "$so" ]; then
	mkdir -p "$T_DIR/nocrypto"
	echo "not a library" >"$T_DIR/nocrypto/$so"
	run env LD_LIBRARY_PATH="$T_DIR/nocrypto" "$CONTAIN" quarantine "$A"
	is "$RC" 0 "no libcrypto: quarantine exits 0"
	like "$(cat "$cg2/cgroup.events")" "frozen 1" "no libcrypto: frozen"
	fails "no libcrypto: cut" host_to_ctr
	run env LD_LIBRARY_PATH="$T_DIR/nocrypto" "$CONTAIN" release "$A"
	is "$RC" 0 "no libcrypto: release exits 0"
	ok "no libcrypto: reachable again" wait_for 20 host_to_ctr
	run "$CONTAIN" audit verify
	is "$RC" 0 "no libcrypto: the audit chain it appended to is intact"
else
	skip "quarantine without libcrypto" "no SHA-NI (libcrypto hashes there) or no libcrypto SONAME"
fi

# --- a container that forks as fast as it can ends up fully frozen
section "a container that forks as fast as it can"
cat >"$T_DIR/forker" <<'EOF'
#!/bin/sh
while :; do sleep 0 & done
EOF
runc_run "t0410-$S-f" --extra "$T_DIR/forker" || section_skip "runc_run (forker) failed"
on_exit "\"$CONTAIN\" release \"$CID\""  # whatever a failed check left in place
F=$CID
runc --root "$RUNC_ROOT" update --pids-limit 200 "$F" 2>/dev/null || diag "no pids limit for the fork loop"
fcg=/sys/fs/cgroup/unified/contain-test/$F
wait_for 30 count_ge "$fcg/cgroup.procs" 5
run "$CONTAIN" quarantine --freeze-only "$F"
is "$RC" 0 "fork loop: quarantine --freeze-only exits 0"
like "$(cat "$fcg/cgroup.events")" "frozen 1" "fork loop: the cgroup is frozen"
ok "fork loop: every task frozen" all_tasks_in_state "$fcg" S cgroup.threads
p1=$(sort "$fcg/cgroup.procs")
sleep 1
is "$(sort "$fcg/cgroup.procs")" "$p1" "fork loop: the set of pids stops changing"
ok "fork loop: still every task frozen" all_tasks_in_state "$fcg" S cgroup.threads
run "$CONTAIN" release "$F"
is "$RC" 0 "fork loop: release"
like "$(cat "$fcg/cgroup.events")" "frozen 0" "fork loop: thawed"

# --- the v1 freezer: forced on the same container, and a container without a cgroup2 dir
run "$CONTAIN" quarantine --freeze-only --freezer v1 "$F"
is "$RC" 0 "--freezer v1 exits 0"
is "$(cat "/sys/fs/cgroup/freezer/contain-test/$F/freezer.state")" FROZEN "v1 freezer.state FROZEN"
run "$CONTAIN" release "$F"
is "$(cat "/sys/fs/cgroup/freezer/contain-test/$F/freezer.state")" THAWED "v1: thawed by release"

section "a container without a cgroup2 dir"
runc_run "t0410-$S-v" --freezer-only || section_skip "runc_run --freezer-only failed"
on_exit "\"$CONTAIN\" release \"$CID\""  # whatever a failed check left in place
V=$CID
vcg=/sys/fs/cgroup/freezer/contain-test/$V
run "$CONTAIN" --json quarantine --freeze-only "$V"
is "$RC" 0 "v1-only container: quarantine exits 0"
is "$(printf '%s' "$OUT" | jq -r .state.freeze.kind)" freezer-v1 "v1-only container: the v1 freezer is used"
is "$(cat "$vcg/freezer.state")" FROZEN "v1-only container: FROZEN"
ok "v1-only container: every task frozen (D)" all_tasks_in_state "$vcg" D tasks
run "$CONTAIN" release "$V"
is "$(cat "$vcg/freezer.state")" THAWED "v1-only container: thawed"

# --- a container on the host network: refused for the network, freeze works
section "a container on the host network"
runc_run "t0410-$S-h" --net host || section_skip "runc_run --net host failed"
on_exit "\"$CONTAIN\" release \"$CID\""  # whatever a failed check left in place
N=$CID
hb=$(host_snap)
run "$CONTAIN" quarantine "$N"
is "$RC" 3 "host-network container: quarantine exits 3"
like "$ERR" "host network" "and says why"
is "$(host_snap)" "$hb" "host-network container: nothing added to the host ruleset"
ok "host-network container: no state file" test ! -e "$CONTAIN_STATE_DIR/$N.json"
run "$CONTAIN" quarantine --freeze-only "$N"
is "$RC" 0 "host-network container: --freeze-only works"
run "$CONTAIN" release "$N"
is "$RC" 0 "host-network container: release"

# --- a container that exits while quarantined
section "a container that exits while quarantined"
runc_run "t0410-$S-x" || section_skip "runc_run failed"
on_exit "\"$CONTAIN\" release \"$CID\""  # whatever a failed check left in place
X=$CID XPID=$CPID
add_ours "$X"
veth_attach "$XPID" "cq${S}x" 10.213.43.1/30 10.213.43.2/30 || section_skip "veth for the exiting container"
run "$CONTAIN" quarantine --net-only "$X"
is "$RC" 0 "exiting container: net cut in place"
runc --root "$RUNC_ROOT" kill "$X" KILL
wait_for 30 test ! -d "/proc/$XPID"
run "$CONTAIN" quarantine "$X"
is "$RC" 3 "exiting container: the freeze step fails: exit 3 (the work could not be done; the cut holds)"
run "$CONTAIN" release "$X"
is "$RC" 0 "exiting container: release still works from the state file"
like "$ERR" "gone" "and reports what was gone"
is "$(host_snap)" "$host_before" "exiting container: nothing left on the host"
ok "exiting container: no state file left" test ! -e "$CONTAIN_STATE_DIR/$X.json"

# --- the audit log
section "the audit log"
ok "audit log exists" test -s "$CONTAIN_AUDIT_LOG"
is "$(stat -c %a "$CONTAIN_AUDIT_LOG")" 600 "audit log is 0600"
run "$CONTAIN" audit verify
is "$RC" 0 "audit verify: the chain is intact"
like "$(jq -r .action "$CONTAIN_AUDIT_LOG" | sort -u | tr '\n' ' ')" "quarantine release" "quarantine and release are audited"
like "$(jq -r 'select(.action=="quarantine") | .result' "$CONTAIN_AUDIT_LOG" | sort -u | tr '\n' ' ')" "failed|partial" "failures are audited too"
is "$(jq -r 'select(.result=="already") | .target' "$CONTAIN_AUDIT_LOG" | head -1)" "$A" "the no-op is audited with its container"
like "$(head -1 "$CONTAIN_AUDIT_LOG" | jq -r '.time')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$' "audit time is UTC with nanoseconds"
is "$(head -1 "$CONTAIN_AUDIT_LOG" | jq -r '.actor.uid')" 0 "audit names the uid"
cp "$CONTAIN_AUDIT_LOG" "$T_DIR/tampered.jsonl"
sed -i '2s/"action":"quarantine"/"action":"quarantinE"/' "$T_DIR/tampered.jsonl"
fails_with 1 "the tampered copy differs" cmp -s "$CONTAIN_AUDIT_LOG" "$T_DIR/tampered.jsonl"
run "$CONTAIN" audit verify "$T_DIR/tampered.jsonl"
is "$RC" 1 "audit verify: a tampered line exits 1"
like "$ERR" "line [23]" "and names the broken line"

done_testing

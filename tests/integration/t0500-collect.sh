#!/bin/bash
# t0500-collect: the live collectors (processes, network state, pcap) against
# a real runc container, through tests/tools/collect-driver:
#  - a planted process runs a deleted copy of busybox as `sleep`: tree.json
#    flags it and hashes the original bytes;
#  - httpd listens on 8080 and a loop tries to reach the host end of a veth
#    (its answers dropped inside the container, so the attempts stay in
#    SYN_SENT): state.json shows both with their pids;
#  - the pcap of eth0 (tcpdump -r, tshark -r) shows the SYNs; after a
#    `log group 5` drop rule (the quarantine cut's shape) the nflog:5 pcap
#    holds the attempts that never reached the device;
#  - a FIFO planted as /etc/resolv.conf is skipped, never blocks;
#  - the byte bound ends a capture on generous traffic with a long time
#    bound; the time bound alone ends another (no two bounds raced).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/containers.sh"
. "$(dirname "$0")/../lib/net.sh"
need_root
need_cmd runc jq nsenter nft ip tcpdump tshark sha256sum
command -v collect-driver >/dev/null 2>&1 || skip_all "collect-driver not built (make test-bins)"
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"

HOST=10.213.50.1
CTRA=10.213.50.2
NFG=5

cat >"$T_DIR/extra.sh" <<'EOF'
#!/bin/sh
# a process whose executable is deleted once it runs
cp /bin/busybox /tmp/sleep
/tmp/sleep 3600 &
k=$!
until [ "$(readlink /proc/$k/exe)" = /tmp/sleep ]; do sleep 0.1; done
rm -f /tmp/sleep
echo $k >/tmp/extra-ready
EOF

C=ct-$$-collect
runc_run "$C" --extra "$T_DIR/extra.sh" || skip_all "cannot start a runc container here"
wait_for 30 test -s "$CMERGED/tmp/extra-ready" || skip_all "the planted process did not start"
veth_attach "$CPID" "h5v$$" "$HOST/30" "$CTRA/30" || skip_all "cannot attach a veth"
NS="nsenter --net=/proc/$CPID/ns/net"
# answers from the host end are dropped inside the container: connection
# attempts to $HOST:9999 stay in SYN_SENT and retransmit
$NS nft add table inet h5test &&
	$NS nft add chain inet h5test input '{ type filter hook input priority 0; policy accept; }' &&
	$NS nft add rule inet h5test input ip saddr $HOST tcp sport 9999 drop &&
	$NS nft add chain inet h5test output '{ type filter hook output priority 0; policy accept; }' ||
	skip_all "cannot add nftables rules in the container netns"
on_exit "$NS nft delete table inet h5test"
# and they stay there for the whole test (the default gives up after ~2 min
# and a new nc would take the socket: its pid would change under us)
$NS sh -c 'echo 127 >/proc/sys/net/ipv4/tcp_syn_retries' || skip_all "cannot set tcp_syn_retries in the container netns"
# (every skip_all above: up front, before the first test)
ok "planted sleep runs a deleted executable" \
	test ! -e "$CMERGED/tmp/sleep"
wait_for 30 sh -c "grep -q ':1F90 0*:0000 0A' /proc/$CPID/net/tcp /proc/$CPID/net/tcp6" ||
	diag "httpd not listening yet"

# ---- pcap, started before the "cut" ----
CAP=$T_DIR/cap
collect-driver pcap --ref "$C" --out "$CAP" --seconds 600 --nflog $NFG 2>"$T_DIR/pcap.err" &
CAPPID=$!
on_exit "kill $CAPPID"
ok "the capture starts in the container netns" wait_for 30 test -f "$CAP/ready"
ok "one pcap for eth0" test -f "$CAP/capture-eth0.pcap"
ok "one pcap for nflog:$NFG" test -f "$CAP/capture-nflog-$NFG.pcap"
ok "no pcap for lo" test ! -e "$CAP/capture-lo.pcap"

# the attempts, from inside the container
runc_exec "$C" sh -c "while :; do nc -w 3600 $HOST 9999 </dev/null; sleep 0.2; done" \
	</dev/null >/dev/null 2>&1 &
ATTPID=$!
on_exit "kill $ATTPID"
syn_in() { tcpdump -nr "$1" 2>/dev/null | grep -q "$CTRA\.[0-9]* > $HOST\.9999: Flags \[S\]"; }
ok "tcpdump -r sees the SYNs to $HOST:9999 in the eth0 pcap" wait_for 60 syn_in "$CAP/capture-eth0.pcap"
ok "a connection attempt sits in SYN_SENT" \
	wait_for 60 sh -c "grep -q ' 02 ' /proc/$CPID/net/tcp"

# ---- network state; a FIFO as resolv.conf must not block ----
mkfifo "$CMERGED/etc/resolv.conf"
run timeout 60 collect-driver net --ref "$C" --out "$T_DIR/state.json"
is "$RC" 0 "net collector exits 0 with a FIFO as /etc/resolv.conf"
S=$T_DIR/state.json
is "$(jq -r '.collector' "$S")" network "state.json is the network collector's"
like "$(jq -r '.resolv_conf.skipped' "$S")" "not a regular file" "the FIFO resolv.conf is skipped and said why"
like "$(jq -r '.notes[]' "$S")" "resolv.conf" "and it is in the notes"
like "$(jq -r '.hosts.content.data' "$S")" "localhost" "hosts is read inside the container root" ||
	diag "hosts: $(jq -c .hosts "$S")"
is "$(jq -r '[.interfaces[].name] | sort | join(",")' "$S")" "eth0,lo" "interfaces: eth0 and lo only"
is "$(jq -r '.interfaces[] | select(.name=="eth0") | .addresses[] | select(.family=="inet") | "\(.address)/\(.prefixlen)"' "$S")" \
	"$CTRA/30" "eth0 has its address"
like "$(jq -r '.interfaces[] | select(.name=="eth0") | .counters.tx_packets' "$S")" "^[1-9]" "eth0 counters"
is "$(jq -r '[.routes[] | select(.dst=="default") | .gateway] | first' "$S")" "$HOST" "default route via the host end"
like "$(jq -c '.nftables' "$S")" '"table":\{[^}]*"name":"h5test"' "the netns nftables ruleset, as JSON"
# busybox httpd listens on [::]:8080 (dual stack): tcp6
LPIDS=$(jq -r '.sockets[] | select((.proto=="tcp" or .proto=="tcp6") and .lport==8080 and .state=="LISTEN") | .pids[]' "$S")
ok "the 8080 listener is in the socket list with a pid" test -n "$LPIDS"
lp=$(echo "$LPIDS" | head -1)
is "$(cat /proc/$lp/comm 2>/dev/null)" httpd "the listener's pid is httpd"
SPIDS=$(jq -r ".sockets[] | select(.proto==\"tcp\" and .remote==\"$HOST\" and .rport==9999 and .state==\"SYN_SENT\") | .pids[]" "$S")
ok "the SYN_SENT attempt to $HOST:9999 is there with a pid" test -n "$SPIDS"
sp=$(echo "$SPIDS" | head -1)
like "$(cat /proc/$sp/cgroup 2>/dev/null)" "contain-test/$C" "that pid is in the container's cgroup"
rm -f "$CMERGED/etc/resolv.conf"

# ---- processes ----
run timeout 120 collect-driver procs --ref "$C" --out "$T_DIR/tree.json"
is "$RC" 0 "procs collector exits 0"
P=$T_DIR/tree.json
is "$(jq -r '.collector' "$P")" processes "tree.json is the processes collector's"
KPID=$(cat "$CMERGED/tmp/extra-ready")
D=$(jq -c '[.pids[] | select(.exe.deleted == true)]' "$P")
is "$(echo "$D" | jq -r '.[0].comm')" sleep "the deleted-executable process is flagged"
is "$(echo "$D" | jq -r '.[0].nspid[1]')" "$KPID" "its pid in the container namespace is NSpid"
is "$(echo "$D" | jq -r '.[0].exe.sha256')" "$(sha256sum "$FIXTURE_ROOTFS/bin/busybox" | cut -d' ' -f1)" \
	"its hash is the original file's, read through /proc/PID/exe"
like "$(echo "$D" | jq -r '.[0].exe.path')" "^/tmp/sleep \(deleted\)$" "its exe path says deleted"
is "$(jq -r ".pids[] | select(.pid==$CPID) | .nspid | join(\",\")" "$P")" "$CPID,1" "the init is pid 1 inside"
is "$(jq -r ".tree.roots | index($CPID) != null" "$P")" true "the init is a root of the tree"
like "$(jq -r ".pids[] | select(.pid==$CPID) | .children | length" "$P")" "^[1-9]" "the init has children"
like "$(jq -r ".pids[] | select(.pid==$CPID) | .start_time" "$P")" '^20[0-9-]+T[0-9:.]+Z$' "start time is absolute UTC"
like "$(jq -r ".pids[] | select(.comm==\"httpd\") | .fds[] | select(.type==\"socket\") | .socket.lport" "$P")" \
	"^8080$" "httpd's socket fd is resolved to the 8080 listener"
like "$(jq -r ".pids[] | select(.pid==$CPID) | .capabilities.effective.names | join(\",\")" "$P")" \
	"CAP_NET_BIND_SERVICE" "capabilities are decoded"
is "$(jq -r ".pids[] | select(.pid==$CPID) | .namespaces.net" "$P")" "$(stat -L -c %i /proc/$CPID/ns/net)" \
	"namespace inodes"
like "$(jq -r ".pids[] | select(.pid==$CPID) | .cmdline.list | join(\" \")" "$P")" "contain-init" "cmdline"
KHOST=$(echo "$D" | jq -r '.[0].pid')
run collect-driver procs --pid "$CPID" --out "$T_DIR/tree-pid.json"
# (the counts may differ: the init's `sleep 1` loop comes and goes)
is "$(jq -r "[.pids[].pid] | (index($CPID) != null) and (index($KHOST) != null)" "$T_DIR/tree-pid.json")" true \
	"--pid finds the container's processes from its cgroup"

# ---- through the cut: a drop rule that logs to NFLOG group $NFG ----
$NS nft insert rule inet h5test output ip daddr $HOST tcp dport 9999 counter log group $NFG drop
# a fresh attempt right away instead of the next retransmission
for p in $SPIDS; do kill "$p" 2>/dev/null; done
logged() { $NS nft list chain inet h5test output | grep -q 'counter packets [1-9]'; }
ok "attempts after the cut hit the log-and-drop rule" wait_for 60 logged
ok "tcpdump -r sees them in the nflog pcap" wait_for 30 syn_in "$CAP/capture-nflog-$NFG.pcap"
kill -TERM "$CAPPID"
ok "the capture stops on SIGTERM" wait_for 60 sh -c "! kill -0 $CAPPID 2>/dev/null"
wait "$CAPPID"
is "$?" 0 "the pcap driver exits 0"
ST=$CAP/stats.json
is "$(jq -r '.ended_by' "$ST")" stopped "stats: ended_by stopped"
like "$(jq -r '.devices[] | select(.name=="nflog:'$NFG'") | .packets' "$ST")" "^[1-9]" "stats count nflog packets"
is "$(jq -r '.devices[] | select(.name=="nflog:'$NFG'") | .linktype_name' "$ST")" NFLOG "nflog pcap has link type NFLOG"
is "$(jq -r '.devices[] | select(.name=="eth0") | .linktype_name' "$ST")" EN10MB "eth0 pcap is Ethernet"
like "$(jq -r '.devices[] | select(.name=="eth0") | .received' "$ST")" "^[1-9]" "stats: received per interface"
total=$(($(stat -c %s "$CAP/capture-eth0.pcap") + $(stat -c %s "$CAP/capture-nflog-$NFG.pcap")))
is "$(jq -r '.bytes' "$ST")" "$total" "stats bytes = the files' sizes"
run tshark -r "$CAP/capture-eth0.pcap" -Y "tcp.flags.syn==1 && ip.dst==$HOST"
like "$OUT" "9999" "tshark -r reads the eth0 pcap"
run tshark -r "$CAP/capture-nflog-$NFG.pcap"
like "$OUT" "$CTRA.*$HOST.*9999.*SYN" "tshark -r reads the nflog pcap"

# ---- the byte bound ends a capture (traffic generous, time bound long) ----
$NS nft flush chain inet h5test output
B2=$T_DIR/cap-bytes
collect-driver pcap --ref "$C" --out "$B2" --seconds 600 --max-bytes 4000 2>"$T_DIR/pcap2.err" &
B2PID=$!
on_exit "kill $B2PID"
ok "second capture starts" wait_for 30 test -f "$B2/ready"
# from the host end to the container (its processes lack CAP_NET_RAW): echo
# requests and replies, 40 a second, far more than 4000 bytes long before 600 s
"$FIXTURE_ROOTFS/bin/busybox" ping -i 0.05 -c 4000 $CTRA </dev/null >/dev/null 2>&1 &
PINGPID=$!
on_exit "kill $PINGPID"
ok "the byte bound ends it by itself" wait_for 300 sh -c "! kill -0 $B2PID 2>/dev/null"
wait "$B2PID"
is "$(jq -r '.ended_by' "$B2/stats.json")" max_bytes "stats: ended_by max_bytes"
bytes=$(jq -r '.bytes' "$B2/stats.json")
ok "it wrote at most max_bytes ($bytes)" test "$bytes" -le 4000
ok "and stopped only when the next packet did not fit ($bytes > 4000 - 1530)" test "$bytes" -gt 2470
is "$(stat -c %s "$B2/capture-eth0.pcap")" "$bytes" "the file is exactly that size"
ok "tcpdump -r reads the bounded pcap" tcpdump -nr "$B2/capture-eth0.pcap"

# ---- the time bound alone ends a capture ----
B3=$T_DIR/cap-time
run timeout 120 collect-driver pcap --ref "$C" --out "$B3" --seconds 1
is "$RC" 0 "a capture bounded by 1 second exits 0"
is "$(jq -r '.ended_by' "$B3/stats.json")" max_seconds "stats: ended_by max_seconds"

done_testing

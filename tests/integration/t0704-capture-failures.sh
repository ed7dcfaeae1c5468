#!/bin/bash
# t0704: capture's own failures are audited, and a container that exits
# during any step of the capture still gives a sealed bag that verifies.
#  A  `capture -o - | head -c 1000` (broken pipe): exit 3, and the audit log
#     (CONTAIN_AUDIT_LOG) holds a "capture" line, result failed, with the error;
#     the same for a bag on a full filesystem (ENOSPC), and for a container
#     that is not running (exit 1); a good capture is audited "ok";
#  B  for each phase of the pipeline (the test hook CONTAIN_TEST_PAUSE_AT in
#     src/cmd/capture.c stops the capture there), every process of the
#     container is killed: capture still seals a bag that verifies (contain
#     verify, sha256sum -c), names what was lost, and exits as documented: 1
#     when something is missing (what the dead container could no longer give),
#     0 when everything had been taken already; never 3, never a crash.
#  C  what capture says holds at its end is read back from the kernel: a thaw
#     and a flushed netns table during the capture (paused at 'metadata')
#     are reported, and it does not say "left quarantined and frozen".
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd runc jq sha256sum timeout head mount umount
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
AUD=$CONTAIN_AUDIT_LOG
# the last "capture" line of the audit log for a target: "result error"
last_capture() {
	jq -r --arg t "$1" 'select(.action == "capture" and .target == $t) | "\(.result) \(.error // "-")"' \
		"$AUD" 2>/dev/null | tail -1
}
cg2() { echo "/sys/fs/cgroup/unified/contain-test/$1"; }
kill_all() {
	local d
	d=$(cg2 "$1")
	xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null
	wait_for 30 sh -c "! grep -q . '$d/cgroup.procs'"
}

# ---------------------------------------------------------------- A
A=t0704-$S-a
runc_run "$A" || skip_all "cannot start a runc container here"
timeout 120 "$CONTAIN" capture "$A" -o - --pcap-seconds 1 2>"$T_DIR/pipe.err" | head -c 1000 >/dev/null
RCP=${PIPESTATUS[0]}
is "$RCP" 3 "capture -o - | head -c 1000: exit 3 (no sealed bag)"
like "$(cat "$T_DIR/pipe.err")" "capture '$A': seal" "it says the seal failed"
L=$(last_capture "$A")
like "$L" '^failed ' "the audit log holds the capture's failure"
like "$L" 'broken|Broken pipe|Write error' "the audit line carries the error ($L)"
ok "the audit chain is intact" "$CONTAIN" audit verify "$AUD"
run "$CONTAIN" release "$A"
is "$RC" 0 "release A"

# a full filesystem
mkdir -p "$T_DIR/small"
if mount -t tmpfs -o size=256k tmpfs "$T_DIR/small" 2>/dev/null; then
	on_exit "umount -l '$T_DIR/small'"
	run timeout 120 "$CONTAIN" capture "$A" -o "$T_DIR/small/bag" --pcap-seconds 1 --no-quarantine
	# the seal may still fit (a sealed bag naming what did not: exit 1) or not (exit 3)
	like "$RC" '^[13]$' "capture onto a full filesystem: exit 1 or 3 ($RC)"
	L=$(jq -c --arg t "$A" 'select(.action == "capture" and .target == $t)' "$AUD" | tail -1)
	like "$L" '"result":"(failed|partial)"' "the audit log holds the capture on a full filesystem"
	like "$L" 'No space left' "its audit line names ENOSPC"
else
	skip "capture onto a full filesystem" "cannot mount a tmpfs"
	skip "ENOSPC audited" "cannot mount a tmpfs"
fi

# a good capture is audited ok
# (frozen: a live capture may lose a short-lived process between the pid list and its core)
run timeout 120 "$CONTAIN" capture "$A" -o "$T_DIR/good" --pcap-seconds 1
is "$RC" 0 "a good capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$(last_capture "$A")" '^ok -$' "and is audited ok"
run "$CONTAIN" release "$A"
is "$RC" 0 "release A again"

# a container whose every process is dead (its init a zombie nobody reaps)
kill_all "$A"
run timeout 120 "$CONTAIN" capture "$A" -o "$T_DIR/dead" --pcap-seconds 1
is "$RC" 1 "a container whose processes are dead: exit 1"
like "$(last_capture "$A")" '^(failed|partial) ' "and its capture is audited as failed or partial"

# ---------------------------------------------------------------- B
# what each phase's death loses: 1 = something is named missing
for phase in ${PHASES:-pcap observe cut processes watch-cut freeze memory fs metadata pcap-stop seal}; do
	case "$phase" in
	pcap-stop | seal) want=0 ;;
	*) want=1 ;;
	esac
	N=t0704-$S-$phase
	if ! runc_run "$N"; then
		skip "killed at '$phase'" "cannot start a runc container"
		continue
	fi
	P=$T_DIR/pause-$phase
	BAG=$T_DIR/bag-$phase
	CONTAIN_TEST_PAUSE_AT=$phase CONTAIN_TEST_PAUSE_FILE=$P \
		timeout 120 "$CONTAIN" capture "$N" -o "$BAG" --pcap-seconds 1 --observe 1 \
		--watch-cut 1 --json >"$T_DIR/$phase.out" 2>"$T_DIR/$phase.err" &
	CAP=$!
	if wait_for 60 test -s "$P"; then
		kill_all "$N"
		rm -f "$P"
	else
		diag "the capture never paused at '$phase': $(cat "$T_DIR/$phase.err")"
	fi
	wait "$CAP"
	rc=$?
	is "$rc" "$want" "killed at '$phase': exit $want"
	[ "$rc" -eq "$want" ] || diag "$(cat "$T_DIR/$phase.out" "$T_DIR/$phase.err" | head -40)"
	ok "killed at '$phase': the bag is sealed and verifies" "$CONTAIN" verify "$BAG"
	ok "killed at '$phase': sha256sum -c passes inside the bag" \
		sh -c "cd '$BAG' && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt"
	M=$(jq -r '.missing[].artifact' "$T_DIR/$phase.out" 2>/dev/null | tr '\n' ' ')
	case "$phase" in
	pcap | observe | cut | processes | watch-cut | freeze | memory)
		like "$M" 'data/memory/' "killed at '$phase': the memory is named as lost ($M)" ;;
	fs | metadata)
		like "$M" 'data/container/mountinfo' "killed at '$phase': the mount table is named as lost ($M)" ;;
	*)
		is "$M" "" "killed at '$phase': nothing was lost" ;;
	esac
	if [ "$want" -eq 1 ]; then
		F=$(jq -r 'select(.action == "collector-failed") | .target' "$BAG/custody.jsonl" | tr '\n' ' ')
		ok "killed at '$phase': custody names each lost artifact" \
			sh -c "for m in $M; do case ' $F ' in *\" \$m \"*) ;; *) exit 1 ;; esac; done"
	fi
	like "$(last_capture "$N")" "^$([ "$want" -eq 0 ] && echo ok || echo partial) " \
		"killed at '$phase': audited as $([ "$want" -eq 0 ] && echo ok || echo partial)"
	runc_cleanup "$N"
done

# ---------------------------------------------------------------- C
N=t0704-$S-readback
if runc_run "$N"; then
	P=$T_DIR/pause-readback
	CONTAIN_TEST_PAUSE_AT=metadata CONTAIN_TEST_PAUSE_FILE=$P \
		timeout 120 "$CONTAIN" capture "$N" -o "$T_DIR/bag-readback" --pcap-seconds 1 \
		--json >"$T_DIR/readback.out" 2>"$T_DIR/readback.err" &
	CAP=$!
	if wait_for 60 test -s "$P"; then
		ok "readback: frozen while paused" grep -qx 'frozen 1' "$(cg2 "$N")/cgroup.events"
		# undo both behind contain's back, as a root attacker on the node might
		echo 0 >"$(cg2 "$N")/cgroup.freeze"
		tab=$(nsenter --net="/proc/$CPID/ns/net" nft list tables 2>/dev/null | awk '/contain_q_/ {print $3}')
		like "$tab" '^contain_q_' "readback: the netns table was there while paused"
		[ -n "$tab" ] && nsenter --net="/proc/$CPID/ns/net" nft delete table inet "$tab"
		rm -f "$P"
	else
		diag "the capture never paused: $(cat "$T_DIR/readback.err")"
	fi
	wait "$CAP"
	is "$(jq -r '"\(.quarantined) \(.frozen)"' "$T_DIR/readback.out")" "false false" \
		"readback: --json says neither cut nor frozen (the kernel's answer, not the state's)"
	like "$(jq -r '.warnings[]' "$T_DIR/readback.out")" "network cut no longer reads back" \
		"readback: a warning says the cut no longer holds"
	like "$(jq -r '.warnings[]' "$T_DIR/readback.out")" "no longer reads frozen" \
		"readback: a warning says the cgroup is no longer frozen"
	run "$CONTAIN" list
	like "$OUT" "^runc +${N:0:12} .* running +- " "readback: list's QUARANTINE column agrees (-)"
	"$CONTAIN" release "$N" >/dev/null 2>&1
	runc_cleanup "$N"
else
	for t in "frozen while paused" "netns table there" "--json" "cut warning" "frozen warning" "list"; do
		skip "readback: $t" "cannot start a runc container"
	done
fi

done_testing

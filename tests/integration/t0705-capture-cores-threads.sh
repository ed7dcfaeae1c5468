#!/bin/bash
# t0705: the cores of a frozen container as an analyst reads them, on both
# freezer paths. A runc container runs threads3 twice (fixtures/src/
# threads3.c: a spinner in user space, a sleeper, main in pause), static and
# dynamically linked; contain capture freezes it and takes the cores:
#  - gdb's `info threads` shows exactly 3 threads, each with its registers
#    and a frame, their LWP ids the threads' ids in the container's pid
#    namespace (the last field of NSpid), and no "Couldn't find
#    general-purpose registers"; `thread apply all bt` names threads3's
#    functions;
#  - elfutils, a second reader: `eu-stack --core` lists 3 threads,
#    `eu-readelf -n` shows the namespace pids in NT_PRSTATUS and NT_PRPSINFO;
#  - the summary keeps the host ids next to the namespace ids;
#  - the registers come from ptrace for every thread, also under the v1
#    freezer (its thaw window: every task interrupted, thawed, trapped in the
#    kernel, frozen again; the window is printed), and the spinner, which
#    runs in user space, is in a frame of its own;
#  - the v1 window runs no user instruction (the spinner's counter, read
#    from /proc/PID/mem, does not move across a second window); with one task
#    held by another tracer (strace) nothing is thawed and every thread
#    falls back to /proc/PID/task/TID/syscall, each saying why;
#  - the index notes of each core and maps give host=namespace ids;
#  - the container is frozen before the memory phase and after the capture;
#    after release every thread runs again (none left in a ptrace stop).
# First the v1 path (runc_run --freezer-only, capture --freezer v1) on this
# hybrid host, then the unified freezer on a pure cgroup2 /sys/fs/cgroup in a
# private mount namespace (as t0800 does).
if [ -z "${IN_T0705_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
	command -v unshare >/dev/null 2>&1 || { echo "1..0 # SKIP no unshare on this machine"; exit 0; }
	OUTER_MNT_NS=$(stat -L -c %i /proc/self/ns/mnt)
	exec unshare --mount --propagation private env IN_T0705_NS=1 OUTER_MNT_NS="$OUTER_MNT_NS" bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd runc gdb eu-stack eu-readelf jq timeout stat mountpoint nm dd od strace mem-driver
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
for v in static dyn; do
	[ -x "$FIXTURE_ROOTFS/usr/bin/threads3-$v" ] ||
		skip_all "no threads3-$v in the fixture image (run fixtures/build.sh)"
done
[ -n "${OUTER_MNT_NS:-}" ] && [ "$(stat -L -c %i /proc/self/ns/mnt)" != "$OUTER_MNT_NS" ] ||
	skip_all "not in a private mount namespace"

S=$$
cat >"$T_DIR/extra" <<'X'
#!/bin/sh
/usr/bin/threads3-static /tmp/t3-static.ready >/tmp/t3-static.out 2>&1 &
/usr/bin/threads3-dyn /tmp/t3-dyn.ready >/tmp/t3-dyn.out 2>&1 &
wait
X

pid_by_exe() {
	local p
	for p in $(cat "$1"); do
		# shellcheck disable=SC2254
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in $2) echo "$p"; return 0 ;; esac
	done
	return 1
}
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
# the threads' ids in their own pid namespace: the last field of NSpid
ns_tids() {
	local t
	for t in /proc/"$1"/task/*; do
		awk '$1 == "NSpid:" {print $NF}' "$t/status"
	done | sort -n | tr '\n' ' '
}
ns_of() { awk -v k="$2:" '$1 == k {print $NF}' "/proc/$1/status"; }
# every thread out of any stop and the process burning CPU again (the spinner)
runs_again() {
	local p=$1 s u0 u1
	for s in /proc/"$p"/task/*/stat; do
		case "$(awk '{sub(/.*\) /, ""); print $1}' "$s")" in t | T) return 1 ;; esac
	done
	u0=$(awk '{sub(/.*\) /, ""); print $12}' "/proc/$p/stat")
	sleep 0.5
	u1=$(awk '{sub(/.*\) /, ""); print $12}' "/proc/$p/stat")
	[ "$u1" -gt "$u0" ]
}
# counter PID HEXADDR: the 8 bytes at ADDR of PID's memory, as a number
counter() { dd if="/proc/$1/mem" bs=8 count=1 iflag=skip_bytes skip=$((0x$2)) 2>/dev/null | od -An -tu8 | tr -d ' '; }
actions() { jq -r '"\(.action) \(.target) \(.result)"' "$1/custody.jsonl"; }
freeze_before_memory() {
	actions "$1" | awk '/^quarantine-freeze .* ok$/ && !f { f = NR }
		/^artifact-open data\/memory\// && !m { m = NR }
		END { exit !(f && m && f < m) }'
}

# check_core LABEL BAG HOSTPID VARIANT NSTIDS: one process's core, every reader
check_core() {
	local L=$1 B=$2 P=$3 V=$4 WANT=$5
	local C=$B/data/memory/$P.core EXE=$FIXTURE_ROOTFS/usr/bin/threads3-$V
	local SUM=$B/data/memory/summary.json
	ok "$L: $P.core is in the bag" test -s "$C"
	local PS
	PS=$(jq -c ".processes[] | select(.pid==$P)" "$SUM")
	is "$(jq -r '.registers.source' <<<"$PS")" ptrace "$L: summary: registers from ptrace for every thread"
	[ "$(jq -r '.registers.source' <<<"$PS")" = ptrace ] || diag "$(jq -c '.registers' <<<"$PS")"
	is "$(jq -r '[.registers.threads[].ns_tid] | sort | map(tostring) | join(" ")' <<<"$PS") " "$WANT" \
		"$L: summary: the namespace tids"
	is "$(jq -r '[.registers.threads[].tid] | sort | map(tostring) | join(" ")' <<<"$PS") " \
		"$(ls "/proc/$P/task" | sort -n | tr '\n' ' ')" "$L: summary: the host tids beside them"
	is "$(jq -r '.ids.pid, .ids.ns_pid' <<<"$PS" | tr '\n' ' ')" "$P $(ns_of "$P" NSpid) " \
		"$L: summary: host pid and namespace pid"
	local NOTE
	NOTE=$(jq -r --arg c "data/memory/$P.core" --arg m "data/memory/$P.maps" \
		'.artifacts[] | select(.path == $c or .path == $m) | .notes[]? | strings' "$B/index.json")
	is "$(grep -c "^ids: host pid $P is pid $(ns_of "$P" NSpid) in its pid namespace" <<<"$NOTE")" 2 \
		"$L: index.json: the core and the maps say the host and namespace ids"
	like "$NOTE" "threads, host=namespace: $P=$(ns_of "$P" NSpid) " "$L: index.json: the threads' ids, host=namespace"
	is "$(jq -r '.freeze.before.'"$FZ"' + " " + .freeze.after.'"$FZ" <<<"$PS")" "frozen frozen" \
		"$L: summary: frozen before and after its core"
	# gdb
	local G
	G=$(gdb -nx -batch -ex 'info threads' -ex 'echo BT-BEGIN\n' -ex 'thread apply all bt' "$EXE" "$C" 2>&1)
	is "$(grep -cE '^[* ] +[0-9]+ +Thread .*\(LWP [0-9]+\)' <<<"$G")" 3 "$L: gdb: info threads shows exactly 3 threads"
	is "$(grep -oE '^[* ] +[0-9]+ +Thread .*\(LWP [0-9]+\)' <<<"$G" | grep -oE 'LWP [0-9]+' |
		awk '{print $2}' | sort -n | tr '\n' ' ')" "$WANT" "$L: gdb: the LWPs are the namespace tids"
	unlike "$G" "Couldn't find general-purpose registers" "$L: gdb: every thread has its registers"
	is "$(sed -n '/^BT-BEGIN/,$p' <<<"$G" | grep -cE '^#0 +(0x[0-9a-f]+ in )?[A-Za-z_][A-Za-z0-9_.@]* \(')" 3 \
		"$L: gdb: a frame #0 in a function for each thread"
	like "$G" 'threads3_spin(ner|_step)' "$L: gdb bt: the spinner's function"
	like "$G" 'threads3_sleeper' "$L: gdb bt: the sleeper's function"
	like "$G" 'threads3_wait' "$L: gdb bt: main waits in threads3_wait"
	[ "$(grep -cE '^[* ] +[0-9]+ +Thread ' <<<"$G")" = 3 ] || diag "$G"
	# elfutils
	local ES
	ES=$(eu-stack --core "$C" -e "$EXE" 2>&1)
	is "$(grep -cE '^TID [0-9]+:' <<<"$ES")" 3 "$L: eu-stack --core lists 3 threads"
	is "$(grep -oE '^TID [0-9]+' <<<"$ES" | awk '{print $2}' | sort -n | tr '\n' ' ')" "$WANT" \
		"$L: eu-stack: the namespace tids"
	like "$ES" 'threads3_spin' "$L: eu-stack names the spinner"
	local N
	N=$(eu-readelf -n "$C" 2>&1)
	is "$(grep -c 'PRSTATUS' <<<"$N")" 3 "$L: eu-readelf -n: 3 NT_PRSTATUS"
	is "$(grep -oE '^ +pid: [0-9]+' <<<"$N" | awk '{print $2}' |
		sort -n | tr '\n' ' ')" "$WANT" "$L: eu-readelf -n: the PRSTATUS pids == NSpid's last field"
	local PP
	PP=$(grep -E '^ +uid: [0-9]+, gid: [0-9]+, pid: ' <<<"$N")
	like "$PP" "pid: $(ns_of "$P" NSpid), ppid: [0-9]+, pgrp: $(ns_of "$P" NSpgid), sid: $(ns_of "$P" NSsid)\$" \
		"$L: eu-readelf -n: PRPSINFO pid, pgrp, sid in the namespace"
	[ "$(grep -c 'PRSTATUS' <<<"$N")" = 3 ] || diag "$N"
}

# run_path LABEL NAME RUNC-OPTION CAPTURE-OPTION FREEZE-DIR KIND
run_path() {
	local L=$1 A=$2 RO=$3 CO=$4 KIND=$6
	FZ=$KIND
	runc_run "$A" --extra "$T_DIR/extra" $RO || { section_skip "$L: cannot start a runc container"; return; }
	local D=${5:-$CCG2}
	wait_for 30 test -s "$CMERGED/tmp/t3-static.ready" -a -s "$CMERGED/tmp/t3-dyn.ready"
	local PS PD
	PS=$(pid_by_exe "$D/cgroup.procs" "*/usr/bin/threads3-static")
	PD=$(pid_by_exe "$D/cgroup.procs" "*/usr/bin/threads3-dyn")
	like "$PS $PD" '^[0-9]+ [0-9]+$' "$L: threads3-static and threads3-dyn run in the container"
	wait_for 30 test "$(nthreads "$PS")" -eq 3 -a "$(nthreads "$PD")" -eq 3
	is "$(ns_of "$PS" NSpid)" "$(cat "$CMERGED/tmp/t3-static.ready")" "$L: the ready file holds the namespace pid"
	ok "$L: the container is not frozen before the capture" "thawed_$KIND" "$D"
	local B=$T_DIR/bag-$KIND
	run timeout 180 "$CONTAIN" capture "$A" -o "$B" $CO --pcap-seconds 1 --no-fs
	is "$RC" 0 "$L: capture exits 0"
	[ "$RC" -eq 0 ] || diag "$OUT $ERR"
	ok "$L: custody: frozen before the memory phase" freeze_before_memory "$B"
	ok "$L: frozen after the capture (read from the kernel)" "frozen_$KIND" "$D"
	if [ "$KIND" = v1 ]; then
		local R
		R=$(jq -c '.v1_interrupt[0]' "$B/data/memory/summary.json")
		is "$(jq -r '.result, .refrozen, .frozen_after' <<<"$R" | tr '\n' ' ')" "ok true true " \
			"$L: summary: the v1 thaw window: ok, frozen again and read back"
		is "$(jq -r '.tasks == .trapped' <<<"$R")" true "$L: summary: every task trapped in the window"
		diag "v1 interrupt-to-freeze window: $(jq -r '"\(.window_us) us (THAWED written in \(.thaw_write_us) us, all \(.trapped) tasks trapped \(.traps_us) us after the thaw began)"' <<<"$R")"
	fi
	if [ "$KIND" = v1 ]; then
		# the window runs no user instruction: the spinner's counter (it
		# only ever runs in user space) is the same before and after a
		# second thaw window (mem-driver, on the container frozen again)
		local AD C0 C1 R2
		AD=$(nm "$FIXTURE_ROOTFS/usr/bin/threads3-static" | awk '$3 == "threads3_counter" {print $1}')
		C0=$(counter "$PS" "$AD")
		run mem-driver --pid "$PS" --cgroup-freeze "$D" --out "$T_DIR/md-v1"
		is "$RC" 0 "$L: mem-driver takes threads3-static again through a thaw window"
		C1=$(counter "$PS" "$AD")
		R2=$(jq -c '.v1_interrupt[0]' <<<"$OUT")
		is "$(jq -r '.result, .thawed, .refrozen' <<<"$R2" | tr '\n' ' ')" "ok true true " \
			"$L: mem-driver: thawed, trapped, frozen again"
		like "$C0" '^[0-9]+$' "$L: the spinner's counter read from /proc/PID/mem ($C0)"
		is "$C1" "$C0" "$L: the spinner's counter did not move across the window: no user instruction ran"
		diag "second window: $(jq -r '.window_us' <<<"$R2") us"
		# a task another tracer holds cannot be seized: nothing is thawed,
		# every thread falls back to the syscall file, said per thread
		strace -p "$PD" -o /dev/null 2>/dev/null &
		local ST=$!
		on_exit "kill -KILL $ST 2>/dev/null"
		traced() { ! grep -qx 'TracerPid:[[:space:]]*0' "/proc/$PD/status"; }
		ok "$L: strace holds threads3-dyn" wait_for 10 traced
		run mem-driver --pid "$PS" --cgroup-freeze "$D" --out "$T_DIR/md-v1-traced"
		is "$RC" 0 "$L, a task traced by another: mem-driver still takes threads3-static"
		R2=$(jq -c '.v1_interrupt[0]' <<<"$OUT")
		like "$(jq -r '.result' <<<"$R2")" 'could not be seized.*not thawed' \
			"$L, a task traced by another: the window is refused, nothing thawed"
		is "$(jq -r '.thawed, .frozen_after' <<<"$R2" | tr '\n' ' ')" "false true " \
			"$L, a task traced by another: not thawed, frozen after"
		is "$(jq -r '.processes[0].registers.source' <<<"$OUT")" syscall \
			"$L, a task traced by another: registers from the syscall file"
		is "$(jq -r '[.processes[0].registers.threads[].error | test("no thaw window")] | all' <<<"$OUT")" \
			true "$L, a task traced by another: each thread says why"
		is "$(counter "$PS" "$AD")" "$C0" "$L, a task traced by another: the spinner did not move"
		ok "$L, a task traced by another: still frozen" frozen_v1 "$D"
		kill -KILL "$ST" 2>/dev/null
		wait "$ST" 2>/dev/null
	fi
	check_core "$L static" "$B" "$PS" static "$(ns_tids "$PS")"
	check_core "$L dynamic" "$B" "$PD" dyn "$(ns_tids "$PD")"
	ok "$L: still frozen after every reader" "frozen_$KIND" "$D"
	run "$CONTAIN" release "$A"
	is "$RC" 0 "$L: release"
	ok "$L: thawed after release" wait_for 30 "thawed_$KIND" "$D"
	ok "$L: after release, every thread of threads3-static runs (none left in a stop)" wait_for 10 runs_again "$PS"
	ok "$L: after release, every thread of threads3-dyn runs" wait_for 10 runs_again "$PD"
	runc_cleanup "$A"
}
frozen_v1() { grep -qx FROZEN "$1/freezer.state"; }
thawed_v1() { grep -qx THAWED "$1/freezer.state"; }
frozen_unified() { grep -qx 'frozen 1' "$1/cgroup.events"; }
thawed_unified() { grep -qx 'frozen 0' "$1/cgroup.events"; }

# ---- the v1 freezer (this hybrid host) -------------------------------------
section "the v1 freezer"
if [ -d /sys/fs/cgroup/freezer ] && ! cg_pure_v2; then
	V=t0705-$S-v1
	run_path v1 "$V" --freezer-only "--freezer v1" "/sys/fs/cgroup/freezer/contain-test/$V" v1
else
	section_skip "no v1 freezer on this host"
fi

# ---- the unified freezer, /sys/fs/cgroup pure cgroup2 (this namespace only) --
section "the unified freezer on a pure cgroup2 host"
cg_mount_pure_v2 || section_skip "cannot mount cgroup2 at /sys/fs/cgroup"
if cg_pure_v2; then
	cg2_subtree_restore_on_exit # runc turns controllers on in the parents
	run_path cgroup2 "t0705-$S-u" "" "" "" unified
fi

done_testing

#!/bin/bash
# bench_quarantine (issue 13): the shipped `$CONTAIN quarantine` (resolve,
# both network cuts, the freeze, all verified from the kernel, the state and
# the audit record written; the whole process) against the peer that only
# freezes, with the SAME freezer, on the same 50-process runc container, in
# the same run (benchlib: alternating rounds, medians, every exit checked):
#  1. this hybrid host: runc uses the v1 freezer here (checked below), so
#     `contain quarantine --freezer v1` vs `runc pause`. Goal <= 1.0x.
#  2. a pure cgroup2 host (a private mount namespace with cgroup2 at
#     /sys/fs/cgroup, as t0800 makes one): `contain quarantine` (cgroup2
#     cgroup.freeze) vs `echo 1 > cgroup.freeze` and a busy poll of
#     cgroup.events until "frozen 1" (a shell, the floor of any tool). Goal
#     <= 1.0x.
#  3. growth: quarantine, and the freeze check (`contain list`, which reads
#     the quarantine state back from the kernel) of containers of 50, 500 and
#     2,000 processes vs `runc pause` and `runc list`: the time per process
#     must stay flat (not quadratic in pids).
# Between two timed commands whatever the last one did is undone, untimed
# and checked (release / resume). Where the machine is shared, the CPU
# seconds (user + sys) of the same commands are printed too.
# Usage: bench_quarantine.sh [all|hybrid|cg2]
set -u
CONTAIN_TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MODE=${1:-all}
if [ "$MODE" = cg2 ] && [ -z "${IN_CG2_NS:-}" ]; then
	OUTER_MNT_NS=$(stat -L -c %i /proc/self/ns/mnt)
	exec unshare --mount --propagation private env IN_CG2_NS=1 \
		OUTER_MNT_NS="$OUTER_MNT_NS" bash "$0" cg2
fi
. "$CONTAIN_TOP/tests/lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
. "$CONTAIN_TOP/tests/bench/benchlib.sh"
fail() { echo "bench_quarantine: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
fixtures_ready || fail "no fixtures (fixtures/build.sh)"
[ -x "$CONTAIN" ] || fail "no contain binary at $CONTAIN"
export CONTAIN_ROOTS=""
SIZES=${SIZES:-50 500 2000}

exec 8>/tmp/contain-bench.lock
lock() { flock -w 1800 8 || fail "the bench lock is held"; }
unlock() { flock -u 8; }

ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }

# procs_file N: a --extra script that makes the container N processes
# (with contain-init, its httpd, this script and contain-init's sleep)
procs_file() {
	local f=$T_DIR/procs-$1
	cat >"$f" <<EOF
#!/bin/sh
i=0
while [ \$i -lt $(($1 - 4)) ]; do sleep 100000 & i=\$((i + 1)); done
wait
EOF
	echo "$f"
}
nprocs() { wc -l <"$CCG2/cgroup.procs"; }
np_ge() { [ "$(nprocs)" -ge "$1" ]; }

# start_ctr NAME N K: a runc container of N processes with a veth to the
# host (so the host-side cut has a device); K numbers its addresses
start_ctr() {
	local name=$1 n=$2 k=$3
	runc_run "$name" --extra "$(procs_file "$n")" || fail "runc_run $name failed"
	veth_attach "$CPID" "bq$k$$" "10.219.6$k.1/30" "10.219.6$k.2/30" ||
		fail "no veth for $name"
	wait_for 300 np_ge "$n" || fail "$name has $(nprocs) processes, not $n"
}

# ---- undo, between timed commands (untimed, checked) ----------------------
frz_v1() { cat "/sys/fs/cgroup/freezer/contain-test/$1/freezer.state"; }
undo_hybrid() { # NAME
	local b=$1 sd
	for sd in "$CONTAIN_STATE_DIR" ${TMPFS_STATE:+"$TMPFS_STATE"}; do
		[ -e "$sd/$b.json" ] || continue
		# a quarantine left it: it must hold, then it goes
		case "$(frz_v1 "$b") $(grep frozen "$CCG2/cgroup.events")" in
		FROZEN* | *"frozen 1") ;;
		*) echo "not frozen after quarantine" >&2; return 1 ;;
		esac
		CONTAIN_STATE_DIR=$sd "$CONTAIN" release "$b" >/dev/null || return 1
	done
	if [ "$(frz_v1 "$b")" != THAWED ]; then
		runc --root "$RUNC_ROOT" resume "$b" || return 1
	fi
	[ "$(frz_v1 "$b")" = THAWED ] && grep -q "frozen 0" "$CCG2/cgroup.events"
}
undo_cg2() { # NAME
	local b=$1
	if [ -e "$CONTAIN_STATE_DIR/$b.json" ]; then
		grep -q "frozen 1" "$CCG2/cgroup.events" || { echo "not frozen" >&2; return 1; }
		"$CONTAIN" release "$b" >/dev/null || return 1
	fi
	if [ "$(cat "$CCG2/cgroup.freeze")" != 0 ]; then
		echo 0 >"$CCG2/cgroup.freeze" || return 1
	fi
	wait_for 10 grep -q "frozen 0" "$CCG2/cgroup.events"
}

# cpu_rounds NAME1 CMD1 ...: BENCH_ROUNDS alternating runs of each (words
# in one string, split), undone between; sets CPU[NAME] to the median CPU s
declare -A CPU
cpu_rounds() {
	local -a names=() cmds=()
	while [ $# -ge 2 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	local d i k
	d=$(mktemp -d /tmp/contain-bench-cpu.XXXXXX)
	for ((i = 0; i < BENCH_ROUNDS; i++)); do
		for k in "${!names[@]}"; do
			(eval "$BENCH_BETWEEN") || fail "between rounds: '$BENCH_BETWEEN' failed"
			# shellcheck disable=SC2086
			bench_cpu ${cmds[$k]} >>"$d/$k" || exit 1
		done
	done
	for k in "${!names[@]}"; do CPU[${names[$k]}]=$(bench_median <"$d/$k"); done
	rm -rf "$d"
}

# ---- 1. the hybrid host, v1 freezer, and 3. growth -------------------------
hybrid() {
	[ -d /sys/fs/cgroup/freezer ] && ! cg_pure_v2 ||
		{ echo "bench_quarantine: not a hybrid host: the v1 part is skipped"; return 0; }
	B=bq-$$
	start_ctr "$B" 50 0
	local R="runc --root $RUNC_ROOT"
	# which freezer runc pause uses here
	$R pause "$B" || fail "runc pause failed"
	local rf="v1 freezer.state $(frz_v1 "$B"), cgroup2 cgroup.freeze $(cat "$CCG2/cgroup.freeze")"
	$R resume "$B" || fail "runc resume failed"
	echo "container: $(nprocs) processes, a veth to the host; $(runc --version | head -1)"
	echo "runc pause here froze through: $rf"
	# the state dir on a tmpfs, as /run is on most nodes (here /run and
	# /tmp are on the disk, and the intent's and handles' fsyncs cost
	# several ms); the audit log stays on the disk
	TMPFS_STATE=$(mktemp -d /tmp/contain-bench-tmpfs.XXXXXX)
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$TMPFS_STATE" || fail "cannot mount a tmpfs"
	on_exit "umount '$TMPFS_STATE' 2>/dev/null; rmdir '$TMPFS_STATE' 2>/dev/null"
	lock
	bench_load before
	BENCH_BETWEEN="undo_hybrid $B"
	bench_alternate \
		q_v1 "\"$CONTAIN\" quarantine --freezer v1 $B >/dev/null" \
		q_tmpfs "CONTAIN_STATE_DIR=$TMPFS_STATE \"$CONTAIN\" quarantine --freezer v1 $B >/dev/null" \
		pause "$R pause $B" \
		q_auto "\"$CONTAIN\" quarantine $B >/dev/null" \
		frz_v1 "\"$CONTAIN\" quarantine --freeze-only --freezer v1 $B >/dev/null" \
		version "\"$CONTAIN\" version >/dev/null" \
		runc_version "$R --version >/dev/null"
	cpu_rounds \
		q_v1 "$CONTAIN quarantine --freezer v1 $B" \
		pause "$R pause $B"
	bench_load after
	unlock
	undo_hybrid "$B" || fail "cannot undo"
	umount "$TMPFS_STATE" && rmdir "$TMPFS_STATE"
	TMPFS_STATE=
	echo "hybrid host, 50 processes (median of $BENCH_ROUNDS alternating rounds, wall ms):"
	printf '  %-58s %8s\n' \
		"contain quarantine --freezer v1 (both cuts + freeze)" "$(ms "${MED[q_v1]}")" \
		"runc pause (v1 freezer)" "$(ms "${MED[pause]}")" \
		"contain quarantine --freezer v1, state dir on a tmpfs" "$(ms "${MED[q_tmpfs]}")" \
		"contain quarantine (auto: the cgroup2 freezer here)" "$(ms "${MED[q_auto]}")" \
		"contain quarantine --freeze-only --freezer v1" "$(ms "${MED[frz_v1]}")" \
		"contain version (process start)" "$(ms "${MED[version]}")" \
		"runc --version (process start)" "$(ms "${MED[runc_version]}")"
	echo "  CPU s (user+sys): contain quarantine --freezer v1 ${CPU[q_v1]}, runc pause ${CPU[pause]}"
	bench_goal "quarantine vs runc pause, v1 freezer (hybrid host, 50 processes)" \
		"$(bench_ratio "${MED[q_v1]}" "${MED[pause]}")" "<=" 1.0 x
	echo "  (CPU ratio: $(bench_ratio "${CPU[q_v1]}" "${CPU[pause]}")x; with the state dir on a" \
		"tmpfs: $(bench_ratio "${MED[q_tmpfs]}" "${MED[pause]}")x, information)"

	# growth: the same at 50, 500 and 2,000 processes
	local n k=1 name
	declare -A GQ GL GP GRL GN
	for n in $SIZES; do
		if [ "$n" -eq 50 ]; then
			name=$B
		else
			name=bq-$n-$$
			start_ctr "$name" "$n" "$k"
			k=$((k + 1))
		fi
		GN[$n]=$(nprocs)
		lock
		BENCH_BETWEEN="undo_hybrid $name"
		# the freeze check: contain list reads what holds (cut+frozen)
		# back from the kernel; it runs right after a quarantine
		bench_alternate \
			q "\"$CONTAIN\" quarantine --freezer v1 $name >/dev/null &&
			   \"$CONTAIN\" list >$T_DIR/list && grep -q 'cut+frozen' $T_DIR/list" \
			p "$R pause $name && $R list >$T_DIR/rlist && grep -q paused $T_DIR/rlist"
		GL[$n]=${MED[q]}
		GRL[$n]=${MED[p]}
		bench_alternate \
			q "\"$CONTAIN\" quarantine --freezer v1 $name >/dev/null" \
			p "$R pause $name"
		GQ[$n]=${MED[q]}
		GP[$n]=${MED[p]}
		unlock
		undo_hybrid "$name" || fail "cannot undo"
		[ "$name" != "$B" ] && runc_cleanup "$name"
	done
	echo "growth (hybrid host, v1 freezer; wall ms, medians; per process: the slope from the smallest):"
	# the ratio at each size is the figure that survives a changing load;
	# the slopes (per process) need a quiet machine
	printf '  %10s %12s %16s %12s %16s %8s %14s %14s\n' processes quarantine \
		"quarantine+list" "runc pause" "pause+runc list" ratio "q us/process" "pause us/proc"
	local n0="" q0 p0
	for n in $SIZES; do
		local sq="-" sp="-"
		if [ -z "$n0" ]; then
			n0=$n; q0=${GQ[$n]}; p0=${GP[$n]}
		else
			sq=$(awk -v a="${GQ[$n]}" -v b="$q0" -v n="${GN[$n]}" -v m="${GN[$n0]}" \
				'BEGIN {printf "%.1f", (a - b) / (n - m) * 1e6}')
			sp=$(awk -v a="${GP[$n]}" -v b="$p0" -v n="${GN[$n]}" -v m="${GN[$n0]}" \
				'BEGIN {printf "%.1f", (a - b) / (n - m) * 1e6}')
		fi
		printf '  %10s %12s %16s %12s %16s %8s %14s %14s\n' "${GN[$n]}" "$(ms "${GQ[$n]}")" \
			"$(ms "${GL[$n]}")" "$(ms "${GP[$n]}")" "$(ms "${GRL[$n]}")" \
			"$(bench_ratio "${GQ[$n]}" "${GP[$n]}")" "$sq" "$sp"
	done
}

# ---- 2. a pure cgroup2 host (in a private mount namespace) -----------------
cg2() {
	cg_mount_pure_v2 || fail "cg2: no pure cgroup2 /sys/fs/cgroup in a private mount namespace"
	cg2_subtree_restore_on_exit # runc turns controllers on in the parents
	B=bq2-$$
	start_ctr "$B" 50 5
	echo "pure cgroup2 host (private mount namespace): container $(nprocs) processes, a veth"
	cat >"$T_DIR/freeze.sh" <<'EOF'
echo 1 >"$1/cgroup.freeze" || exit 1
while :; do
	while read -r k v; do [ "$k" = frozen ] && [ "$v" = 1 ] && exit 0; done <"$1/cgroup.events"
done
EOF
	local R="runc --root $RUNC_ROOT"
	lock
	bench_load before
	BENCH_BETWEEN="undo_cg2 $B"
	bench_alternate \
		q "\"$CONTAIN\" quarantine --freezer cgroup2 $B >/dev/null" \
		echo "sh $T_DIR/freeze.sh $CCG2" \
		pause "$R pause $B" \
		frz "\"$CONTAIN\" quarantine --freeze-only --freezer cgroup2 $B >/dev/null"
	cpu_rounds \
		q "$CONTAIN quarantine --freezer cgroup2 $B" \
		echo "sh $T_DIR/freeze.sh $CCG2"
	bench_load after
	unlock
	undo_cg2 "$B" || fail "cannot undo"
	echo "pure cgroup2 host, 50 processes (median of $BENCH_ROUNDS alternating rounds, wall ms):"
	printf '  %-58s %8s\n' \
		"contain quarantine --freezer cgroup2 (both cuts + freeze)" "$(ms "${MED[q]}")" \
		"echo 1 > cgroup.freeze + poll of cgroup.events (sh)" "$(ms "${MED[echo]}")" \
		"runc pause (its unified mode: cgroup.freeze)" "$(ms "${MED[pause]}")" \
		"contain quarantine --freeze-only --freezer cgroup2" "$(ms "${MED[frz]}")"
	echo "  CPU s (user+sys): contain quarantine ${CPU[q]}, echo+poll ${CPU[echo]}"
	bench_goal "quarantine vs echo 1 > cgroup.freeze + poll (pure cgroup2, 50 processes)" \
		"$(bench_ratio "${MED[q]}" "${MED[echo]}")" "<=" 1.0 x
	echo "  (vs runc pause there: $(bench_ratio "${MED[q]}" "${MED[pause]}")x;" \
		"CPU ratio vs echo+poll: $(bench_ratio "${CPU[q]}" "${CPU[echo]}")x)"
}

case "$MODE" in
all)
	hybrid
	# the cgroup2 part in a mount namespace of its own (a process of its own)
	bash "$0" cg2 || fail "the cgroup2 part failed"
	;;
hybrid) hybrid ;;
cg2) cg2 ;;
*) fail "usage: bench_quarantine.sh [all|hybrid|cg2]" ;;
esac

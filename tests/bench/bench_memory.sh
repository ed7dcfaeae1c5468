#!/bin/bash
# bench_memory.sh: mem-driver vs gdb's gcore on the same process with 1 GiB of
# resident non-zero memory, whole process each, in the same run:
#   1. the process running (both stop it: gcore by PTRACE_ATTACH, mem-driver
#      by PTRACE_SEIZE + PTRACE_INTERRUPT);
#   2. the process in a cgroup of its own frozen by the unified freezer: gcore
#      waits for a stop that never comes, so it gets a timeout.
# Goal: mem-driver at 0.2x gcore's time or less. Prints the figures.
set -u
TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export PATH="${CONTAIN_BUILD:-$TOP/build}/tests/tools:$PATH"
MIB=${BENCH_MEM_MIB:-1024}
GCORE_TIMEOUT=${BENCH_GCORE_TIMEOUT:-60}
command -v mem-driver >/dev/null || { echo "bench_memory: SKIP no mem-driver (make test-bins)"; exit 0; }
command -v gcore >/dev/null || { echo "bench_memory: SKIP no gcore"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "bench_memory: SKIP needs root"; exit 0; }
W=$(mktemp -d /tmp/contain-bench-mem.XXXXXX)
CG=/sys/fs/cgroup/unified/contain-bench-$$
PID=
cleanup() {
	[ -d "$CG" ] && echo 0 >"$CG/cgroup.freeze" 2>/dev/null
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${GPID:-}" ] && kill -KILL -- -"$GPID" 2>/dev/null
	for _ in $(seq 50); do [ -d "$CG" ] || break; rmdir "$CG" 2>/dev/null || sleep 0.1; done
	rm -rf "$W"
}
trap cleanup EXIT

MT=$TOP/fixtures/cache/rootfs/usr/bin/memtarget
if [ ! -x "$MT" ]; then
	MT=$W/memtarget
	gcc -static -O1 -g -pthread -o "$MT" "$TOP/fixtures/progs/memtarget.c" || exit 1
fi
"$MT" --alloc "$MIB" --addr-file "$W/addr" >/dev/null &
PID=$!
for _ in $(seq 600); do [ -s "$W/addr" ] && break; sleep 0.1; done
[ -s "$W/addr" ] || { echo "bench_memory: memtarget did not start"; exit 1; }
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
echo "target: memtarget pid $PID, VmRSS $((RSS / 1024)) MiB ($MIB MiB allocated, non-zero)"

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
now() { date +%s.%N; }

# 1. running. The first write of 1 GiB into fresh page cache is much slower
# than the next ones on a VM (guest pages touched for the first time), so one
# warm-up pass first, then ROUNDS alternating rounds; medians are compared.
ROUNDS=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mem-driver --pid "$PID" --out "$W/warm" >/dev/null || { echo "bench_memory: mem-driver failed"; exit 1; }
rm -rf "$W/warm"
mds=() gcs=()
for r in $(seq "$ROUNDS"); do
	sync
	t0=$(now)
	mem-driver --pid "$PID" --out "$W/md" >"$W/md.json" || { echo "bench_memory: mem-driver failed"; exit 1; }
	t1=$(now)
	mds+=("$(secs "$t0" "$t1")")
	mdsize=$(stat -c %s "$W/md/$PID.core")
	rm -rf "$W/md"
	sync
	t0=$(now)
	gcore -o "$W/gc" "$PID" >/dev/null 2>&1 || { echo "bench_memory: gcore failed"; exit 1; }
	t1=$(now)
	gcs+=("$(secs "$t0" "$t1")")
	gcsize=$(stat -c %s "$W/gc.$PID")
	rm -f "$W/gc.$PID"
done
md=$(printf '%s\n' "${mds[@]}" | median)
gc=$(printf '%s\n' "${gcs[@]}" | median)
ratio=$(awk -v a="$md" -v b="$gc" 'BEGIN { printf "%.3f", a / b }')
echo "running:  mem-driver ${mds[*]} s, gcore ${gcs[*]} s ($ROUNDS rounds, alternating)"
echo "running:  median mem-driver ${md} s (core $((mdsize / 1048576)) MiB), gcore ${gc} s (core $((gcsize / 1048576)) MiB): ratio ${ratio}x (goal <= 0.2x)"

# 2. frozen by the unified freezer
mkdir "$CG" || { echo "bench_memory: cannot create $CG"; exit 1; }
echo "$PID" >"$CG/cgroup.procs"
echo 1 >"$CG/cgroup.freeze"
for _ in $(seq 300); do grep -qx 'frozen 1' "$CG/cgroup.events" && break; sleep 0.1; done
grep -qx 'frozen 1' "$CG/cgroup.events" || { echo "bench_memory: cgroup did not freeze"; exit 1; }
sync
t0=$(now)
mem-driver --pid "$PID" --cgroup-freeze "$CG" --out "$W/mdf" >"$W/mdf.json"
mrc=$?
t1=$(now)
mdf=$(secs "$t0" "$t1")
rm -rf "$W/mdf"
frozen_after=$(grep -c 'frozen 1' "$CG/cgroup.events")
# gcore in its own process group, so a timeout kills gdb too
t0=$(now)
setsid gcore -o "$W/gcf" "$PID" >/dev/null 2>&1 &
GPID=$!
grc=timeout
for _ in $(seq $((GCORE_TIMEOUT * 10))); do
	if ! kill -0 "$GPID" 2>/dev/null; then
		wait "$GPID"
		grc=$?
		break
	fi
	sleep 0.1
done
t1=$(now)
gcf=$(secs "$t0" "$t1")
if [ "$grc" = timeout ]; then
	kill -KILL -- -"$GPID" 2>/dev/null
	wait "$GPID" 2>/dev/null
	gcmsg="gcore did not finish in ${GCORE_TIMEOUT} s (killed)"
elif [ -s "$W/gcf.$PID" ]; then
	gcmsg="gcore ${gcf} s (exit $grc)"
else
	gcmsg="gcore gave up after ${gcf} s (exit $grc, no core)"
fi
GPID=
rm -f "$W/gcf.$PID"
fratio=$(awk -v a="$mdf" -v b="$gc" 'BEGIN { printf "%.3f", a / b }')
echo "frozen:   mem-driver ${mdf} s (${fratio}x gcore's running median; exit $mrc; cgroup frozen after: $([ "$frozen_after" -eq 1 ] && echo yes || echo NO)), $gcmsg"
jq -r '.processes[0] | "          mem-driver frozen: registers \(.registers.source), \(.regions_dumped)/\(.regions) regions, \(.bytes) bytes (\(.bytes_zero) zero), freeze \(.freeze.before.unified)->\(.freeze.after.unified)"' "$W/mdf.json" 2>/dev/null

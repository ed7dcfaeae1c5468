#!/bin/bash
# bench_list (issue 13): how `contain list` grows with the number of
# containers: the shipped `$CONTAIN list` against `runc list` of the same
# runc root, with 1, 50 and 200 runc containers (whole processes, in the same
# run, alternating rounds, medians, every exit checked: benchlib). Its cost
# should grow linearly with a small constant per container, and no file be
# read twice for one container: the openat calls of one list are counted
# with strace and any path opened twice is named.
# docker and podman containers are not added: tests/lib/containers.sh has no
# helper for them (only runc's), and the goal is the per-container cost.
# Usage: bench_list.sh (COUNTS="1 50 200" by default)
set -u
CONTAIN_TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$CONTAIN_TOP/tests/lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/bench/benchlib.sh"
fail() { echo "bench_list: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
fixtures_ready || fail "no fixtures (fixtures/build.sh)"
[ -x "$CONTAIN" ] || fail "no contain binary at $CONTAIN"
COUNTS=${COUNTS:-1 50 200}
exec 8>/tmp/contain-bench.lock
ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }

have=0
S=$$
declare -A LC LR CC CR OPN DUP
for n in $COUNTS; do
	while [ "$have" -lt "$n" ]; do
		runc_run "bl$((S % 100000))-$have" || fail "runc_run failed at container $have"
		have=$((have + 1))
	done
	# only this runc root: the other runtimes' roots are not scanned
	export CONTAIN_ROOTS="runc=$RUNC_ROOT"
	got=$("$CONTAIN" list | grep -c "^runc ")
	[ "$got" -eq "$n" ] || fail "contain list shows $got of $n containers"
	got=$(runc --root "$RUNC_ROOT" list | grep -c "^bl")
	[ "$got" -eq "$n" ] || fail "runc list shows $got of $n containers"
	flock -w 1800 8 || fail "the bench lock is held"
	bench_load "before ($n containers)"
	BENCH_BETWEEN=""
	bench_alternate \
		list "\"$CONTAIN\" list >/dev/null" \
		runc "runc --root $RUNC_ROOT list >/dev/null"
	LC[$n]=${MED[list]}
	LR[$n]=${MED[runc]}
	CC[$n]=$(for i in 1 2 3 4 5; do bench_cpu "$CONTAIN" list; done | bench_median)
	CR[$n]=$(for i in 1 2 3 4 5; do bench_cpu runc --root "$RUNC_ROOT" list; done | bench_median)
	bench_load "after ($n containers)"
	flock -u 8
	# every file one list opens, and those it opens more than once
	strace -f -qq -e trace=openat,open -o "$T_DIR/st.$n" "$CONTAIN" list >/dev/null ||
		fail "contain list under strace failed"
	grep -v ENOENT "$T_DIR/st.$n" | grep -oE '"[^"]*"' |
		grep -vE '^"/proc/self/fd/|\.so(\.[0-9.]+)?"$|^"/etc/ld\.so' >"$T_DIR/paths.$n"
	OPN[$n]=$(wc -l <"$T_DIR/paths.$n")
	sort "$T_DIR/paths.$n" | uniq -d >"$T_DIR/dups.$n"
	DUP[$n]=$(wc -l <"$T_DIR/dups.$n")
done

echo "contain list vs runc list, one runc root (wall ms, medians of $BENCH_ROUNDS alternating rounds; CPU ms, medians of 5):"
printf '  %10s %10s %10s %8s %10s %10s %12s %10s\n' containers "contain" "runc list" ratio \
	"cpu contain" "cpu runc" "files opened" "twice"
for n in $COUNTS; do
	printf '  %10s %10s %10s %8s %10s %10s %12s %10s\n' "$n" "$(ms "${LC[$n]}")" \
		"$(ms "${LR[$n]}")" "$(bench_ratio "${LC[$n]}" "${LR[$n]}")" "$(ms "${CC[$n]}")" \
		"$(ms "${CR[$n]}")" "${OPN[$n]}" "${DUP[$n]}"
done
first=""
for n in $COUNTS; do
	if [ -z "$first" ]; then first=$n; continue; fi
	echo "  per container from $first to $n: contain list" \
		"$(awk -v a="${LC[$n]}" -v b="${LC[$first]}" -v n="$n" -v m="$first" \
			'BEGIN {printf "%.2f", (a - b) / (n - m) * 1000}') ms," \
		"runc list $(awk -v a="${LR[$n]}" -v b="${LR[$first]}" -v n="$n" -v m="$first" \
			'BEGIN {printf "%.2f", (a - b) / (n - m) * 1000}') ms;" \
		"files opened per container $(awk -v a="${OPN[$n]}" -v b="${OPN[$first]}" -v n="$n" \
			-v m="$first" 'BEGIN {printf "%.1f", (a - b) / (n - m)}')"
done
for n in $COUNTS; do
	if [ "${DUP[$n]}" -gt 0 ]; then
		echo "  opened more than once with $n containers: $(head -5 "$T_DIR/dups.$n" | tr '\n' ' ')"
	fi
done
last=${COUNTS##* }
bench_goal "contain list with $last containers vs runc list (growth, not a goal of the table)" \
	"$(bench_ratio "${LC[$last]}" "${LR[$last]}")" "<=" 1.0 x

#!/bin/bash
# bench_start: process start of the shipped binary (issue 13). `contain
# version`, `contain list` of a node with no containers and `contain
# quarantine --help`, whole processes, against /bin/true (the floor: a
# fork and an exec) and `runc --version` (the peer), in the same run.
# Each command is timed as a loop of BENCH_START_RUNS runs (>= 200: one
# start is a millisecond), in alternating rounds (A B C ... A B C ...), the
# median of BENCH_ROUNDS (>= 5) rounds kept; every run's exit status is
# checked. Prints wall and CPU (user + sys) milliseconds per run: on a
# shared machine the CPU time is what the load does not disturb.
# Goals: contain version <= 5 ms, and below runc --version.
set -u
CONTAIN_TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CONTAIN=${CONTAIN:-$CONTAIN_TOP/contain}
. "$CONTAIN_TOP/tests/bench/benchlib.sh"
fail() { echo "bench_start: $*" >&2; exit 1; }
[ -x "$CONTAIN" ] || fail "no binary '$CONTAIN' (make)"
command -v runc >/dev/null || fail "no runc"
N=${BENCH_START_RUNS:-300}
[ "$N" -ge 200 ] 2>/dev/null || N=200

W=$(mktemp -d /tmp/contain-bench-start.XXXXXX)
trap 'rm -rf "$W"' EXIT
# a node with no containers: every runtime's root an empty dir, an empty
# state dir (list still asks the kernel for the host's nftables tables)
roots=
for r in runc containerd docker podman crio; do
	mkdir -p "$W/$r"
	roots+="${roots:+,}$r=$W/$r"
done
mkdir -p "$W/state"
export CONTAIN_ROOTS=$roots CONTAIN_STATE_DIR=$W/state
[ "$("$CONTAIN" list --json)" = "[]" ] || fail "contain list of an empty node is not []"

names=(version list quarantine-help true runc)
cmds=("$CONTAIN version" "$CONTAIN list" "$CONTAIN quarantine --help" "/bin/true"
	"runc --version")

exec 9>/tmp/contain-bench.lock
flock -w 1800 9 || fail "another benchmark holds /tmp/contain-bench.lock"
echo "shared objects mapped at start: contain $(LD_TRACE_LOADED_OBJECTS=1 "$CONTAIN" | grep -c '=>\|ld-linux'), runc $(LD_TRACE_LOADED_OBJECTS=1 "$(command -v runc)" 2>/dev/null | grep -c '=>\|ld-linux')"
echo "runs per loop: $N, rounds: $BENCH_ROUNDS"
bench_load before
for ((i = 0; i < BENCH_ROUNDS; i++)); do
	for k in "${!names[@]}"; do
		# shellcheck disable=SC2086 # each command is words, no shell
		bench_per_run_cpu "$N" ${cmds[$k]} >>"$W/t.${names[$k]}" || exit 1
	done
done
bench_load after

declare -A WALL CPU
printf '%-18s %10s %10s\n' command "wall ms" "cpu ms"
for k in "${!names[@]}"; do
	n=${names[$k]}
	WALL[$n]=$(awk '{print $1 * 1000}' "$W/t.$n" | bench_median)
	CPU[$n]=$(awk '{print $2 * 1000}' "$W/t.$n" | bench_median)
	printf '%-18s %10.3f %10.3f\n' "$n" "${WALL[$n]}" "${CPU[$n]}"
done
over() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
echo "over /bin/true: version $(over "${WALL[version]}" "${WALL[true]}") ms wall," \
	"$(over "${CPU[version]}" "${CPU[true]}") ms cpu"
awk -v t="${WALL[true]}" 'BEGIN {exit !(t > 2.5)}' &&
	echo "note: /bin/true itself takes ${WALL[true]} ms a run here (fork and exec from bash, load" \
		"$(cut -d' ' -f1 /proc/loadavg)): the machine's floor, not contain's start, is most of the 5 ms"
bench_goal "process start: contain version" "${WALL[version]}" "<=" 5 " ms"
bench_goal "process start: contain version / runc --version" \
	"$(bench_ratio "${WALL[version]}" "${WALL[runc]}")" "<" 1 "x"
bench_goal "process start: contain list (no containers)" "${WALL[list]}" "<=" 5 " ms"
bench_goal "process start: contain quarantine --help" "${WALL[quarantine-help]}" "<=" 5 " ms"

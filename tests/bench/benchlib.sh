# tests/bench/benchlib.sh: how every benchmark times (issue 13), sourced by
# tests/bench/bench_*.sh:
#  - whole processes, the shipped binary ($CONTAIN) against a peer tool;
#  - alternating rounds (A B A B ...), at least 5, the median kept;
#  - the exit status of every timed command checked: a failed run stops
#    the benchmark with an error, it is never a fast time;
#  - the load average printed before and after;
#  - each goal printed as a row: measured ratio, goal, met or missed.
# No timing is ever asserted in make check: this file is for make bench.

BENCH_ROUNDS=${BENCH_ROUNDS:-5}
[ "$BENCH_ROUNDS" -ge 5 ] 2>/dev/null || BENCH_ROUNDS=5

bench_load() { # WHEN: "load average before: 0.12 0.30 0.41 (2 CPUs)"
	echo "load average $1: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
}

# bench_time CMD...: the wall seconds of one run of CMD (one word: a shell
# string, run in a subshell; more: a command and its arguments), printed
# with 6 decimals; exits 1 if CMD fails. The clock is bash's own
# (EPOCHREALTIME): no process is started to read it. For a command of a
# few milliseconds, time a loop of many (bench_per_run).
bench_time() {
	local t0 t1 rc
	t0=$EPOCHREALTIME
	if [ $# -eq 1 ]; then (eval "$1"); else "$@"; fi
	rc=$?
	t1=$EPOCHREALTIME
	if [ $rc -ne 0 ]; then
		echo "bench: '$*' failed (exit $rc): not a time" >&2
		exit 1
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

# bench_cpu_sum FILE: user + sys seconds of the waited-for children in the
# output of `times` (taken in this shell, not in a $(...) subshell)
bench_cpu_sum() {
	awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}

# bench_per_run N CMD...: the mean wall seconds of one of N runs of the
# command (words, no shell), each checked
bench_per_run() {
	local r
	r=$(bench_per_run_cpu "$@") || exit 1
	echo "${r%% *}"
}

# bench_per_run_cpu N CMD...: like bench_per_run, printing "WALL CPU": the
# mean wall seconds and the mean CPU seconds (user + sys of the runs, from
# bash's `times`) of one run. On a shared machine the CPU time is what
# the load does not disturb.
bench_per_run_cpu() {
	local n=$1 i t0 t1 c0 c1 tf
	shift
	tf=$(mktemp /tmp/contain-bench-times.XXXXXX)
	times >"$tf" # this shell's children: not in a $(...) subshell
	c0=$(bench_cpu_sum "$tf")
	t0=$EPOCHREALTIME
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 || {
			rm -f "$tf"
			echo "bench: '$*' failed: not a time" >&2
			exit 1
		}
	done
	t1=$EPOCHREALTIME
	times >"$tf"
	c1=$(bench_cpu_sum "$tf")
	rm -f "$tf"
	awk -v a="$t0" -v b="$t1" -v n="$n" -v c0="$c0" -v c1="$c1" \
		'BEGIN {printf "%.6f %.6f\n", (b - a) / n, (c1 - c0) / n}'
}

bench_median() { # numbers on stdin: their median
	sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2];
		else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# bench_alternate NAME1 CMD1 NAME2 CMD2 ... : BENCH_ROUNDS rounds, each
# running every CMD once in turn (A B A B ...); BENCH_BETWEEN, when set, is
# a shell string run (untimed, checked) before each timed command. Sets
# MED[NAME] to the median seconds of each, CPUMED[NAME] to the median CPU
# seconds (user + sys of its processes: what a loaded machine does not
# inflate). Each CMD is a shell string.
declare -A MED CPUMED
bench_alternate() {
	local -a names=() cmds=()
	while [ $# -ge 2 ]; do
		names+=("$1")
		cmds+=("$2")
		shift 2
	done
	local d i k
	d=$(mktemp -d /tmp/contain-bench-times.XXXXXX)
	for ((i = 0; i < BENCH_ROUNDS; i++)); do
		for k in "${!names[@]}"; do
			if [ -n "${BENCH_BETWEEN:-}" ]; then
				(eval "$BENCH_BETWEEN") || {
					echo "bench: between rounds: '$BENCH_BETWEEN' failed" >&2
					exit 1
				}
			fi
			times >"$d/t0"
			bench_time "${cmds[$k]}" >>"$d/$k" || exit 1
			times >"$d/t1"
			awk -v a="$(bench_cpu_sum "$d/t0")" -v b="$(bench_cpu_sum "$d/t1")" \
				'BEGIN {printf "%.3f\n", b - a}' >>"$d/cpu$k"
		done
	done
	for k in "${!names[@]}"; do
		MED[${names[$k]}]=$(bench_median <"$d/$k")
		CPUMED[${names[$k]}]=$(bench_median <"$d/cpu$k")
	done
	rm -rf "$d"
}

# bench_goal ROW MEASURED OP GOAL [UNIT]: one row of the goals table, e.g.
#   bench_goal "verify vs sha256sum -c" 6.3 ">=" 6 "x"
# prints "goal: ROW: 6.30x (goal >= 6x): met"
bench_goal() {
	local row=$1 v=$2 op=$3 g=$4 u=${5:-}
	local ok
	ok=$(awk -v v="$v" -v g="$g" -v op="$op" 'BEGIN {
		r = (op == ">=") ? v >= g : (op == "<=") ? v <= g : (op == "<") ? v < g : v > g
		print r ? "met" : "missed" }')
	local fmt='%.2f'
	awk -v v="$v" 'BEGIN {exit !(v >= 1000 || v <= -1000)}' && fmt='%.0f'
	printf "goal: %s: $fmt%s (goal %s %s%s): %s\n" "$row" "$v" "$u" "$op" "$g" "$u" "$ok"
}

bench_ratio() { # A B: A / B with 3 decimals
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", (b > 0) ? a / b : 0}'
}

# the one-core SHA-256 rate of this machine in bytes/s (openssl speed, 8 KiB
# blocks, as the issue names it), measured once per benchmark
bench_sha_rate() {
	openssl speed -evp sha256 -bytes 8192 -seconds 3 2>/dev/null |
		awk '/^sha256|^SHA256/ {v = $NF; sub(/k$/, "", v); print v * 1000; exit}'
}

# bench_cpu CMD...: the CPU seconds (user + sys, of the command and its
# children) of one run of CMD (words, no shell), checked; for a shared
# machine, where wall time moves with the others' load. Read with bash's
# own `times`, in this shell (its second line: the children's).
bench_cpu() {
	local f c0
	f=$(mktemp /tmp/contain-bench-cpu.XXXXXX)
	times >"$f"
	c0=$(bench_cpu_sum "$f")
	"$@" >/dev/null 2>&1 || {
		rm -f "$f"
		echo "bench: '$*' failed: not a time" >&2
		exit 1
	}
	times >"$f"
	awk -v a="$c0" -v b="$(bench_cpu_sum "$f")" 'BEGIN {printf "%.6f\n", b - a}'
	rm -f "$f"
}

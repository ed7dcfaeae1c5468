#!/bin/bash
# bench_yara_mem.sh: the memory scan rate of analyze's YARA on a 1 GiB core,
# against the yara command-line tool on the same core file, same run, same
# rules (the shipped yara-rules/*.yar), page cache warm for all:
#   1. memtarget --alloc 1024 maps 1 GiB of non-zero data; the collector
#      (mem-driver: src/collect/memory.c) writes its core; mkbag seals a bag
#      holding it as data/memory/PID.core;
#   2. `contain analyze BAG --image IMG --no-shipped-rules --rules yara-rules`
#      whole process (verify, the core read once, every region scanned by
#      the pool), and the same with --no-yara (verify and the core's notes:
#      the floor without YARA); the difference is analyze's YARA phase;
#   3. `yara -p 2 yara-rules/*.yar CORE` whole process (one file: yara scans
#      it on one thread; -p only spreads files of a directory).
# Printed: wall seconds (best of BENCH_RUNS, default 3), CPU seconds (user +
# sys) and MB/s of each, the ratios analyze YARA phase / yara (wall and CPU:
# on a loaded machine the wall ratio says little), the peak RSS. Needs root (the collector), make
# test-bins (mem-driver, mkbag), the fixture image (fixtures/build.sh).
set -u
TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export PATH="${CONTAIN_BUILD:-$TOP/build}/tests/tools:$PATH"
CONTAIN=${CONTAIN:-$TOP/contain}
MIB=${BENCH_MEM_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
IMG=$TOP/fixtures/cache/fixture-docker.tar
RULES=$TOP/yara-rules
[ -x /usr/bin/time ] || { echo "bench_yara_mem: SKIP no /usr/bin/time (apt-get install time)"; exit 0; }
for c in mem-driver mkbag yara jq; do
	command -v "$c" >/dev/null || { echo "bench_yara_mem: SKIP no $c (make test-bins; make deps)"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench_yara_mem: SKIP needs root"; exit 0; }
[ -x "$CONTAIN" ] || { echo "bench_yara_mem: no contain binary at $CONTAIN"; exit 1; }
[ -f "$IMG" ] || { echo "bench_yara_mem: SKIP no $IMG (fixtures/build.sh)"; exit 0; }
W=$(mktemp -d "${BENCH_DIR:-/tmp}/contain-bench-ym.XXXXXX") || exit 1
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
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
[ -s "$W/addr" ] || { echo "bench_yara_mem: memtarget did not start"; exit 1; }
mkdir -p "$W/payload/memory"
mem-driver --pid "$PID" --out "$W/payload/memory" >/dev/null || { echo "bench_yara_mem: mem-driver failed"; exit 1; }
CORE=$W/payload/memory/$PID.core
kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
mkbag -o "$W/bag" "$W/payload" 2>/dev/null || { echo "bench_yara_mem: mkbag failed"; exit 1; }
rm -rf "$W/payload/memory"/*.maps
CB=$(stat -c %s "$W/bag/data/memory/$(basename "$CORE")")
echo "core: $((CB / 1048576)) MiB ($(basename "$CORE"), written by the collector from memtarget --alloc $MIB)"

# timed CMD...: "wall cpu(user+sys) peak-RSS-KiB" of CMD, whole process
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$W/t" "$@" >"$W/out" 2>"$W/err" || {
		echo "bench_yara_mem: $1 ${2:-} failed: $(head -3 "$W/err")" >&2
		return 1
	}
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$W/t"
}
analyze() { # $@: the YARA options
	rm -rf "$W/rep"
	timed "$CONTAIN" analyze "$W/bag" --image "$IMG" --fail-on none "$@" -o "$W/rep"
}
yara_cli() { timed yara -p 2 "$RULES"/*.yar "$W/bag/data/memory/$(basename "$CORE")"; }
# the best (least wall) of lines "wall cpu rss"; cpu: the least of all
best() { sort -n | awk 'NR == 1 { w = $1; r = $3 } { if (NR == 1 || $2 < c) c = $2 }
	END { print w, c, r }'; }
# warm the page cache, check analyze scanned the core whole
cat "$W/bag/data/memory/"* >/dev/null
YOPT=(--no-shipped-rules --rules "$RULES")
analyze --no-yara >/dev/null || exit 1
analyze "${YOPT[@]}" >/dev/null || exit 1
SB=$(jq '.analyses.yara.scanned.bytes' "$W/rep/report.json")
RB=$(jq '[.analyses.cores[].bytes_read] | add' "$W/rep/report.json")
echo "analyze: the core's regions read: $((RB / 1048576)) MiB, given to libyara: $((SB / 1048576)) MiB" \
	"(windows share 64 KiB), workers: $(nproc) (online CPUs)"
full=() floor=() cli=()
for _ in $(seq "$RUNS"); do
	floor+=("$(analyze --no-yara)") || exit 1
	full+=("$(analyze "${YOPT[@]}")") || exit 1
	cli+=("$(yara_cli)") || exit 1
done
read -r F FC FR < <(printf '%s\n' "${full[@]}" | best)
read -r N NC _ < <(printf '%s\n' "${floor[@]}" | best)
read -r Y YC YR < <(printf '%s\n' "${cli[@]}" | best)
walls() { local x; for x in "$@"; do printf '%s ' "${x%% *}"; done; }
echo "analyze (whole):      $(walls "${full[@]}")s: best $F s, cpu $FC s, peak RSS $((FR / 1024)) MiB"
echo "analyze --no-yara:    $(walls "${floor[@]}")s: best $N s, cpu $NC s (verify, the core's notes)"
echo "yara -p 2 RULES CORE: $(walls "${cli[@]}")s: best $Y s, cpu $YC s, peak RSS $((YR / 1024)) MiB"
awk -v f="$F" -v n="$N" -v y="$Y" -v fc="$FC" -v nc="$NC" -v yc="$YC" -v rb="$RB" -v cb="$CB" 'BEGIN {
	ph = f - n; if (ph <= 0) ph = 0.001
	pc = fc - nc; if (pc <= 0) pc = 0.001
	printf "analyze YARA phase: %.3f s = %.0f MB/s of regions (cpu %.3f s = %.0f MB/s per CPU-s); whole analyze %.0f MB/s\n",
		ph, rb / 1e6 / ph, pc, rb / 1e6 / pc, rb / 1e6 / f
	printf "yara -p 2:          %.3f s = %.0f MB/s of the core file (cpu %.3f s = %.0f MB/s per CPU-s)\n",
		y, cb / 1e6 / y, yc, cb / 1e6 / yc
	printf "ratio analyze YARA phase / yara: wall %.3f, cpu %.3f; whole analyze / yara: wall %.3f\n",
		ph / y, pc / yc, f / y
}'

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
# Printed: seconds (best of BENCH_RUNS, default 3) and MB/s of each, the
# ratio analyze YARA phase / yara, analyze's peak RSS. Needs root (the collector), make
# test-bins (mem-driver, mkbag), the fixture image (fixtures/build.sh).
set -u
TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export PATH="${CONTAIN_BUILD:-$TOP/build}/tests/tools:$PATH"
CONTAIN=${CONTAIN:-$TOP/contain}
MIB=${BENCH_MEM_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
IMG=$TOP/fixtures/cache/fixture-docker.tar
RULES=$TOP/yara-rules
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
kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
CORE=$W/payload/memory/*.core
CORE=$(echo $CORE)
mkbag -o "$W/bag" "$W/payload" 2>/dev/null || { echo "bench_yara_mem: mkbag failed"; exit 1; }
rm -rf "$W/payload/memory"/*.maps
CB=$(stat -c %s "$W/bag/data/memory/$(basename "$CORE")")
echo "core: $((CB / 1048576)) MiB ($(basename "$CORE"), written by the collector from memtarget --alloc $MIB)"

now() { date +%s.%N; }
# peak RSS of the last analyze, when /usr/bin/time is there
TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %M -o $W/rss"
best() { sort -n | head -1; }
analyze() { # $@: the YARA options; prints the seconds
	rm -rf "$W/rep"
	local t0 t1
	t0=$(now)
	$TIME "$CONTAIN" analyze "$W/bag" --image "$IMG" --fail-on none "$@" -o "$W/rep" \
		>/dev/null 2>"$W/err"
	local rc=$?
	t1=$(now)
	[ "$rc" -eq 0 ] || { echo "bench_yara_mem: analyze $* failed ($rc): $(head -3 "$W/err")" >&2; return 1; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
yara_cli() {
	local t0 t1
	t0=$(now)
	yara -p 2 "$RULES"/*.yar "$W/bag/data/memory/$(basename "$CORE")" >"$W/yara.out" 2>&1 ||
		{ echo "bench_yara_mem: yara failed: $(head -3 "$W/yara.out")" >&2; return 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
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
F=$(printf '%s\n' "${full[@]}" | best)
N=$(printf '%s\n' "${floor[@]}" | best)
Y=$(printf '%s\n' "${cli[@]}" | best)
RSS=$(cat "$W/rss" 2>/dev/null)
echo "analyze (whole):     ${full[*]} s, best $F s${RSS:+, peak RSS $((RSS / 1024)) MiB}"
echo "analyze --no-yara:   ${floor[*]} s, best $N s (verify, the core's notes)"
echo "yara -p 2 RULES CORE: ${cli[*]} s, best $Y s"
awk -v f="$F" -v n="$N" -v y="$Y" -v rb="$RB" -v cb="$CB" 'BEGIN {
	ph = f - n; if (ph <= 0) ph = 0.001
	printf "analyze YARA phase: %.3f s = %.0f MB/s of regions; whole analyze %.0f MB/s\n",
		ph, rb / 1e6 / ph, rb / 1e6 / f
	printf "yara -p 2:          %.3f s = %.0f MB/s of the core file\n", y, cb / 1e6 / y
	printf "ratio (analyze YARA phase / yara): %.3f; (whole analyze / yara): %.3f\n", ph / y, f / y
}'

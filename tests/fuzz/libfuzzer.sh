#!/bin/bash
# tests/fuzz/libfuzzer.sh BUILD_DIR: run each libFuzzer build of a fuzz
# target (make fuzz builds them) for FUZZ_SECONDS (default 60), starting from
# its committed corpus. New inputs go to BUILD_DIR/fuzz-corpus/NAME (never
# into git), a crash to BUILD_DIR/fuzz-crashes/NAME/. Exits 1 if a target
# crashed, leaked or hung; says how to keep the input as a regression.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${1:-build-fuzz}
S=${FUZZ_SECONDS:-60}
fail=0 n=0
for bin in "$B"/tests/fuzz/fz_*.libfuzzer; do
	[ -x "$bin" ] || continue
	n=$((n + 1))
	name=$(basename "$bin" .libfuzzer)
	kind=${name#fz_}
	seed=tests/fuzz/corpus/$kind
	work=$B/fuzz-corpus/$kind
	crashes=$B/fuzz-crashes/$kind
	log=$B/$name.fuzz.log
	mkdir -p "$work" "$crashes"
	echo "fuzz: $name for ${S}s (seed corpus $seed, log $log)"
	# the first corpus dir gets the new inputs; the seed is only read
	"$bin" -max_total_time="$S" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$crashes/" -print_final_stats=1 "$work" "$seed" >"$log" 2>&1 </dev/null
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" | sed 's/^/    /'
	if [ "$rc" -ne 0 ]; then
		fail=1
		echo "FAIL $name: exit $rc"
		grep -E 'ERROR: |SUMMARY: |Test unit written to' "$log" | head -10 | sed 's/^/    /'
		echo "    once fixed, keep the input as a regression: tests/fuzz/corpus/$kind/ (tests/fuzz/README.md)"
	fi
done
[ "$n" -gt 0 ] || { echo "fuzz: no libFuzzer target in $B/tests/fuzz"; exit 1; }
exit "$fail"

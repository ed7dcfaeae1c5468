#!/bin/bash
# tests/bench/run.sh: run every tests/bench/bench_*.sh (make bench). Each prints
# its own figures as ratios against the peer tool named in its issue, measured
# in the same run on the same input (tests/bench/benchlib.sh: the shipped
# binary, alternating rounds, medians, exit statuses checked). At the end, the
# goal rows of every benchmark ("goal: ...: met|missed") are printed again
# together: the goals table. Never part of make check.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
if [ "$B" = build ]; then export CONTAIN="$PWD/contain"; else export CONTAIN="$PWD/$B/contain"; fi
export CONTAIN_TOP="$PWD" CONTAIN_BUILD="$PWD/$B"
export PATH="$PWD/$B/tests/tools:$PATH"
rc=0
all=$(mktemp /tmp/contain-bench-all.XXXXXX)
trap 'rm -f "$all"' EXIT
for b in tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	[ -n "${T:-}" ] && [[ "$b" != *"$T"* ]] && continue
	echo "== $(basename "$b")"
	bash "$b" 2>&1 | tee -a "$all"
	[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench $(basename "$b") failed" | tee -a "$all"; rc=1; }
done
echo "== the goals ($(grep -c '^goal: ' "$all") rows; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
grep -E '^goal: |^bench .* failed$' "$all"
echo "met: $(grep -c '^goal: .*: met$' "$all"), missed: $(grep -c '^goal: .*: missed$' "$all")"
exit $rc

#!/bin/bash
# tests/bench/run.sh: run every tests/bench/bench_*.sh (make bench). Each prints
# its own figures as ratios against the peer tool named in its issue, measured
# in the same run on the same input. Never part of make check.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
if [ "$B" = build ]; then export CONTAIN="$PWD/contain"; else export CONTAIN="$PWD/$B/contain"; fi
export CONTAIN_TOP="$PWD" CONTAIN_BUILD="$PWD/$B"
export PATH="$PWD/$B/tests/tools:$PATH"
rc=0
for b in tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	[ -n "${T:-}" ] && [[ "$b" != *"$T"* ]] && continue
	echo "== $(basename "$b")"
	bash "$b" || { echo "bench $(basename "$b") failed"; rc=1; }
done
exit $rc

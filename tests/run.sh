#!/bin/bash
# tests/run.sh: run every unit binary, fuzz replay and integration script; read
# their TAP; print one line per suite, the failures in full, and last:
#   tests: N passed, N failed, N skipped
# Exits non-zero on any failure or when no test ran.
# T=pattern limits the suites run (a substring of their names).
# RUN_SH_KINDS="unit fuzz" limits the kinds run (unit, fuzz, integration).
# RUN_SH_PRIOR="P F S" adds the counts of an earlier pass in the same run (CI's
# sanitizer pass, .ci/run) to the totals, so the last line counts everything.
# What makes a suite fail: tests/lib/tap.sh.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
# B=build-x: another build dir (make B=build-x); its binary is build-x/contain
B=${B:-build}
if [ "$B" = build ]; then export CONTAIN="$TOP/contain"; else export CONTAIN="$TOP/$B/contain"; fi
export CONTAIN_TOP="$TOP" CONTAIN_BUILD="$TOP/$B"
export PATH="$TOP/$B/tests/tools:$PATH"
OUT=$(mktemp -d /tmp/contain-tests.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

total_pass=0 total_fail=0 total_skip=0
failed_suites=()

# the TAP reader (tests/lib/tap.sh): a suite fails on any `not ok` (TODO too),
# a missing or wrong plan, a skip of everything after tests ran or without a
# reason, a suite where nothing ran that did not skip up front, a non-zero exit
. "$TOP/tests/lib/tap.sh"

# count_tap NAME FILE RC: one line for suite NAME, its failures in full, the totals
count_tap() {
	local name=$1 tap=$2 rc=$3
	tap_count "$tap" "$rc"
	local note=""
	[ -n "$TAP_NOTE" ] && note=" ($TAP_NOTE)"
	printf '%-4s %-40s %4d passed, %d failed, %d skipped%s\n' "$TAP_VERDICT" "$name" \
		"$TAP_PASS" "$TAP_FAIL" "$TAP_SKIP" "$note"
	if [ "$TAP_FAIL" -gt 0 ]; then
		failed_suites+=("$name")
		sed 's/^/    /' "$tap" | grep -v '^    ok ' | head -200
	elif [ -n "${VERBOSE:-}" ]; then
		sed 's/^/    /' "$tap"
	fi
	total_pass=$((total_pass + TAP_PASS))
	total_fail=$((total_fail + TAP_FAIL))
	total_skip=$((total_skip + TAP_SKIP))
}

want() { [ -z "${T:-}" ] || [[ "$1" == *"$T"* ]]; }
KINDS=" ${RUN_SH_KINDS:-unit fuzz integration} "
kind_on() { [[ "$KINDS" == *" $1 "* ]]; }

if kind_on unit; then
	for bin in $B/tests/unit/test_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		want "$name" || continue
		tap="$OUT/$name.tap"
		: >"$tap"
		UNIT_TAP="$tap" CK_DEFAULT_TIMEOUT=60 timeout -k 5 600 "$bin" >"$OUT/$name.log" 2>&1
		rc=$?
		count_tap "$name" "$tap" "$rc"
		[ "$rc" -ne 0 ] && sed 's/^/    # /' "$OUT/$name.log" | tail -30
	done
fi

# fuzz targets replay their corpus (tests/fuzz/README.md): one TAP line per
# input, a crash or a wrong verdict (ok-KIND-*, bad-KIND-*) fails it
if kind_on fuzz; then
	for bin in $B/tests/fuzz/fz_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		want "$name" || continue
		corpus="tests/fuzz/corpus/${name#fz_}"
		tap="$OUT/$name.tap"
		if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
			timeout -k 5 600 "$bin" "$corpus"/* >"$tap" 2>"$OUT/$name.log"
			rc=$?
		else
			printf 'not ok 1 - a fuzz target replays its corpus: none at %s\n1..1\n' "$corpus" >"$tap"
			rc=0
		fi
		count_tap "$name" "$tap" "$rc"
		[ "$rc" -ne 0 ] && sed 's/^/    # /' "$OUT/$name.log" | tail -30
	done
fi

# RUN_SH_INTEGRATION_DIR: another directory of t*.sh scripts (the runner's own
# self-test, tests/integration/t0002-runner.sh, feeds it fake suites)
if kind_on integration; then
	for t in "${RUN_SH_INTEGRATION_DIR:-tests/integration}"/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t")
		want "$name" || continue
		tap="$OUT/$name.tap"
		timeout -k 10 1500 bash "$t" >"$tap" 2>"$OUT/$name.err"
		rc=$?
		count_tap "$name" "$tap" "$rc"
		if [ "$rc" -ne 0 ] || grep -q '^not ok' "$tap"; then
			sed 's/^/    # stderr: /' "$OUT/$name.err" | tail -30
		fi
	done
fi

ran=$((total_pass + total_fail))
if [ -n "${RUN_SH_PRIOR:-}" ]; then
	if [[ "$RUN_SH_PRIOR" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; then
		read -r pp pf ps <<<"$RUN_SH_PRIOR"
	else
		echo "RUN_SH_PRIOR '$RUN_SH_PRIOR' is not 'PASSED FAILED SKIPPED': counted as a failure"
		pp=0 pf=1 ps=0
	fi
	v=PASS
	[ "$pf" -eq 0 ] || { v=FAIL; failed_suites+=("(the earlier pass)"); }
	printf '%-4s %-40s %4d passed, %d failed, %d skipped\n' "$v" "(the earlier pass: RUN_SH_PRIOR)" \
		"$pp" "$pf" "$ps"
	total_pass=$((total_pass + pp))
	total_fail=$((total_fail + $pf))
	total_skip=$((total_skip + $ps))
fi
if [ "$ran" -eq 0 ]; then
	echo "no test ran"
	echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
	exit 1
fi
[ "${#failed_suites[@]}" -gt 0 ] && echo "failing: ${failed_suites[*]}"
echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]

#!/bin/bash
# tests/run.sh: run every unit binary, fuzz replay and integration script; read
# their TAP; print one line per suite, the failures in full, and last:
#   tests: N passed, N failed, N skipped
# Exits non-zero on any failure or when no test ran.
# T=pattern limits the suites run (a substring of their names).
set -u
cd "$(dirname "$0")/.."
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

# count TAP in file $2 for suite $1, with the process's exit code $3
count_tap() {
	local name=$1 tap=$2 rc=$3 pass=0 fail=0 skip=0 plan="" line
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"* | "ok "*"# skip"*) skip=$((skip + 1)) ;;
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*"# TODO"*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)) ;;
		"1..0"*"SKIP"* | "1..0"*"skip"*) skip=$((skip + 1)); plan=0 ;;
		1..*) plan=${line#1..}; plan=${plan%% *} ;;
		esac
	done <"$tap"
	local ran=$((pass + fail))
	local note=""
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=$((fail + 1)); note=" (exit $rc without a failing test)"
	elif [ -z "$plan" ] && [ "$skip" -eq 0 ]; then
		fail=$((fail + 1)); note=" (no plan: died early?)"
	elif [ -n "$plan" ] && [ "$plan" != 0 ] && [ "$plan" -ne $((ran + skip)) ]; then
		fail=$((fail + 1)); note=" (planned $plan, ran $((ran + skip)))"
	fi
	local verdict=PASS
	[ "$fail" -gt 0 ] && verdict=FAIL
	[ "$fail" -eq 0 ] && [ "$pass" -eq 0 ] && verdict=SKIP
	printf '%-4s %-40s %4d passed, %d failed, %d skipped%s\n' "$verdict" "$name" "$pass" "$fail" "$skip" "$note"
	if [ "$fail" -gt 0 ]; then
		failed_suites+=("$name")
		sed 's/^/    /' "$tap" | grep -v '^    ok ' | head -200
	elif [ -n "${VERBOSE:-}" ]; then
		sed 's/^/    /' "$tap"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

want() { [ -z "${T:-}" ] || [[ "$1" == *"$T"* ]]; }

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

for bin in $B/tests/fuzz/fz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	want "$name" || continue
	corpus="tests/fuzz/corpus/${name#fz_}"
	tap="$OUT/$name.tap"
	if [ -d "$corpus" ]; then
		n=$(find "$corpus" -type f | wc -l)
		if timeout -k 5 600 "$bin" "$corpus"/* >"$OUT/$name.log" 2>&1; then
			printf '1..1\nok 1 - replayed %d inputs\n' "$n" >"$tap"
		else
			printf '1..1\nnot ok 1 - replay of %d inputs failed\n' "$n" >"$tap"
			sed 's/^/# /' "$OUT/$name.log" | tail -20 >>"$tap"
		fi
	else
		printf '1..0 # SKIP no corpus at %s\n' "$corpus" >"$tap"
	fi
	count_tap "$name" "$tap" 0
done

for t in tests/integration/t[0-9]*.sh; do
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

if [ $((total_pass + total_fail)) -eq 0 ]; then
	echo "no test ran"
	echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
	exit 1
fi
[ "${#failed_suites[@]}" -gt 0 ] && echo "failing: ${failed_suites[*]}"
echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]

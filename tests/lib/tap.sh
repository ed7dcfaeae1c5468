# shellcheck shell=bash
# tests/lib/tap.sh: the TAP reader of tests/run.sh, on its own so that
# tests/integration/t0002-runner.sh can feed it fake suites. Source it, then
#   tap_count FILE RC
# reads the TAP in FILE (a suite that exited with RC) and sets
#   TAP_PASS TAP_FAIL TAP_SKIP  counts (a structural problem counts as a failure)
#   TAP_NOTE                    why the suite failed beyond its `not ok` lines ("" if none)
#   TAP_VERDICT                 PASS, FAIL or SKIP
# A suite cannot go silent:
#   - `not ok` fails, with any directive: `not ok ... # TODO` and `# SKIP` too;
#   - it needs exactly one plan, and the plan must match the tests it emitted;
#   - `1..0 # SKIP reason` skips the whole suite only as its first TAP line
#     (nothing emitted before it, nothing after) and only with a reason;
#   - a suite in which nothing ran (every test skipped) fails unless it was
#     skipped that way up front;
#   - tests are numbered 1, 2, 3... in order (a test counted in a subshell
#     repeats a number); `Bail out!` fails;
#   - a non-zero exit fails even when every test line said ok.
# Lines that do not start a TAP item (diagnostics `#`, indented output) are ignored.

# _tap_problem TEXT: a structural failure
_tap_problem() {
	TAP_FAIL=$((TAP_FAIL + 1))
	TAP_NOTE="${TAP_NOTE:+$TAP_NOTE; }$1"
}

tap_count() {
	local file=$1 rc=$2 line num desc dir
	local tests=0 plans=0 plan="" skip_all=0 misnumbered=0
	TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0 TAP_NOTE="" TAP_VERDICT=FAIL
	local re_test='^(not )?ok([ ]+([0-9]+))?([ ].*)?$'
	local re_plan='^1\.\.([0-9]+)[ ]*(#[ ]*(.*))?$'
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [[ "$line" =~ $re_test ]]; then
			tests=$((tests + 1))
			num=${BASH_REMATCH[3]}
			desc=${BASH_REMATCH[4]}
			if [ -n "$num" ] && [ "$num" != "$tests" ] && [ "$misnumbered" -eq 0 ]; then
				misnumbered=1
				_tap_problem "test $tests is numbered $num"
			fi
			# the directive: after the first unescaped '#' (lib.sh writes a '#'
			# in a description as '\#')
			dir=""
			desc=${desc//\\#/}
			if [[ "$desc" == *"#"* ]]; then
				dir=${desc#*#}
				dir=${dir#"${dir%%[! ]*}"}
				dir=${dir:0:4}
				dir=${dir^^}
			fi
			if [ -n "${BASH_REMATCH[1]}" ]; then
				TAP_FAIL=$((TAP_FAIL + 1))
			elif [ "$dir" = SKIP ]; then
				TAP_SKIP=$((TAP_SKIP + 1))
			else
				TAP_PASS=$((TAP_PASS + 1))
			fi
		elif [[ "$line" =~ $re_plan ]]; then
			plans=$((plans + 1))
			if [ "$plans" -gt 1 ]; then
				_tap_problem "more than one plan"
				continue
			fi
			plan=${BASH_REMATCH[1]}
			if [ "$plan" -eq 0 ]; then
				local why=${BASH_REMATCH[3]}
				if [ "$tests" -gt 0 ]; then
					_tap_problem "skipped everything after $tests tests had run"
				elif [ "${why:0:4}" != SKIP ] && [ "${why:0:4}" != skip ]; then
					_tap_problem "a plan of 1..0 without # SKIP"
				else
					why=${why:4}
					why=${why#"${why%%[! ]*}"}
					if [ -z "$why" ]; then
						_tap_problem "skipped everything without a reason"
					else
						skip_all=1
					fi
				fi
			fi
		elif [[ "$line" == "Bail out!"* ]]; then
			_tap_problem "${line:0:80}"
		fi
	done <"$file"
	if [ -z "$plan" ]; then
		_tap_problem "no plan: died early?"
	elif [ "$skip_all" -eq 1 ]; then
		if [ "$tests" -gt 0 ]; then
			_tap_problem "tests after 1..0 # SKIP"
		else
			TAP_SKIP=$((TAP_SKIP + 1))
		fi
	else
		[ "$plan" -ne "$tests" ] && _tap_problem "planned $plan, ran $tests"
		[ "$plan" -gt 0 ] && [ "$TAP_PASS" -eq 0 ] && [ "$TAP_FAIL" -eq 0 ] &&
			_tap_problem "nothing ran: every test skipped, not up front with 1..0 # SKIP"
	fi
	if [ "$rc" -ne 0 ] && [ "$TAP_FAIL" -eq 0 ]; then
		_tap_problem "exit $rc without a failing test"
	fi
	if [ "$TAP_FAIL" -gt 0 ]; then
		TAP_VERDICT=FAIL
	elif [ "$skip_all" -eq 1 ]; then
		TAP_VERDICT=SKIP
	else
		TAP_VERDICT=PASS
	fi
	return 0
}

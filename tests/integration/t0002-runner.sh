#!/bin/bash
# t0002-runner: the test harness itself cannot go silent. The TAP reader of
# tests/run.sh (tests/lib/tap.sh) is fed small fake suites and each verdict
# checked; then tests/run.sh itself runs a directory of fake suites
# (RUN_SH_INTEGRATION_DIR) and must fail, naming them.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/tap.sh"
# the nested runs of tests/run.sh below get only what each sets: not the
# outer run's filter, kinds or earlier-pass counts (.ci/run sets RUN_SH_PRIOR)
unset T RUN_SH_PRIOR RUN_SH_KINDS RUN_SH_INTEGRATION_DIR

# verdict RC TAP: "VERDICT pass fail skip" of tap_count on the TAP text
verdict() {
	printf '%s' "$2" >"$T_DIR/v.tap"
	tap_count "$T_DIR/v.tap" "$1"
	echo "$TAP_VERDICT $TAP_PASS $TAP_FAIL $TAP_SKIP"
}
# case_is RC TAP WANT DESC
case_is() { is "$(verdict "$1" "$2")" "$3" "tap: $4"; }

# ---- what passes
case_is 0 $'1..2\nok 1 - a\nok 2 - b\n' "PASS 2 0 0" "a plan first, every test ok"
case_is 0 $'ok 1 - a\nok 2 - b\n1..2\n' "PASS 2 0 0" "a plan last (Check, done_testing)"
case_is 0 $'ok 1 - a\nok 2 - b # SKIP no tool\n1..2\n' "PASS 1 0 1" "one test skipped, one ran"
case_is 0 $'# diagnostics\nok 1 - a\n  indented noise\n1..1\n' "PASS 1 0 0" "diagnostics and indented lines are ignored"
case_is 0 $'1..0 # SKIP needs root\n' "SKIP 0 0 1" "skipped up front with a reason"
case_is 0 $'# why\n1..0 # skip no fixtures\n' "SKIP 0 0 1" "a comment before the skip plan is fine"
case_is 0 $'ok 1 - a # TODO later\n1..1\n' "PASS 1 0 0" "ok # TODO (an unexpected pass) passes"
case_is 0 $'okay then\nok 1 - a\nok\nnot ok\n1..3\n' "FAIL 2 1 0" "ok and not ok without a number count; okay does not"

# ---- what fails
case_is 0 $'ok 1 - a\nnot ok 2 - b\n1..2\n' "FAIL 1 1 0" "a not ok"
case_is 0 $'ok 1 - a\nnot ok 2 - b # TODO known\n1..2\n' "FAIL 1 1 0" "not ok # TODO is not a pass"
case_is 0 $'ok 1 - a\nnot ok 2 - b # SKIP x\n1..2\n' "FAIL 1 1 0" "not ok # SKIP is not a skip"
case_is 0 $'ok 1 - a\nok 2 - b\n1..0 # SKIP daemon gone\n' "FAIL 2 2 0" "1..0 # SKIP after tests ran"
case_is 0 $'ok 1 - a\n1..0 # SKIP x\n' "FAIL 1 2 0" "1..0 # SKIP after one test"
case_is 0 $'1..0 # SKIP\n' "FAIL 0 1 0" "1..0 # SKIP without a reason"
case_is 0 $'1..0\n' "FAIL 0 1 0" "1..0 without SKIP"
case_is 0 $'1..0 # SKIP x\nok 1 - a\n' "FAIL 1 1 0" "tests after 1..0 # SKIP"
case_is 0 $'ok 1 - a\nok 2 - b\n' "FAIL 2 1 0" "no plan"
case_is 0 $'ok 1 - a # SKIP x\nok 2 - b # SKIP y\n' "FAIL 0 1 2" "no plan, only skips"
case_is 0 $'ok 1 - a # SKIP x\nok 2 - b # SKIP y\n1..2\n' "FAIL 0 1 2" "every test skipped, not up front"
case_is 0 $'1..3\nok 1 - a\nok 2 - b\n' "FAIL 2 1 0" "fewer tests than planned"
case_is 0 $'ok 1 - a\nok 2 - b\n1..1\n' "FAIL 2 1 0" "more tests than planned"
case_is 0 $'1..2\nok 1 - a\nok 2 - b\n1..2\n' "FAIL 2 1 0" "two plans"
case_is 0 $'ok 1 - a\nok 1 - b\n1..2\n' "FAIL 2 1 0" "a repeated number (a test counted in a subshell)"
case_is 0 $'ok 1 - a\nBail out! no daemon\n1..1\n' "FAIL 1 1 0" "Bail out!"
case_is 1 $'ok 1 - a\n1..1\n' "FAIL 1 1 0" "exit 1 though every test said ok"
case_is 134 $'1..0 # SKIP x\n' "FAIL 0 1 1" "exit 134 after a skip plan"
case_is 0 '' "FAIL 0 1 0" "no output at all"
like "$(verdict 0 $'ok 1 - a\n1..0 # SKIP late\n'; echo "$TAP_NOTE")" "skipped everything after 1 tests had run" \
	"tap: the note says why"

# ---- lib.sh: what a script prints, and how the runner reads it
# lib_run BODY [ENV=VAL...]: a script sourcing lib.sh with BODY; sets OUT (its
# TAP), RC, and V (the runner's "VERDICT pass fail skip")
lib_run() {
	local body=$1; shift
	printf '. "%s/tests/lib/lib.sh"\n%s\n' "$CONTAIN_TOP" "$body" >"$T_DIR/s.sh"
	run env -u CI "$@" bash "$T_DIR/s.sh"
	printf '%s\n' "$OUT" >"$T_DIR/s.tap"
	tap_count "$T_DIR/s.tap" "$RC"
	V="$TAP_VERDICT $TAP_PASS $TAP_FAIL $TAP_SKIP"
}
lib_run 'ok "a" true; skip_all "too late"'
is "$V" "FAIL 1 1 0" "lib: skip_all after a test refuses: the script fails"
like "$OUT" "not ok 2 - skip_all after 1 tests" "lib: and says so"
is "$RC" 1 "lib: exit 1"
lib_run 'skip_all "no such thing here"; ok "a" true'
is "$V" "SKIP 0 0 1" "lib: skip_all up front skips the script"
lib_run 'ok "a" true
section "two"
section_skip "no container"
ok "b" false
fails "c" true
is 1 2 "d"
like x y "e"
run false
is "$RC" 255 "f"
wait_for 5 true && echo "not ok - wait_for ran"
section "three"
ok "g" true
done_testing'
is "$V" "PASS 2 0 5" "lib: a skipped section reports each of its tests skipped, the next section runs"
like "$OUT" "ok 3 - c # SKIP no container" "lib: the skip line carries the reason"
lib_run 'ok "a # b" true; ok "c" true; done_testing'
is "$V" "PASS 2 0 0" "lib: a '#' in a description is not a directive"
lib_run 'ok "a" true; start_failed "runc_run x" "why"; skip "s" "x"; done_testing'
is "$V" "PASS 1 0 1" "lib: a start that failed outside CI is a diagnostic"
lib_run 'ok "a" true; start_failed "runc_run x" "why"; skip "s" "x"; done_testing' CI=true
is "$V" "FAIL 1 1 1" "lib: under CI=true a start that failed is a failed test"
lib_run 'need_cmd no-such-cmd-t0002; ok "a" true; done_testing'
is "$V" "SKIP 0 0 1" "lib: need_cmd of a missing command skips up front"
lib_run 'need_cmd no-such-cmd-t0002; ok "a" true; done_testing' CI=true
is "$V" "FAIL 0 1 0" "lib: under CI=true a missing command fails"
like "$OUT" "deps.sh" "lib: and points at tests/lib/deps.sh"
lib_run '. "$CONTAIN_TOP/tests/lib/containers.sh"; FIXTURE_ROOTFS=/nonexistent; ok "a" true
section "ct"; runc_run "t0002-$$" || section_skip "no container"; ok "b" true; done_testing' CI=true
is "$V" "FAIL 1 1 1" "lib: under CI=true runc_run that fails is a failed test, the section skipped"
like "$OUT" "not ok 2 - runc_run 't0002-" "lib: naming the container"
lib_run '. "$CONTAIN_TOP/tests/lib/containers.sh"; FIXTURE_ROOTFS=/nonexistent; ok "a" true
CID=old; runc_run "t0002-$$" || section_skip "no container"; ok "b" true; echo "# CID=[$CID]"; done_testing'
is "$V" "PASS 1 0 1" "lib: outside CI a runc_run that fails is a skip of its section"
like "$OUT" "CID=\[\]" "lib: a failed runc_run leaves no container id behind"

# ---- fails and fails_with: a crash or a usage error is not the failure a test expects
lib_run 'fails "exit 1" false
fails "exit 3" sh -c "exit 3"
fails "exit 124" sh -c "exit 124"
fails "exit 0" true
fails "exit 2" sh -c "exit 2"
fails "SIGSEGV" sh -c "kill -SEGV \$\$"
fails "SIGABRT" sh -c "kill -ABRT \$\$"
fails "exit 127" no-such-command-t0002
fails "exit 126" /dev/null
fails_with 3 "fails_with 3: 3" sh -c "exit 3"
fails_with 3 "fails_with 3: 1" false
fails_with 2 "fails_with 2: 2" sh -c "exit 2"
fails_with 1 "fails_with 1: SIGKILL" sh -c "kill -KILL \$\$"
done_testing'
is "$(grep -c "^ok" <<<"$OUT") $(grep "^not ok" <<<"$OUT" | sed 's/^not ok [0-9]* - //' | tr '\n' ',')" \
	"5 exit 0,exit 2,SIGSEGV,SIGABRT,exit 127,exit 126,fails_with 3: 1,fails_with 1: SIGKILL," \
	"lib: fails takes exit 1..125 but 2; fails_with takes its code only"
like "$OUT" "# exit 139: killed by signal 11 \(SEGV\)" "lib: a crash is named as such"
like "$OUT" "# exit 2: a usage error: want" "lib: so is a usage error"

# ---- the fuzz replay: a crash, a wrong verdict, a verdict not given fail the input
section "the fuzz replay"
command -v cc >/dev/null || section_skip "no cc here"
cat >"$T_DIR/fz_t.c" <<'EOF2'
#include <stdlib.h>
#include <string.h>
#include "fz.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 5 && memcmp(data, "crash", 5) == 0)
		abort();
	fz_verdict("word", size > 0 && data[0] == 'w');
	fz_verdict("word-list", size > 0 && data[0] == 'l');
	return 0;
}
EOF2
ok "fuzz: a toy target builds with replay.c and fz.c" \
	cc -Wall -Werror -I"$CONTAIN_TOP/tests/fuzz" -o "$T_DIR/fz_t" "$T_DIR/fz_t.c" \
	"$CONTAIN_TOP/tests/fuzz/replay.c" "$CONTAIN_TOP/tests/fuzz/fz.c"
mkdir -p "$T_DIR/corpus"
c() { printf '%s' "$2" >"$T_DIR/corpus/$1"; }
c ok-word-a.txt "w1"
c bad-word-b.txt "x"
c ok-word-list-c.txt "l"
c ok-word-d.txt "x"
c bad-word-e.txt "w"
c ok-nosuchkind-f.txt "w"
c any-g.txt "crash"
c plain-h.txt "zz"
run "$T_DIR/fz_t" "$T_DIR"/corpus/ok-word-a.txt "$T_DIR"/corpus/bad-word-b.txt \
	"$T_DIR"/corpus/ok-word-list-c.txt "$T_DIR"/corpus/ok-word-d.txt "$T_DIR"/corpus/bad-word-e.txt \
	"$T_DIR"/corpus/ok-nosuchkind-f.txt "$T_DIR"/corpus/any-g.txt "$T_DIR"/corpus/plain-h.txt
is "$RC" 1 "fuzz: the replay exits 1 when an input failed"
is "$(grep -E '^(not )?ok' <<<"$OUT" | sed 's/ - .*//' | tr '\n' ',')" \
	"ok 1,ok 2,ok 3,not ok 4,not ok 5,not ok 6,not ok 7,ok 8," "fuzz: one TAP line per input, each judged"
like "$OUT" "ok 3 - ok-word-list-c.txt: word-list accepted it" "fuzz: the longest kind is the one asked about"
like "$OUT" "not ok 4 - ok-word-d.txt: word rejected it, want accepted" "fuzz: ok-KIND rejected fails"
like "$OUT" "not ok 5 - bad-word-e.txt: word accepted it, want rejected" "fuzz: bad-KIND accepted fails"
like "$OUT" "not ok 6 - ok-nosuchkind-f.txt: the target gave no verdict" "fuzz: a kind without a verdict fails"
like "$OUT" "not ok 7 - any-g.txt: killed by signal 6" "fuzz: a crash fails that input, the rest still run"
printf '%s\n' "$OUT" >"$T_DIR/fz.tap"
tap_count "$T_DIR/fz.tap" "$RC"
is "$TAP_VERDICT $TAP_PASS $TAP_FAIL" "FAIL 4 4" "fuzz: the runner reads the replay's TAP"

# ---- tests/run.sh on a directory of fake suites
section "tests/run.sh"
F=$T_DIR/suites
mkdir -p "$F"
fake() { printf '#!/bin/bash\n%s\n' "$2" >"$F/$1"; }
fake t9001-zzfake-good.sh 'echo "ok 1 - a"; echo "1..1"'
fake t9002-zzfake-late-skip.sh 'echo "ok 1 - a"; echo "1..0 # SKIP daemon did not start"'
fake t9003-zzfake-todo.sh 'echo "not ok 1 - a # TODO"; echo "1..1"'
fake t9004-zzfake-skipall.sh 'echo "1..0 # SKIP not here"'
fake t9005-zzfake-allskip.sh 'echo "ok 1 - a # SKIP x"; echo "1..1"'
fake t9006-zzfake-noplan.sh 'echo "ok 1 - a # SKIP x"'
fake t9007-zzfake-killed.sh 'echo "ok 1 - a"; echo "1..1"; kill -SEGV $$'
run env RUN_SH_INTEGRATION_DIR="$F" T=zzfake bash "$CONTAIN_TOP/tests/run.sh"
is "$RC" 1 "run.sh: fails when a suite fails"
is "$(tail -1 <<<"$OUT")" "tests: 3 passed, 6 failed, 3 skipped" "run.sh: the last line counts every suite"
like "$OUT" "^PASS t9001-zzfake-good.sh" "run.sh: the good suite passes"
like "$OUT" "^FAIL t9002-zzfake-late-skip.sh .*skipped everything after 1 tests" "run.sh: a late skip of everything fails"
like "$OUT" "^FAIL t9003-zzfake-todo.sh " "run.sh: not ok # TODO fails"
like "$OUT" "^SKIP t9004-zzfake-skipall.sh " "run.sh: an up-front skip is a skip"
like "$OUT" "^FAIL t9005-zzfake-allskip.sh .*nothing ran" "run.sh: every test skipped, not up front, fails"
like "$OUT" "^FAIL t9006-zzfake-noplan.sh .*no plan" "run.sh: no plan after a skip fails"
like "$OUT" "^FAIL t9007-zzfake-killed.sh .*exit 139" "run.sh: a suite killed by a signal fails"
like "$OUT" "^failing: t9002-zzfake-late-skip.sh t9003-zzfake-todo.sh t9005-zzfake-allskip.sh t9006-zzfake-noplan.sh t9007-zzfake-killed.sh" \
	"run.sh: the failing suites are named"

rm -f "$F"/*
fake t9004-zzfake-skipall.sh 'echo "1..0 # SKIP not here"'
run env RUN_SH_INTEGRATION_DIR="$F" T=zzfake bash "$CONTAIN_TOP/tests/run.sh"
is "$RC" 1 "run.sh: only skips is not a pass"
like "$OUT" "no test ran" "run.sh: and says no test ran"

fake t9001-zzfake-good.sh 'echo "ok 1 - a"; echo "1..1"'
run env RUN_SH_INTEGRATION_DIR="$F" T=zzfake bash "$CONTAIN_TOP/tests/run.sh"
is "$RC" 0 "run.sh: a pass and an up-front skip pass"
is "$(tail -1 <<<"$OUT")" "tests: 1 passed, 0 failed, 1 skipped" "run.sh: counted"

# an earlier pass (CI's sanitizer pass) counted in, and failing the run when it failed
run env RUN_SH_INTEGRATION_DIR="$F" RUN_SH_KINDS=integration RUN_SH_PRIOR="5 0 2" bash "$CONTAIN_TOP/tests/run.sh"
is "$RC $(tail -1 <<<"$OUT")" "0 tests: 6 passed, 0 failed, 3 skipped" "run.sh: RUN_SH_PRIOR is added to the totals"
run env RUN_SH_INTEGRATION_DIR="$F" RUN_SH_KINDS=integration RUN_SH_PRIOR="5 1 0" bash "$CONTAIN_TOP/tests/run.sh"
is "$RC $(tail -1 <<<"$OUT")" "1 tests: 6 passed, 1 failed, 1 skipped" "run.sh: a failed earlier pass fails the run"
run env RUN_SH_INTEGRATION_DIR="$F" RUN_SH_KINDS=integration RUN_SH_PRIOR="garbage" bash "$CONTAIN_TOP/tests/run.sh"
is "$RC" 1 "run.sh: a RUN_SH_PRIOR that is not three counts fails the run"
run env RUN_SH_INTEGRATION_DIR="$F" RUN_SH_KINDS=unit T=zzfake bash "$CONTAIN_TOP/tests/run.sh"
like "$RC $OUT" "^1 no test ran" "run.sh: RUN_SH_KINDS=unit runs no integration suite"

done_testing

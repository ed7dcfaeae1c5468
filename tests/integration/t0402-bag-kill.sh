#!/bin/bash
# t0402-bag-kill: a writer killed with SIGKILL part-way leaves a bag whose
# finished artifacts and custody lines still check out; verify says
# incomplete, exits 1, and names what is there and what was not finished.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd jq cmp
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
cd "$T_DIR" || exit 1

mkdir src
for i in 1 2 3 4 5 6; do head -c $((i * 70000)) /dev/urandom >src/f$i; done
printf 'x' >"src/f7 with
newline"

for mode in sized unsized; do
	flag=""; [ $mode = unsized ] && flag=--unsized
	mkbag -o kb-$mode $flag --kill-after 3 src 2>/dev/null
	is "$?" 137 "$mode: the writer died of SIGKILL mid-artifact"
	like "$(cat kb-$mode/bag-info.txt)" "Contain-Status: incomplete" "$mode: bag-info says incomplete"
	ok "$mode: no manifest was written" test ! -e kb-$mode/manifest-sha256.txt
	run "$CONTAIN" verify kb-$mode
	is "$RC" 1 "$mode: verify exits 1"
	like "$OUT" "verdict: INCOMPLETE" "$mode: verdict incomplete"
	like "$OUT" "ok +no manifest-sha256.txt .*custody log" "$mode: says it falls back to the custody log"
	like "$OUT" "ok +custody.jsonl: [0-9]+ lines, chain intact" "$mode: the custody chain checks out"
	like "$OUT" "completed artifacts: 3 \(3 intact\)" "$mode: three completed artifacts, intact"
	for i in 1 2 3; do
		like "$OUT" "intact +data/f$i" "$mode: data/f$i listed intact"
		ok "$mode: data/f$i is byte-identical to its source" cmp src/f$i kb-$mode/data/f$i
	done
	like "$OUT" "data/f4 \(opened, never finished \(artifact-open\)\)" "$mode: the artifact being written is named unfinished"
	unlike "$OUT" "FAIL .*(modified|broken|does not match)" "$mode: nothing reported tampered"
	run "$CONTAIN" --json verify kb-$mode
	is "$(printf '%s' "$OUT" | jq -r '[.status, (.artifacts|length), (.unfinished[0].path)] | join(" ")')" "incomplete 3 data/f4" "$mode: --json gives status, artifacts and the unfinished one"
done

# killed before the first artifact is finished
mkbag -o kb0 --kill-after 0 src 2>/dev/null
run "$CONTAIN" verify kb0
is "$RC" 1 "killed in the first artifact: exit 1"
like "$OUT" "completed artifacts: 0" "no completed artifact"
like "$OUT" "data/f1 \(opened, never finished" "the first artifact named unfinished"

# a tampered artifact in a killed bag is still caught (by the custody hashes)
cp -a kb-sized kt
printf 'X' | dd of=kt/data/f2 bs=1 seek=100 conv=notrunc 2>/dev/null
run "$CONTAIN" verify kt
is "$RC" 1 "tampered incomplete bag: exit 1"
like "$OUT" "FAIL artifact 'data/f2' does not match its custody record" "tampering caught through the custody log"
like "$OUT" "verdict: INVALID" "verdict invalid, not merely incomplete"

# the last custody line cut mid-write (killed inside write(2))
cp -a kb-sized kc
truncate -s -5 kc/custody.jsonl
run "$CONTAIN" verify kc
is "$RC" 1 "custody cut mid-line: exit 1"
like "$OUT" "ok +custody.jsonl: [0-9]+ lines chained; the last line is cut short" "a cut last line is reported as the writer stopping"

# bag_abort: closed without sealing (both forms)
for f in ab ab.tar; do
	mkbag -o $f --abort src 2>/dev/null
	run "$CONTAIN" verify $f
	is "$RC" 1 "aborted bag $f: exit 1"
	like "$OUT" "verdict: INCOMPLETE" "aborted bag $f: incomplete"
	like "$OUT" "completed artifacts: 7 \(7 intact\)" "aborted bag $f: every artifact intact"
done
done_testing

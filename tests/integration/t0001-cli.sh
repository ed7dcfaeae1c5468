#!/bin/bash
# t0001-cli: --help, --version, help VERB and VERB --help for every verb of
# the table, exit codes for an unknown verb and a bad option.
. "$(dirname "$0")/../lib/lib.sh"
[ -x "$CONTAIN" ] || skip_all "no binary at $CONTAIN (run make)"

run "$CONTAIN" --help
is "$RC" 0 "--help exits 0"
like "$OUT" "^usage: contain " "--help prints the usage"
like "$OUT" "Verbs:" "--help lists the verbs"
run "$CONTAIN" --version
is "$RC" 0 "--version exits 0"
like "$OUT" "^contain [0-9]+\.[0-9]+\.[0-9]+$" "--version prints the version"
run "$CONTAIN" version
is "$OUT" "$("$CONTAIN" --version)" "version verb prints the same"

run "$CONTAIN" help
is "$RC" 0 "help exits 0"
verbs=$(printf '%s\n' "$OUT" | awk '/^Verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } v && /^$/ { exit }')
n=$(printf '%s\n' "$verbs" | grep -c .)
ok "help lists verbs ($n)" test "$n" -ge 2
for v in $verbs; do
	run "$CONTAIN" help "$v"
	is "$RC" 0 "help $v exits 0"
	like "$OUT" "^usage: contain $v" "help $v prints its usage"
	h=$OUT
	run "$CONTAIN" "$v" --help
	is "$RC" 0 "$v --help exits 0"
	is "$OUT" "$h" "$v --help prints the same as help $v"
done

run "$CONTAIN" no-such-verb
is "$RC" 2 "an unknown verb exits 2"
like "$ERR" "unknown verb 'no-such-verb'" "and says so"
run "$CONTAIN" help no-such-verb
is "$RC" 2 "help of an unknown verb exits 2"
run "$CONTAIN" --no-such-option list
is "$RC" 2 "a bad global option exits 2"
run "$CONTAIN" list --no-such-option
is "$RC" 2 "a bad list option exits 2"
run "$CONTAIN" inspect
is "$RC" 2 "inspect without REF exits 2"
like "$ERR" "usage: contain inspect" "and prints the usage line"
run "$CONTAIN" inspect a b
is "$RC" 2 "inspect with two REFs exits 2"
run "$CONTAIN" --root bogus=/x list
is "$RC" 2 "--root with an unknown runtime exits 2"
run "$CONTAIN" --root runc=relative list
is "$RC" 2 "--root with a relative dir exits 2"
run env CONTAIN_ROOTS=nonsense "$CONTAIN" list
is "$RC" 2 "a bad CONTAIN_ROOTS exits 2"

done_testing

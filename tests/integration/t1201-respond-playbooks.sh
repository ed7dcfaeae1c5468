#!/bin/bash
# t1201: contain respond --check DIR, the playbook format (playbooks/README.md)
# through the verb:
#  A  the shipped playbooks/ (a root-owned 0644 copy): exit 0, every playbook
#     described with what it matches and its steps (against
#     t1201-check.golden, diff -u), the allow list;
#  B  each kind of error is FILE:LINE: message on stderr and exit 1: JSON
#     syntax, an unknown key, a bad glob, an impossible priority, numeric
#     bounds that exclude each other, capture after quarantine, a relative or
#     missing notify program, two playbooks with one name; errors of two
#     files are both reported;
#  C  ownership and permissions: a group-writable or other-writable playbook,
#     a playbook of another owner, a symbolic link, a group-writable dir, a
#     dir that is a symbolic link: refused, naming the file; a missing dir:
#     exit 3; files that are not *.json and hidden files are ignored.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need_cmd jq
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
"$CONTAIN" respond --help >/dev/null 2>&1 || skip_all "this contain has no respond verb"

chmod 0755 "$T_DIR"
PB=$T_DIR/pb
mkdir -m 0755 "$PB"
cp "$CONTAIN_TOP"/playbooks/*.json "$CONTAIN_TOP/playbooks/README.md" "$PB/"
chown root:root "$PB"/*
chmod 0644 "$PB"/*

# ---------------------------------------------------------------- A
section "A: the shipped playbooks"
run "$CONTAIN" respond --check "$PB"
is "$RC" 0 "--check of the shipped playbooks: exit 0"
is "$ERR" "" "... nothing on stderr"
is "$(echo "$OUT" | jq -r '[.playbooks[].name] | join(" ")')" \
	"terminal-shell drift crypto-mining reverse-shell sensitive-file container-escape critical-catch-all" \
	"every shipped playbook, in file name order"
is "$(echo "$OUT" | jq -r '.playbooks[] | select(.name == "critical-catch-all") | .match[0].text')" \
	"priority in {Critical, Alert, Emergency}" "the catch-all matches Critical and above"
is "$(echo "$OUT" | jq -c '.playbooks[] | select(.name == "critical-catch-all") | [.steps[] | keys[0]]')" \
	'["capture"]' "... and only captures"
is "$(echo "$OUT" | jq -c '.playbooks[] | select(.name == "terminal-shell") | [.steps[] | keys[0]]')" \
	'["capture","quarantine"]' "terminal-shell: capture, then quarantine"
is "$(echo "$OUT" | jq -r '.playbooks[] | select(.name == "terminal-shell") | .match[0].text')" \
	'source in {falco, falcosidekick, sysdig} and rule in {"Terminal shell in container"}' \
	"... its first matcher in words"
is "$(echo "$OUT" | jq -c '.allow')" \
	'{"namespaces":["kube-system"],"names":[],"images":[],"labels":{"contain.io/protect":"true"}}' \
	"the allow list: kube-system and contain.io/protect=true"
is "$(echo "$OUT" | jq -r '.sources | length')" 8 "the sources: seven playbooks and the allow list"
ok "... each with its SHA-256" bash -c "echo \"\$1\" | jq -e 'all(.sources[]; .sha256 | test(\"^[0-9a-f]{64}$\"))'" _ "$OUT"
# what each shipped playbook matches, in words: t1201-check.golden (made by
# the jq below; a change of playbooks/ changes it on purpose)
echo "$OUT" | jq -r '.playbooks[] | .name as $n | (.match[] | "\($n): \(.text)"),
	"\($n) steps: \([.steps[] | keys[0]] | join(", "))"' >"$T_DIR/check.txt"
is "$(diff -u "$CONTAIN_TOP/tests/integration/t1201-check.golden" "$T_DIR/check.txt")" "" \
	"what each playbook matches and does, as t1201-check.golden says"
is "$(echo "$OUT" | jq -r '.playbooks[] | select(.name == "sensitive-file") | "\(.file):\(.line)"')" \
	"$PB/50-sensitive-file.json:1" "each playbook names its file and line"

# ---------------------------------------------------------------- B
section "B: errors name the file and the line"
E=$T_DIR/e
mkdir -m 0755 "$E"
# bad NAME TEXT WANT DESC: a dir of one playbook, --check exits 1, stderr has WANT
bad() {
	rm -f "$E"/*
	printf '%s\n' "$2" >"$E/$1"
	chmod 0644 "$E/$1"
	run "$CONTAIN" respond --check "$E"
	is "$RC" 1 "$4: exit 1"
	like "$ERR" "$3" "... $4: says where and what"
}
STEPS='"steps": [{"capture": {}}]'
bad syntax.json '{"name": "a",
 "match": {"rule": "x",},
 '"$STEPS"'}' "syntax.json:2: not valid JSON" "a JSON syntax error"
bad key.json '{"name": "a",
 "match": {"rule": "x"},
 "colour": "red",
 '"$STEPS"'}' "key.json:3: unknown key 'colour' in a playbook" "an unknown key"
bad glob.json '{"name": "a",
 "match": {
   "rule_glob": "Terminal [shell"},
 '"$STEPS"'}' "glob.json:3: rule_glob 'Terminal \[shell': an unclosed '\[' in a glob" "a bad glob"
bad prio.json '{"name": "a",
 "match": {"priority": [">=Emergency", "<Debug"]},
 '"$STEPS"'}' "prio.json:2: impossible matcher: no priority satisfies" "priority >=Emergency and <Debug"
bad bounds.json '{"name": "a", "match": {"fields": [
  {"field": "fd.sport", "op": ">", "value": 5},
  {"field": "fd.sport", "op": "<", "value": 3}]},
 '"$STEPS"'}' "bounds.json:2: impossible matcher on field 'fd.sport': numeric bounds" "numeric bounds that exclude each other"
bad order.json '{"name": "a", "match": {"rule": "x"}, "steps": [
  {"quarantine": {}},
  {"capture": {}}]}' "order.json:2: 'quarantine' before 'capture': evidence first" "quarantine before capture"
bad relprog.json '{"name": "a", "match": {"rule": "x"}, "steps": [
  {"notify": {
    "program": "notify.sh"}}]}' "relprog.json:3: program 'notify.sh': must be an absolute path" "a relative notify program"
bad noprog.json '{"name": "a", "match": {"rule": "x"}, "steps": [
  {"notify": {"program": "/nonexistent/page"}}]}' "noprog.json:2: program '/nonexistent/page': No such file or directory" "a notify program that is not there"
bad encrypt.json '{"name": "a", "match": {"rule": "x"}, "steps": [
  {"capture": {"encrypt_to": "age1..."}}]}' "encrypt.json:2: encrypt_to is not supported" "an option not built yet: refused"
bad dup.json '[{"name": "a", "match": {"rule": "x"}, '"$STEPS"'},
 {"name": "a", "match": {"rule": "y"}, '"$STEPS"'}]' "dup.json:2: a second playbook named 'a'" "two playbooks with one name"
bad allow.json '{"namespaces": ["kube-system"],
 "pods": ["x"]}' "allow.json:2: unknown key 'pods' in the allow list" "an unknown key in allow.json"
# two broken files: both reported
rm -f "$E"/*
printf '{"name": "a", "match": {"rule": "x"}, "steps": [{"kill": {}}]}\n' >"$E/1.json"
printf '{"name": "b", "match": {"source": "splunk"}, %s}\n' "$STEPS" >"$E/2.json"
chmod 0644 "$E"/*
run "$CONTAIN" respond --check "$E"
is "$RC" 1 "two broken files: exit 1"
like "$ERR" "1.json:1: unknown step 'kill'" "... the first named"
like "$ERR" "2.json:1: source 'splunk'" "... and the second"

# ---------------------------------------------------------------- C
section "C: ownership, permissions, symbolic links"
P=$T_DIR/p
mkdir -m 0755 "$P"
printf '{"name": "a", "match": {"rule": "x"}, %s}\n' "$STEPS" >"$P/a.json"
printf 'not json\n' >"$P/notes.txt"
printf 'not json\n' >"$P/.swap.json"
chmod 0644 "$P"/* "$P/.swap.json"
chmod 0666 "$P/notes.txt"
run "$CONTAIN" respond --check "$P"
is "$RC" 0 "other files and hidden files are ignored"
chmod 0664 "$P/a.json"
run "$CONTAIN" respond --check "$P"
is "$RC" 1 "a group-writable playbook: refused (exit 1)"
like "$ERR" "$P/a.json: must be owned by root and not writable by group or others" "... naming it"
chmod 0646 "$P/a.json"
fails_with 1 "an other-writable playbook: refused" "$CONTAIN" respond --check "$P"
chmod 0644 "$P/a.json"
chown 65534 "$P/a.json"
run "$CONTAIN" respond --check "$P"
is "$RC" 1 "a playbook of another owner: refused"
like "$ERR" "a.json: must be owned by root" "... naming it"
chown 0 "$P/a.json"
ln -s a.json "$P/b.json"
run "$CONTAIN" respond --check "$P"
is "$RC" 1 "a symbolic link: refused"
like "$ERR" "b.json: a symbolic link: refused" "... naming it"
rm -f "$P/b.json"
chmod 0775 "$P"
run "$CONTAIN" respond --check "$P"
is "$RC" 1 "a group-writable dir: refused"
like "$ERR" "the directory must be owned by root" "... saying so"
chmod 0755 "$P"
ln -s "$P" "$T_DIR/plink"
fails "a dir that is a symbolic link: refused" "$CONTAIN" respond --check "$T_DIR/plink"
run "$CONTAIN" respond --check "$T_DIR/nonexistent"
is "$RC" 3 "a missing dir: exit 3"
like "$ERR" "nonexistent" "... naming it"
rm -f "$P/a.json"
run "$CONTAIN" respond --check "$P"
is "$RC" 1 "a dir without a playbook: exit 1"
like "$ERR" "no playbook" "... saying so"

done_testing

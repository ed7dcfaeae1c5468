#!/bin/bash
# t0900-analyze-cli: the analyze verb's command line, around a bag made with
# the mkbag tool (a layer tar with planted changes, the members a capture
# writes) and the fixture image: usage errors, the verification gate and
# --force, the report directory, every bag form giving the same diff,
# an unprivileged run, --json, --fail-on, colour, and `contain help analyze`'s
# examples.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_cmd jq tar zstd cmp
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
IMG_OCI=$CONTAIN_TOP/fixtures/cache/oci
IMG_DOCKER=$CONTAIN_TOP/fixtures/cache/fixture-docker.tar
[ -d "$IMG_OCI" ] && [ -f "$IMG_DOCKER" ] || skip_all "no fixture image (run fixtures/build.sh)"
cd "$T_DIR" || exit 1

# --- the bag: a layer with planted changes, and the members of a capture
mkdir -p L/tmp/.x L/etc L/root/.ssh L/bin pay/fs pay/processes pay/container pay/network
cp /bin/true L/tmp/.x/implant
printf '#!/bin/sh\nnc 10.0.0.1 4444\n' >L/tmp/drop.sh
chmod 755 L/tmp/drop.sh
{ cat "$CONTAIN_TOP/fixtures/cache/rootfs/etc/passwd"; echo 'evil:x:0:0:planted:/:/bin/sh'; } >L/etc/passwd
echo 'ssh-ed25519 AAAA attacker' >L/root/.ssh/authorized_keys
: >L/bin/.wh.wget
# a name that would drive the terminal: it must be shown, not obeyed
printf 'x\n' >"L/tmp/$(printf '\033[31mevil\033[0m')"
tar --format=pax --numeric-owner --owner=0 --group=0 -C L -cf pay/fs/upper.tar .
cat >pay/fs/files.json <<'EOF'
{"collector":"fslayer","layer":"upperdir","whole_root":false,"entries":[]}
EOF
cat >pay/processes/tree.json <<'EOF'
{"collector":"processes","pids":[
 {"pid":100,"ppid":1,"comm":"sh","nspid":[100,1],"uids":[0,0,0,0],"nthreads":1,
  "cmdline":{"list":["/bin/sh","-c","x"]},"start_time":"2026-12-07T01:54:29.520000000Z",
  "exe":{"path":"/bin/busybox","deleted":false,"memfd":false,"sha256":null}},
 {"pid":101,"ppid":100,"comm":"<b>x</b>","nspid":[101,7],"uids":[65534,65534,65534,65534],"nthreads":2,
  "cmdline":{"list":["/tmp/.x/sleep","1000"]},"start_time":"2026-12-07T01:54:29.700000000Z",
  "exe":{"path":"/tmp/.x/sleep (deleted)","deleted":true,"memfd":false}}],"tree":{"roots":[100]},"notes":[]}
EOF
cat >pay/container/image.json <<'EOF'
{"image":null,"digest":null,"runtime":"runc"}
EOF
cat >pay/network/state.json <<'EOF'
{"collector":"network","sockets":[{"proto":"tcp","local":"0.0.0.0","lport":8080,"remote":"0.0.0.0",
 "rport":0,"state":"LISTEN","inode":7,"pids":[101]}],"interfaces":[{"name":"lo","addresses":[{"address":"127.0.0.1","prefixlen":8}]}]}
EOF
cat >pay/quarantine.json <<'EOF'
{"quarantined":true,"steps":[{"step":"network cut","by":"capture","holds":"cut","seconds":0.01,"at":"2026-12-07T01:54:30.819654836Z"}]}
EOF
mkbag -o bag pay 2>/dev/null || _t_bail "mkbag could not make the test bag"
BAGID=$(sed -n 's/^Contain-Bag-Id: //p' bag/bag-info.txt)
tar -cf bag.tar bag
zstd -q bag.tar -o bag.tar.zst
gzip -c bag.tar >bag.tar.gz

section "usage"
run "$CONTAIN" analyze bag
is "$RC" 2 "no --image: exit 2"
like "$ERR" "--image IMG is required" "no --image: says --image is required"
run "$CONTAIN" analyze bag --image "$IMG_OCI" --fail-on severe
is "$RC" 2 "unknown --fail-on: exit 2"
like "$ERR" "unknown --fail-on 'severe'" "unknown --fail-on: named"
run "$CONTAIN" analyze bag bag.tar --image "$IMG_OCI"
is "$RC" 2 "two bags: exit 2"
like "$ERR" "takes one BAG" "two bags: says one BAG"
run "$CONTAIN" analyze --image "$IMG_OCI"
is "$RC" 2 "no bag: exit 2"
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o -
is "$RC" 2 "-o -: exit 2 (the report is a directory)"
like "$ERR" "the report is a directory" "-o -: says why"
run "$CONTAIN" analyze bag --image "$IMG_OCI" --bogus
is "$RC" 2 "unknown option: exit 2"
run "$CONTAIN" help analyze
is "$RC" 0 "contain help analyze"
like "$OUT" "--fail-on SEV" "the help names --fail-on"
help_ids=$(sed -n '/^Findings/,/^$/p' <<<"$OUT" | tr ' ' '\n' | grep -E '^(fs|proc|image|mem|flow)\.' | sort)
man_ids=$(sed -n 's/^\.It Sy \([a-z]*\.[a-z-][a-z-]*\) .*/\1/p' "$CONTAIN_TOP/man/contain.1" | sort)
is "$help_ids" "$man_ids" "the help lists the finding ids of the man page's FINDINGS"
ok "FINDINGS lists at least 20 rules" [ "$(wc -l <<<"$man_ids")" -ge 20 ]

section "a directory bag"
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-dir
ok "analyze ran (exit 0 or 1)" [ "$RC" -le 1 ]
[ "$RC" -le 1 ] || diag "$ERR"
for f in report.json report.md report.html timeline.csv bodyfile; do
	ok "r-dir/$f written" test -s "r-dir/$f"
done
ok "report.json is JSON" jq -e . r-dir/report.json
is "$(jq -r .schema_version r-dir/report.json)" 1 "schema_version 1"
is "$(jq -r .bag.verified r-dir/report.json)" true "bag.verified"
is "$(jq -r .bag.id r-dir/report.json)" "$BAGID" "bag.id is the bag's id"
like "$OUT" "^bag: VERIFIED" "first line: the verification verdict"
like "$OUT" "verdict: (COMPROMISED|SUSPICIOUS|CLEAN)" "prints the verdict"
like "$OUT" "html: +r-dir/report.html" "prints the path of report.html"
is "$(jq -r '[.diff.added[].path] | index("tmp/drop.sh") != null' r-dir/report.json)" true "the dropped script is in diff.added"
is "$(jq -r '[.diff.deleted[].path] | index("bin/wget") != null' r-dir/report.json)" true "the whiteout of bin/wget is in diff.deleted"
is "$(jq -r '.processes | length' r-dir/report.json)" 2 "two processes summarized"
is "$(jq -r '.processes[1].exe_deleted' r-dir/report.json)" true "exe_deleted from tree.json"
is "$(jq -r '.processes[1].nspid' r-dir/report.json)" 7 "nspid: the pid in the container"
is "$(jq -r '.network.sockets[0].local' r-dir/report.json)" "0.0.0.0:8080" "sockets: local address and port"
is "$(jq -r '.quarantine[0].step' r-dir/report.json)" "network cut" "quarantine steps"
ok "custody events summarized" jq -e '.custody | length > 0' r-dir/report.json
is "$(stat -c %a r-dir)" 755 "report dir 0755"
# the exit code follows summary.failed
failed=$(jq -r .summary.failed r-dir/report.json)
is "$RC" "$([ "$failed" = true ] && echo 1 || echo 0)" "exit status follows summary.failed (fail_on high)"

section "the report directory"
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-dir
is "$RC" 3 "an existing DIR is refused: exit 3"
like "$ERR" "exists" "says it exists"
before=$(jq -r .generated r-dir/report.json)
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-dir --overwrite
ok "--overwrite replaces the reports" [ "$RC" -le 1 ]
ok "--overwrite: report.json is a new one" [ "$(jq -r .generated r-dir/report.json)" != "$before" ]
ln -s r-dir r-link
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-link --overwrite
is "$RC" 3 "a symlink as DIR is refused, even with --overwrite"
mkdir cwd && (cd cwd && "$CONTAIN" analyze ../bag --image "$IMG_OCI" >/dev/null 2>&1)
ok "default DIR is ./<bag id>-report" test -s "cwd/$BAGID-report/report.json"

section "every bag form gives the same diff"
jq -S .diff r-dir/report.json >diff-dir.json
run "$CONTAIN" analyze bag.tar --image "$IMG_OCI" -o r-tar
ok "a .tar bag" [ "$RC" -le 1 ]
ok "the .tar bag's diff is the directory's" cmp -s diff-dir.json <(jq -S .diff r-tar/report.json)
is "$(jq -r .bag.form r-tar/report.json)" tar "bag.form tar"
run "$CONTAIN" analyze bag.tar.zst --image "$IMG_OCI" -o r-zst
ok "a .tar.zst bag" [ "$RC" -le 1 ]
ok "the .tar.zst bag's diff is the directory's" cmp -s diff-dir.json <(jq -S .diff r-zst/report.json)
run "$CONTAIN" analyze bag.tar.gz --image "$IMG_OCI" -o r-gz
ok "a .tar.gz bag" [ "$RC" -le 1 ]
ok "the .tar.gz bag's diff is the directory's" cmp -s diff-dir.json <(jq -S .diff r-gz/report.json)
run bash -c "\"\$CONTAIN\" analyze - --image \"$IMG_OCI\" -o r-stdin <bag.tar.zst"
ok "a bag on stdin (-)" [ "$RC" -le 1 ]
ok "the stdin bag's diff is the directory's" cmp -s diff-dir.json <(jq -S .diff r-stdin/report.json)
is "$(jq -r .processes[0].comm r-stdin/report.json)" sh "the stdin bag's members are read"
run bash -c "TMPDIR=\"$T_DIR/spool\" \"\$CONTAIN\" analyze - --image \"$IMG_OCI\" -o r-nospool <bag.tar"
is "$RC" 3 "stdin spooled in TMPDIR: a TMPDIR that does not exist is an error (exit 3)"
like "$ERR" "spool stdin" "the error says it could not spool stdin"
run bash -c "\"\$CONTAIN\" --json analyze bag --image \"$IMG_OCI\" -o r-gjson"
ok "the global --json prints the report too" jq -e .schema_version <<<"$OUT"

section "a tampered bag"
cp -a bag tampered
printf 'X' | dd of=tampered/data/fs/upper.tar bs=1 seek=600 conv=notrunc 2>/dev/null
run "$CONTAIN" analyze tampered --image "$IMG_OCI" -o r-tampered
is "$RC" 1 "a bag that does not verify is refused: exit 1"
like "$ERR" "data/fs/upper.tar" "the refusal names the modified file"
like "$ERR" "--force" "the refusal names --force"
like "$OUT" "^bag: NOT VERIFIED" "stdout's first line says it did not verify"
ok "nothing written when refused" test ! -e r-tampered
run "$CONTAIN" analyze tampered --image "$IMG_OCI" -o r-tampered --force
ok "--force analyzes it" [ "$RC" -le 1 ]
like "$(head -n 1 <<<"$OUT")" "NOT VERIFIED" "--force: the terminal's first line says it"
like "$(head -n 1 r-tampered/report.md)" "([Nn]ot|NOT) ([Vv]erif|VERIF)" "--force: report.md's first line says it did not verify"
like "$(jq -r 'keys_unsorted[0] as $k | .[$k] | tostring' r-tampered/report.json)" "NOT VERIFIED" "--force: report.json's first member says it"
is "$(jq -r .bag.verified r-tampered/report.json)" false "--force: bag.verified false"
is "$(jq -r .bag.forced r-tampered/report.json)" true "--force: bag.forced true"
ok "--force: bag.problems named" jq -e '.bag.problems | length > 0' r-tampered/report.json
# the first element of the body: the warning, before the verdict
first=$(sed -n '/<body/,$p' r-tampered/report.html | sed 's/<[^>]*>/\n/g' | grep -v '^[[:space:]]*$' | head -n 1)
like "$first" "([Nn]ot|NOT) ([Vv]erif|VERIF)" "--force: report.html's first text says it did not verify"

section "members missing or hostile: notes, never fatal"
mkdir -p pay2/processes pay2/container
python3 -c 'print("[" * 100000 + "]" * 100000)' >pay2/processes/tree.json
cp pay/container/image.json pay2/container/
mkdir -p pay2/network
python3 -c 'print("[" + "0," * 5000000 + "0]")' >pay2/network/state.json
mkbag -o bag-nofs pay2 2>/dev/null
run "$CONTAIN" analyze bag-nofs --image "$IMG_OCI" -o r-nofs
is "$RC" 0 "a bag without a layer and with a 100000-deep tree.json is analyzed"
[ "$RC" = 0 ] || diag "$ERR"
like "$(jq -r '.notes[]' r-nofs/report.json)" "data/processes/tree.json.*2048" "the deep member is a note naming it and jansson's limit"
like "$(jq -r '.notes[]' r-nofs/report.json)" "data/fs/upper.tar" "no layer: a note"
like "$(jq -r '.notes[]' r-nofs/report.json)" "data/quarantine.json' is not in the bag" "a missing member: a note naming it"
like "$(jq -r '.notes[]' r-nofs/report.json)" "data/network/state.json' not read: about [0-9]+ JSON values, more than 4000000" "a member of 5,000,001 values is not parsed (memory bounded): a note"
is "$(jq -r '[.diff.added, .diff.modified, .diff.metadata, .diff.deleted, .diff.opaque] | map(length) | add' r-nofs/report.json)" 0 "no layer: the diff is empty"
ok "no layer: the diff says why" jq -e '.diff.notes | length > 0' r-nofs/report.json

section "the image digest the bag recorded"
mdigest=$(jq -r '.manifests[0].digest' "$IMG_OCI/index.json")
mkdir -p pay3/container
cp -a pay/fs pay/processes pay3/
printf '{"image":"fixture:latest","digest":"%s","runtime":"runc"}\n' "$mdigest" >pay3/container/image.json
mkbag -o bag-match pay3 2>/dev/null
run "$CONTAIN" analyze bag-match --image "$IMG_OCI" -o r-match
ok "a bag that recorded the image's digest" [ "$RC" -le 1 ]
is "$(jq -r .image.match r-match/report.json)" match "image.match: match"
is "$(jq -r .image.recorded_digest r-match/report.json)" "$mdigest" "image.recorded_digest from data/container/image.json"
like "$OUT" "the digest the bag recorded matches" "the terminal says it matches"
printf '{"image":"fixture:latest","digest":"sha256:%064d","runtime":"runc"}\n' 0 >pay3/container/image.json
mkbag -o bag-mismatch pay3 2>/dev/null
run "$CONTAIN" analyze bag-mismatch --image "$IMG_OCI" -o r-mismatch
is "$RC" 1 "another image than the bag recorded: exit 1 (a high finding)"
is "$(jq -r .image.match r-mismatch/report.json)" mismatch "image.match: mismatch"
ok "image.digest-mismatch finding" jq -e '[.findings[].id] | index("image.digest-mismatch")' r-mismatch/report.json
like "$OUT" "NOT the image the bag recorded" "the terminal says it is not the image"

section "--json, --fail-on, colour"
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-json --json
ok "--json runs" [ "$RC" -le 1 ]
printf '%s\n' "$OUT" >json.out
ok "--json prints valid JSON" jq -e . json.out
ok "--json equals report.json" cmp -s <(jq -S . json.out) <(jq -S . r-json/report.json)
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-none --fail-on none
is "$RC" 0 "--fail-on none: exit 0"
if python3 -c 'import jsonschema' 2>/dev/null; then
	ok "--fail-on none: report.json validates against docs/report-schema.json (fail_on: none)" \
		python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
		r-none/report.json "$CONTAIN_TOP/docs/report-schema.json"
else
	skip "--fail-on none: report.json validates against the schema" "no python3-jsonschema"
fi
is "$(jq -r .summary.fail_on r-none/report.json)" none "summary.fail_on none"
ncrit=$(jq -r '[.findings[] | select(.severity=="critical")] | length' r-none/report.json)
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-crit --fail-on critical
is "$RC" "$([ "$ncrit" -gt 0 ] && echo 1 || echo 0)" "--fail-on critical: exit 1 only with a critical finding ($ncrit)"
nany=$(jq -r '.findings | length' r-none/report.json)
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-info --fail-on info
is "$RC" "$([ "$nany" -gt 0 ] && echo 1 || echo 0)" "--fail-on info: exit 1 with any finding ($nany)"
ok "planted changes give findings" [ "$nany" -gt 0 ]
for id in $(jq -r '.findings[].id' r-none/report.json | sort -u); do
	ok "finding id '$id' is in the man page's FINDINGS" grep -q "^\.It Sy $id " "$CONTAIN_TOP/man/contain.1"
done
run "$CONTAIN" analyze bag --image "$IMG_OCI" -o r-pipe
unlike "$OUT" $'\033' "stdout not a terminal: no escape codes (a file name holding some included)"
like "$OUT" 'tmp/\\x1b\[31mevil' "a file name's escape codes are shown as \\x1b"
if command -v script >/dev/null; then
	script -qec "NO_COLOR=1 \"$CONTAIN\" analyze bag --image \"$IMG_OCI\" -o r-tty-nc" /dev/null >tty-nc.out 2>&1
	unlike "$(cat tty-nc.out)" $'\033\\[' "NO_COLOR on a terminal: no escape codes"
	script -qec "\"$CONTAIN\" analyze bag --image \"$IMG_OCI\" -o r-tty-nocolor --no-color" /dev/null >tty-ncopt.out 2>&1
	unlike "$(cat tty-ncopt.out)" $'\033\\[' "--no-color on a terminal: no escape codes"
	env -u NO_COLOR script -qec "\"$CONTAIN\" analyze bag --image \"$IMG_OCI\" -o r-tty" /dev/null >tty.out 2>&1
	like "$(cat tty.out)" $'\033\\[' "on a terminal without NO_COLOR: colour"
else
	skip "colour on a terminal" "no script(1)"
fi

section "unprivileged (setpriv to nobody)"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	section_skip "needs root and setpriv to become nobody"
fi
if [ -z "$_t_skip_reason" ]; then
	mkdir -m 1777 pub
	chmod o+x "$T_DIR"
	cp -a bag pub/bag
	cp -a "$IMG_OCI" pub/oci
	chmod -R a+rX pub/bag pub/oci
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$CONTAIN" ||
		section_skip "nobody cannot run $CONTAIN from here"
fi
run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CONTAIN" analyze pub/bag --image pub/oci -o pub/r-nobody
ok "analyze as nobody on a world-readable copy" [ "$RC" -le 1 ]
[ "$RC" -le 1 ] || diag "$ERR"
is "$(stat -c %U pub/r-nobody/report.json 2>/dev/null)" nobody "the report is nobody's"
ok "nobody's diff is root's" cmp -s diff-dir.json <(jq -S .diff pub/r-nobody/report.json)

section "the examples of contain help analyze"
mkdir ex
cp bag.tar.zst ex/case-42.tar.zst
cp -a bag ex/case-42
cp "$IMG_DOCKER" ex/web.tar
cp -a "$IMG_OCI" ex/oci-layout
n=0
while IFS= read -r line; do
	n=$((n + 1))
	cmd=${line//contain /\"\$CONTAIN\" }
	run bash -c "cd ex && $cmd"
	ok "help example $n runs: $line" [ "$RC" -le 1 ]
	[ "$RC" -le 1 ] || diag "$ERR"
done < <("$CONTAIN" help analyze | awk '/^Examples:/{f=1; next} f && /^  contain /{sub(/^  /, ""); print} f && /^$/{exit}')
ok "the help has examples" [ "$n" -ge 3 ]
done_testing

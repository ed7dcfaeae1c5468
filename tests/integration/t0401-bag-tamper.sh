#!/bin/bash
# t0401-bag-tamper: every kind of tampering is caught, with its own message,
# in the directory form and in the tar form.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 tar jq
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
cd "$T_DIR" || exit 1

mkdir src
echo hello >src/a.txt
head -c 100000 /dev/urandom >src/b.bin
echo third >src/c.txt
"$CONTAIN" keygen -o k >/dev/null
"$CONTAIN" keygen -o wrong >/dev/null
mkbag -o pristine --sign k.key src 2>/dev/null || { echo "Bail out! mkbag failed"; exit 1; }
run "$CONTAIN" verify --pubkey k.pub pristine
is "$RC" 0 "the pristine bag is valid"

# flip one byte of FILE at OFFSET
flip() { python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 0x01; open(p, "wb").write(b)' "$1" "$2"; }

# the custody log rewritten by a forger: line N's target edited, and every
# prev after it recomputed so the chain itself is intact
forge_chain() { python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
p, n = sys.argv[1], int(sys.argv[2])
lines = open(p, "rb").read().split(b"\n")[:-1]
out, prev = [], None
for i, l in enumerate(lines, 1):
    o = json.loads(l)
    if prev is not None:
        o["prev"] = prev
    if i == n:
        o["target"] = o["target"] + "-forged"
    l = json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()
    out.append(l)
    prev = hashlib.sha256(l).hexdigest()
open(p, "wb").write(b"\n".join(out) + b"\n")
print(prev)
PY
}

# tamper NAME CMD MESSAGE: copy the pristine bag, run CMD in it, verify the
# directory and a tar made of it by GNU tar: both must fail with MESSAGE
tamper() {
	local name=$1 cmd=$2 msg=$3 key=${4:-k.pub}
	rm -rf t && cp -a pristine t
	(cd t && eval "$cmd") >/dev/null 2>&1
	run "$CONTAIN" verify --pubkey "$key" t
	is "$RC" 1 "$name: directory bag invalid (exit 1)"
	like "$OUT" "FAIL .*$msg" "$name: directory: $msg"
	rm -f t.tar && tar --format=pax -cf t.tar t
	run "$CONTAIN" verify --pubkey "$key" t.tar
	is "$RC" 1 "$name: tar bag invalid (exit 1)"
	like "$OUT" "FAIL .*$msg" "$name: tar: $msg"
}

tamper "payload byte" 'flip data/b.bin 5000' "payload 'data/b.bin' was modified: sha256 does not match the manifest"
for f in bagit.txt bag-info.txt manifest-sha256.txt custody.jsonl index.json; do
	tamper "byte in $f" "flip $f 10" "tag file '$f' was modified"
done
tamper "byte in the tag manifest" 'flip tagmanifest-sha256.txt 3' "signature is not valid for the tag manifest"
tamper "byte in the tag manifest (hash)" 'flip tagmanifest-sha256.txt 3' "tag file 'bag-info.txt' was modified"
tamper "byte in the signature" 'flip signature.ed25519 7' "signature is not valid for the tag manifest"
tamper "payload deleted" 'rm data/a.txt' "payload 'data/a.txt' is in the manifest but missing"
tamper "payload added" 'echo x > data/extra' "payload 'data/extra' is not in the manifest"
tamper "tag file added" 'echo x > notes.txt' "extra file 'notes.txt' is not covered by the tag manifest"
tamper "custody truncated" 'head -n -1 custody.jsonl > c && mv c custody.jsonl' "custody head does not match bag-info.txt"
tamper "custody cut mid-line" 'truncate -s -20 custody.jsonl' "custody.jsonl is broken at line"
tamper "custody line removed" 'sed -i 2d custody.jsonl' "custody.jsonl is broken at line 2: seq 3 where 2 was expected"
tamper "custody lines swapped" 'sed -n 1p custody.jsonl > c; sed -n 3p custody.jsonl >> c; sed -n 2p custody.jsonl >> c; sed -n "4,\$p" custody.jsonl >> c; mv c custody.jsonl' "custody.jsonl is broken at line 2"
tamper "custody line edited, chain recomputed" 'forge_chain custody.jsonl 3' "custody head does not match bag-info.txt"
# the forger also rewrites bag-info's head and the tag manifest: only the signature is left
tamper "custody, bag-info and tag manifest forged" '
	h=$(forge_chain custody.jsonl 3)
	sed -i "s/^Contain-Custody-Head: .*/Contain-Custody-Head: $h/" bag-info.txt
	sha256sum bag-info.txt bagit.txt custody.jsonl index.json manifest-sha256.txt > tagmanifest-sha256.txt' \
	"signature is not valid for the tag manifest"
tamper "bag-info edited" 'sed -i "s/^Contain-Runtime: .*/Contain-Runtime: evil/" bag-info.txt' "tag file 'bag-info.txt' was modified"
tamper "signature removed" 'rm signature.ed25519' "signature.ed25519 is missing but bag-info names signer"
tamper "wrong key" ':' "signed by a different key: fingerprint [0-9a-f]{64}, expected [0-9a-f]{64}" wrong.pub

# every problem is listed, not just the first
rm -rf t && cp -a pristine t && flip t/data/a.txt 1 && rm t/data/c.txt && echo x >t/data/new
run "$CONTAIN" --json verify --pubkey k.pub t
is "$(printf '%s' "$OUT" | jq '.problems | length')" "4" "four problems (3 files and the Payload-Oxum), four entries in --json"
like "$(printf '%s' "$OUT" | jq -r '.problems[]')" "data/new" "the added file is among them"

# hostile tars: entries trying to leave the bag are reported, never written
python3 - <<'PY'
import io, tarfile
t = tarfile.open("evil.tar", "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
d = tarfile.TarInfo("b"); d.type = tarfile.DIRTYPE; t.addfile(d)
add("b/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
add("b/../escaped-by-dotdot")
add("/tmp/contain-t0401-absolute")
add("b/data/link", type=tarfile.SYMTYPE, linkname="/etc/shadow")
add("b/data/hard", type=tarfile.LNKTYPE, linkname="b/bagit.txt")
add("other/outside")
t.close()
PY
run "$CONTAIN" verify evil.tar
is "$RC" 1 "a hostile tar is invalid"
like "$OUT" "FAIL tar entry 'b/../escaped-by-dotdot' escapes the bag with '..': not extracted" "'..' entry reported"
like "$OUT" "FAIL tar entry '/tmp/contain-t0401-absolute' is an absolute path: not extracted" "absolute entry reported"
like "$OUT" "FAIL tar entry 'b/data/link' is a symlink: not extracted" "symlink entry reported"
like "$OUT" "FAIL tar entry 'b/data/hard' is a hard link: not extracted" "hard link entry reported"
like "$OUT" "FAIL tar entry 'other/outside' is outside the bag's top directory 'b'" "entry outside the top directory reported"
ok "nothing was written for the absolute entry" test ! -e /tmp/contain-t0401-absolute
ok "nothing was written for the .. entry" test ! -e "$T_DIR/escaped-by-dotdot"

# a directory bag with a symlink in its payload: reported, not followed
rm -rf t && cp -a pristine t && ln -s /etc/shadow t/data/link
run "$CONTAIN" verify --pubkey k.pub t
like "$OUT" "FAIL 'data/link' is a symlink: not followed, not read" "symlink in a directory bag reported"
done_testing

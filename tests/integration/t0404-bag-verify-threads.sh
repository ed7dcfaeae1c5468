#!/bin/bash
# t0404-bag-verify-threads: verify's threaded paths, checked as t0400 and
# t0401 check the small bags that are verified on one thread (under 4 MiB of
# payload, 256 KiB of custody log and index.json): a sealed directory bag
# with files of 16 MiB or more in a directory beside small ones and in a
# subdirectory, a payload of 6 MiB of 1 MiB files, and their tar forms. Each
# is valid as made, each tampered byte is named in both forms, a large file
# grown past Payload-Oxum is named and not hashed, and a large file removed
# or added is named.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 tar truncate
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
cd "$T_DIR" || exit 1

# flip one byte of FILE at OFFSET (in place: the large files are not read whole)
flip() { python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 1]))' "$1" "$2"; }

mkdir -p src/sub/deeper mid
head -c 20M /dev/urandom >src/big1
head -c 17M /dev/urandom >src/sub/big2
for i in $(seq 1 40); do head -c $((i * 300)) /dev/urandom >src/sub/s$i; done
head -c 3000 /dev/urandom >src/sub/deeper/d
for i in 1 2 3 4 5 6; do head -c 1M /dev/urandom >mid/m$i; done
mkbag -o big src 2>/dev/null || { echo "Bail out! mkbag big failed"; exit 1; }
mkbag -o midb mid 2>/dev/null || { echo "Bail out! mkbag midb failed"; exit 1; }

for b in big midb; do
	run "$CONTAIN" verify $b
	is "$RC" 0 "$b: the directory bag is valid"
	like "$OUT" "verdict: VALID" "$b: directory: VALID"
	tar --format=pax -cf $b.tar $b
	run "$CONTAIN" verify $b.tar
	is "$RC" 0 "$b: the tar bag is valid"
done
# the report of the large files: each one's digest and size are its own
run "$CONTAIN" --json verify big
for f in big1 sub/big2; do
	is "$(printf '%s' "$OUT" | python3 -c 'import json, sys
a = [x for x in json.load(sys.stdin)["artifacts"] if x["path"] == "data/" + sys.argv[1]]
print(a[0]["sha256"], a[0]["size"], a[0]["ok"]) if len(a) == 1 else print(len(a))' "$f")" \
		"$(sha256sum src/$f | cut -d' ' -f1) $(stat -c %s src/$f) True" "big --json: data/$f has its own digest and size"
done

# tamper BAG FILE OFFSET: the byte is named as a modified payload, in the
# directory bag and in a tar of it
tamper() {
	local b=$1 f=$2 off=$3
	rm -rf t t.tar && cp -a $b t
	flip t/$f "$off"
	run "$CONTAIN" verify t
	is "$RC" 1 "$b, $f byte $off flipped: directory invalid (exit 1)"
	like "$OUT" "FAIL payload '$f' was modified: sha256 does not match the manifest" \
		"$b, $f byte $off flipped: directory names it"
	tar --format=pax -cf t.tar t
	run "$CONTAIN" verify t.tar
	is "$RC" 1 "$b, $f byte $off flipped: tar invalid (exit 1)"
	like "$OUT" "FAIL payload '$f' was modified: sha256 does not match the manifest" \
		"$b, $f byte $off flipped: tar names it"
}
tamper big data/big1 0
tamper big data/big1 $((20 * 1048576 - 1))
tamper big data/sub/big2 $((9 * 1048576 + 7))
tamper big data/sub/s17 100
tamper big data/sub/deeper/d 2999
tamper midb data/m4 524288

# a large file grown past the whole payload Payload-Oxum declares: named,
# not hashed
rm -rf t && cp -a big t
oxum=$(sed -n 's/^Payload-Oxum: \([0-9]*\)\..*/\1/p' t/bag-info.txt)
if truncate -s 8T t/data/big1 2>/dev/null; then
	run timeout 60 "$CONTAIN" verify t
	is "$RC" 1 "big1 grown to 8 TiB: verify ends, exit 1"
	like "$OUT" "FAIL payload 'data/big1' declares 8796093022208 bytes, more than the whole payload of Payload-Oxum \($oxum bytes\): not hashed" \
		"big1 grown to 8 TiB: named, not hashed"
else
	skip "big1 grown to 8 TiB: exit 1" "this filesystem refuses an 8 TiB file"
	skip "big1 grown to 8 TiB: named" "this filesystem refuses an 8 TiB file"
fi

# a large file removed, another added
rm -rf t && cp -a big t
rm t/data/sub/big2
head -c 18M /dev/urandom >t/data/sub/deeper/extra
run "$CONTAIN" verify t
is "$RC" 1 "big2 removed, extra added: invalid (exit 1)"
like "$OUT" "FAIL payload 'data/sub/big2' is in the manifest but missing" "big2 removed: named"
like "$OUT" "FAIL payload 'data/sub/deeper/extra' is not in the manifest" "extra added: named"
done_testing

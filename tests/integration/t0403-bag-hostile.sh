#!/bin/bash
# t0403-bag-hostile: verify on bags built to hang it, exhaust its memory, run
# programs or pass for something they are not. Each must end (a timeout
# guards every run: 124 is a hang), bounded, with the problem named.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 zstd gzip timeout jq
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
cd "$T_DIR" || exit 1
# the memory bounds are checked under ulimit -v, which a sanitized build
# (terabytes of shadow address space) cannot run under
asan=""
ldd "$CONTAIN" 2>/dev/null | grep -q libasan && asan="a sanitized build cannot run under ulimit -v"
# limited ARGS...: run "$CONTAIN" ARGS in 512 MiB of address space, 120 s at most
limited() { run bash -c 'ulimit -v 524288 && exec timeout 120 "$CONTAIN" "$@"' limited "$@"; }
python3 "$CONTAIN_TOP/tests/tools/hostile-bags.py" h || { echo "Bail out! hostile-bags.py failed"; exit 1; }

# --- sparse members: a pax sparse header declares exabytes in a few bytes
for f in sparse-7e.tar sparse-7e.tar.zst sparse-1t.tar; do
	run timeout 60 "$CONTAIN" verify h/$f
	is "$RC" 1 "$f: verify ends, exit 1 (not a hang)"
	like "$OUT" "FAIL tar entry 'b/data/[xy]' is sparse, declaring [0-9]+ bytes: a bag's members never are; not hashed" \
		"$f: the sparse member is named and not hashed"
done
run timeout 60 "$CONTAIN" --json verify h/sparse-7e.tar.zst
is "$RC" 1 "sparse --json: exit 1"
like "$OUT" '"tar entry .b/data/x. is sparse, declaring 8070450532247928832 bytes' "sparse --json: the problem is listed"

# a directory bag: a payload file swapped for an 8 TiB sparse file is not
# hashed past what Payload-Oxum declares for the whole payload
mkdir sp && head -c 5000 /dev/urandom >sp/a && head -c 7000 /dev/urandom >sp/b
mkbag -o spd sp 2>/dev/null || { echo "Bail out! mkbag spd failed"; exit 1; }
if truncate -s 8T spd/data/b 2>/dev/null; then
	run timeout 60 "$CONTAIN" verify spd
	is "$RC" 1 "an 8 TiB sparse payload file: verify ends, exit 1"
	like "$OUT" "FAIL payload 'data/b' declares 8796093022208 bytes, more than the whole payload of Payload-Oxum \(12000 bytes\): not hashed" \
		"an 8 TiB sparse payload file: named, not hashed"
	like "$OUT" "verdict: INVALID" "an 8 TiB sparse payload file: INVALID"
else
	skip "an 8 TiB sparse payload file" "this filesystem refuses an 8 TiB file"
	skip "an 8 TiB sparse payload file: named" "this filesystem refuses an 8 TiB file"
	skip "an 8 TiB sparse payload file: INVALID" "this filesystem refuses an 8 TiB file"
fi

# ... and in a bag never sealed (no Payload-Oxum), past its custody record;
# a file with no custody record is compared with nothing, so not read at all
mkbag -o spi --abort sp 2>/dev/null
if truncate -s 8T spi/data/b 2>/dev/null && truncate -s 8T spi/data/extra 2>/dev/null; then
	run timeout 60 "$CONTAIN" verify spi
	is "$RC" 1 "unsealed, an 8 TiB sparse payload file: verify ends, exit 1"
	like "$OUT" "FAIL payload 'data/b' declares 8796093022208 bytes, more than its custody record \(7000 bytes\): not hashed" \
		"unsealed, an 8 TiB sparse payload file: named, not hashed"
	like "$OUT" "data/extra \(present, no custody record \(not finished\)\)" "unsealed, an 8 TiB file with no record: unfinished, not read"
	like "$OUT" "verdict: INVALID" "unsealed, an 8 TiB sparse payload file: INVALID"
else
	for n in 1 2 3 4; do skip "unsealed, an 8 TiB sparse payload file ($n)" "this filesystem refuses an 8 TiB file"; done
fi

# --- tag files whose every line is a problem: problems are capped, tag
# files parsed in bounded memory (continuation lines once took quadratic time)
run timeout 60 "$CONTAIN" verify h/tags-huge.tar.zst
is "$RC" 1 "huge tag files: exit 1"
like "$OUT" "FAIL and [0-9]+ more problems, not listed" "huge tag files: problems past the cap are counted, not listed"
is "$(printf '%s\n' "$OUT" | grep -v "^FAIL and " | grep -c "^FAIL ")" 1000 \
	"huge tag files: the listed problems stop at the cap (1000)"
like "$OUT" "FAIL payload 'data/missing' is in the manifest but missing" "huge tag files: the manifest's lines are problems"
like "$OUT" "FAIL bag-info.txt is not well formed: line [0-9]+: the value is longer than 65536 bytes" \
	"huge tag files: a bag-info value past its bound is a problem"
like "$OUT" "FAIL tagmanifest-sha256.txt is larger than 1 MiB: not checked" "huge tag files: a tag manifest past 1 MiB is not read"
text=$OUT
run timeout 60 "$CONTAIN" --json verify h/tags-huge.tar.zst
total=$(printf '%s' "$OUT" | jq -r .problem_count)
is "$(printf '%s' "$OUT" | jq -r '[(.problems|length), .problems_omitted + 1000 == .problem_count, .problem_count > 100000] | join(" ")')" "1000 true true" \
	"huge tag files --json: 1000 problems listed, the rest counted"
like "$text" "verdict: INVALID: bag 'h/tags-huge.tar.zst': $total problems" "huge tag files: the verdict counts every problem"

# a directory bag with a 1,000,000-line manifest naming files that are not
# there, verified in 512 MiB of address space (it took 0.9 GB)
mkdir -p m1/data
echo a >m1/data/a
printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >m1/bagit.txt
printf 'Contain-Status: complete\n' >m1/bag-info.txt
python3 -c 'import sys
sys.stdout.write("".join("%064x  data/m%d\n" % (i, i) for i in range(1000000)))' >m1/manifest-sha256.txt
if [ -z "$asan" ]; then
	limited verify m1
	is "$RC" 1 "1M-line bad manifest in 512 MiB: exit 1"
	like "$OUT" "FAIL and 999[0-9]{3} more problems, not listed" "1M-line bad manifest: the cap message"
	python3 "$CONTAIN_TOP/tests/tools/hostile-bags.py" h1m 1000000
	limited verify h1m/tags-huge.tar.zst
	is "$RC" 1 "a 15 KB .tar.zst with 1M-line tag files, in 512 MiB: exit 1"
	like "$OUT" "FAIL and [0-9]+ more problems, not listed" "1M-line tag files: the cap message"
	# an index.json of 4.1M values (a few hundred bytes compressed) is not
	# handed to the JSON parser; a custody line over 1 MiB stops the chain
	limited verify h/index-bomb.tar.zst
	is "$RC" 1 "index.json bomb in 512 MiB: exit 1"
else
	for n in 1 2 3 4 5; do skip "bounded memory ($n)" "$asan"; done
	run timeout 120 "$CONTAIN" verify h/index-bomb.tar.zst
fi
like "$OUT" "FAIL index.json is not well formed: more than 4000000 values: not parsed" "index.json bomb: not parsed, said so"
like "$OUT" "FAIL custody.jsonl is broken at line 1: line longer than 1048576 bytes" "a custody line over 1 MiB is refused"

# --- only the forms the help names; libarchive's external-program fallback
# (lzop, lrzip, grzip... from PATH) never runs
mkdir fakebin
for p in lzop lrzip grzip lz4 lzip xz bzip2 gzip zstd compress uudecode; do
	printf '#!/bin/sh\ntouch "%s/ran-%s"\ncat >/dev/null\nexit 1\n' "$T_DIR" "$p" >fakebin/$p
	chmod +x fakebin/$p
done
printf '\211LZO\000\r\n\032\n\020\060\040\240\011\100\001\005\003\000\000\001\000\000\201\244_\000\000\000\000\000\000\000' >x.tar.lzo
printf 'LRZI\000\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >x.tar.lrz
printf 'GRZipII\000\002\004:)\000\000\000\000\000\000\000\000\000\000\000\000' >x.tar.grz
printf 'not a bag\n' | xz >x.tar.xz
printf 'not a bag\n' | bzip2 >x.tar.bz2
for f in x.tar.lzo:lzop x.tar.lrz:lrzip x.tar.grz:grzip x.tar.xz:xz x.tar.bz2:bzip2; do
	run env PATH="$T_DIR/fakebin:$PATH" timeout 60 "$CONTAIN" verify "${f%%:*}"
	is "$RC" 1 "${f%%:*}: refused, exit 1"
	like "$OUT" "FAIL '${f%%:*}' is ${f#*:}-compressed: verify reads a directory, a .tar, a .tar.gz or a .tar.zst" \
		"${f%%:*}: the error names the format"
	like "$OUT" "verdict: INVALID: '${f%%:*}' is not in a form verify reads" "${f%%:*}: the verdict"
done
run env PATH="$T_DIR/fakebin:$PATH" timeout 60 "$CONTAIN" --json verify - <x.tar.lrz
is "$(printf '%s' "$OUT" | jq -r '[.form, .verdict, .problems[0]] | join(" ")')" \
	"unsupported invalid '-' is lrzip-compressed: verify reads a directory, a .tar, a .tar.gz or a .tar.zst (and runs no external program)" \
	"lrzip on stdin --json: form unsupported, verdict invalid, the format named"
# lzop inside gzip: the gzip filter alone is registered, nothing runs
gzip -c x.tar.lzo >lzo.tar.gz
run env PATH="$T_DIR/fakebin:$PATH" timeout 60 "$CONTAIN" verify lzo.tar.gz
is "$RC" 3 "lzop inside gzip: not a tar, could not read (exit 3)"
ok "no external program ran (no marker file)" test -z "$(ls "$T_DIR" | grep '^ran-')"

# --- a compressed bag cut short (a full disk, a copy interrupted) reads as
# INCOMPLETE, like the plain tar and the directory, not "could not read"
mkdir src
for i in 1 2 3 4 5 6; do head -c $((i * 70000)) /dev/urandom >src/f$i; done
for f in cut.tar cut.tar.gz cut.tar.zst; do
	mkbag -o $f src 2>/dev/null || { echo "Bail out! mkbag $f failed"; exit 1; }
	size=$(stat -c %s $f)
	cuts="$((size / 10)) $((size / 2)) $((size * 9 / 10))"
	[ $f = cut.tar ] || cuts="$cuts $((size - 1)) 1 0" # a plain tar's last byte is trailer padding
	for at in $cuts; do
		cp $f c-$f && truncate -s "$at" c-$f
		run timeout 60 "$CONTAIN" verify c-$f
		is "$RC" 1 "$f cut to $at of $size bytes: exit 1"
		like "$OUT" "verdict: INCOMPLETE: bag 'c-$f' is cut short \(the tar ends early\)" "$f cut to $at: INCOMPLETE"
		like "$OUT" "FAIL the tar ends (early|before its first entry).*: cut short" "$f cut to $at: says where the tar ends"
	done
	cp $f c-$f && truncate -s $((size / 2)) c-$f
	run timeout 60 "$CONTAIN" --json verify c-$f
	is "$(printf '%s' "$OUT" | jq -r '[.verdict, .cut, .valid] | join(" ")')" "incomplete true false" "$f cut in half --json: verdict incomplete, cut"
done
like "$(timeout 60 "$CONTAIN" verify c-cut.tar)" "data/f[0-9] \(cut short: the tar ends inside it\)" "the member the tar ends in is named unfinished"
# tampering is still INVALID in a cut bag: a payload byte changed in a sealed
# tar, then the tar cut inside its tag manifest (the manifest is there)
mkbag -o seal.tar src 2>/dev/null
python3 - seal.tar <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[b.index(b"seal/data/f3") + 512 + 1000] ^= 0xff
open(sys.argv[1], "wb").truncate(b.index(b"seal/tagmanifest-sha256.txt") + 700)
open(sys.argv[1], "r+b").write(b[:b.index(b"seal/tagmanifest-sha256.txt") + 700])
PY
run timeout 60 "$CONTAIN" verify seal.tar
is "$RC" 1 "tampered, then cut: exit 1"
like "$OUT" "FAIL payload 'data/f3' was modified" "tampered, then cut: the change is found"
like "$OUT" "verdict: INVALID" "tampered, then cut: INVALID, not merely incomplete"
# corruption that is not a cut stays damage
cp cut.tar.zst flip.tar.zst
printf '\125' | dd of=flip.tar.zst bs=1 seek=$(( $(stat -c %s cut.tar.zst) / 2 )) conv=notrunc 2>/dev/null
run timeout 60 "$CONTAIN" verify flip.tar.zst
is "$RC" 1 "a zstd bag with a flipped byte: exit 1"
like "$OUT" "verdict: INVALID" "a flipped byte is INVALID, not cut short"

done_testing

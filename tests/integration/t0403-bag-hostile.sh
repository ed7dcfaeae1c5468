#!/bin/bash
# t0403-bag-hostile: verify on bags built to hang it, exhaust its memory, run
# programs or pass for something they are not. Each must end (a timeout
# guards every run: 124 is a hang), bounded, with the problem named.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 zstd gzip timeout jq
cd "$T_DIR" || exit 1
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
run bash -c 'ulimit -v 524288 && exec timeout 120 "$CONTAIN" verify m1'
is "$RC" 1 "1M-line bad manifest in 512 MiB: exit 1"
like "$OUT" "FAIL and 999[0-9]{3} more problems, not listed" "1M-line bad manifest: the cap message"
python3 "$CONTAIN_TOP/tests/tools/hostile-bags.py" h1m 1000000
run bash -c 'ulimit -v 524288 && exec timeout 120 "$CONTAIN" verify h1m/tags-huge.tar.zst'
is "$RC" 1 "a 15 KB .tar.zst with 1M-line tag files, in 512 MiB: exit 1"
like "$OUT" "FAIL and [0-9]+ more problems, not listed" "1M-line tag files: the cap message"

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

done_testing

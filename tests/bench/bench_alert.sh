#!/bin/bash
# bench_alert: the alert normalizer (alert_parse, src/respond/alert.c, through
# tests/tools/alert-driver --bench) on 1 million mixed alert lines, against a
# full jansson parse of the same lines (json_loadb and json_decref: what the
# normalizer would cost if it built the document's tree). The lines: 20,000
# distinct ones made from the published payloads in fixtures/alerts/ (every
# format, pids and container ids varied, 1% of them malformed), generated
# once into BENCH_CACHE (default build/bench-alert), parsed round robin.
# Printed: lines/s by wall time and by CPU time (the machine is shared: the
# CPU figure is what one core does), MB/s, peak RSS, and the ratio against
# jansson; and alert_peek alone (the intake's first look, which is all that
# the lines no playbook could match cost). The engine's intake goal is 300,000 alerts/s on this 2-CPU
# machine: the normalizer must be well above it. BENCH_RUNS=N (default 3),
# best kept.
set -u
for c in python3 alert-driver; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench_alert: no $c (make test-bins)"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_alert: no /usr/bin/time (apt-get install time)"; exit 1; }
RUNS=${BENCH_RUNS:-3}
N=${BENCH_LINES:-1000000}
CACHE=${BENCH_CACHE:-$CONTAIN_TOP/build/bench-alert}
L=$CACHE/mixed.jsonl
mkdir -p "$CACHE" || exit 1
python3 - "$CONTAIN_TOP/fixtures/alerts" "$L" <<'PY' || exit 1
import glob, json, os, random, re, sys
src, out = sys.argv[1], sys.argv[2]
docs = [open(f).read().strip() for f in sorted(glob.glob(os.path.join(src, "*", "*.json")))]
docs = [d for d in docs if d]
rnd = random.Random(12)
with open(out, "w") as f:
    for i in range(20000):
        d = docs[i % len(docs)]
        # another container and pid in each line (ids kept hex, lengths kept)
        for cid in ("ee97d9c4186f", "5892b41bcf46", "281c99ea33c2", "19a02291e106", "bae66fa9f180",
                    "85f791fd8dfa", "6b742e38ee3a", "95e88e281c4b", "ae95a93ce0c2"):
            d = d.replace(cid, "%012x" % rnd.getrandbits(48))
        d = re.sub(r'"pid":(\d)', lambda m: '"pid":%d%s' % (rnd.randrange(1, 9), m.group(1)), d, count=1)
        if i % 100 == 99:
            d = d[: len(d) // 2]  # 1% malformed: cut in the middle
        f.write(d + "\n")
PY
best() { # best (highest) first number of N lines
	sort -gr | head -1
}
run() { # mode count -> the driver's line, and peak RSS
	/usr/bin/time -f 'rss %M' alert-driver "$1" "$2" "$L" 2>&1
}
echo "bench_alert: $N lines, $(wc -l <"$L") distinct, $(($(wc -c <"$L") / $(wc -l <"$L"))) bytes a line on average"
a_wall=() a_cpu=() a_rss=0
for _ in $(seq "$RUNS"); do
	o=$(run --bench "$N") || { echo "$o"; exit 1; }
	echo "  alert_parse: $(echo "$o" | head -1)"
	a_wall+=("$(echo "$o" | awk 'NR==1{print $1}')")
	a_cpu+=("$(echo "$o" | awk 'NR==1{print $6}')")
	r=$(echo "$o" | awk '/^rss/{print $2}'); [ "$r" -gt "$a_rss" ] && a_rss=$r
done
o=$(run --peek "$N") || { echo "$o"; exit 1; }
echo "  alert_peek:  $(echo "$o" | head -1)"
p_wall=$(echo "$o" | awk 'NR==1{print $1}')
p_cpu=$(echo "$o" | awk 'NR==1{print $6}')
JN=$((N / 10))
o=$(run --jansson "$JN") || { echo "$o"; exit 1; }
echo "  jansson:     $(echo "$o" | head -1)"
j_wall=$(echo "$o" | awk 'NR==1{print $1}')
j_cpu=$(echo "$o" | awk 'NR==1{print $6}')
aw=$(printf '%s\n' "${a_wall[@]}" | best)
ac=$(printf '%s\n' "${a_cpu[@]}" | best)
echo "alert_parse: $aw lines/s (wall), $ac lines/s (cpu), peak RSS ${a_rss} KiB"
echo "alert_peek:  $p_wall lines/s (wall), $p_cpu lines/s (cpu) (the intake's first look at every line)"
echo "jansson:     $j_wall lines/s (wall), $j_cpu lines/s (cpu)"
echo "ratio: $(awk -v a="$ac" -v j="$j_cpu" 'BEGIN{printf "%.1f", a/j}')x jansson (cpu); intake goal 300000/s: $(awk -v a="$ac" 'BEGIN{printf "%.2f", a/300000}')x (cpu)"

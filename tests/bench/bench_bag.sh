#!/bin/bash
# bench_bag: the bag's rows of issue 13, timed by tests/bench/benchlib.sh
# (alternating rounds, medians, every exit status checked, CPU seconds next
# to wall seconds). The input: a 2 GiB payload of 10,003 files (3 x 600 MiB,
# 10,000 of 4-40 KiB), in the page cache like a collector's source.
#  - verify, directory and tar forms: the shipped `$CONTAIN verify` vs
#    `sha256sum -c manifest-sha256.txt` of the same bytes (goal >= 6x), and
#    its rate vs the one-core `openssl speed -evp sha256` rate (>= 1.7x:
#    both cores hashing)
#  - seal, tar to stdout, libmagic types on: vs the one-core rate (>= 0.9x);
#    the same with libmagic off, what the types cost
#  - seal, directory form, durable: vs `cp -r` + `sync -f` of the same files
#    (<= 1.2x its time), every artifact through the page cache; as
#    information, mkbag --direct-io: large artifacts written as the memory
#    collector writes cores (O_DIRECT, hashed in place), and with libmagic
#    off (what the types cost)
#  - growth: verify of bags of 100, 10,000 and 100,000 files of 4 KiB: time
#    per file next to the time sha256sum -c takes for the same files (goal
#    >= 1.0x: the per-file work, custody and index parses included, no
#    slower than sha256sum's)
# The seal rows run tests/tools/mkbag, a test driver over the bag writer API
# (the shipped binary seals only through `contain capture`, whose fs layer is
# one artifact, upper.tar: bench_capture.sh times that path); verify is the
# shipped binary. Take the machine-wide lock around a run on a shared
# machine: flock /tmp/contain-bench.lock bash tests/bench/bench_bag.sh
set -eu
CONTAIN=${CONTAIN:-$PWD/contain}
. "$(dirname "$0")/benchlib.sh"
command -v mkbag >/dev/null || { echo "bench_bag: no mkbag (make test-bins)"; exit 1; }
D=$(mktemp -d /tmp/contain-bench-bag.XXXXXX)
trap 'rm -rf "$D"' EXIT

python3 - "$D/src" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(f"{d}/small")
for i in range(3):
    with open(f"{d}/large{i}.bin", "wb") as f:
        for _ in range(600):
            f.write(os.urandom(1 << 20))
blob = os.urandom(1 << 20)
for i in range(10000):
    n = 4096 + (i * 7919) % 36864
    with open(f"{d}/small/f{i:05d}", "wb") as f:
        f.write(blob[(i * 97) % (1 << 19):][:n])
PY
bytes=$(find "$D/src" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
files=$(find "$D/src" -type f | wc -l)
mkbag -o "$D/bag" "$D/src" 2>/dev/null
mkbag -o "$D/bag.tar" "$D/src" 2>/dev/null
"$CONTAIN" verify "$D/bag" >/dev/null || { echo "bench_bag: the bag does not verify"; exit 1; }
"$CONTAIN" verify "$D/bag.tar" >/dev/null || { echo "bench_bag: the tar does not verify"; exit 1; }
sync
cache() { find "$@" -type f -print0 | xargs -0 cat >/dev/null; }
cache "$D/src" "$D/bag" "$D/bag.tar"

bench_load before
printf 'bag: %d payload bytes in %d files\n' "$bytes" "$files"
rate=$(bench_sha_rate)
printf 'openssl sha256 (8 KiB blocks), one core: %.0f MB/s\n' "$(bench_ratio "$rate" 1000000)"
mbs() { bench_ratio "$bytes" "$(awk -v t="$1" 'BEGIN {print t * 1000000}')"; } # MB/s

# ---- verify ----
bench_alternate \
	verify_dir "'$CONTAIN' verify '$D/bag' >/dev/null" \
	verify_tar "'$CONTAIN' verify '$D/bag.tar' >/dev/null" \
	sha256sum "cd '$D/bag' && sha256sum --quiet -c manifest-sha256.txt"
for f in dir tar; do
	t=${MED[verify_$f]}
	printf 'verify, %s form: %.3f s wall, %.3f s CPU, %.0f MB/s; sha256sum -c %.3f s wall, %.3f s CPU\n' \
		"$f" "$t" "${CPUMED[verify_$f]}" "$(mbs "$t")" "${MED[sha256sum]}" "${CPUMED[sha256sum]}"
	bench_goal "verify ($f form) vs sha256sum -c" "$(bench_ratio "${MED[sha256sum]}" "$t")" ">=" 6 x
	bench_goal "verify ($f form) vs the one-core SHA-256 rate" \
		"$(bench_ratio "$(awk -v b="$bytes" -v t="$t" 'BEGIN {print b / t}')" "$rate")" ">=" 1.7 x
done

# ---- seal, tar to stdout ----
bench_alternate \
	seal_tar "mkbag -o - '$D/src' 2>/dev/null >/dev/null" \
	seal_tar_nomagic "mkbag --no-libmagic -o - '$D/src' 2>/dev/null >/dev/null"
for k in seal_tar seal_tar_nomagic; do
	t=${MED[$k]}
	printf '%s: %.3f s wall, %.3f s CPU, %.0f MB/s\n' "$k" "$t" "${CPUMED[$k]}" "$(mbs "$t")"
done
bench_goal "seal, tar to stdout, libmagic on, vs the one-core SHA-256 rate" \
	"$(bench_ratio "$(awk -v b="$bytes" -v t="${MED[seal_tar]}" 'BEGIN {print b / t}')" "$rate")" ">=" 0.9 x
printf 'info: the same with libmagic off: %.2fx the one-core rate\n' \
	"$(bench_ratio "$(awk -v b="$bytes" -v t="${MED[seal_tar_nomagic]}" 'BEGIN {print b / t}')" "$rate")"

# ---- seal, directory form, durable ----
# seal_dir: every artifact through the page cache (the goal row);
# seal_dir_nomagic: the same without libmagic (what the types cost here);
# seal_dir_direct: large artifacts as the memory collector writes cores
# (bag_file_direct_io: O_DIRECT, hashed in place, no page-cache copy).
# On this machine's ext4 (no journal) about a fifth of creating the 10,000
# small files, for cp as for the bag, is ext4's scan past recently deleted
# inodes (recently_deleted, find_get_block in perf): a cost both sides pay
mkbag --direct-io -o "$D/out" "$D/src" 2>/dev/null
"$CONTAIN" verify "$D/out" >/dev/null || { echo "bench_bag: the --direct-io bag does not verify"; exit 1; }
BENCH_BETWEEN="rm -rf '$D/out' && sync" bench_alternate \
	seal_dir "mkbag -o '$D/out' '$D/src' 2>/dev/null" \
	seal_dir_nomagic "mkbag --no-libmagic -o '$D/out' '$D/src' 2>/dev/null" \
	seal_dir_direct "mkbag --direct-io -o '$D/out' '$D/src' 2>/dev/null" \
	cp_sync "cp -r '$D/src' '$D/out' && sync -f '$D/out'"
rm -rf "$D/out"
printf 'seal, directory form: %.3f s wall, %.3f s CPU; libmagic off %.3f s wall, %.3f s CPU; --direct-io %.3f s wall, %.3f s CPU; cp -r + sync -f %.3f s wall, %.3f s CPU\n' \
	"${MED[seal_dir]}" "${CPUMED[seal_dir]}" "${MED[seal_dir_nomagic]}" "${CPUMED[seal_dir_nomagic]}" \
	"${MED[seal_dir_direct]}" "${CPUMED[seal_dir_direct]}" "${MED[cp_sync]}" "${CPUMED[cp_sync]}"
bench_goal "seal, directory form, durable, vs cp -r + sync -f" \
	"$(bench_ratio "${MED[seal_dir]}" "${MED[cp_sync]}")" "<=" 1.2 x
printf 'info: the same with libmagic off: %.2fx cp -r + sync -f\n' \
	"$(bench_ratio "${MED[seal_dir_nomagic]}" "${MED[cp_sync]}")"
printf 'info: the same with large artifacts written as cores are (--direct-io): %.2fx cp -r + sync -f\n' \
	"$(bench_ratio "${MED[seal_dir_direct]}" "${MED[cp_sync]}")"
rm -rf "$D/src" "$D/bag" "$D/bag.tar"

# ---- growth: verify of 100, 10,000, 100,000 files ----
declare -A growth_goal
printf 'growth: verify of bags of 4 KiB files (median of %d rounds)\n' "$BENCH_ROUNDS"
printf '%8s %10s %12s %10s %12s %12s\n' files "verify s" "CPU s" "us/file" "sha256sum s" "ratio"
for n in 100 10000 100000; do
	python3 - "$D/g$n" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
blob = os.urandom(1 << 20)
for i in range(n):
    sub = f"{d}/{i // 1000:03d}"
    if i % 1000 == 0:
        os.makedirs(sub)
    with open(f"{sub}/f{i:06d}", "wb") as f:
        f.write(blob[(i * 4099) % ((1 << 20) - 4096):][:4096])
PY
	mkbag --no-libmagic -o "$D/gbag$n" "$D/g$n" 2>/dev/null
	rm -rf "$D/g$n"
	"$CONTAIN" verify "$D/gbag$n" >/dev/null
	cache "$D/gbag$n"
	bench_alternate \
		v "'$CONTAIN' verify '$D/gbag$n' >/dev/null" \
		s "cd '$D/gbag$n' && sha256sum --quiet -c manifest-sha256.txt"
	printf '%8d %10.3f %12.3f %10.1f %12.3f %11.1fx\n' "$n" "${MED[v]}" "${CPUMED[v]}" \
		"$(awk -v t="${MED[v]}" -v n="$n" 'BEGIN {print t * 1e6 / n}')" "${MED[s]}" \
		"$(bench_ratio "${MED[s]}" "${MED[v]}")"
	growth_goal[$n]=$(bench_ratio "${MED[s]}" "${MED[v]}")
	rm -rf "$D/gbag$n"
done
for n in 100 10000 100000; do
	bench_goal "verify of $n 4 KiB files vs sha256sum -c" "${growth_goal[$n]}" ">=" 1.0 x
done
bench_load after

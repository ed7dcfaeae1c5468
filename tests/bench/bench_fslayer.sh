#!/bin/bash
# bench_fslayer: the filesystem layer collector on a 2 GiB upperdir (4 large
# files and 20,000 small ones in 100 directories) against
#   tar -C UPPER -cf - . | sha256sum
# measured in the same run, whole process, page cache warm for both. What is
# measured is what capture does: the driver's sink hashes the tar stream once
# (SHA-256, as the bag's artifact sink does) and the collector hashes each
# file's content for files.json, which is written as the collector's text
# (as capture stores it); the tar then goes to /dev/null, as tar's goes into
# sha256sum. Also printed: our rate against single-core SHA-256
# (openssl speed -evp sha256 -bytes 16384 -seconds 3), and CPU seconds
# (user+sys) of each side, which a loaded machine disturbs less than wall
# time (the load average is printed too).
# Goals (the issue): 5x tar|sha256sum, 80% of single-core SHA-256.
# BENCH_DIR=dir to put the 2 GiB elsewhere; BENCH_RUNS=N runs each (best kept).
set -u
command -v fslayer-driver >/dev/null 2>&1 || { echo "fslayer-driver not built (make test-bins)"; exit 1; }
for c in tar sha256sum openssl split; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench_fslayer: no $c"; exit 1; }
done
RUNS=${BENCH_RUNS:-3}
W=$(mktemp -d "${BENCH_DIR:-/tmp}/contain-bench-fsl.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
U=$W/upper
mkdir -p "$U"
avail=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt $((3 * 1024 * 1024)) ] || { echo "bench_fslayer: need 3 GiB free in $W"; exit 1; }

# deterministic pseudo-random bytes, fast: AES-CTR of zeros
prng() { # SEED BYTES
	openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
		-iv "$(printf '%032x' "$1")" </dev/zero 2>/dev/null | head -c "$2"
}
for i in 1 2 3 4; do prng "$i" $((448 << 20)) >"$U/large$i.bin"; done
prng 99 $((32 << 20)) >"$W/blob"
for d in $(seq 0 99); do
	dir=$U/dir$d
	mkdir "$dir"
	b=$((1000 + (d * 2333) % 24000))
	# 200 files of b bytes each, cut from the blob at a per-dir offset
	tail -c +$((d * 4096 + 1)) "$W/blob" | head -c $((200 * b)) | split -a 3 -b "$b" - "$dir/f"
done
rm -f "$W/blob"
files=$(find "$U" -type f | wc -l)
bytes=$(du -sb "$U" | cut -f1)
cat "$U"/large*.bin >/dev/null
find "$U" -type f -name 'f*' -exec cat {} + >/dev/null

best() { # CMD...: "WALL CPU" of the run with the best wall time of RUNS
	local b="" bc="" t i out
	for i in $(seq "$RUNS"); do
		out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1 || echo FAILED; } 2>&1 )
		case $out in *FAILED*) echo "bench_fslayer: '$*' failed" >&2; return 1 ;; esac
		t=$(echo "$out" | tail -1 | awk '{ print $1 }')
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then
			b=$t
			bc=$(echo "$out" | tail -1 | awk '{ print $2 + $3 }')
		fi
	done
	echo "$b $bc"
}
baseline() { tar -C "$U" -cf - . | sha256sum; }
ours() { fslayer-driver --dir "$U" --tar /dev/null --json "$W/files.json"; }

command -v bc >/dev/null 2>&1 || { echo "bench_fslayer: no bc"; exit 1; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
r_tar=$(best baseline) || exit 1
r_ours=$(best ours) || exit 1
t_tar=${r_tar% *} c_tar=${r_tar#* }
t_ours=${r_ours% *} c_ours=${r_ours#* }
# a last run checked for what it did
fslayer-driver --dir "$U" --tar "$W/upper.tar" --json "$W/files.json" >"$W/sum" || exit 1
entries=$(grep -o '"entries":[0-9]*' "$W/sum" | cut -d: -f2)
rm -f "$W/upper.tar"

sha_k=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub("k", "", $2); print $2 }')
sha_rate=$(echo "$sha_k * 1000" | bc -l)
rate=$(echo "$bytes / $t_ours" | bc -l)
ratio=$(echo "$t_tar / $t_ours" | bc -l)
pct=$(echo "100 * $rate / $sha_rate" | bc -l)
goal() { [ "$(echo "$1 >= $2" | bc -l)" = 1 ] && echo "goal met" || echo "goal missed"; }

printf 'input: %d files, %.1f MiB (%d entries in files.json), best of %d runs, %d cores, load %s\n' \
	"$files" "$(echo "$bytes / 1048576" | bc -l)" "$entries" "$RUNS" "$(nproc)" "$load"
echo "measured: the tar stream hashed once by the sink (as the bag does) + each file's SHA-256 for files.json"
printf 'tar -cf - . | sha256sum   %7.3f s  %8.1f MB/s  cpu %6.2f s\n' "$t_tar" \
	"$(echo "$bytes / $t_tar / 1000000" | bc -l)" "$c_tar"
printf 'fslayer-driver            %7.3f s  %8.1f MB/s  cpu %6.2f s\n' "$t_ours" \
	"$(echo "$rate / 1000000" | bc -l)" "$c_ours"
printf 'openssl sha256 1 core               %8.1f MB/s\n' "$(echo "$sha_rate / 1000000" | bc -l)"
printf 'ratio vs tar|sha256sum: %.2fx (goal 5x: %s)\n' "$ratio" "$(goal "$ratio" 5)"
printf 'rate vs 1-core sha256:  %.0f%% (goal 80%%: %s)\n' "$pct" "$(goal "$pct" 80)"
printf 'cpu seconds vs tar|sha256sum: %.2fx less\n' "$(echo "$c_tar / $c_ours" | bc -l)"

#!/bin/bash
# bench_bag: the bag writer and verify on a 2 GiB bag (3 large files and
# 10,000 small ones), made with mkbag under /tmp and removed after. Every
# figure is a whole-process time, measured in this run on the same input as
# the peer it is compared with:
#  - seal, tar to stdout (mkbag -o -: no fsync, the hash-while-writing
#    pipeline itself) vs the single-core SHA-256 rate of `openssl speed -evp
#    sha256 -bytes 16384 -seconds 3` (goal: >= 80% of it)
#    and the same with libmagic off (mkbag --no-libmagic), what the index's
#    mime types cost
#  - seal, directory form (mkbag -o DIR: every artifact durable) vs the same
#    bytes copied and synced (`cp -r` + `sync -f`), the disk's floor, and vs
#    the SHA-256 rate
#  - verify (directory bag) vs `sha256sum -c manifest-sha256.txt` (goal: 5x
#    faster), and its hashing rate vs the single-core rate (goal: >= 1.5x:
#    both cores hashing)
# The machine's load average is printed first: on a shared machine other
# processes take cores, and the figures move with them (no timing is asserted).
set -eu
CONTAIN=${CONTAIN:-$PWD/contain}
command -v mkbag >/dev/null || { echo "bench_bag: no mkbag (make test-bins)"; exit 1; }
D=$(mktemp -d /tmp/contain-bench-bag.XXXXXX)
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/src/small"
python3 - "$D/src" <<'PY'
import os, sys
d = sys.argv[1]
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
sync
# every source in the page cache, like a collector's source
find "$D/src" -type f -print0 | xargs -0 cat >/dev/null

now() { date +%s.%N; }
# secs CMD...: run CMD, print its wall time in seconds
secs() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>&1
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
f2() { printf '%.2f' "$1"; }
div() { echo "$1 / $2" | bc -l; }

printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'bag: %d payload bytes in %d files\n' "$bytes" "$files"

ossl=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
ossl_mb=$(div "$ossl" 1000) # openssl prints kB/s (1000 bytes)
printf 'openssl sha256, one core: %.0f MB/s\n' "$ossl_mb"

stream=$(secs sh -c 'mkbag -o - "$1" >/dev/null' sh "$D/src")
stream_mb=$(div "$bytes" "($stream * 1000000)")
printf 'seal, tar to stdout: mkbag -o - %s s, %.0f MB/s: %.2f of the one-core sha256 rate (goal >= 0.80)\n' \
	"$(f2 "$stream")" "$stream_mb" "$(div "$stream_mb" "$ossl_mb")"

# the same without libmagic (bag_set_libmagic off): what the mime types cost
nomagic=$(secs sh -c 'mkbag --no-libmagic -o - "$1" >/dev/null' sh "$D/src")
nomagic_mb=$(div "$bytes" "($nomagic * 1000000)")
printf 'seal, tar to stdout, no libmagic: mkbag --no-libmagic -o - %s s, %.0f MB/s: %.2f of the one-core sha256 rate\n' \
	"$(f2 "$nomagic")" "$nomagic_mb" "$(div "$nomagic_mb" "$ossl_mb")"

cpsync=$(secs sh -c 'cp -r "$1" "$2" && sync -f "$2"' sh "$D/src" "$D/copy")
rm -rf "$D/copy"
sync
dir=$(secs mkbag -o "$D/bag" "$D/src")
dir_mb=$(div "$bytes" "($dir * 1000000)")
printf 'seal, directory form: mkbag -o DIR %s s, %.0f MB/s; cp -r + sync -f %s s: %.2fx its time; %.2f of the one-core sha256 rate\n' \
	"$(f2 "$dir")" "$dir_mb" "$(f2 "$cpsync")" "$(div "$dir" "$cpsync")" "$(div "$dir_mb" "$ossl_mb")"

sync
find "$D/bag" -type f -print0 | xargs -0 cat >/dev/null # both read from the page cache
sha=$(secs sh -c 'cd "$1" && sha256sum --quiet -c manifest-sha256.txt' sh "$D/bag")
ver=$(secs "$CONTAIN" verify "$D/bag")
"$CONTAIN" verify "$D/bag" >/dev/null || { echo "bench_bag: the bag does not verify"; exit 1; }
ver_mb=$(div "$bytes" "($ver * 1000000)")
printf 'verify: contain %s s, sha256sum -c %s s: %.1fx faster (goal >= 5x)\n' \
	"$(f2 "$ver")" "$(f2 "$sha")" "$(div "$sha" "$ver")"
printf 'verify hashing: %.0f MB/s, %.2fx the one-core sha256 rate (goal >= 1.5x)\n' \
	"$ver_mb" "$(div "$ver_mb" "$ossl_mb")"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

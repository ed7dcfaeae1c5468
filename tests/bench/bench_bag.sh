#!/bin/bash
# bench_bag: the bag writer and verify on a 2 GiB bag (3 large files and
# 10,000 small ones), made with mkbag under /tmp and removed after.
#  - verify vs `sha256sum -c manifest-sha256.txt`: whole-process time ratio
#  - sealing throughput (mkbag: read, hash, write, fsync) vs the single-core
#    SHA-256 rate of `openssl speed -evp sha256 -bytes 16384 -seconds 3`
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
bytes=$(du -sb "$D/src" | cut -f1)
cat "$D"/src/large* >/dev/null # in the page cache, like a collector's source

now() { date +%s.%N; }
t0=$(now)
mkbag -o "$D/bag" "$D/src" 2>/dev/null
t1=$(now)
seal=$(echo "$t1 - $t0" | bc -l)
seal_rate=$(echo "$bytes / $seal / 1000" | bc -l) # kB/s like openssl

# the tar streamed to stdout (-o -, piped off the node): no fsync, so this
# is the hash-while-writing pipeline itself
t0=$(now)
mkbag -o - "$D/src" 2>/dev/null >/dev/null
t1=$(now)
stream=$(echo "$t1 - $t0" | bc -l)
stream_rate=$(echo "$bytes / $stream / 1000" | bc -l)

# the same bytes read and hashed by openssl, one process (the I/O-inclusive peer)
t0=$(now)
find "$D/src" -type f -print0 | xargs -0 -n 2000 openssl dgst -sha256 >/dev/null
t1=$(now)
dgst=$(echo "$t1 - $t0" | bc -l)

ossl=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)

sync
t0=$(now)
(cd "$D/bag" && sha256sum --quiet -c manifest-sha256.txt)
t1=$(now)
sha=$(echo "$t1 - $t0" | bc -l)
t0=$(now)
"$CONTAIN" verify "$D/bag" >/dev/null
t1=$(now)
ver=$(echo "$t1 - $t0" | bc -l)

printf 'bag: %d bytes in %d payload files\n' "$bytes" "$(wc -l <"$D/bag/manifest-sha256.txt")"
printf 'seal (mkbag, dir form, fsync per artifact): %.2f s, %.0f MB/s; openssl sha256 single core: %.0f MB/s; ratio %.2f\n' \
	"$seal" "$(echo "$seal_rate / 1000" | bc -l)" "$(echo "$ossl / 1000" | bc -l)" "$(echo "$seal_rate / $ossl" | bc -l)"
printf 'seal (mkbag -o -, tar to stdout): %.2f s, %.0f MB/s; ratio to openssl sha256 %.2f (goal >= 0.80)\n' \
	"$stream" "$(echo "$stream_rate / 1000" | bc -l)" "$(echo "$stream_rate / $ossl" | bc -l)"
printf 'openssl dgst -sha256 over the same source files: %.2f s; mkbag -o - / openssl dgst time ratio %.2f\n' \
	"$dgst" "$(echo "$stream / $dgst" | bc -l)"
printf 'verify: contain %.2f s, sha256sum -c %.2f s; contain/sha256sum time ratio %.2f (speed-up %.2fx)\n' \
	"$ver" "$sha" "$(echo "$ver / $sha" | bc -l)" "$(echo "$sha / $ver" | bc -l)"

#!/bin/bash
# bench_capture: contain capture of a runc container whose overlay upperdir
# holds 2 GiB (4 large files and 20,000 small ones, all in the page cache),
# into a bag directory, as a whole process:
#   contain capture REF -o DIR --no-memory --no-pcap --no-quarantine
# (processes, network state, the fs layer with its hashes, metadata, seal:
# every artifact fsync'ed), against, in the same run on the same upperdir:
#  - `tar -C UPPER -cf - . | sha256sum` (read, archive and hash, not durable)
#  - the single-core SHA-256 rate of `openssl speed -evp sha256 -bytes 16384
#    -seconds 3`
# Each figure is the best of 3 runs; the ratios are printed (no timing is
# asserted: this is never part of make check). The load average is printed
# first and last: on a shared machine the figures move with it.
set -eu
cd "$(dirname "$0")/../.."
CONTAIN_TOP=$PWD
CONTAIN=${CONTAIN:-$PWD/contain}
export CONTAIN_TOP CONTAIN
for c in runc jq python3 bc openssl tar sha256sum; do
	command -v "$c" >/dev/null || { echo "bench_capture: no $c"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench_capture: needs root"; exit 1; }
# the integration helpers make and clean up the container (TAP-free use)
. tests/lib/lib.sh
. tests/lib/containers.sh
fixtures_ready || { echo "bench_capture: no fixtures (run fixtures/build.sh)"; exit 1; }

runc_run "bench-cap-$$" >/dev/null || { echo "bench_capture: cannot start a runc container"; exit 1; }
UP=$CUPPER
# the files, written through the merged root like a process in the container
python3 - "$CMERGED/data" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d + "/small")
blob = os.urandom(1 << 20)
for i in range(4):
    with open(f"{d}/large{i}.bin", "wb") as f:
        for k in range(492):
            f.write(os.urandom(1 << 20) if k % 16 == 0 else blob[k:] + blob[:k])
for i in range(20000):
    n = 1024 + (i * 7919) % 7168
    sub = f"{d}/small/{i // 1000:02d}"
    if i % 1000 == 0:
        os.makedirs(sub)
    with open(f"{sub}/f{i:05d}", "wb") as f:
        f.write(blob[(i * 97) % (1 << 19):][:n])
PY
sync
bytes=$(find "$UP" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
files=$(find "$UP" -type f | wc -l)
# every source in the page cache
find "$UP" -type f -print0 | xargs -0 cat >/dev/null

now() { date +%s.%N; }
secs() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>&1 || { echo "bench_capture: '$*' failed" >&2; return 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
best3() {
	local b="" t
	for _ in 1 2 3; do
		t=$(secs "$@") || return 1
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" -eq 1 ]; then b=$t; fi
		[ -n "${BENCH_CLEAN:-}" ] && eval "$BENCH_CLEAN"
	done
	echo "$b"
}
f2() { printf '%.2f' "$1"; }
div() { echo "$1 / $2" | bc -l; }

printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'upperdir: %s bytes in %d files\n' "$bytes" "$files"

ossl=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
ossl_mb=$(div "$ossl" 1000) # kB/s of 1000 bytes
printf 'openssl sha256, one core: %.0f MB/s\n' "$ossl_mb"

tarsha=$(best3 sh -c 'tar -C "$1" -cf - . | sha256sum' sh "$UP")
tarsha_mb=$(div "$bytes" "($tarsha * 1000000)")
printf 'tar -cf - . | sha256sum: %s s, %.0f MB/s\n' "$(f2 "$tarsha")" "$tarsha_mb"

BAG=$T_DIR/bag
BENCH_CLEAN='rm -rf "$BAG"; sync'
cap=$(best3 "$CONTAIN" capture "$CID" -o "$BAG" --no-memory --no-pcap --no-quarantine)
BENCH_CLEAN=
"$CONTAIN" capture "$CID" -o "$BAG" --no-memory --no-pcap --no-quarantine >/dev/null 2>&1 ||
	{ echo "bench_capture: the capture failed"; exit 1; }
"$CONTAIN" verify "$BAG" >/dev/null || { echo "bench_capture: the bag does not verify"; exit 1; }
tarsz=$(stat -c %s "$BAG/data/fs/upper.tar")
cap_mb=$(div "$bytes" "($cap * 1000000)")
printf 'contain capture (bag directory, fs layer %s bytes): %s s, %.0f MB/s\n' "$tarsz" "$(f2 "$cap")" "$cap_mb"
printf 'ratios: capture/tar|sha256sum time %.2fx (throughput %.2f of it); capture %.2f of the one-core sha256 rate\n' \
	"$(div "$cap" "$tarsha")" "$(div "$cap_mb" "$tarsha_mb")" "$(div "$cap_mb" "$ossl_mb")"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

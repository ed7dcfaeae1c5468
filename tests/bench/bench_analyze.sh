#!/bin/bash
# bench_analyze: contain analyze, whole process, on the issue's input: a bag
# whose layer holds 20,000 changed files (1 GiB: 15,000 files of the image
# with new content and 5,000 added ones) against an image of 50,000 files
# (2 GiB) in an OCI layout of two uncompressed layers (25,000 files each;
# uncompressed so that both sides read the same bytes and neither is bound by
# gzip), against the floor of reading them at all:
#   tar -tvf each image layer and the bag's layer, then sha256sum of the same
#   layer tars (their bytes stand in for the files' content: the same bytes
#   plus 512-byte headers)
# measured in the same run, page cache warm for both. Printed: wall time and
# peak RSS (/usr/bin/time -f '%e %M') of each, the ratio (goal <= 1.5x) and
# the peak RSS (goal < 200 MiB).
# Not part of the floor (it is analyze's own work, shown in the ratio): the
# bag is verified first (its 1 GiB payload hashed against the manifest) and
# each image layer's blob digest is checked besides the files' hashes.
# The input is generated once (python3, ~3 GiB, a few minutes) and cached in
# BENCH_CACHE (default build/bench-analyze); the bag is a real one made by
# mkbag (make test-bins) and must pass `contain verify`.
# BENCH_RUNS=N runs each (best kept, default 2).
set -u
command -v mkbag >/dev/null 2>&1 || { echo "bench_analyze: mkbag not built (make test-bins)"; exit 1; }
for c in tar sha256sum python3 bc; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench_analyze: no $c"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_analyze: no /usr/bin/time (apt-get install time)"; exit 1; }
[ -x "$CONTAIN" ] || { echo "bench_analyze: no contain binary at $CONTAIN"; exit 1; }
RUNS=${BENCH_RUNS:-2}
CACHE=${BENCH_CACHE:-$CONTAIN_TOP/build/bench-analyze}
GEN_VERSION=1
mkdir -p "$CACHE" || exit 1
W=$(mktemp -d "${BENCH_DIR:-/tmp}/contain-bench-an.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

if [ "$(cat "$CACHE/READY" 2>/dev/null)" != "$GEN_VERSION" ]; then
	avail=$(df -Pk "$CACHE" | awk 'NR == 2 { print $4 }')
	[ "$avail" -gt $((8 * 1024 * 1024)) ] || { echo "bench_analyze: need 8 GiB free in $CACHE"; exit 1; }
	rm -rf "$CACHE"/{oci,payload,bag,READY}
	echo "bench_analyze: generating the input in $CACHE (once)"
	python3 - "$CACHE" <<'EOF' || exit 1
import hashlib, io, json, os, sys, tarfile
C = sys.argv[1]
MT = 1700000000
rnd = os.urandom(64 << 20)


class HW:
    def __init__(s, p):
        s.f = open(p, "wb"); s.h = hashlib.sha256(); s.n = 0
    def write(s, b):
        s.f.write(b); s.h.update(b); s.n += len(b)
    def close(s):
        s.f.close(); return "sha256:" + s.h.hexdigest(), s.n


def content(tag, i, size):
    head = ("%s %d\n" % (tag, i)).encode()
    off = (i * 104729) % (len(rnd) - size)
    return head + rnd[off:off + size - len(head)]


def add(tf, name, data, mode=0o644):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = MT
    tf.addfile(ti, io.BytesIO(data))


def adddir(tf, name):
    ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = MT
    tf.addfile(ti)


def img_size(i):
    return 1024 + (i * 7919) % 83000


def img_path(i):
    return "usr/share/bench/d%03d/f%05d" % (i % 500, i)


os.makedirs(C + "/oci/blobs/sha256")
layers = []
for l in range(2):
    tmp = C + "/oci/layer.tmp"
    hw = HW(tmp)
    with tarfile.open(fileobj=hw, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        if l == 0:
            for d in ("usr", "usr/share", "usr/share/bench"):
                adddir(tf, d)
            for d in range(500):
                adddir(tf, "usr/share/bench/d%03d" % d)
        for i in range(l * 25000, (l + 1) * 25000):
            add(tf, img_path(i), content("img", i, img_size(i)), 0o755 if i % 10 == 0 else 0o644)
    d, n = hw.close()
    os.rename(tmp, C + "/oci/blobs/sha256/" + d[7:])
    layers.append((d, n))


def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open(C + "/oci/blobs/sha256/" + d, "wb").write(b)
    return "sha256:" + d, len(b)


cfg = {"architecture": "amd64", "os": "linux", "config": {},
       "rootfs": {"type": "layers", "diff_ids": [l[0] for l in layers]}}
cd, cs = blob(json.dumps(cfg).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n}
                  for d, n in layers]}
md, ms = blob(json.dumps(man).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
          open(C + "/oci/index.json", "w"))
open(C + "/oci/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')

# the bag's payload: 15,000 modified files of the image, 5,000 added
P = C + "/payload"
for d in ("fs", "container", "processes"):
    os.makedirs(P + "/" + d)
entries = []
seen_dirs = set()
with tarfile.open(P + "/fs/upper.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    def dirs_of(p):
        parts = p.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            dd = "/".join(parts[:k])
            if dd not in seen_dirs:
                seen_dirs.add(dd)
                adddir(tf, dd)
                entries.append({"path": dd, "type": "dir", "mode": "0755", "uid": 0, "gid": 0,
                                "size": 4096, "mtime": "2023-11-14T22:13:20Z", "in_tar": True})
    files = [(img_path(i * 3 + 1), "mod", i) for i in range(15000)]
    files += [("opt/new/d%02d/n%05d" % (i % 50, i), "new", i) for i in range(5000)]
    for path, tag, i in files:
        dirs_of(path)
        data = content(tag, i, 1024 + (i * 6007) % 106000)
        add(tf, path, data)
        entries.append({"path": path, "type": "file", "mode": "0644", "uid": 0, "gid": 0,
                        "size": len(data), "mtime": "2023-11-14T22:13:20Z", "in_tar": True,
                        "sha256": hashlib.sha256(data).hexdigest()})
json.dump({"collector": "fslayer", "layer": "upperdir", "whole_root": False,
           "tar_format": "pax (OCI image layer)", "entries": entries}, open(P + "/fs/files.json", "w"))
json.dump({"image": "bench:latest", "digest": md, "runtime": "runc"}, open(P + "/container/image.json", "w"))
json.dump({"pids": []}, open(P + "/processes/tree.json", "w"))
EOF
	mkbag -o "$CACHE/bag" "$CACHE/payload" 2>/dev/null || { echo "bench_analyze: mkbag failed"; exit 1; }
	rm -rf "$CACHE/payload"
	"$CONTAIN" verify "$CACHE/bag" >/dev/null || { echo "bench_analyze: the bag does not verify"; exit 1; }
	echo "$GEN_VERSION" >"$CACHE/READY"
fi
IMG=$CACHE/oci
BAG=$CACHE/bag
LAYERS=()
for d in $(jq -r '.layers[].digest' "$IMG/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMG/index.json" | cut -d: -f2)"); do
	LAYERS+=("$IMG/blobs/sha256/${d#sha256:}")
done
BAGLAYER=$BAG/data/fs/upper.tar
img_files=0
for l in "${LAYERS[@]}"; do img_files=$((img_files + $(tar -tvf "$l" | grep -c '^-'))); done
bag_files=$(tar -tvf "$BAGLAYER" | grep -c '^-')
img_bytes=$(du -cb "${LAYERS[@]}" | tail -1 | cut -f1)
bag_bytes=$(du -b "$BAGLAYER" | cut -f1)
# warm the page cache for both sides
cat "${LAYERS[@]}" "$BAG"/data/fs/* >/dev/null

# best CMD...: "WALL RSS_KiB CPU" of the run with the best wall time of RUNS
best() {
	local b="" bm="" bc="" t m u sy
	for _ in $(seq "$RUNS"); do
		rm -rf "$W/out"
		/usr/bin/time -f '%e %M %U %S' -o "$W/time" "$@" >/dev/null 2>"$W/err"
		local rc=$?
		# analyze exits 1 when a finding is at or above --fail-on: not a failure here
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			echo "bench_analyze: '$*' failed (exit $rc): $(head -3 "$W/err")" >&2
			return 1
		fi
		read -r t m u sy <<<"$(grep -E '^[0-9.]+ [0-9]+ [0-9.]+ [0-9.]+$' "$W/time" | tail -1)"
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then
			b=$t bm=$m bc=$(echo "$u + $sy" | bc -l)
		fi
	done
	echo "$b $bm $bc"
}
floor() {
	for l in "$@"; do tar -tvf "$l" >/dev/null || return 2; done
	sha256sum "$@" >/dev/null
}
export -f floor
load=$(cut -d' ' -f1-3 /proc/loadavg)
r_floor=$(best bash -c 'floor "$@"' floor "${LAYERS[@]}" "$BAGLAYER") || exit 1
r_ours=$(best "$CONTAIN" analyze "$BAG" --image "$IMG" -o "$W/out") || exit 1
read -r t_floor m_floor c_floor <<<"$r_floor"
read -r t_ours m_ours c_ours <<<"$r_ours"
# the last run, checked for what it did
rm -rf "$W/out"
"$CONTAIN" analyze "$BAG" --image "$IMG" -o "$W/out" >/dev/null 2>&1
stats=$(jq -r '.diff.stats | "added \(.added), modified \(.modified), unchanged \(.unchanged)"' "$W/out/report.json" 2>/dev/null)
match=$(jq -r '.image.match' "$W/out/report.json" 2>/dev/null)

ratio=$(echo "$t_ours / $t_floor" | bc -l)
goal() { [ "$(echo "$1" | bc -l)" = 1 ] && echo "goal met" || echo "goal missed"; }
printf 'input: image %d files in %d layers, %.1f MiB; bag layer %d files, %.1f MiB; best of %d runs, %d cores, load %s\n' \
	"$img_files" "${#LAYERS[@]}" "$(echo "$img_bytes / 1048576" | bc -l)" "$bag_files" \
	"$(echo "$bag_bytes / 1048576" | bc -l)" "$RUNS" "$(nproc)" "$load"
echo "analyze's report: diff ${stats:-?}; image match ${match:-?}"
printf 'floor: tar -tvf + sha256sum of the layers  %7.2f s  cpu %6.2f s  peak RSS %6.1f MiB\n' "$t_floor" "$c_floor" "$(echo "$m_floor / 1024" | bc -l)"
printf 'contain analyze                           %7.2f s  cpu %6.2f s  peak RSS %6.1f MiB\n' "$t_ours" "$c_ours" "$(echo "$m_ours / 1024" | bc -l)"
printf 'ratio vs the floor: %.2fx wall, %.2fx cpu (goal <= 1.5x: %s)\n' "$ratio" "$(echo "$c_ours / $c_floor" | bc -l)" "$(goal "$ratio <= 1.5")"
printf 'SHA-256 work: the floor hashes %.1f GiB once; analyze also verifies the bag (its %.1f GiB payload) and checks each layer blob digest besides the files\n' \
	"$(echo "($img_bytes + $bag_bytes) / 1073741824" | bc -l)" "$(echo "$bag_bytes / 1073741824" | bc -l)"
printf 'peak RSS: %.1f MiB (goal < 200 MiB: %s)\n' "$(echo "$m_ours / 1024" | bc -l)" "$(goal "$m_ours < 204800")"

#!/usr/bin/env python3
"""hostile-bags.py: write hostile inputs for contain verify into a directory.

  hostile-bags.py OUTDIR [LINES]

sparse-7e.tar      one pax 1.0 sparse member claiming 7 EiB (a 512-byte hole map)
sparse-7e.tar.zst  the same, zstd-compressed (about 240 bytes)
sparse-1t.tar      pax 0.1 sparse member claiming 1 TiB in a few extents
tags-huge.tar.zst  a bag whose bag-info.txt, bagit.txt and manifests fail on
                   every line (LINES lines each, default 100000; the same line
                   over and over, so it compresses to almost nothing)
index-bomb.tar.zst an index.json of 4,100,000 zeros in one array (once 45
                   bytes of jansson each) and a custody line over 1 MiB
cut.tar.gz, cut.tar.zst  a small bag, compressed, cut in the middle

Every member sits under one top directory "b/", as contain's bag tars do.
tests/fuzz/corpus/bag/bad-bag-* are these files (default LINES) as committed,
with bad-bag-lzop.tar.lzo, bad-bag-grzip.tar.grz (magic and a few bytes:
formats refused by name) and bad-bag-cut-magic.tar.zst (3 bytes of zstd magic);
bad-bag-: the fuzz replay (tests/fuzz/replay.c on main) expects bag_verify to
refuse each.
Small by default (the fuzz corpus keeps them); more LINES for the memory tests.
"""
import gzip
import io
import os
import subprocess
import sys
import tarfile

TOP = "b"


def member(tf, name, data, pax=None):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o600
    ti.mtime = 1700000000
    if pax:
        ti.pax_headers = pax
    tf.addfile(ti, io.BytesIO(data))


def topdir(tf):
    ti = tarfile.TarInfo(TOP)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o700
    ti.mtime = 1700000000
    tf.addfile(ti)


def tar_bytes(fill):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        topdir(tf)
        fill(tf)
    return out.getvalue()


def sparse_10(tf, name, realsize, extents):
    """GNU pax sparse 1.0: the map at the start of the member's data."""
    m = "%d\n" % len(extents) + "".join("%d\n%d\n" % e for e in extents)
    mb = m.encode()
    mb += b"\0" * (-len(mb) % 512)
    data = mb + b"".join(b"Z" * ln for _, ln in extents)
    member(tf, "%s/data/GNUSparseFile.0/%s" % (TOP, name.split("/")[-1]), data, {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": name,
        "GNU.sparse.realsize": str(realsize),
    })


def sparse_01(tf, name, realsize, extents):
    """GNU pax sparse 0.1: the map in the pax header."""
    data = b"".join(b"Q" * ln for _, ln in extents)
    member(tf, name, data, {
        "GNU.sparse.size": str(realsize),
        "GNU.sparse.numblocks": str(len(extents)),
        "GNU.sparse.map": ",".join("%d,%d" % e for e in extents),
    })


def zstd(data):
    return subprocess.run(["zstd", "-q", "-9", "-c"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    d = sys.argv[1]
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    os.makedirs(d, exist_ok=True)

    seven = 7 << 60
    t = tar_bytes(lambda tf: sparse_10(tf, TOP + "/data/x", seven, [(seven - 512, 512)]))
    write(d, "sparse-7e.tar", t)
    write(d, "sparse-7e.tar.zst", zstd(t))
    tib = 1 << 40
    ext = [(i * (tib // 8), 512) for i in range(8)]
    write(d, "sparse-1t.tar",
          tar_bytes(lambda tf: sparse_01(tf, TOP + "/data/y", tib, ext)))

    # tag files every line of which is a problem
    def tags(tf):
        member(tf, TOP + "/data/a", b"a\n")
        member(tf, TOP + "/manifest-sha256.txt", (b"0" * 64 + b"  data/missing\n") * lines)
        member(tf, TOP + "/tagmanifest-sha256.txt", (b"0" * 64 + b"  data/not-a-tag\n") * lines)
        # one field, then nothing but continuation lines (once quadratic)
        info = b"Contain-Status: complete\n" + b" x\n" * lines
        member(tf, TOP + "/bag-info.txt", info)
        member(tf, TOP + "/bagit.txt", b"not a field\n" * lines)
    write(d, "tags-huge.tar.zst", zstd(tar_bytes(tags)))

    def index_bomb(tf):
        member(tf, TOP + "/bagit.txt",
               b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        member(tf, TOP + "/index.json", b'{"artifacts":[' + b"0," * 4100000 + b"0]}")
        member(tf, TOP + "/bag-info.txt", b"Contain-Bag-Id: x\nContain-Status: incomplete\n")
        member(tf, TOP + "/custody.jsonl", b'{"seq":1,"artifacts":[' + b"0," * (1 << 20) + b"0]}\n")
    write(d, "index-bomb.tar.zst", zstd(tar_bytes(index_bomb)))

    # a small bag cut in the middle of a member (random bytes do not compress)
    rnd = os.urandom(24 << 10)

    def small(tf):
        member(tf, TOP + "/bagit.txt",
               b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        member(tf, TOP + "/data/r", rnd)
    t = tar_bytes(small)
    gz = gzip.compress(t, mtime=0)
    write(d, "cut.tar.gz", gz[:len(gz) // 2])
    z = zstd(t)
    write(d, "cut.tar.zst", z[:len(z) // 2])


if __name__ == "__main__":
    main()

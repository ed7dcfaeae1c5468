#!/usr/bin/env python3
"""hostile-images.py: hostile images (and bag payloads) for contain analyze.

  hostile-images.py OUTDIR [NAME...]

Writes into OUTDIR, one per NAME (all when none given), python3 only (tarfile,
json, zlib, hashlib), streaming: nothing big is ever held in memory or written
uncompressed.

Images (OCI layouts, directories, unless said; tag "latest"):
  img-dotdot       a layer with ../, absolute and a/../../ names
  img-links        hard links and symlinks pointing out (../../etc/passwd,
                   /etc/shadow), a file written through a symlinked dir
  img-truncated    a layer whose last entry declares 1 MiB and the tar ends
                   after 1 KiB of it
  img-bomb         a gzip layer: one tar entry of 10 GiB of zeros (~10 MB
                   compressed; blocks of deflate repeated after full flushes)
  img-million      a gzip layer with 1,000,000 header-only entries
  img-longpath     a gzip layer with a pax path record of 100 MB
  img-deep-index   index.json nested 100,000 deep
  img-deep-manifest the manifest nested 100,000 deep
  img-digest-path  index.json's manifest digest "sha256:../../etc/passwd"
  img-layer-path   a manifest whose layer digest is "sha256:../../../etc/passwd"
  img-missing-blob a manifest whose layer blob is missing
  img-archive-dotdot.tar  an oci-archive whose own members are ../x and /x
  img-docker-dotdot.tar   a docker-archive whose manifest.json names the
                   layer "../../../etc/passwd"
Bag payloads (directories for mkbag: data/<path>), each with a small valid
layer (fs/upper.tar), fs/files.json, container/image.json, processes/tree.json:
  bag-ok           nothing hostile (tmp/x added): the bag the images are read with
  bag-deep-files   fs/files.json nested 100,000 deep
  bag-deep-tree    processes/tree.json nested 100,000 deep
  bag-dotdot       fs/upper.tar with ../, absolute names and links out
  bag-bomb         fs/upper.tar is the 10 GiB gzip bomb of img-bomb
  bag-million      fs/upper.tar holds 1,000,000 header-only entries under
                   tmp/ (a plain tar, as a capture writes it: 512 MB)
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import zlib

DEPTH = 100000
MTIME = 1700000000


class HashWriter:
    """A file written while hashing (sha256 and size)."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.f.write(b)
        self.h.update(b)
        self.n += len(b)

    def close(self):
        self.f.close()
        return "sha256:" + self.h.hexdigest(), self.n


def blob_put(layout, data):
    d = hashlib.sha256(data).hexdigest()
    p = os.path.join(layout, "blobs", "sha256", d)
    with open(p, "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def layout_new(out):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


def layout_finish(out, layers, manifest_raw=None, index_raw=None, config_extra=None):
    """layers: [(digest, size, media_type)]"""
    cfg = {"architecture": "amd64", "os": "linux", "config": {},
           "rootfs": {"type": "layers", "diff_ids": [l[0] for l in layers]}}
    if config_extra:
        cfg.update(config_extra)
    cd, cs = blob_put(out, json.dumps(cfg).encode())
    if manifest_raw is None:
        man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
               "layers": [{"mediaType": l[2], "digest": l[0], "size": l[1]} for l in layers]}
        manifest_raw = json.dumps(man).encode()
    md, ms = blob_put(out, manifest_raw)
    if index_raw is None:
        idx = {"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
             "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
        index_raw = json.dumps(idx).encode()
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(index_raw)
    return md


TAR_PLAIN = "application/vnd.oci.image.layer.v1.tar"
TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def tar_member(tf, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = kw.get("mode", 0o644)
    ti.mtime = MTIME
    ti.type = kw.get("type", tarfile.REGTYPE)
    ti.linkname = kw.get("linkname", "")
    if ti.type != tarfile.REGTYPE:
        ti.size = 0
        data = b""
    tf.addfile(ti, io.BytesIO(data) if data else None)


def small_layer(members):
    """members: [(name, data, kw)] -> plain tar bytes"""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, kw in members:
            tar_member(tf, name, data, **kw)
    return bio.getvalue()


def ok_layer():
    return small_layer([("etc/", b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
                        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", {}),
                        ("bin/", b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
                        ("bin/sh", b"\x7fELF" + b"\0" * 60, {"mode": 0o755})])


def layout_with_layer(out, data, mt=TAR_PLAIN):
    layout_new(out)
    d, s = blob_put(out, data)
    return layout_finish(out, [(d, s, mt)])


def img_dotdot(out):
    layout_with_layer(out, small_layer([
        ("../../contain-escape-dotdot", b"escaped\n", {}),
        ("/contain-escape-abs", b"escaped\n", {}),
        ("a/../../contain-escape-mid", b"escaped\n", {}),
        ("./ok", b"fine\n", {}),
    ]))


def img_links(out):
    layout_with_layer(out, small_layer([
        ("hard", b"", {"type": tarfile.LNKTYPE, "linkname": "../../etc/passwd"}),
        ("hardabs", b"", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}),
        ("sym", b"", {"type": tarfile.SYMTYPE, "linkname": "/etc/shadow"}),
        ("up", b"", {"type": tarfile.SYMTYPE, "linkname": "../../../../../tmp"}),
        ("up/contain-escape-link", b"through a symlink\n", {}),
    ]))


def img_truncated(out):
    # headers and blocks by hand: tarfile pads an archive to 10 KiB of
    # zeros, which a reader takes for its end
    first = tarfile.TarInfo("first")
    first.size = 100
    first.mtime = MTIME
    big = tarfile.TarInfo("big")
    big.size = 1 << 20
    big.mtime = MTIME
    data = first.tobuf(tarfile.PAX_FORMAT) + b"x" * 100 + bytes(412)
    data += big.tobuf(tarfile.PAX_FORMAT) + b"y" * 1024
    layout_with_layer(out, data)


def deflate_stream(w, head, zeros, tail):
    """gzip of head + zeros (count of zero bytes) + tail, into w, without
    compressing all the zeros: a chunk of zeros compressed after a full
    flush gives the same bytes each time (the compressor's history is reset)."""
    w.write(b"\x1f\x8b\x08\x00" + MTIME.to_bytes(4, "little") + b"\x00\x03")
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    w.write(c.compress(head) + c.flush(zlib.Z_FULL_FLUSH))
    CH = 64 << 20
    z = bytes(1 << 20)
    zc = zlib.crc32(z)
    blk = c.compress(bytes(CH)) + c.flush(zlib.Z_FULL_FLUSH)
    blk2 = c.compress(bytes(CH)) + c.flush(zlib.Z_FULL_FLUSH)
    assert blk == blk2, "deflate of zeros after a full flush is not repeatable"
    w.write(blk)
    w.write(blk2)
    left = zeros - 2 * CH
    for _ in range(2 * (CH >> 20)):
        crc = zlib.crc32(z, crc)
    while left >= CH:
        w.write(blk)
        for _ in range(CH >> 20):
            crc = zlib.crc32(z, crc)
        left -= CH
    rest = bytes(left)
    crc = zlib.crc32(rest, crc)
    crc = zlib.crc32(tail, crc)
    w.write(c.compress(rest) + c.compress(tail) + c.flush(zlib.Z_FINISH))
    total = len(head) + zeros + len(tail)
    w.write((crc & 0xFFFFFFFF).to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little"))


def bomb_layer(path):
    size = 10 << 30
    ti = tarfile.TarInfo("zeros")
    ti.size = size
    ti.mtime = MTIME
    head = ti.tobuf(tarfile.PAX_FORMAT)
    w = HashWriter(path)
    deflate_stream(w, head, size + 1024, b"")  # the content, then the two end blocks
    return w.close()


def img_bomb(out):
    layout_new(out)
    tmp = os.path.join(out, "blob.tmp")
    d, n = bomb_layer(tmp)
    os.rename(tmp, os.path.join(out, "blobs", "sha256", d[7:]))
    layout_finish(out, [(d, n, TAR_GZIP)])


def ustar_header(name, size=0, typeflag=b"0", mode=0o644):
    h = bytearray(512)
    nb = name.encode()
    h[0:len(nb)] = nb
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % MTIME
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    s = sum(h)
    h[148:156] = b"%06o\0 " % s
    return bytes(h)


def million_layer(path, top="", plain=False):
    w = HashWriter(path)
    g = w if plain else gzip.GzipFile(fileobj=w, mode="wb", compresslevel=1, mtime=MTIME)
    buf = []
    for d in range(1000):
        buf.append(ustar_header(top + "d%03d/" % d, typeflag=b"5", mode=0o755))
        for f in range(999):
            buf.append(ustar_header(top + "d%03d/f%03d" % (d, f)))
        g.write(b"".join(buf))
        buf = []
    g.write(bytes(1024))
    if not plain:
        g.close()
    return w.close()


def img_million(out):
    layout_new(out)
    tmp = os.path.join(out, "blob.tmp")
    d, n = million_layer(tmp)
    os.rename(tmp, os.path.join(out, "blobs", "sha256", d[7:]))
    layout_finish(out, [(d, n, TAR_GZIP)])


def img_longpath(out):
    layout_new(out)
    tmp = os.path.join(out, "blob.tmp")
    w = HashWriter(tmp)
    g = gzip.GzipFile(fileobj=w, mode="wb", compresslevel=6, mtime=MTIME)
    plen = 100 << 20
    body_len = len(" path=") + plen + 1
    # the record's length counts its own digits
    n = body_len + len(str(body_len))
    while len(str(n)) + body_len != n:
        n = len(str(n)) + body_len
    g.write(ustar_header("PaxHeaders/longpath", size=n, typeflag=b"x"))
    g.write(("%d path=" % n).encode())
    chunk = b"a" * (1 << 20)
    for _ in range(plen >> 20):
        g.write(chunk)
    g.write(b"\n")
    g.write(bytes((512 - n % 512) % 512))
    g.write(ustar_header("short-name-replaced", size=5))
    g.write(b"long\n" + bytes(507))
    g.write(ustar_header("after", size=3))
    g.write(b"ok\n" + bytes(509))
    g.write(bytes(1024))
    g.close()
    d, sz = w.close()
    os.rename(tmp, os.path.join(out, "blobs", "sha256", d[7:]))
    layout_finish(out, [(d, sz, TAR_GZIP)])


def deep(n):
    return b'{"schemaVersion":2,"manifests":' + b"[" * n + b"]" * n + b"}"


def img_deep_index(out):
    layout_new(out)
    d, s = blob_put(out, ok_layer())
    layout_finish(out, [(d, s, TAR_PLAIN)], index_raw=deep(DEPTH))


def img_deep_manifest(out):
    layout_new(out)
    d, s = blob_put(out, ok_layer())
    layout_finish(out, [(d, s, TAR_PLAIN)],
                  manifest_raw=b'{"schemaVersion":2,"layers":' + b"[" * DEPTH + b"]" * DEPTH + b"}")


def img_digest_path(out):
    layout_new(out)
    d, s = blob_put(out, ok_layer())
    layout_finish(out, [(d, s, TAR_PLAIN)], index_raw=json.dumps({
        "schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": "sha256:../../etc/passwd", "size": 100,
             "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}).encode())


def img_layer_path(out):
    layout_new(out)
    layout_finish(out, [("sha256:../../../etc/passwd", 100, TAR_PLAIN)])


def img_missing_blob(out):
    layout_new(out)
    d, s = blob_put(out, ok_layer())
    miss = "sha256:" + hashlib.sha256(b"not here").hexdigest()
    layout_finish(out, [(d, s, TAR_PLAIN), (miss, 100, TAR_PLAIN)])


def tar_dir(src, dst, extra=()):
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in extra:
            tar_member(tf, name, data)
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(root, f)
                tf.add(p, arcname=os.path.relpath(p, src))


def img_archive_dotdot(out):
    tmp = out + ".d"
    layout_with_layer(tmp, ok_layer())
    tar_dir(tmp, out, extra=[("../../contain-escape-archive", b"escaped\n"),
                             ("/contain-escape-archive-abs", b"escaped\n")])
    for root, dirs, files in os.walk(tmp, topdown=False):
        for f in files:
            os.unlink(os.path.join(root, f))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(tmp)


def img_docker_dotdot(out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        cd = hashlib.sha256(cfg).hexdigest()
        tar_member(tf, cd + ".json", cfg)
        tar_member(tf, "manifest.json", json.dumps([
            {"Config": cd + ".json", "RepoTags": ["contain-hostile:latest"],
             "Layers": ["../../../etc/passwd", "/etc/shadow"]}]).encode())


# ---- bag payloads (for mkbag: OUT/<path> becomes data/<path>) ----

def bag_common(out, layer=None, files=None, tree=None):
    os.makedirs(os.path.join(out, "fs"), exist_ok=True)
    os.makedirs(os.path.join(out, "container"), exist_ok=True)
    os.makedirs(os.path.join(out, "processes"), exist_ok=True)
    if layer is None:
        layer = small_layer([("tmp/", b"", {"type": tarfile.DIRTYPE, "mode": 0o1777}),
                             ("tmp/x", b"x\n", {})])
    with open(os.path.join(out, "fs", "upper.tar"), "wb") as f:
        f.write(layer)
    if files is None:
        files = json.dumps({"collector": "fslayer", "layer": "upperdir", "whole_root": False,
                            "entries": [{"path": "tmp/x", "type": "file", "mode": "0644", "uid": 0,
                                         "gid": 0, "size": 2, "in_tar": True,
                                         "sha256": hashlib.sha256(b"x\n").hexdigest()}]}).encode()
    with open(os.path.join(out, "fs", "files.json"), "wb") as f:
        f.write(files)
    if tree is None:
        tree = json.dumps({"pids": []}).encode()
    with open(os.path.join(out, "processes", "tree.json"), "wb") as f:
        f.write(tree)
    with open(os.path.join(out, "container", "image.json"), "w") as f:
        json.dump({"image": None, "digest": None, "runtime": "runc"}, f)


def bag_ok(out):
    bag_common(out)


def bag_deep_files(out):
    bag_common(out, files=b'{"layer":"upperdir","entries":' + b"[" * DEPTH + b"]" * DEPTH + b"}")


def bag_deep_tree(out):
    bag_common(out, tree=b'{"pids":' + b"[" * DEPTH + b"]" * DEPTH + b"}")


def bag_dotdot(out):
    bag_common(out, layer=small_layer([
        ("../../contain-escape-bag", b"escaped\n", {}),
        ("/contain-escape-bag-abs", b"escaped\n", {}),
        ("hard", b"", {"type": tarfile.LNKTYPE, "linkname": "../../etc/passwd"}),
        ("sym", b"", {"type": tarfile.SYMTYPE, "linkname": "/etc/shadow"}),
        ("tmp/ok", b"fine\n", {}),
    ]))


def bag_bomb(out):
    bag_common(out)
    bomb_layer(os.path.join(out, "fs", "upper.tar"))


def bag_million(out):
    bag_common(out)
    million_layer(os.path.join(out, "fs", "upper.tar"), top="tmp/", plain=True)


MAKERS = {
    "img-dotdot": img_dotdot, "img-links": img_links, "img-truncated": img_truncated,
    "img-bomb": img_bomb, "img-million": img_million, "img-longpath": img_longpath,
    "img-deep-index": img_deep_index, "img-deep-manifest": img_deep_manifest,
    "img-digest-path": img_digest_path, "img-layer-path": img_layer_path,
    "img-missing-blob": img_missing_blob, "img-archive-dotdot.tar": img_archive_dotdot,
    "img-docker-dotdot.tar": img_docker_dotdot,
    "bag-ok": bag_ok, "bag-deep-files": bag_deep_files, "bag-deep-tree": bag_deep_tree, "bag-dotdot": bag_dotdot,
    "bag-bomb": bag_bomb, "bag-million": bag_million,
}


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = sys.argv[2:] or list(MAKERS)
    for n in names:
        if n not in MAKERS:
            sys.stderr.write("hostile-images: unknown '%s'\n" % n)
            return 2
        MAKERS[n](os.path.join(out, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())

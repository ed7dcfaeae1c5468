#!/usr/bin/env python3
"""Write the seeds of tests/fuzz/corpus/image/ (fz_image): small oci-archive and
docker-archive tars, well formed and hostile. Deterministic (mtime 0); run
from the repo root: python3 tests/fuzz/gen_image_corpus.py"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

OUT = "tests/fuzz/corpus/image"


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, kind, data) with kind f (file), d, l (symlink: data =
    target), h (hard link: data = target), or a ready TarInfo via kind 'ti'."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            ti.mode = 0o644
            if kind == "f":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
            elif kind == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = data
            elif kind == "suid":
                ti.size = len(data)
                ti.mode = 0o4755
                t.addfile(ti, io.BytesIO(data))
                continue
            t.addfile(ti)
    return bio.getvalue()


def gz(b):
    return gzip.compress(b, mtime=0)


def zst(b):
    return subprocess.run(["zstd", "-q", "-c", "-19"], input=b, stdout=subprocess.PIPE,
                          check=True).stdout


def sha(b):
    return hashlib.sha256(b).hexdigest()


def jb(o):
    return json.dumps(o, separators=(",", ":")).encode()


LAYER0 = tar_bytes([
    ("./", "d", None), ("etc", "d", None),
    ("etc/passwd", "f", b"root:x:0:0::/root:/bin/sh\n"),
    ("etc/app/old", "f", b"old\n"), ("bin/sh", "f", b"#!sh\n"),
    ("bin/link", "h", "bin/sh"), ("usr/bin/su", "suid", b"su\n"),
    ("lib/evil", "l", "../../../etc/shadow"), ("tmp/gone", "f", b"x\n"),
])
LAYER1 = tar_bytes([
    ("etc/app", "d", None), ("etc/app/.wh..wh..opq", "f", b""),
    ("etc/app/new", "f", b"new\n"), ("tmp/.wh.gone", "f", b""),
    ("root/.ssh/authorized_keys", "f", b"ssh-ed25519 AAAA x\n"),
])


def oci_members(layers, ref="v1", mtypes=None, index_override=None, manifest_hook=None):
    """The members of an OCI layout: layers as (stored bytes, uncompressed)."""
    blobs = {}
    cfg = jb({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(u) for _, u in layers]}})
    blobs[sha(cfg)] = cfg
    ldesc = []
    for i, (b, _) in enumerate(layers):
        blobs[sha(b)] = b
        mt = (mtypes or [])[i] if mtypes and i < len(mtypes) else \
            "application/vnd.oci.image.layer.v1.tar+gzip"
        ldesc.append({"mediaType": mt, "digest": "sha256:" + sha(b), "size": len(b)})
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": "sha256:" + sha(cfg), "size": len(cfg)},
           "layers": ldesc}
    if manifest_hook:
        manifest_hook(man)
    mb = jb(man)
    blobs[sha(mb)] = mb
    index = index_override(mb) if index_override else {
        "schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + sha(mb), "size": len(mb),
            "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    ib = index if isinstance(index, bytes) else jb(index)
    m = [("oci-layout", "f", b'{"imageLayoutVersion":"1.0.0"}'), ("blobs", "d", None),
         ("blobs/sha256", "d", None)]
    for h, b in blobs.items():
        m.append(("blobs/sha256/" + h, "f", b))
    m.append(("index.json", "f", ib))
    return m, blobs


def docker_members(layers, tags=("contain-fixture:latest",)):
    cfg = jb({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(u) for u in layers]}})
    m = []
    names = []
    for i, u in enumerate(layers):
        m.append((sha(u) + ".tar", "f", u))
        m.append(("l%d/layer.tar" % i, "l", "../" + sha(u) + ".tar"))
        names.append("l%d/layer.tar" % i)
    m.append((sha(cfg) + ".json", "f", cfg))
    m.append(("manifest.json", "f",
              jb([{"Config": sha(cfg) + ".json", "RepoTags": list(tags), "Layers": names}])))
    return m


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    l0z, l1z = gz(LAYER0), zst(LAYER1)
    m, _ = oci_members([(l0z, LAYER0), (l1z, LAYER1)],
                       mtypes=["application/vnd.oci.image.layer.v1.tar+gzip",
                               "application/vnd.oci.image.layer.v1.tar+zstd"])
    write("ok-image-oci.tar", tar_bytes(m))
    write("ok-image-oci.tar.gz", gz(tar_bytes(m)))
    write("ok-image-docker.tar", tar_bytes(docker_members([LAYER0, LAYER1])))

    # nested index: index -> index -> manifest
    def nested(mb):
        inner = jb({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + sha(mb), "size": len(mb),
            "platform": {"os": "linux", "architecture": "amd64"}}]})
        nested.inner = inner
        return {"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:" + sha(inner), "size": len(inner),
            "annotations": {"org.opencontainers.image.ref.name": "multi:1"}}]}
    m, _ = oci_members([(l0z, LAYER0)], index_override=nested)
    m.insert(3, ("blobs/sha256/" + sha(nested.inner), "f", nested.inner))
    write("ok-image-nested-index.tar", tar_bytes(m))

    # hostile layer names, links out, a truncated layer: notes, still an image
    evil = tar_bytes([("../../etc/cron.d/x", "f", b"e\n"), ("/abs", "f", b"a\n"),
                      ("up", "l", "../../../../etc/passwd"), ("hl", "h", "../../etc/shadow"),
                      ("f", "f", b"f\n"), ("f/under", "f", b"u\n"), ("n" * 5000, "f", b"n\n")])
    m, _ = oci_members([(gz(evil), evil)])
    write("ok-image-evil-names.tar", tar_bytes(m))
    trunc = gz(LAYER0)[:200]
    m, _ = oci_members([(trunc, LAYER0)])
    write("ok-image-truncated-layer.tar", tar_bytes(m))
    # a gzip bomb: 80 MiB of zeros in ~80 KiB
    bomb = tar_bytes([("zeros", "f", bytes(80 << 20)), ("after", "f", b"a\n")])
    m, _ = oci_members([(gz(bomb), bomb)])
    write("ok-image-gzip-bomb.tar", tar_bytes(m))

    # a 100 MiB name in a pax header: libarchive refuses it, the layer stops
    longp = tar_bytes([("a/" + "x" * (100 << 20), "f", b"huge name\n"), ("ok", "f", b"ok\n")])
    m, _ = oci_members([(gz(longp), longp)])
    write("ok-image-long-pax-path.tar", tar_bytes(m))

    # layers alone (fz_image also reads its input as the one layer of a layout)
    write("ok-layer-base.tar.gz", gz(LAYER0))
    write("ok-layer-whiteouts.tar.zst", zst(LAYER1))
    write("ok-layer-evil-names.tar", evil)
    write("bad-layer-truncated.tar.gz", gz(LAYER0)[:150])
    write("bad-layer-bomb.tar.zst", zst(bomb))
    write("bad-layer-long-pax-path.tar.gz", gz(longp))

    # structural errors
    write("bad-image-deep-json.tar",
          tar_bytes([("manifest.json", "f", b"[" * 100000 + b"]" * 100000)]))
    esc = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:../../../../etc/passwd", "size": 1}]}
    write("bad-image-escape-digest.tar",
          tar_bytes([("oci-layout", "f", b'{"imageLayoutVersion":"1.0.0"}'),
                     ("index.json", "f", jb(esc))]))
    m, blobs = oci_members([(l0z, LAYER0)])
    write("bad-image-missing-layer.tar",
          tar_bytes([x for x in m if x[0] != "blobs/sha256/" + sha(l0z)]))
    write("bad-image-docker-escape.tar", tar_bytes([
        ("c.json", "f", b'{"config":{}}'),
        ("manifest.json", "f", b'[{"Config":"c.json","RepoTags":["a:b"],"Layers":["../x.tar"]}]')]))
    write("bad-image-not-a-tar", b"this is not an image, only words\n" * 20)
    two = docker_members([LAYER0], tags=("a:1",))
    two2 = docker_members([LAYER1], tags=("b:1",))
    man = json.loads(two[-1][2]) + json.loads(two2[-1][2])
    write("bad-image-ambiguous.tar",
          tar_bytes(two[:-1] + two2[:-1] + [("manifest.json", "f", jb(man))]))


if __name__ == "__main__":
    main()

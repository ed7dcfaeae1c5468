#!/usr/bin/env python3
"""gen_nfnl_corpus.py: the committed corpus of fz_nfnl (tests/fuzz/corpus/nfnl/).

An input is one flags byte (bit 0: read the table as a netdev table), the
request's sequence number (4 bytes, little-endian) and the bytes of replies
as the kernel sends them on a NETLINK_NETFILTER socket: nlmsghdr, nfgenmsg,
netlink attributes (include/uapi/linux/netfilter/nf_tables.h). The table
read is always "contain_t".

Usage: gen_nfnl_corpus.py DIR [--live]. With --live (root), the replies of a
real kernel are added: a table made with nft in a throwaway netns, dumped
with the same requests nfnl.c sends."""
import os
import socket
import struct
import subprocess
import sys

SUBSYS = 10
NEWTABLE, GETTABLE, NEWCHAIN, GETCHAIN = 0, 1, 3, 4
DONE, ERROR = 3, 2
F_MULTI, F_DUMP_INTR = 0x2, 0x10
SEQ = 7


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def s(t, v):
    return attr(t, v.encode() + b"\0")


def be32(t, v):
    return attr(t, struct.pack(">I", v))


def be64(t, v):
    return attr(t, struct.pack(">Q", v))


def nest(t, *a):
    return attr(t | 0x8000, b"".join(a))


def msg(typ, body, seq=SEQ, flags=F_MULTI, family=1, nft=True):
    if nft:
        typ = (SUBSYS << 8) | typ
        body = struct.pack("=BBH", family, 0, 0) + body
    return struct.pack("=IHHII", 16 + len(body), typ, flags, seq, 0) + body


def done(seq=SEQ, flags=F_MULTI):
    return msg(DONE, struct.pack("=i", 0), seq, flags, nft=False)


def err(code, seq=SEQ):
    return msg(ERROR, struct.pack("=i", code) + b"\0" * 16, seq, 0, nft=False)


def table(name="contain_t", handle=42, flags=0, owner=None):
    own = be32(7, owner) if owner is not None else b""
    return msg(NEWTABLE, s(1, name) + be32(2, flags) + be32(3, 2) + be64(4, handle) + own,
               flags=0)


def chain(name, hooknum, dev=None, devs=None, policy=0, tbl="contain_t"):
    hook = be32(1, hooknum) + be32(2, 0xFFFFFEC4)
    if dev is not None:
        hook += s(3, dev)
    if devs is not None:
        hook += nest(4, *[s(1, d) for d in devs])
    return msg(NEWCHAIN, s(1, tbl) + be64(2, 1) + s(3, name) + nest(4, hook) +
               be32(5, policy) + s(7, "filter"), family=5)


def write(d, name, flags, data, seq=SEQ):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([flags]) + struct.pack("<I", seq) + data)


def synthetic(d):
    ack = err(0)
    write(d, "ok-table-get-ack", 0, table() + ack)
    write(d, "ok-end-table-get-ack", 0, table() + ack)
    write(d, "bad-table-other-name", 0, table("other") + ack)
    write(d, "ok-table-owned", 0, table(flags=2, owner=4242) + ack)
    write(d, "ok-table-owned-no-port", 0, table(flags=3) + ack)
    write(d, "ok-table-flags-short-owned", 0,
          msg(NEWTABLE, s(1, "contain_t") + attr(2, b"\0\2") + be32(7, 1), flags=0) + ack)
    write(d, "bad-table-enoent", 0, err(-2))
    write(d, "bad-end-enoent", 0, err(-2))
    write(d, "bad-table-other-seq", 0, msg(NEWTABLE, s(1, "contain_t"), seq=SEQ + 1) + ack)
    write(d, "bad-table-name-unterminated", 0, msg(NEWTABLE, attr(1, b"contain_t")) + ack)
    write(d, "bad-table-name-too-long", 0, table("contain_" + "x" * 300) + ack)
    write(d, "bad-table-attr-past-message", 0,
          msg(NEWTABLE, struct.pack("=HH", 200, 1) + b"contain_t\0\0\0") + ack)
    write(d, "bad-end-short-error", 0, msg(ERROR, b"\0\0", nft=False))
    write(d, "bad-end-error-out-of-range", 0, msg(ERROR, struct.pack("=i", -99999) + b"\0" * 16,
                                                  nft=False))
    write(d, "bad-end-no-done", 0, table())
    write(d, "bad-end-truncated-header", 0, table()[:10])
    write(d, "bad-end-length-past-buffer", 0, struct.pack("=IHHII", 4000, 3, 2, SEQ, 0))
    inet = (chain("input", 1, policy=0, tbl="contain_t") + chain("output", 3, policy=0) +
            chain("other", 1, policy=0, tbl="other_t") + chain("accepting", 1, policy=1))
    write(d, "ok-chains-inet", 0, inet + done())
    write(d, "bad-chains-accept-only", 0, chain("in", 1, policy=1) + done())
    write(d, "ok-chains-netdev", 1,
          chain("in_4", 0, dev="veth1") + chain("out_4", 1, dev="veth1") + done())
    write(d, "ok-chains-netdev-devs-list", 1,
          chain("in_5", 0, devs=["veth2"]) + chain("in_6", 0, devs=["a", "b"]) + done())
    many = b"".join(chain("in_%d" % i, 0, dev="v%d" % i) for i in range(40))
    write(d, "ok-chains-netdev-more-than-kept", 1, many + done())
    write(d, "ok-end-dump-interrupted", 0,
          msg(NEWCHAIN, s(1, "contain_t"), flags=F_MULTI | F_DUMP_INTR) + done())
    write(d, "chains-hook-malformed", 1,
          msg(NEWCHAIN, s(1, "contain_t") + s(3, "in_1") + attr(4, b"\xff\xff\0\0") +
              be32(5, 0), family=5) + done())
    write(d, "bad-chains-policy-short", 0,
          msg(NEWCHAIN, s(1, "contain_t") + nest(4, be32(1, 1)) + attr(5, b"\0\0")) + done())
    write(d, "ok-end-names", 0,
          table("contain_a") + table("contain_b") + table("nat") + done())
    write(d, "empty", 0, b"")


def live(d):
    ns = "fz_nfnl_%d" % os.getpid()
    run = lambda *a: subprocess.run(a, check=True)
    run("ip", "netns", "add", ns)
    try:
        run("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        rules = ("table inet contain_t {\n"
                 " chain input { type filter hook input priority -300; policy drop; }\n"
                 " chain output { type filter hook output priority -300; policy drop; }\n"
                 "}\n")
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(),
                       check=True)
        rules = ("table netdev contain_t {\n"
                 " chain in_2 { type filter hook ingress device v0 priority -500; policy drop; }\n"
                 "}\n")
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(),
                       check=True)
        code = ("import socket,struct,sys\n"
                "fam,typ,flags,name=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),sys.argv[4]\n"
                "k=socket.socket(socket.AF_NETLINK,socket.SOCK_RAW,12)\n"
                "k.connect((0,0))\n"
                "a=b''\n"
                "if name:\n"
                "  p=name.encode()+b'\\0'\n"
                "  a=struct.pack('=HH',4+len(p),1)+p+b'\\0'*((4-len(p)%4)%4)\n"
                "b=struct.pack('=BBH',fam,0,0)+a\n"
                "k.send(struct.pack('=IHHII',16+len(b),(10<<8)|typ,1|flags,7,0)+b)\n"
                "out=b''\n"
                "end=False\n"
                "while not end:\n"
                "  r=k.recv(65536); out+=r; o=0\n"
                "  while o+16<=len(r):\n"
                "    n,t=struct.unpack_from('=IH',r,o)\n"
                "    end=end or t in (2,3)\n"
                "    o+=max(16,(n+3)&~3)\n"
                "sys.stdout.buffer.write(out)\n")
        def get(fam, typ, flags, name):
            return subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", code, str(fam),
                                   str(typ), str(flags), name], check=True,
                                  capture_output=True).stdout
        write(d, "ok-table-live-inet", 0, get(1, GETTABLE, 0x4, "contain_t"))
        write(d, "ok-chains-live-inet", 0, get(1, GETCHAIN, 0x300, ""))
        write(d, "ok-table-live-netdev", 1, get(5, GETTABLE, 0x4, "contain_t"))
        write(d, "ok-chains-live-netdev", 1, get(5, GETCHAIN, 0x300, ""))
        write(d, "ok-end-live-names", 0, get(1, GETTABLE, 0x300, ""))
    finally:
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    synthetic(sys.argv[1])
    if "--live" in sys.argv[2:]:
        live(sys.argv[1])

#!/bin/bash
# t0420: the node audit log against root (issue 9, finding 5). A quarantine,
# a release and two captures (a directory and a .tar.zst) of a real runc
# container write the log; then:
#  A  the genesis names this node; audit verify and audit verify --bag pass;
#     both bags verify (contain verify) and record the heads;
#  B  the last lines deleted: the log alone still looks intact, --bag fails
#     naming the bag and the head;
#  C  the whole chain rebuilt with recomputed hashes (a python3 rewrite that
#     hashes exactly as src/evidence/chain.c does): a line dropped, a new
#     genesis, another machine id: each fails;
#  D  an empty log, a log without its genesis line: fail;
#  E  --audit-key: every line signed; a forged line (chain recomputed) fails
#     with --pubkey; an unsigned log fails with --pubkey.
# Every expected failure is exit 1 with its message.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd runc python3 jq tar
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

LOG=$CONTAIN_AUDIT_LOG
name=aud-$$
# rebuild SRC DST MODE: rewrite an audit log and recompute its whole chain:
# seq renumbered, every prev the SHA-256 of the line before's bytes
cat >"$T_DIR/rebuild.py" <<'EOF'
import hashlib, re, secrets, sys
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src, "rb").read().split(b"\n")
assert lines[-1] == b""
lines = lines[:-1]
if mode == "drop":  # the first quarantine line goes
    lines = [l for i, l in enumerate(lines)
             if i != next(k for k, x in enumerate(lines) if b'"action":"quarantine"' in x)]
elif mode == "forge":  # the first event's result changes
    lines[1] = lines[1].replace(b'"result":"ok"', b'"result":"failed"', 1)
elif mode == "genesis":  # a genesis of its own: a new nonce
    lines[0] = re.sub(rb'"nonce":"[0-9a-f]{64}"',
                      b'"nonce":"' + secrets.token_hex(32).encode() + b'"', lines[0])
elif mode == "machine":  # the genesis of another machine
    lines[0] = re.sub(rb'"machine_id":"[0-9a-f]+"', b'"machine_id":"' + b"e" * 32 + b'"',
                      lines[0])
out, prev = [], None
for i, l in enumerate(lines):
    if i > 0:
        l = re.sub(rb'^\{"seq":\d+,', b'{"seq":%d,' % i, l)
        k = l.rindex(b',"prev":"')
        l = l[:k] + b',"prev":"' + prev + l[k + 9 + 64:]
    out.append(l)
    prev = hashlib.sha256(l).hexdigest().encode()
open(dst, "wb").write(b"\n".join(out) + b"\n")
EOF
rebuild() { python3 "$T_DIR/rebuild.py" "$@"; }
# the seq:hash a bag recorded (Contain-Audit-Head-Start or -End)
info_head() { sed -n "s/^Contain-Audit-Head-$2: //p" "$1/bag-info.txt"; }

runc_run "$name" || { echo "not ok - start the container"; done_testing; exit 1; }

# ---------------------------------------------------------------- A
run "$CONTAIN" quarantine "$name"
is "$RC" 0 "quarantine"
run "$CONTAIN" release "$name"
is "$RC" 0 "release"
run "$CONTAIN" capture "$name" -o "$T_DIR/bag1" --no-memory --no-fs --no-pcap
is "$RC" 0 "capture into a directory"
run "$CONTAIN" release "$name"
is "$RC" 0 "release after the first capture"
run "$CONTAIN" capture "$name" -o "$T_DIR/bag2.tar.zst" --no-memory --no-fs --no-pcap
is "$RC" 0 "capture into a .tar.zst"
run "$CONTAIN" release "$name"
is "$RC" 0 "release after the second capture"

is "$(head -n1 "$LOG" | jq -r .action)" genesis "the log's first line is its genesis"
is "$(head -n1 "$LOG" | jq -r .node.machine_id)" "$(cat /etc/machine-id)" \
	"the genesis names this node's machine id"
like "$(head -n1 "$LOG" | jq -r '.node.nonce + " " + .node.created + " " + .node.hostname')" \
	'^[0-9a-f]{64} 20[0-9-]+T[0-9:.]+Z .' "the genesis has a nonce, a creation time, a host name"
is "$(sed -n 2p "$LOG" | jq -r .prev)" "$(head -n1 "$LOG" | tr -d '\n' | sha256sum | cut -c1-64)" \
	"line 1's prev is the hash of the genesis line"
run "$CONTAIN" audit verify
is "$RC" 0 "audit verify: the log is intact"
like "$OUT" "chain intact" "audit verify says so"
start1=$(info_head "$T_DIR/bag1" Start)
end1=$(info_head "$T_DIR/bag1" End)
like "$start1" '^[0-9]+:[0-9a-f]{64}$' "bag-info has Contain-Audit-Head-Start"
like "$end1" '^[0-9]+:[0-9a-f]{64}$' "bag-info has Contain-Audit-Head-End"
ok "the end head is later than the start" [ "${end1%%:*}" -gt "${start1%%:*}" ]
is "$(sed -n 's/^Contain-Audit-Genesis: //p' "$T_DIR/bag1/bag-info.txt")" \
	"$(head -n1 "$LOG" | tr -d '\n' | sha256sum | cut -c1-64)" "bag-info has the log's genesis"
is "$(jq -r 'select(.action == "audit-head") | "\(.phase) \(.audit_head.seq):\(.audit_head.hash)"' \
	"$T_DIR/bag1/custody.jsonl" | tr '\n' ' ')" "start $start1 end $end1 " \
	"the custody log has both heads"
# the head recorded is a line of the log: its seq and its hash
seq1=${end1%%:*}
is "$(sed -n "$((seq1 + 1))p" "$LOG" | tr -d '\n' | sha256sum | cut -c1-64)" "${end1#*:}" \
	"the end head is the hash of the log's line with that seq"
run "$CONTAIN" verify "$T_DIR/bag1"
is "$RC" 0 "the directory bag verifies"
run "$CONTAIN" verify "$T_DIR/bag2.tar.zst"
is "$RC" 0 "the .tar.zst bag verifies"
run "$CONTAIN" audit verify --bag "$T_DIR/bag1" --bag "$T_DIR/bag2.tar.zst"
is "$RC" 0 "audit verify --bag: both bags' heads are in the log"
is "$(grep -c 'is in the log' <<<"$OUT")" 4 "four heads found"
cp "$LOG" "$T_DIR/orig.jsonl"

# ---------------------------------------------------------------- B
mkdir -p "$T_DIR/tar2" && tar -C "$T_DIR/tar2" -xf "$T_DIR/bag2.tar.zst" --zstd
end2=$(sed -n 's/^Contain-Audit-Head-End: //p' "$T_DIR"/tar2/*/bag-info.txt)
seq2=${end2%%:*}
# keep the lines before seq2 (seq 0 .. seq2-1)
head -n "$seq2" "$T_DIR/orig.jsonl" >"$LOG"
run "$CONTAIN" audit verify
is "$RC" 0 "a truncated log alone still verifies (why bags record heads)"
run "$CONTAIN" audit verify --bag "$T_DIR/bag1" --bag "$T_DIR/bag2.tar.zst"
is "$RC" 1 "truncated: audit verify --bag exits 1"
like "$ERR" "bag '$T_DIR/bag2.tar.zst': audit head end $end2 is not in the log: the log ends at seq $((seq2 - 1)).*truncated" \
	"truncated: the bag and its missing head are named"
unlike "$ERR" "bag '$T_DIR/bag1'" "truncated: the first bag's heads are still there"

# ---------------------------------------------------------------- C
rebuild "$T_DIR/orig.jsonl" "$LOG" drop
run "$CONTAIN" audit verify
is "$RC" 0 "a rebuilt log alone verifies (its chain is consistent)"
run "$CONTAIN" audit verify --bag "$T_DIR/bag1"
is "$RC" 1 "rebuilt: audit verify --bag exits 1"
like "$ERR" "bag '$T_DIR/bag1': audit head start $start1 is not in the log: the line with seq ${start1%%:*} has hash .*(the log was rewritten)" \
	"rebuilt: the bag's start head is named"
rebuild "$T_DIR/orig.jsonl" "$LOG" genesis
run "$CONTAIN" audit verify --bag "$T_DIR/bag2.tar.zst"
is "$RC" 1 "a new genesis: audit verify --bag exits 1"
like "$ERR" "bag '$T_DIR/bag2.tar.zst': audit head start [0-9]+:[0-9a-f]{64} is not in the log: recorded in a log with genesis" \
	"a new genesis: named"
rebuild "$T_DIR/orig.jsonl" "$LOG" machine
run "$CONTAIN" audit verify
is "$RC" 1 "another machine's genesis: audit verify exits 1"
like "$ERR" "line 1 is broken: the genesis line is for machine id 'e{32}', this node is '$(cat /etc/machine-id)'" \
	"another machine: named"
run "$CONTAIN" audit verify --machine-id eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
is "$RC" 0 "--machine-id checks a log against the node it came from"

# ---------------------------------------------------------------- D
: >"$LOG"
run "$CONTAIN" audit verify
is "$RC" 1 "an empty log: audit verify exits 1"
like "$ERR" "line 1 is broken: empty: no genesis line" "an empty log: named"
tail -n +2 "$T_DIR/orig.jsonl" >"$LOG"
run "$CONTAIN" audit verify
is "$RC" 1 "a log without its genesis: audit verify exits 1"
like "$ERR" "line 1 is broken: the first line is not a genesis line" "no genesis: named"
run "$CONTAIN" audit verify "$T_DIR/no-such.jsonl"
is "$RC" 3 "a missing log: exit 3"
run "$CONTAIN" audit verify --bag "$T_DIR/no-bag" "$T_DIR/orig.jsonl"
is "$RC" 1 "a path that is no bag: exit 1"
like "$ERR" "bag '$T_DIR/no-bag': cannot read its bag-info.txt" "a path that is no bag: named"

# ---------------------------------------------------------------- E
"$CONTAIN" keygen -o "$T_DIR/node" >/dev/null
SLOG=$T_DIR/signed.jsonl
run env CONTAIN_AUDIT_LOG="$SLOG" "$CONTAIN" --audit-key "$T_DIR/node.key" quarantine "$name"
is "$RC" 0 "quarantine with --audit-key"
run env CONTAIN_AUDIT_LOG="$SLOG" CONTAIN_AUDIT_KEY="$T_DIR/node.key" "$CONTAIN" release "$name"
is "$RC" 0 "release with CONTAIN_AUDIT_KEY"
is "$(jq -r 'has("sig")' "$SLOG" | sort -u)" true "every line of the log is signed"
run "$CONTAIN" audit verify --pubkey "$T_DIR/node.pub" "$SLOG"
is "$RC" 0 "audit verify --pubkey: every signature holds"
like "$OUT" "every line signed by the key" "audit verify --pubkey says so"
rebuild "$SLOG" "$T_DIR/forged.jsonl" forge
run "$CONTAIN" audit verify "$T_DIR/forged.jsonl"
is "$RC" 0 "a forged line with the chain recomputed passes without the key"
run "$CONTAIN" audit verify --pubkey "$T_DIR/node.pub" "$T_DIR/forged.jsonl"
is "$RC" 1 "a forged line: audit verify --pubkey exits 1"
like "$ERR" "line 2 is broken: the signature does not verify with the given key" "a forged line: named"
run "$CONTAIN" audit verify --pubkey "$T_DIR/node.pub" "$T_DIR/orig.jsonl"
is "$RC" 1 "an unsigned log with --pubkey: exit 1"
like "$ERR" "line 1 is broken: the line is not signed" "an unsigned log: named"
"$CONTAIN" keygen -o "$T_DIR/other" >/dev/null
run "$CONTAIN" audit verify --pubkey "$T_DIR/other.pub" "$SLOG"
is "$RC" 1 "another key: exit 1"
run "$CONTAIN" --audit-key "$T_DIR/node.pub" release "$name"
is "$RC" 2 "--audit-key that is no private key: refused before acting"
like "$ERR" "audit-key '$T_DIR/node.pub'.*not a PEM private key" "the bad key is named"
done_testing

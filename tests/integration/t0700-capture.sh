#!/bin/bash
# t0700: contain capture end to end on real runc containers, checked with the
# tools people use on the bag (tcpdump, tar, sha256sum, jq):
#  A  a planted compromise (a deleted executable, the 8080 listener, a loop
#     of connection attempts to the host end of a test veth) and a hostile
#     upper layer (modified /etc/passwd, deleted /bin/wget, an opaque dir, a
#     newline in a name, a symlink to /etc/shadow, a FIFO, a 1 TB sparse
#     file, a 10,000-deep directory chain); left quarantined and frozen,
#     then released;
#  B  the output forms: a directory, `-o -` into tar -t (same data/ list),
#     .tar.zst, each verified;
#  C  --no-quarantine (untouched), --no-pcap/--no-fs/--no-memory (left out,
#     custody says skipped);
#  D  a container on the host network: no network part, still frozen and
#     collected;
#  bad options exit 2, an unknown REF exits 1.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq tcpdump tar sha256sum zstd du timeout date python3
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
HOST=10.213.70.1
CTRA=10.213.70.2
PORT=9999

cg2() { echo "/sys/fs/cgroup/unified/contain-test/$1"; }
v2_frozen() { grep -qx 'frozen 1' "$(cg2 "$1")/cgroup.events"; }
v2_thawed() { grep -qx 'frozen 0' "$(cg2 "$1")/cgroup.events"; }
# custody actions of a bag dir, one a line: "action target result"
actions() { jq -r '"\(.action) \(.target) \(.result)"' "$1/custody.jsonl"; }
# the data/ paths of a bag dir, sorted
data_list() { (cd "$1" && find data -type f | LC_ALL=C sort); }
ns_tables() { nsenter --net="/proc/$1/ns/net" nft list tables 2>/dev/null; }
rfc_to_epoch() { date -u -d "$1" +%s.%N; }
# the quarantine's table names for a container id (src/isolate/netcut.c id12)

# ---------------------------------------------------------------- A
cat >"$T_DIR/extra" <<'EOF'
#!/bin/sh
# a process whose executable is deleted once it runs
cp /bin/busybox /tmp/sleep
/tmp/sleep 3600 &
k=$!
until [ "$(readlink /proc/$k/exe)" = /tmp/sleep ]; do sleep 0.1; done
rm -f /tmp/sleep
echo $k >/tmp/extra-ready
EOF
A=t0700-$S-a
runc_run "$A" --extra "$T_DIR/extra" || skip_all "cannot start a runc container here"
APID=$CPID AUP=$CUPPER AM=$CMERGED
wait_for 30 test -s "$AM/tmp/extra-ready" || skip_all "the planted process did not start"
KPID=$(cat "$AM/tmp/extra-ready")
veth_attach "$APID" "h7v$S" "$HOST/30" "$CTRA/30" || skip_all "cannot attach a veth"
NS="nsenter --net=/proc/$APID/ns/net"
# the host end's answers (RST) are dropped inside the container: the
# attempts stay in SYN_SENT and retransmit, before and after the cut
$NS nft add table inet t0700 &&
	$NS nft add chain inet t0700 input '{ type filter hook input priority 0; policy accept; }' &&
	$NS nft add rule inet t0700 input ip saddr $HOST tcp sport $PORT drop ||
	skip_all "cannot add nftables rules in the container netns"
# one long attempt (in SYN_SENT for the whole test) and two loops of short
# ones, so a SYN_SENT socket is retransmitting whenever the freeze comes
runc_exec "$A" sh -c "while :; do nc -w 200 $HOST $PORT </dev/null; sleep 0.2; done" \
	</dev/null >/dev/null 2>&1 &
on_exit "kill $!"
for _ in 1 2; do
	runc_exec "$A" sh -c "while :; do nc -w 2 $HOST $PORT </dev/null; done" \
		</dev/null >/dev/null 2>&1 &
	on_exit "kill $!"
done
wait_for 60 sh -c "grep -q ':1F90 0*:0000 0A' /proc/$APID/net/tcp /proc/$APID/net/tcp6" ||
	diag "httpd not listening yet"
ok "the attempts to $HOST:$PORT sit in SYN_SENT before the capture" \
	wait_for 60 sh -c "grep -q ' 02 ' /proc/$APID/net/tcp"

# the hostile upper layer, made through the merged root like a process would
echo 'evil:x:0:0:planted:/:/bin/sh' >>"$AM/etc/passwd"
rm -f "$AM/bin/wget"
rm -rf "$AM/var/www" && mkdir "$AM/var/www" && echo replaced >"$AM/var/www/index.html"
printf 'x\n' >"$AM/tmp/evil
name"
ln -s /etc/shadow "$AM/tmp/shadowlink"
mkfifo "$AM/tmp/fifo"
truncate -s 1T "$AM/tmp/sparse"
# (python: bash's cd is quadratic in the depth)
python3 -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(10000):
    os.mkdir("d")
    os.chdir("d")
open("f", "w").write("deep\n")
' "$AM/tmp" || diag "could not make the 10,000-deep chain"
ok "the 10,000-deep chain is there" test -d "$AUP/tmp/d/d/d/d/d/d/d/d"

BA=$T_DIR/bag-a
run timeout 120 "$CONTAIN" capture "$A" -o "$BA" --pcap-seconds 15 --case case-t0700 \
	--examiner t0700
is "$RC" 0 "capture of A exits 0 (finishes: no hang on the FIFO or the deep chain)"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$OUT" "left quarantined and frozen; release it with: contain release $A" \
	"it says the container is left quarantined and frozen"

# the bag
ok "contain verify passes" "$CONTAIN" verify "$BA"
ok "sha256sum -c manifest-sha256.txt passes inside the bag" \
	sh -c "cd '$BA' && sha256sum --quiet -c manifest-sha256.txt"
ok "sha256sum -c tagmanifest-sha256.txt passes inside the bag" \
	sh -c "cd '$BA' && sha256sum --quiet -c tagmanifest-sha256.txt"
like "$(cat "$BA/bag-info.txt")" "External-Identifier: case-t0700" "bag-info has the case id"
like "$(cat "$BA/bag-info.txt")" "Contain-Container-Id: $A" "bag-info has the container id"
SZ=$(du -sk "$BA" | cut -f1)
ok "the bag stays small (${SZ} KiB < 64 MiB) with a 1 TB sparse file inside" test "$SZ" -lt 65536

# custody order: pcap before the cut, cut before the processes, processes
# before the freeze, freeze before memory, memory before fs
ACT=$(actions "$BA")
order=$(echo "$ACT" | awk '
	/^artifact-open data\/network\/capture-/ && !p { p = NR }
	/^quarantine-net / && !q { q = NR }
	/^artifact(-open)? data\/processes\/tree.json/ && !t { t = NR }
	/^quarantine-freeze / && !f { f = NR }
	/^artifact-open data\/memory\// && !m { m = NR }
	/^artifact-open data\/fs\/upper.tar/ && !u { u = NR }
	END { print (p && p < q && q < t && t < f && f < m && m < u) ? "in order" : "p=" p " q=" q " t=" t " f=" f " m=" m " u=" u }')
is "$order" "in order" "custody: pcap, cut, processes, freeze, memory, fs (order of volatility)"
like "$ACT" "^quarantine-net $A ok" "custody: the network cut is ok"
like "$ACT" "^quarantine-freeze $A ok" "custody: the freeze is ok"
like "$ACT" "^seal .* ok" "custody: sealed"

# processes: the deleted executable and its hash
P=$BA/data/processes/tree.json
D=$(jq -c '[.pids[] | select(.exe.deleted == true)]' "$P")
is "$(echo "$D" | jq -r '.[0].nspid[1]')" "$KPID" "tree.json flags the deleted-executable process"
is "$(echo "$D" | jq -r '.[0].exe.sha256')" "$(sha256sum "$FIXTURE_ROOTFS/bin/busybox" | cut -d' ' -f1)" \
	"its hash equals the original file's (the fixture's busybox)"

# network state: the listener and the attempts, with pids
N=$BA/data/network/state.json
LP=$(jq -r '.sockets[] | select((.proto=="tcp" or .proto=="tcp6") and .lport==8080 and .state=="LISTEN") | .pids[]' "$N" | head -1)
ok "state.json: the 8080 listener with its pid" test -n "$LP"
is "$(jq -r ".pids[] | select(.pid==${LP:-0}) | .comm" "$P")" httpd "that pid is httpd in tree.json"
SP=$(jq -r ".sockets[] | select(.proto==\"tcp\" and .remote==\"$HOST\" and .rport==$PORT and .state==\"SYN_SENT\") | .pids[]" "$N" | head -1)
ok "state.json: the SYN_SENT attempts to $HOST:$PORT with a pid" test -n "$SP"
is "$(jq -r ".pids[] | select(.pid==${SP:-0}) | .comm" "$P")" nc "that pid is nc in tree.json"

# pcaps: SYNs to the host address; after the cut, in the nflog pcap
Q=$BA/data/quarantine.json
QT=$(jq -r '.state.network.time' "$Q")
like "$QT" '^20[0-9-]+T[0-9:.]+Z$' "quarantine.json has the cut time"
QE=$(rfc_to_epoch "$QT")
syns() { tcpdump -nn -tt -r "$1" 2>/dev/null | grep -E "$CTRA\.[0-9]+ > $HOST\.$PORT: Flags \[S\]"; }
E0=$BA/data/network/capture-eth0.pcap
NF=$BA/data/network/capture-nflog.pcap
ok "tcpdump -r reads the eth0 pcap" tcpdump -nn -r "$E0"
ok "tcpdump -r reads the nflog pcap" tcpdump -nn -r "$NF"
ALL=$( (syns "$E0"; syns "$NF") | wc -l)
ok "tcpdump -r: SYNs to $HOST:$PORT in the pcaps ($ALL)" test "$ALL" -gt 0
AFTER=$(syns "$NF" | awk -v q="$QE" '$1 > q' | wc -l)
ok "tcpdump -r: SYNs to $HOST:$PORT after the cut are in capture-nflog.pcap ($AFTER)" test "$AFTER" -gt 0
LATE=$(syns "$E0" | awk -v q="$QE" '$1 > q + 1' | wc -l)
is "$LATE" 0 "no SYN leaves eth0 after the cut"
like "$(jq -r '.ended_by' "$BA/data/network/pcap-stats.json")" 'max_seconds' "the pcap ended at its time bound"

# the fs layer
UT=$BA/data/fs/upper.tar
TV=$(tar -tvf "$UT" 2>"$T_DIR/tar.err")
ok "tar -tvf reads upper.tar" test -s "$UT" -a ! -s "$T_DIR/tar.err"
like "$TV" ' etc/passwd$' "tar: the modified /etc/passwd"
ok "tar: the planted passwd line is in the layer" sh -c "tar -xOf '$UT' etc/passwd | grep -q '^evil:x:0:0:planted'"
like "$TV" ' bin/\.wh\.wget$' "tar: bin/.wh.wget (the deleted /bin/wget)"
like "$TV" ' var/www/\.wh\.\.wh\.\.opq$' "tar: var/www/.wh..wh..opq (the replaced directory)"
like "$TV" '^l.* tmp/shadowlink -> /etc/shadow$' "tar: the symlink stays a link to /etc/shadow"
like "$TV" 'tmp/evil\\nname' "tar: the file with a newline in its name"
unlike "$TV" '^-.* tmp/fifo$' "tar: the FIFO is not a regular file with content"
# a line of the host's real /etc/shadow that the fixture does not have
# (never printed: only grep -q)
SHL=""
while IFS= read -r l; do
	case "$l" in *:*) ;; *) continue ;; esac
	grep -qxF -- "$l" "$FIXTURE_ROOTFS/etc/shadow" && continue
	SHL=$l
	break
done </etc/shadow
if [ -n "$SHL" ]; then
	if grep -rqaF -- "$SHL" "$BA"; then r=found; else r=absent; fi
	is "$r" absent "the host's /etc/shadow content is nowhere in the bag"
else
	skip "the host's /etc/shadow is not in the bag" "no host shadow line differs from the fixture's"
fi
like "$(jq -c '.' "$BA/data/fs/files.json" | head -c 200000)" 'passwd' "files.json lists the layer's files"

# metadata
ok "data/container/config.json is the bundle's" cmp "$BA/data/container/config.json" "$CBUNDLE/config.json"
like "$(jq -r .id "$BA/data/container/inspect.json")" "^$A$" "inspect.json is the container's"
ok "data/container/mountinfo is there" test -s "$BA/data/container/mountinfo"

# left quarantined and frozen; release restores it
ok "A is still frozen after the capture" v2_frozen "$A"
like "$(ns_tables "$APID")" 'contain_q_' "A's netns still has the quarantine table"
ok "the host table is there while quarantined" nft list table netdev "$(jq -r '.state.network.host_table.name' "$Q")"
run "$CONTAIN" release "$A"
is "$RC" 0 "contain release A"
ok "after release: A is thawed" wait_for 30 v2_thawed "$A"
unlike "$(ns_tables "$APID")" 'contain_q_' "after release: the netns quarantine table is gone"
QN=$(jq -r '.state.network.netns_table.name' "$Q")
QH=$(jq -r '.state.network.host_table.name' "$Q")
is "$QN $QH" "$(table_names "$A")" "quarantine.json names the two tables"
fails "after release: the netns quarantine table is gone" \
	nsenter --net="/proc/$APID/ns/net" nft list table inet "$QN"
fails "after release: the host table is gone" nft list table netdev "$QH"
ok "after release: the host reaches A's httpd on 8080 again" \
	wait_for 30 sh -c "timeout 5 busybox wget -S -O /dev/null http://$CTRA:8080/ 2>&1 | grep -q 'HTTP/1'"

# ---------------------------------------------------------------- B
section "container B"
B=t0700-$S-b
runc_run "$B" || section_skip "cannot start a second runc container"
BB=$T_DIR/bag-b
run timeout 120 "$CONTAIN" capture "$B" -o "$BB" --pcap-seconds 2
is "$RC" 0 "capture of B into a directory"
ok "B is frozen" v2_frozen "$B"
ok "the directory bag of B verifies" "$CONTAIN" verify "$BB"
# the same frozen container again, to stdout: the same files
timeout 120 "$CONTAIN" capture "$B" -o - --pcap-seconds 2 2>"$T_DIR/stdout.err" |
	tar -tf - >"$T_DIR/stdout.list" 2>"$T_DIR/tar-t.err"
is "${PIPESTATUS[0]} ${PIPESTATUS[1]}" "0 0" "capture -o - | tar -t: both exit 0"
sed -n 's|^[^/]*/\(data/.*[^/]\)$|\1|p' "$T_DIR/stdout.list" | LC_ALL=C sort >"$T_DIR/stdout.data"
# (the host's NFLOG pcap only when the capture makes the cut: B's second
# capture finds it in place, its host table logging to the first one's group)
data_list "$BB" | grep -vx 'data/network/capture-host-nflog.pcap' >"$T_DIR/dir.data"
ok "the -o - tar lists data/ files ($(wc -l <"$T_DIR/stdout.data"))" test -s "$T_DIR/stdout.data"
is "$(diff -u "$T_DIR/dir.data" "$T_DIR/stdout.data")" "" "the tar lists the same data/ files as the directory bag"
like "$(cat "$T_DIR/stdout.list")" '^[^/]+/manifest-sha256.txt$' "the tar has the manifest"
like "$(cat "$T_DIR/stdout.err")" 'bag - ' "the summary went to stderr, not into the tar"
# the stdout tar, kept and verified
timeout 120 "$CONTAIN" capture "$B" -o - --pcap-seconds 1 >"$T_DIR/b-stdout.tar" 2>/dev/null
ok "a bag from stdout verifies" "$CONTAIN" verify "$T_DIR/b-stdout.tar"
run timeout 120 "$CONTAIN" capture "$B" -o "$T_DIR/b.tar.zst" --pcap-seconds 1
is "$RC" 0 "capture of B into .tar.zst"
ok ".tar.zst is zstd" sh -c "zstd -t '$T_DIR/b.tar.zst'"
ok "the .tar.zst bag verifies" "$CONTAIN" verify "$T_DIR/b.tar.zst"
mkdir -p "$T_DIR/bx"
ok "the .tar.zst bag unpacks with tar" tar -C "$T_DIR/bx" --zstd -xf "$T_DIR/b.tar.zst"
ok "sha256sum -c inside the unpacked .tar.zst bag" \
	sh -c "cd '$T_DIR'/bx/* && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt"
run "$CONTAIN" release "$B"
is "$RC" 0 "release B"
ok "B is thawed" wait_for 30 v2_thawed "$B"

# ---------------------------------------------------------------- C
section "container C"
C=t0700-$S-c
runc_run "$C" || section_skip "cannot start a third runc container"
CCPID=$CPID
BC=$T_DIR/bag-c
run timeout 120 "$CONTAIN" capture "$C" -o "$BC" --no-quarantine --pcap-seconds 1
is "$RC" 0 "capture --no-quarantine"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$(actions "$BC")" '^collector-skipped pcap skipped' "no interface but lo and no cut: the pcap is skipped, said in custody"
like "$OUT" "captured live and not touched" "it says the container was not touched"
ok "--no-quarantine: not frozen" v2_thawed "$C"
unlike "$(ns_tables "$CCPID")" 'contain_q_' "--no-quarantine: no nft table in its netns"
ok "--no-quarantine: no quarantine state file" test ! -e "$CONTAIN_STATE_DIR/$C.json"
is "$(jq -r .quarantined "$BC/data/quarantine.json")" false "quarantine.json says not quarantined"
ok "--no-quarantine: its bag verifies" "$CONTAIN" verify "$BC"
ok "--no-quarantine: still has memory, fs and processes" \
	test -s "$BC/data/fs/upper.tar" -a -s "$BC/data/memory/summary.json" -a -s "$BC/data/processes/tree.json"
BC2=$T_DIR/bag-c2
run timeout 120 "$CONTAIN" capture "$C" -o "$BC2" --no-quarantine --no-pcap --no-fs --no-memory --json
is "$RC" 0 "capture --no-pcap --no-fs --no-memory"
is "$(jq -r '.status + " " + (.missing | length | tostring) + " " + (.quarantined | tostring) + " " + (.frozen | tostring)' <<<"$OUT")" \
	"complete 0 false false" "--json summary: complete, nothing missing, not quarantined, not frozen"
is "$(jq -r .bag_id <<<"$OUT")" "$(sed -n 's/^Contain-Bag-Id: //p' "$BC2/bag-info.txt")" "--json summary: the bag id of bag-info.txt"
ok "no pcap, no fs, no memory in the bag" \
	test ! -e "$BC2/data/network/pcap-stats.json" -a ! -e "$BC2/data/fs" -a ! -e "$BC2/data/memory"
is "$(find "$BC2/data/network" -name '*.pcap' 2>/dev/null | wc -l)" 0 "no pcap file"
ACT=$(actions "$BC2")
like "$ACT" '^collector-skipped pcap skipped' "custody: pcap skipped"
like "$ACT" '^collector-skipped fs skipped' "custody: fs skipped"
like "$ACT" '^collector-skipped memory skipped' "custody: memory skipped"
ok "the processes and network state are still there" \
	test -s "$BC2/data/processes/tree.json" -a -s "$BC2/data/network/state.json"
ok "that bag verifies" "$CONTAIN" verify "$BC2"

# bad options exit 2; an unknown REF exits 1
run "$CONTAIN" capture
is "$RC" 2 "no REF: exit 2"
run "$CONTAIN" capture "$C"
is "$RC" 2 "no -o: exit 2"
run "$CONTAIN" capture "$C" -o "$T_DIR/x" --pcap-seconds abc
is "$RC" 2 "bad --pcap-seconds: exit 2"
run "$CONTAIN" capture "$C" -o "$T_DIR/x" --freezer bogus
is "$RC" 2 "bad --freezer: exit 2"
run "$CONTAIN" capture "$C" -o "$T_DIR/x" --no-such-option
is "$RC" 2 "unknown option: exit 2"
run "$CONTAIN" capture "$C" -o "$T_DIR/x" --no-quarantine --allow 10.0.0.0/8
is "$RC" 2 "--allow without the quarantine: exit 2"
run "$CONTAIN" capture "$C" "$A" -o "$T_DIR/x"
is "$RC" 2 "two REFs: exit 2"
ok "no bag made by a usage error" test ! -e "$T_DIR/x"
run "$CONTAIN" capture "no-such-container-$S" -o "$T_DIR/x"
is "$RC" 1 "an unknown REF: exit 1"
like "$ERR" "no-such-container-$S" "the error names the REF"
ok "no bag made for an unknown REF" test ! -e "$T_DIR/x"

# ---------------------------------------------------------------- D
section "container D"
D=t0700-$S-d
runc_run "$D" --net host || section_skip "cannot start a host-network runc container"
BD=$T_DIR/bag-d
run timeout 120 "$CONTAIN" capture "$D" -o "$BD" --pcap-seconds 1
is "$RC" 1 "host network: exit 1 (the network part is missing)"
like "$ERR" "host network" "it says why"
ok "host network: still frozen" v2_frozen "$D"
read -r DQ DH <<<"$(table_names "$D")"
fails "host network: no quarantine table in the host's own netns" nft list table inet "$DQ"
fails "host network: no host-side table either" nft list table netdev "$DH"
is "$(jq -r '.state.network.applied // false' "$BD/data/quarantine.json")" false \
	"host network: quarantine.json says no network cut"
ok "host network: processes, memory and fs collected" \
	test -s "$BD/data/processes/tree.json" -a -s "$BD/data/memory/summary.json" -a -s "$BD/data/fs/upper.tar"
ok "host network: no pcap of the host" test ! -e "$BD/data/network/capture-eth0.pcap"
like "$(actions "$BD")" '^collector-failed data/network/state.json failed' "custody names the network state as not collected"
ok "host network: the bag verifies" "$CONTAIN" verify "$BD"
run "$CONTAIN" release "$D"
is "$RC" 0 "release D"
ok "D is thawed" wait_for 30 v2_thawed "$D"

done_testing

#!/bin/bash
# t0800: contain on a pure cgroup2 host. Most current distributions have no
# v1 hierarchy; this machine is hybrid (v1 controllers under /sys/fs/cgroup/
# <ctrl>, cgroup2 at /sys/fs/cgroup/unified). The whole test runs in a private
# mount namespace where /sys/fs/cgroup IS the cgroup2 hierarchy (the v1
# mounts unmounted there, cgroup2 mounted over them), so runc runs in its
# unified mode and contain sees what it sees on such a host:
#  - discovery: list and inspect find the container by id and by PID, with
#    its cgroup2 path and no v1 freezer;
#  - quarantine cuts (a test netns and the host cannot reach it) and freezes
#    with cgroup.freeze (cgroup.events frozen 1, every thread in the freezer
#    trap); release thaws and reconnects;
#  - capture makes a bag that verifies, frozen before and after the memory
#    phase, with cores gdb loads (3 threads, registers taken by ptrace), and
#    the upper layer;
#  - a container whose init sits below its cgroup (systemd's init.scope)
#    is found, listed and frozen whole, through its cgroup namespace's root;
#  - clean-up removes the container's cgroup2 dir (a real kernel object,
#    shared with the host: the mount namespace dies with the test, the cgroup
#    does not).
# What this kernel's cgroup2 offers when v1 holds the controllers (only the
# ones no v1 hierarchy has, here hugetlb) is printed as a diagnostic: freeze
# needs none, and runc's default spec sets no resource limit.
if [ -z "${IN_CG2_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
	command -v unshare >/dev/null 2>&1 || { echo "1..0 # SKIP no unshare on this machine"; exit 0; }
	OUTER_MNT_NS=$(stat -L -c %i /proc/self/ns/mnt)
	exec unshare --mount --propagation private env IN_CG2_NS=1 OUTER_MNT_NS="$OUTER_MNT_NS" bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq busybox gdb readelf tar timeout stat mountpoint mem-driver
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
MT=$FIXTURE_ROOTFS/usr/bin/memtarget
[ -x "$MT" ] || skip_all "no memtarget in the fixture image (run fixtures/build.sh)"

# never unmount the host's cgroup mounts: only in a mount namespace of our own
[ -n "${OUTER_MNT_NS:-}" ] && [ "$(stat -L -c %i /proc/self/ns/mnt)" != "$OUTER_MNT_NS" ] ||
	skip_all "not in a private mount namespace"
# the addresses below are this test's own: two runs at once take turns
exec 9>/tmp/contain-t0800.lock
flock -w 1200 9 || skip_all "another run of t0800 holds /tmp/contain-t0800.lock"

# ---- a pure cgroup2 /sys/fs/cgroup, in this mount namespace only ----------
cg_mount_pure_v2 || skip_all "cannot mount cgroup2 at /sys/fs/cgroup"
is "$(stat -f -c %T /sys/fs/cgroup)" cgroup2fs "/sys/fs/cgroup is the cgroup2 hierarchy"
ok "it has cgroup.controllers" test -f /sys/fs/cgroup/cgroup.controllers
ok "no v1 freezer under it" test ! -e /sys/fs/cgroup/freezer
is "$(awk '$9 == "cgroup" {n++} END {print n + 0}' /proc/self/mountinfo)" 0 "no v1 hierarchy mounted in this namespace"
ok "the test lib sees the pure cgroup2 layout" cg_pure_v2
diag "cgroup2 controllers here: '$(cat /sys/fs/cgroup/cgroup.controllers)'" \
	"(those bound to a v1 hierarchy are not available in cgroup2)"

# runc in its unified mode turns on every controller cgroup2 has here
# (hugetlb) in the parents: put back what this test turned on, after every
# container is gone (registered first, so it runs last)
sc_root=$(cat /sys/fs/cgroup/cgroup.subtree_control)
sc_ct=$(cat /sys/fs/cgroup/contain-test/cgroup.subtree_control 2>/dev/null)
cg2_subtree_restore_on_exit

S=$$
A=t0800-$S-a
HIF=c8${S}a                       # host end of the container's veth
NSIF=c8${S}b                      # host end of the test netns
TNS=contain-t0800-$S
H=10.213.180.1 C=10.213.180.2     # container link /30
T1=10.213.181.1 T2=10.213.181.2   # test netns link /30
HPORT=18801

# the container: its init serves 8080; memtarget (3 threads, a marker);
# a loop that counts its attempts and successes to reach the host
cat >"$T_DIR/extra" <<EOF
#!/bin/sh
/usr/bin/memtarget >/tmp/memtarget.out 2>&1 &
while :; do
	if timeout 2 wget -q -O /dev/null http://$H:$HPORT/; then echo x >>/tmp/ok; fi
	echo x >>/tmp/attempts
	sleep 0.2
done
EOF
runc_run "$A" --extra "$T_DIR/extra" || skip_all "runc_run failed in the cgroup2 namespace"
on_exit "\"$CONTAIN\" release \"$A\"" # whatever a failed check left in place
APID=$CPID AUP=$CUPPER AM=$CMERGED
CG=/sys/fs/cgroup/contain-test/$A
is "$CCG2" "$CG" "runc_run names the container's cgroup2 dir"

# ---- runc in its unified mode ----------------------------------------------
ok "runc made the cgroup2 dir" test -f "$CG/cgroup.freeze"
is "$(awk -F: '$1 == "0" {print $3}' "/proc/$APID/cgroup")" "/contain-test/$A" "/proc/PID/cgroup: 0::/contain-test/$A"
is "$(awk -F: '$1 != "0" && $3 ~ /contain-test/' "/proc/$APID/cgroup" | wc -l)" 0 \
	"no v1 hierarchy holds it in a cgroup of its own"
is "$(jq -c '.cgroup_paths' "$RUNC_ROOT/$A/state.json")" "{\"\":\"$CG\"}" "runc's state: one unified cgroup path"

# ok_diag DESC CMD...: ok, and on a failure what CMD said, as diagnostics
ok_diag() {
	local desc=$1 r; shift
	"$@" >"$T_DIR/.diag" 2>&1
	r=$?
	ok "$desc" test "$r" -eq 0
	[ "$r" -eq 0 ] || sed 's/^/# /' "$T_DIR/.diag"
}
pid_by_exe() {
	local p
	for p in $(cat "$1"); do
		# shellcheck disable=SC2254
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in $2) echo "$p"; return 0 ;; esac
	done
	return 1
}
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
wait_for 30 test -s "$AM/tmp/memtarget.addr"
P=$(pid_by_exe "$CG/cgroup.procs" "*/usr/bin/memtarget")
ADDR=$(cat "$AM/tmp/memtarget.addr" 2>/dev/null)
like "$P" '^[0-9]+$' "memtarget runs in the container"
wait_for 30 test "$(nthreads "$P")" -eq 3
is "$(nthreads "$P")" 3 "memtarget has 3 threads"

# ---- discovery ---------------------------------------------------------------
run "$CONTAIN" list
is "$RC" 0 "list exits 0"
like "$OUT" "^runc +[^ ]+ +$A +- +$APID +running " "list: the container (by name), its init pid, running"
run "$CONTAIN" --json list
is "$(printf '%s' "$OUT" | jq -r --arg id "$A" '.[] | select(.id == $id) | "\(.pid) \(.status)"')" \
	"$APID running" "list --json: the container by its id"

# inspect JSON: the cgroup fields that matter here
cg_view() {
	jq -c '{id, pid, cgroup_unified, cgroup_freezer,
		mapped: [.cgroups[] | select(.fs_path != null) | {controllers, path, fs_path}]}'
}
WANT=$(jq -nc --arg id "$A" --argjson pid "$APID" --arg cg "$CG" --arg p "/contain-test/$A" \
	'{id: $id, pid: $pid, cgroup_unified: $cg, cgroup_freezer: null,
	  mapped: [{controllers: "", path: $p, fs_path: $cg}]}')
run "$CONTAIN" inspect "$A"
is "$RC" 0 "inspect by id exits 0"
is "$(printf '%s' "$OUT" | cg_view)" "$WANT" "inspect by id: its cgroup2 dir, no v1 freezer, nothing else mapped"
is "$(printf '%s' "$OUT" | jq -r '[.cgroups[] | select(.controllers != "" and (.path | test("contain-test")))] | length')" \
	0 "inspect by id: no v1 cgroup of the container's"
PIDS=$(printf '%s' "$OUT" | jq -r '.pids[]')
has_pid() { printf '%s\n' "$PIDS" | grep -qx "$1"; }
ok "inspect by id: its pids hold the init" has_pid "$APID"
ok "inspect by id: its pids hold memtarget" has_pid "$P"
# the loop's short-lived children come and go: each pid still alive is in the cgroup2 dir
in_cg() {
	local p c bad=0
	for p in $PIDS; do
		c=$(cat "/proc/$p/cgroup" 2>/dev/null) || continue
		printf '%s\n' "$c" | grep -qx "0::/contain-test/$A" && continue
		# not in it: fine only if it exited meanwhile (gone, or a zombie)
		grep -q '^State:[[:space:]]*[^Z]' "/proc/$p/status" 2>/dev/null || continue
		echo "pid $p: $(printf '%s' "$c" | tr '\n' ' ')"
		bad=1
	done
	return $bad
}
ok_diag "inspect by id: every pid it lists (still alive) is in the container's cgroup2 dir" in_cg
run "$CONTAIN" inspect "$APID"
is "$RC" 0 "inspect by the init's pid exits 0"
is "$(printf '%s' "$OUT" | cg_view)" "$WANT" "inspect by the init's pid: the same container and cgroup"
run "$CONTAIN" inspect "$P"
is "$RC" 0 "inspect by memtarget's pid exits 0"
is "$(printf '%s' "$OUT" | cg_view)" "$WANT" "inspect by another pid in it: the same container and cgroup"

# ---- quarantine and release --------------------------------------------------
veth_attach "$APID" "$HIF" "$H/30" "$C/30" || skip_all "cannot make a veth into the container netns"
testns_add "$TNS" "$NSIF" "$T1/30" "$T2/30" "$HIF" || skip_all "cannot make the test netns"
mkdir -p "$T_DIR/www"
echo host-side >"$T_DIR/www/index.html"
busybox httpd -f -p "$H:$HPORT" -h "$T_DIR/www" &
HTTPD_H=$!
on_exit "kill $HTTPD_H"

count() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; }
host_to_ctr() { timeout 3 busybox wget -q -O- "http://$C:8080/" 2>/dev/null | grep -q 'contain fixture'; }
testns_to_ctr() {
	ip netns exec "$TNS" timeout 3 busybox wget -q -O- "http://$C:8080/" 2>/dev/null | grep -q 'contain fixture'
}
v2_frozen() { grep -qx 'frozen 1' "$CG/cgroup.events"; }
v2_thawed() { grep -qx 'frozen 0' "$CG/cgroup.events"; }
# every thread of the cgroup (default $CG) and below: none running, each parked in the cgroup2
# freezer trap (wchan do_freezer_trap, or get_signal where it is inlined, as
# on this kernel) when the kernel names wchans
all_threads_frozen() {
	local t s w n=0
	for t in $(find "${1:-$CG}" -name cgroup.threads -exec cat {} +); do
		s=$(awk '/^State:/ {print $2}' "/proc/$t/status" 2>/dev/null)
		# gone, or a zombie not yet reaped (nothing left to run)
		[ -z "$s" ] || [ "$s" = Z ] && continue
		[ "$s" = S ] || { echo "thread $t in state $s"; return 1; }
		w=$(cat "/proc/$t/wchan" 2>/dev/null)
		case "$w" in "" | 0 | do_freezer_trap | get_signal) ;; *) echo "thread $t in $w"; return 1 ;; esac
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

ok "before: the host reaches the container" wait_for 30 host_to_ctr
ok "before: the test netns reaches the container" wait_for 20 testns_to_ctr
ok "before: the container's loop reaches the host" wait_for 30 count_ge "$AUP/tmp/ok" 2
ok "before: the cgroup is not frozen" v2_thawed

run "$CONTAIN" quarantine "$A"
is "$RC" 0 "quarantine exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$OUT" "frozen \(cgroup2" "it froze through cgroup2"
is "$(cat "$CG/cgroup.freeze")" 1 "cgroup.freeze is 1"
ok "cgroup.events says frozen 1" v2_frozen
ok_diag "every thread is frozen (S, in the freezer trap)" all_threads_frozen
is "$(jq -r '.freeze.kind + " " + .freeze.dir' "$CONTAIN_STATE_DIR/$A.json")" "cgroup2 $CG" \
	"the state records cgroup2 and the container's dir"
fails "quarantined: the test netns cannot reach the container" testns_to_ctr
fails "quarantined: the host cannot reach the container" host_to_ctr
n0=$(count "$AUP/tmp/attempts")
sleep 1
is "$(count "$AUP/tmp/attempts")" "$n0" "quarantined: the container's loop makes no attempt (frozen)"
run "$CONTAIN" inspect "$A"
is "$(printf '%s' "$OUT" | cg_view)" "$WANT" "inspect of the frozen container: the same cgroup"
# the memory collector, given no cgroup dir, finds the freeze state itself
# from /proc/PID/cgroup (it once looked only under /sys/fs/cgroup/unified
# and never matched the "0::" line: "unknown" on every host)
run mem-driver --pid "$P" --out "$T_DIR/md"
is "$RC" 0 "mem-driver (no --cgroup-freeze) takes memtarget"
is "$(jq -r '.processes[0].freeze | .before.unified + " " + .after.unified' <<<"$OUT")" "frozen frozen" \
	"mem-driver: it finds the cgroup2 freeze itself, before and after"
is "$(jq -r '.processes[0].registers.source' <<<"$OUT")" ptrace "mem-driver: registers by ptrace"

run "$CONTAIN" release "$A"
is "$RC" 0 "release exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$OUT" "thawed" "it thawed"
is "$(cat "$CG/cgroup.freeze")" 0 "cgroup.freeze is back to 0"
ok "cgroup.events says frozen 0" v2_thawed
ok "released: the test netns reaches the container" wait_for 20 testns_to_ctr
ok "released: the host reaches the container" wait_for 20 host_to_ctr
ok_before=$(count "$AUP/tmp/ok")
ok "released: the container's loop gets through again" wait_for 30 count_ge "$AUP/tmp/ok" $((ok_before + 1))
ok "released: no state file left" test ! -e "$CONTAIN_STATE_DIR/$A.json"

# ---- capture -------------------------------------------------------------------
actions() { jq -r '"\(.action) \(.target) \(.result)"' "$1/custody.jsonl"; }
freeze_before_memory() {
	actions "$1" | awk '/^quarantine-freeze .* ok$/ && !f { f = NR }
		/^artifact-open data\/memory\// && !m { m = NR }
		END { exit !(f && m && f < m) }'
}
echo planted >"$AM/tmp/planted-t0800"
B=$T_DIR/bag
run timeout 300 "$CONTAIN" capture "$A" -o "$B" --pcap-seconds 1
is "$RC" 0 "capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
ok "custody: frozen (quarantine-freeze ok) before the memory phase" freeze_before_memory "$B"
ok "the container is still frozen after the capture" v2_frozen
ok_diag "every thread is still frozen" all_threads_frozen
is "$(jq -r '.state.freeze.kind + " " + .state.freeze.dir' "$B/data/quarantine.json")" "cgroup2 $CG" \
	"quarantine.json: the cgroup2 freezer on the container's dir"
SUM=$B/data/memory/summary.json
is "$(jq -r ".processes[] | select(.pid==$P) | .freeze.before.unified + \" \" + .freeze.after.unified" "$SUM")" \
	"frozen frozen" "summary.json: memtarget frozen before and after its dump"
is "$(jq -r ".processes[] | select(.pid==$P) | .registers.source" "$SUM")" ptrace \
	"summary.json: registers taken by ptrace while the cgroup2 freezer holds"
is "$(jq -r ".processes[] | select(.pid==$P) | .threads" "$SUM")" 3 "summary.json: 3 threads"
is "$(jq -r '.failed' "$SUM")" 0 "summary.json: no process failed"
CORE=$B/data/memory/$P.core
ok "memtarget's core is in the bag" test -s "$CORE"
G=$(gdb -nx -batch -ex 'info threads' -ex "x/s $ADDR" -ex 'thread apply all info registers rip rsp' "$MT" "$CORE" 2>&1)
is "$(printf '%s\n' "$G" | grep -cE '^[* ] +[0-9]+ +Thread .*LWP')" 3 "gdb: 3 threads"
like "$G" "$ADDR:[[:space:]]+\"CONTAIN-MEMTARGET-MARKER-[0-9]+\"" "gdb: x/s prints the marker"
is "$(printf '%s\n' "$G" | grep -cE '^rsp +0x[0-9a-f]*[1-9a-f][0-9a-f]* ')" 3 "gdb: every thread has a stack pointer"
is "$(printf '%s\n' "$G" | grep -cE '^rip +0x[0-9a-f]*[1-9a-f][0-9a-f]* ')" 3 "gdb: every thread has a pc"
N=$(readelf -nW "$CORE" 2>/dev/null)
is "$(printf '%s\n' "$N" | grep -c 'NT_PRSTATUS')" 3 "readelf -n: 3 NT_PRSTATUS"
is "$(printf '%s\n' "$N" | grep -c 'NT_FPREGSET')" 3 "readelf -n: 3 NT_FPREGSET (full registers)"
ok "the upper layer is in the bag" test -s "$B/data/fs/upper.tar"
like "$(tar -tf "$B/data/fs/upper.tar" 2>/dev/null)" "(^|/)tmp/planted-t0800$" "upper.tar holds a file written in the container"
like "$(tar -tf "$B/data/fs/upper.tar" 2>/dev/null)" "(^|/)contain-extra$" "upper.tar holds the added script"
run "$CONTAIN" verify "$B"
is "$RC" 0 "contain verify accepts the bag"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
run "$CONTAIN" release "$A"
is "$RC" 0 "release after the capture"
ok "thawed after release" wait_for 30 v2_thawed

# ---- the init below the container's cgroup ----------------------------------
# systemd as a container's init on a cgroup2 host moves itself into
# <ctr>/init.scope and its services into siblings (the no-internal-process
# rule). Done here from the host, as systemd would from inside: discovery
# once took the init's leaf for the container's cgroup, so quarantine froze
# init.scope alone, said "frozen", and memtarget in svc/ kept running.
cat >"$T_DIR/extra-s" <<'EOF'
#!/bin/sh
/usr/bin/memtarget >/tmp/memtarget.out 2>&1 &
wait
EOF
Y=t0800-$S-s
runc_run "$Y" --extra "$T_DIR/extra-s" || skip_all "runc_run (init below its cgroup) failed"
on_exit "\"$CONTAIN\" release \"$Y\"" # whatever a failed check left in place
YPID=$CPID YM=$CMERGED
CGY=/sys/fs/cgroup/contain-test/$Y
wait_for 30 test -s "$YM/tmp/memtarget.addr"
PY=$(pid_by_exe "$CGY/cgroup.procs" "*/usr/bin/memtarget")
like "$PY" '^[0-9]+$' "init.scope: memtarget runs in the second container"
mkdir "$CGY/init.scope" "$CGY/svc"
# the init first (its children forked from then on start in init.scope),
# then whatever is left, until nothing is (a child forked meanwhile)
echo "$YPID" >"$CGY/init.scope/cgroup.procs"
for i in $(seq 50); do
	[ -z "$(cat "$CGY/cgroup.procs")" ] && break
	for p in $(cat "$CGY/cgroup.procs"); do echo "$p" >"$CGY/svc/cgroup.procs" 2>/dev/null; done
done
is "$(awk -F: '$1 == "0" {print $3}' "/proc/$YPID/cgroup")" "/contain-test/$Y/init.scope" "init.scope: the init sits in <ctr>/init.scope"
is "$(awk -F: '$1 == "0" {print $3}' "/proc/$PY/cgroup")" "/contain-test/$Y/svc" "init.scope: memtarget in the sibling <ctr>/svc"
is "$(cat "$CGY/cgroup.procs")" "" "init.scope: the container's cgroup itself holds no process"
run "$CONTAIN" inspect "$Y"
is "$(printf '%s' "$OUT" | jq -r .cgroup_unified)" "$CGY" "init.scope: inspect names the container's cgroup (its cgroup namespace's root), not the init's leaf"
PIDS=$(printf '%s' "$OUT" | jq -r '.pids[]')
ok "init.scope: inspect's pids hold memtarget (a sibling of the init's cgroup)" has_pid "$PY"
run "$CONTAIN" inspect "$PY"
is "$(printf '%s' "$OUT" | jq -r '.id + " " + .cgroup_unified')" "$Y $CGY" "init.scope: inspect by memtarget's pid finds the container"
run "$CONTAIN" quarantine --freeze-only "$Y"
is "$RC" 0 "init.scope: quarantine --freeze-only exits 0"
like "$OUT" "frozen \(cgroup2 $CGY\)" "init.scope: it froze the container's cgroup"
ok "init.scope: the container's cgroup.events says frozen 1" grep -qx 'frozen 1' "$CGY/cgroup.events"
ok "init.scope: svc/ is frozen too" grep -qx 'frozen 1' "$CGY/svc/cgroup.events"
ok_diag "init.scope: every thread below the container's cgroup is frozen" all_threads_frozen "$CGY"
run "$CONTAIN" release "$Y"
is "$RC" 0 "init.scope: release exits 0"
ok "init.scope: svc/ is thawed" grep -qx 'frozen 0' "$CGY/svc/cgroup.events"

# ---- contain itself in a cgroup namespace of its own ---------------------------
# (a pod with the default cgroupns on a cgroup2 host, its own cgroup2 mounted
# at /sys/fs/cgroup): the container's path reads "/../NAME"; no cgroupfs
# path is ever built through ".." (it was /sys/fs/cgroup/../NAME, outside
# cgroupfs), nothing is frozen, and it says so
TOOLCG=/sys/fs/cgroup/contain-test/t0800-$S-tool
mkdir "$TOOLCG"
on_exit "rmdir '$TOOLCG'"
in_tool_ns() {
	sh -c 'echo $$ >"$1/cgroup.procs" && shift &&
		exec unshare --cgroup --mount --propagation private sh -c "
			umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec \"\$@\"" sh "$@"' \
		sh "$TOOLCG" "$@"
}
run in_tool_ns "$CONTAIN" inspect "$A"
is "$(printf '%s' "$OUT" | jq -c '[.cgroup_unified, (.cgroups[] | select(.controllers == "") | .path, .fs_path)]')" \
	"[null,\"/../$A\",null]" "cgroupns: the path outside its namespace, no fs path built from it"
run in_tool_ns "$CONTAIN" quarantine --freeze-only "$A"
is "$RC" 3 "cgroupns: quarantine exits 3"
like "$ERR" "no cgroup to freeze" "cgroupns: and says there is no cgroup to freeze"
ok "cgroupns: the container is not frozen" v2_thawed
rmdir "$TOOLCG"

# ---- clean-up: the cgroup2 dirs are kernel objects shared with the host -------
runc_cleanup "$A"
ok "clean-up: runc no longer knows the container" sh -c "! runc --root '$RUNC_ROOT' state '$A' >/dev/null 2>&1"
ok "clean-up: its cgroup2 dir is gone" test ! -e "$CG"
runc_cleanup "$Y"
ok "clean-up: the second container's cgroup2 dir and its children are gone" test ! -e "$CGY"
cg2_subtree_restore /sys/fs/cgroup/contain-test/cgroup.subtree_control "$sc_ct"
cg2_subtree_restore /sys/fs/cgroup/cgroup.subtree_control "$sc_root"
is "$(cat /sys/fs/cgroup/cgroup.subtree_control)" "$sc_root" "clean-up: the root's subtree_control is as it was"

done_testing

#!/bin/bash
# t0702: memory at capture level. contain capture of a runc container running
# memtarget (3 threads, a marker at the address it writes to
# /tmp/memtarget.addr): gdb loads data/memory/PID.core (3 threads, the
# marker), readelf -n shows 3 NT_PRSTATUS, NT_FILE, NT_AUXV; the container is
# frozen before the memory phase (custody order) and still frozen after (the
# cgroup, the summary); the same with --freezer v1 on a container whose only
# freezer is v1. Then a container killed (kill -9 of its init) while its
# memory is being written: the bag is still sealed and verifies, the exit code
# is 1, and the index and the custody log say what was lost.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd runc gdb readelf jq timeout
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
MT=$FIXTURE_ROOTFS/usr/bin/memtarget
[ -x "$MT" ] || skip_all "no memtarget in the fixture image (run fixtures/build.sh)"

S=$$
pid_by_exe() {
	local p
	for p in $(cat "$1"); do
		# shellcheck disable=SC2254
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in $2) echo "$p"; return 0 ;; esac
	done
	return 1
}
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
v2_frozen() { grep -qx 'frozen 1' "$1/cgroup.events"; }
v2_thawed() { grep -qx 'frozen 0' "$1/cgroup.events"; }
v1_frozen() { grep -qx 'FROZEN' "$1/freezer.state"; }
v1_thawed() { grep -qx 'THAWED' "$1/freezer.state"; }
gdb_check() { gdb -nx -batch -ex 'info threads' -ex "x/s $2" "$MT" "$1" 2>&1; }
nthreads_gdb() { printf '%s\n' "$1" | grep -cE '^[* ] +[0-9]+ +Thread .*LWP'; }
actions() { jq -r '"\(.action) \(.target) \(.result)"' "$1/custody.jsonl"; }
# line numbers in the custody log: the freeze, the first memory artifact
freeze_before_memory() {
	actions "$1" | awk '/^quarantine-freeze .* ok$/ && !f { f = NR }
		/^artifact-open data\/memory\// && !m { m = NR }
		END { exit !(f && m && f < m) }'
}

cat >"$T_DIR/extra" <<'X'
#!/bin/sh
/usr/bin/memtarget >/tmp/memtarget.out 2>&1 &
wait
X

# ---- the unified freezer ---------------------------------------------------
A=t0702-$S-u
runc_run "$A" --extra "$T_DIR/extra" || skip_all "cannot start a runc container here"
CG2=/sys/fs/cgroup/unified/contain-test/$A
wait_for 30 test -s "$CMERGED/tmp/memtarget.addr"
P=$(pid_by_exe "$CG2/cgroup.procs" "*/usr/bin/memtarget")
ADDR=$(cat "$CMERGED/tmp/memtarget.addr" 2>/dev/null)
like "$P" '^[0-9]+$' "memtarget runs in the container"
wait_for 30 test "$(nthreads "$P")" -eq 3
ok "the container is not frozen before the capture" v2_thawed "$CG2"
BA=$T_DIR/bag-u
run timeout 120 "$CONTAIN" capture "$A" -o "$BA" --pcap-seconds 1
is "$RC" 0 "capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
ok "custody: frozen (quarantine-freeze ok) before the memory phase" freeze_before_memory "$BA"
ok "the container is still frozen after the capture" v2_frozen "$CG2"
SUM=$BA/data/memory/summary.json
is "$(jq -r ".processes[] | select(.pid==$P) | .freeze.before.unified + \" \" + .freeze.after.unified" "$SUM")" \
	"frozen frozen" "summary.json: memtarget frozen before and after its dump"
is "$(jq -r ".processes[] | select(.pid==$P) | .threads" "$SUM")" 3 "summary.json: 3 threads"
is "$(jq -r '.failed' "$SUM")" 0 "summary.json: no process failed"
C=$BA/data/memory/$P.core
ok "data/memory/$P.core and .maps are in the bag" test -s "$C" -a -s "$BA/data/memory/$P.maps"
ok "the core is in the manifest" grep -q " data/memory/$P.core$" "$BA/manifest-sha256.txt"
G=$(gdb_check "$C" "$ADDR")
is "$(nthreads_gdb "$G")" 3 "gdb: info threads shows 3 threads"
like "$G" "$ADDR:[[:space:]]+\"CONTAIN-MEMTARGET-MARKER-[0-9]+\"" "gdb: x/s prints the marker"
N=$(readelf -nW "$C" 2>/dev/null)
is "$(printf '%s\n' "$N" | grep -c 'NT_PRSTATUS')" 3 "readelf -n: 3 NT_PRSTATUS"
like "$N" 'NT_FILE' "readelf -n: NT_FILE"
like "$N" 'NT_AUXV' "readelf -n: NT_AUXV"
like "$(jq -r '.artifacts[] | select(.path=="data/memory/'"$P"'.core") | .kind' "$BA/index.json")" \
	'^core$' "index.json: the core is a core"
ok "the bag verifies" "$CONTAIN" verify "$BA"
run "$CONTAIN" release "$A"
is "$RC" 0 "release"
ok "thawed after release" wait_for 30 v2_thawed "$CG2"

# ---- --freezer v1, on a container whose only freezer is v1 ----------------
V=t0702-$S-v1
if runc_run "$V" --extra "$T_DIR/extra" --freezer-only; then
	F=/sys/fs/cgroup/freezer/contain-test/$V
	wait_for 30 test -s "$CMERGED/tmp/memtarget.addr"
	P1=$(pid_by_exe "$F/cgroup.procs" "*/usr/bin/memtarget")
	ADDR1=$(cat "$CMERGED/tmp/memtarget.addr" 2>/dev/null)
	wait_for 30 test "$(nthreads "$P1")" -eq 3
	BV=$T_DIR/bag-v1
	run timeout 120 "$CONTAIN" capture "$V" -o "$BV" --freezer v1 --pcap-seconds 1
	is "$RC" 0 "v1: capture --freezer v1 exits 0"
	[ "$RC" -eq 0 ] || diag "$OUT $ERR"
	ok "v1: custody: frozen before the memory phase" freeze_before_memory "$BV"
	ok "v1: still frozen after (freezer.state FROZEN)" v1_frozen "$F"
	is "$(jq -r '.state.freeze.kind' "$BV/data/quarantine.json")" freezer-v1 "v1: quarantine.json says the v1 freezer"
	is "$(jq -r ".processes[] | select(.pid==$P1) | .freeze.before.v1 + \" \" + .freeze.after.v1" \
		"$BV/data/memory/summary.json")" "frozen frozen" "v1: summary.json frozen before and after"
	G=$(gdb_check "$BV/data/memory/$P1.core" "$ADDR1")
	is "$(nthreads_gdb "$G")" 3 "v1: gdb shows 3 threads"
	like "$G" "$ADDR1:[[:space:]]+\"CONTAIN-MEMTARGET-MARKER-[0-9]+\"" "v1: gdb prints the marker"
	N=$(readelf -nW "$BV/data/memory/$P1.core" 2>/dev/null)
	is "$(printf '%s\n' "$N" | grep -c 'NT_PRSTATUS')" 3 "v1: readelf -n: 3 NT_PRSTATUS"
	ok "v1: the bag verifies" "$CONTAIN" verify "$BV"
	run "$CONTAIN" release "$V"
	is "$RC" 0 "v1: release"
	ok "v1: thawed after release" wait_for 30 v1_thawed "$F"
else
	for d in "capture --freezer v1" "custody order" "frozen after" "quarantine.json" "summary" \
		"gdb threads" "gdb marker" "readelf" "verify" "release" "thawed"; do
		skip "v1: $d" "runc_run --freezer-only failed"
	done
fi

# ---- a container killed while its memory is written ------------------------
section "a container killed while its memory is written"
cat >"$T_DIR/extra-big" <<'X'
#!/bin/sh
/usr/bin/memtarget --alloc 1536 >/tmp/memtarget.out 2>&1 &
wait
X
K=t0702-$S-k
runc_run "$K" --extra "$T_DIR/extra-big" || section_skip "cannot start a runc container here"
KPID=$CPID
CGK=/sys/fs/cgroup/unified/contain-test/$K
wait_for 60 test -s "$CMERGED/tmp/memtarget.addr"
PK=$(pid_by_exe "$CGK/cgroup.procs" "*/usr/bin/memtarget")
like "$PK" '^[0-9]+$' "kill: the big memtarget runs"
BK=$T_DIR/bag-k
timeout 300 "$CONTAIN" capture "$K" -o "$BK" --pcap-seconds 1 >"$T_DIR/k.out" 2>"$T_DIR/k.err" &
CAPPID=$!
on_exit "kill $CAPPID"
core_started() { grep -q "\"action\":\"artifact-open\",\"target\":\"data/memory/$PK.core\"" "$BK/custody.jsonl"; }
if wait_for 120 core_started; then
	kill -KILL "$KPID"
	killed=1
else
	killed=0
fi
ok "kill: the init was killed once the custody log showed memtarget's core started" test "$killed" -eq 1
wait "$CAPPID"
KRC=$?
is "$KRC" 1 "kill: the capture exits 1 (something is missing)"
ok "kill: the init is gone" wait_for 30 sh -c "! test -d /proc/$KPID/task/$KPID || grep -q '^State:.*Z' /proc/$KPID/status"
ok "kill: the bag is sealed" grep -qx 'Contain-Status: complete' "$BK/bag-info.txt"
run "$CONTAIN" verify "$BK"
is "$RC" 0 "kill: contain verify passes on what was written"
[ "$RC" -eq 0 ] || diag "$OUT"
ok "kill: sha256sum -c passes" sh -c "cd '$BK' && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt"
ENDX=$(jq -c 'select(.action=="capture-end")' "$BK/custody.jsonl")
is "$(jq -r .result <<<"$ENDX")" partial "kill: custody capture-end says partial"
NM=$(jq -r '.missing | length' <<<"$ENDX")
ok "kill: capture-end lists what is missing ($NM)" test "${NM:-0}" -gt 0
# every missing artifact has its collector-failed custody event
bad=0
for a in $(jq -r '.missing[].artifact' <<<"$ENDX"); do
	n=$(jq -s --arg a "$a" 'map(select(.action=="collector-failed" and .target==$a)) | length' \
		"$BK/custody.jsonl")
	[ "$n" -ge 1 ] || { diag "no collector-failed for $a"; bad=1; }
done
is "$bad" 0 "kill: each missing artifact has a collector-failed custody event"
[ "$bad" -eq 0 ] || actions "$BK" | grep -v '^artifact' | sed 's/^/# /'
like "$(cat "$T_DIR/k.out")" 'missing: ' "kill: the summary prints what is missing"
# memtarget's core: either cut (noted in the index, its loss in the summary)
# or, if the kill came after it, whole; never absent from the record
if [ -e "$BK/data/memory/$PK.core" ]; then
	NOTE=$(jq -c --arg p "data/memory/$PK.core" '.artifacts[] | select(.path==$p) | .notes' "$BK/index.json")
	EX=$(jq -r ".processes[] | select(.pid==$PK) | (.exited_during_capture // false)" "$BK/data/memory/summary.json" 2>/dev/null)
	like "$NOTE" 'exited during|incomplete' "kill: index.json notes memtarget's core as partial"
	is "$EX" true "kill: summary.json says memtarget exited during its capture"
else
	like "$(jq -r '.missing[].artifact' <<<"$ENDX")" "data/memory" "kill: the lost core is listed as missing"
	skip "kill: summary.json says memtarget exited during its capture" "its core is not in the bag"
fi
like "$(jq -r '.missing[] | .artifact + ": " + .reason' <<<"$ENDX")" "^data/memory/$PK.core: " \
	"kill: memtarget's core is named in the missing list"
like "$(jq -r '.missing[].artifact' <<<"$ENDX")" '^data/container/mountinfo$' \
	"kill: so is the mountinfo of the dead init"

done_testing

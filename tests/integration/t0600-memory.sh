#!/bin/bash
# t0600-memory.sh: the memory collector (mem-driver) on memtarget in real runc
# containers: frozen by the unified freezer (registers by ptrace) and by the
# v1 freezer only (registers by ptrace through a thaw window, or with --regs
# syscall from /proc/PID/task/TID/syscall); gdb loads the
# cores; a fileless process; a process killed mid-capture; a pid that does
# not exist; --full, --max-bytes and holes on a host process.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/containers.sh"
need_root
need_cmd runc gdb readelf jq mem-driver
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
MT=$FIXTURE_ROOTFS/usr/bin/memtarget
[ -x "$MT" ] || skip_all "no memtarget in the fixture image (run fixtures/build.sh)"

cat >"$T_DIR/extra" <<'X'
#!/bin/sh
/usr/bin/memtarget >/tmp/memtarget.out 2>&1 &
/usr/bin/memtarget --memfd --addr-file /tmp/memfd.addr >/dev/null 2>&1 &
wait
X

# pid_by_exe PROCS_FILE GLOB: the pid in PROCS_FILE whose exe link matches
pid_by_exe() {
	local p
	for p in $(cat "$1"); do
		# shellcheck disable=SC2254
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in $2) echo "$p"; return 0 ;; esac
	done
	return 1
}
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
# PT_LOAD start addresses of a core, and the starts in a maps file, without leading zeros
load_starts() { readelf -lW "$1" | awk '$1 == "LOAD" { sub(/^0x0*/, "", $3); print $3 }'; }
maps_starts() { sed -E 's/^0*([0-9a-f]+)-.*/\1/' "$1"; }
v2_frozen() { grep -qx 'frozen 1' "$1/cgroup.events"; }
v1_frozen() { grep -qx 'FROZEN' "$1/freezer.state"; }
# gdb_check CORE ADDR: info threads + the marker
gdb_check() { gdb -nx -batch -ex 'info threads' -ex "x/s $2" "$MT" "$1" 2>&1; }

# ---- the unified freezer -------------------------------------------------
name=mem-$$-u
runc_run "$name" --extra "$T_DIR/extra" || skip_all "cannot start a runc container here"
CG2=/sys/fs/cgroup/unified/contain-test/$name
wait_for 30 test -s "$CMERGED/tmp/memtarget.addr"
wait_for 30 test -s "$CMERGED/tmp/memfd.addr"
P=$(pid_by_exe "$CG2/cgroup.procs" "*/usr/bin/memtarget")
PM=$(pid_by_exe "$CG2/cgroup.procs" "/memfd:*")
ADDR=$(cat "$CMERGED/tmp/memtarget.addr")
MADDR=$(cat "$CMERGED/tmp/memfd.addr")
like "$P" '^[0-9]+$' "memtarget runs in the container"
like "$PM" '^[0-9]+$' "the fileless memtarget runs from a memfd"
wait_for 30 test "$(nthreads "$P")" -eq 3
is "$(nthreads "$P")" 3 "memtarget has 3 threads"

echo 1 >"$CG2/cgroup.freeze"
wait_for 30 v2_frozen "$CG2"
ok "the container is frozen before (unified freezer)" v2_frozen "$CG2"
# no --cgroup-freeze: the collector finds the process's freeze state itself
# (through mountinfo; it once never matched the "0::" line: "unknown")
run mem-driver --pid "$P" --out "$T_DIR/fb"
is "$(jq -r '.processes[0].freeze | .before.unified + " " + .after.unified' <<<"$OUT")" "frozen frozen" \
	"without --cgroup-freeze: the unified freeze found from /proc/PID/cgroup"
run mem-driver --pid "$P" --pid "$PM" --cgroup-freeze "$CG2" --out "$T_DIR/u"
is "$RC" 0 "mem-driver takes both processes of the frozen container"
[ "$RC" -eq 0 ] || diag "$ERR"
ok "the container is still frozen after" v2_frozen "$CG2"
echo "$OUT" >"$T_DIR/u.json"
is "$(jq -r '.processes[0].registers.source' "$T_DIR/u.json")" ptrace "registers by ptrace while frozen"
is "$(jq -r '.processes[0].threads' "$T_DIR/u.json")" 3 "3 threads recorded"
is "$(jq -r '.processes[0].freeze.before.unified + " " + .processes[0].freeze.after.unified' "$T_DIR/u.json")" \
	"frozen frozen" "the summary says frozen before and after"
C=$T_DIR/u/$P.core
ok "core and maps written" test -s "$C" -a -s "$T_DIR/u/$P.maps"
G=$(gdb_check "$C" "$ADDR")
is "$(printf '%s\n' "$G" | grep -cE '^[* ] +[0-9]+ +Thread .*LWP')" 3 "gdb: info threads shows 3 threads"
like "$G" "$ADDR:[[:space:]]+\"CONTAIN-MEMTARGET-MARKER-[0-9]+\"" "gdb: x/s prints the marker"
unlike "$G" "Cannot access memory|not in executable format" "gdb: no memory errors"
N=$(readelf -nW "$C" 2>/dev/null)
is "$(printf '%s\n' "$N" | grep -c 'NT_PRSTATUS')" 3 "readelf -n: 3 NT_PRSTATUS"
like "$N" 'NT_FILE' "readelf -n: NT_FILE"
like "$N" 'NT_AUXV' "readelf -n: NT_AUXV"
like "$N" 'NT_FPREGSET' "readelf -n: NT_FPREGSET"
NL=$(load_starts "$C" | wc -l)
ok "readelf -l: $NL PT_LOAD segments (at least 10)" test "$NL" -ge 10
is "$(load_starts "$C")" "$(maps_starts "$T_DIR/u/$P.maps")" "readelf -l: one PT_LOAD per line of maps, same addresses"
# the maps beside the core is the process's /proc/PID/maps
is "$(cat "$T_DIR/u/$P.maps")" "$(cat "/proc/$P/maps")" "PID.maps is /proc/PID/maps"

# the fileless one
CM=$T_DIR/u/$PM.core
G=$(gdb_check "$CM" "$MADDR")
like "$G" "$MADDR:[[:space:]]+\"CONTAIN-MEMTARGET-MARKER-[0-9]+\"" "memfd process: gdb prints its marker"
GM=$(gdb -nx -batch -ex 'info proc mappings' "$MT" "$CM" 2>&1)
like "$GM" '/memfd:memtarget-fileless' "memfd process: NT_FILE names the memfd"
is "$(jq -r '[.processes[1].skipped[] | select((.path // "") | startswith("/memfd:"))] | length' "$T_DIR/u.json")" 0 \
	"memfd process: its memfd mappings are all dumped"

# a pid that does not exist: recorded, the other still goes in
run mem-driver --pid 2147483646 --pid "$P" --out "$T_DIR/nx"
is "$RC" 1 "a missing pid fails the run"
is "$(jq -r '.cores' <<<"$OUT")" 1 "the other process is still taken"
like "$(jq -r '.processes[0].error' <<<"$OUT")" "2147483646" "the missing pid's error is recorded"

# --max-bytes: stacks and heap first, what was cut is listed
run mem-driver --pid "$P" --max-bytes 1M --out "$T_DIR/m"
is "$RC" 0 "mem-driver --max-bytes 1M"
B=$(jq -r '.processes[0].bytes' <<<"$OUT")
ok "no more than 1 MiB of segments ($B)" test "$B" -le 1048576
ok "what was cut is listed" test "$(jq -r '.processes[0].cut_count' <<<"$OUT")" -gt 0
like "$(gdb_check "$T_DIR/m/$P.core" "$ADDR")" "CONTAIN-MEMTARGET-MARKER" "the heap marker survives the cut"

# a process that exits during capture: recorded, not fatal; the next one goes in
run mem-driver --pid "$P" --pid "$PM" --kill-after-bytes 1 --cgroup-freeze "$CG2" --out "$T_DIR/k"
is "$RC" 0 "a process killed mid-capture is not fatal"
[ "$RC" -eq 0 ] || diag "$ERR"
is "$(jq -r '.processes[0].exited_during_capture' <<<"$OUT")" true "it is recorded as exited during capture"
ok "its lost pages are listed" test "$(jq -r '.processes[0].unreadable_count' <<<"$OUT")" -gt 0
is "$(jq -r '.processes[1].exited_during_capture' <<<"$OUT")" false "the next process is whole"
ok "readelf reads the cut core" readelf -lW "$T_DIR/k/$P.core"
ok "still frozen after" v2_frozen "$CG2"

# ---- the v1 freezer only ---------------------------------------------------
name1=mem-$$-v1
if runc_run "$name1" --extra "$T_DIR/extra" --freezer-only; then
	F=/sys/fs/cgroup/freezer/contain-test/$name1
	wait_for 30 test -s "$CMERGED/tmp/memtarget.addr"
	P1=$(pid_by_exe "$F/cgroup.procs" "*/usr/bin/memtarget")
	ADDR1=$(cat "$CMERGED/tmp/memtarget.addr")
	wait_for 30 test "$(nthreads "$P1")" -eq 3
	echo FROZEN >"$F/freezer.state"
	wait_for 30 v1_frozen "$F"
	ok "v1: frozen before" v1_frozen "$F"
	run mem-driver --pid "$P1" --cgroup-freeze "$F" --out "$T_DIR/v1"
	is "$RC" 0 "v1: mem-driver takes the process"
	[ "$RC" -eq 0 ] || diag "$ERR"
	ok "v1: still frozen after" v1_frozen "$F"
	is "$(jq -r '.processes[0].registers.source' <<<"$OUT")" ptrace "v1: registers by ptrace, through a thaw window"
	is "$(jq -r '.v1_interrupt[0].result' <<<"$OUT")" ok "v1: the thaw window: ok"
	G=$(gdb_check "$T_DIR/v1/$P1.core" "$ADDR1")
	is "$(printf '%s\n' "$G" | grep -cE '^[* ] +[0-9]+ +Thread .*LWP')" 3 "v1: gdb shows 3 threads"
	like "$G" "CONTAIN-MEMTARGET-MARKER-[0-9]+" "v1: gdb prints the marker"
	# --regs syscall: never thawed, the registers of /proc/PID/task/TID/syscall
	run mem-driver --pid "$P1" --cgroup-freeze "$F" --regs syscall --out "$T_DIR/v1s"
	is "$RC" 0 "v1 --regs syscall: mem-driver takes the process"
	ok "v1 --regs syscall: still frozen after" v1_frozen "$F"
	is "$(jq -r '.processes[0].registers.source' <<<"$OUT")" syscall "v1 --regs syscall: registers from /proc/PID/task/TID/syscall"
	is "$(jq -r '.v1_interrupt // "none"' <<<"$OUT")" none "v1 --regs syscall: no thaw window"
	G=$(gdb_check "$T_DIR/v1s/$P1.core" "$ADDR1")
	is "$(printf '%s\n' "$G" | grep -cE '^[* ] +[0-9]+ +Thread .*LWP')" 3 "v1 --regs syscall: gdb shows 3 threads"
	like "$G" 'in pause' "v1 --regs syscall: gdb finds where the threads are (pc from the syscall file)"
else
	skip "v1 freezer path" "runc_run --freezer-only failed"
fi

# ---- a host process: --full, holes -----------------------------------------
sleep 1000 &
SP=$!
on_exit "kill $SP"
wait_for 10 grep -q libc "/proc/$SP/maps"
run mem-driver --pid "$SP" --out "$T_DIR/h"
is "$RC" 0 "a dynamic host process"
D=$(jq -r '.processes[0].bytes' <<<"$OUT")
like "$(jq -r '.processes[0].skipped[].path // empty' <<<"$OUT")" 'libc' "by default libc's text is left out (listed)"
like "$(gdb -nx -batch -ex 'info sharedlibrary' "$(readlink -f /proc/$SP/exe)" "$T_DIR/h/$SP.core" 2>&1)" \
	'libc\.so' "gdb finds the shared libraries through NT_FILE"
run mem-driver --pid "$SP" --full --out "$T_DIR/hf"
is "$RC" 0 "--full"
FB=$(jq -r '.processes[0].bytes' <<<"$OUT")
ok "--full takes more ($FB > $D)" test "$FB" -gt "$D"
SZ=$(stat -c %s "$T_DIR/h/$SP.core")
AL=$(($(stat -c %b "$T_DIR/h/$SP.core") * $(stat -c %B "$T_DIR/h/$SP.core")))
ok "zero pages are holes ($AL allocated < $SZ)" test "$AL" -lt "$SZ"

done_testing

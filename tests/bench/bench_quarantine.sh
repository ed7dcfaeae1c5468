#!/bin/bash
# bench_quarantine: time to contain a 50-process runc container — `contain
# quarantine` (resolve, network cut in the netns and on the host veth,
# freeze, all verified; the whole process) — against `runc pause` of the same
# container (freeze only), in the same run, several rounds (release / resume
# between). Prints the medians and their ratio; goal: ratio <= 1.0.
set -u
CONTAIN_TOP=${CONTAIN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$CONTAIN_TOP/tests/lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
ROUNDS=${ROUNDS:-7}
fail() { echo "bench_quarantine: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
fixtures_ready || fail "no fixtures (fixtures/build.sh)"
exec 9>/tmp/contain-bench-quarantine.lock
flock -w 600 9 || fail "another run holds the lock"

cat >"$T_DIR/fifty" <<'EOF'
#!/bin/sh
# with contain-init and its httpd: 50 processes
i=0
while [ $i -lt 46 ]; do sleep 100000 & i=$((i + 1)); done
wait
EOF
runc_run "bench-q-$$" --extra "$T_DIR/fifty" || fail "runc_run failed"
B=$CID
veth_attach "$CPID" "bq$$" 10.213.60.1/30 10.213.60.2/30 || fail "no veth"
cg=/sys/fs/cgroup/unified/contain-test/$B
np() { wc -l <"$cg/cgroup.procs"; }
np_ge() { [ "$(np)" -ge "$1" ]; }
wait_for 30 np_ge 50 || fail "the container has $(np) processes, not 50"
echo "container: $(np) processes, runc $(runc --version | head -1 | awk '{print $3}')"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
: >"$T_DIR/c" && : >"$T_DIR/r" && : >"$T_DIR/v" && : >"$T_DIR/i" && : >"$T_DIR/c1"
for i in $(seq "$ROUNDS"); do
	t0=$(now)
	"$CONTAIN" quarantine "$B" >/dev/null || fail "quarantine failed (round $i)"
	t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$T_DIR/c"
	grep -q 'frozen 1' "$cg/cgroup.events" || fail "not frozen after quarantine"
	"$CONTAIN" release "$B" >/dev/null || fail "release failed (round $i)"

	t0=$(now)
	runc --root "$RUNC_ROOT" pause "$B" || fail "runc pause failed"
	t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$T_DIR/r"
	runc --root "$RUNC_ROOT" resume "$B" || fail "runc resume failed"

	# the same with the v1 freezer runc pause uses on this hybrid machine
	t0=$(now)
	"$CONTAIN" quarantine --freezer v1 "$B" >/dev/null || fail "quarantine --freezer v1 failed"
	t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$T_DIR/c1"
	"$CONTAIN" release "$B" >/dev/null || fail "release failed (round $i)"

	# where the time goes: the process itself, and resolving the REF
	t0=$(now); "$CONTAIN" version >/dev/null; t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$T_DIR/v"
	t0=$(now); "$CONTAIN" inspect "$B" >/dev/null; t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$T_DIR/i"
done
c=$(median <"$T_DIR/c")
r=$(median <"$T_DIR/r")
echo "contain quarantine (net cut x2 + freeze, verified): median ${c} us over $ROUNDS rounds ($(tr '\n' ' ' <"$T_DIR/c"))"
echo "runc pause (freeze only):                           median ${r} us over $ROUNDS rounds ($(tr '\n' ' ' <"$T_DIR/r"))"
echo "contain quarantine --freezer v1 (same freezer as runc here): median $(median <"$T_DIR/c1") us"
echo "  of which: contain version (process start) median $(median <"$T_DIR/v") us, contain inspect (start + resolve) median $(median <"$T_DIR/i") us"
echo "ratio contain/runc-pause: $(echo "scale=2; $c / $r" | bc -l) (goal <= 1.0)"
echo "ratio with --freezer v1:  $(echo "scale=2; $(median <"$T_DIR/c1") / $r" | bc -l)"

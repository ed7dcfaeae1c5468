#!/bin/bash
# t0413: SIGKILL of quarantine and capture at many instants (issue 9,
# finding 2). After each kill, `release` must bring the KERNEL back to what
# it was (nft tables in the container netns and on the host, the cgroup
# freeze files), and a new `quarantine` after a kill must end cut and frozen
# with exit 0. No helper may outlive its killed parent (the kernel state is
# compared again after a pause) and no temp file is left in the state dir.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq busybox timeout
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
HIF=ck${S}a
H=10.213.53.1 C=10.213.53.2
NAME=t0413-$S
runc_run "$NAME" || skip_all "runc_run failed"
on_exit "\"$CONTAIN\" release \"$NAME\""
PID=$CPID
veth_attach "$PID" "$HIF" "$H/30" "$C/30" || skip_all "cannot make a veth into the container netns"
cg2=/sys/fs/cgroup/unified/contain-test/$NAME
v1=/sys/fs/cgroup/freezer/contain-test/$NAME
read -r ntab htab < <("$CONTAIN" --json quarantine --dry-run "$NAME" |
	jq -r '[.netns_ruleset, .host_ruleset] | map(capture("create table [a-z]+ (?<t>[a-z0-9_]+)").t) | join(" ")')
on_exit "nft delete table netdev $htab"
like "$ntab $htab" '^contain_q_[0-9a-f]{12} contain_h_[0-9a-f]{12}$' "the table names"

# the kernel state that matters: our tables in the container netns and on
# the host (both families: a table in the wrong netns is caught too), and
# the cgroup's freeze files
kstate() {
	nsenter --net="/proc/$PID/ns/net" nft list ruleset
	echo "-- host"
	nft list tables | grep -E " ($ntab|$htab)\$"
	echo "-- cgroup"
	cat "$cg2/cgroup.freeze" "$cg2/cgroup.events" "$v1/freezer.state" 2>/dev/null
}
ping_ctr() { busybox ping -c 1 -W 1 "$C" >/dev/null 2>&1; }
frozen() { grep -qx 'frozen 1' "$cg2/cgroup.events"; }
before=$(kstate)
ok "reachable before" wait_for 10 ping_ctr

# how long does a whole quarantine take here (the kill instants span it)
t0=$(date +%s%N)
"$CONTAIN" quarantine "$NAME" >/dev/null 2>&1
t1=$(date +%s%N)
"$CONTAIN" release "$NAME" >/dev/null 2>&1
diag "a whole quarantine takes $(((t1 - t0) / 1000000)) ms"
is "$(kstate)" "$before" "a plain quarantine + release restores the kernel state"

bad_release=0 bad_later=0 bad_requar=0 bad_tmp=0 n=0
for d in 0.005 0.01 0.015 0.02 0.025 0.03 0.035 0.04 0.045 0.05 0.06 0.07 0.08 0.1 0.15; do
	n=$((n + 1))
	timeout -s KILL "$d" "$CONTAIN" quarantine "$NAME" >/dev/null 2>&1
	"$CONTAIN" release "$NAME" >"$T_DIR/rel.out" 2>&1
	got=$(kstate)
	if [ "$got" != "$before" ]; then
		bad_release=$((bad_release + 1))
		diag "kill at ${d}s, then release: kernel differs: $(diff <(echo "$before") <(echo "$got") | tr '\n' ' ')"
		diag "release said: $(tr '\n' ' ' <"$T_DIR/rel.out")"
	fi
	sleep 0.3 # a helper that outlived its parent would act now
	if [ "$(kstate)" != "$before" ]; then
		bad_later=$((bad_later + 1))
		diag "kill at ${d}s: the kernel changed after the release"
		"$CONTAIN" release "$NAME" >/dev/null 2>&1
	fi
	ls "$CONTAIN_STATE_DIR" 2>/dev/null | grep -q '\.tmp\.' && bad_tmp=$((bad_tmp + 1))

	# killed, then quarantined again: cut and frozen, exit 0
	timeout -s KILL "$d" "$CONTAIN" quarantine "$NAME" >/dev/null 2>&1
	"$CONTAIN" quarantine "$NAME" >"$T_DIR/q.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || ! frozen || ping_ctr; then
		bad_requar=$((bad_requar + 1))
		diag "kill at ${d}s, then quarantine: rc $rc, frozen $(frozen && echo yes || echo no): $(tr '\n' ' ' <"$T_DIR/q.out")"
	fi
	"$CONTAIN" release "$NAME" >/dev/null 2>&1
	[ "$(kstate)" = "$before" ] || { diag "kill at ${d}s: release after the re-quarantine left the kernel changed"; bad_release=$((bad_release + 1)); }
done
is "$bad_release" 0 "quarantine killed at $n instants: release restores the kernel state every time"
is "$bad_later" 0 "no helper acts after its parent was killed"
is "$bad_tmp" 0 "no temp file left in the state dir after a release"
is "$bad_requar" 0 "quarantine after a killed quarantine: cut and frozen, exit 0, every time"

# no state file, tables left by name (an older contain, a state removed by
# hand): release finds them by name; quarantine reconciles instead of failing
"$CONTAIN" quarantine --net-only "$NAME" >/dev/null 2>&1
rm -f "$CONTAIN_STATE_DIR/$NAME.json"
run "$CONTAIN" quarantine "$NAME"
is "$RC" 0 "tables without state: quarantine exits 0"
unlike "$ERR" "File exists|nothing is in place" "it reconciles, no 'File exists'"
ok "tables without state: frozen" frozen
fails "tables without state: cut" ping_ctr
run "$CONTAIN" release "$NAME"
is "$RC" 0 "release exits 0"
is "$(kstate)" "$before" "release restores the kernel state"
"$CONTAIN" quarantine --net-only "$NAME" >/dev/null 2>&1
rm -f "$CONTAIN_STATE_DIR/$NAME.json"
run "$CONTAIN" release "$NAME"
is "$RC" 0 "tables without a state file: release exits 0"
like "$ERR" "found by name" "it says it released the tables found by name"
is "$(kstate)" "$before" "and the kernel state is restored"
ok "no lock file left" test ! -e "$CONTAIN_STATE_DIR/$NAME.lock"

# a temp file of a killed writer is cleaned on the next run
echo '{}' >"$CONTAIN_STATE_DIR/$NAME.json.tmp.999999999"
run "$CONTAIN" release --stale
ok "a dead writer's temp file is removed by the next run" test ! -e "$CONTAIN_STATE_DIR/$NAME.json.tmp.999999999"

# capture killed in its first ~100 ms
bad_cap=0 n=0
for d in 0.02 0.04 0.06 0.08 0.1 0.15 0.2; do
	n=$((n + 1))
	rm -rf "$T_DIR/bag"
	timeout -s KILL "$d" "$CONTAIN" capture --no-memory --no-fs "$NAME" -o "$T_DIR/bag" >/dev/null 2>&1
	"$CONTAIN" release "$NAME" >"$T_DIR/rel.out" 2>&1
	sleep 0.2
	got=$(kstate)
	if [ "$got" != "$before" ]; then
		bad_cap=$((bad_cap + 1))
		diag "capture killed at ${d}s, then release: $(diff <(echo "$before") <(echo "$got") | tr '\n' ' ')"
		diag "release said: $(tr '\n' ' ' <"$T_DIR/rel.out")"
		"$CONTAIN" release "$NAME" >/dev/null 2>&1
	fi
done
is "$bad_cap" 0 "capture killed at $n instants: release restores the kernel state every time"
ok "reachable at the end" wait_for 10 ping_ctr
done_testing

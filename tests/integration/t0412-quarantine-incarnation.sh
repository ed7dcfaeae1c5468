#!/bin/bash
# t0412: a quarantine is bound to one incarnation of a container (issue 9,
# findings 1 and 3). A container dies quarantined and a new one starts with
# the same id: "already quarantined" must never come from the old state, and
# release must never thaw the new one's cgroup; the old host table (bound by
# device NAME in the kernel) must not cut a new veth of the same name once
# `release --stale` ran. Every claim is checked in the kernel, not in
# contain's output.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq busybox
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
HIF=ci${S}a
H=10.213.51.1 C=10.213.51.2
NAME=t0412-$S

runc_run "$NAME" || skip_all "runc_run failed"
on_exit "\"$CONTAIN\" release \"$NAME\""
PID1=$CPID
veth_attach "$PID1" "$HIF" "$H/30" "$C/30" || skip_all "cannot make a veth into the container netns"
cg2=/sys/fs/cgroup/unified/contain-test/$NAME
htab=$("$CONTAIN" --json quarantine --dry-run "$NAME" | jq -r .host_ruleset | awk '/^create table/ {print $4}')
on_exit "nft delete table netdev $htab"
like "$htab" '^contain_h_[0-9a-f]{12}$' "the host table name"

ping_ctr() { busybox ping -c 1 -W 1 "$C" >/dev/null 2>&1; }
frozen() { grep -qx 'frozen 1' "$cg2/cgroup.events"; }

ok "first incarnation: reachable before" wait_for 10 ping_ctr
run "$CONTAIN" quarantine "$NAME"
is "$RC" 0 "first incarnation: quarantined"
fails "first incarnation: cut (ping fails)" ping_ctr
ok "first incarnation: frozen (cgroup.events)" frozen

# --- it dies without release; a new container takes its id
runc --root "$RUNC_ROOT" kill "$NAME" KILL 2>/dev/null
runc --root "$RUNC_ROOT" delete -f "$NAME" 2>/dev/null
runc_cleanup "$NAME"
fails "first incarnation gone (dead: a zombie until PID 1 reaps it)" _pid_alive "$PID1"
ok "its state file is still there" test -s "$CONTAIN_STATE_DIR/$NAME.json"
like "$(nft list tables netdev)" "$htab" "its host table outlived it (finding 3)"

runc_run "$NAME" || skip_all "runc_run (second incarnation) failed"
PID2=$CPID
veth_attach "$PID2" "$HIF" "$H/30" "$C/30" || skip_all "cannot make the second veth"
fails "finding 3 reproduced: the old host table cuts the new veth of the same name" wait_for 3 ping_ctr

# --- release --stale: the old table goes, the new container is untouched
echo 1 >"$cg2/cgroup.freeze"  # the new container, paused by someone else
wait_for 10 frozen
run "$CONTAIN" release --stale
is "$RC" 0 "release --stale exits 0"
like "$OUT" "removed state '$NAME'" "it reports the stale state it removed"
ok "after --stale: the new veth of the same name is not cut" wait_for 10 ping_ctr
ok "after --stale: it never wrote into the new incarnation's cgroup" frozen
ok "after --stale: no state file" test ! -e "$CONTAIN_STATE_DIR/$NAME.json"
ok "after --stale: no lock file" test ! -e "$CONTAIN_STATE_DIR/$NAME.lock"
unlike "$(nft list tables netdev)" "$htab" "after --stale: no host table of that name"
echo 0 >"$cg2/cgroup.freeze"
wait_for 10 grep -qx 'frozen 0' "$cg2/cgroup.events"

# --- finding 1: the same again, then quarantine the new incarnation
run "$CONTAIN" quarantine "$NAME"
is "$RC" 0 "second incarnation: quarantined"
runc --root "$RUNC_ROOT" kill "$NAME" KILL 2>/dev/null
runc --root "$RUNC_ROOT" delete -f "$NAME" 2>/dev/null
runc_cleanup "$NAME"
runc_run "$NAME" || skip_all "runc_run (third incarnation) failed"
PID3=$CPID
veth_attach "$PID3" "$HIF" "$H/30" "$C/30" || skip_all "cannot make the third veth"
run "$CONTAIN" quarantine "$NAME"
is "$RC" 0 "third incarnation: quarantine exits 0"
unlike "$OUT" "already quarantined" "it does not say 'already' from the stale state (finding 1)"
like "$ERR" "stale" "it warns that a stale state was replaced"
fails "third incarnation: really cut (ping fails)" ping_ctr
ok "third incarnation: really frozen (cgroup.events)" frozen
is "$(jq -r .incarnation.pid "$CONTAIN_STATE_DIR/$NAME.json")" "$PID3" "the state names the new init"
is "$(jq -r .incarnation.pid_start "$CONTAIN_STATE_DIR/$NAME.json")" \
	"$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$PID3/stat")" "and its start time"

run "$CONTAIN" --json quarantine "$NAME"
is "$RC" 0 "again: exits 0"
is "$(printf '%s' "$OUT" | jq -r '.result + " " + .verified.state')" "already cut+frozen" \
	"again: already, as the kernel says"

# --- the state says frozen, the kernel says otherwise: reconciled, not "already"
echo 0 >"$cg2/cgroup.freeze"
wait_for 10 grep -qx 'frozen 0' "$cg2/cgroup.events"
nsenter --net="/proc/$PID3/ns/net" nft flush ruleset
run "$CONTAIN" quarantine "$NAME"
is "$RC" 0 "reconcile: exits 0"
unlike "$OUT" "already" "reconcile: not 'already'"
like "$ERR" "re-applied" "reconcile: it says what it re-applied"
ok "reconcile: frozen again" frozen
like "$(nsenter --net="/proc/$PID3/ns/net" nft list ruleset)" "policy drop" "reconcile: the netns table is back"

# --- list and inspect read the kernel
run "$CONTAIN" list
like "$(printf '%s\n' "$OUT" | head -1)" "QUARANTINE" "list has a QUARANTINE column"
like "$(printf '%s\n' "$OUT" | grep "$NAME")" "cut\+frozen" "list: cut+frozen"
run "$CONTAIN" --json list
is "$(printf '%s' "$OUT" | jq -r --arg n "$NAME" '.[] | select(.id == $n) | .quarantine.state')" \
	"cut+frozen" "list --json: quarantine.state"
run "$CONTAIN" inspect "$NAME"
is "$(printf '%s' "$OUT" | jq -r '.quarantine.net_cut and .quarantine.frozen')" true "inspect: verified cut and frozen"
like "$(printf '%s' "$OUT" | jq -r '.quarantine.note')" "runc state" "inspect: notes what runc state says"

# --- release of a dead quarantined container: tables only, never a thaw
run "$CONTAIN" release "$NAME"
is "$RC" 0 "release of the live one"
ok "released: reachable" wait_for 10 ping_ctr
run "$CONTAIN" quarantine "$NAME"
runc --root "$RUNC_ROOT" kill "$NAME" KILL 2>/dev/null
runc --root "$RUNC_ROOT" delete -f "$NAME" 2>/dev/null
runc_cleanup "$NAME"
runc_run "$NAME" || skip_all "runc_run (fourth incarnation) failed"
veth_attach "$CPID" "$HIF" "$H/30" "$C/30" || skip_all "cannot make the fourth veth"
echo 1 >"$cg2/cgroup.freeze"
wait_for 10 frozen
run "$CONTAIN" release "$NAME"
is "$RC" 0 "release of the dead incarnation exits 0"
like "$ERR" "incarnation is gone" "it says the incarnation is gone"
ok "it did not thaw the new incarnation's cgroup" frozen
unlike "$(nft list tables netdev)" "$htab" "the dead one's host table is gone"
echo 0 >"$cg2/cgroup.freeze"
ok "the new veth of the same name is not cut" wait_for 10 ping_ctr

run "$CONTAIN" audit verify
is "$RC" 0 "audit chain intact"
done_testing

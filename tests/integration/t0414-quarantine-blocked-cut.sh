#!/bin/bash
# t0414: a root process in the container's netns blocks the cut there: it
# made, beforehand, a table of the name the container netns's cut takes,
# with the "owner" flag (only the socket that made it may change or delete
# it, for as long as that socket is open). The cut in the container netns
# then fails with the freeze already started (quarantine starts the freeze
# while the cut is applied). The quarantine must fail closed and say so:
# the container stays frozen, the host end of its link is cut, the exit
# status says the work was not done, the error names the container netns,
# and the state lets `release` undo exactly what was done. Once the
# blocker is gone, a new quarantine completes.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd runc nft nsenter ip jq busybox mkfifo
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
HIF=cb${S}a
H=10.213.54.1 C=10.213.54.2
NAME=t0414-$S
runc_run "$NAME" || skip_all "runc_run failed"
on_exit "\"$CONTAIN\" release \"$NAME\""
PID=$CPID
veth_attach "$PID" "$HIF" "$H/30" "$C/30" || skip_all "cannot make a veth into the container netns"
v1=/sys/fs/cgroup/freezer/contain-test/$NAME
cg2=/sys/fs/cgroup/unified/contain-test/$NAME
read -r ntab htab < <("$CONTAIN" --json quarantine --dry-run "$NAME" |
	jq -r '[.netns_ruleset, .host_ruleset] | map(capture("create table [a-z]+ (?<t>[a-z0-9_]+)").t) | join(" ")')
on_exit "nft delete table netdev $htab 2>/dev/null"
like "$ntab $htab" '^contain_q_[0-9a-f]{12} contain_h_[0-9a-f]{12}$' "the table names"

ping_ctr() { busybox ping -c 1 -W 1 "$C" >/dev/null 2>&1; }
frozen() {
	[ "$(cat "$v1/freezer.state" 2>/dev/null)" = FROZEN ] ||
		grep -qx 'frozen 1' "$cg2/cgroup.events" 2>/dev/null
}
in_netns() { nsenter --net="/proc/$PID/ns/net" "$@"; }
ok "reachable before" wait_for 10 ping_ctr

# --- the blocker: an interactive nft in the container netns holds its
# socket, and so its owned table, open
mkfifo "$T_DIR/nft.in"
nsenter --net="/proc/$PID/ns/net" nft -i <"$T_DIR/nft.in" >"$T_DIR/nft.out" 2>&1 &
BLOCKER=$!
on_exit "kill $BLOCKER 2>/dev/null"
exec 7>"$T_DIR/nft.in"
echo "add table inet $ntab { flags owner; }" >&7
ok "the blocker's table is in the container netns" \
	wait_for 10 sh -c "nsenter --net=/proc/$PID/ns/net nft list table inet $ntab | grep -q 'flags owner'"
fails "and nobody else may delete it" in_netns nft delete table inet "$ntab"

run "$CONTAIN" --json quarantine "$NAME"
is "$RC" 3 "blocked: quarantine exits 3 (the work could not be done)"
like "$ERR" "container netns" "the error names the container netns's cut"
like "$ERR" "Operation not permitted" "and the kernel's refusal"
like "$ERR" "held there by another program \\(nftables owner flag, netlink port [0-9]+\\)" \
	"and who holds the name"
ok "blocked: the container is frozen all the same" frozen
ok "blocked: the host end of its link is cut" nft list table netdev "$htab"
fails "blocked: the host cannot reach the container" ping_ctr
ok "blocked: the blocker's table is untouched" \
	sh -c "nsenter --net=/proc/$PID/ns/net nft list table inet $ntab | grep -q 'flags owner'"

# what inspect reads back from the kernel: frozen, host layer, not the netns one
run "$CONTAIN" --json inspect "$NAME"
is "$RC" 0 "inspect works on the half-done quarantine"
is "$(printf '%s' "$OUT" | jq -r '.quarantine.frozen')" true \
	"inspect: frozen (read back)"
is "$(printf '%s' "$OUT" | jq -r '.quarantine.net_cut')" false \
	"inspect: the network cut is not complete (read back)"
like "$OUT" "held by another program \\(nftables owner flag, netlink port [0-9]+\\): not ours" \
	"inspect says whose table holds the name"

# a second try fails the same way and changes nothing
run "$CONTAIN" quarantine "$NAME"
is "$RC" 3 "blocked again: exit 3"
ok "blocked again: still frozen" frozen
ok "blocked again: host table still there" nft list table netdev "$htab"

# release while blocked: thaws, removes the host table, leaves theirs
run "$CONTAIN" release "$NAME"
is "$RC" 0 "release while blocked: exit 0"
like "$OUT$ERR" "another program's \\(nftables owner flag\\), not ours: left there" \
	"release says the container netns's table is not ours and leaves it"
fails "release while blocked: thawed" frozen
fails "release while blocked: no host table" nft list table netdev "$htab"
ok "release while blocked: the blocker's table is still there" \
	sh -c "nsenter --net=/proc/$PID/ns/net nft list table inet $ntab | grep -q 'flags owner'"
run "$CONTAIN" quarantine "$NAME"
is "$RC" 3 "blocked once more: exit 3"
ok "blocked once more: frozen" frozen

# the blocker's table made to look like our cut (the four base chains at
# policy drop): it drops while its holder lives, and goes with it, so the
# read-back never takes it for ours
for h in prerouting input forward output; do
	echo "add chain inet $ntab $h { type filter hook $h priority -310; policy drop; }" >&7
done
ok "the look-alike has its four dropping chains" \
	wait_for 10 sh -c "[ \$(nsenter --net=/proc/$PID/ns/net nft list table inet $ntab | grep -c 'policy drop') = 4 ]"
run "$CONTAIN" --json inspect "$NAME"
is "$(printf '%s' "$OUT" | jq -r '.quarantine.net_cut')" false \
	"inspect: a look-alike table held by another program is not our cut"
like "$OUT" "held by another program" "and inspect says whose it is"
run "$CONTAIN" quarantine "$NAME"
is "$RC" 3 "look-alike: quarantine still exits 3 (our table is not there)"

# --- the blocker goes (its socket closes: the kernel drops its table)
exec 7>&-
wait "$BLOCKER"
ok "the blocker's table is gone with it" \
	wait_for 10 sh -c "! nsenter --net=/proc/$PID/ns/net nft list table inet $ntab 2>/dev/null"
run "$CONTAIN" --json quarantine "$NAME"
is "$RC" 0 "unblocked: quarantine completes"
ok "unblocked: our table in the container netns" in_netns nft list table inet "$ntab"
ok "unblocked: still frozen" frozen

run "$CONTAIN" release "$NAME"
is "$RC" 0 "release"
fails "released: not frozen" frozen
fails "released: no table in the container netns" in_netns nft list table inet "$ntab"
fails "released: no table on the host" nft list table netdev "$htab"
ok "released: reachable again" wait_for 10 ping_ctr
done_testing

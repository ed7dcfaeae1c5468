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
#
# The name is keyed (HMAC of the id with the state dir's netns.key), so a
# container cannot make it from its own id: first a blocker on the name
# the id alone gives is shown to block nothing. The rest plays a container
# that learned the keyed name anyway (it watched an earlier cut).
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
is "$ntab $htab" "$(table_names "$NAME")" "the netns name is HMAC-SHA-256(netns.key, id), made here too"
ok "the key is root's alone" sh -c "[ \"\$(stat -c '%a %s' '$CONTAIN_STATE_DIR/netns.key')\" = '600 32' ]"
idq=${htab/contain_h_/contain_q_}
unlike "$ntab" "^$idq\$" "the netns name is not the one the id alone gives"

ping_ctr() { busybox ping -c 1 -W 1 "$C" >/dev/null 2>&1; }
frozen() {
	[ "$(cat "$v1/freezer.state" 2>/dev/null)" = FROZEN ] ||
		grep -qx 'frozen 1' "$cg2/cgroup.events" 2>/dev/null
}
in_netns() { nsenter --net="/proc/$PID/ns/net" "$@"; }
ok "reachable before" wait_for 10 ping_ctr

# blocker FIFO FD TABLE: an interactive nft in the container netns holds
# its socket, and so its owned TABLE, open while fd FD is; $BPID is its pid
blocker() {
	mkfifo "$T_DIR/$1"
	nsenter --net="/proc/$PID/ns/net" nft -i <"$T_DIR/$1" >"$T_DIR/$1.out" 2>&1 &
	BPID=$!
	on_exit "kill $BPID 2>/dev/null"
	eval "exec $2>\"\$T_DIR/$1\""
	echo "add table inet $3 { flags owner; }" >&"$2"
}
owned() { nsenter --net="/proc/$PID/ns/net" nft list table inet "$1" 2>/dev/null | grep -q 'flags owner'; }

# --- a blocker on the name the id alone gives blocks nothing
blocker nft0.in 6 "$idq"
B0=$BPID
ok "a table on the id's name, owned, in the container netns" wait_for 10 owned "$idq"
run "$CONTAIN" --json quarantine "$NAME"
is "$RC" 0 "the id's name taken: quarantine completes all the same"
ok "our keyed table is in the container netns" in_netns nft list table inet "$ntab"
fails "the host cannot reach the container" ping_ctr
run "$CONTAIN" release "$NAME"
is "$RC" 0 "release"
ok "released: reachable again" wait_for 10 ping_ctr
exec 6>&-
wait "$B0"

# --- the blocker of the keyed name
blocker nft.in 7 "$ntab"
BLOCKER=$BPID
ok "the blocker's table is in the container netns" wait_for 10 owned "$ntab"
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
	owned "$ntab"

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
	owned "$ntab"
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

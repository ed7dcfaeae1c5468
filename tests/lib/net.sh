# tests/lib/net.sh: veths and test netns for network tests (source after lib.sh).
# Only private 10.213.X.Y/30 addresses, only interfaces and netns the test
# creates; everything is removed on_exit. Forwarding is enabled only on the
# test's own interfaces (net.ipv4.conf.<if>.forwarding), never globally.

# veth_attach PID HOSTIF HOST_ADDR CTR_ADDR
#   a veth pair: HOSTIF stays in the host netns with HOST_ADDR (a.b.c.d/30),
#   the other end goes into /proc/PID/ns/net as eth0 with CTR_ADDR (/30), a
#   default route via HOST_ADDR. Exports VETH_HOST_IFINDEX.
veth_attach() {
	local pid=$1 hif=$2 haddr=$3 caddr=$4 tmp="c${2}"
	tmp=${tmp:0:15}
	ip link add "$hif" type veth peer name "$tmp" || return 1
	on_exit "ip link del '$hif' 2>/dev/null"
	ip link set "$tmp" netns "/proc/$pid/ns/net" || return 1
	ip addr add "$haddr" dev "$hif" || return 1
	ip link set "$hif" up || return 1
	nsenter --net="/proc/$pid/ns/net" ip link set "$tmp" name eth0 || return 1
	nsenter --net="/proc/$pid/ns/net" ip addr add "$caddr" dev eth0 || return 1
	nsenter --net="/proc/$pid/ns/net" ip link set eth0 up || return 1
	nsenter --net="/proc/$pid/ns/net" ip link set lo up || return 1
	nsenter --net="/proc/$pid/ns/net" ip route add default via "${haddr%/*}" || return 1
	VETH_HOST_IFINDEX=$(cat "/sys/class/net/$hif/ifindex")
	export VETH_HOST_IFINDEX
}

# _fwd_on IF: enable forwarding on one test interface, restored on_exit
_fwd_on() {
	local f="/proc/sys/net/ipv4/conf/$1/forwarding" old
	old=$(cat "$f") || return 1
	echo 1 >"$f" || return 1
	on_exit "[ -e '$f' ] && echo $old > '$f'"
}

# testns_add NAME HOSTIF HOST_ADDR NS_ADDR [CTR_HOSTIF]
#   a second test netns NAME (ip netns) connected to the host by a veth:
#   HOSTIF with HOST_ADDR in the host, eth0 with NS_ADDR in NAME, default
#   route via the host. Forwarding is turned on for HOSTIF and, if given,
#   CTR_HOSTIF (the container's host-side veth) so the two can reach each
#   other through the host.
testns_add() {
	local name=$1 hif=$2 haddr=$3 naddr=$4 cif=${5:-}
	ip netns add "$name" || return 1
	on_exit "ip netns del '$name' 2>/dev/null"
	ip link add "$hif" type veth peer name eth0 netns "$name" || return 1
	on_exit "ip link del '$hif' 2>/dev/null"
	ip addr add "$haddr" dev "$hif" || return 1
	ip link set "$hif" up || return 1
	ip -n "$name" addr add "$naddr" dev eth0 || return 1
	ip -n "$name" link set eth0 up || return 1
	ip -n "$name" link set lo up || return 1
	ip -n "$name" route add default via "${haddr%/*}" || return 1
	_fwd_on "$hif" || return 1
	if [ -n "$cif" ]; then _fwd_on "$cif" || return 1; fi
}

# nft_snapshot [PID]: the whole ruleset of the host netns, or of PID's netns
nft_snapshot() {
	if [ -n "${1:-}" ]; then
		nsenter --net="/proc/$1/ns/net" nft list ruleset
	else
		nft list ruleset
	fi
}

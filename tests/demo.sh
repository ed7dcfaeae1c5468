#!/bin/bash
# tests/demo.sh (make demo): a throwaway runc container from the fixture image
# (no daemon; nothing of the machine's own container setup is touched), a
# simulated compromise, and every verb contain has, walked on it. Cleans up.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
[ -f "$CONTAIN_TOP/tests/lib/net.sh" ] && . "$CONTAIN_TOP/tests/lib/net.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
has_verb() { "$CONTAIN" help "$1" >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
fixtures_ready || { echo "demo: no fixtures (fixtures/build.sh)" >&2; exit 1; }
export CONTAIN_STATE_DIR="$T_DIR/state" CONTAIN_AUDIT_LOG="$T_DIR/audit.jsonl"

say "start a throwaway runc container from the fixture image"
NAME=demo-$$
runc_run "$NAME" || { echo "demo: could not start the container" >&2; exit 1; }
echo "container $CID, init pid $CPID, overlay upper $CUPPER"

HOSTIP="" CTRIP=""
if declare -F veth_attach >/dev/null; then
	HOSTIF=cdemo$$
	HOSTIP=10.213.250.1 CTRIP=10.213.250.2
	veth_attach "$CPID" "$HOSTIF" "$HOSTIP/30" "$CTRIP/30" && echo "veth $HOSTIF: host $HOSTIP <-> container $CTRIP"
fi

say "simulate a compromise"
runc_exec "$NAME" sh -c 'echo "evil:x:0:0::/root:/bin/sh" >> /etc/passwd; rm -f /bin/wget; cp /bin/busybox /tmp/.x; (cd /tmp && exec ./.x sleep 100000 >/dev/null 2>&1 &) ; rm -f /tmp/.x; echo "beacon" > /tmp/c2.txt' </dev/null
if [ -n "$HOSTIP" ]; then
	runc_exec "$NAME" sh -c "(while :; do nc -w 1 $HOSTIP 4444 </dev/null >/dev/null 2>&1; sleep 0.5; done) >/dev/null 2>&1 &" </dev/null
fi
echo "planted: a root account in /etc/passwd, /bin/wget deleted, a deleted executable running${HOSTIP:+, a beacon to $HOSTIP:4444}"

say "find it"
show "$CONTAIN" list
show "$CONTAIN" inspect "$NAME" | head -40

if has_verb quarantine; then
	say "quarantine: cut the network, freeze the cgroup"
	if [ -n "$HOSTIP" ]; then
		printf 'before: container answers on %s:8080? ' "$CTRIP"
		wget -q -T 2 -O /dev/null "http://$CTRIP:8080/" && echo yes || echo no
	fi
	show "$CONTAIN" quarantine "$NAME"
	if [ -n "$HOSTIP" ]; then
		printf 'after:  container answers on %s:8080? ' "$CTRIP"
		wget -q -T 2 -O /dev/null "http://$CTRIP:8080/" && echo yes || echo "no (cut)"
	fi
fi

if has_verb keygen; then
	say "a signing key for the evidence"
	show "$CONTAIN" keygen -o "$T_DIR/examiner"
fi

if has_verb capture; then
	say "capture the evidence into a signed bag"
	show "$CONTAIN" capture "$NAME" -o "$T_DIR/case-1" --case CASE-1 --examiner demo \
		--sign-key "$T_DIR/examiner.key" --pcap-seconds 3
	show ls -l "$T_DIR/case-1/data" "$T_DIR/case-1/data/"*
fi

if has_verb verify && [ -d "$T_DIR/case-1" ]; then
	say "verify the bag: with our tool, and with sha256sum alone"
	show "$CONTAIN" verify --pubkey "$T_DIR/examiner.pub" "$T_DIR/case-1"
	(cd "$T_DIR/case-1" && show sha256sum --quiet -c manifest-sha256.txt && echo "sha256sum: manifest ok")
	say "tamper with a copy: verify must fail"
	cp -a "$T_DIR/case-1" "$T_DIR/case-1-tampered"
	f=$(find "$T_DIR/case-1-tampered/data" -type f -name '*.json' | head -1)
	printf 'X' | dd of="$f" bs=1 seek=10 conv=notrunc status=none
	show "$CONTAIN" verify "$T_DIR/case-1-tampered" || echo "(exit $?: tampering detected)"
fi

if has_verb release && has_verb quarantine; then
	say "release: the responder's decision"
	show "$CONTAIN" release "$NAME"
	if [ -n "$HOSTIP" ]; then
		printf 'after release: container answers on %s:8080? ' "$CTRIP"
		wait_for 5 wget -q -T 1 -O /dev/null "http://$CTRIP:8080/" && echo yes || echo no
	fi
fi

if has_verb audit; then
	say "the node audit log is hash-chained"
	show "$CONTAIN" audit verify "$CONTAIN_AUDIT_LOG"
fi

say "clean up"
echo "removing the container, its mounts, cgroups and links"

#!/bin/bash
# t0411: the core quarantine checks (cut both directions, frozen, release
# restores) with a Docker container on its bridge and a podman one.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/net.sh"
need_root
need_cmd nft jq busybox
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
[ -f "$CONTAIN_TOP/tests/lib/daemons.sh" ] || skip_all "no daemon harness (tests/lib/daemons.sh)"
in_ci || command -v dockerd >/dev/null || command -v podman >/dev/null ||
	skip_all "neither dockerd nor podman on this machine"
. "$CONTAIN_TOP/tests/lib/daemons.sh"
exec 9>/tmp/contain-t0411.lock
flock -w 1200 9 || skip_all "another run of t0411 holds /tmp/contain-t0411.lock"

mkdir -p "$T_DIR/www"
echo host-side >"$T_DIR/www/index.html"

# core ENGINE EXEC_FN REF CTR_IP HOST_IP PORT
core() {
	local eng=$1 exf=$2 ref=$3 cip=$4 hip=$5 port=$6 hpid
	busybox httpd -f -p "$hip:$port" -h "$T_DIR/www" &
	hpid=$!
	on_exit "kill $hpid"
	h2c() { timeout 3 busybox wget -q -O- "http://$cip:8080/" | grep -q 'contain fixture'; }
	c2h() { $exf timeout 3 wget -q -O- "http://$hip:$port/" 2>/dev/null | grep -q host-side; }
	ok "$eng: before: host reaches the container" wait_for 30 h2c
	ok "$eng: before: the container reaches the host" wait_for 30 c2h
	local tabs
	tabs=$("$CONTAIN" --json quarantine --dry-run "$ref" | jq -r '.netns_ruleset, .host_ruleset' |
		awk '/^create table/ {print $4}' | tr '\n' ' ')
	like "$tabs" "contain_q_[0-9a-f]{12} contain_h_[0-9a-f]{12}" "$eng: a netns table and a host table on its veth"
	local htab=${tabs#* }
	htab=${htab%% *}

	run "$CONTAIN" quarantine --net-only "$ref"
	is "$RC" 0 "$eng: quarantine --net-only exits 0"
	fails "$eng: after: host cannot reach the container" h2c
	fails "$eng: after: the container cannot reach the host" c2h
	ok "$eng: the host table is there" nft list table netdev "$htab"

	run "$CONTAIN" quarantine "$ref"
	is "$RC" 0 "$eng: quarantine (freeze) exits 0"
	local id dir kind
	id=$("$CONTAIN" --json inspect "$ref" | jq -r .id)
	dir=$(jq -r .freeze.dir "$CONTAIN_STATE_DIR/$id.json")
	kind=$(jq -r .freeze.kind "$CONTAIN_STATE_DIR/$id.json")
	if [ "$kind" = cgroup2 ]; then
		like "$(cat "$dir/cgroup.events")" "frozen 1" "$eng: frozen (cgroup2)"
	else
		is "$(cat "$dir/freezer.state")" FROZEN "$eng: frozen (v1 freezer)"
	fi
	fails "$eng: frozen and cut: host cannot reach it" h2c

	run "$CONTAIN" release "$ref"
	is "$RC" 0 "$eng: release exits 0"
	if [ "$kind" = cgroup2 ]; then
		like "$(cat "$dir/cgroup.events")" "frozen 0" "$eng: thawed"
	else
		is "$(cat "$dir/freezer.state")" THAWED "$eng: thawed"
	fi
	ok "$eng: after release: host reaches the container" wait_for 20 h2c
	ok "$eng: after release: the container reaches the host" wait_for 20 c2h
	fails "$eng: the host table is gone" nft list table netdev "$htab"
	ok "$eng: no state file left" test ! -e "$CONTAIN_STATE_DIR/$id.json"
}

# ---- Docker on its bridge (a daemon or container that does not start: a
# skip here, a failure under CI=true, from dockerd_up / docker_run themselves)
if ! dockerd_up; then
	skip "docker: quarantine core checks" "the private dockerd did not start here"
elif ! docker_run "t0411-$$-d"; then
	skip "docker: quarantine core checks" "docker run failed here"
else
	dcip=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$CID")
	if [ -z "$dcip" ]; then
		skip "docker: quarantine core checks" "the docker container got no bridge address (no veth)"
	else
		dex() { dk exec "$DCID" "$@"; }
		DCID=$CID
		on_exit "\"$CONTAIN\" release \"$DCID\""
		core docker dex "$DCID" "$dcip" 10.213.90.1 18111
	fi
fi

# ---- podman (CNI bridge)
if ! podman_up; then
	skip "podman: quarantine core checks" "podman does not run here"
elif [ "${PODMAN_NET:-none}" = none ]; then
	start_failed "podman's CNI bridge network" "no CNI bridge plugins (containernetworking-plugins)"
	skip "podman: quarantine core checks" "no CNI bridge plugins: podman gives no veth here"
elif ! podman_run "t0411-$$-p"; then
	skip "podman: quarantine core checks" "podman run failed here"
else
	pcip=$(pm inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$CID")
	if [ -z "$pcip" ]; then
		skip "podman: quarantine core checks" "the podman container got no bridge address"
	else
		PCID=$CID
		on_exit "\"$CONTAIN\" release \"$PCID\""
		pex() { pm exec "$PCID" "$@"; }
		core podman pex "$PCID" "$pcip" 10.213.91.1 18112
	fi
fi

done_testing

#!/bin/bash
# t0701: contain capture of a Docker container (a private dockerd from
# tests/lib/daemons.sh): the core path verifies, the container's log file is
# in data/container/logs/, upper.tar shows a file written inside, the
# container is left frozen and quarantined, and contain release restores it.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/daemons.sh"
need_root
need_cmd dockerd docker jq tar sha256sum tcpdump nft nsenter timeout
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
[ -f "$CONTAIN_TOP/fixtures/cache/fixture-docker.tar" ] || skip_all "no fixtures (run fixtures/build.sh)"

dockerd_up || skip_all "cannot start a private dockerd here"
docker_run "t0701-$$" || skip_all "cannot run a docker container"
ID=$CID
DPID=$CPID
like "$ID" '^[0-9a-f]{64}$' "docker gives a full container id"

# a file written inside, a line in the container's log (its PID 1's stdout)
dk exec "$ID" sh -c 'echo planted-by-t0701 >/tmp/planted && echo LOGLINE-T0701-$$ >/proc/1/fd/1' ||
	diag "docker exec failed"
LOG=$(dk inspect -f '{{.LogPath}}' "$ID")
ok "the log line reached the docker log file" wait_for 30 grep -q LOGLINE-T0701 "$LOG"

B=$T_DIR/bag
run timeout 120 "$CONTAIN" capture "${ID:0:12}" -o "$B" --pcap-seconds 2
is "$RC" 0 "capture of the docker container (by short id) exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
ok "contain verify passes" "$CONTAIN" verify "$B"
ok "sha256sum -c manifest-sha256.txt" sh -c "cd '$B' && sha256sum --quiet -c manifest-sha256.txt"
ok "sha256sum -c tagmanifest-sha256.txt" sh -c "cd '$B' && sha256sum --quiet -c tagmanifest-sha256.txt"
like "$(cat "$B/bag-info.txt")" "Contain-Runtime: docker" "bag-info: runtime docker"
like "$(cat "$B/bag-info.txt")" "Contain-Container-Id: $ID" "bag-info: the full container id"
is "$(jq -r .runtime "$B/data/container/image.json")" docker "image.json: runtime docker"
like "$(jq -r '.image // ""' "$B/data/container/image.json")" 'contain-fixture' "image.json: the image reference"

L=$B/data/container/logs/$(basename "$LOG")
ok "the container's log file is in data/container/logs/" test -s "$L"
ok "with the line written to it" grep -q LOGLINE-T0701 "$L"
ok "the log is in the manifest" grep -q " data/container/logs/$(basename "$LOG")$" "$B/manifest-sha256.txt"
ok "data/container/config.json is there" jq -e .process "$B/data/container/config.json"

TV=$(tar -tvf "$B/data/fs/upper.tar" 2>&1)
like "$TV" ' tmp/planted$' "upper.tar shows the file written inside"
is "$(tar -xOf "$B/data/fs/upper.tar" tmp/planted 2>/dev/null)" planted-by-t0701 "with its content"

ok "processes: the init is in tree.json" jq -e ".pids[] | select(.pid==$DPID)" "$B/data/processes/tree.json"
ok "network state: the 8080 listener" \
	jq -e '.sockets[] | select(.lport==8080 and .state=="LISTEN")' "$B/data/network/state.json"
ok "a pcap of eth0 that tcpdump reads" tcpdump -nn -r "$B/data/network/capture-eth0.pcap"
ok "memory: a core of the init" test -s "$B/data/memory/$DPID.core"

# left quarantined and frozen
SF=$(jq -r '.state.freeze.state_file' "$B/data/quarantine.json")
frozen() { grep -qxE 'frozen 1|FROZEN' "$SF"; }
thawed() { grep -qxE 'frozen 0|THAWED' "$SF"; }
ok "left frozen ($SF)" frozen
QN=$(jq -r '.state.network.netns_table.name' "$B/data/quarantine.json")
ok "left quarantined: table $QN in its netns" nsenter --net="/proc/$DPID/ns/net" nft list table inet "$QN"
run "$CONTAIN" release "${ID:0:12}"
is "$RC" 0 "contain release"
ok "thawed after release" wait_for 30 thawed
fails "the netns table is gone after release" nsenter --net="/proc/$DPID/ns/net" nft list table inet "$QN"
ok "docker still sees it running" _dk_running "$ID"

done_testing

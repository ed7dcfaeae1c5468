#!/bin/bash
# t0100-discovery: contain list / inspect against real runc containers, and
# CRI-O from the recorded tree in fixtures/crio/ (CRI-O is not packaged for
# this OS: its containers/storage layout is tested from that fixture tree).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/containers.sh"
need_root
need_cmd runc jq mountpoint
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"

A=ct-$$-alpha
B=ct-$$-beta
runc_run "$A" || skip_all "cannot start a runc container here"
APID=$CPID
AUPPER=$CUPPER
runc_run "$B" || skip_all "cannot start a second runc container here"
BPID=$CPID
runc_exec "$A" sh -c "echo planted-$$ >/tmp/evidence.txt" </dev/null
ok "wrote a file inside the container" test -f "$T_DIR/runc/$A/merged/tmp/evidence.txt"

# ---- list ----
run "$CONTAIN" list
is "$RC" 0 "list exits 0"
like "$OUT" "^RUNTIME +ID +NAME +IMAGE +PID +STATUS +QUARANTINE +POD +NAMESPACE" "list prints a header"
like "$OUT" "^runc +${A:0:12} .* $APID +running" "list shows the first container with its pid"
like "$OUT" "^runc +${B:0:12} .* $BPID +running" "list shows the second container"
wide=$(printf '%s\n' "$OUT" | awk 'length($0) > 106' | wc -l)
is "$wide" 0 "the table fits 106 columns (QUARANTINE included)"

run "$CONTAIN" --json list
is "$RC" 0 "--json list exits 0"
ok "--json list is a JSON array" jq -e 'type == "array"' <<<"$OUT"
is "$(jq -r --arg id "$A" '.[] | select(.id == $id) | .pid' <<<"$OUT")" "$APID" \
	"--json list has the full id and the init pid"

# ---- inspect ----
run "$CONTAIN" inspect "$A"
is "$RC" 0 "inspect by full id exits 0"
J=$OUT
is "$(jq -r .runtime <<<"$J")" runc "runtime is runc"
is "$(jq -r .id <<<"$J")" "$A" "full id"
is "$(jq -r .pid <<<"$J")" "$APID" "init pid"
is "$(jq -r .status <<<"$J")" running "status running"
ok "pids hold the init" jq -e --argjson p "$APID" '.pids | index($p) != null' <<<"$J"
ok "pids hold more than the init (httpd, sleep)" jq -e '.pids | length >= 2' <<<"$J"
UP=$(jq -r .overlay.upperdir <<<"$J")
is "$UP" "$AUPPER" "upperdir from mountinfo is the overlay's upper"
ok "the planted file is in the reported upperdir" grep -qx "planted-$$" "$UP/tmp/evidence.txt"
is "$(jq -r '.overlay.lowerdirs[0]' <<<"$J")" "$FIXTURE_ROOTFS" "lowerdir is the fixture rootfs"
is "$(jq -r .rootfs_fstype <<<"$J")" overlay "root fstype overlay"
is "$(jq -r .bundle <<<"$J")" "$T_DIR/runc/$A/bundle" "bundle from the state's labels"
ok "config_path exists" test -f "$(jq -r .config_path <<<"$J")"
ncg=$(jq '.cgroups | length' <<<"$J")
ok "several cgroup hierarchies reported" test "$ncg" -ge 2
bad=0
for p in $(jq -r '.cgroups[].fs_path' <<<"$J"); do
	grep -qx "$APID" "$p/cgroup.procs" 2>/dev/null || { bad=1; diag "pid $APID not in $p"; }
done
is "$bad" 0 "every reported cgroup dir exists and holds the init pid"
is "$(jq -r .cgroup_freezer <<<"$J")" "/sys/fs/cgroup/freezer/contain-test/$A" "v1 freezer path"
is "$(jq -r .cgroup_unified <<<"$J")" "/sys/fs/cgroup/unified/contain-test/$A" "unified path"
is "$(jq -r .netns.inode <<<"$J")" "$(stat -L -c %i /proc/$APID/ns/net)" "netns inode"
is "$(jq -r .netns.host <<<"$J")" false "own netns, not the host's"

# ---- resolution ----
run "$CONTAIN" inspect "${A:0:${#A}-2}"
is "$RC" 0 "a unique prefix resolves"
is "$(jq -r .id <<<"$OUT")" "$A" "the prefix resolves to the right container"
run "$CONTAIN" inspect "$APID"
is "$(jq -r .id <<<"$OUT")" "$A" "the init pid resolves to its container"
child=$(jq -r --argjson p "$APID" '[.pids[] | select(. != $p)][0]' <<<"$J")
run "$CONTAIN" inspect "$child"
is "$(jq -r .id <<<"$OUT")" "$A" "another pid of the container resolves to it"
run "$CONTAIN" inspect "ct-$$-"
is "$RC" 2 "an ambiguous prefix exits 2"
like "$ERR" "ambiguous" "the message says ambiguous"
like "$ERR" "$A" "the candidates are listed (first)"
like "$ERR" "$B" "the candidates are listed (second)"
run "$CONTAIN" inspect "nope-$$-none"
is "$RC" 1 "an unknown REF exits 1"
like "$ERR" "no container matches 'nope-$$-none'" "the message names the REF"
run "$CONTAIN" inspect "$$"
is "$RC" 1 "a host pid outside any container is refused (exit 1)"
like "$ERR" "pid $$ is not in any container" "the refusal says why"

# ---- paused ----
echo FROZEN >"/sys/fs/cgroup/freezer/contain-test/$B/freezer.state"
wait_for 30 grep -qx FROZEN "/sys/fs/cgroup/freezer/contain-test/$B/freezer.state"
run "$CONTAIN" --json list
is "$(jq -r --arg id "$B" '.[] | select(.id == $id) | .status' <<<"$OUT")" paused \
	"a frozen container is paused"
echo THAWED >"/sys/fs/cgroup/freezer/contain-test/$B/freezer.state"

# ---- corrupt state: warned per container, the rest listed ----
mkdir -p "$RUNC_ROOT/broken-$$" "$RUNC_ROOT/recycled-$$" "$RUNC_ROOT/gone-$$"
printf '{"id": "broken-%s", "init_process_pid": 12' "$$" >"$RUNC_ROOT/broken-$$/state.json"
# a live pid (this shell) with the wrong start time: a recycled pid
printf '{"id": "recycled-%s", "init_process_pid": %s, "init_process_start": 1}' "$$" "$$" \
	>"$RUNC_ROOT/recycled-$$/state.json"
# a pid that cannot exist
printf '{"id": "gone-%s", "init_process_pid": 2147483600, "init_process_start": 5}' "$$" \
	>"$RUNC_ROOT/gone-$$/state.json"
run "$CONTAIN" --json list
is "$RC" 0 "list still exits 0 with corrupt state"
like "$ERR" "warning: .*broken-$$/state.json" "the truncated state.json is warned about"
like "$ERR" "warning: .*recycled-$$.*another process" "the recycled pid is warned about"
like "$ERR" "warning: .*gone-$$.*no longer exists" "the dead pid is warned about"
is "$(jq -r --arg id "$A" '.[] | select(.id == $id) | .status' <<<"$OUT")" running \
	"the good containers are still listed"
is "$(jq -r --arg id "recycled-$$" '.[] | select(.id == $id) | "\(.status) \(.pid)"' <<<"$OUT")" \
	"stopped 0" "a recycled pid is not taken for the container"
is "$(jq -r --arg id "broken-$$" '[.[] | select(.id == $id)] | length' <<<"$OUT")" 0 \
	"the corrupt one is skipped"
rm -rf "$RUNC_ROOT/broken-$$" "$RUNC_ROOT/recycled-$$" "$RUNC_ROOT/gone-$$"

# ---- names are attacker-influenced: control characters never reach the terminal ----
EVIL=$(printf 'evil-%s-\033]0;pwn\007\033[31m' "$$")
mkdir -p "$RUNC_ROOT/$EVIL"
jq -n --arg id "$EVIL" '{id: $id, init_process_pid: 0}' >"$RUNC_ROOT/$EVIL/state.json"
run "$CONTAIN" list
is "$RC" 0 "list with a hostile name exits 0"
ok "no raw escape character in the table" bash -c '! printf "%s" "$1" | grep -q "$(printf "\033")"' _ "$OUT"
like "$OUT" 'evil-[0-9]+-\\x1b' "the escape is shown as \\x1b"
run "$CONTAIN" --json list
is "$(jq -r --arg id "$EVIL" '[.[] | select(.id == $id)] | length' <<<"$OUT")" 1 \
	"--json keeps the exact name"
rm -rf "${RUNC_ROOT:?}/$EVIL"

# ---- a namespaced root, as containerd gives runc (<root>/<ns>/<id>) ----
NSROOT=$T_DIR/nsroot
mkdir -p "$NSROOT/k8s.io"
cp -a "$RUNC_ROOT/$A" "$NSROOT/k8s.io/$A"
run env -u CONTAIN_ROOTS "$CONTAIN" --root "runc=$NSROOT" --json list
is "$(jq -r --arg id "$A" '.[] | select(.id == $id) | .namespace' <<<"$OUT")" k8s.io \
	"a root with one dir per namespace is scanned one level deeper"
is "$(jq -r --arg id "$B" '[.[] | select(.id == $id)] | length' <<<"$OUT")" 0 \
	"--root replaces that runtime's roots"
run "$CONTAIN" --root "runc=$NSROOT" --root "runc=$RUNC_ROOT" --json list
is "$(jq -r --arg id "$A" '[.[] | select(.id == $id)] | length' <<<"$OUT")" 1 \
	"one container seen through two roots is listed once"

# ---- CRI-O, from the recorded tree ----
CRIO=$CONTAIN_TOP/fixtures/crio/storage
run "$CONTAIN" --root "crio=$CRIO" --json list
is "$RC" 0 "list with a CRI-O root exits 0"
CJ=$(jq -c '[.[] | select(.runtime == "crio")]' <<<"$OUT")
is "$(jq length <<<"$CJ")" 2 "two CRI-O containers (sandbox and container), podman's left out"
is "$(jq -r '.[] | select(.name == "web") | .kubernetes.pod' <<<"$CJ")" web-7d9c4b-x2x9z \
	"pod name from the annotations"
is "$(jq -r '.[] | select(.name == "web") | .kubernetes.namespace' <<<"$CJ")" shop \
	"pod namespace from the annotations"
is "$(jq -r '.[] | select(.name == "web") | .image' <<<"$CJ")" \
	"registry.example.com/shop/web:1.4" "image name"
like "$(jq -r '.[] | select(.name == "web") | .image_digest' <<<"$CJ")" "^sha256:[0-9a-f]{64}$" \
	"image digest from ImageRef"
like "$(jq -r '.[] | select(.name == "web") | .log_path' <<<"$CJ")" "^/var/log/pods/shop_" \
	"CRI log path"
run "$CONTAIN" --root "crio=$CRIO" list
like "$OUT" "^crio +[0-9a-f]{12} +web .* web-7d9c4b-x~ +shop" "the table shows POD and NAMESPACE"
run "$CONTAIN" --root "crio=$CRIO" inspect web
is "$RC" 0 "a CRI-O container resolves by its name"
is "$(jq -r .runtime <<<"$OUT")" crio "and it is CRI-O's"
is "$(jq -r .kubernetes.container <<<"$OUT")" web "kubernetes container name"

# ---- --freezer-only: no cgroup2 dir of its own ----
C=ct-$$-gamma
if runc_run "$C" --freezer-only; then
	run "$CONTAIN" inspect "$C"
	is "$(jq -r .cgroup_unified <<<"$OUT")" null "no unified cgroup: never the root's"
	is "$(jq -r .cgroup_freezer <<<"$OUT")" "/sys/fs/cgroup/freezer/contain-test/$C" \
		"the v1 freezer is its own"
	ok "pids come from the freezer" jq -e --argjson p "$CPID" '.pids | index($p) != null' <<<"$OUT"
	n=$(jq '.pids | length' <<<"$OUT")
	ok "and are only the container's ($n)" test "$n" -lt 50
else
	skip "no unified cgroup" "--freezer-only unavailable"
	skip "freezer path" "--freezer-only unavailable"
	skip "pids from the freezer" "--freezer-only unavailable"
	skip "only the container's pids" "--freezer-only unavailable"
fi

# ---- --net host: the host's own netns, flagged so no one cuts it ----
D=ct-$$-delta
if runc_run "$D" --net host; then
	run "$CONTAIN" inspect "$D"
	is "$(jq -r .netns.host <<<"$OUT")" true "a host-network container is flagged host"
	is "$(jq -r .netns.inode <<<"$OUT")" "$(stat -L -c %i /proc/self/ns/net)" "with our netns inode"
else
	skip "host netns flagged" "runc_run --net host failed"
	skip "host netns inode" "runc_run --net host failed"
fi

done_testing

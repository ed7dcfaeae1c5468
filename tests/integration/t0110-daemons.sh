#!/bin/bash
# t0110-daemons: discovery of containerd, Docker and podman containers, with
# the real daemons (private instances: tests/lib/daemons.sh). For each: a
# running container with a file written inside it; `contain list` and
# `contain --json list` find it once, with the right runtime, id, name, image
# and pid; `contain inspect` by name, id prefix and pid agrees; the file is in
# the reported overlay upperdir; the cgroup dirs exist and hold the pid.
# Then corrupt state of each runtime is warned about and the others listed.
. "$(dirname "$0")/../lib/lib.sh"
[ -f "$CONTAIN_TOP/tests/lib/containers.sh" ] && . "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/daemons.sh"

need_root
need_cmd jq
[ -x "$CONTAIN" ] || skip_all "no binary at $CONTAIN (make)"
[ -f "$CONTAIN_TOP/fixtures/cache/fixture-oci.tar" ] && [ -f "$CONTAIN_TOP/fixtures/cache/fixture-docker.tar" ] ||
	skip_all "fixtures not built (fixtures/build.sh)"
in_ci || command -v containerd >/dev/null || command -v dockerd >/dev/null || command -v podman >/dev/null ||
	skip_all "no containerd, dockerd or podman on this machine"

# only our daemons' roots: never the node's real containers
export CONTAIN_ROOTS=""

# entries of `contain --json list` with id $1
list_json() { "$CONTAIN" --json list 2>"$T_DIR/list.err"; }
count_id() { jq --arg id "$2" '[.[] | select(.id == $id)] | length' <<<"$1"; }
field() { jq -r --arg id "$2" ".[] | select(.id == \$id) | $3" <<<"$1"; }

# check RUNTIME NAME ID PID IMAGE PREFIX MARKER: the shared assertions
check_ctr() {
	local rt=$1 name=$2 id=$3 pid=$4 image=$5 prefix=$6 marker=$7 j
	j=$(list_json)
	is "$(count_id "$j" "$id")" 1 "$rt: --json list has '$name' exactly once"
	is "$(field "$j" "$id" .runtime)" "$rt" "$rt: runtime"
	is "$(field "$j" "$id" .name)" "$name" "$rt: name"
	is "$(field "$j" "$id" .pid)" "$pid" "$rt: pid"
	is "$(field "$j" "$id" .status)" running "$rt: status"
	is "$(field "$j" "$id" .image)" "$image" "$rt: image"
	run "$CONTAIN" list
	like "$OUT" "^$rt +${id:0:12} +$name " "$rt: table list shows it"

	run "$CONTAIN" inspect "$name"
	is "$RC" 0 "$rt: inspect by name"
	is "$(jq -r .pid <<<"$OUT")" "$pid" "$rt: inspect by name: pid"
	is "$(jq -r .runtime <<<"$OUT")" "$rt" "$rt: inspect by name: runtime"
	local insp=$OUT
	run "$CONTAIN" inspect "$prefix"
	is "$(jq -r .id <<<"$OUT")" "$id" "$rt: inspect by id prefix '$prefix'"
	run "$CONTAIN" inspect "$pid"
	is "$(jq -r .id <<<"$OUT")" "$id" "$rt: inspect by pid $pid"

	local upper
	upper=$(jq -r '.overlay.upperdir // empty' <<<"$insp")
	[ -n "$upper" ] || upper=$T_DIR/no-upperdir
	ok "$rt: upperdir '$upper' is a directory" test -d "$upper"
	is "$(cat "$upper/tmp/contain-marker" 2>/dev/null)" "$marker" "$rt: the file written inside is in the upperdir"

	local cg n=0 bad=0
	while IFS= read -r cg; do
		[ -n "$cg" ] || continue
		n=$((n + 1))
		{ [ -d "$cg" ] && grep -qx "$pid" "$cg/cgroup.procs"; } || { bad=$((bad + 1)); diag "cgroup '$cg' lacks $pid"; }
	done < <(jq -r '.cgroups[].fs_path // empty' <<<"$insp")
	ok "$rt: cgroup paths reported ($n)" test "$n" -gt 0
	is "$bad" 0 "$rt: every cgroup dir exists and holds pid $pid"
	local fz
	fz=$(jq -r '.cgroup_freezer // empty' <<<"$insp")
	ok "$rt: freezer cgroup holds the pid" grep -qx "$pid" "$fz/cgroup.procs"
	echo "$insp" >"$T_DIR/inspect-$rt.json"
}

# ---- containerd
CTRD_OK=""
if containerd_up && containerd_run "ctd$$main" \
	--annotation io.kubernetes.cri.image-name=contain-fixture:latest \
	--annotation io.kubernetes.pod.name=pod-a \
	--annotation io.kubernetes.pod.namespace=ns-a \
	--annotation io.kubernetes.cri.container-name=web; then
	CTRD_OK=1
	C_ID=$CID C_PID=$CPID
	ctrd task exec --exec-id w1 --fifo-dir "$T_DIR/ctrd/fifo" "$C_ID" \
		sh -c 'echo marker-containerd >/tmp/contain-marker'
	check_ctr containerd "$C_ID" "$C_ID" "$C_PID" contain-fixture:latest "ctd$$ma" marker-containerd
	j=$(cat "$T_DIR/inspect-containerd.json")
	is "$(jq -r .namespace <<<"$j")" contain-test "containerd: namespace"
	is "$(jq -r '.kubernetes | "\(.pod) \(.namespace) \(.container)"' <<<"$j")" "pod-a ns-a web" \
		"containerd: kubernetes pod, namespace, container from the CRI annotations"
	is "$(jq -r .config_path <<<"$j")" "$CTRD_STATE/io.containerd.runtime.v2.task/contain-test/$C_ID/config.json" \
		"containerd: config_path is the task's config.json"
	# a second task, without annotations: no image known
	if containerd_run "ctd$$bad"; then
		C2_ID=$CID
		j=$(list_json)
		is "$(field "$j" "$C2_ID" .image)" null "containerd: no CRI annotation, no image (the bolt DB is not read)"
	else
		skip "containerd: second task" "ctr run failed"
	fi
else
	skip "containerd discovery" "containerd or its task did not start: $(tail -1 "$T_DIR/ctrd/log" 2>/dev/null)"
fi

# ---- docker
DOCKER_OK=""
if dockerd_up && docker_run "dk$$main" --label contain.test=yes; then
	DOCKER_OK=1
	D_ID=$CID D_PID=$CPID
	dk exec "$D_ID" sh -c 'echo marker-docker >/tmp/contain-marker'
	check_ctr docker "dk$$main" "$D_ID" "$D_PID" contain-fixture:latest "${D_ID:0:12}" marker-docker
	j=$(cat "$T_DIR/inspect-docker.json")
	is "$(jq -r .image_digest <<<"$j")" "$(dk inspect -f '{{.Image}}' "$D_ID")" "docker: image_digest is the image id"
	lp=$(jq -r '.log_path // empty' <<<"$j")
	ok "docker: log_path '$lp' exists" test -f "$lp"
	is "$(jq -r '.labels["contain.test"]' <<<"$j")" yes "docker: labels"
	like "$(jq -r .config_path <<<"$j")" "/io.containerd.runtime.v2.task/moby/$D_ID/config.json\$" \
		"docker: OCI config from its containerd's task (merged, docker wins)"
	ok "docker: the container has a veth on the private bridge" \
		sh -c "ip -o link show master '$DOCKER_BRIDGE' | grep -q veth"
	# Docker's exec root alone (--root docker=EXEC_ROOT): its containerd's moby tasks
	j=$(CONTAIN_ROOTS="" "$CONTAIN" --root "docker=$DOCKER_EXEC" --json list 2>/dev/null)
	is "$(field "$j" "$D_ID" '"\(.runtime) \(.pid)"')" "docker $D_PID" "docker: found through --root docker=EXEC_ROOT"
	# a created, never started container: listed as created
	D2_ID=$(dk create --name "dk$$bad" contain-fixture:latest /contain-init)
	j=$(list_json)
	is "$(field "$j" "$D2_ID" .status)" created "docker: a created container is listed as created"
else
	skip "docker discovery" "dockerd or its container did not start: $(tail -1 "$T_DIR/docker/log" 2>/dev/null)"
fi

# ---- podman
PODMAN_OK=""
if podman_up && podman_run "pm$$main"; then
	PODMAN_OK=1
	P_ID=$CID P_PID=$CPID
	pm exec "$P_ID" sh -c 'echo marker-podman >/tmp/contain-marker'
	check_ctr podman "pm$$main" "$P_ID" "$P_PID" "$(pm inspect -f '{{.ImageName}}' "$P_ID")" "${P_ID:0:12}" marker-podman
	j=$(cat "$T_DIR/inspect-podman.json")
	lp=$(jq -r '.log_path // empty' <<<"$j")
	ok "podman: log_path '$lp' exists (k8s-file)" test -f "$lp"
	is "$(jq -r .image_digest <<<"$j")" "sha256:$(pm inspect -f '{{.Image}}' "$P_ID")" "podman: image_digest is the image id"
	is "$(jq -r '.labels["io.container.manager"]' <<<"$j")" libpod "podman: OCI annotations as labels"
	if [ "$PODMAN_NET" != none ]; then
		ok "podman: the container has a veth on the private bridge" \
			sh -c "ip -o link show master '$PODMAN_BRIDGE' | grep -q veth"
	else
		skip "podman: veth" "no CNI bridge plugin here: --network none"
	fi
	j=$(CONTAIN_ROOTS="" "$CONTAIN" --root "podman=$PODMAN_ROOT" --root "podman=$PODMAN_RUNROOT" --json list 2>/dev/null)
	is "$(field "$j" "$P_ID" '"\(.runtime) \(.name) \(.pid)"')" "podman pm$$main $P_PID" \
		"podman: --root podman=GRAPHROOT --root podman=RUNROOT: listed once, merged"
	is "$(count_id "$j" "$P_ID")" 1 "podman: graph root and run root entries merged into one"
	# a stopped one: podman leaves its pidfile behind; listed as stopped, pid 0
	if podman_run "pm$$bad" && pm stop -t 0 "$CID" >/dev/null; then
		P2_ID=$CID
		j=$(list_json)
		is "$(field "$j" "$P2_ID" '"\(.status) \(.pid)"')" "stopped 0" "podman: a stopped container is listed as stopped"
		unlike "$(cat "$T_DIR/list.err")" "$P2_ID" "podman: no warning for a stopped container"
	else
		skip "podman: stopped container" "second container did not start"
	fi
else
	skip "podman discovery" "podman or its container did not start: $(tail -3 "$T_DIR/podman/info.log" 2>/dev/null | tr '\n' ' ')"
fi

# ---- corrupt state: warned about, the rest still listed
if [ -n "$CTRD_OK" ] && [ -n "${C2_ID:-}" ]; then
	f=$CTRD_STATE/io.containerd.runtime.v2.task/contain-test/$C2_ID/config.json
	cp "$f" "$T_DIR/ctrd-config.bak"
	on_exit "cp '$T_DIR/ctrd-config.bak' '$f'"
	printf '{"ociVersion": "1.0.2", "root": {' >"$f"
fi
if [ -n "$DOCKER_OK" ]; then
	f=$DOCKER_DATA/containers/$D2_ID/config.v2.json
	head -c 100 "$f" >"$T_DIR/trunc" && cat "$T_DIR/trunc" >"$f"
fi
if [ -n "$PODMAN_OK" ]; then
	f=$PODMAN_ROOT/overlay-containers/containers.json
	cp "$f" "$T_DIR/containers.json.bak"
	on_exit "cp '$T_DIR/containers.json.bak' '$f'"
	echo '[{"id": ' >"$f"
fi
if [ -n "$CTRD_OK$DOCKER_OK$PODMAN_OK" ]; then
	run "$CONTAIN" --json list
	is "$RC" 0 "list with corrupt state still succeeds"
	j=$OUT
	if [ -n "$CTRD_OK" ] && [ -n "${C2_ID:-}" ]; then
		like "$ERR" "contain: .*containerd.*'$CTRD_STATE/io.containerd.runtime.v2.task/contain-test/$C2_ID/config.json'" \
			"containerd: a corrupt task config.json is warned about, naming it"
		# its runc state is still there: runc may list it, containerd must not
		unlike "$(field "$j" "$C2_ID" .runtime)" containerd "containerd: the corrupt task is skipped"
		is "$(field "$j" "$C_ID" .runtime)" containerd "containerd: the good task is still listed"
	fi
	if [ -n "$DOCKER_OK" ]; then
		like "$ERR" "docker.*'$DOCKER_DATA/containers/$D2_ID/config.v2.json'" \
			"docker: a truncated config.v2.json is warned about, naming it"
		is "$(count_id "$j" "$D2_ID")" 0 "docker: the corrupt container is skipped"
		is "$(field "$j" "$D_ID" .runtime)" docker "docker: the good container is still listed"
	fi
	if [ -n "$PODMAN_OK" ]; then
		like "$ERR" "podman.*'$PODMAN_ROOT/overlay-containers/containers.json'" \
			"podman: a corrupt containers.json is warned about, naming it"
		is "$(field "$j" "$P_ID" '"\(.runtime) \(.pid)"')" "podman $P_PID" \
			"podman: the running container is still found through the run root's pidfile"
	fi
fi

done_testing

# tests/lib/daemons.sh: private containerd, dockerd and podman for integration
# tests. Source it after tests/lib/lib.sh (and tests/lib/containers.sh):
#   . "$CONTAIN_TOP/tests/lib/daemons.sh"
#
#   containerd_up                  private containerd; CTRD_SOCK CTRD_ROOT CTRD_STATE CTRD_RUNC_ROOT
#   containerd_run NAME [ctr run args...]   a task in namespace contain-test; CID CPID
#   ctrd ARGS...                   ctr against it (namespace contain-test)
#   dockerd_up                     private dockerd with its own containerd and bridge;
#                                  DOCKER_HOST_SOCK DOCKER_DATA DOCKER_EXEC DOCKER_BRIDGE
#   docker_run NAME [docker run args...]    CID (full id) CPID
#   dk ARGS...                     docker -H "$DOCKER_HOST_SOCK"
#   podman_up                      podman on its own graph root / run root / runc root;
#                                  PODMAN_ROOT PODMAN_RUNROOT PODMAN_RUNC_ROOT PODMAN_NET
#   podman_run NAME [podman run args...]    CID CPID
#   pm ARGS...                     podman with the private configuration
#
# Each *_up appends its state roots to CONTAIN_ROOTS (so `contain` sees these
# daemons and never the node's real ones) and registers its teardown with
# on_exit: containers killed and removed, the daemon stopped by PID and waited
# for, leftover shims/conmons killed by PID, every mount under its dir
# unmounted (deepest first), its cgroups and network devices removed, and the
# directories it had to create under /run removed again when empty.
#
# Nothing here touches the machine's real container setup: every daemon has
# its own config, socket, pidfile, root and state under T_DIR; the fixed /run
# paths these daemons insist on (/run/containerd/s for shim sockets,
# /run/docker/plugins, /run/netns for podman's netns) are only used for the
# sockets/files of our own containers and removed again if we created them.
#
# Addresses: docker's bridge 10.213.90.1/24, podman's CNI bridge 10.213.91.1/24.
#
# This machine runs all four runtimes: under CI=true a daemon or container
# that does not start (or a missing command) is a failed test (lib.sh
# start_failed), not a skip; elsewhere they return 1 and the caller skips.

CTRD_NS=contain-test
_D_FIXTURES=${CONTAIN_TOP:?}/fixtures/cache

_d_add_roots() {
	local s
	for s in "$@"; do
		CONTAIN_ROOTS="${CONTAIN_ROOTS:+$CONTAIN_ROOTS,}$s"
	done
	export CONTAIN_ROOTS
}

# _d_note_new_dirs DIR...: remember which of DIR do not exist yet, so the
# teardown removes them (when empty) and nothing that was there before
_D_NEW_DIRS=()
_d_note_new_dirs() {
	local d
	for d in "$@"; do
		[ -e "$d" ] || _D_NEW_DIRS+=("$d")
	done
}
_d_rmdir_new() {
	local i
	# deepest (longest) first
	for ((i = ${#_D_NEW_DIRS[@]} - 1; i >= 0; i--)); do
		rmdir "${_D_NEW_DIRS[$i]}" 2>/dev/null
	done
	return 0
}
on_exit _d_rmdir_new

# _d_umount_under DIR: unmount every mount point at or below DIR, deepest first
_d_umount_under() {
	local dir=$1 mp pass
	for pass in 1 2 3; do
		local mps
		mps=$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print length($5) " " $5 }' \
			/proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
		[ -n "$mps" ] || return 0
		while IFS= read -r mp; do
			[ -n "$mp" ] || continue
			umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
		done <<<"$mps"
	done
	return 0
}

# _d_rm_cgroup REL: remove the cgroup REL (and its empty children) in every hierarchy
_d_rm_cgroup() {
	local rel=${1#/} h
	[ -n "$rel" ] || return 0
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h$rel" ] || continue
		find "$h$rel" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

# _d_thaw_cgroup REL: thaw REL and everything below (a frozen task never dies)
_d_thaw_cgroup() {
	local rel=${1#/} d
	[ -n "$rel" ] || return 0
	for d in /sys/fs/cgroup/freezer/"$rel" /sys/fs/cgroup/unified/"$rel" /sys/fs/cgroup/"$rel"; do
		[ -d "$d" ] || continue
		find "$d" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null
		find "$d" -name cgroup.freeze -exec sh -c 'echo 0 >"$1"' _ {} \; 2>/dev/null
	done
	return 0
}

# _d_stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL
_d_pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
_d_stop_pid() {
	local pid=$1 t=${2:-20}
	_d_pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	local end=$((SECONDS + t))
	while _d_pid_alive "$pid" && [ "$SECONDS" -le "$end" ]; do sleep 0.1; done
	if _d_pid_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		end=$((SECONDS + 10))
		while _d_pid_alive "$pid" && [ "$SECONDS" -le "$end" ]; do sleep 0.1; done
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# _d_pids_with_arg STRING: pids whose command line contains STRING (by PID, not by name)
_d_pids_with_arg() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
	done
	return 0
}
_d_kill_pids_with_arg() {
	local p
	for p in $(_d_pids_with_arg "$1"); do
		_d_stop_pid "$p" 5
	done
}

# _d_need CMD...: every CMD is there (a missing one is said, not skipped: a
# daemon is started mid-script, where skip_all would refuse)
_d_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { diag "no $c on this machine"; return 1; }
	done
}

# ---------------------------------------------------------------- containerd

ctrd() { ctr --address "$CTRD_SOCK" -n "$CTRD_NS" "$@"; }

containerd_up() { _containerd_up "$@" || start_failed "containerd_up: a private containerd"; }
_containerd_up() {
	_d_need containerd ctr runc || return 1
	local d=$T_DIR/ctrd
	mkdir -p "$d/root" "$d/state" "$d/fifo"
	CTRD_SOCK=$d/sock
	CTRD_ROOT=$d/root
	CTRD_STATE=$d/state
	# the runc root given to the shim (--runc-root); the shim adds the namespace
	CTRD_RUNC_ROOT=$CTRD_STATE/runc
	CTRD_CGROUP=contain-ctrd-$$
	export CTRD_SOCK CTRD_ROOT CTRD_STATE CTRD_RUNC_ROOT CTRD_CGROUP
	cat >"$d/config.toml" <<EOF
version = 2
root = "$CTRD_ROOT"
state = "$CTRD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
EOF
	# the v2 shim puts its sockets in /run/containerd/s whatever the config says
	_d_note_new_dirs /run/containerd /run/containerd/s
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	CTRD_PID=$!
	echo "$CTRD_PID" >"$d/pid"
	on_exit _containerd_down
	if ! wait_for 60 ctr --address "$CTRD_SOCK" version; then
		diag "containerd did not answer on $CTRD_SOCK:"
		tail -5 "$d/log" | sed 's/^/# /'
		return 1
	fi
	_d_add_roots "containerd=$CTRD_STATE" "runc=$CTRD_RUNC_ROOT/$CTRD_NS"
}

_containerd_down() {
	local d=$T_DIR/ctrd ns t
	_d_thaw_cgroup "$CTRD_CGROUP"
	if _d_pid_alive "${CTRD_PID:-}"; then
		for ns in $(ctr --address "$CTRD_SOCK" ns ls -q 2>/dev/null); do
			for t in $(ctr --address "$CTRD_SOCK" -n "$ns" task ls -q 2>/dev/null); do
				ctr --address "$CTRD_SOCK" -n "$ns" task kill -s KILL "$t" 2>/dev/null
			done
			for t in $(ctr --address "$CTRD_SOCK" -n "$ns" task ls -q 2>/dev/null); do
				wait_for 10 _ctrd_task_stopped "$ns" "$t"
				ctr --address "$CTRD_SOCK" -n "$ns" task rm -f "$t" 2>/dev/null
			done
			for t in $(ctr --address "$CTRD_SOCK" -n "$ns" c ls -q 2>/dev/null); do
				ctr --address "$CTRD_SOCK" -n "$ns" c rm "$t" 2>/dev/null
			done
		done
		_d_stop_pid "$CTRD_PID" 20
	fi
	# shims outlive containerd: stop any left for our socket
	_d_kill_pids_with_arg "-address $CTRD_SOCK"
	_d_umount_under "$d"
	_d_rm_cgroup "$CTRD_CGROUP"
	return 0
}
_ctrd_task_stopped() {
	ctr --address "$CTRD_SOCK" -n "$1" task ls 2>/dev/null | awk -v t="$2" '$1 == t { print $3 }' |
		grep -qv RUNNING
}

# containerd_run NAME [ctr run args...]: sets CID (= NAME) and CPID
containerd_run() { CID="" CPID=""; _containerd_run "$@" || start_failed "containerd_run '$1'"; }
_containerd_run() {
	local name=$1
	shift
	if [ -z "${CTRD_IMAGE:-}" ]; then
		ctrd images import "$_D_FIXTURES/fixture-oci.tar" >/dev/null || return 1
		# the index name is the archive's ref name; do not guess it
		CTRD_IMAGE=$(ctrd images ls -q | grep -m1 'contain-fixture') ||
			CTRD_IMAGE=$(ctrd images ls -q | head -1)
		[ -n "$CTRD_IMAGE" ] || return 1
		export CTRD_IMAGE
	fi
	ctrd run -d --snapshotter overlayfs --runc-root "$CTRD_RUNC_ROOT" \
		--fifo-dir "$T_DIR/ctrd/fifo" --cgroup "/$CTRD_CGROUP/$name" \
		"$@" "$CTRD_IMAGE" "$name" /contain-init >/dev/null || return 1
	CID=$name
	local f=$CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS/$name/init.pid
	wait_for 20 test -s "$f" || return 1
	CPID=$(cat "$f")
	export CID CPID
	_d_pid_alive "$CPID"
}

# ---------------------------------------------------------------- docker

dk() { DOCKER_CONFIG=$T_DIR/docker/cli docker -H "$DOCKER_HOST_SOCK" "$@"; }

dockerd_up() { _dockerd_up "$@" || start_failed "dockerd_up: a private dockerd"; }
_dockerd_up() {
	_d_need dockerd docker ip || return 1
	local d=$T_DIR/docker
	mkdir -p "$d/data" "$d/exec" "$d/cli"
	DOCKER_HOST_SOCK=unix://$d/sock
	DOCKER_DATA=$d/data
	DOCKER_EXEC=$d/exec
	DOCKER_BRIDGE=ctb$$
	DOCKER_BRIDGE=${DOCKER_BRIDGE:0:15}
	DOCKER_CGROUP=contain-docker-$$
	export DOCKER_HOST_SOCK DOCKER_DATA DOCKER_EXEC DOCKER_BRIDGE DOCKER_CGROUP
	echo '{}' >"$d/daemon.json"
	on_exit _dockerd_down
	ip link add "$DOCKER_BRIDGE" type bridge || return 1
	ip addr add 10.213.90.1/24 dev "$DOCKER_BRIDGE" && ip link set "$DOCKER_BRIDGE" up || return 1
	_d_note_new_dirs /run/docker /run/docker/plugins /run/containerd /run/containerd/s
	dockerd --config-file "$d/daemon.json" --data-root "$DOCKER_DATA" --exec-root "$DOCKER_EXEC" \
		-H "$DOCKER_HOST_SOCK" --pidfile "$d/pid" -b "$DOCKER_BRIDGE" \
		--iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
		--storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/$DOCKER_CGROUP" >"$d/log" 2>&1 &
	DOCKERD_PID=$!
	if ! wait_for 90 dk info; then
		diag "dockerd did not answer on $DOCKER_HOST_SOCK:"
		tail -5 "$d/log" | sed 's/^/# /'
		return 1
	fi
	_d_add_roots "docker=$DOCKER_DATA" "containerd=$DOCKER_EXEC/containerd/daemon" \
		"runc=$DOCKER_EXEC/runtime-runc/moby"
}

_dockerd_down() {
	local d=$T_DIR/docker c
	_d_thaw_cgroup "$DOCKER_CGROUP"
	if _d_pid_alive "${DOCKERD_PID:-}"; then
		for c in $(dk ps -aq 2>/dev/null); do
			dk rm -f "$c" >/dev/null 2>&1
		done
		_d_stop_pid "$DOCKERD_PID" 30
	fi
	# its containerd, then any shim left
	[ -s "$d/exec/containerd/containerd.pid" ] && _d_stop_pid "$(cat "$d/exec/containerd/containerd.pid")" 10
	_d_kill_pids_with_arg "$d/exec/containerd/containerd.sock"
	_d_umount_under "$d"
	_d_rm_cgroup "$DOCKER_CGROUP"
	ip link del "${DOCKER_BRIDGE:-}" 2>/dev/null
	return 0
}

# docker_run NAME [docker run args...]: sets CID (full id) and CPID
docker_run() { CID="" CPID=""; _docker_run "$@" || start_failed "docker_run '$1'"; }
_docker_run() {
	local name=$1
	shift
	if [ -z "${DOCKER_LOADED:-}" ]; then
		dk load -i "$_D_FIXTURES/fixture-docker.tar" >/dev/null || return 1
		DOCKER_LOADED=1
	fi
	# the command is explicit: the fixture image may carry no entrypoint
	CID=$(dk run -d --name "$name" "$@" contain-fixture:latest /contain-init) || return 1
	wait_for 20 _dk_running "$CID" || return 1
	CPID=$(dk inspect -f '{{.State.Pid}}' "$CID")
	export CID CPID
	_d_pid_alive "$CPID"
}
_dk_running() { [ "$(dk inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

# ---------------------------------------------------------------- podman

pm() {
	CONTAINERS_CONF=$T_DIR/podman/containers.conf \
		CONTAINERS_STORAGE_CONF=$T_DIR/podman/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$T_DIR/podman/registries.conf \
		podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUNROOT" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend file --tmpdir "$T_DIR/podman/tmp" \
		--network-config-dir "$T_DIR/podman/cni" "$@"
}

podman_up() { _podman_up "$@" || start_failed "podman_up: podman with a private configuration"; }
_podman_up() {
	_d_need podman conmon runc ip || return 1
	local d=$T_DIR/podman
	PODMAN_ROOT=$d/root
	PODMAN_RUNROOT=$d/run
	PODMAN_RUNC_ROOT=$d/runc
	PODMAN_CGROUP=contain-podman-$$
	PODMAN_BRIDGE=cpb$$
	PODMAN_BRIDGE=${PODMAN_BRIDGE:0:15}
	export PODMAN_ROOT PODMAN_RUNROOT PODMAN_RUNC_ROOT PODMAN_CGROUP PODMAN_BRIDGE
	mkdir -p "$PODMAN_ROOT" "$PODMAN_RUNROOT" "$PODMAN_RUNC_ROOT" "$d/tmp" "$d/bin" "$d/cni" "$d/ipam"
	# runc keeps its state in /run/runc unless told: a wrapper gives it ours
	# (conmon and podman's exit command both run the configured path)
	cat >"$d/bin/runc" <<EOF
#!/bin/sh
exec $(command -v runc) --root "$PODMAN_RUNC_ROOT" "\$@"
EOF
	chmod 0755 "$d/bin/runc"
	cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PODMAN_ROOT"
runroot = "$PODMAN_RUNROOT"
EOF
	: >"$d/registries.conf"
	# CNI bridge networking on a private subnet when the plugins are there
	PODMAN_NET=none
	local cnidir
	for cnidir in /usr/lib/cni /opt/cni/bin /usr/libexec/cni; do
		if [ -x "$cnidir/bridge" ] && [ -x "$cnidir/host-local" ]; then
			PODMAN_NET=contain-pm
			break
		fi
	done
	cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
volume_path = "$PODMAN_ROOT/volumes"
[engine.runtimes]
runc = ["$d/bin/runc"]
[network]
network_backend = "cni"
network_config_dir = "$d/cni"
cni_plugin_dirs = ["${cnidir:-/usr/lib/cni}"]
default_network = "$PODMAN_NET"
EOF
	if [ "$PODMAN_NET" != none ]; then
		cat >"$d/cni/contain-pm.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "contain-pm", "plugins": [{"type": "bridge",
 "bridge": "$PODMAN_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": false,
 "ipam": {"type": "host-local", "dataDir": "$d/ipam",
  "ranges": [[{"subnet": "10.213.91.0/24", "gateway": "10.213.91.1"}]]}}]}
EOF
	fi
	export PODMAN_NET
	_d_note_new_dirs /var/lib/cni /var/lib/cni/results /run/netns
	on_exit _podman_down
	if ! pm info >"$d/info.log" 2>&1; then
		diag "podman info failed:"
		tail -5 "$d/info.log" | sed 's/^/# /'
		return 1
	fi
	_d_add_roots "podman=$PODMAN_ROOT" "podman=$PODMAN_RUNROOT" "runc=$PODMAN_RUNC_ROOT"
}

_podman_down() {
	local d=$T_DIR/podman c
	_d_thaw_cgroup "$PODMAN_CGROUP"
	for c in $(pm ps -aq --no-trunc 2>/dev/null); do
		pm rm -f -t 0 "$c" >/dev/null 2>&1
	done
	_d_kill_pids_with_arg "-b $PODMAN_ROOT/overlay-containers/" # conmon
	_d_umount_under "$d"
	_d_rm_cgroup "$PODMAN_CGROUP"
	ip link del "${PODMAN_BRIDGE:-}" 2>/dev/null
	return 0
}

# podman_run NAME [podman run args...]: sets CID (full id) and CPID
podman_run() { CID="" CPID=""; _podman_run "$@" || start_failed "podman_run '$1'"; }
_podman_run() {
	local name=$1
	shift
	if [ -z "${PODMAN_LOADED:-}" ]; then
		pm load -i "$_D_FIXTURES/fixture-oci.tar" >/dev/null 2>&1 || return 1
		PODMAN_LOADED=1
	fi
	CID=$(pm run -d --name "$name" --cgroup-parent "/$PODMAN_CGROUP" --network "$PODMAN_NET" \
		"$@" contain-fixture:latest /contain-init) || return 1
	wait_for 20 _pm_running "$CID" || return 1
	CPID=$(pm inspect -f '{{.State.Pid}}' "$CID")
	export CID CPID
	_d_pid_alive "$CPID"
}
_pm_running() { [ "$(pm inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

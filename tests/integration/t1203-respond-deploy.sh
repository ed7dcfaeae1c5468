#!/bin/bash
# t1203: the fleet deployment (deploy/, docs/kubernetes.md):
#  A  deploy/daemonset.yaml is valid YAML (python3-yaml) of a Namespace, a
#     ConfigMap and a DaemonSet that is privileged, hostPID, not hostNetwork,
#     with hostPaths for /run/contain, the bags, the audit log, cgroups and
#     the runtimes' state; every mount has its volume and every volume is
#     mounted; the ConfigMap's playbooks pass `contain respond --check`;
#  B  the exact command line of its container (command + args, read from the
#     YAML), its paths moved under a test dir standing for the node's root,
#     with the shipped playbooks: a batch of alerts appended to the followed
#     file (a malformed line, a host alert, an unmatched one, Falco's
#     published terminal-shell alert naming a real runc container by its
#     12-char id): that container is captured (the bag verifies, its custody
#     holds the alert), cut and frozen (read from the kernel); the others
#     audited and not acted on; SIGTERM: exit 0;
#  C  deploy/contain-respond.service: systemd-analyze verify passes, and its
#     ExecStart is the same command as the DaemonSet's but for the file it
#     follows.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd python3 jq runc nft nsenter sha256sum timeout
python3 -c 'import yaml' 2>/dev/null || {
	in_ci && _t_bail "CI=true: python3-yaml is installed (tests/lib/deps.sh)"
	skip_all "no python3-yaml"
}
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
"$CONTAIN" respond --help >/dev/null 2>&1 || skip_all "this contain has no respond verb"

DS=$CONTAIN_TOP/deploy/daemonset.yaml
UNIT=$CONTAIN_TOP/deploy/contain-respond.service
chmod 0755 "$T_DIR"

# ---------------------------------------------------------------- A
section "A: the manifest"
# yq EXPR: a python expression on the DaemonSet (d), its pod spec (p), its
# respond container (c), the ConfigMap (cm), all the documents (docs)
yq() {
	python3 - "$DS" "$1" <<'EOF'
import json, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
d = next(x for x in docs if x and x.get("kind") == "DaemonSet")
cm = next(x for x in docs if x and x.get("kind") == "ConfigMap")
p = d["spec"]["template"]["spec"]
c = next(x for x in p["containers"] if x["name"] == "respond")
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))
EOF
}
run yq '"ok"'
is "$OUT" ok "valid YAML, with a DaemonSet and a ConfigMap"
is "$(yq '[x["kind"] for x in docs]')" '["Namespace", "ConfigMap", "DaemonSet"]' "three documents: Namespace, ConfigMap, DaemonSet"
is "$(yq 'd["apiVersion"]')" "apps/v1" "apps/v1"
is "$(yq 'd["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()')" true "the selector matches the pod's labels"
is "$(yq 'p["hostPID"]')" true "hostPID"
is "$(yq 'p.get("hostNetwork", False)')" false "not hostNetwork"
is "$(yq 'c["securityContext"]["privileged"]')" true "privileged"
is "$(yq 'd["spec"]["template"]["metadata"]["labels"].get("contain.io/protect")')" true "respond's own pod is protected by the allow list label"
hp() { yq "sorted(v['hostPath']['path'] for v in p['volumes'] if 'hostPath' in v)"; }
for path in /run/contain /var/lib/contain/bags /var/log/contain /sys/fs/cgroup /run/containerd /run/runc \
	/run/docker /run/containers /var/lib/containerd /var/lib/docker /var/lib/containers; do
	like "$(hp)" "\"$path\"" "hostPath $path"
done
is "$(yq 'sorted({m["name"] for x in p["containers"] + p["initContainers"] for m in x["volumeMounts"]} ^ {v["name"] for v in p["volumes"]})')" \
	"[]" "every mount has its volume, every volume is mounted"
is "$(yq '[m["mountPath"] for m in c["volumeMounts"] if m.get("readOnly")]')" \
	'["/etc/contain/playbooks", "/var/lib/containerd", "/var/lib/docker", "/var/lib/containers"]' \
	"the playbooks and the runtimes' storage read-only"
CM=$T_DIR/cm
mkdir -m 0755 "$CM"
python3 - "$DS" "$CM" <<'EOF'
import os, sys, yaml
cm = next(x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x.get("kind") == "ConfigMap")
for k, v in cm["data"].items():
    with open(os.path.join(sys.argv[2], k), "w") as f:
        f.write(v)
    os.chmod(os.path.join(sys.argv[2], k), 0o644)
EOF
run "$CONTAIN" respond --check "$CM"
is "$RC" 0 "the ConfigMap's playbooks pass --check"
is "$(echo "$OUT" | jq -r '.allow.namespaces | join(",")')" "kube-system,contain-system,falco" "... its allow list"

# ---------------------------------------------------------------- B
section "B: the DaemonSet's exact command line on a batch of alerts"
NODE=$T_DIR/node # the node's root, for the paths of the command line
mapfile -t ARGV < <(yq '"\n".join(c["command"] + c["args"])')
is "${ARGV[0]}" /usr/bin/contain "the container runs /usr/bin/contain"
is "$(yq '[m["mountPath"] for m in c["volumeMounts"] if m["mountPath"] in ("/run/contain", "/var/lib/contain/bags", "/var/log/contain", "/etc/contain/playbooks")]')" \
	'["/etc/contain/playbooks", "/run/contain", "/var/lib/contain/bags", "/var/log/contain"]' \
	"its paths are the mounted volumes"
CMD=("$CONTAIN")
for a in "${ARGV[@]:1}"; do
	case "$a" in
	/*) CMD+=("$NODE$a") ;;
	*) CMD+=("$a") ;;
	esac
done
diag "runs: ${CMD[*]}"
FOLLOW=$(printf '%s\n' "${ARGV[@]}" | grep -A1 -x -- --follow | tail -1)
is "$FOLLOW" /run/contain/falco/events.json "it follows Falco's file_output (docs/kubernetes.md)"
mkdir -p -m 0700 "$NODE/run/contain/falco" "$NODE/var/lib/contain/bags" "$NODE/var/log/contain"
mkdir -p -m 0755 "$NODE/etc/contain/playbooks"
install -m 0644 "$CONTAIN_TOP"/playbooks/*.json "$NODE/etc/contain/playbooks/"
: >"$NODE$FOLLOW"
AUD=$NODE/var/log/contain/audit.jsonl
FIX=$CONTAIN_TOP/fixtures/alerts
[ -f "$FIX/falco/terminal-shell.json" ] || section_skip "no fixtures/alerts/ (r-alerts' published payloads)"
ID=$(printf 't1203-%s' "$$" | sha256sum | cut -c1-64)
if [ -z "$_t_skip_reason" ]; then
	if runc_run "$ID"; then
		CP=$CPID
		on_exit "\"$CONTAIN\" --state-dir \"$NODE/run/contain\" release \"$ID\""
	else
		section_skip "cannot start a runc container"
	fi
fi
frozen() { # the kernel says the container is frozen (cgroup2 events, else v1 freezer.state)
	local d
	d="$(cg2_root)/contain-test/$ID"
	if [ -f "$d/cgroup.events" ] && grep -qx 'frozen 1' "$d/cgroup.events"; then return 0; fi
	d=/sys/fs/cgroup/freezer/contain-test/$ID
	[ -f "$d/freezer.state" ] && grep -qx FROZEN "$d/freezer.state"
}
ns_table() { nsenter --net="/proc/$CP/ns/net" nft list tables 2>/dev/null | grep -q "inet contain_q_"; }
contained() { ns_table && frozen; }
if [ -z "$_t_skip_reason" ]; then
	"${CMD[@]}" >"$T_DIR/ds.out" 2>"$T_DIR/ds.err" &
	RP=$!
	on_exit "kill $RP 2>/dev/null"
	sleep 0.5 # --follow reads what is added from now on
	{
		echo '{"output": "not closed"'
		jq -c . "$FIX/sysdig/policy-event.json"
		jq -c --arg id "${ID:0:12}" '.output_fields["container.id"] = $id' "$FIX/falco/k8s-api-from-container.json"
		jq -c --arg id "${ID:0:12}" '.output_fields["container.id"] = $id' "$FIX/falco/terminal-shell.json"
	} >>"$NODE$FOLLOW"
fi
ok "the container is cut and frozen (read from the kernel)" wait_for 90 contained
ok "respond still runs" kill -0 "${RP:-0}"
ok "the quarantine state is under --state-dir" test -f "$NODE/run/contain/$ID.json"
wait_for 30 bash -c "ls -d '$NODE'/var/lib/contain/bags/*-${ID:0:12}-terminal-shell-* 2>/dev/null | grep -q ."
BAG=$(ls -d "$NODE"/var/lib/contain/bags/*-"${ID:0:12}"-terminal-shell-* 2>/dev/null | head -1)
ok "a bag in --bags, named for the playbook" test -d "$BAG"
wait_for 60 bash -c "grep -q '\"respond-done\"' '$AUD'"
ok "the bag verifies" "$CONTAIN" verify "$BAG"
ok "its custody log holds the alert" bash -c "jq -e -s 'any(.[]; .action==\"trigger\" and .alert.rule==\"Terminal shell in container\" and .playbook==\"terminal-shell\")' '$BAG/custody.jsonl'"
if [ -n "${RP:-}" ] && [ -z "$_t_skip_reason" ]; then
	kill -TERM "$RP"
	wait "$RP"
	RC=$?
else
	RC=255
fi
is "$RC" 0 "SIGTERM: exit 0"
acts() { jq -r 'select(.action=="respond") | "\(.result) \(.target)"' "$AUD" 2>/dev/null; }
is "$(acts | grep -c "^acted ")" 1 "one action in the audit log"
like "$(acts)" "^acted $ID" "... on the container, by its full id"
ok "the malformed line was skipped and audited" bash -c "jq -e -s '[.[] | select(.action==\"respond-intake\") | .malformed] | add >= 1' '$AUD'"
ok "the host alert was not acted on (audited)" bash -c "jq -e -s '[.[] | select(.action==\"respond-intake\") | .host] | add >= 1' '$AUD'"
ok "the unmatched alert was counted" bash -c "jq -e -s '[.[] | select(.action==\"respond-intake\") | .unmatched] | add >= 1' '$AUD'"
ok "the audit log verifies" "$CONTAIN" audit verify "$AUD"
[ -n "${CP:-}" ] && "$CONTAIN" --state-dir "$NODE/run/contain" release "$ID" >/dev/null 2>&1

# ---------------------------------------------------------------- C
section "C: the systemd unit"
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
DSCMD=$(printf '%s ' "${ARGV[@]}")
is "${EXEC//\/var\/log\/falco\/events.json/X}" "$(echo "${DSCMD% }" | sed 's|/run/contain/falco/events.json|X|')" \
	"its ExecStart is the DaemonSet's command, following Falco's file on the host"
if command -v systemd-analyze >/dev/null; then
	U=$T_DIR/unit
	mkdir -p "$U"
	sed "s|/usr/bin/contain|$CONTAIN|g" "$UNIT" >"$U/contain-respond.service"
	run systemd-analyze verify --man=no "$U/contain-respond.service"
	is "$RC" 0 "systemd-analyze verify"
	is "$ERR" "" "... says nothing"
else
	skip "systemd-analyze verify" "no systemd-analyze"
fi

done_testing

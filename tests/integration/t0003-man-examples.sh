#!/bin/bash
# Every example of the man page runs, against a real runc container standing in
# for "web-7f9c" (and a local cat standing in for "ssh lab"). The page renders
# without warnings and names every verb of the table.
. "$(dirname "$0")/../lib/lib.sh"
. "$CONTAIN_TOP/tests/lib/containers.sh"
need_root
need_cmd man runc
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"
MAN=$CONTAIN_TOP/man/contain.1

run env MANWIDTH=100 man --warnings "$MAN"
is "$RC" 0 "man renders contain.1"
is "$ERR" "" "man has no warnings on contain.1"
for v in $("$CONTAIN" help | awk '/^Verbs:/{f=1;next} f && /^  [a-z]/{print $1}'); do
	[ "$v" = help ] || [ "$v" = version ] && continue
	ok "man page has a section for '$v'" grep -q "^\.Ss $v" "$MAN"
done

section "the examples, against a runc container"
name=web7f9c-$$
runc_run "$name" || section_skip "cannot start a runc container here"
mkdir -p "$T_DIR/root/ir"
cd "$T_DIR" || exit 1
# the examples: lines between .Sh EXAMPLES's .Bd and .Ed
# a Falco alert about a container that does not run here: the dry run resolves nothing
jq -c '.output_fields["container.id"] = "0123456789ab"' \
	"$CONTAIN_TOP/fixtures/alerts/falco/terminal-shell.json" >"$T_DIR/alerts.jsonl" 2>/dev/null
examples=$(awk '/^\.Sh EXAMPLES/{f=1} f && /^\.Bd/{g=1; next} g && /^\.Ed/{exit} g' "$MAN")
n=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	n=$((n + 1))
	cmd=${line//web-7f9c/$name}
	cmd=${cmd//\/root\/ir/$T_DIR/root/ir}
	cmd=${cmd//ssh lab \'cat > case-42.tar\'/cat > case-42-stream.tar}
	cmd=${cmd//10.0.0.5:443/10.213.251.5:443}
	# analyze's image: the fixture image the runc container's rootfs is made from
	cmd=${cmd//--image web.tar/--image $CONTAIN_TOP/fixtures/cache/fixture-docker.tar}
	# respond: the shipped playbooks; a Falco fixture of a container not running here
	cmd=${cmd//\/etc\/contain\/playbooks/$CONTAIN_TOP/playbooks}
	cmd=${cmd//< alerts.jsonl/< $T_DIR/alerts.jsonl}
	cmd="\"\$CONTAIN\" ${cmd#contain }"
	run bash -c "$cmd"
	is "$RC" 0 "man example $n runs: $line"
	[ "$RC" = 0 ] || diag "$ERR"
	# the quarantine example with --allow must find a clean container
	case "$line" in
	*"--dry-run"*) ;;
	*quarantine*) "$CONTAIN" release "$name" >/dev/null 2>&1 ;;
	esac
done <<<"$examples"
ok "the man page has examples" [ "$n" -ge 5 ]
ok "the streamed example wrote a tar" tar -tf case-42-stream.tar
done_testing

#!/bin/bash
# t0902: contain analyze on hostile images and bags (tests/tools/hostile-images.py):
# tar names with ../ and absolute names, links pointing out, a truncated
# entry, a 10 GiB gzip bomb (stopped by its ratio, the layer marked
# incomplete), a million entries, a 100 MB path, JSON nested 100,000 deep
# (index.json, a manifest, files.json, tree.json), digests that are paths, a
# missing blob. For each: a clear error (exit 1 or 3, the message
# naming the problem) or a bounded, reported skip (a note or finding in
# report.json naming it); never a crash (exit >= 128) nor a hang; nothing
# written outside the report directory; peak RSS under 400 MiB
# (/usr/bin/time -f %M). Runs unprivileged as well: no root needed.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 jq timeout find sha256sum prlimit
[ -x /usr/bin/time ] || { in_ci && _t_bail "CI=true: /usr/bin/time is installed (package time)"; skip_all "no /usr/bin/time"; }
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
command -v mkbag >/dev/null 2>&1 || skip_all "no mkbag (make test-bins)"
if "$CONTAIN" analyze --help 2>&1 | grep -qi 'unknown verb'; then
	in_ci && _t_bail "CI=true: contain has an analyze verb"
	skip_all "this contain has no analyze verb"
fi
MEM_MAX_KB=$((400 * 1024))
# each run's address space is capped (1 GiB), so that one that does not bound
# its memory fails in seconds (an abort: a crash here) instead of eating the
# machine
AS_MAX=$((1 << 30))

H=$T_DIR/h
ok "hostile-images.py writes the inputs" python3 "$CONTAIN_TOP/tests/tools/hostile-images.py" "$H"
BAGS=$T_DIR/bags
mkdir -p "$BAGS"
for b in ok deep-files deep-tree dotdot bomb million; do
	ok "mkbag: bag-$b" mkbag -o "$BAGS/$b" "$H/bag-$b"
	ok "bag-$b verifies" "$CONTAIN" verify "$BAGS/$b"
done
# the ok bag as a tar (one top dir, as contain writes them) with members
# named ../ and absolute, and a symlink pointing out, added
ok "a bag tar with ../, absolute and link members" python3 -c '
import io, os, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tf:
    tf.add(src, arcname="b")
    for name in ("b/../../contain-escape-bagtar", "/contain-escape-bagtar-abs"):
        ti = tarfile.TarInfo(name); ti.size = 8
        tf.addfile(ti, io.BytesIO(b"escaped\n"))
    ti = tarfile.TarInfo("b/data/evil"); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/shadow"
    tf.addfile(ti)
' "$BAGS/ok" "$BAGS/hostile-bag.tar"
GOOD_IMG=$CONTAIN_TOP/fixtures/cache/oci
[ -f "$GOOD_IMG/index.json" ] || GOOD_IMG=$H/img-dotdot

# what must not change: the inputs, the working directory, the places the
# hostile names point at
WORK=$T_DIR/work/c1/c2
mkdir -p "$WORK"
snap() {
	(
		cd "$T_DIR" && find h bags work -printf '%p %y %s %m %T@\n' 2>/dev/null | LC_ALL=C sort
		ls -d /contain-escape* /tmp/contain-escape* /tmp/*/contain-escape* 2>/dev/null
		sha256sum /etc/passwd /etc/shadow 2>/dev/null
	)
}
ok "no contain-escape file exists before" test -z "$(ls -d /contain-escape* /tmp/contain-escape* 2>/dev/null)"

# said REPORT_DIR: what analyze said of the problem in report.json (notes,
# the image's and the diff's notes, findings)
said() {
	[ -s "$1/report.json" ] || return 0
	jq -r '[.notes[]?, .image.notes[]?, .diff.notes[]?, .bag.problems[]?,
		(.findings[]? | "\(.id) \(.title) \(.path) \(.detail)")] | .[]' "$1/report.json" 2>/dev/null
}

# hostile NAME BAG IMAGE REGEX [RCS [ARGS...]]: analyze BAG against IMAGE from $WORK;
# REGEX (grep -iE) must be in stderr (an error) or in what report.json says
# (a reported skip); "" when nothing is wrong. RCS: the exit codes accepted
# (default "1 3")
hostile() {
	local name=$1 bag=$2 img=$3 re=$4 rcs=${5:-1 3}
	shift 5 2>/dev/null || shift $#
	local out=$T_DIR/out/$name before after rc mem
	mkdir -p "$T_DIR/out"
	before=$(snap)
	(cd "$WORK" && /usr/bin/time -f %M -o "$T_DIR/out/$name.mem" \
		timeout -s KILL 600 prlimit --as="$AS_MAX" "$CONTAIN" analyze "$bag" --image "$img" -o "$out" "$@") \
		>"$T_DIR/out/$name.stdout" 2>"$T_DIR/out/$name.stderr"
	rc=$?
	# /usr/bin/time exits with the command's status; a signal it reports as
	# "Command terminated by signal N" in its output file
	if grep -q 'terminated by signal' "$T_DIR/out/$name.mem" 2>/dev/null; then
		rc=$((128 + $(grep -o 'signal [0-9]*' "$T_DIR/out/$name.mem" | grep -o '[0-9]*')))
	fi
	after=$(snap)
	ok "$name: no crash, no hang (exit $rc)" test "$rc" -lt 124
	case " $rcs " in
	*" $rc "*) _t_result 0 "$name: exit $rc is one of: $rcs" ;;
	*) _t_result 1 "$name: exit $rc is one of: $rcs" ;;
	esac
	if [ -n "$re" ]; then
		local said_text
		said_text="$(cat "$T_DIR/out/$name.stderr")
$(said "$out")"
		if printf '%s' "$said_text" | grep -qiE -- "$re"; then
			_t_result 0 "$name: the problem is named (/$re/)"
		else
			_t_result 1 "$name: the problem is named (/$re/)"
			printf '%s\n' "$said_text" | head -8 | sed 's/^/# said: /'
		fi
	fi
	is "$(diff <(echo "$before") <(echo "$after"))" "" "$name: nothing written outside the report dir"
	mem=$(grep -E '^[0-9]+$' "$T_DIR/out/$name.mem" | tail -1)
	ok "$name: peak RSS ${mem:-?} KiB <= $MEM_MAX_KB KiB" test "${mem:-999999999}" -le "$MEM_MAX_KB"
	if [ -s "$out/report.json" ]; then
		ok "$name: report.json, when written, is JSON" jq -e .schema_version "$out/report.json"
		report_schema_ok "$name: report.json validates against docs/report-schema.json" \
			"$out/report.json"
	fi
}

OKB=$BAGS/ok
hostile img-dotdot "$OKB" "$H/img-dotdot" '\.\./|\.\.|absolute|outside' "0 1 3"
hostile img-links "$OKB" "$H/img-links" 'link|\.\./|outside' "0 1 3"
hostile img-truncated "$OKB" "$H/img-truncated" 'truncat|short|unexpected|premature|eof|end of' "0 1 3"
hostile img-bomb "$OKB" "$H/img-bomb" 'bomb|ratio|too large|exceeds|limit|bound' "0 1 3"
is "$(jq -r '.image.layers[0].size <= 68719476736 and .image.layers[0].complete == false' "$T_DIR/out/img-bomb/report.json" 2>/dev/null)" true \
	"img-bomb: the layer was read only up to the bound and is marked incomplete"
is "$(jq -r '(.summary.verdict != "clean") and ([.findings[] | select(.id == "image.incomplete")] | length > 0)' "$T_DIR/out/img-bomb/report.json" 2>/dev/null)" true \
	"img-bomb: an image read in part is a finding (image.incomplete): the verdict is not clean"
hostile img-longpath "$OKB" "$H/img-longpath" 'path|long|4096|pax|header' "0 1 3"
hostile img-deep-index "$OKB" "$H/img-deep-index" 'index\.json|depth|deep|nest' "1 3"
hostile img-deep-manifest "$OKB" "$H/img-deep-manifest" 'manifest|depth|deep|nest' "1 3"
hostile img-digest-path "$OKB" "$H/img-digest-path" 'digest' "1 3"
hostile img-layer-path "$OKB" "$H/img-layer-path" 'digest' "1 3"
hostile img-missing-blob "$OKB" "$H/img-missing-blob" 'missing|not found|no such|blob' "1 3"
# (members that are no blob of the image are never read: nothing to report)
hostile img-archive-dotdot "$OKB" "$H/img-archive-dotdot.tar" "" "0 1 3"
hostile img-docker-dotdot "$OKB" "$H/img-docker-dotdot.tar" '\.\.|layer|passwd|shadow' "1 3"
hostile bag-deep-files "$BAGS/deep-files" "$GOOD_IMG" 'files\.json|depth|deep|nest' "0 1 3"
hostile bag-deep-tree "$BAGS/deep-tree" "$GOOD_IMG" 'tree\.json|depth|deep|nest|process' "0 1 3"
hostile bag-dotdot "$BAGS/dotdot" "$GOOD_IMG" '\.\.|absolute|link|outside' "0 1 3"
hostile bag-bomb "$BAGS/bomb" "$GOOD_IMG" 'bomb|ratio|format|compress' "1 3"
hostile bag-tar-dotdot "$BAGS/hostile-bag.tar" "$GOOD_IMG" '\.\.|absolute|escape|link|evil|not in the manifest|unexpected|verify' "1 3"
hostile bag-tar-dotdot-force "$BAGS/hostile-bag.tar" "$GOOD_IMG" "" "0 1 3" --force
is "$(jq -r '"\(.bag.verified) \(.bag.forced)"' "$T_DIR/out/bag-tar-dotdot-force/report.json" 2>/dev/null)" "false true" \
	"bag-tar-dotdot-force: the report says the bag did not verify and was forced"
# a layer of a million new files: a capture can hold that (AN_ENTRIES_MAX);
# the reports must stay bounded (lists capped and counted, not 1M objects)
hostile bag-million "$BAGS/million" "$GOOD_IMG" "" "0 1 3"
is "$(jq -r .diff.stats.layer_entries "$T_DIR/out/bag-million/report.json" 2>/dev/null)" 1000000 \
	"bag-million: the layer's 1,000,000 entries are counted"

# a million entries is within the bounds (AN_ENTRIES_MAX): read whole, counted
hostile img-million "$OKB" "$H/img-million" "" "0 1"
is "$(jq -r .image.entries "$T_DIR/out/img-million/report.json" 2>/dev/null)" 1000000 \
	"img-million: the index holds the 1,000,000 entries"
ok "no contain-escape file anywhere we look" \
	test -z "$(ls -d /contain-escape* /tmp/contain-escape* "$T_DIR"/work/contain-escape* 2>/dev/null)"

done_testing

#!/bin/bash
# t1100-yara-rules: the shipped YARA rules (yara-rules/*.yar), with the yara
# command-line tool (contain's own engine is tested by t1101):
#   - every rule file compiles with yarac, alone and all together (no two
#     rules with one name), without a warning (a slow string is a warning);
#   - every rule has its meta: title, description, severity (critical, high,
#     medium, low, info), attack (an ATT&CK id, or empty), reference (a URL)
#     and author = "contain";
#   - every rule hits its positive sample, fixtures/yara/RULE.* (or one that
#     fixtures/yara/mksamples.sh writes), in full and in fast-scan mode; the
#     rules are read from the files, so a new rule without a sample fails here,
#     and so does a sample without a rule;
#   - no rule hits anything in the clean corpus: the fixture image's rootfs,
#     busybox, this machine's /usr/bin, /usr/lib/x86_64-linux-gnu and /etc; a
#     false positive fails with the rule and the file named;
#   - more forms of some rules hit (fixtures/yara/variants/RULE.N.EXT) and
#     near misses hit nothing (fixtures/yara/clean/);
#   - a broken rule file is reported by yarac with its file and line.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd yara yarac od dd
RULES_DIR=$CONTAIN_TOP/yara-rules
SAMPLES=$CONTAIN_TOP/fixtures/yara
cd "$T_DIR" || exit 1

RULEFILES=()
for f in "$RULES_DIR"/*.yar; do
	[ -f "$f" ] && RULEFILES+=("$f")
done
[ "${#RULEFILES[@]}" -gt 0 ] || _t_bail "no rule file in $RULES_DIR"

# rules_of FILE: the names of the rules FILE defines, one a line; a private
# rule reports no match of its own and is left out (it has no sample)
rules_of() {
	sed -nE 's/^[[:space:]]*((global|private)[[:space:]]+)*rule[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\1 \3/p' "$1" |
		awk '$1 !~ /private/ { print $NF }'
}

section "compile"
for f in "${RULEFILES[@]}"; do
	run yarac --fail-on-warnings "$f" "$T_DIR/one.yarc"
	is "$RC" 0 "$(basename "$f") compiles with yarac, no warning"
	[ "$RC" -eq 0 ] || diag "$ERR"
done
run yarac --fail-on-warnings "${RULEFILES[@]}" "$T_DIR/all.yarc"
is "$RC" 0 "all the rule files compile together (no rule defined twice)"
[ "$RC" -eq 0 ] || diag "$ERR"

section "broken rule file"
cat >broken.yar <<'EOF'
rule fine
{
    condition:
        true
}

rule broken
{
    strings:
        $a = "abcd"
    condition:
        $a and
}
EOF
run yarac broken.yar broken.yarc
is "$RC" 1 "a broken rule file: yarac fails"
like "$ERR" 'broken\.yar\(13\): syntax error' "a broken rule file: yarac names the file and the line"
printf 'rule undefined_ident\n{\n    condition:\n        no_such_thing\n}\n' >undef.yar
run yarac undef.yar undef.yarc
like "$ERR" 'undef\.yar\(4\): undefined identifier "no_such_thing"' "an undefined identifier: yarac names the file, the line and the identifier"
run yara -N broken.yar /dev/null
like "$ERR" 'broken\.yar\(13\)' "a broken rule file: the yara command names its line too"

section "samples"
GEN=$T_DIR/gen
if ! bash "$SAMPLES/mksamples.sh" "$GEN" >"$T_DIR/gen.err" 2>&1; then
	diag "$(cat "$T_DIR/gen.err")"
	_t_bail "fixtures/yara/mksamples.sh could not write the generated samples"
fi
ALL_RULES=" "
for f in "${RULEFILES[@]}"; do
	base=$(basename "$f")
	for r in $(rules_of "$f"); do
		ALL_RULES+="$r "
		sample=""
		for s in "$SAMPLES/$r".* "$GEN/$r".*; do
			[ -f "$s" ] && { sample=$s; break; }
		done
		if [ -z "$sample" ]; then
			_t_result 1 "$base: $r has a positive sample"
			diag "no fixtures/yara/$r.* (nor one written by fixtures/yara/mksamples.sh)"
			continue
		fi
		run yara -m -s -i "$r" "$f" "$sample"
		like "$OUT" "^$r \[" "$base: $r hits its sample $(basename "$sample")"
		meta=$(printf '%s\n' "$OUT" | grep -m1 "^$r \[")
		like "$meta" 'title="[^"]{4,}' "$base: $r has a title"
		like "$meta" 'description="[^"]{10,}' "$base: $r has a description"
		like "$meta" 'severity="(critical|high|medium|low|info)"' "$base: $r has a severity (critical, high, medium, low, info)"
		like "$meta" 'attack="(T[0-9]{4}(\.[0-9]{3})?)?"' "$base: $r has an ATT&CK id (attack=\"Tnnnn[.nnn]\" or empty)"
		like "$meta" 'reference="https?://' "$base: $r has a reference URL"
		like "$meta" 'author="contain"' "$base: $r has author = \"contain\""
		run yara -f -i "$r" "$f" "$sample"
		like "$OUT" "^$r " "$base: $r hits its sample in fast-scan mode too"
	done
done
# a sample must have its rule: a renamed or deleted rule leaves none behind
orphans=""
for s in "$SAMPLES"/* "$GEN"/*; do
	[ -f "$s" ] || continue
	b=$(basename "$s")
	case "$b" in mksamples.sh | README*) continue ;; esac
	[[ "$ALL_RULES" == *" ${b%%.*} "* ]] || orphans+="$b "
done
is "$orphans" "" "every sample in fixtures/yara/ is named after a shipped rule"

section "variants and near misses"
# fixtures/yara/variants/RULE.N.EXT: more forms a rule must catch;
# fixtures/yara/clean/: near misses (a health check on /dev/tcp, an SDK's
# metadata constant, a systemd drop-in ...) that no rule may hit
for s in "$SAMPLES"/variants/*; do
	[ -f "$s" ] || continue
	b=$(basename "$s")
	r=${b%%.*}
	if [[ "$ALL_RULES" != *" $r "* ]]; then
		_t_result 1 "variant $b is named after a shipped rule"
		continue
	fi
	run yara -i "$r" "${RULEFILES[@]}" "$s"
	like "$OUT" "^$r " "$r hits its variant $b"
done
run yara -N -r "${RULEFILES[@]}" "$SAMPLES/clean"
if [ -z "$OUT" ] && [ "$RC" -eq 0 ]; then
	_t_result 0 "no rule hits a near miss in fixtures/yara/clean/"
else
	_t_result 1 "no rule hits a near miss in fixtures/yara/clean/"
	printf '%s\n' "$OUT" | awk '{ r = $1; $1 = ""; sub(/^ /, ""); print "# false positive: rule " r " hits " $0 }'
	[ -n "$ERR" ] && diag "$ERR"
fi

section "clean corpus"
# yara -r -N: the regular files under each directory, symlinks not followed
# (the rootfs's applets are links to busybox); -p 2: both CPUs
# (CONTAIN_YARA_CLEAN_EXTRA="DIR ...": more clean directories to scan)
CORPUS=("$CONTAIN_TOP/fixtures/cache/rootfs" /bin/busybox /etc /usr/bin /usr/lib/x86_64-linux-gnu)
for t in ${CONTAIN_YARA_CLEAN_EXTRA:-}; do CORPUS+=("$t"); done
start=$SECONDS
for t in "${CORPUS[@]}"; do
	if [ ! -e "$t" ]; then
		case "$t" in
		*/fixtures/cache/rootfs) skip "no rule hits in the fixture image's rootfs" "no fixture image (run fixtures/build.sh)" ;;
		*) skip "no rule hits in $t" "no $t on this machine" ;;
		esac
		continue
	fi
	run yara -N -r -p 2 "${RULEFILES[@]}" "$t"
	# a match is "RULE FILE"; anything yara writes to stdout is a hit
	if [ -z "$OUT" ]; then
		_t_result 0 "no rule hits in $t"
	else
		_t_result 1 "no rule hits in $t"
		printf '%s\n' "$OUT" | awk '{ r = $1; $1 = ""; sub(/^ /, ""); print "# false positive: rule " r " hits " $0 }' | head -50
	fi
	# a file yara could not read is not a hit, but say so
	[ -n "$ERR" ] && diag "yara on $t: $(printf '%s\n' "$ERR" | head -5)"
done
diag "the clean corpus took $((SECONDS - start)) s"

done_testing

#!/bin/bash
# t0005-libraries: the heavy libraries (libarchive, libmagic, libyara,
# libpcap, libnftables, libcrypto) are opened by the verbs that use them
# (include/contain/dlib.h), not at start. With one of them broken (a stub
# of its SONAME first on LD_LIBRARY_PATH: not an ELF file, or an ELF
# library without its symbols), version, help and every VERB --help still
# work, the verbs that do not use it still run, and each verb that uses it
# stops before it does anything: exit 3, naming the library.
#
# libcrypto signs, checks signatures, and hashes where the CPU lacks SHA-NI:
# on a CPU with SHA-NI, quarantine, release and verify open it only for a
# signature (--audit-key, a signed bag), so without it they still work and
# say what they could not do.
. "$(dirname "$0")/../lib/lib.sh"
[ -x "$CONTAIN" ] || skip_all "no binary at $CONTAIN (run make)"
need_cmd readelf jq
CC=${CC:-cc}
command -v "$CC" >/dev/null || skip_all "no C compiler ($CC): the SONAMEs are read from its libraries"

run env LD_TRACE_LOADED_OBJECTS=1 "$CONTAIN"
unlike "$OUT" "libarchive|libmagic|libyara|libpcap|libnftables|libcrypto|libxml2|libicu" \
	"none of the heavy libraries is mapped at start"


# the verbs that use each library (main.c's CMD_LIBS)
declare -A USERS=(
	[libarchive]="audit capture verify analyze scan respond"
	[libmagic]="capture analyze scan respond"
	[libyara]="analyze scan"
	[libpcap]="capture analyze scan respond"
	[libnftables]="quarantine release capture respond"
	[libcrypto]="quarantine release audit capture verify analyze scan respond keygen"
)
shani=false
cpu_sha_ni && shani=true
[ "$shani" = true ] && USERS[libcrypto]="audit capture analyze scan respond keygen"
# a signed bag and an unsigned one, made before any library is broken
printf 'evidence\n' >"$T_DIR/payload.txt"
"$CONTAIN" keygen -o "$T_DIR/k" >/dev/null 2>&1
mkbag -o "$T_DIR/bag-plain" "$T_DIR/payload.txt" >/dev/null 2>&1
mkbag -o "$T_DIR/bag-signed" --sign "$T_DIR/k.key" "$T_DIR/payload.txt" >/dev/null 2>&1
all_verbs="list inspect quarantine release audit capture verify analyze scan respond keygen version help"

echo 'int contain_stub;' >"$T_DIR/stub.c"
for lib in libarchive libmagic libyara libpcap libnftables libcrypto; do
	so=$(lib_soname "$lib")
	if [ -z "$so" ]; then
		skip "$lib: broken" "no SONAME for $lib.so (its development package)"
		continue
	fi
	section "$lib ($so) not an ELF file"
	mkdir -p "$T_DIR/$lib"
	echo "not a library" >"$T_DIR/$lib/$so"
	export LD_LIBRARY_PATH=$T_DIR/$lib
	run "$CONTAIN" version
	is "$RC" 0 "$lib broken: version exits 0"
	for v in $all_verbs; do
		run "$CONTAIN" "$v" --help
		is "$RC" 0 "$lib broken: $v --help exits 0"
	done
	for v in ${USERS[$lib]}; do
		run "$CONTAIN" "$v"
		is "$RC" 3 "$lib broken: $v exits 3"
		like "$ERR" "^contain: $v: $so is needed and could not be loaded \(.*\): install $lib" \
			"$lib broken: $v names $so"
	done
	if [[ " ${USERS[$lib]} " != *" list "* ]]; then
		run "$CONTAIN" list --json
		is "$RC" 0 "$lib broken: list runs"
		unlike "$ERR" "$so" "$lib broken: list does not need it"
	fi
	if [[ " ${USERS[$lib]} " != *" verify "* ]]; then
		run "$CONTAIN" verify "$T_DIR/no-such-bag"
		unlike "$ERR" "$so|could not be loaded" "$lib broken: verify gets to the bag"
	fi
	if [ "$lib" = libcrypto ] && [ "$shani" = true ]; then
		run "$CONTAIN" verify "$T_DIR/bag-plain"
		is "$RC" 0 "libcrypto broken, SHA-NI: an unsigned bag verifies"
		run "$CONTAIN" --json verify "$T_DIR/bag-signed"
		is "$RC" 1 "libcrypto broken, SHA-NI: a signed bag does not verify"
		is "$(printf '%s' "$OUT" | jq -r '.signature.status')" unchecked \
			"libcrypto broken: its signature is unchecked"
		like "$OUT" "cannot check the signature: $so is needed and could not be loaded" \
			"libcrypto broken: verify names $so"
		run "$CONTAIN" --audit-key "$T_DIR/k.key" quarantine no-such-ctr
		is "$RC" 3 "libcrypto broken: quarantine --audit-key exits 3"
		like "$ERR" "^contain: quarantine: $so is needed and could not be loaded" \
			"libcrypto broken: quarantine --audit-key names $so"
	fi

	section "$lib ($so) without its symbols"
	if "$CC" -shared -fPIC -Wl,-soname,"$so" -o "$T_DIR/$lib/$so" "$T_DIR/stub.c" 2>"$T_DIR/cc.err"; then
		v=${USERS[$lib]%% *}
		run "$CONTAIN" "$v"
		is "$RC" 3 "$lib without symbols: $v exits 3"
		like "$ERR" "^contain: $v: $so lacks '[A-Za-z_0-9]+'" "$lib without symbols: $v names the symbol"
		run "$CONTAIN" version
		is "$RC" 0 "$lib without symbols: version exits 0"
	else
		skip "$lib without symbols" "cannot build a stub: $(head -1 "$T_DIR/cc.err")"
	fi
	unset LD_LIBRARY_PATH
done

done_testing

#!/bin/bash
# t0510-fslayer: the filesystem layer collector (tests/tools/fslayer-driver)
# against a real runc container on overlayfs. Planted inside: /etc/passwd
# modified, /bin/wget (a busybox symlink) deleted, /usr/bin removed and made
# again (opaque), a name with a newline, a symlink to /etc/shadow, a FIFO, a
# 1 TB sparse file, a 10,000-deep directory chain. Then GNU tar (an outside
# tool) lists the layer: the modified file, bin/.wh.wget, usr/bin/.wh..wh..opq,
# the link as a link; the host's /etc/shadow is nowhere in the output; the run
# does not hang on the FIFO; the tar stays small; files.json has the entries.
# Last, the same container walked as a whole root through /proc/PID/root.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/containers.sh"
need_root
need_cmd runc tar jq timeout
command -v fslayer-driver >/dev/null 2>&1 || skip_all "fslayer-driver not built (make test-bins)"
fixtures_ready || skip_all "no fixtures (run fixtures/build.sh)"

C=ct-$$-fsl
runc_run "$C" || skip_all "cannot start a runc container here"

in_ctr "$C" /bin/sh -c '
	set -e
	echo "intruder:x:0:0::/root:/bin/sh" >>/etc/passwd
	rm /bin/wget
	rm -rf /usr/bin
	mkdir /usr/bin
	echo planted >/usr/bin/planted
	echo nl >"$(printf "/tmp/new\nline")"
	ln -s /etc/shadow /tmp/shadowlink
	mkfifo /tmp/fifo
	truncate -s 1099511627776 /tmp/sparse
	echo SPARSEDATA | dd of=/tmp/sparse bs=1 seek=4096 conv=notrunc 2>/dev/null
	# 10,000 levels, 100 at a time (a shell cannot cd below PATH_MAX):
	# make n/d/.../d, move the chain so far to its bottom, rename n back
	mkdir -p /deep/c
	echo bottom >/deep/c/leaf
	Q=d
	j=1
	while [ $j -lt 99 ]; do Q="$Q/d"; j=$((j + 1)); done
	i=0
	while [ $i -lt 100 ]; do
		mkdir -p "/deep/n/$Q"
		mv /deep/c "/deep/n/$Q/d"
		mv /deep/n /deep/c
		i=$((i + 1))
	done
'
ok "planted the changes inside the container" test -e "$CUPPER/deep/c/d/d/d"
ok "the 1 TB file is sparse in the upper dir" \
	test "$(stat -c %s "$CUPPER/tmp/sparse")" = 1099511627776 -a "$(stat -c %b "$CUPPER/tmp/sparse")" -lt 1000

run timeout 300 fslayer-driver --ref "$C" --tar "$T_DIR/upper.tar" --json "$T_DIR/files.json"
is "$RC" 0 "the collector ran to the end (no hang on the FIFO): $ERR"
SUM=$OUT

tar -tvf "$T_DIR/upper.tar" >"$T_DIR/list" 2>"$T_DIR/tar.err"
is "$?" 0 "GNU tar lists the layer: $(head -3 "$T_DIR/tar.err")"
LIST=$(cat "$T_DIR/list")
like "$LIST" ' etc/passwd$' "the modified /etc/passwd is in it"
like "$LIST" ' bin/\.wh\.wget$' "the deleted /bin/wget is a whiteout"
unlike "$LIST" ' bin/wget($| )' "no bin/wget entry besides the whiteout"
like "$LIST" ' usr/bin/\.wh\.\.wh\.\.opq$' "the replaced /usr/bin is opaque"
like "$LIST" ' usr/bin/planted$' "the new file in the opaque dir"
like "$LIST" '^l.* tmp/shadowlink -> /etc/shadow$' "the symlink is a link"
like "$LIST" '^p.* tmp/fifo$' "the FIFO is recorded"
like "$LIST" ' 1099511627776 .* tmp/sparse$' "the sparse file keeps its size"
like "$LIST" 'tmp/new\\nline' "the name with a newline"
deepest=$(tar -tf "$T_DIR/upper.tar" 2>/dev/null | awk '{ if (length($0) > m) m = length($0) } END { print m }')
ok "the 10,000-deep leaf is in it (longest path $deepest bytes)" test "$deepest" -ge 20000

mkdir -p "$T_DIR/x"
tar -xf "$T_DIR/upper.tar" -C "$T_DIR/x" etc/passwd tmp/sparse 2>/dev/null
like "$(cat "$T_DIR/x/etc/passwd" 2>/dev/null)" '^intruder:x:0:0' "the extracted /etc/passwd has the planted line"
is "$(dd if="$T_DIR/x/tmp/sparse" bs=1 skip=4096 count=10 2>/dev/null)" SPARSEDATA \
	"the sparse file's data is at its offset after extraction"
rm -rf "$T_DIR/x"

size=$(stat -c %s "$T_DIR/upper.tar")
ok "the tar stays small ($size bytes)" test "$size" -lt 10000000

# not one line of the host's /etc/shadow in the tar or files.json
leak=0
while IFS= read -r line; do
	[ "${#line}" -ge 8 ] || continue
	grep -aqF -- "$line" "$T_DIR/upper.tar" "$T_DIR/files.json" && leak=1
done </etc/shadow
is "$leak" 0 "the host's /etc/shadow content is nowhere in the output"

ok "files.json is valid JSON" jq -e . "$T_DIR/files.json"
J="$T_DIR/files.json"
is "$(jq -r '.layer' "$J")" upperdir "files.json: the layer is the upperdir"
is "$(jq -r '.entries[] | select(.path == "bin/wget") | .type' "$J")" whiteout "files.json: bin/wget is a whiteout"
is "$(jq -r '.entries[] | select(.path == "usr/bin") | .opaque' "$J")" true "files.json: usr/bin is opaque"
is "$(jq -r '.entries[] | select(.path == "tmp/shadowlink") | .link_target' "$J")" /etc/shadow \
	"files.json: the link target"
is "$(jq -r '.entries[] | select(.path == "tmp/new\nline") | .type' "$J")" file "files.json: the newline name"
is "$(jq -r '.entries[] | select(.path == "tmp/sparse") | .size' "$J")" 1099511627776 "files.json: the sparse size"
want=$(sha256sum "$CUPPER/etc/passwd" | cut -d' ' -f1)
is "$(jq -r '.entries[] | select(.path == "etc/passwd") | .sha256' "$J")" "$want" "files.json: sha256 of /etc/passwd"
ok "files.json: more than 10,000 entries (the deep chain)" jq -e '.entries | length > 10000' "$J"
like "$SUM" '"tar_sha256":"[0-9a-f]{64}"' "the stream hash is reported"
is "$(echo "$SUM" | jq -r .tar_sha256)" "$(sha256sum "$T_DIR/upper.tar" | cut -d' ' -f1)" \
	"the stream hash is the tar's"

# the same container as a whole root (what a non-overlay container gets)
run timeout 300 fslayer-driver --dir "/proc/$CPID/root" --whole-root --tar "$T_DIR/root.tar" --json "$T_DIR/root.json"
is "$RC" 0 "the whole-root walk ran: $ERR"
RLIST=$(tar -tvf "$T_DIR/root.tar" 2>/dev/null)
like "$RLIST" ' bin/busybox$' "whole root: the image's files are in it"
unlike "$RLIST" ' proc/[0-9]' "whole root: /proc of the container is skipped"
unlike "$RLIST" '\.wh\.' "whole root: no whiteout markers"
is "$(jq -r '.layer' "$T_DIR/root.json")" rootfs "whole root: files.json says so"
is "$(jq -r '.entries[] | select(.path == "proc") | .mount_point' "$T_DIR/root.json")" true \
	"whole root: /proc is noted as a mount point"

done_testing

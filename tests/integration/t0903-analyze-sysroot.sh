#!/bin/bash
# t0903: contain analyze BAG --image IMG --sysroot DIR.
# 1. Hostile (no root): an OCI layout whose layers hold links out (absolute,
#    "../.."), a file under a link, "../" and absolute names, devices, a
#    FIFO, set-id and sticky bits, hard links (inside, and to a path outside),
#    a whiteout and an opaque dir; a bag (mkbag) whose layer adds, deletes
#    and hard-links: DIR gets the merged tree with nothing outside it, no
#    special file, no set-id bit, every link resolving inside DIR, hard links
#    as copies; a bound (files, bytes) is an error (exit 3) naming the option,
#    what was written stays; a DIR that is not empty is refused.
#    The same bag as a tar gives the same tree.
# 2. A runc container of the fixture image running a dynamically linked
#    3-thread program (glibc, linked against the image's usr/lib/libfixture.so;
#    the program and libc in the captured layer, under a /lib64 link that is
#    absolute as in Debian images), frozen and captured: analyze --sysroot
#    prints the gdb command line; that command's `thread apply all bt` names
#    the program's functions and libc's, `info sharedlibrary` loads libc and
#    libfixture.so from the sysroot; with an empty sysroot libc's frames are
#    not named (the sysroot is what names them).
# 3. The same with the fixture image's threads3-dyn (glibc in the image's
#    layer), when the image has it.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd python3 jq find
[ -x "$CONTAIN" ] || skip_all "no contain binary at $CONTAIN"
command -v mkbag >/dev/null 2>&1 || skip_all "no mkbag (make test-bins)"

S=$T_DIR
OUTSIDE=$S/outside
mkdir -p "$OUTSIDE"
echo sentinel >"$OUTSIDE/keep"

# ---- the hostile image and bag ----------------------------------------------
section "hostile layers"
ok "a hostile OCI layout and bag are written" python3 - "$S/img" "$S/bagsrc" "$OUTSIDE" <<'PY'
import hashlib, io, json, os, sys, tarfile
img, bagsrc, outside = sys.argv[1:4]
os.makedirs(os.path.join(img, "blobs", "sha256"))
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(img, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
def layer(members):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, kw in members:
            ti = tarfile.TarInfo(name)
            ti.mode = kw.get("mode", 0o644)
            ti.type = kw.get("type", tarfile.REGTYPE)
            ti.linkname = kw.get("linkname", "")
            ti.devmajor, ti.devminor = kw.get("dev", (0, 0))
            ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
            tf.addfile(ti, io.BytesIO(data) if ti.size else None)
    return bio.getvalue()
D, L, S, H = tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, None
l0 = layer([
    ("etc/", b"", {"type": D, "mode": 0o755}),
    ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", {}),
    ("bin/", b"", {"type": D, "mode": 0o755}),
    ("bin/prog", b"\x7fELF-prog", {"mode": 0o4755}),          # setuid
    ("bin/sgid", b"sgid", {"mode": 0o2755}),                  # setgid
    ("tmp/", b"", {"type": D, "mode": 0o1777}),               # sticky
    ("dev/", b"", {"type": D, "mode": 0o755}),
    ("dev/null", b"", {"type": tarfile.CHRTYPE, "dev": (1, 3)}),
    ("dev/sda", b"", {"type": tarfile.BLKTYPE, "dev": (8, 0)}),
    ("dev/fifo", b"", {"type": tarfile.FIFOTYPE}),
    ("out-abs", b"", {"type": L, "linkname": outside}),       # absolute, out
    ("out-up", b"", {"type": L, "linkname": "../../../../../../" + outside.lstrip("/")}),
    ("out-abs/planted", b"through a link", {}),               # a file under a link
    ("../escape", b"dotdot", {}),
    ("a/../../escape2", b"dotdot", {}),
    ("/abs/file", b"absolute name", {}),
    ("lib64/", b"", {"type": D, "mode": 0o755}),
    ("usr/", b"", {"type": D, "mode": 0o755}),
    ("usr/lib/", b"", {"type": D, "mode": 0o755}),
    ("usr/lib/ld.so", b"the loader", {"mode": 0o755}),
    ("lib64/ld.so", b"", {"type": L, "linkname": "/usr/lib/ld.so"}),
    ("lib", b"", {"type": L, "linkname": "usr/lib"}),
    ("etc/hl-in", b"", {"type": S, "linkname": "etc/passwd"}),  # hard link inside
    ("etc/hl-out", b"", {"type": S, "linkname": outside + "/keep"}),  # to a path outside
    ("etc/hl-up", b"", {"type": S, "linkname": "../../etc/passwd"}),
    ("opt/", b"", {"type": D, "mode": 0o755}),
    ("opt/app/", b"", {"type": D, "mode": 0o755}),
    ("opt/app/a", b"a\n", {}),
    ("opt/app/b", b"b\n", {}),
    ("gone", b"to be whited out", {}),
    ("loop", b"", {"type": L, "linkname": "loop/../../.."}),
])
l1 = layer([
    (".wh.gone", b"", {}),
    ("opt/app/", b"", {"type": D, "mode": 0o755}),
    ("opt/app/.wh..wh..opq", b"", {}),
    ("opt/app/c", b"c\n", {}),
    ("bin/prog", b"\x7fELF-prog-2", {"mode": 0o6755}),
])
# the bag's layer: adds, a whiteout of an image file, a hard link to an
# image file, a link out
l2 = layer([
    ("usr/", b"", {"type": D, "mode": 0o755}),
    ("usr/lib/", b"", {"type": D, "mode": 0o755}),
    ("usr/lib/libbag.so", b"from the bag", {"mode": 0o755}),
    ("usr/lib/ld.so", b"\0" * 10, {"mode": 0o755}),  # an overlay metacopy: data below
    ("bin/", b"", {"type": D, "mode": 0o755}),
    ("bin/.wh.sgid", b"", {}),
    ("bin/hl-bag", b"", {"type": S, "linkname": "bin/prog"}),
    ("bagout", b"", {"type": L, "linkname": outside + "/keep"}),
    ("tmp/", b"", {"type": D, "mode": 0o1777}),
    ("tmp/fifo", b"", {"type": tarfile.FIFOTYPE}),
])
layers = [blob(l0), blob(l1)]
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": [l[0] for l in layers]}}).encode())
md, ms = blob(json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n}
               for d, n in layers]}).encode())
with open(os.path.join(img, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType":
        "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)
with open(os.path.join(img, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
for d in ("fs", "container", "processes"):
    os.makedirs(os.path.join(bagsrc, d), exist_ok=True)
with open(os.path.join(bagsrc, "fs", "upper.tar"), "wb") as f:
    f.write(l2)
sha = lambda b: hashlib.sha256(b).hexdigest()
left = lambda p, b: {"path": p, "type": "file", "mode": "0644", "size": len(b), "in_tar": False,
                     "sha256": sha(b)}
with open(os.path.join(bagsrc, "fs", "files.json"), "w") as f:
    json.dump({"collector": "fslayer", "layer": "upperdir", "whole_root": False,
               "entries": [left("etc/passwd", b"c\n"),
                           {"path": "usr/lib/ld.so", "type": "file", "mode": "0755", "size": 10,
                            "in_tar": True, "metacopy": True}]}, f)
# a whole root (no overlay): its layer alone, content left out of its tar
# taken from the image by hash, or missing
whole = bagsrc + "-whole"
for d in ("fs", "container", "processes"):
    os.makedirs(os.path.join(whole, d), exist_ok=True)
with open(os.path.join(whole, "fs", "upper.tar"), "wb") as f:
    f.write(layer([("etc/", b"", {"type": D, "mode": 0o755}),
                   ("etc/hostname", b"whole\n", {}),
                   ("bin/", b"", {"type": D, "mode": 0o755}),
                   ("bin/.wh.x", b"a plain file here", {})]))
with open(os.path.join(whole, "fs", "files.json"), "w") as f:
    json.dump({"collector": "fslayer", "layer": "rootfs", "whole_root": True,
               "entries": [left("usr/lib/big.so", b"the loader"), left("usr/lib/lost", b"nowhere")]}, f)
for d in ("processes", "container"):
    for n in os.listdir(os.path.join(bagsrc, d)):
        with open(os.path.join(bagsrc, d, n), "rb") as a, open(os.path.join(whole, d, n), "wb") as b:
            b.write(a.read())
with open(os.path.join(bagsrc, "processes", "tree.json"), "w") as f:
    json.dump({"pids": []}, f)
with open(os.path.join(bagsrc, "container", "image.json"), "w") as f:
    json.dump({"image": None, "digest": None, "runtime": "runc"}, f)
PY
ok "mkbag: the hostile bag" mkbag -o "$S/bag" "$S/bagsrc"
SR=$S/sr
run "$CONTAIN" analyze "$S/bag" --image "$S/img" -o "$S/rep" --no-yara --fail-on none --sysroot "$SR"
is "$RC" 0 "analyze --sysroot exits 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
like "$OUT" "sysroot: $SR/: [0-9]+ files" "the summary names the sysroot and its counts"
ok "the sentinel outside is untouched" test "$(ls -A "$OUTSIDE")" = keep
is "$(cat "$OUTSIDE/keep")" sentinel "the sentinel's content is unchanged"
ok "nothing escaped by '..'" test ! -e "$S/escape" -a ! -e "$S/escape2" -a ! -e "$SR/../escape"
is "$(find "$SR" \( -type b -o -type c -o -type p -o -type s \) | wc -l)" 0 \
	"no device, FIFO or socket in DIR"
is "$(find "$SR" -perm /7000 | wc -l)" 0 "no setuid, setgid or sticky bit in DIR"
is "$(jq '.analyses.sysroot.special_skipped' "$S/rep/report.json")" 4 \
	"report: 4 special files not made (2 devices, 2 FIFOs)"
is "$(jq '.analyses.sysroot.setid_cleared' "$S/rep/report.json")" 2 \
	"report: the set-id bits cleared are counted (bin/prog, tmp)"
# every link resolves inside DIR (or nowhere)
escapes=0
while IFS= read -r -d '' l; do
	t=$(readlink -m "$l")
	case "$t" in "$SR" | "$SR"/*) ;; *) escapes=$((escapes + 1)); diag "escapes: $l -> $t" ;; esac
done < <(find "$SR" -type l -print0)
is "$escapes" 0 "every symlink in DIR resolves inside DIR"
is "$(readlink "$SR/lib64/ld.so")" "../usr/lib/ld.so" "an absolute link is rewritten relative to DIR"
is "$(cat "$SR/lib64/ld.so")" "the loader" "... and reads the container's file"
is "$(readlink "$SR/lib")" "usr/lib" "a relative link that only goes down is kept"
is "$(readlink "$SR/out-abs")" "${OUTSIDE#/}" "a link out (absolute, at the top) points into DIR"
ok "no file was written through a link" test ! -e "$OUTSIDE/planted" -a ! -e "$SR$OUTSIDE/planted"
ok "an absolute name lands inside DIR" test -f "$SR/abs/file"
is "$(cat "$SR/etc/hl-in")" "root:x:0:0::/root:/bin/sh" \
	"a hard link inside is a copy with its target's content then (found by hash: the target was replaced)"
is "$(stat -c %h "$SR/etc/hl-in")" 1 "... a copy, not a hard link"
ok "a hard link to a path outside is not made" test ! -e "$SR/etc/hl-out"
ok "a hard link with '..' is not made" test ! -e "$SR/etc/hl-up"
is "$(cat "$SR/bin/prog")" $'\x7fELF-prog-2' "the upper layer's content wins"
is "$(stat -c %a "$SR/bin/prog")" 755 "bin/prog: 0755 (setuid and setgid cleared)"
is "$(stat -c %a "$SR/tmp")" 777 "tmp: 0777 (sticky cleared)"
ok "a whiteout of the image removes the file" test ! -e "$SR/gone"
is "$(ls "$SR/opt/app" | tr '\n' ' ')" "c " "an opaque directory hides the lower layer's entries"
is "$(cat "$SR/usr/lib/libbag.so")" "from the bag" "the bag's layer adds its files"
ok "the bag's whiteout removes an image file" test ! -e "$SR/bin/sgid"
is "$(cat "$SR/bin/hl-bag")" $'\x7fELF-prog-2' "the bag's hard link to an image file is a copy"
is "$(jq -c '.analyses.sysroot | [.copies, .found_by_hash]' "$S/rep/report.json")" "[2,2]" \
	"report: 2 copies (bin/hl-bag, etc/passwd), 2 found by hash in a layer (etc/hl-in, usr/lib/ld.so)"
is "$(cat "$SR/usr/lib/ld.so")" "the loader" \
	"an overlay metacopy file of the bag's layer gets the image's data"
is "$(stat -c %a "$SR/usr/lib/ld.so")" 755 "... and the upper's mode"
is "$(jq '.analyses.sysroot.missing' "$S/rep/report.json")" 0 "report: no file without content"
is "$(cat "$SR/etc/passwd")" "c" "a file the listing left out of the tar gets its content by hash"
report_schema_ok "report.json with analyses.sysroot validates against docs/report-schema.json" \
	"$S/rep/report.json"

ok "mkbag: a whole-root bag" mkbag -o "$S/bag-whole" "$S/bagsrc-whole"
run "$CONTAIN" analyze "$S/bag-whole" --image "$S/img" -o "$S/rep-whole" --no-yara --fail-on none \
	--sysroot "$S/sr-whole"
is "$RC" 0 "a whole-root bag: exit 0"
[ "$RC" -eq 0 ] || diag "$OUT $ERR"
is "$(cd "$S/sr-whole" && find . -mindepth 1 | sort | tr '\n' ' ')" \
	"./bin ./bin/.wh.x ./etc ./etc/hostname ./usr ./usr/lib ./usr/lib/big.so " \
	"a whole root: its layer alone (no image file), '.wh.' names are files"
is "$(cat "$S/sr-whole/usr/lib/big.so")" "the loader" "a left-out file's content comes from the image by hash"
is "$(jq '.analyses.sysroot.missing' "$S/rep-whole/report.json")" 1 "a content found nowhere is counted missing"
like "$(jq -r '.analyses.sysroot.notes[]' "$S/rep-whole/report.json")" "usr/lib/lost.*not written" \
	"... and named in a note"

# the same bag as a tar (its layer streamed out of it, twice): the same tree
tree_of() { (cd "$1" && find . -mindepth 1 -printf '%y %m %p %l\n' | sort); }
ok "the bag as a tar" tar -C "$S" -cf "$S/bag.tar" bag
run "$CONTAIN" analyze "$S/bag.tar" --image "$S/img" -o "$S/rep-tar" --no-yara --fail-on none \
	--sysroot "$S/sr-tar"
is "$RC" 0 "analyze --sysroot of a tar bag exits 0"
ok "a tar bag gives the same tree (types, modes, names, link targets)" \
	diff -u <(tree_of "$SR") <(tree_of "$S/sr-tar")

# DIR not empty; bounds
run "$CONTAIN" analyze "$S/bag" --image "$S/img" -o "$S/rep2" --no-yara --fail-on none --sysroot "$SR"
is "$RC" 3 "a DIR that is not empty: exit 3"
like "$ERR" "sysroot '$SR' exists and is not empty" "... the message says so"
ok "... and no report was written" test ! -e "$S/rep2"
mkdir "$S/sr-empty"
run "$CONTAIN" analyze "$S/bag" --image "$S/img" -o "$S/rep3" --no-yara --fail-on none --sysroot "$S/sr-empty"
is "$RC" 0 "an empty DIR is taken"
run "$CONTAIN" analyze "$S/bag" --image "$S/img" -o "$S/rep4" --no-yara --fail-on none \
	--sysroot "$S/sr-files" --sysroot-max-files 5
is "$RC" 3 "--sysroot-max-files 5 reached: exit 3"
like "$ERR" "more than 5 files \(--sysroot-max-files\)" "... the error names the bound"
is "$(find "$S/sr-files" -mindepth 1 | wc -l)" 5 "... the 5 paths written stay"
is "$(jq -r '.analyses.sysroot.error' "$S/rep4/report.json" | grep -c 'sysroot-max-files')" 1 \
	"... report.json says so too"
run "$CONTAIN" analyze "$S/bag" --image "$S/img" -o "$S/rep5" --no-yara --fail-on none \
	--sysroot "$S/sr-bytes" --sysroot-max-bytes 20
is "$RC" 3 "--sysroot-max-bytes 20 reached: exit 3"
like "$ERR" "more than 20 bytes \(--sysroot-max-bytes\)" "... the error names the bound"
ok "... the directories written stay" test -d "$S/sr-bytes/etc"
run "$CONTAIN" analyze "$S/bag" --image "$S/img" --sysroot "$S/x" --sysroot-max-files 0
is "$RC" 2 "--sysroot-max-files 0: a usage error"
run "$CONTAIN" analyze --help
like "$OUT" "--sysroot DIR" "--help names --sysroot"

# ---- real containers, gdb with the sysroot ------------------------------------
. "$CONTAIN_TOP/tests/lib/containers.sh"
FIXTURE_OCI=$(dirname "$FIXTURE_ROOTFS")/oci
# can_run_ctr: runc, gdb and gcc, root, the fixture image (else the section skips)
can_run_ctr() {
	if [ "$(id -u)" -ne 0 ]; then
		section_skip "needs root (runc)"
	elif ! command -v runc >/dev/null || ! command -v gdb >/dev/null || ! command -v gcc >/dev/null; then
		in_ci && _t_bail "CI=true: runc, gdb and gcc are installed"
		section_skip "no runc, gdb or gcc"
	elif ! fixtures_ready || [ ! -d "$FIXTURE_OCI" ]; then
		section_skip "no fixtures (run fixtures/build.sh)"
	fi
}
# ctr_start NAME PROG: a runc container whose /contain-extra runs PROG (a
# path in the container) as soon as it exists
ctr_start() {
	printf '#!/bin/sh\nwhile [ ! -x %s ]; do sleep 0.1; done\n%s >/tmp/prog.out 2>&1 &\nwait\n' \
		"$2" "$2" >"$S/extra-$1"
	[ -n "$_t_skip_reason" ] || runc_run "$1" --extra "$S/extra-$1" ||
		section_skip "cannot start a runc container here"
}
# ctr_capture NAME PROG READY NTHREADS: waits for READY (a path in the
# container), sets P (PROG's host pid), captures into $S/bag-NAME (BA), the
# core C; then analyze --sysroot $S/sr-NAME (SRD), GDBLINE the command printed
ctr_capture() {
	local name=$1 prog=$2 ready=$3 nth=$4 p
	ok "$name: $prog runs in the container" wait_for 30 test -e "$CMERGED$ready"
	P=""
	for p in $(cat /sys/fs/cgroup/*/contain-test/"$name"/cgroup.procs 2>/dev/null | sort -u); do
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in *"$prog") P=$p ;; esac
	done
	like "$P" '^[0-9]+$' "$name: its host pid is found"
	wait_for 30 test "$(ls "/proc/$P/task" 2>/dev/null | wc -l)" -eq "$nth"
	BA=$S/bag-$name
	run timeout 180 "$CONTAIN" capture "$name" -o "$BA" --pcap-seconds 1
	is "$RC" 0 "$name: capture exits 0"
	[ "$RC" -eq 0 ] || diag "$OUT $ERR"
	C=$BA/data/memory/$P.core
	ok "$name: the program's core is in the bag" test -s "$C"
	SRD=$S/sr-$name
	run timeout 300 "$CONTAIN" analyze "$BA" --image "$FIXTURE_OCI" -o "$S/rep-$name" --no-yara \
		--fail-on none --sysroot "$SRD"
	is "$RC" 0 "$name: analyze --sysroot exits 0"
	[ "$RC" -eq 0 ] || diag "$OUT $ERR"
	GDBLINE=$(printf '%s\n' "$OUT" | sed -n "s/^gdb: *\(gdb .*core-file [^ ]*\/$P\.core.*\)$/\1/p")
	is "$GDBLINE" "gdb -ex 'set sysroot $SRD' -ex 'core-file $C' $SRD$prog" \
		"$name: the summary prints the gdb command line for the program's core"
	BT="" LIBS=""
	if [ -n "$GDBLINE" ]; then # the printed command, run (batch mode added)
		BT=$(eval "$GDBLINE -nx -batch -ex 'thread apply all bt'" 2>&1)
		LIBS=$(eval "$GDBLINE -nx -batch -ex 'info sharedlibrary'" 2>&1)
	fi
	unlike "$BT" "Could not load shared library symbols" "$name: gdb finds every shared library"
	like "$LIBS" "$SRD/[^ ]*/libc.so.6" "$name: gdb: info sharedlibrary: libc from the sysroot"
}

section "gdb through the sysroot: a program and libc in the captured layer, a library of the image"
can_run_ctr
LIBC=$(readlink -f "$(gcc -print-file-name=libc.so.6)")
LDSO=$(readlink -f /lib64/ld-linux-x86-64.so.2)
[ -f "$LIBC" ] && [ -f "$LDSO" ] || section_skip "no glibc to copy in ($LIBC, $LDSO)"
cat >"$S/srprog.c" <<'C'
/* 3 threads: main and two workers, each asleep in libc; the workers call
 * the image's libfixture.so first */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
int fixture_answer(void);
static volatile int answer;
__attribute__((noinline)) static void sr_worker_sleep(void)
{
	for (;;)
		pause();
}
static void *sr_worker(void *arg)
{
	(void)arg;
	answer = fixture_answer();
	sr_worker_sleep();
	return NULL;
}
__attribute__((noinline)) static void sr_main_wait(void)
{
	for (;;)
		sleep(1000);
}
int main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, sr_worker, NULL);
	FILE *f = fopen("/tmp/srprog.ready", "w");
	if (f)
		fclose(f);
	sr_main_wait();
	return 0;
}
C
if [ -z "$_t_skip_reason" ]; then
	gcc -O1 -g -pthread -o "$S/srprog" "$S/srprog.c" -L"$FIXTURE_ROOTFS/usr/lib" -lfixture \
		>"$S/gcc.log" 2>&1 || { diag "$(cat "$S/gcc.log")"; section_skip "gcc cannot build the program"; }
fi
A=t0903-$$-a
ctr_start "$A" /usr/bin/srprog
if [ -z "$_t_skip_reason" ]; then
	# libc and the loader in the captured layer (at paths the host does not
	# have), the loader under an absolute /lib64 link as in Debian images;
	# the program last
	mkdir -p "$CMERGED/lib64"
	cp "$LIBC" "$CMERGED/usr/lib/libc.so.6"
	cp "$LDSO" "$CMERGED/usr/lib/ld-linux-x86-64.so.2"
	ln -sfn /usr/lib/ld-linux-x86-64.so.2 "$CMERGED/lib64/ld-linux-x86-64.so.2"
	cp "$S/srprog" "$CMERGED/usr/bin/.srprog" && mv "$CMERGED/usr/bin/.srprog" "$CMERGED/usr/bin/srprog"
fi
ctr_capture "$A" /usr/bin/srprog /tmp/srprog.ready 3
ok "the sysroot holds the image's library (usr/lib/libfixture.so)" \
	cmp "$FIXTURE_ROOTFS/usr/lib/libfixture.so" "$SRD/usr/lib/libfixture.so"
ok "the sysroot holds the captured layer's libc" cmp "$LIBC" "$SRD/usr/lib/libc.so.6"
is "$(readlink "$SRD/lib64/ld-linux-x86-64.so.2")" "../usr/lib/ld-linux-x86-64.so.2" \
	"the loader's absolute link is rewritten inside the sysroot"
like "$BT" "sr_worker_sleep" "gdb through the sysroot: thread apply all bt names sr_worker_sleep"
like "$BT" "sr_worker \(" "... and sr_worker"
like "$BT" "sr_main_wait" "... and sr_main_wait"
LIBCFN="in (__GI___)?(clock_nanosleep|__libc_pause|pause|__pause_nocancel) "
like "$BT" "$LIBCFN" "... and libc's functions (its symbols from the sysroot's libc)"
like "$LIBS" "$SRD/usr/lib/libfixture.so" "gdb: info sharedlibrary: the image's libfixture.so from the sysroot"
mkdir -p "$S/empty-root"
BT0=""
[ -z "$_t_skip_reason" ] && BT0=$(gdb -nx -batch -ex "set sysroot $S/empty-root" -ex "core-file $C" \
	-ex 'thread apply all bt' "$SRD/usr/bin/srprog" 2>&1)
unlike "$BT0" "$LIBCFN" "with an empty sysroot libc's frames are not named (the sysroot is what names them)"

section "gdb through the sysroot: the fixture image's threads3-dyn (glibc in the image)"
can_run_ctr
[ -x "$FIXTURE_ROOTFS/usr/bin/threads3-dyn" ] ||
	section_skip "no usr/bin/threads3-dyn in the fixture image (fixtures/src/threads3.c)"
B=t0903-$$-b
ctr_start "$B" /usr/bin/threads3-dyn
ctr_capture "$B" /usr/bin/threads3-dyn /tmp/threads3.ready 3
like "$BT" "threads3_spinner|threads3_spin_step" "threads3-dyn: bt names threads3_spinner"
like "$BT" "threads3_sleeper" "... and threads3_sleeper"
like "$BT" "threads3_wait" "... and threads3_wait"
like "$BT" "$LIBCFN" "... and libc's functions"
ok "threads3-dyn: the image's libc is the sysroot's" \
	cmp "$FIXTURE_ROOTFS/lib/x86_64-linux-gnu/libc.so.6" "$SRD/lib/x86_64-linux-gnu/libc.so.6"

done_testing

#!/bin/bash
# t0400-bag: the bag writer's output checked by tools that are not ours
# (sha256sum -c, openssl, tar), keygen, and verify on every form.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd sha256sum openssl tar jq cmp
command -v mkbag >/dev/null || skip_all "no mkbag test tool (make test-bins)"
cd "$T_DIR" || exit 1

# plain payload (names sha256sum -c can read back)
mkdir plain plain/sub
echo hello >plain/a.txt
head -c 300000 /dev/urandom >plain/sub/b.bin
: >plain/empty
# hostile names: newline, %, CR, spaces, invalid UTF-8, UTF-8
mkdir names
printf 'nl' >"names/with
newline"
printf 'pc' >"names/100%25 and %0A literally"
printf 'cr' >"names/cr$(printf '\r')x"
printf 'sp' >"names/  lead and trail  "
printf 'bad' >"names/bad$(printf '\377\376')name"
printf 'utf' >"names/caf$(printf '\303\251')"

# --- directory form, checked by sha256sum -c inside the bag
run mkbag -o bag plain
is "$RC" 0 "mkbag writes a directory bag"
ok "manifest checks with sha256sum -c" sh -c 'cd bag && sha256sum --quiet -c manifest-sha256.txt'
ok "tag manifest checks with sha256sum -c" sh -c 'cd bag && sha256sum --quiet -c tagmanifest-sha256.txt'
is "$(cat bag/bagit.txt)" "BagIt-Version: 1.0
Tag-File-Character-Encoding: UTF-8" "bagit.txt is BagIt 1.0"
like "$(cat bag/bag-info.txt)" "Payload-Oxum: 300006\.3" "Payload-Oxum is bytes.count"
like "$(cat bag/bag-info.txt)" "Contain-Status: complete" "sealed bag says complete"
like "$(cat bag/bag-info.txt)" "Contain-Bag-Id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" "bag id is a v4 UUID"
head=$(sed -n 's/^Contain-Custody-Head: //p' bag/bag-info.txt)
last=$(tail -n 1 bag/custody.jsonl | tr -d '\n' | sha256sum | cut -d' ' -f1)
is "$head" "$last" "custody head in bag-info is the SHA-256 of the last custody line"
is "$(tail -n 1 bag/custody.jsonl | jq -r .action)" "seal" "the last custody event is the seal"
is "$(jq -r '.artifacts[] | select(.path=="data/a.txt") | .mime' bag/index.json)" "text/plain" "index has the mime type"
is "$(jq -r '.artifacts[] | select(.path=="data/a.txt") | .sha256' bag/index.json)" "$(sha256sum plain/a.txt | cut -d' ' -f1)" "index has the sha256"
is "$(stat -c %a bag bag/data bag/bag-info.txt bag/data/a.txt | tr '\n' ' ')" "700 700 600 600 " "bag dir 0700, files 0600"
run "$CONTAIN" verify bag
is "$RC" 0 "verify: directory bag valid"
like "$OUT" "verdict: VALID" "verify prints the verdict"
like "$OUT" "ok +not signed" "unsigned bag says not signed"
fails_with 1 "mkbag refuses an existing directory" mkbag -o bag plain

# --- large artifacts with bag_file_direct_io (O_DIRECT where the filesystem
# takes it, an unaligned tail buffered): the same bytes and digests
mkdir dio
head -c 3145729 /dev/urandom >dio/big.bin
echo small >dio/s.txt
run mkbag --direct-io -o diobag dio
is "$RC" 0 "mkbag --direct-io writes a directory bag"
ok "--direct-io: manifest checks with sha256sum -c" sh -c 'cd diobag && sha256sum --quiet -c manifest-sha256.txt'
ok "--direct-io: the artifact is the file's bytes" cmp dio/big.bin diobag/data/big.bin
run "$CONTAIN" verify diobag
is "$RC" 0 "verify: the --direct-io bag is valid"

# --- keygen
run "$CONTAIN" keygen -o k
is "$RC" 0 "keygen makes a key pair"
is "$(stat -c %a k.key)" "600" "private key is 0600"
like "$(head -n 1 k.key)" "BEGIN PRIVATE KEY" "private key is PEM PKCS8"
like "$(head -n 1 k.pub)" "BEGIN PUBLIC KEY" "public key is PEM SubjectPublicKeyInfo"
fpr=$(openssl pkey -pubin -in k.pub -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1)
like "$OUT" "fingerprint: $fpr" "fingerprint is SHA-256 of the raw public key (openssl agrees)"
cp k.key k.key.orig
run "$CONTAIN" keygen -o k
is "$RC" 3 "keygen refuses to overwrite: exit 3 (the work could not be done)"
like "$ERR" "already exists" "keygen says the file exists"
ok "the existing key is untouched" cmp k.key k.key.orig
: >only.pub
fails_with 3 "keygen refuses when only NAME.pub exists: exit 3" "$CONTAIN" keygen -o only
ok "and makes no NAME.key then" test ! -e only.key
run "$CONTAIN" keygen
is "$RC" 2 "keygen without -o is a usage error"
is "$("$CONTAIN" --json keygen -o kj | jq -r .fingerprint | wc -c)" "65" "keygen --json gives the fingerprint"
"$CONTAIN" keygen -o other >/dev/null

# --- every form, signed
mkbag -o sb --sign k.key plain 2>/dev/null
like "$(cat sb/bag-info.txt)" "Contain-Signer-Fingerprint: $fpr" "bag-info names the signer fingerprint"
ok "signature checks with openssl over tagmanifest-sha256.txt" \
	openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in sb/tagmanifest-sha256.txt -sigfile sb/signature.ed25519
unlike "$(cat sb/tagmanifest-sha256.txt)" "signature" "the signature is not in the tag manifest"
run "$CONTAIN" verify --pubkey k.pub sb
is "$RC" 0 "verify --pubkey: signed directory bag valid"
like "$OUT" "signature valid" "signature reported valid"
run "$CONTAIN" verify sb
is "$RC" 0 "verify without a key: valid"
like "$OUT" "signed, signer not checked \(fingerprint $fpr\)" "without a key: signed, signer not checked, with the fingerprint"
for f in t.tar t.tar.gz t.tar.zst; do
	run mkbag -o $f --sign k.key plain
	is "$RC" 0 "mkbag writes $f"
	run "$CONTAIN" verify --pubkey k.pub $f
	is "$RC" 0 "verify: $f valid"
done
ok ".tar.gz is gzip" sh -c 'gzip -t t.tar.gz'
ok ".tar.zst is zstd" sh -c 'file t.tar.zst | grep -qi zstandard'
is "$(tar tf t.tar | cut -d/ -f1 | sort -u)" "t" "one top directory named after the bag"
is "$(tar tf t.tar | tail -n 3 | tr '\n' ' ')" "t/manifest-sha256.txt t/tagmanifest-sha256.txt t/signature.ed25519 " "manifests come last in the tar"
mkdir xt && tar xf t.tar -C xt 2>/dev/null
ok "extracted tar: manifest checks with sha256sum -c" sh -c 'cd xt/t && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt'
mkbag -o - --sign k.key plain >stream.tar 2>/dev/null
is "$?" 0 "mkbag -o - writes the tar to stdout"
run "$CONTAIN" verify --pubkey k.pub stream.tar
is "$RC" 0 "verify: stdout form piped to a file valid"
run sh -c "cat stream.tar | '$CONTAIN' verify --pubkey k.pub -"
is "$RC" 0 "verify - reads a tar from stdin"
run "$CONTAIN" --json verify --pubkey k.pub t.tar.zst
is "$(printf '%s' "$OUT" | jq -r '.valid, .status, .signature.status' | tr '\n' ' ')" "true complete valid " "--json gives the verdict as data"
run "$CONTAIN" verify --json sb
is "$(printf '%s' "$OUT" | jq '[.checks[] | select(.ok == false)] | length')" "0" "verify --json: no failing check"

# --- hostile names round-trip, directory and tar, spooled and direct
run mkbag -o nb names
is "$RC" 0 "mkbag with newline, %, CR, spaces, invalid UTF-8 names"
run "$CONTAIN" verify nb
is "$RC" 0 "verify: hostile names directory bag valid"
like "$(cat nb/manifest-sha256.txt)" "data/with%0Anewline" "newline percent-encoded in the manifest"
like "$(cat nb/manifest-sha256.txt)" "data/100%2525 and %250A literally" "% percent-encoded in the manifest"
like "$(cat nb/manifest-sha256.txt)" "data/cr%0Dx" "CR percent-encoded in the manifest"
same=yes
for f in names/*; do cmp -s "$f" "nb/data/${f#names/}" || same=no; done
is "$same" yes "every name comes back byte-identical (directory)"
run mkbag -o nb.tar --unsized names
is "$RC" 0 "mkbag tar with hostile names (spooled)"
run "$CONTAIN" verify nb.tar
is "$RC" 0 "verify: hostile names tar valid"
mkdir xn && tar xf nb.tar -C xn 2>/dev/null
same=yes
for f in names/*; do cmp -s "$f" "xn/nb/data/${f#names/}" || same=no; done
is "$same" yes "every name comes back byte-identical (tar, extracted by GNU tar)"
run mkbag -o nb.tar.gz names
is "$RC" 0 "mkbag tar.gz with hostile names (direct)"
run "$CONTAIN" verify nb.tar.gz
is "$RC" 0 "verify: hostile names tar.gz valid"

# --- holes: sparse in the directory form and in the spool, zeros in the tar
mkdir sp && printf 'head' >sp/core && truncate -s 64M sp/core && printf 'tail' >>sp/core
run mkbag -o spb --sparse sp
is "$RC" 0 "mkbag with holes (directory)"
ok "sparse file comes back identical" cmp sp/core spb/data/core
blocks=$(stat -c %b spb/data/core)
ok "the hole stays sparse in the directory form ($blocks blocks)" test "$blocks" -lt 1024
is "$(grep ' data/core$' spb/manifest-sha256.txt | cut -d' ' -f1)" "$(sha256sum sp/core | cut -d' ' -f1)" "the hole is hashed as zeros"
run mkbag -o spb.tar --sparse --unsized sp
is "$RC" 0 "mkbag with holes (tar, spooled)"
run "$CONTAIN" verify spb.tar
is "$RC" 0 "verify: tar with a hole valid"

# --- usage and unreadable
run "$CONTAIN" verify
is "$RC" 2 "verify without a bag is a usage error"
run "$CONTAIN" verify "$T_DIR/nonexistent"
is "$RC" 3 "verify of a missing bag exits 3"
echo "not a tar" >junk.tar
run "$CONTAIN" verify junk.tar
is "$RC" 3 "verify of something that is no tar exits 3"
run "$CONTAIN" verify --help
is "$RC" 0 "verify --help"
like "$OUT" "Exit status: 0 valid, 1 invalid, incomplete or in a format not read, 2 usage," "verify usage names the exit codes"
run "$CONTAIN" keygen --help
is "$RC" 0 "keygen --help"
done_testing

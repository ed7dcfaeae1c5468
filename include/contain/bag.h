/* bag: the evidence bag, a BagIt 1.0 bag (RFC 8493), written and verified.
 *
 * Writer: bag_open() makes the bag (a directory, a tar, a .tar.gz/.tar.zst,
 * or a tar on stdout for "-"); collectors add artifacts under data/ through
 * a bag_file handle (or its struct sink), hashed with SHA-256 as the bytes
 * pass, never read back; each finished artifact gets a line in index.json
 * and a custody event; bag_seal() writes the manifests, the custody head,
 * Contain-Status: complete and the optional Ed25519 signature.
 *
 * The handles are thread safe: several artifacts may be open at once and
 * written from different threads (one bag_file by one thread at a time).
 *
 * Crash safety (directory form): bagit.txt and bag-info.txt (Contain-Status:
 * incomplete) exist from bag_open on; bag_file_open logs "artifact-open" and
 * each artifact's custody line is written the moment it closes, so a writer
 * killed at any point (SIGKILL: the page cache survives) leaves a bag whose
 * finished parts still verify. Against power loss (what fsync adds): an
 * artifact of 1 MiB or more is fdatasync()ed before its custody line is
 * written and synced; smaller ones are committed in groups (one syncfs() of
 * the bag's filesystem for up to 4096 artifacts or 256 MiB, or when the
 * oldest is 1 s old at the writer's next open or close: a syncfs() also
 * writes what other writers left dirty on that filesystem, so each one
 * costs; cp + sync -f pays one), and every custody event
 * (bag_event), failure, large artifact, seal and abort syncs the group first.
 * So after a power cut the log is intact up to the last commit; only the
 * artifacts closed since (one group at most) may be missing or not match
 * their custody lines. The log is never synced before the artifacts it names.
 *
 * Tar form: one pass, tag files last. An artifact whose size is given up
 * front (bag_file_open_sized, bag_add_buf/json) goes straight into the tar
 * when no other entry is being streamed; any other is spooled to an unlinked
 * temp file (O_TMPFILE, sparse where it has holes) while it is hashed, and
 * copied into the tar when closed (holes become zeros in the tar). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "contain/util.h"

#define BAG_ID_LEN 37 /* UUID text + NUL */

struct bag;
struct bag_file;
struct sha256x;

enum bag_form { BAG_FORM_DIR, BAG_FORM_TAR };
enum bag_compress { BAG_COMPRESS_NONE, BAG_COMPRESS_GZIP, BAG_COMPRESS_ZSTD };

struct bag_opts {
	const char *out;	  /* DIR, NAME.tar, NAME.tar.gz|.tgz, NAME.tar.zst, or "-" */
	int out_fd;		  /* for "-": the fd to write the tar to (0 means stdout) */
	const char *name;	  /* top directory in a tar (default: out's base name,
				   * "contain-<bag id>" for "-") */
	const char *case_id;	  /* External-Identifier (--case) */
	const char *examiner;	  /* Contact-Name (--examiner) */
	const char *sign_key;	  /* PEM PKCS8 Ed25519 private key: sign at seal */
	const char *container_id; /* Contain-Container-Id */
	const char *runtime;	  /* Contain-Runtime */
	const char *image_digest; /* Contain-Image-Digest */
	const char *spool_dir;	  /* temp files for the tar form (default: the output's
				   * directory, $TMPDIR or /tmp for "-") */
};

/* The form and compression bag_open picks for an output name. */
void bag_form_for(const char *out, enum bag_form *form, enum bag_compress *comp);

int bag_open(const struct bag_opts *o, struct bag **out, struct err *e);
const char *bag_id(const struct bag *b);

/* Open an artifact. path is relative to the bag, under "data/" (any bytes
 * but NUL; no "", ".", ".." components; CR, LF and % are fine: they are
 * percent-encoded in the manifest). kind: "processes", "pcap", "core"...;
 * collector: who wrote it. Logs "artifact-open" in the custody log. */
int bag_file_open(struct bag *b, const char *path, const char *kind, const char *collector,
		  struct bag_file **out, struct err *e);
/* Same, with the final size known (written straight into a tar). */
int bag_file_open_sized(struct bag *b, const char *path, const char *kind,
			const char *collector, uint64_t size, struct bag_file **out,
			struct err *e);
int bag_file_write(struct bag_file *f, const void *buf, size_t n, struct err *e);
/* Zero-copy, for a writer that reads its bytes from somewhere (a file, a
 * pipe): bag_file_buf lends a buffer of *cap bytes (1 MiB) to read into,
 * bag_file_commit writes the first n of them (n <= cap) as bag_file_write
 * would, hashed on the hashing thread while they are written, not copied
 * for it. Commit (n may be 0: nothing written) before any other write,
 * hole or buffer; asked again before a commit, bag_file_buf lends the same
 * buffer. Starts the artifact's hashing thread: for artifacts of 1 MiB and
 * more (smaller ones cost less copied). */
void *bag_file_buf(struct bag_file *f, size_t *cap);
int bag_file_commit(struct bag_file *f, size_t n, struct err *e);
/* n zero bytes, kept sparse (directory form, tar spool); hashed as zeros. */
int bag_file_hole(struct bag_file *f, uint64_t n, struct err *e);
/* Add a note (borrowed, copied) to the artifact's index entry: skipped
 * regions, truncation, what could not be read. A string or an object. */
int bag_file_note(struct bag_file *f, json_t *note, struct err *e);
/* Directory form (a no-op in a tar): the artifact's writes whose buffer,
 * length and file offset are 4096-aligned bypass the page cache (O_DIRECT),
 * the others are buffered; where the filesystem refuses O_DIRECT every
 * write is buffered. For large artifacts written in aligned chunks and not
 * read back soon (memory cores): no page-cache copy. Durability is as for
 * any artifact (fdatasync at close). Call it right after the open. */
void bag_file_direct_io(struct bag_file *f);
/* The artifact's writes come from a thread of the caller's own (the fs
 * layer's writer): hash them on it, not copied to a hashing thread. */
void bag_file_hash_inline(struct bag_file *f);
/* The caller hashes every byte it gives bag_file_write into c (its
 * sha256x, initialised), on its own thread, as it writes them (the fs
 * layer hashes its tar with the files' content in one pass): the bag does
 * not hash them again. Holes (bag_file_hole) and a sized artifact's zero
 * fill at the close are added to c by the bag. From this call c is the
 * bag's to end: the close takes the artifact's digest from it; a failed or
 * freed artifact discards it. write and hole only (not bag_file_buf). Call
 * it right after the open. */
void bag_file_hash_given(struct bag_file *f, struct sha256x *c);
/* A sink over the artifact: write and hole as above. */
struct sink bag_file_sink(struct bag_file *f);
uint64_t bag_file_size(const struct bag_file *f);
/* Finish the artifact: hash, index entry, custody event; frees f.
 * out_sha256 (may be NULL, HASH_HEX bytes) gets the digest. */
int bag_file_close(struct bag_file *f, char *out_sha256, struct err *e);
/* Give up on an artifact (a collector failed): its partial bytes are
 * dropped, the custody log says "artifact-failed" with reason; frees f. */
int bag_file_fail(struct bag_file *f, const char *reason, struct err *e);

/* Whole artifacts in one call. */
int bag_add_buf(struct bag *b, const char *path, const void *buf, size_t n, const char *kind,
		const char *collector, struct err *e);
/* JSON, indented, with a trailing newline. */
int bag_add_json(struct bag *b, const char *path, json_t *j, const char *kind,
		 const char *collector, struct err *e);
/* JSON already serialized by the caller (valid by construction), stored as is. */
int bag_add_json_text(struct bag *b, const char *path, const void *buf, size_t n,
		      const char *kind, const char *collector, struct err *e);

/* A custody event (quarantine, freeze, a collector's skip...). extra: more
 * fields (borrowed), may be NULL. */
int bag_event(struct bag *b, const char *action, const char *target, const char *result,
	      json_t *extra, struct err *e);
/* A bag-info.txt field (label: no ':' or newline; value: no newline).
 * Set again: replaced. The Contain-* fields bag_open fills may be replaced
 * (e.g. Contain-Image-Digest when it is known later). */
int bag_set_info(struct bag *b, const char *key, const char *value, struct err *e);

/* A top-level field of index.json besides "bag" and "artifacts" (value
 * copied; set again: replaced), e.g. capture's observation windows. */
int bag_set_index(struct bag *b, const char *key, json_t *value, struct err *e);

/* How index.json gets each artifact's mime type. On (the default): the
 * formats contain writes (JSON, pcap, ELF cores, empty) are known from their
 * first bytes, the rest is libmagic's answer (on a thread of its own, filled
 * in at seal). Off: no libmagic; the rest is "text/plain" (UTF-8 text) or
 * "application/octet-stream". libmagic costs about 0.3 ms of CPU an artifact
 * of a type it does not know, whatever its size: the seal of 10,000 small
 * files spends more on it than on hashing them. */
int bag_set_libmagic(struct bag *b, bool on, struct err *e);

/* Seal: manifests, custody head, Contain-Status: complete, signature. Any
 * artifact still open is refused (ERR_WRONGSTATE). */
int bag_seal(struct bag *b, struct err *e);
/* Close without sealing: the bag stays incomplete (tar form: the tar is
 * finished with what is there, no manifests). Open artifacts are dropped. */
int bag_abort(struct bag *b, const char *reason, struct err *e);
/* Free. A bag neither sealed nor aborted is left as a crash would leave it. */
void bag_free(struct bag *b);
static inline void bag_freep(struct bag **b)
{
	if (*b)
		bag_free(*b);
}
#define _cleanup_bag_ _cleanup_(bag_freep)

/* ---- paths (RFC 8493 section 2.1.3 and JSON) ---- */
/* Manifest form: CR, LF and % percent-encoded; everything else as is. */
char *bag_path_manifest_encode(const char *path);
/* JSON form (custody, index): % and the bytes of invalid UTF-8 percent-encoded. */
char *bag_path_json_encode(const char *path);
/* Undo either: %XX (any hex case) to the byte. NULL for a bad escape or %00. */
char *bag_path_decode(const char *s);
/* A payload path is acceptable: "data/...", no empty, "." or ".." component. */
bool bag_path_ok(const char *path);

/* A string from the container as a JSON string, never NULL (json_null for
 * a NULL s): text as it is when valid UTF-8, else in JSON form
 * (bag_path_json_encode); a path always in JSON form ("%" as "%25"). */
json_t *bag_json_text(const char *s);
json_t *bag_json_path(const char *s);

/* ---- notes: what a reader passed over or could not read, as data ---- */
#define BAG_NOTE_MAX 1024u /* bytes of a note's printf text, then cut */
/* Notes into a JSON array of strings, bounded: past max (0: no bound) a
 * note is not kept, only counted in more. */
struct bag_notes {
	json_t *arr; /* the array the notes go into */
	size_t max;  /* notes kept at most, 0: all */
	size_t n;    /* notes kept */
	size_t more; /* notes left out */
	/* the text to JSON; NULL: bag_path_json_encode's form */
	json_t *(*encode)(const char *s, size_t n);
};
/* Whether one more note is kept; when not, it is counted in more. */
bool bag_notes_room(struct bag_notes *nt);
/* A note: the printf text (cut at BAG_NOTE_MAX - 1 bytes) through encode,
 * by default in JSON form (bag_path_json_encode): it may quote a name from
 * the container. */
void bag_note(struct bag_notes *nt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bag_notev(struct bag_notes *nt, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* A note made by the caller, valid UTF-8, kept as it is. */
void bag_note_str(struct bag_notes *nt, const char *s);
/* When notes were left out, one more after the others: "N more notes <what>". */
void bag_notes_end(struct bag_notes *nt, const char *what);

/* ---- tag files ---- */
/* Bounds of the tag-file parsers (hostile bytes): a longer line is a problem
 * and is skipped; past the field or line count the rest is not read. */
#define BAG_LINE_MAX 65536u		/* bytes in one line, CR LF excluded */
#define BAG_VALUE_MAX 65536u		/* a bag-info value with its continuations */
#define BAG_INFO_FIELDS_MAX 1024u	/* fields in bagit.txt / bag-info.txt */
#define BAG_MANIFEST_LINES_MAX 10000000u /* lines in a manifest */
struct bag_info_field {
	char *label, *value;
};
struct bag_info {
	struct bag_info_field *f;
	size_t n;
};
/* Parse bag-info.txt (label: value, continuation lines start with space or
 * tab). Returns 0, or 1 with the first problem in problem (still filled with
 * what parsed). Time and memory linear in n; bounded as above. */
int bag_info_parse(const char *buf, size_t n, struct bag_info *bi, char *problem,
		   size_t psz);
const char *bag_info_get(const struct bag_info *bi, const char *label);
void bag_info_free(struct bag_info *bi);

struct bag_manifest_entry {
	char hash[65];
	char *path; /* decoded */
};
struct bag_manifest {
	struct bag_manifest_entry *e;
	size_t n;
};
/* Parse "HASH  PATH" lines (sha256). 0, or 1 with the first problem.
 * Entries grow with what is read (at most BAG_MANIFEST_LINES_MAX). */
int bag_manifest_parse(const char *buf, size_t n, struct bag_manifest *m, char *problem,
		       size_t psz);
void bag_manifest_free(struct bag_manifest *m);

/* ---- verify ---- */
struct bag_verify_opts {
	const char *pubkey; /* PEM public key: the signer must be this key */
	bool brief; /* a complete bag's report lists no artifact (counted in
		     * artifacts_omitted): for a reader that prints only the checks */
};
/* Verify a bag (a directory, a tar, a gzip or zstd tar, "-" for stdin) in one
 * streaming pass. *report gets {"bag","form","status","verdict","cut","valid",
 * "checks":[{"check","ok","detail"}],"problems":[...],"problem_count",
 * "problems_omitted","artifacts":[...],"artifacts_omitted","unfinished":[...],
 * "unfinished_omitted","signature":{...}}.
 * form: "directory", "tar", or "unsupported" (another format, refused by
 * name: one problem, no external program run). verdict: "valid", "incomplete"
 * (every problem says only that the bag was never sealed or the tar is cut
 * short: cut), "invalid". At most 1000 problems are listed (checks,
 * problems; problem_count counts them all) and 100,000 artifacts and
 * unfinished files (the *_omitted counts say how many more). An index.json
 * of more than 4,000,000 JSON values is not parsed (a problem). Returns 0 valid, 1 invalid,
 * incomplete or unsupported, -1 could not read (e filled; *report may still
 * be set). */
int bag_verify(const char *path, const struct bag_verify_opts *o, json_t **report,
	       struct err *e);

/* ---- one tag file (src/evidence/bagtag.c) ---- */
/* Read the tag file name (e.g. "bag-info.txt") at the top of a bag, a
 * directory or a tar (.tar, .tar.gz, .tar.zst), in one pass, never
 * extracting, never following a link; at most max bytes (ERR_INVALID
 * beyond). ERR_NOTFOUND when the bag has none. Nothing else of the bag is
 * checked: that is bag_verify()'s job. */
int bag_tag_read(const char *bag, const char *name, size_t max, char **buf, size_t *len,
		 struct err *e);

/* ---- a bag's tar, read (src/evidence/bagtag.c) ---- */
struct archive;
/* A libarchive reader on the tar at path: plain, gzip or zstd with the
 * library's own filters (ERR_UNSUPP when it has none: no external program is
 * ever run), tar format only, 1 MiB blocks. name: the bag as errors call it
 * ("read 'NAME': ..."). The caller frees *out with archive_read_free. */
int bag_tar_open(const char *path, const char *name, struct archive **out, struct err *e);
/* A member's path below the bag's top directory, after any "./":
 * "top/data/x" -> "data/x"; NULL for a name with no top directory. */
const char *bag_tar_below_top(const char *p);

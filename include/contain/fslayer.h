/* fslayer: the filesystem layer collector (src/collect/fslayer.c).
 *
 * Writes a container's overlay upperdir as an OCI image layer tar (pax,
 * through a struct sink) and returns files.json as JSON:
 *   - regular files, directories, symlinks (as links, never followed), hard
 *     links (same inode seen twice), FIFOs and devices (never opened),
 *     metadata (mode, uid, gid, mtime/atime/ctime, xattrs incl.
 *     security.capability as SCHILY.xattr);
 *   - overlay whiteouts (0:0 char devices) become ".wh.NAME" empty files,
 *     opaque directories (trusted.overlay.opaque / user.overlay.opaque = "y")
 *     get a ".wh..wh..opq" entry;
 *   - sparse files keep their holes (pax GNU sparse 1.0);
 *   - files storing more than max_file_bytes are hashed and listed in
 *     files.json but left out of the tar (noted);
 *   - sockets are listed in files.json only (tar cannot hold them).
 * Without an overlay upperdir the container's whole root is walked through
 * /proc/PID/root (mount points below it are skipped by st_dev, noted) and
 * files.json says "layer":"rootfs".
 *
 * The walk is iterative (an explicit stack, at most ~64 directory fds open),
 * by directory fd only (openat/fstatat with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW),
 * so a 10,000-deep tree is fine. Two helper threads: one hashes each file's
 * content (SHA-256) while the calling thread feeds libarchive, one hands the
 * tar bytes to the sink. File content is read once, into a ring both threads
 * read from (the tar's data bytes are not copied again). The sink is
 * therefore called from that writer thread (one call at a time, never
 * concurrently) while fslayer_collect_* runs; it must not rely on
 * thread-local state of the caller, and the bytes it is handed are only
 * valid during the call.
 *
 * Directories whose path is longer than FSLAYER_DEEP_PATH bytes are left out
 * of the tar unless empty or opaque (their children imply them; a deep chain
 * would otherwise cost quadratic space), and deep non-directories stop going
 * into the tar once deep_path_budget bytes of such paths were written
 * (noted). In files.json such deep entries carry "parent" (the index of
 * their directory's entry) and "name" instead of "path".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "contain/runtime.h"
#include "contain/util.h"

#define FSLAYER_DEFAULT_MAX_FILE (1ull << 30)	 /* 1 GiB stored per file */
#define FSLAYER_DEFAULT_HOLE_HASH (256ull << 20) /* zeros hashed per file */
#define FSLAYER_DEFAULT_DEEP_BUDGET (16ull << 20)
#define FSLAYER_DEEP_PATH 1024

enum fslayer_kind {
	FSLAYER_UPPER = 0, /* an overlay upperdir: whiteouts and opaque dirs mean something */
	FSLAYER_ROOT,	   /* a whole root: char devices are devices, mounts are skipped */
};

/* The sizing pass (fslayer_size_*): the exact length of the layer tar, so
 * that a tar bag can take the layer straight into its stream (no spool file
 * written and read back). It walks as the capture does (every entry opened
 * and stat'ed, xattrs read, sparse maps taken) but reads no content and
 * hashes nothing, and keeps a digest of every tar header it wrote. The pass
 * given that plan (fslayer_opts.plan) writes an entry into the tar only when
 * its header is byte-identical to one the sizing pass wrote (an entry's
 * length in a tar follows from its header), so its tar is never longer than
 * fslayer_plan_bytes(): an entry that changed in between (size, times,
 * xattrs, a new name) is left out of the tar, listed and hashed in
 * files.json and noted ("changed between the sizing pass and the capture");
 * one that went away leaves the tar shorter (res.tar_bytes), and the caller
 * zero-fills it to the planned length (zero blocks after the end of a tar
 * are still a valid tar). */
struct fslayer_plan;
struct sha256x;

struct fslayer_opts {
	uint64_t max_file_bytes;   /* stored (non-hole) bytes above which content is left out (0: default) */
	uint64_t max_hole_hash;	   /* hole bytes per file still hashed as zeros (0: default);
				      beyond it files.json has "sha256_data" over the data only */
	uint64_t deep_path_budget; /* tar path bytes of deep entries (0: default) */
	bool no_threads;	   /* hash and write on the calling thread */
	bool files_text_only;	   /* files.json as text only: res->files stays NULL */
	struct fslayer_plan *plan; /* from fslayer_size_*: the tar is bounded by it */
	struct sha256x *tar_sha256; /* set (initialised, the caller's): every byte the
				       sink takes is hashed into it too, with the files'
				       content in one pass (a bag artifact that takes
				       the caller's digest: bag_file_hash_given) */
};

struct fslayer_result {
	json_t *files;	  /* the files.json document (NULL with files_text_only) */
	char *files_text; /* the same document as JSON text, one entry a line, '\n' ended */
	size_t files_len;
	json_t *notes; /* array of strings: what was skipped or left out, and why */
	bool whole_root;
	uint64_t entries;      /* entries in files.json */
	uint64_t tar_entries;  /* entries written to the tar (whiteout/opaque markers included) */
	uint64_t tar_bytes;    /* bytes handed to the sink */
	uint64_t data_bytes;   /* file content bytes stored in the tar */
	uint64_t hashed_bytes; /* bytes hashed for files.json */
	uint64_t changed;      /* entries left out: changed since the sizing pass */
};

/* Walk rootfd (a directory fd; O_PATH is fine, it is reopened) of the given
 * kind; source is what files.json names as the origin (a path, may be NULL).
 * Per-entry problems are notes; -1 only when the tar could not be written
 * or the root could not be read. res is filled on success. */
int fslayer_collect_fd(int rootfd, enum fslayer_kind kind, const char *source,
		       const struct fslayer_opts *o, const struct sink *tar,
		       struct fslayer_result *res, struct err *e);
/* The same on a host directory path (opened O_DIRECTORY). */
int fslayer_collect_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e);
/* A resolved container: its overlay upperdir when it has one, else its whole
 * root through /proc/PID/root (running) or its rootfs path (stopped). */
int fslayer_collect_ctr(const struct ctr *c, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e);
void fslayer_result_free(struct fslayer_result *r);

/* The sizing pass over what fslayer_collect_ctr / _dir would walk (same
 * options); *plan is freed with fslayer_plan_free. */
int fslayer_size_ctr(const struct ctr *c, const struct fslayer_opts *o,
		     struct fslayer_plan **plan, struct err *e);
int fslayer_size_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
		     struct fslayer_plan **plan, struct err *e);
/* The tar's length as the sizing pass wrote it. */
uint64_t fslayer_plan_bytes(const struct fslayer_plan *p);
void fslayer_plan_free(struct fslayer_plan *p);

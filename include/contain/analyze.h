/* analyze: a bag against the image its container was started from, offline
 * (src/analyze/). Never needs root or a network, never runs anything from
 * the bag or the image, writes only inside the report directory.
 *
 *   bagread.c   the bag: verified first (bag_verify), its small members read
 *               (bounded), its layer (data/fs/upper.tar) streamed
 *   image.c     the image: OCI layout dir, oci-archive, docker-archive, read
 *               with libarchive, never extracted; layers applied in order
 *               (whiteouts, opaque dirs) into an aidx
 *   aidx.c      the index: a compact tree (path component names in one arena,
 *               fixed-size nodes, a hash of (parent, name)); no full paths kept
 *   diff.c      the bag's layer against an aidx: added, modified, metadata,
 *               deleted, opaque
 *   filetype.c  libmagic (MIME, description) on a file's first bytes; the ELF
 *               header (and section table, as the bytes pass) of a stream
 *   pkgdb.c     dpkg status, apk installed, rpm db: the packages of a database
 *   yara.c      libyara: rule files compiled once (cached by content hash),
 *               buffers scanned on any thread, hits as findings yara.<rule>
 *   findings.c  the finding model and the rules over the report
 *   report.c    report.json is the model; report.md, report.html,
 *               timeline.csv and bodyfile are written from it alone
 *   analyze.c   analyze_run: the whole verb as one library call
 *   scan.c      scan_run: the detection of analyze (YARA, memory, traffic)
 *               on a directory, a file, a tar, a bag or a live container
 *
 * The report (docs/report-schema.md) is one JSON document; every writer
 * reads only it, and later analyses (YARA, flows) add their sections under
 * "analyses" and their findings to "findings" through findings_add(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "contain/util.h"

struct archive;

#define REPORT_SCHEMA_VERSION 1

/* ---- bounds on hostile input (each reached is an error or a reported skip) ---- */
#define AN_PATH_MAX 4096u		    /* bytes of one path in a layer; longer: skipped, noted */
#define AN_ENTRIES_MAX 4000000u		    /* entries of one image (all layers) or one bag layer */
#define AN_JSON_MAX (64ull << 20)	    /* bytes of one JSON member (index, manifest, files.json...) */
#define AN_SMALL_JSON_MAX (4ull << 20)	    /* bytes of an image's index/manifest/config */
#define AN_LAYER_MAX (64ull << 30)	    /* uncompressed bytes of one layer */
#define AN_RATIO_MAX 1000u		    /* uncompressed/compressed past 64 MiB: a bomb */
#define AN_KEEP_MAX (16u << 20)		    /* bytes of a kept file (package db, passwd...) */
#define AN_MAGIC_BYTES (1u << 20)	    /* bytes given to libmagic */
#define AN_DIFF_LIST_MAX 50000u	    /* diff entries listed; past it, only notable ones... */
#define AN_DIFF_NOTABLE_MAX 50000u	    /* ...up to this many more; the rest counted in stats */
#define AN_OPAQUE_SAMPLE 100u		    /* hidden paths listed per opaque dir */

/* ---- the index of a filesystem tree (aidx.c) ---- */
enum aent_type {
	AENT_NONE = 0,
	AENT_FILE,
	AENT_DIR,
	AENT_SYMLINK,
	AENT_CHAR,
	AENT_BLOCK,
	AENT_FIFO,
	AENT_SOCKET,
};
/* "file", "dir", "symlink", "char", "block", "fifo", "socket" */
const char *aent_type_name(enum aent_type t);
/* The type of a file type's bits (S_IFMT of a mode, libarchive's AE_IF*);
 * AENT_NONE for none of them (filetype.c). */
enum aent_type aent_type_from_mode(unsigned int mode);

typedef uint32_t aidx_id;
#define AIDX_NONE UINT32_MAX
#define AIDX_ROOT 0u /* the root directory, path "" */

/* What the index holds of one path (a copy; strings point into the index,
 * valid until the index next changes). */
struct aidx_entry {
	enum aent_type type;
	uint32_t mode; /* permission bits with setuid/setgid/sticky (07777) */
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime; /* seconds */
	bool has_sha256;
	unsigned char sha256[32]; /* regular files: of the content */
	const char *link_target;  /* symlinks (NUL-terminated), else NULL */
	const unsigned char *caps; /* security.capability value, else NULL */
	size_t caps_len;
	uint32_t nxattrs; /* xattrs the entry had (security.capability included) */
	uint16_t layer;	  /* the layer that last wrote it (0: the first) */
	bool implicit;	  /* a directory only implied by a path below it */
};

struct aidx;
struct aidx *aidx_new(void);
void aidx_free(struct aidx *x);
/* Paths are relative, "/"-separated, without a leading "/" or "./" and
 * without "." or ".." components (the caller normalizes; see an_path_norm).
 * Set an entry, creating implied parent directories (implicit = true); an
 * existing entry is replaced (a directory keeps its children unless it is
 * replaced by a non-directory: then they go). ERR_INVALID past
 * AN_ENTRIES_MAX nodes or for a path under a non-directory. */
int aidx_set(struct aidx *x, const char *path, const struct aidx_entry *ent, aidx_id *out,
	     struct err *e);
/* AIDX_NONE when absent. */
aidx_id aidx_lookup(const struct aidx *x, const char *path);
void aidx_get(const struct aidx *x, aidx_id id, struct aidx_entry *out);
/* Remove a node and everything under it. */
void aidx_remove(struct aidx *x, aidx_id id);
/* Remove the nodes under a directory whose layer is below `layer` (an
 * opaque directory of that layer); nodes of that layer stay. */
void aidx_remove_below(struct aidx *x, aidx_id dir, uint16_t layer);
aidx_id aidx_first_child(const struct aidx *x, aidx_id dir);
aidx_id aidx_next_sibling(const struct aidx *x, aidx_id id);
aidx_id aidx_parent(const struct aidx *x, aidx_id id);
/* The path of a node into buf (NUL-terminated); returns its length, or
 * the length it would need when sz is too small (like snprintf). */
size_t aidx_path(const struct aidx *x, aidx_id id, char *buf, size_t sz);
/* Live nodes (the root excluded). */
size_t aidx_count(const struct aidx *x);
/* One past the largest id ever handed out (for bitmaps over ids). */
size_t aidx_capacity(const struct aidx *x);
size_t aidx_memory(const struct aidx *x); /* bytes held */
/* Lower the node bound (AN_ENTRIES_MAX) of x: tests and fuzzing. */
void aidx_set_limit(struct aidx *x, size_t max_nodes);

/* Kept content: the whole content of files whose path matches an_keep_path()
 * (passwd, package databases...), at most AN_KEEP_MAX bytes each. */
int aidx_keep(struct aidx *x, aidx_id id, const void *buf, size_t n, bool truncated,
	      struct err *e);
/* NULL when not kept. */
const void *aidx_kept(const struct aidx *x, aidx_id id, size_t *n, bool *truncated);

/* Normalize a tar entry name into a relative path (strip "./" and leading
 * "/", reject ".." components and empty names): 0, or -1 with e
 * (ERR_INVALID, naming the entry). out has AN_PATH_MAX bytes. */
int an_path_norm(const char *name, char *out, struct err *e);
/* The files whose content analyze keeps on both sides (image and bag):
 * etc/passwd, etc/shadow, etc/group, etc/gshadow, etc/sudoers,
 * etc/sudoers.d/x, etc/ld.so.preload, var/lib/dpkg/status,
 * lib/apk/db/installed, var/lib/rpm/{Packages,rpmdb.sqlite},
 * usr/lib/sysimage/rpm/rpmdb.sqlite, etc/crontab, etc/ssh/sshd_config,
 * .../.ssh/authorized_keys. */
bool an_keep_path(const char *path);

/* ---- the image (image.c) ---- */
struct aimg_opts {
	const char *path;	 /* OCI layout dir, oci-archive or docker-archive tar */
	const char *ref;	 /* --image-ref: a ref name / RepoTag to pick (NULL: see below) */
	const char *want_digest; /* the digest the bag recorded ("sha256:..."), or NULL */
	/* With several images and no ref: the one whose manifest or config
	 * digest is want_digest; else the only one; else ERR_AMBIG listing them. */
	uint64_t max_entries; /* 0: AN_ENTRIES_MAX (tests and fuzzing lower it) */
	bool keep_layers;     /* keep the source open for aimg_layer_read (the sysroot) */
};
struct aimg {
	struct aidx *idx;
	const char *form;	 /* "oci-layout", "oci-archive", "docker-archive" */
	char *manifest_digest;	 /* "sha256:..." (NULL for a docker-archive) */
	char *config_digest;	 /* "sha256:..." of the config blob as stored */
	char *ref;		 /* the ref name / RepoTag picked, or NULL */
	json_t *refs;		 /* array: every image in it {ref, manifest_digest, config_digest} */
	json_t *config;		 /* the image config's "config" object (Env, Entrypoint...) or null */
	json_t *layers;		 /* array: {digest, media_type, compressed_size, size, entries, digest_ok
				  * (true, false, null: could not be checked), compression ("gzip",
				  * "zstd", "none"...), complete (false: the layer stopped, see notes)} */
	json_t *notes;		 /* array of strings: what was skipped and why */
	uint64_t bytes_hashed;	 /* file content bytes hashed */
	struct aimg_src *src;	 /* keep_layers: the source, kept open (image.c's) */
};
int aimg_open(const struct aimg_opts *o, struct aimg **out, struct err *e);
void aimg_free(struct aimg *img);
/* "match", "mismatch" or "unknown" (want NULL), comparing want with both
 * digests of img. */
const char *aimg_digest_match(const struct aimg *img, const char *want);
/* keep_layers: the image's layers (0 without), and layer i streamed again:
 * fn gets a libarchive reader over its tar (decompressed in the library);
 * the blob is hashed as it is read and must have the digest the first pass
 * saw (ERR_INVALID: it changed). */
typedef int (*aimg_layer_fn)(struct archive *layer, uint16_t i, void *ctx, struct err *e);
size_t aimg_layer_count(const struct aimg *img);
int aimg_layer_read(struct aimg *img, size_t i, aimg_layer_fn fn, void *ctx, struct err *e);
/* Apply a layer's tar onto idx as layer number `layer`, as aimg_open applies
 * the image's (whiteouts and opaque dirs unless !whiteouts; files hashed;
 * bounded by AN_ENTRIES_MAX, AN_LAYER_MAX); what was skipped goes to notes. */
int aimg_layer_apply(struct aidx *idx, struct archive *a, uint16_t layer, bool whiteouts,
		     json_t *notes, struct err *e);

/* ---- file types (filetype.c) ---- */
/* The ELF header and section table of a stream, as its bytes pass (any
 * chunking, offsets increasing). */
struct aelf_sniff {
	unsigned char head[64];
	size_t head_len;
	/* filled from the header */
	bool is_elf, bad;
	int cls;  /* 32 or 64 */
	bool big_endian;
	uint16_t e_type, e_machine;
	uint64_t phoff, shoff;
	uint16_t phnum, phentsize, shnum, shentsize;
	/* program headers and section headers, gathered as they pass (bounded:
	 * 64 KiB of program headers, 1 MiB of section headers); *_len is the
	 * table's size, *_got the bytes of it gathered so far */
	unsigned char *ph, *sh;
	size_t ph_len, sh_len;
	size_t ph_got, sh_got;
	uint64_t seen;
	/* from the program headers once gathered */
	bool hdr_done, ph_parsed, has_interp, has_dynamic;
	uint64_t interp_off;
	size_t interp_len, interp_got; /* at most 256 bytes of PT_INTERP's content */
	char interp[257];
	unsigned char *dyn; /* PT_DYNAMIC's content (at most 16 KiB): DT_FLAGS_1 */
	uint64_t dyn_off;
	size_t dyn_len, dyn_got;
};
void aelf_init(struct aelf_sniff *s);
void aelf_feed(struct aelf_sniff *s, const void *buf, size_t n);
/* {"class":"ELF64","machine":"x86-64","type":"exec"|"shared object"|"pie executable"|"relocatable"|"core"|"other",
 *  "linkage":"static"|"dynamic"|null,"interpreter":"/lib64/ld-linux-x86-64.so.2"|null,
 *  "stripped":true|false|null} or NULL when not ELF (or its header is cut short).
 * ET_DYN is a "pie executable" with DF_1_PIE (as file(1): libc.so.6 has an
 * interpreter yet is a library), or, its dynamic section unread, with an
 * interpreter. linkage null: not an executable or its program headers
 * unread; stripped null: no section table or it was not read whole (cut,
 * over 1 MiB); interpreter null also when the stream passed it before the
 * program headers said where it is (the result never depends on chunking). */
json_t *aelf_json(const struct aelf_sniff *s);
void aelf_free(struct aelf_sniff *s);

struct aftype; /* one libmagic handle: one per thread */
int aftype_open(struct aftype **out, struct err *e);
void aftype_close(struct aftype *t);
/* Sets "mime" and "magic" (description) of entry from the first n bytes
 * (n <= AN_MAGIC_BYTES) of a file whose size is size; libmagic never sees a
 * path, only this buffer. A libmagic failure sets "magic_error" instead. */
void aftype_buffer(struct aftype *t, const void *head, size_t n, uint64_t size, json_t *entry);
/* "#!/bin/sh -e" in the first bytes: the interpreter line (without "#!",
 * trimmed, at most 256 bytes, JSON-safe) or NULL. */
char *an_shebang(const void *head, size_t n);

/* ---- the diff (diff.c) ---- */
struct adiff_opts {
	bool whole_root;     /* the bag's layer is a whole root, not an upperdir */
	json_t *files_json;  /* data/fs/files.json (borrowed; NULL: none): times,
				entries left out of the tar (their sha256) */
	struct aftype *ftype; /* libmagic handle (borrowed; NULL: no mime/magic). During the
				 call it is used by the diff's worker thread (more
				 threads open handles of their own) */
	/* NULL, or called for every added or modified regular file of the tar
	 * with its first content_max bytes, on one of the diff's worker threads
	 * (any order, concurrently: fn is thread-safe) */
	const struct adiff_content_hook *content;
};
struct adiff_content {
	const char *path;	   /* normalized, as in the layer */
	const char *change;	   /* "added" or "modified" */
	const unsigned char *sha256; /* of the whole content */
	uint64_t size;		   /* the whole content's size */
	const void *buf;	   /* its first n bytes (n < size: cut at content_max) */
	size_t n;
	const char *mime;	   /* libmagic's, or NULL */
};
struct adiff_content_hook {
	size_t content_max;
	void (*fn)(void *ctx, const struct adiff_content *c);
	void *ctx;
};
/* Read the bag's layer (a tar, already opened by the caller) against the
 * image's index img. With whole_root, every image entry the layer lacks is
 * "deleted" except under directories files.json says were not walked
 * ("mount_point", or a "note": could not be opened; without files.json:
 * proc, sys, dev), and ".wh." names are plain files. Returns -1 only when
 * the layer's first header cannot be read; a layer cut short later gives
 * what was read and a note. *out gets {"added":[...],"modified":[...],
 * "metadata":[...],"deleted":[...],"opaque":[...],"notes":[...],
 * "stats":{...}} (docs/report-schema.md) and kept the bag side's kept
 * content (an aidx of the layer's kept files only, may be NULL). The
 * image's index is not changed. */
int adiff_layer(const struct aidx *img, struct archive *layer, const struct adiff_opts *o,
		json_t **out, struct aidx **kept, struct err *e);

/* ---- YARA (yara.c) ----
 * One compile of the shipped rules (yara-rules/) plus --rules FILE|DIR,
 * cached when a cache dir is given; scans buffers (a layer's files, a core's
 * regions, a stream's bytes) on any thread; each hit is a finding
 * yara.<rule name lowercased, "_" as "-">. Rule files are hostile input: each is compiled alone
 * first, a broken one is reported (file, line, message) and left out, the
 * rest run; includes are refused. */
#define AYARA_MAX_BYTES_DEFAULT (64ull << 20) /* --yara-max-bytes */
#define AYARA_TIMEOUT_DEFAULT 10	      /* --yara-timeout, seconds per object */
#define AYARA_RULE_FILE_MAX (16u << 20)	      /* bytes of one rule file */
#define AYARA_RULE_FILES_MAX 10000u	      /* rule files of all dirs */
#define AYARA_CACHE_MAX (512ull << 20)	      /* bytes of a compiled-rules cache file */
#define AYARA_STRINGS_MAX 20u		      /* matched strings listed per finding */
#define AYARA_EXCERPT 64u		      /* bytes of a match shown */
#define AYARA_ERRORS_MAX 100u		      /* errors listed in analyses.yara */
struct ayara_opts {
	const char *shipped_dir;   /* NULL: CONTAIN_RULES_DIR (compile-time) */
	bool no_shipped;	   /* --no-shipped-rules */
	const char *const *rules;  /* --rules FILE|DIR, in order */
	size_t nrules;
	const char *cache_dir;	   /* --cache-dir (NULL: no cache) */
	unsigned timeout;	   /* seconds per object (0: AYARA_TIMEOUT_DEFAULT) */
	uint64_t max_bytes;	   /* per object (0: AYARA_MAX_BYTES_DEFAULT) */
};
struct ayara;
/* Find, compile (or load from the cache) the rules. A rule file that does
 * not compile is an error of the section, not a failure; -1 only when no
 * rule could be had at all from what was asked (a --rules path missing, no
 * rule file anywhere: ERR_NOTFOUND/ERR_INVALID) or libyara fails. */
int ayara_open(const struct ayara_opts *o, struct ayara **out, struct err *e);
void ayara_free(struct ayara *y);
/* The rules' context of one object (the externals): NULL strings are "". */
struct ayara_ctx {
	const char *source;	  /* "file", "memory", "network" */
	const char *path;	  /* filepath (and filename, extension from it) */
	const char *filetype;	  /* libmagic MIME */
	int64_t pid;		  /* 0: none */
	const char *process_name;
	uint64_t base;		  /* added to match offsets ("address" when source is memory) */
	uint64_t size;		  /* the object's whole size (>= n: the first n bytes scanned) */
};
/* Scan n bytes (at most max_bytes of them: the rest is noted); each
 * matching rule adds a finding to report (under a lock: any thread) with
 * evidence_base's members (borrowed, copied) plus rule, namespace, tags,
 * strings [{id, offset, excerpt}]. Returns the number of rules that
 * matched, or -1 with e (timeout, libyara error: also counted in the
 * section's errors). Thread-safe: one YR_SCANNER per call. */
int ayara_scan(struct ayara *y, const void *buf, size_t n, const struct ayara_ctx *ctx,
	       json_t *report, json_t *evidence_base, struct err *e);
/* analyses.yara: {rules: {files, count, cache, dirs}, scanned: {files, bytes,
 * truncated}, hits, errors: [...], notes: [...]} */
json_t *ayara_section(struct ayara *y);
uint64_t ayara_max_bytes(const struct ayara *y);

/* ---- YARA on memory and traffic, on worker threads (yara.c) ----
 * The reading thread (a core's regions, a pcap's streams, a tar's files)
 * submits buffers; the pool's workers scan them (ayara_scan each), so
 * reading and scanning overlap on every CPU. The bytes queued are bounded:
 * a submitter waits while AYARA_POOL_QUEUE_MAX bytes are queued. */
#define AYARA_POOL_QUEUE_MAX (128ull << 20)
#define AYARA_MEM_OVERLAP    (64u << 10) /* bytes two windows of a region share */
struct ayara_pool;
/* workers 0: the online CPUs (at most 8); report: where findings go (the
 * workers gather them apart: they reach report in ayara_pool_finish, so the
 * caller may add findings of its own to report meanwhile). Memory and
 * traffic are scanned in libyara's fast mode: a rule at most once per
 * window or stream direction, with the first match of each string. */
struct ayara_pool *ayara_pool_new(struct ayara *y, json_t *report, unsigned workers);
/* Scan n bytes of buf later: buf (malloc'd) is the pool's (freed after),
 * evidence_base is stolen (may be NULL), ctx and its strings are copied. */
void ayara_pool_submit(struct ayara_pool *p, void *buf, size_t n, const struct ayara_ctx *ctx,
		       json_t *evidence_base);
/* Wait for every scan submitted, stop the workers, free the pool. */
void ayara_pool_finish(struct ayara_pool *p);

/* Memory: one process's regions (a core's, or a live process's read the
 * way the collector reads them) into the pool. */
struct acore_region;
struct ayara_mem;
/* member: the core's name in the bag ("data/memory/<pid>.core"), or NULL */
struct ayara_mem *ayara_mem_new(struct ayara_pool *p, long long pid, const char *process_name,
				const char *member);
/* An acore_region_fn (arg: the ayara_mem): gathers a region's chunks into
 * windows of at most the pool's max_bytes (and 16 MiB), consecutive windows sharing
 * AYARA_MEM_OVERLAP bytes (a match in the shared part is reported once),
 * and submits each with ctx.source "memory", base = the window's address.
 * A hit's evidence: pid, process_name, member, address (of the first
 * match), region {start, size, perms}, mapping (the region's name: a path,
 * "[heap]", "[stack]", "anon"); its strings' offsets are addresses; the
 * finding's path "pid:<pid>@0x<address>" (distinct hits, distinct paths). */
int ayara_mem_region(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		     void *arg);
void ayara_mem_free(struct ayara_mem *m); /* submits what is still gathered */

/* Traffic: an aflow_stream_fn (arg: the ayara_pool) scanning each TCP
 * stream direction and UDP payload with ctx.source "network". A hit's
 * evidence: flow {proto, src, sport, dst, dport}, direction ("to_server" /
 * "to_client"), offset (of the first match); its strings' offsets are
 * offsets in that direction's stream; the finding's path
 * "tcp <src>:<sport> -> <dst>:<dport> <direction>@<offset>" (the flow as
 * flow.* findings name it, then the direction and the offset). */
struct aflow_key;
void ayara_stream(const struct aflow_key *k, int dir, const void *buf, size_t n, void *arg);

/* ---- package databases (pkgdb.c) ---- */
/* The packages of a database's content: an object {name: version} for
 * "dpkg" (var/lib/dpkg/status, installed ones), "apk" (lib/apk/db/installed);
 * NULL with a note for a format that cannot be read (rpm's db: "changed",
 * packages not named). */
json_t *pkgdb_parse(const char *path, const void *buf, size_t n, char **note);

/* ---- findings (findings.c) ---- */
enum sev { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };
const char *sev_name(enum sev s);
int sev_parse(const char *s, enum sev *out); /* 0, or -1 for an unknown name */

/* Add a finding to report["findings"] (steals evidence and detail may be
 * NULL or a string/object). attack may be NULL. */
void findings_add(json_t *report, const char *id, enum sev sev, const char *title,
		  const char *attack, const char *path, json_t *evidence, const char *detail);
/* The filesystem, process and image rules over report (its "diff",
 * "processes", "image", "container") with the kept content of both sides. */
void findings_rules(json_t *report, const struct aidx *img, const struct aidx *bag_kept);
/* Sort by severity (critical first) then path then id; drop duplicates
 * (same id and path); list at most 1000 findings of one id (the most severe;
 * one more finding of that id says how many were left out); fill
 * report["summary"] (counts by severity, total, worst, verdict, ids,
 * not_listed; "failed" when the caller set summary.fail_on before). */
void findings_finish(json_t *report);

/* ---- reports (report.c) ---- */
/* Each writes one file into dirfd (O_CREAT|O_EXCL|O_NOFOLLOW, 0644) from the
 * report alone. */
int report_write_json(const json_t *report, int dirfd, const char *name, struct err *e);
int report_write_md(const json_t *report, int dirfd, const char *name, struct err *e);
int report_write_html(const json_t *report, int dirfd, const char *name, struct err *e);
int report_write_timeline(const json_t *report, int dirfd, const char *name, struct err *e);
int report_write_bodyfile(const json_t *report, int dirfd, const char *name, struct err *e);

/* ---- ELF cores of the bag (coreread.c) ----
 * data/memory/<pid>.core as src/collect/memory.c writes them (ELF64 little
 * endian ET_CORE: the header, the program headers, one PT_NOTE with
 * NT_PRSTATUS per thread, NT_PRPSINFO, NT_AUXV, NT_FILE..., then the
 * PT_LOAD contents page aligned in address order) and any other Linux core
 * (kernel, gdb's gcore). Read in one forward pass: the headers, then the
 * notes and the PT_LOAD contents in file-offset order. From an fd (pread:
 * any order works) or a stream (sequential: a part that lies before the
 * current position cannot be read; see acore_read_stream). */
#define ACORE_PHNUM_MAX	 262144u	 /* program headers (vm.max_map_count is 65530) */
#define ACORE_NOTES_MAX	 (64u << 20)	 /* bytes of all PT_NOTE segments */
#define ACORE_NFILE_MAX	 262144u	 /* NT_FILE entries used */
#define ACORE_CHUNK	 (1u << 20)	 /* bytes given to on_region at once (default) */
#define ACORE_NOTES_LIST 32u		 /* problems listed in acore_info.notes */

struct acore_region {
	size_t index;	   /* among the core's PT_LOADs, in program header order */
	uint64_t vaddr;	   /* start of the mapping */
	uint64_t memsz;	   /* its size in memory */
	uint64_t filesz;   /* bytes of it in the core (0: left out by the collector) */
	uint64_t offset;   /* of those bytes in the core */
	uint32_t flags;	   /* PF_R (4) | PF_W (2) | PF_X (1) */
	const char *name;  /* the mapped file's path (NT_FILE, else the .maps file),
			    * "[heap]", "[stack]", "[vdso]"... (the .maps file, or
			    * [stack] from the first thread's stack pointer), else "anon" */
	bool file_backed;  /* name is a file's path */
	uint64_t file_ofs; /* offset of vaddr in that file (file_backed) */
};
/* One call per chunk of a region's bytes, in order (off_in_region
 * increasing, n <= the chunk size); every PT_LOAD gets at least one call: a
 * region none of whose bytes are delivered (left out of the core, past
 * max_bytes, overlapping an earlier part of a stream) gets one with data
 * NULL and n 0. Return 0 to go on, > 0 to skip the rest of this region, < 0
 * to stop reading (acore_read_* then fail with ERR_WRONGSTATE). */
typedef int (*acore_region_fn)(const struct acore_region *r, const void *data, size_t n,
			       uint64_t off_in_region, void *arg);
/* A stream's read: up to n bytes into buf, 0 at its end, -1 on error (the
 * reader sets e). */
typedef ssize_t (*acore_read_fn)(void *ctx, void *buf, size_t n, struct err *e);
struct acore_opts {
	acore_region_fn on_region; /* may be NULL: only the notes are read */
	void *arg;
	/* may be NULL: every region is read. Returning false, a region's bytes
	 * are not read (pread) or read past (a stream); on_region gets its one
	 * call with n 0 */
	bool (*want)(const struct acore_region *r, void *arg);
	const char *maps; /* the <pid>.maps file's content, or NULL: names of the */
	size_t maps_len;  /* mappings NT_FILE does not have ([heap], [stack]...) */
	uint64_t max_bytes; /* region bytes delivered in all (0: no bound) */
	size_t chunk;	    /* 0: ACORE_CHUNK */
};
struct acore_info {
	long long pid;	  /* NT_PRPSINFO (else the first NT_PRSTATUS), -1 unknown */
	char comm[17];	  /* NT_PRPSINFO pr_fname */
	char psargs[81];  /* pr_psargs */
	size_t nthreads;  /* NT_PRSTATUS notes */
	size_t nregions;  /* PT_LOADs */
	size_t nfile;	  /* NT_FILE entries */
	uint64_t bytes;	  /* region bytes delivered */
	uint64_t bytes_left_out; /* region bytes in the core not delivered (max_bytes, overlaps) */
	json_t *notes;	  /* array of strings: what was odd (at most ACORE_NOTES_LIST) */
};
/* Read a core from fd (its size from fstat; reads with pread from offset
 * 0). Returns 0, or -1 with e (ERR_INVALID naming what is wrong: not an
 * ELF64 LE core, a table or note past the end of the file, sizes that
 * overflow...; regions before the problem were already delivered).
 * info is filled as far as the core was read (acore_info_free it). */
int acore_read_fd(int fd, const struct acore_opts *o, struct acore_info *info, struct err *e);
/* The same from a stream read once, forward. Parts are read in file-offset
 * order: the notes first when they come first (as in every Linux core);
 * PT_LOADs before a PT_NOTE in the file get names from the .maps file only;
 * a part that starts before the end of one already read (overlap) is not
 * delivered (noted); a core with 65535 or more program headers (the count
 * in section header 0, after the data) is refused (ERR_UNSUPP). */
int acore_read_stream(acore_read_fn rd, void *ctx, const struct acore_opts *o,
		      struct acore_info *info, struct err *e);
void acore_info_free(struct acore_info *info);

/* ---- the bag (bagread.c) ---- */
/* The bag's members analyze reads, each bounded by AN_JSON_MAX; a member
 * missing or not valid JSON is NULL with a note naming it (never fatal). */
struct abag {
	char *path;	     /* as given ("-" for stdin) */
	char *open_path;     /* what is opened: path, or /proc/self/fd/N of the spool */
	int spool_fd;	     /* stdin spooled to an unlinked temp file, or -1 */
	int dirfd;	     /* a directory bag, or -1 */
	bool is_dir;
	json_t *verify;	     /* bag_verify()'s report */
	bool verified;	     /* it verified (valid) */
	bool forced;	     /* it did not, and --force */
	char *info_text;     /* bag-info.txt, or NULL */
	size_t info_len;
	json_t *info;	     /* bag-info.txt as {label: value} (first of each), or {} */
	json_t *index;	     /* index.json */
	json_t *custody;     /* custody.jsonl: array of events (bounded: AN_CUSTODY_MAX) */
	json_t *files;	     /* data/fs/files.json */
	json_t *tree;	     /* data/processes/tree.json */
	json_t *image;	     /* data/container/image.json */
	json_t *inspect;     /* data/container/inspect.json */
	json_t *netstate;    /* data/network/state.json */
	json_t *quarantine;  /* data/quarantine.json */
	bool has_layer;	     /* data/fs/upper.tar is there */
	json_t *notes;	     /* array of strings */
	json_t *config;	     /* data/container/config.json (the OCI runtime config) */
	struct abag_maps *maps; /* tar bags: the data/memory/<pid>.maps files (bounded: AN_MAPS_MAX) */
	size_t nmaps;
	size_t maps_bytes;
};
struct abag_maps {
	long long pid;
	char *buf;
	size_t len;
};
#define AN_MAPS_MAX (64u << 20)	/* bytes of all .maps files kept (tar bags) */
#define AN_MAPS_ONE_MAX (16u << 20) /* bytes of one .maps file */
#define AN_CORES_MAX 100000u	/* cores of a bag read */
/* One core of the bag (data/memory/<pid>.core) for abag_cores' fn: fd >= 0
 * (a directory bag: the file, opened as the members are) or rd/rctx (a tar
 * bag: the entry's bytes, read once, forward); maps the <pid>.maps file's
 * content (NULL when the bag has none or it could not be read). */
struct abag_core {
	long long pid;
	const char *name; /* "data/memory/<pid>.core" */
	int fd;
	acore_read_fn rd;
	void *rctx;
	uint64_t size;
	const char *maps;
	size_t maps_len;
	const char *comm; /* the process's name when the caller knows it, else NULL */
};
typedef int (*abag_core_fn)(const struct abag_core *c, void *ctx, struct err *e);
/* Each core of the bag in turn (directory: in pid order; tar: in the tar's
 * order, in one pass over it). A core that cannot be opened is a note in
 * b->notes; fn returning -1 stops the walk with its error. Returns 0, or -1
 * (the bag's tar cannot be read, or fn failed). */
int abag_cores(struct abag *b, abag_core_fn fn, void *ctx, struct err *e);
#define AN_CUSTODY_MAX 100000u /* custody lines read */
#define AN_JSON_VALUES_MAX 4000000u /* values of one member (json_text_values) */
struct abag_opts {
	const char *path;      /* dir, tar (plain, gz, zst) or "-" */
	const char *pubkey;    /* --pubkey for bag_verify */
	bool force;	       /* a bag that does not verify is read anyway */
	int stdin_fd;	       /* for "-" */
	const char *spool_dir; /* for "-": where the unlinked spool goes (NULL: $TMPDIR, /tmp) */
};
/* Verify, then read the members. A bag that does not verify and no force:
 * -1 with ERR_INVALID, *out still set (its verify report, nothing read). */
int abag_open(const struct abag_opts *o, struct abag **out, struct err *e);
void abag_free(struct abag *b);
/* Set a member from bytes (what abag_open does for each; for the fuzz
 * target): name as in the bag ("data/fs/files.json"...). A bad member is a
 * note; returns false then. */
bool abag_set_member(struct abag *b, const char *name, const char *buf, size_t n);
struct abag *abag_new(void); /* empty, for abag_set_member */
/* Stream data/fs/upper.tar: fn gets a libarchive reader over it (tar
 * format, never extracted). ERR_NOTFOUND when the bag has none. */
typedef int (*abag_layer_fn)(struct archive *layer, void *ctx, struct err *e);
int abag_layer(struct abag *b, abag_layer_fn fn, void *ctx, struct err *e);
/* Each member DIR/NAME*SUFFIX (NAME without "/"; regular files; a
 * directory bag's in name order, a tar bag's in tar order) streamed through
 * a FILE (a tar's member through fopencookie over libarchive, never loaded
 * whole); fn owns fp (fcloses it). A member that cannot be opened is a
 * note; fn's error stops. */
typedef int (*abag_member_fn)(const char *name, FILE *fp, void *ctx, struct err *e);
int abag_members(struct abag *b, const char *dir, const char *suffix, abag_member_fn fn, void *ctx,
		 struct err *e);

/* ---- the network: the bag's pcaps (flows.c) ---- */
#define AFLOW_STREAM_MAX (1u << 20)	/* bytes of one TCP stream direction reassembled */
#define AFLOW_TOTAL_MAX (256ull << 20)	/* bytes of all streams held at once */
#define AFLOW_PENDING_MAX 256u		/* out-of-order segments held per direction */
#define AFLOW_FLOWS_MAX 500000u		/* flows tracked; past it packets are counted only */
#define AFLOW_LIST_MAX 10000u		/* flows, DNS messages, TLS hellos, HTTP requests listed */
#define AFLOW_PCAPS_MAX 64u		/* pcaps read */
/* one packet in two pcaps (the netns capture and an NFLOG one) counted once
 * (flows.c, docs/report-schema.md): packets remembered, the time apart of
 * two copies, how long before the cut packets are remembered, payload bytes
 * in the identity */
#define AFLOW_DUP_MAX	     (1u << 20)
#define AFLOW_DUP_WINDOW_NS  1000000000ll
#define AFLOW_DUP_BEFORE_CUT (10ll * 1000000000)
#define AFLOW_DUP_PAYLOAD    64u

/* A flow: src is its initiator (the sender of a SYN, else of the first
 * packet seen; for UDP to port 53, the querier). Addresses in network order;
 * IPv4 in the first 4 bytes. */
struct aflow_key {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* 6 tcp, 17 udp, 1 icmp, 58 icmpv6, other */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};
/* dir 0: from src (client to server), 1: to it. TCP: a direction's stream
 * reassembled by sequence number, once, when the flow closes (FIN both
 * ways, RST) or the input ends: the bytes from the start (the SYN's seq + 1,
 * else the first segment seen) up to the first gap, at most stream_max
 * (bytes in place are never replaced: a retransmission or overlap adds only
 * what is new; among segments held out of order the lower offset wins).
 * stream_max is 64 KiB when on_stream is NULL (heads for TLS and HTTP).
 * UDP: each datagram's payload as it passes. */
typedef void (*aflow_stream_fn)(const struct aflow_key *k, int dir, const void *buf, size_t n,
				void *arg);
struct aflows_opts {
	aflow_stream_fn on_stream; /* NULL: none */
	void *arg;
	size_t stream_max;  /* 0: AFLOW_STREAM_MAX */
	uint64_t total_max; /* 0: AFLOW_TOTAL_MAX */
	size_t flows_max;   /* 0: AFLOW_FLOWS_MAX */
	const char *cut_at; /* RFC 3339 time of the quarantine's network cut, or NULL */
	/* the container's own addresses (numeric strings; NULL/0: unknown): when
	 * known, only packets from them count as attempts after the cut */
	const char *const *local_addrs;
	size_t nlocal;
};
struct aflows;
struct aflows *aflows_new(const struct aflows_opts *o);
void aflows_free(struct aflows *f);
/* One pcap (classic, any byte order, micro or nano seconds; pcapng as
 * libpcap reads it), streamed: Ethernet (VLAN tags), Linux cooked (SLL,
 * SLL2), NFLOG, raw IP, null/loopback. Returns -1 with e when the header is
 * not a pcap's; a packet cut short or malformed is counted, the rest goes
 * on; a file cut short ends with a note. name is how the pcap is named.
 * fp is f's: closed before the return (libpcap's pcap_close). */
int aflows_read(struct aflows *f, FILE *fp, const char *name, struct err *e);
/* Ends the input: every stream not yet delivered is; then *out gets
 * {"pcaps":[...],"flows":[...],"dns":[...],"tls":[...],"http":[...],
 * "stats":{...},"notes":[...]} (docs/report-schema.md) and the network
 * findings (flow.*) are added to report (may be NULL). */
void aflows_finish(struct aflows *f, json_t *report, json_t **out);
/* The parsers alone (fuzzing): a DNS message (NULL: not one), a TLS
 * ClientHello record (NULL: not one), an HTTP/1.x request head (NULL: not
 * one), an HTTP/1.x response head (NULL: not one). */
json_t *aflow_dns_json(const void *buf, size_t n);
json_t *aflow_tls_json(const void *buf, size_t n);
json_t *aflow_http_request_json(const void *buf, size_t n);
json_t *aflow_http_response_json(const void *buf, size_t n);
/* analyze's part: every data/network/NAME.pcap of b into report["network"]
 * (flows, dns, tls, http, pcaps, stats) with its findings. */
int analyze_network(json_t *report, struct abag *b, const struct aflows_opts *o, struct err *e);
/* The pool's YARA on every stream of an aflows (on_stream ayara_stream, arg
 * p): a direction is reassembled up to --yara-max-bytes, at most
 * AYARA_STREAM_MAX (AFLOW_TOTAL_MAX still bounds them all). p NULL: none. */
#define AYARA_STREAM_MAX (64u << 20)
void ayara_stream_opts(struct ayara_pool *p, struct aflows_opts *o);

/* ---- the report's sections from the bag alone (analyze.c) ---- */
/* bag, container, processes, network, quarantine, custody, notes of b into
 * report; users named from etc/passwd kept on either side (NULL: none).
 * Any JSON shape of the members is taken (hostile input). */
void analyze_bag_sections(json_t *report, const struct abag *b, const struct aidx *img_kept,
			  const struct aidx *bag_kept);

/* ---- the container's root for gdb (sysroot.c) ----
 * The image's layers and the bag's layer (whiteouts, opaque dirs applied; a
 * whole-root layer alone) written into DIR for gdb's `set sysroot`: regular
 * files, directories and symlinks only (devices, FIFOs, sockets counted,
 * never made; set-id and sticky bits never set); every path made one
 * component at a time under DIR's fd with O_NOFOLLOW, no link followed;
 * hard links as copies; a symlink's target that is absolute or has ".."
 * rewritten relative, resolved lexically as in a chroot of DIR, so no link
 * resolves outside DIR. The image must be opened with keep_layers: each
 * layer holding a surviving file is read once more, the others not. */
#define ASYSROOT_MAX_BYTES_DEFAULT (8ull << 30) /* --sysroot-max-bytes */
#define ASYSROOT_MAX_FILES_DEFAULT 1000000u	/* --sysroot-max-files */
struct asysroot_opts {
	const char *dir;    /* must not exist (made 0700) or be an empty directory */
	uint64_t max_bytes; /* content bytes written (holes counted); 0: the default */
	uint64_t max_files; /* paths made (dirs, files, symlinks); 0: the default */
};
/* 0 when dir does not exist or is an empty directory, else ERR_INVALID. */
int asysroot_dir_check(const char *dir, struct err *e);
/* Write the root (img->idx gets the bag's layer applied). *out gets
 * {"dir","bytes","files","directories","symlinks","symlinks_rewritten",
 * "copies","found_by_hash","special_skipped","setid_cleared","missing","max_bytes",
 * "max_files","notes":[...]} and "error" on failure (a bound reached:
 * ERR_INVALID naming the option; what was written stays). */
int asysroot_write(struct aimg *img, struct abag *b, const struct asysroot_opts *o, json_t **out,
		   struct err *e);
/* A symlink's target as written into DIR (see above): -1 when too long. */
int asysroot_link_target(const char *path, const char *target, char *out, size_t sz);

/* ---- the verb (analyze.c, bagread.c) ---- */
struct analyze_opts {
	const char *bag;      /* dir, tar (plain, gz, zst) or "-" */
	const char *image;    /* --image */
	const char *image_ref; /* --image-ref */
	const char *out_dir;  /* -o (NULL: ./<bag-id>-report) */
	const char *pubkey;   /* --pubkey */
	bool force;	      /* --force: analyze a bag that does not verify */
	bool overwrite;	      /* --overwrite: DIR may exist (its report files are replaced) */
	int stdin_fd;	      /* for "-" (0) */
	const char *fail_on;  /* --fail-on: a severity name or "none" (NULL: "high") */
	bool no_yara;	      /* --no-yara */
	struct asysroot_opts sysroot; /* --sysroot DIR (dir NULL: none), --sysroot-max-* */
	struct ayara_opts yara; /* --rules, --no-shipped-rules, --cache-dir, --yara-* */
};
/* Verify, read, diff, findings, write the reports. *report gets the report
 * (also on some failures, then partial); *out_dir_used the directory.
 * Returns 0, or -1 with e (ERR_INVALID: the bag did not verify and no
 * --force; ERR_NOTFOUND/ERR_INVALID/ERR_SYS otherwise). */
int analyze_run(const struct analyze_opts *o, json_t **report, char **out_dir_used,
		struct err *e);

/* ---- the cores' analysis, analyze's and scan's (analyze.c) ---- */
/* Each core read once: report["analyses"]["cores"] gets {member, pid, comm,
 * core_pid, threads, regions, files, bytes_read, anon_elf: [ELF headers at
 * a page start of an executable mapping with no file], notes, error?}; with
 * a pool every region also goes to YARA (ayara_mem_*: yara.* findings).
 * Bounded: 8 GiB of region bytes and 120 s over all cores. */
struct acores;
struct acores *acores_new(json_t *report, struct ayara_pool *pool /* NULL: no YARA */);
int acores_one(const struct abag_core *c, void *acores, struct err *e); /* an abag_core_fn */
void acores_finish(struct acores *cc); /* sets analyses.cores, frees cc */

/* ---- contain scan (scan.c) ----
 * The rules and findings of analyze without a bag: a directory (walked by
 * fd one component at a time, O_NOFOLLOW: symlinks never followed; FIFOs,
 * sockets and devices never opened; other filesystems not entered), a
 * regular file typed by its content (a pcap or pcapng: flows and YARA on its
 * streams; an ELF core: YARA on its regions and mem.anon-elf; a tar, plain,
 * gzip or zstd: each regular member streamed, never extracted; a bag, a
 * directory or a tar holding bagit.txt: verified first, then its layer's
 * files, cores and pcaps; anything else: YARA on it), or a live container
 * handed over by the verb. Objects are read by the calling thread and
 * scanned by the YARA pool; each bounded by --yara-max-bytes. */
#define SCAN_OBJECTS_MAX 10000000u /* objects (files, members, cores) scanned */
#define SCAN_DEPTH_MAX 256u	    /* directories deep */
#define SCAN_SKIPPED_LIST 1000u    /* skipped objects (and notes) listed */
#define SCAN_ANON_ELF_MAX 16u	    /* ELF headers listed per core */
enum scan_kind { SCAN_DIR, SCAN_FILE, SCAN_PCAP, SCAN_CORE, SCAN_TAR, SCAN_BAG, SCAN_CONTAINER };
/* "directory", "file", "pcap", "core", "tar", "bag", "container" */
const char *scan_kind_name(enum scan_kind k);
/* A file's kind from its first bytes (n <= 512): SCAN_PCAP, SCAN_CORE,
 * SCAN_TAR (ustar), else SCAN_FILE (a compressed tar and a bag need the
 * file: scan_run opens them). */
enum scan_kind scan_kind_of(const unsigned char *head, size_t n);
/* A live container as the verb resolved it (collect/ and runtime/ are
 * above analyze): its files as a directory fd, its processes' memory as
 * core streams. */
struct scan_source {
	const char *name;      /* how the report names it ("runc:ID") */
	int tar_fd; /* its files as capture's layer walk writes them (an OCI layer
		     * tar, read once, forward, to its end); -1: none */
	/* calls fn for each process's core (abag_core: a stream, a pid, its
	 * maps and name); -1 with e stops (noted in the report) */
	int (*cores)(void *ctx, abag_core_fn fn, void *fnctx, struct err *e);
	void *ctx;
};
struct scan_opts {
	const char *target;		  /* a path, or NULL with source */
	const struct scan_source *source; /* --container */
	const char *pubkey;		  /* a bag target: as analyze */
	bool force;			  /* a bag that does not verify is scanned anyway */
	const char *fail_on;		  /* NULL: "high" */
	struct ayara_opts yara;
	unsigned workers;		  /* scanning threads (0: the pool's default) */
};
/* *report gets {schema_version, tool, generated, scan: {target, kind,
 * objects, bytes, seconds, skipped_count, skipped: [{path, why}], bag?},
 * findings, summary, network, analyses: {yara, cores?}, notes}
 * (docs/report-schema.md, "contain scan"). Returns 0, or -1 with e (the
 * target cannot be opened, a bag did not verify and no force, no rules). */
int scan_run(const struct scan_opts *o, json_t **report, struct err *e);

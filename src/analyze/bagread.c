/* bagread.c: the bag analyze reads. Verified first (bag_verify); then its
 * small members are read into memory (bounded, never following a link) and
 * its layer (data/fs/upper.tar) is streamed to the diff: for a directory bag
 * from the file opened safely, for a tar bag straight out of the outer tar
 * (a second pass; the inner tar's reader pulls the outer entry's bytes, no
 * temp file). A bag on stdin ("-") is spooled to an unlinked temp file first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/analyze.h"
#include "contain/bag.h"

#define ABAG_ENTRIES_MAX 10000000u /* entries of the outer tar */
#define ABAG_DEPTH_MAX	 16	   /* components of a member path */

/* the members read into memory, by their path in the bag; a JSON member's
 * document goes to the field at slot (bag-info.txt and custody.jsonl have
 * parsers of their own: slot 0) */
static const struct {
	const char *name;
	size_t slot;
} members[] = {
    {"bag-info.txt", 0},
    {"index.json", offsetof(struct abag, index)},
    {"custody.jsonl", 0},
    {"data/fs/files.json", offsetof(struct abag, files)},
    {"data/processes/tree.json", offsetof(struct abag, tree)},
    {"data/container/image.json", offsetof(struct abag, image)},
    {"data/container/inspect.json", offsetof(struct abag, inspect)},
    {"data/container/config.json", offsetof(struct abag, config)},
    {"data/network/state.json", offsetof(struct abag, netstate)},
    {"data/quarantine.json", offsetof(struct abag, quarantine)},
};
static const char layer_member[] = "data/fs/upper.tar";

static void note(struct abag *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct abag *b, const char *fmt, ...)
{
	struct bag_notes nt = {.arr = b->notes};
	va_list ap;
	va_start(ap, fmt);
	bag_notev(&nt, fmt, ap);
	va_end(ap);
}

struct abag *abag_new(void)
{
	struct abag *b = xcalloc(1, sizeof(*b));
	b->spool_fd = -1;
	b->dirfd = -1;
	b->info = json_object();
	b->notes = json_array();
	return b;
}

void abag_free(struct abag *b)
{
	if (!b)
		return;
	free(b->path);
	free(b->open_path);
	if (b->spool_fd >= 0)
		close(b->spool_fd);
	if (b->dirfd >= 0)
		close(b->dirfd);
	json_decref(b->verify);
	free(b->info_text);
	json_decref(b->info);
	json_decref(b->index);
	json_decref(b->custody);
	json_decref(b->files);
	json_decref(b->tree);
	json_decref(b->image);
	json_decref(b->inspect);
	json_decref(b->netstate);
	json_decref(b->quarantine);
	json_decref(b->notes);
	json_decref(b->config);
	for (size_t i = 0; i < b->nmaps; i++)
		free(b->maps[i].buf);
	free(b->maps);
	free(b);
}

/* JSON of a member: NULL with a note naming it and saying why */
static json_t *parse_json(struct abag *b, const char *name, const char *buf, size_t n)
{
	/* jansson's values cost ~50 bytes or more each: a member is parsed only
	 * when its value count keeps the memory bounded */
	size_t values = json_text_values(buf, n);
	if (values > AN_JSON_VALUES_MAX) {
		note(b, "'%s' not read: about %zu JSON values, more than %u", name, values,
		     AN_JSON_VALUES_MAX);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(buf, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (j)
		return j;
	char *why = bag_path_json_encode(je.text);
#if JANSSON_VERSION_HEX >= 0x020b00
	if (json_error_code(&je) == json_error_stack_overflow)
		note(b,
		     "'%s' not read: JSON nested deeper than jansson's limit of 2048 levels (line "
		     "%d)",
		     name, je.line);
	else
#endif
		note(b, "'%s' not read: not valid JSON: %s (line %d, column %d)", name,
		     why ? why : "?", je.line, je.column);
	free(why);
	return NULL;
}

static json_t *parse_custody(struct abag *b, const char *buf, size_t n)
{
	json_t *arr = json_array();
	size_t off = 0, line = 0, bad = 0;
	while (off < n) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : n - off;
		line++;
		if (len > 0) {
			if (json_array_size(arr) >= AN_CUSTODY_MAX) {
				note(b, "'custody.jsonl': only the first %u events read",
				     AN_CUSTODY_MAX);
				break;
			}
			json_error_t je;
			json_t *ev = json_loadb(buf + off, len, JSON_ALLOW_NUL, &je);
			if (ev && json_is_object(ev))
				json_array_append_new(arr, ev);
			else {
				json_decref(ev);
				if (bad++ == 0)
					note(b, "'custody.jsonl' line %zu not read: %s", line,
					     ev ? "not a JSON object" : "not valid JSON");
			}
		}
		off += len + (nl ? 1 : 0);
	}
	if (bad > 1)
		note(b, "'custody.jsonl': %zu lines not read in all", bad);
	return arr;
}

static void parse_info(struct abag *b, const char *buf, size_t n)
{
	struct bag_info bi = {0};
	char problem[512] = "";
	if (bag_info_parse(buf, n, &bi, problem, sizeof(problem)) != 0)
		note(b, "'bag-info.txt': %s", problem);
	for (size_t i = 0; i < bi.n; i++) {
		if (json_object_get(b->info, bi.f[i].label))
			continue;
		char *v = bag_path_json_encode(bi.f[i].value);
		char *k = bag_path_json_encode(bi.f[i].label);
		if (k && v)
			json_object_set_new(b->info, k, json_string(v));
		free(k);
		free(v);
	}
	bag_info_free(&bi);
}

bool abag_set_member(struct abag *b, const char *name, const char *buf, size_t n)
{
	json_t **slot = NULL;
	if (strcmp(name, "bag-info.txt") == 0) {
		free(b->info_text);
		b->info_text = xstrndup(buf, n);
		b->info_len = n;
		json_object_clear(b->info);
		parse_info(b, buf, n);
		return true;
	}
	if (strcmp(name, "custody.jsonl") == 0) {
		json_decref(b->custody);
		b->custody = parse_custody(b, buf, n);
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(members) && !slot; i++)
		if (members[i].slot && strcmp(name, members[i].name) == 0)
			slot = (json_t **)((char *)b + members[i].slot);
	if (!slot)
		return false;
	json_decref(*slot);
	*slot = parse_json(b, name, buf, n);
	return *slot != NULL;
}

/* ---- directory bags: members opened one component at a time, O_NOFOLLOW ---- */

static int open_member_dir(int dirfd, const char *name, struct stat *st, struct err *e)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", name) >= (int)sizeof(buf))
		return err_set(e, ERR_INVALID, "member name '%s' too long", name);
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return err_sys(e, errno, "dup");
	char *save = NULL, *comp = strtok_r(buf, "/", &save);
	for (int depth = 0; comp; depth++) {
		char *next = strtok_r(NULL, "/", &save);
		if (depth >= ABAG_DEPTH_MAX)
			return err_set(e, ERR_INVALID, "'%s': too deep", name);
		int fl = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : O_NONBLOCK);
		int fd = openat(cur, comp, fl);
		if (fd < 0) {
			if (errno == ENOENT)
				return err_set(e, ERR_NOTFOUND, "'%s' is not in the bag", name);
			if (errno == ELOOP || errno == ENOTDIR)
				return err_set(e, ERR_INVALID,
					       "'%s': a symlink or not a directory on the way",
					       name);
			return err_sys(e, errno, "open '%s'", name);
		}
		close(cur);
		cur = fd;
		comp = next;
	}
	if (fstat(cur, st) < 0)
		return err_sys(e, errno, "stat '%s'", name);
	if (!S_ISREG(st->st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", name);
	/* the reads block as a regular file's do */
	int fl = fcntl(cur, F_GETFL);
	if (fl >= 0)
		(void)fcntl(cur, F_SETFL, fl & ~O_NONBLOCK);
	return steal_fd(&cur);
}

static void read_members_dir(struct abag *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
		struct err e = {0};
		struct stat st;
		_cleanup_close_ int fd = open_member_dir(b->dirfd, members[i].name, &st, &e);
		if (fd < 0) {
			if (e.kind == ERR_NOTFOUND)
				note(b, "'%s' is not in the bag", members[i].name);
			else
				note(b, "'%s' not read: %s", members[i].name, e.msg);
			continue;
		}
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		bool trunc = false;
		if (read_fd_bounded(fd, AN_JSON_MAX, &buf, &len, &trunc, &e) < 0) {
			note(b, "'%s' not read: %s", members[i].name, e.msg);
			continue;
		}
		if (trunc) {
			note(b, "'%s' not read: larger than %llu bytes", members[i].name,
			     (unsigned long long)AN_JSON_MAX);
			continue;
		}
		abag_set_member(b, members[i].name, buf, len);
	}
	struct err e = {0};
	struct stat st;
	_cleanup_close_ int fd = open_member_dir(b->dirfd, layer_member, &st, &e);
	b->has_layer = fd >= 0;
	if (fd < 0 && e.kind != ERR_NOTFOUND)
		note(b, "'%s' not read: %s", layer_member, e.msg);
}

/* ---- tar bags ---- */

static int read_entry(struct archive *a, const char *name, struct sbuf *out, bool *too_big,
		      struct err *e)
{
	char chunk[65536];
	*too_big = false;
	for (;;) {
		la_ssize_t got = archive_read_data(a, chunk, sizeof(chunk));
		if (got < 0)
			return err_set(e, ERR_INVALID, "read '%s': %s", name,
				       archive_error_string(a));
		if (got == 0)
			return 0;
		if ((size_t)got > AN_JSON_MAX - out->len) {
			*too_big = true;
			return 0;
		}
		sbuf_add(out, chunk, (size_t)got);
	}
}

/* "data/memory/<pid><suffix>" */
static bool memory_member(const char *rel, const char *suffix, long long *pid)
{
	static const char pre[] = "data/memory/";
	if (strncmp(rel, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *p = rel + sizeof(pre) - 1;
	long long v = 0;
	int nd = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++nd > 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (!nd || strcmp(p, suffix) != 0 || v > INT32_MAX)
		return false;
	*pid = v;
	return true;
}

/* a tar bag's <pid>.maps, kept for abag_cores (its cores come before it in
 * a sorted tar) */
static void keep_maps(struct abag *b, struct archive *a, const char *rel, long long pid)
{
	if (b->nmaps >= AN_CORES_MAX || b->maps_bytes >= AN_MAPS_MAX) {
		note(b, "'%s' not read: more than %u bytes of maps files", rel, AN_MAPS_MAX);
		return;
	}
	struct sbuf sb = SBUF_INIT;
	char chunk[65536];
	for (;;) {
		la_ssize_t got = archive_read_data(a, chunk, sizeof(chunk));
		if (got < 0) {
			note(b, "'%s' not read: %s", rel, archive_error_string(a));
			sbuf_free(&sb);
			return;
		}
		if (got == 0)
			break;
		if ((size_t)got > AN_MAPS_ONE_MAX - sb.len ||
		    (size_t)got > AN_MAPS_MAX - b->maps_bytes - sb.len) {
			note(b, "'%s' not read: larger than %u bytes", rel, AN_MAPS_ONE_MAX);
			sbuf_free(&sb);
			return;
		}
		sbuf_add(&sb, chunk, (size_t)got);
	}
	size_t cap = b->nmaps;
	xgrow(&b->maps, &cap, b->nmaps + 1, sizeof(*b->maps));
	b->maps[b->nmaps].pid = pid;
	b->maps[b->nmaps].len = sb.len;
	b->maps[b->nmaps].buf = sb.buf ? sbuf_steal(&sb) : xstrdup("");
	b->maps_bytes += b->maps[b->nmaps].len;
	b->nmaps++;
}

static int read_members_tar(struct abag *b, struct err *e)
{
	struct archive *a = NULL;
	if (bag_tar_open(b->open_path, b->path, &a, e) < 0)
		return -1;
	bool seen[ARRAY_SIZE(members)] = {0};
	int rc = 0;
	for (unsigned n = 0;; n++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			/* what was read is kept: a bag cut short, analyzed with --force */
			note(b, "'%s': the tar stops: %s", b->path, archive_error_string(a));
			break;
		}
		if (n >= ABAG_ENTRIES_MAX) {
			rc = err_set(e, ERR_INVALID, "'%s' has more than %u entries", b->path,
				     ABAG_ENTRIES_MAX);
			goto out;
		}
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		if (!rel)
			continue;
		bool regular =
		    archive_entry_filetype(ae) == AE_IFREG && !archive_entry_hardlink(ae);
		if (strcmp(rel, layer_member) == 0) {
			if (regular)
				b->has_layer = true;
			else
				note(b, "'%s' is not a regular file in the tar", layer_member);
			continue;
		}
		long long mpid;
		if (regular && memory_member(rel, ".maps", &mpid)) {
			keep_maps(b, a, rel, mpid);
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
			if (strcmp(rel, members[i].name) != 0)
				continue;
			if (seen[i]) {
				note(b, "'%s' is in the tar twice: the first one is read",
				     members[i].name);
				break;
			}
			seen[i] = true;
			if (!regular) {
				note(b, "'%s' is not a regular file in the tar", members[i].name);
				break;
			}
			_cleanup_sbuf_ struct sbuf sb = SBUF_INIT;
			bool too_big;
			struct err re = {0};
			if (read_entry(a, members[i].name, &sb, &too_big, &re) < 0)
				note(b, "'%s' not read: %s", members[i].name, re.msg);
			else if (too_big)
				note(b, "'%s' not read: larger than %llu bytes", members[i].name,
				     (unsigned long long)AN_JSON_MAX);
			else
				abag_set_member(b, members[i].name, sb.buf ? sb.buf : "", sb.len);
			break;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(members); i++)
		if (!seen[i])
			note(b, "'%s' is not in the bag", members[i].name);
out:
	archive_read_free(a);
	return rc;
}

/* ---- stdin: spooled to an unlinked temp file ---- */

static int spool_stdin(struct abag *b, const struct abag_opts *o, struct err *e)
{
	const char *dir = o->spool_dir;
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	_cleanup_close_ int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* a filesystem without O_TMPFILE: a named file, unlinked at once */
		_cleanup_free_ char *tmpl = xasprintf("%s/contain-analyze-XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
	}
	if (fd < 0)
		return err_sys(e, errno, "spool stdin: temp file in '%s'", dir);
	char *buf = xmalloc(1 << 20);
	for (;;) {
		ssize_t got = read(o->stdin_fd, buf, 1 << 20);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int en = errno;
			free(buf);
			return err_sys(e, en, "spool stdin: read");
		}
		if (got == 0)
			break;
		if (write_all(fd, buf, (size_t)got) < 0) {
			int en = errno;
			free(buf);
			return err_sys(e, en, "spool stdin to '%s'", dir);
		}
	}
	free(buf);
	b->spool_fd = steal_fd(&fd);
	b->open_path = xasprintf("/proc/self/fd/%d", b->spool_fd);
	return 0;
}

/* ---- verify ---- */

/* a message about the spool names stdin, not /proc/self/fd/N */
static void name_spool(struct err *e, const char *spool)
{
	char *at = strstr(e->msg, spool);
	if (!at)
		return;
	char rest[sizeof(e->msg)];
	snprintf(rest, sizeof(rest), "%s", at + strlen(spool));
	snprintf(at, sizeof(e->msg) - (size_t)(at - e->msg), "(stdin)%s", rest);
}

static int verify(struct abag *b, const struct abag_opts *o, struct err *e)
{
	struct bag_verify_opts vo = {.pubkey = o->pubkey};
	json_t *r = NULL;
	int rc = bag_verify(b->open_path, &vo, &r, e);
	if (rc < 0) {
		json_decref(r);
		if (b->spool_fd >= 0)
			name_spool(e, b->open_path);
		return err_wrap(e, "verify '%s'", b->path);
	}
	if (r)
		json_object_set_new(r, "bag", json_string(b->path));
	b->verify = r;
	b->verified = rc == 0;
	if (!b->verified) {
		if (!o->force) {
			const char *verdict = json_string_value(json_object_get(r, "verdict"));
			json_t *p0 = json_array_get(json_object_get(r, "problems"), 0);
			const char *first = json_is_string(p0) ? json_string_value(p0)
					    : json_is_object(p0)
						? json_string_value(json_object_get(p0, "detail"))
						: NULL;
			/* the problem may quote a name from the bag: no control
			 * byte of it reaches a terminal through this message */
			char prob[512] = "";
			if (first) {
				snprintf(prob, sizeof(prob), "%s", first);
				for (char *q = prob; *q; q++)
					if ((unsigned char)*q < 0x20 || *q == 0x7f)
						*q = '?';
			}
			return err_set(
			    e, ERR_INVALID,
			    "bag '%s' does not verify (%s)%s%s; --force analyzes it anyway",
			    b->path, verdict ? verdict : "invalid", first ? ": " : "", prob);
		}
		b->forced = true;
		note(b, "the bag did not verify: analyzed anyway (--force)");
	}
	return 0;
}

int abag_open(const struct abag_opts *o, struct abag **out, struct err *e)
{
	struct abag *b = abag_new();
	*out = b;
	b->path = xstrdup(o->path);
	if (strcmp(o->path, "-") == 0) {
		if (spool_stdin(b, o, e) < 0)
			return -1;
	} else {
		struct stat st;
		if (stat(o->path, &st) < 0)
			return err_sys(e, errno, "bag '%s'", o->path);
		b->open_path = xstrdup(o->path);
		if (S_ISDIR(st.st_mode)) {
			b->is_dir = true;
			b->dirfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (b->dirfd < 0)
				return err_sys(e, errno, "open '%s'", o->path);
		} else if (!S_ISREG(st.st_mode)) {
			return err_set(e, ERR_INVALID,
				       "bag '%s' is neither a directory nor a tar file", o->path);
		}
	}
	if (verify(b, o, e) < 0)
		return -1;
	if (b->is_dir) {
		read_members_dir(b);
		return 0;
	}
	return read_members_tar(b, e);
}

/* ---- the layer ---- */

struct inner {
	struct archive *outer;
	char chunk[1 << 16];
};

static la_ssize_t inner_read(struct archive *a, void *ctx, const void **buf)
{
	struct inner *in = ctx;
	la_ssize_t got = archive_read_data(in->outer, in->chunk, sizeof(in->chunk));
	if (got < 0) {
		archive_set_error(a, EIO, "the bag's tar: %s", archive_error_string(in->outer));
		return -1;
	}
	*buf = in->chunk;
	return got;
}

static struct archive *layer_reader(void)
{
	struct archive *l = archive_read_new();
	if (l)
		archive_read_support_format_tar(l);
	return l;
}

static int layer_dir(struct abag *b, abag_layer_fn fn, void *ctx, struct err *e)
{
	struct stat st;
	_cleanup_close_ int fd = open_member_dir(b->dirfd, layer_member, &st, e);
	if (fd < 0)
		return -1;
	struct archive *l = layer_reader();
	if (!l)
		return err_set(e, ERR_SYS, "archive_read_new failed");
	int rc;
	if (archive_read_open_fd(l, fd, 1 << 20) != ARCHIVE_OK)
		rc =
		    err_set(e, ERR_INVALID, "read '%s': %s", layer_member, archive_error_string(l));
	else
		rc = fn(l, ctx, e);
	archive_read_free(l);
	return rc;
}

static int layer_tar(struct abag *b, abag_layer_fn fn, void *ctx, struct err *e)
{
	struct archive *a = NULL;
	if (bag_tar_open(b->open_path, b->path, &a, e) < 0)
		return -1;
	int rc = 0;
	bool found = false;
	for (unsigned n = 0; n < ABAG_ENTRIES_MAX; n++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = err_set(e, ERR_INVALID, "read '%s': %s", b->path,
				     archive_error_string(a));
			goto out;
		}
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		if (!rel || strcmp(rel, layer_member) != 0 ||
		    archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae))
			continue;
		found = true;
		/* (its chunk on the heap: a static thread-local one was 64 KiB of
		 * TLS zeroed at the start of every process and thread) */
		_cleanup_free_ struct inner *in = xmalloc(sizeof(*in));
		in->outer = a;
		struct archive *l = layer_reader();
		if (!l) {
			rc = err_set(e, ERR_SYS, "archive_read_new failed");
			goto out;
		}
		if (archive_read_open(l, in, NULL, inner_read, NULL) != ARCHIVE_OK)
			rc = err_set(e, ERR_INVALID, "read '%s' in '%s': %s", layer_member, b->path,
				     archive_error_string(l));
		else
			rc = fn(l, ctx, e);
		archive_read_free(l);
		break; /* the first one, as the members */
	}
	if (!found && rc == 0)
		rc = err_set(e, ERR_NOTFOUND, "'%s' is not in the bag", layer_member);
out:
	archive_read_free(a);
	return rc;
}

int abag_layer(struct abag *b, abag_layer_fn fn, void *ctx, struct err *e)
{
	if (!b->has_layer)
		return err_set(e, ERR_NOTFOUND, "'%s' is not in the bag", layer_member);
	if (b->is_dir)
		return layer_dir(b, fn, ctx, e);
	return layer_tar(b, fn, ctx, e);
}

/* ---- the cores (data/memory/<pid>.core) ---- */

static int pid_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static int cores_dir(struct abag *b, abag_core_fn fn, void *ctx, struct err *e)
{
	_cleanup_close_ int data =
	    openat(b->dirfd, "data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (data < 0)
		return 0;
	int mfd = openat(data, "memory", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd < 0) {
		if (errno != ENOENT)
			note(b, "'data/memory' not read: %s", strerror(errno));
		return 0;
	}
	DIR *d = fdopendir(mfd);
	if (!d) {
		close(mfd);
		return err_sys(e, errno, "read 'data/memory'");
	}
	long long *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char rel[300];
		long long pid;
		snprintf(rel, sizeof(rel), "data/memory/%.250s", de->d_name);
		if (!memory_member(rel, ".core", &pid))
			continue;
		if (n >= AN_CORES_MAX) {
			note(b, "only the first %u cores read", AN_CORES_MAX);
			break;
		}
		xgrow(&pids, &cap, n + 1, sizeof(*pids));
		pids[n++] = pid;
	}
	closedir(d);
	if (n)
		qsort(pids, n, sizeof(*pids), pid_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char cname[64], mname[64];
		snprintf(cname, sizeof(cname), "data/memory/%lld.core", pids[i]);
		snprintf(mname, sizeof(mname), "data/memory/%lld.maps", pids[i]);
		struct err ce = {0};
		struct stat st;
		_cleanup_close_ int fd = open_member_dir(b->dirfd, cname, &st, &ce);
		if (fd < 0) {
			note(b, "'%s' not read: %s", cname, ce.msg);
			continue;
		}
		_cleanup_free_ char *maps = NULL;
		size_t mlen = 0;
		bool trunc = false;
		_cleanup_close_ int mfd2 = open_member_dir(b->dirfd, mname, &st, &ce);
		if (mfd2 >= 0 &&
		    (read_fd_bounded(mfd2, AN_MAPS_ONE_MAX, &maps, &mlen, &trunc, &ce) < 0 ||
		     trunc)) {
			note(b, "'%s' not read: %s", mname, trunc ? "too large" : ce.msg);
			free(maps);
			maps = NULL;
			mlen = 0;
		}
		struct abag_core c = {.pid = pids[i],
				      .name = cname,
				      .fd = fd,
				      .size = (uint64_t)st.st_size,
				      .maps = maps,
				      .maps_len = mlen};
		rc = fn(&c, ctx, e);
	}
	free(pids);
	return rc;
}

struct core_stream {
	struct archive *a;
	const char *name;
};

static ssize_t core_stream_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct core_stream *cs = ctx;
	la_ssize_t got = archive_read_data(cs->a, buf, n);
	if (got < 0)
		return err_set(e, ERR_INVALID, "read '%s' in the bag's tar: %s", cs->name,
			       archive_error_string(cs->a));
	return got;
}

static int cores_tar(struct abag *b, abag_core_fn fn, void *ctx, struct err *e)
{
	struct archive *a = NULL;
	if (bag_tar_open(b->open_path, b->path, &a, e) < 0)
		return -1;
	int rc = 0;
	unsigned ncores = 0;
	for (unsigned n = 0; n < ABAG_ENTRIES_MAX; n++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			note(b, "cores: the tar stops: %s", archive_error_string(a));
			break;
		}
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		long long pid;
		if (!rel || !memory_member(rel, ".core", &pid))
			continue;
		if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae)) {
			note(b, "'%s' is not a regular file in the tar", rel);
			continue;
		}
		if (ncores++ >= AN_CORES_MAX) {
			note(b, "only the first %u cores read", AN_CORES_MAX);
			break;
		}
		char cname[64];
		snprintf(cname, sizeof(cname), "data/memory/%lld.core", pid);
		struct core_stream cs = {.a = a, .name = cname};
		struct abag_core c = {
		    .pid = pid,
		    .name = cname,
		    .fd = -1,
		    .rd = core_stream_read,
		    .rctx = &cs,
		    .size = archive_entry_size_is_set(ae) ? (uint64_t)archive_entry_size(ae) : 0};
		for (size_t i = 0; i < b->nmaps; i++)
			if (b->maps[i].pid == pid) {
				c.maps = b->maps[i].buf;
				c.maps_len = b->maps[i].len;
				break;
			}
		rc = fn(&c, ctx, e);
		if (rc < 0)
			break;
	}
	archive_read_free(a);
	return rc;
}

int abag_cores(struct abag *b, abag_core_fn fn, void *ctx, struct err *e)
{
	if (b->is_dir)
		return cores_dir(b, fn, ctx, e);
	return cores_tar(b, fn, ctx, e);
}

/* ---- members streamed through a FILE (pcaps) ---- */

/* a member "DIR/NAME" with NAME ending in suffix and no further "/" */
static bool member_matches(const char *rel, const char *dir, const char *suffix)
{
	size_t dl = strlen(dir), sl = strlen(suffix), rl = strlen(rel);
	if (rl <= dl + 1 + sl || strncmp(rel, dir, dl) != 0 || rel[dl] != '/')
		return false;
	const char *name = rel + dl + 1;
	return !strchr(name, '/') && strcmp(rel + rl - sl, suffix) == 0;
}

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	la_ssize_t got = archive_read_data(c, buf, n);
	if (got < 0) {
		errno = EIO;
		return -1;
	}
	return got;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int members_dir(struct abag *b, const char *dir, const char *suffix, abag_member_fn fn,
		       void *ctx, struct err *e)
{
	int dfd = openat(b->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : err_sys(e, errno, "open '%s'", dir);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_sys(e, errno, "open '%s'", dir);
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < ABAG_ENTRIES_MAX) {
		char rel[512];
		if (snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name) >= (int)sizeof(rel) ||
		    !member_matches(rel, dir, suffix))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(rel);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		struct err me = {0};
		int fd = rc == 0 ? open_member_dir(b->dirfd, names[i], &st, &me) : -1;
		if (rc == 0 && fd < 0) {
			note(b, "'%s' not read: %s", names[i], me.msg);
		} else if (fd >= 0) {
			FILE *fp = fdopen(fd, "rb");
			if (!fp) {
				close(fd);
				rc = err_sys(e, errno, "fdopen '%s'", names[i]);
			} else {
				rc = fn(names[i], fp, ctx, e); /* fn closes fp */
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int members_tar(struct abag *b, const char *dir, const char *suffix, abag_member_fn fn,
		       void *ctx, struct err *e)
{
	struct archive *a = NULL;
	if (bag_tar_open(b->open_path, b->path, &a, e) < 0)
		return -1;
	int rc = 0;
	for (unsigned n = 0; n < ABAG_ENTRIES_MAX && rc == 0; n++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = err_set(e, ERR_INVALID, "read '%s': %s", b->path,
				     archive_error_string(a));
			break;
		}
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		if (!rel || !member_matches(rel, dir, suffix) ||
		    archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae))
			continue;
		cookie_io_functions_t io = {.read = cookie_read};
		FILE *fp = fopencookie(a, "rb", io);
		if (!fp) {
			rc = err_sys(e, errno, "fopencookie '%s'", rel);
			break;
		}
		char *name = xstrdup(rel);
		rc = fn(name, fp, ctx, e); /* fn closes fp */
		free(name);
	}
	archive_read_free(a);
	return rc;
}

int abag_members(struct abag *b, const char *dir, const char *suffix, abag_member_fn fn, void *ctx,
		 struct err *e)
{
	if (b->is_dir)
		return members_dir(b, dir, suffix, fn, ctx, e);
	return members_tar(b, dir, suffix, fn, ctx, e);
}

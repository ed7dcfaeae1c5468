/* yara: libyara over analyze's objects (a layer's files; a core's regions
 * and a pcap's streams through the same call).
 *
 * The rules: the shipped ones (CONTAIN_RULES_DIR: the source tree's
 * yara-rules/ for a build, set by the Makefile's RULES_DIR) and each --rules
 * FILE|DIR (a directory: its *.yar and *.yara, not recursive), in that
 * order, each file in a namespace of its own (its base name). Rule files are
 * hostile input: read bounded (AYARA_RULE_FILE_MAX), each compiled alone
 * first in a trial compiler (the errors, with file and line, go into the
 * section; the file is left out), then the good ones together; an include
 * is refused (a rule file must not make analyze read other files).
 *
 * The cache (--cache-dir DIR only; analyze writes nowhere else by default):
 * DIR/yara-<key>.rules, key = SHA-256 of the format, libyara's version, the
 * externals and every rule file's namespace, name and content. The file
 * starts with a header of ours (magic, the key, the compile errors as JSON)
 * checked before libyara reads the rest; compiled rules are code to libyara,
 * so a file not owned by us or writable by others, or a directory writable
 * by others, is not used. Written to an O_EXCL temp file (0600), fsync'd,
 * renamed. A corrupt, foreign or stale file is ignored (a note) and rebuilt.
 *
 * Scanning: one YR_SCANNER per call (thread-safe: scanners share the
 * rules), externals set from the object's context, a timeout per object.
 * Each matching rule is a finding yara.<rule name> (a rule's name is its
 * id: stable as long as the rule keeps its name), fields from its meta. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yara.h>

#include "contain/analyze.h"
#include "contain/bag.h"
#include "contain/hashio.h"

#ifndef CONTAIN_RULES_DIR
#define CONTAIN_RULES_DIR "/usr/share/contain/yara-rules"
#endif

#define CACHE_MAGIC "contain-yara-cache-1\n"
#define NOTES_MAX   100u

static const char *const string_externals[] = {"filename", "filepath", "extension",
					       "filetype", "source",   "process_name"};

struct rfile {
	char *name; /* as found: dir/base.yar */
	char ns[128];
	char *text;
	size_t len;
	bool ok;
};

struct ayara {
	YR_RULES *rules;
	bool inited;
	unsigned timeout;
	uint64_t max_bytes;
	pthread_mutex_t mu;
	json_t *errors, *notes, *files, *dirs;
	size_t nerrors, nnotes, dropped;
	uint64_t scanned, bytes, truncated, hits, nrules;
	double seconds;	   /* in libyara's scans, summed over threads */
	const char *cache; /* "hit", "miss", "off" */
};

/* ---- errors and notes (under mu when scanning) ---- */

static void add_error(struct ayara *y, json_t *o)
{
	if (y->nerrors >= AYARA_ERRORS_MAX) {
		y->dropped++;
		json_decref(o);
		return;
	}
	y->nerrors++;
	json_array_append_new(y->errors, o);
}

static void add_note(struct ayara *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(struct ayara *y, const char *fmt, ...)
{
	if (y->nnotes >= NOTES_MAX)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	_cleanup_free_ char *enc = bag_path_json_encode(msg);
	json_array_append_new(y->notes, json_string(enc ? enc : "?"));
	y->nnotes++;
}

static json_t *jenc(const char *s)
{
	_cleanup_free_ char *enc = bag_path_json_encode(s ? s : "");
	return json_string(enc ? enc : "");
}

/* ---- finding the rule files ---- */

struct rset {
	struct rfile *f;
	size_t n, cap;
};

static void rset_free(struct rset *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->f[i].name);
		free(r->f[i].text);
	}
	free(r->f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool rule_name(const char *n)
{
	return n[0] != '.' && (str_has_suffix(n, ".yar") || str_has_suffix(n, ".yara"));
}

static int add_file(struct ayara *y, struct rset *r, const char *path, struct err *e)
{
	if (r->n >= AYARA_RULE_FILES_MAX)
		return err_set(e, ERR_INVALID, "rules: more than %u rule files",
			       AYARA_RULE_FILES_MAX);
	char *text = NULL;
	size_t len = 0;
	bool trunc = false;
	struct err re = {0};
	if (read_file_at(AT_FDCWD, path, AYARA_RULE_FILE_MAX, &text, &len, &trunc, &re) < 0) {
		add_error(y, json_pack("{s:s,s:o,s:n,s:o}", "kind", "read", "file", jenc(path),
				       "line", "message", jenc(re.msg)));
		return 0;
	}
	if (trunc || memchr(text, 0, len)) {
		add_error(y, json_pack("{s:s,s:o,s:n,s:s}", "kind", "read", "file", jenc(path),
				       "line", "message",
				       trunc ? "larger than 16 MiB: not compiled"
					     : "holds a NUL byte: not a rule file"));
		free(text);
		return 0;
	}
	xgrow(&r->f, &r->cap, r->n + 1, sizeof(*r->f));
	struct rfile *f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(path);
	f->text = text;
	f->len = len;
	/* the namespace: the base name without its suffix, made unique */
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t bl = strlen(b);
	if (str_has_suffix(b, ".yara"))
		bl -= 5;
	else if (str_has_suffix(b, ".yar"))
		bl -= 4;
	if (bl > 100)
		bl = 100;
	snprintf(f->ns, sizeof(f->ns), "%.*s", (int)bl, b);
	for (unsigned k = 2;; k++) {
		bool dup = false;
		for (size_t i = 0; i + 1 < r->n && !dup; i++)
			dup = strcmp(r->f[i].ns, f->ns) == 0;
		if (!dup)
			break;
		snprintf(f->ns, sizeof(f->ns), "%.*s.%u", (int)bl, b, k);
	}
	return 0;
}

/* a directory's *.yar and *.yara (sorted, not recursive); missing: -1 */
static int add_dir(struct ayara *y, struct rset *r, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return err_sys(e, errno, "rules '%s'", dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!rule_name(de->d_name))
			continue;
		if (n >= AYARA_RULE_FILES_MAX) {
			rc = err_set(e, ERR_INVALID, "rules '%s': more than %u rule files", dir,
				     AYARA_RULE_FILES_MAX);
			break;
		}
		xgrow(&names, &cap, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = add_file(y, r, names[i], e);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int add_path(struct ayara *y, struct rset *r, const char *p, struct err *e)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return err_sys(e, errno, "rules '%s'", p);
	if (S_ISDIR(st.st_mode)) {
		json_array_append_new(y->dirs, jenc(p));
		return add_dir(y, r, p, e);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "rules '%s': not a file or a directory", p);
	return add_file(y, r, p, e);
}

/* ---- compiling ---- */

struct cctx {
	struct ayara *y;
	const struct rfile *f;
	bool record; /* the trial: errors go into the section */
};

static void compile_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
		       void *ud)
{
	(void)file;
	(void)rule;
	struct cctx *c = ud;
	if (!c->record)
		return;
	if (level == YARA_ERROR_LEVEL_ERROR)
		add_error(c->y, json_pack("{s:s,s:o,s:i,s:o}", "kind", "compile", "file",
					  jenc(c->f->name), "line", line, "message", jenc(msg)));
	else
		add_note(c->y, "%s:%d: warning: %s", c->f->name, line, msg);
}

static const char *no_include(const char *name, const char *calling_file, const char *ns, void *ud)
{
	(void)name;
	(void)calling_file;
	(void)ns;
	(void)ud;
	return NULL; /* libyara reports "can't open include file" with the line */
}

static int compiler_new(YR_COMPILER **c, struct cctx *cc)
{
	if (yr_compiler_create(c) != ERROR_SUCCESS)
		return -1;
	yr_compiler_set_callback(*c, compile_cb, cc);
	yr_compiler_set_include_callback(*c, no_include, NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(string_externals); i++)
		if (yr_compiler_define_string_variable(*c, string_externals[i], "") !=
		    ERROR_SUCCESS)
			goto fail;
	if (yr_compiler_define_integer_variable(*c, "pid", 0) != ERROR_SUCCESS)
		goto fail;
	return 0;
fail:
	yr_compiler_destroy(*c);
	*c = NULL;
	return -1;
}

static int compile_all(struct ayara *y, struct rset *r, struct err *e)
{
	struct cctx cc = {.y = y, .record = true};
	for (size_t i = 0; i < r->n; i++) {
		YR_COMPILER *c;
		cc.f = &r->f[i];
		if (compiler_new(&c, &cc) < 0)
			return err_set(e, ERR_SYS, "yara: cannot create a compiler");
		r->f[i].ok = yr_compiler_add_string(c, r->f[i].text, r->f[i].ns) == 0;
		yr_compiler_destroy(c);
	}
	YR_COMPILER *c;
	cc.record = false;
	if (compiler_new(&c, &cc) < 0)
		return err_set(e, ERR_SYS, "yara: cannot create a compiler");
	for (size_t i = 0; i < r->n; i++) {
		if (!r->f[i].ok)
			continue;
		cc.f = &r->f[i];
		if (yr_compiler_add_string(c, r->f[i].text, r->f[i].ns) != 0) {
			yr_compiler_destroy(c);
			return err_set(
			    e, ERR_INVALID,
			    "yara: rule file '%s' compiled alone but not with the others",
			    r->f[i].name);
		}
	}
	int rc = yr_compiler_get_rules(c, &y->rules);
	yr_compiler_destroy(c);
	if (rc != ERROR_SUCCESS)
		return err_set(e, ERR_SYS, "yara: cannot get the compiled rules (error %d)", rc);
	return 0;
}

/* ---- the cache ---- */

static void cache_key(const struct rset *r, unsigned char key[32])
{
	struct hasher *h = hasher_new();
	hasher_update(h, CACHE_MAGIC, sizeof(CACHE_MAGIC));
	hasher_update(h, YR_VERSION, sizeof(YR_VERSION));
	for (size_t i = 0; i < ARRAY_SIZE(string_externals); i++)
		hasher_update(h, string_externals[i], strlen(string_externals[i]) + 1);
	hasher_update(h, "pid", 4);
	for (size_t i = 0; i < r->n; i++) {
		uint64_t len = r->f[i].len;
		hasher_update(h, r->f[i].ns, strlen(r->f[i].ns) + 1);
		hasher_update(h, r->f[i].name, strlen(r->f[i].name) + 1);
		hasher_update(h, &len, sizeof(len));
		hasher_update(h, r->f[i].text, r->f[i].len);
	}
	hasher_final(h, key);
	hasher_free(h);
}

/* libyara's streams over memory */
struct mstream {
	const unsigned char *p;
	size_t left;
	struct sbuf *out;
};

static size_t m_read(void *ptr, size_t size, size_t count, void *ud)
{
	struct mstream *s = ud;
	if (!size || !count || count > s->left / size)
		return 0; /* past the end: a short read, libyara fails */
	memcpy(ptr, s->p, size * count);
	s->p += size * count;
	s->left -= size * count;
	return count;
}

static size_t m_write(const void *ptr, size_t size, size_t count, void *ud)
{
	struct mstream *s = ud;
	if (size && count > SIZE_MAX / size)
		return 0;
	sbuf_add(s->out, ptr, size * count);
	return count;
}

/* The file: magic, the key (32), the SHA-256 of the rest (32), u32 length
 * of the errors JSON, the errors JSON, libyara's saved rules. Read whole
 * (bounded), checked, only then given to libyara. */
#define CACHE_HDR (sizeof(CACHE_MAGIC) - 1 + 32 + 32 + 4)
static int cache_load(struct ayara *y, const char *file, const unsigned char key[32])
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			add_note(y, "yara cache '%s': %s: ignored", file, strerror(errno));
		return -1;
	}
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = "cannot stat";
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "not owned by this user";
	else if (st.st_mode & 022)
		why = "writable by others";
	else if ((uint64_t)st.st_size > AYARA_CACHE_MAX)
		why = "too large";
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	struct err re = {0};
	if (!why && read_fd_bounded(fd, AYARA_CACHE_MAX, &buf, &n, NULL, &re) < 0)
		why = "cannot be read";
	close(fd);
	json_t *errs = NULL;
	const unsigned char *u = (const unsigned char *)buf;
	const size_t ml = sizeof(CACHE_MAGIC) - 1;
	unsigned char sum[32];
	uint32_t elen = 0;
	if (why)
		goto bad;
	why = "not a cache file of this version";
	if (n < CACHE_HDR || memcmp(u, CACHE_MAGIC, ml) != 0)
		goto bad;
	why = "written for other rules";
	if (CRYPTO_memcmp(u + ml, key, 32) != 0)
		goto bad;
	why = "corrupt (its checksum differs)";
	sha256_buf(u + ml + 64, n - ml - 64, sum);
	if (CRYPTO_memcmp(u + ml + 32, sum, 32) != 0)
		goto bad;
	why = "a bad header";
	memcpy(&elen, u + ml + 64, 4);
	if (elen > n - CACHE_HDR)
		goto bad;
	errs = json_loadb(buf + CACHE_HDR, elen, 0, NULL);
	if (!json_is_array(errs))
		goto bad;
	struct mstream ms = {.p = u + CACHE_HDR + elen, .left = n - CACHE_HDR - elen};
	YR_STREAM ys = {.user_data = &ms, .read = m_read, .write = m_write};
	why = "libyara could not load it";
	if (yr_rules_load_stream(&ys, &y->rules) != ERROR_SUCCESS) {
		y->rules = NULL;
		goto bad;
	}
	size_t i;
	json_t *v;
	json_array_foreach(errs, i, v) add_error(y, json_incref(v));
	json_decref(errs);
	return 0;
bad:
	json_decref(errs);
	if (why)
		add_note(y, "yara cache '%s': %s: ignored, rebuilt", file, why);
	return -1;
}

static void cache_save(struct ayara *y, const char *dir, const char *file,
		       const unsigned char key[32])
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	_cleanup_free_ char *ej = json_dumps(y->errors, JSON_COMPACT);
	uint32_t elen = ej ? (uint32_t)strlen(ej) : 0;
	sbuf_add(&b, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1);
	sbuf_add(&b, key, 32);
	sbuf_add(&b, key, 32); /* the checksum, below */
	sbuf_add(&b, &elen, 4);
	sbuf_add(&b, ej ? ej : "", elen);
	struct mstream ms = {.out = &b};
	YR_STREAM ys = {.user_data = &ms, .read = m_read, .write = m_write};
	if (yr_rules_save_stream(y->rules, &ys) != ERROR_SUCCESS || b.len > AYARA_CACHE_MAX) {
		add_note(y, "yara cache '%s': the rules could not be saved", file);
		return;
	}
	const size_t ml = sizeof(CACHE_MAGIC) - 1;
	unsigned char sum[32];
	sha256_buf(b.buf + ml + 64, b.len - ml - 64, sum);
	memcpy(b.buf + ml + 32, sum, 32);
	_cleanup_free_ char *tmp = xasprintf("%s/.yara-rules.XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL, 0600 */
	if (fd < 0) {
		add_note(y, "yara cache '%s': %s: not written", dir, strerror(errno));
		return;
	}
	bool ok = write_all(fd, b.buf, b.len) == 0 && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, file) < 0) {
		add_note(y, "yara cache '%s': could not be written", file);
		unlink(tmp);
	}
}

/* a directory we may trust compiled rules from: ours, not writable by others */
static bool cache_dir_ok(struct ayara *y, const char *dir)
{
	struct err e = {0};
	if (mkdir_p(dir, 0700, &e) < 0) {
		add_note(y, "yara cache dir: %s: no cache", e.msg);
		return false;
	}
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		add_note(y, "yara cache dir '%s': not a directory: no cache", dir);
		return false;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		add_note(y,
			 "yara cache dir '%s': not owned by this user or writable by others: "
			 "no cache",
			 dir);
		return false;
	}
	return true;
}

/* ---- open, free ---- */

int ayara_open(const struct ayara_opts *o, struct ayara **out, struct err *e)
{
	*out = NULL;
	if (yr_initialize() != ERROR_SUCCESS)
		return err_set(e, ERR_SYS, "yara: cannot initialize libyara");
	struct ayara *y = xcalloc(1, sizeof(*y));
	y->inited = true;
	pthread_mutex_init(&y->mu, NULL);
	y->errors = json_array();
	y->notes = json_array();
	y->files = json_array();
	y->dirs = json_array();
	y->timeout = o->timeout ? o->timeout : AYARA_TIMEOUT_DEFAULT;
	y->max_bytes = o->max_bytes ? o->max_bytes : AYARA_MAX_BYTES_DEFAULT;
	y->cache = "off";
	struct rset r = {0};
	int rc = -1;
	char *file = NULL;
	unsigned char key[32];
	char hex[65];

	if (!o->no_shipped) {
		const char *sd = o->shipped_dir ? o->shipped_dir : CONTAIN_RULES_DIR;
		struct err de = {0};
		json_array_append_new(y->dirs, jenc(sd));
		if (add_dir(y, &r, sd, &de) < 0)
			add_note(y, "shipped rules: %s", de.msg);
	}
	for (size_t i = 0; i < o->nrules; i++)
		if (add_path(y, &r, o->rules[i], e) < 0)
			goto out;
	if (r.n == 0) {
		err_set(e, ERR_NOTFOUND,
			"yara: no rule file%s (the shipped rules: %s; --rules FILE|DIR; --no-yara)",
			json_array_size(y->errors) ? " that could be read" : "",
			o->no_shipped ? "--no-shipped-rules" : "not found");
		goto out;
	}
	for (size_t i = 0; i < r.n; i++)
		json_array_append_new(y->files, jenc(r.f[i].name));

	bool use_cache = o->cache_dir && cache_dir_ok(y, o->cache_dir);
	if (use_cache) {
		cache_key(&r, key);
		hex_encode(key, 32, hex);
		file = xasprintf("%s/yara-%s.rules", o->cache_dir, hex);
		y->cache = "miss";
		if (cache_load(y, file, key) == 0)
			y->cache = "hit";
	}
	if (!y->rules) {
		if (compile_all(y, &r, e) < 0)
			goto out;
		if (use_cache)
			cache_save(y, o->cache_dir, file, key);
	}
	YR_RULE *rule;
	yr_rules_foreach(y->rules, rule) y->nrules++;
	if (y->nrules == 0)
		add_note(y, "no rule compiled: nothing is scanned");
	rc = 0;
	*out = steal_pointer(&y);
out:
	free(file);
	rset_free(&r);
	ayara_free(y);
	return rc;
}

void ayara_free(struct ayara *y)
{
	if (!y)
		return;
	if (y->rules)
		yr_rules_destroy(y->rules);
	json_decref(y->errors);
	json_decref(y->notes);
	json_decref(y->files);
	json_decref(y->dirs);
	pthread_mutex_destroy(&y->mu);
	if (y->inited)
		yr_finalize();
	free(y);
}

json_t *ayara_section(struct ayara *y)
{
	pthread_mutex_lock(&y->mu);
	json_t *errs = json_deep_copy(y->errors);
	if (y->dropped) {
		char m[64];
		snprintf(m, sizeof(m), "%zu more errors not listed", y->dropped);
		json_array_append_new(errs, json_pack("{s:s,s:s}", "kind", "more", "message", m));
	}
	json_t *s =
	    json_pack("{s:{s:O,s:O,s:I,s:s},s:{s:I,s:I,s:I,s:f},s:I,s:o,s:O,s:{s:i,s:I}}", "rules",
		      "files", y->files, "dirs", y->dirs, "count", (json_int_t)y->nrules, "cache",
		      y->cache, "scanned", "files", (json_int_t)y->scanned, "bytes",
		      (json_int_t)y->bytes, "truncated", (json_int_t)y->truncated, "seconds",
		      y->seconds, "hits", (json_int_t)y->hits, "errors", errs, "notes", y->notes,
		      "limits", "timeout", (int)y->timeout, "max_bytes", (json_int_t)y->max_bytes);
	pthread_mutex_unlock(&y->mu);
	return s;
}

uint64_t ayara_max_bytes(const struct ayara *y)
{
	return y->max_bytes;
}

/* ---- scanning ---- */

/* How a pool's scan differs from a file's: the finding's path names the
 * first match (a core's windows and a stream's bytes: distinct hits keep
 * distinct paths through findings_finish's (id, path) deduplication), and a
 * window after the first of a region leaves out what the window before saw. */
enum where { W_FILE, W_MEMORY, W_NETWORK };
struct sopt {
	enum where where;
	char *prefix;	   /* "pid:N" / "tcp A:P > B:Q to_server": path = prefix@first */
	uint64_t seen_end; /* a match ending at or below this address was seen (0: none) */
	bool later_window; /* a rule with no match listed was reported by the first */
	int flags;	   /* SCAN_FLAGS_FAST_MODE: the first match of each string */
};

struct sctx {
	struct ayara *y;
	const struct ayara_ctx *c;
	json_t *report, *base;
	const char *fpath; /* encoded, for the finding */
	const struct sopt *so; /* NULL: a file's scan */
	size_t scanned;
	int hits;
	bool too_many;
};

/* at most AYARA_EXCERPT bytes, printable ASCII as is, the rest as \xNN */
static json_t *excerpt(const uint8_t *p, int n)
{
	char out[AYARA_EXCERPT * 4 + 4];
	size_t o = 0;
	for (int i = 0; i < n && i < (int)AYARA_EXCERPT; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
	}
	out[o] = 0;
	return json_string(out);
}

static const char *meta_str(const YR_RULE *rule, const char *const *keys, size_t nkeys)
{
	for (size_t k = 0; k < nkeys; k++) {
		const YR_META *m;
		yr_rule_metas_foreach(rule, m)
		{
			if (m->type == META_TYPE_STRING && strcmp(m->identifier, keys[k]) == 0 &&
			    m->string && *m->string)
				return m->string;
		}
	}
	return NULL;
}

/* the rule's matched strings (offsets with the object's base): *nmatch all
 * listed ones, *first the lowest offset; NULL when a later window of a
 * region saw nothing new (the window before reported it) */
static json_t *rule_strings(struct sctx *s, YR_SCAN_CONTEXT *ctx, const YR_RULE *rule,
			    uint64_t *nmatch, uint64_t *first)
{
	json_t *strs = json_array();
	uint64_t skipped = 0;
	*nmatch = 0;
	*first = UINT64_MAX;
	const YR_STRING *str;
	yr_rule_strings_foreach(rule, str)
	{
		/* libyara keeps matches in a notebook that does not align them:
		 * each is copied out before it is read */
		const YR_MATCH *p = ctx->matches[str->idx].head;
		while (p) {
			YR_MATCH mt;
			memcpy(&mt, p, sizeof(mt));
			p = mt.next;
			if (mt.is_private)
				continue;
			uint64_t off = s->c->base + (uint64_t)mt.base + (uint64_t)mt.offset;
			uint64_t end = off + (uint64_t)(mt.match_length > 0 ? mt.match_length : 0);
			if (s->so && s->so->seen_end && end <= s->so->seen_end) {
				skipped++; /* in the part the window before had whole */
				continue;
			}
			(*nmatch)++;
			if (off < *first)
				*first = off;
			if (json_array_size(strs) >= AYARA_STRINGS_MAX)
				continue;
			json_array_append_new(
			    strs, json_pack("{s:o,s:I,s:i,s:o}", "id", jenc(str->identifier),
					    "offset", (json_int_t)off, "length", mt.match_length,
					    "excerpt", excerpt(mt.data, mt.data_length)));
		}
	}
	if (*nmatch == 0 && s->so && (skipped || s->so->later_window)) {
		json_decref(strs);
		return NULL;
	}
	if (*first == UINT64_MAX)
		*first = s->c->base;
	return strs;
}

static void rule_hit(struct sctx *s, YR_SCAN_CONTEXT *ctx, const YR_RULE *rule)
{
	uint64_t nmatch, first;
	json_t *strs = rule_strings(s, ctx, rule, &nmatch, &first);
	if (!strs)
		return;
	json_t *ev = json_object();
	if (json_is_object(s->base))
		json_object_update(ev, s->base);
	json_object_set_new(ev, "rule", json_string(rule->identifier));
	json_object_set_new(ev, "namespace", jenc(rule->ns->name));
	json_t *tags = json_array();
	const char *tag;
	yr_rule_tags_foreach(rule, tag) json_array_append_new(tags, jenc(tag));
	json_object_set_new(ev, "tags", tags);
	json_t *meta = json_object();
	const YR_META *m;
	yr_rule_metas_foreach(rule, m)
	{
		json_t *v = m->type == META_TYPE_INTEGER   ? json_integer(m->integer)
			    : m->type == META_TYPE_BOOLEAN ? json_boolean(m->integer)
							   : jenc(m->string);
		_cleanup_free_ char *k = bag_path_json_encode(m->identifier);
		if (k && json_object_size(meta) < 32)
			json_object_set_new(meta, k, v);
		else
			json_decref(v);
	}
	json_object_set_new(ev, "meta", meta);
	json_object_set_new(ev, "strings", strs);
	json_object_set_new(ev, "matches", json_integer((json_int_t)nmatch));
	_cleanup_free_ char *wpath = NULL;
	if (s->so && s->so->where == W_MEMORY) {
		json_object_set_new(ev, "address", json_integer((json_int_t)first));
		wpath = xasprintf("%s@0x%llx", s->so->prefix, (unsigned long long)first);
	} else if (s->so && s->so->where == W_NETWORK) {
		json_object_set_new(ev, "offset", json_integer((json_int_t)first));
		wpath = xasprintf("%s@%llu", s->so->prefix, (unsigned long long)first);
	}
	if (s->scanned < s->c->size)
		json_object_set_new(ev, "scanned_bytes", json_integer((json_int_t)s->scanned));

	static const char *const k_sev[] = {"severity"};
	static const char *const k_title[] = {"title"};
	static const char *const k_attack[] = {"attack", "mitre_attack", "attack_id"};
	static const char *const k_desc[] = {"description"};
	static const char *const k_ref[] = {"reference"};
	enum sev sev = SEV_MEDIUM;
	const char *sv = meta_str(rule, k_sev, 1);
	char low[16];
	if (sv) {
		size_t i = 0;
		for (; sv[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)(sv[i] >= 'A' && sv[i] <= 'Z' ? sv[i] + 32 : sv[i]);
		low[i] = 0;
		if (sev_parse(low, &sev) < 0)
			sev = SEV_MEDIUM;
	}
	const char *title = meta_str(rule, k_title, 1);
	const char *attack = meta_str(rule, k_attack, ARRAY_SIZE(k_attack));
	const char *desc = meta_str(rule, k_desc, 1), *ref = meta_str(rule, k_ref, 1);
	/* the id: yara.<rule name> lowercased, "_" as "-" (ids are
	 * [a-z0-9.-]: docs/report-schema.json); evidence.rule has the name */
	_cleanup_free_ char *id = xasprintf("yara.%s", rule->identifier);
	for (char *p = id + 5; *p; p++)
		*p = *p == '_' ? '-' : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	/* the title: the rule's title meta as written, else its description
	 * after its name, else its name */
	_cleanup_free_ char *ttl = title  ? xasprintf("%.200s", title)
				   : desc ? xasprintf("YARA %s: %.200s", rule->identifier, desc)
					  : xasprintf("YARA rule %s matched", rule->identifier);
	_cleanup_free_ char *detail = xasprintf(
	    "%.500s%s%.300s%s%sYARA rule %s (%s) matched %llu string%s in the %s%s%s",
	    desc ? desc : "", ref ? " (reference: " : "", ref ? ref : "", ref ? ")" : "",
	    desc ? ". " : "", rule->identifier, rule->ns->name, (unsigned long long)nmatch,
	    nmatch == 1 ? "" : "s", s->c->source ? s->c->source : "object",
	    s->scanned < s->c->size ? ", first bytes only" : "",
	    s->too_many ? " (too many matches: some not recorded)" : "");
	pthread_mutex_lock(&s->y->mu);
	findings_add(s->report, id, sev, ttl, attack, wpath ? wpath : s->fpath, ev, detail);
	s->y->hits++;
	pthread_mutex_unlock(&s->y->mu);
	s->hits++;
}

static int scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *ud)
{
	struct sctx *s = ud;
	if (msg == CALLBACK_MSG_RULE_MATCHING)
		rule_hit(s, ctx, data);
	else if (msg == CALLBACK_MSG_TOO_MANY_MATCHES)
		s->too_many = true;
	return CALLBACK_CONTINUE;
}

static void ext_strings(const struct ayara_ctx *c, const char **name, const char **ext)
{
	const char *p = c->path ? c->path : "";
	const char *b = strrchr(p, '/');
	*name = b ? b + 1 : p;
	const char *dot = strrchr(*name, '.');
	*ext = dot && dot != *name ? dot + 1 : "";
}

static int scan_with(struct ayara *y, const void *buf, size_t n, const struct ayara_ctx *c,
		     json_t *report, json_t *evidence_base, const struct sopt *so, struct err *e)
{
	struct ayara_ctx cc = *c;
	if (cc.size < n)
		cc.size = n;
	size_t len = n > y->max_bytes ? (size_t)y->max_bytes : n;
	YR_SCANNER *sc;
	if (yr_scanner_create(y->rules, &sc) != ERROR_SUCCESS)
		return err_set(e, ERR_SYS, "yara: cannot create a scanner");
	_cleanup_free_ char *fpath = c->path ? bag_path_json_encode(c->path) : NULL;
	struct sctx s = {.y = y,
			 .c = &cc,
			 .report = report,
			 .base = evidence_base,
			 .fpath = fpath,
			 .so = so,
			 .scanned = len};
	/* what notes and errors name: the file, or the window / the stream */
	_cleanup_free_ char *wlabel =
	    !so			     ? NULL
	    : so->where == W_MEMORY ? xasprintf("%s@0x%llx", so->prefix, (unsigned long long)c->base)
				     : xstrdup(so->prefix);
	const char *label = wlabel ? wlabel : fpath;
	yr_scanner_set_callback(sc, scan_cb, &s);
	yr_scanner_set_timeout(sc, (int)y->timeout);
	if (so && so->flags)
		yr_scanner_set_flags(sc, so->flags);
	const char *name, *ext;
	ext_strings(c, &name, &ext);
	const char *vals[] = {name,
			      c->path ? c->path : "",
			      ext,
			      c->filetype ? c->filetype : "",
			      c->source ? c->source : "",
			      c->process_name ? c->process_name : ""};
	for (size_t i = 0; i < ARRAY_SIZE(string_externals); i++)
		yr_scanner_define_string_variable(sc, string_externals[i], vals[i]);
	yr_scanner_define_integer_variable(sc, "pid", c->pid);
	double t0 = time_mono();
	int rc = yr_scanner_scan_mem(sc, buf, len);
	double dt = time_mono() - t0;
	yr_scanner_destroy(sc);
	pthread_mutex_lock(&y->mu);
	y->seconds += dt;
	y->scanned++;
	y->bytes += len;
	if (len < cc.size) {
		y->truncated++;
		add_note(y, "'%.300s': %llu bytes, only the first %zu scanned (--yara-max-bytes)",
			 label ? label : "(object)", (unsigned long long)cc.size, len);
	}
	if (rc != ERROR_SUCCESS) {
		const char *why = rc == ERROR_SCAN_TIMEOUT	    ? "timed out (--yara-timeout)"
				  : rc == ERROR_TOO_MANY_MATCHES    ? "too many matches"
				  : rc == ERROR_INSUFFICIENT_MEMORY ? "out of memory"
								    : "libyara error";
		char msg[128];
		snprintf(msg, sizeof(msg), "timed out after %u s (--yara-timeout)", y->timeout);
		add_error(y, json_pack("{s:s,s:o,s:s,s:i}", "kind", "scan", "path",
				       label ? json_string(label) : json_null(), "message",
				       rc == ERROR_SCAN_TIMEOUT ? msg : why, "code", rc));
		pthread_mutex_unlock(&y->mu);
		return err_set(e, ERR_INVALID, "yara: '%s': %s", label ? label : "(object)", why);
	}
	pthread_mutex_unlock(&y->mu);
	return s.hits;
}

int ayara_scan(struct ayara *y, const void *buf, size_t n, const struct ayara_ctx *c,
	       json_t *report, json_t *evidence_base, struct err *e)
{
	return scan_with(y, buf, n, c, report, evidence_base, NULL, e);
}

/* ---- the pool: workers scanning what a reading thread submits ----
 * A FIFO of jobs bounded in bytes (AYARA_POOL_QUEUE_MAX counts a buffer from
 * its submission until its scan is done: what the pool holds in all). The
 * workers' findings go into a report of the pool's own (the submitter may
 * be adding findings of its own to the caller's report meanwhile: jansson
 * is not thread-safe), moved to the caller's report by ayara_pool_finish. */

#define POOL_WORKERS_MAX 8u
/* A memory window's buffer is used again once scanned (a fresh 16 MiB
 * buffer is a fresh mapping: its page faults cost more than the scan's
 * copy); at most this many wait, unused, for the next window. */
#define POOL_SPARES 4u

struct job {
	struct job *next;
	void *buf;
	size_t n;
	struct ayara_ctx c;
	char *source, *path, *filetype, *process_name; /* c's strings, copied */
	json_t *base;
	struct sopt so;
	bool has_so;
	bool recycle; /* buf: a window's, of the pool's window size */
};

struct ayara_pool {
	struct ayara *y;
	json_t *report; /* the caller's */
	json_t *mine;	/* {"findings": [...]}: the workers' (under y->mu) */
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	struct job *head, *tail;
	uint64_t held; /* bytes of jobs queued or being scanned */
	bool stop;
	pthread_t th[POOL_WORKERS_MAX];
	unsigned nth;
	void *spare[POOL_SPARES];
	size_t nspare;
};

static void job_free(struct job *j)
{
	free(j->buf);
	free(j->source);
	free(j->path);
	free(j->filetype);
	free(j->process_name);
	free(j->so.prefix);
	json_decref(j->base);
	free(j);
}

static void job_run(struct ayara_pool *p, struct job *j)
{
	struct err e = {0};
	/* errors (a timeout...) are counted in the section */
	scan_with(p->y, j->buf, j->n, &j->c, p->mine, j->base, j->has_so ? &j->so : NULL, &e);
}

/* scanned: its buffer to the spares or freed, with the job */
static void job_done(struct ayara_pool *p, struct job *j)
{
	if (j->recycle) {
		pthread_mutex_lock(&p->mu);
		if (p->nspare < POOL_SPARES) {
			p->spare[p->nspare++] = j->buf;
			j->buf = NULL;
		}
		pthread_mutex_unlock(&p->mu);
	}
	job_free(j);
}

/* a window's buffer: a spare, else a new one */
static void *pool_window_buf(struct ayara_pool *p, size_t size)
{
	void *b = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->nspare)
		b = p->spare[--p->nspare];
	pthread_mutex_unlock(&p->mu);
	return b ? b : xmalloc(size);
}

static void *worker(void *arg)
{
	struct ayara_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		struct job *j = p->head;
		if (!j)
			break; /* stopped and nothing left */
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		job_run(p, j);
		size_t n = j->n;
		job_done(p, j);
		pthread_mutex_lock(&p->mu);
		p->held -= n;
		pthread_cond_broadcast(&p->room);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct ayara_pool *ayara_pool_new(struct ayara *y, json_t *report, unsigned workers)
{
	struct ayara_pool *p = xcalloc(1, sizeof(*p));
	p->y = y;
	p->report = report;
	p->mine = json_pack("{s:[]}", "findings");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->room, NULL);
	if (workers == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		workers = c > 0 ? (unsigned)c : 1;
	}
	if (workers > POOL_WORKERS_MAX)
		workers = POOL_WORKERS_MAX;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&p->th[p->nth], NULL, worker, p) != 0)
			break; /* fewer workers; none: the submitter scans */
		p->nth++;
	}
	return p;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void pool_submit(struct ayara_pool *p, void *buf, size_t n, const struct ayara_ctx *ctx,
			json_t *base, const struct sopt *so, bool recycle)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->buf = buf;
	j->n = n;
	j->c = *ctx;
	j->c.source = j->source = dup_or_null(ctx->source);
	j->c.path = j->path = dup_or_null(ctx->path);
	j->c.filetype = j->filetype = dup_or_null(ctx->filetype);
	j->c.process_name = j->process_name = dup_or_null(ctx->process_name);
	j->base = base;
	j->recycle = recycle;
	if (so) {
		j->so = *so;
		j->so.prefix = dup_or_null(so->prefix);
		j->has_so = true;
	}
	if (p->nth == 0) {
		job_run(p, j);
		job_done(p, j);
		return;
	}
	pthread_mutex_lock(&p->mu);
	/* a buffer larger than the bound alone goes in when nothing is held */
	while (p->held && p->held + n > AYARA_POOL_QUEUE_MAX)
		pthread_cond_wait(&p->room, &p->mu);
	p->held += n;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void ayara_pool_submit(struct ayara_pool *p, void *buf, size_t n, const struct ayara_ctx *ctx,
		       json_t *evidence_base)
{
	pool_submit(p, buf, n, ctx, evidence_base, NULL, false);
}

void ayara_pool_finish(struct ayara_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(p->mine, "findings"), i, f)
	{
		json_t *arr = json_object_get(p->report, "findings");
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(p->report, "findings", arr);
		}
		json_array_append(arr, f);
	}
	json_decref(p->mine);
	for (size_t k = 0; k < p->nspare; k++)
		free(p->spare[k]);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->room);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* ---- memory: a region's bytes in windows ---- */

struct ayara_mem {
	struct ayara_pool *p;
	long long pid;
	char *pname, *member;
	/* the region being gathered */
	bool in_region;
	size_t index;
	uint64_t vaddr, memsz, filesz;
	uint32_t flags;
	char *name;
	bool file_backed;
	/* its window: win[0] is at off_in_region wstart */
	unsigned char *win;
	size_t wlen, wcap, carried; /* carried: bytes the window before had too */
	uint64_t wstart;
	size_t nwin; /* windows of this region submitted */
};

struct ayara_mem *ayara_mem_new(struct ayara_pool *p, long long pid, const char *process_name,
				const char *member)
{
	struct ayara_mem *m = xcalloc(1, sizeof(*m));
	m->p = p;
	m->pid = pid;
	m->pname = dup_or_null(process_name);
	m->member = dup_or_null(member);
	return m;
}

/* a window: at most max_bytes, at most MEM_WINDOW_MAX (the queue holds
 * several, the page faults of a fresh buffer are paid once per buffer) */
#define MEM_WINDOW_MAX (16u << 20)
static size_t mem_window(const struct ayara_mem *m)
{
	uint64_t w = ayara_max_bytes(m->p->y);
	if (w > MEM_WINDOW_MAX)
		w = MEM_WINDOW_MAX;
	if (w > SIZE_MAX / 2)
		w = SIZE_MAX / 2;
	return w < 2 ? 2 : (size_t)w;
}

static size_t mem_overlap(const struct ayara_mem *m)
{
	size_t w = mem_window(m);
	return AYARA_MEM_OVERLAP < w / 2 ? AYARA_MEM_OVERLAP : w / 2;
}

static void mem_submit(struct ayara_mem *m)
{
	char perms[4] = {(m->flags & 4) ? 'r' : '-', (m->flags & 2) ? 'w' : '-',
			 (m->flags & 1) ? 'x' : '-', 0};
	uint64_t addr = m->vaddr + m->wstart;
	json_t *base = json_pack(
	    "{s:I,s:o,s:o,s:{s:I,s:I,s:s},s:o}", "pid", (json_int_t)m->pid, "process_name",
	    m->pname ? jenc(m->pname) : json_null(), "member",
	    m->member ? jenc(m->member) : json_null(), "region", "start", (json_int_t)m->vaddr,
	    "size", (json_int_t)m->memsz, "perms", perms, "mapping", jenc(m->name));
	struct ayara_ctx c = {.source = "memory",
			      .path = m->file_backed ? m->name : NULL,
			      .pid = m->pid,
			      .process_name = m->pname,
			      .base = addr,
			      .size = m->wlen};
	struct sopt so = {.where = W_MEMORY,
			  .prefix = xasprintf("pid:%lld", m->pid),
			  .seen_end = m->nwin ? addr + m->carried : 0,
			  .later_window = m->nwin > 0,
			  .flags = SCAN_FLAGS_FAST_MODE};
	pool_submit(m->p, m->win, m->wlen, &c, base, &so, m->wcap == mem_window(m));
	free(so.prefix);
	m->win = NULL;
	m->wlen = m->wcap = 0;
	m->nwin++;
}

/* the region's last window (when it holds bytes no window had) */
static void mem_flush(struct ayara_mem *m)
{
	if (m->win && m->wlen > m->carried)
		mem_submit(m);
	free(m->win);
	m->win = NULL;
	m->wlen = m->wcap = m->carried = 0;
}

static void mem_region_start(struct ayara_mem *m, const struct acore_region *r)
{
	mem_flush(m);
	free(m->name);
	m->in_region = true;
	m->index = r->index;
	m->vaddr = r->vaddr;
	m->memsz = r->memsz;
	m->filesz = r->filesz;
	m->flags = r->flags;
	m->name = xstrdup(r->name ? r->name : "anon");
	m->file_backed = r->file_backed;
	m->wstart = 0;
	m->nwin = 0;
}

int ayara_mem_region(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		     void *arg)
{
	struct ayara_mem *m = arg;
	if (!m->in_region || r->index != m->index || r->vaddr != m->vaddr)
		mem_region_start(m, r);
	if (!n || !data)
		return 0;
	if (m->win && off != m->wstart + m->wlen) {
		/* not where the window ends (the reader does not do that): a
		 * window of its own from here */
		mem_flush(m);
		m->nwin = 0;
	}
	const size_t W = mem_window(m), ov = mem_overlap(m);
	const unsigned char *d = data;
	while (n) {
		if (!m->win) {
			m->wstart = off;
			/* a region's window: no larger than what is left of it */
			uint64_t left = m->filesz > off ? m->filesz - off : n;
			if (left < n)
				left = n;
			m->wcap = left < W ? (size_t)left : W;
			m->win = m->wcap == W ? pool_window_buf(m->p, W) : xmalloc(m->wcap);
		} else if (m->wlen == m->wcap && m->wcap < W) {
			size_t nc = m->wcap + (n < W - m->wcap ? n : W - m->wcap);
			m->win = xrealloc(m->win, nc);
			m->wcap = nc;
		}
		size_t take = m->wcap - m->wlen < n ? m->wcap - m->wlen : n;
		memcpy(m->win + m->wlen, d, take);
		m->wlen += take;
		d += take;
		n -= take;
		off += take;
		if (m->wlen == W) {
			/* full: the next window starts with this one's last ov bytes */
			unsigned char *next = pool_window_buf(m->p, W);
			memcpy(next, m->win + W - ov, ov);
			uint64_t nstart = m->wstart + W - ov;
			mem_submit(m);
			m->win = next;
			m->wcap = W;
			m->wlen = m->carried = ov;
			m->wstart = nstart;
		}
	}
	return 0;
}

void ayara_mem_free(struct ayara_mem *m)
{
	if (!m)
		return;
	mem_flush(m);
	free(m->name);
	free(m->pname);
	free(m->member);
	free(m);
}

/* ---- traffic: a stream direction or a datagram ---- */

void ayara_stream_opts(struct ayara_pool *p, struct aflows_opts *o)
{
	o->on_stream = p ? ayara_stream : NULL;
	o->arg = p;
	if (p) {
		uint64_t m = ayara_max_bytes(p->y);
		o->stream_max = m > AYARA_STREAM_MAX ? AYARA_STREAM_MAX : (size_t)m;
	}
}

void ayara_stream(const struct aflow_key *k, int dir, const void *buf, size_t n, void *arg)
{
	struct ayara_pool *p = arg;
	if (!p || !n || !buf)
		return;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], proto[8];
	int af = k->family == 6 ? AF_INET6 : AF_INET;
	if (!inet_ntop(af, k->src, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (!inet_ntop(af, k->dst, b, sizeof(b)))
		snprintf(b, sizeof(b), "?");
	if (k->proto == 6)
		snprintf(proto, sizeof(proto), "tcp");
	else if (k->proto == 17)
		snprintf(proto, sizeof(proto), "udp");
	else
		snprintf(proto, sizeof(proto), "%u", k->proto);
	const char *d = dir ? "to_client" : "to_server";
	struct sopt so = {.where = W_NETWORK,
			  .prefix = af == AF_INET6 ? xasprintf("%s [%s]:%u -> [%s]:%u %s", proto, a,
							       k->sport, b, k->dport, d)
						   : xasprintf("%s %s:%u -> %s:%u %s", proto, a,
							       k->sport, b, k->dport, d),
			  .flags = SCAN_FLAGS_FAST_MODE};
	json_t *base = json_pack("{s:{s:s,s:s,s:i,s:s,s:i},s:s}", "flow", "proto", proto, "src", a,
				 "sport", k->sport, "dst", b, "dport", k->dport, "direction", d);
	struct ayara_ctx c = {.source = "network", .size = n};
	void *copy = xmalloc(n);
	memcpy(copy, buf, n);
	pool_submit(p, copy, n, &c, base, &so, false);
	free(so.prefix);
}

/* chain.c: the hash-chained JSON-lines log (a bag's custody.jsonl, the
 * node's audit log). See include/contain/chain.h for the line format. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "contain/chain.h"
#include "contain/hashio.h"
#include "contain/jline.h"
#include "contain/sign.h"

struct chain {
	int fd; /* -1 in memory */
	int flags;
	char *path;
	char head[CHAIN_HASH_HEX];
	char genesis[CHAIN_HASH_HEX];
	unsigned long long seq;
	off_t size; /* bytes of the file known to be good */
	bool rooted;	  /* the file starts with a genesis line */
	EVP_PKEY *signer; /* borrowed: sign each line */
	struct sbuf kept;
	uid_t uid;
	char user[256];
	char host[256];
};

struct walker {
	char head[CHAIN_HASH_HEX];
	char genesis[CHAIN_HASH_HEX];
	unsigned long long seq;
	bool rooted;	   /* the first line is a genesis line */
	bool have_genesis; /* rooted: it was read */
	EVP_PKEY *pubkey;  /* every line signed by this key */
	unsigned long long signed_lines;
	chain_line_fn *fn; /* given each good line's object, may be NULL */
	chain_jline_fn *jfn; /* the same for a simple line, read without jansson */
	void *ctx;
	chain_event_fn *efn; /* the same with seq and hash, may refuse the line */
	void *ectx;
};

/* with SHA-256 fetched once (sha256_hex): EVP_sha256() fetched it anew for
 * every line, 0.7 of the 1 us a custody line's hash took */
void chain_line_hash(const char *line, size_t n, char out[CHAIN_HASH_HEX])
{
	_Static_assert(CHAIN_HASH_HEX == HASH_HEX, "a chain hash is a SHA-256 in hex");
	sha256_hex(line, n, out);
}

void chain_genesis(const char *seed, char out[CHAIN_HASH_HEX])
{
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "contain-chain-genesis:");
	sbuf_adds(&b, seed ? seed : "");
	chain_line_hash(b.buf, b.len, out);
	sbuf_free(&b);
}

/* A JSON string for bytes that may not be UTF-8 (a host name, a target
 * naming a container file): invalid bytes become \xNN text. */
static json_t *jstr_lossy(const char *s)
{
	size_t n = strlen(s);
	if (utf8_valid(s, n))
		return json_stringn(s, n);
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80)
			sbuf_addc(&b, (char)c);
		else
			sbuf_printf(&b, "\\x%02x", c);
	}
	json_t *j = json_stringn(b.buf, b.len);
	sbuf_free(&b);
	return j;
}

/* ---- checking ---- */

static const char *const reserved[] = {"seq",	 "time",   "actor", "tool",
				       "action", "target", "result", "prev", "sig"};
/* the fields every line has, with their type: string but "actor" (object) */
static const char *const required[] = {"time", "actor", "tool", "action", "target", "result"};

#define SIG_PRE ",\"sig\":\""
#define SIG_TAIL (sizeof(SIG_PRE) - 1 + 2 * SIGN_SIG_LEN + 2) /* + the 128 hex + "} */

/* The hash of a line's unsigned form: the bytes before its trailing
 * ,"sig":"<hex>" member, then "}". */
static void unsigned_hash(const char *line, size_t n, char out[CHAIN_HASH_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, line, n - SIG_TAIL) != 1 || EVP_DigestUpdate(ctx, "}", 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		abort(); /* libcrypto without SHA-256: nothing sane to do */
	EVP_MD_CTX_free(ctx);
	hex_encode(md, 32, out);
}

/* What the checks read of a line, from jansson's tree or from jline's
 * view of a simple line (the same values: include/contain/jline.h). */
struct fields {
	bool is_obj;
	bool seq_int; /* "seq" is an integer */
	long long seq;
	bool has_prev;
	const char *prev; /* a string "prev", or NULL */
	size_t prev_len;
	const char *action; /* a string "action", or NULL */
	size_t action_len;
	bool has_sig;
	const char *sig; /* a string "sig", or NULL */
	size_t sig_len;
	int bad_required; /* index in required[] of the first missing or mistyped, or -1 */
};

static void fields_json(json_t *o, struct fields *f)
{
	json_t *seq = json_object_get(o, "seq"), *prev = json_object_get(o, "prev");
	json_t *action = json_object_get(o, "action"), *sig = json_object_get(o, "sig");
	*f = (struct fields){.is_obj = json_is_object(o), .bad_required = -1};
	f->seq_int = json_is_integer(seq);
	f->seq = json_integer_value(seq);
	f->has_prev = prev != NULL;
	f->prev = json_string_value(prev);
	f->prev_len = f->prev ? json_string_length(prev) : 0;
	f->action = json_string_value(action);
	f->action_len = f->action ? strlen(f->action) : 0;
	f->has_sig = sig != NULL;
	f->sig = json_string_value(sig);
	f->sig_len = f->sig ? strlen(f->sig) : 0;
	for (size_t i = 0; i < ARRAY_SIZE(required) && f->bad_required < 0; i++) {
		json_t *v = json_object_get(o, required[i]);
		if (strcmp(required[i], "actor") == 0 ? !json_is_object(v) : !json_is_string(v))
			f->bad_required = (int)i;
	}
}

/* one pass over the members (a simple line has no key twice) */
static void fields_jl(const struct jl_val *o, struct fields *f)
{
	struct jl_iter it;
	struct jl_val k, v;
	unsigned have = 0; /* bit i: required[i] is there with its type */
	*f = (struct fields){.is_obj = o->t == JL_OBJ, .bad_required = -1};
	jl_iter_init(&it, o);
	while (jl_next(&it, &k, &v)) {
		if (jl_streq(&k, "seq")) {
			f->seq_int = v.t == JL_INT;
			f->seq = v.i;
		} else if (jl_streq(&k, "prev")) {
			f->has_prev = true;
			f->prev = v.t == JL_STR ? v.p : NULL;
			f->prev_len = v.t == JL_STR ? v.n : 0;
		} else if (jl_streq(&k, "sig")) {
			f->has_sig = true;
			f->sig = v.t == JL_STR ? v.p : NULL;
			f->sig_len = v.t == JL_STR ? v.n : 0;
		} else if (jl_streq(&k, "action") && v.t == JL_STR) {
			f->action = v.p;
			f->action_len = v.n;
		}
		for (size_t i = 0; i < ARRAY_SIZE(required); i++)
			if (jl_streq(&k, required[i]))
				have |= (strcmp(required[i], "actor") == 0 ? v.t == JL_OBJ
									: v.t == JL_STR)
					<< i;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required) && f->bad_required < 0; i++)
		if (!(have & (1u << i)))
			f->bad_required = (int)i;
}

/* Check the "sig" member of a line (bytes line[0..n)). 0 good (or
 * unsigned and no key asked for), 1 bad with problem filled. */
static int check_sig(struct walker *w, const struct fields *f, const char *line, size_t n,
		     char *problem, size_t psz)
{
	if (!f->has_sig) {
		if (!w->pubkey)
			return 0;
		snprintf(problem, psz, "the line is not signed");
		return 1;
	}
	unsigned char sig[SIGN_SIG_LEN];
	char hex[2 * SIGN_SIG_LEN + 1];
	/* the member must be the line's last one, written as the writer does */
	if (!f->sig || n < SIG_TAIL + 1 || memcmp(line + n - 2, "\"}", 2) != 0 ||
	    memcmp(line + n - SIG_TAIL, SIG_PRE, sizeof(SIG_PRE) - 1) != 0 ||
	    f->sig_len != 2 * SIGN_SIG_LEN ||
	    memcmp(line + n - SIG_TAIL + sizeof(SIG_PRE) - 1, f->sig, 2 * SIGN_SIG_LEN) != 0 ||
	    (memcpy(hex, f->sig, 2 * SIGN_SIG_LEN), hex[2 * SIGN_SIG_LEN] = '\0',
	     hex_decode(hex, sig, sizeof(sig)) < 0)) {
		snprintf(problem, psz, "malformed \"sig\" (not the last member, or not 128 hex "
				       "digits)");
		return 1;
	}
	w->signed_lines++;
	if (!w->pubkey)
		return 0;
	char msg[sizeof(CHAIN_SIG_DOMAIN) + CHAIN_HASH_HEX];
	snprintf(msg, sizeof(msg), "%s", CHAIN_SIG_DOMAIN);
	unsigned_hash(line, n, msg + sizeof(CHAIN_SIG_DOMAIN) - 1);
	if (sign_check(w->pubkey, msg, strlen(msg), sig, sizeof(sig)) != 1) {
		w->signed_lines--;
		snprintf(problem, psz, "the signature does not verify with the given key");
		return 1;
	}
	return 0;
}

/* the genesis line of a rooted chain: seq 0, action "genesis", no prev */
static int check_genesis(const struct fields *f, char *problem, size_t psz)
{
	if (!f->seq_int || f->seq != 0 || !f->action ||
	    f->action_len != strlen(CHAIN_GENESIS_ACTION) ||
	    memcmp(f->action, CHAIN_GENESIS_ACTION, f->action_len) != 0) {
		snprintf(problem, psz, "the first line is not a genesis line (seq 0, action \"%s\")",
			 CHAIN_GENESIS_ACTION);
		return 1;
	}
	if (f->has_prev) {
		snprintf(problem, psz, "the genesis line has a \"prev\"");
		return 1;
	}
	return 0;
}

static int check_seq_prev(struct walker *w, const struct fields *f, char *problem, size_t psz)
{
	if (!f->seq_int || f->seq < 1) {
		snprintf(problem, psz, "no valid \"seq\"");
		return 1;
	}
	if ((unsigned long long)f->seq != w->seq + 1) {
		snprintf(problem, psz, "seq %lld where %llu was expected", f->seq, w->seq + 1);
		return 1;
	}
	if (!f->prev || f->prev_len != CHAIN_HASH_HEX - 1) {
		snprintf(problem, psz, "no valid \"prev\"");
		return 1;
	}
	if (memcmp_ct(f->prev, w->head, CHAIN_HASH_HEX - 1) != 0) {
		snprintf(problem, psz, "prev does not match the hash of the line before");
		return 1;
	}
	return 0;
}

/* Check one line (without its '\n') against the walker; 0 good, 1 bad. A
 * simple line (jline.h) is read without jansson when no one wants its tree. */
static int walk_line(struct walker *w, const char *line, size_t n, char *problem,
		     size_t psz)
{
	json_error_t jerr;
	struct jl_val jl;
	struct fields f;
	json_t *o = NULL;
	if (n == 0) {
		snprintf(problem, psz, "empty line");
		return 1;
	}
	if (n > CHAIN_MAX_LINE) {
		snprintf(problem, psz, "line longer than %u bytes", CHAIN_MAX_LINE);
		return 1;
	}
	bool fast = !w->efn && (!w->fn || w->jfn) && jl_parse(line, n, &jl);
	if (fast) {
		fields_jl(&jl, &f);
	} else {
		o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
		if (!o) {
			snprintf(problem, psz, "not JSON: %s", jerr.text);
			return 1;
		}
		fields_json(o, &f);
	}
	int bad = 1;
	bool genesis = w->rooted && !w->have_genesis;
	if (!f.is_obj) {
		snprintf(problem, psz, "not a JSON object");
		goto out;
	}
	if (genesis ? check_genesis(&f, problem, psz) : check_seq_prev(w, &f, problem, psz))
		goto out;
	if (f.bad_required >= 0) {
		snprintf(problem, psz, "no valid \"%s\"", required[f.bad_required]);
		goto out;
	}
	if (check_sig(w, &f, line, n, problem, psz))
		goto out;
	char hash[CHAIN_HASH_HEX];
	chain_line_hash(line, n, hash);
	if (w->efn && w->efn(w->ectx, o, genesis ? 0 : w->seq + 1, hash, problem, psz))
		goto out;
	memcpy(w->head, hash, CHAIN_HASH_HEX);
	if (genesis) {
		memcpy(w->genesis, hash, CHAIN_HASH_HEX);
		w->have_genesis = true;
	} else {
		w->seq++;
	}
	bad = 0;
	if (fast && w->jfn)
		w->jfn(w->ctx, &jl);
	else if (w->fn)
		w->fn(w->ctx, o);
out:
	json_decref(o);
	return bad;
}

/* Walk the complete lines of buf[0..n). *used gets the bytes consumed (up
 * to and with the last good '\n'). Returns 0, or 1 at a bad line (r filled). */
static int walk_buf(struct walker *w, const char *buf, size_t n, struct chain_check *r,
		    size_t *used)
{
	size_t pos = 0;
	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (buf + pos));
		r->lines++;
		if (walk_line(w, buf + pos, len, r->problem, sizeof(r->problem))) {
			r->first_bad = r->lines;
			*used = pos;
			return 1;
		}
		pos += len + 1;
	}
	*used = pos;
	return 0;
}

/* what the walk found, into r */
static void walk_result(struct chain_check *r, const struct walker *w)
{
	memcpy(r->head, w->head, CHAIN_HASH_HEX);
	memcpy(r->genesis, w->genesis, CHAIN_HASH_HEX);
	r->seq = w->seq;
	r->signed_lines = w->signed_lines;
}

static void check_init(struct chain_check *r, const struct walker *w)
{
	memset(r, 0, sizeof(*r));
	walk_result(r, w);
}

/* a walker for the options: a seeded chain starts at its genesis hash, a
 * rooted one at nothing (its genesis line gives the hash) */
static void walker_init(struct walker *w, const struct chain_check_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->rooted = o->rooted;
	w->pubkey = o->pubkey;
	w->efn = o->fn;
	w->ectx = o->ctx;
	if (!o->rooted) {
		chain_genesis(o->seed, w->head);
		memcpy(w->genesis, w->head, CHAIN_HASH_HEX);
	}
}

/* the rest of buf had no '\n': a truncated tail, or a too long line */
static int tail_problem(struct chain_check *r, size_t rest)
{
	r->lines++;
	r->first_bad = r->lines;
	if (rest > CHAIN_MAX_LINE) {
		snprintf(r->problem, sizeof(r->problem), "line longer than %u bytes",
			 CHAIN_MAX_LINE);
	} else {
		r->truncated_tail = true;
		snprintf(r->problem, sizeof(r->problem),
			 "last line has no newline (truncated)");
	}
	return 1;
}

int chain_check_buf(const char *buf, size_t n, const char *seed, struct chain_check *r,
		    struct err *e)
{
	return chain_check_buf_each(buf, n, seed, r, NULL, NULL, NULL, e);
}

static int check_buf(struct walker *w, const char *buf, size_t n, struct chain_check *r)
{
	check_init(r, w);
	size_t used = 0;
	int rc = walk_buf(w, buf, n, r, &used);
	walk_result(r, w);
	if (rc)
		return 1;
	if (used < n)
		return tail_problem(r, n - used);
	if (w->rooted && !w->have_genesis) {
		r->first_bad = 1;
		snprintf(r->problem, sizeof(r->problem), "empty: no genesis line");
		return 1;
	}
	return 0;
}

int chain_check_buf_each(const char *buf, size_t n, const char *seed, struct chain_check *r,
			 chain_line_fn *fn, chain_jline_fn *jfn, void *ctx, struct err *e)
{
	struct chain_check_opts o = {.seed = seed};
	struct walker w;
	(void)e;
	walker_init(&w, &o);
	w.fn = fn;
	w.jfn = jfn;
	w.ctx = ctx;
	return check_buf(&w, buf, n, r);
}

int chain_check_buf_opts(const char *buf, size_t n, const struct chain_check_opts *o,
			 struct chain_check *r, struct err *e)
{
	struct walker w;
	(void)e;
	walker_init(&w, o);
	return check_buf(&w, buf, n, r);
}

/* Walk fd from offset start to EOF, continuing w. *end gets the offset
 * after the last good line. 0 good, 1 bad, -1 error. */
static int walk_fd(int fd, off_t start, struct walker *w, struct chain_check *r, off_t *end,
		   struct err *e)
{
	enum { CHUNK = 1 << 20 };
	struct sbuf carry = SBUF_INIT;
	_cleanup_free_ char *chunk = xmalloc(CHUNK);
	off_t off = start;
	int rc = 0;
	*end = start;
	for (;;) {
		ssize_t got = pread(fd, chunk, CHUNK, off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = err_sys(e, errno, "read");
			goto out;
		}
		if (got == 0)
			break;
		off += got;
		sbuf_add(&carry, chunk, (size_t)got);
		size_t used = 0;
		if (walk_buf(w, carry.buf, carry.len, r, &used)) {
			rc = 1;
			goto out;
		}
		*end += (off_t)used;
		memmove(carry.buf, carry.buf + used, carry.len - used);
		carry.len -= used;
		carry.buf[carry.len] = '\0';
		if (carry.len > CHAIN_MAX_LINE) {
			rc = tail_problem(r, carry.len);
			goto out;
		}
	}
	if (carry.len)
		rc = tail_problem(r, carry.len);
out:
	walk_result(r, w);
	sbuf_free(&carry);
	return rc;
}

int chain_check_file(const char *path, const char *seed, struct chain_check *r,
		     struct err *e)
{
	struct chain_check_opts o = {.seed = seed};
	return chain_check_file_opts(path, &o, r, e);
}

int chain_check_file_opts(const char *path, const struct chain_check_opts *o,
			  struct chain_check *r, struct err *e)
{
	struct walker w;
	struct stat st;
	walker_init(&w, o);
	check_init(r, &w);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	off_t end;
	int rc = walk_fd(fd, 0, &w, r, &end, e);
	if (rc < 0)
		return err_wrap(e, "'%s'", path);
	if (rc == 0 && w.rooted && !w.have_genesis) {
		r->first_bad = 1;
		snprintf(r->problem, sizeof(r->problem), "empty: no genesis line");
		return 1;
	}
	return rc;
}

/* ---- writing ---- */

static void actor_init(struct chain *c)
{
	c->uid = getuid();
	snprintf(c->user, sizeof(c->user), "%u", (unsigned)c->uid);
	struct passwd pw, *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bsz = sz > 0 && sz < (1 << 20) ? (size_t)sz : 16384;
	_cleanup_free_ char *pbuf = xmalloc(bsz);
	if (getpwuid_r(c->uid, &pw, pbuf, bsz, &res) == 0 && res && res->pw_name)
		snprintf(c->user, sizeof(c->user), "%s", res->pw_name);
	if (gethostname(c->host, sizeof(c->host) - 1) < 0)
		snprintf(c->host, sizeof(c->host), "unknown");
	c->host[sizeof(c->host) - 1] = '\0';
}

static void chain_free_(struct chain *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	sbuf_free(&c->kept);
	free(c);
}

static int lock_fd(int fd, const char *path, struct err *e)
{
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return err_sys(e, errno, "lock '%s'", path);
	}
	return 0;
}

static void unlock_fd(int fd)
{
	flock(fd, LOCK_UN);
}

static char *build_line(struct chain *c, bool genesis, const char *action, const char *target,
			const char *result, json_t *extra, size_t *len, struct err *e);

/* Under the lock, a rooted chain's empty file gets its genesis line. */
static int write_genesis(struct chain *c, json_t *genesis, struct err *e)
{
	size_t len;
	_cleanup_free_ char *line =
		build_line(c, true, CHAIN_GENESIS_ACTION, "", "ok", genesis, &len, e);
	if (!line)
		return -1;
	line[len] = '\n';
	if (write_all(c->fd, line, len + 1) < 0) {
		int saved = errno;
		if (ftruncate(c->fd, 0) < 0) {
			/* nothing more to do: the next open reports the broken line */
		}
		return err_sys(e, saved, "write '%s'", c->path);
	}
	if (fsync(c->fd) < 0)
		return err_sys(e, errno, "fsync '%s'", c->path);
	return 0;
}

/* What this process last knew good of a file it appends to (the node's
 * audit log): the next open walks on from there instead of from the start.
 * A long-lived process (respond audits a line a second) would otherwise
 * re-read the whole log for every line it adds, a cost that grows with the
 * log. Only lines this process walked or wrote itself are skipped; if the
 * walk from the mark fails (the file rewritten under us), the whole file
 * is walked and decides. One mark: the audit log is the one file appended
 * to again and again. */
static struct {
	bool set, rooted;
	dev_t dev;
	ino_t ino;
	off_t size;
	unsigned long long seq;
	char head[CHAIN_HASH_HEX], genesis[CHAIN_HASH_HEX];
} mark;
static pthread_mutex_t mark_lock = PTHREAD_MUTEX_INITIALIZER;

static void mark_set(const struct chain *c)
{
	struct stat st;
	if (c->fd < 0 || fstat(c->fd, &st) < 0)
		return;
	pthread_mutex_lock(&mark_lock);
	mark.set = true;
	mark.rooted = c->rooted;
	mark.dev = st.st_dev;
	mark.ino = st.st_ino;
	mark.size = c->size;
	mark.seq = c->seq;
	memcpy(mark.head, c->head, CHAIN_HASH_HEX);
	memcpy(mark.genesis, c->genesis, CHAIN_HASH_HEX);
	pthread_mutex_unlock(&mark_lock);
}

/* the walk from the mark (under the file's lock): 1 when it holds */
static int walk_from_mark(struct chain *c, const struct stat *st, struct err *e)
{
	struct walker w = {.rooted = c->rooted, .have_genesis = true};
	off_t from;
	pthread_mutex_lock(&mark_lock);
	bool ok = mark.set && mark.dev == st->st_dev && mark.ino == st->st_ino &&
		  mark.rooted == c->rooted && mark.size <= st->st_size &&
		  (c->rooted || memcmp(mark.genesis, c->genesis, CHAIN_HASH_HEX) == 0);
	if (ok) {
		memcpy(w.head, mark.head, CHAIN_HASH_HEX);
		memcpy(w.genesis, mark.genesis, CHAIN_HASH_HEX);
		w.seq = mark.seq;
		from = mark.size;
	}
	pthread_mutex_unlock(&mark_lock);
	if (!ok || from == 0)
		return 0;
	struct chain_check r;
	off_t end;
	check_init(&r, &w);
	struct err we = {0};
	if (walk_fd(c->fd, from, &w, &r, &end, &we) != 0)
		return 0; /* the whole walk decides */
	(void)e;
	memcpy(c->head, w.head, CHAIN_HASH_HEX);
	memcpy(c->genesis, w.genesis, CHAIN_HASH_HEX);
	c->seq = w.seq;
	c->size = end;
	return 1;
}

/* pread exactly n bytes at off (a short read is EOF moved under us) */
static int pread_full(int fd, char *buf, size_t n, off_t off, struct err *e)
{
	ssize_t got = pread_all(fd, buf, n, off);
	if (got < 0)
		return err_sys(e, errno, "read");
	if ((size_t)got < n)
		return err_set(e, ERR_INVALID, "the file shrank while read");
	return 0;
}

/* prime w to walk on from the line before[0..n) without having walked it:
 * the seq and prev it names (a line that names none is left to the walk
 * to refuse) */
static void walker_at(struct walker *w, const char *line, size_t n)
{
	json_t *o = json_loadb(line, n, 0, NULL);
	json_t *sq = json_object_get(o, "seq");
	const char *prev = json_string_value(json_object_get(o, "prev"));
	if (json_is_integer(sq) && json_integer_value(sq) >= 1 && prev &&
	    strlen(prev) == CHAIN_HASH_HEX - 1) {
		w->seq = (unsigned long long)json_integer_value(sq) - 1;
		memcpy(w->head, prev, CHAIN_HASH_HEX);
	}
	json_decref(o);
}

/* The ends of a rooted chain's file, for an append by a new process (under
 * the lock): the genesis line (its hash names the chain) and the last two
 * lines (the last one's hash is the head, its seq the count, and it must
 * link to the one before). The lines between are not read again: every
 * quarantine, release and capture appends to the node's audit log, and
 * walking it whole made each of them slower as the node's history grew
 * (15 ms of a quarantine at 443 KB). Whether every link holds is what
 * `contain audit verify` says. 0 good, 1 a bad end (r filled; first_bad 0
 * near the end, whose line numbers are not counted), -1. */
static int read_ends(struct chain *c, off_t size, struct chain_check *r, struct err *e)
{
	struct walker w = {.rooted = true};
	check_init(r, &w);
	size_t cap = (uint64_t)size > CHAIN_MAX_LINE + 1ull ? CHAIN_MAX_LINE + 1 : (size_t)size;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	if (pread_full(c->fd, buf, cap, 0, e) < 0)
		return -1;
	const char *nl = memchr(buf, '\n', cap);
	if (!nl)
		return tail_problem(r, cap);
	r->lines = r->first_bad = 1;
	if (walk_line(&w, buf, (size_t)(nl - buf), r->problem, sizeof(r->problem)))
		return 1;
	off_t first = (off_t)(nl - buf) + 1;
	/* the tail: a window from the end that holds the last two lines (or
	 * all after the genesis line), grown while it does not */
	const off_t most = 2 * ((off_t)CHAIN_MAX_LINE + 1);
	off_t win = 1 << 16;
	const char *lines = NULL;
	_cleanup_free_ char *tail = NULL;
	while (first < size) {
		if (win > size - first)
			win = size - first;
		free(tail);
		tail = xmalloc((size_t)win);
		if (pread_full(c->fd, tail, (size_t)win, size - win, e) < 0)
			return -1;
		r->first_bad = 0;
		if (tail[win - 1] != '\n') {
			tail_problem(r, (size_t)win);
			r->first_bad = 0;
			return 1;
		}
		if (size - win == first) { /* all the lines after the genesis one */
			lines = tail;
			break;
		}
		const char *p = memrchr(tail, '\n', (size_t)win - 1);
		const char *q = p ? memrchr(tail, '\n', (size_t)(p - tail)) : NULL;
		if (q) { /* the last two: the last must link to the one before */
			lines = q + 1;
			walker_at(&w, lines, (size_t)(p - lines));
			break;
		}
		if (win >= most) {
			snprintf(r->problem, sizeof(r->problem), "line longer than %u bytes",
				 CHAIN_MAX_LINE);
			return 1;
		}
		win = win * 4 > most ? most : win * 4;
	}
	if (lines) {
		const char *stop = tail + win;
		for (const char *l = lines; l < stop;) {
			const char *eol = memchr(l, '\n', (size_t)(stop - l));
			if (walk_line(&w, l, (size_t)(eol - l), r->problem, sizeof(r->problem)))
				return 1;
			l = eol + 1;
		}
	}
	memcpy(c->head, w.head, CHAIN_HASH_HEX);
	memcpy(c->genesis, w.genesis, CHAIN_HASH_HEX);
	c->seq = w.seq;
	c->size = size;
	return 0;
}

/* Read the existing file (under the lock) to find its seq and head. */
static int read_existing(struct chain *c, json_t *genesis, struct err *e)
{
	struct walker w = {.seq = 0, .rooted = c->rooted};
	struct chain_check r;
	off_t end;
	struct stat st;
	memcpy(w.head, c->head, CHAIN_HASH_HEX);
	memcpy(w.genesis, c->genesis, CHAIN_HASH_HEX);
	check_init(&r, &w);
	if (c->rooted) {
		if (fstat(c->fd, &st) < 0)
			return err_sys(e, errno, "stat '%s'", c->path);
		if (st.st_size == 0 && write_genesis(c, genesis, e) < 0)
			return -1;
	}
	if (fstat(c->fd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", c->path);
	if (walk_from_mark(c, &st, e) > 0) {
		mark_set(c);
		return 0;
	}
	if (c->rooted) {
		int rc = read_ends(c, st.st_size, &r, e);
		if (rc < 0)
			return err_wrap(e, "'%s'", c->path);
		if (rc > 0 && r.first_bad == 0)
			return err_set(e, ERR_INVALID, "chain '%s' is broken near its end: %s",
				       c->path, r.problem);
		if (rc > 0)
			return err_set(e, ERR_INVALID, "chain '%s' is broken at line %llu: %s",
				       c->path, r.first_bad, r.problem);
		mark_set(c);
		return 0;
	}
	int rc = walk_fd(c->fd, 0, &w, &r, &end, e);
	if (rc < 0)
		return err_wrap(e, "'%s'", c->path);
	if (rc > 0)
		return err_set(e, ERR_INVALID, "chain '%s' is broken at line %llu: %s", c->path,
			       r.first_bad, r.problem);
	memcpy(c->head, w.head, CHAIN_HASH_HEX);
	memcpy(c->genesis, w.genesis, CHAIN_HASH_HEX);
	c->seq = w.seq;
	c->size = end;
	mark_set(c);
	return 0;
}

static int open_common(const char *path, const char *seed, json_t *genesis, EVP_PKEY *signer,
		       int flags, struct chain **out, struct err *e)
{
	struct chain *c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->flags = flags;
	c->rooted = genesis != NULL;
	c->signer = signer;
	if (!c->rooted) {
		chain_genesis(seed, c->head);
		memcpy(c->genesis, c->head, CHAIN_HASH_HEX);
	}
	actor_init(c);
	*out = NULL;
	if (flags & CHAIN_MEMORY) {
		if (c->rooted) {
			chain_free_(c);
			return err_set(e, ERR_INVALID, "chain: a rooted chain needs a file");
		}
		*out = c;
		return 0;
	}
	if (!path || !*path) {
		chain_free_(c);
		return err_set(e, ERR_INVALID, "chain: no path");
	}
	if ((flags & (CHAIN_CREATE_EXCL | CHAIN_APPEND)) == 0 ||
	    (flags & (CHAIN_CREATE_EXCL | CHAIN_APPEND)) == (CHAIN_CREATE_EXCL | CHAIN_APPEND) ||
	    (c->rooted && !(flags & CHAIN_APPEND))) {
		chain_free_(c);
		return err_set(e, ERR_INVALID, "chain '%s': one of create or append", path);
	}
	c->path = xstrdup(path);
	int oflags = O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	if (flags & CHAIN_CREATE_EXCL)
		oflags |= O_EXCL;
	c->fd = open(path, oflags, 0600);
	if (c->fd < 0) {
		int saved = errno;
		chain_free_(c);
		return err_sys(e, saved, "open '%s'", path);
	}
	struct stat st;
	if (fstat(c->fd, &st) < 0) {
		int saved = errno;
		chain_free_(c);
		return err_sys(e, saved, "stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		chain_free_(c);
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	}
	if (flags & CHAIN_APPEND) {
		if (lock_fd(c->fd, path, e) < 0) {
			chain_free_(c);
			return -1;
		}
		int rc = read_existing(c, genesis, e);
		unlock_fd(c->fd);
		if (rc < 0) {
			chain_free_(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

int chain_open(const char *path, const char *seed, int flags, struct chain **out,
	       struct err *e)
{
	return open_common(path, seed, NULL, NULL, flags, out, e);
}

int chain_open_rooted(const char *path, json_t *genesis, EVP_PKEY *signer, int flags,
		      struct chain **out, struct err *e)
{
	if (!json_is_object(genesis)) {
		*out = NULL;
		return err_set(e, ERR_INVALID, "chain: the genesis fields must be an object");
	}
	return open_common(path, NULL, genesis, signer, flags, out, e);
}

const char *chain_genesis_hash(const struct chain *c)
{
	return c->genesis;
}

/* Under the lock: take in the lines others appended since we last looked. */
static int catch_up(struct chain *c, struct err *e)
{
	struct stat st;
	if (fstat(c->fd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", c->path);
	if (st.st_size == c->size)
		return 0;
	if (st.st_size < c->size)
		return err_set(e, ERR_INVALID, "chain '%s' shrank under us", c->path);
	struct walker w = {.seq = 0, .rooted = c->rooted, .have_genesis = true};
	struct chain_check r;
	off_t end;
	memcpy(w.head, c->head, CHAIN_HASH_HEX);
	memcpy(w.genesis, c->genesis, CHAIN_HASH_HEX);
	w.seq = c->seq;
	check_init(&r, &w);
	int rc = walk_fd(c->fd, c->size, &w, &r, &end, e);
	if (rc < 0)
		return err_wrap(e, "'%s'", c->path);
	if (rc > 0)
		return err_set(e, ERR_INVALID, "chain '%s' is broken after seq %llu: %s", c->path,
			       c->seq, r.problem);
	memcpy(c->head, w.head, CHAIN_HASH_HEX);
	c->seq = w.seq;
	c->size = end;
	return 0;
}

/* Append the signature member to a serialized line s (len bytes, ending in
 * '}'); returns the new line (s is freed) or NULL. */
static char *sign_line(struct chain *c, char *s, size_t *len, struct err *e)
{
	char msg[sizeof(CHAIN_SIG_DOMAIN) + CHAIN_HASH_HEX];
	unsigned char sig[SIGN_SIG_LEN];
	char hex[2 * SIGN_SIG_LEN + 1];
	snprintf(msg, sizeof(msg), "%s", CHAIN_SIG_DOMAIN);
	chain_line_hash(s, *len, msg + sizeof(CHAIN_SIG_DOMAIN) - 1);
	if (sign_buf(c->signer, msg, strlen(msg), sig, e) < 0) {
		free(s);
		return NULL;
	}
	hex_encode(sig, sizeof(sig), hex);
	/* "...}" becomes "...,"sig":"HEX"}" (one byte more for the NUL) */
	char *out = xasprintf("%.*s" SIG_PRE "%s\"}", (int)(*len - 1), s, hex);
	free(s);
	*len = strlen(out);
	return out;
}

static char *build_line(struct chain *c, bool genesis, const char *action, const char *target,
			const char *result, json_t *extra, size_t *len, struct err *e)
{
	char t[64];
	time_rfc3339_ns(t, sizeof(t));
	json_t *o = json_object();
	json_object_set_new(o, "seq", json_integer(genesis ? 0 : (json_int_t)(c->seq + 1)));
	json_object_set_new(o, "time", json_string(t));
	json_t *actor = json_object();
	json_object_set_new(actor, "uid", json_integer((json_int_t)c->uid));
	json_object_set_new(actor, "user", jstr_lossy(c->user));
	json_object_set_new(actor, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(actor, "host", jstr_lossy(c->host));
	json_object_set_new(o, "actor", actor);
	json_object_set_new(o, "tool", json_string("contain " CONTAIN_VERSION));
	json_object_set_new(o, "action", jstr_lossy(action));
	json_object_set_new(o, "target", jstr_lossy(target ? target : ""));
	json_object_set_new(o, "result", jstr_lossy(result));
	if (extra) {
		const char *k;
		json_t *v;
		json_object_foreach(extra, k, v) {
			for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
				if (strcmp(k, reserved[i]) == 0) {
					json_decref(o);
					err_set(e, ERR_INVALID, "chain: extra field '%s' is reserved",
						k);
					return NULL;
				}
			}
			json_object_set(o, k, v);
		}
	}
	if (!genesis)
		json_object_set_new(o, "prev", json_string(c->head));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s) {
		err_set(e, ERR_INVALID, "chain: cannot serialize event '%s'", action);
		return NULL;
	}
	*len = strlen(s);
	if (c->signer && !(s = sign_line(c, s, len, e)))
		return NULL;
	if (*len > CHAIN_MAX_LINE) {
		free(s);
		err_set(e, ERR_INVALID, "chain: event '%s' is longer than %u bytes", action,
			CHAIN_MAX_LINE);
		return NULL;
	}
	return s;
}

int chain_append(struct chain *c, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e)
{
	if (!action || !result)
		return err_set(e, ERR_INVALID, "chain: event without action or result");
	if (extra && !json_is_object(extra))
		return err_set(e, ERR_INVALID, "chain: extra fields must be an object");
	if (c->fd < 0) {
		size_t len;
		_cleanup_free_ char *line = build_line(c, false, action, target, result, extra, &len, e);
		if (!line)
			return -1;
		sbuf_add(&c->kept, line, len);
		sbuf_addc(&c->kept, '\n');
		chain_line_hash(line, len, c->head);
		c->seq++;
		return 0;
	}
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	/* a file this handle created (O_EXCL: a bag's custody log) has no other
	 * writer: no lock, no catching up (two syscalls less a line) */
	bool shared = !(c->flags & CHAIN_CREATE_EXCL);
	if (shared && lock_fd(c->fd, c->path, e) < 0)
		return -1;
	int rc = -1;
	if (shared && catch_up(c, e) < 0)
		goto out;
	line = build_line(c, false, action, target, result, extra, &len, e);
	if (!line)
		goto out;
	line[len] = '\n'; /* json_dumps' NUL becomes the newline: one write */
	if (write_all(c->fd, line, len + 1) < 0) {
		int saved = errno;
		/* never leave half a line for the next writer */
		if (ftruncate(c->fd, c->size) < 0) {
			/* nothing more to do: the next open reports the broken tail */
		}
		err_sys(e, saved, "write '%s'", c->path);
		goto out;
	}
	if ((c->flags & CHAIN_FSYNC) && fsync(c->fd) < 0) {
		err_sys(e, errno, "fsync '%s'", c->path);
		goto out;
	}
	if (c->flags & CHAIN_KEEP)
		sbuf_add(&c->kept, line, len + 1);
	chain_line_hash(line, len, c->head);
	c->seq++;
	c->size += (off_t)len + 1;
	if (c->flags & CHAIN_APPEND)
		mark_set(c);
	rc = 0;
out:
	if (shared)
		unlock_fd(c->fd);
	return rc;
}

const char *chain_head(const struct chain *c)
{
	return c->head;
}

unsigned long long chain_seq(const struct chain *c)
{
	return c->seq;
}

const char *chain_buf(const struct chain *c, size_t *len)
{
	if (c->fd >= 0 && !(c->flags & CHAIN_KEEP)) {
		*len = 0;
		return NULL;
	}
	*len = c->kept.len;
	return c->kept.buf ? c->kept.buf : "";
}

int chain_sync(struct chain *c, struct err *e)
{
	if (c->fd >= 0 && fsync(c->fd) < 0)
		return err_sys(e, errno, "fsync '%s'", c->path);
	return 0;
}

void chain_close(struct chain *c)
{
	chain_free_(c);
}

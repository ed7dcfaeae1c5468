/* audit.c: the node audit log: its genesis bound to the node, its head
 * recorded in bags, its verification (against the node, a key, bags). See
 * include/contain/audit.h. */
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>


#include "contain/audit.h"
#include "contain/bag.h"
#include "contain/sign.h"

#define NODE_FILE_MAX 4096
#define BAG_INFO_MAX (1u << 20)

/* ---- the node ---- */

/* A machine id file's content: hex, 32..64 digits, then an optional '\n'. */
static bool id_text_ok(const char *buf, size_t len, char out[AUDIT_ID_MAX])
{
	if (len && buf[len - 1] == '\n')
		len--;
	if (len < 32 || len >= AUDIT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_digit(buf[i]) < 0)
			return false;
	memcpy(out, buf, len);
	out[len] = '\0';
	return true;
}

/* read a small regular file; with nofollow (our own node id file) a
 * symlink in its place is refused */
static int small_read(const char *path, bool nofollow, char **buf, size_t *len, bool *trunc,
		      struct err *e)
{
	if (!nofollow)
		return read_file_at(AT_FDCWD, path, NODE_FILE_MAX, buf, len, trunc, e);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	if (read_fd_bounded(fd, NODE_FILE_MAX, buf, len, trunc, e) < 0)
		return err_wrap(e, "'%s'", path);
	return 0;
}

/* 0 read, 1 not there, -1 there but unusable */
static int id_read(const char *path, bool nofollow, char out[AUDIT_ID_MAX], struct err *e)
{
	char *buf = NULL;
	size_t len = 0;
	bool trunc = false;
	if (small_read(path, nofollow, &buf, &len, &trunc, e) < 0) {
		if (e->kind == ERR_SYS && e->errnum == ENOENT) {
			err_clear(e);
			return 1;
		}
		return -1;
	}
	bool ok = !trunc && id_text_ok(buf, len, out);
	free(buf);
	if (!ok)
		return len == 0 ? 1 : err_set(e, ERR_INVALID, "'%s' does not hold a machine id", path);
	return 0;
}

/* make the node id file once: 32 random hex digits, O_EXCL, 0600 */
static int id_create(const char *path, struct err *e)
{
	unsigned char raw[16];
	char hex[2 * sizeof(raw) + 1], line[2 * sizeof(raw) + 2];
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, e) < 0)
			return err_wrap(e, "node id '%s'", path);
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_sys(e, errno, "no random bytes for the node id");
	hex_encode(raw, sizeof(raw), hex);
	snprintf(line, sizeof(line), "%s\n", hex);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0; /* made by another process meanwhile: read theirs */
		return err_sys(e, errno, "create '%s'", path);
	}
	int rc = 0;
	if (write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0)
		rc = err_sys(e, errno, "write '%s'", path);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int audit_node_from(const char *const *paths, const char *fallback, bool create,
		    struct audit_node *n, struct err *e)
{
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; paths && paths[i]; i++) {
		int r = id_read(paths[i], false, n->machine_id, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(n->source, sizeof(n->source), "%s", paths[i]);
			return 0;
		}
	}
	if (!fallback)
		return err_set(e, ERR_NOTFOUND, "this node has no machine id");
	int r = id_read(fallback, true, n->machine_id, e);
	if (r == 1 && create) {
		if (id_create(fallback, e) < 0)
			return -1;
		r = id_read(fallback, true, n->machine_id, e);
	}
	if (r < 0)
		return -1;
	if (r == 1)
		return err_set(e, ERR_NOTFOUND, "this node has no machine id (nor '%s')", fallback);
	snprintf(n->source, sizeof(n->source), "%s", fallback);
	return 0;
}

int audit_node_get(bool create, struct audit_node *n, struct err *e)
{
	static const char *const paths[] = {"/etc/machine-id", "/var/lib/dbus/machine-id", NULL};
	return audit_node_from(paths, AUDIT_NODE_ID_FILE, create, n, e);
}

/* the genesis fields of a new log: {"node":{...}} */
static json_t *genesis_fields(struct err *e)
{
	struct audit_node n;
	if (audit_node_get(true, &n, e) < 0)
		return NULL;
	char host[256] = "unknown", t[64], nonce[65];
	unsigned char raw[32];
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	/* the kernel's CSPRNG directly: made on every record (the genesis is
	 * only used by a new log), where OpenSSL's DRBG would be set up per
	 * process for 32 bytes (issue 13) */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		err_set(e, ERR_SYS, "no random bytes for the audit log's nonce");
		return NULL;
	}
	hex_encode(raw, sizeof(raw), nonce);
	time_rfc3339_ns(t, sizeof(t));
	json_t *node = json_object();
	json_object_set_new(node, "machine_id", json_string(n.machine_id));
	json_object_set_new(node, "machine_id_source", json_string(n.source));
	/* a host name is not always UTF-8: jansson refuses it, say so */
	json_t *h = json_string(host);
	json_object_set_new(node, "hostname", h ? h : json_string("(not UTF-8)"));
	json_object_set_new(node, "created", json_string(t));
	json_object_set_new(node, "nonce", json_string(nonce));
	return json_pack("{s:o}", "node", node);
}

/* ---- the key ---- */

static EVP_PKEY *audit_key;

int audit_set_key(const char *path, struct err *e)
{
	EVP_PKEY *k = NULL;
	if (path && sign_load_private(path, &k, e) < 0)
		return err_wrap(e, "audit key");
	if (audit_key)
		EVP_PKEY_free(audit_key);
	audit_key = k;
	return 0;
}

/* ---- writing ---- */

static int open_log(const char *path, struct chain **c, struct err *e)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	*c = NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, e) < 0)
			return err_wrap(e, "audit log '%s'", path);
	}
	/* the genesis fields are only used for a new log, but made each time:
	 * whether the file is new is known under its lock only. When the node's
	 * id cannot be read, a log that has its genesis is still appended to
	 * (should it be emptied meanwhile, its genesis names no node and fails
	 * audit verify, named) */
	json_t *g = genesis_fields(e);
	struct stat st;
	if (!g && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		err_clear(e);
		g = json_object();
	}
	if (!g)
		return err_wrap(e, "audit log '%s'", path);
	int rc = chain_open_rooted(path, g, audit_key, CHAIN_APPEND | CHAIN_FSYNC, c, e);
	json_decref(g);
	if (rc < 0)
		return err_wrap(e, "audit log '%s'", path);
	return 0;
}

int audit_record(const char *path, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e)
{
	struct chain *c = NULL;
	if (open_log(path, &c, e) < 0)
		return -1;
	int rc = chain_append(c, action, target, result, extra, e);
	chain_close(c);
	if (rc < 0)
		return err_wrap(e, "audit log '%s'", path);
	return 0;
}

int audit_head(const char *path, struct audit_head *h, struct err *e)
{
	struct chain *c = NULL;
	memset(h, 0, sizeof(*h));
	if (open_log(path, &c, e) < 0)
		return -1;
	h->seq = chain_seq(c);
	memcpy(h->hash, chain_head(c), CHAIN_HASH_HEX);
	memcpy(h->genesis, chain_genesis_hash(c), CHAIN_HASH_HEX);
	chain_close(c);
	return 0;
}

void audit_head_format(const struct audit_head *h, char *buf, size_t n)
{
	snprintf(buf, n, "%llu:%s", h->seq, h->hash);
}

int audit_head_parse(const char *s, struct audit_head *h)
{
	memset(h, 0, sizeof(*h));
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon - s > 20)
		return -1;
	char num[24];
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	if (parse_ull(num, ~0ull, &h->seq) < 0)
		return -1;
	const char *hx = colon + 1;
	if (strlen(hx) != CHAIN_HASH_HEX - 1 || !is_hex_string(hx))
		return -1;
	memcpy(h->hash, hx, CHAIN_HASH_HEX);
	return 0;
}

int audit_bag_mark(struct bag *b, const char *path, bool end, struct audit_head *h,
		   struct err *e)
{
	const char *phase = end ? "end" : "start";
	if (audit_head(path, h, e) < 0)
		return -1;
	char text[AUDIT_HEAD_TEXT];
	audit_head_format(h, text, sizeof(text));
	json_t *x = json_pack("{s:s,s:{s:I,s:s,s:s}}", "phase", phase, "audit_head", "seq",
			      (json_int_t)h->seq, "hash", h->hash, "genesis", h->genesis);
	int rc = bag_event(b, "audit-head", path, "ok", x, e);
	json_decref(x);
	if (rc < 0)
		return err_wrap(e, "audit head");
	if (bag_set_info(b, end ? "Contain-Audit-Head-End" : "Contain-Audit-Head-Start", text, e) <
	    0)
		return err_wrap(e, "audit head");
	/* the start's genesis: an end in another log (replaced meanwhile) fails
	 * audit verify --bag on its genesis */
	if (!end && bag_set_info(b, "Contain-Audit-Genesis", h->genesis, e) < 0)
		return err_wrap(e, "audit head");
	return 0;
}

/* ---- verifying ---- */

/* a JSON string for text that may not be UTF-8 (a path, a message naming
 * one): invalid bytes percent-encoded as in a bag's JSON; never NULL */
static json_t *jtext(const char *s)
{
	if (utf8_valid(s, strlen(s)))
		return json_string(s);
	_cleanup_free_ char *enc = bag_path_json_encode(s);
	return json_string(enc);
}

struct want {
	size_t bag;	  /* index in the bags */
	const char *phase; /* "start", "end" */
	struct audit_head h;
	bool seen;	  /* a line with that seq was in the good part */
	char found[CHAIN_HASH_HEX];
};

struct vctx {
	const char *machine_id; /* expected */
	json_t *node;		/* the genesis' node object (a new reference) */
	struct want *w;
	size_t nw;
};

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->h.seq < y->h.seq ? -1 : x->h.seq > y->h.seq;
}

static int genesis_check(struct vctx *v, json_t *line, char *problem, size_t psz)
{
	json_t *node = json_object_get(line, "node");
	const char *mid = json_string_value(json_object_get(node, "machine_id"));
	const char *nonce = json_string_value(json_object_get(node, "nonce"));
	if (!json_is_object(node) || !mid || !nonce ||
	    !json_is_string(json_object_get(node, "hostname")) ||
	    !json_is_string(json_object_get(node, "created"))) {
		snprintf(problem, psz, "the genesis line does not name its node (machine_id, "
				       "hostname, created, nonce)");
		return 1;
	}
	if (strlen(nonce) != 64 || !is_hex_string(nonce)) {
		snprintf(problem, psz, "the genesis line's nonce is not 64 hex digits");
		return 1;
	}
	v->node = json_incref(node);
	if (strcmp(mid, v->machine_id) != 0) {
		snprintf(problem, psz, "the genesis line is for machine id '%.64s', this node is '%s'",
			 mid, v->machine_id);
		return 1;
	}
	return 0;
}

static int verify_line(void *ctx, json_t *line, unsigned long long seq,
		       const char hash[CHAIN_HASH_HEX], char *problem, size_t psz)
{
	struct vctx *v = ctx;
	if (seq == 0)
		return genesis_check(v, line, problem, psz);
	/* the wants are sorted by seq: a binary search to the first of seq */
	size_t lo = 0, hi = v->nw;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->w[mid].h.seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < v->nw && v->w[i].h.seq == seq; i++) {
		v->w[i].seen = true;
		memcpy(v->w[i].found, hash, CHAIN_HASH_HEX);
	}
	return 0;
}

struct vbag {
	const char *path;
	char genesis[CHAIN_HASH_HEX];
	char problem[2600]; /* the bag itself could not give its heads */
};

/* read one bag's heads into wants */
static void bag_heads(struct vbag *vb, size_t bi, struct want **w, size_t *nw, size_t *cap)
{
	static const char *const fields[2][2] = {{"Contain-Audit-Head-Start", "start"},
						 {"Contain-Audit-Head-End", "end"}};
	struct err e = {0};
	char *buf = NULL;
	size_t len = 0;
	if (bag_tag_read(vb->path, "bag-info.txt", BAG_INFO_MAX, &buf, &len, &e) < 0) {
		snprintf(vb->problem, sizeof(vb->problem), "cannot read its bag-info.txt: %s",
			 e.msg);
		return;
	}
	struct bag_info info = {0};
	char prob[256];
	if (bag_info_parse(buf, len, &info, prob, sizeof(prob)) != 0) {
		snprintf(vb->problem, sizeof(vb->problem), "bag-info.txt: %s", prob);
		goto out;
	}
	const char *g = bag_info_get(&info, "Contain-Audit-Genesis");
	if (!g || strlen(g) != CHAIN_HASH_HEX - 1 || !is_hex_string(g)) {
		snprintf(vb->problem, sizeof(vb->problem),
			 "bag-info.txt records no audit log (no valid Contain-Audit-Genesis)");
		goto out;
	}
	memcpy(vb->genesis, g, CHAIN_HASH_HEX);
	for (size_t k = 0; k < 2; k++) {
		const char *val = bag_info_get(&info, fields[k][0]);
		struct audit_head h;
		if (!val || audit_head_parse(val, &h) < 0) {
			snprintf(vb->problem, sizeof(vb->problem),
				 "bag-info.txt has no valid %s (SEQ:HASH)", fields[k][0]);
			goto out;
		}
		xgrow(w, cap, *nw + 1, sizeof(**w));
		struct want *x = &(*w)[(*nw)++];
		memset(x, 0, sizeof(*x));
		x->bag = bi;
		x->phase = fields[k][1];
		x->h = h;
		memcpy(x->h.genesis, g, CHAIN_HASH_HEX);
	}
out:
	bag_info_free(&info);
	free(buf);
}

/* the verdict on one recorded head, after the walk */
static bool head_verdict(const struct want *x, const struct chain_check *r, int crc,
			 char *problem, size_t psz)
{
	if (strcmp(x->h.genesis, r->genesis) != 0) {
		snprintf(problem, psz, "recorded in a log with genesis %.16s…, this log's is "
				       "%.16s… (another node's log, or one made anew)",
			 x->h.genesis, r->genesis[0] ? r->genesis : "(none)");
		return false;
	}
	if (x->h.seq == 0) {
		if (memcmp_ct(x->h.hash, r->genesis, CHAIN_HASH_HEX - 1) != 0) {
			snprintf(problem, psz, "seq 0 is the genesis %.16s…, not %.16s…", r->genesis,
				 x->h.hash);
			return false;
		}
		return true;
	}
	if (!x->seen) {
		if (crc == 0)
			snprintf(problem, psz, "the log ends at seq %llu: the line was removed "
					       "(truncated log)", r->seq);
		else
			snprintf(problem, psz, "not in the intact part of the log (up to seq %llu)",
				 r->seq);
		return false;
	}
	if (memcmp_ct(x->found, x->h.hash, CHAIN_HASH_HEX - 1) != 0) {
		snprintf(problem, psz, "the line with seq %llu has hash %.16s…, the bag recorded "
				       "%.16s… (the log was rewritten)",
			 x->h.seq, x->found, x->h.hash);
		return false;
	}
	return true;
}

static json_t *bags_report(struct vbag *vb, size_t nb, struct want *w, size_t nw,
			   const struct chain_check *r, int crc, bool *all_ok)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < nb; i++) {
		json_t *b = json_object();
		json_t *heads = json_array();
		bool ok = !vb[i].problem[0];
		for (size_t k = 0; k < nw; k++) {
			if (w[k].bag != i)
				continue;
			char prob[512] = "";
			bool hok = head_verdict(&w[k], r, crc, prob, sizeof(prob));
			ok = ok && hok;
			json_array_append_new(heads, json_pack("{s:s,s:I,s:s,s:b,s:s?}", "phase",
							       w[k].phase, "seq",
							       (json_int_t)w[k].h.seq, "hash",
							       w[k].h.hash, "ok", hok, "problem",
							       hok ? NULL : prob));
		}
		json_object_set_new(b, "bag", jtext(vb[i].path));
		json_object_set_new(b, "ok", json_boolean(ok));
		json_object_set_new(b, "problem",
				    vb[i].problem[0] ? jtext(vb[i].problem) : json_null());
		json_object_set_new(b, "heads", heads);
		json_array_append_new(arr, b);
		if (!ok)
			*all_ok = false;
	}
	return arr;
}

int audit_verify(const char *path, const struct audit_verify_opts *o, json_t **report,
		 struct err *e)
{
	*report = NULL;
	struct audit_node n;
	const char *mid = o->machine_id;
	if (!mid) {
		if (audit_node_get(false, &n, e) < 0)
			return err_wrap(e, "this node's machine id (give one to check against)");
		mid = n.machine_id;
	}
	_cleanup_pkey_ EVP_PKEY *pub = NULL;
	if (o->pubkey && sign_load_public(o->pubkey, &pub, e) < 0)
		return -1;
	/* the heads the bags recorded, sorted by seq for the walk */
	struct vbag *vb = xcalloc(o->nbags ? o->nbags : 1, sizeof(*vb));
	struct want *w = NULL;
	size_t nw = 0, cap = 0;
	for (size_t i = 0; i < o->nbags; i++) {
		vb[i].path = o->bags[i];
		bag_heads(&vb[i], i, &w, &nw, &cap);
	}
	if (nw)
		qsort(w, nw, sizeof(*w), want_cmp);

	struct vctx v = {.machine_id = mid, .w = w, .nw = nw};
	struct chain_check_opts co = {.rooted = true, .pubkey = pub, .fn = verify_line, .ctx = &v};
	struct chain_check r;
	int crc = chain_check_file_opts(path, &co, &r, e);
	if (crc < 0) {
		json_decref(v.node);
		free(w);
		free(vb);
		return -1;
	}
	bool all_ok = crc == 0;
	json_t *j = json_object();
	json_object_set_new(j, "file", jtext(path));
	json_object_set_new(j, "machine_id", json_string(mid));
	json_object_set_new(j, "lines", json_integer((json_int_t)r.lines));
	json_object_set_new(j, "seq", json_integer((json_int_t)r.seq));
	json_object_set_new(j, "head", json_string(r.head));
	json_object_set_new(j, "genesis", r.genesis[0] ? json_string(r.genesis) : json_null());
	json_object_set_new(j, "node", v.node ? v.node : json_null());
	json_object_set_new(j, "signed_lines", json_integer((json_int_t)r.signed_lines));
	json_object_set_new(j, "signatures_checked", json_boolean(pub != NULL));
	json_object_set_new(j, "first_bad_line",
			    crc ? json_integer((json_int_t)r.first_bad) : json_null());
	json_object_set_new(j, "problem", crc ? jtext(r.problem) : json_null());
	json_object_set_new(j, "truncated_tail", json_boolean(r.truncated_tail));
	json_object_set_new(j, "bags", bags_report(vb, o->nbags, w, nw, &r, crc, &all_ok));
	json_object_set_new(j, "valid", json_boolean(all_ok));
	free(w);
	free(vb);
	*report = j;
	return all_ok ? 0 : 1;
}

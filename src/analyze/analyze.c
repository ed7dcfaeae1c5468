/* analyze.c: analyze_run, the whole verb as one library call: the bag
 * (verified, read), the image, the diff, the report's sections, the
 * findings, the report files written through one directory fd. Also the
 * report sections made from the bag's members alone (analyze_bag_sections),
 * which take any JSON shape: every member is attacker-written. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>

#include "contain/analyze.h"
#include "contain/bag.h"

#define AN_PROBLEMS_MAX	   100u	   /* bag.problems listed */
#define AN_SOCKET_PIDS_MAX 64u	   /* pids listed per socket */
#define AN_LIST_MAX	   100000u /* processes, sockets, steps, events listed */
#define AN_CMDLINE_MAX	   1024u   /* arguments of one process listed */

/* ---- small readers of hostile JSON: a wrong type is absent ---- */

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* a copy of o[k] when it is a string, else null */
static json_t *jstr_or_null(const json_t *o, const char *k)
{
	const char *s = jstr(o, k);
	return s ? json_string(s) : json_null();
}

static json_t *jint_or_null(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static json_t *jnum_or_null(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

static json_t *jbool(const json_t *o, const char *k)
{
	return json_boolean(json_is_true(json_object_get(o, k)));
}

static void add_note(json_t *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(json_t *report, const char *fmt, ...)
{
	struct bag_notes nt = {.arr = json_object_get(report, "notes")};
	va_list ap;
	va_start(ap, fmt);
	bag_notev(&nt, fmt, ap);
	va_end(ap);
}

/* ---- bag ---- */

static json_t *bag_section(const struct abag *b)
{
	json_t *v = b->verify, *o = json_object();
	const char *info_id = jstr(b->info, "Contain-Bag-Id");
	json_object_set_new(o, "id", bag_json_text(info_id ? info_id : jstr(v, "bag_id")));
	json_object_set_new(o, "path", bag_json_text(b->path));
	json_object_set_new(o, "form", json_string(b->is_dir ? "directory" : "tar"));
	json_object_set_new(o, "verified", json_boolean(b->verified));
	const char *verdict = jstr(v, "verdict");
	if (v && json_is_string(json_object_get(v, "form")) &&
	    strcmp(jstr(v, "form"), "unsupported") == 0)
		verdict = "unsupported";
	json_object_set_new(o, "verdict", json_string(verdict ? verdict : "invalid"));
	json_t *probs = json_array(), *p;
	size_t i;
	json_array_foreach(json_object_get(v, "problems"), i, p)
	{
		if (i >= AN_PROBLEMS_MAX)
			break;
		const char *s = json_is_string(p) ? json_string_value(p) : jstr(p, "detail");
		if (s)
			json_array_append_new(probs, json_string(s));
	}
	json_object_set_new(o, "problems", probs);
	json_object_set_new(o, "forced", json_boolean(b->forced));
	json_t *sig = json_object_get(v, "signature");
	const char *st = jstr(sig, "status");
	bool signed_ = st && strcmp(st, "unsigned") != 0;
	json_object_set_new(o, "signed", json_boolean(signed_));
	json_object_set_new(o, "signature", json_string(st ? st : "unknown"));
	const char *fpr = jstr(sig, "fingerprint");
	if (!fpr)
		fpr = jstr(b->info, "Contain-Signer-Fingerprint");
	json_object_set_new(o, "signer", bag_json_text(signed_ ? fpr : NULL));
	json_object_set_new(o, "case", jstr_or_null(b->info, "External-Identifier"));
	json_object_set_new(o, "examiner", jstr_or_null(b->info, "Contact-Name"));
	json_object_set_new(o, "bagging_date", jstr_or_null(b->info, "Bagging-Date"));
	json_object_set_new(o, "host", jstr_or_null(b->info, "Contain-Host"));
	json_object_set_new(o, "created", jstr_or_null(json_array_get(b->custody, 0), "time"));
	return o;
}

/* ---- container ---- */

/* the first string among o1[k1], o2[k2], o3[k3] */
static const char *first_str(const json_t *o1, const char *k1, const json_t *o2, const char *k2,
			     const json_t *o3, const char *k3)
{
	const char *s = o1 ? jstr(o1, k1) : NULL;
	if (!s && o2)
		s = jstr(o2, k2);
	if (!s && o3)
		s = jstr(o3, k3);
	return s;
}

/* names (strings matching CAP_[A-Z_0-9]+, at most 64) of a JSON array */
static json_t *cap_names(const json_t *arr)
{
	json_t *out = json_array(), *v;
	size_t i;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (json_array_size(out) >= 64)
			break;
		if (!s || strncmp(s, "CAP_", 4) != 0 || strlen(s) > 40 ||
		    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != strlen(s))
			continue;
		json_array_append_new(out, json_string(s));
	}
	return out;
}

/* the OCI config's process.capabilities: {effective, bounding, permitted}
 * (arrays of names), or null when the bag has no config */
static json_t *config_caps(const json_t *config)
{
	json_t *caps = json_object_get(json_object_get(config, "process"), "capabilities");
	if (!json_is_object(caps))
		return json_null();
	json_t *o = json_object();
	static const char *const sets[] = {"effective", "bounding", "permitted"};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		json_object_set_new(o, sets[i], cap_names(json_object_get(caps, sets[i])));
	return o;
}

static json_t *container_section(const struct abag *b)
{
	json_t *o = json_object();
	json_object_set_new(o, "runtime",
			    bag_json_text(first_str(b->image, "runtime", b->inspect, "runtime",
						    b->info, "Contain-Runtime")));
	json_object_set_new(o, "id",
			    bag_json_text(first_str(b->inspect, "id", b->info,
						    "Contain-Container-Id", NULL, NULL)));
	json_object_set_new(o, "name",
			    bag_json_text(first_str(b->inspect, "name", NULL, NULL, NULL, NULL)));
	json_object_set_new(
	    o, "image",
	    bag_json_text(first_str(b->image, "image", b->inspect, "image", NULL, NULL)));
	json_object_set_new(
	    o, "image_digest",
	    bag_json_text(first_str(b->image, "digest", b->info, "Contain-Image-Digest", b->inspect,
				    "image_digest")));
	json_object_set_new(o, "layer", jstr_or_null(b->files, "layer"));
	json_object_set_new(o, "whole_root", jbool(b->files, "whole_root"));
	json_object_set_new(o, "capabilities", config_caps(b->config));
	return o;
}

/* ---- processes ---- */

/* the name of uid in a passwd file's content, or NULL (caller frees) */
static char *passwd_user(const char *buf, size_t n, long long uid)
{
	size_t off = 0;
	while (off < n) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : n - off;
		const char *line = buf + off;
		off += len + (nl ? 1 : 0);
		const char *c1 = memchr(line, ':', len);
		if (!c1 || c1 == line)
			continue;
		const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
		if (!c2)
			continue;
		const char *c3 = memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - line));
		if (!c3 || c3 == c2 + 1 || c3 - c2 > 12)
			continue;
		char num[16];
		memcpy(num, c2 + 1, (size_t)(c3 - c2 - 1));
		num[c3 - c2 - 1] = '\0';
		long long u;
		if (parse_ll(num, 0, UINT32_MAX, &u) == 0 && u == uid) {
			char *name = xstrndup(line, (size_t)(c1 - line));
			char *enc = bag_path_json_encode(name);
			free(name);
			return enc;
		}
	}
	return NULL;
}

struct users {
	const char *buf;
	size_t n;
};

static struct users users_from(const struct aidx *img_kept, const struct aidx *bag_kept)
{
	struct users u = {0};
	/* the bag's passwd when the container changed it, else the image's */
	const struct aidx *sides[2] = {bag_kept, img_kept};
	for (int i = 0; i < 2 && !u.buf; i++) {
		if (!sides[i])
			continue;
		aidx_id id = aidx_lookup(sides[i], "etc/passwd");
		bool trunc = false;
		if (id != AIDX_NONE)
			u.buf = aidx_kept(sides[i], id, &u.n, &trunc);
	}
	return u;
}

static json_t *cmdline_list(const json_t *cmd)
{
	json_t *out = json_array(), *a;
	size_t i;
	json_array_foreach(json_object_get(cmd, "list"), i, a)
	{
		if (i >= AN_CMDLINE_MAX)
			break;
		if (json_is_string(a))
			json_array_append_new(out, json_string(json_string_value(a)));
	}
	return out;
}

static json_t *process_summary(const json_t *p, const struct users *u)
{
	json_t *o = json_object();
	json_object_set_new(o, "pid", jint_or_null(p, "pid"));
	json_object_set_new(o, "ppid", jint_or_null(p, "ppid"));
	/* the pid in the container's namespace: the last of NSpid */
	json_t *ns = json_object_get(p, "nspid");
	json_t *last = json_array_get(ns, json_array_size(ns) ? json_array_size(ns) - 1 : 0);
	json_object_set_new(o, "nspid",
			    json_is_integer(last) ? json_integer(json_integer_value(last))
						  : json_null());
	json_object_set_new(o, "comm", jstr_or_null(p, "comm"));
	json_t *exe = json_object_get(p, "exe");
	json_object_set_new(o, "exe", jstr_or_null(exe, "path"));
	json_object_set_new(o, "exe_deleted", jbool(exe, "deleted"));
	json_object_set_new(o, "exe_memfd", jbool(exe, "memfd"));
	json_object_set_new(o, "exe_sha256", jstr_or_null(exe, "sha256"));
	json_t *uid = json_array_get(json_object_get(p, "uids"), 0);
	char *user = NULL;
	if (json_is_integer(uid)) {
		json_object_set_new(o, "uid", json_integer(json_integer_value(uid)));
		if (u->buf)
			user = passwd_user(u->buf, u->n, json_integer_value(uid));
	} else {
		json_object_set_new(o, "uid", json_null());
	}
	json_object_set_new(o, "user", bag_json_text(user));
	free(user);
	json_object_set_new(o, "cmdline", cmdline_list(json_object_get(p, "cmdline")));
	json_object_set_new(o, "start_time", jstr_or_null(p, "start_time"));
	json_t *nt = json_object_get(p, "nthreads");
	json_object_set_new(
	    o, "threads",
	    json_is_integer(nt) ? json_integer(json_integer_value(nt))
	    : json_is_array(json_object_get(p, "threads"))
		? json_integer((json_int_t)json_array_size(json_object_get(p, "threads")))
		: json_null());
	json_object_set_new(o, "container_init",
			    json_boolean(json_is_integer(last) && json_integer_value(last) == 1));
	json_object_set_new(o, "tracer_pid", jint_or_null(p, "tracer_pid"));
	/* fds 0, 1, 2: their type ("socket", "file", "pipe"...) and target */
	json_t *stdio = json_array(), *fd;
	for (int k = 0; k < 3; k++)
		json_array_append_new(stdio, json_null());
	size_t j;
	json_array_foreach(json_object_get(p, "fds"), j, fd)
	{
		json_t *n = json_object_get(fd, "fd");
		if (j >= 1u << 20)
			break;
		if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > 2)
			continue;
		json_array_set_new(stdio, (size_t)json_integer_value(n),
				   json_pack("{s:o,s:o}", "type", jstr_or_null(fd, "type"),
					     "target", jstr_or_null(fd, "target")));
	}
	json_object_set_new(o, "stdio", stdio);
	json_t *caps = json_object_get(p, "capabilities");
	json_object_set_new(o, "cap_effective",
			    json_is_object(caps) ? cap_names(json_object_get(
						       json_object_get(caps, "effective"), "names"))
						 : json_null());
	return o;
}

static json_t *processes_section(const struct abag *b, const struct users *u, json_t *report)
{
	json_t *out = json_array(), *p;
	size_t i;
	json_t *pids = json_object_get(b->tree, "pids");
	if (b->tree && !json_is_array(pids))
		add_note(report, "'data/processes/tree.json' has no \"pids\" array: no processes");
	json_array_foreach(pids, i, p)
	{
		if (i >= AN_LIST_MAX) {
			add_note(report, "processes: only the first %u listed", AN_LIST_MAX);
			break;
		}
		if (json_is_object(p))
			json_array_append_new(out, process_summary(p, u));
	}
	return out;
}

/* ---- network ---- */

static json_t *endpoint(const json_t *s, const char *addr_key, const char *port_key)
{
	const char *a = jstr(s, addr_key);
	json_t *port = json_object_get(s, port_key);
	if (!a)
		return json_null();
	if (!json_is_integer(port))
		return json_string(a);
	char buf[512];
	snprintf(buf, sizeof(buf), strchr(a, ':') ? "[%.400s]:%lld" : "%.400s:%lld", a,
		 (long long)json_integer_value(port));
	return bag_json_text(buf);
}

static json_t *socket_entry(const json_t *s, json_t *pid)
{
	json_t *o = json_object();
	json_object_set_new(o, "pid", pid);
	json_object_set_new(o, "proto", jstr_or_null(s, "proto"));
	json_object_set_new(o, "state", jstr_or_null(s, "state"));
	json_object_set_new(o, "local", endpoint(s, "local", "lport"));
	json_object_set_new(o, "remote", endpoint(s, "remote", "rport"));
	json_object_set_new(o, "inode", jint_or_null(s, "inode"));
	return o;
}

static json_t *iface_entry(const json_t *ifc)
{
	json_t *o = json_object(), *addrs = json_array(), *a;
	size_t i;
	json_object_set_new(o, "name", jstr_or_null(ifc, "name"));
	json_object_set_new(o, "operstate", jstr_or_null(ifc, "operstate"));
	json_object_set_new(o, "mac", jstr_or_null(ifc, "mac"));
	json_array_foreach(json_object_get(ifc, "addresses"), i, a)
	{
		if (i >= 256)
			break;
		const char *ad = jstr(a, "address");
		json_t *pl = json_object_get(a, "prefixlen");
		if (!ad)
			continue;
		char buf[512];
		if (json_is_integer(pl))
			snprintf(buf, sizeof(buf), "%.400s/%lld", ad,
				 (long long)json_integer_value(pl));
		else
			snprintf(buf, sizeof(buf), "%.400s", ad);
		json_array_append_new(addrs, bag_json_text(buf));
	}
	json_object_set_new(o, "addresses", addrs);
	return o;
}

static json_t *network_section(const struct abag *b, json_t *report)
{
	json_t *o = json_object(), *socks = json_array(), *ifs = json_array(), *s;
	size_t i, listed = 0;
	json_array_foreach(json_object_get(b->netstate, "sockets"), i, s)
	{
		if (!json_is_object(s))
			continue;
		json_t *pids = json_object_get(s, "pids"), *pid;
		size_t j;
		if (json_array_size(pids) == 0) {
			if (listed++ < AN_LIST_MAX)
				json_array_append_new(socks, socket_entry(s, json_null()));
			continue;
		}
		json_array_foreach(pids, j, pid)
		{
			if (j >= AN_SOCKET_PIDS_MAX)
				break;
			if (listed++ < AN_LIST_MAX)
				json_array_append_new(
				    socks,
				    socket_entry(s, json_is_integer(pid)
							? json_integer(json_integer_value(pid))
							: json_null()));
		}
	}
	if (listed > AN_LIST_MAX)
		add_note(report, "network: only the first %u sockets listed", AN_LIST_MAX);
	json_array_foreach(json_object_get(b->netstate, "interfaces"), i, s)
	{
		if (i >= 4096)
			break;
		if (json_is_object(s))
			json_array_append_new(ifs, iface_entry(s));
	}
	json_object_set_new(o, "sockets", socks);
	json_object_set_new(o, "interfaces", ifs);
	json_object_set_new(o, "netns_host", jbool(json_object_get(b->netstate, "netns"), "host"));
	return o;
}

/* ---- quarantine, custody ---- */

/* A field of a bag member's object, copied with its type checked (see
 * jstr_or_null and its kin: a wrong type is null). */
struct field {
	const char *key;
	json_t *(*copy)(const json_t *o, const char *k);
};

static json_t *fields_copy(const json_t *src, const struct field *f, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, f[i].key, f[i].copy(src, f[i].key));
	return o;
}

static json_t *quarantine_section(const struct abag *b)
{
	static const struct field step[] = {{"step", jstr_or_null},
					    {"by", jstr_or_null},
					    {"at", jstr_or_null},
					    {"holds", jstr_or_null},
					    {"seconds", jnum_or_null}};
	json_t *out = json_array(), *s;
	size_t i;
	json_array_foreach(json_object_get(b->quarantine, "steps"), i, s)
	{
		if (i >= AN_LIST_MAX)
			break;
		if (!json_is_object(s))
			continue;
		json_array_append_new(out, fields_copy(s, step, ARRAY_SIZE(step)));
	}
	return out;
}

static json_t *custody_section(const struct abag *b)
{
	static const struct field event[] = {{"seq", jint_or_null},
					     {"time", jstr_or_null},
					     {"action", jstr_or_null},
					     {"target", jstr_or_null},
					     {"result", jstr_or_null}};
	json_t *out = json_array(), *ev;
	size_t i;
	json_array_foreach(b->custody, i, ev)
	{
		json_array_append_new(out, fields_copy(ev, event, ARRAY_SIZE(event)));
	}
	return out;
}

void analyze_bag_sections(json_t *report, const struct abag *b, const struct aidx *img_kept,
			  const struct aidx *bag_kept)
{
	if (!json_is_array(json_object_get(report, "notes")))
		json_object_set_new(report, "notes", json_array());
	json_t *n;
	size_t i;
	json_array_foreach(b->notes, i, n) json_array_append(json_object_get(report, "notes"), n);
	struct users u = users_from(img_kept, bag_kept);
	json_object_set_new(report, "bag", bag_section(b));
	json_object_set_new(report, "container", container_section(b));
	json_object_set_new(report, "processes", processes_section(b, &u, report));
	json_object_set_new(report, "network", network_section(b, report));
	json_object_set_new(report, "quarantine", quarantine_section(b));
	json_object_set_new(report, "custody", custody_section(b));
	if (!json_object_get(report, "analyses"))
		json_object_set_new(report, "analyses", json_object());
}

/* ---- the image ---- */

static json_t *image_section(const struct aimg *img, const char *given, const char *recorded)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", bag_json_text(given));
	json_object_set_new(o, "form", bag_json_text(img->form));
	json_object_set_new(o, "ref", bag_json_text(img->ref));
	json_object_set_new(o, "manifest_digest", bag_json_text(img->manifest_digest));
	json_object_set_new(o, "config_digest", bag_json_text(img->config_digest));
	json_object_set_new(o, "recorded_digest", bag_json_text(recorded));
	json_object_set_new(o, "match", json_string(aimg_digest_match(img, recorded)));
	json_object_set_new(o, "layers", img->layers ? json_incref(img->layers) : json_array());
	json_object_set_new(o, "entries", json_integer((json_int_t)aidx_count(img->idx)));
	json_object_set_new(o, "refs", img->refs ? json_incref(img->refs) : json_array());
	json_object_set_new(o, "notes", img->notes ? json_incref(img->notes) : json_array());
	json_object_set_new(o, "config", img->config ? json_incref(img->config) : json_null());
	return o;
}

/* ---- the diff ---- */

struct diff_ctx {
	const struct aidx *img;
	const struct adiff_opts *o;
	json_t *out;
	struct aidx *kept;
};

static int diff_fn(struct archive *layer, void *ctx, struct err *e)
{
	struct diff_ctx *d = ctx;
	return adiff_layer(d->img, layer, d->o, &d->out, &d->kept, e);
}

static json_t *empty_diff(const char *why)
{
	json_t *d = json_object();
	static const char *const arrays[] = {"added", "modified", "metadata", "deleted", "opaque"};
	for (size_t i = 0; i < ARRAY_SIZE(arrays); i++)
		json_object_set_new(d, arrays[i], json_array());
	json_t *notes = json_array();
	json_array_append_new(notes, bag_json_path(why));
	json_object_set_new(d, "notes", notes);
	json_object_set_new(d, "stats", json_object());
	return d;
}

/* YARA on each added or modified file of the layer, on the diff's workers */
struct yara_files {
	struct ayara *y;
	json_t *report;
};

static void yara_file(void *ctx, const struct adiff_content *c)
{
	struct yara_files *yf = ctx;
	char hex[65];
	hex_encode(c->sha256, 32, hex);
	json_t *base = json_pack("{s:s,s:s,s:s}", "member", "data/fs/upper.tar", "sha256", hex,
				 "change", c->change);
	struct ayara_ctx ac = {
	    .source = "file", .path = c->path, .filetype = c->mime, .size = c->size};
	struct err e = {0};
	ayara_scan(yf->y, c->buf, c->n, &ac, yf->report, base, &e); /* errors: in the section */
	json_decref(base);
}

static int run_diff(struct abag *b, const struct aimg *img, json_t *report, struct aidx **kept,
		    struct ayara *y, struct err *e)
{
	if (!b->has_layer) {
		json_object_set_new(
		    report, "diff",
		    empty_diff("the bag has no data/fs/upper.tar (captured with --no-fs?): "
			       "no file changes to show"));
		add_note(report, "the bag has no layer (data/fs/upper.tar): the diff is empty");
		return 0;
	}
	struct aftype *ft = NULL;
	if (aftype_open(&ft, e) < 0)
		return err_wrap(e, "file types");
	struct adiff_opts dopts = {
	    .whole_root = json_is_true(json_object_get(b->files, "whole_root")),
	    .files_json = b->files,
	    .ftype = ft,
	};
	struct yara_files yf = {.y = y, .report = report};
	struct adiff_content_hook hook = {.fn = yara_file, .ctx = &yf};
	if (y) {
		hook.content_max = (size_t)(ayara_max_bytes(y));
		dopts.content = &hook;
	}
	struct diff_ctx d = {.img = img->idx, .o = &dopts};
	int rc = abag_layer(b, diff_fn, &d, e);
	aftype_close(ft);
	if (rc < 0) {
		json_decref(d.out);
		if (d.kept)
			aidx_free(d.kept);
		return err_wrap(e, "diff of '%s'", "data/fs/upper.tar");
	}
	json_object_set_new(report, "diff", d.out ? d.out : empty_diff("the diff gave nothing"));
	*kept = d.kept;
	return 0;
}

/* ---- the report directory ---- */

static const char *const report_files[] = {"report.json", "report.md", "report.html",
					   "timeline.csv", "bodyfile"};

static char *default_out_dir(const struct abag *b)
{
	const char *id = jstr(b->info, "Contain-Bag-Id");
	if (!id)
		id = jstr(b->verify, "bag_id");
	/* a bag id is a UUID; anything else is not put into a path */
	bool ok = id && *id && strlen(id) < 64;
	for (const char *p = id; ok && *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		      (*p >= 'A' && *p <= 'F') || *p == '-'))
			ok = false;
	return ok ? xasprintf("%s-report", id) : xstrdup("contain-report");
}

/* refused early when it exists and --overwrite is not given */
static int out_dir_check(const char *dir, bool overwrite, struct err *e)
{
	struct stat st;
	if (strcmp(dir, "-") == 0)
		return err_set(e, ERR_INVALID,
			       "output '-': the report is a directory of files (--json prints "
			       "report.json to stdout)");
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, errno, "output '%s'", dir);
	}
	if (!overwrite)
		return err_set(e, ERR_INVALID,
			       "output '%s' exists (--overwrite replaces its reports)", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_INVALID, "output '%s' exists and is not a directory", dir);
	return 0;
}

static int out_dir_open(const char *dir, bool overwrite, struct err *e)
{
	if (mkdir(dir, 0755) < 0 && !(errno == EEXIST && overwrite))
		return errno == EEXIST
			   ? err_set(e, ERR_INVALID,
				     "output '%s' exists (--overwrite replaces its reports)", dir)
			   : err_sys(e, errno, "mkdir '%s'", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%s' (a directory, not a symlink)", dir);
	if (overwrite) {
		for (size_t i = 0; i < ARRAY_SIZE(report_files); i++) {
			if (unlinkat(fd, report_files[i], 0) < 0 && errno != ENOENT) {
				err_sys(e, errno, "remove '%s/%s'", dir, report_files[i]);
				close(fd);
				return -1;
			}
		}
	}
	return fd;
}

static int write_reports(const json_t *report, int dirfd, struct err *e)
{
	int (*const writers[])(const json_t *, int, const char *, struct err *) = {
	    report_write_json,	   report_write_md,	  report_write_html,
	    report_write_timeline, report_write_bodyfile,
	};
	int rc = 0;
	/* every one is tried; the first error is returned */
	for (size_t i = 0; i < ARRAY_SIZE(writers); i++) {
		struct err we = {0};
		if (writers[i](report, dirfd, report_files[i], &we) < 0 && rc == 0) {
			*e = we;
			rc = err_wrap(e, "write '%s'", report_files[i]);
		}
	}
	return rc;
}

/* ---- the verb ---- */

/* A bag analyzed with --force: the report's first member says so, so that
 * every writer's first line can (and a reader of report.json sees it first). */
static json_t *mark_unverified(json_t *r)
{
	const json_t *bag = json_object_get(r, "bag");
	const char *first = json_string_value(json_array_get(json_object_get(bag, "problems"), 0));
	char msg[2048];
	snprintf(
	    msg, sizeof(msg),
	    "EVIDENCE NOT VERIFIED: bag '%s' did not verify (%s)%s%s; analyzed anyway with --force",
	    json_string_value(json_object_get(bag, "path")) ?: "?",
	    json_string_value(json_object_get(bag, "verdict")) ?: "invalid", first ? ": " : "",
	    first ? first : "");
	json_t *out = json_object();
	json_object_set_new(out, "warning", bag_json_text(msg));
	json_object_update(out, r);
	json_decref(r);
	return out;
}

static void summary_fail(json_t *report, const char *fail_on)
{
	json_t *sum = json_object_get(report, "summary");
	if (!json_is_object(sum)) {
		sum = json_object();
		json_object_set_new(report, "summary", sum);
	}
	json_object_set_new(sum, "fail_on", json_string(fail_on));
	bool failed = false;
	enum sev thr, s;
	if (strcmp(fail_on, "none") != 0 && sev_parse(fail_on, &thr) == 0) {
		json_t *f;
		size_t i;
		json_array_foreach(json_object_get(report, "findings"), i, f)
		{
			const char *sv = jstr(f, "severity");
			if (sv && sev_parse(sv, &s) == 0 && s >= thr)
				failed = true;
		}
	}
	json_object_set_new(sum, "failed", json_boolean(failed));
}

/* ---- the cores: what of memory the rules look at ---- */

#define AN_CORE_BYTES_MAX (8ull << 30) /* region bytes read from all cores */
#define AN_CORE_SECONDS	  120.0	       /* reading all cores */
#define AN_CORE_SECONDS_YARA 1200.0    /* and scanning them (8 GiB at 7 MB/s) */
#define AN_ANON_ELF_MAX	  16u	       /* ELF headers listed per core */

struct acores {
	json_t *list;
	json_t *report;
	uint64_t bytes_left;
	double secs; /* the time bound of all cores */
	double deadline;
	bool timed_out;
	struct ayara_pool *pool; /* YARA on every region (NULL: --no-yara) */
	/* per core */
	json_t *anon_elf;
	const struct abag_core *core;
	const struct acore_info *info; /* filled as the core is read */
	struct ayara_mem *mem;	       /* made at the first region (the name known) */
};

static bool no_file(const struct acore_region *r)
{
	if (str_has_prefix(r->name, "/memfd:"))
		return true;
	return !r->file_backed && strcmp(r->name, "[vdso]") != 0 &&
	       strcmp(r->name, "[vsyscall]") != 0 && strcmp(r->name, "[vvar]") != 0;
}

static bool elf_header_at(const unsigned char *p, size_t n)
{
	return n >= 7 &&
	       memcmp(p,
		      "\x7f"
		      "ELF",
		      4) == 0 &&
	       (p[4] == 1 || p[4] == 2) && (p[5] == 1 || p[5] == 2) && p[6] == 1;
}

static const char *rwx(uint32_t f, char *buf)
{
	buf[0] = (f & 4) ? 'r' : '-';
	buf[1] = (f & 2) ? 'w' : '-';
	buf[2] = (f & 1) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

/* YARA reads every region; without it, only what mem.anon-elf needs */
static bool core_want(const struct acore_region *r, void *arg)
{
	const struct acores *cc = arg;
	return cc->pool || ((r->flags & 1) && no_file(r));
}

/* an ELF header at a page start of an executable mapping with no file */
static int core_region(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		       void *arg)
{
	struct acores *cc = arg;
	if (time_mono() > cc->deadline) {
		cc->timed_out = true;
		return -1;
	}
	if (cc->pool) {
		if (!cc->mem)
			cc->mem = ayara_mem_new(
			    cc->pool, cc->core->pid >= 0 ? cc->core->pid : cc->info->pid,
			    cc->core->comm	    ? cc->core->comm
			    : cc->info->comm[0] ? cc->info->comm
						: NULL,
			    cc->core->name);
		ayara_mem_region(r, data, n, off, cc->mem);
	}
	if (!(r->flags & 1) || !no_file(r))
		return cc->pool ? 0 : 1; /* the rest of this region: for YARA only */
	const unsigned char *d = data;
	for (size_t i = (size_t)((4096 - off % 4096) % 4096); i < n; i += 4096) {
		if (!elf_header_at(d + i, n - i))
			continue;
		if (json_array_size(cc->anon_elf) >= AN_ANON_ELF_MAX)
			return 1;
		char perms[4];
		char *name = bag_path_json_encode(r->name);
		json_array_append_new(cc->anon_elf,
				      json_pack("{s:I,s:I,s:I,s:s,s:s,s:I}", "vaddr",
						(json_int_t)(r->vaddr + off + i), "region_start",
						(json_int_t)r->vaddr, "region_size",
						(json_int_t)r->memsz, "mapping", name ? name : "?",
						"perms", rwx(r->flags, perms), "offset_in_region",
						(json_int_t)(off + i)));
		free(name);
	}
	return 0;
}

int acores_one(const struct abag_core *c, void *ctx, struct err *e)
{
	(void)e;
	struct acores *cc = ctx;
	json_t *o = json_object();
	json_array_append_new(cc->list, o);
	json_object_set_new(o, "member", json_string(c->name));
	json_object_set_new(o, "pid", json_integer(c->pid));
	if (cc->timed_out || cc->bytes_left == 0) {
		json_object_set_new(o, "error",
				    json_string(cc->timed_out ? "not read: time bound reached"
							      : "not read: byte bound reached"));
		return 0;
	}
	cc->anon_elf = json_array();
	struct acore_opts ao = {.on_region = core_region,
				.want = core_want,
				.arg = cc,
				.maps = c->maps,
				.maps_len = c->maps_len,
				.max_bytes = cc->bytes_left};
	struct acore_info info;
	struct err ce = {0};
	cc->core = c;
	cc->info = &info;
	int rc = c->fd >= 0 ? acore_read_fd(c->fd, &ao, &info, &ce)
			    : acore_read_stream(c->rd, c->rctx, &ao, &info, &ce);
	ayara_mem_free(cc->mem); /* its last window to the pool */
	cc->mem = NULL;
	cc->bytes_left -= info.bytes < cc->bytes_left ? info.bytes : cc->bytes_left;
	json_object_set_new(o, "comm", info.comm[0] ? bag_json_path(info.comm) : json_null());
	json_object_set_new(o, "core_pid", json_integer(info.pid));
	json_object_set_new(o, "threads", json_integer((json_int_t)info.nthreads));
	json_object_set_new(o, "regions", json_integer((json_int_t)info.nregions));
	json_object_set_new(o, "files", json_integer((json_int_t)info.nfile));
	json_object_set_new(o, "bytes_read", json_integer((json_int_t)info.bytes));
	json_object_set_new(o, "anon_elf", cc->anon_elf);
	json_object_set_new(o, "notes", info.notes ? json_incref(info.notes) : json_array());
	if (rc < 0) {
		char *msg = bag_path_json_encode(
		    cc->timed_out ? "the time bound for the cores was reached" : ce.msg);
		json_object_set_new(o, "error", bag_json_text(msg ? msg : "?"));
		add_note(cc->report, "'%s': %s", c->name, msg ? msg : "?");
		free(msg);
	}
	acore_info_free(&info);
	cc->anon_elf = NULL;
	return 0;
}

struct acores *acores_new(json_t *report, struct ayara_pool *pool)
{
	struct acores *cc = xcalloc(1, sizeof(*cc));
	cc->list = json_array();
	cc->report = report;
	cc->pool = pool;
	cc->bytes_left = AN_CORE_BYTES_MAX;
	cc->secs = pool ? AN_CORE_SECONDS_YARA : AN_CORE_SECONDS;
	cc->deadline = time_mono() + cc->secs;
	return cc;
}

void acores_finish(struct acores *cc)
{
	if (cc->timed_out)
		add_note(cc->report, "cores: reading stopped after %.0f s", cc->secs);
	json_t *an = json_object_get(cc->report, "analyses");
	if (json_is_object(an) && json_array_size(cc->list))
		json_object_set_new(an, "cores", cc->list);
	else
		json_decref(cc->list);
	free(cc);
}

/* report["analyses"]["cores"]: each core of the bag, read once; with a
 * pool, every region's bytes go to YARA too (yara.* findings) */
static void read_cores(struct abag *b, json_t *report, struct ayara_pool *pool)
{
	struct acores *cc = acores_new(report, pool);
	struct err e = {0};
	if (abag_cores(b, acores_one, cc, &e) < 0)
		add_note(report, "cores: %s", e.msg);
	acores_finish(cc);
}

/* ---- the sysroot: analyses.sysroot, with the gdb command per core ---- */

/* a word for a shell: as it is when it is only safe bytes, else in single
 * quotes ('\'' for a quote); NULL when it holds a control byte or a byte
 * past ASCII (it is printed to a terminal as it is) */
static char *shell_word(const char *s)
{
	bool plain = *s != 0;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			return NULL;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("/._-+,:=@", c)))
			plain = false;
	}
	if (plain)
		return xstrdup(s);
	struct sbuf b = SBUF_INIT;
	sbuf_addc(&b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sbuf_adds(&b, "'\\''");
		else
			sbuf_addc(&b, *p);
	}
	sbuf_addc(&b, '\'');
	return b.buf;
}

/* the process's executable (as the container saw it) for a pid, or NULL:
 * only a path of safe bytes (it comes from the container) */
static const char *core_exe(const json_t *report, json_int_t pid)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(report, "processes"), i, p)
	{
		if (json_integer_value(json_object_get(p, "pid")) != pid)
			continue;
		const char *exe = jstr(p, "exe");
		if (!exe || exe[0] != '/' || json_is_true(json_object_get(p, "exe_deleted")) ||
		    json_is_true(json_object_get(p, "exe_memfd")))
			return NULL;
		for (const char *c = exe; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || strchr("/._-+", *c)))
				return NULL;
		return strstr(exe, "/../") || strstr(exe, "/./") ? NULL : exe;
	}
	return NULL;
}

/* gdb -ex 'set sysroot DIR' -ex 'core-file CORE' DIR/EXE, one per core */
static json_t *gdb_commands(const json_t *report, const struct abag *b, const char *dir)
{
	json_t *out = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(report, "analyses"), "cores"), i, c)
	{
		const char *member = jstr(c, "member");
		json_int_t pid = json_integer_value(json_object_get(c, "pid"));
		if (!member)
			continue;
		_cleanup_free_ char *core =
		    b->is_dir ? xasprintf("%s/%s", b->path, member) : xstrdup(member);
		_cleanup_free_ char *a1 = xasprintf("set sysroot %s", dir);
		_cleanup_free_ char *a2 = xasprintf("core-file %s", core);
		const char *exe = core_exe(report, pid);
		_cleanup_free_ char *a3 = exe ? xasprintf("%s%s", dir, exe) : NULL;
		_cleanup_free_ char *w1 = shell_word(a1), *w2 = shell_word(a2);
		_cleanup_free_ char *w3 = a3 ? shell_word(a3) : NULL;
		if (!w1 || !w2)
			continue;
		char *line =
		    xasprintf("gdb -ex %s -ex %s%s%s", w1, w2, w3 ? " " : "", w3 ? w3 : "");
		json_array_append_new(out,
				      json_pack("{s:I,s:s,s:b,s:s}", "pid", pid, "core", member,
						"in_bag_tar", !b->is_dir, "command", line));
		free(line);
	}
	return out;
}

static int sysroot_section(json_t *report, struct aimg *img, struct abag *b,
			   const struct asysroot_opts *so, struct err *e)
{
	json_t *sec = NULL;
	int rc = asysroot_write(img, b, so, &sec, e);
	if (sec) {
		json_object_set_new(sec, "gdb", gdb_commands(report, b, so->dir));
		json_object_set_new(json_object_get(report, "analyses"), "sysroot", sec);
	}
	return rc;
}

static json_t *report_new(void)
{
	json_t *r = json_object();
	char now[64];
	time_rfc3339_ns(now, sizeof(now));
	json_object_set_new(r, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	json_object_set_new(r, "tool", json_string("contain " CONTAIN_VERSION));
	json_object_set_new(r, "generated", json_string(now));
	json_object_set_new(r, "bag", json_object());
	json_object_set_new(r, "container", json_object());
	json_object_set_new(r, "image", json_object());
	json_object_set_new(r, "diff", json_object());
	json_object_set_new(r, "findings", json_array());
	json_object_set_new(r, "summary", json_object());
	json_object_set_new(r, "processes", json_array());
	json_object_set_new(r, "network", json_object());
	json_object_set_new(r, "quarantine", json_array());
	json_object_set_new(r, "custody", json_array());
	json_object_set_new(r, "analyses", json_object());
	json_object_set_new(r, "notes", json_array());
	return r;
}

int analyze_run(const struct analyze_opts *o, json_t **report, char **out_dir_used, struct err *e)
{
	const char *fail_on = o->fail_on ? o->fail_on : "high";
	enum sev thr;
	*report = NULL;
	*out_dir_used = NULL;
	if (strcmp(fail_on, "none") != 0 && sev_parse(fail_on, &thr) < 0)
		return err_set(e, ERR_INVALID, "unknown severity '%s' for --fail-on", fail_on);
	if (!o->bag || !o->image)
		return err_set(e, ERR_INVALID, "a bag and an image are needed");
	if (o->out_dir && out_dir_check(o->out_dir, o->overwrite, e) < 0)
		return -1;
	if (o->sysroot.dir && asysroot_dir_check(o->sysroot.dir, e) < 0)
		return -1;

	json_t *r = report_new();
	*report = r;
	struct abag *b = NULL;
	struct aimg *img = NULL;
	struct aidx *bag_kept = NULL;
	char *dir = NULL;
	int dirfd = -1, rc = -1;
	struct abag_opts bo = {
	    .path = o->bag,
	    .pubkey = o->pubkey,
	    .force = o->force,
	    .stdin_fd = o->stdin_fd,
	};
	struct ayara *yara = NULL;
	if (!o->no_yara && ayara_open(&o->yara, &yara, e) < 0) {
		err_wrap(e, "yara rules");
		goto out;
	}
	if (abag_open(&bo, &b, e) < 0) {
		if (b && b->verify)
			json_object_set_new(r, "bag", bag_section(b));
		goto out;
	}
	dir = o->out_dir ? xstrdup(o->out_dir) : default_out_dir(b);
	if (!o->out_dir && out_dir_check(dir, o->overwrite, e) < 0)
		goto out;

	/* the image, picked by the digest the bag recorded */
	const char *recorded = first_str(b->image, "digest", b->info, "Contain-Image-Digest",
					 b->inspect, "image_digest");
	struct aimg_opts io = {.path = o->image,
			       .ref = o->image_ref,
			       .want_digest = recorded,
			       .keep_layers = o->sysroot.dir != NULL};
	if (aimg_open(&io, &img, e) < 0)
		goto out; /* its message names the image */
	json_object_set_new(r, "image", image_section(img, o->image, recorded));
	if (run_diff(b, img, r, &bag_kept, yara, e) < 0)
		goto out;
	analyze_bag_sections(r, b, img->idx, bag_kept);
	/* the cores and the pcaps read by this thread, scanned by the pool's */
	struct ayara_pool *pool = yara ? ayara_pool_new(yara, r, 0) : NULL;
	read_cores(b, r, pool);
	/* the pcaps: network.flows/dns/tls/http and the flow.* findings */
	struct err ne = {0};
	struct aflows_opts fo = {0};
	ayara_stream_opts(pool, &fo);
	if (analyze_network(r, b, &fo, &ne) < 0)
		add_note(r, "network: the pcaps: %s", ne.msg);
	ayara_pool_finish(pool);
	json_object_set_new(json_object_get(r, "analyses"), "yara",
			    yara ? ayara_section(yara)
				 : json_pack("{s:s}", "skipped", "--no-yara"));
	findings_rules(r, img->idx, bag_kept);
	findings_finish(r);
	summary_fail(r, fail_on);
	/* last: it applies the bag's layer onto img->idx */
	struct err se = {0};
	int src = o->sysroot.dir ? sysroot_section(r, img, b, &o->sysroot, &se) : 0;
	if (b->forced)
		*report = r = mark_unverified(r);

	dirfd = out_dir_open(dir, o->overwrite, e);
	if (dirfd < 0)
		goto out;
	if (write_reports(r, dirfd, e) < 0)
		goto out;
	if (src < 0) { /* the reports are written; the sysroot's error is the run's */
		*e = se;
		goto out;
	}
	rc = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	if (rc == 0)
		*out_dir_used = dir;
	else
		free(dir);
	if (bag_kept)
		aidx_free(bag_kept);
	if (img)
		aimg_free(img);
	ayara_free(yara);
	abag_free(b);
	return rc;
}

/* clang-format off */
/* findings: the finding model (findings_add, findings_finish) and the rules
 * over the report (findings_rules). One static table, rules[], holds every
 * rule: its id, default severity, MITRE ATT&CK technique, title, what it
 * looks at (each diff entry of some arrays, each process, the image) and a
 * match function that may raise or lower the severity, change the technique
 * and add evidence and detail. A later analysis (YARA, flows) adds its
 * findings with findings_add(); a new rule over the report is one row and
 * one function here. docs/findings.md holds the same table for the man page
 * (FINDINGS); keep both in step.
 *
 * Paths are container paths without the leading "/", in the report's JSON
 * form. "tmp dirs" are tmp/, var/tmp/, dev/shm/, run/shm/; a "hidden dir" is
 * any directory component starting with "."; "PATH dirs" are bin, sbin,
 * usr/bin, usr/sbin, usr/local/bin, usr/local/sbin.
 *
 * Rule ids (severity: the default, then what raises or lowers it):
 *
 * id                      severity                            ATT&CK
 *   when
 * fs.new-executable       high; critical in a tmp/hidden dir  T1105
 *   an ELF executable, PIE or shared object added, or put in place of an
 *   image entry that was not an executable, library or PATH entry
 * fs.new-script           high; medium without an x bit       T1059.004
 *   a file with a shebang added in a PATH, tmp or hidden dir
 * fs.dropped-file         low; medium with an x bit or in a   T1074.001
 *                         hidden dir under a tmp dir
 *   any other regular file added in a tmp or hidden dir (only when no other
 *   rule took the file)
 * fs.binary-replaced      high; critical when it now points   T1036
 *                         into a tmp or hidden dir
 *   an executable (x bit), library (*.so*) or PATH entry of the image with
 *   other content, turned into a symlink, or a symlink retargeted
 * fs.binary-deleted       medium                              T1070.004
 *   the same deleted (whiteout), or a PATH or lib dir deleted or made opaque
 *   over image entries
 * fs.setuid-added         critical; high when not owned by    T1548.001
 *                         root
 *   setuid bit added to a file, or a setuid file added
 * fs.setgid-added         high; medium when the group is not  T1548.001
 *                         root
 *   setgid bit added to a file, or a setgid file added
 * fs.caps-added           high; critical with a capability    T1548
 *                         that amounts to root
 *   file capabilities (security.capability) added or changed
 * fs.account-changed      medium; high: an account added or   T1098, T1136.001
 *                         changed, a member added to a        when an account
 *                         privileged group, the file deleted  is added
 *                         or shadow made world-readable;
 *                         critical: a new uid 0 account, an
 *                         empty password
 *   etc/passwd, shadow, group, gshadow added, changed or deleted: the lines
 *   added and removed (kept content of both sides; password hashes redacted)
 * fs.sudoers-changed      high; critical when a NOPASSWD      T1548.003
 *                         line is added
 *   etc/sudoers, etc/sudoers.d/ added or changed
 * fs.ld-preload           critical; high for ld.so.conf(.d)   T1574.006
 *   etc/ld.so.preload added or changed; etc/ld.so.conf(.d) added or changed
 * fs.cron-changed         high                                T1053.003
 *   etc/crontab, etc/anacrontab, etc/cron.{d,hourly,daily,weekly,monthly}/,
 *   etc/crontabs/, var/spool/cron/ added or changed
 * fs.ssh-authorized-keys  high                                T1098.004
 *   any .ssh/authorized_keys or authorized_keys2 added or changed
 * fs.sshd-config          medium; high when root login, empty T1098.004
 *                         passwords or key sources are set
 *   etc/ssh/sshd_config, etc/ssh/sshd_config.d/ added or changed
 * fs.shell-profile        medium                              T1546.004
 *   etc/profile, etc/profile.d/, bash.bashrc, bashrc, zsh files,
 *   environment, csh files; .bashrc, .profile, .bash_profile, .zshrc... of
 *   root/ or home/USER/ added or changed
 * fs.systemd-unit         medium                              T1543.002
 *   a systemd unit or enablement link (system or user) added or changed
 * fs.init-script          medium                              T1037.004
 *   etc/init.d/, etc/rc.local, etc/rc.d/, etc/rcN.d/, etc/inittab,
 *   etc/local.d/, etc/init/ added or changed
 * fs.package-db-changed   medium                              (none)
 *   dpkg status, apk installed or rpm db added, changed or deleted: the
 *   packages appeared, disappeared and version-changed (rpm: not named)
 * fs.shell-history        low                                 T1059.004
 *   a shell history file (.ash_history, .bash_history...) written
 * image.digest-mismatch   high                                (none)
 *   the bag recorded an image digest that is neither the manifest's nor the
 *   config's digest of the image given
 * image.digest-unknown    info                                (none)
 *   the bag recorded no image digest
 * image.incomplete        medium; high when a layer's digest  (none)
 *                         does not match
 *   a layer of the image was read only in part (bomb, cut tar, entry
 *   bound) or does not match its digest: the baseline is in doubt
 * proc.exe-memfd          critical                            T1620
 *   a process runs from a memfd (fileless)
 * proc.exe-deleted        high; medium when it is the image's T1070.004
 *                         own file (hash equal)
 *   a process's executable was deleted
 * proc.exe-not-in-image   high when added in the layer;       T1105
 *                         medium when in neither (a mount?);
 *                         low for pid 1 running sbin/docker-init
 *                         or dev/init (docker/podman --init)
 *   a process runs a file the image does not have
 * proc.exe-differs        high                                T1036
 *   a process's executable hash differs from the image's file at its path
 *   (links in the image followed)
 *
 * proc.shell-socket-stdio high; critical with stdin and      T1059
 *                         stdout or stderr on sockets
 *   a shell or interpreter (sh, bash, python*, perl, nc, socat...) whose
 *   stdin, stdout or stderr is a socket
 * proc.exe-in-tmp         high; critical in a hidden dir      T1105; T1564.001
 *   a process runs from a tmp dir or a hidden dir
 * proc.listener-undeclared medium; low on loopback only       T1571
 *   a TCP listener on a port the image config's ExposedPorts lacks
 * proc.caps-beyond-config high; critical with a root cap      T1548
 *   effective capabilities the container's OCI config does not grant
 * proc.name-mismatch      medium; high posing as a kernel     T1036; T1036.004
 *                         thread
 *   comm is neither the executable's name nor one of argv[0..3] (busybox
 *   and toybox applets excepted)
 * proc.traced            high; medium when the tracer is     T1055.008
 *                         outside the container
 *   a process is traced (TracerPid): a debugger, strace or ptrace injection
 * mem.anon-elf            critical                            T1620
 *   an ELF header at a page start of an executable mapping with no file
 *   (anon, heap, stack, memfd) in the process's core
 *
 * Process findings are one per executable (and severity), naming the pids;
 * their path is the executable's, without the leading "/".
 */
/* clang-format on */
#include <string.h>
#include <strings.h>

#include "contain/analyze.h"
#include "contain/bag.h"

/* ---- severities ---- */

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *sev_name(enum sev s)
{
	return (unsigned)s < ARRAY_SIZE(sev_names) ? sev_names[s] : "info";
}

int sev_parse(const char *s, enum sev *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(sev_names); i++)
		if (strcasecmp(s, sev_names[i]) == 0) {
			*out = (enum sev)i;
			return 0;
		}
	return -1;
}

/* ---- the finding model ---- */

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

void findings_add(json_t *report, const char *id, enum sev sev, const char *title,
		  const char *attack, const char *path, json_t *evidence, const char *detail)
{
	if (!json_is_object(report) || !id) {
		json_decref(evidence);
		return;
	}
	json_t *arr = json_object_get(report, "findings");
	if (!json_is_array(arr)) {
		arr = json_array();
		json_object_set_new(report, "findings", arr);
	}
	json_t *f = json_object();
	json_object_set_new(f, "id", bag_json_text(id));
	json_object_set_new(f, "severity", json_string(sev_name(sev)));
	json_object_set_new(f, "title", bag_json_text(title ? title : id));
	json_object_set_new(f, "attack", bag_json_text(attack));
	json_object_set_new(f, "path", bag_json_text(path));
	if (json_is_object(evidence))
		json_object_set_new(f, "evidence", evidence);
	else if (evidence)
		json_object_set_new(f, "evidence", json_pack("{s:o}", "value", evidence));
	else
		json_object_set_new(f, "evidence", json_object());
	json_object_set_new(f, "detail", bag_json_text(detail));
	json_array_append_new(arr, f);
}

static int sev_rank(const json_t *f)
{
	enum sev s;
	return sev_parse(jstr(f, "severity"), &s) == 0 ? (int)s : -1;
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0; /* no path first */
	return strcmp(a, b);
}

static int finding_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	int ra = sev_rank(a), rb = sev_rank(b);
	if (ra != rb)
		return rb - ra; /* critical first */
	int c = strcmp_null(jstr(a, "path"), jstr(b, "path"));
	if (c)
		return c;
	c = strcmp_null(jstr(a, "id"), jstr(b, "id"));
	if (c)
		return c;
	return strcmp_null(jstr(a, "detail"), jstr(b, "detail")); /* a stable order */
}

/* One rule's findings past this many (most severe first) are one finding
 * "N more": a layer of a million files dropped in /tmp must not make a
 * million findings (memory, and a report nobody reads). */
#define FINDINGS_PER_ID_MAX 1000u

/* sorted, deduplicated, each id bounded; *not_listed gets {id: count} */
static size_t findings_select(json_t **v, size_t n, json_t *not_listed, json_t ***outv)
{
	json_t *seen = json_object(), *per_id = json_object(), *worst_cut = json_object();
	json_t **keep = xcalloc(n + 1, sizeof(*keep));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *f = v[i];
		const char *id = jstr(f, "id");
		const char *path = jstr(f, "path");
		_cleanup_free_ char *key = xasprintf("%s\x1f%s", id ? id : "", path ? path : "");
		const char *idk = id ? id : "";
		json_t *carried = json_object_get(json_object_get(f, "evidence"), "not_listed");
		bool carrier = json_is_object(f) && !path && json_is_integer(carried);
		if (!json_is_object(f) || (!carrier && json_object_get(seen, key))) {
			json_decref(f); /* the same (id, path) again: the worst one is kept */
			continue;
		}
		json_int_t c = json_integer_value(json_object_get(per_id, idk));
		if (carrier || c >= (json_int_t)FINDINGS_PER_ID_MAX) {
			/* left out here, or already by the rules (a carrier: "N more") */
			json_int_t more = carrier ? json_integer_value(carried) : 1;
			json_object_set_new(
			    not_listed, idk,
			    json_integer(json_integer_value(json_object_get(not_listed, idk)) +
					 more));
			json_t *w = json_object_get(worst_cut, idk);
			if (!w || sev_rank(f) > sev_rank(w))
				json_object_set(worst_cut, idk, f);
			json_decref(f);
			continue;
		}
		json_object_set_new(seen, key, json_true());
		json_object_set_new(per_id, idk, json_integer(c + 1));
		keep[k++] = f;
	}
	/* one finding per id for the ones left out */
	const char *id;
	json_t *cnt;
	size_t extra = json_object_size(not_listed);
	keep = xreallocarray(keep, k + extra + 1, sizeof(*keep));
	json_object_foreach(not_listed, id, cnt)
	{
		json_t *w = json_object_get(worst_cut, id);
		enum sev sv = SEV_INFO;
		sev_parse(jstr(w, "severity"), &sv);
		_cleanup_free_ char *d =
		    xasprintf("%lld more findings of this rule not listed (at most %u per rule, "
			      "the most severe "
			      "first); the diff lists every entry",
			      (long long)json_integer_value(cnt), FINDINGS_PER_ID_MAX);
		json_t *tmp = json_object();
		findings_add(tmp, id, sv, jstr(w, "title"), jstr(w, "attack"), NULL,
			     json_pack("{s:I}", "not_listed", json_integer_value(cnt)), d);
		keep[k++] = json_incref(json_array_get(json_object_get(tmp, "findings"), 0));
		json_decref(tmp);
	}
	qsort(keep, k, sizeof(*keep), finding_cmp);
	json_decref(seen);
	json_decref(per_id);
	json_decref(worst_cut);
	*outv = keep;
	return k;
}

void findings_finish(json_t *report)
{
	if (!json_is_object(report))
		return;
	json_t *arr = json_object_get(report, "findings");
	size_t n = json_array_size(arr);
	_cleanup_free_ json_t **v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), finding_cmp);
	json_t *not_listed = json_object();
	_cleanup_free_ json_t **keep = NULL;
	size_t k = findings_select(v, n, not_listed, &keep);

	json_t *out = json_array();
	json_t *ids = json_object();
	size_t counts[ARRAY_SIZE(sev_names)] = {0};
	int worst = -1;
	for (size_t i = 0; i < k; i++) {
		json_t *f = keep[i];
		const char *id = jstr(f, "id");
		int r = sev_rank(f);
		if (r >= 0) {
			counts[r]++;
			if (r > worst)
				worst = r;
		}
		if (id)
			json_object_set_new(
			    ids, id,
			    json_integer(json_integer_value(json_object_get(ids, id)) + 1));
		json_array_append_new(out, f);
	}
	json_object_set_new(report, "findings", out);

	json_t *sum = json_object_get(report, "summary");
	if (!json_is_object(sum)) {
		sum = json_object();
		json_object_set_new(report, "summary", sum);
	}
	json_t *c = json_object();
	for (size_t i = ARRAY_SIZE(sev_names); i-- > 0;)
		json_object_set_new(c, sev_names[i], json_integer((json_int_t)counts[i]));
	json_object_set_new(sum, "counts", c);
	json_object_set_new(sum, "total", json_integer((json_int_t)k));
	json_object_set_new(sum, "worst", worst >= 0 ? json_string(sev_names[worst]) : json_null());
	const char *verdict = worst >= SEV_HIGH	    ? "compromised"
			      : worst == SEV_MEDIUM ? "suspicious"
						    : "clean";
	json_object_set_new(sum, "verdict", json_string(verdict));
	json_object_set_new(sum, "ids", ids);
	json_object_set_new(sum, "not_listed", not_listed);
	/* fail_on is the caller's (--fail-on); when it set it already, failed follows */
	enum sev fo;
	if (sev_parse(jstr(sum, "fail_on"), &fo) == 0)
		json_object_set_new(sum, "failed", json_boolean(worst >= (int)fo));
}

/* ---- paths ---- */

/* p is dir itself (when self) or below it */
static bool under(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(p, dir, n) == 0 && p[n] == '/' && p[n + 1];
}

static bool under_any(const char *p, const char *const *dirs)
{
	for (; *dirs; dirs++)
		if (under(p, *dirs))
			return true;
	return false;
}

static const char *const tmp_dirs[] = {"tmp", "var/tmp", "dev/shm", "run/shm", NULL};
static const char *const path_dirs[] = {"bin",		 "sbin",	   "usr/bin", "usr/sbin",
					"usr/local/bin", "usr/local/sbin", NULL};
static const char *const lib_dirs[] = {"lib",	    "lib32",	 "lib64",	  "usr/lib",
				       "usr/lib32", "usr/lib64", "usr/local/lib", NULL};

static bool in_tmp(const char *p)
{
	return under_any(p, tmp_dirs);
}

/* a directory component (not the last one) starts with "." */
static bool in_hidden_dir(const char *p)
{
	const char *slash;
	for (const char *c = p; (slash = strchr(c, '/')); c = slash + 1)
		if (c[0] == '.')
			return true;
	return false;
}

static bool is_one_of(const char *p, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(p, *list) == 0)
			return true;
	return false;
}

/* directly in dir: "dir/name" */
static bool directly_in(const char *p, const char *const *dirs)
{
	const char *slash = strrchr(p, '/');
	if (!slash || !slash[1])
		return false;
	for (; *dirs; dirs++) {
		size_t n = strlen(*dirs);
		if ((size_t)(slash - p) == n && strncmp(p, *dirs, n) == 0)
			return true;
	}
	return false;
}

static bool in_path_dir(const char *p)
{
	return directly_in(p, path_dirs);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* libfoo.so, libfoo.so.6, libfoo.so.6.0.1 */
static bool is_library(const char *p)
{
	const char *b = base_name(p);
	const char *so = strstr(b, ".so");
	while (so) {
		if (so[3] == '\0' || so[3] == '.')
			return so != b;
		so = strstr(so + 1, ".so");
	}
	return false;
}

static bool parse_octal_mode(const char *s, uint32_t *out)
{
	if (!s || !*s || strlen(s) > 6)
		return false;
	uint32_t m = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return false;
		m = m * 8 + (uint32_t)(*s - '0');
	}
	if (m > 07777)
		return false;
	*out = m;
	return true;
}

/* ---- what a rule sees ---- */

enum {
	DK_ADDED = 1u << 0,
	DK_MODIFIED = 1u << 1,
	DK_METADATA = 1u << 2,
	DK_DELETED = 1u << 3,
	DK_OPAQUE = 1u << 4,
};
static const struct {
	const char *name;
	unsigned bit;
} diff_kinds[] = {
    {"added", DK_ADDED},     {"modified", DK_MODIFIED}, {"metadata", DK_METADATA},
    {"deleted", DK_DELETED}, {"opaque", DK_OPAQUE},
};

/* one diff entry */
struct fctx {
	json_t *report;
	const struct aidx *img, *bag_kept;
	json_t *copies; /* sha256 hex -> the image path (JSON form) with that content */
	struct emitter *em;
	unsigned kind; /* DK_* */
	json_t *ent;
	const char *path; /* JSON form (the report's) */
	const char *raw;  /* decoded, for the indexes */
	const char *type; /* the layer's type, or NULL */
	bool has_mode;
	uint32_t mode;
};

/* one process of report["processes"] */
struct pctx {
	json_t *report;
	const struct aidx *img;
	json_t *copies;	 /* as in fctx */
	json_t *diffidx; /* path (JSON form) -> {kind, entry} */
	long long pid;
	const char *comm;
	const char *exe; /* as recorded */
	char *rel;	 /* container-relative path, " (deleted)" cut, \xNN decoded */
	char *rel_json;	 /* the same in the report's JSON form */
	char *where;	 /* no rel (memfd...): what the finding's path is */
	bool deleted, memfd;
	bool init;	    /* the container's pid 1 */
	const char *sha256; /* NULL when not hashed whole */
	bool in_image;	    /* a regular file of the image at rel (links followed) */
	bool img_has_sha;
	char img_sha[65];
	const char *layer_kind; /* "added", "modified", "deleted"... at rel_json, or NULL */
	json_t *layer_ent;
	json_t *proc; /* the process's object (the report's summary or the tree's form) */
};

/* what a match found: starts at the rule's defaults */
struct fhit {
	enum sev sev;
	const char *attack;
	const char *title; /* a static string, or NULL: the rule's */
	json_t *evidence;  /* an object (file rules: member and hashes preset) */
	struct sbuf detail;
};

enum rule_scope { RS_FILE, RS_PROC, RS_IMAGE };
#define RF_FALLBACK 1u /* a file rule that fires only when no other took the entry */

struct rule {
	const char *id;
	enum sev sev;
	const char *attack;
	const char *title;
	enum rule_scope scope;
	unsigned kinds; /* RS_FILE: DK_* of the diff arrays it reads */
	unsigned flags;
	bool (*file)(const struct fctx *c, struct fhit *h);
	bool (*proc)(const struct pctx *p, struct fhit *h);
	bool (*image)(json_t *report, struct fhit *h);
};

static bool is_type(const struct fctx *c, const char *t)
{
	return c->type && strcmp(c->type, t) == 0;
}

static bool has_change(const struct fctx *c, const char *what)
{
	json_t *ch = json_object_get(c->ent, "changes"), *v;
	size_t i;
	json_array_foreach(ch, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), what) == 0)
			return true;
	}
	return false;
}

/* the hit's evidence object, made on first use (most rules do not match
 * most entries: no object for them) */
static json_t *hev(struct fhit *h)
{
	if (!h->evidence)
		h->evidence = json_object();
	return h->evidence;
}

static void sev_raise(struct fhit *h, enum sev s)
{
	if (s > h->sev)
		h->sev = s;
}

static void detail_sep(struct fhit *h)
{
	if (h->detail.len)
		sbuf_adds(&h->detail, "; ");
}

/* The image's entry at the diff entry's path (false: no image or absent). */
static bool image_entry(const struct fctx *c, struct aidx_entry *out)
{
	if (!c->img || !c->raw)
		return false;
	aidx_id id = aidx_lookup(c->img, c->raw);
	if (id == AIDX_NONE)
		return false;
	aidx_get(c->img, id, out);
	return true;
}

static const void *kept_of(const struct aidx *x, const char *raw, size_t *n, bool *trunc)
{
	if (!x || !raw)
		return NULL;
	aidx_id id = aidx_lookup(x, raw);
	if (id == AIDX_NONE)
		return NULL;
	return aidx_kept(x, id, n, trunc);
}

/* ---- lines of kept text (passwd, sudoers, authorized_keys...) ---- */

#define LINES_MAX      200000u /* lines of one kept file compared */
#define LINES_SHOWN    20u     /* lines named in a detail */
#define LINES_EVIDENCE 100u    /* lines listed in the evidence */
#define LINE_SHOWN_MAX 200u    /* bytes of a line shown */
#define SEMANTIC_MAX   1000u   /* added lines looked into (accounts) */

struct line {
	const char *s;
	size_t n;
};

struct lines {
	struct line *v;
	size_t n;
	bool cut;
};

/* non-empty lines, CR cut */
static void lines_split(const char *buf, size_t len, struct lines *l)
{
	size_t cap = 0;
	l->v = NULL;
	l->n = 0;
	l->cut = false;
	size_t off = 0, n;
	const char *s;
	while ((s = str_line_next(buf, len, &off, &n, NULL))) {
		if (!n)
			continue;
		if (l->n >= LINES_MAX) {
			l->cut = true;
			break;
		}
		xgrow(&l->v, &cap, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = (struct line){s, n};
	}
}

static int line_cmp(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;
	size_t m = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->s, b->s, m);
	if (c)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* A sorted copy for lookups. */
static struct line *lines_sorted(const struct lines *l)
{
	struct line *v = xcalloc(l->n ? l->n : 1, sizeof(*v));
	if (l->n)
		memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), line_cmp);
	return v;
}

static bool lines_has(const struct line *sorted, size_t n, const struct line *x)
{
	return n && bsearch(x, sorted, n, sizeof(*sorted), line_cmp) != NULL;
}

/* Field k (0-based) of a ":"-separated line. */
static struct line field(const struct line *l, unsigned k)
{
	const char *s = l->s, *end = l->s + l->n;
	for (unsigned i = 0; i < k; i++) {
		const char *c = memchr(s, ':', (size_t)(end - s));
		if (!c)
			return (struct line){end, 0};
		s = c + 1;
	}
	const char *c = memchr(s, ':', (size_t)(end - s));
	return (struct line){s, c ? (size_t)(c - s) : (size_t)(end - s)};
}

static bool line_eq(struct line l, const char *s)
{
	return l.n == strlen(s) && memcmp(l.s, s, l.n) == 0;
}

/* The JSON form of attacker bytes (the bag's encoder: invalid UTF-8 and
 * "%" percent-encoded), control bytes (NUL, ESC, CR...) percent-encoded too
 * so a detail is safe on a terminal; cut at max bytes. */
static char *line_json(const char *s, size_t n, size_t max)
{
	bool cut = n > max;
	if (cut)
		n = max;
	struct sbuf b = SBUF_INIT;
	sbuf_add(&b, "", 0);
	size_t i = 0;
	while (i < n) {
		size_t seg = 0;
		while (i + seg < n && (unsigned char)s[i + seg] >= 0x20 && s[i + seg] != 0x7f)
			seg++;
		if (seg) {
			_cleanup_free_ char *tmp = xstrndup(s + i, seg);
			_cleanup_free_ char *enc = bag_path_json_encode(tmp);
			sbuf_adds(&b, enc ? enc : "");
			i += seg;
		} else {
			sbuf_printf(&b, "%%%02X", (unsigned char)s[i]);
			i++;
		}
	}
	if (cut)
		sbuf_adds(&b, "...");
	return sbuf_steal(&b);
}

/* how a line is shown: as is, or with a secret field redacted */
typedef char *line_show_fn(const struct line *l);

static char *show_plain(const struct line *l)
{
	return line_json(l->s, l->n, LINE_SHOWN_MAX);
}

/* shadow, gshadow: a hash in field 1 becomes "<hash $6$>" ("<hash !$6$>"
 * for a locked one); "", "*", "!", "!!", "!*", "x" are shown as they are */
static char *show_shadow(const struct line *l)
{
	struct line pw = field(l, 1);
	if (pw.s >= l->s + l->n || line_eq(pw, "") || line_eq(pw, "*") || line_eq(pw, "!") ||
	    line_eq(pw, "!!") || line_eq(pw, "!*") || line_eq(pw, "x"))
		return show_plain(l);
	struct sbuf b = SBUF_INIT;
	sbuf_add(&b, l->s, (size_t)(pw.s - l->s));
	sbuf_adds(&b, "<hash");
	size_t bang = 0;
	while (bang < pw.n && pw.s[bang] == '!')
		bang++;
	if (bang < pw.n && pw.s[bang] == '$') {
		const char *d = memchr(pw.s + bang + 1, '$', pw.n - bang - 1);
		if (d && d - pw.s < 16) {
			sbuf_addc(&b, ' ');
			sbuf_add(&b, pw.s, (size_t)(d - pw.s) + 1);
		}
	}
	sbuf_addc(&b, '>');
	sbuf_add(&b, pw.s + pw.n, (size_t)(l->s + l->n - (pw.s + pw.n)));
	char *r = line_json(b.buf, b.len, LINE_SHOWN_MAX);
	sbuf_free(&b);
	return r;
}

/* The lines of a kept file on both sides: added (in the new, not the old)
 * and removed, in file order. */
struct ldiff {
	bool known; /* both sides' content was at hand */
	bool truncated;
	struct lines oldl, newl;
	struct line *olds, *news; /* sorted */
	struct line *added, *removed;
	size_t nadded, nremoved;
};

static void ldiff_free(struct ldiff *d)
{
	free(d->oldl.v);
	free(d->newl.v);
	free(d->olds);
	free(d->news);
	free(d->added);
	free(d->removed);
}

static void ldiff_make(const struct fctx *c, struct ldiff *d)
{
	memset(d, 0, sizeof(*d));
	const char *ob = NULL, *nb = NULL;
	size_t on = 0, nn = 0;
	bool ot = false, nt = false, okn = true, nkn = true;
	if (c->kind != DK_ADDED) {
		ob = kept_of(c->img, c->raw, &on, &ot);
		okn = ob != NULL;
	}
	if (c->kind != DK_DELETED) {
		nb = kept_of(c->bag_kept, c->raw, &nn, &nt);
		nkn = nb != NULL;
	}
	d->known = okn && nkn;
	d->truncated = ot || nt;
	if (!d->known)
		return;
	lines_split(ob ? ob : "", on, &d->oldl);
	lines_split(nb ? nb : "", nn, &d->newl);
	d->truncated |= d->oldl.cut || d->newl.cut;
	d->olds = lines_sorted(&d->oldl);
	d->news = lines_sorted(&d->newl);
	d->added = xcalloc(d->newl.n ? d->newl.n : 1, sizeof(struct line));
	d->removed = xcalloc(d->oldl.n ? d->oldl.n : 1, sizeof(struct line));
	for (size_t i = 0; i < d->newl.n; i++)
		if (!lines_has(d->olds, d->oldl.n, &d->newl.v[i]))
			d->added[d->nadded++] = d->newl.v[i];
	for (size_t i = 0; i < d->oldl.n; i++)
		if (!lines_has(d->news, d->newl.n, &d->oldl.v[i]))
			d->removed[d->nremoved++] = d->oldl.v[i];
}

static void lines_out(struct fhit *h, const char *what, const struct line *v, size_t n,
		      line_show_fn *show)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < LINES_EVIDENCE; i++) {
		_cleanup_free_ char *s = show(&v[i]);
		json_array_append_new(arr, bag_json_text(s));
	}
	char key[64];
	snprintf(key, sizeof(key), "lines_%s", what);
	json_object_set_new(hev(h), key, arr);
	snprintf(key, sizeof(key), "lines_%s_count", what);
	json_object_set_new(hev(h), key, json_integer((json_int_t)n));
	if (!n)
		return;
	detail_sep(h);
	sbuf_printf(&h->detail, "%zu line%s %s:", n, n == 1 ? "" : "s", what);
	for (size_t i = 0; i < n && i < LINES_SHOWN; i++) {
		_cleanup_free_ char *s = show(&v[i]);
		sbuf_printf(&h->detail, " '%s'", s);
	}
	if (n > LINES_SHOWN)
		sbuf_printf(&h->detail, " (and %zu more)", n - LINES_SHOWN);
}

/* The lines added and removed in detail and evidence; or why not. */
static void ldiff_describe(const struct fctx *c, struct fhit *h, const struct ldiff *d,
			   line_show_fn *show)
{
	if (!d->known) {
		detail_sep(h);
		sbuf_adds(&h->detail, "content not kept on both sides: lines not compared");
		if (!c->img && c->kind != DK_ADDED)
			sbuf_adds(&h->detail, " (no image)");
		return;
	}
	lines_out(h, "added", d->added, d->nadded, show);
	lines_out(h, "removed", d->removed, d->nremoved, show);
	if (!d->nadded && !d->nremoved) {
		detail_sep(h);
		sbuf_adds(&h->detail, "the same lines (order, blank lines or line ends differ)");
	}
	if (d->truncated) {
		detail_sep(h);
		sbuf_adds(&h->detail, "content truncated: lines past the limit not compared");
	}
}

/* ---- copies of the image's files ---- */

#define COPIES_WANT_MAX 100000u /* hashes looked for in the image */

/* the content of an empty file: shared by too many files to mean a copy */
static const char sha_empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void want_sha(json_t *want, const char *sha)
{
	if (sha && strlen(sha) == 64 && is_hex_string(sha) && strcmp(sha, sha_empty) != 0 &&
	    json_object_size(want) < COPIES_WANT_MAX)
		json_object_set_new(want, sha, json_null());
}

/* The hashes to look for: the processes' executables and the files added
 * in the layer; then one walk of the image finds the first path of each
 * (a copy of busybox as /tmp/.x/sleep is a renamed system utility). */
static json_t *image_copies(json_t *report, const struct aidx *img)
{
	json_t *want = json_object();
	if (!img)
		return want;
	json_t *v;
	size_t i;
	json_t *diff = json_object_get(report, "diff");
	json_array_foreach(json_object_get(diff, "added"), i, v)
	{
		want_sha(want, jstr(v, "sha256"));
	}
	json_array_foreach(json_object_get(diff, "modified"), i, v)
	{
		want_sha(want, jstr(v, "sha256"));
	}
	json_t *procs = json_object_get(report, "processes");
	if (json_is_object(procs))
		procs = json_object_get(procs, "pids");
	json_array_foreach(procs, i, v)
	{
		json_t *exe = json_object_get(v, "exe");
		want_sha(want, json_is_object(exe) ? jstr(exe, "sha256") : jstr(v, "exe_sha256"));
	}
	if (!json_object_size(want))
		return want;
	size_t cap = 0, n = 0;
	aidx_id *stack = NULL;
	xgrow(&stack, &cap, 1, sizeof(*stack));
	stack[n++] = AIDX_ROOT;
	while (n) {
		aidx_id dir = stack[--n];
		for (aidx_id c = aidx_first_child(img, dir); c != AIDX_NONE;
		     c = aidx_next_sibling(img, c)) {
			struct aidx_entry e;
			aidx_get(img, c, &e);
			if (e.type == AENT_DIR) {
				xgrow(&stack, &cap, n + 1, sizeof(*stack));
				stack[n++] = c;
				continue;
			}
			if (e.type != AENT_FILE || !e.has_sha256)
				continue;
			char hex[65];
			hex_encode(e.sha256, 32, hex);
			json_t *slot = json_object_get(want, hex);
			if (!slot || !json_is_null(slot))
				continue;
			char path[AN_PATH_MAX];
			if (aidx_path(img, c, path, sizeof(path)) >= sizeof(path))
				continue;
			_cleanup_free_ char *pj = bag_path_json_encode(path);
			json_object_set_new(want, hex, json_string(pj));
		}
	}
	free(stack);
	return want;
}

/* "a copy of the image's 'bin/busybox'" when sha is an image file's content
 * at another path */
static void copy_detail(json_t *copies, const char *sha, const char *self, struct fhit *h)
{
	const char *orig = sha ? jstr(copies, sha) : NULL;
	if (!orig || (self && strcmp(orig, self) == 0))
		return;
	detail_sep(h);
	sbuf_printf(&h->detail, "the same content as the image's '%s' (a renamed copy)", orig);
	json_object_set_new(hev(h), "image_copy_of", json_string(orig));
}

/* ---- file rules ---- */

static bool image_binary(const struct fctx *c, const char *itype, uint32_t imode, bool has_imode);
static void image_side(const struct fctx *c, const char **itype, uint32_t *imode, bool *has_imode,
		       char **ilink);

static bool m_new_executable(const struct fctx *c, struct fhit *h)
{
	if (!is_type(c, "file"))
		return false;
	if (c->kind == DK_MODIFIED) {
		/* an executable, library or PATH entry replaced: fs.binary-replaced;
		 * anything else that became an ELF (a data file, a dir) is new */
		const char *itype;
		_cleanup_free_ char *ilink = NULL;
		uint32_t imode = 0;
		bool has_imode;
		image_side(c, &itype, &imode, &has_imode, &ilink);
		if (image_binary(c, itype, imode, has_imode))
			return false;
		if (itype)
			sbuf_printf(&h->detail, "replaces the image's %s; ", itype);
	}
	json_t *elf = json_object_get(c->ent, "elf");
	const char *t = jstr(elf, "type");
	if (!t || (strcmp(t, "exec") && strcmp(t, "pie executable") && strcmp(t, "shared object")))
		return false;
	if (in_tmp(c->path) || in_hidden_dir(c->path)) {
		sev_raise(h, SEV_CRITICAL);
		sbuf_printf(&h->detail, "in a %s directory; ",
			    in_tmp(c->path) ? "temporary" : "hidden");
	}
	const char *cls = jstr(elf, "class"), *mach = jstr(elf, "machine");
	const char *link = jstr(elf, "linkage"), *interp = jstr(elf, "interpreter");
	sbuf_printf(&h->detail, "%s%s%s %s", cls ? cls : "ELF", mach ? " " : "", mach ? mach : "",
		    t);
	if (link)
		sbuf_printf(&h->detail, ", %s", link);
	if (interp)
		sbuf_printf(&h->detail, ", interpreter %s", interp);
	json_t *st = json_object_get(elf, "stripped");
	if (json_is_boolean(st))
		sbuf_adds(&h->detail, json_is_true(st) ? ", stripped" : ", not stripped");
	if (c->has_mode)
		sbuf_printf(&h->detail, ", mode %04o", c->mode);
	json_object_set(hev(h), "elf", elf);
	copy_detail(c->copies, jstr(c->ent, "sha256"), c->path, h);
	return true;
}

static bool m_new_script(const struct fctx *c, struct fhit *h)
{
	const char *sb = jstr(c->ent, "shebang");
	if (!is_type(c, "file") || !sb)
		return false;
	const char *where = in_tmp(c->path)	     ? "a temporary directory"
			    : in_hidden_dir(c->path) ? "a hidden directory"
			    : in_path_dir(c->path)   ? "a PATH directory"
						     : NULL;
	if (!where)
		return false;
	bool x = c->has_mode && (c->mode & 0111);
	h->sev = x ? SEV_HIGH : SEV_MEDIUM;
	sbuf_printf(&h->detail, "script for '%s' in %s, %s", sb, where,
		    x ? "executable" : "not executable");
	json_object_set_new(hev(h), "shebang", bag_json_text(sb));
	copy_detail(c->copies, jstr(c->ent, "sha256"), c->path, h);
	return true;
}

static bool m_dropped_file(const struct fctx *c, struct fhit *h)
{
	if (!is_type(c, "file"))
		return false;
	bool tmp = in_tmp(c->path), hid = in_hidden_dir(c->path);
	if (!tmp && !hid)
		return false;
	bool x = c->has_mode && (c->mode & 0111);
	if (x || (tmp && hid))
		sev_raise(h, SEV_MEDIUM);
	sbuf_printf(&h->detail, "in a %s directory",
		    tmp && hid ? "hidden temporary"
		    : tmp      ? "temporary"
			       : "hidden");
	const char *mime = jstr(c->ent, "mime"), *magic = jstr(c->ent, "magic");
	if (mime)
		sbuf_printf(&h->detail, ", %s", mime);
	if (magic)
		sbuf_printf(&h->detail, " (%s)", magic);
	json_t *sz = json_object_get(c->ent, "size");
	if (json_is_integer(sz))
		sbuf_printf(&h->detail, ", %lld bytes", (long long)json_integer_value(sz));
	if (x)
		sbuf_printf(&h->detail, ", executable (mode %04o)", c->mode);
	copy_detail(c->copies, jstr(c->ent, "sha256"), c->path, h);
	return true;
}

/* Was the path an executable, library or PATH entry in the image? */
static bool image_binary(const struct fctx *c, const char *itype, uint32_t imode, bool has_imode)
{
	if (is_library(c->path))
		return true;
	if (in_path_dir(c->path) && itype &&
	    (strcmp(itype, "file") == 0 || strcmp(itype, "symlink") == 0))
		return true;
	return itype && strcmp(itype, "file") == 0 && has_imode && (imode & 0111);
}

/* the image side of an entry: from the index, else the entry's image_*
 * fields; *ilink (JSON form, allocated) the image's link target or NULL */
static void image_side(const struct fctx *c, const char **itype, uint32_t *imode, bool *has_imode,
		       char **ilink)
{
	struct aidx_entry ie;
	*itype = jstr(c->ent, "image_type");
	*has_imode = parse_octal_mode(jstr(c->ent, "image_mode"), imode);
	const char *jl = jstr(c->ent, "image_link_target");
	*ilink = jl ? xstrdup(jl) : NULL;
	if (image_entry(c, &ie)) {
		*itype = aent_type_name(ie.type);
		*imode = ie.mode;
		*has_imode = true;
		if (ie.link_target && !*ilink)
			*ilink = line_json(ie.link_target, strlen(ie.link_target), AN_PATH_MAX);
	}
	if (!*itype && c->kind == DK_METADATA)
		*itype = c->type; /* metadata: the type did not change */
	if (!*has_imode && c->kind == DK_METADATA)
		*has_imode = parse_octal_mode(jstr(c->ent, "mode"), imode);
}

static bool norm_dots(const char *in, char *out);

/* a link target (absolute, or relative to the link's dir) lands in a tmp or
 * hidden dir, or on a hidden file */
static bool target_suspect(const char *linkpath, const char *target)
{
	if (!target || !*target)
		return false;
	struct sbuf b = SBUF_INIT;
	if (target[0] != '/') {
		const char *slash = strrchr(linkpath, '/');
		if (slash)
			sbuf_add(&b, linkpath, (size_t)(slash - linkpath) + 1);
	}
	sbuf_adds(&b, target);
	char norm[AN_PATH_MAX];
	bool ok = norm_dots(b.buf, norm);
	sbuf_free(&b);
	if (!ok)
		return false;
	return in_tmp(norm) || in_hidden_dir(norm) || base_name(norm)[0] == '.';
}

static bool m_binary_replaced(const struct fctx *c, struct fhit *h)
{
	const char *itype;
	_cleanup_free_ char *ilink_s = NULL;
	uint32_t imode = 0;
	bool has_imode;
	image_side(c, &itype, &imode, &has_imode, &ilink_s);
	if (!itype)
		return false;
	const char *link = jstr(c->ent, "link_target");
	if (c->kind == DK_METADATA) {
		if (!has_change(c, "link-target") || !is_type(c, "symlink") ||
		    !(in_path_dir(c->path) || is_library(c->path)))
			return false;
		sbuf_printf(&h->detail, "symlink retargeted: '%s' -> '%s'", ilink_s ? ilink_s : "?",
			    link ? link : "?");
	} else {
		if (!image_binary(c, itype, imode, has_imode))
			return false;
		if (is_type(c, "symlink")) {
			sbuf_printf(&h->detail, "now a symlink to '%s' (the image had a %s",
				    link ? link : "?", itype);
			if (ilink_s)
				sbuf_printf(&h->detail, " to '%s'", ilink_s);
			sbuf_addc(&h->detail, ')');
		} else {
			const char *sha = jstr(c->ent, "sha256"),
				   *isha = jstr(c->ent, "image_sha256");
			if (!is_type(c, "file"))
				sbuf_printf(&h->detail, "now a %s; ", c->type ? c->type : "?");
			sbuf_printf(&h->detail, "content replaced: sha256 %s, the image's %s",
				    sha ? sha : "?", itype);
			if (isha)
				sbuf_printf(&h->detail, " %s", isha);
			if (ilink_s)
				sbuf_printf(&h->detail, " (a symlink to '%s')", ilink_s);
			const char *t = jstr(json_object_get(c->ent, "elf"), "type");
			const char *mime = jstr(c->ent, "mime");
			if (t)
				sbuf_printf(&h->detail, "; now ELF %s", t);
			else if (mime)
				sbuf_printf(&h->detail, "; now %s", mime);
			json_object_set(hev(h), "elf", json_object_get(c->ent, "elf"));
			copy_detail(c->copies, sha, c->path, h);
		}
		if (has_imode)
			sbuf_printf(&h->detail, "; image mode %04o", imode);
	}
	if (link) {
		json_object_set_new(hev(h), "link_target", bag_json_text(link));
		if (target_suspect(c->path, link))
			sev_raise(h, SEV_CRITICAL);
	}
	if (ilink_s)
		json_object_set_new(hev(h), "image_link_target", bag_json_text(ilink_s));
	return true;
}

static bool is_bin_or_lib_dir(const char *p)
{
	return is_one_of(p, path_dirs) || is_one_of(p, lib_dirs);
}

static bool m_binary_deleted(const struct fctx *c, struct fhit *h)
{
	if (c->kind == DK_OPAQUE) {
		json_t *hid = json_object_get(c->ent, "hidden");
		if (!is_bin_or_lib_dir(c->path) || json_integer_value(hid) <= 0)
			return false;
		sbuf_printf(&h->detail, "directory made opaque: %lld image entries hidden",
			    (long long)json_integer_value(hid));
		json_t *s = json_object_get(c->ent, "hidden_sample"), *v;
		size_t i;
		size_t shown = 0;
		json_array_foreach(s, i, v)
		{
			if (shown >= 10)
				break;
			if (!json_is_string(v))
				continue;
			sbuf_printf(&h->detail, "%s'%s'", shown++ ? ", " : ", e.g. ",
				    json_string_value(v));
		}
		return true;
	}
	const char *itype;
	_cleanup_free_ char *ilink = NULL;
	uint32_t imode = 0;
	bool has_imode;
	image_side(c, &itype, &imode, &has_imode, &ilink);
	if (!itype)
		return false;
	if (strcmp(itype, "dir") == 0) {
		if (!is_bin_or_lib_dir(c->path))
			return false;
		sbuf_adds(&h->detail, "the image's directory deleted with everything under it");
		return true;
	}
	if (!image_binary(c, itype, imode, has_imode))
		return false;
	sbuf_printf(&h->detail, "the image's %s deleted (whiteout)", itype);
	if (has_imode)
		sbuf_printf(&h->detail, ", mode %04o", imode);
	const char *isha = jstr(c->ent, "image_sha256");
	if (isha)
		sbuf_printf(&h->detail, ", sha256 %s", isha);
	return true;
}

static long long int_or(const json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static bool special_bit_added(const struct fctx *c, uint32_t bit, const char *change)
{
	if (c->kind == DK_ADDED)
		return is_type(c, "file") && c->has_mode && (c->mode & bit);
	return !is_type(c, "dir") && has_change(c, change); /* on a dir: not a privilege */
}

static void mode_detail(const struct fctx *c, struct fhit *h)
{
	if (c->has_mode)
		sbuf_printf(&h->detail, "mode %04o", c->mode);
	const char *im = jstr(c->ent, "image_mode");
	if (im)
		sbuf_printf(&h->detail, " (image %s)", im);
	if (c->kind == DK_ADDED)
		sbuf_adds(&h->detail, ", a file the image does not have");
	long long uid = int_or(c->ent, "uid", -1), gid = int_or(c->ent, "gid", -1);
	sbuf_adds(&h->detail, ", owner ");
	if (uid >= 0)
		sbuf_printf(&h->detail, "%lld", uid);
	else
		sbuf_addc(&h->detail, '?');
	if (gid >= 0)
		sbuf_printf(&h->detail, ":%lld", gid);
	else
		sbuf_adds(&h->detail, ":?");
	if (in_tmp(c->path) || in_hidden_dir(c->path))
		sbuf_adds(&h->detail, ", in a temporary or hidden directory");
}

static bool m_setuid_added(const struct fctx *c, struct fhit *h)
{
	if (!special_bit_added(c, 04000, "setuid-added"))
		return false;
	if (int_or(c->ent, "uid", 0) != 0)
		h->sev = SEV_HIGH;
	mode_detail(c, h);
	return true;
}

static bool m_setgid_added(const struct fctx *c, struct fhit *h)
{
	if (!special_bit_added(c, 02000, "setgid-added") || is_type(c, "dir"))
		return false;
	if (int_or(c->ent, "gid", 0) != 0)
		h->sev = SEV_MEDIUM;
	mode_detail(c, h);
	return true;
}

/* capabilities that amount to root (capability(7)) */
static const struct {
	unsigned bit;
	const char *name;
} root_caps[] = {
    {0, "CAP_CHOWN"},	    {1, "CAP_DAC_OVERRIDE"}, {2, "CAP_DAC_READ_SEARCH"},
    {3, "CAP_FOWNER"},	    {6, "CAP_SETGID"},	     {7, "CAP_SETUID"},
    {16, "CAP_SYS_MODULE"}, {17, "CAP_SYS_RAWIO"},   {19, "CAP_SYS_PTRACE"},
    {21, "CAP_SYS_ADMIN"},  {27, "CAP_MKNOD"},
};

static bool m_caps_added(const struct fctx *c, struct fhit *h)
{
	const char *caps = jstr(c->ent, "caps");
	if (c->kind == DK_ADDED ? !caps
				: !(has_change(c, "caps-added") || has_change(c, "caps-changed")))
		return false;
	sbuf_printf(&h->detail, "security.capability %s", caps ? caps : "?");
	/* vfs_cap_data: magic_etc, then permitted[0], inheritable[0], permitted[1]... (le32) */
	unsigned char b[24];
	size_t n = caps ? strlen(caps) / 2 : 0;
	if (n >= 8 && n <= sizeof(b) && hex_decode(caps, b, n) == 0) {
		uint64_t perm = (uint64_t)b[4] | (uint64_t)b[5] << 8 | (uint64_t)b[6] << 16 |
				(uint64_t)b[7] << 24;
		if (n >= 16)
			perm |= ((uint64_t)b[12] | (uint64_t)b[13] << 8 | (uint64_t)b[14] << 16 |
				 (uint64_t)b[15] << 24)
				<< 32;
		sbuf_printf(&h->detail, ", permitted 0x%016llx", (unsigned long long)perm);
		for (size_t i = 0; i < ARRAY_SIZE(root_caps); i++)
			if (perm & (1ull << root_caps[i].bit)) {
				sev_raise(h, SEV_CRITICAL);
				sbuf_printf(&h->detail, " %s", root_caps[i].name);
			}
	}
	json_object_set_new(hev(h), "caps", bag_json_text(caps));
	return true;
}

/* ---- accounts ---- */

static const char *const account_files[] = {"etc/passwd", "etc/shadow", "etc/group", "etc/gshadow",
					    NULL};
static const char *const privileged_groups[] = {"root", "sudo",	  "wheel", "adm", "admin", "docker",
						"disk", "shadow", "lxd",   "kvm", NULL};

/* a sorted array of (name field, whole line) for lookups by name */
static int name_cmp(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;
	struct line fa = field(a, 0), fb = field(b, 0);
	return line_cmp(&fa, &fb);
}

static struct line *by_name(const struct lines *l)
{
	struct line *v = xcalloc(l->n ? l->n : 1, sizeof(*v));
	if (l->n)
		memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), name_cmp);
	return v;
}

static const struct line *find_name(const struct line *sorted, size_t n, struct line name)
{
	struct line key = name; /* its field 0 is itself: a name has no ':' */
	return n ? bsearch(&key, sorted, n, sizeof(*sorted), name_cmp) : NULL;
}

static bool uid_is_zero(struct line f)
{
	if (!f.n)
		return false;
	for (size_t i = 0; i < f.n; i++)
		if (f.s[i] != '0')
			return false;
	return true;
}

/* a member list "a,b,c" holds m */
static bool member_of(struct line list, struct line m)
{
	const char *s = list.s, *end = list.s + list.n;
	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t n = c ? (size_t)(c - s) : (size_t)(end - s);
		if (n == m.n && memcmp(s, m.s, n) == 0)
			return true;
		s += n + 1;
	}
	return false;
}

static void fact(struct sbuf *facts, const char *what, struct line name)
{
	_cleanup_free_ char *n = line_json(name.s, name.n, 64);
	sbuf_printf(facts, "%s%s '%s'", facts->len ? "; " : "", what, n);
}

static void account_semantics(const char *file, struct fhit *h, const struct ldiff *d,
			      struct sbuf *facts)
{
	bool passwd = strcmp(file, "etc/passwd") == 0, shadow = strcmp(file, "etc/shadow") == 0;
	bool group = strcmp(file, "etc/group") == 0 || strcmp(file, "etc/gshadow") == 0;
	bool gsh = strcmp(file, "etc/gshadow") == 0;
	_cleanup_free_ struct line *old = by_name(&d->oldl);
	_cleanup_free_ struct line *cur = by_name(&d->newl);
	for (size_t i = 0; i < d->nadded && i < SEMANTIC_MAX; i++) {
		const struct line *l = &d->added[i];
		struct line name = field(l, 0);
		const struct line *was = find_name(old, d->oldl.n, name);
		if (!was) {
			sev_raise(h, group ? SEV_MEDIUM : SEV_HIGH);
			if (passwd)
				h->attack = "T1136.001";
			fact(facts, group ? "group added" : "account added", name);
		} else if (!group) {
			sev_raise(h, SEV_HIGH);
			fact(facts, "account changed", name);
		}
		if (passwd && uid_is_zero(field(l, 2)) && !(was && uid_is_zero(field(was, 2)))) {
			sev_raise(h, SEV_CRITICAL);
			h->title = "New uid 0 account";
			fact(facts, "uid 0 given to", name);
		}
		if ((passwd || shadow) && field(l, 1).n == 0 && field(l, 1).s < l->s + l->n &&
		    !(was && field(was, 1).n == 0)) {
			sev_raise(h, SEV_CRITICAL);
			fact(facts, "empty password for", name);
		}
		struct line pw = field(l, 1), opw = was ? field(was, 1) : pw;
		if (shadow && was && pw.n && line_cmp(&pw, &opw) != 0)
			fact(facts, "password changed for", name);
		if (group) {
			struct line gname = name;
			char gbuf[64];
			snprintf(gbuf, sizeof(gbuf), "%.*s", (int)(gname.n < 63 ? gname.n : 63),
				 gname.s);
			bool priv = is_one_of(gbuf, privileged_groups) ||
				    (!gsh && uid_is_zero(field(l, 2)));
			struct line mem = field(l, 3),
				    oldmem = was ? field(was, 3) : (struct line){"", 0};
			const char *s = mem.s, *end = mem.s + mem.n;
			while (s < end) {
				const char *cm = memchr(s, ',', (size_t)(end - s));
				struct line m = {s, cm ? (size_t)(cm - s) : (size_t)(end - s)};
				s += m.n + 1;
				if (!m.n || member_of(oldmem, m))
					continue;
				if (priv)
					sev_raise(h, SEV_HIGH);
				_cleanup_free_ char *mj = line_json(m.s, m.n, 64);
				_cleanup_free_ char *gj = line_json(gname.s, gname.n, 64);
				sbuf_printf(facts, "%s'%s' added to %sgroup '%s'",
					    facts->len ? "; " : "", mj, priv ? "privileged " : "",
					    gj);
			}
		}
	}
	for (size_t i = 0; i < d->nremoved && i < SEMANTIC_MAX; i++) {
		struct line name = field(&d->removed[i], 0);
		if (!find_name(cur, d->newl.n, name))
			fact(facts, group ? "group removed" : "account removed", name);
	}
	if (d->nadded > SEMANTIC_MAX)
		sbuf_printf(facts, "%sonly the first %u added lines looked into",
			    facts->len ? "; " : "", SEMANTIC_MAX);
}

static bool m_account_changed(const struct fctx *c, struct fhit *h)
{
	if (!is_one_of(c->path, account_files))
		return false;
	bool secret = strcmp(c->path, "etc/shadow") == 0 || strcmp(c->path, "etc/gshadow") == 0;
	if (c->kind == DK_METADATA) {
		if (secret && c->has_mode && (c->mode & 0004)) {
			sev_raise(h, SEV_HIGH);
			sbuf_printf(&h->detail, "made world-readable (mode %04o)", c->mode);
			return true;
		}
		if (!has_change(c, "mode") && !has_change(c, "uid") && !has_change(c, "gid"))
			return false;
		sbuf_adds(&h->detail, "owner or mode changed");
		if (c->has_mode)
			sbuf_printf(&h->detail, " (mode %04o, image %s)", c->mode,
				    jstr(c->ent, "image_mode") ? jstr(c->ent, "image_mode") : "?");
		return true;
	}
	if (c->kind == DK_DELETED) {
		sev_raise(h, SEV_HIGH);
		sbuf_adds(&h->detail, "deleted");
	} else if (c->kind == DK_ADDED) {
		sbuf_adds(&h->detail, "added (the image had none)");
	}
	struct ldiff d;
	ldiff_make(c, &d);
	if (d.known) {
		struct sbuf facts = SBUF_INIT;
		account_semantics(c->path, h, &d, &facts);
		if (facts.len) {
			detail_sep(h);
			sbuf_add(&h->detail, facts.buf, facts.len);
		}
		sbuf_free(&facts);
	}
	ldiff_describe(c, h, &d, secret ? show_shadow : show_plain);
	ldiff_free(&d);
	return true;
}

/* ---- the other kept-text files ---- */

static bool line_has_word(const struct line *l, const char *w)
{
	return memmem(l->s, l->n, w, strlen(w)) != NULL;
}

static bool is_comment(const struct line *l)
{
	size_t i = 0;
	while (i < l->n && (l->s[i] == ' ' || l->s[i] == '\t'))
		i++;
	return i == l->n || l->s[i] == '#';
}

/* the content line for files not kept: hashes */
static void content_detail(const struct fctx *c, struct fhit *h)
{
	const char *sha = jstr(c->ent, "sha256"), *isha = jstr(c->ent, "image_sha256");
	detail_sep(h);
	sbuf_adds(&h->detail, c->kind == DK_ADDED     ? "added"
			      : c->kind == DK_DELETED ? "deleted"
						      : "changed");
	if (is_type(c, "symlink"))
		sbuf_printf(&h->detail, ": a symlink to '%s'",
			    jstr(c->ent, "link_target") ? jstr(c->ent, "link_target") : "?");
	else if (sha)
		sbuf_printf(&h->detail, ": sha256 %s", sha);
	if (isha)
		sbuf_printf(&h->detail, " (image %s)", isha);
}

/* changed text: lines when kept on both sides, hashes otherwise */
static void text_change(const struct fctx *c, struct fhit *h, struct ldiff *d)
{
	content_detail(c, h);
	if (an_keep_path(c->raw ? c->raw : c->path)) {
		ldiff_make(c, d);
		ldiff_describe(c, h, d, show_plain);
	} else {
		memset(d, 0, sizeof(*d));
	}
}

static bool m_sudoers(const struct fctx *c, struct fhit *h)
{
	if (strcmp(c->path, "etc/sudoers") != 0 && !under(c->path, "etc/sudoers.d"))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	for (size_t i = 0; i < d.nadded; i++)
		if (!is_comment(&d.added[i]) && line_has_word(&d.added[i], "NOPASSWD")) {
			sev_raise(h, SEV_CRITICAL);
			break;
		}
	ldiff_free(&d);
	return true;
}

static bool m_ld_preload(const struct fctx *c, struct fhit *h)
{
	bool preload = strcmp(c->path, "etc/ld.so.preload") == 0;
	if (!preload && strcmp(c->path, "etc/ld.so.conf") != 0 &&
	    !under(c->path, "etc/ld.so.conf.d"))
		return false;
	if (!preload)
		h->sev = SEV_HIGH;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_cron(const struct fctx *c, struct fhit *h)
{
	static const char *const dirs[] = {
	    "etc/cron.d",	"etc/cron.hourly", "etc/cron.daily", "etc/cron.weekly",
	    "etc/cron.monthly", "etc/crontabs",	   "var/spool/cron", NULL};
	if (is_type(c, "dir") ||
	    (strcmp(c->path, "etc/crontab") != 0 && strcmp(c->path, "etc/anacrontab") != 0 &&
	     !under_any(c->path, dirs)))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_authorized_keys(const struct fctx *c, struct fhit *h)
{
	const char *b = base_name(c->path);
	if (strcmp(b, "authorized_keys") != 0 && strcmp(b, "authorized_keys2") != 0)
		return false;
	if (!(b - c->path >= 5 && strncmp(b - 5, ".ssh/", 5) == 0))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_sshd_config(const struct fctx *c, struct fhit *h)
{
	if (strcmp(c->path, "etc/ssh/sshd_config") != 0 && !under(c->path, "etc/ssh/sshd_config.d"))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	for (size_t i = 0; i < d.nadded; i++) {
		const struct line *l = &d.added[i];
		if (is_comment(l))
			continue;
		if ((line_has_word(l, "PermitRootLogin") && !line_has_word(l, "no")) ||
		    (line_has_word(l, "PermitEmptyPasswords") && line_has_word(l, "yes")) ||
		    line_has_word(l, "AuthorizedKeysFile") ||
		    line_has_word(l, "AuthorizedKeysCommand"))
			sev_raise(h, SEV_HIGH);
	}
	ldiff_free(&d);
	return true;
}

static bool m_shell_profile(const struct fctx *c, struct fhit *h)
{
	static const char *const files[] = {
	    "etc/profile", "etc/bash.bashrc", "etc/bashrc",    "etc/zshrc",	"etc/zprofile",
	    "etc/zshenv",  "etc/environment", "etc/csh.cshrc", "etc/csh.login", NULL};
	static const char *const dirs[] = {"etc/profile.d", "etc/zsh", NULL};
	static const char *const rc[] = {".bashrc",	 ".profile", ".bash_profile", ".bash_login",
					 ".bash_logout", ".zshrc",   ".zprofile",     ".zshenv",
					 ".zlogin",	 ".cshrc",   ".tcshrc",	      ".kshrc",
					 ".mkshrc",	 NULL};
	if (is_type(c, "dir"))
		return false;
	bool home_rc = false;
	const char *b = base_name(c->path);
	if (is_one_of(b, rc)) {
		/* root/.bashrc or home/USER/.bashrc */
		size_t dl = (size_t)(b - c->path);
		home_rc = (dl == 5 && strncmp(c->path, "root/", 5) == 0) ||
			  (under(c->path, "home") &&
			   memchr(c->path + 5, '/', dl - 5) == c->path + dl - 1);
	}
	if (!home_rc && !is_one_of(c->path, files) && !under_any(c->path, dirs))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_systemd_unit(const struct fctx *c, struct fhit *h)
{
	static const char *const dirs[] = {"etc/systemd/system",   "etc/systemd/user",
					   "lib/systemd/system",   "usr/lib/systemd/system",
					   "usr/lib/systemd/user", "usr/local/lib/systemd/system",
					   "root/.config/systemd", NULL};
	if (is_type(c, "dir"))
		return false;
	bool user = under(c->path, "home") && strstr(c->path, "/.config/systemd/") != NULL;
	if (!user && !under_any(c->path, dirs))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_init_script(const struct fctx *c, struct fhit *h)
{
	static const char *const files[] = {"etc/rc.local", "etc/inittab", NULL};
	static const char *const dirs[] = {"etc/init.d", "etc/rc.d", "etc/local.d", "etc/init",
					   NULL};
	if (is_type(c, "dir"))
		return false;
	bool rcd = strncmp(c->path, "etc/rc", 6) == 0 && strlen(c->path) > 10 &&
		   strncmp(c->path + 7, ".d/", 3) == 0; /* etc/rcN.d/x */
	if (!rcd && !is_one_of(c->path, files) && !under_any(c->path, dirs))
		return false;
	struct ldiff d;
	text_change(c, h, &d);
	ldiff_free(&d);
	return true;
}

static bool m_shell_history(const struct fctx *c, struct fhit *h)
{
	static const char *const hist[] = {".ash_history",   ".bash_history", ".zsh_history",
					   ".sh_history",    ".history",      ".python_history",
					   ".mysql_history", ".psql_history", NULL};
	if (!is_type(c, "file") || !is_one_of(base_name(c->path), hist))
		return false;
	content_detail(c, h);
	json_t *sz = json_object_get(c->ent, "size");
	if (json_is_integer(sz))
		sbuf_printf(&h->detail, ", %lld bytes of commands typed in the container",
			    (long long)json_integer_value(sz));
	return true;
}

/* ---- packages ---- */

static const char *const pkgdb_files[] = {"var/lib/dpkg/status",
					  "lib/apk/db/installed",
					  "var/lib/rpm/Packages",
					  "var/lib/rpm/rpmdb.sqlite",
					  "usr/lib/sysimage/rpm/rpmdb.sqlite",
					  "usr/lib/sysimage/rpm/Packages",
					  NULL};

#define PKGS_SHOWN    30u
#define PKGS_EVIDENCE 1000u

static json_t *pkgs_side(const struct aidx *x, const struct fctx *c, bool gone, char **note)
{
	*note = NULL;
	if (gone)
		return json_object(); /* the side without the file: no packages */
	size_t n = 0;
	bool trunc = false;
	const void *buf = kept_of(x, c->raw, &n, &trunc);
	if (!buf) {
		*note = xstrdup("content not kept");
		return NULL;
	}
	if (trunc) {
		*note = xasprintf("content past %u bytes: not read", AN_KEEP_MAX);
		return NULL;
	}
	return pkgdb_parse(c->raw, buf, n, note);
}

static void pkgs_list(struct fhit *h, const char *what, json_t *list)
{
	size_t n = json_array_size(list);
	json_object_set_new(hev(h), what, list);
	if (!n)
		return;
	detail_sep(h);
	sbuf_printf(&h->detail, "%zu %s:", n, what);
	for (size_t i = 0; i < n && i < PKGS_SHOWN; i++) {
		json_t *v = json_array_get(list, i);
		if (json_is_string(v))
			sbuf_printf(&h->detail, " %s", json_string_value(v));
		else
			sbuf_printf(&h->detail, " %s %s -> %s", jstr(v, "name"), jstr(v, "from"),
				    jstr(v, "to"));
	}
	if (n > PKGS_SHOWN)
		sbuf_printf(&h->detail, " (and %zu more)", n - PKGS_SHOWN);
}

static bool m_package_db(const struct fctx *c, struct fhit *h)
{
	if (!is_one_of(c->path, pkgdb_files) || is_type(c, "dir"))
		return false;
	_cleanup_free_ char *onote = NULL, *nnote = NULL;
	json_t *old = pkgs_side(c->img, c, c->kind == DK_ADDED, &onote);
	json_t *cur = pkgs_side(c->bag_kept, c, c->kind == DK_DELETED, &nnote);
	if (!old || !cur) {
		const char *why = (!cur && nnote) ? nnote : onote ? onote : "not read";
		content_detail(c, h);
		sbuf_printf(&h->detail, "; packages not compared (%s)", why);
		json_decref(old);
		json_decref(cur);
		return true;
	}
	json_t *app = json_array(), *gone = json_array(), *chg = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(cur, k, v)
	{
		json_t *o = json_object_get(old, k);
		if (!o) {
			if (json_array_size(app) < PKGS_EVIDENCE)
				json_array_append_new(
				    app, json_sprintf("%s %s", k, json_string_value(v)));
		} else if (!json_equal(o, v) && json_array_size(chg) < PKGS_EVIDENCE) {
			json_array_append_new(
			    chg, json_pack("{s:s,s:O,s:O}", "name", k, "from", o, "to", v));
		}
	}
	json_object_foreach(old, k, v)
	{
		if (!json_object_get(cur, k) && json_array_size(gone) < PKGS_EVIDENCE)
			json_array_append_new(gone, json_sprintf("%s %s", k, json_string_value(v)));
	}
	pkgs_list(h, "appeared", app);
	pkgs_list(h, "disappeared", gone);
	pkgs_list(h, "version-changed", chg);
	if (!h->detail.len)
		sbuf_adds(&h->detail, "changed, the same packages installed");
	if (onote || nnote)
		sbuf_printf(&h->detail, " (%s)", nnote ? nnote : onote);
	json_decref(old);
	json_decref(cur);
	return true;
}

/* ---- image rules ---- */

static void image_evidence(json_t *report, struct fhit *h)
{
	json_t *im = json_object_get(report, "image");
	json_object_set_new(hev(h), "member", json_string("data/container/image.json"));
	static const char *const keys[] = {"recorded_digest", "manifest_digest", "config_digest",
					   "path", "ref"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(im, keys[i]);
		json_object_set(hev(h), keys[i], v ? v : json_null());
	}
}

static bool m_digest_mismatch(json_t *report, struct fhit *h)
{
	json_t *im = json_object_get(report, "image");
	const char *m = jstr(im, "match");
	if (!m || strcmp(m, "mismatch") != 0)
		return false;
	image_evidence(report, h);
	const char *rec = jstr(im, "recorded_digest");
	const char *md = jstr(im, "manifest_digest"), *cd = jstr(im, "config_digest");
	sbuf_printf(&h->detail,
		    "the bag recorded %s; the image given has manifest %s and config %s: the "
		    "diff is against another image than the container's",
		    rec ? rec : "?", md ? md : "(none)", cd ? cd : "(none)");
	return true;
}

static bool m_digest_unknown(json_t *report, struct fhit *h)
{
	json_t *im = json_object_get(report, "image");
	const char *m = jstr(im, "match");
	if (!m || strcmp(m, "unknown") != 0)
		return false;
	image_evidence(report, h);
	sbuf_adds(&h->detail, "the bag recorded no image digest: that the image given is the "
			      "container's cannot be checked");
	return true;
}

/* A baseline that is not whole or not the one its manifest names: every
 * "added" or "unchanged" below is measured against it, so the verdict must
 * not read clean. A layer whose blob does not match its digest: high (the
 * image was altered or is corrupt); a layer read only in part (a bomb, a cut
 * tar, the entry bound): medium. */
static bool m_image_incomplete(json_t *report, struct fhit *h)
{
	json_t *layers = json_object_get(json_object_get(report, "image"), "layers");
	size_t i, bad_digest = 0, partial = 0;
	json_t *l;
	json_array_foreach(layers, i, l)
	{
		if (json_is_false(json_object_get(l, "digest_ok")))
			bad_digest++;
		if (json_is_false(json_object_get(l, "complete")))
			partial++;
	}
	if (!bad_digest && !partial)
		return false;
	image_evidence(report, h);
	char msg[256];
	if (bad_digest) {
		h->sev = SEV_HIGH;
		snprintf(msg, sizeof(msg),
			 "%zu layer(s) of the image do not match the digest the manifest names "
			 "(altered or corrupt): the diff is against that content",
			 bad_digest);
		sbuf_adds(&h->detail, msg);
	}
	if (partial) {
		snprintf(msg, sizeof(msg),
			 "%s%zu layer(s) of the image were read only in part (see image.notes): "
			 "files of the image may show as added and changes under them be missed",
			 bad_digest ? "; " : "", partial);
		sbuf_adds(&h->detail, msg);
	}
	return true;
}

/* ---- process rules ---- */

static bool m_exe_memfd(const struct pctx *p, struct fhit *h)
{
	if (!p->memfd)
		return false;
	sbuf_adds(&h->detail, "runs from an anonymous memory file (fileless)");
	copy_detail(p->copies, p->sha256, NULL, h);
	return true;
}

static bool m_exe_deleted(const struct pctx *p, struct fhit *h)
{
	if (!p->deleted || p->memfd)
		return false;
	if (p->sha256 && p->img_has_sha && strcmp(p->sha256, p->img_sha) == 0) {
		h->sev = SEV_MEDIUM;
		sbuf_adds(&h->detail, "its executable, the image's own file, was deleted or "
				      "replaced while it ran");
	} else {
		sbuf_printf(&h->detail, "its executable was deleted%s",
			    p->in_image ? " (and it is not the image's file at that path)"
					: " (the image has no such file)");
		copy_detail(p->copies, p->sha256, p->rel_json, h);
	}
	return true;
}

static bool m_exe_not_in_image(const struct pctx *p, struct fhit *h)
{
	if (!p->img || p->deleted || p->memfd || !p->rel || p->in_image)
		return false;
	if (p->layer_kind && strcmp(p->layer_kind, "added") == 0) {
		sbuf_adds(&h->detail, "its executable was added in the container's layer");
		copy_detail(p->copies, p->sha256, p->rel_json, h);
		return true;
	}
	if (p->layer_kind)
		return false; /* modified/metadata: the image has it (a link?) */
	if (p->init &&
	    (strcmp(p->rel, "sbin/docker-init") == 0 || strcmp(p->rel, "dev/init") == 0)) {
		h->sev = SEV_LOW; /* docker --init, podman --init: bind-mounted as pid 1 */
		sbuf_adds(&h->detail,
			  "the container's pid 1 runs the runtime's init (bind-mounted by "
			  "docker or podman --init), not a file of the image");
		copy_detail(p->copies, p->sha256, p->rel_json, h);
		return true;
	}
	h->sev = SEV_MEDIUM;
	sbuf_adds(&h->detail, "its executable is neither in the image nor in the layer (a bind "
			      "mount or a path outside the container's root?)");
	copy_detail(p->copies, p->sha256, p->rel_json, h);
	return true;
}

static bool m_exe_differs(const struct pctx *p, struct fhit *h)
{
	if (p->deleted || p->memfd || !p->in_image || !p->img_has_sha || !p->sha256 ||
	    strcmp(p->sha256, p->img_sha) == 0)
		return false;
	const char *lsha = jstr(p->layer_ent, "sha256");
	if (p->layer_kind && strcmp(p->layer_kind, "modified") == 0 && lsha &&
	    strcmp(lsha, p->sha256) == 0)
		sbuf_adds(&h->detail,
			  "it runs the file the layer replaced (its hash is the layer's)");
	else if (p->layer_kind && strcmp(p->layer_kind, "modified") == 0)
		sbuf_adds(&h->detail, "its hash is neither the image's nor the layer's file");
	else
		sbuf_adds(&h->detail, "its hash differs from the image's file, which the layer "
				      "did not change (a mount over it?)");
	if (lsha)
		json_object_set_new(hev(h), "layer_sha256", json_string(lsha));
	copy_detail(p->copies, p->sha256, p->rel_json, h);
	return true;
}

/* ---- process rules over the process's own state (issue 11) ---- */

/* a process object in either form: the report's summary ("cmdline" an
 * array, "stdio", "cap_effective") or the tree's ("cmdline".list, "fds",
 * "capabilities".effective.names) */
static const char *proc_arg(const json_t *proc, size_t k)
{
	json_t *c = json_object_get(proc, "cmdline");
	if (json_is_object(c))
		c = json_object_get(c, "list");
	return json_string_value(json_array_get(c, k));
}

static const char *proc_stdio(const json_t *proc, int k, const char **target)
{
	*target = NULL;
	json_t *st = json_object_get(proc, "stdio");
	if (json_is_array(st)) {
		json_t *e = json_array_get(st, (size_t)k);
		*target = jstr(e, "target");
		return jstr(e, "type");
	}
	json_t *fd;
	size_t i;
	json_array_foreach(json_object_get(proc, "fds"), i, fd)
	{
		if (i >= 1u << 20)
			break;
		json_t *n = json_object_get(fd, "fd");
		if (json_is_integer(n) && json_integer_value(n) == k) {
			*target = jstr(fd, "target");
			return jstr(fd, "type");
		}
	}
	return NULL;
}

static json_t *proc_caps(const json_t *proc)
{
	json_t *c = json_object_get(proc, "cap_effective");
	if (json_is_array(c))
		return c;
	c = json_object_get(json_object_get(json_object_get(proc, "capabilities"), "effective"),
			    "names");
	return json_is_array(c) ? c : NULL;
}

/* the last component of a path, " (deleted)" cut, into buf */
static const char *base_of(const char *p, char *buf, size_t sz)
{
	if (!p)
		return NULL;
	const char *b = strrchr(p, '/');
	b = b ? b + 1 : p;
	snprintf(buf, sz, "%s", b);
	size_t n = strlen(buf);
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		buf[n - 10] = '\0';
	return buf;
}

static const char *const shells[] = {"sh",   "bash", "dash", "ash",  "zsh",	"ksh",
				     "mksh", "csh",  "tcsh", "fish", "busybox", NULL};
static const char *const interpreters[] = {"perl", "ruby",  "php",    "node",  "nodejs", "lua",
					   "nc",   "ncat",  "netcat", "socat", "telnet", "awk",
					   "gawk", "tclsh", "irb",    NULL};

/* "python3.11", "php8.2", "perl5.36": a name, then digits and dots */
static bool name_ver(const char *s, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(s, name, n) != 0)
		return false;
	return s[n] == '\0' || strspn(s + n, "0123456789.") == strlen(s + n);
}

/* 2: a shell, 1: another interpreter or relay, 0: neither */
static int shell_kind(const char *b)
{
	if (!b || !*b)
		return 0;
	if (*b == '-')
		b++; /* a login shell's argv[0] */
	for (size_t i = 0; shells[i]; i++)
		if (strcmp(b, shells[i]) == 0)
			return 2;
	for (size_t i = 0; interpreters[i]; i++)
		if (name_ver(b, interpreters[i]))
			return 1;
	if (name_ver(b, "python") || name_ver(b, "pypy"))
		return 1;
	return 0;
}

static bool m_shell_socket_stdio(const struct pctx *p, struct fhit *h)
{
	char b1[256], b2[256];
	const char *exe_b = base_of(p->exe, b1, sizeof(b1));
	const char *arg0 = base_of(proc_arg(p->proc, 0), b2, sizeof(b2));
	int k = shell_kind(p->comm);
	const char *who = p->comm;
	/* busybox: the applet is the comm; else the exe or argv[0] may say it */
	if (!k && exe_b && strcmp(exe_b, "busybox") != 0 && (k = shell_kind(exe_b)))
		who = exe_b;
	if (!k && (k = shell_kind(arg0)))
		who = arg0;
	if (!k)
		return false;
	static const char *const fdn[] = {"stdin", "stdout", "stderr"};
	bool sock[3] = {false};
	json_t *ev = json_array();
	for (int i = 0; i < 3; i++) {
		const char *tgt;
		const char *t = proc_stdio(p->proc, i, &tgt);
		sock[i] =
		    (t && strcmp(t, "socket") == 0) || (tgt && str_has_prefix(tgt, "socket:"));
		if (sock[i])
			json_array_append_new(ev, json_pack("{s:i,s:o}", "fd", i, "target",
							    bag_json_text(tgt ? tgt : "socket")));
	}
	if (!sock[0] && !sock[1] && !sock[2]) {
		json_decref(ev);
		return false;
	}
	json_object_set_new(hev(h), "stdio_sockets", ev);
	if (sock[0] && (sock[1] || sock[2]))
		sev_raise(h, SEV_CRITICAL);
	sbuf_printf(&h->detail, "%s '%s' has its", k == 2 ? "shell" : "interpreter",
		    who ? who : "?");
	bool first = true;
	for (int i = 0; i < 3; i++)
		if (sock[i]) {
			sbuf_printf(&h->detail, "%s%s", first ? " " : ", ", fdn[i]);
			first = false;
		}
	sbuf_adds(&h->detail, " on a socket (a reverse or bind shell)");
	return true;
}

static bool m_exe_in_tmp(const struct pctx *p, struct fhit *h)
{
	if (!p->rel || p->memfd)
		return false;
	bool tmp = in_tmp(p->rel), hidden = in_hidden_dir(p->rel);
	if (!tmp && !hidden)
		return false;
	if (hidden) {
		sev_raise(h, SEV_CRITICAL);
		h->attack = "T1564.001";
	}
	sbuf_adds(&h->detail, tmp && hidden ? "runs from a hidden dir in a tmp dir"
			      : tmp	    ? "runs from a tmp dir"
					    : "runs from a hidden dir");
	return true;
}

/* "8080" from "[::]:8080" / "0.0.0.0:8080"; the address part in addr */
static long port_of(const char *ep, char *addr, size_t asz)
{
	const char *c = ep ? strrchr(ep, ':') : NULL;
	if (!c || !c[1] || strspn(c + 1, "0123456789") != strlen(c + 1) || strlen(c + 1) > 5)
		return -1;
	size_t n = (size_t)(c - ep);
	if (n >= asz)
		n = asz - 1;
	memcpy(addr, ep, n);
	addr[n] = '\0';
	return strtol(c + 1, NULL, 10);
}

static bool loopback(const char *a)
{
	return str_has_prefix(a, "127.") || strcmp(a, "[::1]") == 0 || strcmp(a, "::1") == 0 ||
	       str_has_prefix(a, "[::ffff:127.");
}

static bool port_declared(const json_t *exposed, long port)
{
	char k1[32], k2[32];
	snprintf(k1, sizeof(k1), "%ld/tcp", port);
	snprintf(k2, sizeof(k2), "%ld", port);
	return json_object_get(exposed, k1) || json_object_get(exposed, k2);
}

static bool m_listener_undeclared(const struct pctx *p, struct fhit *h)
{
	json_t *im = json_object_get(p->report, "image");
	json_t *cfg = json_object_get(im, "config");
	if (!json_is_object(cfg))
		return false; /* the image's config is unknown */
	json_t *exposed = json_object_get(cfg, "ExposedPorts");
	json_t *socks = json_object_get(json_object_get(p->report, "network"), "sockets"), *s;
	size_t i;
	json_t *ports = json_array();
	bool all_loop = true;
	json_array_foreach(socks, i, s)
	{
		const char *st = jstr(s, "state"), *proto = jstr(s, "proto");
		json_t *pid = json_object_get(s, "pid");
		if (!st || strcmp(st, "LISTEN") != 0 || !proto || !str_has_prefix(proto, "tcp") ||
		    !json_is_integer(pid) || json_integer_value(pid) != p->pid)
			continue;
		char addr[256];
		long port = port_of(jstr(s, "local"), addr, sizeof(addr));
		if (port < 0 || port_declared(exposed, port))
			continue;
		if (json_array_size(ports) >= 64)
			break;
		if (!loopback(addr))
			all_loop = false;
		json_array_append_new(ports, bag_json_text(jstr(s, "local")));
	}
	if (!json_array_size(ports)) {
		json_decref(ports);
		return false;
	}
	if (all_loop)
		h->sev = SEV_LOW;
	sbuf_adds(&h->detail, "listens on");
	for (size_t k = 0; k < json_array_size(ports); k++)
		sbuf_printf(&h->detail, "%s%s/tcp", k ? ", " : " ",
			    json_string_value(json_array_get(ports, k)));
	sbuf_adds(&h->detail, json_is_object(exposed) ? ", not among the image's ExposedPorts"
						      : "; the image declares no ExposedPorts");
	if (all_loop)
		sbuf_adds(&h->detail, " (loopback only)");
	json_object_set_new(hev(h), "listening", ports);
	json_object_set_new(hev(h), "network_member", json_string("data/network/state.json"));
	return true;
}

static bool caps_has(const json_t *arr, const char *name)
{
	json_t *v;
	size_t i;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (s && strcasecmp(s, name) == 0)
			return true;
	}
	return false;
}

static bool m_caps_beyond_config(const struct pctx *p, struct fhit *h)
{
	json_t *cc = json_object_get(json_object_get(p->report, "container"), "capabilities");
	json_t *caps = proc_caps(p->proc);
	if (!json_is_object(cc) || !caps)
		return false;
	json_t *eff = json_object_get(cc, "effective"), *bnd = json_object_get(cc, "bounding"),
	       *prm = json_object_get(cc, "permitted");
	if (!json_is_array(eff) && !json_is_array(bnd) && !json_is_array(prm))
		return false;
	json_t *extra = json_array(), *v;
	size_t i;
	json_array_foreach(caps, i, v)
	{
		const char *s = json_string_value(v);
		if (!s || caps_has(eff, s) || caps_has(bnd, s) || caps_has(prm, s))
			continue;
		if (json_array_size(extra) >= 64)
			break;
		json_array_append_new(extra, bag_json_text(s));
		for (size_t k = 0; k < ARRAY_SIZE(root_caps); k++)
			if (strcasecmp(s, root_caps[k].name) == 0)
				sev_raise(h, SEV_CRITICAL);
	}
	if (!json_array_size(extra)) {
		json_decref(extra);
		return false;
	}
	sbuf_adds(&h->detail, "effective capabilities the container's config does not grant:");
	for (size_t k = 0; k < json_array_size(extra); k++)
		sbuf_printf(&h->detail, " %s", json_string_value(json_array_get(extra, k)));
	json_object_set_new(hev(h), "caps_beyond", extra);
	json_object_set_new(hev(h), "config_member", json_string("data/container/config.json"));
	return true;
}

/* comm (at most 15 bytes of the name the kernel was given) is s, or s cut */
static bool comm_is(const char *comm, const char *s)
{
	if (!comm || !s || !*s)
		return false;
	size_t c = strlen(comm), n = strlen(s);
	if (c > 15 || c == 0)
		return false;
	return strncmp(comm, s, c) == 0 && (c == n || (c == 15 && n > 15));
}

static bool comm_matches(const char *comm, const char *s)
{
	char b[4096];
	if (!s)
		return false;
	if (comm_is(comm, s))
		return true;
	const char *bs = base_of(s, b, sizeof(b));
	if (*bs == '-')
		bs++;
	if (comm_is(comm, bs))
		return true;
	/* "nginx: master process": the first word */
	size_t w = strcspn(bs, " :");
	if (w < strlen(bs)) {
		char first[4096];
		snprintf(first, sizeof(first), "%.*s", (int)w, bs);
		return comm_is(comm, first);
	}
	return false;
}

static const char *const kthread_names[] = {
    "kworker",	  "ksoftirqd", "kthreadd", "kswapd",  "migration", "rcu_", "watchdog",
    "khugepaged", "jbd2",      "kblockd",  "kauditd", "[",	   NULL};

static bool m_name_mismatch(const struct pctx *p, struct fhit *h)
{
	if (!p->comm || !*p->comm || p->memfd)
		return false;
	char b1[4096];
	const char *exe_b = base_of(p->exe, b1, sizeof(b1));
	if (!exe_b || !*exe_b)
		return false;
	/* busybox and toybox run applets by the name they are called by */
	if (strcmp(exe_b, "busybox") == 0 || strcmp(exe_b, "toybox") == 0 ||
	    str_has_prefix(exe_b, "busybox."))
		return false;
	if (comm_matches(p->comm, exe_b))
		return false;
	/* a kernel thread's name on a process with an executable: whatever its
	 * arguments say (a miner sets both) */
	for (size_t k = 0; kthread_names[k]; k++)
		if (str_has_prefix(p->comm, kthread_names[k])) {
			sev_raise(h, SEV_HIGH);
			h->attack = "T1036.004";
			break;
		}
	/* a script (comm its name, exe the interpreter), a link's name (sh ->
	 * dash), a title set by the program over its argv: the arguments */
	for (size_t k = 0; k < 4 && h->sev < SEV_HIGH; k++)
		if (comm_matches(p->comm, proc_arg(p->proc, k)))
			return false;
	char *c = bag_path_json_encode(p->comm);
	if (h->sev >= SEV_HIGH)
		sbuf_printf(&h->detail,
			    "its name '%s' poses as a kernel thread; its executable is '%s'",
			    c ? c : "?", exe_b);
	else
		sbuf_printf(
		    &h->detail,
		    "its name '%s' is neither its executable's '%s' nor one of its arguments",
		    c ? c : "?", exe_b);
	json_object_set_new(hev(h), "comm", bag_json_text(p->comm));
	free(c);
	return true;
}

static json_t *process_list(json_t *report);

/* TracerPid (the collector's tree.json "tracer_pid", the host's pid): a
 * debugger, strace, or code injected with ptrace. The tracer is named when
 * it is a process of the container (high); one outside it (a host
 * debugger: what reached into the container from outside) is medium. */
static bool m_traced(const struct pctx *p, struct fhit *h)
{
	long long t = int_or(p->proc, "tracer_pid", 0);
	if (t <= 0 || t == p->pid)
		return false;
	json_t *tp = NULL, *v;
	size_t i;
	json_array_foreach(process_list(p->report), i, v)
	{
		if (i >= 1u << 20)
			break;
		if (int_or(v, "pid", -1) == t) {
			tp = v;
			break;
		}
	}
	json_object_set_new(hev(h), "tracer_pid", json_integer(t));
	json_object_set_new(hev(h), "tracer_in_container", json_boolean(tp != NULL));
	if (!tp) {
		h->sev = SEV_MEDIUM;
		sbuf_printf(&h->detail, "traced by pid %lld, a process outside the container", t);
		return true;
	}
	const char *tc = jstr(tp, "comm");
	json_t *te = json_object_get(tp, "exe");
	const char *tx = json_is_object(te) ? jstr(te, "path") : json_string_value(te);
	json_object_set_new(hev(h), "tracer_comm", bag_json_text(tc));
	json_object_set_new(hev(h), "tracer_exe", bag_json_text(tx));
	char *c = bag_path_json_encode(tc ? tc : "?");
	sbuf_printf(&h->detail, "traced by pid %lld (%s) of the container", t, c ? c : "?");
	free(c);
	return true;
}

/* analyses.cores (analyze.c): an ELF header at a page start of an
 * executable mapping with no file behind it */
static bool m_anon_elf(const struct pctx *p, struct fhit *h)
{
	json_t *cores = json_object_get(json_object_get(p->report, "analyses"), "cores"), *c;
	size_t i;
	json_array_foreach(cores, i, c)
	{
		json_t *pid = json_object_get(c, "pid");
		json_t *hits = json_object_get(c, "anon_elf");
		if (!json_is_integer(pid) || json_integer_value(pid) != p->pid ||
		    !json_array_size(hits))
			continue;
		json_t *first = json_array_get(hits, 0);
		json_t *va = json_object_get(first, "vaddr");
		const char *map = jstr(first, "mapping");
		sbuf_printf(&h->detail,
			    "an ELF header in memory at 0x%llx, in an executable mapping (%s, %s) "
			    "with no file behind it",
			    json_is_integer(va) ? (unsigned long long)json_integer_value(va) : 0ull,
			    map ? map : "anon", jstr(first, "perms") ? jstr(first, "perms") : "?");
		if (json_array_size(hits) > 1)
			sbuf_printf(&h->detail, " (and %zu more)", json_array_size(hits) - 1);
		json_object_set_new(hev(h), "core", bag_json_text(jstr(c, "member")));
		json_object_set(hev(h), "anon_elf", hits);
		return true;
	}
	return false;
}

/* ---- the table ---- */

static const struct rule rules[] = {
    /* files: each entry of the diff arrays in kinds */
    {.id = "fs.new-executable",
     .sev = SEV_HIGH,
     .attack = "T1105",
     .title = "New ELF executable or library",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_new_executable},
    {.id = "fs.new-script",
     .sev = SEV_HIGH,
     .attack = "T1059.004",
     .title = "New script in a PATH, temporary or hidden directory",
     .scope = RS_FILE,
     .kinds = DK_ADDED,
     .file = m_new_script},
    {.id = "fs.binary-replaced",
     .sev = SEV_HIGH,
     .attack = "T1036",
     .title = "Executable or library of the image replaced",
     .scope = RS_FILE,
     .kinds = DK_MODIFIED | DK_METADATA,
     .file = m_binary_replaced},
    {.id = "fs.binary-deleted",
     .sev = SEV_MEDIUM,
     .attack = "T1070.004",
     .title = "Executable or library of the image deleted",
     .scope = RS_FILE,
     .kinds = DK_DELETED | DK_OPAQUE,
     .file = m_binary_deleted},
    {.id = "fs.setuid-added",
     .sev = SEV_CRITICAL,
     .attack = "T1548.001",
     .title = "Setuid bit added",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED | DK_METADATA,
     .file = m_setuid_added},
    {.id = "fs.setgid-added",
     .sev = SEV_HIGH,
     .attack = "T1548.001",
     .title = "Setgid bit added",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED | DK_METADATA,
     .file = m_setgid_added},
    {.id = "fs.caps-added",
     .sev = SEV_HIGH,
     .attack = "T1548",
     .title = "File capabilities added",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED | DK_METADATA,
     .file = m_caps_added},
    {.id = "fs.account-changed",
     .sev = SEV_MEDIUM,
     .attack = "T1098",
     .title = "Accounts or groups changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED | DK_METADATA | DK_DELETED,
     .file = m_account_changed},
    {.id = "fs.sudoers-changed",
     .sev = SEV_HIGH,
     .attack = "T1548.003",
     .title = "sudoers changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_sudoers},
    {.id = "fs.ld-preload",
     .sev = SEV_CRITICAL,
     .attack = "T1574.006",
     .title = "Dynamic linker preload or search path changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_ld_preload},
    {.id = "fs.cron-changed",
     .sev = SEV_HIGH,
     .attack = "T1053.003",
     .title = "Cron job added or changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_cron},
    {.id = "fs.ssh-authorized-keys",
     .sev = SEV_HIGH,
     .attack = "T1098.004",
     .title = "SSH authorized_keys added or changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_authorized_keys},
    {.id = "fs.sshd-config",
     .sev = SEV_MEDIUM,
     .attack = "T1098.004",
     .title = "sshd configuration changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_sshd_config},
    {.id = "fs.shell-profile",
     .sev = SEV_MEDIUM,
     .attack = "T1546.004",
     .title = "Shell profile or rc file changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_shell_profile},
    {.id = "fs.systemd-unit",
     .sev = SEV_MEDIUM,
     .attack = "T1543.002",
     .title = "systemd unit added or changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_systemd_unit},
    {.id = "fs.init-script",
     .sev = SEV_MEDIUM,
     .attack = "T1037.004",
     .title = "Init or rc script added or changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_init_script},
    {.id = "fs.package-db-changed",
     .sev = SEV_MEDIUM,
     .attack = NULL,
     .title = "Package database changed",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED | DK_DELETED,
     .file = m_package_db},
    {.id = "fs.shell-history",
     .sev = SEV_LOW,
     .attack = "T1059.004",
     .title = "Shell history written",
     .scope = RS_FILE,
     .kinds = DK_ADDED | DK_MODIFIED,
     .file = m_shell_history},
    {.id = "fs.dropped-file",
     .sev = SEV_LOW,
     .attack = "T1074.001",
     .title = "File dropped in a temporary or hidden directory",
     .scope = RS_FILE,
     .kinds = DK_ADDED,
     .flags = RF_FALLBACK,
     .file = m_dropped_file},
    /* the image */
    {.id = "image.digest-mismatch",
     .sev = SEV_HIGH,
     .attack = NULL,
     .title = "Image given is not the one the bag recorded",
     .scope = RS_IMAGE,
     .image = m_digest_mismatch},
    {.id = "image.digest-unknown",
     .sev = SEV_INFO,
     .attack = NULL,
     .title = "The bag recorded no image digest",
     .scope = RS_IMAGE,
     .image = m_digest_unknown},
    {.id = "image.incomplete",
     .sev = SEV_MEDIUM,
     .attack = NULL,
     .title = "The image is not whole: the baseline of the diff is in doubt",
     .scope = RS_IMAGE,
     .image = m_image_incomplete},
    /* processes (grouped by executable) */
    {.id = "proc.exe-memfd",
     .sev = SEV_CRITICAL,
     .attack = "T1620",
     .title = "Process runs from a memfd",
     .scope = RS_PROC,
     .proc = m_exe_memfd},
    {.id = "proc.exe-deleted",
     .sev = SEV_HIGH,
     .attack = "T1070.004",
     .title = "Process executable deleted",
     .scope = RS_PROC,
     .proc = m_exe_deleted},
    {.id = "proc.exe-not-in-image",
     .sev = SEV_HIGH,
     .attack = "T1105",
     .title = "Process executable not in the image",
     .scope = RS_PROC,
     .proc = m_exe_not_in_image},
    {.id = "proc.exe-differs",
     .sev = SEV_HIGH,
     .attack = "T1036",
     .title = "Process executable differs from the image's file",
     .scope = RS_PROC,
     .proc = m_exe_differs},
    {.id = "proc.shell-socket-stdio",
     .sev = SEV_HIGH,
     .attack = "T1059",
     .title = "Shell or interpreter with a socket as stdin/stdout/stderr",
     .scope = RS_PROC,
     .proc = m_shell_socket_stdio},
    {.id = "proc.exe-in-tmp",
     .sev = SEV_HIGH,
     .attack = "T1105",
     .title = "Process runs from a tmp or hidden dir",
     .scope = RS_PROC,
     .proc = m_exe_in_tmp},
    {.id = "proc.listener-undeclared",
     .sev = SEV_MEDIUM,
     .attack = "T1571",
     .title = "Listener on a port the image does not expose",
     .scope = RS_PROC,
     .proc = m_listener_undeclared},
    {.id = "proc.caps-beyond-config",
     .sev = SEV_HIGH,
     .attack = "T1548",
     .title = "Process capabilities beyond the container's config",
     .scope = RS_PROC,
     .proc = m_caps_beyond_config},
    {.id = "proc.name-mismatch",
     .sev = SEV_MEDIUM,
     .attack = "T1036",
     .title = "Process name differs from its executable",
     .scope = RS_PROC,
     .proc = m_name_mismatch},
    {.id = "proc.traced",
     .sev = SEV_HIGH,
     .attack = "T1055.008",
     .title = "Process traced by another (ptrace)",
     .scope = RS_PROC,
     .proc = m_traced},
    {.id = "mem.anon-elf",
     .sev = SEV_CRITICAL,
     .attack = "T1620",
     .title = "ELF image in an anonymous executable mapping",
     .scope = RS_PROC,
     .proc = m_anon_elf},
};

/* ---- running the rules ---- */

/* What the file rules may add to the report: per rule, a finding is made
 * only while fewer than FINDINGS_PER_ID_MAX findings at its severity or
 * above were made (findings_finish keeps that many, the most severe), so a
 * million dropped files make at most 5 x 1000 findings, not a million; the
 * rest are counted and carried to findings_finish as one "N more" finding. */
struct emitter {
	size_t per_sev[ARRAY_SIZE(rules)][ARRAY_SIZE(sev_names)];
	size_t skipped[ARRAY_SIZE(rules)];
	enum sev worst[ARRAY_SIZE(rules)];
};

static bool emit_admit(struct emitter *em, size_t ri, enum sev sv)
{
	size_t above = 0;
	for (size_t t = sv; t < ARRAY_SIZE(sev_names); t++)
		above += em->per_sev[ri][t];
	if (above < FINDINGS_PER_ID_MAX) {
		em->per_sev[ri][sv]++;
		return true;
	}
	if (!em->skipped[ri] || sv > em->worst[ri])
		em->worst[ri] = sv;
	em->skipped[ri]++;
	return false;
}

static void emit_carriers(json_t *report, const struct emitter *em)
{
	for (size_t ri = 0; ri < ARRAY_SIZE(rules); ri++) {
		if (!em->skipped[ri])
			continue;
		const struct rule *r = &rules[ri];
		findings_add(report, r->id, em->worst[ri], r->title, r->attack, NULL,
			     json_pack("{s:I}", "not_listed", (json_int_t)em->skipped[ri]),
			     "more findings of this rule not made");
	}
}

static void hit_init(struct fhit *h, const struct rule *r)
{
	h->sev = r->sev;
	h->attack = r->attack;
	h->title = NULL;
	h->evidence = NULL;
	h->detail = (struct sbuf)SBUF_INIT;
}

static void hit_emit(json_t *report, const struct rule *r, struct fhit *h, const char *path)
{
	findings_add(report, r->id, h->sev, h->title ? h->title : r->title, h->attack, path,
		     h->evidence, h->detail.len ? h->detail.buf : NULL);
	h->evidence = NULL;
	sbuf_free(&h->detail);
}

static void hit_drop(struct fhit *h)
{
	json_decref(h->evidence);
	h->evidence = NULL;
	sbuf_free(&h->detail);
}

static void file_evidence(const struct fctx *c, json_t *ev, const char *kind)
{
	json_t *in_tar = json_object_get(c->ent, "in_tar");
	json_object_set_new(
	    ev, "member",
	    json_string(json_is_false(in_tar) ? "data/fs/files.json" : "data/fs/upper.tar"));
	json_object_set_new(ev, "diff", json_string(kind));
	static const char *const keys[] = {"type",	 "mode",       "sha256", "image_sha256",
					   "image_type", "image_mode", "size",	 "uid",
					   "gid",	 "mtime"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(c->ent, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(ev, keys[i], v);
	}
}

static bool run_file_rules(struct fctx *c, const char *kind, bool fallback)
{
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct rule *r = &rules[i];
		if (r->scope != RS_FILE || !(r->kinds & c->kind) ||
		    ((r->flags & RF_FALLBACK) != 0) != fallback)
			continue;
		struct fhit h;
		hit_init(&h, r);
		if (r->file(c, &h)) {
			any = true;
			if (!emit_admit(c->em, (size_t)(r - rules), h.sev)) {
				hit_drop(&h);
				continue;
			}
			/* the entry's evidence first, the rule's over it */
			json_t *ev = json_object();
			file_evidence(c, ev, kind);
			if (h.evidence)
				json_object_update(ev, h.evidence);
			json_decref(h.evidence);
			h.evidence = ev;
			hit_emit(c->report, r, &h, c->path);
			any = true;
		} else {
			hit_drop(&h);
		}
	}
	return any;
}

static void file_rules(json_t *report, const struct aidx *img, const struct aidx *bag_kept,
		       json_t *copies)
{
	_cleanup_free_ struct emitter *em = xcalloc(1, sizeof(*em));
	json_t *diff = json_object_get(report, "diff");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		json_t *arr = json_object_get(diff, diff_kinds[k].name), *ent;
		size_t i;
		json_array_foreach(arr, i, ent)
		{
			const char *path = jstr(ent, "path");
			if (!json_is_object(ent) || !path || !*path)
				continue;
			_cleanup_free_ char *raw = bag_path_decode(path);
			struct fctx c = {
			    .report = report,
			    .img = img,
			    .bag_kept = bag_kept,
			    .copies = copies,
			    .em = em,
			    .kind = diff_kinds[k].bit,
			    .ent = ent,
			    .path = path,
			    .raw = raw,
			    .type = jstr(ent, "type"),
			};
			c.has_mode = parse_octal_mode(jstr(ent, "mode"), &c.mode);
			if (!run_file_rules(&c, diff_kinds[k].name, false))
				run_file_rules(&c, diff_kinds[k].name, true);
		}
	}
	emit_carriers(report, em);
}

static void image_rules(json_t *report)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct rule *r = &rules[i];
		if (r->scope != RS_IMAGE)
			continue;
		struct fhit h;
		hit_init(&h, r);
		if (r->image(report, &h))
			hit_emit(report, r, &h, NULL);
		else
			hit_drop(&h);
	}
}

/* ---- processes ---- */

/* "\xNN" (collect_json_text's escape) back to the byte */
static char *unescape_x(const char *s)
{
	struct sbuf b = SBUF_INIT;
	for (; *s; s++) {
		int hi, lo;
		if (s[0] == '\\' && s[1] == 'x' && (hi = hex_digit(s[2])) >= 0 &&
		    (lo = hex_digit(s[3])) >= 0) {
			sbuf_addc(&b, (char)(hi * 16 + lo));
			s += 3;
		} else {
			sbuf_addc(&b, *s);
		}
	}
	return sbuf_steal(&b);
}

#define LINK_HOPS_MAX 40u

/* "/a/./b/../c" -> "a/c" ("..": up, never above the root, as the kernel
 * does inside a chroot); false when longer than AN_PATH_MAX. */
static bool norm_dots(const char *in, char *out)
{
	size_t o = 0;
	const char *s = in;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--; /* the '/' before it */
		} else {
			if (o + (o ? 1 : 0) + n >= AN_PATH_MAX)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s = e;
	}
	out[o] = '\0';
	return true;
}

/* The image's entry at path, following symlinks inside the image (a merged
 * /usr: bin -> usr/bin), bounded; false when absent or a loop. */
static bool image_resolve(const struct aidx *img, const char *path, struct aidx_entry *out)
{
	if (!img)
		return false;
	_cleanup_free_ char *cur = xstrdup(path);
	for (unsigned hops = 0; hops <= LINK_HOPS_MAX; hops++) {
		/* the first component (from the left) that is a symlink */
		size_t len = strlen(cur);
		if (len >= AN_PATH_MAX)
			return false;
		bool moved = false;
		for (size_t i = 0; i <= len && !moved; i++) {
			if (cur[i] != '/' && cur[i] != '\0')
				continue;
			char save = cur[i];
			cur[i] = '\0';
			aidx_id id = *cur ? aidx_lookup(img, cur) : AIDX_ROOT;
			struct aidx_entry e;
			if (id == AIDX_NONE) {
				cur[i] = save;
				return false;
			}
			aidx_get(img, id, &e);
			if (e.type == AENT_SYMLINK && e.link_target) {
				/* rebuild: target (absolute from the root, else from the link's
				 * dir) + rest */
				const char *rest = save ? cur + i + 1 : "";
				struct sbuf nb = SBUF_INIT;
				if (e.link_target[0] != '/') {
					const char *slash = strrchr(cur, '/');
					if (slash)
						sbuf_add(&nb, cur, (size_t)(slash - cur) + 1);
				}
				sbuf_adds(&nb, e.link_target);
				if (*rest) {
					sbuf_addc(&nb, '/');
					sbuf_adds(&nb, rest);
				}
				_cleanup_free_ char *joined = sbuf_steal(&nb);
				char norm[AN_PATH_MAX];
				if (!norm_dots(joined, norm))
					return false;
				free(cur);
				cur = xstrdup(norm);
				moved = true;
			} else if (!save) {
				*out = e;
				return true;
			} else {
				cur[i] = save;
			}
		}
		if (!moved)
			return false;
	}
	return false;
}

static json_t *diff_index(json_t *report)
{
	json_t *idx = json_object();
	json_t *diff = json_object_get(report, "diff");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		json_t *arr = json_object_get(diff, diff_kinds[k].name), *ent;
		size_t i;
		json_array_foreach(arr, i, ent)
		{
			const char *p = jstr(ent, "path");
			if (p)
				json_object_set_new(idx, p,
						    json_pack("{s:s,s:O}", "kind",
							      diff_kinds[k].name, "entry", ent));
		}
	}
	return idx;
}

/* report["processes"] (array of summaries), or the tree's {"pids": [...]} */
static json_t *process_list(json_t *report)
{
	json_t *p = json_object_get(report, "processes");
	if (json_is_object(p))
		p = json_object_get(p, "pids");
	return json_is_array(p) ? p : NULL;
}

static void pctx_fill(struct pctx *p, json_t *proc)
{
	json_t *exe = json_object_get(proc, "exe");
	p->proc = proc;
	p->pid = int_or(proc, "pid", -1);
	p->comm = jstr(proc, "comm");
	json_t *ns =
	    json_object_get(proc, "nspid"); /* a number, or the tree's [host, ..., inner] */
	if (json_is_array(ns))
		ns = json_array_get(ns, json_array_size(ns) - 1);
	p->init = json_is_true(json_object_get(proc, "container_init")) ||
		  (json_is_integer(ns) && json_integer_value(ns) == 1);
	if (json_is_object(exe)) { /* the tree's form */
		p->exe = jstr(exe, "path");
		p->deleted = json_is_true(json_object_get(exe, "deleted"));
		p->memfd = json_is_true(json_object_get(exe, "memfd"));
		p->sha256 =
		    json_is_true(json_object_get(exe, "truncated")) ? NULL : jstr(exe, "sha256");
	} else {
		p->exe = json_string_value(exe);
		p->deleted = json_is_true(json_object_get(proc, "exe_deleted"));
		p->memfd = json_is_true(json_object_get(proc, "exe_memfd"));
		p->sha256 = json_is_true(json_object_get(proc, "exe_truncated"))
				? NULL
				: jstr(proc, "exe_sha256");
	}
	if (p->sha256 && (strlen(p->sha256) != 64 || !is_hex_string(p->sha256)))
		p->sha256 = NULL;
	if (!p->exe)
		return;
	if (!p->memfd && str_has_prefix(p->exe, "/memfd:"))
		p->memfd = true;
	_cleanup_free_ char *plain = unescape_x(p->exe);
	size_t n = strlen(plain);
	if (str_has_suffix(plain, " (deleted)")) {
		plain[n - 10] = '\0';
		p->deleted = true;
	}
	if (p->memfd || plain[0] != '/') {
		/* "/memfd:name": shown without the "/" */
		p->where = bag_path_json_encode(plain + (plain[0] == '/'));
		return;
	}
	char norm[AN_PATH_MAX];
	if (!norm_dots(plain, norm) || !norm[0])
		return;
	p->rel = xstrdup(norm);
	p->rel_json = bag_path_json_encode(norm);
	struct aidx_entry ie;
	if (image_resolve(p->img, p->rel, &ie) && ie.type == AENT_FILE) {
		p->in_image = true;
		if (ie.has_sha256) {
			hex_encode(ie.sha256, 32, p->img_sha);
			p->img_has_sha = true;
		}
	}
	json_t *d = p->rel_json ? json_object_get(p->diffidx, p->rel_json) : NULL;
	p->layer_kind = jstr(d, "kind");
	p->layer_ent = json_object_get(d, "entry");
}

#define PIDS_SHOWN    20u
#define PIDS_EVIDENCE 200u

/* one finding per (rule, executable, severity): the pids that run it */
struct pgroup {
	struct fhit h;
	json_t *pids;
	struct sbuf who;
	size_t n;
	char *path;
};

static void proc_rules(json_t *report, const struct aidx *img, json_t *copies)
{
	json_t *procs = process_list(report);
	if (!json_array_size(procs))
		return;
	json_t *diffidx = diff_index(report);
	size_t np = json_array_size(procs);
	struct pctx *pc = xcalloc(np, sizeof(*pc));
	for (size_t i = 0; i < np; i++) {
		pc[i] = (struct pctx){
		    .report = report, .img = img, .copies = copies, .diffidx = diffidx};
		pctx_fill(&pc[i], json_array_get(procs, i));
	}
	for (size_t ri = 0; ri < ARRAY_SIZE(rules); ri++) {
		const struct rule *r = &rules[ri];
		if (r->scope != RS_PROC)
			continue;
		json_t *groups = json_object(); /* key -> index in g */
		struct pgroup *g = NULL;
		size_t ng = 0, gcap = 0;
		for (size_t i = 0; i < np; i++) {
			struct pctx *p = &pc[i];
			if (!p->exe)
				continue;
			struct fhit h;
			hit_init(&h, r);
			if (!r->proc(p, &h)) {
				hit_drop(&h);
				continue;
			}
			const char *where = p->rel_json ? p->rel_json : p->where;
			_cleanup_free_ char *path = xstrdup(where ? where : "");
			_cleanup_free_ char *key = xasprintf("%d\x1f%s", (int)h.sev, path);
			json_t *gi = json_object_get(groups, key);
			struct pgroup *grp;
			if (gi) {
				grp = &g[json_integer_value(gi)];
				hit_drop(&h);
			} else {
				xgrow(&g, &gcap, ng + 1, sizeof(*g));
				grp = &g[ng];
				memset(grp, 0, sizeof(*grp));
				grp->h = h;
				grp->pids = json_array();
				grp->path = steal_pointer(&path);
				json_object_set_new(hev(&grp->h), "member",
						    json_string("data/processes/tree.json"));
				json_object_set_new(hev(&grp->h), "exe", bag_json_text(p->exe));
				if (p->sha256)
					json_object_set_new(hev(&grp->h), "exe_sha256",
							    json_string(p->sha256));
				if (p->img_has_sha)
					json_object_set_new(hev(&grp->h), "image_sha256",
							    json_string(p->img_sha));
				json_object_set_new(groups, key, json_integer((json_int_t)ng));
				ng++;
			}
			if (grp->n < PIDS_EVIDENCE)
				json_array_append_new(grp->pids, json_integer(p->pid));
			if (grp->n < PIDS_SHOWN)
				sbuf_printf(&grp->who, "%s%lld (%s)", grp->n ? ", " : "", p->pid,
					    p->comm ? p->comm : "?");
			grp->n++;
		}
		for (size_t i = 0; i < ng; i++) {
			struct pgroup *grp = &g[i];
			json_object_set_new(hev(&grp->h), "pids", grp->pids);
			json_object_set_new(hev(&grp->h), "processes",
					    json_integer((json_int_t)grp->n));
			detail_sep(&grp->h);
			sbuf_printf(&grp->h.detail, "pid%s %s", grp->n == 1 ? "" : "s",
				    grp->who.buf ? grp->who.buf : "");
			if (grp->n > PIDS_SHOWN)
				sbuf_printf(&grp->h.detail, " (and %zu more)", grp->n - PIDS_SHOWN);
			hit_emit(report, r, &grp->h, grp->path);
			sbuf_free(&grp->who);
			free(grp->path);
		}
		free(g);
		json_decref(groups);
	}
	for (size_t i = 0; i < np; i++) {
		free(pc[i].rel);
		free(pc[i].rel_json);
		free(pc[i].where);
	}
	free(pc);
	json_decref(diffidx);
}

void findings_rules(json_t *report, const struct aidx *img, const struct aidx *bag_kept)
{
	if (!json_is_object(report))
		return;
	if (!json_is_array(json_object_get(report, "findings")))
		json_object_set_new(report, "findings", json_array());
	json_t *copies = image_copies(report, img);
	image_rules(report);
	file_rules(report, img, bag_kept, copies);
	proc_rules(report, img, copies);
	json_decref(copies);
}

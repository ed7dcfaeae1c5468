/* netcut.c: the network cut, two nftables layers (see isolate.h).
 *
 * libnftables applies a cut (a batch of add commands in one buffer is
 * atomic) and deletes one; what holds is read back from the kernel with no
 * library (nfnl.c), so list, inspect and every check never load it.
 * libnftables 1.0.6 notes: a buffer mixing list with add/delete crashed
 * the library, so the one list left (nflog groups) runs in a call of its
 * own, with output and errors buffered. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <nftables/libnftables.h>

#include "contain/isolate.h"
#include "contain/sha256x.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* ---- --allow CIDR[:PORT] ---- */

static int parse_port(const char *s, unsigned *port, struct err *e, const char *all)
{
	long long v;
	if (parse_ll(s, 1, 65535, &v) < 0)
		return err_set(e, ERR_INVALID, "bad port '%s' in allow entry '%s'", s, all);
	*port = (unsigned)v;
	return 0;
}

static bool host_bits_clear(const unsigned char *a, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = i * 8 >= prefix ? 0 : (prefix - i * 8 >= 8 ? 8 : prefix - i * 8);
		unsigned char mask = bits ? (unsigned char)(0xff << (8 - bits)) : 0;
		if (a[i] & (unsigned char)~mask)
			return false;
	}
	return true;
}

int ncut_allow_parse(const char *s, struct ncut_allow *out, struct err *e)
{
	char buf[96], *addr, *pfx = NULL, *port = NULL;
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return err_set(e, ERR_INVALID, "empty allow entry");
	if (strlen(s) >= sizeof(buf))
		return err_set(e, ERR_INVALID, "allow entry too long '%.40s...'", s);
	memcpy(buf, s, strlen(s) + 1);
	addr = buf;
	if (buf[0] == '[') { /* [v6[/len]]:port */
		char *close = strchr(buf, ']');
		if (!close)
			return err_set(e, ERR_INVALID, "missing ']' in allow entry '%s'", s);
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return err_set(e, ERR_INVALID, "junk after ']' in allow entry '%s'", s);
		if (!strchr(addr, ':'))
			return err_set(e, ERR_INVALID, "brackets are for IPv6 in allow entry '%s'", s);
	} else {
		char *c1 = strchr(buf, ':');
		if (c1 && !strchr(c1 + 1, ':')) { /* v4:port */
			*c1 = '\0';
			port = c1 + 1;
		}
	}
	pfx = strchr(addr, '/');
	if (pfx)
		*pfx++ = '\0';
	unsigned char bin[16];
	size_t blen;
	if (inet_pton(AF_INET, addr, bin) == 1) {
		out->family = AF_INET;
		blen = 4;
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		out->family = AF_INET6;
		blen = 16;
	} else {
		return err_set(e, ERR_INVALID, "bad address '%s' in allow entry '%s'", addr, s);
	}
	out->prefix = (unsigned)(blen * 8);
	if (pfx) {
		long long v;
		if (parse_ll(pfx, 0, (long long)blen * 8, &v) < 0)
			return err_set(e, ERR_INVALID, "bad prefix length '%s' in allow entry '%s'",
				       pfx, s);
		out->prefix = (unsigned)v;
	}
	if (!host_bits_clear(bin, blen, out->prefix))
		return err_set(e, ERR_INVALID, "host bits set past /%u in allow entry '%s'",
			       out->prefix, s);
	if (port && parse_port(port, &out->port, e, s) < 0)
		return -1;
	if (!inet_ntop(out->family, bin, out->addr, sizeof(out->addr)))
		return err_sys(e, errno, "inet_ntop");
	return 0;
}

void ncut_allow_format(const struct ncut_allow *a, char *buf, size_t n)
{
	if (a->family == AF_INET6 && a->port)
		snprintf(buf, n, "[%s/%u]:%u", a->addr, a->prefix, a->port);
	else if (a->port)
		snprintf(buf, n, "%s/%u:%u", a->addr, a->prefix, a->port);
	else
		snprintf(buf, n, "%s/%u", a->addr, a->prefix);
}

/* ---- table names ---- */

static void id12(const char *id, char out[13])
{
	size_t i;
	for (i = 0; i < 12 && id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (i == 12) {
		memcpy(out, id, 12);
		out[12] = '\0';
		return;
	}
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(out, 13, "%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

void ncut_table_names(const unsigned char *key, const char *id, char *netns_table,
		      char *host_table)
{
	if (netns_table && !key)
		netns_table[0] = '\0';
	if (netns_table && key) {
		unsigned char md[SHA256X_LEN];
		sha256x_hmac(key, NCUT_KEY_LEN, id, strlen(id), md);
		snprintf(netns_table, NCUT_TABLE_MAX, "contain_q_%02x%02x%02x%02x%02x%02x", md[0],
			 md[1], md[2], md[3], md[4], md[5]);
	}
	if (host_table) {
		char h[13];
		id12(id, h);
		snprintf(host_table, NCUT_TABLE_MAX, "contain_h_%s", h);
	}
}

/* ---- ruleset builder ---- */

static bool nft_ident_ok(const char *s)
{
	if (!*s || strlen(s) >= NCUT_TABLE_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

static bool ifname_ok(const char *s)
{
	if (!*s || strlen(s) >= IF_NAMESIZE)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' ||
		      *p == '@' || *p == ':'))
			return false;
	return true;
}

static int check_opts(const struct ncut_opts *o, struct err *e)
{
	if (o->nallow > NCUT_MAX_ALLOW)
		return err_set(e, ERR_INVALID, "too many allow entries (%zu, at most %d)",
			       o->nallow, NCUT_MAX_ALLOW);
	if (o->nextra > NCUT_MAX_EXTRA)
		return err_set(e, ERR_INVALID, "too many extra rules");
	for (size_t i = 0; i < o->nextra; i++)
		if (strpbrk(o->extra[i], "\n;{}#"))
			return err_set(e, ERR_INVALID, "bad extra rule '%s'", o->extra[i]);
	if (o->nflog_group > 65535)
		return err_set(e, ERR_INVALID, "nflog group %u out of range", o->nflog_group);
	if (o->host_nflog_group > 65535 && o->host_nflog_group != NCUT_NFLOG_OFF)
		return err_set(e, ERR_INVALID, "host nflog group %u out of range",
			       o->host_nflog_group);
	return 0;
}

enum dir { DIR_IN, DIR_OUT, DIR_BOTH };

/* accepts for the allow list: in = from the collector (saddr, sport),
 * out = to the collector (daddr, dport); each rule a line "<pre><rule>" */
static void add_allow_rules(struct sbuf *b, const char *pre, const struct ncut_opts *o, enum dir d,
			    bool netdev)
{
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < o->nallow; i++)
		*(o->allow[i].family == AF_INET ? &v4 : &v6) = true;
	if (netdev && v4)
		sbuf_printf(b, "%sether type arp accept\n", pre);
	if (v6)
		sbuf_printf(b, "%sicmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
			       "nd-router-solicit, nd-router-advert } accept\n",
			    pre);
	for (int pass = 0; pass < 2; pass++) {
		bool out = pass == 1;
		if ((d == DIR_IN && out) || (d == DIR_OUT && !out))
			continue;
		for (size_t i = 0; i < o->nallow; i++) {
			const struct ncut_allow *a = &o->allow[i];
			sbuf_printf(b, "%s%s %s %s/%u", pre, a->family == AF_INET ? "ip" : "ip6",
				    out ? "daddr" : "saddr", a->addr, a->prefix);
			if (a->port)
				sbuf_printf(b, " meta l4proto { tcp, udp } th %s %u",
					    out ? "dport" : "sport", a->port);
			sbuf_adds(b, " accept\n");
		}
	}
}

static void add_tail(struct sbuf *b, const char *pre, const struct ncut_opts *o, unsigned group)
{
	for (size_t i = 0; i < o->nextra; i++)
		sbuf_printf(b, "%s%s\n", pre, o->extra[i]);
	if (group)
		sbuf_printf(b, "%slog prefix \"%s\" group %u\n", pre, NCUT_LOG_PREFIX, group);
	sbuf_printf(b, "%sdrop\n", pre);
}

/* The rulesets are flat commands, one a line ("create table", then "add
 * chain" and "add rule"), not a "table { }" block: the same table in one
 * atomic batch, but libnftables makes a table object (four 128 KiB
 * hashes) for a block besides the one it caches, 9 hashes a context
 * instead of 5. */

char *ncut_netns_ruleset(const char *table, const struct ncut_opts *o, struct err *e)
{
	static const struct {
		const char *name;
		enum dir d;
		const char *lo;
	} chains[] = {
		{"prerouting", DIR_IN, "iif \"lo\" accept"},
		{"input", DIR_IN, "iif \"lo\" accept"},
		{"forward", DIR_BOTH, NULL},
		{"output", DIR_OUT, "oif \"lo\" accept"},
	};
	struct sbuf b = SBUF_INIT;
	if (!nft_ident_ok(table)) {
		err_set(e, ERR_INVALID, "bad table name '%s'", table);
		return NULL;
	}
	if (check_opts(o, e) < 0)
		return NULL;
	sbuf_printf(&b, "create table inet %s\n", table);
	for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
		char pre[128];
		snprintf(pre, sizeof(pre), "add rule inet %s %s ", table, chains[i].name);
		sbuf_printf(&b,
			    "add chain inet %s %s { type filter hook %s priority %d; "
			    "policy drop; }\n",
			    table, chains[i].name, chains[i].name, NCUT_PRIO_NETNS);
		if (chains[i].lo)
			sbuf_printf(&b, "%s%s\n", pre, chains[i].lo);
		add_allow_rules(&b, pre, o, chains[i].d, false);
		add_tail(&b, pre, o, o->nflog_group);
	}
	return sbuf_steal(&b);
}

char *ncut_host_ruleset(const char *table, const struct ncut_dev *devs, size_t ndevs,
			const struct ncut_opts *o, struct err *e)
{
	struct sbuf b = SBUF_INIT;
	if (!nft_ident_ok(table)) {
		err_set(e, ERR_INVALID, "bad table name '%s'", table);
		return NULL;
	}
	if (ndevs == 0 || ndevs > NCUT_MAX_DEVS) {
		err_set(e, ERR_INVALID, "bad number of host devices (%zu)", ndevs);
		return NULL;
	}
	if (check_opts(o, e) < 0)
		return NULL;
	unsigned hgroup = o->host_nflog_group == NCUT_NFLOG_OFF ? 0
			  : o->host_nflog_group	       ? o->host_nflog_group
						       : o->nflog_group;
	for (size_t i = 0; i < ndevs; i++)
		if (!ifname_ok(devs[i].ifname) || devs[i].ifindex <= 0) {
			err_set(e, ERR_INVALID, "bad host device name '%s'", devs[i].ifname);
			return NULL;
		}
	sbuf_printf(&b, "create table netdev %s\n", table);
	for (size_t i = 0; i < ndevs; i++) {
		for (int out = 0; out < 2; out++) {
			/* ingress of the host end = from the container (its "out") */
			char chain[32], pre[128];
			snprintf(chain, sizeof(chain), "%s_%d", out ? "out" : "in",
				 devs[i].ifindex);
			snprintf(pre, sizeof(pre), "add rule netdev %s %s ", table, chain);
			sbuf_printf(&b,
				    "add chain netdev %s %s { type filter hook %s device \"%s\" "
				    "priority %d; policy drop; }\n",
				    table, chain, out ? "egress" : "ingress", devs[i].ifname,
				    NCUT_PRIO_HOST);
			add_allow_rules(&b, pre, o, out ? DIR_IN : DIR_OUT, true);
			add_tail(&b, pre, o, hgroup);
		}
	}
	return sbuf_steal(&b);
}

/* ---- running things in the container's netns ---- */

struct nl_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	int link;	   /* IFLA_LINK, 0 if none */
	int link_netnsid;  /* IFLA_LINK_NETNSID, -1 if none */
	char kind[16];	   /* IFLA_INFO_KIND */
};

/* what a child sends back over its pipe */
struct nsres {
	int rc;
	struct err e;
	uint64_t u64;
	int flag;
	int host_nsid;
	size_t nlinks;
	struct nl_link links[NCUT_MAX_DEVS];
	struct ncut_table_info ti;
};

typedef int (*ns_fn)(void *arg, struct nsres *r);

/* one libnftables context per thread (see nft_get): a thread in a
 * container's netns has its own, freed when it ends */
static __thread struct nft_ctx *nft_shared;
/* set in a job's thread once it enters a container's netns: it never
 * takes the spare context (nft_get), whose socket is in ours */
static __thread bool nft_in_ctr_netns;
static pthread_mutex_t nft_new_lock = PTHREAD_MUTEX_INITIALIZER;
/* a thread's context is freed when the thread ends (respond's workers) */
static pthread_key_t nft_key;
static pthread_once_t nft_key_once = PTHREAD_ONCE_INIT;

static void nft_ctx_end(void *c)
{
	nft_ctx_free(c);
}

static void nft_key_make(void)
{
	(void)pthread_key_create(&nft_key, nft_ctx_end);
}

static int open_netns(const char *path, unsigned long long ino, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open netns '%s'", path);
	struct statfs sfs;
	struct stat st;
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		int en = errno;
		close(fd);
		return err_sys(e, en, "stat netns '%s'", path);
	}
	if (sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return err_set(e, ERR_INVALID, "'%s' is not a namespace", path);
	}
	if (ino && (unsigned long long)st.st_ino != ino) {
		close(fd);
		return err_set(e, ERR_WRONGSTATE,
			       "netns '%s' is not the container's any more (inode %llu, want %llu)",
			       path, (unsigned long long)st.st_ino, ino);
	}
	/* never the host's own: a cut there would cut the host (and us) */
	struct stat own;
	if ((stat("/proc/self/ns/net", &own) == 0 && own.st_ino == st.st_ino &&
	     own.st_dev == st.st_dev) ||
	    (stat("/proc/1/ns/net", &own) == 0 && own.st_ino == st.st_ino &&
	     own.st_dev == st.st_dev)) {
		close(fd);
		return err_set(e, ERR_UNSUPP,
			       "netns '%s' is the host's own network namespace (host network): "
			       "refusing to cut it",
			       path);
	}
	return fd;
}

/* a job's thread: it alone enters the netns (setns moves the calling
 * thread only), runs fn there and ends; nothing else of the process ever
 * runs in the container's netns. A thread, not a forked child: the
 * callers are threaded (respond's workers), and a child of a threaded
 * process may find a lock held forever (an allocator's, a library's); and
 * it dies with the process, so a killed quarantine leaves nothing behind
 * that adds its table afterwards. */
struct ns_task {
	int nsfd;
	ns_fn fn;
	void *arg;
	void *own; /* freed at the finish: what arg points into */
	char path[256];
	struct nsres r;
};

static void nft_release(void)
{
	if (nft_shared) {
		pthread_setspecific(nft_key, NULL);
		nft_ctx_free(nft_shared);
		nft_shared = NULL;
	}
}

static void *ns_thread(void *p)
{
	struct ns_task *t = p;
	t->r.host_nsid = -1;
	nft_in_ctr_netns = true; /* even a failed setns: never the spare */
	if (setns(t->nsfd, CLONE_NEWNET) < 0)
		t->r.rc = err_sys(&t->r.e, errno, "setns into '%s'", t->path);
	else
		t->r.rc = t->fn(t->arg, &t->r);
	nft_release(); /* its netlink socket is in the container's netns */
	return NULL;
}

/* Start fn in the netns at path (a thread of its own, see ns_thread): j
 * holds it. own (may be NULL) is freed at the finish, and what arg points
 * to must live until then. path NULL: fn runs here and now, and j holds
 * its result. */
static int in_netns_start(const char *path, unsigned long long ino, ns_fn fn, void *arg,
			  void *own, struct ncut_job *j, struct err *e)
{
	memset(j, 0, sizeof(*j));
	if (!path) {
		struct nsres *r = xcalloc(1, sizeof(*r));
		r->host_nsid = -1;
		r->rc = fn(arg, r);
		j->done = r;
		free(own);
		return 0;
	}
	int nsfd = open_netns(path, ino, e);
	if (nsfd < 0) {
		free(own);
		return -1;
	}
	struct ns_task *t = xcalloc(1, sizeof(*t));
	t->nsfd = nsfd;
	t->fn = fn;
	t->arg = arg;
	t->own = own;
	snprintf(t->path, sizeof(t->path), "%s", path);
	int rc = pthread_create(&j->thread, NULL, ns_thread, t);
	if (rc != 0) {
		close(nsfd);
		free(own);
		free(t);
		return err_sys(e, rc, "start a thread for netns '%s'", path);
	}
	j->task = t;
	return 0;
}

/* Wait for the job; r gets its result. Returns the job's rc. */
static int in_netns_finish(struct ncut_job *j, struct nsres *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->host_nsid = -1;
	if (j->done) {
		memcpy(r, j->done, sizeof(*r));
		free(j->done);
		j->done = NULL;
		if (r->rc < 0 && e)
			*e = r->e;
		return r->rc;
	}
	struct ns_task *t = j->task;
	if (!t)
		return err_set(e, ERR_INVALID, "no netns job");
	pthread_join(j->thread, NULL);
	j->task = NULL;
	memcpy(r, &t->r, sizeof(*r));
	close(t->nsfd);
	free(t->own);
	free(t);
	if (r->rc < 0 && e)
		*e = r->e;
	return r->rc;
}

/* Run fn in the netns at path, or here if path is NULL. */
static int in_netns(const char *path, unsigned long long ino, ns_fn fn, void *arg,
		    struct nsres *r, struct err *e)
{
	struct ncut_job j;
	if (in_netns_start(path, ino, fn, arg, NULL, &j, e) < 0) {
		memset(r, 0, sizeof(*r));
		r->host_nsid = -1;
		return -1;
	}
	return in_netns_finish(&j, r, e);
}

/* ---- libnftables ---- */

/* one context per thread, output and errors buffered; the JSON flag is
 * set per call. A context's netlink socket stays in the netns it was
 * opened in: a job's thread opens its own in the container's netns. */

enum { NFT_TEXT = 0, NFT_JSON = 1, NFT_ECHO = 2 };

/* a new context, output and errors buffered; its netlink socket is in
 * the calling thread's netns */
static struct nft_ctx *nft_ctx_make(struct err *e)
{
	/* its first call initializes the library's globals: one at a time */
	pthread_mutex_lock(&nft_new_lock);
	static bool heap_kept;
	if (!heap_kept) {
		/* libnftables makes a 128 KiB hash (8192 list heads) for every
		 * table it parses or caches, 5 to 9 per context: glibc would map
		 * each one afresh and unmap it when freed (a TLB shootdown across
		 * our threads, a fault per page on the next). From the heap and
		 * kept there (at most 8 MiB kept free) they are reused: about 10%
		 * of a quarantine's CPU, in every verb that cuts. */
		mallopt(M_MMAP_THRESHOLD, 1 << 20);
		mallopt(M_TRIM_THRESHOLD, 8 << 20);
		heap_kept = true;
	}
	struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
	pthread_mutex_unlock(&nft_new_lock);
	if (!c) {
		err_set(e, ERR_SYS, "nft_ctx_new failed");
		return NULL;
	}
	if (nft_ctx_buffer_output(c) < 0 || nft_ctx_buffer_error(c) < 0) {
		nft_ctx_free(c);
		err_set(e, ERR_SYS, "nft: cannot buffer output");
		return NULL;
	}
	return c;
}

/* A context made ahead in our own netns by the thread that opened the
 * library (ncut_prewarm, while the container is resolved): the library's
 * first context is the dear one (its globals, the iproute2 tables, the
 * first faults of its code). Taken once, by a thread in our netns. */
static struct nft_ctx *nft_spare;
static pthread_mutex_t nft_spare_lock = PTHREAD_MUTEX_INITIALIZER;

static bool nft_no_prewarm;

void ncut_prewarm_cancel(void)
{
	__atomic_store_n(&nft_no_prewarm, true, __ATOMIC_RELEASE);
}

void ncut_prewarm(void)
{
	if (__atomic_load_n(&nft_no_prewarm, __ATOMIC_ACQUIRE))
		return;
	struct err e = {0};
	struct nft_ctx *c = nft_ctx_make(&e);
	if (!c)
		return; /* the caller makes its own and says why */
	pthread_mutex_lock(&nft_spare_lock);
	bool spare = !nft_spare;
	if (spare)
		nft_spare = c;
	pthread_mutex_unlock(&nft_spare_lock);
	if (!spare)
		nft_ctx_free(c);
}

static struct nft_ctx *nft_get(int mode, struct err *e)
{
	if (!nft_shared) {
		struct nft_ctx *c = NULL;
		if (!nft_in_ctr_netns) {
			pthread_mutex_lock(&nft_spare_lock);
			c = nft_spare;
			nft_spare = NULL;
			pthread_mutex_unlock(&nft_spare_lock);
		}
		if (!c)
			c = nft_ctx_make(e);
		if (!c)
			return NULL;
		nft_shared = c;
		pthread_once(&nft_key_once, nft_key_make);
		pthread_setspecific(nft_key, c);
	}
	unsigned f = 0;
	if (mode & NFT_JSON)
		f |= NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;
	if (mode & NFT_ECHO)
		f |= NFT_CTX_OUTPUT_ECHO;
	nft_ctx_output_set_flags(nft_shared, f);
	return nft_shared;
}

/* Run one command buffer. Never mixes list with add/delete in one buffer
 * (that crashed libnftables 1.0.6): callers list in calls of their own. */
static int nft_run(int mode, const char *cmd, char **out, struct err *e)
{
	struct nft_ctx *c = nft_get(mode, e);
	if (!c)
		return -1;
	int rc = nft_run_cmd_from_buffer(c, cmd);
	/* read both buffers every time: reading rewinds them for the next call */
	const char *ob = nft_ctx_get_output_buffer(c);
	const char *eb = nft_ctx_get_error_buffer(c);
	if (rc != 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", eb ? eb : "");
		str_rstrip(msg);
		/* the first line says what; the rest is the echoed input */
		char *nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		return err_set(e, ERR_SYS, "nft: %s", *msg ? msg : "command failed");
	}
	if (out)
		*out = xstrdup(ob ? ob : "");
	return 0;
}

int ncut_nflog_groups_used(unsigned char used[NCUT_NFLOG_BITMAP], struct err *e)
{
	memset(used, 0, NCUT_NFLOG_BITMAP);
	/* a context of its own, freed at once */
	struct nft_ctx *c = nft_ctx_make(e);
	if (!c)
		return -1;
	int rc = nft_run_cmd_from_buffer(c, "list ruleset");
	const char *ob = nft_ctx_get_output_buffer(c);
	const char *eb = nft_ctx_get_error_buffer(c);
	if (rc != 0) {
		err_set(e, ERR_SYS, "nft: list ruleset: %.200s", eb && *eb ? eb : "failed");
		nft_ctx_free(c);
		return -1;
	}
	_cleanup_free_ char *out = xstrdup(ob ? ob : "");
	nft_ctx_free(c);
	/* a rule is one line: "... log [prefix "..."] group N ..." */
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *l = strstr(line, "log ");
		char *g = l ? strstr(l, " group ") : NULL;
		if (g) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(g + 7, &end, 10);
			if (end != g + 7 && errno == 0 && v <= 65535)
				used[v / 8] |= (unsigned char)(1u << (v % 8));
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* family/name from the kernel (nfnl.c): exists, handle, base chains with
 * policy drop */
/* *exists: a table of that name that can be ours (one with the "owner"
 * flag is held by another program's socket: never ours, *owned) */
static int nft_table_info(const char *family, const char *table, bool *exists,
			  uint64_t *handle, size_t *ndrop, bool *owned, struct err *e)
{
	struct ncut_table_info *ti = xcalloc(1, sizeof(*ti));
	_cleanup_free_ struct ncut_table_info *tf = ti;
	*exists = *owned = false;
	*handle = 0;
	*ndrop = 0;
	if (nfnl_table_info(family, table, ti, e) < 0)
		return -1;
	*owned = ti->exists && ti->owned;
	*exists = ti->exists && !ti->owned;
	*handle = ti->handle;
	*ndrop = ti->ndrop;
	return 0;
}

struct add_arg {
	const char *family, *table, *ruleset;
	size_t nchains;
};

/* The add (libnftables, one atomic batch), then its check read back from
 * the kernel with no library (nfnl.c): the table is there, with its
 * handle, and every base chain at policy drop. */
static int do_add(void *argp, struct nsres *r)
{
	struct add_arg *a = argp;
	double t0 = time_mono();
	if (!nft_get(NFT_TEXT, &r->e))
		return -1;
	double t1 = time_mono();
	if (nft_run(NFT_TEXT, a->ruleset, NULL, &r->e) < 0) {
		/* a table of our name that a program holds (the owner flag)
		 * cannot be replaced: say who blocks the cut */
		struct err le = {0};
		if (nfnl_table_info(a->family, a->table, &r->ti, &le) == 0 && r->ti.owned)
			return err_wrap(&r->e,
					"add table %s %s: a table of that name is held there by "
					"another program (nftables owner flag, netlink port %u): "
					"something in that netns blocks the cut",
					a->family, a->table, r->ti.owner);
		return err_wrap(&r->e, "add table %s %s", a->family, a->table);
	}
	double t2 = time_mono();
	bool exists, owned;
	uint64_t h;
	size_t nd;
	if (nft_table_info(a->family, a->table, &exists, &h, &nd, &owned, &r->e) < 0)
		return err_wrap(&r->e, "read back table %s %s", a->family, a->table);
	r->u64 = exists ? h : 0;
	log_debug("add table %s: nft context %.1f ms, add %.1f ms, read back %.1f ms", a->family,
		  (t1 - t0) * 1e3, (t2 - t1) * 1e3, (time_mono() - t2) * 1e3);
	if (!exists || !h)
		return err_set(&r->e, ERR_SYS, "table %s %s: the kernel did not confirm it",
			       a->family, a->table);
	if (nd != a->nchains)
		return err_set(&r->e, ERR_SYS,
			       "table %s %s has %zu dropping base chains, want %zu", a->family,
			       a->table, nd, a->nchains);
	return 0;
}

int ncut_table_add(const char *netns_path, unsigned long long ino, const char *family,
		   const char *table, const char *ruleset, size_t nchains_want,
		   uint64_t *handle, struct err *e)
{
	struct add_arg a = {family, table, ruleset, nchains_want};
	struct nsres r;
	int rc = in_netns(netns_path, ino, do_add, &a, &r, e);
	*handle = r.u64; /* a table may be there even on a failed verification */
	return rc;
}

int ncut_table_add_start(const char *netns_path, unsigned long long ino, const char *family,
			 const char *table, const char *ruleset, size_t nchains_want,
			 struct ncut_job *j, struct err *e)
{
	/* the thread reads them after we return: its own copies, in one block */
	size_t lf = strlen(family) + 1, lt = strlen(table) + 1, lr = strlen(ruleset) + 1;
	struct add_arg *a = xmalloc(sizeof(*a) + lf + lt + lr);
	char *f = (char *)(a + 1), *t = f + lf, *rs = t + lt;
	memcpy(f, family, lf);
	memcpy(t, table, lt);
	memcpy(rs, ruleset, lr);
	*a = (struct add_arg){f, t, rs, nchains_want};
	return in_netns_start(netns_path, ino, do_add, a, a, j, e);
}

int ncut_table_add_finish(struct ncut_job *j, uint64_t *handle, struct err *e)
{
	struct nsres r;
	int rc = in_netns_finish(j, &r, e);
	*handle = r.u64;
	return rc;
}

struct del_arg {
	const char *family, *table;
	uint64_t handle;
};

static int do_del(void *argp, struct nsres *r)
{
	struct del_arg *a = argp;
	bool exists, owned;
	uint64_t h;
	size_t nd;
	char cmd[160];
	if (nft_table_info(a->family, a->table, &exists, &h, &nd, &owned, &r->e) < 0)
		return -1;
	if (!exists || (a->handle && h != a->handle)) {
		r->flag = owned ? 2 : 1; /* gone, or another table of that name: not ours */
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "delete table %s handle %llu", a->family,
		 (unsigned long long)h);
	if (nft_run(NFT_TEXT, cmd, NULL, &r->e) < 0)
		return err_wrap(&r->e, "delete table %s %s", a->family, a->table);
	if (nft_table_info(a->family, a->table, &exists, &h, &nd, &owned, &r->e) < 0)
		return -1;
	if (exists && (!a->handle || h == a->handle))
		return err_set(&r->e, ERR_SYS, "table %s %s is still there after deleting it",
			       a->family, a->table);
	return 0;
}

int ncut_table_del(const char *netns_path, unsigned long long ino, const char *family,
		   const char *table, uint64_t handle, bool *gone, bool *theirs,
		   struct err *e)
{
	struct del_arg a = {family, table, handle};
	struct nsres r;
	int rc = in_netns(netns_path, ino, do_del, &a, &r, e);
	*gone = r.flag != 0;
	if (theirs)
		*theirs = r.flag == 2;
	return rc;
}

static int do_exists(void *argp, struct nsres *r)
{
	struct del_arg *a = argp;
	bool exists, owned;
	uint64_t h;
	size_t nd;
	if (nft_table_info(a->family, a->table, &exists, &h, &nd, &owned, &r->e) < 0)
		return -1;
	r->flag = exists && (!a->handle || h == a->handle);
	return 0;
}

/* The text listing names each netdev chain's device (the JSON of nft
 * 1.0.6 does not): "chain in_12 {" then "type filter hook ingress device
 * "veth0" priority ...". Bounded: at most NCUT_MAX_DEVS * 2 chains kept. */
int ncut_parse_netdev_listing(const char *txt, struct ncut_table_info *ti)
{
	char chain[NCUT_TABLE_MAX] = "";
	const char *p = txt;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		char *t = line;
		while (*t == ' ' || *t == '\t')
			t++;
		char name[NCUT_TABLE_MAX], dev[IF_NAMESIZE + 1], hook[16];
		if (sscanf(t, "chain %63s {", name) == 1) {
			snprintf(chain, sizeof(chain), "%s", name);
		} else if (*chain &&
			   sscanf(t, "type filter hook %15s device \"%16[^\"]\"", hook, dev) == 2 &&
			   strlen(dev) < IF_NAMESIZE) {
			if (ti->nbound < ARRAY_SIZE(ti->bound)) {
				struct ncut_bound *b = &ti->bound[ti->nbound++];
				memset(b, 0, sizeof(*b));
				snprintf(b->chain, sizeof(b->chain), "%s", chain);
				snprintf(b->dev, sizeof(b->dev), "%s", dev);
				b->egress = strcmp(hook, "egress") == 0;
				const char *u = strchr(chain, '_');
				long long v;
				if (u && parse_ll(u + 1, 1, INT_MAX, &v) == 0)
					b->ifindex = (int)v;
			} else {
				ti->nbound++; /* counted: more than we can keep is a mismatch */
			}
			*chain = '\0';
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

bool ncut_host_table_matches(const struct ncut_table_info *ti, const struct ncut_dev *devs,
			     size_t ndevs)
{
	if (!ti->exists || ti->owned || ndevs == 0 || ti->ndrop != 2 * ndevs || ti->nbound != 2 * ndevs)
		return false;
	for (size_t i = 0; i < ndevs; i++) {
		int seen = 0;
		for (size_t k = 0; k < ti->nbound && k < ARRAY_SIZE(ti->bound); k++)
			if (ti->bound[k].ifindex == devs[i].ifindex &&
			    strcmp(ti->bound[k].dev, devs[i].ifname) == 0)
				seen |= ti->bound[k].egress ? 2 : 1;
		if (seen != 3)
			return false;
	}
	return true;
}

static int do_info(void *argp, struct nsres *r)
{
	struct del_arg *a = argp;
	if (!*a->table) { /* no name (no key yet): nothing of ours there */
		memset(&r->ti, 0, sizeof(r->ti));
		return 0;
	}
	return nfnl_table_info(a->family, a->table, &r->ti, &r->e);
}

int ncut_table_info(const char *netns_path, unsigned long long ino, const char *family,
		    const char *table, struct ncut_table_info *ti, struct err *e)
{
	struct del_arg a = {family, table, 0};
	struct nsres r;
	int rc = in_netns(netns_path, ino, do_info, &a, &r, e);
	*ti = r.ti;
	return rc;
}

int ncut_host_tables(char ***names, size_t *n, struct err *e)
{
	if (nfnl_table_names("netdev", "contain_h_", 4096, names, n, e) < 0)
		return err_wrap(e, "list host netdev tables");
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (nft_ident_ok((*names)[i]))
			(*names)[k++] = (*names)[i];
		else
			free((*names)[i]);
	}
	*n = k;
	return 0;
}

int ncut_host_link(int ifindex, char *ifname, bool *exists, struct err *e)
{
	char b[IF_NAMESIZE];
	*exists = false;
	if (ifindex <= 0)
		return 0;
	if (!if_indextoname((unsigned)ifindex, b)) {
		if (errno == ENXIO || errno == ENODEV)
			return 0;
		return err_sys(e, errno, "name of host link %d", ifindex);
	}
	*exists = true;
	snprintf(ifname, IF_NAMESIZE, "%s", b);
	return 0;
}

int ncut_table_exists(const char *netns_path, unsigned long long ino, const char *family,
		      const char *table, uint64_t handle, bool *exists, struct err *e)
{
	struct del_arg a = {family, table, handle};
	struct nsres r;
	int rc = in_netns(netns_path, ino, do_exists, &a, &r, e);
	*exists = r.flag != 0;
	return rc;
}

/* ---- rtnetlink ---- */

static int nl_open(struct err *e)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return err_sys(e, errno, "netlink socket");
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void parse_link(struct nlmsghdr *h, struct nl_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->link_netnsid = -1;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t pl = RTA_PAYLOAD(a);
		switch (a->rta_type) {
		case IFLA_IFNAME:
			if (pl > 0 && pl <= IF_NAMESIZE) {
				memcpy(l->ifname, RTA_DATA(a), pl);
				l->ifname[IF_NAMESIZE - 1] = '\0';
			}
			break;
		case IFLA_LINK:
			if (pl >= 4)
				memcpy(&l->link, RTA_DATA(a), 4);
			break;
		case IFLA_LINK_NETNSID:
			if (pl >= 4)
				memcpy(&l->link_netnsid, RTA_DATA(a), 4);
			break;
		case IFLA_LINKINFO: {
			int il = (int)pl;
			for (struct rtattr *b = RTA_DATA(a); RTA_OK(b, il); b = RTA_NEXT(b, il))
				if (b->rta_type == IFLA_INFO_KIND && RTA_PAYLOAD(b) > 0) {
					size_t kl = RTA_PAYLOAD(b);
					if (kl >= sizeof(l->kind))
						kl = sizeof(l->kind) - 1;
					memcpy(l->kind, RTA_DATA(b), kl);
					l->kind[kl] = '\0';
				}
			break;
		}
		}
	}
}

/* dump every link; keep those for which keep() says so, at most max */
static int nl_dump_links(bool (*keep)(const struct nl_link *, void *), void *arg,
			 struct nl_link *out, size_t max, size_t *n, struct err *e)
{
	_cleanup_close_ int fd = nl_open(e);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {0};
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	req.i.ifi_family = AF_UNSPEC;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
		return err_sys(e, errno, "netlink send");
	*n = 0;
	_cleanup_free_ char *buf = xmalloc(65536);
	for (int rounds = 0; rounds < 100000; rounds++) {
		ssize_t got = recv(fd, buf, 65536, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, errno, "netlink recv");
		}
		int len = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *ne = NLMSG_DATA(h);
				return err_sys(e, -ne->error, "netlink link dump");
			}
			if (h->nlmsg_type != RTM_NEWLINK ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
				continue;
			struct nl_link l;
			parse_link(h, &l);
			if (keep(&l, arg) && *n < max)
				out[(*n)++] = l;
		}
	}
	return err_set(e, ERR_SYS, "netlink link dump does not end");
}

/* the nsid this netns gives the namespace open at nsfd (-1 if none) */
static int nl_get_nsid(int nsfd, int *nsid, struct err *e)
{
	_cleanup_close_ int fd = nl_open(e);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		uint32_t fd;
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETNSID;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = 2;
	req.g.rtgen_family = AF_UNSPEC;
	req.a.rta_type = NETNSA_FD;
	req.a.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.fd = (uint32_t)nsfd;
	if (send(fd, &req, sizeof(req), 0) < 0)
		return err_sys(e, errno, "netlink send");
	char buf[4096];
	ssize_t got;
	while ((got = recv(fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	if (got < 0)
		return err_sys(e, errno, "netlink recv");
	int len = (int)got;
	*nsid = -1;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *ne = NLMSG_DATA(h);
			if (ne->error)
				return err_sys(e, -ne->error, "netlink get nsid");
			continue;
		}
		if (h->nlmsg_type != RTM_NEWNSID)
			continue;
		struct rtgenmsg *g = NLMSG_DATA(h);
		int al = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
		for (struct rtattr *a = (struct rtattr *)((char *)g + NLMSG_ALIGN(sizeof(*g)));
		     RTA_OK(a, al); a = RTA_NEXT(a, al))
			if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= 4)
				memcpy(nsid, RTA_DATA(a), 4);
	}
	return 0;
}

static bool keep_peered(const struct nl_link *l, void *arg)
{
	(void)arg;
	return l->link > 0 && l->link_netnsid >= 0;
}

struct peers_arg {
	int hostfd;
};

static int do_peers(void *argp, struct nsres *r)
{
	struct peers_arg *a = argp;
	if (nl_dump_links(keep_peered, NULL, r->links, NCUT_MAX_DEVS, &r->nlinks, &r->e) < 0)
		return err_wrap(&r->e, "list links in the container netns");
	/* after the dump: the ids of peer netns are assigned */
	if (nl_get_nsid(a->hostfd, &r->host_nsid, &r->e) < 0)
		return err_wrap(&r->e, "nsid of the host netns");
	return 0;
}

struct host_match {
	const struct nl_link *want; /* container side links */
	size_t n;
};

static bool keep_host_peer(const struct nl_link *l, void *arg)
{
	struct host_match *m = arg;
	for (size_t i = 0; i < m->n; i++)
		if (m->want[i].link == l->ifindex)
			return true;
	return false;
}

/* The host ends of the container-side links r found (do_peers): each
 * must be a veth whose peer is that link, in the host's netns. ctrfd is
 * the container's netns (for the nsid the host gives it). */
static int host_devs_of(const struct nsres *rp, int ctrfd, struct ncut_dev **devs,
			size_t *ndevs, char **skipped, struct err *e)
{
	const struct nsres r0 = {0};
	const struct nsres *r = rp ? rp : &r0;
	struct sbuf sk = SBUF_INIT;
	if (r->nlinks == 0)
		goto out;
	int ctr_nsid = -1;
	struct nl_link host[NCUT_MAX_DEVS];
	size_t nhost = 0;
	struct host_match m = {r->links, r->nlinks};
	if (nl_dump_links(keep_host_peer, &m, host, NCUT_MAX_DEVS, &nhost, e) < 0 ||
	    nl_get_nsid(ctrfd, &ctr_nsid, e) < 0) {
		sbuf_free(&sk);
		return err_wrap(e, "list host links");
	}
	struct ncut_dev *v = xcalloc(r->nlinks, sizeof(*v));
	size_t nv = 0;
	for (size_t i = 0; i < r->nlinks; i++) {
		const struct nl_link *c = &r->links[i];
		const struct nl_link *h = NULL;
		if (c->link_netnsid != r->host_nsid || r->host_nsid < 0) {
			sbuf_printf(&sk, "%s'%s': its peer is in another netns, not the host's",
				    sk.len ? "; " : "", c->ifname);
			continue;
		}
		for (size_t k = 0; k < nhost; k++)
			if (host[k].ifindex == c->link)
				h = &host[k];
		if (!h) {
			sbuf_printf(&sk, "%s'%s': no host link with index %d", sk.len ? "; " : "",
				    c->ifname, c->link);
			continue;
		}
		if (strcmp(h->kind, "veth") != 0 || strcmp(c->kind, "veth") != 0 ||
		    h->link != c->ifindex || h->link_netnsid != ctr_nsid || ctr_nsid < 0) {
			sbuf_printf(&sk,
				    "%s'%s': host link '%s' (%s) is not its veth peer; not cut on "
				    "the host",
				    sk.len ? "; " : "", c->ifname, h->ifname,
				    *h->kind ? h->kind : "?");
			continue;
		}
		snprintf(v[nv].ifname, sizeof(v[nv].ifname), "%s", h->ifname);
		v[nv].ifindex = h->ifindex;
		snprintf(v[nv].ctr_ifname, sizeof(v[nv].ctr_ifname), "%s", c->ifname);
		v[nv].ctr_ifindex = c->ifindex;
		nv++;
	}
	if (nv == 0) {
		free(v);
		v = NULL;
	}
	*devs = v;
	*ndevs = nv;
out:
	if (skipped && sk.len)
		*skipped = sbuf_steal(&sk);
	sbuf_free(&sk);
	return 0;
}

int ncut_find_host_devs(const char *netns_path, unsigned long long ino,
			struct ncut_dev **devs, size_t *ndevs, char **skipped, struct err *e)
{
	*devs = NULL;
	*ndevs = 0;
	if (skipped)
		*skipped = NULL;
	_cleanup_close_ int hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (hostfd < 0)
		return err_sys(e, errno, "open '/proc/self/ns/net'");
	_cleanup_close_ int ctrfd = open_netns(netns_path, ino, e);
	if (ctrfd < 0)
		return -1;
	struct peers_arg pa = {hostfd};
	struct nsres *r = xcalloc(1, sizeof(*r));
	_cleanup_free_ struct nsres *rf = r;
	if (in_netns(netns_path, ino, do_peers, &pa, r, e) < 0)
		return -1;
	return host_devs_of(r, ctrfd, devs, ndevs, skipped, e);
}

/* ---- the probe: what holds, in one visit of the container's netns ---- */

struct probe_arg {
	struct del_arg info; /* the container netns table */
	struct peers_arg peers;
};

/* one thread in the container's netns reads both its table and its links */
static int do_probe(void *argp, struct nsres *r)
{
	struct probe_arg *a = argp;
	if (do_info(&a->info, r) < 0)
		return err_wrap(&r->e, "container netns");
	if (do_peers(&a->peers, r) < 0)
		return err_wrap(&r->e, "host peers");
	return 0;
}

int ncut_probe(const char *netns_path, unsigned long long ino, const char *netns_table,
	       const char *host_table, struct ncut_probe *p, struct err *e)
{
	memset(p, 0, sizeof(*p));
	_cleanup_close_ int hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (hostfd < 0)
		return err_sys(e, errno, "open '/proc/self/ns/net'");
	_cleanup_close_ int ctrfd = open_netns(netns_path, ino, e);
	if (ctrfd < 0)
		return err_wrap(e, "container netns");
	struct probe_arg *a = xcalloc(1, sizeof(*a));
	a->info = (struct del_arg){"inet", netns_table, 0};
	a->peers.hostfd = hostfd;
	struct ncut_job j;
	if (in_netns_start(netns_path, ino, do_probe, a, a, &j, e) < 0)
		return err_wrap(e, "container netns");
	/* the host's table meanwhile, here */
	struct err he = {0};
	int rc_h = ncut_table_info(NULL, 0, "netdev", host_table, &p->host, &he);
	struct nsres *r = xcalloc(1, sizeof(*r));
	_cleanup_free_ struct nsres *rf = r;
	if (in_netns_finish(&j, r, e) < 0)
		return -1;
	p->netns = r->ti;
	if (rc_h < 0) {
		*e = he;
		return err_wrap(e, "host table");
	}
	if (host_devs_of(r, ctrfd, &p->devs, &p->ndevs, &p->skipped, e) < 0)
		return err_wrap(e, "host peers");
	return 0;
}

void ncut_probe_free(struct ncut_probe *p)
{
	free(p->devs);
	free(p->skipped);
	memset(p, 0, sizeof(*p));
}

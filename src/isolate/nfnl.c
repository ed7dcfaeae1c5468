/* nfnl.c: the read-back of a cut, straight from the kernel: an nftables
 * dump on a NETLINK_NETFILTER socket (NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN),
 * no library. It reads what the kernel holds, whatever wrote it, in the
 * netns of the calling thread; a reader never loads libnftables (list,
 * inspect and every verification stay light). libnftables is kept for
 * applying a cut (netcut.c).
 *
 * Everything in a reply is bounded: attribute lengths are checked against
 * the message, strings must end inside their attribute, at most
 * NFNL_MAX_ROUNDS receive rounds per dump. Only the kernel answers: the
 * socket is connected to it (the kernel then refuses a unicast to us from
 * any other socket, such as a root process of the container we read in),
 * every datagram's sender is checked to be the kernel's, and the first
 * sequence number is random, not guessable from the clock. */
#include <arpa/inet.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "contain/isolate.h"

#define NFNL_BUF	65536
#define NFNL_MAX_ROUNDS 100000
#define NFNL_MAX_TRIES	8 /* a dump that a concurrent change interrupted */

struct nfnl {
	int fd;
	uint32_t seq;
	char *buf;
};

static int nfnl_open(struct nfnl *n, struct err *e)
{
	n->buf = NULL;
	if (getrandom(&n->seq, sizeof(n->seq), GRND_NONBLOCK) != sizeof(n->seq))
		n->seq = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (n->fd < 0)
		return err_sys(e, errno, "netfilter netlink socket");
	struct sockaddr_nl k = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel */
	if (connect(n->fd, (struct sockaddr *)&k, sizeof(k)) < 0) {
		int en = errno;
		close(n->fd);
		n->fd = -1;
		return err_sys(e, en, "netfilter netlink connect");
	}
	struct timeval tv = {5, 0};
	(void)setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n->buf = xmalloc(NFNL_BUF);
	return 0;
}

static void nfnl_close(struct nfnl *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	free(n->buf);
	n->buf = NULL;
}

static int family_of(const char *family, uint8_t *f)
{
	if (strcmp(family, "inet") == 0)
		*f = NFPROTO_INET;
	else if (strcmp(family, "netdev") == 0)
		*f = NFPROTO_NETDEV;
	else if (strcmp(family, "ip") == 0)
		*f = NFPROTO_IPV4;
	else if (strcmp(family, "ip6") == 0)
		*f = NFPROTO_IPV6;
	else
		return -1;
	return 0;
}

/* one request: nlmsghdr + nfgenmsg [+ a string attribute] */
static int nfnl_send(struct nfnl *n, uint16_t msg, uint16_t flags, uint8_t family, uint16_t attr,
		     const char *s, struct err *e)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
		char a[NLA_HDRLEN + NLA_ALIGN(NCUT_TABLE_MAX)];
	} req;
	memset(&req, 0, sizeof(req));
	size_t len = NLMSG_LENGTH(sizeof(req.g));
	if (s) {
		size_t sl = strlen(s) + 1;
		if (sl > NCUT_TABLE_MAX)
			return err_set(e, ERR_INVALID, "name too long '%.40s'", s);
		struct nlattr *a = (struct nlattr *)req.a;
		a->nla_type = attr;
		a->nla_len = (uint16_t)(NLA_HDRLEN + sl);
		memcpy(req.a + NLA_HDRLEN, s, sl);
		len += NLA_ALIGN(a->nla_len);
	}
	req.h.nlmsg_len = (uint32_t)len;
	req.h.nlmsg_type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | msg);
	req.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	req.h.nlmsg_seq = ++n->seq;
	req.g.nfgen_family = family;
	req.g.version = NFNETLINK_V0;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(n->fd, &req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_sys(e, errno, "netfilter netlink send");
	return 0;
}

/* the attributes in p[0..left), by type (at most max); a malformed one ends
 * the list */
static void attrs_in(const char *p, size_t left, const struct nlattr **tb, int max)
{
	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	while (left >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			break;
		int t = a->nla_type & NLA_TYPE_MASK;
		if (t <= max)
			tb[t] = a;
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
}

/* the attributes of an nftables message, by type (at most max) */
static void nfnl_attrs(const struct nlmsghdr *h, const struct nlattr **tb, int max)
{
	size_t off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct nfgenmsg)));
	size_t left = h->nlmsg_len > off ? h->nlmsg_len - off : 0;
	attrs_in((const char *)h + off, left, tb, max);
}

static void nested_attrs(const struct nlattr *nest, const struct nlattr **tb, int max)
{
	if (!nest || nest->nla_len < NLA_HDRLEN) {
		memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
		return;
	}
	attrs_in((const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN, tb, max);
}

/* a NUL-terminated string attribute that fits out (else "") */
static bool attr_str(const struct nlattr *a, char *out, size_t n)
{
	out[0] = '\0';
	if (!a)
		return false;
	size_t pl = a->nla_len - NLA_HDRLEN;
	const char *s = (const char *)a + NLA_HDRLEN;
	size_t l = strnlen(s, pl);
	if (l == pl || l >= n) /* not terminated inside, or too long for us */
		return false;
	memcpy(out, s, l + 1);
	return true;
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || a->nla_len < NLA_HDRLEN + 4)
		return false;
	uint32_t b;
	memcpy(&b, (const char *)a + NLA_HDRLEN, 4);
	*v = ntohl(b);
	return true;
}

static bool attr_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || a->nla_len < NLA_HDRLEN + 8)
		return false;
	uint32_t b[2];
	memcpy(b, (const char *)a + NLA_HDRLEN, 8);
	*v = ((uint64_t)ntohl(b[0]) << 32) | ntohl(b[1]);
	return true;
}

/* The messages of one datagram of replies to request seq: each nftables
 * message of type want goes to fn. Returns 0 at the end (NLMSG_DONE, or
 * the ACK of a single get), 2 when more datagrams are to come, -1 on an
 * error (e; ENOENT kept in errnum). *intr is set when a message says the
 * dump was interrupted by a concurrent change (NLM_F_DUMP_INTR). */
typedef void (*nfnl_fn)(const struct nlmsghdr *h, void *ctx);
static int nfnl_walk(void *buf, size_t size, uint32_t seq, uint16_t want, nfnl_fn fn,
		     void *ctx, bool *intr, struct err *e)
{
	int len = size > NFNL_BUF ? NFNL_BUF : (int)size;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue; /* an answer to an earlier request */
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;
		if (h->nlmsg_type == NLMSG_DONE)
			return 0;
		if (h->nlmsg_type == NLMSG_ERROR) {
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return err_set(e, ERR_SYS, "short netlink error");
			const struct nlmsgerr *ne = NLMSG_DATA(h);
			if (ne->error == 0)
				return 0; /* the ACK of a get */
			if (ne->error > 0 || ne->error < -4095)
				return err_set(e, ERR_SYS, "netlink error %d out of range",
					       ne->error);
			return err_sys(e, -ne->error, "nftables netlink");
		}
		if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | want) &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nfgenmsg)))
			fn(h, ctx);
	}
	return 2;
}

/* Receive the replies to the last request (nfnl_walk on each datagram
 * the kernel sent). Returns 0 at the end, -1 on an error, 1 when a dump
 * was interrupted by a concurrent change (ask again). */
static int nfnl_recv(struct nfnl *n, uint16_t want, nfnl_fn fn, void *ctx, struct err *e)
{
	bool intr = false;
	for (int rounds = 0; rounds < NFNL_MAX_ROUNDS; rounds++) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(n->fd, n->buf, NFNL_BUF, MSG_TRUNC, (struct sockaddr *)&from,
				       &fl);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, errno, "netfilter netlink recv");
		}
		if (fl < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue; /* not from the kernel: never read */
		if (got > NFNL_BUF)
			return err_set(e, ERR_SYS, "netfilter netlink reply of %zd bytes "
						   "(over %d): truncated", got, NFNL_BUF);
		int r = nfnl_walk(n->buf, (size_t)got, n->seq, want, fn, ctx, &intr, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return intr ? 1 : 0;
	}
	return err_set(e, ERR_SYS, "netfilter netlink dump does not end");
}

/* ---- a table: exists, handle ---- */

struct table_ctx {
	const char *name;
	bool exists;
	uint64_t handle;
	bool owned;
	uint32_t owner;
};

static void on_table(const struct nlmsghdr *h, void *p)
{
	struct table_ctx *t = p;
	const struct nlattr *tb[NFTA_TABLE_MAX + 1];
	char name[NCUT_TABLE_MAX];
	nfnl_attrs(h, tb, NFTA_TABLE_MAX);
	if (!attr_str(tb[NFTA_TABLE_NAME], name, sizeof(name)) || strcmp(name, t->name) != 0)
		return;
	t->exists = true;
	(void)attr_u64(tb[NFTA_TABLE_HANDLE], &t->handle);
	/* flags we cannot read count as owned: never taken for ours */
	uint32_t fl = 0;
	bool bad = tb[NFTA_TABLE_FLAGS] && !attr_u32(tb[NFTA_TABLE_FLAGS], &fl);
	t->owned = bad || (fl & NFT_TABLE_F_OWNER);
	if (t->owned)
		(void)attr_u32(tb[NFTA_TABLE_OWNER], &t->owner);
}

/* ---- its chains: base chains with policy drop, the devices bound ---- */

struct chain_ctx {
	const char *table;
	bool netdev;
	struct ncut_table_info *ti;
};

/* the one device a netdev hook names: NFTA_HOOK_DEV, or a NFTA_HOOK_DEVS
 * list of exactly one (more than one: "" and counted as a mismatch) */
static void hook_dev(const struct nlattr *const *hk, char *dev, size_t n)
{
	dev[0] = '\0';
	if (hk[NFTA_HOOK_DEV]) {
		(void)attr_str(hk[NFTA_HOOK_DEV], dev, n);
		return;
	}
	const struct nlattr *devs = hk[NFTA_HOOK_DEVS];
	if (!devs)
		return;
	const char *p = (const char *)devs + NLA_HDRLEN;
	size_t left = devs->nla_len - NLA_HDRLEN;
	int count = 0;
	char one[IF_NAMESIZE] = "";
	while (left >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NFTA_DEVICE_NAME && count++ == 0)
			(void)attr_str(a, one, sizeof(one));
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	if (count == 1)
		snprintf(dev, n, "%s", one);
}

static void on_chain(const struct nlmsghdr *h, void *p)
{
	struct chain_ctx *c = p;
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1];
	char table[NCUT_TABLE_MAX], name[NCUT_TABLE_MAX];
	nfnl_attrs(h, tb, NFTA_CHAIN_MAX);
	if (!attr_str(tb[NFTA_CHAIN_TABLE], table, sizeof(table)) || strcmp(table, c->table) != 0)
		return;
	if (!tb[NFTA_CHAIN_HOOK])
		return; /* a regular chain */
	uint32_t pol;
	if (attr_u32(tb[NFTA_CHAIN_POLICY], &pol) && pol == NF_DROP)
		c->ti->ndrop++;
	if (!c->netdev)
		return;
	const struct nlattr *hk[NFTA_HOOK_MAX + 1];
	nested_attrs(tb[NFTA_CHAIN_HOOK], hk, NFTA_HOOK_MAX);
	char dev[IF_NAMESIZE];
	uint32_t num = UINT32_MAX;
	hook_dev(hk, dev, sizeof(dev));
	(void)attr_u32(hk[NFTA_HOOK_HOOKNUM], &num);
	if (!*dev)
		return;
	struct ncut_table_info *ti = c->ti;
	if (ti->nbound >= ARRAY_SIZE(ti->bound)) {
		ti->nbound++; /* counted: more than we can keep is a mismatch */
		return;
	}
	struct ncut_bound *b = &ti->bound[ti->nbound++];
	memset(b, 0, sizeof(*b));
	(void)attr_str(tb[NFTA_CHAIN_NAME], name, sizeof(name));
	snprintf(b->chain, sizeof(b->chain), "%s", name);
	snprintf(b->dev, sizeof(b->dev), "%s", dev);
	b->egress = num == NF_NETDEV_EGRESS;
	const char *u = strchr(name, '_');
	long long v;
	if (u && parse_ll(u + 1, 1, INT_MAX, &v) == 0)
		b->ifindex = (int)v;
}

/* get one table (single get), then dump the family's chains; a dump
 * interrupted by a change is asked again from the table on */
int nfnl_table_info(const char *family, const char *table, struct ncut_table_info *ti,
		    struct err *e)
{
	uint8_t f;
	memset(ti, 0, sizeof(*ti));
	if (family_of(family, &f) < 0)
		return err_set(e, ERR_INVALID, "unknown nftables family '%s'", family);
	if (strlen(table) >= NCUT_TABLE_MAX)
		return err_set(e, ERR_INVALID, "bad table name '%.40s'", table);
	struct nfnl n;
	if (nfnl_open(&n, e) < 0)
		return -1;
	int rc = -1;
	for (int tries = 0; tries < NFNL_MAX_TRIES; tries++) {
		memset(ti, 0, sizeof(*ti));
		struct table_ctx t = {.name = table};
		struct err le = {0};
		if (nfnl_send(&n, NFT_MSG_GETTABLE, NLM_F_ACK, f, NFTA_TABLE_NAME, table, e) < 0)
			break;
		int r = nfnl_recv(&n, NFT_MSG_NEWTABLE, on_table, &t, &le);
		if (r < 0 && le.kind == ERR_SYS && le.errnum == ENOENT) {
			rc = 0; /* no such table */
			break;
		}
		if (r < 0) {
			*e = le;
			break;
		}
		if (!t.exists) {
			rc = err_set(e, ERR_SYS, "table %s %s: the kernel acked no table", family,
				     table);
			break;
		}
		ti->exists = true;
		ti->handle = t.handle;
		ti->owned = t.owned;
		ti->owner = t.owner;
		struct chain_ctx c = {table, f == NFPROTO_NETDEV, ti};
		if (nfnl_send(&n, NFT_MSG_GETCHAIN, NLM_F_DUMP, f, 0, NULL, e) < 0)
			break;
		r = nfnl_recv(&n, NFT_MSG_NEWCHAIN, on_chain, &c, e);
		if (r < 0)
			break;
		/* the chains were the table's: the same table after the dump */
		struct table_ctx t2 = {.name = table};
		if (r == 0 &&
		    nfnl_send(&n, NFT_MSG_GETTABLE, NLM_F_ACK, f, NFTA_TABLE_NAME, table, e) < 0)
			break;
		if (r == 0 && nfnl_recv(&n, NFT_MSG_NEWTABLE, on_table, &t2, &le) < 0 &&
		    !(le.kind == ERR_SYS && le.errnum == ENOENT)) {
			*e = le;
			break;
		}
		if (r == 0 && t2.exists && t2.handle == t.handle) {
			rc = 0;
			break;
		}
		rc = err_set(e, ERR_SYS, "table %s %s: changed on every read (the chain dump)",
			     family, table);
	}
	nfnl_close(&n);
	return rc;
}

/* ---- the names of a family's tables ---- */

struct names_ctx {
	const char *prefix;
	char **v;
	size_t n, max;
};

static void on_name(const struct nlmsghdr *h, void *p)
{
	struct names_ctx *c = p;
	const struct nlattr *tb[NFTA_TABLE_MAX + 1];
	char name[NCUT_TABLE_MAX];
	nfnl_attrs(h, tb, NFTA_TABLE_MAX);
	if (!attr_str(tb[NFTA_TABLE_NAME], name, sizeof(name)) ||
	    !str_has_prefix(name, c->prefix) || c->n >= c->max)
		return;
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = xstrdup(name);
}

int nfnl_table_names(const char *family, const char *prefix, size_t max, char ***names,
		     size_t *count, struct err *e)
{
	uint8_t f;
	*names = NULL;
	*count = 0;
	if (family_of(family, &f) < 0)
		return err_set(e, ERR_INVALID, "unknown nftables family '%s'", family);
	struct nfnl n;
	if (nfnl_open(&n, e) < 0)
		return -1;
	int rc = -1;
	struct names_ctx c = {prefix, NULL, 0, max};
	for (int tries = 0; tries < NFNL_MAX_TRIES; tries++) {
		for (size_t i = 0; i < c.n; i++)
			free(c.v[i]);
		c.n = 0;
		if (nfnl_send(&n, NFT_MSG_GETTABLE, NLM_F_DUMP, f, 0, NULL, e) < 0)
			break;
		int r = nfnl_recv(&n, NFT_MSG_NEWTABLE, on_name, &c, e);
		if (r < 0)
			break;
		if (r == 0) {
			rc = 0;
			break;
		}
		rc = err_set(e, ERR_SYS, "the %s table dump kept being interrupted", family);
	}
	nfnl_close(&n);
	if (rc < 0) {
		for (size_t i = 0; i < c.n; i++)
			free(c.v[i]);
		free(c.v);
		return -1;
	}
	*names = c.v;
	*count = c.n;
	return 0;
}

/* ---- the parsers alone, on replies that did not come from a socket ---- */

int nfnl_parse_replies(const void *buf, size_t len, uint32_t seq, const char *table, bool netdev,
		       struct ncut_table_info *ti, size_t *nnames, struct err *e)
{
	memset(ti, 0, sizeof(*ti));
	*nnames = 0;
	if (len > NFNL_BUF)
		return err_set(e, ERR_INVALID, "replies of %zu bytes (over %d)", len, NFNL_BUF);
	_cleanup_free_ char *copy = xmalloc(len ? len : 1); /* aligned, as recv's buffer */
	memcpy(copy, buf, len);
	bool intr = false;
	struct table_ctx t = {.name = table};
	int r = nfnl_walk(copy, len, seq, NFT_MSG_NEWTABLE, on_table, &t, &intr, e);
	ti->exists = t.exists;
	ti->handle = t.handle;
	ti->owned = t.owned;
	ti->owner = t.owner;
	struct names_ctx c = {"contain_", NULL, 0, 64};
	if (r >= 0)
		r = nfnl_walk(copy, len, seq, NFT_MSG_NEWTABLE, on_name, &c, &intr, e);
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i]);
	free(c.v);
	*nnames = c.n;
	struct chain_ctx ch = {table, netdev, ti};
	if (r >= 0)
		r = nfnl_walk(copy, len, seq, NFT_MSG_NEWCHAIN, on_chain, &ch, &intr, e);
	return r < 0 ? -1 : r == 0 ? (intr ? 1 : 0) : 2;
}

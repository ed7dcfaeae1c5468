/* aidx: the index of a filesystem tree, compact.
 *
 * Nodes are fixed-size records in one growable array (the id is the index);
 * component names, link targets and capability bytes live in one byte arena
 * (offsets, no per-node allocation, no full path stored); a chained hash of
 * (parent id, name) finds a child; children are a doubly linked sibling
 * list. Ids are never reused: a removed node stays dead (aidx_capacity()
 * stays valid for bitmaps). Kept content (passwd, package databases) is a
 * side table, bounded in total. */
#include <string.h>
#include <sys/random.h>

#include "contain/analyze.h"

#define ARENA_MAX      (1ull << 30)  /* bytes of names, link targets, caps of one index */
#define KEEP_TOTAL_MAX (96ull << 20) /* bytes of kept content of one index */
#define KEEP_COUNT_MAX 65536u	     /* kept files of one index */

enum {
	NF_LIVE = 1,
	NF_IMPLICIT = 2,
	NF_SHA = 4,
	NF_KEPT = 8,
};

struct anode {
	uint32_t parent, first_child, next_sibling, prev_sibling;
	uint32_t hnext; /* hash chain */
	uint32_t name_off;
	uint16_t name_len;
	uint8_t type, flags;
	uint16_t layer;
	uint16_t caps_len;
	uint32_t mode, uid, gid, nxattrs;
	uint32_t link_off; /* 0: none (offset 0 of the arena is never used) */
	uint32_t caps_off;
	uint64_t size;
	int64_t mtime;
	unsigned char sha256[32];
};

struct akept {
	aidx_id id;
	bool truncated;
	size_t n;
	void *buf;
};

struct aidx {
	struct anode *nodes;
	size_t nnodes, cap, live;
	size_t max_nodes;
	char *arena;
	size_t alen, acap;
	uint32_t *buckets;
	size_t nbuckets; /* a power of two */
	uint64_t seed;
	struct akept *kept;
	size_t nkept, kcap, kept_bytes;
};

const char *aent_type_name(enum aent_type t)
{
	switch (t) {
	case AENT_FILE:
		return "file";
	case AENT_DIR:
		return "dir";
	case AENT_SYMLINK:
		return "symlink";
	case AENT_CHAR:
		return "char";
	case AENT_BLOCK:
		return "block";
	case AENT_FIFO:
		return "fifo";
	case AENT_SOCKET:
		return "socket";
	case AENT_NONE:
		break;
	}
	return "none";
}

static uint64_t name_hash(uint64_t seed, uint32_t parent, const char *name, size_t n)
{
	uint64_t h = seed ^ (0xcbf29ce484222325ull + parent * 0x9e3779b97f4a7c15ull);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ull;
	}
	/* murmur3's finalizer */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

struct aidx *aidx_new(void)
{
	struct aidx *x = xcalloc(1, sizeof(*x));
	x->max_nodes = (size_t)AN_ENTRIES_MAX + 1;
	if (getrandom(&x->seed, sizeof(x->seed), GRND_NONBLOCK) != sizeof(x->seed))
		x->seed = (uint64_t)(uintptr_t)x ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	x->acap = 4096;
	x->arena = xmalloc(x->acap);
	x->arena[0] = 0;
	x->alen = 1;
	x->nbuckets = 1024;
	x->buckets = xmalloc(x->nbuckets * sizeof(*x->buckets));
	memset(x->buckets, 0xff, x->nbuckets * sizeof(*x->buckets));
	x->cap = 256;
	x->nodes = xcalloc(x->cap, sizeof(*x->nodes));
	struct anode *r = &x->nodes[0];
	r->parent = r->first_child = r->next_sibling = r->prev_sibling = r->hnext = AIDX_NONE;
	r->type = AENT_DIR;
	r->flags = NF_LIVE | NF_IMPLICIT;
	r->mode = 0755;
	x->nnodes = 1;
	return x;
}

void aidx_free(struct aidx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nkept; i++)
		free(x->kept[i].buf);
	free(x->kept);
	free(x->nodes);
	free(x->arena);
	free(x->buckets);
	free(x);
}

void aidx_set_limit(struct aidx *x, size_t max_nodes)
{
	x->max_nodes = max_nodes + 1;
}

/* Append n bytes (and a NUL when nul) to the arena: its offset, or 0 when full. */
static uint32_t arena_add(struct aidx *x, const void *p, size_t n, bool nul)
{
	size_t need = n + (nul ? 1 : 0);
	if (need > ARENA_MAX || x->alen > ARENA_MAX - need)
		return 0;
	if (x->alen + need > x->acap)
		xgrow(&x->arena, &x->acap, x->alen + need, 1);
	uint32_t off = (uint32_t)x->alen;
	memcpy(x->arena + off, p, n);
	if (nul)
		x->arena[off + n] = 0;
	x->alen += need;
	return off;
}

static bool live(const struct aidx *x, aidx_id id)
{
	return id < x->nnodes && (x->nodes[id].flags & NF_LIVE);
}

static aidx_id child_find(const struct aidx *x, aidx_id parent, const char *name, size_t n)
{
	uint64_t h = name_hash(x->seed, parent, name, n);
	for (uint32_t i = x->buckets[h & (x->nbuckets - 1)]; i != AIDX_NONE;
	     i = x->nodes[i].hnext) {
		const struct anode *c = &x->nodes[i];
		if (c->parent == parent && c->name_len == n &&
		    memcmp(x->arena + c->name_off, name, n) == 0)
			return i;
	}
	return AIDX_NONE;
}

static void hash_insert(struct aidx *x, aidx_id id)
{
	struct anode *c = &x->nodes[id];
	uint64_t h = name_hash(x->seed, c->parent, x->arena + c->name_off, c->name_len);
	size_t b = h & (x->nbuckets - 1);
	c->hnext = x->buckets[b];
	x->buckets[b] = id;
}

static void hash_unlink(struct aidx *x, aidx_id id)
{
	struct anode *c = &x->nodes[id];
	uint64_t h = name_hash(x->seed, c->parent, x->arena + c->name_off, c->name_len);
	uint32_t *pp = &x->buckets[h & (x->nbuckets - 1)];
	while (*pp != AIDX_NONE) {
		if (*pp == id) {
			*pp = c->hnext;
			break;
		}
		pp = &x->nodes[*pp].hnext;
	}
	c->hnext = AIDX_NONE;
}

static void hash_grow(struct aidx *x)
{
	size_t nb = x->nbuckets * 2;
	free(x->buckets);
	x->buckets = xreallocarray(NULL, nb, sizeof(*x->buckets));
	memset(x->buckets, 0xff, nb * sizeof(*x->buckets));
	x->nbuckets = nb;
	for (size_t i = 1; i < x->nnodes; i++)
		if (x->nodes[i].flags & NF_LIVE)
			hash_insert(x, (aidx_id)i);
}

static void kept_drop(struct aidx *x, aidx_id id)
{
	if (!(x->nodes[id].flags & NF_KEPT))
		return;
	x->nodes[id].flags &= (uint8_t)~NF_KEPT;
	for (size_t i = 0; i < x->nkept; i++) {
		if (x->kept[i].id == id) {
			x->kept_bytes -= x->kept[i].n;
			free(x->kept[i].buf);
			x->kept[i] = x->kept[--x->nkept];
			return;
		}
	}
}

/* A new child of parent named name[0..n), linked and hashed. */
static int node_new(struct aidx *x, aidx_id parent, const char *name, size_t n, aidx_id *out,
		    struct err *e)
{
	if (x->nnodes >= x->max_nodes)
		return err_set(e, ERR_INVALID, "more than %zu entries in the index",
			       x->max_nodes - 1);
	if (n == 0 || n > UINT16_MAX)
		return err_set(e, ERR_INVALID, "bad path component length %zu", n);
	uint32_t off = arena_add(x, name, n, false);
	if (!off)
		return err_set(e, ERR_INVALID, "index names past %llu bytes",
			       (unsigned long long)ARENA_MAX);
	if (x->nnodes == x->cap)
		xgrow(&x->nodes, &x->cap, x->nnodes + 1, sizeof(*x->nodes));
	aidx_id id = (aidx_id)x->nnodes++;
	struct anode *c = &x->nodes[id];
	memset(c, 0, sizeof(*c));
	c->parent = parent;
	c->name_off = off;
	c->name_len = (uint16_t)n;
	c->flags = NF_LIVE;
	c->first_child = c->prev_sibling = c->hnext = AIDX_NONE;
	struct anode *p = &x->nodes[parent];
	c->next_sibling = p->first_child;
	if (p->first_child != AIDX_NONE)
		x->nodes[p->first_child].prev_sibling = id;
	p->first_child = id;
	x->live++;
	if (x->live > x->nbuckets)
		hash_grow(x);
	else
		hash_insert(x, id);
	*out = id;
	return 0;
}

/* Unlink a node from its parent's list and the hash, mark it and its subtree dead. */
static void subtree_kill(struct aidx *x, aidx_id id)
{
	struct anode *c = &x->nodes[id];
	if (c->prev_sibling != AIDX_NONE)
		x->nodes[c->prev_sibling].next_sibling = c->next_sibling;
	else if (c->parent != AIDX_NONE)
		x->nodes[c->parent].first_child = c->next_sibling;
	if (c->next_sibling != AIDX_NONE)
		x->nodes[c->next_sibling].prev_sibling = c->prev_sibling;
	c->next_sibling = c->prev_sibling = AIDX_NONE;
	/* iterative walk: descend first children, kill on the way back up */
	aidx_id cur = id;
	for (;;) {
		while (x->nodes[cur].first_child != AIDX_NONE)
			cur = x->nodes[cur].first_child;
		struct anode *n = &x->nodes[cur];
		aidx_id next;
		if (cur == id)
			next = AIDX_NONE;
		else if (n->next_sibling != AIDX_NONE)
			next = n->next_sibling;
		else
			next = n->parent;
		if (cur != id) {
			/* cur is its parent's first child: unlink it from the front */
			x->nodes[n->parent].first_child = n->next_sibling;
			if (n->next_sibling != AIDX_NONE)
				x->nodes[n->next_sibling].prev_sibling = AIDX_NONE;
		}
		hash_unlink(x, cur);
		kept_drop(x, cur);
		n->flags = 0;
		n->first_child = n->next_sibling = n->prev_sibling = AIDX_NONE;
		x->live--;
		if (next == AIDX_NONE)
			break;
		cur = next;
	}
}

static void children_kill(struct aidx *x, aidx_id dir)
{
	while (x->nodes[dir].first_child != AIDX_NONE)
		subtree_kill(x, x->nodes[dir].first_child);
}

/* Link target and caps into the arena, before anything changes. */
static int entry_strings(struct aidx *x, const struct aidx_entry *ent, uint32_t *loff,
			 uint32_t *coff, struct err *e)
{
	*loff = *coff = 0;
	if (ent->link_target) {
		size_t n = strlen(ent->link_target);
		if (n >= AN_PATH_MAX)
			return err_set(e, ERR_INVALID, "link target of %zu bytes", n);
		if (!(*loff = arena_add(x, ent->link_target, n, true)))
			return err_set(e, ERR_INVALID, "index names past %llu bytes",
				       (unsigned long long)ARENA_MAX);
	}
	if (ent->caps && ent->caps_len) {
		if (ent->caps_len > UINT16_MAX)
			return err_set(e, ERR_INVALID, "capability value of %zu bytes",
				       ent->caps_len);
		if (!(*coff = arena_add(x, ent->caps, ent->caps_len, false)))
			return err_set(e, ERR_INVALID, "index names past %llu bytes",
				       (unsigned long long)ARENA_MAX);
	}
	return 0;
}

static void entry_store(struct aidx *x, aidx_id id, const struct aidx_entry *ent, uint32_t loff,
			uint32_t coff)
{
	struct anode *c = &x->nodes[id];
	c->type = (uint8_t)ent->type;
	c->mode = ent->mode & 07777;
	c->uid = ent->uid;
	c->gid = ent->gid;
	c->size = ent->size;
	c->mtime = ent->mtime;
	c->layer = ent->layer;
	c->nxattrs = ent->nxattrs;
	c->link_off = loff;
	c->caps_off = coff;
	c->caps_len = coff ? (uint16_t)ent->caps_len : 0;
	c->flags = (uint8_t)((c->flags & (NF_LIVE | NF_KEPT)) | (ent->implicit ? NF_IMPLICIT : 0) |
			     (ent->has_sha256 ? NF_SHA : 0));
	if (ent->has_sha256)
		memcpy(c->sha256, ent->sha256, 32);
	else
		memset(c->sha256, 0, 32);
}

int aidx_set(struct aidx *x, const char *path, const struct aidx_entry *ent, aidx_id *out,
	     struct err *e)
{
	size_t plen = strlen(path);
	if (plen == 0 || plen >= AN_PATH_MAX)
		return err_set(e, ERR_INVALID, "index path of %zu bytes", plen);
	if (ent->type == AENT_NONE || ent->type > AENT_SOCKET)
		return err_set(e, ERR_INVALID, "'%.200s': no entry type", path);
	for (const char *q = path;;) {
		const char *slash = strchr(q, '/');
		size_t n = slash ? (size_t)(slash - q) : strlen(q);
		if (n == 0 || (n == 1 && q[0] == '.') || (n == 2 && q[0] == '.' && q[1] == '.'))
			return err_set(e, ERR_INVALID, "'%.200s': not a normalized path", path);
		if (!slash)
			break;
		q = slash + 1;
	}
	uint32_t loff, coff;
	if (entry_strings(x, ent, &loff, &coff, e) < 0)
		return err_wrap(e, "'%.200s'", path);
	aidx_id cur = AIDX_ROOT;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (x->nodes[cur].type != AENT_DIR)
			return err_set(e, ERR_INVALID, "'%.200s': under a non-directory", path);
		aidx_id c = child_find(x, cur, p, n);
		if (!slash) {
			if (c == AIDX_NONE) {
				if (node_new(x, cur, p, n, &c, e) < 0)
					return -1;
			} else {
				if (x->nodes[c].type == AENT_DIR && ent->type != AENT_DIR)
					children_kill(x, c);
				kept_drop(x, c);
			}
			entry_store(x, c, ent, loff, coff);
			if (out)
				*out = c;
			return 0;
		}
		if (c == AIDX_NONE) {
			if (node_new(x, cur, p, n, &c, e) < 0)
				return -1;
			struct anode *d = &x->nodes[c];
			d->type = AENT_DIR;
			d->mode = 0755;
			d->layer = ent->layer;
			d->flags |= NF_IMPLICIT;
		}
		cur = c;
		p = slash + 1;
	}
}

aidx_id aidx_lookup(const struct aidx *x, const char *path)
{
	if (!path)
		return AIDX_NONE;
	if (!*path)
		return AIDX_ROOT;
	aidx_id cur = AIDX_ROOT;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > UINT16_MAX)
			return AIDX_NONE;
		cur = child_find(x, cur, p, n);
		if (cur == AIDX_NONE || !slash)
			return cur;
		p = slash + 1;
	}
}

void aidx_get(const struct aidx *x, aidx_id id, struct aidx_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (!live(x, id))
		return;
	const struct anode *c = &x->nodes[id];
	out->type = (enum aent_type)c->type;
	out->mode = c->mode;
	out->uid = c->uid;
	out->gid = c->gid;
	out->size = c->size;
	out->mtime = c->mtime;
	out->has_sha256 = c->flags & NF_SHA;
	if (out->has_sha256)
		memcpy(out->sha256, c->sha256, 32);
	out->link_target = c->link_off ? x->arena + c->link_off : NULL;
	out->caps = c->caps_off ? (const unsigned char *)x->arena + c->caps_off : NULL;
	out->caps_len = c->caps_len;
	out->nxattrs = c->nxattrs;
	out->layer = c->layer;
	out->implicit = c->flags & NF_IMPLICIT;
}

void aidx_remove(struct aidx *x, aidx_id id)
{
	if (id == AIDX_ROOT) {
		children_kill(x, AIDX_ROOT);
		return;
	}
	if (live(x, id))
		subtree_kill(x, id);
}

/* Remove what is below layer under dir; true when something of layer (or
 * above) stays under it. A lower directory that holds entries of this layer
 * stays (the layer implied it). Depth is bounded by AN_PATH_MAX / 2. */
static bool prune_below(struct aidx *x, aidx_id dir, uint16_t layer)
{
	bool kept = false;
	aidx_id c = x->nodes[dir].first_child;
	while (c != AIDX_NONE) {
		aidx_id next = x->nodes[c].next_sibling;
		const struct anode *n = &x->nodes[c];
		if (n->layer >= layer) {
			if (n->type == AENT_DIR)
				prune_below(x, c, layer);
			kept = true;
		} else if (n->type == AENT_DIR && prune_below(x, c, layer)) {
			kept = true;
		} else {
			subtree_kill(x, c);
		}
		c = next;
	}
	return kept;
}

void aidx_remove_below(struct aidx *x, aidx_id dir, uint16_t layer)
{
	if (!live(x, dir) || x->nodes[dir].type != AENT_DIR)
		return;
	prune_below(x, dir, layer);
}

aidx_id aidx_first_child(const struct aidx *x, aidx_id dir)
{
	return live(x, dir) ? x->nodes[dir].first_child : AIDX_NONE;
}

aidx_id aidx_next_sibling(const struct aidx *x, aidx_id id)
{
	return live(x, id) ? x->nodes[id].next_sibling : AIDX_NONE;
}

aidx_id aidx_parent(const struct aidx *x, aidx_id id)
{
	return live(x, id) ? x->nodes[id].parent : AIDX_NONE;
}

size_t aidx_path(const struct aidx *x, aidx_id id, char *buf, size_t sz)
{
	if (!live(x, id) || id == AIDX_ROOT) {
		if (sz)
			buf[0] = 0;
		return 0;
	}
	size_t len = 0;
	for (aidx_id c = id; c != AIDX_ROOT; c = x->nodes[c].parent)
		len += x->nodes[c].name_len + (len ? 1 : 0);
	if (len >= sz) {
		if (sz)
			buf[0] = 0;
		return len;
	}
	buf[len] = 0;
	size_t end = len;
	for (aidx_id c = id; c != AIDX_ROOT; c = x->nodes[c].parent) {
		const struct anode *n = &x->nodes[c];
		if (end != len)
			buf[--end] = '/';
		end -= n->name_len;
		memcpy(buf + end, x->arena + n->name_off, n->name_len);
	}
	return len;
}

size_t aidx_count(const struct aidx *x)
{
	return x->live;
}

size_t aidx_capacity(const struct aidx *x)
{
	return x->nnodes;
}

size_t aidx_memory(const struct aidx *x)
{
	return sizeof(*x) + x->cap * sizeof(*x->nodes) + x->acap +
	       x->nbuckets * sizeof(*x->buckets) + x->kcap * sizeof(*x->kept) + x->kept_bytes;
}

int aidx_keep(struct aidx *x, aidx_id id, const void *buf, size_t n, bool truncated, struct err *e)
{
	if (!live(x, id) || id == AIDX_ROOT)
		return err_set(e, ERR_INVALID, "keep: no entry %u", (unsigned)id);
	if (n > AN_KEEP_MAX) {
		n = AN_KEEP_MAX;
		truncated = true;
	}
	kept_drop(x, id);
	if (x->nkept >= KEEP_COUNT_MAX)
		return err_set(e, ERR_INVALID, "more than %u kept files", KEEP_COUNT_MAX);
	if (n > KEEP_TOTAL_MAX - x->kept_bytes)
		return err_set(e, ERR_INVALID, "kept content past %llu bytes",
			       (unsigned long long)KEEP_TOTAL_MAX);
	if (x->nkept == x->kcap)
		xgrow(&x->kept, &x->kcap, x->nkept + 1, sizeof(*x->kept));
	struct akept *k = &x->kept[x->nkept++];
	k->id = id;
	k->n = n;
	k->truncated = truncated;
	k->buf = xmalloc(n + 1);
	if (n)
		memcpy(k->buf, buf, n);
	((char *)k->buf)[n] = 0;
	x->kept_bytes += n;
	x->nodes[id].flags |= NF_KEPT;
	return 0;
}

const void *aidx_kept(const struct aidx *x, aidx_id id, size_t *n, bool *truncated)
{
	if (!live(x, id) || !(x->nodes[id].flags & NF_KEPT))
		return NULL;
	for (size_t i = 0; i < x->nkept; i++) {
		if (x->kept[i].id == id) {
			if (n)
				*n = x->kept[i].n;
			if (truncated)
				*truncated = x->kept[i].truncated;
			return x->kept[i].buf;
		}
	}
	return NULL;
}

/* ---- paths ---- */

int an_path_norm(const char *name, char *out, struct err *e)
{
	size_t o = 0;
	const char *p = name;
	while (*p) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (*p == '/')
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return err_set(e, ERR_INVALID, "entry '%.200s': a '..' component", name);
		if (n >= AN_PATH_MAX || o + (o ? 1 : 0) + n >= AN_PATH_MAX)
			return err_set(e, ERR_INVALID,
				       "entry '%.200s...': path longer than %u bytes", name,
				       AN_PATH_MAX - 1);
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = 0;
	if (!o)
		return err_set(e, ERR_INVALID, "entry '%.200s': empty path", name);
	return 0;
}

bool an_keep_path(const char *path)
{
	static const char *const exact[] = {
	    "etc/passwd",
	    "etc/shadow",
	    "etc/group",
	    "etc/gshadow",
	    "etc/sudoers",
	    "etc/ld.so.preload",
	    "var/lib/dpkg/status",
	    "lib/apk/db/installed",
	    "var/lib/rpm/Packages",
	    "var/lib/rpm/rpmdb.sqlite",
	    "usr/lib/sysimage/rpm/rpmdb.sqlite",
	    "etc/crontab",
	    "etc/ssh/sshd_config",
	    ".ssh/authorized_keys",
	};
	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(path, exact[i]) == 0)
			return true;
	if (str_has_prefix(path, "etc/sudoers.d/")) {
		const char *rest = path + strlen("etc/sudoers.d/");
		return *rest && !strchr(rest, '/');
	}
	return str_has_suffix(path, "/.ssh/authorized_keys");
}

/* image: an OCI image layout directory, an oci-archive or a docker-archive,
 * read with libarchive and never extracted; its layers applied in order
 * (whiteouts, opaque directories) into an aidx.
 *
 * An archive is read in one pass for its small JSON members (index.json,
 * manifests, configs, manifest.json: cached, bounded in total), then once
 * more per layer: libarchive seeks over the other members' data. A layer's
 * blob is hashed as it is read (the read callback hands libarchive the
 * hasher's own buffer: no copy), so its digest is checked in the same pass
 * that hashes its files. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/analyze.h"
#include "contain/bag.h"
#include "contain/hashio.h"
#include "contain/safefs.h"

#define NOTES_MAX	200u	    /* notes kept; then one saying how many more */
#define LAYERS_MAX	4096u	    /* layers of one image */
#define IMAGES_MAX	1024u	    /* images (manifests) of one archive */
#define MEMBERS_MAX	1000000u    /* members of an outer archive */
#define NAMES_MAX	(64u << 20) /* bytes of the member names of an outer archive */
#define INDEX_DEPTH_MAX 4	    /* nested image indexes */
#define BOMB_FLOOR	(64ull << 20)

static void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_read_freep)

#define _cleanup_json_ _cleanup_(json_decrefp)

/* "sha256:" + 64 lowercase hex: the hex, else NULL. Nothing else names a blob. */
static const char *digest_hex(const char *d)
{
	if (!d || !str_has_prefix(d, "sha256:"))
		return NULL;
	const char *h = d + 7;
	for (size_t i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return NULL;
	return h[64] ? NULL : h;
}

static void digest_str(const unsigned char md[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
}

/* Lexically join a link's directory and its target, resolving ".." inside
 * the archive: 0, or -1 when it leaves the root or is too long. */
static int path_join_norm(const char *base, const char *rel, char out[AN_PATH_MAX])
{
	char tmp[2 * AN_PATH_MAX + 2];
	if (rel[0] == '/')
		base = "";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", base, rel) >= sizeof(tmp))
		return -1;
	size_t o = 0;
	const char *p = tmp;
	while (*p) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (*p)
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!o)
				return -1;
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			continue;
		}
		if (o + 1 + n >= AN_PATH_MAX)
			return -1;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = 0;
	return o ? 0 : -1;
}

/* ---- the source: a layout directory or an archive ---- */

struct member {
	char *name;
	size_t seq; /* its place in the archive */
	char *buf;  /* cached content (small JSON-looking members), or NULL */
	size_t len;
	char *link; /* a link member: the member it names (normalized), or NULL */
};

struct src {
	bool is_dir;
	int dirfd;
	const char *path;
	struct member *m;
	size_t nm, mcap, cached, name_bytes;
	bool has_layout, has_index, has_docker_manifest;
};

static void src_free(struct src *s)
{
	for (size_t i = 0; i < s->nm; i++) {
		free(s->m[i].name);
		free(s->m[i].buf);
		free(s->m[i].link);
	}
	free(s->m);
	if (s->dirfd >= 0)
		close(s->dirfd);
}

/* Decompression in the library only: a filter libarchive would run as an
 * external program (ARCHIVE_WARN) is never enabled. Probed once. */
static int (*const filters[])(struct archive *) = {
    archive_read_support_filter_gzip,
    archive_read_support_filter_zstd,
    archive_read_support_filter_xz,
    archive_read_support_filter_bzip2,
};

static unsigned filters_in_lib(void)
{
	static int mask = -1;
	if (mask < 0) {
		int m = 0;
		for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
			struct archive *a = archive_read_new();
			if (filters[i](a) == ARCHIVE_OK)
				m |= 1 << i;
			archive_read_free(a);
		}
		mask = m;
	}
	return (unsigned)mask;
}

/* A tar reader (outer archive or layer): tar formats, in-library filters. */
static struct archive *tar_reader_new(void)
{
	struct archive *a = archive_read_new();
	unsigned m = filters_in_lib();
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++)
		if (m & (1u << i))
			filters[i](a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	return a;
}

static int outer_open(const struct src *s, struct archive **out, struct err *e)
{
	struct archive *a = tar_reader_new();
	if (archive_read_open_filename(a, s->path, 1 << 20) != ARCHIVE_OK) {
		err_set(e, ERR_INVALID, "'%s': not a tar archive: %s", s->path,
			archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* The outer archive's next member whose name normalizes (the others are
 * passed over), that name into name (AN_PATH_MAX bytes): true, or false at
 * the end, *r then what ended the walk (ARCHIVE_EOF or an error). */
static bool outer_next(struct archive *a, struct archive_entry **ent, char *name, int *r)
{
	struct err ne = {0};
	while ((*r = archive_read_next_header(a, ent)) == ARCHIVE_OK || *r == ARCHIVE_WARN) {
		const char *raw = archive_entry_pathname(*ent);
		if (raw && an_path_norm(raw, name, &ne) == 0)
			return true;
	}
	return false;
}

static bool looks_json(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')
			continue;
		return b[i] == '{' || b[i] == '[';
	}
	return false;
}

/* Read the rest of the current member into buf (at most max bytes in all). */
static int member_read(struct archive *a, char **buf, size_t *len, size_t have, size_t max,
		       struct err *e)
{
	for (;;) {
		char chunk[65536];
		la_ssize_t r = archive_read_data(a, chunk, sizeof(chunk));
		if (r < 0)
			return err_set(e, ERR_INVALID, "read: %s", archive_error_string(a));
		if (r == 0)
			break;
		if ((size_t)r > max - have)
			return err_set(e, ERR_INVALID, "member larger than %zu bytes", max);
		*buf = xrealloc(*buf, have + (size_t)r + 1);
		memcpy(*buf + have, chunk, (size_t)r);
		have += (size_t)r;
	}
	if (!*buf)
		*buf = xmalloc(1);
	(*buf)[have] = 0;
	*len = have;
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The archive's first pass: every member's name, links among them, the
 * content of the small members that look like JSON (bounded in total). */
static int src_scan(struct src *s, struct bag_notes *nt, struct err *e)
{
	_cleanup_archive_ struct archive *a = NULL;
	if (outer_open(s, &a, e) < 0)
		return -1;
	struct archive_entry *ent;
	int r;
	char name[AN_PATH_MAX];
	while (outer_next(a, &ent, name, &r)) {
		if (s->nm >= MEMBERS_MAX)
			return err_set(e, ERR_INVALID, "'%s': more than %u members", s->path,
				       MEMBERS_MAX);
		mode_t type = archive_entry_filetype(ent);
		const char *hl = archive_entry_hardlink(ent);
		const char *sl = type == AE_IFLNK ? archive_entry_symlink(ent) : NULL;
		if (!hl && !sl && type != AE_IFREG)
			continue;
		s->name_bytes += strlen(name) + 1;
		if (s->name_bytes > NAMES_MAX)
			return err_set(e, ERR_INVALID, "'%s': member names past %u bytes", s->path,
				       NAMES_MAX);
		xgrow(&s->m, &s->mcap, s->nm + 1, sizeof(*s->m));
		struct member *m = &s->m[s->nm];
		memset(m, 0, sizeof(*m));
		m->seq = s->nm++;
		m->name = xstrdup(name);
		if (!strcmp(name, "oci-layout"))
			s->has_layout = true;
		else if (!strcmp(name, "index.json"))
			s->has_index = true;
		else if (!strcmp(name, "manifest.json"))
			s->has_docker_manifest = true;
		if (hl || sl) {
			char tgt[AN_PATH_MAX], dir[AN_PATH_MAX];
			snprintf(dir, sizeof(dir), "%s", name);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = 0;
			else
				dir[0] = 0;
			if (path_join_norm(hl ? "" : dir, hl ? hl : sl, tgt) < 0) {
				bag_note(nt, "archive member '%.200s': its link leaves the archive",
					 name);
				continue;
			}
			m->link = xstrdup(tgt);
			continue;
		}
		int64_t sz = archive_entry_size(ent);
		if (!archive_entry_size_is_set(ent) || sz < 0 || (uint64_t)sz > AN_SMALL_JSON_MAX ||
		    s->cached + (uint64_t)sz > AN_JSON_MAX)
			continue;
		char head[512];
		la_ssize_t k = archive_read_data(a, head, sizeof(head));
		if (k < 0)
			return err_set(e, ERR_INVALID, "'%s': member '%.200s': %s", s->path, name,
				       archive_error_string(a));
		if (!looks_json(head, (size_t)k) && strcmp(name, "oci-layout") != 0)
			continue;
		m->buf = xmalloc((size_t)k + 1);
		memcpy(m->buf, head, (size_t)k);
		if (member_read(a, &m->buf, &m->len, (size_t)k, AN_SMALL_JSON_MAX, e) < 0)
			return err_wrap(e, "'%s': member '%.200s'", s->path, name);
		s->cached += m->len;
	}
	if (r != ARCHIVE_EOF)
		return err_set(e, ERR_INVALID, "'%s': %s", s->path, archive_error_string(a));
	qsort(s->m, s->nm, sizeof(*s->m), member_cmp);
	return 0;
}

/* The members named name: [*lo, *hi) of the sorted members (in archive order). */
static void member_range(const struct src *s, const char *name, size_t *lo, size_t *hi)
{
	size_t l = 0, h = s->nm;
	while (l < h) {
		size_t mid = l + (h - l) / 2;
		if (strcmp(s->m[mid].name, name) < 0)
			l = mid + 1;
		else
			h = mid;
	}
	*lo = l;
	while (l < s->nm && !strcmp(s->m[l].name, name))
		l++;
	*hi = l;
}

/* The member a name leads to (links followed inside the archive, at most 16). */
static struct member *src_member(struct src *s, const char *name)
{
	char cur[AN_PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", name);
	for (int hop = 0; hop < 16; hop++) {
		/* the last member of a name wins, as it would on extraction */
		size_t lo, hi;
		member_range(s, cur, &lo, &hi);
		struct member *found = hi > lo ? &s->m[hi - 1] : NULL;
		if (!found || !found->link)
			return found;
		snprintf(cur, sizeof(cur), "%s", found->link);
	}
	return NULL;
}

/* A small member or blob (index, manifest, config): its bytes. */
static int src_read_small(struct src *s, const char *name, char **buf, size_t *len, struct err *e)
{
	if (s->is_dir) {
		bool trunc = false;
		if (safe_read_in_root(s->dirfd, name, AN_SMALL_JSON_MAX, buf, len, &trunc, e) < 0)
			return err_wrap(e, "'%s'", s->path);
		if (trunc) {
			free(*buf);
			*buf = NULL;
			return err_set(e, ERR_INVALID, "'%s': '%s' larger than %llu bytes", s->path,
				       name, (unsigned long long)AN_SMALL_JSON_MAX);
		}
		return 0;
	}
	struct member *m = src_member(s, name);
	if (!m)
		return err_set(e, ERR_NOTFOUND, "'%s': no member '%s'", s->path, name);
	if (!m->buf)
		return err_set(e, ERR_INVALID,
			       "'%s': member '%s' is not JSON or larger than %llu bytes", s->path,
			       name, (unsigned long long)AN_SMALL_JSON_MAX);
	*buf = xmalloc(m->len + 1);
	memcpy(*buf, m->buf, m->len + 1);
	*len = m->len;
	return 0;
}

static int parse_json(const char *what, const char *buf, size_t len, json_t **out, struct err *e)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return err_set(e, ERR_INVALID, "'%s': invalid JSON: %s (line %d)", what, je.text,
			       je.line);
	*out = j;
	return 0;
}

/* A JSON member (dir or archive) parsed. */
static int src_json(struct src *s, const char *name, json_t **out, unsigned char md[32],
		    struct err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (src_read_small(s, name, &buf, &len, e) < 0)
		return -1;
	if (md)
		sha256_buf(buf, len, md);
	if (parse_json(name, buf, len, out, e) < 0)
		return err_wrap(e, "'%s'", s->path);
	return 0;
}

/* A blob by digest, parsed; a digest that does not match the bytes is a note. */
static int blob_json(struct src *s, const char *digest, struct bag_notes *nt, json_t **out,
		     struct err *e)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return err_set(e, ERR_INVALID, "'%s': bad blob digest '%.100s'", s->path,
			       digest ? digest : "(none)");
	char name[96], got[72];
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	unsigned char md[32];
	if (src_json(s, name, out, md, e) < 0)
		return -1;
	digest_str(md, got);
	if (strcmp(got, digest) != 0)
		bag_note(nt, "blob '%s': content digest is %s", digest, got);
	return 0;
}

/* ---- the images an archive or layout holds ---- */

struct cand {
	char *ref;     /* the name to show (RepoTag, ref.name annotation) */
	char *ref_alt; /* another name (io.containerd.image.name) */
	char *manifest_digest, *config_digest;
	char *platform;	   /* "os/arch" or NULL */
	json_t *manifest;  /* OCI: the manifest; docker: manifest.json's entry */
	char *config_path; /* docker: the config member */
};

struct cands {
	struct cand *c;
	size_t n, cap;
};

static void cands_free(struct cands *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		struct cand *c = &cs->c[i];
		free(c->ref);
		free(c->ref_alt);
		free(c->manifest_digest);
		free(c->config_digest);
		free(c->platform);
		free(c->config_path);
		json_decref(c->manifest);
	}
	free(cs->c);
}

/* One more candidate, zeroed; NULL (e set) past IMAGES_MAX. */
static struct cand *cand_new(const struct src *s, struct cands *cs, struct err *e)
{
	if (cs->n >= IMAGES_MAX) {
		err_set(e, ERR_INVALID, "'%s': more than %u images", s->path, IMAGES_MAX);
		return NULL;
	}
	xgrow(&cs->c, &cs->cap, cs->n + 1, sizeof(*cs->c));
	struct cand *c = &cs->c[cs->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

static bool is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

static int oci_walk(struct src *s, json_t *index, const char *ref, const char *ref_alt, int depth,
		    struct cands *cs, struct bag_notes *nt, struct err *e)
{
	json_t *mans = json_object_get(index, "manifests");
	if (!json_is_array(mans))
		return err_set(e, ERR_INVALID, "'%s': an image index without \"manifests\"",
			       s->path);
	size_t i;
	json_t *d;
	json_array_foreach(mans, i, d)
	{
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		const char *dg = json_string_value(json_object_get(d, "digest"));
		json_t *ann = json_object_get(d, "annotations");
		const char *r =
		    json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
		const char *ra =
		    json_string_value(json_object_get(ann, "io.containerd.image.name"));
		if (!r)
			r = ref;
		if (!ra)
			ra = ref_alt;
		if (!digest_hex(dg))
			return err_set(e, ERR_INVALID, "'%s': bad digest '%.100s' in an index",
				       s->path, dg ? dg : "(none)");
		/* buildkit's attestations (provenance, SBOM) are no image to run */
		const char *rt =
		    json_string_value(json_object_get(ann, "vnd.docker.reference.type"));
		if (rt && !strcmp(rt, "attestation-manifest"))
			continue;
		_cleanup_json_ json_t *j = NULL;
		if (blob_json(s, dg, nt, &j, e) < 0) {
			if (e->kind != ERR_NOTFOUND && !(s->is_dir && e->kind == ERR_SYS))
				return -1;
			/* an index may list platforms whose blobs were left out */
			bag_note(nt, "image '%s' (%s): blob not in the archive", r ? r : "", dg);
			err_clear(e);
			continue;
		}
		if (is_index_type(mt) || (!mt && json_object_get(j, "manifests"))) {
			if (depth >= INDEX_DEPTH_MAX)
				return err_set(e, ERR_INVALID,
					       "'%s': image indexes nested deeper than %d", s->path,
					       INDEX_DEPTH_MAX);
			if (oci_walk(s, j, r, ra, depth + 1, cs, nt, e) < 0)
				return -1;
			continue;
		}
		json_t *cfg = json_object_get(j, "config");
		const char *cd = json_string_value(json_object_get(cfg, "digest"));
		if (!json_is_object(cfg) || !json_is_array(json_object_get(j, "layers"))) {
			bag_note(nt, "'%s': not an image manifest, skipped", dg);
			continue;
		}
		if (!digest_hex(cd))
			return err_set(e, ERR_INVALID,
				       "'%s': manifest %s: bad config digest '%.100s'", s->path, dg,
				       cd ? cd : "(none)");
		struct cand *c = cand_new(s, cs, e);
		if (!c)
			return -1;
		c->ref = r ? xstrdup(r) : NULL;
		c->ref_alt = ra ? xstrdup(ra) : NULL;
		c->manifest_digest = xstrdup(dg);
		c->config_digest = xstrdup(cd);
		json_t *pl = json_object_get(d, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		if (os && arch)
			c->platform = xasprintf("%s/%s", os, arch);
		c->manifest = steal_pointer(&j);
	}
	return 0;
}

static int docker_cands(struct src *s, struct cands *cs, struct bag_notes *nt, struct err *e)
{
	_cleanup_json_ json_t *man = NULL;
	if (src_json(s, "manifest.json", &man, NULL, e) < 0)
		return -1;
	if (!json_is_array(man))
		return err_set(e, ERR_INVALID, "'%s': manifest.json is not an array", s->path);
	size_t i;
	json_t *d;
	json_array_foreach(man, i, d)
	{
		const char *cfg = json_string_value(json_object_get(d, "Config"));
		if (!cfg || !json_is_array(json_object_get(d, "Layers")))
			return err_set(e, ERR_INVALID,
				       "'%s': manifest.json entry %zu without Config or Layers",
				       s->path, i);
		char cpath[AN_PATH_MAX];
		if (an_path_norm(cfg, cpath, e) < 0)
			return err_wrap(e, "'%s': manifest.json Config", s->path);
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (src_read_small(s, cpath, &buf, &len, e) < 0)
			return -1;
		unsigned char md[32];
		char dg[72];
		sha256_buf(buf, len, md);
		digest_str(md, dg);
		json_t *tags = json_object_get(d, "RepoTags");
		size_t ntags = json_is_array(tags) ? json_array_size(tags) : 0;
		for (size_t t = 0; t < (ntags ? ntags : 1); t++) {
			struct cand *c = cand_new(s, cs, e);
			if (!c)
				return -1;
			const char *tag = ntags ? json_string_value(json_array_get(tags, t)) : NULL;
			c->ref = tag ? xstrdup(tag) : NULL;
			c->config_digest = xstrdup(dg);
			c->config_path = xstrdup(cpath);
			c->manifest = json_incref(d);
		}
	}
	if (!cs->n)
		bag_note(nt, "manifest.json lists no image");
	return 0;
}

/* "docker.io/library/x:t" -> "x:t"; "docker.io/u/x" -> "u/x" */
static const char *ref_short(const char *r)
{
	if (str_has_prefix(r, "docker.io/library/"))
		return r + strlen("docker.io/library/");
	if (str_has_prefix(r, "docker.io/"))
		return r + strlen("docker.io/");
	if (str_has_prefix(r, "localhost/"))
		return r + strlen("localhost/");
	return r;
}

/* The tag of a ref ("x:t" -> "t"), or NULL. */
static const char *ref_tag(const char *r)
{
	const char *c = strrchr(r, ':');
	if (!c || strchr(c, '/'))
		return NULL;
	return c + 1;
}

static bool ref_is_bare_tag(const char *r)
{
	return !strchr(r, ':') && !strchr(r, '/');
}

static bool ref_match1(const char *have, const char *want)
{
	if (!have)
		return false;
	if (!strcmp(have, want) || !strcmp(ref_short(have), ref_short(want)))
		return true;
	/* "latest" asked, "x:latest" held; or "x:latest" asked, "latest" (a layout's ref.name) held
	 */
	const char *ht = ref_tag(have), *wt = ref_tag(want);
	if (ref_is_bare_tag(want) && ht && !strcmp(ht, want))
		return true;
	if (ref_is_bare_tag(have) && wt && !strcmp(wt, have))
		return true;
	/* "x" asked, "x:latest" held */
	if (!wt && ht && !strcmp(ht, "latest")) {
		size_t n = strlen(ref_short(want));
		const char *hs = ref_short(have);
		if (!strncmp(hs, ref_short(want), n) && !strcmp(hs + n, ":latest"))
			return true;
	}
	return false;
}

static bool want_digest_match(const struct cand *c, const char *want)
{
	if (!want)
		return false;
	const char *at = strrchr(want, '@'); /* "name@sha256:..." (a repo digest) */
	if (at)
		want = at + 1;
	const char *w = str_has_prefix(want, "sha256:") ? want : NULL;
	if (w)
		return (c->manifest_digest && !strcmp(c->manifest_digest, w)) ||
		       (c->config_digest && !strcmp(c->config_digest, w));
	return (c->manifest_digest && !strcmp(c->manifest_digest + 7, want)) ||
	       (c->config_digest && !strcmp(c->config_digest + 7, want));
}

static const char *host_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return "other";
}

static void cands_list(const struct cands *cs, struct sbuf *b)
{
	for (size_t i = 0; i < cs->n && i < 20; i++)
		sbuf_printf(
		    b, "%s%.100s (%s%s%s)", i ? ", " : "", cs->c[i].ref ? cs->c[i].ref : "(no ref)",
		    cs->c[i].manifest_digest ? cs->c[i].manifest_digest : cs->c[i].config_digest,
		    cs->c[i].platform ? " " : "", cs->c[i].platform ? cs->c[i].platform : "");
	if (cs->n > 20)
		sbuf_printf(b, " and %zu more", cs->n - 20);
}

/* Pick one image: by ref, else by the recorded digest, else the only one. */
static int cands_pick(const struct src *s, const struct cands *cs, const struct aimg_opts *o,
		      size_t *pick, struct err *e)
{
	size_t *m = xcalloc(cs->n + 1, sizeof(*m));
	size_t nm = 0;
	for (size_t i = 0; i < cs->n; i++) {
		const struct cand *c = &cs->c[i];
		bool ok =
		    o->ref ? ref_match1(c->ref, o->ref) || ref_match1(c->ref_alt, o->ref) : true;
		if (ok)
			m[nm++] = i;
	}
	if (!o->ref && nm > 1 && o->want_digest) {
		size_t k = 0;
		for (size_t i = 0; i < nm; i++)
			if (want_digest_match(&cs->c[m[i]], o->want_digest))
				m[k++] = m[i];
		if (k)
			nm = k;
	}
	if (nm > 1) {
		/* several platforms of one ref: the host's */
		char want[64];
		snprintf(want, sizeof(want), "linux/%s", host_arch());
		size_t k = 0;
		for (size_t i = 0; i < nm; i++)
			if (cs->c[m[i]].platform && !strcmp(cs->c[m[i]].platform, want))
				m[k++] = m[i];
		if (k)
			nm = k;
	}
	/* the same image under several tags is one image */
	if (nm > 1) {
		bool same = true;
		for (size_t i = 1; i < nm; i++)
			if (strcmp(cs->c[m[i]].config_digest, cs->c[m[0]].config_digest) ||
			    (cs->c[m[i]].manifest_digest && cs->c[m[0]].manifest_digest &&
			     strcmp(cs->c[m[i]].manifest_digest, cs->c[m[0]].manifest_digest)))
				same = false;
		if (same)
			nm = 1;
	}
	size_t first = m[0];
	free(m);
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	cands_list(cs, &b);
	if (nm == 0) {
		if (!cs->n)
			return err_set(e, ERR_NOTFOUND, "'%s': no image in it", s->path);
		return err_set(e, ERR_NOTFOUND, "'%s': no image '%s' in it (it holds %s)", s->path,
			       o->ref, b.buf);
	}
	if (nm > 1)
		return err_set(e, ERR_AMBIG, "'%s': several images, pick one with --image-ref: %s",
			       s->path, b.buf);
	*pick = first;
	return 0;
}

/* ---- a layer's blob, read and hashed ---- */

struct lsrc {
	int fd;		       /* layout dir: the blob */
	struct archive *outer; /* archive: positioned at the blob's member */
	struct hasher *h;
	uint64_t nread;
	int rerr;
};

static la_ssize_t lsrc_read(struct archive *a, void *ctx, const void **out)
{
	struct lsrc *l = ctx;
	size_t cap;
	void *b = hasher_buf(l->h, &cap);
	la_ssize_t n;
	if (l->outer) {
		n = archive_read_data(l->outer, b, cap);
		if (n < 0 && a)
			archive_set_error(a, EIO, "reading the layer's member: %s",
					  archive_error_string(l->outer));
	} else {
		do
			n = read(l->fd, b, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0 && a)
			archive_set_error(a, errno, "reading the layer's blob");
	}
	if (n < 0) {
		l->rerr = 1;
		return -1;
	}
	hasher_submit(l->h, (size_t)n);
	l->nread += (uint64_t)n;
	*out = b;
	return n;
}

/* Read what libarchive left of the blob, so its digest covers all of it. */
static void lsrc_drain(struct lsrc *l)
{
	const void *b;
	while (!l->rerr && lsrc_read(NULL, l, &b) > 0)
		;
}

/* Position on a layer's blob: dir: open it; archive: a pass to its member. */
static int lsrc_open(struct src *s, const char *name, struct lsrc *l, struct err *e)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (s->is_dir) {
		l->fd = safe_open_regular_in_root(s->dirfd, name, NULL, e);
		if (l->fd < 0)
			return err_wrap(e, "'%s': layer", s->path);
		return 0;
	}
	struct member *m = src_member(s, name);
	if (!m)
		return err_set(e, ERR_NOTFOUND, "'%s': no member '%s' (a layer)", s->path, name);
	const char *target = m->name;
	struct archive *a;
	if (outer_open(s, &a, e) < 0)
		return -1;
	struct archive_entry *ent;
	int r;
	char nm[AN_PATH_MAX];
	/* the last member of that name is the one (src_member picked it too) */
	size_t seen = 0, lo, hi;
	member_range(s, target, &lo, &hi);
	size_t want = hi - lo;
	while (outer_next(a, &ent, nm, &r)) {
		if (strcmp(nm, target) != 0)
			continue;
		mode_t type = archive_entry_filetype(ent);
		if (type != AE_IFREG && type != AE_IFLNK && !archive_entry_hardlink(ent))
			continue;
		if (++seen < want)
			continue;
		if (type != AE_IFREG || archive_entry_hardlink(ent))
			break;
		l->outer = a;
		return 0;
	}
	archive_read_free(a);
	return err_set(e, ERR_NOTFOUND, "'%s': layer member '%s' not found", s->path, target);
}

static void lsrc_close(struct lsrc *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->outer)
		archive_read_free(l->outer);
	if (l->h)
		hasher_free(l->h);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* ---- applying a layer ---- */

struct lstate {
	struct aidx *idx;
	struct bag_notes *nt;
	uint16_t layer;
	struct archive *a;
	struct lsrc *src;
	uint64_t entries, *total_entries, max_entries, logical;
	uint64_t *bytes_hashed;
	size_t file_seen;
	bool stopped;
	bool no_whiteouts; /* a whole root: ".wh." names are files */
	char stop_why[512];
	char *keepbuf;
};

static bool bomb_check(struct lstate *st)
{
	uint64_t unc = (uint64_t)archive_filter_bytes(st->a, 0);
	if (st->logical > unc)
		unc = st->logical;
	if (unc > AN_LAYER_MAX) {
		snprintf(st->stop_why, sizeof(st->stop_why), "more than %llu uncompressed bytes",
			 (unsigned long long)AN_LAYER_MAX);
		return true;
	}
	if (st->src && unc > BOMB_FLOOR && unc / AN_RATIO_MAX > st->src->nread) {
		snprintf(st->stop_why, sizeof(st->stop_why),
			 "a decompression bomb (%llu bytes from %llu)", (unsigned long long)unc,
			 (unsigned long long)st->src->nread);
		return true;
	}
	return false;
}

/* The content of a regular file: hashed, kept when its path asks. */
static int file_content(struct lstate *st, const char *path, bool keep, struct aidx_entry *ae,
			size_t *keep_len, bool *keep_trunc)
{
	struct hasher *h = hasher_new();
	uint64_t pos = 0;
	*keep_len = 0;
	*keep_trunc = false;
	int ret = 0;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(st->a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			snprintf(st->stop_why, sizeof(st->stop_why), "'%.200s': %s", path,
				 archive_error_string(st->a));
			ret = -1;
			break;
		}
		if (off < 0 || (uint64_t)off < pos) {
			snprintf(st->stop_why, sizeof(st->stop_why), "'%.200s': bad data offset",
				 path);
			ret = -1;
			break;
		}
		if ((uint64_t)off > pos) {
			uint64_t gap = (uint64_t)off - pos;
			st->logical += gap;
			if (bomb_check(st)) {
				ret = -1;
				break;
			}
			hasher_zeros(h, gap);
			if (keep && *keep_len < AN_KEEP_MAX) {
				uint64_t z = gap;
				if (z > AN_KEEP_MAX - *keep_len) {
					z = AN_KEEP_MAX - *keep_len;
					*keep_trunc = true;
				}
				memset(st->keepbuf + *keep_len, 0, (size_t)z);
				*keep_len += (size_t)z;
			} else if (keep) {
				*keep_trunc = true;
			}
			pos = (uint64_t)off;
		}
		hasher_update(h, buf, n);
		if (keep) {
			size_t k = n;
			if (k > AN_KEEP_MAX - *keep_len) {
				k = AN_KEEP_MAX - *keep_len;
				*keep_trunc = true;
			}
			memcpy(st->keepbuf + *keep_len, buf, k);
			*keep_len += k;
		}
		pos += n;
		st->logical += n;
		*st->bytes_hashed += n;
		if (bomb_check(st)) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && ae->size > pos) /* a sparse file's trailing hole */
		hasher_zeros(h, ae->size - pos), pos = ae->size;
	hasher_final(h, ae->sha256);
	hasher_free(h);
	ae->has_sha256 = ret == 0;
	if (ret == 0 && pos != ae->size)
		bag_note(st->nt, "layer %u: '%.200s': %llu bytes read, %llu declared", st->layer,
			 path, (unsigned long long)pos, (unsigned long long)ae->size);
	return ret;
}

static int entry_xattrs(struct lstate *st, struct archive_entry *ent, struct aidx_entry *ae,
			const char *path)
{
	const char *name;
	const void *val;
	size_t sz;
	int n = archive_entry_xattr_reset(ent);
	ae->nxattrs = n > 0 ? (uint32_t)n : 0;
	while (archive_entry_xattr_next(ent, &name, &val, &sz) == ARCHIVE_OK) {
		if (name && !strcmp(name, "security.capability")) {
			if (sz > 4096) {
				bag_note(
				    st->nt,
				    "layer %u: '%.200s': capability value of %zu bytes, dropped",
				    st->layer, path, sz);
				continue;
			}
			ae->caps = val;
			ae->caps_len = sz;
		}
	}
	return 0;
}

/* A whiteout ".wh.NAME" or ".wh..wh..opq" of this layer (OCI layer.md). */
static void whiteout(struct lstate *st, const char *path, const char *base)
{
	char dir[AN_PATH_MAX];
	size_t dlen = (size_t)(base - path);
	if (dlen)
		dlen--;
	memcpy(dir, path, dlen);
	dir[dlen] = 0;
	if (!strcmp(base, ".wh..wh..opq")) {
		aidx_id d = aidx_lookup(st->idx, dir);
		if (d != AIDX_NONE)
			aidx_remove_below(st->idx, d, st->layer);
		return;
	}
	const char *name = base + 4;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || str_has_prefix(name, ".wh.")) {
		bag_note(st->nt, "layer %u: whiteout '%.200s' not understood, ignored", st->layer,
			 path);
		return;
	}
	char tgt[AN_PATH_MAX];
	if ((size_t)snprintf(tgt, sizeof(tgt), "%s%s%s", dir, dlen ? "/" : "", name) >= sizeof(tgt))
		return;
	aidx_id id = aidx_lookup(st->idx, tgt);
	if (id == AIDX_NONE)
		return;
	struct aidx_entry cur;
	aidx_get(st->idx, id, &cur);
	if (cur.layer >= st->layer)
		return; /* whiteouts hide lower layers only */
	aidx_remove_below(st->idx, id, st->layer);
	if (aidx_first_child(st->idx, id) == AIDX_NONE)
		aidx_remove(st->idx, id);
}

static int hardlink(struct lstate *st, const char *path, const char *target, struct aidx_entry *ae)
{
	char t[AN_PATH_MAX];
	struct err ne = {0};
	if (an_path_norm(target, t, &ne) < 0) {
		bag_note(st->nt, "layer %u: hard link '%.200s': %s", st->layer, path, ne.msg);
		return -1;
	}
	aidx_id id = aidx_lookup(st->idx, t);
	struct aidx_entry te;
	aidx_get(st->idx, id, &te);
	if (id == AIDX_NONE || te.type != AENT_FILE) {
		bag_note(st->nt, "layer %u: hard link '%.200s' to '%.200s': no such file before it",
			 st->layer, path, t);
		return -1;
	}
	ae->type = AENT_FILE;
	ae->size = te.size;
	ae->has_sha256 = te.has_sha256;
	memcpy(ae->sha256, te.sha256, 32);
	return 0;
}

/* One tar entry of the layer: -1 stops the layer (st->stop_why). */
static int layer_entry(struct lstate *st, struct archive_entry *ent)
{
	const char *raw = archive_entry_pathname(ent);
	char path[AN_PATH_MAX];
	struct err ne = {0};
	if (++*st->total_entries > st->max_entries) {
		snprintf(st->stop_why, sizeof(st->stop_why), "more than %llu entries in the image",
			 (unsigned long long)st->max_entries);
		return -1;
	}
	st->entries++;
	if (!raw) {
		bag_note(st->nt, "layer %u: an entry without a name, skipped", st->layer);
		return 0;
	}
	if (an_path_norm(raw, path, &ne) < 0) {
		bool root = true; /* "./", "/", "." name the root: nothing to record */
		for (const char *p = raw; *p; p++)
			if (*p != '/' && *p != '.')
				root = false;
		if (!root || !*raw)
			bag_note(st->nt, "layer %u: %s, skipped", st->layer, ne.msg);
		return 0;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!st->no_whiteouts && str_has_prefix(base, ".wh.")) {
		whiteout(st, path, base);
		return 0;
	}
	struct aidx_entry ae = {0};
	const char *hl = archive_entry_hardlink(ent);
	ae.type = hl ? AENT_FILE : aent_type_from_mode(archive_entry_filetype(ent));
	ae.mode = archive_entry_perm(ent) & 07777;
	ae.uid = (uint32_t)archive_entry_uid(ent);
	ae.gid = (uint32_t)archive_entry_gid(ent);
	ae.mtime = archive_entry_mtime(ent);
	ae.layer = st->layer;
	if (ae.type == AENT_NONE) {
		bag_note(st->nt, "layer %u: '%.200s': unknown entry type, skipped", st->layer,
			 path);
		return 0;
	}
	entry_xattrs(st, ent, &ae, path);
	bool keep = false;
	size_t klen = 0;
	bool ktrunc = false;
	if (hl) {
		if (hardlink(st, path, hl, &ae) < 0)
			return 0;
	} else if (ae.type == AENT_SYMLINK) {
		ae.link_target = archive_entry_symlink(ent);
		if (!ae.link_target)
			ae.link_target = "";
	} else if (ae.type == AENT_FILE) {
		int64_t sz = archive_entry_size(ent);
		ae.size = sz > 0 ? (uint64_t)sz : 0;
		keep = an_keep_path(path);
		if (keep && !st->keepbuf)
			st->keepbuf = xmalloc(AN_KEEP_MAX);
		if (file_content(st, path, keep, &ae, &klen, &ktrunc) < 0)
			return -1;
	}
	aidx_id id;
	if (aidx_set(st->idx, path, &ae, &id, &ne) < 0) {
		if (strstr(ne.msg, "more than") || strstr(ne.msg, "past")) { /* index full */
			snprintf(st->stop_why, sizeof(st->stop_why), "%.400s", ne.msg);
			return -1;
		}
		bag_note(st->nt, "layer %u: %s, skipped", st->layer, ne.msg);
		return 0;
	}
	if (hl && an_keep_path(path)) {
		char t[AN_PATH_MAX];
		size_t kn;
		bool kt;
		const void *kb = an_path_norm(hl, t, &ne) == 0
				     ? aidx_kept(st->idx, aidx_lookup(st->idx, t), &kn, &kt)
				     : NULL;
		if (kb) {
			_cleanup_free_ void *copy = xmalloc(kn + 1);
			memcpy(copy, kb, kn);
			if (aidx_keep(st->idx, id, copy, kn, kt, &ne) < 0)
				bag_note(st->nt, "layer %u: '%.200s': %s", st->layer, path, ne.msg);
		}
	}
	if (keep && aidx_keep(st->idx, id, st->keepbuf, klen, ktrunc, &ne) < 0)
		bag_note(st->nt, "layer %u: '%.200s': %s", st->layer, path, ne.msg);
	return 0;
}

struct layer_desc {
	char *digest;	  /* as declared, or NULL (docker legacy) */
	char *media_type; /* or NULL */
	char *member;	  /* the blob's path in the source */
	char *expect;	  /* the digest the blob's bytes must have, or NULL */
	int64_t declared; /* declared size or -1 */
	bool expect_raw;  /* expect is a diff_id: the digest of the uncompressed tar */
};

/* Apply layer i; a bad layer is notes and "complete": false, never a crash. */
static int layer_apply(struct aimg *img, struct src *s, const struct layer_desc *ld, uint16_t i,
		       uint64_t *total_entries, uint64_t max_entries, struct bag_notes *nt,
		       char got_out[72], struct err *e)
{
	struct lsrc l;
	if (lsrc_open(s, ld->member, &l, e) < 0)
		return -1;
	l.h = hasher_new();
	struct archive *a = tar_reader_new();
	struct lstate st = {.idx = img->idx,
			    .nt = nt,
			    .layer = i,
			    .a = a,
			    .src = &l,
			    .total_entries = total_entries,
			    .max_entries = max_entries,
			    .bytes_hashed = &img->bytes_hashed};
	bool complete = true;
	if (archive_read_open(a, &l, NULL, lsrc_read, NULL) != ARCHIVE_OK) {
		snprintf(st.stop_why, sizeof(st.stop_why), "not a tar: %s",
			 archive_error_string(a));
		complete = false;
	} else {
		struct archive_entry *ent;
		int r;
		while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
			if (r == ARCHIVE_WARN)
				bag_note(nt, "layer %u: %s", i, archive_error_string(a));
			if (layer_entry(&st, ent) < 0 || bomb_check(&st)) {
				complete = false;
				break;
			}
		}
		if (complete && r != ARCHIVE_EOF) {
			snprintf(st.stop_why, sizeof(st.stop_why), "%s",
				 archive_error_string(a) ? archive_error_string(a) : "unreadable");
			complete = false;
		}
	}
	la_int64_t fb = archive_filter_bytes(a, 0);
	uint64_t unc = fb > 0 ? (uint64_t)fb : 0;
	const char *filter = archive_filter_count(a) > 1 ? archive_filter_name(a, 0) : "none";
	lsrc_drain(&l); /* bounded by the blob: its digest is checked even for a bad layer */
	archive_read_free(a);
	free(st.keepbuf);
	unsigned char md[32];
	char got[72];
	hasher_final(l.h, md);
	digest_str(md, got);
	memcpy(got_out, got, 72);
	if (!complete)
		bag_note(nt, "layer %u (%s): stopped: %s", i, ld->digest ? ld->digest : got,
			 st.stop_why);
	json_t *digest_ok = json_null();
	if (l.rerr) {
		bag_note(nt, "layer %u: the blob could not be read to its end", i);
	} else if (ld->expect && ld->expect_raw && strcmp(filter, "none") != 0) {
		bag_note(nt, "layer %u: stored %s-compressed, its diff_id %s not checked", i,
			 filter, ld->expect);
	} else if (ld->expect) {
		bool ok = !strcmp(got, ld->expect);
		digest_ok = json_boolean(ok);
		if (!ok)
			bag_note(nt,
				 "layer %u: blob digest is %s, %s expected (layer applied anyway)",
				 i, got, ld->expect);
	}
	if (!l.rerr && ld->declared >= 0 && (uint64_t)ld->declared != l.nread)
		bag_note(nt, "layer %u: %llu bytes, %lld declared", i, (unsigned long long)l.nread,
			 (long long)ld->declared);
	json_t *lj =
	    json_pack("{s:o,s:o,s:I,s:I,s:I,s:o,s:s,s:b}", "digest",
		      ld->digest ? bag_json_path(ld->digest) : json_string(got), "media_type",
		      bag_json_path(ld->media_type), "compressed_size", (json_int_t)l.nread, "size",
		      (json_int_t)unc, "entries", (json_int_t)st.entries, "digest_ok", digest_ok,
		      "compression", filter, "complete", complete);
	json_array_append_new(img->layers, lj);
	lsrc_close(&l);
	return 0;
}

/* ---- the image's layers and config ---- */

static void layer_desc_free(struct layer_desc *ld, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ld[i].digest);
		free(ld[i].media_type);
		free(ld[i].member);
		free(ld[i].expect);
	}
	free(ld);
}

/* What aimg_layer_read needs (aimg_opts.keep_layers): the source, open,
 * and each layer's blob digest as the first pass read it. */
struct aimg_src {
	struct src s;
	struct layer_desc *ld;
	size_t nl;
	char (*got)[72];
};

static bool media_type_known(const char *mt)
{
	static const char *const ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(mt, ok[i]))
			return true;
	return false;
}

/* The descriptors of nl layers, zeroed, one more at the end; NULL (e set)
 * past LAYERS_MAX. */
static struct layer_desc *layer_descs_new(const struct src *s, size_t nl, struct err *e)
{
	if (nl > LAYERS_MAX) {
		err_set(e, ERR_INVALID, "'%s': %zu layers, more than %u", s->path, nl, LAYERS_MAX);
		return NULL;
	}
	return xcalloc(nl + 1, sizeof(struct layer_desc));
}

static int oci_layers(struct src *s, const struct cand *c, struct layer_desc **out, size_t *n,
		      struct bag_notes *nt, struct err *e)
{
	json_t *layers = json_object_get(c->manifest, "layers");
	size_t nl = json_array_size(layers);
	struct layer_desc *ld = layer_descs_new(s, nl, e);
	if (!ld)
		return -1;
	for (size_t i = 0; i < nl; i++) {
		json_t *d = json_array_get(layers, i);
		const char *dg = json_string_value(json_object_get(d, "digest"));
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		const char *hex = digest_hex(dg);
		if (!hex) {
			layer_desc_free(ld, nl);
			return err_set(e, ERR_INVALID, "'%s': layer %zu: bad digest '%.100s'",
				       s->path, i, dg ? dg : "(none)");
		}
		if (mt && !media_type_known(mt))
			bag_note(nt, "layer %zu: media type '%.200s' not known, read as a tar", i,
				 mt);
		ld[i].digest = xstrdup(dg);
		ld[i].expect = xstrdup(dg);
		ld[i].media_type = mt ? xstrdup(mt) : NULL;
		ld[i].member = xasprintf("blobs/sha256/%s", hex);
		json_t *sz = json_object_get(d, "size");
		ld[i].declared = json_is_integer(sz) ? json_integer_value(sz) : -1;
	}
	*out = ld;
	*n = nl;
	return 0;
}

static int docker_layers(struct src *s, const struct cand *c, json_t *config,
			 struct layer_desc **out, size_t *n, struct err *e)
{
	json_t *layers = json_object_get(c->manifest, "Layers");
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t nl = json_array_size(layers);
	struct layer_desc *ld = layer_descs_new(s, nl, e);
	if (!ld)
		return -1;
	for (size_t i = 0; i < nl; i++) {
		const char *p = json_string_value(json_array_get(layers, i));
		char norm[AN_PATH_MAX];
		if (!p || an_path_norm(p, norm, e) < 0) {
			layer_desc_free(ld, nl);
			if (!p)
				err_set(e, ERR_INVALID, "layer %zu: not a string", i);
			return err_wrap(e, "'%s': manifest.json", s->path);
		}
		ld[i].member = xstrdup(norm);
		ld[i].declared = -1;
		/* blobs/sha256/<hex> (docker 25+): the blob's digest; else the diff_id
		 * (the digest of the uncompressed tar, which is what legacy saves hold) */
		const char *dg = NULL;
		char tmp[80];
		if (str_has_prefix(norm, "blobs/sha256/")) {
			snprintf(tmp, sizeof(tmp), "sha256:%.70s", norm + strlen("blobs/sha256/"));
			if (digest_hex(tmp))
				dg = tmp;
		}
		if (!dg) {
			dg = json_string_value(json_array_get(diff_ids, i));
			ld[i].expect_raw = true;
		}
		if (dg && digest_hex(dg)) {
			ld[i].expect = xstrdup(dg);
			ld[i].digest = xstrdup(dg);
		}
	}
	*out = ld;
	*n = nl;
	return 0;
}

/* ---- the whole ---- */

static int src_open(const char *path, struct src *s, struct bag_notes *nt, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	s->path = path;
	struct stat st;
	if (stat(path, &st) < 0)
		return err_sys(e, errno, "image '%s'", path);
	if (S_ISDIR(st.st_mode)) {
		s->is_dir = true;
		s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			return err_sys(e, errno, "image '%s'", path);
		struct stat x;
		s->has_layout = fstatat(s->dirfd, "oci-layout", &x, AT_SYMLINK_NOFOLLOW) == 0;
		s->has_index = fstatat(s->dirfd, "index.json", &x, AT_SYMLINK_NOFOLLOW) == 0;
		s->has_docker_manifest =
		    fstatat(s->dirfd, "manifest.json", &x, AT_SYMLINK_NOFOLLOW) == 0;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "image '%s': not a directory or a file", path);
	if (src_scan(s, nt, e) < 0)
		return err_wrap(e, "image");
	return 0;
}

static int config_load(struct aimg *img, struct src *s, const struct cand *c, json_t **config,
		       struct bag_notes *nt, struct err *e)
{
	if (c->config_path) {
		if (src_json(s, c->config_path, config, NULL, e) < 0)
			return -1;
	} else if (blob_json(s, c->config_digest, nt, config, e) < 0) {
		return -1;
	}
	json_t *cc = json_object_get(*config, "config");
	if (!cc)
		cc = json_object_get(*config, "container_config");
	img->config = json_is_object(cc) ? json_incref(cc) : json_null();
	return 0;
}

static json_t *refs_json(const struct cands *cs)
{
	json_t *a = json_array();
	for (size_t i = 0; i < cs->n; i++) {
		const struct cand *c = &cs->c[i];
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:o}", "ref", bag_json_path(c->ref), "manifest_digest",
				 bag_json_path(c->manifest_digest), "config_digest",
				 bag_json_path(c->config_digest)));
	}
	return a;
}

void aimg_free(struct aimg *img)
{
	if (!img)
		return;
	if (img->src) {
		src_free(&img->src->s);
		layer_desc_free(img->src->ld, img->src->nl);
		free(img->src->got);
		free(img->src);
	}
	aidx_free(img->idx);
	free(img->manifest_digest);
	free(img->config_digest);
	free(img->ref);
	json_decref(img->refs);
	json_decref(img->config);
	json_decref(img->layers);
	json_decref(img->notes);
	free(img);
}

static void aimg_freep(struct aimg **p)
{
	aimg_free(*p);
}

int aimg_open(const struct aimg_opts *o, struct aimg **out, struct err *e)
{
	_cleanup_(aimg_freep) struct aimg *img = xcalloc(1, sizeof(*img));
	img->idx = aidx_new();
	img->layers = json_array();
	img->notes = json_array();
	struct bag_notes nt = {.arr = img->notes, .max = NOTES_MAX};
	struct src s;
	struct cands cs = {0};
	json_t *config = NULL;
	struct layer_desc *ld = NULL;
	size_t nl = 0;
	char(*got)[72] = NULL;
	int ret = -1;
	if (src_open(o->path, &s, &nt, e) < 0)
		goto out;
	bool docker = s.has_docker_manifest && !(s.is_dir && s.has_index);
	if (docker) {
		img->form = "docker-archive";
		if (docker_cands(&s, &cs, &nt, e) < 0)
			goto out;
	} else if (s.has_index) {
		img->form = s.is_dir ? "oci-layout" : "oci-archive";
		if (!s.has_layout)
			bag_note(&nt, "no oci-layout file");
		_cleanup_json_ json_t *index = NULL;
		if (src_json(&s, "index.json", &index, NULL, e) < 0 ||
		    oci_walk(&s, index, NULL, NULL, 0, &cs, &nt, e) < 0)
			goto out;
	} else {
		err_set(e, ERR_INVALID,
			"image '%s': neither an OCI layout (index.json) nor a docker archive "
			"(manifest.json)",
			o->path);
		goto out;
	}
	img->refs = refs_json(&cs);
	size_t pick = 0;
	if (cands_pick(&s, &cs, o, &pick, e) < 0)
		goto out;
	const struct cand *c = &cs.c[pick];
	img->ref = c->ref ? xstrdup(c->ref) : NULL;
	img->manifest_digest = c->manifest_digest ? xstrdup(c->manifest_digest) : NULL;
	img->config_digest = xstrdup(c->config_digest);
	if (config_load(img, &s, c, &config, &nt, e) < 0)
		goto out;
	if ((docker ? docker_layers(&s, c, config, &ld, &nl, e)
		    : oci_layers(&s, c, &ld, &nl, &nt, e)) < 0)
		goto out;
	uint64_t total = 0;
	uint64_t max_entries =
	    o->max_entries && o->max_entries < AN_ENTRIES_MAX ? o->max_entries : AN_ENTRIES_MAX;
	aidx_set_limit(img->idx, (size_t)max_entries);
	got = xcalloc(nl + 1, sizeof(*got));
	for (size_t i = 0; i < nl; i++)
		if (layer_apply(img, &s, &ld[i], (uint16_t)i, &total, max_entries, &nt, got[i], e) <
		    0) {
			err_wrap(e, "layer %zu", i);
			goto out;
		}
	bag_notes_end(&nt, "left out");
	if (o->keep_layers) { /* for aimg_layer_read: the source stays open */
		img->src = xcalloc(1, sizeof(*img->src));
		img->src->s = s;
		img->src->ld = steal_pointer(&ld);
		img->src->nl = nl;
		img->src->got = steal_pointer(&got);
		memset(&s, 0, sizeof(s));
		s.dirfd = -1;
		nl = 0;
	}
	*out = steal_pointer(&img);
	ret = 0;
out:
	free(got);
	layer_desc_free(ld, nl);
	json_decref(config);
	cands_free(&cs);
	src_free(&s);
	return ret;
}

const char *aimg_digest_match(const struct aimg *img, const char *want)
{
	if (!want || !*want)
		return "unknown";
	struct cand c = {.manifest_digest = img->manifest_digest,
			 .config_digest = img->config_digest};
	return want_digest_match(&c, want) ? "match" : "mismatch";
}

/* ---- the layers read again (the sysroot) ---- */

size_t aimg_layer_count(const struct aimg *img)
{
	return img->src ? img->src->nl : 0;
}

int aimg_layer_read(struct aimg *img, size_t i, aimg_layer_fn fn, void *ctx, struct err *e)
{
	if (!img->src || i >= img->src->nl)
		return err_set(e, ERR_WRONGSTATE, "image layer %zu: not kept open", i);
	struct aimg_src *as = img->src;
	struct lsrc l;
	if (lsrc_open(&as->s, as->ld[i].member, &l, e) < 0)
		return err_wrap(e, "layer %zu", i);
	l.h = hasher_new();
	struct archive *a = tar_reader_new();
	int rc;
	if (archive_read_open(a, &l, NULL, lsrc_read, NULL) != ARCHIVE_OK)
		rc =
		    err_set(e, ERR_INVALID, "layer %zu: not a tar: %s", i, archive_error_string(a));
	else
		rc = fn(a, (uint16_t)i, ctx, e);
	lsrc_drain(&l);
	archive_read_free(a);
	unsigned char md[32];
	char got[72];
	hasher_final(l.h, md);
	digest_str(md, got);
	bool rerr = l.rerr;
	lsrc_close(&l);
	if (rc == 0 && rerr)
		return err_set(e, ERR_INVALID, "layer %zu: the blob could not be read to its end",
			       i);
	if (rc == 0 && strcmp(got, as->got[i]) != 0)
		return err_set(e, ERR_INVALID,
			       "layer %zu: the blob changed since it was first read (%s, then %s)",
			       i, as->got[i], got);
	return rc;
}

int aimg_layer_apply(struct aidx *idx, struct archive *a, uint16_t layer, bool whiteouts,
		     json_t *notes, struct err *e)
{
	struct bag_notes nt = {.arr = notes, .max = NOTES_MAX};
	uint64_t total = 0;
	struct lstate st = {.idx = idx,
			    .nt = &nt,
			    .layer = layer,
			    .a = a,
			    .total_entries = &total,
			    .max_entries = AN_ENTRIES_MAX,
			    .no_whiteouts = !whiteouts,
			    .bytes_hashed = &(uint64_t){0}};
	int rc = 0;
	struct archive_entry *ent;
	int r;
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (layer_entry(&st, ent) < 0 || bomb_check(&st)) {
			rc = err_set(e, ERR_INVALID, "%s", st.stop_why);
			break;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = err_set(e, ERR_INVALID, "%s",
			     archive_error_string(a) ? archive_error_string(a) : "unreadable");
	free(st.keepbuf);
	bag_notes_end(&nt, "left out");
	return rc;
}

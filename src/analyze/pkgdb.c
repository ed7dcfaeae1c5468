/* pkgdb: the packages of a package database's content, for the finding
 * fs.package-db-changed (findings.c). The content is attacker-written (the
 * layer's copy) or image-written: every line may be huge, the last one
 * without its newline, with NULs or invalid UTF-8, and there may be a
 * million stanzas. The scan is one pass over the buffer, copies only the
 * three or four fields it needs (bounded), and names only what is a plain
 * printable-ASCII token, so every string it returns is JSON-safe.
 *
 *   dpkg  var/lib/dpkg/status: RFC 822-like stanzas separated by blank
 *         lines; a package is installed when the third word of its Status
 *         is "installed" ("install ok installed", "hold ok installed");
 *         name -> Version. Two installed stanzas of one name (multi-arch)
 *         are told apart as "name:arch".
 *   apk   lib/apk/db/installed: stanzas of "X:value" lines; P: the name,
 *         V: the version; every stanza is installed.
 *   rpm   var/lib/rpm/Packages (Berkeley DB), rpmdb.sqlite: not read (a
 *         binary database): NULL and a note saying so. */
#include <string.h>
#include <strings.h>

#include "contain/analyze.h"

#define PKGDB_PKGS_MAX	100000u /* packages of one database; past it: not read */
#define PKGDB_TOKEN_MAX 256u	/* bytes of a name, version or architecture */

enum pkgdb_kind { PKGDB_NONE, PKGDB_DPKG, PKGDB_APK, PKGDB_RPM };

/* path is relative ("var/lib/dpkg/status") or absolute; an image root
 * below another directory (a chroot's) counts too */
static bool path_is(const char *path, const char *want)
{
	size_t pl = strlen(path), wl = strlen(want);
	if (pl < wl || strcmp(path + pl - wl, want) != 0)
		return false;
	return pl == wl || path[pl - wl - 1] == '/';
}

static enum pkgdb_kind pkgdb_kind_of(const char *path)
{
	if (!path)
		return PKGDB_NONE;
	if (path_is(path, "var/lib/dpkg/status"))
		return PKGDB_DPKG;
	if (path_is(path, "lib/apk/db/installed"))
		return PKGDB_APK;
	if (path_is(path, "var/lib/rpm/Packages") || path_is(path, "var/lib/rpm/rpmdb.sqlite") ||
	    path_is(path, "usr/lib/sysimage/rpm/rpmdb.sqlite") ||
	    path_is(path, "usr/lib/sysimage/rpm/Packages"))
		return PKGDB_RPM;
	return PKGDB_NONE;
}

/* one stanza as it is read: only the fields that matter, bounded */
struct stanza {
	char name[PKGDB_TOKEN_MAX + 1];
	char version[PKGDB_TOKEN_MAX + 1];
	char arch[PKGDB_TOKEN_MAX + 1];
	bool any;	/* a field was seen */
	bool installed; /* dpkg: Status says installed */
	bool bad;	/* a field we need is too long or not a plain token */
};

struct scan {
	enum pkgdb_kind kind;
	json_t *pkgs;
	size_t nameless, bad, dups, malformed, not_installed;
	bool too_many;
};

/* A plain token: printable ASCII without spaces, 1..PKGDB_TOKEN_MAX bytes. */
static bool token_copy(char *dst, const char *v, size_t n)
{
	if (n == 0 || n > PKGDB_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return false;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return true;
}

static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* dpkg's Status: "want flag status"; installed when status is "installed" */
static bool dpkg_status_installed(const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	for (int word = 0; word < 3; word++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (word == 2)
			return (size_t)(p - w) == 9 && memcmp(w, "installed", 9) == 0;
		if (p == w)
			return false;
	}
	return false;
}

static void stanza_field(struct scan *s, struct stanza *st, const char *line, size_t n)
{
	if (line[0] == ' ' || line[0] == '\t')
		return; /* a continuation line (Description, Conffiles...) */
	const char *colon = memchr(line, ':', n);
	if (!colon) {
		s->malformed++;
		return;
	}
	size_t kl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = n - kl - 1;
	trim(&v, &vl);
	st->any = true;
	if (s->kind == PKGDB_DPKG) {
		if (kl == 7 && strncasecmp(line, "Package", 7) == 0) {
			if (!token_copy(st->name, v, vl))
				st->bad = true;
		} else if (kl == 7 && strncasecmp(line, "Version", 7) == 0) {
			if (!token_copy(st->version, v, vl))
				st->bad = true;
		} else if (kl == 12 && strncasecmp(line, "Architecture", 12) == 0) {
			if (!token_copy(st->arch, v, vl))
				st->bad = true;
		} else if (kl == 6 && strncasecmp(line, "Status", 6) == 0) {
			st->installed = dpkg_status_installed(v, vl);
		}
	} else if (kl == 1 && line[0] == 'P') {
		if (!token_copy(st->name, v, vl))
			st->bad = true;
	} else if (kl == 1 && line[0] == 'V') {
		if (!token_copy(st->version, v, vl))
			st->bad = true;
	}
}

static void stanza_end(struct scan *s, struct stanza *st)
{
	if (!st->any || s->too_many)
		goto reset;
	if (st->bad) {
		s->bad++;
		goto reset;
	}
	if (!st->name[0]) {
		s->nameless++;
		goto reset;
	}
	if (s->kind == PKGDB_DPKG && !st->installed) {
		s->not_installed++;
		goto reset;
	}
	char key[2 * PKGDB_TOKEN_MAX + 2];
	snprintf(key, sizeof(key), "%s", st->name);
	if (json_object_get(s->pkgs, key) && st->arch[0])
		snprintf(key, sizeof(key), "%s:%s", st->name, st->arch);
	if (json_object_get(s->pkgs, key)) {
		s->dups++;
		goto reset;
	}
	if (json_object_size(s->pkgs) >= PKGDB_PKGS_MAX) {
		s->too_many = true;
		goto reset;
	}
	json_object_set_new(s->pkgs, key, json_string(st->version[0] ? st->version : ""));
reset:
	memset(st, 0, sizeof(*st));
}

static void scan_buf(struct scan *s, const char *buf, size_t n)
{
	struct stanza st;
	memset(&st, 0, sizeof(st));
	size_t off = 0, len;
	const char *line;
	while (!s->too_many && (line = str_line_next(buf, n, &off, &len, NULL))) {
		if (len == 0)
			stanza_end(s, &st);
		else
			stanza_field(s, &st, line, len);
	}
	stanza_end(s, &st);
}

static const char *kind_label(enum pkgdb_kind k)
{
	return k == PKGDB_DPKG ? "dpkg status" : "apk installed";
}

json_t *pkgdb_parse(const char *path, const void *buf, size_t n, char **note)
{
	if (note)
		*note = NULL;
	enum pkgdb_kind kind = pkgdb_kind_of(path);
	if (kind == PKGDB_RPM) {
		if (note)
			*note =
			    xstrdup("rpm database: changed; packages not named (format not read)");
		return NULL;
	}
	if (kind == PKGDB_NONE) {
		if (note)
			*note = xstrdup("not a package database analyze reads");
		return NULL;
	}
	if (!buf && n)
		return NULL;
	const char *p = buf;
	const char *nul = n ? memchr(p, '\0', n) : NULL;
	if (nul) {
		if (note)
			*note = xasprintf("%s: a NUL byte at offset %zu: not a text database",
					  kind_label(kind), (size_t)(nul - p));
		return NULL;
	}
	struct scan s = {.kind = kind, .pkgs = json_object()};
	scan_buf(&s, p, n);
	if (s.too_many) {
		json_decref(s.pkgs);
		if (note)
			*note = xasprintf("%s: more than %u packages: not read", kind_label(kind),
					  PKGDB_PKGS_MAX);
		return NULL;
	}
	if (s.malformed && json_object_size(s.pkgs) == 0) {
		json_decref(s.pkgs);
		if (note)
			*note = xasprintf("%s: %zu lines that are not fields and no package: not a "
					  "package database",
					  kind_label(kind), s.malformed);
		return NULL;
	}
	if (note && (s.malformed || s.bad || s.nameless || s.dups)) {
		*note = xasprintf("%s: skipped %zu malformed lines, %zu stanzas with a name, "
				  "version or architecture that is not a plain token, %zu without "
				  "a name, %zu duplicates",
				  kind_label(kind), s.malformed, s.bad, s.nameless, s.dups);
	}
	return s.pkgs;
}

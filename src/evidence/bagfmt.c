/* bagfmt.c: the BagIt text formats (RFC 8493): payload path encodings,
 * bag-info.txt and manifest parsing. Shared by the writer and the reader. */
#include <string.h>
#include <strings.h>

#include "contain/bag.h"

char *bag_path_manifest_encode(const char *path)
{
	struct sbuf b = SBUF_INIT;
	sbuf_add(&b, "", 0);
	for (const char *p = path; *p; p++) {
		switch (*p) {
		case '%': sbuf_adds(&b, "%25"); break;
		case '\n': sbuf_adds(&b, "%0A"); break;
		case '\r': sbuf_adds(&b, "%0D"); break;
		default: sbuf_addc(&b, *p); break;
		}
	}
	return sbuf_steal(&b);
}

char *bag_path_json_encode(const char *path)
{
	struct sbuf b = SBUF_INIT;
	size_t n = strlen(path), i = 0;
	sbuf_add(&b, "", 0);
	while (i < n) {
		unsigned char c = (unsigned char)path[i];
		if (c == '%') {
			sbuf_adds(&b, "%25");
			i++;
			continue;
		}
		if (c < 0x80) {
			sbuf_addc(&b, (char)c);
			i++;
			continue;
		}
		/* the longest valid UTF-8 sequence starting here, else one byte */
		size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (len && n - i >= len && utf8_valid(path + i, len)) {
			sbuf_add(&b, path + i, len);
			i += len;
		} else {
			sbuf_printf(&b, "%%%02X", c);
			i++;
		}
	}
	return sbuf_steal(&b);
}


json_t *bag_json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s); /* NULL: not valid UTF-8 */
	return j ? j : bag_json_path(s);
}

json_t *bag_json_path(const char *s)
{
	if (!s)
		return json_null();
	_cleanup_free_ char *enc = bag_path_json_encode(s);
	return json_string(enc);
}

bool bag_notes_room(struct bag_notes *nt)
{
	if (nt->max && nt->n >= nt->max) {
		nt->more++;
		return false;
	}
	return true;
}

void bag_note_str(struct bag_notes *nt, const char *s)
{
	if (!bag_notes_room(nt))
		return;
	json_array_append_new(nt->arr, json_string(s));
	nt->n++;
}

void bag_notev(struct bag_notes *nt, const char *fmt, va_list ap)
{
	if (!bag_notes_room(nt))
		return;
	char msg[BAG_NOTE_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (nt->encode) {
		json_array_append_new(nt->arr, nt->encode(msg, strlen(msg)));
	} else {
		_cleanup_free_ char *enc = bag_path_json_encode(msg);
		json_array_append_new(nt->arr, json_string(enc));
	}
	nt->n++;
}

void bag_note(struct bag_notes *nt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bag_notev(nt, fmt, ap);
	va_end(ap);
}

void bag_notes_end(struct bag_notes *nt, const char *what)
{
	if (!nt->more)
		return;
	_cleanup_free_ char *m = xasprintf("%zu more notes %s", nt->more, what);
	json_array_append_new(nt->arr, json_string(m));
}

char *bag_path_decode(const char *s)
{
	struct sbuf b = SBUF_INIT;
	sbuf_add(&b, "", 0);
	for (const char *p = s; *p; p++) {
		if (*p != '%') {
			sbuf_addc(&b, *p);
			continue;
		}
		int h = hex_digit(p[1]), l = h >= 0 ? hex_digit(p[2]) : -1;
		if (h < 0 || l < 0 || (h == 0 && l == 0)) {
			sbuf_free(&b);
			return NULL;
		}
		sbuf_addc(&b, (char)(h << 4 | l));
		p += 2;
	}
	return sbuf_steal(&b);
}

bool bag_path_ok(const char *path)
{
	size_t n = strlen(path);
	if (!str_has_prefix(path, "data/") || n <= 5 || n > 4096)
		return false;
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len > 255 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return false; /* trailing slash */
	}
	return true;
}

/* ---- bag-info.txt ---- */

void bag_info_free(struct bag_info *bi)
{
	for (size_t i = 0; i < bi->n; i++) {
		free(bi->f[i].label);
		free(bi->f[i].value);
	}
	free(bi->f);
	bi->f = NULL;
	bi->n = 0;
}

const char *bag_info_get(const struct bag_info *bi, const char *label)
{
	for (size_t i = 0; i < bi->n; i++)
		if (strcasecmp(bi->f[i].label, label) == 0)
			return bi->f[i].value;
	return NULL;
}

/* the first problem wins; later ones only set bad */
#define PROBLEM(...)                                              \
	do {                                                      \
		if (!bad)                                         \
			snprintf(problem, psz, __VA_ARGS__);      \
		bad = 1;                                          \
	} while (0)

int bag_info_parse(const char *buf, size_t n, struct bag_info *bi, char *problem, size_t psz)
{
	size_t cap = 0, pos = 0, lineno = 0, vcap = 0, vlen = 0;
	int bad = 0;
	memset(bi, 0, sizeof(*bi));
	if (memchr(buf, '\0', n)) {
		snprintf(problem, psz, "contains a NUL byte");
		return 1;
	}
	if (!utf8_valid(buf, n))
		PROBLEM("is not valid UTF-8");
	const char *line;
	size_t len;
	bool nl;
	while ((line = str_line_next(buf, n, &pos, &len, &nl))) {
		lineno++;
		if (!nl)
			PROBLEM("line %zu has no newline", lineno);
		if (len > BAG_LINE_MAX) {
			PROBLEM("line %zu is longer than %u bytes", lineno, BAG_LINE_MAX);
			continue;
		}
		if (len == 0) {
			PROBLEM("line %zu is empty", lineno);
			continue;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			/* continuation of the value before, appended in place: a
			 * file of continuation lines costs its length, not its square */
			if (bi->n == 0) {
				PROBLEM("line %zu continues nothing", lineno);
				continue;
			}
			size_t k = 0;
			while (k < len && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (vlen + 1 + (len - k) > BAG_VALUE_MAX) {
				PROBLEM("line %zu: the value is longer than %u bytes", lineno,
					BAG_VALUE_MAX);
				continue;
			}
			xgrow(&bi->f[bi->n - 1].value, &vcap, vlen + 1 + (len - k) + 1, 1);
			char *val = bi->f[bi->n - 1].value;
			val[vlen++] = ' ';
			memcpy(val + vlen, line + k, len - k);
			vlen += len - k;
			val[vlen] = '\0';
			continue;
		}
		const char *colon = memchr(line, ':', len);
		if (!colon || colon == line) {
			PROBLEM("line %zu is not 'label: value'", lineno);
			continue;
		}
		if (bi->n >= BAG_INFO_FIELDS_MAX) {
			PROBLEM("more than %u fields: the rest not read", BAG_INFO_FIELDS_MAX);
			break;
		}
		size_t ll = (size_t)(colon - line);
		while (ll && (line[ll - 1] == ' ' || line[ll - 1] == '\t'))
			ll--;
		const char *v = colon + 1;
		while (v < line + len && (*v == ' ' || *v == '\t'))
			v++;
		xgrow(&bi->f, &cap, bi->n + 1, sizeof(*bi->f));
		vlen = (size_t)(line + len - v);
		vcap = vlen + 1;
		bi->f[bi->n].label = xstrndup(line, ll);
		bi->f[bi->n].value = xstrndup(v, vlen);
		bi->n++;
	}
	return bad;
}

/* ---- manifests ---- */

void bag_manifest_free(struct bag_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

int bag_manifest_parse(const char *buf, size_t n, struct bag_manifest *m, char *problem,
		       size_t psz)
{
	size_t cap = 0, pos = 0, lineno = 0;
	int bad = 0;
	memset(m, 0, sizeof(*m));
	const char *line;
	size_t len;
	bool nl;
	while ((line = str_line_next(buf, n, &pos, &len, &nl))) {
		if (lineno >= BAG_MANIFEST_LINES_MAX) {
			PROBLEM("more than %u lines: the rest not read", BAG_MANIFEST_LINES_MAX);
			break;
		}
		lineno++;
		if (!nl)
			PROBLEM("line %zu has no newline", lineno);
		if (len > BAG_LINE_MAX) {
			PROBLEM("line %zu is longer than %u bytes", lineno, BAG_LINE_MAX);
			continue;
		}
		size_t k = 0, hex = 0;
		while (k < len && line[k] != ' ' && line[k] != '\t') {
			char c = line[k++];
			if (hex == k - 1 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					     (c >= 'A' && c <= 'F')))
				hex++;
		}
		size_t sp = k;
		while (sp < len && (line[sp] == ' ' || line[sp] == '\t'))
			sp++;
		if (k != 64 || sp == k || sp >= len || memchr(line, '\0', len)) {
			PROBLEM("line %zu is not 'SHA256  PATH'", lineno);
			continue;
		}
		if (hex != 64) /* a damaged hash still names its file: kept, it matches nothing */
			PROBLEM("line %zu: the hash is not hexadecimal", lineno);
		char *raw = xstrndup(line + sp, len - sp);
		char *path = bag_path_decode(raw);
		free(raw);
		if (!path) {
			PROBLEM("line %zu: bad percent-encoding", lineno);
			continue;
		}
		xgrow(&m->e, &cap, m->n + 1, sizeof(*m->e));
		for (size_t i = 0; i < 64; i++) {
			char c = line[i];
			m->e[m->n].hash[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
		}
		m->e[m->n].hash[64] = '\0';
		m->e[m->n].path = path;
		m->n++;
	}
	return bad;
}

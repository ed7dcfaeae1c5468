/* flows.c: the bag's pcaps summarized (libpcap offline, streamed): flows
 * (5-tuple, packets and bytes each way, first/last time, TCP state, the
 * pcaps holding them), DNS messages (UDP, and over TCP), TLS ClientHello
 * SNI/ALPN, HTTP/1.x requests and responses; a packet held by two pcaps
 * counted once; TCP streams reassembled by sequence number
 * (bounded per direction and in total) and handed, with UDP payloads, to a
 * callback (YARA); the network findings (flow.*).
 *
 * Every byte is hostile: every length is checked against what was
 * captured, every list and buffer is bounded, a malformed packet is counted
 * and skipped. Nothing here prints or exits. */
#include <ctype.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "contain/analyze.h"
#include "contain/bag.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define DNS_QUESTIONS_MAX 16u
#define DNS_ANSWERS_MAX	  64u
#define DNS_JUMPS_MAX	  32u
#define TLS_EXT_MAX	  256u
#define HTTP_HEAD_MAX	  (64u << 10)
#define HTTP_PER_STREAM	  32u
#define HTTP_FIELD_MAX	  1024u
#define AFTER_CUT_DESTS	  100u
#define DNS_TCP_MSGS_MAX  256u /* DNS messages read from one TCP stream direction */

enum { F_SYN = 1, F_SYNACK = 2, F_RST = 4, F_FIN0 = 8, F_FIN1 = 16, F_CLOSED = 32 };

struct seg {
	struct seg *next;
	uint32_t off, len;
	unsigned char data[];
};

struct half {
	bool have_base, truncated, gap, stopped;
	uint32_t base;
	unsigned char *buf;
	size_t len, cap;
	struct seg *pend;
	unsigned npend;
	uint64_t packets, bytes, data_packets, payload;
};

struct flow {
	struct aflow_key k;
	struct flow *hnext;
	int64_t first_ns, last_ns;
	struct half h[2];
	unsigned flags;
	uint64_t pcaps;	    /* bit i: pcap i holds packets of it */
	uint64_t after_cut; /* packets from src at or after the cut */
	bool new_after_cut; /* its first packet was at or after the cut */
	bool delivered;
	json_t *app; /* {"sni":..,"alpn":..,"host":..} or NULL */
};

struct pcapinfo {
	char *name;
	int linktype;
	uint64_t packets, bytes, bad, not_ip, dups;
	bool nflog;
	char *error;
};

/* a packet remembered for the identity of packets across pcaps: its
 * identity's keyed hash, its time, the pcaps whose copy it matched */
struct dupent {
	uint64_t h;
	int64_t ns;
	uint64_t matched; /* bit i: a copy in pcap i was matched to it */
	uint32_t next;	  /* the next of its bucket, DUP_NONE: none */
	uint8_t pcap;
	bool cut; /* its packet was counted as sent after the cut */
};
#define DUP_NONE UINT32_MAX

struct aflows {
	struct aflows_opts o;
	struct flow **hash;
	size_t hsize;
	struct flow **v;
	size_t nv, cap;
	uint64_t held; /* stream bytes held now */
	struct pcapinfo pc[AFLOW_PCAPS_MAX];
	size_t npc;
	bool has_cut;
	int64_t cut_ns;
	json_t *dns, *tls, *http, *notes;
	uint64_t packets, bytes, bad, not_ip, fragments, untracked, dns_total, tls_total,
	    http_total, truncated, gaps, nxdomain;
	int cur;	      /* the pcap being read */
	uint8_t (*local)[17]; /* family (4, 6) then the address */
	size_t nlocal;
	/* packets remembered for their copies in other pcaps */
	struct dupent *de;
	uint32_t *dbucket;
	size_t nde, dcap, dbsize;
	uint64_t sipk[2], dups;
	bool dup_full;
};

/* ---- small helpers ---- */

static void fnote(struct aflows *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fnote(struct aflows *f, const char *fmt, ...)
{
	if (json_array_size(f->notes) >= 1000)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char *enc = bag_path_json_encode(msg);
	json_array_append_new(f->notes, json_string(enc ? enc : "(a note)"));
	free(enc);
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* printable ASCII as is, the rest \xHH: a JSON-safe string of bytes */
static json_t *esc_json(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			sbuf_addc(&b, (char)p[i]);
		else
			sbuf_printf(&b, "\\x%02x", p[i]);
	}
	char *s = sbuf_steal(&b);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static void fmt_time(int64_t ns, char *buf, size_t n)
{
	time_t s = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	if (frac < 0) {
		frac += 1000000000;
		s--;
	}
	struct tm tm;
	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, n, "?");
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static json_t *time_json(int64_t ns)
{
	char b[64];
	fmt_time(ns, b, sizeof(b));
	return json_string(b);
}

/* "2026-12-07T01:54:30.819654836Z" (or +hh:mm) into ns since the epoch */
static bool parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, se, used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	const char *p = s + used;
	int64_t frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits++ < 9)
				frac = frac * 10 + (*p - '0');
		for (; digits < 9; digits++)
			frac *= 10;
	}
	int64_t off = 0;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		      ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '+')
			off = -off;
	} else if (*p != 'Z') {
		return false;
	}
	*out = ((int64_t)t + off) * 1000000000 + frac;
	return true;
}

static void addr_str(const struct aflow_key *k, const uint8_t *a, char *buf, size_t n)
{
	if (!inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
}

static void ep_str(const struct aflow_key *k, int which, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	addr_str(k, which ? k->dst : k->src, a, sizeof(a));
	unsigned port = which ? k->dport : k->sport;
	snprintf(buf, n, k->family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	default:
		return "ip";
	}
}

/* "tcp 10.0.0.2:40000 -> 10.0.0.1:4444" */
static void flow_str(const struct aflow_key *k, char *buf, size_t n)
{
	char s[64], d[64];
	ep_str(k, 0, s, sizeof(s));
	ep_str(k, 1, d, sizeof(d));
	snprintf(buf, n, "%s %s -> %s", proto_name(k->proto), s, d);
}

/* ---- DNS ---- */

static const char *dns_type_name(unsigned t, char *buf, size_t n)
{
	static const struct {
		unsigned t;
		const char *n;
	} names[] = {{1, "A"},	  {2, "NS"},	{5, "CNAME"},  {6, "SOA"},   {12, "PTR"},
		     {15, "MX"},  {16, "TXT"},	{28, "AAAA"},  {33, "SRV"},  {35, "NAPTR"},
		     {41, "OPT"}, {64, "SVCB"}, {65, "HTTPS"}, {255, "ANY"}, {257, "CAA"}};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].t == t)
			return names[i].n;
	snprintf(buf, n, "TYPE%u", t);
	return buf;
}

static const char *const rcode_names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
					  "NXDOMAIN", "NOTIMP",	 "REFUSED"};

/* A name at *off of msg into out (at most 255 bytes of name, dots between
 * labels, "\DDD" for bytes not [A-Za-z0-9_-]); *off past it in the message
 * (the first pointer ends it). false: malformed (loops, out of bounds, a
 * name longer than 255). */
static bool dns_name(const unsigned char *m, size_t n, size_t *off, char *out, size_t outsz)
{
	size_t p = *off, o = 0, wire = 0;
	unsigned jumps = 0;
	bool jumped = false;
	out[0] = '\0';
	for (;;) {
		if (p >= n)
			return false;
		unsigned l = m[p];
		if (l == 0) {
			if (!jumped)
				*off = p + 1;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= n || ++jumps > DNS_JUMPS_MAX)
				return false;
			size_t to = (size_t)((l & 0x3f) << 8 | m[p + 1]);
			if (!jumped)
				*off = p + 2;
			jumped = true;
			if (to >= n)
				return false;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return false; /* 0x40, 0x80: extended label types */
		if (p + 1 + l > n)
			return false;
		wire += l + 1;
		if (wire > 255)
			return false;
		if (o && o + 1 < outsz)
			out[o++] = '.';
		for (unsigned i = 0; i < l; i++) {
			unsigned char c = m[p + 1 + i];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == '-' || c == '_';
			if (plain) {
				if (o + 1 < outsz)
					out[o++] = (char)c;
			} else if (o + 5 < outsz) {
				o += (size_t)snprintf(out + o, outsz - o, "\\%03u", c);
			}
		}
		out[o < outsz ? o : outsz - 1] = '\0';
		p += 1 + l;
	}
	if (o == 0 && outsz > 1) {
		out[0] = '.';
		out[1] = '\0';
	}
	return true;
}

json_t *aflow_dns_json(const void *buf, size_t n)
{
	const unsigned char *m = buf;
	if (n < 12)
		return NULL;
	unsigned flags = be16(m + 2), qd = be16(m + 4), an = be16(m + 6);
	unsigned opcode = (flags >> 11) & 0xf;
	if (qd == 0 || qd > 64 || opcode > 6)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(be16(m)));
	json_object_set_new(o, "response", json_boolean(flags & 0x8000));
	unsigned rc = flags & 0xf;
	char tb[32];
	if (rc < ARRAY_SIZE(rcode_names))
		json_object_set_new(o, "rcode", json_string(rcode_names[rc]));
	else {
		snprintf(tb, sizeof(tb), "RCODE%u", rc);
		json_object_set_new(o, "rcode", json_string(tb));
	}
	size_t off = 12;
	char name[1100];
	json_t *qs = json_array();
	json_object_set_new(o, "questions", qs);
	for (unsigned i = 0; i < qd; i++) {
		if (!dns_name(m, n, &off, name, sizeof(name)) || off + 4 > n) {
			json_decref(o);
			return NULL;
		}
		if (i < DNS_QUESTIONS_MAX)
			json_array_append_new(
			    qs, json_pack("{s:s,s:s}", "name", name, "type",
					  dns_type_name(be16(m + off), tb, sizeof(tb))));
		off += 4;
	}
	json_t *as = json_array();
	json_object_set_new(o, "answers", as);
	for (unsigned i = 0; i < an && i < DNS_ANSWERS_MAX; i++) {
		if (!dns_name(m, n, &off, name, sizeof(name)) || off + 10 > n)
			break; /* the answers are cut: what was read stays */
		unsigned type = be16(m + off);
		uint32_t ttl = be32(m + off + 4);
		size_t rdlen = be16(m + off + 8);
		off += 10;
		if (off + rdlen > n)
			break;
		json_t *a = json_pack("{s:s,s:s,s:I}", "name", name, "type",
				      dns_type_name(type, tb, sizeof(tb)), "ttl", (json_int_t)ttl);
		char data[1100];
		data[0] = '\0';
		size_t r = off;
		if (type == 1 && rdlen == 4)
			inet_ntop(AF_INET, m + off, data, sizeof(data));
		else if (type == 28 && rdlen == 16)
			inet_ntop(AF_INET6, m + off, data, sizeof(data));
		else if ((type == 5 || type == 2 || type == 12) &&
			 dns_name(m, off + rdlen, &r, data, sizeof(data)))
			;
		else if (type == 15 && rdlen > 2) {
			r = off + 2;
			if (!dns_name(m, off + rdlen, &r, data, sizeof(data)))
				data[0] = '\0';
		}
		if (data[0])
			json_object_set_new(a, "data", json_string(data));
		else if (type == 16 && rdlen > 0) {
			size_t l = m[off];
			if (l > rdlen - 1)
				l = rdlen - 1;
			json_object_set_new(a, "data", esc_json(m + off + 1, l));
		}
		json_array_append_new(as, a);
		off += rdlen;
	}
	return o;
}

/* ---- TLS ClientHello ---- */

json_t *aflow_tls_json(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	if (n < 5 + 4 || p[0] != 0x16 || p[1] != 3)
		return NULL;
	size_t rlen = be16(p + 3);
	const unsigned char *h = p + 5;
	size_t hn = n - 5 < rlen ? n - 5 : rlen;
	if (hn < 4 || h[0] != 1)
		return NULL;
	size_t hlen = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	h += 4;
	hn -= 4;
	if (hn > hlen)
		hn = hlen;
	size_t o = 0;
	if (hn < 2 + 32 + 1)
		return NULL;
	unsigned ver = be16(h);
	o = 2 + 32;
	o += 1 + h[o]; /* session id */
	if (o + 2 > hn)
		return NULL;
	size_t cs = be16(h + o);
	o += 2 + cs;
	if (o + 1 > hn)
		return NULL;
	o += 1 + h[o]; /* compression methods */
	json_t *j = json_object();
	char vb[32];
	snprintf(vb, sizeof(vb), "0x%04x", ver);
	json_object_set_new(j, "version",
			    json_string(ver == 0x0303	? "TLS 1.2"
					: ver == 0x0302 ? "TLS 1.1"
					: ver == 0x0301 ? "TLS 1.0"
							: vb));
	json_object_set_new(j, "ciphers", json_integer((json_int_t)(cs / 2)));
	json_object_set_new(j, "sni", json_null());
	json_t *alpn = json_array();
	json_object_set_new(j, "alpn", alpn);
	if (o + 2 > hn)
		return j; /* no extensions */
	size_t elen = be16(h + o);
	o += 2;
	size_t end = o + elen < hn ? o + elen : hn;
	for (unsigned i = 0; i < TLS_EXT_MAX && o + 4 <= end; i++) {
		unsigned et = be16(h + o);
		size_t el = be16(h + o + 2);
		o += 4;
		if (o + el > end)
			break;
		const unsigned char *e = h + o;
		if (et == 0 && el >= 5) { /* server_name: list, type 0, name */
			size_t nl = be16(e + 3);
			if (e[2] == 0 && 5 + nl <= el && nl <= 255)
				json_object_set_new(j, "sni", esc_json(e + 5, nl));
		} else if (et == 16 && el >= 2) { /* ALPN */
			size_t ll = be16(e), q = 2;
			if (ll + 2 > el)
				ll = el - 2;
			while (q < 2 + ll && json_array_size(alpn) < 16) {
				size_t pl = e[q++];
				if (q + pl > 2 + ll)
					break;
				json_array_append_new(alpn, esc_json(e + q, pl));
				q += pl;
			}
		} else if (et == 43 && el >= 3) { /* supported_versions */
			for (size_t q = 1; q + 1 < el && q < 1u + e[0]; q += 2)
				if (be16(e + q) == 0x0304)
					json_object_set_new(j, "version", json_string("TLS 1.3"));
		}
		o += el;
	}
	return j;
}

/* ---- HTTP/1.x ---- */

static const char *const methods[] = {"GET",   "POST",	  "HEAD",    "PUT",   "DELETE",
				      "PATCH", "OPTIONS", "CONNECT", "TRACE", "PROPFIND"};

/* the end of the head (after "\r\n\r\n" or "\n\n") within n, or 0 */
static size_t head_end(const char *s, size_t n)
{
	if (n > HTTP_HEAD_MAX)
		n = HTTP_HEAD_MAX;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == '\n' && s[i + 1] == '\n')
			return i + 2;
		if (s[i] == '\n' && s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* a header's value (first of its name) in the head, trimmed; NULL */
static json_t *header(const char *s, size_t n, const char *name, size_t *len_out)
{
	size_t nl = strlen(name);
	const char *p = memchr(s, '\n', n);
	while (p && (size_t)(p - s) + 1 < n) {
		const char *line = p + 1;
		size_t left = n - (size_t)(line - s);
		const char *eol = memchr(line, '\n', left);
		size_t ll = eol ? (size_t)(eol - line) : left;
		if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vl = ll - nl - 1;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl > HTTP_FIELD_MAX)
				vl = HTTP_FIELD_MAX;
			if (len_out)
				*len_out = vl;
			return esc_json(v, vl);
		}
		p = eol;
	}
	return NULL;
}

static long long content_length(const char *s, size_t n)
{
	json_t *v = header(s, n, "Content-Length", NULL);
	long long cl = -1;
	if (v && parse_ll(json_string_value(v), 0, INT64_MAX, &cl) < 0)
		cl = -1;
	json_decref(v);
	return cl;
}

static json_t *first_line_field(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos;
	while (i < n && s[i] != ' ' && s[i] != '\r' && s[i] != '\n')
		i++;
	size_t l = i - *pos;
	json_t *j = esc_json(s + *pos, l > HTTP_FIELD_MAX ? HTTP_FIELD_MAX : l);
	*pos = i < n && s[i] == ' ' ? i + 1 : i;
	return j;
}

json_t *aflow_http_request_json(const void *buf, size_t n)
{
	const char *s = buf;
	size_t m;
	for (m = 0; m < ARRAY_SIZE(methods); m++) {
		size_t l = strlen(methods[m]);
		if (n > l && memcmp(s, methods[m], l) == 0 && s[l] == ' ')
			break;
	}
	if (m == ARRAY_SIZE(methods))
		return NULL;
	const char *eol = memchr(s, '\n', n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX);
	if (!eol)
		return NULL;
	size_t ll = (size_t)(eol - s), pos = 0;
	if (ll < 8 || memmem(s, ll, " HTTP/1.", 8) == NULL)
		return NULL;
	json_t *j = json_object();
	json_object_set_new(j, "method", first_line_field(s, ll, &pos));
	json_object_set_new(j, "target", first_line_field(s, ll, &pos));
	json_object_set_new(j, "version", first_line_field(s, ll, &pos));
	size_t he = head_end(s, n);
	size_t hn = he ? he : (n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX);
	json_t *h = header(s, hn, "Host", NULL), *ua = header(s, hn, "User-Agent", NULL);
	json_object_set_new(j, "host", h ? h : json_null());
	json_object_set_new(j, "user_agent", ua ? ua : json_null());
	return j;
}

/* the kind of a body's first bytes: "elf", "script", or NULL */
static const char *body_kind(const unsigned char *b, size_t n)
{
	if (n >= 4 && memcmp(b,
			     "\x7f"
			     "ELF",
			     4) == 0)
		return "elf";
	if (n >= 2 && b[0] == '#' && b[1] == '!')
		return "script";
	return NULL;
}

json_t *aflow_http_response_json(const void *buf, size_t n)
{
	const char *s = buf;
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0)
		return NULL;
	const char *eol = memchr(s, '\n', n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX);
	if (!eol)
		return NULL;
	long long status;
	char code[4] = {s[9], s[10], s[11], 0};
	if (s[8] != ' ' || parse_ll(code, 100, 999, &status) < 0)
		return NULL;
	json_t *j = json_object();
	json_object_set_new(j, "status", json_integer(status));
	size_t he = head_end(s, n);
	size_t hn = he ? he : (n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX);
	json_t *ct = header(s, hn, "Content-Type", NULL);
	json_object_set_new(j, "content_type", ct ? ct : json_null());
	long long cl = content_length(s, hn);
	json_object_set_new(j, "content_length", cl >= 0 ? json_integer(cl) : json_null());
	const char *kind = NULL;
	if (he && he < n) {
		const unsigned char *b = (const unsigned char *)s + he;
		size_t bn = n - he;
		json_t *te = header(s, hn, "Transfer-Encoding", NULL);
		if (te && strcasestr(json_string_value(te), "chunked")) {
			const unsigned char *nl = memchr(b, '\n', bn < 32 ? bn : 32);
			if (nl) {
				bn -= (size_t)(nl + 1 - b);
				b = nl + 1;
			}
		}
		json_decref(te);
		json_t *ce = header(s, hn, "Content-Encoding", NULL);
		if (ce)
			json_object_set_new(j, "content_encoding", ce);
		kind = body_kind(b, bn);
	}
	json_object_set_new(j, "body", kind ? json_string(kind) : json_null());
	return j;
}

/* ---- the flow table ---- */

static uint64_t ep_hash(const uint8_t *a, uint16_t port)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (h ^ port) * 1099511628211ull;
}

static uint64_t key_hash(const struct aflow_key *k)
{
	/* symmetric: a flow's packets both ways land in one bucket */
	return ep_hash(k->src, k->sport) ^ ep_hash(k->dst, k->dport) ^ k->proto ^
	       ((uint64_t)k->family << 8);
}

static bool key_eq(const struct aflow_key *a, const struct aflow_key *b, int *dir)
{
	if (a->family != b->family || a->proto != b->proto)
		return false;
	if (a->sport == b->sport && a->dport == b->dport && !memcmp(a->src, b->src, 16) &&
	    !memcmp(a->dst, b->dst, 16)) {
		*dir = 0;
		return true;
	}
	if (a->sport == b->dport && a->dport == b->sport && !memcmp(a->src, b->dst, 16) &&
	    !memcmp(a->dst, b->src, 16)) {
		*dir = 1;
		return true;
	}
	return false;
}

static void key_swap(struct aflow_key *k)
{
	uint8_t t[16];
	memcpy(t, k->src, 16);
	memcpy(k->src, k->dst, 16);
	memcpy(k->dst, t, 16);
	uint16_t p = k->sport;
	k->sport = k->dport;
	k->dport = p;
}

static void hash_grow(struct aflows *f)
{
	size_t ns = f->hsize ? f->hsize * 2 : 4096;
	struct flow **nh = xcalloc(ns, sizeof(*nh));
	for (size_t i = 0; i < f->hsize; i++) {
		struct flow *x = f->hash[i];
		while (x) {
			struct flow *next = x->hnext;
			size_t b = key_hash(&x->k) & (ns - 1);
			x->hnext = nh[b];
			nh[b] = x;
			x = next;
		}
	}
	free(f->hash);
	f->hash = nh;
	f->hsize = ns;
}

static void hash_remove(struct aflows *f, struct flow *x)
{
	struct flow **pp = &f->hash[key_hash(&x->k) & (f->hsize - 1)];
	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
	x->hnext = NULL;
}

struct aflows *aflows_new(const struct aflows_opts *o)
{
	struct aflows *f = xcalloc(1, sizeof(*f));
	if (o)
		f->o = *o;
	if (!f->o.stream_max)
		f->o.stream_max = AFLOW_STREAM_MAX;
	if (!f->o.total_max)
		f->o.total_max = AFLOW_TOTAL_MAX;
	if (!f->o.flows_max)
		f->o.flows_max = AFLOW_FLOWS_MAX;
	/* nobody to hand streams to: only their heads (TLS, HTTP) are kept */
	if (!f->o.on_stream && f->o.stream_max > (64u << 10))
		f->o.stream_max = 64u << 10;
	f->has_cut = parse_time(f->o.cut_at, &f->cut_ns);
	if (f->o.nlocal) {
		f->local = xcalloc(f->o.nlocal, sizeof(*f->local));
		for (size_t i = 0; i < f->o.nlocal; i++) {
			const char *ad = f->o.local_addrs[i];
			if (ad && inet_pton(AF_INET, ad, f->local[f->nlocal] + 1) == 1)
				f->local[f->nlocal++][0] = 4;
			else if (ad && inet_pton(AF_INET6, ad, f->local[f->nlocal] + 1) == 1)
				f->local[f->nlocal++][0] = 6;
		}
	}
	f->dns = json_array();
	f->tls = json_array();
	f->http = json_array();
	f->notes = json_array();
	if (getrandom(f->sipk, sizeof(f->sipk), GRND_NONBLOCK) != sizeof(f->sipk)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		f->sipk[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)f;
		f->sipk[1] ^= (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32;
	}
	hash_grow(f);
	return f;
}

static void half_free(struct aflows *f, struct half *h)
{
	f->held -= h->cap;
	free(h->buf);
	h->buf = NULL;
	h->len = h->cap = 0;
	while (h->pend) {
		struct seg *s = h->pend;
		h->pend = s->next;
		f->held -= s->len;
		free(s);
	}
	h->npend = 0;
}

void aflows_free(struct aflows *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nv; i++) {
		half_free(f, &f->v[i]->h[0]);
		half_free(f, &f->v[i]->h[1]);
		json_decref(f->v[i]->app);
		free(f->v[i]);
	}
	free(f->v);
	free(f->hash);
	free(f->local);
	free(f->de);
	free(f->dbucket);
	for (size_t i = 0; i < f->npc; i++) {
		free(f->pc[i].name);
		free(f->pc[i].error);
	}
	json_decref(f->dns);
	json_decref(f->tls);
	json_decref(f->http);
	json_decref(f->notes);
	free(f);
}

/* ---- one packet in two pcaps ----
 * The netns capture (capture-eth0.pcap) and an NFLOG capture (the drop
 * rules' log in the netns, capture-nflog.pcap, or on the host peer,
 * capture-host-nflog.pcap) can hold the same packet: a packet to the
 * container passes the veth tap before the netns rules drop and log it; one
 * from it passes the tap before the host rules do. Its identity is what the
 * two taps see alike: the IP header but its TTL/hop limit, TOS/traffic class
 * and checksum (IPv4: addresses, protocol, total length, id, fragment
 * field; IPv6: addresses, flow label, payload length, next header), the
 * transport header but its checksum (TCP: ports, seq, ack, flags, window,
 * options such as the timestamps; UDP: ports, length; ICMP: type, code,
 * rest of header), and the first AFLOW_DUP_PAYLOAD bytes of the payload.
 * A packet whose identity a packet of another pcap had, within
 * AFLOW_DUP_WINDOW_NS of it, is a copy of it: counted once, one copy
 * matched to one packet (the nearest in time), never within one pcap (a
 * retransmission is a packet of its own). The identity is hashed with
 * SipHash-2-4 under a random key, so bytes from the container cannot be
 * made to collide. An NFLOG pcap holds only packets the cut's rules
 * dropped, so only packets from AFLOW_DUP_BEFORE_CUT before the cut on are
 * remembered, at most AFLOW_DUP_MAX; when the cut time is not known (no
 * quarantine.json: capture writes no NFLOG pcap without a cut), only the
 * packets of NFLOG pcaps (a pcap read alone costs nothing). */

static uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1, v1 = rotl64(v1, 13), v1 ^= v0, v0 = rotl64(v0, 32);                      \
		v2 += v3, v3 = rotl64(v3, 16), v3 ^= v2;                                           \
		v0 += v3, v3 = rotl64(v3, 21), v3 ^= v0;                                           \
		v2 += v1, v1 = rotl64(v1, 17), v1 ^= v2, v2 = rotl64(v2, 32);                      \
	} while (0)

static uint64_t siphash24(const uint64_t k[2], const unsigned char *m, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1],
		 v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, m + i, 8); /* little endian */
		v3 ^= w;
		SIPROUND;
		SIPROUND;
		v0 ^= w;
	}
	uint64_t b = (uint64_t)n << 56;
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)m[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void idb_add(unsigned char *b, size_t *n, const unsigned char *p, size_t k)
{
	memcpy(b + *n, p, k);
	*n += k;
}

/* the identity of an IP packet (header at ip, transport bytes l4n at l4) */
static uint64_t pkt_identity(const struct aflows *f, const unsigned char *ip, int ver,
			     uint8_t proto, const unsigned char *l4, size_t l4n)
{
	unsigned char b[64 + 64 + AFLOW_DUP_PAYLOAD];
	size_t n = 0;
	if (ver == 4) {
		idb_add(b, &n, ip + 2, 6); /* total length, id, fragment field */
		idb_add(b, &n, ip + 9, 1);
		idb_add(b, &n, ip + 12, 8);
	} else {
		unsigned char fl[3] = {(unsigned char)(ip[1] & 0x0f), ip[2], ip[3]};
		idb_add(b, &n, fl, 3);
		idb_add(b, &n, ip + 4, 2);
		idb_add(b, &n, ip + 8, 32);
		idb_add(b, &n, &proto, 1);
	}
	size_t hl = 0;
	if (proto == 6 && l4n >= 20 && (size_t)(l4[12] >> 4) * 4 >= 20 &&
	    (size_t)(l4[12] >> 4) * 4 <= l4n) {
		hl = (size_t)(l4[12] >> 4) * 4;
		idb_add(b, &n, l4, 16);
		size_t opt = hl - 18 < 42 ? hl - 18 : 42;
		idb_add(b, &n, l4 + 18, opt);
	} else if (proto == 17 && l4n >= 8) {
		hl = 8;
		idb_add(b, &n, l4, 6);
	} else if ((proto == 1 || proto == 58) && l4n >= 8) {
		hl = 8;
		idb_add(b, &n, l4, 2);
		idb_add(b, &n, l4 + 4, 4);
	}
	size_t pn = l4n - hl < AFLOW_DUP_PAYLOAD ? l4n - hl : AFLOW_DUP_PAYLOAD;
	idb_add(b, &n, l4 + hl, pn);
	return siphash24(f->sipk, b, n);
}

/* the packet of another pcap this one is a copy of (now matched), or NULL */
static struct dupent *dup_match(struct aflows *f, uint64_t h, int64_t ns)
{
	if (!f->dbsize || f->cur == 0)
		return NULL;
	struct dupent *best = NULL;
	uint64_t bit = 1ull << f->cur, bestd = 0;
	for (uint32_t i = f->dbucket[h & (f->dbsize - 1)]; i != DUP_NONE; i = f->de[i].next) {
		struct dupent *e = &f->de[i];
		if (e->h != h || e->pcap == f->cur || (e->matched & bit))
			continue;
		uint64_t d = e->ns > ns ? (uint64_t)(e->ns - ns) : (uint64_t)(ns - e->ns);
		if (d <= AFLOW_DUP_WINDOW_NS && (!best || d < bestd)) {
			best = e;
			bestd = d;
		}
	}
	if (best)
		best->matched |= bit;
	return best;
}

static void dup_rehash(struct aflows *f, size_t size)
{
	free(f->dbucket);
	f->dbucket = xreallocarray(NULL, size, sizeof(*f->dbucket));
	for (size_t i = 0; i < size; i++)
		f->dbucket[i] = DUP_NONE;
	f->dbsize = size;
	for (size_t i = 0; i < f->nde; i++) {
		size_t bk = f->de[i].h & (size - 1);
		f->de[i].next = f->dbucket[bk];
		f->dbucket[bk] = (uint32_t)i;
	}
}

/* whether a packet at ns of this pcap is remembered for later pcaps */
static bool dup_keeps(const struct aflows *f, int64_t ns)
{
	return f->has_cut ? ns >= f->cut_ns - AFLOW_DUP_BEFORE_CUT : f->pc[f->cur].nflog;
}

/* this packet remembered for later pcaps, or NULL (not kept) */
static struct dupent *dup_remember(struct aflows *f, uint64_t h, int64_t ns)
{
	if (f->nde >= AFLOW_DUP_MAX) {
		if (!f->dup_full)
			fnote(f,
			      "pcaps: more than %u packets remembered for their copies in other "
			      "pcaps; a copy of a later one in another pcap is counted again",
			      AFLOW_DUP_MAX);
		f->dup_full = true;
		return NULL;
	}
	if (f->nde == f->dcap) {
		f->dcap = f->dcap ? f->dcap * 2 : 4096;
		f->de = xreallocarray(f->de, f->dcap, sizeof(*f->de));
		dup_rehash(f, f->dcap);
	}
	struct dupent *e = &f->de[f->nde];
	*e = (struct dupent){.h = h, .ns = ns, .pcap = (uint8_t)f->cur};
	size_t bk = h & (f->dbsize - 1);
	e->next = f->dbucket[bk];
	f->dbucket[bk] = (uint32_t)f->nde++;
	return e;
}

/* ---- TCP reassembly ---- */

/* bytes at offset len of h (the contiguous part) */
static void half_append(struct aflows *f, struct half *h, const unsigned char *p, size_t n)
{
	if (h->stopped || n == 0)
		return;
	if (h->len + n > h->cap) {
		size_t nc = h->cap ? h->cap : 4096;
		while (nc < h->len + n)
			nc *= 2;
		if (nc > f->o.stream_max)
			nc = f->o.stream_max;
		if (f->held + (nc - h->cap) > f->o.total_max) {
			h->stopped = h->truncated = true;
			return;
		}
		h->buf = xrealloc(h->buf, nc);
		f->held += nc - h->cap;
		h->cap = nc;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void half_drain(struct aflows *f, struct half *h)
{
	while (h->pend && h->pend->off <= h->len) {
		struct seg *s = h->pend;
		h->pend = s->next;
		h->npend--;
		if (s->off + s->len > h->len) {
			size_t skip = h->len - s->off;
			half_append(f, h, s->data + skip, s->len - skip);
		}
		f->held -= s->len;
		free(s);
	}
}

static void half_segment(struct aflows *f, struct half *h, uint32_t seq, const unsigned char *p,
			 size_t n)
{
	if (n == 0 || h->stopped)
		return;
	if (!h->have_base) {
		h->have_base = true;
		h->base = seq;
	}
	uint32_t rel = seq - h->base;
	if (rel >= 0x80000000u) { /* starts before the base: the part after it */
		uint32_t before = (uint32_t)(0u - rel);
		if (before >= n)
			return;
		p += before;
		n -= before;
		rel = 0;
	}
	if (rel >= f->o.stream_max) {
		h->truncated = true;
		return;
	}
	if (rel + n > f->o.stream_max) {
		n = f->o.stream_max - rel;
		h->truncated = true;
	}
	if (rel <= h->len) {
		if (rel + n > h->len)
			half_append(f, h, p + (h->len - rel), rel + n - h->len);
		half_drain(f, h);
		return;
	}
	/* out of order: held, sorted by offset (an equal offset: first kept) */
	if (h->npend >= AFLOW_PENDING_MAX || f->held + n > f->o.total_max) {
		h->gap = true;
		return;
	}
	struct seg **pp = &h->pend;
	while (*pp && (*pp)->off <= rel) {
		if ((*pp)->off == rel && (*pp)->len >= n)
			return; /* a retransmission of what is held */
		pp = &(*pp)->next;
	}
	struct seg *s = xmalloc(sizeof(*s) + n);
	s->off = rel;
	s->len = (uint32_t)n;
	memcpy(s->data, p, n);
	s->next = *pp;
	*pp = s;
	h->npend++;
	f->held += n;
}

/* ---- application layer of a closed flow ---- */

static json_t *flow_ref(const struct flow *x, int64_t ns)
{
	char s[64], d[64];
	ep_str(&x->k, 0, s, sizeof(s));
	ep_str(&x->k, 1, d, sizeof(d));
	return json_pack("{s:o,s:s,s:s,s:s}", "time", time_json(ns), "proto",
			 proto_name(x->k.proto), "src", s, "dst", d);
}

static void app_set(struct flow *x, const char *k, json_t *v)
{
	if (!x->app)
		x->app = json_object();
	json_object_set_new(x->app, k, v);
}

static void dns_packet(struct aflows *f, const struct flow *x, int dir, int64_t ns,
		       const unsigned char *p, size_t n)
{
	json_t *d = aflow_dns_json(p, n);
	if (!d)
		return;
	f->dns_total++;
	if (json_is_true(json_object_get(d, "response")) &&
	    strcmp(json_string_value(json_object_get(d, "rcode")), "NXDOMAIN") == 0)
		f->nxdomain++;
	json_t *r = flow_ref(x, ns);
	if (dir == 1) { /* a response: from the server */
		json_object_set(r, "from", json_object_get(r, "dst"));
	} else {
		json_object_set(r, "from", json_object_get(r, "src"));
	}
	json_object_update(r, d);
	json_decref(d);
	if (json_array_size(f->dns) < AFLOW_LIST_MAX)
		json_array_append_new(f->dns, r);
	else
		json_decref(r); /* counted; the findings use the listed ones */
}

/* DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message after a 2-byte
 * length, several a stream; at most DNS_TCP_MSGS_MAX a direction, up to
 * the first message cut short (the stream's bound or a gap ends it). The
 * messages of a stream carry the flow's first time (the stream is read
 * whole when the flow ends, its packets' times are not kept). */
static void dns_tcp(struct aflows *f, const struct flow *x)
{
	for (int d = 0; d < 2; d++) {
		const struct half *h = &x->h[d];
		size_t off = 0;
		unsigned i;
		for (i = 0; i < DNS_TCP_MSGS_MAX && h->len - off >= 2; i++) {
			size_t ml = be16(h->buf + off);
			if (ml == 0 || ml > h->len - off - 2)
				break;
			dns_packet(f, x, d, x->first_ns, h->buf + off + 2, ml);
			off += 2 + ml;
		}
		if (i == DNS_TCP_MSGS_MAX && h->len - off >= 2) {
			char fs[160];
			flow_str(&x->k, fs, sizeof(fs));
			fnote(f,
			      "dns over tcp: %s: more than %u messages one way, the rest not read",
			      fs, DNS_TCP_MSGS_MAX);
		}
	}
}

static void flow_app(struct aflows *f, struct flow *x)
{
	struct half *c = &x->h[0], *s = &x->h[1];
	if (x->k.dport == 53 || x->k.sport == 53) {
		dns_tcp(f, x);
		return;
	}
	if (c->len == 0)
		return;
	json_t *t = aflow_tls_json(c->buf, c->len);
	if (t) {
		f->tls_total++;
		json_t *sni = json_object_get(t, "sni");
		if (json_is_string(sni))
			app_set(x, "sni", json_incref(sni));
		if (json_array_size(f->tls) < AFLOW_LIST_MAX) {
			json_t *r = flow_ref(x, x->first_ns);
			json_object_update(r, t);
			json_array_append_new(f->tls, r);
		}
		json_decref(t);
		return;
	}
	size_t co = 0, so = 0;
	for (unsigned i = 0; i < HTTP_PER_STREAM && co < c->len; i++) {
		json_t *rq = aflow_http_request_json(c->buf + co, c->len - co);
		if (!rq)
			break;
		f->http_total++;
		if (i == 0 && json_is_string(json_object_get(rq, "host")))
			app_set(x, "host", json_incref(json_object_get(rq, "host")));
		size_t he = head_end((const char *)c->buf + co, c->len - co);
		long long cl = he ? content_length((const char *)c->buf + co, he) : -1;
		co = he ? co + he + (size_t)(cl > 0 ? cl : 0) : c->len;
		json_t *rs =
		    so < s->len ? aflow_http_response_json(s->buf + so, s->len - so) : NULL;
		json_t *r = flow_ref(x, x->first_ns);
		json_object_update(r, rq);
		json_decref(rq);
		json_object_set_new(r, "status", json_null());
		json_object_set_new(r, "content_type", json_null());
		json_object_set_new(r, "body", json_null());
		if (rs) {
			json_object_update(r, rs);
			json_decref(rs);
			size_t rhe = head_end((const char *)s->buf + so, s->len - so);
			long long rcl = rhe ? content_length((const char *)s->buf + so, rhe) : -1;
			so = rhe && rcl >= 0 ? so + rhe + (size_t)rcl : s->len;
		}
		if (json_array_size(f->http) < AFLOW_LIST_MAX)
			json_array_append_new(f->http, r);
		else
			json_decref(r);
		if (co > c->len)
			break;
	}
}

static void flow_deliver(struct aflows *f, struct flow *x)
{
	if (x->delivered)
		return;
	x->delivered = true;
	if (x->k.proto != 6)
		return;
	for (int d = 0; d < 2; d++) {
		struct half *h = &x->h[d];
		if (h->pend || h->gap)
			h->gap = true;
		if (h->gap)
			f->gaps++;
		if (h->truncated)
			f->truncated++;
	}
	flow_app(f, x);
	for (int d = 0; d < 2; d++) {
		if (f->o.on_stream && x->h[d].len)
			f->o.on_stream(&x->k, d, x->h[d].buf, x->h[d].len, f->o.arg);
		half_free(f, &x->h[d]);
	}
}

/* ---- packets ---- */

static bool is_service_port(uint16_t p)
{
	static const uint16_t ports[] = {53, 67, 68, 80, 123, 443, 5353, 22, 25, 8080, 8443};
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
		if (ports[i] == p)
			return true;
	return false;
}

static struct flow *flow_get(struct aflows *f, struct aflow_key *k, unsigned tcpflags, int *dir)
{
	size_t b = key_hash(k) & (f->hsize - 1);
	for (struct flow *x = f->hash[b]; x; x = x->hnext) {
		if (!key_eq(&x->k, k, dir))
			continue;
		/* a new connection on the tuple of a closed one */
		if ((x->flags & F_CLOSED) && (tcpflags & 0x12) == 0x02) {
			hash_remove(f, x);
			break;
		}
		return x;
	}
	if (f->nv >= f->o.flows_max)
		return NULL;
	struct flow *x = xcalloc(1, sizeof(*x));
	x->k = *k;
	*dir = 0;
	bool swap = false;
	if (k->proto == 6)
		swap = (tcpflags & 0x12) == 0x12 ||
		       (!(tcpflags & 0x02) && is_service_port(k->sport) &&
			!is_service_port(k->dport)) ||
		       (!(tcpflags & 0x02) && k->sport < 1024 && k->dport >= 1024);
	else if (k->proto == 17)
		swap = is_service_port(k->sport) && !is_service_port(k->dport);
	if (swap) {
		key_swap(&x->k);
		*dir = 1;
	}
	if (f->nv == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->nv++] = x;
	if (f->nv > f->hsize)
		hash_grow(f);
	b = key_hash(&x->k) & (f->hsize - 1);
	x->hnext = f->hash[b];
	f->hash[b] = x;
	return x;
}

struct pkt {
	int64_t ns;
	const unsigned char *l4;
	size_t l4n;	/* captured bytes of the transport header and payload */
	uint32_t iplen; /* the IP packet's length as its header says */
	struct aflow_key k;
	bool frag_later;    /* a fragment other than the first */
	struct dupent *dup; /* a copy of this packet of an earlier pcap: counted there */
	struct dupent *ent; /* this packet remembered, or NULL */
};

/* a packet counts as an attempt after the cut: one of an NFLOG pcap or
 * at/after the cut time, sent by the container (by src when its addresses
 * are not known) */
static bool sent_after_cut(const struct aflows *f, const struct flow *x, int dir, int64_t ns)
{
	bool cut = f->pc[f->cur].nflog || (f->has_cut && ns >= f->cut_ns);
	if (cut && f->nlocal) { /* sent by the container, whichever side began */
		bool mine = false;
		const uint8_t *sa = dir ? x->k.dst : x->k.src;
		for (size_t i = 0; i < f->nlocal && !mine; i++)
			mine = f->local[i][0] == x->k.family &&
			       !memcmp(f->local[i] + 1, sa, x->k.family == 4 ? 4 : 16);
		return mine;
	}
	return cut && dir == 0;
}

/* a copy of a packet counted from an earlier pcap: only the pcap it is
 * in, and that it was sent after the cut when this pcap says so (an NFLOG
 * copy) and the first copy did not */
static void copy_packet(struct aflows *f, struct pkt *pk, const struct aflow_key *k)
{
	f->dups++;
	f->pc[f->cur].dups++;
	size_t b = key_hash(k) & (f->hsize - 1);
	int dir = 0;
	struct flow *x = f->hash[b];
	while (x && !key_eq(&x->k, k, &dir))
		x = x->hnext;
	if (!x)
		return;
	if (f->cur < 64)
		x->pcaps |= 1ull << f->cur;
	if (!pk->dup->cut && sent_after_cut(f, x, dir, pk->ns)) {
		pk->dup->cut = true;
		x->after_cut++;
	}
}

static void transport(struct aflows *f, struct pkt *pk)
{
	struct aflow_key *k = &pk->k;
	const unsigned char *p = pk->l4, *pay = NULL;
	size_t n = pk->l4n, payn = 0;
	unsigned tflags = 0;
	uint32_t seq = 0;
	if (k->proto == 6) {
		if (n < 20 || (size_t)(p[12] >> 4) * 4 < 20 || (size_t)(p[12] >> 4) * 4 > n) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		k->sport = be16(p);
		k->dport = be16(p + 2);
		seq = be32(p + 4);
		tflags = p[13];
		pay = p + (p[12] >> 4) * 4;
		payn = n - (size_t)(p[12] >> 4) * 4;
	} else if (k->proto == 17) {
		if (n < 8) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		k->sport = be16(p);
		k->dport = be16(p + 2);
		size_t ul = be16(p + 4);
		pay = p + 8;
		payn = n - 8;
		if (ul >= 8 && ul - 8 < payn)
			payn = ul - 8;
	}
	int dir = 0;
	if (pk->dup) {
		copy_packet(f, pk, k);
		return;
	}
	struct flow *x = flow_get(f, k, tflags, &dir);
	if (!x) {
		f->untracked++;
		return;
	}
	struct half *h = &x->h[dir];
	if (!h->packets && !x->h[!dir].packets)
		x->first_ns = pk->ns;
	if (pk->ns < x->first_ns)
		x->first_ns = pk->ns;
	if (pk->ns > x->last_ns)
		x->last_ns = pk->ns;
	h->packets++;
	h->bytes += pk->iplen;
	if (f->cur < 64)
		x->pcaps |= 1ull << f->cur;
	bool cut = sent_after_cut(f, x, dir, pk->ns);
	if (pk->ent)
		pk->ent->cut = cut;
	if (cut) {
		if (!x->after_cut && x->h[0].packets + x->h[1].packets == 1)
			x->new_after_cut = true;
		x->after_cut++;
	}
	if (payn) {
		h->data_packets++;
		h->payload += payn;
	}
	if (k->proto == 17) {
		if (x->k.sport == 53 || x->k.dport == 53 || x->k.dport == 5353)
			dns_packet(f, x, dir, pk->ns, pay, payn);
		if (f->o.on_stream && payn)
			f->o.on_stream(&x->k, dir, pay, payn, f->o.arg);
		return;
	}
	if (k->proto != 6)
		return;
	if (tflags & 0x02) { /* SYN */
		x->flags |= (tflags & 0x10) ? F_SYNACK : F_SYN;
		if (!h->have_base) {
			h->have_base = true;
			h->base = seq + 1;
		}
	}
	if (tflags & 0x04)
		x->flags |= F_RST;
	if (tflags & 0x01)
		x->flags |= dir ? F_FIN1 : F_FIN0;
	if (!x->delivered)
		half_segment(f, h, (tflags & 0x02) ? seq + 1 : seq, pay, payn);
	if ((tflags & 0x04) || ((x->flags & F_FIN0) && (x->flags & F_FIN1))) {
		x->flags |= F_CLOSED;
		flow_deliver(f, x);
	}
}

static void ip_packet(struct aflows *f, int64_t ns, const unsigned char *p, size_t n, int ver_hint)
{
	struct pkt pk = {.ns = ns};
	int ver = n ? p[0] >> 4 : 0;
	if (ver_hint && ver != ver_hint) {
		f->bad++;
		f->pc[f->cur].bad++;
		return;
	}
	if (ver == 4) {
		size_t ihl = (size_t)(p[0] & 0xf) * 4;
		if (n < 20 || ihl < 20 || ihl > n) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		size_t tl = be16(p + 2);
		if (tl < ihl) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		pk.iplen = (uint32_t)tl;
		unsigned fo = be16(p + 6);
		if (fo & 0x1fff) {
			f->fragments++;
			return;
		}
		if (fo & 0x2000)
			f->fragments++;
		pk.k.family = 4;
		pk.k.proto = p[9];
		memcpy(pk.k.src, p + 12, 4);
		memcpy(pk.k.dst, p + 16, 4);
		pk.l4 = p + ihl;
		pk.l4n = (tl < n ? tl : n) - ihl;
	} else if (ver == 6) {
		if (n < 40) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		size_t pl = be16(p + 4);
		pk.iplen = (uint32_t)(pl + 40);
		pk.k.family = 6;
		memcpy(pk.k.src, p + 8, 16);
		memcpy(pk.k.dst, p + 24, 16);
		size_t end = 40 + pl < n ? 40 + pl : n, o = 40;
		unsigned nh = p[6];
		for (int i = 0; i < 8; i++) {
			if (nh == 0 || nh == 43 || nh == 60) {
				if (o + 8 > end)
					break;
				unsigned next = p[o];
				o += (size_t)(p[o + 1] + 1) * 8;
				nh = next;
			} else if (nh == 44) {
				if (o + 8 > end)
					break;
				f->fragments++;
				if (be16(p + o + 2) & 0xfff8)
					return;
				nh = p[o];
				o += 8;
			} else {
				break;
			}
		}
		if (o > end) {
			f->bad++;
			f->pc[f->cur].bad++;
			return;
		}
		pk.k.proto = (uint8_t)nh;
		pk.l4 = p + o;
		pk.l4n = end - o;
	} else {
		f->not_ip++;
		f->pc[f->cur].not_ip++;
		return;
	}
	bool keep = dup_keeps(f, ns);
	if (keep || (f->nde && f->cur > 0)) {
		uint64_t id = pkt_identity(f, p, ver, pk.k.proto, pk.l4, pk.l4n);
		pk.dup = dup_match(f, id, ns);
		if (!pk.dup && keep)
			pk.ent = dup_remember(f, id, ns);
	}
	transport(f, &pk);
}

/* the IP version of an ethertype, or 0 */
static int ether_ip(unsigned et)
{
	return et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
}

static void link_packet(struct aflows *f, int lt, int64_t ns, const unsigned char *p, size_t n)
{
	int v = 0;
	size_t o = 0;
	switch (lt) {
	case DLT_EN10MB: {
		if (n < 14)
			goto bad;
		unsigned et = be16(p + 12);
		o = 14;
		for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
			if (o + 4 > n)
				goto bad;
			et = be16(p + o + 2);
			o += 4;
		}
		v = ether_ip(et);
		break;
	}
	case DLT_LINUX_SLL:
		if (n < 16)
			goto bad;
		v = ether_ip(be16(p + 14));
		o = 16;
		break;
	case DLT_LINUX_SLL2:
		if (n < 20)
			goto bad;
		v = ether_ip(be16(p));
		o = 20;
		break;
	case DLT_NFLOG: {
		/* family, version, resource id; then TLVs (host order lengths: little endian here)
		 */
		if (n < 4)
			goto bad;
		o = 4;
		while (o + 4 <= n) {
			size_t tl = (size_t)p[o] | (size_t)p[o + 1] << 8;
			unsigned tt = (unsigned)p[o + 2] | (unsigned)p[o + 3] << 8;
			if (tl < 4 || o + tl > n)
				goto bad;
			if ((tt & 0x7fff) == 9) { /* NFULA_PAYLOAD */
				ip_packet(f, ns, p + o + 4, tl - 4,
					  p[0] == 10  ? 6
					  : p[0] == 2 ? 4
						      : 0);
				return;
			}
			o += (tl + 3) & ~(size_t)3;
		}
		f->not_ip++;
		f->pc[f->cur].not_ip++;
		return;
	}
	case DLT_NULL:
	case DLT_LOOP: {
		if (n < 4)
			goto bad;
		uint32_t fam = lt == DLT_LOOP ? be32(p)
					      : (uint32_t)p[0] | (uint32_t)p[1] << 8 |
						    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		v = fam == 2 ? 4 : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 6 : 0;
		o = 4;
		break;
	}
	case DLT_RAW:
	case 14:
	case DLT_IPV4:
	case DLT_IPV6:
		ip_packet(f, ns, p, n, lt == DLT_IPV4 ? 4 : lt == DLT_IPV6 ? 6 : 0);
		return;
	default:
		f->not_ip++;
		f->pc[f->cur].not_ip++;
		return;
	}
	if (!v) {
		f->not_ip++;
		f->pc[f->cur].not_ip++;
		return;
	}
	ip_packet(f, ns, p + o, n - o, v);
	return;
bad:
	f->bad++;
	f->pc[f->cur].bad++;
}

static const char *linktype_name(int lt)
{
	const char *n = pcap_datalink_val_to_name(lt);
	return n ? n : "unknown";
}

int aflows_read(struct aflows *f, FILE *fp, const char *name, struct err *e)
{
	if (f->npc >= AFLOW_PCAPS_MAX) {
		fclose(fp);
		return err_set(e, ERR_INVALID, "'%s': more than %u pcaps", name, AFLOW_PCAPS_MAX);
	}
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	struct pcapinfo *pi = &f->pc[f->npc];
	pi->name = xstrdup(name);
	f->cur = (int)f->npc++;
	if (!p) {
		pi->linktype = -1;
		pi->error = xstrdup(eb[0] ? eb : "not a pcap");
		fclose(fp);
		return err_set(e, ERR_INVALID, "'%s': not a pcap: %s", name, eb);
	}
	pi->linktype = pcap_datalink(p);
	pi->nflog = pi->linktype == DLT_NFLOG || strstr(name, "nflog") != NULL;
	for (;;) {
		struct pcap_pkthdr *hdr;
		const u_char *data;
		int r = pcap_next_ex(p, &hdr, &data);
		if (r == -2)
			break;
		if (r == -1) {
			pi->error = xstrdup(pcap_geterr(p));
			fnote(f, "'%s': %s (the packets before it are read)", name, pi->error);
			break;
		}
		if (r != 1)
			break;
		pi->packets++;
		pi->bytes += hdr->len;
		f->packets++;
		f->bytes += hdr->len;
		int64_t ns = (int64_t)hdr->ts.tv_sec * 1000000000 + (int64_t)hdr->ts.tv_usec;
		link_packet(f, pi->linktype, ns, data, hdr->caplen);
	}
	pcap_close(p); /* closes fp */
	return 0;
}

/* ---- findings ---- */

static const uint16_t pool_ports[] = {3333, 3334,  3357,  4444,	 5555, 5556,
				      7777, 14433, 14444, 45560, 45700};
static const char *const pool_suffixes[] = {
    "minexmr.com",   "supportxmr.com",	  "nanopool.org",    "xmrpool.eu",     "moneroocean.stream",
    "hashvault.pro", "f2pool.com",	  "2miners.com",     "herominers.com", "c3pool.com",
    "minergate.com", "nicehash.com",	  "ethermine.org",   "viabtc.com",     "antpool.com",
    "poolin.com",    "slushpool.com",	  "unmineable.com",  "monerohash.com", "dwarfpool.com",
    "zpool.ca",	     "prohashing.com",	  "kryptex.network", "woolypooly.com", "p2pool.io",
    "xmrig.com",     "miningpoolhub.com", "minexmr.to",	     "gntl.co.uk",     "mining-dutch.nl"};
static const char *const rare_tlds[] = {"tk",	 "ml",	"ga",	 "cf",	 "gq",	 "pw",
					"top",	 "xyz", "click", "work", "zip",	 "mov",
					"onion", "bit", "su",	 "icu",	 "cyou", "monster"};
static const uint16_t usual_ports[] = {20,   21,   22,	 25,	53,    80,   110,  143,
				       443,  465,  587,	 993,	995,   3306, 5432, 6379,
				       8080, 8443, 9200, 11211, 27017, 5672, 123};

static bool suffix_is(const char *name, const char *suf)
{
	size_t nl = strlen(name), sl = strlen(suf);
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (nl < sl || strncasecmp(name + nl - sl, suf, sl) != 0)
		return false;
	return nl == sl || name[nl - sl - 1] == '.';
}

static const char *pool_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(pool_suffixes); i++)
		if (suffix_is(name, pool_suffixes[i]))
			return pool_suffixes[i];
	return NULL;
}

static bool u16_in(uint16_t p, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

static bool metadata_addr(const struct aflow_key *k)
{
	static const uint8_t v4[4] = {169, 254, 169, 254}, ali[4] = {100, 100, 100, 200};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0xec, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x54};
	if (k->family == 4)
		return !memcmp(k->dst, v4, 4) || !memcmp(k->dst, ali, 4);
	return !memcmp(k->dst, v6, 16);
}

static bool metadata_name(const char *n)
{
	return n && (suffix_is(n, "metadata.google.internal") || strcasecmp(n, "metadata") == 0 ||
		     strcasecmp(n, "metadata.") == 0 || strcmp(n, "169.254.169.254") == 0);
}

/* log2 without libm: x in [1,2) by halving, then the atanh series */
static double lg2(double x)
{
	int e = 0;
	while (x >= 2) {
		x /= 2;
		e++;
	}
	while (x > 0 && x < 1) {
		x *= 2;
		e--;
	}
	double y = (x - 1) / (x + 1), y2 = y * y, t = y, sum = 0;
	for (int k = 1; k < 40; k += 2) {
		sum += t / k;
		t *= y2;
	}
	return e + 2 * sum / 0.69314718055994530942;
}

/* a label that looks generated: long and high in entropy */
static bool dga_label(const char *name, char *lab, size_t labsz)
{
	/* the longest label but the last (the TLD) */
	const char *p = name, *best = NULL;
	size_t bl = 0;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (dot && l > bl) {
			best = p;
			bl = l;
		}
		p += l + (dot ? 1 : 0);
	}
	if (!best || bl < 12 || strchr(name, '\\'))
		return false;
	unsigned cnt[256] = {0}, digits = 0, vowels = 0;
	for (size_t i = 0; i < bl; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)best[i]);
		cnt[c]++;
		digits += c >= '0' && c <= '9';
		vowels += strchr("aeiou", c) && c;
	}
	double h = 0;
	for (int i = 0; i < 256; i++)
		if (cnt[i]) {
			double q = (double)cnt[i] / (double)bl;
			h -= q * lg2(q);
		}
	bool hexlike = true;
	for (size_t i = 0; i < bl; i++)
		if (!isxdigit((unsigned char)best[i]))
			hexlike = false;
	bool gen = (bl >= 16 && h >= 3.5) || (bl >= 12 && h >= 3.3 && vowels * 5 < bl) ||
		   (bl >= 20 && h >= 3.0 && digits * 4 >= bl);
	if (hexlike && bl >= 32)
		gen = true;
	snprintf(lab, labsz, "%.*s", (int)(bl < 200 ? bl : 200), best);
	return gen;
}

static const char *tld_of(const char *name)
{
	const char *d = strrchr(name, '.');
	if (d && d[1] == '\0') { /* trailing dot */
		const char *q = d;
		while (q > name && q[-1] != '.')
			q--;
		return q;
	}
	return d ? d + 1 : NULL;
}

/* names seen: DNS questions, SNI, HTTP Host */
static void name_findings(json_t *report, const char *name, const char *where)
{
	const char *pool = pool_name(name);
	if (pool)
		findings_add(report, "flow.mining-pool", SEV_HIGH,
			     "a mining pool's name looked up or contacted", "T1496", name,
			     json_pack("{s:s,s:s}", "pool", pool, "seen_in", where), NULL);
	if (metadata_name(name))
		findings_add(report, "flow.cloud-metadata", SEV_HIGH,
			     "the cloud metadata service looked up or contacted", "T1552.005", name,
			     json_pack("{s:s}", "seen_in", where), NULL);
}

static void dns_findings(struct aflows *f, json_t *report)
{
	json_t *d, *q;
	size_t i, j;
	json_t *nx = json_object();
	json_array_foreach(f->dns, i, d)
	{
		bool resp = json_is_true(json_object_get(d, "response"));
		const char *rc = json_string_value(json_object_get(d, "rcode"));
		json_array_foreach(json_object_get(d, "questions"), j, q)
		{
			const char *name = json_string_value(json_object_get(q, "name"));
			if (!name)
				continue;
			if (resp && rc && strcmp(rc, "NXDOMAIN") == 0)
				json_object_set_new(nx, name, json_true());
			if (resp)
				continue;
			name_findings(report, name, "dns");
			char lab[256];
			if (dga_label(name, lab, sizeof(lab)))
				findings_add(report, "flow.dga-name", SEV_MEDIUM,
					     "a DNS name that looks generated", "T1568.002", name,
					     json_pack("{s:s}", "label", lab), NULL);
			const char *tld = tld_of(name);
			for (size_t t = 0; tld && t < ARRAY_SIZE(rare_tlds); t++) {
				size_t tl = strlen(rare_tlds[t]);
				if (strncasecmp(tld, rare_tlds[t], tl) == 0 &&
				    (tld[tl] == '\0' || tld[tl] == '.'))
					findings_add(report, "flow.rare-tld", SEV_LOW,
						     "a DNS name under a TLD often abused",
						     "T1071.004", name,
						     json_pack("{s:s}", "tld", rare_tlds[t]), NULL);
			}
		}
	}
	if (f->nxdomain >= 10 && json_object_size(nx) >= 5) {
		json_t *names = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(nx, k, v)
		{
			if (json_array_size(names) >= 100)
				break;
			json_array_append_new(names, json_string(k));
		}
		char det[128];
		snprintf(det, sizeof(det), "%llu NXDOMAIN answers for %zu names",
			 (unsigned long long)f->nxdomain, json_object_size(nx));
		findings_add(
		    report, "flow.nxdomain-many", SEV_MEDIUM,
		    "many DNS lookups of names that do not exist", "T1568.002", NULL,
		    json_pack("{s:I,s:o}", "nxdomain", (json_int_t)f->nxdomain, "names", names),
		    det);
	}
	json_decref(nx);
}

static json_t *flow_evidence(const struct flow *x)
{
	char fs[160];
	flow_str(&x->k, fs, sizeof(fs));
	return json_pack("{s:s,s:s,s:o,s:I,s:I}", "member", "data/network", "flow", fs, "first",
			 time_json(x->first_ns), "packets_out", (json_int_t)x->h[0].packets,
			 "packets_in", (json_int_t)x->h[1].packets);
}

static void flow_findings(struct aflows *f, json_t *report)
{
	json_t *dests = json_array();
	uint64_t cut_pkts = 0, cut_flows = 0, cut_new = 0, cut_new_nondns = 0;
	for (size_t i = 0; i < f->nv; i++) {
		const struct flow *x = f->v[i];
		char dst[80], fs[160];
		ep_str(&x->k, 1, dst, sizeof(dst));
		flow_str(&x->k, fs, sizeof(fs));
		bool l4 = x->k.proto == 6 || x->k.proto == 17;
		if (l4 && u16_in(x->k.dport, pool_ports, ARRAY_SIZE(pool_ports)))
			findings_add(report, "flow.mining-pool", SEV_MEDIUM,
				     "a connection to a mining-pool port", "T1496", dst,
				     flow_evidence(x), NULL);
		if (metadata_addr(&x->k))
			findings_add(report, "flow.cloud-metadata", SEV_HIGH,
				     "a connection to the cloud metadata service", "T1552.005", dst,
				     flow_evidence(x), NULL);
		if (x->app) {
			const char *sni = json_string_value(json_object_get(x->app, "sni"));
			const char *host = json_string_value(json_object_get(x->app, "host"));
			if (sni)
				name_findings(report, sni, "tls sni");
			if (host)
				name_findings(report, host, "http host");
		}
		if (x->after_cut) {
			cut_pkts += x->after_cut;
			cut_flows++;
			if (x->new_after_cut) {
				cut_new++;
				if ((x->k.proto == 6 || x->k.proto == 17) &&
				    !(x->k.proto == 17 && (x->k.dport == 53 || x->k.dport == 5353)))
					cut_new_nondns++;
			}
			if (json_array_size(dests) < AFTER_CUT_DESTS)
				json_array_append_new(
				    dests,
				    json_pack("{s:s,s:s,s:I,s:o,s:b}", "flow", fs, "dst", dst,
					      "packets", (json_int_t)x->after_cut, "first",
					      time_json(x->first_ns), "new", x->new_after_cut));
		}
		/* interactive-shaped: long, small packets both ways, an unusual port */
		int64_t dur = x->last_ns - x->first_ns;
		if (x->k.proto == 6 && dur >= 30ll * 1000000000 && x->h[0].data_packets >= 4 &&
		    x->h[1].data_packets >= 4 && x->h[0].payload / x->h[0].data_packets <= 256 &&
		    x->h[1].payload / x->h[1].data_packets <= 512 &&
		    !u16_in(x->k.dport, usual_ports, ARRAY_SIZE(usual_ports))) {
			json_t *ev = flow_evidence(x);
			json_object_set_new(ev, "seconds", json_integer(dur / 1000000000));
			findings_add(
			    report, "flow.interactive", SEV_MEDIUM,
			    "a long-lived interactive-shaped connection to an unusual port",
			    "T1071", fs, ev, NULL);
		}
	}
	if (cut_flows) {
		char det[256];
		snprintf(det, sizeof(det),
			 "%llu packets in %llu flows sent after the network cut (%llu new "
			 "flows, %llu of them TCP or UDP other than DNS)",
			 (unsigned long long)cut_pkts, (unsigned long long)cut_flows,
			 (unsigned long long)cut_new, (unsigned long long)cut_new_nondns);
		findings_add(
		    report, "flow.after-cut", cut_new_nondns ? SEV_MEDIUM : SEV_LOW,
		    "traffic attempted after the quarantine cut the network", "T1071", NULL,
		    json_pack("{s:s,s:I,s:I,s:I,s:o}", "cut_at",
			      f->o.cut_at ? f->o.cut_at : "(nflog)", "packets",
			      (json_int_t)cut_pkts, "flows", (json_int_t)cut_flows,
			      "new_connections", (json_int_t)cut_new, "destinations", dests),
		    det);
	} else {
		json_decref(dests);
	}
	json_t *h;
	size_t i;
	json_array_foreach(f->http, i, h)
	{
		const char *body = json_string_value(json_object_get(h, "body"));
		if (!body)
			continue;
		const char *host = json_string_value(json_object_get(h, "host"));
		const char *tgt = json_string_value(json_object_get(h, "target"));
		char url[2200];
		snprintf(url, sizeof(url), "http://%s%s",
			 host ? host : json_string_value(json_object_get(h, "dst")),
			 tgt ? tgt : "");
		json_t *ev = json_deep_copy(h);
		json_object_set_new(ev, "member", json_string("data/network"));
		findings_add(report, "flow.http-download", SEV_HIGH,
			     strcmp(body, "elf") == 0
				 ? "an ELF executable downloaded over plain HTTP"
				 : "a script downloaded over plain HTTP",
			     "T1105", url, ev, NULL);
	}
}

/* ---- output ---- */

static const char *tcp_state(const struct flow *x)
{
	if (x->flags & F_RST)
		return "reset";
	if ((x->flags & F_FIN0) && (x->flags & F_FIN1))
		return "closed";
	if ((x->flags & F_SYNACK) || ((x->flags & F_SYN) && x->h[1].packets))
		return "established";
	if (x->flags & F_SYN)
		return "syn-only";
	return x->h[0].packets && x->h[1].packets ? "established" : "partial";
}

static int flow_cmp(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

static json_t *flow_json(const struct aflows *f, const struct flow *x)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	addr_str(&x->k, x->k.src, s, sizeof(s));
	addr_str(&x->k, x->k.dst, d, sizeof(d));
	json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:i,s:I,s:I,s:I,s:I,s:o,s:o,s:f}", "proto",
			      proto_name(x->k.proto), "src", s, "sport", x->k.sport, "dst", d,
			      "dport", x->k.dport, "packets_out", (json_int_t)x->h[0].packets,
			      "bytes_out", (json_int_t)x->h[0].bytes, "packets_in",
			      (json_int_t)x->h[1].packets, "bytes_in", (json_int_t)x->h[1].bytes,
			      "first", time_json(x->first_ns), "last", time_json(x->last_ns),
			      "seconds", (double)(x->last_ns - x->first_ns) / 1e9);
	json_object_set_new(o, "state", x->k.proto == 6 ? json_string(tcp_state(x)) : json_null());
	json_t *pcs = json_array();
	for (size_t i = 0; i < f->npc && i < 64; i++)
		if (x->pcaps & (1ull << i))
			json_array_append_new(pcs, json_string(f->pc[i].name));
	json_object_set_new(o, "pcaps", pcs);
	json_object_set_new(o, "after_cut", json_integer((json_int_t)x->after_cut));
	const char *sni = x->app ? json_string_value(json_object_get(x->app, "sni")) : NULL;
	const char *host = x->app ? json_string_value(json_object_get(x->app, "host")) : NULL;
	json_object_set_new(o, "sni", sni ? json_string(sni) : json_null());
	json_object_set_new(o, "http_host", host ? json_string(host) : json_null());
	return o;
}

void aflows_finish(struct aflows *f, json_t *report, json_t **out)
{
	for (size_t i = 0; i < f->nv; i++)
		flow_deliver(f, f->v[i]);
	if (f->nv)
		qsort(f->v, f->nv, sizeof(*f->v), flow_cmp);
	if (report) {
		flow_findings(f, report);
		dns_findings(f, report);
	}
	json_t *o = json_object(), *flows = json_array(), *pcs = json_array();
	for (size_t i = 0; i < f->nv && i < AFLOW_LIST_MAX; i++)
		json_array_append_new(flows, flow_json(f, f->v[i]));
	if (f->nv > AFLOW_LIST_MAX)
		fnote(f, "flows: only the first %u of %zu listed (by first time)", AFLOW_LIST_MAX,
		      f->nv);
	for (size_t i = 0; i < f->npc; i++) {
		const struct pcapinfo *pi = &f->pc[i];
		json_array_append_new(
		    pcs,
		    json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "name", pi->name, "linktype",
			      pi->linktype, "linktype_name",
			      pi->linktype >= 0 ? linktype_name(pi->linktype) : "none", "packets",
			      (json_int_t)pi->packets, "bytes", (json_int_t)pi->bytes, "malformed",
			      (json_int_t)pi->bad, "not_ip", (json_int_t)pi->not_ip, "duplicates",
			      (json_int_t)pi->dups, "error",
			      pi->error ? json_string(pi->error) : json_null()));
	}
	json_t *st = json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "packets",
	    (json_int_t)f->packets, "bytes", (json_int_t)f->bytes, "malformed", (json_int_t)f->bad,
	    "not_ip", (json_int_t)f->not_ip, "fragments", (json_int_t)f->fragments, "flows",
	    (json_int_t)f->nv, "untracked_packets", (json_int_t)f->untracked, "dns_messages",
	    (json_int_t)f->dns_total, "tls_hellos", (json_int_t)f->tls_total, "http_requests",
	    (json_int_t)f->http_total, "streams_truncated", (json_int_t)f->truncated,
	    "streams_with_gaps", (json_int_t)f->gaps, "duplicates", (json_int_t)f->dups);
	if (f->untracked)
		fnote(f, "flows: more than %zu; the packets of later ones only counted",
		      f->o.flows_max);
	json_object_set_new(o, "pcaps", pcs);
	json_object_set_new(o, "flows", flows);
	json_object_set_new(o, "dns", json_incref(f->dns));
	json_object_set_new(o, "tls", json_incref(f->tls));
	json_object_set_new(o, "http", json_incref(f->http));
	json_object_set_new(o, "stats", st);
	json_object_set_new(o, "notes", json_incref(f->notes));
	*out = o;
}

/* ---- analyze's part ---- */

struct net_ctx {
	struct aflows *f;
	json_t *report;
};

static int pcap_member(const char *name, FILE *fp, void *ctx, struct err *e)
{
	(void)e;
	struct net_ctx *c = ctx;
	struct err pe = {0};
	if (aflows_read(c->f, fp, name, &pe) < 0)
		fnote(c->f, "%s", pe.msg);
	return 0;
}

int analyze_network(json_t *report, struct abag *b, const struct aflows_opts *o, struct err *e)
{
	struct aflows_opts oo = o ? *o : (struct aflows_opts){0};
	if (!oo.cut_at) {
		json_t *s;
		size_t i;
		json_array_foreach(json_object_get(b->quarantine, "steps"), i, s)
		{
			const char *st = json_string_value(json_object_get(s, "step"));
			if (st && strcmp(st, "network cut") == 0) {
				oo.cut_at = json_string_value(json_object_get(s, "at"));
				break;
			}
		}
	}
	const char *local[256];
	size_t nl = 0;
	json_t *ifc, *ad;
	size_t i, j;
	json_array_foreach(json_object_get(b->netstate, "interfaces"), i, ifc)
	{
		json_array_foreach(json_object_get(ifc, "addresses"), j, ad)
		{
			const char *s = json_string_value(json_object_get(ad, "address"));
			if (s && nl < ARRAY_SIZE(local) && strcmp(s, "127.0.0.1") &&
			    strcmp(s, "::1"))
				local[nl++] = s;
		}
	}
	if (!oo.nlocal && nl) {
		oo.local_addrs = local;
		oo.nlocal = nl;
	}
	struct aflows *f = aflows_new(&oo);
	struct net_ctx c = {.f = f, .report = report};
	int rc = abag_members(b, "data/network", ".pcap", pcap_member, &c, e);
	json_t *out = NULL;
	aflows_finish(f, report, &out);
	aflows_free(f);
	json_t *net = json_object_get(report, "network");
	if (!json_is_object(net)) {
		net = json_object();
		json_object_set_new(report, "network", net);
	}
	json_object_update(net, out);
	json_decref(out);
	return rc;
}

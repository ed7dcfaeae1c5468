/* text.c: numbers, hex, base64, UTF-8, time. */
#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "contain/util.h"

int parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s || *s == ' ' || *s == '\t' || *s == '\n') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int parse_ull(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, unsigned long long *out)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	if (n == 0 || n >= sizeof(num)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	if (shift)
		num[n - 1] = '\0';
	unsigned long long v;
	if (parse_ull(num, ULLONG_MAX >> shift, &v) < 0)
		return -1;
	*out = v << shift;
	return 0;
}

int parse_pid(const char *s, pid_t *out)
{
	long long v;
	if (parse_ll(s, 1, INT_MAX, &v) < 0)
		return -1;
	*out = (pid_t)v;
	return 0;
}

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, unsigned char *out, size_t outlen)
{
	if (strlen(in) != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int h = hex_digit(in[2 * i]), l = hex_digit(in[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[i] = (unsigned char)(h << 4 | l);
	}
	return 0;
}

bool is_hex_string(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (hex_digit(*s) < 0)
			return false;
	return true;
}

char *base64_encode(const unsigned char *in, size_t n)
{
	size_t outlen;
	if (n > (SIZE_MAX / 4) * 3 - 3)
		abort();
	outlen = 4 * ((n + 2) / 3) + 1;
	char *out = xmalloc(outlen);
	size_t done = 0, o = 0;
	/* EVP_EncodeBlock takes an int length: feed it in chunks of 3*k bytes */
	while (done < n) {
		size_t chunk = n - done;
		if (chunk > (size_t)3 * (1 << 28))
			chunk = (size_t)3 * (1 << 28);
		o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, in + done, (int)chunk);
		done += chunk;
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *base64_decode(const char *in, size_t n, size_t *outlen)
{
	if (n % 4)
		return NULL;
	size_t pad = 0;
	if (n && in[n - 1] == '=')
		pad = n >= 2 && in[n - 2] == '=' ? 2 : 1;
	unsigned char *out = xmalloc(n / 4 * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++) {
			int d = last && k >= 4 - pad ? 0 : b64_value(in[i + k]);
			if (d < 0) {
				free(out);
				return NULL;
			}
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (unsigned char)(v >> 16);
		if (!last || pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (!last || pad < 1)
			out[o++] = (unsigned char)v;
	}
	out[o] = 0;
	*outlen = o;
	return out;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

void str_rstrip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

const char *str_line_next(const char *buf, size_t n, size_t *off, size_t *len, bool *nl)
{
	if (*off >= n)
		return NULL;
	const char *line = buf + *off;
	const char *end = memchr(line, '\n', n - *off);
	size_t l = end ? (size_t)(end - line) : n - *off;
	*off += l + (end ? 1 : 0);
	if (l && line[l - 1] == '\r')
		l--;
	*len = l;
	if (nl)
		*nl = end != NULL;
	return line;
}

void time_rfc3339_from(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	char base[32];
	gmtime_r(&ts->tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%09ldZ", base, (long)ts->tv_nsec);
}

void time_rfc3339_ns(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_rfc3339_from(&ts, buf, n);
}

double time_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t json_text_values(const char *b, size_t n)
{
	size_t k = 1;
	bool str = false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == ',' || c == ':' || c == '[' || c == '{') {
			k++;
		}
	}
	return k;
}

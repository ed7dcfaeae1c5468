/* fz_flows: the pcap summarizer and its parsers on hostile bytes. The input
 * is read as a pcap (aflows_read, then aflows_finish with findings, and the
 * streams handed to a callback that checks their bounds); as a DNS message,
 * a TLS ClientHello, an HTTP request and response; and, cut into TCP
 * segments whose sequence offsets come from the input itself (overlapping,
 * out of order, retransmitted), as the payload of a pcap made around it, so
 * that the reassembly sees hostile segment orders; the same with the
 * server on port 53 (DNS over TCP: length-framed messages in hostile
 * segments); and as the client stream of a DNS-over-TCP connection in
 * order. The pcap is read twice into one summary (the second time as an
 * NFLOG capture's name: every packet a copy of one of the first).
 * Verdicts (fz.h): pcap (aflows_read returned 0), dns, tls, http (the
 * request parser returned an object), dnstcp (the input as a DNS-over-TCP
 * client stream gave at least one DNS message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contain/analyze.h"
#include "fz.h"

static void on_stream(const struct aflow_key *k, int dir, const void *buf, size_t n, void *arg)
{
	(void)arg;
	if ((dir != 0 && dir != 1) || (k->proto == 6 && n > 4096) || (n && !buf))
		abort();
	volatile unsigned char sum = 0;
	for (size_t i = 0; i < n; i++)
		sum ^= ((const unsigned char *)buf)[i]; /* every byte readable */
	(void)sum;
}

/* the input as a pcap into the summary (twice: the second read's packets
 * are copies of the first's); *out (may be NULL) gets the summary */
static int summarize_out(const void *buf, size_t n, json_t **out_keep)
{
	struct aflows_opts o = {.on_stream = on_stream,
				.stream_max = 4096,
				.total_max = 64 << 10,
				.flows_max = 1000,
				.cut_at = "1970-01-01T00:00:05Z"};
	struct aflows *f = aflows_new(&o);
	static char empty[1];
	FILE *fp = fmemopen(n ? (void *)buf : empty, n ? n : 1, "rb");
	if (!fp)
		abort();
	struct err e = {0};
	int rc = aflows_read(f, fp, "fuzz.pcap", &e);
	if (rc == 0) {
		fp = fmemopen(n ? (void *)buf : empty, n ? n : 1, "rb");
		if (!fp || aflows_read(f, fp, "fuzz-nflog.pcap", &e) != 0)
			abort(); /* it read once */
	}
	json_t *rep = json_pack("{s:[]}", "findings"), *out = NULL;
	aflows_finish(f, rep, &out);
	free(json_dumps(out, JSON_COMPACT));
	free(json_dumps(rep, JSON_COMPACT));
	if (out_keep)
		*out_keep = out;
	else
		json_decref(out);
	json_decref(rep);
	aflows_free(f);
	return rc;
}

static int summarize(const void *buf, size_t n)
{
	return summarize_out(buf, n, NULL);
}

static void le32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* a pcap of TCP segments carrying the input: 3-byte headers (offset,
 * length) taken from the input pick where each piece goes */
static void segments(const uint8_t *d, size_t n, uint16_t port)
{
	size_t cap = 24 + (n / 3 + 2) * (16 + 54 + 64);
	unsigned char *p = calloc(1, cap), *w = p;
	if (!p)
		abort();
	le32(w, 0xa1b2c3d4), w[4] = 2, w[6] = 4, le32(w + 16, 65535), le32(w + 20, 1);
	w += 24;
	for (size_t i = 0; i + 3 <= n && (size_t)(w - p) + 16 + 54 + 64 <= cap; i += 3) {
		uint32_t off = d[i] | (uint32_t)(d[i + 1] & 0x0f) << 8;
		size_t len = d[i + 2] % 64;
		int dir = d[i + 1] >> 7, flags = (d[i + 1] >> 4) & 7;
		unsigned char fr[54 + 64] = {0};
		fr[12] = 8;
		unsigned char *ip = fr + 14, *t = ip + 20;
		ip[0] = 0x45, ip[2] = 0, ip[3] = (unsigned char)(40 + len), ip[9] = 6;
		unsigned char a[4] = {10, 0, 0, 2}, b[4] = {10, 0, 0, 1};
		memcpy(ip + 12, dir ? b : a, 4);
		memcpy(ip + 16, dir ? a : b, 4);
		unsigned char ph = (unsigned char)(port >> 8), pl = (unsigned char)port;
		t[0] = dir ? ph : 0x9c, t[1] = dir ? pl : 0x40; /* port / 40000 */
		t[2] = dir ? 0x9c : ph, t[3] = dir ? 0x40 : pl;
		uint32_t seq = 1000 + off;
		t[4] = (unsigned char)(seq >> 24), t[5] = (unsigned char)(seq >> 16);
		t[6] = (unsigned char)(seq >> 8), t[7] = (unsigned char)seq;
		t[12] = 0x50;
		t[13] = (unsigned char)(0x10 | (flags == 1   ? 0x01
						: flags == 2 ? 0x02
						: flags == 3 ? 0x04
							     : 0));
		for (size_t j = 0; j < len; j++)
			t[20 + j] = d[(i + j) % n];
		le32(w, (uint32_t)(i / 3)), le32(w + 4, 0), le32(w + 8, (uint32_t)(54 + len)),
		    le32(w + 12, (uint32_t)(54 + len));
		memcpy(w + 16, fr, 54 + len);
		w += 16 + 54 + len;
	}
	if (summarize(p, (size_t)(w - p)) != 0)
		abort(); /* a pcap made here always reads */
	free(p);
}

static void put_tcp(unsigned char **w, uint32_t t, int dir, uint32_t seq, int flags,
		    const uint8_t *pay, size_t len)
{
	unsigned char *r = *w, *fr = r + 16, *ip = fr + 14, *tc = ip + 20;
	memset(r, 0, 16 + 54);
	le32(r, t), le32(r + 8, (uint32_t)(54 + len)), le32(r + 12, (uint32_t)(54 + len));
	fr[12] = 8;
	ip[0] = 0x45, ip[2] = (unsigned char)((40 + len) >> 8), ip[3] = (unsigned char)(40 + len);
	ip[9] = 6;
	unsigned char a[4] = {10, 0, 0, 2}, b[4] = {10, 0, 0, 53};
	memcpy(ip + 12, dir ? b : a, 4);
	memcpy(ip + 16, dir ? a : b, 4);
	tc[0] = dir ? 0 : 0x9c, tc[1] = dir ? 53 : 0x40, tc[2] = dir ? 0x9c : 0,
	tc[3] = dir ? 0x40 : 53;
	tc[4] = (unsigned char)(seq >> 24), tc[5] = (unsigned char)(seq >> 16);
	tc[6] = (unsigned char)(seq >> 8), tc[7] = (unsigned char)seq;
	tc[12] = 0x50, tc[13] = (unsigned char)flags;
	if (len)
		memcpy(tc + 20, pay, len);
	*w = r + 16 + 54 + len;
}

/* the input as the client stream of a TCP connection to port 53, in
 * segments of at most 1000 bytes, in order, closed both ways: the DNS
 * messages read from it (the verdict dnstcp) */
static void dns_tcp(const uint8_t *d, size_t n)
{
	size_t cap = 24 + (n / 1000 + 6) * (16 + 54 + 1000);
	unsigned char *p = calloc(1, cap), *w = p;
	if (!p)
		abort();
	le32(w, 0xa1b2c3d4), w[4] = 2, w[6] = 4, le32(w + 16, 65535), le32(w + 20, 1);
	w += 24;
	put_tcp(&w, 1, 0, 999, 0x02, NULL, 0);
	for (size_t o = 0; o < n; o += 1000)
		put_tcp(&w, 2, 0, (uint32_t)(1000 + o), 0x18, d + o, n - o < 1000 ? n - o : 1000);
	put_tcp(&w, 3, 0, (uint32_t)(1000 + n), 0x11, NULL, 0);
	put_tcp(&w, 3, 1, 5000, 0x11, NULL, 0);
	json_t *out = NULL;
	if (summarize_out(p, (size_t)(w - p), &out) != 0)
		abort();
	fz_verdict("dnstcp", json_array_size(json_object_get(out, "dns")) > 0);
	json_decref(out);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_verdict("pcap", summarize(data, size) == 0);
	json_t *j = aflow_dns_json(data, size);
	fz_verdict("dns", j != NULL);
	free(json_dumps(j, JSON_COMPACT));
	json_decref(j);
	j = aflow_tls_json(data, size);
	fz_verdict("tls", j != NULL);
	free(json_dumps(j, JSON_COMPACT));
	json_decref(j);
	j = aflow_http_request_json(data, size);
	fz_verdict("http", j != NULL);
	json_decref(j);
	json_decref(aflow_http_response_json(data, size));
	segments(data, size < 3000 ? size : 3000, 4444);
	segments(data, size < 3000 ? size : 3000, 53);
	dns_tcp(data, size < 70000 ? size : 70000);
	return 0;
}

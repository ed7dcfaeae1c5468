/* fz_flows: the pcap summarizer and its parsers on hostile bytes. The input
 * is read as a pcap (aflows_read, then aflows_finish with findings, and the
 * streams handed to a callback that checks their bounds); as a DNS message,
 * a TLS ClientHello, an HTTP request and response; and, cut into TCP
 * segments whose sequence offsets come from the input itself (overlapping,
 * out of order, retransmitted), as the payload of a pcap made around it, so
 * that the reassembly sees hostile segment orders.
 * Verdicts (fz.h): pcap (aflows_read returned 0), dns, tls, http (the
 * request parser returned an object). */
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

static int summarize(const void *buf, size_t n)
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
	json_t *rep = json_pack("{s:[]}", "findings"), *out = NULL;
	aflows_finish(f, rep, &out);
	free(json_dumps(out, JSON_COMPACT));
	free(json_dumps(rep, JSON_COMPACT));
	json_decref(out);
	json_decref(rep);
	aflows_free(f);
	return rc;
}

static void le32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* a pcap of TCP segments carrying the input: 3-byte headers (offset,
 * length) taken from the input pick where each piece goes */
static void segments(const uint8_t *d, size_t n)
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
		t[0] = dir ? 0x11 : 0x9c, t[1] = dir ? 0x5c : 0x40; /* 4444 / 40000 */
		t[2] = dir ? 0x9c : 0x11, t[3] = dir ? 0x40 : 0x5c;
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
	segments(data, size < 3000 ? size : 3000);
	return 0;
}

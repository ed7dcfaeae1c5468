/* flows: the pcap summarizer on pcaps written here (hand-built Ethernet,
 * IPv4, IPv6, TCP, UDP, Linux cooked v2 and NFLOG frames): flows and TCP
 * states, DNS, TLS ClientHello, HTTP, stream reassembly (out of order,
 * overlapping, bounded), the cut time, findings; counts checked against
 * tcpdump -r when it is there. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "contain/analyze.h"
#include "unit.h"

/* ---- a pcap writer ---- */

static void put16(struct sbuf *b, uint16_t v)
{
	unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	sbuf_add(b, c, 2);
}
static void put32(struct sbuf *b, uint32_t v)
{
	unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	sbuf_add(b, c, 4);
}
static void le32(struct sbuf *b, uint32_t v)
{
	sbuf_add(b, &v, 4); /* x86: little endian, as the pcap header's magic says */
}

static void pcap_head(struct sbuf *p, uint32_t linktype)
{
	le32(p, 0xa1b2c3d4);
	uint16_t v[2] = {2, 4};
	sbuf_add(p, v, 4);
	le32(p, 0);
	le32(p, 0);
	le32(p, 262144);
	le32(p, linktype);
}

static void pcap_rec(struct sbuf *p, double t, const struct sbuf *pkt, size_t caplen)
{
	le32(p, (uint32_t)t);
	le32(p, (uint32_t)((t - (uint32_t)t) * 1e6 + 0.5));
	le32(p, (uint32_t)(caplen < pkt->len ? caplen : pkt->len));
	le32(p, (uint32_t)pkt->len);
	sbuf_add(p, pkt->buf, caplen < pkt->len ? caplen : pkt->len);
}

struct ep {
	int fam;
	unsigned char a[16];
	uint16_t port;
};

static struct ep v4(int a, int b, int c, int d, uint16_t port)
{
	struct ep e = {.fam = 4, .port = port};
	e.a[0] = (unsigned char)a, e.a[1] = (unsigned char)b, e.a[2] = (unsigned char)c,
	e.a[3] = (unsigned char)d;
	return e;
}

static struct ep v6(const char *s, uint16_t port)
{
	struct ep e = {.fam = 6, .port = port};
	ck_assert(inet_pton(AF_INET6, s, e.a) == 1);
	return e;
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

/* an IP packet (no link header) of proto with the transport header+payload l4 */
static void ip_pkt(struct sbuf *o, const struct ep *s, const struct ep *d, int proto,
		   const struct sbuf *l4)
{
	if (s->fam == 4) {
		unsigned char h[20] = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, (unsigned char)proto};
		uint16_t tl = (uint16_t)(20 + l4->len);
		h[2] = (unsigned char)(tl >> 8), h[3] = (unsigned char)tl;
		memcpy(h + 12, s->a, 4);
		memcpy(h + 16, d->a, 4);
		sbuf_add(o, h, 20);
	} else {
		unsigned char h[40] = {0x60, 0, 0, 0, 0, 0, (unsigned char)proto, 64};
		h[4] = (unsigned char)(l4->len >> 8), h[5] = (unsigned char)l4->len;
		memcpy(h + 8, s->a, 16);
		memcpy(h + 24, d->a, 16);
		sbuf_add(o, h, 40);
	}
	sbuf_add(o, l4->buf, l4->len);
}

static void tcp_l4(struct sbuf *l4, const struct ep *s, const struct ep *d, uint32_t seq,
		   uint32_t ack, int flags, const void *pay, size_t n)
{
	put16(l4, s->port);
	put16(l4, d->port);
	put32(l4, seq);
	put32(l4, ack);
	unsigned char x[8] = {0x50, (unsigned char)flags, 0xff, 0xff, 0, 0, 0, 0};
	sbuf_add(l4, x, 8);
	sbuf_add(l4, pay, n);
}

static void udp_l4(struct sbuf *l4, const struct ep *s, const struct ep *d, const void *pay,
		   size_t n)
{
	put16(l4, s->port);
	put16(l4, d->port);
	put16(l4, (uint16_t)(8 + n));
	put16(l4, 0);
	sbuf_add(l4, pay, n);
}

/* an Ethernet frame around an IP packet */
static void eth(struct sbuf *o, int fam, const struct sbuf *ip)
{
	unsigned char h[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0};
	if (fam == 6)
		h[12] = 0x86, h[13] = 0xdd;
	sbuf_add(o, h, 14);
	sbuf_add(o, ip->buf, ip->len);
}

/* one Ethernet TCP packet into the pcap p */
static void tcp(struct sbuf *p, double t, const struct ep *s, const struct ep *d, uint32_t seq,
		uint32_t ack, int flags, const void *pay, size_t n)
{
	struct sbuf l4 = {0}, ip = {0}, fr = {0};
	tcp_l4(&l4, s, d, seq, ack, flags, pay, n);
	ip_pkt(&ip, s, d, 6, &l4);
	eth(&fr, s->fam, &ip);
	pcap_rec(p, t, &fr, fr.len);
	sbuf_free(&l4), sbuf_free(&ip), sbuf_free(&fr);
}

static void udp(struct sbuf *p, double t, const struct ep *s, const struct ep *d, const void *pay,
		size_t n)
{
	struct sbuf l4 = {0}, ip = {0}, fr = {0};
	udp_l4(&l4, s, d, pay, n);
	ip_pkt(&ip, s, d, 17, &l4);
	eth(&fr, s->fam, &ip);
	pcap_rec(p, t, &fr, fr.len);
	sbuf_free(&l4), sbuf_free(&ip), sbuf_free(&fr);
}

/* ---- streams seen by the callback ---- */

struct seen {
	struct sbuf dir[2];
	int calls;
	int udp;
};

static void on_stream(const struct aflow_key *k, int dir, const void *buf, size_t n, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	if (k->proto == 17) {
		s->udp++;
		return;
	}
	sbuf_add(&s->dir[dir], buf, n);
}

/* run the summarizer over the pcap bytes p; report gets the findings */
static json_t *run(const struct sbuf *p, const char *cut, struct seen *seen, size_t stream_max,
		   json_t *report)
{
	struct aflows_opts o = {.cut_at = cut, .stream_max = stream_max};
	if (seen) {
		o.on_stream = on_stream;
		o.arg = seen;
	}
	struct aflows *f = aflows_new(&o);
	FILE *fp = fmemopen(p->buf, p->len, "rb");
	ck_assert_ptr_nonnull(fp);
	struct err e = {0};
	ck_assert_msg(aflows_read(f, fp, "data/network/capture-eth0.pcap", &e) == 0, "%s", e.msg);
	json_t *out = NULL;
	aflows_finish(f, report, &out);
	aflows_free(f);
	return out;
}

static const json_t *finding(const json_t *report, const char *id, int nth)
{
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(report, "findings"), i, f)
	{
		if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0 && nth-- == 0)
			return f;
	}
	return NULL;
}

static json_t *new_report(void)
{
	return json_pack("{s:[]}", "findings");
}

/* packets tcpdump reads from p, or -1 when it is not there */
static long tcpdump_count(const struct sbuf *p)
{
	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		return -1;
	char path[] = "/tmp/test_flows.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p->buf, p->len), (ssize_t)p->len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "tcpdump -nn -r %s 2>/dev/null | wc -l", path);
	FILE *c = popen(cmd, "r");
	long n = -1;
	if (c) {
		if (fscanf(c, "%ld", &n) != 1)
			n = -1;
		pclose(c);
	}
	unlink(path);
	return n;
}

static const struct ep cli = {.fam = 4, .a = {10, 0, 0, 2}, .port = 40000};

/* ---- tests ---- */

static const char http_req[] = "GET /x.bin HTTP/1.1\r\nHost: files.example.test\r\n"
			       "User-Agent: curl/8.0\r\nAccept: */*\r\n\r\n";
static const char http_resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				"Content-Length: 8\r\n\r\n\x7f"
				"ELF\x02\x01\x01\x00";

static void http_pcap(struct sbuf *p)
{
	struct ep srv = v4(10, 0, 0, 1, 80);
	pcap_head(p, 1);
	tcp(p, 100.0, &cli, &srv, 1000, 0, SYN, NULL, 0);
	tcp(p, 100.1, &srv, &cli, 5000, 1001, SYN | ACK, NULL, 0);
	tcp(p, 100.2, &cli, &srv, 1001, 5001, ACK, NULL, 0);
	tcp(p, 100.3, &cli, &srv, 1001, 5001, PSH | ACK, http_req, strlen(http_req));
	tcp(p, 100.4, &srv, &cli, 5001, 1001 + (uint32_t)strlen(http_req), PSH | ACK, http_resp,
	    sizeof(http_resp) - 1);
	tcp(p, 100.5, &cli, &srv, 1001 + (uint32_t)strlen(http_req), 0, FIN | ACK, NULL, 0);
	tcp(p, 100.6, &srv, &cli, 5001 + (uint32_t)sizeof(http_resp) - 1, 0, FIN | ACK, NULL, 0);
}

START_TEST(http_flow)
{
	struct sbuf p = {0};
	http_pcap(&p);
	struct seen s = {0};
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, &s, 0, rep);
	json_t *flows = json_object_get(o, "flows");
	ck_assert_int_eq(json_array_size(flows), 1);
	json_t *fl = json_array_get(flows, 0);
	ck_assert_str_eq(json_string_value(json_object_get(fl, "src")), "10.0.0.2");
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "sport")), 40000);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "dport")), 80);
	ck_assert_str_eq(json_string_value(json_object_get(fl, "state")), "closed");
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "packets_out")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "packets_in")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "bytes_out")),
			 4 * 40 + (json_int_t)strlen(http_req));
	ck_assert_str_eq(json_string_value(json_object_get(fl, "http_host")), "files.example.test");
	ck_assert_str_eq(json_string_value(json_object_get(fl, "first")),
			 "1970-01-01T00:01:40.000000000Z");
	json_t *h = json_array_get(json_object_get(o, "http"), 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(json_string_value(json_object_get(h, "method")), "GET");
	ck_assert_str_eq(json_string_value(json_object_get(h, "target")), "/x.bin");
	ck_assert_str_eq(json_string_value(json_object_get(h, "user_agent")), "curl/8.0");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "status")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(h, "body")), "elf");
	/* the streams, whole, once each way */
	ck_assert_int_eq(s.calls, 2);
	ck_assert_uint_eq(s.dir[0].len, strlen(http_req));
	ck_assert(memcmp(s.dir[0].buf, http_req, s.dir[0].len) == 0);
	ck_assert_uint_eq(s.dir[1].len, sizeof(http_resp) - 1);
	const json_t *fd = finding(rep, "flow.http-download", 0);
	ck_assert_ptr_nonnull(fd);
	ck_assert_str_eq(json_string_value(json_object_get(fd, "severity")), "high");
	ck_assert_str_eq(json_string_value(json_object_get(fd, "path")),
			 "http://files.example.test/x.bin");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(o, "stats"), "packets")), 7);
	long td = tcpdump_count(&p);
	if (td >= 0)
		ck_assert_int_eq(td, 7);
	json_decref(o), json_decref(rep), sbuf_free(&p), sbuf_free(&s.dir[0]), sbuf_free(&s.dir[1]);
}
END_TEST

/* a ClientHello: SNI name, ALPN protocols */
static void client_hello(struct sbuf *r, const char *sni)
{
	struct sbuf ext = {0}, hs = {0};
	/* SNI */
	put16(&ext, 0);
	put16(&ext, (uint16_t)(strlen(sni) + 5));
	put16(&ext, (uint16_t)(strlen(sni) + 3));
	sbuf_addc(&ext, 0);
	put16(&ext, (uint16_t)strlen(sni));
	sbuf_adds(&ext, sni);
	/* ALPN h2, http/1.1 */
	put16(&ext, 16);
	put16(&ext, 14);
	put16(&ext, 12);
	sbuf_add(&ext, "\x02h2\x08http/1.1", 12);
	/* supported_versions: 1.3 */
	put16(&ext, 43);
	put16(&ext, 3);
	sbuf_add(&ext, "\x02\x03\x04", 3);
	put16(&hs, 0x0303);
	for (int i = 0; i < 32; i++)
		sbuf_addc(&hs, (char)i);
	sbuf_addc(&hs, 0); /* session id */
	put16(&hs, 4);
	put16(&hs, 0x1301);
	put16(&hs, 0x1302);
	sbuf_add(&hs, "\x01\x00", 2);
	put16(&hs, (uint16_t)ext.len);
	sbuf_add(&hs, ext.buf, ext.len);
	sbuf_add(r, "\x16\x03\x01", 3);
	put16(r, (uint16_t)(hs.len + 4));
	sbuf_addc(r, 1);
	sbuf_addc(r, 0);
	put16(r, (uint16_t)hs.len);
	sbuf_add(r, hs.buf, hs.len);
	sbuf_free(&ext), sbuf_free(&hs);
}

START_TEST(tls_sni_alpn_v6)
{
	struct sbuf p = {0}, ch = {0};
	struct ep c6 = v6("fd00::2", 50000), s6 = v6("2001:db8::10", 443);
	client_hello(&ch, "gulf.moneroocean.stream");
	pcap_head(&p, 1);
	tcp(&p, 10, &c6, &s6, 7, 0, SYN, NULL, 0);
	tcp(&p, 10.01, &s6, &c6, 70, 8, SYN | ACK, NULL, 0);
	/* the hello in two segments, the second first */
	size_t half = ch.len / 2;
	tcp(&p, 10.03, &c6, &s6, 8 + (uint32_t)half, 71, PSH | ACK, ch.buf + half, ch.len - half);
	tcp(&p, 10.02, &c6, &s6, 8, 71, ACK, ch.buf, half);
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, NULL, 0, rep);
	json_t *t = json_array_get(json_object_get(o, "tls"), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "sni")), "gulf.moneroocean.stream");
	ck_assert_str_eq(json_string_value(json_object_get(t, "version")), "TLS 1.3");
	json_t *alpn = json_object_get(t, "alpn");
	ck_assert_int_eq(json_array_size(alpn), 2);
	ck_assert_str_eq(json_string_value(json_array_get(alpn, 1)), "http/1.1");
	json_t *fl = json_array_get(json_object_get(o, "flows"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(fl, "src")), "fd00::2");
	ck_assert_str_eq(json_string_value(json_object_get(fl, "state")), "established");
	const json_t *f = finding(rep, "flow.mining-pool", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "high");
	ck_assert_str_eq(json_string_value(json_object_get(f, "attack")), "T1496");
	/* a hello cut anywhere is never read past its end */
	for (size_t n = 0; n < ch.len; n++) {
		json_t *j = aflow_tls_json(ch.buf, n);
		json_decref(j);
	}
	json_decref(o), json_decref(rep), sbuf_free(&p), sbuf_free(&ch);
}
END_TEST

static void dns_name_put(struct sbuf *b, const char *name)
{
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		sbuf_addc(b, (char)l);
		sbuf_add(b, p, l);
		p += l + (dot ? 1 : 0);
	}
	sbuf_addc(b, 0);
}

START_TEST(dns_messages)
{
	struct sbuf p = {0}, q = {0}, a = {0}, nx = {0};
	struct ep dns = v4(10, 0, 0, 53, 53), c = v4(10, 0, 0, 2, 33333);
	/* query A www.example.test */
	put16(&q, 0x1234);
	put16(&q, 0x0100);
	put16(&q, 1), put16(&q, 0), put16(&q, 0), put16(&q, 0);
	dns_name_put(&q, "www.example.test");
	put16(&q, 1), put16(&q, 1);
	/* the answer: the question, then A with a pointer to offset 12 */
	put16(&a, 0x1234);
	put16(&a, 0x8180);
	put16(&a, 1), put16(&a, 1), put16(&a, 0), put16(&a, 0);
	dns_name_put(&a, "www.example.test");
	put16(&a, 1), put16(&a, 1);
	sbuf_add(&a, "\xc0\x0c", 2);
	put16(&a, 1), put16(&a, 1), put32(&a, 300), put16(&a, 4);
	sbuf_add(&a, "\xc0\x00\x02\x07", 4);
	/* NXDOMAIN for a generated-looking name */
	put16(&nx, 0x4321);
	put16(&nx, 0x8183);
	put16(&nx, 1), put16(&nx, 0), put16(&nx, 0), put16(&nx, 0);
	dns_name_put(&nx, "xk3q9zt7vbw2pl8m4nrj.example.test");
	put16(&nx, 1), put16(&nx, 1);
	pcap_head(&p, 1);
	udp(&p, 1, &c, &dns, q.buf, q.len);
	udp(&p, 1.01, &dns, &c, a.buf, a.len);
	/* the NXDOMAIN's query too, so that the name is looked up */
	struct sbuf nq = {0};
	sbuf_add(&nq, nx.buf, nx.len);
	nq.buf[2] = 0x01, nq.buf[3] = 0x00;
	udp(&p, 2, &c, &dns, nq.buf, nq.len);
	udp(&p, 2.01, &dns, &c, nx.buf, nx.len);
	struct seen s = {0};
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, &s, 0, rep);
	json_t *d = json_object_get(o, "dns");
	ck_assert_int_eq(json_array_size(d), 4);
	json_t *ans = json_array_get(d, 1);
	ck_assert(json_is_true(json_object_get(ans, "response")));
	ck_assert_str_eq(json_string_value(json_object_get(ans, "rcode")), "NOERROR");
	json_t *rr = json_array_get(json_object_get(ans, "answers"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rr, "name")), "www.example.test");
	ck_assert_str_eq(json_string_value(json_object_get(rr, "type")), "A");
	ck_assert_str_eq(json_string_value(json_object_get(rr, "data")), "192.0.2.7");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 3), "rcode")),
			 "NXDOMAIN");
	ck_assert_int_eq(s.udp, 4);
	/* one flow: the client's port 33333 to 53 */
	ck_assert_int_eq(json_array_size(json_object_get(o, "flows")), 1);
	ck_assert_ptr_nonnull(finding(rep, "flow.dga-name", 0));
	ck_assert_ptr_null(finding(rep, "flow.nxdomain-many", 0)); /* one is not many */
	/* a pointer loop, a pointer past the end, a name over 255 bytes */
	struct sbuf loop = {0};
	put16(&loop, 1), put16(&loop, 0), put16(&loop, 1), put16(&loop, 0), put16(&loop, 0),
	    put16(&loop, 0);
	sbuf_add(&loop, "\xc0\x0c", 2);
	put16(&loop, 1), put16(&loop, 1);
	ck_assert_ptr_null(aflow_dns_json(loop.buf, loop.len));
	loop.buf[13] = 0x7f;
	ck_assert_ptr_null(aflow_dns_json(loop.buf, loop.len));
	struct sbuf longn = {0};
	put16(&longn, 1), put16(&longn, 0), put16(&longn, 1), put16(&longn, 0), put16(&longn, 0),
	    put16(&longn, 0);
	for (int i = 0; i < 5; i++) {
		sbuf_addc(&longn, 63);
		for (int j = 0; j < 63; j++)
			sbuf_addc(&longn, 'a');
	}
	sbuf_addc(&longn, 0);
	put16(&longn, 1), put16(&longn, 1);
	ck_assert_ptr_null(aflow_dns_json(longn.buf, longn.len));
	long td = tcpdump_count(&p);
	if (td >= 0)
		ck_assert_int_eq(td, 4);
	json_decref(o), json_decref(rep);
	sbuf_free(&p), sbuf_free(&q), sbuf_free(&a), sbuf_free(&nx), sbuf_free(&nq),
	    sbuf_free(&loop), sbuf_free(&longn);
}
END_TEST

START_TEST(many_nxdomain)
{
	struct sbuf p = {0};
	struct ep dns = v4(10, 0, 0, 53, 53), c = v4(10, 0, 0, 2, 33334);
	pcap_head(&p, 1);
	for (int i = 0; i < 12; i++) {
		struct sbuf m = {0};
		char name[64];
		snprintf(name, sizeof(name), "host%d.nowhere.test", i);
		put16(&m, (uint16_t)i);
		put16(&m, 0x8183);
		put16(&m, 1), put16(&m, 0), put16(&m, 0), put16(&m, 0);
		dns_name_put(&m, name);
		put16(&m, 1), put16(&m, 1);
		udp(&p, 5 + i, &dns, &c, m.buf, m.len);
		sbuf_free(&m);
	}
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, NULL, 0, rep);
	const json_t *f = finding(rep, "flow.nxdomain-many", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(f, "evidence"), "nxdomain")), 12);
	/* answers from port 53 make the querier the flow's source */
	json_t *fl = json_array_get(json_object_get(o, "flows"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "dport")), 53);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "packets_in")), 12);
	json_decref(o), json_decref(rep), sbuf_free(&p);
}
END_TEST

START_TEST(reset_and_syn_only)
{
	struct sbuf p = {0};
	struct ep a = v4(10, 0, 0, 9, 22), b = v4(10, 0, 0, 9, 23);
	pcap_head(&p, 1);
	tcp(&p, 1, &cli, &a, 1, 0, SYN, NULL, 0);
	tcp(&p, 1.1, &a, &cli, 0, 2, RST | ACK, NULL, 0);
	struct ep c2 = cli;
	c2.port = 40001;
	tcp(&p, 2, &c2, &b, 1, 0, SYN, NULL, 0);
	tcp(&p, 3, &c2, &b, 1, 0, SYN, NULL, 0);
	json_t *o = run(&p, NULL, NULL, 0, NULL);
	json_t *fl = json_object_get(o, "flows");
	ck_assert_int_eq(json_array_size(fl), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fl, 0), "state")),
			 "reset");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fl, 1), "state")),
			 "syn-only");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(fl, 1), "packets_out")),
			 2);
	json_decref(o), sbuf_free(&p);
}
END_TEST

/* out of order, overlapping and retransmitted segments: the bytes first in
 * place win, deterministically */
START_TEST(reassembly)
{
	struct sbuf p = {0};
	struct ep srv = v4(10, 0, 0, 1, 9000);
	pcap_head(&p, 1);
	tcp(&p, 1, &cli, &srv, 99, 0, SYN, NULL, 0);
	tcp(&p, 1.1, &srv, &cli, 499, 100, SYN | ACK, NULL, 0);
	tcp(&p, 1.2, &cli, &srv, 110, 500, ACK, "KLMNOPQRST", 10);  /* [10,20) early */
	tcp(&p, 1.3, &cli, &srv, 120, 500, ACK, "UVWXYZ0123", 10);  /* [20,30) early */
	tcp(&p, 1.4, &cli, &srv, 100, 500, ACK, "ABCDEFGHIJ", 10);  /* [0,10): all in place */
	tcp(&p, 1.5, &cli, &srv, 105, 500, ACK, "xxxxxxxxxx", 10);  /* overlap: ignored */
	tcp(&p, 1.6, &cli, &srv, 100, 500, ACK, "ABCDEFGHIJ", 10);  /* retransmission */
	tcp(&p, 1.7, &cli, &srv, 128, 500, ACK, "yy4567", 6);	    /* [28,34): 30.. new */
	tcp(&p, 1.8, &cli, &srv, 90, 500, ACK, "before-isn..", 12); /* before the start: 2 in */
	tcp(&p, 1.9, &cli, &srv, 134, 500, FIN | ACK, NULL, 0);
	tcp(&p, 2.0, &srv, &cli, 500, 135, FIN | ACK, NULL, 0);
	struct seen s = {0};
	json_t *o = run(&p, NULL, &s, 0, NULL);
	ck_assert_uint_eq(s.dir[0].len, 34);
	ck_assert(memcmp(s.dir[0].buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234567", 34) == 0);
	ck_assert_uint_eq(s.dir[1].len, 0);
	json_decref(o);
	sbuf_free(&s.dir[0]);
	/* bounded per stream: 16 bytes kept, counted as truncated */
	struct seen s2 = {0};
	o = run(&p, NULL, &s2, 16, NULL);
	ck_assert_uint_eq(s2.dir[0].len, 16);
	ck_assert(memcmp(s2.dir[0].buf, "ABCDEFGHIJKLMNOP", 16) == 0);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(o, "stats"), "streams_truncated")),
	    1);
	json_decref(o), sbuf_free(&s2.dir[0]);
	/* a gap: only what comes before it */
	struct sbuf g = {0};
	pcap_head(&g, 1);
	tcp(&g, 1, &cli, &srv, 99, 0, SYN, NULL, 0);
	tcp(&g, 1.2, &cli, &srv, 100, 0, ACK, "abc", 3);
	tcp(&g, 1.3, &cli, &srv, 110, 0, ACK, "zzz", 3);
	struct seen s3 = {0};
	o = run(&g, NULL, &s3, 0, NULL);
	ck_assert_uint_eq(s3.dir[0].len, 3);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(o, "stats"), "streams_with_gaps")),
	    1);
	json_decref(o), sbuf_free(&s3.dir[0]), sbuf_free(&g), sbuf_free(&p);
}
END_TEST

START_TEST(after_cut_and_pool_port)
{
	struct sbuf p = {0};
	struct ep c2 = v4(10, 200, 0, 1, 4444), meta = v4(169, 254, 169, 254, 80);
	pcap_head(&p, 1);
	/* before the cut: the metadata service; after it: a C2 on 4444, twice */
	tcp(&p, 1000, &cli, &meta, 1, 0, SYN, NULL, 0);
	struct ep c = cli;
	c.port = 41000;
	tcp(&p, 2000, &c, &c2, 1, 0, SYN, NULL, 0);
	tcp(&p, 2001, &c, &c2, 1, 0, SYN, NULL, 0);
	json_t *rep = new_report();
	json_t *o = run(&p, "1970-01-01T00:25:00.5Z", NULL, 0, rep);
	const json_t *f = finding(rep, "flow.after-cut", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "medium");
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "packets")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "new_connections")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(ev, "destinations"), 0), "dst")),
			 "10.200.0.1:4444");
	ck_assert_ptr_nonnull(finding(rep, "flow.mining-pool", 0));
	const json_t *m = finding(rep, "flow.cloud-metadata", 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(json_string_value(json_object_get(m, "path")), "169.254.169.254:80");
	json_decref(o), json_decref(rep);
	/* the container's address known: a probe from outside after the cut is
	 * not the container's attempt */
	{
		struct sbuf q = {0};
		struct ep probe = v4(10, 0, 0, 1, 50000), me = v4(10, 0, 0, 2, 8080);
		pcap_head(&q, 1);
		tcp(&q, 2000, &probe, &me, 1, 0, SYN, NULL, 0);
		const char *local[] = {"10.0.0.2"};
		struct aflows_opts lo = {
		    .cut_at = "1970-01-01T00:25:00Z", .local_addrs = local, .nlocal = 1};
		struct aflows *fl = aflows_new(&lo);
		FILE *fp = fmemopen(q.buf, q.len, "rb");
		struct err e = {0};
		ck_assert_int_eq(aflows_read(fl, fp, "x.pcap", &e), 0);
		json_t *r2 = new_report(), *o2 = NULL;
		aflows_finish(fl, r2, &o2);
		aflows_free(fl);
		ck_assert_ptr_null(finding(r2, "flow.after-cut", 0));
		json_decref(o2), json_decref(r2), sbuf_free(&q);
	}
	/* without a cut time: no such finding */
	rep = new_report();
	o = run(&p, NULL, NULL, 0, rep);
	ck_assert_ptr_null(finding(rep, "flow.after-cut", 0));
	json_decref(o), json_decref(rep), sbuf_free(&p);
}
END_TEST

/* Linux cooked v2 and NFLOG frames (what capture writes for nflog) */
START_TEST(sll2_and_nflog)
{
	struct ep srv = v4(10, 200, 0, 1, 4444);
	struct sbuf l4 = {0}, ip = {0}, fr = {0}, p = {0};
	tcp_l4(&l4, &cli, &srv, 1, 0, SYN, NULL, 0);
	ip_pkt(&ip, &cli, &srv, 6, &l4);
	put16(&fr, 0x0800);
	sbuf_add(&fr, "\0\0\0\0\0\0\0\x02\0\x01\x04\x06\0\0\0\0\0\0", 18);
	sbuf_add(&fr, ip.buf, ip.len);
	pcap_head(&p, 276);
	pcap_rec(&p, 50, &fr, fr.len);
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, NULL, 0, rep);
	ck_assert_int_eq(json_array_size(json_object_get(o, "flows")), 1);
	json_decref(o), json_decref(rep);
	/* NFLOG: AF_INET, version 0, group; a prefix TLV then the payload TLV */
	sbuf_reset(&fr), sbuf_reset(&p);
	sbuf_add(&fr, "\x02\x00\x21\x08", 4);
	sbuf_add(&fr,
		 "\x08\x00\x0a\x00"
		 "abc\0",
		 8); /* NFULA_PREFIX */
	uint16_t tl = (uint16_t)(4 + ip.len), tt = 9;
	sbuf_add(&fr, &tl, 2);
	sbuf_add(&fr, &tt, 2);
	sbuf_add(&fr, ip.buf, ip.len);
	pcap_head(&p, 239);
	pcap_rec(&p, 50, &fr, fr.len);
	rep = new_report();
	o = run(&p, NULL, NULL, 0, rep);
	json_t *fl = json_array_get(json_object_get(o, "flows"), 0);
	ck_assert_ptr_nonnull(fl);
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "dport")), 4444);
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(o, "pcaps"), 0), "linktype_name")),
			 "NFLOG");
	long td = tcpdump_count(&p);
	if (td >= 0)
		ck_assert_int_eq(td, 1);
	json_decref(o), json_decref(rep);
	sbuf_free(&l4), sbuf_free(&ip), sbuf_free(&fr), sbuf_free(&p);
}
END_TEST

START_TEST(malformed)
{
	/* not a pcap */
	struct aflows *f = aflows_new(NULL);
	char junk[] = "this is not a pcap at all, not even close.";
	FILE *fp = fmemopen(junk, sizeof(junk), "rb");
	struct err e = {0};
	ck_assert_int_eq(aflows_read(f, fp, "junk.pcap", &e), -1);
	ck_assert(strstr(e.msg, "junk.pcap") != NULL);
	json_t *o = NULL;
	aflows_finish(f, NULL, &o);
	ck_assert(json_is_string(
	    json_object_get(json_array_get(json_object_get(o, "pcaps"), 0), "error")));
	json_decref(o);
	aflows_free(f);
	/* cut short in a record, and packets cut at every length */
	struct sbuf p = {0};
	http_pcap(&p);
	struct sbuf q = {0};
	pcap_head(&q, 1);
	struct sbuf one = {0};
	struct ep srv = v4(10, 0, 0, 1, 80);
	{
		struct sbuf l4 = {0}, ip = {0};
		tcp_l4(&l4, &cli, &srv, 1001, 5001, PSH | ACK, http_req, strlen(http_req));
		ip_pkt(&ip, &cli, &srv, 6, &l4);
		eth(&one, 4, &ip);
		sbuf_free(&l4), sbuf_free(&ip);
	}
	for (size_t n = 0; n <= one.len; n++)
		pcap_rec(&q, 1, &one, n);
	o = run(&q, NULL, NULL, 0, NULL);
	json_t *st = json_object_get(o, "stats");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "packets")),
			 (json_int_t)one.len + 1);
	ck_assert_int_gt(json_integer_value(json_object_get(st, "malformed")), 0);
	json_decref(o);
	p.len -= 10; /* the last record cut */
	o = run(&p, NULL, NULL, 0, NULL);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(o, "stats"), "packets")), 6);
	ck_assert_int_ge(json_array_size(json_object_get(o, "notes")), 1);
	json_decref(o);
	/* the HTTP parsers on every prefix */
	for (size_t n = 0; n < sizeof(http_resp); n++) {
		json_decref(aflow_http_response_json(http_resp, n));
		json_decref(aflow_http_request_json(http_req, n));
	}
	sbuf_free(&p), sbuf_free(&q), sbuf_free(&one);
}
END_TEST

/* analyze's part over a directory bag: its pcaps (data/network/NAME.pcap) */
/* a DNS message: id, flags, one question of name (type A); an answer (A
 * 192.0.2.N, a pointer to the question) when flags say a response */
static void dns_msg(struct sbuf *m, uint16_t id, uint16_t flags, const char *name, int addr)
{
	put16(m, id);
	put16(m, flags);
	put16(m, 1), put16(m, (flags & 0x8000) && addr ? 1 : 0), put16(m, 0), put16(m, 0);
	dns_name_put(m, name);
	put16(m, 1), put16(m, 1);
	if ((flags & 0x8000) && addr) {
		sbuf_add(m, "\xc0\x0c", 2);
		put16(m, 1), put16(m, 1), put32(m, 60), put16(m, 4);
		unsigned char a[4] = {192, 0, 2, (unsigned char)addr};
		sbuf_add(m, a, 4);
	}
}

/* m with its 2-byte length in front (DNS over TCP) */
static void dns_framed(struct sbuf *o, const struct sbuf *m)
{
	put16(o, (uint16_t)m->len);
	sbuf_add(o, m->buf, m->len);
}

START_TEST(dns_over_tcp)
{
	struct ep dns = v4(10, 0, 0, 53, 53), c = v4(10, 0, 0, 2, 41000);
	struct sbuf q = {0}, r = {0}, m = {0}, p = {0};
	/* the client: two queries in one segment, a third whose length and body are
	 * split over two segments; the server: three answers, the last cut short */
	const char *names[] = {"a.example.test", "pool.supportxmr.com", "c.example.test"};
	for (int i = 0; i < 3; i++) {
		sbuf_reset(&m);
		dns_msg(&m, (uint16_t)(0x100 + i), 0x0100, names[i], 0);
		dns_framed(&q, &m);
		sbuf_reset(&m);
		dns_msg(&m, (uint16_t)(0x100 + i), 0x8180, names[i], 10 + i);
		dns_framed(&r, &m);
	}
	size_t two = 2 + q.buf[1] + 2 + (size_t)q.buf[2 + q.buf[1] + 1];
	pcap_head(&p, 1);
	tcp(&p, 1, &c, &dns, 100, 0, SYN, NULL, 0);
	tcp(&p, 1.001, &dns, &c, 900, 101, SYN | ACK, NULL, 0);
	tcp(&p, 1.002, &c, &dns, 101, 901, ACK, NULL, 0);
	tcp(&p, 1.01, &c, &dns, 101, 901, PSH | ACK, q.buf, two + 1);
	tcp(&p, 1.02, &c, &dns, (uint32_t)(101 + two + 1), 901, PSH | ACK, q.buf + two + 1,
	    q.len - two - 1);
	tcp(&p, 1.03, &dns, &c, 901, (uint32_t)(101 + q.len), PSH | ACK, r.buf, r.len - 5);
	tcp(&p, 1.04, &c, &dns, (uint32_t)(101 + q.len), (uint32_t)(901 + r.len - 5), FIN | ACK,
	    NULL, 0);
	tcp(&p, 1.05, &dns, &c, (uint32_t)(901 + r.len - 5), (uint32_t)(102 + q.len), FIN | ACK,
	    NULL, 0);
	json_t *rep = new_report();
	json_t *o = run(&p, NULL, NULL, 0, rep);
	json_t *d = json_object_get(o, "dns");
	ck_assert_int_eq(json_array_size(d), 5); /* 3 queries, 2 whole answers */
	int queries = 0, answers = 0;
	json_t *x;
	size_t i;
	json_array_foreach(d, i, x)
	{
		ck_assert_str_eq(json_string_value(json_object_get(x, "proto")), "tcp");
		const char *n = json_string_value(
		    json_object_get(json_array_get(json_object_get(x, "questions"), 0), "name"));
		if (json_is_true(json_object_get(x, "response"))) {
			ck_assert_str_eq(n, names[answers]);
			char want[32];
			snprintf(want, sizeof(want), "192.0.2.%d", 10 + answers);
			ck_assert_str_eq(
			    json_string_value(json_object_get(
				json_array_get(json_object_get(x, "answers"), 0), "data")),
			    want);
			ck_assert_str_eq(json_string_value(json_object_get(x, "from")),
					 "10.0.0.53:53");
			answers++;
		} else {
			ck_assert_str_eq(n, names[queries]);
			ck_assert_int_eq(json_integer_value(json_object_get(x, "id")),
					 0x100 + queries);
			queries++;
		}
	}
	ck_assert_int_eq(queries, 3);
	ck_assert_int_eq(answers, 2);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(o, "stats"), "dns_messages")), 5);
	/* the pool's name asked over TCP is a finding as over UDP */
	ck_assert_ptr_nonnull(finding(rep, "flow.mining-pool", 0));
	ck_assert_int_eq(json_array_size(json_object_get(o, "tls")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(o, "http")), 0);
	json_decref(o), json_decref(rep);

	/* bounded: 300 messages one way, 256 read and a note; a zero length ends it */
	sbuf_reset(&q), sbuf_reset(&p);
	sbuf_reset(&m);
	dns_msg(&m, 7, 0x0100, "b.example.test", 0);
	for (int k = 0; k < 300; k++)
		dns_framed(&q, &m);
	put16(&q, 0);
	pcap_head(&p, 1);
	tcp(&p, 2, &c, &dns, 100, 0, SYN, NULL, 0);
	tcp(&p, 2.001, &dns, &c, 900, 101, SYN | ACK, NULL, 0);
	tcp(&p, 2.01, &c, &dns, 101, 901, PSH | ACK, q.buf, q.len);
	tcp(&p, 2.02, &c, &dns, (uint32_t)(101 + q.len), 901, RST, NULL, 0);
	o = run(&p, NULL, NULL, 0, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(o, "dns")), 256);
	json_t *notes = json_object_get(o, "notes");
	bool noted = false;
	json_array_foreach(notes, i, x) noted |=
	    strstr(json_string_value(x), "more than 256 messages") != NULL;
	ck_assert_msg(noted, "no note of the bound");
	json_decref(o);
	/* garbage on port 53 over TCP: lengths past the end, nothing read, no crash */
	sbuf_reset(&p);
	pcap_head(&p, 1);
	tcp(&p, 3, &c, &dns, 100, 0, SYN, NULL, 0);
	tcp(&p, 3.01, &c, &dns, 101, 0, PSH | ACK, "\xff\xff\x00\x01\x02", 5);
	o = run(&p, NULL, NULL, 0, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(o, "dns")), 0);
	json_decref(o);
	sbuf_free(&q), sbuf_free(&r), sbuf_free(&m), sbuf_free(&p);
}
END_TEST

/* an IPv4 packet's IP id set (ip_pkt writes 1) */
static void tcp_id(struct sbuf *p, double t, const struct ep *s, const struct ep *d, uint32_t seq,
		   uint32_t ack, int flags, const void *pay, size_t n, uint16_t id, int nflog)
{
	struct sbuf l4 = {0}, ip = {0}, fr = {0};
	tcp_l4(&l4, s, d, seq, ack, flags, pay, n);
	ip_pkt(&ip, s, d, 6, &l4);
	ip.buf[4] = (char)(id >> 8), ip.buf[5] = (char)id;
	ip.buf[8] = nflog ? 63 : 64; /* another TTL: not in the identity */
	if (nflog) {		     /* NFLOG: AF_INET, the payload TLV */
		sbuf_add(&fr, "\x02\x00\x00\x05", 4);
		uint16_t tl = (uint16_t)(4 + ip.len), tt = 9;
		sbuf_add(&fr, &tl, 2);
		sbuf_add(&fr, &tt, 2);
		sbuf_add(&fr, ip.buf, ip.len);
		while (fr.len % 4)
			sbuf_addc(&fr, 0);
	} else {
		eth(&fr, 4, &ip);
	}
	pcap_rec(p, t, &fr, fr.len);
	sbuf_free(&l4), sbuf_free(&ip), sbuf_free(&fr);
}

static json_t *run2(const struct sbuf *a, const char *an, const struct sbuf *b, const char *bn,
		    struct seen *seen, const char *cut)
{
	struct aflows_opts o = {.cut_at = cut};
	if (seen) {
		o.on_stream = on_stream;
		o.arg = seen;
	}
	struct aflows *f = aflows_new(&o);
	struct err e = {0};
	FILE *fp = fmemopen(a->buf, a->len, "rb");
	ck_assert_int_eq(aflows_read(f, fp, an, &e), 0);
	fp = fmemopen(b->buf, b->len, "rb");
	ck_assert_int_eq(aflows_read(f, fp, bn, &e), 0);
	json_t *out = NULL;
	aflows_finish(f, NULL, &out);
	aflows_free(f);
	return out;
}

static json_int_t stat_of(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(o, "stats"), k));
}

START_TEST(one_packet_two_pcaps)
{
	/* the netns capture holds a connection to the container's port 8080 and
	 * its data; the NFLOG pcap the copies of three of its packets (the cut's
	 * rules logged them), a packet of its own, a copy 3 s away (another
	 * packet: outside the window), a copy of a packet with another IP id (a
	 * retransmission, another packet) */
	struct ep peer = v4(10, 0, 0, 1, 50000), me = v4(10, 0, 0, 2, 8080);
	struct sbuf a = {0}, b = {0};
	pcap_head(&a, 1);
	pcap_head(&b, 239);
	tcp_id(&a, 10, &peer, &me, 1000, 0, SYN, NULL, 0, 11, 0);
	tcp_id(&a, 10.001, &me, &peer, 5000, 1001, SYN | ACK, NULL, 0, 0, 0);
	tcp_id(&a, 10.002, &peer, &me, 1001, 5001, ACK, NULL, 0, 12, 0);
	tcp_id(&a, 10.003, &peer, &me, 1001, 5001, PSH | ACK, "hello ", 6, 13, 0);
	tcp_id(&a, 10.004, &peer, &me, 1007, 5001, PSH | ACK, "world", 5, 14, 0);
	/* the same packet twice in one pcap: two packets (a retransmission) */
	tcp_id(&a, 10.005, &peer, &me, 1007, 5001, PSH | ACK, "world", 5, 14, 0);
	/* copies, a few ms later, another TTL */
	tcp_id(&b, 10.0031, &peer, &me, 1001, 5001, PSH | ACK, "hello ", 6, 13, 1);
	tcp_id(&b, 10.0042, &peer, &me, 1007, 5001, PSH | ACK, "world", 5, 14, 1);
	tcp_id(&b, 10.0052, &peer, &me, 1007, 5001, PSH | ACK, "world", 5, 14, 1);
	/* a third copy of it: no packet of pcap a left to match */
	tcp_id(&b, 10.0053, &peer, &me, 1007, 5001, PSH | ACK, "world", 5, 14, 1);
	/* the same bytes 3 s later, another id: packets of their own */
	tcp_id(&b, 13.003, &peer, &me, 1001, 5001, PSH | ACK, "hello ", 6, 13, 1);
	tcp_id(&b, 10.0032, &peer, &me, 1001, 5001, PSH | ACK, "hello ", 6, 99, 1);
	/* a packet only the NFLOG pcap has */
	tcp_id(&b, 10.006, &peer, &me, 1012, 5001, PSH | ACK, "!", 1, 15, 1);
	struct seen seen = {0};
	const char *cut = "1970-01-01T00:00:09.5Z";
	json_t *o = run2(&a, "data/network/capture-eth0.pcap", &b,
			 "data/network/capture-nflog.pcap", &seen, cut);
	ck_assert_int_eq(stat_of(o, "packets"), 13);
	ck_assert_int_eq(stat_of(o, "duplicates"), 3);
	json_t *pcs = json_object_get(o, "pcaps");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pcs, 0), "duplicates")),
			 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pcs, 1), "duplicates")),
			 3);
	json_t *fl = json_object_get(o, "flows");
	ck_assert_int_eq(json_array_size(fl), 1);
	json_t *x = json_array_get(fl, 0);
	/* out: 5 of a, then of b: the third copy, the one 3 s away, the one with
	 * another id, the one of its own */
	ck_assert_int_eq(json_integer_value(json_object_get(x, "packets_out")), 5 + 4);
	ck_assert_int_eq(json_integer_value(json_object_get(x, "packets_in")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(x, "pcaps")), 2);
	/* after the cut (9.5 s): the 5 sent by src in the netns capture, the 4
	 * packets of the NFLOG pcap that are not copies; a copy is not counted
	 * again */
	ck_assert_int_eq(json_integer_value(json_object_get(x, "after_cut")), 9);
	/* the stream: every byte once, the NFLOG pcap's own segment added */
	ck_assert_int_eq((int)seen.dir[0].len, 12);
	ck_assert(memcmp(seen.dir[0].buf, "hello world!", 12) == 0);
	json_decref(o);

	/* the order of the pcaps does not matter; read alone, nothing is a copy */
	sbuf_free(&seen.dir[0]), sbuf_free(&seen.dir[1]);
	o = run2(&b, "data/network/capture-nflog.pcap", &a, "data/network/capture-eth0.pcap", NULL,
		 cut);
	ck_assert_int_eq(stat_of(o, "duplicates"), 3);
	json_decref(o);
	o = run(&a, cut, NULL, 0, NULL);
	ck_assert_int_eq(stat_of(o, "duplicates"), 0);
	json_decref(o);

	/* the cut known: packets long before it are not remembered (none in an
	 * NFLOG pcap can be their copy), packets from 10 s before it are */
	o = run2(&a, "data/network/capture-eth0.pcap", &b, "data/network/capture-nflog.pcap", NULL,
		 "1970-01-01T00:00:30Z");
	ck_assert_int_eq(stat_of(o, "duplicates"), 0);
	json_decref(o);
	o = run2(&a, "data/network/capture-eth0.pcap", &b, "data/network/capture-nflog.pcap", NULL,
		 "1970-01-01T00:00:19.9Z");
	ck_assert_int_eq(stat_of(o, "duplicates"), 3);
	json_decref(o);
	/* the cut between "hello" (10.003) and its NFLOG copy: the copy makes it
	 * a packet after the cut (2 "world" of the netns capture, 4 of the NFLOG
	 * pcap's own, "hello" through its copy) */
	o = run2(&a, "data/network/capture-eth0.pcap", &b, "data/network/capture-nflog.pcap", NULL,
		 "1970-01-01T00:00:10.0035Z");
	ck_assert_int_eq(stat_of(o, "duplicates"), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(
			     json_array_get(json_object_get(o, "flows"), 0), "after_cut")),
			 7);
	json_decref(o);
	/* no cut time: only the NFLOG pcap's packets are remembered (capture
	 * writes none without a cut): found when it is read first */
	o = run2(&a, "data/network/capture-eth0.pcap", &b, "data/network/capture-nflog.pcap", NULL,
		 NULL);
	ck_assert_int_eq(stat_of(o, "duplicates"), 0);
	json_decref(o);
	o = run2(&b, "data/network/capture-nflog.pcap", &a, "data/network/capture-eth0.pcap", NULL,
		 NULL);
	ck_assert_int_eq(stat_of(o, "duplicates"), 3);
	json_decref(o);
	sbuf_free(&a), sbuf_free(&b);
}
END_TEST

START_TEST(bag_directory)
{
	char dir[128];
	unit_tmpdir(dir, sizeof(dir), "test_flows");
	char path[256];
	snprintf(path, sizeof(path), "%s/data", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/data/network", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	struct sbuf p = {0};
	http_pcap(&p);
	snprintf(path, sizeof(path), "%s/data/network/capture-eth0.pcap", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p.buf, p.len), (ssize_t)p.len);
	close(fd);
	snprintf(path, sizeof(path), "%s/data/network/capture-nflog.pcap", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p.buf, 24), 24);
	close(fd);
	struct abag *b = abag_new();
	b->is_dir = true;
	b->dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(b->dirfd, 0);
	json_t *rep = json_pack("{s:[],s:{s:[]}}", "findings", "network", "sockets");
	struct err e = {0};
	ck_assert_int_eq(analyze_network(rep, b, NULL, &e), 0);
	json_t *net = json_object_get(rep, "network");
	ck_assert(json_is_array(json_object_get(net, "sockets"))); /* kept */
	ck_assert_int_eq(json_array_size(json_object_get(net, "pcaps")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(net, "flows")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(net, "http")), 1);
	ck_assert_ptr_nonnull(finding(rep, "flow.http-download", 0));
	json_decref(rep);
	abag_free(b);
	sbuf_free(&p);
	unit_tmpdir_remove(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("flows");
	TCase *tc = tcase_create("flows");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, http_flow);
	tcase_add_test(tc, tls_sni_alpn_v6);
	tcase_add_test(tc, dns_messages);
	tcase_add_test(tc, many_nxdomain);
	tcase_add_test(tc, reset_and_syn_only);
	tcase_add_test(tc, reassembly);
	tcase_add_test(tc, after_cut_and_pool_port);
	tcase_add_test(tc, sll2_and_nflog);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, bag_directory);
	tcase_add_test(tc, dns_over_tcp);
	tcase_add_test(tc, one_packet_two_pcaps);
	suite_add_tcase(s, tc);
	return s;
}

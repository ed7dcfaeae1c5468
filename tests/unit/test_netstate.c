/* test_netstate: /proc/net line parsing on fixed text, the socket tables of
 * a child with a listener, the network collector on a child in its own
 * netns and chroot (a FIFO as resolv.conf), and the pcap writer's byte
 * budget with a synthetic packet source. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/collect.h"
#include "contain/util.h"
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "unit.h"

static json_t *parse(const char *proto, const char *line)
{
	json_t *o = NULL;
	struct err e = {0};
	int rc = collect_net_parse_line(proto, line, &o, &e);
	ck_assert_msg(rc == 0, "parse '%s': rc %d %s", line, rc, e.msg);
	return o;
}

#define STR(o, k) json_string_value(json_object_get((o), (k)))
#define INT(o, k) json_integer_value(json_object_get((o), (k)))

START_TEST(parse_inet_lines)
{
	json_t *o = parse("tcp", "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 "
				 "00:00000000 00000000     0        0 12345 1 0000000000000000 "
				 "100 0 0 10 0");
	ck_assert_str_eq(STR(o, "local"), "127.0.0.1");
	ck_assert_int_eq(INT(o, "lport"), 8080);
	ck_assert_str_eq(STR(o, "remote"), "0.0.0.0");
	ck_assert_str_eq(STR(o, "state"), "LISTEN");
	ck_assert_int_eq(INT(o, "inode"), 12345);
	ck_assert_str_eq(STR(o, "family"), "inet");
	json_decref(o);

	o = parse("tcp", "   1: 0232D50A:A1B2 0132D50A:270F 02 00000001:00000000 01:00000100 "
			 "00000000  1000        0 34567 2 0000000000000000 100 0 0 10 -1");
	ck_assert_str_eq(STR(o, "local"), "10.213.50.2");
	ck_assert_str_eq(STR(o, "remote"), "10.213.50.1");
	ck_assert_int_eq(INT(o, "rport"), 9999);
	ck_assert_str_eq(STR(o, "state"), "SYN_SENT");
	ck_assert_int_eq(INT(o, "uid"), 1000);
	ck_assert_int_eq(INT(o, "tx_queue"), 1);
	json_decref(o);

	o = parse("tcp6", "   0: 00000000000000000000000001000000:1F90 "
			  "0000000000000000FFFF00000100007F:0050 01 00000000:00000000 "
			  "00:00000000 00000000     0        0 23456 1 0000000000000000 20 4 0 10 -1");
	ck_assert_str_eq(STR(o, "local"), "::1");
	ck_assert_str_eq(STR(o, "remote"), "::ffff:127.0.0.1");
	ck_assert_str_eq(STR(o, "state"), "ESTABLISHED");
	ck_assert_str_eq(STR(o, "family"), "inet6");
	json_decref(o);

	o = parse("udp", "  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 "
			 "00000000     0        0 4567 2 0000000000000000 0");
	ck_assert_str_eq(STR(o, "state"), "UNCONN");
	ck_assert_int_eq(INT(o, "lport"), 68);
	json_decref(o);

	/* headers, blanks, garbage */
	struct err e = {0};
	ck_assert_int_eq(collect_net_parse_line("tcp", "  sl  local_address rem_address   st", &o, &e),
			 1);
	ck_assert_int_eq(collect_net_parse_line("tcp", "", &o, &e), 1);
	ck_assert_int_eq(collect_net_parse_line("tcp", "   0: ZZZZ:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
						&o, &e),
			 -1);
	ck_assert_int_eq(collect_net_parse_line("tcp", "   0: 0100007F:1F90", &o, &e), -1);
	ck_assert_int_eq(collect_net_parse_line("tcp", "   0: 0100007F:FFFFF 00000000:0000 0A 0:0 0:0 0 0 0 1",
						&o, &e),
			 -1);
	ck_assert_int_eq(collect_net_parse_line("tcp", "   0: 0100007F0:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
						&o, &e),
			 -1);
	ck_assert_int_eq(collect_net_parse_line("sctp", "x", &o, &e), -1);
}
END_TEST

START_TEST(parse_unix_and_packet_lines)
{
	struct err e = {0};
	json_t *o;
	ck_assert_int_eq(collect_net_parse_line("unix", "Num       RefCount Protocol Flags    Type St "
							"Inode Path",
						&o, &e),
			 1);
	o = parse("unix", "0000000000000000: 00000002 00000000 00010000 0001 01 11111 /run/a b.sock");
	ck_assert_str_eq(STR(o, "state"), "LISTEN");
	ck_assert_str_eq(STR(o, "type"), "stream");
	ck_assert_str_eq(STR(o, "path"), "/run/a b.sock");
	ck_assert_int_eq(INT(o, "inode"), 11111);
	json_decref(o);
	o = parse("unix", "0000000000000000: 00000003 00000000 00000000 0002 03 22222");
	ck_assert_str_eq(STR(o, "state"), "CONNECTED");
	ck_assert_str_eq(STR(o, "type"), "dgram");
	ck_assert_ptr_null(json_object_get(o, "path"));
	json_decref(o);
	o = parse("unix", "0000000000000000: 00000002 00000000 00000000 0001 01 3 @ab\xff");
	ck_assert_str_eq(STR(o, "path"), "@ab\\xff");
	json_decref(o);
	ck_assert_int_eq(collect_net_parse_line("unix", "0000: 2 0 x 1 1 5", &o, &e), -1);

	o = parse("packet", "0000000000000000 3      3    0003   2     1 0      0      33333");
	ck_assert_str_eq(STR(o, "type"), "raw");
	ck_assert_str_eq(STR(o, "protocol"), "0x0003");
	ck_assert_int_eq(INT(o, "ifindex"), 2);
	ck_assert_int_eq(INT(o, "inode"), 33333);
	json_decref(o);
	ck_assert_int_eq(collect_net_parse_line("packet", "sk       RefCnt Type Proto  Iface R Rmem",
						&o, &e),
			 1);
}
END_TEST

static pid_t kid = -1;

static void kill_kid(void)
{
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		kid = -1;
	}
}

START_TEST(socket_tables_of_a_child)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	struct stat st;
	ck_assert_int_eq(fstat(s, &st), 0);
	char k[32];
	snprintf(k, sizeof(k), "%llu", (unsigned long long)st.st_ino);
	struct stat su;
	ck_assert_int_eq(fstat(u, &su), 0);
	char ku[32];
	snprintf(ku, sizeof(ku), "%llu", (unsigned long long)su.st_ino);
	kid = fork();
	if (kid == 0) {
		pause();
		_exit(0);
	}
	json_t *notes = json_array();
	json_t *t = collect_net_sockets(kid, notes);
	ck_assert_ptr_nonnull(t);
	json_t *o = json_object_get(t, k);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(STR(o, "state"), "LISTEN");
	ck_assert_str_eq(STR(o, "proto"), "tcp");
	o = json_object_get(t, ku);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(STR(o, "proto"), "udp");
	ck_assert_str_eq(STR(o, "state"), "UNCONN");
	json_decref(t);
	json_decref(notes);
	kill_kid();
	ck_assert_ptr_null(collect_net_sockets(999999999, NULL));
}
END_TEST

/* a child in a new netns, chrooted into a dir whose /etc/resolv.conf is a
 * FIFO: the collector must skip it (and not block), read hosts, see only lo */
START_TEST(collect_net_in_own_netns_with_fifo_resolv)
{
	char dir[] = "/tmp/test_netstate.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/resolv.conf", dir);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/etc/hosts", dir);
	struct err we = {0};
	ck_assert_int_eq(write_file_atomic(p, "10.213.50.9 c2.example\n", 23, 0644, &we), 0);
	int sync[2];
	ck_assert_int_eq(pipe(sync), 0);
	kid = fork();
	if (kid == 0) {
		close(sync[0]);
		if (unshare(CLONE_NEWNET) < 0 || chroot(dir) < 0 || chdir("/") < 0)
			_exit(1);
		int l = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
		if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
			_exit(2);
		if (write(sync[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(sync[1]);
	char c;
	if (read(sync[0], &c, 1) != 1) {
		kill_kid();
		ck_abort_msg("child could not enter a netns and chroot (not root?)");
	}
	close(sync[0]);
	pid_t pids[] = {kid};
	struct ctr ct = {0};
	ct.id = (char *)"t";
	ct.pid = kid;
	ct.pids = pids;
	ct.npids = 1;
	struct err e = {0};
	json_t *r = NULL;
	ck_assert_int_eq(collect_net(&ct, NULL, &r, &e), 0);
	json_t *ifs = json_object_get(r, "interfaces");
	ck_assert_int_eq(json_array_size(ifs), 1);
	ck_assert_str_eq(STR(json_array_get(ifs, 0), "name"), "lo");
	/* the listener and its owner */
	size_t i;
	json_t *s;
	bool found = false;
	json_array_foreach(json_object_get(r, "sockets"), i, s)
	{
		if (strcmp(STR(s, "proto"), "tcp") == 0 && INT(s, "lport") == 8080) {
			ck_assert_str_eq(STR(s, "state"), "LISTEN");
			ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(s, "pids"), 0)),
					 kid);
			found = true;
		}
	}
	ck_assert(found);
	json_t *rc = json_object_get(r, "resolv_conf");
	ck_assert_ptr_nonnull(json_object_get(rc, "skipped"));
	ck_assert_ptr_null(json_object_get(rc, "content"));
	json_t *h = json_object_get(json_object_get(r, "hosts"), "content");
	ck_assert_str_eq(STR(h, "data"), "10.213.50.9 c2.example\n");
	ck_assert(json_is_object(json_object_get(r, "nftables")));
	json_decref(r);
	kill_kid();
	snprintf(p, sizeof(p), "%s/etc/resolv.conf", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/hosts", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc", dir);
	rmdir(p);
	rmdir(dir);
}
END_TEST

/* ---- the pcap writer and its byte budget, with synthetic packets ---- */
static int sb_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	(void)e;
	sbuf_add(ctx, buf, n);
	return 0;
}

START_TEST(pcap_byte_budget_is_exact)
{
	struct sbuf out = SBUF_INIT;
	struct collect_pcap_file f = {.sink = {sb_write, NULL, &out}, .linktype = 1, .snaplen = 65535};
	/* header 24 + two records of 16+100: the third must not fit */
	struct collect_pcap_budget b = {.max_bytes = 24 + 2 * 116 + 115};
	unsigned char pkt[100];
	memset(pkt, 0xab, sizeof(pkt));
	struct timeval tv = {1700000000, 42};
	struct err e = {0};
	ck_assert_int_eq(collect_pcap_write_packet(&f, &b, &tv, pkt, 100, 100, &e), 0);
	ck_assert_int_eq(collect_pcap_write_packet(&f, &b, &tv, pkt, 100, 1500, &e), 0);
	ck_assert_int_eq(collect_pcap_write_packet(&f, &b, &tv, pkt, 100, 100, &e), 1);
	ck_assert(b.exhausted);
	/* once exhausted, even a small one is refused: the capture has ended */
	ck_assert_int_eq(collect_pcap_write_packet(&f, &b, &tv, pkt, 1, 1, &e), 1);
	ck_assert_uint_eq(out.len, 24 + 2 * 116);
	ck_assert_uint_eq(b.used, out.len);
	ck_assert_uint_eq(f.packets, 2);
	uint32_t h[6];
	memcpy(h, out.buf, 24);
	ck_assert_uint_eq(h[0], 0xa1b2c3d4);
	ck_assert_uint_eq(h[4], 65535);
	ck_assert_uint_eq(h[5], 1);
	uint32_t r[4];
	memcpy(r, out.buf + 24 + 116, 16);
	ck_assert_uint_eq(r[0], 1700000000);
	ck_assert_uint_eq(r[1], 42);
	ck_assert_uint_eq(r[2], 100);
	ck_assert_uint_eq(r[3], 1500);

	/* exactly at the bound fits */
	sbuf_reset(&out);
	struct collect_pcap_file g = {.sink = {sb_write, NULL, &out}, .linktype = 239, .snaplen = 50};
	struct collect_pcap_budget b2 = {.max_bytes = 24 + 16 + 50};
	ck_assert_int_eq(collect_pcap_write_packet(&g, &b2, &tv, pkt, 100, 100, &e), 0); /* cut to snaplen */
	ck_assert_uint_eq(b2.used, b2.max_bytes);
	ck_assert(!b2.exhausted);
	ck_assert_int_eq(collect_pcap_write_packet(&g, &b2, &tv, pkt, 0, 0, &e), 1);

	/* a budget below a header: nothing at all is written */
	sbuf_reset(&out);
	struct collect_pcap_file h2 = {.sink = {sb_write, NULL, &out}, .linktype = 1, .snaplen = 50};
	struct collect_pcap_budget b3 = {.max_bytes = 23};
	ck_assert_int_eq(collect_pcap_write_header(&h2, &b3, &e), 1);
	ck_assert_uint_eq(out.len, 0);
	/* no bound */
	struct collect_pcap_budget b4 = {0};
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(collect_pcap_write_packet(&h2, &b4, &tv, pkt, 50, 50, &e), 0);
	ck_assert_uint_eq(out.len, 24 + 1000 * 66);
	sbuf_free(&out);
}
END_TEST

/* an NFLOG record as the netdev family logs it, built attribute by attribute */
static size_t nflog_rec(unsigned char *b, int hook, uint16_t proto, uint32_t ifx,
			const unsigned char *pl, size_t plen)
{
	size_t off = 0;
	b[off++] = 5; /* NFPROTO_NETDEV */
	b[off++] = 0;
	b[off++] = 0x9b;
	b[off++] = 0x6e;
	struct {
		uint16_t len, type;
	} a;
	unsigned char hdr[4] = {(unsigned char)(proto >> 8), (unsigned char)proto,
				(unsigned char)hook, 0};
	a.len = 8, a.type = NFULA_PACKET_HDR;
	memcpy(b + off, &a, 4), memcpy(b + off + 4, hdr, 4), off += 8;
	uint32_t be = htonl(ifx);
	a.len = 8, a.type = hook == 1 ? NFULA_IFINDEX_OUTDEV : NFULA_IFINDEX_INDEV;
	memcpy(b + off, &a, 4), memcpy(b + off + 4, &be, 4), off += 8;
	a.len = (uint16_t)(4 + plen), a.type = NFULA_PAYLOAD;
	memcpy(b + off, &a, 4), memcpy(b + off + 4, pl, plen);
	off += (4 + plen + 3) & ~(size_t)3;
	return off;
}

START_TEST(pcap_nflog_netdev_to_sll2)
{
	unsigned char ip[20] = {0x45, 0, 0, 20};
	unsigned char eth[34];
	const unsigned char mac[6] = {0x02, 0xca, 0x0e, 0xd0, 0x5d, 0xd1};
	memset(eth, 0xee, 6);
	memcpy(eth + 6, mac, 6);
	eth[12] = 0x08, eth[13] = 0x00;
	memcpy(eth + 14, ip, 20);
	unsigned char rec[256], out[512];

	/* egress: the Ethernet header goes, its source address into SLL2 */
	size_t n = nflog_rec(rec, 1, 0x0800, 69, eth, sizeof(eth));
	size_t m = collect_pcap_nflog_to_sll2(rec, n, out, sizeof(out));
	ck_assert_uint_eq(m, 40);
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x0800);
	ck_assert_uint_eq(out[7], 69);
	ck_assert_uint_eq(out[10], 4); /* PACKET_OUTGOING */
	ck_assert_uint_eq(out[11], 6);
	ck_assert_mem_eq(out + 12, mac, 6);
	ck_assert_mem_eq(out + 20, ip, 20);

	/* ingress: the payload is already the network header */
	n = nflog_rec(rec, 0, 0x0800, 69, ip, sizeof(ip));
	m = collect_pcap_nflog_to_sll2(rec, n, out, sizeof(out));
	ck_assert_uint_eq(m, 40);
	ck_assert_uint_eq(out[10], 0); /* PACKET_HOST */
	ck_assert_mem_eq(out + 20, ip, 20);

	/* truncated or lying attributes: nothing, never a read past the end */
	for (size_t cut = 0; cut < n; cut++)
		ck_assert_uint_le(collect_pcap_nflog_to_sll2(rec, cut, out, sizeof(out)), 40);
	uint16_t big = 0xfff0;
	memcpy(rec + 4, &big, 2);
	ck_assert_uint_eq(collect_pcap_nflog_to_sll2(rec, n, out, sizeof(out)), 0);
	/* no room for the frame */
	n = nflog_rec(rec, 0, 0x0800, 69, ip, sizeof(ip));
	ck_assert_uint_eq(collect_pcap_nflog_to_sll2(rec, n, out, 30), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("netstate");
	TCase *tc = tcase_create("netstate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, parse_inet_lines);
	tcase_add_test(tc, parse_unix_and_packet_lines);
	tcase_add_test(tc, socket_tables_of_a_child);
	tcase_add_test(tc, collect_net_in_own_netns_with_fifo_resolv);
	tcase_add_test(tc, pcap_byte_budget_is_exact);
	tcase_add_test(tc, pcap_nflog_netdev_to_sll2);
	suite_add_tcase(s, tc);
	return s;
}

/* test_isolate.c: the ruleset builder, --allow parsing, the state file,
 * freezer state parsing. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/isolate.h"
#include "unit.h"

START_TEST(allow_parse_good)
{
	struct ncut_allow a;
	struct err e = {0};
	char b[96];
	ck_assert_int_eq(ncut_allow_parse("10.0.0.0/8", &a, &e), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_str_eq(a.addr, "10.0.0.0");
	ck_assert_uint_eq(a.prefix, 8);
	ck_assert_uint_eq(a.port, 0);
	ck_assert_int_eq(ncut_allow_parse("10.1.2.3:443", &a, &e), 0);
	ck_assert_uint_eq(a.prefix, 32);
	ck_assert_uint_eq(a.port, 443);
	ncut_allow_format(&a, b, sizeof(b));
	ck_assert_str_eq(b, "10.1.2.3/32:443");
	ck_assert_int_eq(ncut_allow_parse("10.213.0.0/16:8080", &a, &e), 0);
	ck_assert_uint_eq(a.prefix, 16);
	ck_assert_uint_eq(a.port, 8080);
	ck_assert_int_eq(ncut_allow_parse("fd00::/8", &a, &e), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_str_eq(a.addr, "fd00::");
	ck_assert_uint_eq(a.prefix, 8);
	ck_assert_int_eq(ncut_allow_parse("fd00:0:0::1", &a, &e), 0);
	ck_assert_str_eq(a.addr, "fd00::1");
	ck_assert_uint_eq(a.prefix, 128);
	ck_assert_int_eq(ncut_allow_parse("[fd00::/64]:9000", &a, &e), 0);
	ck_assert_uint_eq(a.port, 9000);
	ncut_allow_format(&a, b, sizeof(b));
	ck_assert_str_eq(b, "[fd00::/64]:9000");
	/* round trip through the text form */
	struct ncut_allow a2;
	ck_assert_int_eq(ncut_allow_parse(b, &a2, &e), 0);
	ck_assert_int_eq(memcmp(&a, &a2, sizeof(a)), 0);
	ck_assert_int_eq(ncut_allow_parse("[::1]:22", &a, &e), 0);
	ck_assert_uint_eq(a.port, 22);
}
END_TEST

START_TEST(allow_parse_bad)
{
	static const char *const bad[] = {
		"", "10.0.0.1/33", "10.0.0.1/8", /* host bits */
		"10.0.0.0/8:0", "10.0.0.0/8:65536", "10.0.0.0/8:", "10.0.0.0/8:x",
		"10.0.0", "300.1.1.1", "foo", "[10.0.0.1]:80", "[fd00::1", "[fd00::1]x",
		"fd00::/129", "fd00::1/64", "10.0.0.0/-1", "10.0.0.0/ 8", " 10.0.0.1",
		"10.0.0.1;drop", "10.0.0.1/8\n", "[fd00::]:1:2",
	};
	struct ncut_allow a;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct err e = {0};
		ck_assert_msg(ncut_allow_parse(bad[i], &a, &e) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(e.kind, ERR_INVALID);
		ck_assert(e.msg[0] != '\0');
	}
}
END_TEST

START_TEST(table_names)
{
	char n[NCUT_TABLE_MAX], h[NCUT_TABLE_MAX];
	ncut_table_names("0123456789abcdef0123", n, h);
	ck_assert_str_eq(n, "contain_q_0123456789ab");
	ck_assert_str_eq(h, "contain_h_0123456789ab");
	/* a name-like id is hashed: still 12 hex, distinct per id */
	char n2[NCUT_TABLE_MAX];
	ncut_table_names("my-ctr", n, NULL);
	ncut_table_names("my-ctr2", n2, NULL);
	ck_assert_uint_eq(strlen(n), strlen("contain_q_") + 12);
	ck_assert_str_ne(n, n2);
	for (const char *p = n + 10; *p; p++)
		ck_assert(strchr("0123456789abcdef", *p));
}
END_TEST

START_TEST(ruleset_netns_plain)
{
	struct ncut_opts o = {0};
	struct err e = {0};
	char *r = ncut_netns_ruleset("contain_q_aabbccddeeff", &o, &e);
	ck_assert_ptr_nonnull(r);
	static const char want[] =
		"create table inet contain_q_aabbccddeeff\n"
		"table inet contain_q_aabbccddeeff {\n"
		"\tchain prerouting {\n"
		"\t\ttype filter hook prerouting priority -310; policy drop;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\tdrop\n"
		"\t}\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority -310; policy drop;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\tdrop\n"
		"\t}\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority -310; policy drop;\n"
		"\t\tdrop\n"
		"\t}\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority -310; policy drop;\n"
		"\t\toif \"lo\" accept\n"
		"\t\tdrop\n"
		"\t}\n"
		"}\n";
	ck_assert_str_eq(r, want);
	free(r);
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

START_TEST(ruleset_allow_nflog_extra)
{
	struct ncut_allow al[2];
	struct err e = {0};
	ck_assert_int_eq(ncut_allow_parse("10.213.9.0/24:443", &al[0], &e), 0);
	ck_assert_int_eq(ncut_allow_parse("fd00::/8", &al[1], &e), 0);
	const char *extra[] = {"counter"};
	struct ncut_opts o = {al, 2, 7, extra, 1, 0};
	char *r = ncut_netns_ruleset("contain_q_aabbccddeeff", &o, &e);
	ck_assert_ptr_nonnull(r);
	/* in: from the collector; out: to it; forward: both */
	ck_assert_uint_eq(count(r, "ip saddr 10.213.9.0/24 meta l4proto { tcp, udp } th sport 443 accept"), 3);
	ck_assert_uint_eq(count(r, "ip daddr 10.213.9.0/24 meta l4proto { tcp, udp } th dport 443 accept"), 2);
	ck_assert_uint_eq(count(r, "ip6 saddr fd00::/8 accept"), 3);
	ck_assert_uint_eq(count(r, "ip6 daddr fd00::/8 accept"), 2);
	ck_assert_uint_eq(count(r, "nd-neighbor-solicit"), 4);
	/* every drop chain logs, then drops; extra rules before the log */
	ck_assert_uint_eq(count(r, "\t\tlog prefix \"contain-q\" group 7\n\t\tdrop\n"), 4);
	ck_assert_uint_eq(count(r, "\t\tcounter\n\t\tlog prefix"), 4);
	ck_assert_ptr_null(strstr(r, "limit"));
	/* the accepts come before the drop in each chain */
	const char *fw = strstr(r, "chain forward");
	ck_assert(strstr(fw, "ip saddr") < strstr(fw, "\t\tdrop\n"));
	free(r);
}
END_TEST

START_TEST(ruleset_host)
{
	struct ncut_dev d[2] = {{"veth1a2b", 12, "eth0", 2}, {"vethzz", 40, "eth1", 3}};
	struct ncut_allow al;
	struct err e = {0};
	ck_assert_int_eq(ncut_allow_parse("10.213.9.1:9000", &al, &e), 0);
	struct ncut_opts o = {&al, 1, 3, NULL, 0, 0};
	char *r = ncut_host_ruleset("contain_h_aabbccddeeff", d, 2, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert(str_has_prefix(r, "create table netdev contain_h_aabbccddeeff\n"
				    "table netdev contain_h_aabbccddeeff {\n"
				    "\tchain in_12 {\n"
				    "\t\ttype filter hook ingress device \"veth1a2b\" priority -500; "
				    "policy drop;\n"));
	ck_assert_ptr_nonnull(strstr(r, "\tchain out_12 {\n\t\ttype filter hook egress device "
					"\"veth1a2b\" priority -500; policy drop;\n"));
	ck_assert_ptr_nonnull(strstr(r, "\tchain in_40 {"));
	ck_assert_ptr_nonnull(strstr(r, "\tchain out_40 {"));
	/* ingress is from the container: to the collector (daddr/dport) */
	const char *in = strstr(r, "chain in_12"), *out = strstr(r, "chain out_12");
	ck_assert(strstr(in, "ip daddr 10.213.9.1/32 meta l4proto { tcp, udp } th dport 9000") < out);
	ck_assert_ptr_nonnull(strstr(out, "ip saddr 10.213.9.1/32 meta l4proto { tcp, udp } th sport 9000"));
	ck_assert_uint_eq(count(r, "ether type arp accept"), 4);
	ck_assert_uint_eq(count(r, "log prefix \"contain-q\" group 3\n\t\tdrop\n"), 4);
	free(r);

	/* hostile or broken input is refused */
	struct ncut_dev bad = {"ve\"th", 5, "eth0", 2};
	struct ncut_opts none = {0};
	ck_assert_ptr_null(ncut_host_ruleset("contain_h_x", &bad, 1, &none, &e));
	ck_assert_ptr_null(ncut_host_ruleset("contain_h_x", d, 0, &none, &e));
	ck_assert_ptr_null(ncut_host_ruleset("bad name", d, 1, &none, &e));
	ck_assert_ptr_null(ncut_netns_ruleset("x;flush ruleset", &none, &e));
	const char *evil[] = {"accept\nflush ruleset"};
	struct ncut_opts ev = {NULL, 0, 0, evil, 1, 0};
	ck_assert_ptr_null(ncut_netns_ruleset("contain_q_x", &ev, &e));
	struct ncut_opts big = {NULL, 0, 70000, NULL, 0, 0};
	ck_assert_ptr_null(ncut_netns_ruleset("contain_q_x", &big, &e));
}
END_TEST

START_TEST(freezer_parsing)
{
	int f, p, s;
	ck_assert_int_eq(frz_parse_events("populated 1\nfrozen 1\n", &f, &p), 0);
	ck_assert_int_eq(f, 1);
	ck_assert_int_eq(p, 1);
	ck_assert_int_eq(frz_parse_events("populated 0\nfrozen 0\n", &f, &p), 0);
	ck_assert_int_eq(f, 0);
	ck_assert_int_eq(p, 0);
	ck_assert_int_eq(frz_parse_events("populated 1\n", &f, &p), -1);
	ck_assert_int_eq(frz_parse_events("frozen 10\n", &f, NULL), -1);
	ck_assert_int_eq(frz_parse_events("", &f, NULL), -1);
	ck_assert_int_eq(frz_parse_v1_state("FROZEN\n", &s), 0);
	ck_assert_int_eq(s, 2);
	ck_assert_int_eq(frz_parse_v1_state("FREEZING\n", &s), 0);
	ck_assert_int_eq(s, 1);
	ck_assert_int_eq(frz_parse_v1_state("THAWED", &s), 0);
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(frz_parse_v1_state("FROZENX\n", &s), -1);
	ck_assert_int_eq(frz_parse_v1_state("", &s), -1);
	ck_assert_int_eq(frz_parse_status_state("Name:\tsh\nUmask:\t0022\nState:\tD (disk sleep)\n"),
			 'D');
	ck_assert_int_eq(frz_parse_status_state("Name:\tsh\nState:\tS (sleeping)\n"), 'S');
	ck_assert_int_eq(frz_parse_status_state("Name:\tState: R\n"), 0);
	ck_assert_int_eq(frz_parse_status_state("State:\t\n"), 0);
	enum frz_kind k;
	ck_assert_int_eq(frz_kind_parse("cgroup2", &k), 0);
	ck_assert_int_eq(k, FRZ_CGROUP2);
	ck_assert_str_eq(frz_kind_name(FRZ_V1), "freezer-v1");
	ck_assert_int_eq(frz_kind_parse("v3", &k), -1);
	char ctl[256], st[256];
	struct frz_target t = {FRZ_V1, (char *)"/sys/fs/cgroup/freezer/x"};
	ck_assert_int_eq(frz_files(&t, ctl, sizeof(ctl), st, sizeof(st)), 0);
	ck_assert_str_eq(ctl, "/sys/fs/cgroup/freezer/x/freezer.state");
	t.kind = FRZ_CGROUP2;
	ck_assert_int_eq(frz_files(&t, ctl, sizeof(ctl), st, sizeof(st)), 0);
	ck_assert_str_eq(ctl, "/sys/fs/cgroup/freezer/x/cgroup.freeze");
	ck_assert_str_eq(st, "/sys/fs/cgroup/freezer/x/cgroup.events");
}
END_TEST

START_TEST(state_round_trip)
{
	char dir[] = "/tmp/test_isolate.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char sd[64];
	snprintf(sd, sizeof(sd), "%s/state", dir);
	struct err e = {0};
	struct qstate s = {0};
	s.id = xstrdup("0123456789abcdef");
	s.runtime = xstrdup("runc");
	s.name = xstrdup("web");
	s.pid = 4242;
	s.netns_path = xstrdup("/proc/4242/ns/net");
	s.netns_inode = 4026532331ull;
	s.created = xstrdup("2026-12-02T09:13:23.123456789Z");
	s.net = true;
	s.net_time = xstrdup("2026-12-02T09:13:23.223456789Z");
	s.netns_table = xstrdup("contain_q_0123456789ab");
	s.netns_handle = 7;
	s.host_table = xstrdup("contain_h_0123456789ab");
	s.host_handle = 9;
	s.ndevs = 1;
	s.devs = xcalloc(1, sizeof(*s.devs));
	snprintf(s.devs[0].ifname, IF_NAMESIZE, "veth9");
	s.devs[0].ifindex = 31;
	snprintf(s.devs[0].ctr_ifname, IF_NAMESIZE, "eth0");
	s.devs[0].ctr_ifindex = 2;
	s.nallow = 1;
	s.allow = xcalloc(1, sizeof(*s.allow));
	ck_assert_int_eq(ncut_allow_parse("[fd00::/64]:443", s.allow, &e), 0);
	s.nflog_group = 5;
	s.frozen = true;
	s.freeze_time = xstrdup("2026-12-02T09:13:24.000000001Z");
	s.freezer.kind = FRZ_CGROUP2;
	s.freezer.dir = xstrdup("/sys/fs/cgroup/unified/contain-test/web");
	ck_assert_int_eq(qstate_save(sd, &s, &e), 0);

	char path[128];
	snprintf(path, sizeof(path), "%s/0123456789abcdef.json", sd);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(sd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);

	struct qstate l;
	ck_assert_int_eq(qstate_load(sd, "0123456789abcdef", &l, &e), 0);
	ck_assert_str_eq(l.id, s.id);
	ck_assert_str_eq(l.name, "web");
	ck_assert_int_eq(l.pid, 4242);
	ck_assert_uint_eq(l.netns_inode, 4026532331ull);
	ck_assert(l.net && l.frozen);
	ck_assert_str_eq(l.netns_table, s.netns_table);
	ck_assert_uint_eq(l.netns_handle, 7);
	ck_assert_str_eq(l.host_table, s.host_table);
	ck_assert_uint_eq(l.host_handle, 9);
	ck_assert_uint_eq(l.ndevs, 1);
	ck_assert_str_eq(l.devs[0].ifname, "veth9");
	ck_assert_int_eq(l.devs[0].ifindex, 31);
	ck_assert_str_eq(l.devs[0].ctr_ifname, "eth0");
	ck_assert_uint_eq(l.nallow, 1);
	ck_assert_int_eq(memcmp(l.allow, s.allow, sizeof(*s.allow)), 0);
	ck_assert_uint_eq(l.nflog_group, 5);
	ck_assert_int_eq(l.freezer.kind, FRZ_CGROUP2);
	ck_assert_str_eq(l.freezer.dir, s.freezer.dir);
	/* and the JSON of both is the same */
	json_t *a = qstate_to_json(&s), *b = qstate_to_json(&l);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	qstate_free(&l);

	/* lookup by name and by prefix, for a container that is gone */
	char *id = NULL;
	ck_assert_int_eq(qstate_find(sd, "web", &id, &e), 0);
	ck_assert_str_eq(id, "0123456789abcdef");
	free(id);
	ck_assert_int_eq(qstate_find(sd, "0123", &id, &e), 0);
	free(id);
	ck_assert_int_eq(qstate_find(sd, "nope", &id, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);

	/* missing, hostile ids, malformed files */
	ck_assert_int_eq(qstate_load(sd, "absent", &l, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_int_eq(qstate_load(sd, "../etc/passwd", &l, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	FILE *f = fopen(path, "w");
	fputs("{\"version\":1,\"id\":\"0123456789abcdef\",\"network\":{},\"freeze\":{\"kind\":"
	      "\"cgroup2\",\"applied\":true,\"dir\":\"/etc\"}}",
	      f);
	fclose(f);
	ck_assert_int_eq(qstate_load(sd, "0123456789abcdef", &l, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	f = fopen(path, "w");
	fputs("{not json", f);
	fclose(f);
	ck_assert_int_eq(qstate_load(sd, "0123456789abcdef", &l, &e), -1);

	ck_assert_int_eq(qstate_remove(sd, "0123456789abcdef", &e), 0);
	ck_assert_int_eq(stat(path, &st), -1);
	qstate_free(&s);
	rmdir(sd);
	rmdir(dir);
}
END_TEST

/* the host table logs to a group of its own (groups of the host netns are
 * shared by every container), or not at all */
START_TEST(ruleset_host_nflog_group)
{
	struct ncut_dev d = {"veth1a2b", 12, "eth0", 2};
	struct err e = {0};
	struct ncut_opts o = {.nflog_group = 7700, .host_nflog_group = 40123};
	char *r = ncut_host_ruleset("contain_h_aabbccddeeff", &d, 1, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(count(r, "log prefix \"contain-q\" group 40123\n\t\tdrop\n"), 2);
	ck_assert_ptr_null(strstr(r, "group 7700"));
	free(r);
	r = ncut_netns_ruleset("contain_q_aabbccddeeff", &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(count(r, "log prefix \"contain-q\" group 7700\n\t\tdrop\n"), 4);
	ck_assert_ptr_null(strstr(r, "group 40123"));
	free(r);
	o.host_nflog_group = NCUT_NFLOG_OFF;
	r = ncut_host_ruleset("contain_h_aabbccddeeff", &d, 1, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(strstr(r, "log "));
	ck_assert_uint_eq(count(r, "\t\tdrop\n"), 2);
	free(r);
	o.host_nflog_group = 70000;
	ck_assert_ptr_null(ncut_host_ruleset("contain_h_aabbccddeeff", &d, 1, &o, &e));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("isolate");
	TCase *t = tcase_create("isolate");
	tcase_add_test(t, allow_parse_good);
	tcase_add_test(t, allow_parse_bad);
	tcase_add_test(t, table_names);
	tcase_add_test(t, ruleset_netns_plain);
	tcase_add_test(t, ruleset_allow_nflog_extra);
	tcase_add_test(t, ruleset_host);
	tcase_add_test(t, ruleset_host_nflog_group);
	tcase_add_test(t, freezer_parsing);
	tcase_add_test(t, state_round_trip);
	suite_add_tcase(s, t);
	return s;
}

/* test_isolate.c: the ruleset builder, --allow parsing, the state file,
 * freezer state parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/isolate.h"
#include "contain/sha256x.h"
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
	unsigned char key[NCUT_KEY_LEN], md[SHA256X_LEN];
	for (int i = 0; i < NCUT_KEY_LEN; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	const char *id = "0123456789abcdef0123";
	ncut_table_names(key, id, n, h);
	/* the host's from the id; the netns's is HMAC-SHA-256(key, id) */
	ck_assert_str_eq(h, "contain_h_0123456789ab");
	sha256x_hmac(key, sizeof(key), id, strlen(id), md);
	char want[NCUT_TABLE_MAX];
	snprintf(want, sizeof(want), "contain_q_%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2],
		 md[3], md[4], md[5]);
	ck_assert_str_eq(n, want);
	ck_assert_str_ne(n, "contain_q_0123456789ab"); /* not from the id alone */
	/* another key, another name; the same key, the same name */
	char n2[NCUT_TABLE_MAX], n3[NCUT_TABLE_MAX];
	key[0] ^= 1;
	ncut_table_names(key, id, n2, NULL);
	ck_assert_str_ne(n, n2);
	key[0] ^= 1;
	ncut_table_names(key, id, n3, NULL);
	ck_assert_str_eq(n, n3);
	/* no key: no netns name (nothing there can be ours) */
	ncut_table_names(NULL, id, n2, h);
	ck_assert_str_eq(n2, "");
	ck_assert_str_eq(h, "contain_h_0123456789ab");
	/* a name-like id is hashed: still 12 hex, distinct per id */
	ncut_table_names(key, "my-ctr", n, h);
	ncut_table_names(key, "my-ctr2", n2, NULL);
	ck_assert_uint_eq(strlen(n), strlen("contain_q_") + 12);
	ck_assert_uint_eq(strlen(h), strlen("contain_h_") + 12);
	ck_assert_str_ne(n, n2);
	for (const char *p = n + 10; *p; p++)
		ck_assert(strchr("0123456789abcdef", *p));
}
END_TEST

/* the state dir's key: made once, read back the same, and refused when it
 * is not a file we made */
START_TEST(netkey_file)
{
	char dir[128], sub[192], path[256];
	unit_tmpdir(dir, sizeof(dir), "netkey");
	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/" NCUT_KEY_FILE, sub);
	unsigned char k1[NCUT_KEY_LEN], k2[NCUT_KEY_LEN], zero[NCUT_KEY_LEN] = {0};
	struct err e = {0};
	ck_assert_int_eq(qstate_netkey(sub, false, k1, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	err_clear(&e);
	ck_assert_int_eq(qstate_netkey(sub, true, k1, &e), 0);
	ck_assert(memcmp(k1, zero, sizeof(zero)) != 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, NCUT_KEY_LEN);
	ck_assert_int_eq(qstate_netkey(sub, false, k2, &e), 0);
	ck_assert(memcmp(k1, k2, sizeof(k1)) == 0);
	ck_assert_int_eq(qstate_netkey(sub, true, k2, &e), 0); /* never remade */
	ck_assert(memcmp(k1, k2, sizeof(k1)) == 0);
	/* another dir, another key */
	char other[192];
	snprintf(other, sizeof(other), "%s/other", dir);
	ck_assert_int_eq(qstate_netkey(other, true, k2, &e), 0);
	ck_assert(memcmp(k1, k2, sizeof(k1)) != 0);
	/* readable by others: refused, not used */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(qstate_netkey(sub, true, k2, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert(strstr(e.msg, NCUT_KEY_FILE));
	err_clear(&e);
	ck_assert_int_eq(chmod(path, 0600), 0);
	/* another length */
	ck_assert_int_eq(truncate(path, NCUT_KEY_LEN + 1), 0);
	ck_assert_int_eq(qstate_netkey(sub, false, k2, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	err_clear(&e);
	/* a symlink to a good key elsewhere: refused (never followed) */
	char real[256];
	snprintf(real, sizeof(real), "%s/" NCUT_KEY_FILE, other);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(real, path), 0);
	ck_assert_int_eq(qstate_netkey(sub, true, k2, &e), -1);
	ck_assert_int_eq(e.kind, ERR_SYS);
	ck_assert_int_eq(e.errnum, ELOOP);
	err_clear(&e);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(ruleset_netns_plain)
{
	struct ncut_opts o = {0};
	struct err e = {0};
	char *r = ncut_netns_ruleset("contain_q_aabbccddeeff", &o, &e);
	ck_assert_ptr_nonnull(r);
	/* flat commands, one a line (netcut.c says why) */
	static const char want[] =
		"create table inet contain_q_aabbccddeeff\n"
		"add chain inet contain_q_aabbccddeeff prerouting { type filter hook prerouting "
		"priority -310; policy drop; }\n"
		"add rule inet contain_q_aabbccddeeff prerouting iif \"lo\" accept\n"
		"add rule inet contain_q_aabbccddeeff prerouting drop\n"
		"add chain inet contain_q_aabbccddeeff input { type filter hook input "
		"priority -310; policy drop; }\n"
		"add rule inet contain_q_aabbccddeeff input iif \"lo\" accept\n"
		"add rule inet contain_q_aabbccddeeff input drop\n"
		"add chain inet contain_q_aabbccddeeff forward { type filter hook forward "
		"priority -310; policy drop; }\n"
		"add rule inet contain_q_aabbccddeeff forward drop\n"
		"add chain inet contain_q_aabbccddeeff output { type filter hook output "
		"priority -310; policy drop; }\n"
		"add rule inet contain_q_aabbccddeeff output oif \"lo\" accept\n"
		"add rule inet contain_q_aabbccddeeff output drop\n";
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

/* rules "<pre> log prefix "contain-q" group G" each followed by "<pre> drop"
 * (the same chain): the flat ruleset's "log, then drop" */
static size_t logged_drops(const char *r, unsigned group)
{
	char tail[64];
	snprintf(tail, sizeof(tail), " log prefix \"contain-q\" group %u\n", group);
	size_t n = 0;
	for (const char *p = r; (p = strstr(p, tail)); p += strlen(tail)) {
		const char *bol = p;
		while (bol > r && bol[-1] != '\n')
			bol--;
		const char *next = p + strlen(tail);
		size_t pl = (size_t)(p - bol);
		if (strncmp(next, bol, pl) == 0 && strncmp(next + pl, " drop\n", 6) == 0)
			n++;
	}
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
	static const char *const ch[] = {"prerouting", "input", "forward", "output"};
	for (size_t i = 0; i < 4; i++) {
		char want[512];
		snprintf(want, sizeof(want),
			 "add rule inet contain_q_aabbccddeeff %s counter\n"
			 "add rule inet contain_q_aabbccddeeff %s log prefix \"contain-q\" group 7\n"
			 "add rule inet contain_q_aabbccddeeff %s drop\n",
			 ch[i], ch[i], ch[i]);
		ck_assert_ptr_nonnull(strstr(r, want));
	}
	ck_assert_uint_eq(logged_drops(r, 7), 4);
	ck_assert_uint_eq(count(r, " drop\n"), 4);
	ck_assert_ptr_null(strstr(r, "limit"));
	/* the accepts come before the drop in each chain */
	const char *fw = strstr(r, "add chain inet contain_q_aabbccddeeff forward");
	ck_assert(strstr(fw, "ip saddr") < strstr(fw, " forward drop\n"));
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
				    "add chain netdev contain_h_aabbccddeeff in_12 { type filter "
				    "hook ingress device \"veth1a2b\" priority -500; policy drop; "
				    "}\n"));
	ck_assert_ptr_nonnull(strstr(r, "add chain netdev contain_h_aabbccddeeff out_12 { type "
					"filter hook egress device \"veth1a2b\" priority -500; "
					"policy drop; }\n"));
	ck_assert_ptr_nonnull(strstr(r, "add chain netdev contain_h_aabbccddeeff in_40 {"));
	ck_assert_ptr_nonnull(strstr(r, "add chain netdev contain_h_aabbccddeeff out_40 {"));
	/* ingress is from the container: to the collector (daddr/dport) */
	const char *in = strstr(r, "add rule netdev contain_h_aabbccddeeff in_12 ip daddr"),
		   *out = strstr(r, "add chain netdev contain_h_aabbccddeeff out_12");
	ck_assert_ptr_nonnull(in);
	ck_assert(strstr(in, "ip daddr 10.213.9.1/32 meta l4proto { tcp, udp } th dport 9000") < out);
	ck_assert_ptr_nonnull(strstr(r, "add rule netdev contain_h_aabbccddeeff out_12 ip saddr "
					"10.213.9.1/32 meta l4proto { tcp, udp } th sport 9000"));
	ck_assert_uint_eq(count(r, " ether type arp accept\n"), 4);
	/* each of the four chains logs, then drops */
	ck_assert_uint_eq(logged_drops(r, 3), 4);
	ck_assert_uint_eq(count(r, " drop\n"), 4);
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
	/* /proc/PID/stat: the state after the last ')', whatever the comm */
	ck_assert_int_eq(frz_parse_stat_state("12 (sleep) S 1 12 12 0 -1"), 'S');
	ck_assert_int_eq(frz_parse_stat_state("12 (a) R (b) D 1 12"), 'D');
	ck_assert_int_eq(frz_parse_stat_state("12 (x) t 1"), 0);
	ck_assert_int_eq(frz_parse_stat_state("12 (x)"), 0);
	ck_assert_int_eq(frz_parse_stat_state("12 x R"), 0);
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
	ck_assert_uint_eq(logged_drops(r, 40123), 2);
	ck_assert_ptr_null(strstr(r, "group 7700"));
	free(r);
	r = ncut_netns_ruleset("contain_q_aabbccddeeff", &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(logged_drops(r, 7700), 4);
	ck_assert_ptr_null(strstr(r, "group 40123"));
	free(r);
	o.host_nflog_group = NCUT_NFLOG_OFF;
	r = ncut_host_ruleset("contain_h_aabbccddeeff", &d, 1, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(strstr(r, "log "));
	ck_assert_uint_eq(count(r, " drop\n"), 2);
	free(r);
	o.host_nflog_group = 70000;
	ck_assert_ptr_null(ncut_host_ruleset("contain_h_aabbccddeeff", &d, 1, &o, &e));
}
END_TEST

START_TEST(incarnation_decision)
{
	char why[256];
	struct qinc rec = {4242, 9000, 4026532331ull};
	struct qinc now = rec;
	ck_assert(qinc_same(&rec, &now, 0, why, sizeof(why)));
	ck_assert(qinc_same(&rec, &now, 4242, why, sizeof(why)));
	/* the pid is gone */
	ck_assert(!qinc_same(&rec, NULL, 0, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "gone"));
	/* the pid was reused: another start time */
	now.pid_start = 9001;
	ck_assert(!qinc_same(&rec, &now, 0, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "another process"));
	/* same process, another netns */
	now = rec;
	now.netns_inode = 4026532999ull;
	ck_assert(!qinc_same(&rec, &now, 0, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "netns"));
	/* the container has another init now (a new container, same id) */
	now = rec;
	ck_assert(!qinc_same(&rec, &now, 5000, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "init is pid 5000"));
	/* a version 1 state (no start time): the pid and netns decide */
	struct qinc v1 = {4242, 0, 4026532331ull};
	now = rec;
	ck_assert(qinc_same(&v1, &now, 0, why, sizeof(why)));
	/* nothing recorded */
	struct qinc none = {0, 0, 0};
	ck_assert(!qinc_same(&none, &now, 0, why, sizeof(why)));
}
END_TEST

START_TEST(incarnation_live)
{
	/* our own process is a live incarnation; a wrong start time is not */
	struct qinc me;
	struct err e = {0};
	char why[256];
	ck_assert_int_eq(qinc_read(getpid(), &me, &e), 0);
	ck_assert_uint_gt(me.pid_start, 0);
	ck_assert_uint_gt(me.netns_inode, 0);
	struct qstate s = {0};
	s.pid = getpid();
	s.pid_start = me.pid_start;
	s.netns_inode = me.netns_inode;
	ck_assert(qstate_live(&s, NULL, why, sizeof(why)));
	s.pid_start = me.pid_start + 1;
	ck_assert(!qstate_live(&s, NULL, why, sizeof(why)));
	/* a child that exited and was reaped: gone */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	s.pid = c;
	s.pid_start = 0;
	ck_assert(!qstate_live(&s, NULL, why, sizeof(why)));
	ck_assert_int_eq(qinc_read(c, &me, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
}
END_TEST

static struct qverify *mk_verify(bool netns, bool host, bool needed, bool frozen)
{
	static struct qverify v;
	memset(&v, 0, sizeof(v));
	v.net_checked = true;
	v.netns_exists = v.netns_table = netns;
	v.host_needed = needed;
	v.host_exists = v.host_table = host;
	v.ndevs = needed ? 1 : 0;
	v.net_cut = netns && (host || !needed);
	v.frozen = frozen;
	v.frozen_by = frozen ? FRZ_CGROUP2 : FRZ_NONE;
	return &v;
}

START_TEST(reconcile_plan)
{
	struct quarantine_opts o = {.net = true, .freeze = true};
	struct qstate s = {0};
	struct qplan p;
	/* nothing held, nothing recorded: apply all */
	quarantine_plan(&o, &s, false, mk_verify(false, false, true, false), &p);
	ck_assert(p.net && p.freeze && p.netns_add && p.host_add && !p.already);
	ck_assert(!p.netns_replace && !p.host_replace && !p.repair_net);
	/* the state says everything holds, the kernel holds nothing (the
	 * stale-state finding): never "already" */
	s.id = (char *)"x";
	s.net = s.frozen = true;
	s.netns_table = (char *)"contain_q_x";
	s.host_table = (char *)"contain_h_x";
	quarantine_plan(&o, &s, true, mk_verify(false, false, true, false), &p);
	ck_assert(!p.already && p.net && p.freeze && p.repair_net && p.repair_freeze);
	/* the same state, stale: applied, not reported as a repair */
	quarantine_plan(&o, &s, false, mk_verify(false, false, true, false), &p);
	ck_assert(!p.already && p.net && p.freeze && !p.repair_net && !p.repair_freeze);
	/* a stale state and a kernel that holds everything: recorded anew */
	quarantine_plan(&o, &s, false, mk_verify(true, true, true, true), &p);
	ck_assert(p.already && p.record_net && p.record_freeze);
	/* live state and kernel agree: already, nothing to do */
	quarantine_plan(&o, &s, true, mk_verify(true, true, true, true), &p);
	ck_assert(p.already && !p.record_net && !p.record_freeze && !p.net && !p.freeze);
	/* the host table is bound elsewhere (a reused device name): replaced,
	 * the netns table kept */
	struct qverify *v = mk_verify(true, false, true, true);
	v->host_exists = true;
	v->net_cut = false;
	quarantine_plan(&o, &s, true, v, &p);
	ck_assert(p.net && !p.netns_add && p.host_add && p.host_replace && !p.freeze);
	/* the netns table flushed inside (root in the container): re-added */
	v = mk_verify(false, true, true, true);
	quarantine_plan(&o, &s, true, v, &p);
	ck_assert(p.net && p.netns_add && !p.netns_replace && !p.host_add);
	/* a netns table whose policy was changed: replaced in one batch */
	v->netns_exists = true;
	quarantine_plan(&o, &s, true, v, &p);
	ck_assert(p.netns_add && p.netns_replace);
	/* no peer any more, a host table of its name: dropped */
	v = mk_verify(false, true, false, true);
	quarantine_plan(&o, &s, true, v, &p);
	ck_assert(p.net && p.host_drop && !p.host_add);
	/* tables held without a state (a killed run): recorded, nothing applied */
	struct qstate none = {0};
	o.freeze = false;
	quarantine_plan(&o, &none, false, mk_verify(true, true, true, false), &p);
	ck_assert(p.already && p.record_net && !p.record_freeze && !p.net);
}
END_TEST

/* a NEWTABLE reply (then an ACK) as the kernel sends it for a get of
 * contain_t, with NFTA_TABLE_FLAGS = flags and, when port, NFTA_TABLE_OWNER */
static size_t table_reply(unsigned char *buf, uint32_t seq, uint32_t flags, uint32_t port)
{
	size_t off = NLMSG_HDRLEN + 4; /* nfgenmsg */
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	memset(buf, 0, 256);
	struct {
		uint16_t type, len;
		const void *v;
	} a[] = {{1, 10, "contain_t"}, {2, 4, NULL}, {4, 8, NULL}, {7, 4, NULL}};
	uint32_t be_flags = htonl(flags), be_port = htonl(port);
	uint32_t handle[2] = {0, htonl(42)};
	a[1].v = &be_flags;
	a[2].v = handle;
	a[3].v = &be_port;
	for (size_t i = 0; i < (port ? 4u : 3u); i++) {
		struct nlattr *na = (struct nlattr *)(buf + off);
		na->nla_type = a[i].type;
		na->nla_len = (uint16_t)(NLA_HDRLEN + a[i].len);
		memcpy(buf + off + NLA_HDRLEN, a[i].v, a[i].len);
		off += NLA_ALIGN(na->nla_len);
	}
	h->nlmsg_len = (uint32_t)off;
	h->nlmsg_type = (10 /* NFNL_SUBSYS_NFTABLES */ << 8) | 0 /* NEWTABLE */;
	h->nlmsg_seq = seq;
	buf[NLMSG_HDRLEN] = 1; /* NFPROTO_INET */
	struct nlmsghdr *ack = (struct nlmsghdr *)(buf + off);
	ack->nlmsg_len = NLMSG_HDRLEN + sizeof(struct nlmsgerr);
	ack->nlmsg_type = NLMSG_ERROR;
	ack->nlmsg_seq = seq;
	return off + ack->nlmsg_len;
}

/* a table with the nftables owner flag is held by some program's socket:
 * the read-back says so, and never takes it for our cut */
START_TEST(readback_owned_table)
{
	unsigned char buf[256];
	struct ncut_table_info ti;
	size_t nn;
	struct err e = {0};
	size_t len = table_reply(buf, 7, 0x2, 4242);
	ck_assert_int_eq(nfnl_parse_replies(buf, len, 7, "contain_t", false, &ti, &nn, &e), 0);
	ck_assert(ti.exists && ti.owned);
	ck_assert_uint_eq(ti.owner, 4242);
	ck_assert_uint_eq(ti.handle, 42);
	len = table_reply(buf, 7, 0, 0);
	ck_assert_int_eq(nfnl_parse_replies(buf, len, 7, "contain_t", false, &ti, &nn, &e), 0);
	ck_assert(ti.exists && !ti.owned);
	/* a host table bound as ours, but owned: not ours */
	struct ncut_dev d = {.ifindex = 9};
	snprintf(d.ifname, sizeof(d.ifname), "veth9");
	memset(&ti, 0, sizeof(ti));
	ti.exists = true;
	ti.ndrop = ti.nbound = 2;
	for (int k = 0; k < 2; k++) {
		ti.bound[k].ifindex = 9;
		ti.bound[k].egress = k;
		snprintf(ti.bound[k].dev, sizeof(ti.bound[k].dev), "veth9");
	}
	ck_assert(ncut_host_table_matches(&ti, &d, 1));
	ti.owned = true;
	ck_assert(!ncut_host_table_matches(&ti, &d, 1));
}
END_TEST

START_TEST(netdev_listing)
{
	static const char txt[] =
		"table netdev contain_h_0123456789ab {\n"
		"\tchain in_31 {\n"
		"\t\ttype filter hook ingress device \"veth9\" priority -500; policy drop;\n"
		"\t\tdrop\n"
		"\t}\n"
		"\tchain out_31 {\n"
		"\t\ttype filter hook egress device \"veth9\" priority -500; policy drop;\n"
		"\t\tdrop\n"
		"\t}\n"
		"}\n";
	struct ncut_table_info ti;
	memset(&ti, 0, sizeof(ti));
	ck_assert_int_eq(ncut_parse_netdev_listing(txt, &ti), 0);
	ck_assert_uint_eq(ti.nbound, 2);
	ck_assert_str_eq(ti.bound[0].chain, "in_31");
	ck_assert_str_eq(ti.bound[0].dev, "veth9");
	ck_assert_int_eq(ti.bound[0].ifindex, 31);
	ck_assert(!ti.bound[0].egress && ti.bound[1].egress);
	ti.exists = true;
	ti.ndrop = 2;
	struct ncut_dev d = {"veth9", 31, "eth0", 2};
	ck_assert(ncut_host_table_matches(&ti, &d, 1));
	/* the same name on another device (the name was reused) */
	d.ifindex = 77;
	ck_assert(!ncut_host_table_matches(&ti, &d, 1));
	d.ifindex = 31;
	snprintf(d.ifname, sizeof(d.ifname), "veth10");
	ck_assert(!ncut_host_table_matches(&ti, &d, 1));
	snprintf(d.ifname, sizeof(d.ifname), "veth9");
	/* a chain whose policy is not drop */
	ti.ndrop = 1;
	ck_assert(!ncut_host_table_matches(&ti, &d, 1));
	ti.ndrop = 2;
	/* a second peer the table does not cover */
	struct ncut_dev two[2] = {d, {"veth11", 40, "eth1", 3}};
	ck_assert(!ncut_host_table_matches(&ti, two, 2));
	/* hostile text: long lines, no quotes, garbage */
	memset(&ti, 0, sizeof(ti));
	char big[8192];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ncut_parse_netdev_listing(big, &ti), 0);
	ck_assert_uint_eq(ti.nbound, 0);
	ck_assert_int_eq(ncut_parse_netdev_listing("chain x {\ntype filter hook ingress device "
						   "\"aaaaaaaaaaaaaaaaaaaaaaaa\" priority 0;\n",
						   &ti),
			 0);
	ck_assert_uint_eq(ti.nbound, 0);
}
END_TEST

START_TEST(state_dir_housekeeping)
{
	char dir[] = "/tmp/test_isolate.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct err e = {0};
	char p[256];
	/* a temp file of a dead writer goes, ours and a live one's stay */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(p, sizeof(p), "%s/x.json.tmp.%d", dir, (int)dead);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/x.json.tmp.%d", dir, (int)getpid());
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/x.json.tmp.1", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	/* and a netns key a dead maker left half made */
	snprintf(p, sizeof(p), "%s/" NCUT_KEY_FILE ".tmp.%d", dir, (int)dead);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	size_t n = 0;
	ck_assert_int_eq(qstate_clean_tmp(dir, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/x.json.tmp.%d", dir, (int)dead);
	ck_assert_int_eq(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/x.json.tmp.1", dir);
	ck_assert_int_eq(access(p, F_OK), 0);
	unlink(p);
	snprintf(p, sizeof(p), "%s/x.json.tmp.%d", dir, (int)getpid());
	unlink(p);

	/* the lock: removed by its holder; a waiter on the old inode takes
	 * the lock on the new file, never on the unlinked one */
	int fd = qstate_lock(dir, "x", &e);
	ck_assert_int_ge(fd, 0);
	int pp[2];
	ck_assert_int_eq(pipe(pp), 0);
	pid_t w = fork();
	if (w == 0) {
		close(pp[0]);
		close(fd); /* the parent's lock (one open file description) */
		struct err ce = {0};
		int cfd = qstate_lock(dir, "x", &ce);
		struct stat a, b;
		char lp[256];
		snprintf(lp, sizeof(lp), "%s/x.lock", dir);
		char ok = cfd >= 0 && fstat(cfd, &a) == 0 && stat(lp, &b) == 0 &&
			  a.st_ino == b.st_ino;
		(void)!write(pp[1], &ok, 1);
		_exit(0);
	}
	close(pp[1]);
	usleep(100000); /* the child waits on the old inode */
	ck_assert_int_eq(qstate_unlock_remove(dir, "x", fd, &e), 0);
	char ok = 0;
	ck_assert_int_eq(read(pp[0], &ok, 1), 1);
	ck_assert_int_eq(ok, 1);
	waitpid(w, NULL, 0);
	close(pp[0]);
	snprintf(p, sizeof(p), "%s/x.lock", dir);
	unlink(p);
	rmdir(dir);
}
END_TEST

START_TEST(state_v2_incarnation)
{
	char dir[] = "/tmp/test_isolate.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct err e = {0};
	struct qstate s = {0}, l;
	s.id = xstrdup("abc");
	s.pid = 77;
	s.pid_start = 123456;
	s.netns_inode = 99;
	s.cg_unified = xstrdup("/sys/fs/cgroup/unified/x/abc");
	s.cg_freezer = xstrdup("/sys/fs/cgroup/freezer/x/abc");
	ck_assert_int_eq(qstate_save(dir, &s, &e), 0);
	ck_assert_int_eq(qstate_load(dir, "abc", &l, &e), 0);
	ck_assert_uint_eq(l.pid_start, 123456);
	ck_assert_str_eq(l.cg_unified, s.cg_unified);
	ck_assert_str_eq(l.cg_freezer, s.cg_freezer);
	qstate_free(&l);
	/* a version 1 state loads, its start time unknown */
	char p[256];
	snprintf(p, sizeof(p), "%s/abc.json", dir);
	FILE *f = fopen(p, "w");
	fputs("{\"version\":1,\"id\":\"abc\",\"pid\":77,\"network\":{},\"freeze\":{\"kind\":"
	      "\"none\"}}",
	      f);
	fclose(f);
	ck_assert_int_eq(qstate_load(dir, "abc", &l, &e), 0);
	ck_assert_uint_eq(l.pid_start, 0);
	ck_assert_int_eq(l.pid, 77);
	qstate_free(&l);
	/* an incarnation that contradicts the pid is refused */
	f = fopen(p, "w");
	fputs("{\"version\":2,\"id\":\"abc\",\"pid\":77,\"incarnation\":{\"pid\":78},"
	      "\"network\":{},\"freeze\":{\"kind\":\"none\"}}",
	      f);
	fclose(f);
	ck_assert_int_eq(qstate_load(dir, "abc", &l, &e), -1);
	unlink(p);
	qstate_free(&s);
	rmdir(dir);
}
END_TEST

/* A process in the netns being read (root in a container) cannot answer
 * for the kernel: the read-back's socket is connected to the kernel, which
 * refuses a unicast to it from any other socket. A forger thread finds the
 * other netfilter netlink sockets in /proc/net/netlink (as such a process
 * could) and sends each a forged "table exists" with a run of sequence
 * numbers, while the read-back of a table that does not exist runs. */
struct forger {
	atomic_bool stop;
	atomic_int refused, delivered;
};

static void *forge(void *p)
{
	struct forger *f = p;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct sockaddr_nl me = {.nl_family = AF_NETLINK};
	socklen_t ml = sizeof(me);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) < 0)
		return NULL;
	/* NEWTABLE name=contain_t then an ACK, for 64 sequence numbers */
	enum { ONE = NLMSG_ALIGN(NLMSG_LENGTH(4 + 4 + 12)) +
		     NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct nlmsgerr))) };
	static unsigned char msg[64 * ONE];
	size_t len = 0;
	for (uint32_t seq = 0; seq < 64; seq++) {
		struct nlmsghdr *h = (struct nlmsghdr *)(msg + len);
		h->nlmsg_len = NLMSG_LENGTH(4 + 4 + 12);
		h->nlmsg_type = (10 << 8) | 0; /* NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWTABLE */
		h->nlmsg_seq = seq;
		unsigned char *b = NLMSG_DATA(h);
		b[0] = 1; /* NFPROTO_INET */
		struct nlattr *a = (struct nlattr *)(b + 4);
		a->nla_len = 4 + 10;
		a->nla_type = 1; /* NFTA_TABLE_NAME */
		memcpy(a + 1, "contain_t", 10);
		len += NLMSG_ALIGN(h->nlmsg_len);
		h = (struct nlmsghdr *)(msg + len);
		h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
		h->nlmsg_type = NLMSG_ERROR;
		h->nlmsg_seq = seq;
		len += NLMSG_ALIGN(h->nlmsg_len);
	}
	while (!atomic_load(&f->stop)) {
		FILE *pn = fopen("/proc/net/netlink", "re");
		char line[256];
		while (pn && fgets(line, sizeof(line), pn)) {
			int proto;
			unsigned pid;
			if (sscanf(line, "%*s %d %u", &proto, &pid) != 2 || proto != NETLINK_NETFILTER ||
			    pid == 0 || pid == me.nl_pid)
				continue;
			struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = pid};
			if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
				atomic_fetch_add(&f->delivered, 1);
			else if (errno == ECONNREFUSED)
				atomic_fetch_add(&f->refused, 1);
		}
		if (pn)
			fclose(pn);
	}
	close(fd);
	return NULL;
}

START_TEST(readback_refuses_forged_replies)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		struct forger f = {0};
		pthread_t t;
		if (pthread_create(&t, NULL, forge, &f) != 0)
			_exit(2);
		int bad = 0;
		double end = time_mono() + 10;
		while (time_mono() < end && atomic_load(&f.refused) < 20 && !bad) {
			struct ncut_table_info ti;
			struct err e = {0};
			if (nfnl_table_info("inet", "contain_t", &ti, &e) < 0 || ti.exists)
				bad = 1;
		}
		atomic_store(&f.stop, true);
		pthread_join(t, NULL);
		fprintf(stderr, "forged replies: %d refused, %d delivered\n",
			atomic_load(&f.refused), atomic_load(&f.delivered));
		_exit(bad ? 3 : atomic_load(&f.delivered) ? 4 : atomic_load(&f.refused) ? 0 : 5);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("isolate");
	TCase *t = tcase_create("isolate");
	tcase_add_test(t, allow_parse_good);
	tcase_add_test(t, allow_parse_bad);
	tcase_add_test(t, table_names);
	tcase_add_test(t, netkey_file);
	tcase_add_test(t, ruleset_netns_plain);
	tcase_add_test(t, ruleset_allow_nflog_extra);
	tcase_add_test(t, ruleset_host);
	tcase_add_test(t, ruleset_host_nflog_group);
	tcase_add_test(t, freezer_parsing);
	tcase_add_test(t, state_round_trip);
	tcase_add_test(t, incarnation_decision);
	tcase_add_test(t, incarnation_live);
	tcase_add_test(t, reconcile_plan);
	tcase_add_test(t, netdev_listing);
	tcase_add_test(t, state_dir_housekeeping);
	tcase_add_test(t, state_v2_incarnation);
	tcase_add_test(t, readback_refuses_forged_replies);
	tcase_add_test(t, readback_owned_table);
	suite_add_tcase(s, t);
	return s;
}

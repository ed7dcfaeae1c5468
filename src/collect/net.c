/* net.c: network/state.json, the container's network namespace as the
 * kernel sees it.
 *
 * Socket tables come from /proc/PID/net/{tcp,udp,...} of a container pid (those files
 * are per netns already: no setns needed). Interfaces, addresses, routes,
 * neighbours (rtnetlink) and the nftables ruleset (libnftables) need
 * sockets created inside the netns: a dedicated thread enters it with
 * setns(CLONE_NEWNET), which moves only that thread, and opens them there.
 * resolv.conf and hosts are read inside the container's root through
 * safe_read_in_root on /proc/PID/root, so a symlink cannot lead out and a
 * FIFO planted there is refused (noted), never opened for reading. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <nftables/libnftables.h>

#include "contain/collect.h"
#include "contain/safefs.h"

#define NET_TABLE_MAX (32u << 20) /* one /proc/net table */

#define _cleanup_json_ _cleanup_(json_decrefp) /* jansson's own */


/* ---- /proc/net tables ---- */

static const char *tcp_state_name(unsigned st)
{
	static const char *const n[] = {
		"UNKNOWN",   "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT",   "CLOSE",    "CLOSE_WAIT", "LAST_ACK",
		"LISTEN",    "CLOSING",	    "NEW_SYN_RECV",
	};
	return st < ARRAY_SIZE(n) ? n[st] : "UNKNOWN";
}

static int hex_u32(const char *s, size_t n, uint32_t *out)
{
	if (n == 0 || n > 8)
		return -1;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* "0100007F:1F90" or the 32-hex-digit v6 form: address text and port */
static int parse_addr_port(const char *tok, char *addr, size_t addrsz, unsigned *port)
{
	const char *colon = strchr(tok, ':');
	if (!colon)
		return -1;
	size_t hl = (size_t)(colon - tok);
	uint32_t p;
	if (hex_u32(colon + 1, strlen(colon + 1), &p) < 0 || p > 65535)
		return -1;
	*port = p;
	if (hl == 8) {
		struct in_addr a;
		uint32_t w;
		if (hex_u32(tok, 8, &w) < 0)
			return -1;
		a.s_addr = w; /* the kernel prints the word in host order */
		return inet_ntop(AF_INET, &a, addr, (socklen_t)addrsz) ? 0 : -1;
	}
	if (hl == 32) {
		struct in6_addr a;
		for (int i = 0; i < 4; i++) {
			uint32_t w;
			if (hex_u32(tok + 8 * i, 8, &w) < 0)
				return -1;
			memcpy(&a.s6_addr[4 * i], &w, 4);
		}
		return inet_ntop(AF_INET6, &a, addr, (socklen_t)addrsz) ? 0 : -1;
	}
	return -1;
}

#define MAX_TOK 16

static size_t tokenize(char *s, char **tok, size_t max, char **rest_after)
{
	size_t n = 0;
	char *p = s;
	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (*p) {
			*p++ = '\0';
		}
	}
	if (rest_after)
		*rest_after = p;
	return n;
}

static int parse_ullhex(const char *s, unsigned long long *v)
{
	char *end = NULL;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_inet_line(const char *proto, char *line, json_t **out, struct err *e)
{
	char *tok[MAX_TOK];
	size_t n = tokenize(line, tok, MAX_TOK, NULL);
	if (n == 0)
		return 1;
	if (strcmp(tok[0], "sl") == 0)
		return 1;
	if (n < 10)
		return err_set(e, ERR_INVALID, "short %s line", proto);
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	unsigned lp, rp;
	uint32_t st;
	unsigned long long uid, ino;
	if (parse_addr_port(tok[1], la, sizeof(la), &lp) < 0 ||
	    parse_addr_port(tok[2], ra, sizeof(ra), &rp) < 0)
		return err_set(e, ERR_INVALID, "malformed %s address", proto);
	if (hex_u32(tok[3], strlen(tok[3]), &st) < 0)
		return err_set(e, ERR_INVALID, "malformed %s state", proto);
	if (parse_ull(tok[7], ULLONG_MAX, &uid) < 0 || parse_ull(tok[9], ULLONG_MAX, &ino) < 0)
		return err_set(e, ERR_INVALID, "malformed %s uid or inode", proto);
	json_t *o = json_object();
	json_object_set_new(o, "proto", json_string(proto));
	json_object_set_new(o, "family", json_string(strchr(la, ':') ? "inet6" : "inet"));
	json_object_set_new(o, "local", json_string(la));
	json_object_set_new(o, "lport", json_integer(lp));
	json_object_set_new(o, "remote", json_string(ra));
	json_object_set_new(o, "rport", json_integer(rp));
	const char *sn = tcp_state_name(st);
	if (!str_has_prefix(proto, "tcp")) {
		if (st == 7)
			sn = "UNCONN";
		else if (st == 1)
			sn = "ESTABLISHED";
	}
	json_object_set_new(o, "state", json_string(sn));
	char *colon = strchr(tok[4], ':');
	unsigned long long tx, rx;
	if (colon) {
		*colon = '\0';
		if (parse_ullhex(tok[4], &tx) == 0 && parse_ullhex(colon + 1, &rx) == 0) {
			json_object_set_new(o, "tx_queue", json_integer((json_int_t)tx));
			json_object_set_new(o, "rx_queue", json_integer((json_int_t)rx));
		}
	}
	json_object_set_new(o, "uid", json_integer((json_int_t)uid));
	json_object_set_new(o, "inode", json_integer((json_int_t)ino));
	*out = o;
	return 0;
}

static int parse_unix_line(char *line, json_t **out, struct err *e)
{
	char *tok[8];
	char *rest = NULL;
	size_t n = tokenize(line, tok, 7, &rest);
	if (n == 0)
		return 1;
	if (strcmp(tok[0], "Num") == 0)
		return 1;
	if (n < 7)
		return err_set(e, ERR_INVALID, "short unix line");
	unsigned long long flags, type, st, ino;
	if (parse_ullhex(tok[3], &flags) < 0 || parse_ullhex(tok[4], &type) < 0 ||
	    parse_ullhex(tok[5], &st) < 0 || parse_ull(tok[6], ULLONG_MAX, &ino) < 0)
		return err_set(e, ERR_INVALID, "malformed unix line");
	static const char *const types[] = {"?", "stream", "dgram", "raw", "rdm", "seqpacket"};
	static const char *const states[] = {"FREE", "UNCONNECTED", "CONNECTING", "CONNECTED",
					     "DISCONNECTING"};
	json_t *o = json_object();
	json_object_set_new(o, "proto", json_string("unix"));
	json_object_set_new(o, "family", json_string("unix"));
	json_object_set_new(o, "type", json_string(type < ARRAY_SIZE(types) ? types[type] : "?"));
	bool listen = (flags & 0x10000) != 0; /* __SO_ACCEPTCON */
	json_object_set_new(o, "state",
			    json_string(listen ? "LISTEN"
					       : st < ARRAY_SIZE(states) ? states[st] : "UNKNOWN"));
	json_object_set_new(o, "inode", json_integer((json_int_t)ino));
	while (rest && (*rest == ' ' || *rest == '\t'))
		rest++;
	if (rest && *rest) {
		size_t l = strcspn(rest, "\n");
		json_object_set_new(o, "path", collect_json_text(rest, l));
	}
	*out = o;
	return 0;
}

static int parse_packet_line(char *line, json_t **out, struct err *e)
{
	char *tok[MAX_TOK];
	size_t n = tokenize(line, tok, MAX_TOK, NULL);
	if (n == 0)
		return 1;
	if (strcmp(tok[0], "sk") == 0)
		return 1;
	if (n < 9)
		return err_set(e, ERR_INVALID, "short packet line");
	long long type, ifindex;
	unsigned long long proto, uid, ino;
	if (parse_ll(tok[2], 0, INT_MAX, &type) < 0 || parse_ullhex(tok[3], &proto) < 0 ||
	    parse_ll(tok[4], -1, INT_MAX, &ifindex) < 0 || parse_ull(tok[7], ULLONG_MAX, &uid) < 0 ||
	    parse_ull(tok[8], ULLONG_MAX, &ino) < 0)
		return err_set(e, ERR_INVALID, "malformed packet line");
	json_t *o = json_object();
	json_object_set_new(o, "proto", json_string("packet"));
	json_object_set_new(o, "family", json_string("packet"));
	json_object_set_new(o, "type", json_string(type == 3 ? "raw" : type == 2 ? "dgram" : "?"));
	char ph[16];
	snprintf(ph, sizeof(ph), "0x%04llx", proto & 0xffff);
	json_object_set_new(o, "protocol", json_string(ph));
	json_object_set_new(o, "ifindex", json_integer(ifindex));
	json_object_set_new(o, "uid", json_integer((json_int_t)uid));
	json_object_set_new(o, "inode", json_integer((json_int_t)ino));
	*out = o;
	return 0;
}

int collect_net_parse_line(const char *proto, const char *line, json_t **out, struct err *e)
{
	*out = NULL;
	_cleanup_free_ char *copy = xstrndup(line, 4096);
	if (strcmp(proto, "unix") == 0)
		return parse_unix_line(copy, out, e);
	if (strcmp(proto, "packet") == 0)
		return parse_packet_line(copy, out, e);
	static const char *const inet[] = {"tcp", "tcp6", "udp", "udp6", "udplite", "udplite6",
					   "raw", "raw6"};
	for (size_t i = 0; i < ARRAY_SIZE(inet); i++)
		if (strcmp(proto, inet[i]) == 0)
			return parse_inet_line(proto, copy, out, e);
	return err_set(e, ERR_INVALID, "unknown socket table '%s'", proto);
}

json_t *collect_net_sockets(pid_t pid, json_t *notes)
{
	static const char *const tables[] = {"tcp", "tcp6", "udp", "udp6", "raw", "raw6",
					     "unix", "packet"};
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/net", (int)pid);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	json_t *r = json_object();
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		char *buf = NULL;
		size_t len;
		bool trunc = false;
		struct err e = {0};
		if (read_file_at(dfd, tables[t], NET_TABLE_MAX, &buf, &len, &trunc, &e) < 0) {
			if (e.errnum != ENOENT) /* a table of a protocol not built in */
				collect_note(notes, "socket table '%s' of pid %d: %s", tables[t], (int)pid,
				     e.msg);
			continue;
		}
		if (trunc)
			collect_note(notes, "socket table '%s' cut at %u bytes", tables[t], NET_TABLE_MAX);
		size_t bad = 0;
		char *save = NULL;
		for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			json_t *s = NULL;
			int rc = collect_net_parse_line(tables[t], l, &s, &e);
			if (rc < 0) {
				bad++;
				continue;
			}
			if (rc > 0)
				continue;
			char k[32];
			snprintf(k, sizeof(k), "%lld",
				 (long long)json_integer_value(json_object_get(s, "inode")));
			/* inode 0: a socket being torn down (TIME_WAIT); keep them in a list */
			if (strcmp(k, "0") == 0) {
				json_t *z = json_object_get(r, "0");
				if (!z) {
					z = json_array();
					json_object_set_new(r, "0", z);
				}
				json_array_append_new(z, s);
			} else {
				json_object_set_new(r, k, s);
			}
		}
		if (bad)
			collect_note(notes, "socket table '%s': %zu malformed lines skipped", tables[t], bad);
		free(buf);
	}
	return r;
}

/* ---- rtnetlink, inside the netns ---- */

static json_t *nl_addr(int family, const void *p, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	if ((family == AF_INET && n == 4) || (family == AF_INET6 && n == 16))
		if (inet_ntop(family, p, buf, sizeof(buf)))
			return json_string(buf);
	return NULL;
}

static json_t *nl_lladdr(const unsigned char *p, size_t n)
{
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; i < n && i < 32; i++)
		sbuf_printf(&b, i ? ":%02x" : "%02x", p[i]);
	json_t *j = json_string(b.buf ? b.buf : "");
	sbuf_free(&b);
	return j;
}

typedef void (*nl_cb)(struct nlmsghdr *h, json_t *arr);

static int nl_dump(int fd, uint16_t type, size_t hdrlen, unsigned char family, nl_cb cb,
		   json_t *arr, struct err *e)
{
	static unsigned seq;
	struct {
		struct nlmsghdr h;
		unsigned char body[64];
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	req.body[0] = family;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_sys(e, errno, "netlink send");
	_cleanup_free_ char *buf = xmalloc(1 << 16);
	size_t msgs = 0;
	for (;;) {
		ssize_t r = recv(fd, buf, 1 << 16, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, errno, "netlink recv");
		}
		if (r == 0)
			return err_set(e, ERR_INVALID, "netlink closed");
		size_t len = (size_t)r;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *ne = NLMSG_DATA(h);
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ne)) && ne->error)
					return err_sys(e, -ne->error, "netlink dump");
				return 0;
			}
			if (++msgs > 100000)
				return err_set(e, ERR_INVALID, "netlink dump too long");
			cb(h, arr);
		}
	}
}

#define RTA_FOREACH(rta, start, len)                                                      \
	for (struct rtattr *rta = (start); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))

static void link_cb(struct nlmsghdr *h, json_t *arr)
{
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(ifi->ifi_index));
	json_object_set_new(o, "type", json_integer(ifi->ifi_type));
	json_t *fl = json_array();
	static const struct {
		unsigned bit;
		const char *n;
	} flags[] = {{IFF_UP, "UP"},	     {IFF_BROADCAST, "BROADCAST"}, {IFF_LOOPBACK, "LOOPBACK"},
		     {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_RUNNING, "RUNNING"},
		     {IFF_NOARP, "NOARP"},   {IFF_PROMISC, "PROMISC"},	   {IFF_MULTICAST, "MULTICAST"},
		     {1u << 16 /* IFF_LOWER_UP */, "LOWER_UP"}};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (ifi->ifi_flags & flags[i].bit)
			json_array_append_new(fl, json_string(flags[i].n));
	json_object_set_new(o, "flags", fl);
	RTA_FOREACH(a, IFLA_RTA(ifi), len)
	{
		size_t pl = RTA_PAYLOAD(a);
		void *p = RTA_DATA(a);
		switch (a->rta_type) {
		case IFLA_IFNAME:
			json_object_set_new(o, "name", collect_json_text(p, strnlen(p, pl)));
			break;
		case IFLA_ADDRESS:
			json_object_set_new(o, "mac", nl_lladdr(p, pl));
			break;
		case IFLA_MTU:
			if (pl >= 4)
				json_object_set_new(o, "mtu", json_integer(*(uint32_t *)p));
			break;
		case IFLA_OPERSTATE:
			if (pl >= 1) {
				static const char *const os[] = {"UNKNOWN", "NOTPRESENT", "DOWN",
								 "LOWERLAYERDOWN", "TESTING",
								 "DORMANT", "UP"};
				unsigned v = *(unsigned char *)p;
				json_object_set_new(o, "operstate",
						    json_string(v < ARRAY_SIZE(os) ? os[v] : "?"));
			}
			break;
		case IFLA_LINK_NETNSID:
			if (pl >= 4)
				json_object_set_new(o, "link_netnsid", json_integer(*(int32_t *)p));
			break;
		case IFLA_LINKINFO: {
			int il = (int)pl;
			RTA_FOREACH(b, (struct rtattr *)p, il)
			{
				if (b->rta_type == IFLA_INFO_KIND)
					json_object_set_new(o, "kind",
							    collect_json_text(RTA_DATA(b),
									      strnlen(RTA_DATA(b),
										      RTA_PAYLOAD(b))));
			}
			break;
		}
		case IFLA_STATS64:
			if (pl >= sizeof(struct rtnl_link_stats64)) {
				struct rtnl_link_stats64 s;
				memcpy(&s, p, sizeof(s));
				json_t *c = json_object();
				json_object_set_new(c, "rx_packets", json_integer((json_int_t)s.rx_packets));
				json_object_set_new(c, "tx_packets", json_integer((json_int_t)s.tx_packets));
				json_object_set_new(c, "rx_bytes", json_integer((json_int_t)s.rx_bytes));
				json_object_set_new(c, "tx_bytes", json_integer((json_int_t)s.tx_bytes));
				json_object_set_new(c, "rx_errors", json_integer((json_int_t)s.rx_errors));
				json_object_set_new(c, "tx_errors", json_integer((json_int_t)s.tx_errors));
				json_object_set_new(c, "rx_dropped", json_integer((json_int_t)s.rx_dropped));
				json_object_set_new(c, "tx_dropped", json_integer((json_int_t)s.tx_dropped));
				json_object_set_new(o, "counters", c);
			}
			break;
		}
	}
	json_object_set_new(o, "addresses", json_array());
	json_array_append_new(arr, o);
}

static void addr_cb(struct nlmsghdr *h, json_t *arr)
{
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)));
	json_t *o = json_object();
	json_object_set_new(o, "family", json_string(ifa->ifa_family == AF_INET6 ? "inet6" : "inet"));
	json_object_set_new(o, "prefixlen", json_integer(ifa->ifa_prefixlen));
	json_object_set_new(o, "index", json_integer(ifa->ifa_index));
	json_object_set_new(o, "scope", json_integer(ifa->ifa_scope));
	RTA_FOREACH(a, IFA_RTA(ifa), len)
	{
		json_t *v;
		switch (a->rta_type) {
		case IFA_ADDRESS:
			if ((v = nl_addr(ifa->ifa_family, RTA_DATA(a), RTA_PAYLOAD(a))))
				json_object_set_new(o, json_object_get(o, "address") ? "peer" : "address", v);
			break;
		case IFA_LOCAL:
			/* for point-to-point IFA_LOCAL is the address, IFA_ADDRESS the peer */
			if ((v = nl_addr(ifa->ifa_family, RTA_DATA(a), RTA_PAYLOAD(a)))) {
				json_t *old = json_object_get(o, "address");
				if (old && !json_equal(old, v))
					json_object_set(o, "peer", old);
				json_object_set_new(o, "address", v);
			}
			break;
		case IFA_LABEL:
			json_object_set_new(o, "label",
					    collect_json_text(RTA_DATA(a),
							      strnlen(RTA_DATA(a), RTA_PAYLOAD(a))));
			break;
		}
	}
	json_array_append_new(arr, o);
}

static void route_cb(struct nlmsghdr *h, json_t *arr)
{
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return;
	struct rtmsg *rt = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt)));
	json_t *o = json_object();
	json_object_set_new(o, "family", json_string(rt->rtm_family == AF_INET6 ? "inet6" : "inet"));
	json_object_set_new(o, "dst_len", json_integer(rt->rtm_dst_len));
	json_object_set_new(o, "table", json_integer(rt->rtm_table));
	json_object_set_new(o, "protocol", json_integer(rt->rtm_protocol));
	json_object_set_new(o, "scope", json_integer(rt->rtm_scope));
	json_object_set_new(o, "type", json_integer(rt->rtm_type));
	RTA_FOREACH(a, RTM_RTA(rt), len)
	{
		json_t *v;
		size_t pl = RTA_PAYLOAD(a);
		switch (a->rta_type) {
		case RTA_DST:
			if ((v = nl_addr(rt->rtm_family, RTA_DATA(a), pl)))
				json_object_set_new(o, "dst", v);
			break;
		case RTA_GATEWAY:
			if ((v = nl_addr(rt->rtm_family, RTA_DATA(a), pl)))
				json_object_set_new(o, "gateway", v);
			break;
		case RTA_PREFSRC:
			if ((v = nl_addr(rt->rtm_family, RTA_DATA(a), pl)))
				json_object_set_new(o, "prefsrc", v);
			break;
		case RTA_OIF:
			if (pl >= 4)
				json_object_set_new(o, "oif", json_integer(*(uint32_t *)RTA_DATA(a)));
			break;
		case RTA_PRIORITY:
			if (pl >= 4)
				json_object_set_new(o, "metric", json_integer(*(uint32_t *)RTA_DATA(a)));
			break;
		case RTA_TABLE:
			if (pl >= 4)
				json_object_set_new(o, "table", json_integer(*(uint32_t *)RTA_DATA(a)));
			break;
		}
	}
	if (!json_object_get(o, "dst"))
		json_object_set_new(o, "dst", json_string("default"));
	json_array_append_new(arr, o);
}

static void neigh_cb(struct nlmsghdr *h, json_t *arr)
{
	if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
		return;
	struct ndmsg *nd = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	json_t *o = json_object();
	json_object_set_new(o, "family", json_string(nd->ndm_family == AF_INET6 ? "inet6" : "inet"));
	json_object_set_new(o, "index", json_integer(nd->ndm_ifindex));
	json_object_set_new(o, "state", json_integer(nd->ndm_state));
	static const struct {
		unsigned bit;
		const char *n;
	} st[] = {{NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
		  {NUD_DELAY, "DELAY"},		  {NUD_PROBE, "PROBE"},		{NUD_FAILED, "FAILED"},
		  {NUD_NOARP, "NOARP"},		  {NUD_PERMANENT, "PERMANENT"}};
	json_t *sn = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(st); i++)
		if (nd->ndm_state & st[i].bit)
			json_array_append_new(sn, json_string(st[i].n));
	json_object_set_new(o, "states", sn);
	RTA_FOREACH(a, (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))), len)
	{
		json_t *v;
		if (a->rta_type == NDA_DST && (v = nl_addr(nd->ndm_family, RTA_DATA(a), RTA_PAYLOAD(a))))
			json_object_set_new(o, "dst", v);
		else if (a->rta_type == NDA_LLADDR)
			json_object_set_new(o, "lladdr", nl_lladdr(RTA_DATA(a), RTA_PAYLOAD(a)));
	}
	json_array_append_new(arr, o);
}

struct netns_job {
	const char *netns_path;
	bool no_nft;
	json_t *links, *addrs, *routes, *neigh, *nft, *notes;
	struct err err;
	int rc;
};

static void nft_ctx_freep(struct nft_ctx **n)
{
	if (*n)
		nft_ctx_free(*n);
}

static json_t *nft_ruleset(json_t *notes)
{
	/* its own context, and "list ruleset" alone in its buffer: mixing
	 * list with add commands crashed libnftables 1.0.6 */
	_cleanup_(nft_ctx_freep) struct nft_ctx *n = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n) {
		collect_note(notes, "nftables: cannot create a context");
		return json_null();
	}
	nft_ctx_output_set_flags(n, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	if (nft_ctx_buffer_output(n) || nft_ctx_buffer_error(n)) {
		collect_note(notes, "nftables: cannot buffer output");
		return json_null();
	}
	int rc = nft_run_cmd_from_buffer(n, "list ruleset");
	const char *outb = nft_ctx_get_output_buffer(n);
	const char *errb = nft_ctx_get_error_buffer(n);
	if (rc != 0) {
		collect_note(notes, "nftables: list ruleset failed: %.200s", errb ? errb : "");
		return json_null();
	}
	json_error_t je;
	json_t *j = outb ? json_loads(outb, 0, &je) : NULL;
	if (!j) {
		collect_note(notes, "nftables: ruleset output is not JSON");
		return outb ? collect_json_text(outb, strlen(outb)) : json_null();
	}
	return j;
}

static void *netns_thread(void *arg)
{
	struct netns_job *j = arg;
	j->rc = -1;
	_cleanup_close_ int nsfd = open(j->netns_path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		err_sys(&j->err, errno, "open '%s'", j->netns_path);
		return NULL;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err_sys(&j->err, errno, "setns '%s'", j->netns_path);
		return NULL;
	}
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		err_sys(&j->err, errno, "netlink socket");
		return NULL;
	}
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct err e = {0};
	if (nl_dump(fd, RTM_GETLINK, sizeof(struct ifinfomsg), AF_UNSPEC, link_cb, j->links, &e) < 0)
		collect_note(j->notes, "interfaces: %s", e.msg);
	if (nl_dump(fd, RTM_GETADDR, sizeof(struct ifaddrmsg), AF_UNSPEC, addr_cb, j->addrs, &e) < 0)
		collect_note(j->notes, "addresses: %s", e.msg);
	if (nl_dump(fd, RTM_GETROUTE, sizeof(struct rtmsg), AF_INET, route_cb, j->routes, &e) < 0)
		collect_note(j->notes, "routes: %s", e.msg);
	if (nl_dump(fd, RTM_GETROUTE, sizeof(struct rtmsg), AF_INET6, route_cb, j->routes, &e) < 0)
		collect_note(j->notes, "routes (inet6): %s", e.msg);
	if (nl_dump(fd, RTM_GETNEIGH, sizeof(struct ndmsg), AF_UNSPEC, neigh_cb, j->neigh, &e) < 0)
		collect_note(j->notes, "neighbours: %s", e.msg);
	j->nft = j->no_nft ? json_null() : nft_ruleset(j->notes);
	j->rc = 0;
	return NULL;
}

/* socket inode -> [pids] over every fd of every container pid */
static json_t *socket_owners(const struct ctr *c, json_t *notes)
{
	json_t *m = json_object();
	for (size_t i = 0; i < c->npids; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/fd", (int)c->pids[i]);
		_cleanup_closedir_ DIR *d = opendir(p);
		if (!d) {
			collect_note(notes, "fds of pid %d: %s", (int)c->pids[i], strerror(errno));
			continue;
		}
		struct dirent *de;
		size_t n = 0;
		while ((de = readdir(d)) && n++ < 65536) {
			char t[128];
			ssize_t l = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);
			if (l < 0)
				continue;
			t[l] = '\0';
			unsigned long long ino;
			if (sscanf(t, "socket:[%llu]", &ino) != 1)
				continue;
			char k[32];
			snprintf(k, sizeof(k), "%llu", ino);
			json_t *a = json_object_get(m, k);
			if (!a) {
				a = json_array();
				json_object_set_new(m, k, a);
			}
			bool dup = false;
			size_t x;
			json_t *v;
			json_array_foreach(a, x, v) if (json_integer_value(v) == c->pids[i]) dup = true;
			if (!dup)
				json_array_append_new(a, json_integer(c->pids[i]));
		}
	}
	return m;
}

static json_t *root_file(int rootfd, const char *path, size_t max, json_t *notes)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", json_string(path));
	char *buf = NULL;
	size_t len;
	bool trunc = false;
	struct err e = {0};
	if (rootfd < 0 || safe_read_in_root(rootfd, path, max, &buf, &len, &trunc, &e) < 0) {
		if (rootfd >= 0)
			collect_note(notes, "'%s' skipped: %s", path, e.msg);
		json_object_set_new(o, "skipped", json_string(rootfd < 0 ? "no root" : e.msg));
		return o;
	}
	json_object_set_new(o, "content", collect_json_bytes(buf, len, trunc));
	if (trunc)
		collect_note(notes, "'%s' cut at %zu bytes", path, max);
	free(buf);
	return o;
}

int collect_net(const struct ctr *c, const struct collect_net_opts *opts, json_t **out,
		struct err *e)
{
	pid_t pid = c->pid > 0 ? c->pid : c->npids ? c->pids[0] : 0;
	if (pid <= 0)
		return err_set(e, ERR_WRONGSTATE, "container '%s' has no process",
			       c->id ? c->id : "?");
	size_t max_file = opts && opts->max_file ? opts->max_file : 64 * 1024;
	char nsp[64];
	snprintf(nsp, sizeof(nsp), "/proc/%d/ns/net", (int)pid);
	const char *netns = c->netns_path ? c->netns_path : nsp;
	char now[64];
	time_rfc3339_ns(now, sizeof(now));
	_cleanup_json_ json_t *r = json_object();
	json_t *notes = json_array();
	json_object_set_new(r, "collector", json_string("network"));
	json_object_set_new(r, "time", json_string(now));
	json_t *nsj = json_object();
	json_object_set_new(nsj, "path", json_string(netns));
	struct stat st;
	if (stat(netns, &st) == 0)
		json_object_set_new(nsj, "inode", json_integer((json_int_t)st.st_ino));
	json_object_set_new(nsj, "host", json_boolean(c->host_netns));
	if (c->host_netns)
		collect_note(notes, "the container shares the host network namespace: this is the host's state");
	json_object_set_new(r, "netns", nsj);

	struct netns_job j = {.netns_path = netns, .no_nft = opts && opts->no_nft};
	j.links = json_array();
	j.addrs = json_array();
	j.routes = json_array();
	j.neigh = json_array();
	j.notes = notes;
	pthread_t th;
	int perr = pthread_create(&th, NULL, netns_thread, &j);
	if (perr) {
		json_decref(j.links), json_decref(j.addrs), json_decref(j.routes),
			json_decref(j.neigh);
		json_decref(notes);
		return err_sys(e, perr, "start the netns thread");
	}
	pthread_join(th, NULL);
	if (j.rc < 0)
		collect_note(notes, "netns '%s': %s", netns, j.err.msg);
	/* addresses into their interfaces */
	size_t i, k;
	json_t *a, *l;
	json_array_foreach(j.addrs, i, a)
	{
		json_int_t idx = json_integer_value(json_object_get(a, "index"));
		json_array_foreach(j.links, k, l) if (json_integer_value(json_object_get(l, "index")) == idx)
		{
			json_object_del(a, "index");
			json_array_append(json_object_get(l, "addresses"), a);
			break;
		}
	}
	json_decref(j.addrs);
	json_object_set_new(r, "interfaces", j.links);
	json_object_set_new(r, "routes", j.routes);
	json_object_set_new(r, "neighbours", j.neigh);
	json_object_set_new(r, "nftables", j.nft ? j.nft : json_null());

	/* sockets with their owners */
	json_t *socks = collect_net_sockets(pid, notes);
	json_t *owners = socket_owners(c, notes);
	json_t *sarr = json_array();
	const char *key;
	json_t *s;
	json_object_foreach(socks, key, s)
	{
		if (json_is_array(s)) { /* inode 0 */
			json_array_foreach(s, i, a)
			{
				json_object_set_new(a, "pids", json_array());
				json_array_append(sarr, a);
			}
			continue;
		}
		json_t *ow = json_object_get(owners, key);
		json_object_set_new(s, "pids", ow ? json_incref(ow) : json_array());
		json_array_append(sarr, s);
	}
	json_decref(socks);
	json_decref(owners);
	json_object_set_new(r, "sockets", sarr);

	/* resolv.conf and hosts, inside the container's root */
	char rp[64];
	snprintf(rp, sizeof(rp), "/proc/%d/root", (int)pid);
	_cleanup_close_ int rootfd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		collect_note(notes, "root of pid %d: %s", (int)pid, strerror(errno));
	json_object_set_new(r, "resolv_conf", root_file(rootfd, "/etc/resolv.conf", max_file, notes));
	json_object_set_new(r, "hosts", root_file(rootfd, "/etc/hosts", max_file, notes));
	json_object_set_new(r, "notes", notes);
	*out = steal_pointer(&r);
	return 0;
}

/* pcap.c: network/capture-*.pcap, libpcap inside the container's netns.
 *
 * One thread per session: it enters the netns (setns CLONE_NEWNET moves
 * only the calling thread), opens every interface there but lo, and the
 * "nflog:GROUP" pseudo-device when asked, then polls them all. Packets go
 * through collect_pcap_write_packet into one classic pcap file per device
 * (the format pcap_dump writes: microsecond timestamps, one link type per
 * file), each through the sink the caller's factory gives. One thread for
 * all devices keeps the byte budget exact without locking: the packet
 * whose record would pass max_bytes is not written and ends the capture. */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include "contain/collect.h"

#define MAX_DEVS 64

struct pcap_dev {
	pcap_t *p;
	char name[IF_NAMESIZE + 16];
	int fd;
	bool nflog;
	struct collect_pcap_file f;
};

struct collect_pcap {
	pthread_t th;
	bool started_thread;
	int stopfd;
	struct collect_pcap_opts o;
	char *netns;
	collect_pcap_sink_fn sink_for;
	void *ctx;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ready; /* 0 starting, 1 capturing, -1 failed */
	struct err err;

	int nflog_bound; /* the group bound, -1 none */
	uint64_t unconverted;		   /* nflog_as_sll2: records without payload */
	unsigned char conv[262144 + 64]; /* nflog_as_sll2: one frame */
	struct pcap_dev devs[MAX_DEVS];
	size_t ndevs;
	struct collect_pcap_budget budget;
	const char *ended_by;
	char started[64], ended[64];
	json_t *notes;
	bool write_failed;
	struct err werr;
	bool finished; /* atomic */
};


/* ---- the writer ---- */

static bool budget_fits(const struct collect_pcap_budget *b, uint64_t n)
{
	if (b->exhausted)
		return false;
	if (!b->max_bytes)
		return true;
	return b->used <= b->max_bytes && n <= b->max_bytes - b->used;
}

int collect_pcap_write_header(struct collect_pcap_file *f, struct collect_pcap_budget *b,
			      struct err *e)
{
	if (f->header_done)
		return 0;
	if (!budget_fits(b, 24)) {
		b->exhausted = true;
		return 1;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {0xa1b2c3d4, 2, 4, 0, 0, (uint32_t)f->snaplen, (uint32_t)f->linktype};
	if (sink_write(&f->sink, &h, sizeof(h), e) < 0)
		return -1;
	f->header_done = true;
	f->bytes += sizeof(h);
	b->used += sizeof(h);
	return 0;
}

int collect_pcap_write_packet(struct collect_pcap_file *f, struct collect_pcap_budget *b,
			      const struct timeval *ts, const unsigned char *data,
			      uint32_t caplen, uint32_t len, struct err *e)
{
	if (!f->header_done) {
		int r = collect_pcap_write_header(f, b, e);
		if (r)
			return r;
	}
	if (f->snaplen > 0 && caplen > (uint32_t)f->snaplen)
		caplen = (uint32_t)f->snaplen;
	uint64_t rec = 16ull + caplen;
	if (!budget_fits(b, rec)) {
		b->exhausted = true;
		return 1;
	}
	uint32_t h[4] = {(uint32_t)ts->tv_sec, (uint32_t)ts->tv_usec, caplen, len};
	if (sink_write(&f->sink, h, sizeof(h), e) < 0 || sink_write(&f->sink, data, caplen, e) < 0)
		return -1;
	f->bytes += rec;
	f->packets++;
	b->used += rec;
	return 0;
}

/* ---- NFLOG of the netdev family to LINUX_SLL2 ---- */

static uint16_t rd16be(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t collect_pcap_nflog_to_sll2(const unsigned char *rec, size_t len, unsigned char *out,
				  size_t outsz)
{
	const unsigned char *payload = NULL, *hw = NULL;
	size_t plen = 0, hwlen = 0;
	uint16_t proto = 0;
	int hook = -1;
	uint32_t ifin = 0, ifout = 0;
	if (len < 4)
		return 0;
	for (size_t off = 4; off + 4 <= len;) {
		uint16_t alen, atype;
		memcpy(&alen, rec + off, 2); /* netlink attributes: host order */
		memcpy(&atype, rec + off + 2, 2);
		atype &= NLA_TYPE_MASK;
		if (alen < 4 || alen > len - off)
			return 0;
		const unsigned char *v = rec + off + 4;
		size_t vlen = alen - 4u;
		switch (atype) {
		case NFULA_PACKET_HDR:
			if (vlen >= 3) {
				proto = rd16be(v);
				hook = v[2];
			}
			break;
		case NFULA_IFINDEX_INDEV:
			if (vlen >= 4)
				ifin = (uint32_t)rd16be(v) << 16 | rd16be(v + 2);
			break;
		case NFULA_IFINDEX_OUTDEV:
			if (vlen >= 4)
				ifout = (uint32_t)rd16be(v) << 16 | rd16be(v + 2);
			break;
		case NFULA_HWADDR:
			if (vlen >= 12) {
				hwlen = rd16be(v);
				hw = v + 4;
				if (hwlen > 8)
					hwlen = 8;
			}
			break;
		case NFULA_PAYLOAD:
			payload = v;
			plen = vlen;
			break;
		default:
			break;
		}
		size_t step = ((size_t)alen + 3u) & ~(size_t)3u;
		if (step > len - off)
			break;
		off += step;
	}
	if (!payload)
		return 0;
	/* egress (netdev hook 1): the frame from its Ethernet header */
	unsigned char src[6];
	bool have_src = false;
	if (hook == 1 && plen >= 14 && proto && rd16be(payload + 12) == proto) {
		memcpy(src, payload + 6, 6);
		have_src = true;
		payload += 14;
		plen -= 14;
	}
	if (outsz < 20 || plen > outsz - 20)
		return 0;
	memset(out, 0, 20);
	out[0] = (unsigned char)(proto >> 8);
	out[1] = (unsigned char)proto;
	uint32_t ifx = ifout ? ifout : ifin;
	out[4] = (unsigned char)(ifx >> 24);
	out[5] = (unsigned char)(ifx >> 16);
	out[6] = (unsigned char)(ifx >> 8);
	out[7] = (unsigned char)ifx;
	out[9] = 1;			/* ARPHRD_ETHER */
	out[10] = hook == 1 ? 4 : 0;	/* PACKET_OUTGOING, PACKET_HOST */
	if (have_src) {
		out[11] = 6;
		memcpy(out + 12, src, 6);
	} else if (hw && hwlen) {
		out[11] = (unsigned char)hwlen;
		memcpy(out + 12, hw, hwlen);
	}
	memcpy(out + 20, payload, plen);
	return 20 + plen;
}

/* ---- the capture thread ---- */

static void set_ready(struct collect_pcap *s, int v)
{
	pthread_mutex_lock(&s->mu);
	s->ready = v;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* nfnetlink_log batches messages for up to a second (flush timeout 1 s,
 * queue threshold) before sending: a packet logged just before the stop
 * would be lost. Ask for each packet at once, on the socket libpcap bound
 * to the group (an instance is configured only by its owner). */
static void nflog_unbatch(int fd, int group, json_t *notes)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
		struct nlattr a1;
		uint32_t qthresh;
		struct nlattr a2;
		uint32_t timeout;
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = sizeof(m);
	m.h.nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	m.h.nlmsg_flags = NLM_F_REQUEST;
	m.g.nfgen_family = AF_UNSPEC;
	m.g.version = NFNETLINK_V0;
	m.g.res_id = htons((uint16_t)group);
	m.a1.nla_len = sizeof(m.a1) + sizeof(m.qthresh);
	m.a1.nla_type = NFULA_CFG_QTHRESH;
	m.qthresh = htonl(1);
	m.a2.nla_len = sizeof(m.a2) + sizeof(m.timeout);
	m.a2.nla_type = NFULA_CFG_TIMEOUT;
	m.timeout = htonl(1); /* 1/100 s */
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		collect_note(notes, "nflog:%d: cannot disable batching: %s", group, strerror(errno));
}

/* quiet: a failure to activate is not noted (the caller tries another
 * nflog group); *why gets it */
static int open_dev(struct collect_pcap *s, const char *name, bool nflog, int group, bool quiet,
		    char *why, size_t nwhy)
{
	if (s->ndevs >= MAX_DEVS) {
		collect_note(s->notes, "more than %d devices: '%s' not captured", MAX_DEVS, name);
		return -1;
	}
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(name, errbuf);
	if (!p) {
		collect_note(s->notes, "pcap '%s': %s", name, errbuf);
		return -1;
	}
	pcap_set_snaplen(p, s->o.snaplen);
	pcap_set_promisc(p, 0);
	pcap_set_timeout(p, 100);
	pcap_set_immediate_mode(p, 1);
	int rc = pcap_activate(p);
	if (rc < 0) {
		if (why)
			snprintf(why, nwhy, "%s", pcap_geterr(p));
		if (!quiet)
			collect_note(s->notes, "pcap '%s': %s", name, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	if (rc > 0)
		collect_note(s->notes, "pcap '%s': warning: %s", name, pcap_statustostr(rc));
	if (pcap_setnonblock(p, 1, errbuf) < 0) {
		collect_note(s->notes, "pcap '%s': %s", name, errbuf);
		pcap_close(p);
		return -1;
	}
	int fd = pcap_get_selectable_fd(p);
	if (fd < 0) {
		collect_note(s->notes, "pcap '%s': no selectable fd", name);
		pcap_close(p);
		return -1;
	}
	if (nflog)
		nflog_unbatch(fd, group, s->notes);
	struct pcap_dev *d = &s->devs[s->ndevs];
	memset(d, 0, sizeof(*d));
	d->p = p;
	d->fd = fd;
	d->nflog = nflog;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->f.linktype = nflog && s->o.nflog_as_sll2 ? DLT_LINUX_SLL2 : pcap_datalink(p);
	d->f.snaplen = pcap_snapshot(p);
	struct err e = {0};
	if (s->sink_for(s->ctx, name, d->f.linktype, &d->f.sink, &e) < 0) {
		collect_note(s->notes, "pcap '%s': no sink: %s", name, e.msg);
		pcap_close(p);
		return -1;
	}
	s->ndevs++;
	return 0;
}

struct dispatch_ctx {
	struct collect_pcap *s;
	struct pcap_dev *d;
};

static void on_packet_dev(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dispatch_ctx *c = (struct dispatch_ctx *)(void *)user;
	struct collect_pcap *s = c->s;
	if (s->ended_by)
		return;
	int r;
	if (c->d->nflog && s->o.nflog_as_sll2) {
		size_t n = collect_pcap_nflog_to_sll2(bytes, h->caplen, s->conv, sizeof(s->conv));
		if (!n) {
			s->unconverted++;
			return;
		}
		r = collect_pcap_write_packet(&c->d->f, &s->budget, &h->ts, s->conv, (uint32_t)n,
					      (uint32_t)n, &s->werr);
	} else {
		r = collect_pcap_write_packet(&c->d->f, &s->budget, &h->ts, bytes, h->caplen,
					      h->len, &s->werr);
	}
	if (r == 1) {
		s->ended_by = "max_bytes";
	} else if (r < 0) {
		s->write_failed = true;
		s->ended_by = "error";
	}
	if (s->ended_by)
		pcap_breakloop(c->d->p);
}

/* enter the container's netns (this thread only) and open its devices */
static int enter_netns(struct collect_pcap *s)
{
	_cleanup_close_ int nsfd = open(s->netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return err_sys(&s->err, errno, "open '%s'", s->netns);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return err_sys(&s->err, errno, "setns '%s'", s->netns);
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return err_sys(&s->err, errno, "list the interfaces of '%s'", s->netns);
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		if (strcmp(i->if_name, "lo") == 0)
			continue;
		open_dev(s, i->if_name, false, 0, false, NULL, 0);
	}
	if_freenameindex(ifs);
	return 0;
}

/* the nflog group, or the first free one of nflog_tries from it */
static void open_nflog(struct collect_pcap *s)
{
	unsigned tries = s->o.nflog_tries ? s->o.nflog_tries : 1;
	char why[PCAP_ERRBUF_SIZE + 64] = "";
	int g = s->o.nflog_group;
	unsigned skipped = 0;
	for (unsigned i = 0; i < tries; i++, g = g >= 65535 ? 1 : g + 1) {
		char n[32];
		const unsigned char *av = s->o.nflog_avoid;
		if (av && (av[g / 8] & (1u << (g % 8)))) {
			skipped++;
			continue;
		}
		snprintf(n, sizeof(n), "nflog:%d", g);
		if (open_dev(s, n, true, g, tries > 1, why, sizeof(why)) == 0) {
			s->nflog_bound = g;
			return;
		}
	}
	if (tries > 1)
		collect_note(s->notes, "nflog: no free group in %d..%d (%u in use by rules): %s",
			     s->o.nflog_group, g - 1, skipped, *why ? why : "-");
}

static void *capture_thread(void *arg)
{
	struct collect_pcap *s = arg;
	if (!s->o.own_netns && enter_netns(s) < 0) {
		set_ready(s, -1);
		return NULL;
	}
	if (s->o.nflog_group >= 0)
		open_nflog(s);
	if (s->ndevs == 0) {
		err_set(&s->err, ERR_NOTFOUND, "no device to capture on in '%s'",
			s->o.own_netns ? "our own netns" : s->netns);
		set_ready(s, -1);
		return NULL;
	}
	/* every file gets its header now: an idle device still gives a valid pcap */
	for (size_t i = 0; i < s->ndevs && !s->ended_by; i++) {
		int r = collect_pcap_write_header(&s->devs[i].f, &s->budget, &s->werr);
		if (r == 1)
			s->ended_by = "max_bytes";
		else if (r < 0)
			s->write_failed = true, s->ended_by = "error";
	}
	time_rfc3339_ns(s->started, sizeof(s->started));
	double deadline = s->o.seconds ? time_mono() + s->o.seconds : 0;
	set_ready(s, 1);

	struct pollfd pfd[MAX_DEVS + 1];
	while (!s->ended_by) {
		int timeout = -1;
		if (deadline) {
			double left = deadline - time_mono();
			if (left <= 0) {
				s->ended_by = "max_seconds";
				break;
			}
			timeout = (int)(left * 1000) + 1;
		}
		for (size_t i = 0; i < s->ndevs; i++)
			pfd[i] = (struct pollfd){.fd = s->devs[i].fd, .events = POLLIN};
		pfd[s->ndevs] = (struct pollfd){.fd = s->stopfd, .events = POLLIN};
		int n = poll(pfd, s->ndevs + 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			collect_note(s->notes, "poll: %s", strerror(errno));
			s->ended_by = "error";
			break;
		}
		for (size_t i = 0; i < s->ndevs && !s->ended_by; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			struct dispatch_ctx dc = {s, &s->devs[i]};
			int r = pcap_dispatch(s->devs[i].p, -1, on_packet_dev, (u_char *)&dc);
			if (r == PCAP_ERROR) {
				collect_note(s->notes, "pcap '%s': %s", s->devs[i].name,
				     pcap_geterr(s->devs[i].p));
				/* stop polling it, keep the others */
				s->devs[i].fd = -1;
			}
		}
		if (!s->ended_by && (pfd[s->ndevs].revents & POLLIN))
			s->ended_by = "stopped";
	}
	/* stopped or out of time: what the kernel already holds is evidence too */
	if (strcmp(s->ended_by, "stopped") == 0 || strcmp(s->ended_by, "max_seconds") == 0) {
		const char *why = s->ended_by;
		s->ended_by = NULL;
		for (size_t i = 0; i < s->ndevs && !s->ended_by; i++) {
			if (s->devs[i].fd < 0)
				continue;
			struct dispatch_ctx dc = {s, &s->devs[i]};
			pcap_dispatch(s->devs[i].p, -1, on_packet_dev, (u_char *)&dc);
		}
		if (!s->ended_by)
			s->ended_by = why;
	}
	time_rfc3339_ns(s->ended, sizeof(s->ended));
	__atomic_store_n(&s->finished, true, __ATOMIC_RELEASE);
	return NULL;
}

int collect_pcap_nflog_group(const struct collect_pcap *s)
{
	return s->nflog_bound;
}

bool collect_pcap_finished(struct collect_pcap *s)
{
	return __atomic_load_n(&s->finished, __ATOMIC_ACQUIRE);
}

static void session_free(struct collect_pcap *s)
{
	for (size_t i = 0; i < s->ndevs; i++)
		if (s->devs[i].p)
			pcap_close(s->devs[i].p);
	if (s->stopfd >= 0)
		close(s->stopfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	json_decref(s->notes);
	free(s->netns);
	free(s);
}

int collect_pcap_start(const struct ctr *c, const struct collect_pcap_opts *o,
		       collect_pcap_sink_fn sink_for, void *ctx, struct collect_pcap **out,
		       struct err *e)
{
	pid_t pid = c->pid > 0 ? c->pid : c->npids ? c->pids[0] : 0;
	if (!c->netns_path && pid <= 0)
		return err_set(e, ERR_WRONGSTATE, "container '%s' has no network namespace",
			       c->id ? c->id : "?");
	struct collect_pcap *s = xcalloc(1, sizeof(*s));
	s->o = *o;
	if (s->o.snaplen <= 0)
		s->o.snaplen = 262144;
	s->budget.max_bytes = o->max_bytes;
	s->netns = c->netns_path ? xstrdup(c->netns_path) : xasprintf("/proc/%d/ns/net", (int)pid);
	s->sink_for = sink_for;
	s->ctx = ctx;
	s->nflog_bound = -1;
	s->notes = json_array();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0) {
		err_sys(e, errno, "eventfd");
		session_free(s);
		return -1;
	}
	int perr = pthread_create(&s->th, NULL, capture_thread, s);
	if (perr) {
		err_sys(e, perr, "start the capture thread");
		session_free(s);
		return -1;
	}
	s->started_thread = true;
	pthread_mutex_lock(&s->mu);
	while (s->ready == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->ready < 0) {
		pthread_join(s->th, NULL);
		/* the first note says why a device could not be opened */
		const char *why = json_string_value(json_array_get(s->notes, 0));
		err_set(e, s->err.kind ? s->err.kind : ERR_SYS, "capture: %s%s%s", s->err.msg,
			why ? ": " : "", why ? why : "");
		e->errnum = s->err.errnum;
		session_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static const char *linktype_name(int lt)
{
	const char *n = pcap_datalink_val_to_name(lt);
	return n ? n : "?";
}

int collect_pcap_stop(struct collect_pcap *s, bool now, json_t **stats, struct err *e)
{
	if (now) {
		uint64_t one = 1;
		if (write(s->stopfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_debug("pcap stop: %s", strerror(errno));
	}
	pthread_join(s->th, NULL);
	json_t *r = json_object();
	json_object_set_new(r, "collector", json_string("pcap"));
	json_object_set_new(r, "format", json_string("pcap (one file per device)"));
	json_object_set_new(r, "started", json_string(s->started));
	json_object_set_new(r, "ended", json_string(s->ended));
	json_object_set_new(r, "ended_by", json_string(s->ended_by ? s->ended_by : "stopped"));
	json_object_set_new(r, "seconds", json_integer(s->o.seconds));
	json_object_set_new(r, "max_bytes", json_integer((json_int_t)s->o.max_bytes));
	json_object_set_new(r, "bytes", json_integer((json_int_t)s->budget.used));
	if (s->nflog_bound >= 0)
		json_object_set_new(r, "nflog_group", json_integer(s->nflog_bound));
	if (s->o.nflog_as_sll2) {
		json_object_set_new(r, "nflog_written_as",
				    json_string("LINUX_SLL2: protocol, ifindex, direction (In: from "
						"the container, Out: to it), packet from its network "
						"header"));
		json_object_set_new(r, "nflog_records_without_payload",
				    json_integer((json_int_t)s->unconverted));
	}
	json_object_set_new(r, "netns", json_string(s->o.own_netns ? "host" : "container"));
	uint64_t packets = 0;
	json_t *devs = json_array();
	for (size_t i = 0; i < s->ndevs; i++) {
		struct pcap_dev *d = &s->devs[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", collect_json_text(d->name, strlen(d->name)));
		json_object_set_new(o, "nflog", json_boolean(d->nflog));
		json_object_set_new(o, "linktype", json_integer(d->f.linktype));
		json_object_set_new(o, "linktype_name", json_string(linktype_name(d->f.linktype)));
		json_object_set_new(o, "packets", json_integer((json_int_t)d->f.packets));
		json_object_set_new(o, "bytes", json_integer((json_int_t)d->f.bytes));
		struct pcap_stat ps;
		if (pcap_stats(d->p, &ps) == 0) {
			json_object_set_new(o, "received", json_integer(ps.ps_recv));
			json_object_set_new(o, "dropped", json_integer(ps.ps_drop));
			json_object_set_new(o, "ifdropped", json_integer(ps.ps_ifdrop));
		} else {
			collect_note(s->notes, "pcap '%s': no stats: %s", d->name, pcap_geterr(d->p));
		}
		packets += d->f.packets;
		json_array_append_new(devs, o);
	}
	json_object_set_new(r, "packets", json_integer((json_int_t)packets));
	json_object_set_new(r, "devices", devs);
	json_object_set(r, "notes", s->notes);
	int rc = 0;
	if (s->write_failed) {
		*e = s->werr;
		err_wrap(e, "capture");
		rc = -1;
	}
	session_free(s);
	*stats = r;
	return rc;
}

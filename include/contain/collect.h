/* collect: the collectors `contain capture` runs. Each takes a resolved
 * struct ctr and returns JSON or writes bytes through a struct sink; none
 * writes a file itself, none prints, none exits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "contain/runtime.h"
#include "contain/util.h"

/* ==================================================================== */
/* ==== live collectors: processes, network state, pcap              ==== */
/* ==== (src/collect/procs.c, net.c, pcap.c)                          ==== */
/* ==================================================================== */

/* JSON strings from untrusted bytes: the string itself when it is valid
 * UTF-8 without NUL, else the bytes with every invalid byte as "\\xNN".
 * Never NULL. */
json_t *collect_json_text(const char *s, size_t n);
/* Raw bytes: {"encoding":"utf-8"|"base64","data":...,"size":N,
 * "truncated":bool}. */
json_t *collect_json_bytes(const void *p, size_t n, bool truncated);
/* Append a formatted note (a string, made JSON-safe) to notes; NULL notes: nothing. */
void collect_note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- processes/tree.json (procs.c) ---- */
struct collect_procs_opts {
	uint64_t max_exe_bytes; /* hash at most this much of /proc/PID/exe (0: 512 MiB) */
	size_t max_cmdline;	/* bound of cmdline and environ each (0: 256 KiB) */
	size_t max_fds;		/* fds listed per process (0: 4096) */
	size_t max_threads;	/* tasks listed per process (0: 4096) */
};

/* Every pid of c->pids (the caller refreshes them with ctr_refresh_pids
 * when it wants): {collector:"processes", time, pids:[...], tree:{roots:[...]},
 * notes:[...]}. A process that exits during the walk, an unreadable file,
 * a cut cmdline are notes, never an error; -1 only when nothing could be
 * collected at all (no pids). */
int collect_procs(const struct ctr *c, const struct collect_procs_opts *o, json_t **out,
		  struct err *e);

/* One process, as in pids[] (exposed for tests). sockets: an object
 * "inode" -> socket description (collect_net_sockets), may be NULL.
 * notes gets an entry per oddity. NULL with *gone set when it exited. */
json_t *collect_proc_one(pid_t pid, const struct collect_procs_opts *o, json_t *sockets,
			 json_t *notes, bool *gone);

/* Linux capability mask -> ["CAP_CHOWN", ...] (unknown bits as "cap_N") */
json_t *collect_caps_decode(uint64_t mask);
/* /proc/PID/stat after the comm: the fields, 1-based as in proc(5) */
int collect_parse_stat(const char *buf, size_t len, char *comm, size_t commsz, char *state,
		       pid_t *ppid, unsigned long long *starttime, struct err *e);

/* ---- network/state.json (net.c) ---- */
/* One line of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6}, /proc/net/unix or
 * /proc/net/packet, parsed. proto: "tcp", "tcp6", "udp", ..., "unix",
 * "packet". Returns 0 and *out (an object: proto, local, lport, remote,
 * rport, state, uid, inode, ...), 1 for a header or blank line, -1 for a
 * malformed one. */
int collect_net_parse_line(const char *proto, const char *line, json_t **out, struct err *e);

/* Every socket of the netns that pid lives in, from /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet}:
 * an object "inode" -> description. notes (may be NULL) gets unreadable
 * tables. NULL only when pid is gone. */
json_t *collect_net_sockets(pid_t pid, json_t *notes);

struct collect_net_opts {
	size_t max_file; /* resolv.conf, hosts bound (0: 64 KiB) */
	bool no_nft;	 /* skip the nftables ruleset */
};

/* {collector:"network", time, netns:{path,inode}, interfaces:[...],
 * routes:[...], neighbours:[...], sockets:[... with pids], nftables:{...},
 * resolv_conf:{...}, hosts:{...}, notes:[...]}. Interfaces, addresses,
 * routes and neighbours come from rtnetlink in a thread that entered the
 * container's netns (setns CLONE_NEWNET: the netns is per thread), as does
 * the nftables ruleset (libnftables, JSON, "list ruleset" alone). */
int collect_net(const struct ctr *c, const struct collect_net_opts *o, json_t **out,
		struct err *e);

/* ---- network/capture*.pcap (pcap.c) ----
 * A capture thread enters the container's netns and opens libpcap on every
 * interface there except lo, and, when nflog_group >= 0, on the
 * "nflog:GROUP" pseudo-device too (packets the quarantine's drop rules log
 * with `log group GROUP` before dropping them: a packet dropped in the
 * output hook never reaches a device, so only NFLOG sees it).
 * Output: one classic pcap file per device (libpcap's pcap_dump format,
 * one link type per file: Ethernet or whatever the device has, NFLOG
 * (239) for nflog), written through the sink the caller's factory gives
 * for that device; the bag names them network/capture-IFNAME.pcap and
 * network/capture-nflog.pcap (the caller chooses).
 * Bounds: seconds (0: none) and max_bytes, the bytes of all files together,
 * headers included (0: none). The byte bound is exact: a packet whose
 * record would pass max_bytes is not written and ends the whole capture
 * ("max_bytes"); otherwise "max_seconds", or "stopped" by collect_pcap_stop. */
struct collect_pcap_opts {
	unsigned seconds;
	uint64_t max_bytes;
	int nflog_group; /* -1: none */
	int snaplen;	 /* 0: 262144 */
	/* Stay in the caller's netns (the host's) and capture only the NFLOG
	 * group there, no device: the drops of the host table. Groups of the
	 * host netns are shared by every container and one socket binds a
	 * group: with nflog_tries N > 1 the groups nflog_group .. +N-1 are
	 * tried in turn and the first free one is kept (see
	 * collect_pcap_nflog_group); the bound group is ours alone until stop. */
	bool own_netns;
	unsigned nflog_tries; /* 0 or 1: nflog_group only */
	/* groups not to try (bitmap, bit N of byte N / 8; may be NULL): those
	 * a rule already logs to, whoever listens */
	const unsigned char *nflog_avoid;
	/* Write the NFLOG group's packets as LINUX_SLL2 (276), not NFLOG: what
	 * the netdev family (the host table) logs has family 5, which tcpdump
	 * and tshark do not decode, and its payload starts at the Ethernet
	 * header on egress but at the network header on ingress. See
	 * collect_pcap_nflog_to_sll2. */
	bool nflog_as_sll2;
};

/* One NFLOG record (as libpcap gives it: nfgenmsg, then netlink attributes
 * in host order) to a LINUX_SLL2 frame in out (outsz >= len + 20): protocol
 * from the packet header, interface index (in or out device), packet type
 * "host" for a hook's ingress (from the container) and "outgoing" for
 * egress, the link-layer source address when known, then the payload from
 * its network header (an egress Ethernet header whose type is the packet's
 * protocol is taken off; its source address goes in the SLL2 header).
 * Returns the frame's length, or 0 for a record without payload or
 * malformed (bounded: never reads past len). */
size_t collect_pcap_nflog_to_sll2(const unsigned char *rec, size_t len, unsigned char *out,
				  size_t outsz);

/* Called once per device from the capture thread before any packet, to
 * get the sink for its file. linktype is a DLT_ value. */
typedef int (*collect_pcap_sink_fn)(void *ctx, const char *dev, int linktype,
				    struct sink *out, struct err *e);

struct collect_pcap;

/* Returns once every device is capturing (or with -1 if none could be
 * opened). The session runs in its own thread until a bound or stop. */
int collect_pcap_start(const struct ctr *c, const struct collect_pcap_opts *o,
		       collect_pcap_sink_fn sink_for, void *ctx, struct collect_pcap **out,
		       struct err *e);
/* the NFLOG group the session bound (-1: none) */
int collect_pcap_nflog_group(const struct collect_pcap *s);
/* true once a bound (or an error) has ended the session */
bool collect_pcap_finished(struct collect_pcap *s);
/* Wait until the session ends: now=true stops it first (with now=false and
 * neither bound set it waits for ever). The factory and the sinks are
 * called from the capture thread, while the caller goes on with other
 * work: a sink shared with other writers must lock. *stats gets
 * {collector:"pcap", started, ended, ended_by, seconds, max_bytes, bytes,
 * packets, devices:[{name, linktype, linktype_name, packets, bytes,
 * received, dropped, ifdropped}], notes:[...]}. Frees the session. */
int collect_pcap_stop(struct collect_pcap *s, bool now, json_t **stats, struct err *e);

/* The packet writer the capture uses, exposed so the byte bound can be
 * tested with a synthetic packet source: a pcap writer over sinks with a
 * shared byte budget. */
struct collect_pcap_budget {
	uint64_t max_bytes; /* 0: none */
	uint64_t used;
	bool exhausted;
};
struct collect_pcap_file {
	struct sink sink;
	uint64_t bytes, packets;
	bool header_done;
	int linktype, snaplen;
};
/* 0 written; 1 refused because it would pass the budget (budget->exhausted
 * set, nothing written); -1 a sink error */
int collect_pcap_write_packet(struct collect_pcap_file *f, struct collect_pcap_budget *b,
			      const struct timeval *ts, const unsigned char *data,
			      uint32_t caplen, uint32_t len, struct err *e);
/* the 24-byte file header alone (a device that saw no packet), budgeted */
int collect_pcap_write_header(struct collect_pcap_file *f, struct collect_pcap_budget *b,
			      struct err *e);

/* ==== end of the live collectors ==== */

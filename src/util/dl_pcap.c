/* dl_pcap.c: the libpcap functions contain calls, opened on first use
 * (dlib.h). One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved, defined
 * by hand below. */
#include <pcap/pcap.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_PCAP
#define DLIB_TABLE dlib_table_pcap

#define SYMS(F, V, N)                                                                              \
	F(int, pcap_activate, (pcap_t * a0), (a0))                                                 \
	V(pcap_breakloop, (pcap_t * a0), (a0))                                                     \
	V(pcap_close, (pcap_t * a0), (a0))                                                         \
	F(pcap_t *, pcap_create, (const char *a0, char *a1), (a0, a1))                             \
	F(int, pcap_datalink, (pcap_t * a0), (a0))                                                 \
	F(const char *, pcap_datalink_val_to_name, (int a0), (a0))                                 \
	F(int, pcap_dispatch, (pcap_t * a0, int a1, pcap_handler a2, u_char *a3),                  \
	  (a0, a1, a2, a3))                                                                        \
	F(pcap_t *, pcap_fopen_offline_with_tstamp_precision, (FILE * a0, u_int a1, char *a2),     \
	  (a0, a1, a2))                                                                            \
	F(int, pcap_get_selectable_fd, (pcap_t * a0), (a0))                                        \
	F(char *, pcap_geterr, (pcap_t * a0), (a0))                                                \
	F(int, pcap_next_ex, (pcap_t * a0, struct pcap_pkthdr * *a1, const u_char **a2),           \
	  (a0, a1, a2))                                                                            \
	F(int, pcap_set_immediate_mode, (pcap_t * a0, int a1), (a0, a1))                           \
	F(int, pcap_set_promisc, (pcap_t * a0, int a1), (a0, a1))                                  \
	F(int, pcap_set_snaplen, (pcap_t * a0, int a1), (a0, a1))                                  \
	F(int, pcap_set_timeout, (pcap_t * a0, int a1), (a0, a1))                                  \
	F(int, pcap_setnonblock, (pcap_t * a0, int a1, char *a2), (a0, a1, a2))                    \
	F(int, pcap_snapshot, (pcap_t * a0), (a0))                                                 \
	F(int, pcap_stats, (pcap_t * a0, struct pcap_stat * a1), (a0, a1))                         \
	F(const char *, pcap_statustostr, (int a0), (a0))

DLIB_WRAPPERS(SYMS)

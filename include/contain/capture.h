/* capture: the capture transaction (src/capture/capture.c).
 *
 * One call collects the evidence of one resolved container into a sealed
 * bag, in the order of volatility (RFC 3227):
 *
 *   1. start the pcap inside its netns (its devices, and the NFLOG group its
 *      drop rules log to); observe_seconds: watch it that long, untouched;
 *   2. network quarantine (quarantine_apply, through one function);
 *   3. processes and network state; watch_cut_seconds: leave it running,
 *      cut off, that long (what it tries once cut off is in the pcaps);
 *   4. freeze the cgroup;
 *   5. memory of every process (ELF cores);
 *   6. the filesystem diff (overlay upperdir as an OCI layer tar);
 *   7. metadata: OCI config, runtime state, image, mounts, logs;
 *   8. stop the pcaps; quarantine.json; the windows in index.json; seal.
 *
 * The windows (index.json "windows", quarantine.json, the summary), RFC 3339
 * times, each {from, to, seconds_asked} or null when it did not happen:
 *   observed     pcap start -> the cut begins (untouched);
 *   cut_running  the cut holds -> the freeze begins (cut off, running);
 *   frozen       the freeze holds -> the pcap stops;
 * with every instant in "times" (pcap, cut_start, cut, freeze_start, frozen,
 * pcap_stop). Without the quarantine, observed runs to the pcap stop.
 *
 * Each collector writes through the bag; one that fails is named in
 * r->missing, the index and the custody log, and the others still run. The
 * container is left quarantined and frozen; nothing is ever thawed or
 * reconnected.
 *
 * Library code: never prints, never exits. Progress goes to the caller's
 * callback (the verb draws it; a test hook may pause there). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "contain/bag.h"
#include "contain/isolate.h"
#include "contain/runtime.h"
#include "contain/util.h"

/* --observe and --watch-cut: at most an hour each */
#define CAPTURE_WINDOW_MAX 3600u

/* The phases, in order, as the progress callback names them (stable: the
 * test hook CONTAIN_TEST_PAUSE_AT takes these names). */
#define CAPTURE_PHASES                                                                     \
	"pcap", "observe", "cut", "processes", "watch-cut", "freeze", "memory", "fs",    \
		"metadata", "pcap-stop", "seal"

/* Called at the start of each phase that runs (one of CAPTURE_PHASES; observe,
 * watch-cut, memory and fs only when asked for), from
 * the thread that called capture_run, with the seconds since it began. */
typedef void (*capture_progress_fn)(void *ctx, const char *phase, double elapsed);

struct capture_opts {
	const char *out;   /* DIR, NAME.tar[.gz|.zst], or "-" (out_fd) */
	int out_fd;	   /* for "-": the fd of the tar (0: stdout) */
	const char *case_id, *examiner, *sign_key;
	const char *state_dir; /* quarantine state (required when quarantine) */
	const char *audit_log; /* the node audit log (NULL: no audit line) */
	bool quarantine, pcap, fs, memory, memory_full;
	unsigned pcap_seconds;	    /* pcap time bound, counted after the two windows
				     * below (0: none) */
	unsigned observe_seconds;   /* pcap before the cut, container untouched
				     * (<= CAPTURE_WINDOW_MAX; needs the pcap) */
	unsigned watch_cut_seconds; /* cut off and still running before the freeze
				     * (<= CAPTURE_WINDOW_MAX; needs the quarantine) */
	unsigned long long pcap_max_bytes, max_file_bytes, log_max_bytes, max_memory_bytes;
	const struct ncut_allow *allow;
	size_t nallow;
	enum frz_pref freezer;
	/* the first NFLOG group of the host netns to try for the host table's
	 * drops (0: one derived from the container id and our pid); groups a
	 * rule already logs to and groups bound by another socket are passed */
	unsigned host_nflog_first;
	capture_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	/* what started the capture (respond: {alert, raw, playbook, received}),
	 * or NULL: a custody event "trigger" and index.json "trigger" */
	const json_t *trigger;
};

/* Refuse what cannot be run: bounds, combinations (ERR_INVALID, a message
 * for the usage line). capture_run checks it too. */
int capture_opts_check(const struct capture_opts *o, struct err *e);

struct capture_result {
	char bag_id[BAG_ID_LEN]; /* "" when no bag could be opened */
	const char *status;	 /* "complete", "incomplete" (not sealed), "failed" (no bag) */
	bool net_cut, frozen;	 /* what holds at the end (as the quarantine read it back) */
	bool quarantine_failed;	 /* a quarantine step asked for did not hold */
	json_t *missing;	 /* [{artifact, reason}]: not collected or partial */
	json_t *warnings;	 /* [string] */
	json_t *windows;	 /* the observation windows (as in index.json), or NULL */
	double seconds;
};
void capture_result_free(struct capture_result *r);
/* The summary the verb prints with --json: {bag, bag_id, status, container,
 * quarantined, frozen, quarantine_failed, windows, missing, warnings, seconds}. */
json_t *capture_result_to_json(const struct capture_result *r, const struct ctr *c,
			       const char *out);

/* Run the whole capture. c is read, never changed (its pids are re-read
 * into a copy). Returns 0 when everything was collected and every step
 * asked for holds, 1 when the bag is sealed but something is missing or
 * partial (r->missing) or a quarantine step failed, -1 when no sealed bag
 * could be made (e; r->status says how far it got). r is filled in every
 * case (capture_result_free it). */
int capture_run(const struct ctr *c, const struct capture_opts *o, struct capture_result *r,
		struct err *e);

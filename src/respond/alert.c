/* alert.c: one detector alert (a JSON line or an HTTP body) -> one struct
 * alert (respond.h). Falco (program/file/http output), falcosidekick's
 * forwarded payload, Tetragon (process_exec, _kprobe, _tracepoint, _uprobe,
 * _lsm), Tracee (the v1beta1 event and the older flat one) and Sysdig Secure
 * event forwarding; the format is told from the document's shape.
 *
 * The intake runs at hundreds of thousands of alerts a second, and a jansson
 * parse of a whole alert is ~5x slower than this (tests/bench/bench_alert.sh:
 * 37,000-50,000 mixed alerts a CPU-second against 210,000-230,000): so one
 * pass of a strict, validating scanner over the bytes (the JSON grammar,
 * UTF-8, bounded depth; nothing allocated) records where the members it
 * knows sit (a static tree of the paths of every format), and only those are
 * decoded. The rest is
 * validated and skipped. The whole document is parsed by jansson only when
 * asked (alert_raw), for an alert acted on. The scanner takes what jansson
 * takes (no \u0000, integers in long long range, last duplicate key wins)
 * and nothing more (it refuses jansson's one leniency found by fz_alert: a
 * NUL byte after a number, skipped by jansson), so an alert it accepts is
 * always the document jansson parses.
 *
 * Every source's fields come out under Falco's field names (proc.pid,
 * proc.name, proc.exepath, proc.cmdline, proc.pname, container.id,
 * container.name, container.image.repository, k8s.pod.name, k8s.ns.name,
 * fd.name, fd.rip, fd.rport, fd.lip, fd.lport, evt.type) so one playbook
 * matcher fits all of them; fixtures/alerts/README.md has the table. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <strings.h>
#include <time.h>

#include "contain/hashio.h"
#include "contain/respond.h"

/* "" of an unknown member: shared, never freed (an alert is parsed at the
 * intake's rate: seven allocations of "" each time showed in the profile) */
static char empty[1];

static void str_free(char *p)
{
	if (p != empty)
		free(p);
}

/* ---- the scanner's output: spans of the input ---- */

enum jt { JT_NONE, JT_STR, JT_NUM, JT_TRUE, JT_FALSE, JT_NULL, JT_OBJ, JT_ARR };

struct span {
	uint32_t off, len; /* a string: its bytes between the quotes */
	uint8_t type;	   /* enum jt; JT_NONE: not seen */
	bool flag;	   /* a string: holds escapes; a number: an integer */
};

/* the members recorded, one per path of interest (last occurrence wins, as
 * jansson keeps the last of duplicate keys) */
enum slot {
	S_NONE,
	/* Falco, falcosidekick (and shared top-level names) */
	S_RULE,
	S_PRIORITY,
	S_TIME,
	S_SOURCE,
	S_UUID,
	S_OUTPUT_FIELDS,
	/* Tetragon */
	S_T_PID,
	S_T_BINARY,
	S_T_ARGS,
	S_T_DOCKER,
	S_T_POD_NS,
	S_T_POD_NAME,
	S_T_CID,
	S_T_CNAME,
	S_T_IMAGE,
	S_T_PBINARY,
	S_T_PPID,
	S_T_POLICY,
	S_T_FUNCTION,
	S_T_EVENT,
	S_T_FILE,
	S_T_DADDR,
	S_T_DPORT,
	S_T_SADDR,
	S_T_SPORT,
	/* Tracee, flat */
	S_EVENTNAME,
	S_TIMESTAMP,
	S_HOSTPID,
	S_PROCNAME,
	S_CONTAINERID,
	S_CONTAINERIMAGE,
	S_CONTAINERNAME,
	S_PODNAME,
	S_PODNS,
	S_C_ID,
	S_C_NAME,
	S_C_IMAGE,
	S_K_PODNAME,
	S_K_PODNS,
	S_SEVERITY_PROP,
	S_SIGID,
	S_EXEPATH,
	/* Tracee, v1beta1 */
	S_NAME,
	S_TS_SECONDS,
	S_TS_NANOS,
	S_W_PID,
	S_W_HOSTPID,
	S_W_PID_V,
	S_W_HOSTPID_V,
	S_W_THREAD,
	S_W_EXE,
	S_W_CID,
	S_W_CNAME,
	S_W_IMAGE,
	S_W_IMAGE_NAME,
	S_W_PODNAME,
	S_W_NS,
	S_THREAT,
	S_THREAT_SEV,
	S_THREAT_NAME,
	S_WORKLOAD,
	S_POLICIES,
	/* Sysdig Secure */
	S_SEVERITY,
	S_TS_RFC,
	S_CONTENT,
	S_RULENAME,
	S_S_FIELDS,
	S_L_CNAME,
	S_L_PODNAME,
	S_L_NS,
	S_L_IMAGE,
	S_COUNT
};

/* arrays of strings */
enum list { L_TAGS, L_T_TAGS, L_TR_TAGS, L_POLICIES, L_V_POLICIES, L_S_TAGS, L_COUNT };
/* objects whose every member is kept (field name -> scalar) */
enum members { M_FALCO, M_SYSDIG, M_COUNT };
/* arrays of {name, value} (Tracee's args and data) */
enum pairs { P_ARGS, P_DATA, P_COUNT };
#define PAIRS_MAX 64u

/* how a node takes its value */
enum mode { N_PLAIN, N_MEMBERS, N_STRLIST, N_EACH, N_PAIRS };

struct node {
	const char *key;
	uint8_t klen;
	uint8_t slot;			/* enum slot: the value's span (any type) */
	uint8_t mode;			/* enum mode */
	uint8_t coll;			/* the list, members or pairs collection of the mode */
	uint8_t kind;			/* a Tetragon event kind (1...) */
	const struct node *const *kids; /* an object's members of interest */
	const struct node *elem;	/* N_EACH: every element */
};

#define KIDS(...)  ((const struct node *const[]){__VA_ARGS__, NULL})
#define LEAF(k, s) (&(const struct node){.key = k, .klen = sizeof(k) - 1, .slot = s})
#define OBJ(k, s, ...)                                                                             \
	(&(const struct node){                                                                     \
	    .key = k, .klen = sizeof(k) - 1, .slot = s, .kids = KIDS(__VA_ARGS__)})

/* Tetragon: process_* -> {process, parent, policy_name, function_name, args, tags} */
static const struct node t_image = {
    .key = "image", .klen = sizeof("image") - 1, .kids = KIDS(LEAF("name", S_T_IMAGE))};
static const struct node t_container = {
    .key = "container",
    .klen = sizeof("container") - 1,
    .kids = KIDS(LEAF("id", S_T_CID), LEAF("name", S_T_CNAME), &t_image)};
static const struct node t_pod = {
    .key = "pod",
    .klen = sizeof("pod") - 1,
    .kids = KIDS(LEAF("namespace", S_T_POD_NS), LEAF("name", S_T_POD_NAME), &t_container)};
static const struct node t_process = {.key = "process",
				      .klen = sizeof("process") - 1,
				      .kids = KIDS(LEAF("pid", S_T_PID), LEAF("binary", S_T_BINARY),
						   LEAF("arguments", S_T_ARGS),
						   LEAF("docker", S_T_DOCKER), &t_pod)};
static const struct node t_parent = {.key = "parent",
				     .klen = sizeof("parent") - 1,
				     .kids =
					 KIDS(LEAF("binary", S_T_PBINARY), LEAF("pid", S_T_PPID))};
static const struct node t_sock = {.key = "sock_arg",
				   .klen = sizeof("sock_arg") - 1,
				   .kids =
				       KIDS(LEAF("daddr", S_T_DADDR), LEAF("dport", S_T_DPORT),
					    LEAF("saddr", S_T_SADDR), LEAF("sport", S_T_SPORT))};
static const struct node t_arg = {
    .key = "",
    .klen = sizeof("") - 1,
    .kids = KIDS(OBJ("file_arg", S_NONE, LEAF("path", S_T_FILE)),
		 OBJ("path_arg", S_NONE, LEAF("path", S_T_FILE)),
		 OBJ("linux_binprm_arg", S_NONE, LEAF("path", S_T_FILE)), &t_sock)};
static const struct node t_args = {
    .key = "args", .klen = sizeof("args") - 1, .mode = N_EACH, .elem = &t_arg};
static const struct node t_tags = {
    .key = "tags", .klen = sizeof("tags") - 1, .mode = N_STRLIST, .coll = L_T_TAGS};
#define T_EVENT_KIDS                                                                               \
	KIDS(&t_process, &t_parent, LEAF("policy_name", S_T_POLICY),                               \
	     LEAF("function_name", S_T_FUNCTION), LEAF("event", S_T_EVENT), &t_args, &t_tags)
static const char *const tetragon_kinds[] = {
    NULL, "process_exec", "process_kprobe", "process_tracepoint", "process_uprobe", "process_lsm",
};
static const struct node t_exec = {
    .key = "process_exec", .klen = sizeof("process_exec") - 1, .kind = 1, .kids = T_EVENT_KIDS};
static const struct node t_kprobe = {
    .key = "process_kprobe", .klen = sizeof("process_kprobe") - 1, .kind = 2, .kids = T_EVENT_KIDS};
static const struct node t_tp = {.key = "process_tracepoint",
				 .klen = sizeof("process_tracepoint") - 1,
				 .kind = 3,
				 .kids = T_EVENT_KIDS};
static const struct node t_uprobe = {
    .key = "process_uprobe", .klen = sizeof("process_uprobe") - 1, .kind = 4, .kids = T_EVENT_KIDS};
static const struct node t_lsm = {
    .key = "process_lsm", .klen = sizeof("process_lsm") - 1, .kind = 5, .kids = T_EVENT_KIDS};

/* Tracee v1beta1: workload (or context) -> {process, container, k8s, pod} */
static const struct node w_image = {.key = "image",
				    .klen = sizeof("image") - 1,
				    .slot = S_W_IMAGE,
				    .kids = KIDS(LEAF("name", S_W_IMAGE_NAME))};
static const struct node w_process = {
    .key = "process",
    .klen = sizeof("process") - 1,
    .kids = KIDS(OBJ("pid", S_W_PID, LEAF("value", S_W_PID_V)),
		 OBJ("host_pid", S_W_HOSTPID, LEAF("value", S_W_HOSTPID_V)),
		 OBJ("thread", S_NONE, LEAF("name", S_W_THREAD)),
		 OBJ("executable", S_NONE, LEAF("path", S_W_EXE)))};
static const struct node w_container = {
    .key = "container",
    .klen = sizeof("container") - 1,
    .kids = KIDS(LEAF("id", S_W_CID), LEAF("name", S_W_CNAME), &w_image)};
static const struct node w_k8s = {.key = "k8s",
				  .klen = sizeof("k8s") - 1,
				  .kids = KIDS(OBJ("pod", S_NONE, LEAF("name", S_W_PODNAME)),
					       OBJ("namespace", S_NONE, LEAF("name", S_W_NS)))};
static const struct node w_pod = {.key = "pod",
				  .klen = sizeof("pod") - 1,
				  .kids =
				      KIDS(LEAF("name", S_W_PODNAME), LEAF("namespace", S_W_NS))};
#define W_KIDS KIDS(&w_process, &w_container, &w_k8s, &w_pod)
static const struct node v_workload = {
    .key = "workload", .klen = sizeof("workload") - 1, .slot = S_WORKLOAD, .kids = W_KIDS};
static const struct node v_context = {
    .key = "context", .klen = sizeof("context") - 1, .slot = S_WORKLOAD, .kids = W_KIDS};
static const struct node v_policies = {
    .key = "policies",
    .klen = sizeof("policies") - 1,
    .slot = S_POLICIES,
    .kids = KIDS(&(const struct node){
	.key = "matched", .klen = sizeof("matched") - 1, .mode = N_STRLIST, .coll = L_V_POLICIES})};
static const struct node v_threat = {
    .key = "threat",
    .klen = sizeof("threat") - 1,
    .slot = S_THREAT,
    .kids = KIDS(LEAF("severity", S_THREAT_SEV), LEAF("name", S_THREAT_NAME))};
static const struct node v_timestamp = {
    .key = "timestamp",
    .klen = sizeof("timestamp") - 1,
    .slot = S_TIMESTAMP,
    .kids = KIDS(LEAF("seconds", S_TS_SECONDS), LEAF("nanos", S_TS_NANOS))};
static const struct node v_data = {
    .key = "data", .klen = sizeof("data") - 1, .mode = N_PAIRS, .coll = P_DATA};

/* Tracee flat */
static const struct node f_container = {
    .key = "container",
    .klen = sizeof("container") - 1,
    .kids = KIDS(LEAF("id", S_C_ID), LEAF("name", S_C_NAME), LEAF("image", S_C_IMAGE))};
static const struct node f_kubernetes = {
    .key = "kubernetes",
    .klen = sizeof("kubernetes") - 1,
    .kids = KIDS(LEAF("podName", S_K_PODNAME), LEAF("podNamespace", S_K_PODNS))};
static const struct node f_metadata = {
    .key = "metadata",
    .klen = sizeof("metadata") - 1,
    .kids = KIDS(
	&(const struct node){
	    .key = "Tags", .klen = sizeof("Tags") - 1, .mode = N_STRLIST, .coll = L_TR_TAGS},
	OBJ("Properties", S_NONE, LEAF("Severity", S_SEVERITY_PROP),
	    LEAF("signatureID", S_SIGID)))};

/* Sysdig Secure */
static const struct node s_content = {.key = "content",
				      .klen = sizeof("content") - 1,
				      .slot = S_CONTENT,
				      .kids =
					  KIDS(&(const struct node){.key = "fields",
								    .klen = sizeof("fields") - 1,
								    .slot = S_S_FIELDS,
								    .mode = N_MEMBERS,
								    .coll = M_SYSDIG},
					       LEAF("ruleName", S_RULENAME),
					       &(const struct node){.key = "ruleTags",
								    .klen = sizeof("ruleTags") - 1,
								    .mode = N_STRLIST,
								    .coll = L_S_TAGS})};
static const struct node s_labels = {.key = "labels",
				     .klen = sizeof("labels") - 1,
				     .kids = KIDS(LEAF("container.name", S_L_CNAME),
						  LEAF("kubernetes.pod.name", S_L_PODNAME),
						  LEAF("kubernetes.namespace.name", S_L_NS),
						  LEAF("container.image.repo", S_L_IMAGE))};

static const struct node top = {
    .key = "",
    .klen = sizeof("") - 1,
    .kids = KIDS(
	/* Falco, falcosidekick */
	LEAF("rule", S_RULE), LEAF("priority", S_PRIORITY), LEAF("time", S_TIME),
	LEAF("source", S_SOURCE), LEAF("uuid", S_UUID),
	&(const struct node){
	    .key = "tags", .klen = sizeof("tags") - 1, .mode = N_STRLIST, .coll = L_TAGS},
	&(const struct node){.key = "output_fields",
			     .klen = sizeof("output_fields") - 1,
			     .slot = S_OUTPUT_FIELDS,
			     .mode = N_MEMBERS,
			     .coll = M_FALCO},
	/* Tetragon */
	&t_exec, &t_kprobe, &t_tp, &t_uprobe, &t_lsm,
	/* Tracee flat */
	LEAF("eventName", S_EVENTNAME), LEAF("hostProcessId", S_HOSTPID),
	LEAF("processName", S_PROCNAME), LEAF("containerId", S_CONTAINERID),
	LEAF("containerImage", S_CONTAINERIMAGE), LEAF("containerName", S_CONTAINERNAME),
	LEAF("podName", S_PODNAME), LEAF("podNamespace", S_PODNS), &f_container, &f_kubernetes,
	&(const struct node){.key = "matchedPolicies",
			     .klen = sizeof("matchedPolicies") - 1,
			     .mode = N_STRLIST,
			     .coll = L_POLICIES},
	&f_metadata,
	&(const struct node){
	    .key = "args", .klen = sizeof("args") - 1, .mode = N_PAIRS, .coll = P_ARGS},
	OBJ("executable", S_NONE, LEAF("path", S_EXEPATH)),
	/* Tracee v1beta1 (timestamp: both) */
	LEAF("name", S_NAME), &v_timestamp, &v_workload, &v_context, &v_policies, &v_threat,
	&v_data,
	/* Sysdig */
	LEAF("severity", S_SEVERITY), LEAF("timestampRFC3339Nano", S_TS_RFC), &s_content,
	&s_labels)};

struct strlist {
	struct span v[ALERT_TAGS_MAX];
	unsigned n, over, other; /* kept; past the bound; not strings */
};
struct memberset {
	struct span k[ALERT_FIELDS_MAX], v[ALERT_FIELDS_MAX];
	unsigned n, over;
};
struct pairset {
	struct span k[PAIRS_MAX], v[PAIRS_MAX];
	unsigned n, over;
};

struct scan {
	const char *b;
	size_t n, i;
	unsigned depth;
	const char *err; /* static text */
	size_t err_at;
	unsigned kind, kinds; /* Tetragon: the last kind seen, how many seen */
	struct span slot[S_COUNT];
	struct strlist list[L_COUNT];
	struct memberset mem[M_COUNT];
	struct pairset pair[P_COUNT];
};

/* ---- the scanner ---- */

/* 0 plain, 1 control (invalid in a string), 2 '"', 3 '\\', 4 non-ASCII */
static const uint8_t str_class[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 2,
    ['\\'] = 3,
    [0x80 ... 0xff] = 4,
};

static int fail(struct scan *s, const char *what)
{
	if (!s->err) {
		s->err = what;
		s->err_at = s->i;
	}
	return -1;
}

static inline void skip_ws(struct scan *s)
{
	while (s->i < s->n) {
		char c = s->b[s->i];
		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			break;
		s->i++;
	}
}

/* one UTF-8 sequence at s->i (its lead >= 0x80): strict (no overlong form,
 * no surrogate, at most U+10FFFF) */
static int scan_utf8(struct scan *s)
{
	const unsigned char *p = (const unsigned char *)s->b + s->i;
	size_t left = s->n - s->i;
	unsigned c = p[0], need;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return fail(s, "invalid UTF-8");
	}
	if (left <= need)
		return fail(s, "invalid UTF-8");
	for (unsigned k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return fail(s, "invalid UTF-8");
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(s, "invalid UTF-8");
	s->i += need + 1;
	return 0;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int k = 0; k < 4; k++) {
		int d = hex_digit(p[k]);
		if (d < 0)
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* an escape at s->i (the backslash) */
static int scan_escape(struct scan *s)
{
	if (s->i + 1 >= s->n)
		return fail(s, "unterminated string");
	char c = s->b[s->i + 1];
	if (c != 'u') {
		if (!strchr("\"\\/bfnrt", c) || c == 0)
			return fail(s, "invalid escape in a string");
		s->i += 2;
		return 0;
	}
	uint32_t u, lo;
	if (s->i + 6 > s->n || hex4(s->b + s->i + 2, &u) < 0)
		return fail(s, "invalid \\u escape");
	if (u == 0)
		return fail(s, "\\u0000 in a string");
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail(s, "lone surrogate in a \\u escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (s->i + 12 > s->n || s->b[s->i + 6] != '\\' || s->b[s->i + 7] != 'u' ||
		    hex4(s->b + s->i + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return fail(s, "lone surrogate in a \\u escape");
		s->i += 12;
		return 0;
	}
	s->i += 6;
	return 0;
}

/* a string at s->i (the quote) */
static int scan_string(struct scan *s, struct span *sp)
{
	s->i++;
	size_t start = s->i;
	bool esc = false;
	for (;;) {
		/* eight bytes at a time while none is a quote, a backslash, a
		 * control character or past ASCII (SWAR: the bit tricks of
		 * "Bit Twiddling Hacks", haszero) */
		const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
#ifdef __SSE2__
		/* sixteen at a time where the CPU has it (every x86-64) */
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
			      ctl = _mm_set1_epi8(0x1f);
		while (s->n - s->i >= 16) {
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(s->b + s->i));
			/* signed compare: bytes >= 0x80 are negative, so <= 0x1f too */
			__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote),
								  _mm_cmpeq_epi8(w, bslash)),
						   _mm_cmpgt_epi8(_mm_add_epi8(ctl, _mm_set1_epi8(1)), w));
			int m = _mm_movemask_epi8(hit);
			if (m) {
				s->i += (size_t)__builtin_ctz((unsigned)m);
				break;
			}
			s->i += 16;
		}
#endif
		while (s->n - s->i >= 8) {
			uint64_t w;
			memcpy(&w, s->b + s->i, 8);
			uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
			uint64_t hit =
			    ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((w - ones * 0x20) & ~w) | w;
			if (hit & highs)
				break;
			s->i += 8;
		}
		while (s->i < s->n && str_class[(unsigned char)s->b[s->i]] == 0)
			s->i++;
		if (s->i >= s->n)
			return fail(s, "unterminated string");
		switch (str_class[(unsigned char)s->b[s->i]]) {
		case 1:
			return fail(s, "control character in a string");
		case 2:
			sp->off = (uint32_t)start;
			sp->len = (uint32_t)(s->i - start);
			sp->type = JT_STR;
			sp->flag = esc;
			s->i++;
			return 0;
		case 3:
			esc = true;
			if (scan_escape(s) < 0)
				return -1;
			break;
		default:
			if (scan_utf8(s) < 0)
				return -1;
		}
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* a number, as jansson takes it: an integer must fit a long long, a real
 * must not overflow */
static int scan_number(struct scan *s, struct span *sp)
{
	size_t start = s->i;
	bool integer = true;
	if (s->b[s->i] == '-')
		s->i++;
	if (s->i >= s->n || !is_digit(s->b[s->i]))
		return fail(s, "invalid number");
	if (s->b[s->i] == '0')
		s->i++;
	else
		while (s->i < s->n && is_digit(s->b[s->i]))
			s->i++;
	if (s->i < s->n && s->b[s->i] == '.') {
		integer = false;
		s->i++;
		if (s->i >= s->n || !is_digit(s->b[s->i]))
			return fail(s, "invalid number");
		while (s->i < s->n && is_digit(s->b[s->i]))
			s->i++;
	}
	bool expo = false;
	if (s->i < s->n && (s->b[s->i] == 'e' || s->b[s->i] == 'E')) {
		integer = false;
		expo = true;
		s->i++;
		if (s->i < s->n && (s->b[s->i] == '+' || s->b[s->i] == '-'))
			s->i++;
		if (s->i >= s->n || !is_digit(s->b[s->i]))
			return fail(s, "invalid number");
		while (s->i < s->n && is_digit(s->b[s->i]))
			s->i++;
	}
	size_t len = s->i - start;
	if ((integer && len > 18) || (!integer && (expo || len > 300))) {
		char tmp[512];
		if (len >= sizeof(tmp))
			return fail(s, "number too long");
		memcpy(tmp, s->b + start, len);
		tmp[len] = 0;
		errno = 0;
		double d = 0;
		if (integer)
			(void)strtoll(tmp, NULL, 10);
		else
			d = strtod(tmp, NULL);
		/* as jansson: an underflow (1e-999) is 0, only an overflow is refused */
		if (errno == ERANGE && (integer || d == HUGE_VAL || d == -HUGE_VAL))
			return fail(s,
				    integer ? "integer out of range" : "real number out of range");
	}
	sp->off = (uint32_t)start;
	sp->len = (uint32_t)len;
	sp->type = JT_NUM;
	sp->flag = integer;
	return 0;
}

static int scan_literal(struct scan *s, const char *lit, enum jt t, struct span *sp)
{
	size_t l = strlen(lit);
	if (s->n - s->i < l || memcmp(s->b + s->i, lit, l) != 0)
		return fail(s, "unexpected character");
	sp->off = (uint32_t)s->i;
	sp->len = (uint32_t)l;
	sp->type = (uint8_t)t;
	s->i += l;
	return 0;
}

static int scan_value(struct scan *s, const struct node *nd, struct span *out);

/* a key's bytes as a C comparison: the raw bytes, or decoded when escaped */
static size_t decode_string(const char *in, size_t n, char *out);

static const struct node *find_kid(const struct scan *s, const struct node *nd,
				   const struct span *k)
{
	if (!nd || !nd->kids)
		return NULL;
	const char *key = s->b + k->off;
	size_t len = k->len;
	char tmp[256]; /* the longest name known, every byte a \u escape, fits */
	if (k->flag) {
		if (len >= sizeof(tmp))
			return NULL;
		len = decode_string(key, len, tmp);
		key = tmp;
	}
	for (const struct node *const *c = nd->kids; *c; c++)
		if ((*c)->klen == len && (*c)->key[0] == key[0] && memcmp((*c)->key, key, len) == 0)
			return *c;
	return NULL;
}

static int enter(struct scan *s)
{
	if (++s->depth > ALERT_DEPTH_MAX)
		return fail(s, "nested deeper than the bound");
	s->i++;
	skip_ws(s);
	return 0;
}

/* after a member or an element: 1 another follows, 0 the end (closing consumed) */
static int next_or_end(struct scan *s, char close)
{
	skip_ws(s);
	if (s->i >= s->n)
		return fail(s, "unexpected end");
	char c = s->b[s->i];
	if (c == ',') {
		s->i++;
		skip_ws(s);
		return 1;
	}
	if (c == close) {
		s->i++;
		s->depth--;
		return 0;
	}
	return fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static int scan_key(struct scan *s, struct span *k)
{
	if (s->i >= s->n || s->b[s->i] != '"')
		return fail(s, "expected a member name");
	if (scan_string(s, k) < 0)
		return -1;
	skip_ws(s);
	if (s->i >= s->n || s->b[s->i] != ':')
		return fail(s, "expected ':'");
	s->i++;
	return 0;
}

static bool is_scalar(const struct span *v)
{
	return v->type != JT_OBJ && v->type != JT_ARR;
}

/* {name, value}: "name" names it, "type" is skipped, any other scalar member
 * is its value (Tracee's flat args: value; v1beta1 data: str, int32...) */
static int scan_pair(struct scan *s, struct pairset *ps)
{
	struct span name = {0}, val = {0}, k, v;
	if (s->i >= s->n || s->b[s->i] != '{') {
		v = (struct span){0};
		return scan_value(s, NULL, &v);
	}
	if (enter(s) < 0)
		return -1;
	if (s->i < s->n && s->b[s->i] == '}') {
		s->i++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (scan_key(s, &k) < 0 || scan_value(s, NULL, &v) < 0)
			return -1;
		const char *kb = s->b + k.off;
		if (k.len == 4 && !k.flag && memcmp(kb, "name", 4) == 0)
			name = v;
		else if (!(k.len == 4 && !k.flag && memcmp(kb, "type", 4) == 0) && is_scalar(&v))
			val = v;
		int r = next_or_end(s, '}');
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	if (name.type == JT_STR && val.type != JT_NONE) {
		if (ps->n < PAIRS_MAX) {
			ps->k[ps->n] = name;
			ps->v[ps->n++] = val;
		} else {
			ps->over++;
		}
	}
	return 0;
}

static int scan_object(struct scan *s, const struct node *nd)
{
	if (enter(s) < 0)
		return -1;
	if (s->i < s->n && s->b[s->i] == '}') {
		s->i++;
		s->depth--;
		return 0;
	}
	struct memberset *ms = nd && nd->mode == N_MEMBERS ? &s->mem[nd->coll] : NULL;
	for (;;) {
		struct span k, v = {0};
		if (scan_key(s, &k) < 0)
			return -1;
		if (ms) {
			if (scan_value(s, NULL, &v) < 0)
				return -1;
			if (ms->n < ALERT_FIELDS_MAX) {
				ms->k[ms->n] = k;
				ms->v[ms->n++] = v;
			} else {
				ms->over++;
			}
		} else {
			const struct node *kid = find_kid(s, nd, &k);
			if (kid && kid->kind) {
				s->kind = kid->kind;
				s->kinds++;
			}
			if (scan_value(s, kid, &v) < 0)
				return -1;
		}
		int r = next_or_end(s, '}');
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
}

static int scan_array(struct scan *s, const struct node *nd)
{
	if (enter(s) < 0)
		return -1;
	if (s->i < s->n && s->b[s->i] == ']') {
		s->i++;
		s->depth--;
		return 0;
	}
	uint8_t mode = nd ? nd->mode : N_PLAIN;
	for (;;) {
		struct span v = {0};
		if (mode == N_PAIRS) {
			if (scan_pair(s, &s->pair[nd->coll]) < 0)
				return -1;
		} else if (mode == N_EACH) {
			if (scan_value(s, nd->elem, &v) < 0)
				return -1;
		} else {
			if (scan_value(s, NULL, &v) < 0)
				return -1;
			if (mode == N_STRLIST) {
				struct strlist *l = &s->list[nd->coll];
				if (v.type != JT_STR)
					l->other++;
				else if (l->n < ALERT_TAGS_MAX)
					l->v[l->n++] = v;
				else
					l->over++;
			}
		}
		int r = next_or_end(s, ']');
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
}

static int scan_value(struct scan *s, const struct node *nd, struct span *out)
{
	skip_ws(s);
	if (s->i >= s->n)
		return fail(s, "unexpected end");
	size_t start = s->i;
	int r;
	switch (s->b[s->i]) {
	case '{':
		r = scan_object(s, nd && nd->mode != N_STRLIST ? nd : NULL);
		out->type = JT_OBJ;
		break;
	case '[':
		r = scan_array(s, nd);
		out->type = JT_ARR;
		break;
	case '"':
		r = scan_string(s, out);
		break;
	case 't':
		r = scan_literal(s, "true", JT_TRUE, out);
		break;
	case 'f':
		r = scan_literal(s, "false", JT_FALSE, out);
		break;
	case 'n':
		r = scan_literal(s, "null", JT_NULL, out);
		break;
	default:
		if (s->b[s->i] == '-' || is_digit(s->b[s->i]))
			r = scan_number(s, out);
		else
			r = fail(s, "unexpected character");
	}
	if (r < 0)
		return -1;
	if (out->type == JT_OBJ || out->type == JT_ARR) {
		out->off = (uint32_t)start;
		out->len = (uint32_t)(s->i - start);
	}
	if (nd && nd->slot)
		s->slot[nd->slot] = *out;
	return 0;
}

/* ---- decoding what was found ---- */

static size_t put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* the scanner checked the escapes: decode them (the output is never longer) */
static size_t decode_string(const char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (in[i] != '\\') {
			out[o++] = in[i++];
			continue;
		}
		char c = in[i + 1];
		uint32_t u = 0, lo = 0;
		switch (c) {
		case 'b':
			out[o++] = '\b';
			i += 2;
			break;
		case 'f':
			out[o++] = '\f';
			i += 2;
			break;
		case 'n':
			out[o++] = '\n';
			i += 2;
			break;
		case 'r':
			out[o++] = '\r';
			i += 2;
			break;
		case 't':
			out[o++] = '\t';
			i += 2;
			break;
		case 'u':
			(void)hex4(in + i + 2, &u);
			i += 6;
			if (u >= 0xd800 && u <= 0xdbff) {
				(void)hex4(in + i + 2, &lo);
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			o += put_utf8(u, out + o);
			break;
		default:
			out[o++] = c;
			i += 2;
			break;
		}
	}
	return o;
}

/* cut at most ALERT_STR_MAX bytes, never inside a UTF-8 sequence */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t l = max;
	while (l > 0 && ((unsigned char)s[l] & 0xc0) == 0x80)
		l--;
	return l;
}

struct norm {
	const struct scan *s;
	struct alert *a;
	struct err *e;
};

static void note(struct norm *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct norm *z, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(z->a->notes, json_string(buf));
}

/* a string span decoded and cut (noted as what); *len its length */
static char *span_text(struct norm *z, const struct span *sp, const char *what, size_t *len)
{
	const char *p = z->s->b + sp->off;
	char *out = xmalloc((size_t)sp->len + 1);
	size_t l = sp->flag ? decode_string(p, sp->len, out) : (memcpy(out, p, sp->len), sp->len);
	size_t c = utf8_cut(out, l, ALERT_STR_MAX);
	if (c < l)
		note(z, "%s cut to %zu of %zu bytes", what, c, l);
	out[c] = 0;
	if (len)
		*len = c;
	return out;
}

/* a scalar span as JSON (strings decoded and cut); NULL for objects/arrays */
static json_t *span_json(struct norm *z, const struct span *sp, const char *what)
{
	const char *p = z->s->b + sp->off;
	char tmp[64];
	size_t len;
	switch (sp->type) {
	case JT_STR: {
		if (!sp->flag && sp->len <= ALERT_STR_MAX)
			return json_stringn_nocheck(p, sp->len); /* the scanner checked it */
		char *t = span_text(z, sp, what, &len);
		json_t *j = json_stringn_nocheck(t, len);
		free(t);
		return j;
	}
	case JT_NUM:
		if (sp->len >= sizeof(tmp)) {
			/* a long real: strtod on a copy of it */
			char *t = xstrndup(p, sp->len);
			json_t *j = json_real(strtod(t, NULL));
			free(t);
			return j;
		}
		memcpy(tmp, p, sp->len);
		tmp[sp->len] = 0;
		if (sp->flag)
			return json_integer(strtoll(tmp, NULL, 10));
		return json_real(strtod(tmp, NULL));
	case JT_TRUE:
		return json_true();
	case JT_FALSE:
		return json_false();
	case JT_NULL:
		return json_null();
	default:
		return NULL;
	}
}

static const struct span *slot(const struct norm *z, enum slot k)
{
	const struct span *sp = &z->s->slot[k];
	return sp->type == JT_NONE ? NULL : sp;
}

/* a member that must be a string (or null: unknown): its text, "" when
 * absent; -1 with an error naming it when it is of another type */
static int get_str(struct norm *z, enum slot k, const char *name, char **out)
{
	const struct span *sp = slot(z, k);
	*out = NULL;
	if (!sp || sp->type == JT_NULL)
		return 0;
	if (sp->type != JT_STR)
		return err_set(z->e, ERR_INVALID, "'%s' is not a string", name);
	*out = span_text(z, sp, name, NULL);
	return 0;
}

/* an integer member (a number, or a string of digits as protobuf's JSON
 * writes 64-bit values) in min..max: 0 with *out, -1 when it is something
 * else (sp not absent nor null) */
static int span_ll(const struct norm *z, const struct span *sp, long long min, long long max,
		   long long *out)
{
	char tmp[32];
	if ((sp->type != JT_NUM && sp->type != JT_STR) || sp->len >= sizeof(tmp) ||
	    (sp->type == JT_STR && sp->flag))
		return -1;
	memcpy(tmp, z->s->b + sp->off, sp->len);
	tmp[sp->len] = 0;
	return parse_ll(tmp, min, max, out);
}

/* span_ll of a member, with an error naming it; absent or null: !*have */
static int get_int(struct norm *z, const struct span *sp, const char *name, long long min,
		   long long max, long long *out, bool *have)
{
	*have = false;
	if (!sp || sp->type == JT_NULL)
		return 0;
	if (span_ll(z, sp, min, max, out) < 0)
		return err_set(z->e, ERR_INVALID, "'%s' is not an integer in %lld..%lld", name, min,
			       max);
	*have = true;
	return 0;
}

static void set_field(struct norm *z, const char *key, json_t *v)
{
	if (!v)
		return;
	if (json_object_size(z->a->fields) >= ALERT_FIELDS_MAX) {
		json_decref(v);
		return;
	}
	json_object_set_new_nocheck(z->a->fields, key, v);
}

static void set_field_str(struct norm *z, const char *key, const char *v)
{
	if (v && *v)
		set_field(z, key, json_string_nocheck(v));
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* ---- priorities ---- */

static const char *const prio_names[] = {
    [AP_DEBUG] = "Debug",   [AP_INFORMATIONAL] = "Informational",
    [AP_NOTICE] = "Notice", [AP_WARNING] = "Warning",
    [AP_ERROR] = "Error",   [AP_CRITICAL] = "Critical",
    [AP_ALERT] = "Alert",   [AP_EMERGENCY] = "Emergency",
};

const char *alert_prio_name(enum alert_prio p)
{
	return (unsigned)p < ARRAY_SIZE(prio_names) ? prio_names[p] : "Unknown";
}

int alert_prio_parse(const char *s, enum alert_prio *p)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(prio_names); i++) {
		if (strcasecmp(s, prio_names[i]) == 0) {
			*p = (enum alert_prio)i;
			return 0;
		}
	}
	if (strcasecmp(s, "info") == 0) {
		*p = AP_INFORMATIONAL;
		return 0;
	}
	return -1;
}

/* Tracee's severities (0 info, 1 low, 2 medium, 3 high, 4 critical; numbers
 * or the v1beta1 enum's names) onto Falco's priorities */
static const enum alert_prio tracee_prio[] = {AP_INFORMATIONAL, AP_NOTICE, AP_WARNING, AP_ERROR,
					      AP_CRITICAL};
static const char *const tracee_sev_names[] = {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"};

/* Tracee's severity at sp: 1 with *p, 0 when absent or null, -1 when it is
 * neither a name nor an integer in 0..4 (the normalizer and the peek both) */
static int tracee_sev(const struct norm *z, const struct span *sp, enum alert_prio *p)
{
	if (!sp || sp->type == JT_NULL)
		return 0;
	if (sp->type == JT_STR && !sp->flag) {
		for (size_t i = 0; i < ARRAY_SIZE(tracee_sev_names); i++) {
			size_t l = strlen(tracee_sev_names[i]);
			if (sp->len == l &&
			    strncasecmp(z->s->b + sp->off, tracee_sev_names[i], l) == 0) {
				*p = tracee_prio[i];
				return 1;
			}
		}
	}
	long long v;
	if (span_ll(z, sp, 0, 4, &v) < 0)
		return -1;
	*p = tracee_prio[v];
	return 1;
}

static int tracee_severity(struct norm *z, const struct span *sp, const char *name)
{
	int r = tracee_sev(z, sp, &z->a->prio);
	if (r < 0)
		return err_set(z->e, ERR_INVALID, "'%s' is not an integer in 0..4 nor a severity's name",
			       name);
	z->a->prio_known = r > 0;
	return 0;
}

/* Sysdig's severity (syslog's order: 0 emergency ... 7 debug), as
 * tracee_sev */
static int sysdig_sev(const struct norm *z, const struct span *sp, enum alert_prio *p)
{
	if (!sp || sp->type == JT_NULL)
		return 0;
	long long v;
	if (span_ll(z, sp, 0, 7, &v) < 0)
		return -1;
	*p = (enum alert_prio)(AP_EMERGENCY - v);
	return 1;
}

/* ---- time ---- */

/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
static bool rfc3339_valid(const char *t)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? !is_digit(t[i]) : t[i] != pat[i])
			return false;
	}
	if (t[i] == '.') {
		i++;
		size_t d = 0;
		while (is_digit(t[i]))
			i++, d++;
		if (d == 0 || d > 9)
			return false;
	}
	if (t[i] == 'Z' || t[i] == 'z')
		return t[i + 1] == 0;
	if (t[i] != '+' && t[i] != '-')
		return false;
	return is_digit(t[i + 1]) && is_digit(t[i + 2]) && t[i + 3] == ':' && is_digit(t[i + 4]) &&
	       is_digit(t[i + 5]) && t[i + 6] == 0;
}

static int set_time_str(struct norm *z, enum slot k, const char *name)
{
	char *t;
	if (get_str(z, k, name, &t) < 0)
		return -1;
	if (t && !rfc3339_valid(t)) {
		note(z, "'%s' is not an RFC 3339 time: left out", name);
		free(t);
		t = NULL;
	}
	if (t) {
		str_free(z->a->time);
		z->a->time = t;
	}
	return 0;
}

#define TIME_SEC_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

static void set_time_ns(struct norm *z, long long sec, long long nsec)
{
	struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
	char buf[64];
	time_rfc3339_from(&ts, buf, sizeof(buf));
	str_free(z->a->time);
	z->a->time = xstrdup(buf);
}

/* ---- container ids, images ---- */

/* the id a detector gave: "" / "host" a host event; "runtime://ID" its ID;
 * else lowercase hex, 12 to 64 digits, or the alert is refused */
static int set_container(struct norm *z, char *id, const char *name)
{
	if (!id)
		return 0;
	const char *p = id;
	const char *sch = strstr(p, "://");
	if (sch)
		p = sch + 3;
	size_t l = strlen(p);
	if (l == 0 || strcmp(p, "host") == 0) {
		free(id);
		str_free(z->a->container_id);
		z->a->container_id = empty;
		return 0;
	}
	bool hex = l >= 12 && l <= 64;
	for (size_t i = 0; hex && i < l; i++)
		hex = (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f');
	if (!hex) {
		int r =
		    err_set(z->e, ERR_INVALID,
			    "'%s' is not a container id (12 to 64 lowercase hex digits): '%.80s'",
			    name, id);
		free(id);
		return r;
	}
	str_free(z->a->container_id);
	z->a->container_id = xstrdup(p);
	free(id);
	return 0;
}

/* keep a string member (absent, null or "<NA>": left as it is) */
static void keep(char **dst, char *v)
{
	if (!v)
		return;
	if (!*v || strcmp(v, "<NA>") == 0) {
		free(v);
		return;
	}
	str_free(*dst);
	*dst = v;
}

/* Tracee's rule: the first policy matched that is not empty, else the
 * event's name (fallback: kept, or freed when a policy wins) */
static void rule_policy_or(struct norm *z, enum list list, const char *what, char *fallback)
{
	const struct strlist *pl = &z->s->list[list];
	char *rule = NULL;
	for (unsigned i = 0; i < pl->n && !rule; i++) {
		rule = span_text(z, &pl->v[i], what, NULL);
		if (!*rule) {
			free(rule);
			rule = NULL;
		}
	}
	keep(&z->a->rule, rule ? rule : fallback);
	if (rule)
		free(fallback);
}


/* "repo:tag" / "repo@sha256:..." -> repo */
static char *image_repo(const char *img)
{
	const char *at = strchr(img, '@');
	size_t l = at ? (size_t)(at - img) : strlen(img);
	const char *slash = memrchr(img, '/', l);
	const char *colon = memrchr(img, ':', l);
	if (colon && (!slash || colon > slash))
		l = (size_t)(colon - img);
	return xstrndup(img, l);
}

/* ---- the formats ---- */

static void take_list(struct norm *z, enum list k, const char *what)
{
	const struct strlist *l = &z->s->list[k];
	for (unsigned i = 0; i < l->n; i++) {
		size_t len;
		char *t = span_text(z, &l->v[i], what, &len);
		json_array_append_new(z->a->tags, json_stringn_nocheck(t, len));
		free(t);
	}
	if (l->over)
		note(z, "%u %s past the first %u left out", l->over, what, ALERT_TAGS_MAX);
	if (l->other)
		note(z, "%u %s that are not strings left out", l->other, what);
}

/* an object of Falco fields: every scalar member kept */
static void take_members(struct norm *z, enum members k)
{
	const struct memberset *m = &z->s->mem[k];
	for (unsigned i = 0; i < m->n; i++) {
		const struct span *ks = &m->k[i];
		char name[101], *key = NULL;
		const char *kp = z->s->b + ks->off;
		size_t kl = ks->len;
		if (ks->flag || kl > ALERT_STR_MAX) {
			key = span_text(z, ks, "a field name", &kl);
			kp = key;
		}
		/* the name for notes: its first 100 bytes (never cut inside a character) */
		size_t nl = utf8_cut(kp, kl, sizeof(name) - 1);
		memcpy(name, kp, nl);
		name[nl] = 0;
		json_t *v = span_json(z, &m->v[i], name);
		if (!v)
			note(z, "field '%s' is not a scalar: left out", name);
		else
			json_object_setn_new_nocheck(z->a->fields, kp, kl, v);
		free(key);
	}
	if (m->over)
		note(z, "%u fields past the first %u left out", m->over, ALERT_FIELDS_MAX);
}

/* the struct's members from the Falco fields (Falco, falcosidekick, Sysdig) */
static int from_falco_fields(struct norm *z)
{
	json_t *f = z->a->fields;
	/* the full id when the rule's output has it, else the 12-char one */
	const char *idf = "container.full_id";
	json_t *v = json_object_get(f, idf);
	if (!json_is_string(v) || !*json_string_value(v))
		v = json_object_get(f, idf = "container.id");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return err_set(z->e, ERR_INVALID, "'%s' is not a string", idf);
		if (set_container(z, xstrdup(json_string_value(v)), idf) < 0)
			return -1;
	} else {
		note(z, "no container.id: a host event");
	}
	static const struct {
		const char *field;
		size_t off;
	} strs[] = {
	    {"container.name", offsetof(struct alert, container_name)},
	    {"container.image.repository", offsetof(struct alert, image)},
	    {"container.image", offsetof(struct alert, image)},
	    {"k8s.pod.name", offsetof(struct alert, pod)},
	    {"k8s.ns.name", offsetof(struct alert, ns)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		v = json_object_get(f, strs[i].field);
		if (json_is_string(v))
			keep((char **)((char *)z->a + strs[i].off), xstrdup(json_string_value(v)));
	}
	v = json_object_get(f, "proc.pid");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		z->a->pid = json_integer_value(v);
	else if (json_is_string(v) && parse_ll(json_string_value(v), 1, INT32_MAX, &z->a->pid) < 0)
		z->a->pid = 0;
	return 0;
}

static int norm_falco(struct norm *z)
{
	const struct span *of = slot(z, S_OUTPUT_FIELDS);
	if (of->type != JT_OBJ)
		return err_set(z->e, ERR_INVALID, "'output_fields' is not an object");
	z->a->source = slot(z, S_UUID) ? "falcosidekick" : "falco";
	char *rule, *prio;
	if (get_str(z, S_RULE, "rule", &rule) < 0)
		return -1;
	keep(&z->a->rule, rule);
	if (get_str(z, S_PRIORITY, "priority", &prio) < 0)
		return -1;
	if (prio) {
		if (alert_prio_parse(prio, &z->a->prio) == 0)
			z->a->prio_known = true;
		else
			note(z, "unknown priority '%.40s'", prio);
		free(prio);
	}
	if (set_time_str(z, S_TIME, "time") < 0)
		return -1;
	take_list(z, L_TAGS, "tags");
	take_members(z, M_FALCO);
	return from_falco_fields(z);
}

static int norm_sysdig(struct norm *z)
{
	const struct span *f = slot(z, S_S_FIELDS);
	if (f->type != JT_OBJ)
		return err_set(z->e, ERR_INVALID, "'content.fields' is not an object");
	z->a->source = "sysdig";
	char *rule;
	if (get_str(z, S_RULENAME, "content.ruleName", &rule) < 0)
		return -1;
	if (!rule && get_str(z, S_NAME, "name", &rule) < 0)
		return -1;
	keep(&z->a->rule, rule);
	int r = sysdig_sev(z, slot(z, S_SEVERITY), &z->a->prio);
	if (r < 0)
		return err_set(z->e, ERR_INVALID, "'severity' is not an integer in 0..7");
	z->a->prio_known = r > 0;
	if (set_time_str(z, S_TS_RFC, "timestampRFC3339Nano") < 0)
		return -1;
	take_list(z, L_S_TAGS, "content.ruleTags");
	take_members(z, M_SYSDIG);
	/* the labels fill what the fields do not have */
	static const struct {
		enum slot k;
		const char *label, *field;
	} lab[] = {
	    {S_L_CNAME, "labels.container.name", "container.name"},
	    {S_L_PODNAME, "labels.kubernetes.pod.name", "k8s.pod.name"},
	    {S_L_NS, "labels.kubernetes.namespace.name", "k8s.ns.name"},
	    {S_L_IMAGE, "labels.container.image.repo", "container.image.repository"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(lab); i++) {
		char *t;
		if (get_str(z, lab[i].k, lab[i].label, &t) < 0)
			return -1;
		if (t && !json_object_get(z->a->fields, lab[i].field))
			set_field(z, lab[i].field, json_string_nocheck(t));
		free(t);
	}
	if (!json_object_get(z->a->fields, "container.id")) {
		char *cid;
		if (get_str(z, S_CONTAINERID, "containerId", &cid) < 0)
			return -1;
		if (cid)
			set_field(z, "container.id", json_string_nocheck(cid));
		free(cid);
	}
	return from_falco_fields(z);
}

/* a string slot into a field (and the struct member, when given) */
static int str_field(struct norm *z, enum slot k, const char *name, const char *field,
		     char **member)
{
	const struct span *sp = slot(z, k);
	if (!member && sp && sp->type == JT_STR && !sp->flag && sp->len &&
	    sp->len <= ALERT_STR_MAX) {
		/* a field alone, unescaped: straight from the input, one copy */
		set_field(z, field, json_stringn_nocheck(z->s->b + sp->off, sp->len));
		return 0;
	}
	char *t;
	if (get_str(z, k, name, &t) < 0)
		return -1;
	if (!t)
		return 0;
	set_field_str(z, field, t);
	if (member)
		keep(member, t);
	else
		free(t);
	return 0;
}

static int int_field(struct norm *z, enum slot k, const char *name, const char *field,
		     long long max, long long *member)
{
	long long v;
	bool have;
	if (get_int(z, slot(z, k), name, 0, max, &v, &have) < 0)
		return -1;
	if (!have)
		return 0;
	set_field(z, field, json_integer(v));
	if (member)
		*member = v;
	return 0;
}

/* the image: the struct keeps it whole, the fields its repository */
static void set_image(struct norm *z, char *img)
{
	if (!img)
		return;
	if (*img && strcmp(img, "<NA>") != 0) {
		char *repo = image_repo(img);
		set_field_str(z, "container.image.repository", repo);
		set_field_str(z, "container.image", img);
		free(repo);
	}
	keep(&z->a->image, img);
}

static void cmdline(struct norm *z, const char *exe, const char *args)
{
	if (!exe || !*exe)
		return;
	char *c =
	    args && *args ? xasprintf("%s %s", base_name(exe), args) : xstrdup(base_name(exe));
	set_field_str(z, "proc.cmdline", c);
	free(c);
}

static int norm_tetragon(struct norm *z)
{
	if (z->s->kinds > 1)
		return err_set(z->e, ERR_INVALID, "more than one Tetragon event in one document");
	const char *kind = tetragon_kinds[z->s->kind];
	z->a->source = "tetragon";
	char *policy, *func, *event, *exe, *args, *pexe, *img, *cid, *docker;
	if (get_str(z, S_T_POLICY, "policy_name", &policy) < 0 ||
	    get_str(z, S_T_FUNCTION, "function_name", &func) < 0 ||
	    get_str(z, S_T_EVENT, "event", &event) < 0)
		return -1;
	set_field_str(z, "evt.type", func ? func : event ? event : kind);
	set_field_str(z, "tetragon.policy_name", policy);
	keep(&z->a->rule, policy ? policy : xstrdup(kind));
	free(func);
	free(event);
	set_field_str(z, "tetragon.kind", kind);
	if (set_time_str(z, S_TIME, "time") < 0)
		return -1;
	if (int_field(z, S_T_PID, "process.pid", "proc.pid", INT32_MAX, &z->a->pid) < 0 ||
	    int_field(z, S_T_PPID, "parent.pid", "proc.ppid", INT32_MAX, NULL) < 0)
		return -1;
	if (get_str(z, S_T_BINARY, "process.binary", &exe) < 0)
		return -1;
	if (get_str(z, S_T_ARGS, "process.arguments", &args) < 0) {
		free(exe);
		return -1;
	}
	if (exe) {
		set_field_str(z, "proc.exepath", exe);
		set_field_str(z, "proc.name", base_name(exe));
	}
	set_field_str(z, "proc.args", args);
	cmdline(z, exe, args);
	free(exe);
	free(args);
	if (get_str(z, S_T_PBINARY, "parent.binary", &pexe) < 0)
		return -1;
	if (pexe) {
		set_field_str(z, "proc.pexepath", pexe);
		set_field_str(z, "proc.pname", base_name(pexe));
		free(pexe);
	}
	if (str_field(z, S_T_POD_NAME, "process.pod.name", "k8s.pod.name", &z->a->pod) < 0 ||
	    str_field(z, S_T_POD_NS, "process.pod.namespace", "k8s.ns.name", &z->a->ns) < 0 ||
	    str_field(z, S_T_CNAME, "process.pod.container.name", "container.name",
		      &z->a->container_name) < 0 ||
	    str_field(z, S_T_FILE, "args path", "fd.name", NULL) < 0 ||
	    str_field(z, S_T_DADDR, "sock_arg.daddr", "fd.rip", NULL) < 0 ||
	    str_field(z, S_T_SADDR, "sock_arg.saddr", "fd.lip", NULL) < 0 ||
	    int_field(z, S_T_DPORT, "sock_arg.dport", "fd.rport", 65535, NULL) < 0 ||
	    int_field(z, S_T_SPORT, "sock_arg.sport", "fd.lport", 65535, NULL) < 0)
		return -1;
	if (get_str(z, S_T_IMAGE, "process.pod.container.image.name", &img) < 0)
		return -1;
	set_image(z, img);
	take_list(z, L_T_TAGS, "tags");
	/* the pod's container id (full), else the docker one (a prefix) */
	if (get_str(z, S_T_CID, "process.pod.container.id", &cid) < 0)
		return -1;
	if (get_str(z, S_T_DOCKER, "process.docker", &docker) < 0) {
		free(cid);
		return -1;
	}
	if (cid && *cid) {
		free(docker);
		if (set_container(z, cid, "process.pod.container.id") < 0)
			return -1;
	} else {
		free(cid);
		if (set_container(z, docker, "process.docker") < 0)
			return -1;
	}
	set_field_str(z, "container.id", *z->a->container_id ? z->a->container_id : "host");
	return 0;
}

/* Tracee's args / data: the ones with a Falco name */
static void tracee_pairs(struct norm *z, enum pairs k)
{
	static const struct {
		const char *arg, *field;
	} map[] = {
	    {"pathname", "fd.name"},  {"path", "fd.name"}, {"dst", "fd.rip"},
	    {"dst_port", "fd.rport"}, {"src", "fd.lip"},   {"src_port", "fd.lport"},
	};
	const struct pairset *p = &z->s->pair[k];
	for (unsigned i = 0; i < p->n; i++) {
		const struct span *n = &p->k[i];
		for (size_t m = 0; m < ARRAY_SIZE(map); m++) {
			size_t l = strlen(map[m].arg);
			if (n->len == l && !n->flag && memcmp(z->s->b + n->off, map[m].arg, l) == 0)
				set_field(z, map[m].field, span_json(z, &p->v[i], map[m].field));
		}
	}
}

static int tracee_container(struct norm *z, enum slot id, const char *id_name)
{
	char *cid;
	if (get_str(z, id, id_name, &cid) < 0)
		return -1;
	if (!cid) {
		note(z, "no container id: a host event");
		return 0;
	}
	if (set_container(z, cid, id_name) < 0)
		return -1;
	set_field_str(z, "container.id", *z->a->container_id ? z->a->container_id : "host");
	return 0;
}

static int norm_tracee_flat(struct norm *z)
{
	z->a->source = "tracee";
	char *ev, *img;
	if (get_str(z, S_EVENTNAME, "eventName", &ev) < 0)
		return -1;
	set_field_str(z, "evt.type", ev);
	rule_policy_or(z, L_POLICIES, "matchedPolicies", ev);
	long long ns;
	bool have;
	if (get_int(z, slot(z, S_TIMESTAMP), "timestamp", 0, LLONG_MAX, &ns, &have) < 0)
		return -1;
	if (have)
		set_time_ns(z, ns / 1000000000, ns % 1000000000);
	if (tracee_severity(z, slot(z, S_SEVERITY_PROP), "metadata.Properties.Severity") < 0)
		return -1;
	if (int_field(z, S_HOSTPID, "hostProcessId", "proc.pid", INT32_MAX, &z->a->pid) < 0 ||
	    str_field(z, S_PROCNAME, "processName", "proc.name", NULL) < 0 ||
	    str_field(z, S_EXEPATH, "executable.path", "proc.exepath", NULL) < 0 ||
	    str_field(z, S_SIGID, "metadata.Properties.signatureID", "tracee.signature_id", NULL) <
		0)
		return -1;
	/* the flat members (containerId, podName...), else the nested ones */
	if (str_field(z, S_C_NAME, "container.name", "container.name", &z->a->container_name) < 0 ||
	    str_field(z, S_CONTAINERNAME, "containerName", "container.name",
		      &z->a->container_name) < 0 ||
	    str_field(z, S_K_PODNAME, "kubernetes.podName", "k8s.pod.name", &z->a->pod) < 0 ||
	    str_field(z, S_PODNAME, "podName", "k8s.pod.name", &z->a->pod) < 0 ||
	    str_field(z, S_K_PODNS, "kubernetes.podNamespace", "k8s.ns.name", &z->a->ns) < 0 ||
	    str_field(z, S_PODNS, "podNamespace", "k8s.ns.name", &z->a->ns) < 0)
		return -1;
	if (get_str(z, slot(z, S_CONTAINERIMAGE) ? S_CONTAINERIMAGE : S_C_IMAGE, "containerImage",
		    &img) < 0)
		return -1;
	set_image(z, img);
	take_list(z, L_TR_TAGS, "metadata.Tags");
	tracee_pairs(z, P_ARGS);
	/* containerId, else container.id: the first that is not empty */
	const struct span *ci = slot(z, S_CONTAINERID);
	bool flat = ci && !(ci->type == JT_STR && ci->len == 0 && slot(z, S_C_ID));
	return tracee_container(z, flat ? S_CONTAINERID : S_C_ID,
				flat ? "containerId" : "container.id");
}

static int norm_tracee_v1(struct norm *z)
{
	z->a->source = "tracee";
	char *name, *tname, *img;
	if (get_str(z, S_NAME, "name", &name) < 0)
		return -1;
	set_field_str(z, "evt.type", name);
	rule_policy_or(z, L_V_POLICIES, "policies.matched", name);
	const struct span *ts = slot(z, S_TIMESTAMP);
	if (ts && ts->type == JT_STR) {
		if (set_time_str(z, S_TIMESTAMP, "timestamp") < 0)
			return -1;
	} else if (ts && ts->type == JT_OBJ) {
		long long sec, ns = 0;
		bool have, have_ns;
		if (get_int(z, slot(z, S_TS_SECONDS), "timestamp.seconds", 0, TIME_SEC_MAX, &sec,
			    &have) < 0 ||
		    get_int(z, slot(z, S_TS_NANOS), "timestamp.nanos", 0, 999999999, &ns,
			    &have_ns) < 0)
			return -1;
		if (have)
			set_time_ns(z, sec, ns);
	} else if (ts && ts->type != JT_NULL) {
		return err_set(z->e, ERR_INVALID, "'timestamp' is not a time");
	}
	if (tracee_severity(z, slot(z, S_THREAT_SEV), "threat.severity") < 0)
		return -1;
	if (get_str(z, S_THREAT_NAME, "threat.name", &tname) < 0)
		return -1;
	set_field_str(z, "tracee.threat", tname);
	free(tname);
	/* the host pid when given, else the pid; either a number or, in
	 * protobuf's JSON, a wrapper {"value": N} */
	enum slot pid = S_W_PID;
	if (slot(z, S_W_HOSTPID))
		pid = slot(z, S_W_HOSTPID)->type == JT_OBJ ? S_W_HOSTPID_V : S_W_HOSTPID;
	else if (slot(z, S_W_PID) && slot(z, S_W_PID)->type == JT_OBJ)
		pid = S_W_PID_V;
	if (int_field(z, pid, "workload.process.pid", "proc.pid", INT32_MAX, &z->a->pid) < 0 ||
	    str_field(z, S_W_THREAD, "workload.process.thread.name", "proc.name", NULL) < 0 ||
	    str_field(z, S_W_EXE, "workload.process.executable.path", "proc.exepath", NULL) < 0 ||
	    str_field(z, S_W_CNAME, "workload.container.name", "container.name",
		      &z->a->container_name) < 0 ||
	    str_field(z, S_W_PODNAME, "workload.k8s.pod.name", "k8s.pod.name", &z->a->pod) < 0 ||
	    str_field(z, S_W_NS, "workload.k8s.namespace.name", "k8s.ns.name", &z->a->ns) < 0)
		return -1;
	const struct span *wi = slot(z, S_W_IMAGE);
	if (get_str(z, wi && wi->type == JT_STR ? S_W_IMAGE : S_W_IMAGE_NAME,
		    "workload.container.image", &img) < 0)
		return -1;
	set_image(z, img);
	tracee_pairs(z, P_DATA);
	return tracee_container(z, S_W_CID, "workload.container.id");
}

/* ---- the key: what makes two alerts identical ---- */

/* fields that differ in every copy of one alert (times, event numbers) */
static bool volatile_field(const char *k)
{
	static const char *const pfx[] = {"evt.time",	 "evt.rawtime", "evt.datetime",
					  "evt.reltime", "evt.num",	"evt.outputtime"};
	if (strncmp(k, "evt.", 4) != 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(pfx); i++)
		if (str_has_prefix(k, pfx[i]))
			return true;
	return false;
}

/* the key's input: tag, length (4 bytes, little end first), bytes (no two
 * inputs alike), gathered in a buffer on the stack (the heap past it) */
struct kbuf {
	char *p;
	size_t len, cap;
	char inline_[8192];
};

static void kb_add(struct kbuf *b, const void *s, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
		char *q = xmalloc(cap);
		memcpy(q, b->p, b->len);
		if (b->p != b->inline_)
			free(b->p);
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void hash_str(struct kbuf *b, char tag, const char *s, size_t n)
{
	char hdr[5] = {tag, (char)(n & 0xff), (char)((n >> 8) & 0xff), (char)((n >> 16) & 0xff),
		       (char)((n >> 24) & 0xff)};
	kb_add(b, hdr, sizeof(hdr));
	kb_add(b, s, n);
}

static void hash_int(struct kbuf *b, char tag, long long v)
{
	char hdr[9] = {tag};
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (char)(((unsigned long long)v >> (8 * i)) & 0xff);
	kb_add(b, hdr, sizeof(hdr));
}

struct kv {
	const char *k;
	json_t *v;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/* by name: Falco writes its fields sorted already (then one pass), other
 * orders are qsorted */
static void sort_kv(struct kv *x, size_t n)
{
	size_t i = 1;
	while (i < n && strcmp(x[i - 1].k, x[i].k) <= 0)
		i++;
	if (i < n)
		qsort(x, n, sizeof(*x), cmp_kv);
}

static void key_into(const struct alert *a, char out[65])
{
	struct kbuf b;
	b.p = b.inline_;
	b.len = 0;
	b.cap = sizeof(b.inline_);
	hash_str(&b, 's', a->source, strlen(a->source));
	hash_str(&b, 'r', a->rule, strlen(a->rule));
	hash_str(&b, 'c', a->container_id, strlen(a->container_id));
	hash_int(&b, 'p', a->pid);
	struct kv small[64], *kv = small;
	size_t n = json_object_size(a->fields), k = 0;
	if (n > ARRAY_SIZE(small))
		kv = xcalloc(n, sizeof(*kv));
	const char *key;
	json_t *v;
	json_object_foreach(a->fields, key, v)
	{
		if (k < n && !volatile_field(key))
			kv[k++] = (struct kv){key, v};
	}
	sort_kv(kv, k);
	for (size_t i = 0; i < k; i++) {
		v = kv[i].v;
		hash_str(&b, 'k', kv[i].k, strlen(kv[i].k));
		if (json_is_string(v)) {
			hash_str(&b, 'v', json_string_value(v), json_string_length(v));
		} else if (json_is_integer(v)) {
			hash_int(&b, 'i', (long long)json_integer_value(v));
		} else if (json_is_real(v)) {
			double d = json_real_value(v);
			long long bits;
			memcpy(&bits, &d, sizeof(bits));
			hash_int(&b, 'd', bits);
		} else {
			char c = json_is_true(v) ? 't' : json_is_false(v) ? 'f' : 'n';
			kb_add(&b, &c, 1);
		}
	}
	if (kv != small)
		free(kv);
	sha256_hex(b.p, b.len, out);
	if (b.p != b.inline_)
		free(b.p);
}

const char *alert_key(struct alert *a)
{
	if (!a->key[0])
		key_into(a, a->key);
	return a->key;
}

/* ---- the entry points ---- */

static void scan_init(struct scan *s, const char *buf, size_t n);

static int scan_doc(struct scan *s, const char *buf, size_t n, struct err *e)
{
	scan_init(s, buf, n);
	memset(s->slot, 0, sizeof(s->slot));
	for (int i = 0; i < L_COUNT; i++)
		s->list[i].n = s->list[i].over = s->list[i].other = 0;
	for (int i = 0; i < M_COUNT; i++)
		s->mem[i].n = s->mem[i].over = 0;
	for (int i = 0; i < P_COUNT; i++)
		s->pair[i].n = s->pair[i].over = 0;
	skip_ws(s);
	if (s->i >= n)
		return err_set(e, ERR_INVALID, "not JSON: empty");
	if (buf[s->i] != '{')
		return err_set(e, ERR_INVALID, "not a JSON object");
	struct span v = {0};
	if (scan_value(s, &top, &v) == 0) {
		skip_ws(s);
		if (s->i < n)
			fail(s, "bytes after the JSON value");
	}
	if (s->err)
		return err_set(e, ERR_INVALID, "not JSON: %s at byte %zu", s->err, s->err_at);
	return 0;
}

static void scan_init(struct scan *s, const char *buf, size_t n)
{
	s->b = buf;
	s->n = n;
	s->i = 0;
	s->depth = 0;
	s->err = NULL;
	s->kind = s->kinds = 0;
}

int alert_split(const char *buf, size_t n, struct alert_range *v, size_t max, size_t *count,
		struct err *e)
{
	*count = 0;
	if (n > ALERT_LINE_MAX)
		return err_set(e, ERR_INVALID, "body of %zu bytes: more than the bound of %u", n,
			       ALERT_LINE_MAX);
	struct scan scan, *s = &scan;
	scan_init(s, buf, n);
	skip_ws(s);
	if (s->i >= n || buf[s->i] != '[')
		return err_set(e, ERR_INVALID, "not a JSON array");
	if (enter(s) == 0 && s->i < n && buf[s->i] == ']') {
		s->i++;
	} else {
		while (!s->err) {
			struct span sp = {0};
			size_t start = s->i;
			if (scan_value(s, NULL, &sp) < 0)
				break;
			if (*count >= max) {
				*count = 0;
				return err_set(e, ERR_INVALID, "more than %zu alerts in one array",
					       max);
			}
			v[(*count)++] = (struct alert_range){start, s->i - start};
			int r = next_or_end(s, ']');
			if (r <= 0)
				break;
		}
	}
	if (!s->err) {
		skip_ws(s);
		if (s->i < n)
			fail(s, "bytes after the JSON value");
	}
	if (s->err) {
		*count = 0;
		return err_set(e, ERR_INVALID, "not JSON: %s at byte %zu", s->err, s->err_at);
	}
	return 0;
}

/* the format, told from the document's shape (one place: alert_parse and
 * alert_peek must agree) */
enum format { F_NONE, F_TETRAGON, F_FALCO, F_SYSDIG, F_TRACEE_FLAT, F_TRACEE_V1 };
static const char no_format[] =
    "no known alert format (Falco, falcosidekick, Tetragon, Tracee, Sysdig)";

static enum format doc_format(const struct norm *z)
{
	if (z->s->kinds)
		return F_TETRAGON;
	if (slot(z, S_OUTPUT_FIELDS))
		return F_FALCO;
	if (slot(z, S_S_FIELDS) && slot(z, S_CONTENT))
		return F_SYSDIG;
	if (slot(z, S_EVENTNAME))
		return F_TRACEE_FLAT;
	if (slot(z, S_NAME) && (slot(z, S_WORKLOAD) || slot(z, S_POLICIES) || slot(z, S_THREAT)))
		return F_TRACEE_V1;
	return F_NONE;
}

/* a string span decoded into p->rule (at most ALERT_STR_MAX bytes: the
 * normalizer's own cut never applies) and taken as keep() takes a rule: ""
 * and "<NA>" leave it empty. False when it is no string, or longer. */
static bool peek_rule(const struct norm *z, const struct span *sp, struct alert_peek *p)
{
	if (sp->type != JT_STR || sp->len > ALERT_STR_MAX)
		return false;
	const char *b = z->s->b + sp->off;
	size_t l = sp->flag ? decode_string(b, sp->len, p->rule) : (memcpy(p->rule, b, sp->len), sp->len);
	if (l == 4 && memcmp(p->rule, "<NA>", 4) == 0) /* keep(): Falco's "unknown" */
		l = 0;
	p->rule[l] = 0;
	p->rule_len = l;
	p->rule_known = true;
	return true;
}

/* the rule of a member as get_str and keep() take it: absent or null is
 * fallback (NULL: none, the rule stays empty) */
static void peek_rule_member(const struct norm *z, enum slot k, const char *fallback,
			     struct alert_peek *p)
{
	const struct span *sp = slot(z, k);
	if (sp && sp->type != JT_NULL) {
		peek_rule(z, sp, p);
		return;
	}
	size_t l = fallback ? strlen(fallback) : 0;
	if (l > ALERT_STR_MAX)
		return;
	memcpy(p->rule, fallback ? fallback : "", l + 1);
	p->rule_len = l;
	p->rule_known = true;
}

/* Tracee's rule as rule_policy_or takes it: the first policy that is not
 * empty, else the event's name */
static void peek_tracee_rule(const struct norm *z, enum list list, enum slot name,
			     struct alert_peek *p)
{
	const struct strlist *pl = &z->s->list[list];
	for (unsigned i = 0; i < pl->n; i++) {
		if (pl->v[i].len == 0)
			continue;
		peek_rule(z, &pl->v[i], p); /* "<NA>" too: kept empty, as keep() does */
		return;
	}
	const struct span *sp = slot(z, name);
	if (!sp || sp->type == JT_NULL) {
		p->rule_known = true; /* none: empty */
		return;
	}
	peek_rule(z, sp, p);
}

/* a priority the normalizer takes with r = *_sev(): sure when it is absent
 * or valid (an invalid one is the normalizer's to refuse) */
static void peek_prio(struct alert_peek *p, int r)
{
	p->prio_sure = r >= 0;
	p->prio_known = r > 0;
}

/* Falco and falcosidekick: rule and priority are plain members (norm_falco) */
static void peek_falco(const struct norm *z, struct alert_peek *p)
{
	p->source = slot(z, S_UUID) ? "falcosidekick" : "falco";
	peek_rule_member(z, S_RULE, NULL, p);
	char prio[32];
	const struct span *sp = slot(z, S_PRIORITY);
	size_t l;
	if (!sp || sp->type == JT_NULL) {
		p->prio_sure = true; /* no priority: prio_known false */
	} else if (sp->type == JT_STR && sp->len < sizeof(prio)) {
		const char *b = z->s->b + sp->off;
		l = sp->flag ? decode_string(b, sp->len, prio) : (memcpy(prio, b, sp->len), sp->len);
		prio[l] = 0;
		p->prio_sure = true;
		p->prio_known = alert_prio_parse(prio, &p->prio) == 0;
	}
	/* a longer string is no priority name: prio_known false, but say unsure
	 * (one rule for the rare case: let the normalizer decide) */
}

static int normalize(const struct scan *s, const char *buf, size_t n, struct alert *a,
		     struct err *e);

struct alert_scan {
	struct scan s;
	bool ok; /* s holds a whole document's scan */
};

struct alert_scan *alert_scan_new(void)
{
	return xcalloc(1, sizeof(struct alert_scan));
}

void alert_scan_free(struct alert_scan *sc)
{
	free(sc);
}

int alert_parse_scanned(struct alert_scan *sc, const char *buf, size_t n, struct alert *a,
			struct err *e)
{
	if (!sc || !sc->ok || sc->s.b != buf || sc->s.n != n)
		return alert_parse(buf, n, a, e);
	memset(a, 0, sizeof(*a));
	sc->ok = false; /* once */
	return normalize(&sc->s, buf, n, a, e);
}

int alert_peek(const char *buf, size_t n, struct alert_peek *p, struct err *e)
{
	p->source = NULL;
	p->rule_known = p->prio_sure = p->prio_known = false;
	p->prio = AP_DEBUG;
	p->rule_len = 0;
	p->rule[0] = 0;
	if (n > ALERT_LINE_MAX)
		return err_set(e, ERR_INVALID, "alert of %zu bytes: more than the bound of %u", n,
			       ALERT_LINE_MAX);
	struct scan scan, *s = p->keep ? &p->keep->s : &scan;
	if (p->keep)
		p->keep->ok = false;
	if (scan_doc(s, buf, n, e) < 0)
		return -1;
	if (p->keep)
		p->keep->ok = true;
	struct norm z = {.s = s, .e = e};
	switch (doc_format(&z)) {
	case F_TETRAGON:
		p->source = "tetragon";
		if (s->kinds == 1) /* norm_tetragon: the policy, else the event's kind */
			peek_rule_member(&z, S_T_POLICY, tetragon_kinds[s->kind], p);
		p->prio_sure = true; /* Tetragon gives none */
		break;
	case F_FALCO:
		if (slot(&z, S_OUTPUT_FIELDS)->type != JT_OBJ) /* norm_falco's first check */
			return err_set(e, ERR_INVALID, "'output_fields' is not an object");
		peek_falco(&z, p);
		break;
	case F_SYSDIG:
		if (slot(&z, S_S_FIELDS)->type != JT_OBJ) /* norm_sysdig's */
			return err_set(e, ERR_INVALID, "'content.fields' is not an object");
		p->source = "sysdig";
		if (!slot(&z, S_RULENAME) || slot(&z, S_RULENAME)->type == JT_NULL)
			peek_rule_member(&z, S_NAME, NULL, p);
		else
			peek_rule(&z, slot(&z, S_RULENAME), p);
		peek_prio(p, sysdig_sev(&z, slot(&z, S_SEVERITY), &p->prio));
		break;
	case F_TRACEE_FLAT:
		p->source = "tracee";
		peek_tracee_rule(&z, L_POLICIES, S_EVENTNAME, p);
		peek_prio(p, tracee_sev(&z, slot(&z, S_SEVERITY_PROP), &p->prio));
		break;
	case F_TRACEE_V1:
		p->source = "tracee";
		peek_tracee_rule(&z, L_V_POLICIES, S_NAME, p);
		peek_prio(p, tracee_sev(&z, slot(&z, S_THREAT_SEV), &p->prio));
		break;
	default:
		return err_set(e, ERR_INVALID, "%s", no_format);
	}
	return 0;
}

int alert_parse(const char *buf, size_t n, struct alert *a, struct err *e)
{
	memset(a, 0, sizeof(*a));
	if (n > ALERT_LINE_MAX)
		return err_set(e, ERR_INVALID, "alert of %zu bytes: more than the bound of %u", n,
			       ALERT_LINE_MAX);
	struct scan scan, *s = &scan; /* ~40 KiB: fine on any thread's stack */
	if (scan_doc(s, buf, n, e) < 0)
		return -1;
	return normalize(s, buf, n, a, e);
}

/* a scanned document into a (alert_parse's second half) */
static int normalize(const struct scan *s, const char *buf, size_t n, struct alert *a,
		     struct err *e)
{
	a->rule = empty;
	a->time = empty;
	a->container_id = empty;
	a->container_name = empty;
	a->image = empty;
	a->pod = empty;
	a->ns = empty;
	a->tags = json_array();
	a->fields = json_object();
	a->notes = json_array();
	struct norm z = {.s = s, .a = a, .e = e};
	int r;
	switch (doc_format(&z)) {
	case F_TETRAGON:
		r = norm_tetragon(&z);
		break;
	case F_FALCO:
		r = norm_falco(&z);
		break;
	case F_SYSDIG:
		r = norm_sysdig(&z);
		break;
	case F_TRACEE_FLAT:
		r = norm_tracee_flat(&z);
		break;
	case F_TRACEE_V1:
		r = norm_tracee_v1(&z);
		break;
	default:
		r = err_set(e, ERR_INVALID, "%s", no_format);
	}
	if (r < 0) {
		if (a->source)
			err_wrap(e, "%s alert", a->source);
		alert_free(a);
		return -1;
	}
	a->host = !*a->container_id;
	a->text = xmalloc(n + 1);
	memcpy(a->text, buf, n);
	a->text[n] = 0;
	a->text_len = n;
	return 0;
}

void alert_free(struct alert *a)
{
	if (!a)
		return;
	str_free(a->rule);
	str_free(a->time);
	str_free(a->container_id);
	str_free(a->container_name);
	str_free(a->image);
	str_free(a->pod);
	str_free(a->ns);
	free(a->text);
	json_decref(a->tags);
	json_decref(a->fields);
	json_decref(a->raw);
	json_decref(a->notes);
	memset(a, 0, sizeof(*a));
}

json_t *alert_raw(struct alert *a)
{
	if (a->raw || !a->text)
		return a->raw;
	json_error_t je;
	a->raw = json_loadb(a->text, a->text_len, 0, &je);
	if (!a->raw) /* cannot happen (the scanner takes what jansson takes): the text then */
		a->raw = json_stringn(a->text, a->text_len);
	return a->raw;
}

json_t *alert_to_json(const struct alert *a)
{
	char key[65];
	if (a->key[0])
		memcpy(key, a->key, sizeof(key));
	else
		key_into(a, key);
	json_t *c = json_pack("{s:s,s:s,s:s,s:b}", "id", a->container_id, "name", a->container_name,
			      "image", a->image, "host", a->host);
	json_t *j = json_pack("{s:s,s:s,s:o,s:s,s:o,s:s,s:s,s:o,s:O,s:O,s:s,s:O}", "source",
			      a->source, "rule", a->rule, "priority",
			      a->prio_known ? json_string(alert_prio_name(a->prio)) : json_null(),
			      "time", a->time, "container", c, "pod", a->pod, "namespace", a->ns,
			      "pid", a->pid > 0 ? json_integer(a->pid) : json_null(), "tags",
			      a->tags, "fields", a->fields, "key", key, "notes", a->notes);
	return j;
}

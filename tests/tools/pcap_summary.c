/* pcap_summary: the pcap summarizer of analyze (src/analyze/flows.c) over
 * the pcaps named, for the benchmark and by hand:
 *   pcap_summary [--json] [--cut RFC3339] [--scan] FILE...
 * prints the seconds taken, packets/s and MB/s (stderr) and, with --json,
 * the network sections and findings (stdout). --scan hands every stream to
 * a callback that reads each byte (what the YARA scan's delivery costs). */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "contain/analyze.h"

static uint64_t scanned;

static void on_stream(const struct aflow_key *k, int dir, const void *buf, size_t n, void *arg)
{
	(void)k, (void)dir, (void)arg;
	unsigned char x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= ((const unsigned char *)buf)[i];
	scanned += n + (x == 0xff && n == 0);
}

int main(int argc, char **argv)
{
	bool json = false, scan = false;
	const char *cut = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--scan"))
			scan = true;
		else if (!strcmp(argv[i], "--cut") && i + 1 < argc)
			cut = argv[++i];
		else {
			fprintf(stderr,
				"usage: pcap_summary [--json] [--scan] [--cut TIME] FILE...\n");
			return 2;
		}
	}
	struct aflows_opts o = {.cut_at = cut, .on_stream = scan ? on_stream : NULL};
	struct aflows *f = aflows_new(&o);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t bytes = 0;
	int rc = 0;
	for (; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0)
			bytes += (uint64_t)st.st_size;
		FILE *fp = fopen(argv[i], "rb");
		if (!fp) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		struct err e = {0};
		if (aflows_read(f, fp, argv[i], &e) < 0) {
			fprintf(stderr, "pcap_summary: %s\n", e.msg);
			rc = 1;
		}
	}
	json_t *rep = json_pack("{s:[]}", "findings"), *out = NULL;
	aflows_finish(f, rep, &out);
	aflows_free(f);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	json_int_t pk =
	    json_integer_value(json_object_get(json_object_get(out, "stats"), "packets"));
	fprintf(stderr,
		"%.3f s, %lld packets, %.0f packets/s, %.1f MB/s, %zu flows, %llu stream bytes\n",
		s, (long long)pk, (double)pk / s, (double)bytes / 1e6 / s,
		(size_t)json_integer_value(json_object_get(json_object_get(out, "stats"), "flows")),
		(unsigned long long)scanned);
	if (json) {
		json_object_set_new(out, "findings", json_incref(json_object_get(rep, "findings")));
		json_dumpf(out, stdout, JSON_INDENT(1));
		putchar('\n');
	}
	json_decref(out);
	json_decref(rep);
	return rc;
}

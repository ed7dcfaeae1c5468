/* fslayer-driver: run the filesystem layer collector outside a bag.
 *   fslayer-driver (--dir DIR [--whole-root] | --ref REF) [--max-file-bytes N]
 *                  [--no-threads] [--json-tree] --tar OUT.tar|- --json OUT.json
 * The tar goes through a sink that hashes the stream while it writes (as the
 * bag's artifact sink does), so benchmarks measure both hashes: the tar
 * stream's once (the sink) and each file's content (files.json). files.json
 * is written as the collector's text (as capture stores it); --json-tree
 * has the collector build the jansson tree and dumps that instead. Prints a
 * summary JSON object on stdout (stderr when the tar goes to stdout). */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>

#include <openssl/evp.h>

#include "contain/fslayer.h"
#include "contain/runtime.h"
#include "contain/util.h"

struct hsink {
	int fd;
	EVP_MD_CTX *md;
};

static int hs_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	struct hsink *h = ctx;
	EVP_DigestUpdate(h->md, buf, n);
	if (write_all(h->fd, buf, n) < 0)
		return err_sys(e, errno, "write tar");
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fslayer-driver (--dir DIR [--whole-root] | --ref REF) "
			"[--max-file-bytes N] [--no-threads] [--json-tree] --tar OUT.tar --json OUT.json\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"dir", required_argument, NULL, 'd'},	    {"ref", required_argument, NULL, 'r'},
		{"max-file-bytes", required_argument, NULL, 'm'}, {"tar", required_argument, NULL, 't'},
		{"json", required_argument, NULL, 'j'},	    {"no-threads", no_argument, NULL, 'n'},
		{"whole-root", no_argument, NULL, 'w'},	    {"json-tree", no_argument, NULL, 'J'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *ref = NULL, *tarp = NULL, *jsonp = NULL;
	struct fslayer_opts o = {0};
	bool whole = false, tree = false;
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long long v;
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': ref = optarg; break;
		case 't': tarp = optarg; break;
		case 'j': jsonp = optarg; break;
		case 'n': o.no_threads = true; break;
		case 'w': whole = true; break;
		case 'J': tree = true; break;
		case 'm':
			if (parse_size(optarg, &v) < 0 || v == 0)
				usage();
			o.max_file_bytes = v;
			break;
		default: usage();
		}
	}
	if ((!dir) == (!ref) || !tarp || !jsonp || optind != argc)
		usage();

	struct err e = {0};
	int fd = strcmp(tarp, "-") == 0 ? 1
					: open(tarp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, "fslayer-driver: open '%s': %s\n", tarp, strerror(errno));
		return 3;
	}
	struct hsink hs = {fd, EVP_MD_CTX_new()};
	EVP_DigestInit_ex(hs.md, EVP_sha256(), NULL);
	struct sink s = {hs_write, NULL, &hs};
	o.files_text_only = !tree;
	struct fslayer_result res;
	int r;
	if (dir) {
		r = fslayer_collect_dir(dir, whole ? FSLAYER_ROOT : FSLAYER_UPPER, &o, &s, &res, &e);
	} else {
		struct rt_roots roots = {0};
		struct ctr *ct = NULL;
		r = rt_roots_from_env(&roots, &e);
		if (r == 0)
			r = runtime_resolve(&roots, ref, &ct, &e);
		if (r == 0)
			r = fslayer_collect_ctr(ct, &o, &s, &res, &e);
		if (ct)
			ctr_free(ct);
		rt_roots_free(&roots);
	}
	if (r < 0) {
		fprintf(stderr, "fslayer-driver: %s\n", e.msg);
		return 3;
	}
	if (fd != 1 && close(fd) < 0) {
		fprintf(stderr, "fslayer-driver: close '%s': %s\n", tarp, strerror(errno));
		return 3;
	}
	char *js = tree ? json_dumps(res.files, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	size_t jn = tree ? (js ? strlen(js) : 0) : res.files_len;
	const char *jt = tree ? js : res.files_text;
	int jfd = open(jsonp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (!jt || jfd < 0 || write_all(jfd, jt, jn) < 0 || (tree && write_all(jfd, "\n", 1) < 0) ||
	    close(jfd) < 0) {
		fprintf(stderr, "fslayer-driver: write '%s': %s\n", jsonp, strerror(errno));
		return 3;
	}
	free(js);
	unsigned char md[32];
	unsigned n = 0;
	char hex[65];
	EVP_DigestFinal_ex(hs.md, md, &n);
	EVP_MD_CTX_free(hs.md);
	hex_encode(md, 32, hex);
	json_t *sum = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:O}", "tar_sha256", hex, "tar_bytes",
				(json_int_t)res.tar_bytes, "entries", (json_int_t)res.entries,
				"tar_entries", (json_int_t)res.tar_entries, "data_bytes",
				(json_int_t)res.data_bytes, "hashed_bytes", (json_int_t)res.hashed_bytes,
				"whole_root", res.whole_root, "notes", res.notes);
	json_dumpf(sum, fd == 1 ? stderr : stdout, JSON_COMPACT);
	fputc('\n', fd == 1 ? stderr : stdout);
	json_decref(sum);
	fslayer_result_free(&res);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 3;
	return 0;
}

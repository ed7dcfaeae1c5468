/* yara: rule files compiled (a broken one reported with its line, the others
 * run), the compiled-rules cache (miss, hit, corrupt, foreign, unsafe),
 * externals, meta into findings, the timeout and the byte bound, threads. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "unit.h"

static char dir[128];

static void put(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	char *slash = strrchr(p, '/');
	*slash = 0;
	mkdir(p, 0700);
	*slash = '/';
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *at(const char *name)
{
	static char p[4][512];
	static unsigned k;
	char *b = p[k++ % 4];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static void setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_yara");
}

static void teardown(void)
{
	unit_tmpdir_remove(dir);
}

static const char good_rules[] = "rule miner_url : miner net {\n"
				 "  meta:\n"
				 "    severity = \"high\"\n"
				 "    description = \"a stratum mining URL\"\n"
				 "    attack = \"T1496\"\n"
				 "    reference = \"https://example.test/miners\"\n"
				 "  strings:\n"
				 "    $u = \"stratum+tcp://\"\n"
				 "    $b = { 00 01 02 }\n"
				 "  condition:\n"
				 "    $u and #b >= 0\n"
				 "}\n"
				 "rule plain_marker {\n"
				 "  strings: $m = \"PLAIN-MARKER\"\n"
				 "  condition: $m\n"
				 "}\n";

static struct ayara *open_rules(const char *const *rules, size_t n, const char *cache)
{
	struct ayara_opts o = {.no_shipped = true, .rules = rules, .nrules = n, .cache_dir = cache};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_msg(ayara_open(&o, &y, &e) == 0, "ayara_open: %s", e.msg);
	return y;
}

static json_t *report_new(void)
{
	return json_pack("{s:[]}", "findings");
}

static json_t *finding(json_t *r, const char *id)
{
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		if (!strcmp(json_string_value(json_object_get(f, "id")), id))
			return f;
	}
	return NULL;
}

static int scan(struct ayara *y, const void *buf, size_t n, const char *path, json_t *r)
{
	struct ayara_ctx c = {.source = "file", .path = path, .filetype = "text/plain"};
	struct err e = {0};
	json_t *base = json_pack("{s:s}", "member", "data/fs/upper.tar");
	int rc = ayara_scan(y, buf, n, &c, r, base, &e);
	json_decref(base);
	return rc;
}

START_TEST(meta_into_findings)
{
	put("r/good.yar", good_rules);
	const char *rules[] = {at("r/good.yar")};
	struct ayara *y = open_rules(rules, 1, NULL);
	json_t *r = report_new();
	static const char buf[] = "xx\x01\x02stratum+tcp://pool:3333\n\x00\x01\x02 PLAIN-MARKER";
	ck_assert_int_eq(scan(y, buf, sizeof(buf) - 1, "tmp/m.conf", r), 2);
	json_t *f = finding(r, "yara.miner-url");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "high");
	ck_assert_str_eq(json_string_value(json_object_get(f, "attack")), "T1496");
	ck_assert_str_eq(json_string_value(json_object_get(f, "path")), "tmp/m.conf");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(f, "title")), "a stratum mining URL"));
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(f, "detail")), "https://example.test/miners"));
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "member")), "data/fs/upper.tar");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "rule")), "miner_url");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "namespace")), "good");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ev, "tags"), 1)), "net");
	json_t *s0 = json_array_get(json_object_get(ev, "strings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(s0, "id")), "$u");
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "offset")), 4);
	ck_assert_str_eq(json_string_value(json_object_get(s0, "excerpt")), "stratum+tcp://");
	/* the hex string: non-printable bytes as \xNN */
	json_t *s1 = json_array_get(json_object_get(ev, "strings"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(s1, "id")), "$b");
	ck_assert_int_eq(json_integer_value(json_object_get(s1, "offset")), 28);
	ck_assert_str_eq(json_string_value(json_object_get(s1, "excerpt")), "\\x00\\x01\\x02");
	/* defaults: medium, the rule's name */
	f = finding(r, "yara.plain-marker");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "medium");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(f, "title")), "plain_marker"));
	ck_assert(json_is_null(json_object_get(f, "attack")));
	/* nothing in a clean buffer */
	json_t *r2 = report_new();
	ck_assert_int_eq(scan(y, "clean", 5, "a", r2), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r2, "findings")), 0);
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(json_integer_value(json_object_get(sec, "hits")), 2);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "files")), 2);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "rules"), "count")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(sec, "rules"), "cache")),
			 "off");
	json_decref(sec);
	json_decref(r);
	json_decref(r2);
	ayara_free(y);
}
END_TEST

START_TEST(broken_file_reported)
{
	put("r/a.yar", good_rules);
	put("r/b.yar", "rule fine_in_broken { condition: true }\n"
		       "rule broken {\n"
		       "  strings: $a = \"abc\"\n"
		       "  condition: $a and )\n"
		       "}\n");
	put("r/c.yara", "rule other_file { strings: $o = \"OTHER\" condition: $o }\n");
	put("r/d.yar", "include \"/etc/passwd\"\nrule inc { condition: true }\n");
	put("r/ignored.txt", "this is not a rule file");
	const char *rules[] = {at("r")};
	struct ayara *y = open_rules(rules, 1, NULL);
	json_t *sec = ayara_section(y);
	json_t *errs = json_object_get(sec, "errors");
	ck_assert_int_eq(json_array_size(errs), 2);
	json_t *e0 = json_array_get(errs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e0, "kind")), "compile");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e0, "file")), "r/b.yar"));
	ck_assert_int_eq(json_integer_value(json_object_get(e0, "line")), 4);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(e0, "message")), "syntax error"));
	json_t *e1 = json_array_get(errs, 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e1, "file")), "r/d.yar"));
	ck_assert_int_eq(json_integer_value(json_object_get(e1, "line")), 1);
	/* the others run: a.yar's two rules and c.yara's */
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "rules"), "count")), 3);
	ck_assert_int_eq(json_array_size(json_object_get(json_object_get(sec, "rules"), "files")),
			 4);
	json_decref(sec);
	json_t *r = report_new();
	ck_assert_int_eq(scan(y, "OTHER PLAIN-MARKER", 18, "x", r), 2);
	ck_assert_ptr_nonnull(finding(r, "yara.other-file"));
	ck_assert_ptr_null(finding(r, "yara.fine-in-broken"));
	json_decref(r);
	ayara_free(y);
}
END_TEST

START_TEST(nothing_to_compile)
{
	struct ayara_opts o = {.no_shipped = true};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_int_eq(ayara_open(&o, &y, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_ptr_null(y);
	const char *missing[] = {at("nope.yar")};
	o.rules = missing;
	o.nrules = 1;
	e = (struct err){0};
	ck_assert_int_eq(ayara_open(&o, &y, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "nope.yar"));
	/* the shipped dir given and empty: no rule file */
	mkdir(at("empty"), 0700);
	struct ayara_opts o2 = {.shipped_dir = at("empty")};
	e = (struct err){0};
	ck_assert_int_eq(ayara_open(&o2, &y, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
}
END_TEST

START_TEST(shipped_dir_and_user_rules)
{
	put("ship/s.yar", "rule shipped_one { strings: $s = \"SHIP\" condition: $s }\n");
	put("user/s.yar", "rule user_one { strings: $s = \"USER\" condition: $s }\n");
	const char *rules[] = {at("user/s.yar")};
	struct ayara_opts o = {.shipped_dir = at("ship"), .rules = rules, .nrules = 1};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_int_eq(ayara_open(&o, &y, &e), 0);
	json_t *r = report_new();
	ck_assert_int_eq(scan(y, "SHIP USER", 9, "p", r), 2);
	/* same base name, two namespaces */
	const char *n1 = json_string_value(json_object_get(
	    json_object_get(finding(r, "yara.shipped-one"), "evidence"), "namespace"));
	const char *n2 = json_string_value(
	    json_object_get(json_object_get(finding(r, "yara.user-one"), "evidence"), "namespace"));
	ck_assert_str_eq(n1, "s");
	ck_assert_str_eq(n2, "s.2");
	json_decref(r);
	ayara_free(y);
}
END_TEST

static const char *section_cache(struct ayara *y, json_t **notes)
{
	json_t *sec = ayara_section(y);
	static char c[16];
	snprintf(c, sizeof(c), "%s",
		 json_string_value(json_object_get(json_object_get(sec, "rules"), "cache")));
	if (notes)
		*notes = json_incref(json_object_get(sec, "notes"));
	json_decref(sec);
	return c;
}

static bool notes_have(json_t *notes, const char *what)
{
	json_t *n;
	size_t i;
	json_array_foreach(notes, i, n)
	{
		if (strstr(json_string_value(n), what))
			return true;
	}
	return false;
}

/* the one cache file in cache/ */
static char *cache_file(void)
{
	static char p[512];
	p[0] = 0;
	DIR *d = opendir(at("cache"));
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "yara-", 5)) {
			snprintf(p, sizeof(p), "%s/cache/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	ck_assert_int_eq(n, 1);
	return p;
}

static void hits_once(struct ayara *y)
{
	json_t *r = report_new();
	ck_assert_int_eq(scan(y, "stratum+tcp://x", 15, "p", r), 1);
	json_decref(r);
}

START_TEST(cache_miss_hit_corrupt)
{
	put("r/good.yar", good_rules);
	put("r/bad.yar", "rule x { condition: $y }\n");
	const char *rules[] = {at("r")};
	const char *cache = at("cache");
	struct ayara *y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "miss");
	hits_once(y);
	ayara_free(y);
	char *f = cache_file();
	struct stat st;
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(cache, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);

	/* a hit: the same rules, and the compile error still reported */
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "hit");
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(json_array_size(json_object_get(sec, "errors")), 1);
	json_decref(sec);
	hits_once(y);
	ayara_free(y);

	/* a byte of the compiled rules changed: ignored, rebuilt */
	int fd = open(f, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff\xff\xff\xff", 4, st.st_size > 400 ? 400 : 0), 4);
	close(fd);
	ck_assert_int_eq(stat(f, &st), 0);
	json_t *notes = NULL;
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, &notes), "miss");
	ck_assert_msg(notes_have(notes, "corrupt"), "no note of the corrupt cache");
	json_decref(notes);
	hits_once(y);
	ayara_free(y);
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "hit");
	ayara_free(y);

	/* truncated to its header */
	ck_assert_int_eq(truncate(f, 30), 0);
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "miss");
	hits_once(y);
	ayara_free(y);

	/* a rule file changed: another key, a miss; the old file is foreign
	 * to the new rules even when renamed to the new key's name */
	char old[512];
	snprintf(old, sizeof(old), "%s", cache_file());
	put("r/good.yar", "rule changed { strings: $c = \"CHANGED\" condition: $c }\n");
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "miss");
	ayara_free(y);
	/* two files now: find the new one, put the old one in its place */
	DIR *d = opendir(cache);
	struct dirent *de;
	char newf[512] = "";
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "yara-", 5) && !strstr(old, de->d_name))
			snprintf(newf, sizeof(newf), "%s/%s", cache, de->d_name);
	closedir(d);
	ck_assert(newf[0]);
	ck_assert_int_eq(rename(old, newf), 0);
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, &notes), "miss");
	ck_assert_msg(notes_have(notes, "other rules"), "no note of the foreign cache");
	json_decref(notes);
	json_t *r = report_new();
	ck_assert_int_eq(scan(y, "CHANGED", 7, "p", r), 1);
	json_decref(r);
	ayara_free(y);

	/* writable by others: not trusted */
	ck_assert_int_eq(chmod(newf, 0666), 0);
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, &notes), "miss");
	ck_assert_msg(notes_have(notes, "writable by others"), "no note of the unsafe cache");
	json_decref(notes);
	ayara_free(y);
	/* a cache dir writable by others: no cache */
	ck_assert_int_eq(chmod(cache, 0777), 0);
	y = open_rules(rules, 1, cache);
	ck_assert_str_eq(section_cache(y, NULL), "off");
	ayara_free(y);
}
END_TEST

START_TEST(externals)
{
	put("r/ext.yar",
	    "rule only_www { strings: $e = \"eval(\" condition: $e and filepath == "
	    "\"var/www/x.php\" }\n"
	    "rule by_name { condition: filename == \"x.php\" and extension == \"php\" }\n"
	    "rule by_type { condition: filetype == \"text/x-php\" }\n"
	    "rule by_source { condition: source == \"memory\" and pid == 42 and process_name == "
	    "\"nginx\" }\n");
	const char *rules[] = {at("r/ext.yar")};
	struct ayara *y = open_rules(rules, 1, NULL);
	struct err e = {0};
	json_t *r = report_new();
	struct ayara_ctx c = {.source = "file", .path = "var/www/x.php", .filetype = "text/x-php"};
	ck_assert_int_eq(ayara_scan(y, "eval(1)", 7, &c, r, NULL, &e), 3);
	json_decref(r);
	r = report_new();
	c.path = "tmp/x.php";
	c.filetype = "text/plain";
	ck_assert_int_eq(ayara_scan(y, "eval(1)", 7, &c, r, NULL, &e), 1);
	ck_assert_ptr_nonnull(finding(r, "yara.by-name"));
	ck_assert_ptr_null(finding(r, "yara.only-www"));
	json_decref(r);
	r = report_new();
	struct ayara_ctx m = {
	    .source = "memory", .pid = 42, .process_name = "nginx", .base = 0x7f0000001000ull};
	ck_assert_int_eq(ayara_scan(y, "eval(1)", 7, &m, r, NULL, &e), 1);
	json_t *f = finding(r, "yara.by-source");
	ck_assert_ptr_nonnull(f);
	ck_assert(json_is_null(json_object_get(f, "path")));
	json_decref(r);
	/* the base is added to the offsets (a core's region start) */
	put("r/m.yar", "rule mem_str { strings: $s = \"HEAPMARK\" condition: $s }\n");
	const char *r2[] = {at("r/m.yar")};
	struct ayara *y2 = open_rules(r2, 1, NULL);
	r = report_new();
	ck_assert_int_eq(ayara_scan(y2, "..HEAPMARK", 10, &m, r, NULL, &e), 1);
	json_t *s0 = json_array_get(
	    json_object_get(json_object_get(finding(r, "yara.mem-str"), "evidence"), "strings"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "offset")), 0x7f0000001002ll);
	json_decref(r);
	ayara_free(y2);
	ayara_free(y);
}
END_TEST

START_TEST(timeout)
{
	/* a condition that loops over every pair of bytes: hours on 1 MiB */
	put("r/slow.yar", "rule slow { condition: for all i in (0..filesize-1) : ( for all j in "
			  "(0..filesize-1) : ( uint8(i) != 0xff or uint8(j) != 0xfe ) ) }\n");
	const char *rules[] = {at("r/slow.yar")};
	struct ayara_opts o = {.no_shipped = true, .rules = rules, .nrules = 1, .timeout = 1};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_int_eq(ayara_open(&o, &y, &e), 0);
	size_t n = 1 << 20;
	char *buf = xcalloc(1, n);
	json_t *r = report_new();
	double t0 = time_mono();
	struct ayara_ctx c = {.source = "file", .path = "big"};
	ck_assert_int_eq(ayara_scan(y, buf, n, &c, r, NULL, &e), -1);
	double dt = time_mono() - t0;
	ck_assert_msg(dt < 30, "the timeout did not stop the scan (%.1f s)", dt);
	ck_assert_ptr_nonnull(strstr(e.msg, "timed out"));
	json_t *sec = ayara_section(y);
	json_t *e0 = json_array_get(json_object_get(sec, "errors"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e0, "kind")), "scan");
	ck_assert_str_eq(json_string_value(json_object_get(e0, "path")), "big");
	json_decref(sec);
	free(buf);
	json_decref(r);
	ayara_free(y);
}
END_TEST

START_TEST(max_bytes)
{
	put("r/good.yar", good_rules);
	const char *rules[] = {at("r/good.yar")};
	struct ayara_opts o = {.no_shipped = true, .rules = rules, .nrules = 1, .max_bytes = 100};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_int_eq(ayara_open(&o, &y, &e), 0);
	ck_assert_uint_eq(ayara_max_bytes(y), 100);
	char buf[300];
	memset(buf, 'a', sizeof(buf));
	memcpy(buf + 200, "PLAIN-MARKER", 12); /* past the bound */
	memcpy(buf + 10, "stratum+tcp://", 14);
	json_t *r = report_new();
	struct ayara_ctx c = {.source = "file", .path = "f"};
	ck_assert_int_eq(ayara_scan(y, buf, sizeof(buf), &c, r, NULL, &e), 1);
	json_t *f = finding(r, "yara.miner-url");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(f, "evidence"), "scanned_bytes")),
	    100);
	ck_assert_ptr_null(finding(r, "yara.plain-marker"));
	/* a caller that had only the first bytes (size > n) */
	json_t *r2 = report_new();
	struct ayara_ctx c2 = {.source = "file", .path = "g", .size = 1000};
	ck_assert_int_eq(ayara_scan(y, buf, 50, &c2, r2, NULL, &e), 1);
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "truncated")), 2);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "bytes")), 150);
	ck_assert(notes_have(json_object_get(sec, "notes"), "'f': 300 bytes, only the first 100"));
	json_decref(sec);
	json_decref(r);
	json_decref(r2);
	ayara_free(y);
}
END_TEST

struct thr {
	struct ayara *y;
	json_t *r;
	pthread_mutex_t *mu;
	int hits;
};

static void *scan_thread(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < 200; i++) {
		struct ayara_ctx c = {.source = "file", .path = "t"};
		struct err e = {0};
		if (ayara_scan(t->y, "xx stratum+tcp://", 17, &c, t->r, NULL, &e) == 1)
			t->hits++;
	}
	return NULL;
}

START_TEST(threads)
{
	put("r/good.yar", good_rules);
	const char *rules[] = {at("r/good.yar")};
	struct ayara *y = open_rules(rules, 1, NULL);
	json_t *r = report_new();
	struct thr t[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){.y = y, .r = r};
		ck_assert_int_eq(pthread_create(&th[i], NULL, scan_thread, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].hits, 200);
	}
	ck_assert_int_eq(json_array_size(json_object_get(r, "findings")), 800);
	json_decref(r);
	ayara_free(y);
}
END_TEST


/* ---- the pool, memory windows, streams ---- */

static const char mem_rules[] = "rule mem_marker {\n"
				"  meta: severity = \"high\"\n"
				"  strings: $m = \"MEMNET-MARKER-0123456789\"\n"
				"  condition: $m\n"
				"}\n";
#define MARK	 "MEMNET-MARKER-0123456789"
#define MARK_LEN 24

static struct ayara *open_mem_rules(uint64_t mb)
{
	put("r/mem.yar", mem_rules);
	const char *rules[] = {at("r/mem.yar")};
	struct ayara_opts o = {
	    .no_shipped = true, .rules = rules, .nrules = 1, .max_bytes = mb};
	struct ayara *y = NULL;
	struct err e = {0};
	ck_assert_msg(ayara_open(&o, &y, &e) == 0, "ayara_open: %s", e.msg);
	return y;
}

static size_t count_id(json_t *r, const char *id)
{
	json_t *f;
	size_t i, n = 0;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		n += !strcmp(json_string_value(json_object_get(f, "id")), id);
	}
	return n;
}

static json_t *finding_at(json_t *r, const char *path)
{
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		const char *p = json_string_value(json_object_get(f, "path"));
		if (p && !strcmp(p, path))
			return f;
	}
	return NULL;
}

/* one region of size n at vaddr through ayara_mem_region in chunks */
static void feed_region(struct ayara_mem *m, size_t index, uint64_t vaddr, const char *name,
			const unsigned char *buf, size_t n, size_t chunk)
{
	struct acore_region reg = {.index = index,
				   .vaddr = vaddr,
				   .memsz = n,
				   .filesz = n,
				   .flags = 6,
				   .name = name};
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		ck_assert_int_eq(ayara_mem_region(&reg, buf + off, k, off, m), 0);
	}
}

START_TEST(pool_scans_and_bounds)
{
	struct ayara *y = open_mem_rules(0);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 2);
	/* more bytes than the queue holds: submitters wait, nothing is lost */
	const size_t n = 8u << 20;
	for (int i = 0; i < 40; i++) {
		unsigned char *b = malloc(n);
		memset(b, 'x', n);
		if (i % 4 == 0)
			memcpy(b + 1000 + (size_t)i, MARK, MARK_LEN);
		char path[32];
		snprintf(path, sizeof(path), "f%d", i);
		struct ayara_ctx c = {.source = "file", .path = path};
		ayara_pool_submit(p, b, n, &c, json_pack("{s:i}", "i", i));
	}
	/* the workers' findings reach the report only at the end */
	ck_assert_int_eq(json_array_size(json_object_get(r, "findings")), 0);
	ayara_pool_finish(p);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 10);
	json_t *f = finding_at(r, "f8");
	ck_assert_ptr_nonnull(f);
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "i")), 8);
	json_t *s0 = json_array_get(json_object_get(ev, "strings"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "offset")), 1008);
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "files")), 40);
	json_decref(sec);
	json_decref(r);
	ayara_free(y);
}
END_TEST

START_TEST(pool_one_worker)
{
	struct ayara *y = open_mem_rules(0);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 1);
	char *b = strdup("..." MARK);
	struct ayara_ctx c = {.source = "file", .path = "one"};
	ayara_pool_submit(p, b, strlen(b), &c, NULL);
	ayara_pool_finish(p);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 1);
	json_decref(r);
	ayara_free(y);
}
END_TEST

/* windows of 256 KiB sharing 64 KiB: [0,256K) [192K,448K) [384K,640K)
 * [576K,832K) [768K,1M). A marker across the first window's end is found
 * (by the second), one inside the part the third and fourth share is
 * reported once. Fast mode: a rule at most once per window (its first
 * match). */
START_TEST(mem_windows)
{
	const size_t W = 256u << 10, OV = AYARA_MEM_OVERLAP, N = 1u << 20;
	const uint64_t va = 0x55d000000000ull;
	struct ayara *y = open_mem_rules(W);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 2);
	struct ayara_mem *m = ayara_mem_new(p, 42, "victim", "data/memory/42.core");
	unsigned char *buf = malloc(N);
	memset(buf, 'a', N);
	const size_t across = W - 10;		/* past window 0's end */
	const size_t shared = 3 * W - 2 * OV - 1000; /* in windows 2 and 3 */
	memcpy(buf + across, MARK, MARK_LEN);
	memcpy(buf + shared, MARK, MARK_LEN);
	feed_region(m, 3, va, "[heap]", buf, N, 100000);
	/* a second region: a marker at its very start and one at its end */
	memset(buf, 'b', 4096);
	memcpy(buf, MARK, MARK_LEN);
	memcpy(buf + 4096 - MARK_LEN, MARK, MARK_LEN);
	feed_region(m, 4, va + N, "/usr/lib/libx.so", buf, 4096, 4096);
	ayara_mem_free(m);
	ayara_pool_finish(p);
	free(buf);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 3);
	char path[64];
	snprintf(path, sizeof(path), "pid:42@0x%llx", (unsigned long long)(va + across));
	json_t *f = finding_at(r, path);
	ck_assert_msg(f != NULL, "no finding at %s", path);
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "address")), (json_int_t)(va + across));
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")), 42);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "process_name")), "victim");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "member")), "data/memory/42.core");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "mapping")), "[heap]");
	json_t *reg = json_object_get(ev, "region");
	ck_assert_int_eq(json_integer_value(json_object_get(reg, "start")), (json_int_t)va);
	ck_assert_int_eq(json_integer_value(json_object_get(reg, "size")), (json_int_t)N);
	ck_assert_str_eq(json_string_value(json_object_get(reg, "perms")), "rw-");
	json_t *s0 = json_array_get(json_object_get(ev, "strings"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "offset")), (json_int_t)(va + across));
	ck_assert_str_eq(json_string_value(json_object_get(s0, "excerpt")), MARK);
	snprintf(path, sizeof(path), "pid:42@0x%llx", (unsigned long long)(va + shared));
	ck_assert_msg(finding_at(r, path) != NULL, "no finding at %s", path);
	/* the second region: one window, fast mode: its first match */
	snprintf(path, sizeof(path), "pid:42@0x%llx", (unsigned long long)(va + N));
	f = finding_at(r, path);
	ck_assert_msg(f != NULL, "no finding at %s", path);
	ev = json_object_get(f, "evidence");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "mapping")), "/usr/lib/libx.so");
	/* no window was cut short */
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "truncated")), 0);
	/* 1 MiB in 5 windows (a 6th would hold only bytes the 5th had), and
	 * the small region */
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "files")), 6);
	json_decref(sec);
	json_decref(r);
	ayara_free(y);
}
END_TEST

/* a region whose last window would hold only bytes the one before had */
START_TEST(mem_window_exact)
{
	const size_t W = 128u << 10;
	struct ayara *y = open_mem_rules(W);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 2);
	struct ayara_mem *m = ayara_mem_new(p, 7, NULL, NULL);
	unsigned char *buf = calloc(1, W);
	memcpy(buf + W - MARK_LEN, MARK, MARK_LEN);
	feed_region(m, 0, 0x1000, "anon", buf, W, 4096);
	/* a region left out of the core: one call, no bytes */
	struct acore_region gone = {.index = 1, .vaddr = 0x900000, .memsz = 4096, .name = "anon"};
	ck_assert_int_eq(ayara_mem_region(&gone, NULL, 0, 0, m), 0);
	ayara_mem_free(m);
	ayara_pool_finish(p);
	free(buf);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 1);
	char path[64];
	snprintf(path, sizeof(path), "pid:7@0x%llx", (unsigned long long)(0x1000 + W - MARK_LEN));
	json_t *f = finding_at(r, path);
	ck_assert_ptr_nonnull(f);
	ck_assert(json_is_null(json_object_get(json_object_get(f, "evidence"), "member")));
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "files")), 1);
	json_decref(sec);
	json_decref(r);
	ayara_free(y);
}
END_TEST

START_TEST(stream_hook)
{
	struct ayara *y = open_mem_rules(0);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 2);
	struct aflow_key k = {.family = 4, .proto = 6, .sport = 40000, .dport = 3333};
	memcpy(k.src, "\x0a\x00\x00\x02", 4);
	memcpy(k.dst, "\x0a\x00\x00\x01", 4);
	static const char up[] = "{\"login\":\"x\"} " MARK "\n";
	ayara_stream(&k, 0, up, sizeof(up) - 1, p);
	static const char down[] = "0123456789" MARK;
	ayara_stream(&k, 1, down, sizeof(down) - 1, p);
	ayara_stream(&k, 1, "", 0, p); /* nothing: no scan */
	struct aflow_key k6 = {.family = 6, .proto = 17, .sport = 5353, .dport = 53};
	k6.src[15] = 1;
	k6.dst[0] = 0xfd;
	k6.dst[15] = 2;
	ayara_stream(&k6, 0, MARK, MARK_LEN, p);
	ayara_pool_finish(p);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 3);
	json_t *f = finding_at(r, "tcp 10.0.0.2:40000 -> 10.0.0.1:3333 to_server@14");
	ck_assert_ptr_nonnull(f);
	json_t *ev = json_object_get(f, "evidence");
	json_t *fl = json_object_get(ev, "flow");
	ck_assert_str_eq(json_string_value(json_object_get(fl, "proto")), "tcp");
	ck_assert_str_eq(json_string_value(json_object_get(fl, "src")), "10.0.0.2");
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "sport")), 40000);
	ck_assert_str_eq(json_string_value(json_object_get(fl, "dst")), "10.0.0.1");
	ck_assert_int_eq(json_integer_value(json_object_get(fl, "dport")), 3333);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "direction")), "to_server");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "offset")), 14);
	json_t *s0 = json_array_get(json_object_get(ev, "strings"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "offset")), 14);
	f = finding_at(r, "tcp 10.0.0.2:40000 -> 10.0.0.1:3333 to_client@10");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(f, "evidence"), "direction")),
	    "to_client");
	ck_assert_ptr_nonnull(finding_at(r, "udp [::1]:5353 -> [fd00::2]:53 to_server@0"));
	json_t *sec = ayara_section(y);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(sec, "scanned"), "files")), 3);
	json_decref(sec);
	json_decref(r);
	ayara_free(y);
}
END_TEST

/* a stream past --yara-max-bytes: its first bytes, the note names the stream */
START_TEST(stream_cut_named)
{
	struct ayara *y = open_mem_rules(100);
	json_t *r = report_new();
	struct ayara_pool *p = ayara_pool_new(y, r, 2);
	struct aflow_key k = {.family = 4, .proto = 6, .sport = 40000, .dport = 3333};
	memcpy(k.src, "\x0a\x00\x00\x02", 4);
	memcpy(k.dst, "\x0a\x00\x00\x01", 4);
	char buf[300];
	memset(buf, 'z', sizeof(buf));
	memcpy(buf + 10, MARK, MARK_LEN);
	memcpy(buf + 200, MARK, MARK_LEN);
	ayara_stream(&k, 0, buf, sizeof(buf), p);
	ayara_pool_finish(p);
	ck_assert_int_eq(count_id(r, "yara.mem-marker"), 1);
	ck_assert_ptr_nonnull(finding_at(r, "tcp 10.0.0.2:40000 -> 10.0.0.1:3333 to_server@10"));
	json_t *sec = ayara_section(y);
	ck_assert(notes_have(json_object_get(sec, "notes"),
			     "'tcp 10.0.0.2:40000 -> 10.0.0.1:3333 to_server': 300 bytes, only the "
			     "first 100"));
	json_decref(sec);
	json_decref(r);
	ayara_free(y);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("yara");
	TCase *tc = tcase_create("yara");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, meta_into_findings);
	tcase_add_test(tc, broken_file_reported);
	tcase_add_test(tc, nothing_to_compile);
	tcase_add_test(tc, shipped_dir_and_user_rules);
	tcase_add_test(tc, cache_miss_hit_corrupt);
	tcase_add_test(tc, externals);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, max_bytes);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, pool_scans_and_bounds);
	tcase_add_test(tc, pool_one_worker);
	tcase_add_test(tc, mem_windows);
	tcase_add_test(tc, mem_window_exact);
	tcase_add_test(tc, stream_hook);
	tcase_add_test(tc, stream_cut_named);
	suite_add_tcase(s, tc);
	return s;
}

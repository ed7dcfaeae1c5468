#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/chain.h"
#include "contain/sign.h"
#include "contain/util.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_chain.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	/* only our mkdtemp dir */
	snprintf(cmd, sizeof(cmd), "%s/log", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/log2", dir);
	unlink(cmd);
	rmdir(dir);
}

static char *logpath(void)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/log", dir);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	struct err e = {0};
	ck_assert_int_eq(read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL, &e), 0);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, buf, len), 0);
	close(fd);
}

static void write_events(const char *path, int flags, int n)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_msg(chain_open(path, CHAIN_AUDIT_SEED, flags, &c, &e) == 0, "%s", e.msg);
	for (int i = 0; i < n; i++) {
		char t[32];
		snprintf(t, sizeof(t), "target-%d", i);
		ck_assert_msg(chain_append(c, "test", t, "ok", NULL, &e) == 0, "%s", e.msg);
	}
	chain_close(c);
}

START_TEST(genesis_value)
{
	char g[CHAIN_HASH_HEX];
	chain_genesis("audit", g);
	ck_assert_str_eq(g, "42aa93adac1c80428e692a08c9709756dfcc9a84ed937297fd6ec9ada1f5b836");
	char g2[CHAIN_HASH_HEX];
	chain_genesis("some-bag-id", g2);
	ck_assert_str_ne(g, g2);
}
END_TEST

START_TEST(line_format)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_CREATE_EXCL | CHAIN_FSYNC, &c, &e), 0);
	json_t *extra = json_pack("{s:s,s:[i]}", "container", "abc", "n", 1);
	ck_assert_int_eq(chain_append(c, "quarantine", "abc123", "ok", extra, &e), 0);
	json_decref(extra);
	ck_assert_uint_eq(chain_seq(c), 1);
	char head[CHAIN_HASH_HEX];
	memcpy(head, chain_head(c), sizeof(head));
	chain_close(c);

	size_t len;
	char *buf = slurp(logpath(), &len);
	ck_assert(str_has_prefix(buf, "{\"seq\":1,\"time\":\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"actor\":{\"uid\":"));
	ck_assert_ptr_nonnull(strstr(buf, ",\"tool\":\"contain " CONTAIN_VERSION "\",\"action\":"
					  "\"quarantine\",\"target\":\"abc123\",\"result\":\"ok\","
					  "\"container\":\"abc\",\"n\":[1],\"prev\":\"42aa93ad"));
	ck_assert(str_has_suffix(buf, "\"}\n"));
	ck_assert_ptr_null(strstr(buf, "\", \"")); /* compact */
	ck_assert_ptr_null(strstr(buf, "\": "));
	char h[CHAIN_HASH_HEX];
	chain_line_hash(buf, len - 1, h);
	ck_assert_str_eq(h, head);

	struct stat st;
	ck_assert_int_eq(stat(logpath(), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(buf);
}
END_TEST

START_TEST(excl_and_append)
{
	struct err e = {0};
	struct chain *c;
	write_events(logpath(), CHAIN_CREATE_EXCL, 3);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_CREATE_EXCL, &c, &e), -1);
	ck_assert_int_eq(e.errnum, EEXIST);
	write_events(logpath(), CHAIN_APPEND, 2);
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 5);
	ck_assert_uint_eq(r.first_bad, 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), 0);
	ck_assert_uint_eq(chain_seq(c), 5);
	ck_assert_str_eq(chain_head(c), r.head);
	chain_close(c);
	/* the wrong seed: the first line's prev is wrong */
	ck_assert_int_eq(chain_check_file(logpath(), "other", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
}
END_TEST

START_TEST(empty_head_is_genesis)
{
	struct err e = {0};
	struct chain_check r;
	char g[CHAIN_HASH_HEX];
	chain_genesis("x", g);
	ck_assert_int_eq(chain_check_buf("", 0, "x", &r, &e), 0);
	ck_assert_str_eq(r.head, g);
	ck_assert_uint_eq(r.lines, 0);
}
END_TEST

START_TEST(tamper_detected)
{
	struct err e = {0};
	struct chain_check r;
	struct chain *c;
	write_events(logpath(), CHAIN_CREATE_EXCL, 4);
	size_t len;
	char *orig = slurp(logpath(), &len);

	/* one byte edited in line 2: line 3's prev no longer matches */
	char *b = xstrdup(orig);
	char *l2 = strchr(b, '\n') + 1;
	char *tg = strstr(l2, "target-1");
	tg[7] = '9';
	ck_assert_int_eq(chain_check_buf(b, len, "audit", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 3);
	ck_assert_ptr_nonnull(strstr(r.problem, "prev"));
	spit(logpath(), b, len);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 3"));
	free(b);

	/* a line removed */
	struct sbuf s = SBUF_INIT;
	char *l3 = strchr(strchr(orig, '\n') + 1, '\n') + 1;
	sbuf_add(&s, orig, (size_t)(strchr(orig, '\n') + 1 - orig));
	sbuf_adds(&s, l3);
	ck_assert_int_eq(chain_check_buf(s.buf, s.len, "audit", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 2);
	ck_assert_ptr_nonnull(strstr(r.problem, "seq 3"));
	sbuf_free(&s);

	/* truncated mid-line */
	ck_assert_int_eq(chain_check_buf(orig, len - 10, "audit", &r, &e), 1);
	ck_assert(r.truncated_tail);
	ck_assert_uint_eq(r.first_bad, 4);
	ck_assert_uint_eq(r.lines, 4);

	/* truncated at a line end: still a valid (shorter) chain */
	size_t cut = (size_t)(strrchr(orig, '\n') - orig);
	while (cut && orig[cut - 1] != '\n')
		cut--;
	ck_assert_int_eq(chain_check_buf(orig, cut, "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 3);

	/* not JSON */
	ck_assert_int_eq(chain_check_buf("hello\n", 6, "audit", &r, &e), 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "not JSON"));
	free(orig);
}
END_TEST

/* An open for append walks on from what this process last knew good (the
 * mark): many opens keep one valid chain; a file rewritten under us (same
 * inode, other lines) makes the walk from the mark fail, and the whole file
 * decides: a valid rewrite is appended to, a broken one refused. */
START_TEST(append_walks_from_the_mark)
{
	struct err e = {0};
	struct chain_check r;
	struct chain *c;
	write_events(logpath(), CHAIN_CREATE_EXCL, 2);
	for (int i = 0; i < 20; i++)
		write_events(logpath(), CHAIN_APPEND, 1);
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 22);

	/* rewritten in place: a valid chain of 30 lines made elsewhere */
	char other[PATH_MAX];
	snprintf(other, sizeof(other), "%s.other", logpath());
	unlink(other);
	write_events(other, CHAIN_CREATE_EXCL, 30);
	size_t len;
	char *buf = slurp(other, &len);
	spit(logpath(), buf, len);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), 0);
	ck_assert_uint_eq(chain_seq(c), 30);
	ck_assert_int_eq(chain_append(c, "test", "after", "ok", NULL, &e), 0);
	chain_close(c);
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 31);

	/* a line after the mark that does not chain: the whole walk refuses */
	free(buf);
	buf = slurp(logpath(), &len);
	struct sbuf s = SBUF_INIT;
	sbuf_add(&s, buf, len);
	sbuf_adds(&s, "{\"seq\":99}\n");
	spit(logpath(), s.buf, s.len);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 32"));
	sbuf_free(&s);
	free(buf);
	unlink(other);
}
END_TEST

START_TEST(reserved_extra_refused)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(chain_open(NULL, "x", CHAIN_MEMORY, &c, &e), 0);
	json_t *extra = json_pack("{s:i}", "seq", 9);
	ck_assert_int_eq(chain_append(c, "a", "t", "ok", extra, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "reserved"));
	json_decref(extra);
	ck_assert_int_eq(chain_append(c, "a", "bad\xff", "ok", NULL, &e), 0);
	size_t len;
	const char *buf = chain_buf(c, &len);
	ck_assert_ptr_nonnull(strstr(buf, "bad\\\\xff"));
	struct chain_check r;
	ck_assert_int_eq(chain_check_buf(buf, len, "x", &r, &e), 0);
	ck_assert_str_eq(r.head, chain_head(c));
	chain_close(c);
}
END_TEST

START_TEST(two_handles_interleave)
{
	struct err e = {0};
	struct chain *a, *b;
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &a, &e), 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &b, &e), 0);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(chain_append(i % 2 ? a : b, "x", "y", "ok", NULL, &e), 0);
		ck_assert_int_eq(chain_append(a, "x", "y", "ok", NULL, &e), 0);
	}
	ck_assert_uint_eq(chain_seq(a), 20);
	chain_close(a);
	chain_close(b);
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 20);
}
END_TEST

START_TEST(two_processes_do_not_fork_the_chain)
{
	struct err e = {0};
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		ck_assert_int_ge(kids[k], 0);
		if (kids[k] == 0) {
			struct chain *c;
			if (chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e) < 0)
				_exit(1);
			for (int i = 0; i < 300; i++)
				if (chain_append(c, "race", "t", "ok", NULL, &e) < 0)
					_exit(2);
			chain_close(c);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 600);
}
END_TEST

START_TEST(symlink_refused)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(symlink("/tmp/nonexistent-target", logpath()), 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.errnum, ELOOP);
}
END_TEST

/* ---- rooted chains (the audit log): a genesis line, not a fixed seed ---- */

static json_t *gfields(const char *mid)
{
	return json_pack("{s:{s:s,s:s}}", "node", "machine_id", mid, "nonce", "n");
}

static void write_rooted(const char *path, EVP_PKEY *signer, int n)
{
	struct err e = {0};
	struct chain *c;
	json_t *g = gfields("aaaa");
	ck_assert_msg(chain_open_rooted(path, g, signer, CHAIN_APPEND, &c, &e) == 0, "%s", e.msg);
	json_decref(g);
	for (int i = 0; i < n; i++) {
		char t[32];
		snprintf(t, sizeof(t), "target-%d", i);
		ck_assert_msg(chain_append(c, "test", t, "ok", NULL, &e) == 0, "%s", e.msg);
	}
	chain_close(c);
}

START_TEST(rooted_genesis_starts_the_chain)
{
	struct err e = {0};
	write_rooted(logpath(), NULL, 2);
	size_t len;
	char *buf = slurp(logpath(), &len);
	ck_assert(str_has_prefix(buf, "{\"seq\":0,\"time\":\""));
	char *nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(strstr(buf, "\"action\":\"genesis\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"node\":{\"machine_id\":\"aaaa\",\"nonce\":\"n\"}}\n"));
	/* line 1's prev is the hash of the genesis line, not a fixed seed */
	char g[CHAIN_HASH_HEX], fixed[CHAIN_HASH_HEX], want[CHAIN_HASH_HEX + 16];
	chain_line_hash(buf, (size_t)(nl - buf), g);
	chain_genesis(CHAIN_AUDIT_SEED, fixed);
	snprintf(want, sizeof(want), "\"prev\":\"%s\"", g);
	ck_assert_ptr_nonnull(strstr(nl + 1, want));
	ck_assert_str_ne(g, fixed);

	struct chain_check r;
	struct chain_check_opts o = {.rooted = true};
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 0);
	ck_assert_uint_eq(r.lines, 3);
	ck_assert_uint_eq(r.seq, 2);
	ck_assert_str_eq(r.genesis, g);
	/* appending again keeps the genesis: no second one */
	write_rooted(logpath(), NULL, 1);
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 0);
	ck_assert_uint_eq(r.seq, 3);
	ck_assert_str_eq(r.genesis, g);
	/* the seeded reading of it fails at once */
	ck_assert_int_eq(chain_check_file(logpath(), CHAIN_AUDIT_SEED, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
	free(buf);
}
END_TEST

START_TEST(rooted_empty_or_headless_fails)
{
	struct err e = {0};
	struct chain_check r;
	struct chain_check_opts o = {.rooted = true};
	/* an empty file used to verify as an intact chain */
	ck_assert_int_eq(chain_check_buf_opts("", 0, &o, &r, &e), 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "empty"));
	int fd = open(logpath(), O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "empty"));
	/* a file whose first line is an ordinary event: refused, not extended */
	unlink(logpath());
	write_events(logpath(), CHAIN_CREATE_EXCL, 2);
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "not a genesis"));
	struct chain *c;
	json_t *g = gfields("aaaa");
	ck_assert_int_eq(chain_open_rooted(logpath(), g, NULL, CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	json_decref(g);
	/* the genesis moved down (a line put before it): refused */
	unlink(logpath());
	write_rooted(logpath(), NULL, 1);
	size_t len;
	char *buf = slurp(logpath(), &len);
	char *nl = strchr(buf, '\n');
	struct sbuf sb = SBUF_INIT;
	sbuf_add(&sb, nl + 1, len - (size_t)(nl + 1 - buf));
	sbuf_add(&sb, buf, (size_t)(nl + 1 - buf));
	ck_assert_int_eq(chain_check_buf_opts(sb.buf, sb.len, &o, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
	sbuf_free(&sb);
	free(buf);
}
END_TEST

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	ck_assert(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &k) == 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

START_TEST(signed_lines)
{
	struct err e = {0};
	EVP_PKEY *k = new_key(), *other = new_key();
	write_rooted(logpath(), k, 3);
	size_t len;
	char *buf = slurp(logpath(), &len);
	struct chain_check r;
	struct chain_check_opts o = {.rooted = true, .pubkey = k};
	ck_assert_int_eq(chain_check_buf_opts(buf, len, &o, &r, &e), 0);
	ck_assert_uint_eq(r.signed_lines, 4); /* the genesis too */
	/* without a key the signatures are only counted */
	struct chain_check_opts nokey = {.rooted = true};
	ck_assert_int_eq(chain_check_buf_opts(buf, len, &nokey, &r, &e), 0);
	ck_assert_uint_eq(r.signed_lines, 4);
	/* another key: the genesis line fails */
	struct chain_check_opts wrong = {.rooted = true, .pubkey = other};
	ck_assert_int_eq(chain_check_buf_opts(buf, len, &wrong, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "signature"));

	/* the signature is over the unsigned line's hash: recompute it by hand */
	char *l2 = strchr(buf, '\n') + 1;
	char *end2 = strchr(l2, '\n');
	char *sigm = strstr(l2, ",\"sig\":\"");
	ck_assert_ptr_nonnull(sigm);
	ck_assert(sigm < end2);
	struct sbuf u = SBUF_INIT;
	sbuf_add(&u, l2, (size_t)(sigm - l2));
	sbuf_addc(&u, '}');
	char uh[CHAIN_HASH_HEX], msg[128];
	chain_line_hash(u.buf, u.len, uh);
	snprintf(msg, sizeof(msg), "%s%s", CHAIN_SIG_DOMAIN, uh);
	unsigned char sig[SIGN_SIG_LEN];
	char hex[2 * SIGN_SIG_LEN + 1];
	memcpy(hex, sigm + 8, 2 * SIGN_SIG_LEN);
	hex[2 * SIGN_SIG_LEN] = '\0';
	ck_assert_int_eq(hex_decode(hex, sig, sizeof(sig)), 0);
	ck_assert_int_eq(sign_check(k, msg, strlen(msg), sig, sizeof(sig)), 1);
	sbuf_free(&u);

	/* a forged line (edited, chain recomputed is not even needed): fails */
	char *f = xstrdup(buf);
	char *t = strstr(f, "target-1");
	t[7] = '7';
	ck_assert_int_eq(chain_check_buf_opts(f, len, &o, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 3);
	ck_assert_ptr_nonnull(strstr(r.problem, "signature does not verify"));
	free(f);
	/* the signature stripped: "not signed" with a key */
	struct sbuf st = SBUF_INIT;
	sbuf_add(&st, buf, (size_t)(strstr(buf, ",\"sig\":\"") - buf));
	sbuf_adds(&st, "}\n");
	ck_assert_int_eq(chain_check_buf_opts(st.buf, st.len, &o, &r, &e), 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "not signed"));
	sbuf_free(&st);
	/* an unsigned log with a key asked for */
	unlink(logpath());
	write_rooted(logpath(), NULL, 1);
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "not signed"));
	/* "sig" is reserved for extra fields */
	struct chain *c;
	json_t *g = gfields("aaaa");
	ck_assert_int_eq(chain_open_rooted(logpath(), g, NULL, CHAIN_APPEND, &c, &e), 0);
	json_decref(g);
	json_t *x = json_pack("{s:s}", "sig", "00");
	ck_assert_int_eq(chain_append(c, "a", "t", "ok", x, &e), -1);
	json_decref(x);
	chain_close(c);
	free(buf);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}
END_TEST

/* A new process appending to the audit log reads its two ends only (the
 * genesis line and the last line); the lines between are audit verify's.
 * log2 is a copy (a new inode each time), so this process's mark (what it
 * walked or wrote itself) does not apply. */
static void copy_to_log2(const char *buf, size_t len, char *out, size_t n)
{
	char tmp[160];
	snprintf(out, n, "%s/log2", dir);
	snprintf(tmp, sizeof(tmp), "%s.new", out);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, buf, len), 0);
	close(fd);
	/* made while the last log2 exists: another inode, not the mark's */
	ck_assert_int_eq(rename(tmp, out), 0);
}

/* an append to a copy of buf[0..len) is refused, saying want */
static void append_refused(const char *buf, size_t len, json_t *g, const char *want)
{
	struct err e = {0};
	struct chain *c;
	char l2[128];
	copy_to_log2(buf, len, l2, sizeof(l2));
	ck_assert_int_eq(chain_open_rooted(l2, g, NULL, CHAIN_APPEND, &c, &e), -1);
	ck_assert_msg(strstr(e.msg, want), "%s", e.msg);
}

START_TEST(rooted_append_reads_the_ends)
{
	struct err e = {0};
	struct chain *c;
	struct chain_check r;
	struct chain_check_opts o = {.rooted = true};
	char l2[128];
	size_t len;
	write_rooted(logpath(), NULL, 400); /* over the first 64 KiB read */
	char *buf = slurp(logpath(), &len);
	json_t *g = gfields("aaaa");
	/* the chain goes on from the last line */
	copy_to_log2(buf, len, l2, sizeof(l2));
	ck_assert_msg(chain_open_rooted(l2, g, NULL, CHAIN_APPEND, &c, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(chain_seq(c), 400);
	ck_assert_int_eq(chain_append(c, "test", "t", "ok", NULL, &e), 0);
	chain_close(c);
	ck_assert_int_eq(chain_check_file_opts(l2, &o, &r, &e), 0);
	ck_assert_uint_eq(r.seq, 401);
	/* only the genesis line: seq 0 */
	const char *nl = memchr(buf, '\n', len);
	copy_to_log2(buf, (size_t)(nl - buf) + 1, l2, sizeof(l2));
	ck_assert_int_eq(chain_open_rooted(l2, g, NULL, CHAIN_APPEND, &c, &e), 0);
	ck_assert_uint_eq(chain_seq(c), 0);
	chain_close(c);
	/* a last line cut short (a writer killed mid-line): refused, named */
	append_refused(buf, len - 5, g, "broken near its end: last line has no newline");
	/* a last line whose seq does not follow the line before: refused */
	char *forged = xstrdup(buf);
	char *q = strstr(forged + (nl - buf), "\"seq\":400");
	ck_assert_ptr_nonnull(q);
	q[6] = '9';
	append_refused(forged, len, g, "broken near its end: seq 900 where 400 was expected");
	/* a broken genesis line: refused with its line number */
	memcpy(forged, buf, len);
	forged[0] = 'x';
	append_refused(forged, len, g, "broken at line 1");
	/* a line between tampered with: the append goes on (it reads the ends),
	 * and the check of the whole file names the line */
	memcpy(forged, buf, len);
	q = strstr(forged, "target-0");
	ck_assert_ptr_nonnull(q);
	q[7] = '7';
	copy_to_log2(forged, len, l2, sizeof(l2));
	ck_assert_msg(chain_open_rooted(l2, g, NULL, CHAIN_APPEND, &c, &e) == 0, "%s", e.msg);
	chain_close(c);
	ck_assert_int_eq(chain_check_file_opts(l2, &o, &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 3);
	json_decref(g);
	free(forged);
	free(buf);
}
END_TEST

static int refuse_seq2(void *ctx, json_t *line, unsigned long long seq,
		       const char hash[CHAIN_HASH_HEX], char *problem, size_t psz)
{
	unsigned *n = ctx;
	(void)line;
	ck_assert_uint_eq(strlen(hash), CHAIN_HASH_HEX - 1);
	(*n)++;
	if (seq == 2) {
		snprintf(problem, psz, "refused by the reader");
		return 1;
	}
	return 0;
}

START_TEST(reader_may_refuse_a_line)
{
	struct err e = {0};
	unsigned n = 0;
	write_rooted(logpath(), NULL, 3);
	struct chain_check r;
	struct chain_check_opts o = {.rooted = true, .fn = refuse_seq2, .ctx = &n};
	ck_assert_int_eq(chain_check_file_opts(logpath(), &o, &r, &e), 1);
	ck_assert_uint_eq(n, 3); /* genesis, 1, 2 */
	ck_assert_uint_eq(r.first_bad, 3);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_str_eq(r.problem, "refused by the reader");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, genesis_value);
	tcase_add_test(tc, line_format);
	tcase_add_test(tc, excl_and_append);
	tcase_add_test(tc, empty_head_is_genesis);
	tcase_add_test(tc, tamper_detected);
	tcase_add_test(tc, append_walks_from_the_mark);
	tcase_add_test(tc, reserved_extra_refused);
	tcase_add_test(tc, two_handles_interleave);
	tcase_add_test(tc, two_processes_do_not_fork_the_chain);
	tcase_add_test(tc, symlink_refused);
	tcase_add_test(tc, rooted_genesis_starts_the_chain);
	tcase_add_test(tc, rooted_empty_or_headless_fails);
	tcase_add_test(tc, signed_lines);
	tcase_add_test(tc, reader_may_refuse_a_line);
	tcase_add_test(tc, rooted_append_reads_the_ends);
	suite_add_tcase(s, tc);
	return s;
}

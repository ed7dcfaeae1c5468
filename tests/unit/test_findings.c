/* test_findings: the rules of src/analyze/findings.c over hand-built reports
 * and small image indexes (each rule: id, severity, ATT&CK, path; a clean
 * layer gives nothing at or above medium), sort/dedup/summary, and the
 * package database reader (src/analyze/pkgdb.c) on good and hostile text. */
#include <string.h>

#include "contain/analyze.h"
#include "unit.h"

/* JSON with ' for " (test readability) */
static json_t *J(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t je;
	json_t *j = json_loads(d, 0, &je);
	ck_assert_msg(j != NULL, "bad test json: %s: %s", je.text, d);
	free(d);
	return j;
}

static json_t *report_new(void)
{
	return J("{'diff':{'added':[],'modified':[],'metadata':[],'deleted':[],'opaque':[]},"
		 "'processes':[],'image':{'match':'match','manifest_digest':'sha256:aa',"
		 "'config_digest':'sha256:bb','recorded_digest':'sha256:aa'},'findings':[]}");
}

static void diff_add(json_t *r, const char *kind, const char *ent)
{
	json_array_append_new(json_object_get(json_object_get(r, "diff"), kind), J(ent));
}

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_D_LIT "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
static const char SHA_D[] = SHA_D_LIT;
static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static aidx_id put(struct aidx *x, const char *path, enum aent_type t, uint32_t mode,
		   const char *sha_hex, const char *link)
{
	struct aidx_entry a = {0};
	a.type = t;
	a.mode = mode;
	if (sha_hex) {
		a.has_sha256 = true;
		ck_assert_int_eq(hex_decode(sha_hex, a.sha256, 32), 0);
	}
	a.link_target = link;
	struct err e = {0};
	aidx_id id = AIDX_NONE;
	ck_assert_msg(aidx_set(x, path, &a, &id, &e) == 0, "set %s: %s", path, e.msg);
	return id;
}

static void keep(struct aidx *x, const char *path, const char *content)
{
	aidx_id id = aidx_lookup(x, path);
	if (id == AIDX_NONE)
		id = put(x, path, AENT_FILE, 0644, NULL, NULL);
	struct err e = {0};
	ck_assert_msg(aidx_keep(x, id, content, strlen(content), false, &e) == 0, "keep %s: %s",
		      path, e.msg);
}

static size_t nfind(const json_t *r)
{
	return json_array_size(json_object_get(r, "findings"));
}

/* The finding of id at path (NULL: none). */
static json_t *find(const json_t *r, const char *id, const char *path)
{
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		const char *fi = json_string_value(json_object_get(f, "id"));
		const char *fp = json_string_value(json_object_get(f, "path"));
		if (strcmp(fi, id) == 0 && (!path || (fp && strcmp(fp, path) == 0)))
			return f;
	}
	return NULL;
}

static const char *S(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* the finding exists with that severity and technique; returns it */
static json_t *expect(const json_t *r, const char *id, const char *path, const char *sev,
		      const char *attack)
{
	json_t *f = find(r, id, path);
	if (!f) {
		struct sbuf b = SBUF_INIT;
		json_t *x;
		size_t i;
		json_array_foreach(json_object_get(r, "findings"), i, x)
		{
			if (b.len < 2000)
				sbuf_printf(&b, " %s@%s", S(x, "id"),
					    S(x, "path") ? S(x, "path") : "-");
		}
		ck_abort_msg("no %s at %s; findings:%s", id, path ? path : "-", b.buf ? b.buf : "");
	}
	ck_assert_msg(strcmp(S(f, "severity"), sev) == 0, "%s %s: severity %s, want %s (%s)", id,
		      path, S(f, "severity"), sev, S(f, "detail"));
	if (attack)
		ck_assert_str_eq(S(f, "attack"), attack);
	else
		ck_assert(json_is_null(json_object_get(f, "attack")));
	ck_assert(json_is_object(json_object_get(f, "evidence")));
	ck_assert_ptr_nonnull(S(f, "title"));
	return f;
}

static void detail_has(const json_t *f, const char *want)
{
	const char *d = S(f, "detail");
	ck_assert_msg(d && strstr(d, want), "detail '%s' lacks '%s'", d ? d : "(null)", want);
}

/* ---- severities ---- */

START_TEST(sev_names_round_trip)
{
	for (int s = SEV_INFO; s <= SEV_CRITICAL; s++) {
		enum sev o;
		ck_assert_int_eq(sev_parse(sev_name((enum sev)s), &o), 0);
		ck_assert_int_eq((int)o, s);
	}
	enum sev o;
	ck_assert_int_eq(sev_parse("HIGH", &o), 0);
	ck_assert_int_eq(o, SEV_HIGH);
	ck_assert_int_eq(sev_parse("severe", &o), -1);
	ck_assert_int_eq(sev_parse("", &o), -1);
	ck_assert_str_eq(sev_name(SEV_CRITICAL), "critical");
	ck_assert_str_eq(sev_name((enum sev)99), "info");
}
END_TEST

/* ---- files added ---- */

START_TEST(new_executables_scripts_drops)
{
	json_t *r = report_new();
	diff_add(r, "added",
		 "{'path':'tmp/.x/implant','type':'file','mode':'0755',"
		 "'sha256':'"
		 "aaaa"
		 "','elf':{'class':'ELF64','machine':'x86-64',"
		 "'type':'pie executable','linkage':'dynamic','stripped':true}}");
	diff_add(r, "added",
		 "{'path':'usr/local/bin/helper','type':'file','mode':'0755',"
		 "'elf':{'class':'ELF64','machine':'x86-64','type':'exec','linkage':'static'}}");
	diff_add(r, "added",
		 "{'path':'usr/lib/libevil.so','type':'file','mode':'0644',"
		 "'elf':{'class':'ELF64','type':'shared object'}}");
	diff_add(r, "added",
		 "{'path':'tmp/core.1','type':'file','mode':'0600',"
		 "'elf':{'class':'ELF64','type':'core'}}");
	diff_add(r, "added",
		 "{'path':'tmp/drop.sh','type':'file','mode':'0755','shebang':'/bin/sh'}");
	diff_add(r, "added",
		 "{'path':'usr/local/bin/tool','type':'file','mode':'0644',"
		 "'shebang':'/usr/bin/env python3'}");
	diff_add(r, "added",
		 "{'path':'var/www/run.sh','type':'file','mode':'0755','shebang':'/bin/sh'}");
	diff_add(r, "added",
		 "{'path':'tmp/notes.txt','type':'file','mode':'0644','mime':'text/plain',"
		 "'size':12}");
	diff_add(r, "added", "{'path':'dev/shm/.cache/data','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'root/.cache/pip/x','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'tmp/.X11-unix','type':'dir','mode':'1777'}");
	diff_add(r, "added", "{'path':'tmp/sock','type':'socket','mode':'0755'}");
	findings_rules(r, NULL, NULL);

	json_t *f = expect(r, "fs.new-executable", "tmp/.x/implant", "critical", "T1105");
	detail_has(f, "pie executable");
	ck_assert_str_eq(S(json_object_get(f, "evidence"), "member"), "data/fs/upper.tar");
	ck_assert_str_eq(S(json_object_get(json_object_get(f, "evidence"), "elf"), "machine"),
			 "x86-64");
	expect(r, "fs.new-executable", "usr/local/bin/helper", "high", "T1105");
	expect(r, "fs.new-executable", "usr/lib/libevil.so", "high", "T1105");
	ck_assert_ptr_null(find(r, "fs.new-executable", "tmp/core.1"));
	/* a file another rule took is not also a dropped file */
	ck_assert_ptr_null(find(r, "fs.dropped-file", "tmp/.x/implant"));
	ck_assert_ptr_null(find(r, "fs.dropped-file", "tmp/drop.sh"));
	expect(r, "fs.dropped-file", "tmp/core.1", "low", "T1074.001");

	f = expect(r, "fs.new-script", "tmp/drop.sh", "high", "T1059.004");
	detail_has(f, "/bin/sh");
	expect(r, "fs.new-script", "usr/local/bin/tool", "medium", "T1059.004");
	ck_assert_ptr_null(find(r, "fs.new-script", "var/www/run.sh"));
	ck_assert_ptr_null(find(r, "fs.dropped-file", "var/www/run.sh"));

	expect(r, "fs.dropped-file", "tmp/notes.txt", "low", "T1074.001");
	expect(r, "fs.dropped-file", "dev/shm/.cache/data", "medium", "T1074.001");
	expect(r, "fs.dropped-file", "root/.cache/pip/x", "low", "T1074.001");
	ck_assert_ptr_null(find(r, "fs.dropped-file", "tmp/.X11-unix"));
	ck_assert_ptr_null(find(r, "fs.dropped-file", "tmp/sock"));
	json_decref(r);
}
END_TEST

/* ---- the image's binaries ---- */

START_TEST(binaries_replaced_and_deleted)
{
	struct aidx *img = aidx_new();
	put(img, "usr/bin/memtarget", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "bin/busybox", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "bin/ps", AENT_SYMLINK, 0777, NULL, "/bin/busybox");
	put(img, "bin/ls", AENT_SYMLINK, 0777, NULL, "/bin/busybox");
	put(img, "bin/wget", AENT_SYMLINK, 0777, NULL, "/bin/busybox");
	put(img, "lib/libc.so.6", AENT_FILE, 0644, SHA_A, NULL);
	put(img, "etc/motd", AENT_FILE, 0644, SHA_A, NULL);
	put(img, "opt/app/data.bin", AENT_FILE, 0644, SHA_A, NULL);
	put(img, "usr/sbin", AENT_DIR, 0755, NULL, NULL);
	put(img, "usr/bin/nc", AENT_FILE, 0755, SHA_D, NULL);
	put(img, "usr/bin/sudo", AENT_FILE, 04755, SHA_A, NULL);
	put(img, "etc/empty", AENT_FILE, 0644, SHA_EMPTY, NULL);
	json_t *r = report_new();
	diff_add(r, "modified",
		 "{'path':'usr/bin/sudo','type':'file','mode':'4755','sha256':'" SHA_D_LIT
		 "','image_type':'file','changes':['content']}");
	diff_add(r, "added",
		 "{'path':'tmp/empty','type':'file','mode':'0644','sha256':'" SHA_EMPTY "'}");
	diff_add(r, "modified",
		 "{'path':'usr/bin/memtarget','type':'file','mode':'0755',"
		 "'sha256':'"
		 "bbbb"
		 "','image_sha256':'aaaa','image_type':'file',"
		 "'elf':{'type':'exec'},'changes':['content']}");
	diff_add(r, "modified",
		 "{'path':'lib/libc.so.6','type':'file','mode':'0644',"
		 "'image_type':'file','changes':['content']}");
	diff_add(r, "modified",
		 "{'path':'opt/app/data.bin','type':'file','mode':'0644',"
		 "'image_type':'file','changes':['content'],'elf':{'type':'exec'}}");
	diff_add(r, "modified",
		 "{'path':'etc/motd','type':'file','mode':'0644',"
		 "'image_type':'file','changes':['content']}");
	diff_add(r, "metadata",
		 "{'path':'bin/ps','type':'symlink','link_target':'/tmp/.x/implant',"
		 "'image_link_target':'/bin/busybox','changes':['link-target']}");
	diff_add(r, "metadata",
		 "{'path':'bin/ls','type':'symlink','link_target':'/usr/bin/other',"
		 "'changes':['link-target']}");
	diff_add(r, "deleted", "{'path':'bin/wget','image_type':'symlink'}");
	diff_add(r, "metadata",
		 "{'path':'lib/libz.so.1','type':'symlink','link_target':'../usr/lib/libz.so.1.3',"
		 "'image_link_target':'libz.so.1.2','changes':['link-target']}");
	diff_add(r, "metadata",
		 "{'path':'usr/bin/vi','type':'symlink','link_target':'../../tmp/vi',"
		 "'changes':['link-target']}");
	diff_add(r, "deleted", "{'path':'etc/motd2','image_type':'file','image_mode':'0644'}");
	diff_add(r, "deleted",
		 "{'path':'bin/busybox','image_type':'file','image_mode':'0755',"
		 "'image_sha256':'aaaa'}");
	diff_add(r, "deleted", "{'path':'usr/sbin','image_type':'dir'}");
	diff_add(r, "opaque",
		 "{'path':'usr/bin','type':'dir','hidden':3,"
		 "'hidden_sample':['usr/bin/a','usr/bin/b','usr/bin/c']}");
	diff_add(r, "opaque",
		 "{'path':'var/www','type':'dir','hidden':2,"
		 "'hidden_sample':['var/www/index.html']}");
	findings_rules(r, img, NULL);

	json_t *f = expect(r, "fs.binary-replaced", "usr/bin/memtarget", "high", "T1036");
	detail_has(f, "content replaced");
	expect(r, "fs.binary-replaced", "lib/libc.so.6", "high", "T1036");
	f = expect(r, "fs.binary-replaced", "usr/bin/sudo", "high", "T1036");
	detail_has(f, "the same content as the image's 'usr/bin/nc'");
	f = expect(r, "fs.dropped-file", "tmp/empty", "low", "T1074.001");
	ck_assert_ptr_null(strstr(S(f, "detail"), "same content"));
	ck_assert_ptr_null(find(r, "fs.binary-replaced", "opt/app/data.bin"));
	f = expect(r, "fs.new-executable", "opt/app/data.bin", "high", "T1105");
	detail_has(f, "replaces the image's file");
	ck_assert_ptr_null(find(r, "fs.binary-replaced", "etc/motd"));
	ck_assert_ptr_null(find(r, "fs.new-executable", "usr/bin/memtarget"));
	f = expect(r, "fs.binary-replaced", "bin/ps", "critical", "T1036");
	detail_has(f, "/tmp/.x/implant");
	detail_has(f, "/bin/busybox");
	expect(r, "fs.binary-replaced", "bin/ls", "high", "T1036");
	expect(r, "fs.binary-replaced", "lib/libz.so.1", "high", "T1036");
	expect(r, "fs.binary-replaced", "usr/bin/vi", "critical", "T1036");

	expect(r, "fs.binary-deleted", "bin/wget", "medium", "T1070.004");
	f = expect(r, "fs.binary-deleted", "bin/busybox", "medium", "T1070.004");
	detail_has(f, "0755");
	ck_assert_ptr_null(find(r, "fs.binary-deleted", "etc/motd2"));
	expect(r, "fs.binary-deleted", "usr/sbin", "medium", "T1070.004");
	f = expect(r, "fs.binary-deleted", "usr/bin", "medium", "T1070.004");
	detail_has(f, "3 image entries hidden");
	ck_assert_ptr_null(find(r, "fs.binary-deleted", "var/www"));
	json_decref(r);
	aidx_free(img);
}
END_TEST

START_TEST(setuid_setgid_caps)
{
	json_t *r = report_new();
	diff_add(r, "metadata",
		 "{'path':'bin/busybox','type':'file','mode':'4755','uid':0,'gid':0,"
		 "'image_mode':'0755','changes':['mode','setuid-added']}");
	diff_add(r, "added", "{'path':'tmp/.sh','type':'file','mode':'6755','uid':0,'gid':0}");
	diff_add(r, "metadata",
		 "{'path':'usr/bin/x','type':'file','mode':'4755','uid':1000,"
		 "'gid':1000,'changes':['setuid-added','setgid-added']}");
	diff_add(r, "metadata",
		 "{'path':'usr/bin/y','type':'file','mode':'2755','uid':0,'gid':0,"
		 "'changes':['setgid-added']}");
	/* v2 vfs_cap_data, permitted CAP_SETUID (bit 7) */
	diff_add(r, "metadata",
		 "{'path':'usr/bin/python3','type':'file','mode':'0755',"
		 "'caps':'0000000280000000000000000000000000000000',"
		 "'changes':['caps-added']}");
	/* permitted CAP_NET_BIND_SERVICE (bit 10) */
	diff_add(r, "metadata",
		 "{'path':'usr/bin/web','type':'file','mode':'0755',"
		 "'caps':'0100000200040000000000000000000000000000',"
		 "'changes':['caps-added']}");
	diff_add(r, "metadata",
		 "{'path':'usr/bin/z','type':'file','mode':'0700',"
		 "'image_mode':'0755','changes':['mode']}");
	findings_rules(r, NULL, NULL);
	expect(r, "fs.setuid-added", "bin/busybox", "critical", "T1548.001");
	expect(r, "fs.setuid-added", "tmp/.sh", "critical", "T1548.001");
	expect(r, "fs.setgid-added", "tmp/.sh", "high", "T1548.001");
	expect(r, "fs.setuid-added", "usr/bin/x", "high", "T1548.001");
	expect(r, "fs.setgid-added", "usr/bin/x", "medium", "T1548.001");
	expect(r, "fs.setgid-added", "usr/bin/y", "high", "T1548.001");
	json_t *f = expect(r, "fs.caps-added", "usr/bin/python3", "critical", "T1548");
	detail_has(f, "CAP_SETUID");
	expect(r, "fs.caps-added", "usr/bin/web", "high", "T1548");
	ck_assert_ptr_null(find(r, "fs.setuid-added", "usr/bin/z"));
	ck_assert_ptr_null(find(r, "fs.caps-added", "usr/bin/z"));
	json_decref(r);
}
END_TEST

/* ---- accounts ---- */

START_TEST(accounts_changed)
{
	struct aidx *img = aidx_new(), *bag = aidx_new();
	keep(img, "etc/passwd",
	     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n"
	     "app:x:1000:1000::/home/app:/sbin/nologin\n");
	keep(bag, "etc/passwd",
	     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n"
	     "app:x:1000:1000::/home/app:/bin/sh\nevil:x:0:0::/root:/bin/sh\n");
	keep(img, "etc/shadow", "root:*:19000:0:99999:7:::\napp:!:19000::::::\n");
	keep(bag, "etc/shadow",
	     "root:$6$salt$SECRETHASHVALUE:19000:0:99999:7:::\napp:!$y$j9T$LOCKEDHASH:19000::::::"
	     "\n");
	keep(img, "etc/group", "root:x:0:\nsudo:x:27:\nusers:x:100:\n");
	keep(bag, "etc/group", "root:x:0:\nsudo:x:27:app\nusers:x:100:app\n");
	keep(img, "etc/gshadow", "root:::\n");
	keep(bag, "etc/gshadow", "root:::\nnewgrp:!::\n");

	json_t *r = report_new();
	diff_add(r, "modified",
		 "{'path':'etc/passwd','type':'file','mode':'0644','sha256':'bb',"
		 "'image_sha256':'aa','changes':['content']}");
	diff_add(r, "modified",
		 "{'path':'etc/shadow','type':'file','mode':'0640','changes':['content']}");
	diff_add(r, "modified",
		 "{'path':'etc/group','type':'file','mode':'0644','changes':['content']}");
	diff_add(r, "modified",
		 "{'path':'etc/gshadow','type':'file','mode':'0640','changes':['content']}");
	findings_rules(r, img, bag);

	json_t *f = expect(r, "fs.account-changed", "etc/passwd", "critical", "T1136.001");
	detail_has(f, "evil:x:0:0::/root:/bin/sh");
	detail_has(f, "uid 0 given to 'evil'");
	detail_has(f, "account changed 'app'");
	detail_has(f, "app:x:1000:1000::/home/app:/sbin/nologin"); /* removed */
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "lines_added_count")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "lines_removed_count")), 1);
	ck_assert_str_eq(S(f, "title"), "New uid 0 account");

	f = expect(r, "fs.account-changed", "etc/shadow", "high", "T1098");
	detail_has(f, "password changed for 'root'");
	detail_has(f, "<hash $6$>");
	ck_assert_msg(!strstr(S(f, "detail"), "SECRETHASH"), "hash shown: %s", S(f, "detail"));
	char *dump = json_dumps(f, 0);
	ck_assert_msg(!strstr(dump, "SECRETHASH"), "hash in evidence: %s", dump);
	ck_assert_msg(!strstr(dump, "LOCKEDHASH"), "locked hash in evidence: %s", dump);
	ck_assert_msg(strstr(dump, "app:<hash !$y$>:19000"), "locked hash not shown redacted: %s",
		      dump);
	free(dump);

	f = expect(r, "fs.account-changed", "etc/group", "high", "T1098");
	detail_has(f, "'app' added to privileged group 'sudo'");
	detail_has(f, "'app' added to group 'users'");
	expect(r, "fs.account-changed", "etc/gshadow", "medium", "T1098");
	json_decref(r);

	/* a new account without uid 0: high, T1136.001; passwd deleted: high */
	aidx_free(bag);
	bag = aidx_new();
	keep(bag, "etc/passwd",
	     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n"
	     "app:x:1000:1000::/home/app:/sbin/nologin\nbackup:x:1001:1001::/:/bin/sh\n");
	r = report_new();
	diff_add(r, "modified", "{'path':'etc/passwd','type':'file','mode':'0644'}");
	diff_add(r, "deleted", "{'path':'etc/shadow','image_type':'file'}");
	findings_rules(r, img, bag);
	f = expect(r, "fs.account-changed", "etc/passwd", "high", "T1136.001");
	detail_has(f, "account added 'backup'");
	f = expect(r, "fs.account-changed", "etc/shadow", "high", "T1098");
	detail_has(f, "deleted");
	detail_has(f, "account removed 'root'");
	json_decref(r);

	/* an empty root password; no kept content on the bag side: said so */
	aidx_free(bag);
	bag = aidx_new();
	keep(bag, "etc/shadow", "root::19000:0:99999:7:::\napp:!:19000::::::\n");
	r = report_new();
	diff_add(r, "modified", "{'path':'etc/shadow','type':'file','mode':'0640'}");
	diff_add(r, "modified", "{'path':'etc/group','type':'file','mode':'0644'}");
	diff_add(r, "metadata",
		 "{'path':'etc/gshadow','type':'file','mode':'0644','image_mode':'0640',"
		 "'changes':['mode']}");
	findings_rules(r, img, bag);
	f = expect(r, "fs.account-changed", "etc/shadow", "critical", "T1098");
	detail_has(f, "empty password for 'root'");
	f = expect(r, "fs.account-changed", "etc/group", "medium", "T1098");
	detail_has(f, "not kept");
	f = expect(r, "fs.account-changed", "etc/gshadow", "high", "T1098");
	detail_has(f, "world-readable");
	json_decref(r);
	aidx_free(bag);
	aidx_free(img);
}
END_TEST

/* ---- persistence files ---- */

START_TEST(persistence_files)
{
	struct aidx *img = aidx_new(), *bag = aidx_new();
	keep(img, "etc/ssh/sshd_config", "# defaults\nPort 22\nPermitRootLogin no\n");
	keep(bag, "etc/ssh/sshd_config", "# defaults\nPort 22\nPermitRootLogin yes\n");
	keep(bag, "etc/ld.so.preload", "/tmp/.x/libhide.so\n");
	keep(bag, "etc/sudoers.d/evil", "app ALL=(ALL) NOPASSWD: ALL\n");
	keep(bag, "root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA attacker@x\n");
	keep(img, "etc/crontab", "# m h dom mon dow user command\n");
	keep(bag, "etc/crontab",
	     "# m h dom mon dow user command\n* * * * * root /tmp/.x/implant\n");
	json_t *r = report_new();
	diff_add(r, "added",
		 "{'path':'etc/ld.so.preload','type':'file','mode':'0644','sha256':'cc'}");
	diff_add(r, "modified", "{'path':'etc/ld.so.conf.d/x.conf','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'etc/sudoers.d/evil','type':'file','mode':'0440'}");
	diff_add(r, "modified", "{'path':'etc/sudoers','type':'file','mode':'0440'}");
	diff_add(r, "added", "{'path':'root/.ssh/authorized_keys','type':'file','mode':'0600'}");
	diff_add(r, "added",
		 "{'path':'home/app/.ssh/authorized_keys2','type':'file','mode':'0600'}");
	diff_add(r, "modified", "{'path':'etc/crontab','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'etc/cron.d/job','type':'file','mode':'0644','sha256':'dd'}");
	diff_add(r, "added", "{'path':'var/spool/cron/crontabs/root','type':'file','mode':'0600'}");
	diff_add(r, "added", "{'path':'etc/cron.d','type':'dir','mode':'0755'}");
	diff_add(r, "modified", "{'path':'etc/ssh/sshd_config','type':'file','mode':'0644'}");
	diff_add(r, "modified", "{'path':'root/.bashrc','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'home/app/.profile','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'home/app/sub/.profile','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'etc/profile.d/x.sh','type':'file','mode':'0644'}");
	diff_add(r, "added",
		 "{'path':'etc/systemd/system/evil.service','type':'file','mode':'0644'}");
	diff_add(r, "added",
		 "{'path':'etc/systemd/system/multi-user.target.wants/evil.service',"
		 "'type':'symlink','link_target':'/etc/systemd/system/evil.service'}");
	diff_add(r, "added", "{'path':'etc/init.d/evil','type':'file','mode':'0755'}");
	diff_add(r, "modified", "{'path':'etc/rc.local','type':'file','mode':'0755'}");
	diff_add(r, "added",
		 "{'path':'etc/rc3.d/S99evil','type':'symlink','link_target':'../init.d/evil'}");
	diff_add(r, "added", "{'path':'root/.ash_history','type':'file','mode':'0600','size':40}");
	findings_rules(r, img, bag);

	json_t *f = expect(r, "fs.ld-preload", "etc/ld.so.preload", "critical", "T1574.006");
	detail_has(f, "/tmp/.x/libhide.so");
	expect(r, "fs.ld-preload", "etc/ld.so.conf.d/x.conf", "high", "T1574.006");
	f = expect(r, "fs.sudoers-changed", "etc/sudoers.d/evil", "critical", "T1548.003");
	detail_has(f, "NOPASSWD");
	f = expect(r, "fs.sudoers-changed", "etc/sudoers", "high", "T1548.003");
	detail_has(f, "not kept");
	f = expect(r, "fs.ssh-authorized-keys", "root/.ssh/authorized_keys", "high", "T1098.004");
	detail_has(f, "attacker@x");
	expect(r, "fs.ssh-authorized-keys", "home/app/.ssh/authorized_keys2", "high", "T1098.004");
	ck_assert_ptr_null(find(r, "fs.dropped-file", "root/.ssh/authorized_keys"));
	f = expect(r, "fs.cron-changed", "etc/crontab", "high", "T1053.003");
	detail_has(f, "/tmp/.x/implant");
	f = expect(r, "fs.cron-changed", "etc/cron.d/job", "high", "T1053.003");
	detail_has(f, "sha256 dd");
	expect(r, "fs.cron-changed", "var/spool/cron/crontabs/root", "high", "T1053.003");
	ck_assert_ptr_null(find(r, "fs.cron-changed", "etc/cron.d"));
	f = expect(r, "fs.sshd-config", "etc/ssh/sshd_config", "high", "T1098.004");
	detail_has(f, "PermitRootLogin yes");
	detail_has(f, "PermitRootLogin no");
	expect(r, "fs.shell-profile", "root/.bashrc", "medium", "T1546.004");
	expect(r, "fs.shell-profile", "home/app/.profile", "medium", "T1546.004");
	ck_assert_ptr_null(find(r, "fs.shell-profile", "home/app/sub/.profile"));
	expect(r, "fs.shell-profile", "etc/profile.d/x.sh", "medium", "T1546.004");
	expect(r, "fs.systemd-unit", "etc/systemd/system/evil.service", "medium", "T1543.002");
	expect(r, "fs.systemd-unit", "etc/systemd/system/multi-user.target.wants/evil.service",
	       "medium", "T1543.002");
	expect(r, "fs.init-script", "etc/init.d/evil", "medium", "T1037.004");
	expect(r, "fs.init-script", "etc/rc.local", "medium", "T1037.004");
	expect(r, "fs.init-script", "etc/rc3.d/S99evil", "medium", "T1037.004");
	expect(r, "fs.shell-history", "root/.ash_history", "low", "T1059.004");
	json_decref(r);
	aidx_free(bag);
	aidx_free(img);
}
END_TEST

/* ---- packages ---- */

static const char DPKG_OLD[] = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
			       "Version: 2.36-9\nDescription: GNU C Library\n continuation: x\n\n"
			       "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n\n"
			       "Package: wget\nStatus: install ok installed\nVersion: 1.21.3-1\n\n"
			       "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n";
static const char DPKG_NEW[] =
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
    "Version: 2.36-9\n\n"
    "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-99\n\n"
    "Package: nmap\nStatus: install ok installed\nVersion: 7.93+dfsg1-1\n\n";

START_TEST(package_db_changes)
{
	struct aidx *img = aidx_new(), *bag = aidx_new();
	keep(img, "var/lib/dpkg/status", DPKG_OLD);
	keep(bag, "var/lib/dpkg/status", DPKG_NEW);
	keep(img, "lib/apk/db/installed", "C:x\nP:musl\nV:1.2.4-r2\n\nP:busybox\nV:1.36.1-r5\n\n");
	keep(bag, "lib/apk/db/installed",
	     "C:x\nP:musl\nV:1.2.4-r2\n\nP:busybox\nV:1.36.1-r5\n\nP:socat\nV:1.7.4.4-r1\n");
	keep(img, "var/lib/rpm/rpmdb.sqlite", "SQLite format 3");
	keep(bag, "var/lib/rpm/rpmdb.sqlite", "SQLite format 3 changed");
	json_t *r = report_new();
	diff_add(r, "modified", "{'path':'var/lib/dpkg/status','type':'file','mode':'0644'}");
	diff_add(r, "modified", "{'path':'lib/apk/db/installed','type':'file','mode':'0644'}");
	diff_add(r, "modified",
		 "{'path':'var/lib/rpm/rpmdb.sqlite','type':'file','mode':'0644',"
		 "'sha256':'ee','image_sha256':'ff'}");
	findings_rules(r, img, bag);
	json_t *f = expect(r, "fs.package-db-changed", "var/lib/dpkg/status", "medium", NULL);
	detail_has(f, "1 appeared: nmap 7.93+dfsg1-1");
	detail_has(f, "1 disappeared: wget 1.21.3-1");
	detail_has(f, "curl 7.88.1-10 -> 7.88.1-99");
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "appeared")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "disappeared")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "version-changed")), 1);
	f = expect(r, "fs.package-db-changed", "lib/apk/db/installed", "medium", NULL);
	detail_has(f, "appeared: socat 1.7.4.4-r1");
	f = expect(r, "fs.package-db-changed", "var/lib/rpm/rpmdb.sqlite", "medium", NULL);
	detail_has(f, "packages not named");
	detail_has(f, "sha256 ee");
	json_decref(r);
	aidx_free(bag);
	aidx_free(img);
}
END_TEST

START_TEST(pkgdb_dpkg_apk_rpm)
{
	char *note = NULL;
	json_t *p = pkgdb_parse("var/lib/dpkg/status", DPKG_OLD, strlen(DPKG_OLD), &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 3);
	ck_assert_str_eq(S(p, "libc6"), "2.36-9");
	ck_assert_ptr_null(json_object_get(p, "gone"));
	ck_assert_ptr_null(note);
	json_decref(p);

	/* multi-arch, CRLF, lowercase field names, no final newline */
	const char ma[] =
	    "Package: libc6\r\nStatus: install ok installed\r\nArchitecture: amd64\r\n"
	    "Version: 2.36\r\n\r\npackage: libc6\nstatus: hold ok installed\n"
	    "architecture: i386\nversion: 2.36";
	p = pkgdb_parse("/var/lib/dpkg/status", ma, strlen(ma), &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(S(p, "libc6"), "2.36");
	ck_assert_str_eq(S(p, "libc6:i386"), "2.36");
	json_decref(p);

	p = pkgdb_parse("var/lib/dpkg/status", "", 0, &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 0);
	json_decref(p);

	const char apk[] = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5";
	p = pkgdb_parse("lib/apk/db/installed", apk, strlen(apk), &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 2);
	ck_assert_str_eq(S(p, "busybox"), "1.36.1-r5");
	json_decref(p);

	p = pkgdb_parse("var/lib/rpm/Packages", "x", 1, &note);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(note, "rpm database: changed; packages not named (format not read)");
	free(note);
	p = pkgdb_parse("usr/lib/sysimage/rpm/rpmdb.sqlite", "x", 1, &note);
	ck_assert_ptr_null(p);
	free(note);
	p = pkgdb_parse("etc/passwd", "x", 1, &note);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(note);
	free(note);
	p = pkgdb_parse("var/lib/dpkg/status", "x", 1, NULL); /* no note wanted */
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(pkgdb_hostile)
{
	char *note = NULL;
	/* a NUL: not a text database */
	const char nul[] = "Package: a\nVersion: 1\0\nStatus: install ok installed\n";
	ck_assert_ptr_null(pkgdb_parse("var/lib/dpkg/status", nul, sizeof(nul) - 1, &note));
	ck_assert_msg(note && strstr(note, "NUL byte at offset 21"), "%s", note);
	free(note);
	/* garbage */
	ck_assert_ptr_null(pkgdb_parse("var/lib/dpkg/status", "hello\nworld", 11, &note));
	free(note);

	/* a 20 MiB line without a newline, then a good stanza: names too long are skipped */
	size_t big = 20u << 20;
	char *b = xmalloc(big + 200);
	memcpy(b, "Package: ", 9);
	memset(b + 9, 'a', big);
	size_t n = 9 + big;
	n += (size_t)snprintf(b + n, 200,
			      "\nStatus: install ok installed\nVersion: 1\n\nPackage: "
			      "ok\nStatus: install ok installed\nVersion: 2\n");
	json_t *p = pkgdb_parse("var/lib/dpkg/status", b, n, &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 1);
	ck_assert_str_eq(S(p, "ok"), "2");
	ck_assert_msg(note && strstr(note, "1 stanzas with a name"), "%s", note);
	free(note);
	json_decref(p);

	/* invalid UTF-8 and spaces in a name or version: skipped, the result is JSON-safe */
	const char bad[] =
	    "P:caf\xc3\nV:1\n\nP:x y\nV:1\n\nP:ok\nV:1 2\n\nP:fine\nV:\xff\n\nP:good\nV:3\n";
	p = pkgdb_parse("lib/apk/db/installed", bad, sizeof(bad) - 1, &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 1);
	ck_assert_str_eq(S(p, "good"), "3");
	free(note);
	json_decref(p);

	/* a million stanzas: bounded, refused with a note, quickly */
	size_t cnt = 1000000, cap = cnt * 16 + 16;
	char *m = xmalloc(cap);
	size_t off = 0;
	for (size_t i = 0; i < cnt; i++)
		off += (size_t)snprintf(m + off, cap - off, "P:p%zu\nV:1\n\n", i);
	p = pkgdb_parse("lib/apk/db/installed", m, off, &note);
	ck_assert_ptr_null(p);
	ck_assert_msg(note && strstr(note, "more than"), "%s", note);
	free(note);
	/* a million empty lines and blank stanzas: fine, empty */
	memset(m, '\n', cnt);
	p = pkgdb_parse("lib/apk/db/installed", m, cnt, &note);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 0);
	json_decref(p);
	free(note);
	free(m);
	free(b);
}
END_TEST

/* ---- the image ---- */

START_TEST(image_digest_rules)
{
	json_t *r = report_new();
	findings_rules(r, NULL, NULL);
	ck_assert_uint_eq(nfind(r), 0);
	json_decref(r);

	r = report_new();
	json_object_set_new(json_object_get(r, "image"), "match", json_string("mismatch"));
	json_object_set_new(json_object_get(r, "image"), "recorded_digest",
			    json_string("sha256:cc"));
	findings_rules(r, NULL, NULL);
	json_t *f = expect(r, "image.digest-mismatch", NULL, "high", NULL);
	detail_has(f, "sha256:cc");
	ck_assert(json_is_null(json_object_get(f, "path")));
	ck_assert_str_eq(S(json_object_get(f, "evidence"), "member"), "data/container/image.json");
	json_decref(r);

	r = report_new();
	json_object_set_new(json_object_get(r, "image"), "match", json_string("unknown"));
	findings_rules(r, NULL, NULL);
	expect(r, "image.digest-unknown", NULL, "info", NULL);
	ck_assert_uint_eq(nfind(r), 1);
	json_decref(r);

	/* a baseline read in part is medium; a layer not matching its digest, high */
	r = report_new();
	json_t *layers = json_pack("[{s:b,s:b},{s:b,s:b}]", "digest_ok", 1, "complete", 1,
				   "digest_ok", 1, "complete", 0);
	json_object_set_new(json_object_get(r, "image"), "layers", layers);
	findings_rules(r, NULL, NULL);
	f = expect(r, "image.incomplete", NULL, "medium", NULL);
	detail_has(f, "1 layer(s) of the image were read only in part");
	json_decref(r);

	r = report_new();
	layers = json_pack("[{s:b,s:b}]", "digest_ok", 0, "complete", 1);
	json_object_set_new(json_object_get(r, "image"), "layers", layers);
	findings_rules(r, NULL, NULL);
	f = expect(r, "image.incomplete", NULL, "high", NULL);
	detail_has(f, "do not match the digest");
	json_decref(r);

	/* whole layers whose digests match (or could not be checked): nothing */
	r = report_new();
	layers = json_pack("[{s:b,s:b},{s:n,s:b}]", "digest_ok", 1, "complete", 1, "digest_ok",
			   "complete", 1);
	json_object_set_new(json_object_get(r, "image"), "layers", layers);
	findings_rules(r, NULL, NULL);
	ck_assert_uint_eq(nfind(r), 0);
	json_decref(r);
}
END_TEST

/* ---- processes ---- */

START_TEST(process_rules)
{
	struct aidx *img = aidx_new();
	put(img, "usr/bin/sh", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "bin", AENT_SYMLINK, 0777, NULL, "usr/bin");
	put(img, "usr/bin/nginx", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "usr/bin/memtarget", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "usr/bin/old", AENT_FILE, 0755, SHA_A, NULL);
	put(img, "usr/bin/busybox", AENT_FILE, 0755, SHA_D, NULL);
	json_t *r = report_new();
	diff_add(r, "added",
		 "{'path':'tmp/cp','type':'file','mode':'0755','sha256':'" SHA_D_LIT "',"
		 "'elf':{'type':'exec'}}");
	diff_add(r, "added", "{'path':'tmp/.x/implant','type':'file','mode':'0755'}");
	diff_add(r, "modified",
		 "{'path':'usr/bin/memtarget','type':'file','mode':'0755','sha256':'"
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}");
	json_t *procs = json_object_get(r, "processes");
	char buf[1024];
#define PROC(pid, comm, exe, del, memfd, sha)                                                      \
	snprintf(buf, sizeof(buf),                                                                 \
		 "{'pid':%d,'comm':'%s','exe':'%s','exe_deleted':%s,'exe_memfd':%s,"               \
		 "'exe_sha256':%s}",                                                               \
		 pid, comm, exe, del, memfd, sha);                                                 \
	json_array_append_new(procs, J(buf))
	PROC(1, "sh", "/bin/sh", "false", "false",
	     "'"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "'");
	PROC(2, "nginx", "/usr/bin/nginx", "false", "false",
	     "'"
	     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	     "'");
	PROC(3, "implant", "/tmp/.x/implant", "false", "false", "null");
	PROC(4, "implant", "/tmp/.x/implant", "false", "false", "null");
	PROC(5, "x", "/memfd:payload (deleted)", "true", "true", "null");
	PROC(6, "gone", "/tmp/gone (deleted)", "true", "false", "null");
	PROC(7, "old", "/usr/bin/old (deleted)", "true", "false",
	     "'"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "'");
	PROC(8, "memtarget", "/usr/bin/memtarget", "false", "false",
	     "'"
	     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	     "'");
	PROC(9, "init", "/dev/init", "false", "false", "null");
	json_array_append_new(
	    procs, J("{'pid':13,'nspid':1,'comm':'docker-init','exe':'/sbin/docker-init',"
		     "'exe_deleted':false,'exe_memfd':false,'exe_sha256':null}"));
	PROC(10, "kthread", "", "false", "false", "null");
	PROC(12, "sleep", "/tmp/.x/sleep (deleted)", "true", "false", "'" SHA_D_LIT "'");
#undef PROC
	/* the tree's own form: exe as an object */
	json_array_append_new(procs, J("{'pid':11,'comm':'w','exe':{'path':'/tmp/.x/implant',"
				       "'deleted':false,'memfd':false,'sha256':null}}"));
	findings_rules(r, img, NULL);

	ck_assert_ptr_null(find(r, "proc.exe-differs", "bin/sh"));
	ck_assert_ptr_null(find(r, "proc.exe-not-in-image", "bin/sh"));
	json_t *f = expect(r, "proc.exe-differs", "usr/bin/nginx", "high", "T1036");
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_str_eq(S(ev, "member"), "data/processes/tree.json");
	ck_assert_str_eq(S(ev, "image_sha256"), SHA_A);
	f = expect(r, "proc.exe-not-in-image", "tmp/.x/implant", "high", "T1105");
	ev = json_object_get(f, "evidence");
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "pids")), 3);
	detail_has(f, "pids 3 (implant), 4 (implant), 11 (w)");
	f = expect(r, "proc.exe-memfd", NULL, "critical", "T1620");
	ck_assert_ptr_null(find(r, "proc.exe-deleted", "memfd:payload"));
	expect(r, "proc.exe-deleted", "tmp/gone", "high", "T1070.004");
	expect(r, "proc.exe-deleted", "usr/bin/old", "medium", "T1070.004");
	f = expect(r, "proc.exe-differs", "usr/bin/memtarget", "high", "T1036");
	detail_has(f, "the layer replaced");
	expect(r, "proc.exe-not-in-image", "dev/init", "medium", "T1105"); /* not pid 1 */
	f = expect(r, "proc.exe-not-in-image", "sbin/docker-init", "low", "T1105");
	detail_has(f, "runtime's init");
	/* a renamed copy of an image file */
	f = expect(r, "proc.exe-deleted", "tmp/.x/sleep", "high", "T1070.004");
	detail_has(f, "the same content as the image's 'usr/bin/busybox'");
	ck_assert_str_eq(S(json_object_get(f, "evidence"), "image_copy_of"), "usr/bin/busybox");
	f = expect(r, "fs.new-executable", "tmp/cp", "critical", "T1105");
	detail_has(f, "the same content as the image's 'usr/bin/busybox'");
	ck_assert_ptr_null(
	    strstr(S(find(r, "proc.exe-differs", "usr/bin/nginx"), "detail"), "same content"));
	json_decref(r);
	aidx_free(img);
}
END_TEST

/* ---- a clean layer ---- */

START_TEST(clean_layer_nothing_at_medium)
{
	struct aidx *img = aidx_new();
	put(img, "var/log", AENT_DIR, 0755, NULL, NULL);
	put(img, "usr/bin/sh", AENT_FILE, 0755, SHA_A, NULL);
	keep(img, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	json_t *r = report_new();
	diff_add(r, "metadata",
		 "{'path':'var/log','type':'dir','mode':'0755','image_mode':'0755',"
		 "'changes':['uid']}");
	diff_add(r, "added",
		 "{'path':'var/log/app.log','type':'file','mode':'0644','size':300,"
		 "'mime':'text/plain'}");
	diff_add(r, "added", "{'path':'run/app.pid','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'root/.ash_history','type':'file','mode':'0600'}");
	json_array_append_new(json_object_get(r, "processes"),
			      J("{'pid':1,'comm':'sh','exe':'/usr/bin/sh','exe_deleted':false,"
				"'exe_memfd':false,'exe_sha256':'"
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				"'}"));
	findings_rules(r, img, NULL);
	findings_finish(r);
	json_t *sum = json_object_get(r, "summary");
	json_t *c = json_object_get(sum, "counts");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "critical")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "high")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "medium")), 0);
	ck_assert_str_eq(S(sum, "verdict"), "clean");
	json_decref(r);
	aidx_free(img);
}
END_TEST

/* ---- sort, dedup, summary ---- */

START_TEST(finish_sorts_dedups_summarizes)
{
	json_t *r = json_object();
	findings_finish(r); /* no findings at all */
	json_t *sum = json_object_get(r, "summary");
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "total")), 0);
	ck_assert(json_is_null(json_object_get(sum, "worst")));
	ck_assert_str_eq(S(sum, "verdict"), "clean");
	ck_assert_ptr_null(json_object_get(sum, "failed"));

	findings_add(r, "b.rule", SEV_LOW, "t", NULL, "z/path", NULL, NULL);
	findings_add(r, "a.rule", SEV_HIGH, "t", "T1", "b/path", json_pack("{s:s}", "member", "m"),
		     "d");
	findings_add(r, "a.rule", SEV_CRITICAL, "t", "T1", "c/path", NULL, NULL);
	findings_add(r, "a.rule", SEV_HIGH, "t", "T1", "a/path", NULL, NULL);
	findings_add(r, "b.rule", SEV_HIGH, "t", NULL, "a/path", NULL, NULL);
	findings_add(r, "a.rule", SEV_MEDIUM, "dup", NULL, "a/path", NULL, NULL); /* dup: dropped */
	findings_add(r, "c.rule", SEV_INFO, "t", NULL, NULL, json_string("x"), "\xff bad utf-8");
	json_object_set_new(json_object_get(r, "summary"), "fail_on", json_string("critical"));
	findings_finish(r);
	json_t *fs = json_object_get(r, "findings");
	ck_assert_uint_eq(json_array_size(fs), 6);
	const char *want[][3] = {{"critical", "c/path", "a.rule"}, {"high", "a/path", "a.rule"},
				 {"high", "a/path", "b.rule"},	   {"high", "b/path", "a.rule"},
				 {"low", "z/path", "b.rule"},	   {"info", NULL, "c.rule"}};
	for (size_t i = 0; i < 6; i++) {
		json_t *f = json_array_get(fs, i);
		ck_assert_str_eq(S(f, "severity"), want[i][0]);
		if (want[i][1])
			ck_assert_str_eq(S(f, "path"), want[i][1]);
		else
			ck_assert(json_is_null(json_object_get(f, "path")));
		ck_assert_str_eq(S(f, "id"), want[i][2]);
	}
	ck_assert_str_eq(S(json_array_get(fs, 1), "title"), "t"); /* the high one kept */
	json_t *last = json_array_get(fs, 5);
	ck_assert_str_eq(S(json_object_get(last, "evidence"), "value"), "x");
	ck_assert_str_eq(S(last, "detail"), "%FF bad utf-8");
	sum = json_object_get(r, "summary");
	json_t *c = json_object_get(sum, "counts");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "critical")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "high")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "medium")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "low")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "info")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "total")), 6);
	ck_assert_str_eq(S(sum, "worst"), "critical");
	ck_assert_str_eq(S(sum, "verdict"), "compromised");
	ck_assert(json_is_true(json_object_get(sum, "failed")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "ids"), "a.rule")),
			 3);

	/* medium worst: suspicious; a fail_on above it: not failed */
	json_t *r2 = json_object();
	findings_add(r2, "m", SEV_MEDIUM, "t", NULL, "p", NULL, NULL);
	json_object_set_new(r2, "summary", json_pack("{s:s}", "fail_on", "high"));
	findings_finish(r2);
	ck_assert_str_eq(S(json_object_get(r2, "summary"), "verdict"), "suspicious");
	ck_assert(json_is_false(json_object_get(json_object_get(r2, "summary"), "failed")));
	json_decref(r2);
	json_decref(r);
}
END_TEST

START_TEST(finish_bounds_findings_per_rule)
{
	json_t *r = report_new();
	char buf[256];
	for (int i = 0; i < 1200; i++) {
		snprintf(buf, sizeof(buf), "{'path':'tmp/f%04d','type':'file','mode':'0644'}", i);
		diff_add(r, "added", buf);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "{'path':'tmp/z%d','type':'file','mode':'0755'}", i);
		diff_add(r, "added", buf);
	}
	findings_rules(r, NULL, NULL);
	ck_assert_uint_eq(nfind(r), 1006); /* 1000 low, 5 medium, one "200 more" */
	findings_finish(r);
	json_t *fs = json_object_get(r, "findings");
	ck_assert_uint_eq(json_array_size(fs), 1001);
	/* the most severe are kept */
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(S(json_array_get(fs, i), "severity"), "medium");
	json_t *more = NULL, *f;
	size_t i;
	json_array_foreach(fs, i, f)
	{
		if (json_is_null(json_object_get(f, "path")))
			more = f;
	}
	ck_assert_ptr_nonnull(more);
	ck_assert_str_eq(S(more, "id"), "fs.dropped-file");
	ck_assert_str_eq(S(more, "severity"), "low");
	detail_has(more, "205 more findings");
	json_t *sum = json_object_get(r, "summary");
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "total")), 1001);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "not_listed"),
							    "fs.dropped-file")),
			 205);
	json_decref(r);
}
END_TEST

/* ---- hostile bytes in kept content and paths ---- */

START_TEST(hostile_kept_content)
{
	struct aidx *img = aidx_new(), *bag = aidx_new();
	keep(img, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	/* invalid UTF-8, a NUL, a huge line, %: the finding is valid JSON and bounded */
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "root:x:0:0:root:/root:/bin/sh\n\xff\xfe%evil:x:0:0::/:/bin/sh\n");
	sbuf_add(&sb, "nul\0line:x:5:5::/:/bin/sh\n", 26);
	sbuf_adds(&sb, "esc\x1b[2Jx:x:6:6::/:/bin/sh\r\n");
	for (size_t i = 0; i < (1u << 20); i++)
		sbuf_addc(&sb, 'A');
	sbuf_addc(&sb, '\n');
	aidx_id id = put(bag, "etc/passwd", AENT_FILE, 0644, NULL, NULL);
	struct err e = {0};
	ck_assert_int_eq(aidx_keep(bag, id, sb.buf, sb.len, false, &e), 0);
	sbuf_free(&sb);
	json_t *r = report_new();
	diff_add(r, "modified", "{'path':'etc/passwd','type':'file','mode':'0644'}");
	diff_add(r, "added", "{'path':'tmp/%FF%25x','type':'file','mode':'0644'}");
	findings_rules(r, img, bag);
	findings_finish(r);
	json_t *f = find(r, "fs.account-changed", "etc/passwd");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_lt(strlen(S(f, "detail")), 16384);
	detail_has(f, "%FF%FE%25evil:x:0:0");
	detail_has(f, "nul%00line:x:5:5");
	detail_has(f, "esc%1B[2Jx:x:6:6::/:/bin/sh'");
	ck_assert_str_eq(S(f, "severity"), "critical");
	char *dump = json_dumps(r, 0);
	ck_assert_ptr_nonnull(dump);
	free(dump);
	ck_assert_ptr_nonnull(find(r, "fs.dropped-file", "tmp/%FF%25x"));
	json_decref(r);

	/* a report of the wrong shapes: nothing, no crash */
	r = J("{'diff':{'added':[1,'x',{'path':5},{'path':''},{'path':'tmp/x','type':7}],"
	      "'modified':{},'deleted':null},'processes':[1,{'exe':3},{'exe':{'path':null}}],"
	      "'image':[]}");
	findings_rules(r, img, bag);
	findings_finish(r);
	findings_rules(NULL, NULL, NULL);
	findings_finish(NULL);
	findings_add(NULL, "x", SEV_LOW, "t", NULL, NULL, json_object(), NULL);
	json_decref(r);
	aidx_free(bag);
	aidx_free(img);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("findings");
	TCase *tc = tcase_create("findings");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sev_names_round_trip);
	tcase_add_test(tc, new_executables_scripts_drops);
	tcase_add_test(tc, binaries_replaced_and_deleted);
	tcase_add_test(tc, setuid_setgid_caps);
	tcase_add_test(tc, accounts_changed);
	tcase_add_test(tc, persistence_files);
	tcase_add_test(tc, package_db_changes);
	tcase_add_test(tc, pkgdb_dpkg_apk_rpm);
	tcase_add_test(tc, pkgdb_hostile);
	tcase_add_test(tc, image_digest_rules);
	tcase_add_test(tc, process_rules);
	tcase_add_test(tc, clean_layer_nothing_at_medium);
	tcase_add_test(tc, finish_sorts_dedups_summarizes);
	tcase_add_test(tc, finish_bounds_findings_per_rule);
	tcase_add_test(tc, hostile_kept_content);
	suite_add_tcase(s, tc);
	return s;
}

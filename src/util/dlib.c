/* dlib.c: open the heavy libraries on first use (dlib.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "contain/dlib.h"
#include "dlib-wrap.h"

/* the SONAMEs the build's headers belong to (the Makefile reads them from
 * the development symlinks; these are Debian 12's) */
#ifndef DLIB_SONAME_ARCHIVE
#define DLIB_SONAME_ARCHIVE "libarchive.so.13"
#endif
#ifndef DLIB_SONAME_MAGIC
#define DLIB_SONAME_MAGIC "libmagic.so.1"
#endif
#ifndef DLIB_SONAME_YARA
#define DLIB_SONAME_YARA "libyara.so.9"
#endif
#ifndef DLIB_SONAME_PCAP
#define DLIB_SONAME_PCAP "libpcap.so.0.8"
#endif
#ifndef DLIB_SONAME_NFTABLES
#define DLIB_SONAME_NFTABLES "libnftables.so.1"
#endif
#ifndef DLIB_SONAME_CRYPTO
#define DLIB_SONAME_CRYPTO "libcrypto.so.3"
#endif

static const struct {
	const char *soname;
	const char *what; /* the library, as a package manager names it */
	struct dlib_table *t;
} libs[DLIB_COUNT] = {
    [DLIB_ARCHIVE] = {DLIB_SONAME_ARCHIVE, "libarchive", &dlib_table_archive},
    [DLIB_MAGIC] = {DLIB_SONAME_MAGIC, "libmagic", &dlib_table_magic},
    [DLIB_YARA] = {DLIB_SONAME_YARA, "libyara", &dlib_table_yara},
    [DLIB_PCAP] = {DLIB_SONAME_PCAP, "libpcap", &dlib_table_pcap},
    [DLIB_NFTABLES] = {DLIB_SONAME_NFTABLES, "libnftables", &dlib_table_nftables},
    [DLIB_CRYPTO] = {DLIB_SONAME_CRYPTO, "libcrypto (OpenSSL 3)", &dlib_table_crypto},
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

const char *dlib_soname(enum dlib l)
{
	return libs[l].soname;
}

bool dlib_loaded(enum dlib l)
{
	return __atomic_load_n(&libs[l].t->loaded, __ATOMIC_ACQUIRE);
}

/* under the lock: open and resolve every symbol, or nothing */
static int load_locked(enum dlib l, struct err *e)
{
	struct dlib_table *t = libs[l].t;
	void *h = dlopen(libs[l].soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		return err_set(e, ERR_UNSUPP,
			       "%s is needed and could not be loaded (%s): install %s",
			       libs[l].soname, why ? why : "dlopen failed", libs[l].what);
	}
	for (size_t i = 0; i < t->n; i++) {
		dlerror();
		void *p = dlsym(h, t->names[i]);
		if (!p) {
			const char *why = dlerror();
			err_set(e, ERR_UNSUPP, "%s lacks '%s' (%s): a %s of another version",
				libs[l].soname, t->names[i], why ? why : "no such symbol",
				libs[l].what);
			dlclose(h);
			return -1;
		}
		t->ptrs[i] = p;
	}
	t->handle = h;
	__atomic_store_n(&t->loaded, 1, __ATOMIC_RELEASE);
	return 0;
}

int dlib_load(enum dlib l, struct err *e)
{
	if (dlib_loaded(l))
		return 0;
	pthread_mutex_lock(&lock);
	int r = dlib_loaded(l) ? 0 : load_locked(l, e);
	pthread_mutex_unlock(&lock);
	return r;
}

int dlib_load_mask(unsigned mask, struct err *e)
{
	for (int l = 0; l < DLIB_COUNT; l++)
		if ((mask & DLIB_BIT(l)) && dlib_load(l, e) < 0)
			return -1;
	return 0;
}

static struct {
	pthread_t thread;
	unsigned mask;
	void (*then)(void);
	bool started, joined;
	int rc;
	struct err e;
} bg;

static void *bg_load(void *p)
{
	(void)p;
	bg.rc = dlib_load_mask(bg.mask, &bg.e);
	if (bg.rc == 0 && bg.then)
		bg.then();
	return NULL;
}

void dlib_load_bg_start(unsigned mask, void (*then)(void))
{
	if (bg.started)
		return;
	bg.mask = mask;
	bg.then = then;
	bg.started = true;
	if (pthread_create(&bg.thread, NULL, bg_load, NULL) != 0) {
		bg.joined = true; /* no thread: at once */
		bg.rc = dlib_load_mask(mask, &bg.e);
	}
}

int dlib_load_bg_wait(struct err *e)
{
	if (!bg.started)
		return 0;
	if (!bg.joined) {
		pthread_join(bg.thread, NULL);
		bg.joined = true;
	}
	if (bg.rc < 0 && e)
		*e = bg.e;
	return bg.rc;
}

void dlib_need(enum dlib l)
{
	struct err e = {0};
	if (dlib_load(l, &e) == 0)
		return;
	/* a wrapper has no error to return: the dynamic linker's own
	 * behaviour at start (message, exit 127), at first use; the verbs
	 * load what they use up front and never get here */
	fprintf(stderr, "contain: %s\n", e.msg);
	_exit(127);
}

/* fz_core: the core reader (src/analyze/coreread.c) on hostile bytes, as a
 * stream in reads of a size taken from the first byte and from an fd (a
 * memfd: pread, any order); the tail after a "\nMAPS\n" marker, when there
 * is one, is given as the .maps file. Every region must get at least one
 * call, offsets in order, chunks within the chunk size; the two reads must
 * agree on the notes (pid, comm, NT_FILE count) when both succeed and the
 * stream left no part out (an overlap it cannot go back for). The
 * bytes of an executable mapping without a file are looked at as analyze
 * does (an ELF header at a page start).
 * Verdicts (fz.h): core (the stream read returned 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "fz.h"

#define CHUNK 4096u

struct st {
	const uint8_t *p;
	size_t len, pos, step;
};

static ssize_t rd(void *ctx, void *buf, size_t n, struct err *e)
{
	(void)e;
	struct st *s = ctx;
	size_t k = s->len - s->pos;
	if (k > n)
		k = n;
	if (k > s->step)
		k = s->step;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

struct seen {
	size_t last_index;
	uint64_t next_off;
	bool any;
	size_t regions;
	size_t elf_heads;
};

static int on_region(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		     void *arg)
{
	struct seen *s = arg;
	if (n > CHUNK || (n && !data) || !r->name)
		abort();
	if (!s->any || r->index != s->last_index) {
		if (off != 0)
			abort(); /* a region starts at its offset 0 */
		s->regions++;
		s->any = true;
		s->last_index = r->index;
		s->next_off = 0;
	}
	if (off != s->next_off)
		abort();
	s->next_off += n;
	if (s->next_off > r->filesz)
		abort();
	if ((r->flags & 1) && !r->file_backed) {
		const unsigned char *d = data;
		for (size_t i = (4096 - off % 4096) % 4096; i + 4 <= n; i += 4096)
			if (memcmp(d + i,
				   "\x7f"
				   "ELF",
				   4) == 0)
				s->elf_heads++;
	}
	return 0;
}

/* the stream left a part out (it lay behind one already read): the fd read
 * may then know more */
static bool stream_skipped(const struct acore_info *a)
{
	json_t *n;
	size_t i;
	json_array_foreach(a->notes, i, n)
	{
		const char *s = json_string_value(n);
		if (s && strstr(s, "not read from a stream"))
			return true;
	}
	return json_array_size(a->notes) >= ACORE_NOTES_LIST;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *maps = NULL;
	size_t maps_len = 0, core_len = size;
	const uint8_t *m = size ? memmem(data, size, "\nMAPS\n", 6) : NULL;
	if (m) {
		core_len = (size_t)(m - data);
		maps = (const char *)m + 6;
		maps_len = size - core_len - 6;
	}
	struct st s = {data, core_len, 0, size ? 1 + data[0] % 97 : 1};
	struct seen sn = {0};
	struct acore_opts o = {.on_region = on_region,
			       .arg = &sn,
			       .maps = maps,
			       .maps_len = maps_len,
			       .chunk = CHUNK,
			       .max_bytes = 1u << 20};
	struct acore_info a, b;
	struct err e = {0};
	int rc = acore_read_stream(rd, &s, &o, &a, &e);
	fz_verdict("core", rc == 0);
	if (rc == 0 && sn.regions != a.nregions)
		abort(); /* every PT_LOAD got its calls */

	int fd = memfd_create("fz_core", MFD_CLOEXEC);
	if (fd >= 0) {
		if (write_all(fd, data, core_len) == 0) {
			struct seen sn2 = {0};
			o.arg = &sn2;
			struct err e2 = {0};
			int rc2 = acore_read_fd(fd, &o, &b, &e2);
			if (rc == 0 && rc2 == 0 && !stream_skipped(&a) &&
			    (a.pid != b.pid || strcmp(a.comm, b.comm) != 0 || a.nfile != b.nfile ||
			     a.nregions != b.nregions))
				abort();
			if (rc2 == 0 && sn2.regions != b.nregions)
				abort();
			acore_info_free(&b);
		}
		close(fd);
	}
	acore_info_free(&a);
	return 0;
}

/* safefs: opening files inside an attacker-controlled root. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "contain/util.h"

/* Open path relative to rootfd as if rootfd were "/": symlinks, "..",
 * and absolute links are all resolved inside the root (openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, else a component walk with
 * O_NOFOLLOW). flags: O_PATH, O_RDONLY, O_DIRECTORY... O_CLOEXEC is added. */
int safe_open_in_root(int rootfd, const char *path, int flags, struct err *e);

/* Open a regular file inside the root for reading, never a FIFO, socket or
 * device: resolves with O_PATH, fstat()s, and only then reopens for reading.
 * st (may be NULL) gets the stat. -1 with ERR_INVALID for a non-regular file. */
int safe_open_regular_in_root(int rootfd, const char *path, struct stat *st,
			      struct err *e);

/* Read a bounded regular file inside a root (safe_open_regular_in_root + read). */
int safe_read_in_root(int rootfd, const char *path, size_t max, char **buf, size_t *len,
		      bool *truncated, struct err *e);

/* Reopen an O_PATH fd for reading through /proc/self/fd. */
int fd_reopen(int fd, int flags, struct err *e);

/* dl_archive.c: the libarchive functions contain calls, opened on first use
 * (dlib.h). One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved, defined
 * by hand below. */
#include <stdarg.h>
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_ARCHIVE
#define DLIB_TABLE dlib_table_archive

#define SYMS(F, V, N)                                                                              \
	F(struct archive_entry *, archive_entry_clear, (struct archive_entry * a0), (a0))          \
	V(archive_entry_copy_hardlink, (struct archive_entry * a0, const char *a1), (a0, a1))      \
	V(archive_entry_copy_pathname, (struct archive_entry * a0, const char *a1), (a0, a1))      \
	V(archive_entry_copy_symlink, (struct archive_entry * a0, const char *a1), (a0, a1))       \
	F(mode_t, archive_entry_filetype, (struct archive_entry * a0), (a0))                       \
	V(archive_entry_free, (struct archive_entry * a0), (a0))                                   \
	F(la_int64_t, archive_entry_gid, (struct archive_entry * a0), (a0))                        \
	F(const char *, archive_entry_hardlink, (struct archive_entry * a0), (a0))                 \
	F(const char *, archive_entry_hardlink_utf8, (struct archive_entry * a0), (a0))            \
	F(time_t, archive_entry_mtime, (struct archive_entry * a0), (a0))                          \
	F(int, archive_entry_mtime_is_set, (struct archive_entry * a0), (a0))                      \
	F(long int, archive_entry_mtime_nsec, (struct archive_entry * a0), (a0))                   \
	F(struct archive_entry *, archive_entry_new, (void), ())                                   \
	F(const char *, archive_entry_pathname, (struct archive_entry * a0), (a0))                 \
	F(const char *, archive_entry_pathname_utf8, (struct archive_entry * a0), (a0))            \
	F(mode_t, archive_entry_perm, (struct archive_entry * a0), (a0))                           \
	F(dev_t, archive_entry_rdev, (struct archive_entry * a0), (a0))                            \
	V(archive_entry_set_atime, (struct archive_entry * a0, time_t a1, long int a2),            \
	  (a0, a1, a2))                                                                            \
	V(archive_entry_set_ctime, (struct archive_entry * a0, time_t a1, long int a2),            \
	  (a0, a1, a2))                                                                            \
	V(archive_entry_set_filetype, (struct archive_entry * a0, unsigned int a1), (a0, a1))      \
	V(archive_entry_set_gid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))             \
	V(archive_entry_set_hardlink, (struct archive_entry * a0, const char *a1), (a0, a1))       \
	V(archive_entry_set_mode, (struct archive_entry * a0, mode_t a1), (a0, a1))                \
	V(archive_entry_set_mtime, (struct archive_entry * a0, time_t a1, long int a2),            \
	  (a0, a1, a2))                                                                            \
	V(archive_entry_set_pathname, (struct archive_entry * a0, const char *a1), (a0, a1))       \
	V(archive_entry_set_perm, (struct archive_entry * a0, mode_t a1), (a0, a1))                \
	V(archive_entry_set_rdev, (struct archive_entry * a0, dev_t a1), (a0, a1))                 \
	V(archive_entry_set_size, (struct archive_entry * a0, la_int64_t a1), (a0, a1))            \
	V(archive_entry_set_symlink, (struct archive_entry * a0, const char *a1), (a0, a1))        \
	V(archive_entry_set_uid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))             \
	F(la_int64_t, archive_entry_size, (struct archive_entry * a0), (a0))                       \
	F(int, archive_entry_size_is_set, (struct archive_entry * a0), (a0))                       \
	V(archive_entry_sparse_add_entry,                                                          \
	  (struct archive_entry * a0, la_int64_t a1, la_int64_t a2), (a0, a1, a2))                 \
	F(int, archive_entry_sparse_count, (struct archive_entry * a0), (a0))                      \
	F(const char *, archive_entry_symlink, (struct archive_entry * a0), (a0))                  \
	F(const char *, archive_entry_symlink_utf8, (struct archive_entry * a0), (a0))             \
	F(la_int64_t, archive_entry_uid, (struct archive_entry * a0), (a0))                        \
	V(archive_entry_xattr_add_entry,                                                           \
	  (struct archive_entry * a0, const char *a1, const void *a2, size_t a3),                  \
	  (a0, a1, a2, a3))                                                                        \
	F(int, archive_entry_xattr_next,                                                           \
	  (struct archive_entry * a0, const char **a1, const void **a2, size_t *a3),               \
	  (a0, a1, a2, a3))                                                                        \
	F(int, archive_entry_xattr_reset, (struct archive_entry * a0), (a0))                       \
	F(const char *, archive_error_string, (struct archive * a0), (a0))                         \
	F(la_int64_t, archive_filter_bytes, (struct archive * a0, int a1), (a0, a1))               \
	F(int, archive_filter_count, (struct archive * a0), (a0))                                  \
	F(const char *, archive_filter_name, (struct archive * a0, int a1), (a0, a1))              \
	F(la_ssize_t, archive_read_data, (struct archive * a0, void *a1, size_t a2), (a0, a1, a2)) \
	F(int, archive_read_data_block,                                                            \
	  (struct archive * a0, const void **a1, size_t *a2, la_int64_t *a3), (a0, a1, a2, a3))    \
	F(int, archive_read_data_skip, (struct archive * a0), (a0))                                \
	F(int, archive_read_free, (struct archive * a0), (a0))                                     \
	F(struct archive *, archive_read_new, (void), ())                                          \
	F(int, archive_read_next_header, (struct archive * a0, struct archive_entry * *a1),        \
	  (a0, a1))                                                                                \
	F(int, archive_read_open,                                                                  \
	  (struct archive * a0, void *a1, archive_open_callback *a2, archive_read_callback *a3,    \
	   archive_close_callback *a4),                                                            \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, archive_read_open2,                                                                 \
	  (struct archive * a0, void *a1, archive_open_callback *a2, archive_read_callback *a3,    \
	   archive_skip_callback *a4, archive_close_callback *a5),                                 \
	  (a0, a1, a2, a3, a4, a5))                                                                \
	F(int, archive_read_open_fd, (struct archive * a0, int a1, size_t a2), (a0, a1, a2))       \
	F(int, archive_read_open_filename, (struct archive * a0, const char *a1, size_t a2),       \
	  (a0, a1, a2))                                                                            \
	F(int, archive_read_open_memory, (struct archive * a0, const void *a1, size_t a2),         \
	  (a0, a1, a2))                                                                            \
	F(int, archive_read_support_filter_all, (struct archive * a0), (a0))                       \
	F(int, archive_read_support_filter_bzip2, (struct archive * a0), (a0))                     \
	F(int, archive_read_support_filter_gzip, (struct archive * a0), (a0))                      \
	F(int, archive_read_support_filter_xz, (struct archive * a0), (a0))                        \
	F(int, archive_read_support_filter_zstd, (struct archive * a0), (a0))                      \
	F(int, archive_read_support_format_gnutar, (struct archive * a0), (a0))                    \
	F(int, archive_read_support_format_tar, (struct archive * a0), (a0))                       \
	F(int, archive_write_add_filter_by_name, (struct archive * a0, const char *a1), (a0, a1))  \
	F(int, archive_write_add_filter_gzip, (struct archive * a0), (a0))                         \
	F(int, archive_write_add_filter_none, (struct archive * a0), (a0))                         \
	F(int, archive_write_add_filter_zstd, (struct archive * a0), (a0))                         \
	F(int, archive_write_close, (struct archive * a0), (a0))                                   \
	F(la_ssize_t, archive_write_data, (struct archive * a0, const void *a1, size_t a2),        \
	  (a0, a1, a2))                                                                            \
	F(int, archive_write_fail, (struct archive * a0), (a0))                                    \
	F(int, archive_write_finish_entry, (struct archive * a0), (a0))                            \
	F(int, archive_write_free, (struct archive * a0), (a0))                                    \
	F(int, archive_write_header, (struct archive * a0, struct archive_entry * a1), (a0, a1))   \
	F(struct archive *, archive_write_new, (void), ())                                         \
	F(int, archive_write_open,                                                                 \
	  (struct archive * a0, void *a1, archive_open_callback *a2, archive_write_callback *a3,   \
	   archive_close_callback *a4),                                                            \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, archive_write_open2,                                                                \
	  (struct archive * a0, void *a1, archive_open_callback *a2, archive_write_callback *a3,   \
	   archive_close_callback *a4, archive_free_callback *a5),                                 \
	  (a0, a1, a2, a3, a4, a5))                                                                \
	F(int, archive_write_open_fd, (struct archive * a0, int a1), (a0, a1))                     \
	F(int, archive_write_open_filename, (struct archive * a0, const char *a1), (a0, a1))       \
	F(int, archive_write_open_memory, (struct archive * a0, void *a1, size_t a2, size_t *a3),  \
	  (a0, a1, a2, a3))                                                                        \
	F(int, archive_write_set_bytes_in_last_block, (struct archive * a0, int a1), (a0, a1))     \
	F(int, archive_write_set_bytes_per_block, (struct archive * a0, int a1), (a0, a1))         \
	F(int, archive_write_set_format_option,                                                    \
	  (struct archive * a0, const char *a1, const char *a2, const char *a3), (a0, a1, a2, a3)) \
	F(int, archive_write_set_format_pax, (struct archive * a0), (a0))                          \
	F(int, archive_write_set_format_pax_restricted, (struct archive * a0), (a0))               \
	F(int, archive_write_set_format_raw, (struct archive * a0), (a0))                          \
	N(archive_set_error)

DLIB_WRAPPERS(SYMS)

/* variadic: formatted here, handed on as "%s" */
void archive_set_error(struct archive *a, int errnum, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	DLIB_ENSURE();
	void (*fn)(struct archive *, int, const char *, ...) =
	    (__typeof__(fn))dlib_ptrs[DLIB_I_archive_set_error];
	if (!fmt) {
		fn(a, errnum, NULL);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(a, errnum, "%s", msg);
}

/* dl_nftables.c: the libnftables functions contain calls, opened on first use
 * (dlib.h). One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved, defined
 * by hand below. */
#include <nftables/libnftables.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_NFTABLES
#define DLIB_TABLE dlib_table_nftables

#define SYMS(F, V, N)                                                                              \
	F(int, nft_ctx_buffer_error, (struct nft_ctx * a0), (a0))                                  \
	F(int, nft_ctx_buffer_output, (struct nft_ctx * a0), (a0))                                 \
	V(nft_ctx_free, (struct nft_ctx * a0), (a0))                                               \
	F(const char *, nft_ctx_get_error_buffer, (struct nft_ctx * a0), (a0))                     \
	F(const char *, nft_ctx_get_output_buffer, (struct nft_ctx * a0), (a0))                    \
	F(struct nft_ctx *, nft_ctx_new, (uint32_t a0), (a0))                                      \
	V(nft_ctx_output_set_flags, (struct nft_ctx * a0, unsigned int a1), (a0, a1))              \
	F(int, nft_run_cmd_from_buffer, (struct nft_ctx * a0, const char *a1), (a0, a1))

DLIB_WRAPPERS(SYMS)

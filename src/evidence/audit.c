/* audit.c: the node audit log. */
#include <string.h>

#include "contain/audit.h"
#include "contain/chain.h"

int audit_record(const char *path, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, e) < 0)
			return err_wrap(e, "audit log '%s'", path);
	}
	struct chain *c = NULL;
	if (chain_open(path, CHAIN_AUDIT_SEED, CHAIN_APPEND | CHAIN_FSYNC, &c, e) < 0)
		return err_wrap(e, "audit log '%s'", path);
	int rc = chain_append(c, action, target, result, extra, e);
	chain_close(c);
	if (rc < 0)
		return err_wrap(e, "audit log '%s'", path);
	return 0;
}

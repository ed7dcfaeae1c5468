/* audit: the node audit log, a hash-chained JSON-lines file (the format of
 * include/contain/chain.h) that every quarantine, release and capture step
 * is written to. */
#pragma once

#include <jansson.h>

#include "contain/util.h"

/* Append one event to the audit log at path (its directory made 0700).
 * extra (borrowed, may be NULL) adds fields. */
int audit_record(const char *path, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e);

/* pbshim.h: alert_prio_name and alert_prio_parse (src/respond/alert.c, the
 * r-alerts branch) for the playbook tests until that branch is merged: weak,
 * so the real ones win as soon as alert.o is linked. Delete this file and its
 * includes after the merge. */
#pragma once
#include <strings.h>

#include "contain/respond.h"

static const char *const pbshim_prio[] = {"Debug", "Informational", "Notice", "Warning",
					   "Error", "Critical", "Alert", "Emergency"};

__attribute__((weak)) const char *alert_prio_name(enum alert_prio p)
{
	return (unsigned)p < 8 ? pbshim_prio[p] : "?";
}

__attribute__((weak)) int alert_prio_parse(const char *s, enum alert_prio *p)
{
	for (unsigned i = 0; i < 8; i++)
		if (strcasecmp(s, pbshim_prio[i]) == 0) {
			*p = (enum alert_prio)i;
			return 0;
		}
	if (strcasecmp(s, "info") == 0) {
		*p = AP_INFORMATIONAL;
		return 0;
	}
	return -1;
}

/* inspect.c: contain inspect REF — one container resolved, as JSON. */
#include <getopt.h>

#include "contain/cmd.h"
#include "contain/isolate.h"

int cmd_inspect(struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			break; /* always JSON */
		default:
			return cmd_usage_error("inspect", "bad option");
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("inspect", "takes exactly one REF");

	struct err e = {0};
	_cleanup_ctr_ struct ctr *ct = NULL;
	if (runtime_resolve(&g->roots, argv[optind], &ct, &e) < 0) {
		log_err(&e);
		return err_exit_code(&e);
	}
	json_t *j = ctr_to_json(ct);
	/* the quarantine as the kernel holds it (not as the state file says) */
	struct qverify *v = xcalloc(1, sizeof(*v));
	if (quarantine_verify(ct, g->state_dir, QV_STATE | QV_NET, v, &e) == 0)
		json_object_set_new(j, "quarantine", qverify_to_json(v));
	free(v);
	int rc = cmd_print_json(j) < 0 ? EXIT_SYS : EXIT_OK;
	json_decref(j);
	return rc;
}

/* audit.c: contain audit verify [FILE] — check the node audit log's hash
 * chain and name the first broken line. */
#include <string.h>

#include "contain/chain.h"
#include "contain/cmd.h"

int cmd_audit(int argc, char **argv)
{
	bool json = G.json;
	int i = 1;
	if (i < argc && strcmp(argv[i], "verify") == 0) {
		i++;
	} else {
		return cmd_usage_error("audit", i < argc ? "unknown action '%s'" : "needs an action%s",
				       i < argc ? argv[i] : "");
	}
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		json = true;
		i++;
	}
	if (argc - i > 1)
		return cmd_usage_error("audit", "verify takes at most one FILE");
	const char *path = i < argc ? argv[i] : G.audit_log;
	struct chain_check r;
	struct err e = {0};
	memset(&r, 0, sizeof(r));
	int rc = chain_check_file(path, CHAIN_AUDIT_SEED, &r, &e);
	if (rc < 0) {
		log_error("audit verify '%s': %s", path, e.msg);
		return err_exit_code(&e) == EXIT_FOUND ? EXIT_FOUND : EXIT_SYS;
	}
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "file", json_string(path));
		json_object_set_new(j, "valid", json_boolean(rc == 0));
		json_object_set_new(j, "lines", json_integer((json_int_t)r.lines));
		json_object_set_new(j, "first_bad_line",
				    rc ? json_integer((json_int_t)r.first_bad) : json_null());
		json_object_set_new(j, "problem", rc ? json_string(r.problem) : json_null());
		json_object_set_new(j, "head", json_string(r.head));
		json_object_set_new(j, "truncated_tail", json_boolean(r.truncated_tail));
		cmd_print_json(j);
		json_decref(j);
	} else if (rc == 0) {
		printf("audit log '%s': %llu lines, chain intact, head %s\n", path, r.lines, r.head);
	}
	if (rc != 0) {
		log_error("audit log '%s': line %llu is broken: %s", path, r.first_bad, r.problem);
		return EXIT_FOUND;
	}
	if (r.truncated_tail)
		log_warn("audit log '%s': the last line has no newline (cut mid-write?)", path);
	return EXIT_OK;
}

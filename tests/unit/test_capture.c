/* test_capture: the capture transaction's contract without a container:
 * options refused up front (bounds of --observe and --watch-cut, the
 * combinations that cannot run), a container that is not running refused
 * and audited as a failed capture, the result always filled and freeable,
 * and the summary's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contain/capture.h"
#include "contain/util.h"
#include "unit.h"

static struct capture_opts good(void)
{
	struct capture_opts o = {
		.out = "/nonexistent/bag",
		.state_dir = "/nonexistent/state",
		.quarantine = true,
		.pcap = true,
		.fs = true,
		.memory = true,
		.pcap_seconds = 1,
		.log_max_bytes = 1 << 20,
	};
	return o;
}

START_TEST(opts_bounds_and_combinations)
{
	struct err e = {0};
	struct capture_opts o = good();
	ck_assert_int_eq(capture_opts_check(&o, &e), 0);
	o.observe_seconds = CAPTURE_WINDOW_MAX;
	o.watch_cut_seconds = CAPTURE_WINDOW_MAX;
	ck_assert_int_eq(capture_opts_check(&o, &e), 0);
	o.observe_seconds = CAPTURE_WINDOW_MAX + 1;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	o = good();
	o.watch_cut_seconds = CAPTURE_WINDOW_MAX + 1;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	/* nothing to observe without the pcap; nothing cut without the quarantine */
	o = good();
	o.observe_seconds = 1;
	o.pcap = false;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "--observe"));
	o = good();
	o.watch_cut_seconds = 1;
	o.quarantine = false;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "--watch-cut"));
	/* the rest */
	o = good();
	o.out = NULL;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	o = good();
	o.state_dir = NULL;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
	o = good();
	o.pcap_seconds = 0;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1); /* no bound at all */
	o.pcap_max_bytes = 1 << 20;
	ck_assert_int_eq(capture_opts_check(&o, &e), 0);
	o = good();
	o.host_nflog_first = 65536;
	ck_assert_int_eq(capture_opts_check(&o, &e), -1);
}
END_TEST

START_TEST(not_running_is_refused_and_audited)
{
	char dir[] = "/tmp/test_capture.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char audit[256], out[256];
	snprintf(audit, sizeof(audit), "%s/audit.jsonl", dir);
	snprintf(out, sizeof(out), "%s/bag", dir);
	struct capture_opts o = good();
	o.out = out;
	o.audit_log = audit;
	char id[] = "deadbeef";
	struct ctr c = {.id = id, .pid = 0};
	struct capture_result r;
	struct err e = {0};
	ck_assert_int_eq(capture_run(&c, &o, &r, &e), -1);
	ck_assert_int_eq(e.kind, ERR_WRONGSTATE);
	ck_assert_str_eq(r.status, "failed");
	ck_assert_str_eq(r.bag_id, "");
	ck_assert_int_ne(access(out, F_OK), 0); /* no bag */
	json_t *sum = capture_result_to_json(&r, &c, out);
	ck_assert_str_eq(json_string_value(json_object_get(sum, "status")), "failed");
	ck_assert(json_is_array(json_object_get(sum, "missing")));
	ck_assert(json_is_null(json_object_get(sum, "windows")));
	json_decref(sum);
	capture_result_free(&r);
	capture_result_free(&r); /* twice is harmless */

	/* the audit log's last line is the failure, with the error */
	FILE *f = fopen(audit, "r");
	ck_assert_ptr_nonnull(f);
	char buf[8192], last[8192] = "";
	while (fgets(buf, sizeof(buf), f))
		memcpy(last, buf, sizeof(last));
	fclose(f);
	json_error_t je;
	json_t *line = json_loads(last, 0, &je);
	ck_assert_msg(line != NULL, "%s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(line, "action")), "capture");
	ck_assert_str_eq(json_string_value(json_object_get(line, "target")), "deadbeef");
	ck_assert_str_eq(json_string_value(json_object_get(line, "result")), "failed");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(line, "error")),
				     "not running"));
	json_decref(line);
	unlink(audit);
	rmdir(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *t = tcase_create("capture");
	tcase_add_test(t, opts_bounds_and_combinations);
	tcase_add_test(t, not_running_is_refused_and_audited);
	suite_add_tcase(s, t);
	return s;
}

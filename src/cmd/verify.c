/* contain verify: prove a bag complete, untampered and signed. */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/bag.h"
#include "contain/cmd.h"
#include "contain/dlib.h"

static void print_report(json_t *r, int rc)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(r, "checks"), i, c) {
		printf("%-4s %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
		       json_string_value(json_object_get(c, "detail")));
	}
	json_int_t more = json_integer_value(json_object_get(r, "problems_omitted"));
	if (more > 0)
		printf("FAIL and %lld more problem%s, not listed\n", (long long)more,
		       more == 1 ? "" : "s");
	json_t *arts = json_object_get(r, "artifacts"), *unf = json_object_get(r, "unfinished");
	size_t good = 0;
	json_array_foreach(arts, i, c) {
		if (json_is_true(json_object_get(c, "ok")))
			good++;
	}
	const char *status = json_string_value(json_object_get(r, "status"));
	const char *verdict = json_string_value(json_object_get(r, "verdict"));
	const char *form = json_string_value(json_object_get(r, "form"));
	bool complete = status && strcmp(status, "complete") == 0;
	bool unsupported = form && strcmp(form, "unsupported") == 0;
	if (!complete && !unsupported) {
		printf("completed artifacts: %zu (%zu intact%s)\n",
		       json_array_size(arts) +
			       (size_t)json_integer_value(json_object_get(r, "artifacts_omitted")),
		       good,
		       json_integer_value(json_object_get(r, "artifacts_omitted")) ? " of those listed"
										   : "");
		json_array_foreach(arts, i, c) {
			printf("  %s %s\n", json_is_true(json_object_get(c, "ok")) ? "intact " : "BROKEN ",
			       json_string_value(json_object_get(c, "path")));
		}
		json_int_t amore = json_integer_value(json_object_get(r, "artifacts_omitted"));
		if (amore > 0)
			printf("  and %lld more, not listed\n", (long long)amore);
		json_int_t umore = json_integer_value(json_object_get(r, "unfinished_omitted"));
		printf("not finished: %zu\n", json_array_size(unf) + (size_t)umore);
		json_array_foreach(unf, i, c) {
			printf("  %s (%s)\n", json_string_value(json_object_get(c, "path")),
			       json_string_value(json_object_get(c, "reason")));
		}
		if (umore > 0)
			printf("  and %lld more, not listed\n", (long long)umore);
	}
	size_t nprob = (size_t)json_integer_value(json_object_get(r, "problem_count"));
	const char *bag = json_string_value(json_object_get(r, "bag"));
	if (rc == 0) {
		const char *sig = json_string_value(
			json_object_get(json_object_get(r, "signature"), "status"));
		printf("verdict: VALID: bag '%s' is complete and untampered%s\n", bag,
		       sig && strcmp(sig, "valid") == 0 ? ", signed by the expected key"
		       : sig && strcmp(sig, "signer-not-checked") == 0
			       ? ", signed (signer not checked)"
			       : ", not signed");
	} else if (unsupported) {
		printf("verdict: INVALID: '%s' is not in a form verify reads\n", bag);
	} else if (verdict && strcmp(verdict, "incomplete") == 0) {
		printf("verdict: INCOMPLETE: bag '%s' %s; what is there checks out\n", bag,
		       json_is_true(json_object_get(r, "cut")) ? "is cut short (the tar ends early)"
							       : "was never sealed");
	} else {
		printf("verdict: INVALID: bag '%s': %zu problem%s%s\n", bag, nprob,
		       nprob == 1 ? "" : "s", complete ? "" : " (and incomplete)");
	}
}

int cmd_verify(struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"pubkey", required_argument, NULL, 'k'},
		{"json", no_argument, NULL, 'j'},
		{0, 0, 0, 0},
	};
	struct bag_verify_opts vo = {0};
	bool json = g->json;
	int c;
	while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			vo.pubkey = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cmd_usage_error("verify", "bad option");
		}
	}
	struct err e = {0};
	/* libarchive (and the libraries it pulls in: 10 ms) for anything but a
	 * directory bag, before the bag is read, as main loads a verb's
	 * libraries: a missing one is the same error, exit 3 (bag_verify loads
	 * it too, should the path turn into a tar meanwhile) */
	struct stat st;
	bool dir = argc - optind == 1 && stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode);
	if (!dir && dlib_load(DLIB_ARCHIVE, &e) < 0) {
		log_error("verify: %s", e.msg);
		return EXIT_SYS;
	}
	if (argc - optind != 1)
		return cmd_usage_error("verify", "one BAG is needed");
	const char *path = argv[optind];
	json_t *r = NULL;
	vo.brief = !json; /* the text lists artifacts only for a bag not complete */
	int rc = bag_verify(path, &vo, &r, &e);
	if (rc < 0) {
		err_wrap(&e, "verify");
		log_err(&e);
		json_decref(r);
		return EXIT_SYS;
	}
	if (json)
		cmd_print_json(r);
	else
		print_report(r, rc);
	json_decref(r);
	return rc == 0 ? EXIT_OK : EXIT_FOUND;
}

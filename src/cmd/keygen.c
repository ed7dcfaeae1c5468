/* contain keygen: an Ed25519 key pair for sealing bags. */
#include <getopt.h>
#include <string.h>

#include "contain/cmd.h"
#include "contain/sign.h"

int cmd_keygen(struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{0, 0, 0, 0},
	};
	const char *base = NULL;
	bool json = g->json;
	int c;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			base = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cmd_usage_error("keygen", "bad option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (!base || !*base)
		return cmd_usage_error("keygen", "-o NAME is required");
	struct err e = {0};
	char fpr[SIGN_FPR_HEX];
	if (sign_keygen(base, fpr, &e) < 0) {
		err_wrap(&e, "keygen");
		log_err(&e);
		return err_exit_code(&e);
	}
	if (json) {
		json_t *j = json_pack("{s:s+,s:s+,s:s}", "private_key", base, ".key", "public_key",
				      base, ".pub", "fingerprint", fpr);
		cmd_print_json(j);
		json_decref(j);
	} else {
		printf("private key: %s.key\npublic key:  %s.pub\nfingerprint: %s\n", base, base,
		       fpr);
	}
	return EXIT_OK;
}

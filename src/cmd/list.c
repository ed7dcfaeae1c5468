/* list.c: contain list — every container on the node, of every runtime. */
#include <getopt.h>
#include <string.h>

#include <dirent.h>

#include "contain/cmd.h"
#include "contain/isolate.h"

/* Names come from runtime files: attacker-influenced. Everything outside
 * printable ASCII is shown as \xNN (no terminal escapes, no bidi tricks),
 * then cut to width with a trailing '~'. */
static void cell(struct sbuf *line, const char *s, size_t width, bool last)
{
	struct sbuf b = SBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			sbuf_addc(&b, (char)*p);
		else
			sbuf_printf(&b, "\\x%02x", *p);
		if (b.len > width + 8)
			break;
	}
	if (!b.len)
		sbuf_addc(&b, '-');
	if (b.len > width) {
		b.len = width - 1;
		b.buf[b.len] = '\0';
		sbuf_addc(&b, '~');
	}
	sbuf_adds(line, b.buf);
	if (!last)
		for (size_t i = b.len; i <= width; i++)
			sbuf_addc(line, ' ');
	sbuf_free(&b);
}

/* The quarantine of each container, verified in the kernel. Kept fast: one
 * readdir of the state dir and one listing of the host's netdev tables;
 * only a container named there (or frozen) is looked at in its netns. */
static json_t *quarantine_column(const struct globals *g, const struct ctr_list *l)
{
	json_t *ids = json_object(), *out = json_object();
	if (l->n == 0) { /* nothing to show a column for */
		json_decref(ids);
		return out;
	}
	DIR *d = opendir(g->state_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && str_has_suffix(de->d_name, ".json") &&
			    strlen(de->d_name) < 200) {
				char id[200];
				snprintf(id, sizeof(id), "%.*s", (int)strlen(de->d_name) - 5,
					 de->d_name);
				json_object_set_new(ids, id, json_true());
			}
		closedir(d);
	}
	char **tabs = NULL;
	size_t ntabs = 0;
	struct err e = {0};
	if (ncut_host_tables(&tabs, &ntabs, &e) < 0)
		log_warn("list: %s", e.msg);
	for (size_t k = 0; k < ntabs; k++) {
		json_object_set_new(ids, tabs[k], json_true());
		free(tabs[k]);
	}
	free(tabs);
	struct qverify *v = xcalloc(1, sizeof(*v));
	for (size_t i = 0; i < l->n; i++) {
		const struct ctr *ct = l->v[i];
		char htab[NCUT_TABLE_MAX];
		ncut_table_names(NULL, ct->id, NULL, htab);
		bool named = json_object_get(ids, ct->id) || json_object_get(ids, htab);
		if (ct->pid <= 0 && !named)
			continue;
		quarantine_verify(ct, g->state_dir,
				  (named ? QV_STATE : 0) | (named && ct->pid > 0 ? QV_NET : 0) |
					  QV_LISTED,
				  v, &e);
		json_object_set_new(out, ct->id, qverify_to_json(v));
	}
	free(v);
	json_decref(ids);
	return out;
}

int cmd_list(struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			g->json = true;
			break;
		default:
			return cmd_usage_error("list", "bad option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("list", "takes no arguments ('%s')", argv[optind]);

	struct err e = {0};
	struct ctr_list l = {0};
	if (runtime_list(&g->roots, &l, &e) < 0) {
		log_err(&e);
		ctr_list_free(&l);
		return err_exit_code(&e);
	}
	int rc = EXIT_OK;
	json_t *q = quarantine_column(g, &l);
	if (g->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < l.n; i++) {
			json_t *cj = ctr_to_json(l.v[i]);
			json_t *qj = json_object_get(q, l.v[i]->id);
			json_object_set(cj, "quarantine", qj ? qj : json_null());
			json_array_append_new(a, cj);
		}
		if (cmd_print_json(a) < 0)
			rc = EXIT_SYS;
		json_decref(a);
	} else {
		/* 10+12+16+14+7+7+10+13+9 plus 8 separators = 106 columns
		 * (names and pods keep their width; the image gives way) */
		static const size_t w[] = {10, 12, 16, 14, 7, 7, 10, 13, 9};
		static const char *const head[] = {"RUNTIME", "ID",	    "NAME",
						   "IMAGE",   "PID",	    "STATUS",
						   "QUARANTINE", "POD", "NAMESPACE"};
		struct sbuf line = SBUF_INIT;
		for (size_t k = 0; k < ARRAY_SIZE(w); k++)
			cell(&line, head[k], w[k], k == 8);
		puts(line.buf);
		for (size_t i = 0; i < l.n; i++) {
			const struct ctr *ct = l.v[i];
			char pid[16], id[13];
			snprintf(pid, sizeof(pid), "%d", (int)ct->pid);
			snprintf(id, sizeof(id), "%s", ct->id ? ct->id : "");
			sbuf_reset(&line);
			cell(&line, rt_kind_name(ct->runtime), w[0], false);
			cell(&line, id, w[1], false);
			cell(&line, ct->name, w[2], false);
			cell(&line, ct->image, w[3], false);
			cell(&line, ct->pid > 0 ? pid : "-", w[4], false);
			cell(&line, ct->status, w[5], false);
			json_t *qj = json_object_get(q, ct->id);
			const char *qs = qj ? json_string_value(json_object_get(qj, "state")) : NULL;
			cell(&line, qs && strcmp(qs, "-") != 0 ? qs : "-", w[6], false);
			cell(&line, ct->k8s_pod, w[7], false);
			cell(&line, ct->k8s_namespace ? ct->k8s_namespace : ct->namespace, w[8],
			     true);
			puts(line.buf);
		}
		sbuf_free(&line);
	}
	json_decref(q);
	ctr_list_free(&l);
	return rc;
}

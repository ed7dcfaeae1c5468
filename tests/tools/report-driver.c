/* report-driver: write the five report files of a report JSON, without a bag.
 *   report-driver REPORT.json DIR
 * DIR is made (0700) when missing; the files must not exist in it
 * (report.json, report.md, report.html, timeline.csv, bodyfile). Exit 0, or
 * 1 with a message naming the file that failed, 2 usage. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/analyze.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: report-driver REPORT.json DIR\n");
		return 2;
	}
	struct err e = {0};
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool trunc = false;
	if (read_file_at(AT_FDCWD, argv[1], 1u << 30, &buf, &len, &trunc, &e) < 0 || trunc) {
		fprintf(stderr, "report-driver: %s\n", trunc ? "report too large" : e.msg);
		return 1;
	}
	json_error_t je;
	json_t *report = json_loadb(buf, len, 0, &je);
	if (!report) {
		fprintf(stderr, "report-driver: '%s': line %d: %s\n", argv[1], je.line, je.text);
		return 1;
	}
	if (mkdir(argv[2], 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "report-driver: mkdir '%s': %s\n", argv[2], strerror(errno));
		return 1;
	}
	_cleanup_close_ int dfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "report-driver: open '%s': %s\n", argv[2], strerror(errno));
		return 1;
	}
	static const struct {
		const char *name;
		int (*fn)(const json_t *, int, const char *, struct err *);
	} w[] = {
	    {"report.json", report_write_json},	 {"report.md", report_write_md},
	    {"report.html", report_write_html},	 {"timeline.csv", report_write_timeline},
	    {"bodyfile", report_write_bodyfile},
	};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		err_clear(&e);
		if (w[i].fn(report, dfd, w[i].name, &e) < 0) {
			fprintf(stderr, "report-driver: %s\n", e.msg);
			rc = 1;
		}
	}
	json_decref(report);
	return rc;
}

#!/bin/bash
# t0004-backends: the runtime backends are one static table (runtime.c), not
# weak references the link may or may not fill: the shipped binary and every
# test binary define all five backends, none is weak, and nothing in src/ is
# weak or needs -u on the link line.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd nm
[ -x "$CONTAIN" ] || skip_all "no binary at $CONTAIN (make)"

# defines BIN: the backend symbols BIN defines (data, not weak), sorted
defines() { nm "$1" 2>/dev/null | awk '$2 ~ /^[DdRr]$/ && $3 ~ /^rt_backend_(runc|containerd|docker|podman|crio)$/ {print $3}' | sort | tr '\n' ' '; }
ALL="rt_backend_containerd rt_backend_crio rt_backend_docker rt_backend_podman rt_backend_runc "
is "$(defines "$CONTAIN")" "$ALL" "contain defines the five backends"
for b in "$CONTAIN_BUILD"/tests/unit/test_runtime "$CONTAIN_BUILD"/tests/unit/test_backends \
	"$CONTAIN_BUILD"/tests/tools/collect-driver; do
	if [ -x "$b" ]; then
		is "$(defines "$b")" "$ALL" "$(basename "$b") defines the same five"
	else
		skip "$(basename "$b") defines the same five" "not built (make test-bins)"
	fi
done
is "$(nm "$CONTAIN" | awk '$1 ~ /^[wWvV]$/ && $2 ~ /rt_backend/ || $2 ~ /^[wWvV]$/ && $3 ~ /rt_backend/')" "" \
	"no weak rt_backend symbol in contain"
is "$(grep -rn '__attribute__((weak))\|#pragma weak' "$CONTAIN_TOP/src" "$CONTAIN_TOP/include")" "" \
	"nothing in src/ or include/ is weak"
is "$(grep -n -- '-u rt_backend\|BACKEND_UNDEF' "$CONTAIN_TOP/Makefile")" "" "no -u on the link line"
done_testing

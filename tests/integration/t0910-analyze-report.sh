#!/bin/bash
# t0910-analyze-report: the report files of a hostile report
# (fixtures/reports/report-hostile.json: paths, process names and custody
# entries with <script>, </script>, <img onerror>, quotes, newlines, "|",
# "=cmd|' /C calc'!A0", markdown links, invalid UTF-8 percent-encoded; a bag
# that did not verify, analyzed with --force) written by tests/tools/report-driver,
# then read by the tools a responder uses:
#  - report.html in headless Chromium from file://: no console message (a CSP
#    violation or a script error is one), no request to the network (the net log
#    holds no URL of the page but its own file), the findings shown, the hostile
#    names as text, no script of the data run (the title is not PWNED), the
#    file table filtered and sorted from the URL (#filter=kind:added, #sort=-size),
#    the process tree with its flags, a screenshot in T_DIR;
#  - the network flows (three added to a copy, one with a hostile SNI): the
#    table sorted from the URL by any column (#flowsort=-bytes_out, dport,
#    -sni), numbers as numbers, the sorted column marked, the SNI as text;
#    the flows in timeline.csv;
#  - bodyfile through mactime (sleuthkit): accepted, the planted paths listed;
#  - timeline.csv through Python's csv reader: 6 fields a row, sorted, no field
#    a spreadsheet would run;
#  - every file says first that the evidence did not verify, and a verified
#    report says nothing of the kind.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd jq python3
command -v report-driver >/dev/null 2>&1 || skip_all "report-driver not built (make test-bins)"
FIX=$CONTAIN_TOP/fixtures/reports/report-hostile.json
[ -r "$FIX" ] || skip_all "no $FIX"

R=$T_DIR/r
run report-driver "$FIX" "$R"
is "$RC" 0 "report-driver writes the five files: $ERR"
for f in report.json report.md report.html timeline.csv bodyfile; do
	ok "$f is there, mode 0644" test "$(stat -c %a "$R/$f" 2>/dev/null)" = 644
done
fails_with 1 "the files are never overwritten (O_EXCL)" report-driver "$FIX" "$R"
ok "report.json is the report" sh -c "jq -S . '$R/report.json' >'$T_DIR/a' && jq -S . '$FIX' >'$T_DIR/b' && cmp -s '$T_DIR/a' '$T_DIR/b'"

# ---- the first line of each says the evidence did not verify ----
like "$(head -1 "$R/report.md")" '^# contain analysis: compromised .*EVIDENCE DID NOT VERIFY.*sha256 mismatch' \
	"report.md's first line: the verdict and that the evidence did not verify, and why"
like "$(sed -n 2p "$R/timeline.csv")" '^"[0-9T:.Z-]+","contain","warning",.*EVIDENCE DID NOT VERIFY' \
	"timeline.csv's first row is the warning"
like "$(head -1 "$R/bodyfile")" '^0\|EVIDENCE DID NOT VERIFY' "bodyfile's first entry is the warning"
HTML=$(cat "$R/report.html")
like "$HTML" '<title>EVIDENCE DID NOT VERIFY' "report.html's title says it"
like "$(grep -A1 '^<body>$' "$R/report.html" | tail -1)" '^<div class="unverified" id="unverified">EVIDENCE DID NOT VERIFY' \
	"report.html's first element says it"

# ---- report.html: nothing external, nothing raw ----
unlike "$HTML" '<[a-zA-Z][^<>]*[[:space:]](src|href|action|srcset|poster|data)=' \
	"no tag of report.html loads or links anything (src, href...)"
unlike "$HTML" 'url\(|@import|<link|<iframe|<object|<embed|<img' "no url(), @import, link, frame or image"
is "$(grep -o '<script' "$R/report.html" | wc -l)" 2 "two script elements: the data island and the code"
like "$HTML" "Content-Security-Policy\" content=\"default-src 'none'" "a CSP forbids everything external"
like "$HTML" '&lt;img src=x onerror=&quot;document.title=&#39;PWNED&#39;&quot;&gt;' "the hostile name is entity-escaped"
like "$HTML" 'x\\u003c/script\\u003e\\u003cscript\\u003e' "the data island escapes < (no </script> from a path)"
unlike "$HTML" 'innerHTML|eval\(|new Function|document\.write' "the script never parses data as HTML or code"

# ---- report.md: no link, no HTML from the data ----
MD=$(cat "$R/report.md")
like "$MD" '\\\[click\\\]\\\(javascript:alert\\\(1\\\)\\\)' "a markdown link in a detail is escaped"
like "$MD" '`tmp/\[x\]\(javascript:alert\(1\)\)`' "a markdown link in a path is in a code span"
like "$MD" '`etc/a\\\|b,c"d`' "a | in a table cell is escaped"
like "$MD" '`tmp/new%0Aline`' "a newline in a name is shown encoded"
like "$MD" 'gpj%E2%80%AEexe\.sh' "a right-to-left override is shown encoded"

# ---- timeline.csv ----
run python3 - "$R/timeline.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0] == ["time", "source", "kind", "macb", "target", "detail"], rows[0]
bad = [r for r in rows if len(r) != 6]
assert not bad, bad[:3]
times = [r[0] for r in rows[2:]]
assert times == sorted(times), "not sorted"
inj = [f for r in rows for f in r if f[:1] in ("=", "+", "-", "@")]
assert not inj, inj[:3]
srcs = {r[1] for r in rows[1:]}
assert srcs == {"contain", "file", "process", "quarantine", "custody"}, srcs
assert any(r[4] == "/tmp/.x/implant" and r[2] == "added" for r in rows)
assert any(r[4] == '/etc/a|b,c"d' for r in rows)
assert any(r[2] == "'=cmd|' /C calc'!A0" for r in rows)
print(len(rows))
EOF
is "$RC" 0 "Python's csv reader: 6 fields a row, sorted, no formula, all sources: $ERR"

# ---- bodyfile through mactime ----
section "bodyfile in mactime (sleuthkit)"
if ! command -v mactime >/dev/null 2>&1; then
	if in_ci; then
		_t_result 1 "CI=true: mactime is installed (tests/lib/deps.sh: sleuthkit)"
	fi
	section_skip "no mactime (apt-get install sleuthkit)"
fi
ok "every bodyfile line has 11 fields" sh -c "awk -F'|' 'NF != 11 { bad = 1 } END { exit bad }' '$R/bodyfile'"
run mactime -b "$R/bodyfile" -d -z UTC 2026-12-07
is "$RC" 0 "mactime accepts the bodyfile: $(printf '%s' "$ERR" | head -2)"
MT=$OUT
like "$MT" '^Mon Dec 07 2026 01:54:30,1234,m\.c\.,r/rrwxr-xr-x,0,0,0,"/tmp/\.x/implant"' \
	"mactime lists the new executable at its mtime"
like "$MT" '"/etc/passwd"' "mactime lists the modified /etc/passwd"
like "$MT" 'r/rrwsr-xr-x,0,0,0,"/bin/busybox"' "mactime lists the setuid busybox with its s bit"
like "$MT" '"/bin/wget \(deleted\)"' "mactime lists the deleted /bin/wget as TSK does"
ok "a | in a name is %7C in the bodyfile" grep -qF '0|/etc/a%7Cb,c"d|' "$R/bodyfile"
like "$MT" '"/etc/a\|b,c""d"' "mactime decodes %7C back to | (TSK's percent-encoding of names)"
like "$MT" '\.\.\.b,.*"\[process\] pid 29721 .*EXE-DELETED"' "the process start is a birth (b) entry"
like "$MT" '"\[custody\] seq 000001 event-1 sample ok"' "the custody events are in it"

# ---- report.html in Chromium ----
section "report.html in headless Chromium"
CHROME=""
for c in chromium chromium-browser google-chrome; do
	command -v "$c" >/dev/null 2>&1 && CHROME=$c && break
done
if [ -z "$CHROME" ]; then
	in_ci && _t_result 1 "CI=true: chromium is installed (tests/lib/deps.sh)"
	section_skip "no chromium (apt-get install chromium)"
fi
# no network: every request through a proxy that refuses, no name resolves;
# the browser's own background traffic off; the page's requests in the net log
chrome() { # chrome NAME URL-SUFFIX ARGS...: DOM in $T_DIR/NAME.dom, log in NAME.err
	local name=$1 suffix=$2
	shift 2
	timeout -k 5 120 "$CHROME" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T_DIR/chr-$name" --enable-logging=stderr --v=0 \
		--proxy-server=127.0.0.1:9 --host-resolver-rules="MAP * ~NOTFOUND" \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --disable-default-apps --disable-extensions \
		--log-net-log="$T_DIR/$name.net.json" "$@" \
		"file://$R/report.html$suffix" >"$T_DIR/$name.dom" 2>"$T_DIR/$name.err"
}
# page_urls NAME: the URLs of the net log but the browser's own services
page_urls() {
	python3 - "$T_DIR/$1.net.json" <<'EOF'
import json, sys, urllib.parse
d = json.load(open(sys.argv[1]))
own = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
for e in d.get("events", []):
    u = (e.get("params") or {}).get("url")
    if not isinstance(u, str):
        continue
    h = urllib.parse.urlsplit(u).hostname or ""
    if any(h == o or h.endswith("." + o) for o in own):
        continue
    print(u)
EOF
}
if [ -z "$_t_skip_reason" ]; then
	chrome plain "" --dump-dom
	RC=$?
else
	RC=255
fi
is "$RC" 0 "Chromium loads report.html from file://"
[ "$RC" = 0 ] || diag "$(grep -v dbus "$T_DIR/plain.err" 2>/dev/null | tail -5)"
DOM=$(cat "$T_DIR/plain.dom" 2>/dev/null)
CONSOLE=$(grep -E 'CONSOLE|Uncaught|Content Security Policy' "$T_DIR/plain.err" 2>/dev/null)
is "$CONSOLE" "" "no console message, no CSP violation"
URLS=$(page_urls plain 2>&1 | grep -v "^file://$R/report.html")
is "$URLS" "" "no request but the file itself (net log)"
like "$DOM" '<title>EVIDENCE DID NOT VERIFY' "the title is ours (no script of the data set it to PWNED)"
unlike "$DOM" '<title>PWNED|<img' "no image element, no PWNED title"
like "$DOM" 'Findings \(11\)' "the findings are shown"
like "$DOM" 'fs\.new-executable.*new ELF executable' "the critical finding is there"
like "$DOM" 'tmp/&lt;img src=x onerror="document.title=.PWNED."&gt;' "the hostile name is text in the DOM"
like "$DOM" 'tmp/x&lt;/script&gt;&lt;script&gt;alert\(1\)&lt;/script&gt;' "a path with </script> is text in the DOM"
like "$DOM" 'id="fstatus"[^>]*>showing 20 of 20 matching \(20 in all\)' "the script built the file table"
like "$DOM" '<span class="flag">exe deleted</span>' "the process tree flags the deleted executable"
like "$DOM" '<span class="flag">memfd</span>' "the process tree flags the memfd executable"
like "$DOM" '<ul class="tree"><li><b>pid 29716</b>.*<ul class="tree"><li><b>pid 29721</b>' "the tree nests a child under its parent"
like "$DOM" '<h3>pid 29721 &lt;img[^<]*\(1 sockets\)</h3><table><tr><th>proto</th>.*<td>10\.0\.0\.1:4444</td>' \
	"the sockets are grouped by process"
n=$(printf '%s' "$DOM" | grep -o '<tr><td class="k-' | wc -l)
is "$n" 20 "the file table has a row per diff entry"

if [ -z "$_t_skip_reason" ]; then chrome added '#filter=kind:added' --dump-dom; fi
DOM=$(cat "$T_DIR/added.dom" 2>/dev/null)
like "$DOM" 'id="fstatus"[^>]*>showing 12 of 12 matching \(20 in all\)' "#filter=kind:added shows the 12 added"
is "$(printf '%s' "$DOM" | grep -o '<td class="k-[a-z]*' | sort -u | tr '\n' ' ')" '<td class="k-added ' \
	"only added rows in the filtered table"

if [ -z "$_t_skip_reason" ]; then chrome sorted '#filter=type:file,path:bin&sort=-size' --dump-dom; fi
DOM=$(cat "$T_DIR/sorted.dom" 2>/dev/null)
like "$DOM" 'id="fstatus"[^>]*>showing 3 of 3 matching' "filter by type and path substring"
like "$DOM" '<tbody id="fbody"><tr><td class="k-metadata">metadata</td><td>file</td><td>/bin/busybox</td><td>4755</td><td>0:0</td><td>1982256</td>' \
	"sorted by size, largest first"
like "$DOM" '<th data-col="size" class="desc">' "the sorted column is marked"

# ---- the flows table: sorted from the URL by any column ----
jq '.network.flows = [
  {proto:"tcp",src:"10.0.0.2",sport:40000,dst:"10.0.0.1",dport:4444,packets_out:9,bytes_out:900,
   packets_in:2,bytes_in:120,first:"2026-12-07T01:54:31.000000000Z",last:"2026-12-07T01:54:40.000000000Z",
   seconds:9,state:"established",pcaps:["data/network/capture-eth0.pcap"],after_cut:0,
   sni:"<img src=x onerror=\"document.title=1\">",http_host:null},
  {proto:"udp",src:"10.0.0.2",sport:33333,dst:"10.0.0.53",dport:53,packets_out:1,bytes_out:70,
   packets_in:1,bytes_in:120,first:"2026-12-07T01:54:30.500000000Z",last:"2026-12-07T01:54:30.600000000Z",
   seconds:0.1,state:null,pcaps:["data/network/capture-eth0.pcap"],after_cut:0,sni:null,http_host:null},
  {proto:"tcp",src:"10.0.0.2",sport:40001,dst:"10.0.0.1",dport:80,packets_out:20,bytes_out:10000,
   packets_in:30,bytes_in:40000,first:"2026-12-07T01:54:32.000000000Z",last:"2026-12-07T01:54:33.000000000Z",
   seconds:1,state:"closed",pcaps:["data/network/capture-eth0.pcap"],after_cut:1,sni:null,
   http_host:"a.example.test"}]' "$FIX" >"$T_DIR/flows.json"
RF=$T_DIR/rf
run report-driver "$T_DIR/flows.json" "$RF"
is "$RC" 0 "report-driver writes the report with flows: $ERR"
ok "the flows in timeline.csv (at their first packet)" \
	grep -qF '"2026-12-07T01:54:31.000000000Z","network","flow","","tcp 10.0.0.2:40000 -> 10.0.0.1:4444"' "$RF/timeline.csv"
# flow_rows NAME: the marked column, the dport column in order, the first row's sni
flow_rows() {
	python3 - "$T_DIR/$1.dom" <<'EOF'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.inflow = False; s.rows = []; s.cell = None; s.marked = []
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "table" and a.get("id") == "flowtable": s.inflow = True
        if not s.inflow: return
        if t == "th" and a.get("class"): s.marked.append(a.get("data-col") + ":" + a["class"])
        if t == "tr": s.rows.append([])
        if t == "td": s.cell = ""
    def handle_endtag(s, t):
        if t == "table": s.inflow = False
        if s.inflow and t == "td" and s.cell is not None: s.rows[-1].append(s.cell); s.cell = None
    def handle_data(s, d):
        if s.cell is not None: s.cell += d
p = P(); p.feed(open(sys.argv[1]).read())
rows = [r for r in p.rows if r]
print(" ".join(p.marked), "|", " ".join(r[5] for r in rows), "|", rows[0][13] if rows else "")
EOF
}
flowsort() { # flowsort NAME FRAGMENT WANT DESCRIPTION
	if [ -z "$_t_skip_reason" ]; then
		R=$RF chrome "$1" "$2" --dump-dom
	fi
	is "$(flow_rows "$1" 2>&1)" "$3" "$4"
}
flowsort fl-default '' 'first:asc | 53 4444 80 | ' "the flows table, by first time at first"
flowsort fl-bytes '#flowsort=-bytes_out' 'bytes_out:desc | 80 4444 53 | ' \
	"#flowsort=-bytes_out: by bytes out as numbers, largest first (10000 before 900)"
flowsort fl-dport '#flowsort=dport' 'dport:asc | 53 80 4444 | ' "#flowsort=dport: by port as a number"
flowsort fl-sni '#filter=kind:added&flowsort=-sni' \
	'sni:desc | 4444 53 80 | <img src=x onerror="document.title=1">' \
	"#flowsort=-sni beside a file filter: the hostile SNI first, as text"
flowsort fl-bad '#flowsort=nosuchcol' 'first:asc | 53 4444 80 | ' "an unknown column: the default order"
DOM=$(cat "$T_DIR/fl-sni.dom" 2>/dev/null)
like "$DOM" '<title>EVIDENCE DID NOT VERIFY' "the hostile SNI ran nothing (the title is ours)"
like "$DOM" 'id="fstatus"[^>]*>showing 12 of 12 matching' "the file filter still applies beside flowsort"
CONSOLE=$(grep -E 'CONSOLE|Uncaught|Content Security Policy' "$T_DIR"/fl-*.err 2>/dev/null)
is "$CONSOLE" "" "no console message in the flows runs"

if [ -z "$_t_skip_reason" ]; then chrome shot '' --screenshot="$T_DIR/report.png" --window-size=1280,2000; fi
ok "a screenshot is written ($T_DIR/report.png)" sh -c "head -c 8 '$T_DIR/report.png' | od -An -c | grep -q 'P   N   G'"
CONSOLE=$(grep -E 'CONSOLE|Uncaught' "$T_DIR/added.err" "$T_DIR/sorted.err" "$T_DIR/shot.err" 2>/dev/null)
is "$CONSOLE" "" "no console message in the filtered, sorted and screenshot runs"

# ---- a verified bag: no warning anywhere ----
section "a verified report"
jq '.bag.verified = true | .bag.verdict = "valid" | .bag.problems = [] | .bag.forced = false' "$FIX" >"$T_DIR/ok.json"
run report-driver "$T_DIR/ok.json" "$T_DIR/ok"
is "$RC" 0 "report-driver on the verified report: $ERR"
is "$(head -1 "$T_DIR/ok/report.md")" "# contain analysis: compromised" "report.md's first line is the verdict alone"
is "$(grep -l 'DID NOT VERIFY' "$T_DIR"/ok/report.md "$T_DIR"/ok/report.html "$T_DIR"/ok/timeline.csv "$T_DIR"/ok/bodyfile)" "" \
	"no file says the evidence did not verify"

done_testing

#!/bin/bash
# bench_capture: contain capture (the shipped $CONTAIN, whole process) of
# runc containers, by the rules of tests/bench/benchlib.sh (alternating
# rounds, medians, every exit status checked, load average before and after),
# against the peer the issue names, same input, in the same run. Rows:
#  fs     the overlay upperdir (4 large files and 10,000 small ones, ~1.4 GiB,
#         written through the merged root, page cache warm) captured as a
#         stream: `capture REF -o - --no-memory --no-pcap --no-quarantine
#         >/dev/null` vs `tar -C UPPER -cf - . | sha256sum`; and its rate
#         against the one-core SHA-256 rate (openssl speed, 8 KiB blocks)
#  bag    the same capture into a bag directory (durable when capture
#         returns) vs `cp -r UPPER DEST && sync -f DEST`
#  mem    one process with 1 GiB of non-zero memory: capture --no-fs into a
#         bag directory (hashed, durable) vs `gcore` of the same running
#         process, plain and followed by `sync -f` (the same durability)
#  mem8   8 processes x 128 MiB: capture --no-fs as a stream (>/dev/null)
#         against the two-core SHA rate
#  growth capture (memory on, bag directory) of containers with 20 and 200
#         processes: time per process and per GiB of cores
# BENCH_PARTS="fs bag mem mem8 growth" (the default: all) picks rows.
# Take `flock /tmp/contain-bench.lock` around it on a shared machine.
set -u
cd "$(dirname "$0")/../.."
CONTAIN_TOP=$PWD
CONTAIN=${CONTAIN:-$PWD/contain}
export CONTAIN_TOP CONTAIN
. tests/bench/benchlib.sh
PARTS=" ${BENCH_PARTS:-fs bag mem mem8 growth} "
want() { [[ "$PARTS" == *" $1 "* ]]; }
for c in runc jq openssl tar sha256sum split gcore awk; do
	command -v "$c" >/dev/null || { echo "bench_capture: no $c"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench_capture: needs root"; exit 1; }
[ -x "$CONTAIN" ] || { echo "bench_capture: no $CONTAIN (make)"; exit 1; }
# the integration helpers make and clean up the containers (TAP-free use)
. tests/lib/lib.sh
. tests/lib/containers.sh
fixtures_ready || { echo "bench_capture: no fixtures (run fixtures/build.sh)"; exit 1; }
MT=$FIXTURE_ROOTFS/usr/bin/memtarget
[ -x "$MT" ] || { echo "bench_capture: no memtarget in the fixture image"; exit 1; }
W=$T_DIR/w
mkdir -p "$W"

# CPU seconds too (user+sys of the whole command, children included): on a
# shared machine wall time moves with the load, CPU time much less.
# cpu NAME CMD: CMD wrapped so that its CPU seconds go to $W/cpu.NAME;
# cpu_med NAME: their median
cpu() { printf '{ TIMEFORMAT="%%U %%S"; time ( %s ); } 2>>"%s/cpu.%s"' "$2" "$W" "$1"; }
cpu_med() {
	awk '/^[0-9.]+ [0-9.]+$/ {print $1 + $2}' "$W/cpu.$1" | bench_median
	rm -f "$W/cpu.$1"
}
gib() { awk -v b="$1" 'BEGIN {printf "%.2f", b / 1073741824}'; }
mbs() { awk -v b="$1" -v t="$2" 'BEGIN {printf "%.0f", b / t / 1e6}'; }
# the summed size of the cores a bag holds
core_bytes() { find "$1/data/memory" -type f -name '*.core' -printf '%s\n' 2>/dev/null |
	awk '{s += $1} END {printf "%.0f\n", s}'; }
# wait until N memtargets in cgroup CG have written their address files
wait_mt() { # MERGED N
	local i
	for i in $(seq 600); do
		[ "$(ls "$1"/tmp/mt*.addr 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "bench_capture: memtargets did not start" >&2
	return 1
}

bench_load before
SHA=$(bench_sha_rate)
[ -n "$SHA" ] || { echo "bench_capture: openssl speed gave no rate"; exit 1; }
echo "one-core SHA-256 rate (openssl speed -evp sha256, 8 KiB): $(mbs "$SHA" 1) MB/s"

# ---- the fs layer ---------------------------------------------------------
if want fs || want bag; then
	runc_run "bench-cap-fs-$$" >/dev/null || { echo "bench_capture: cannot start a runc container"; exit 1; }
	FSCID=$CID UP=$CUPPER
	D=$CMERGED/data
	mkdir -p "$D"
	# deterministic pseudo-random bytes, fast: AES-CTR of zeros
	prng() { # SEED BYTES
		openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
			-iv "$(printf '%032x' "$1")" </dev/zero 2>/dev/null | head -c "$2"
	}
	for i in 1 2 3 4; do prng "$i" $((320 << 20)) >"$D/large$i.bin"; done
	prng 99 $((32 << 20)) >"$W/blob"
	for d in $(seq 0 99); do
		mkdir "$D/dir$d"
		b=$((1000 + (d * 2333) % 24000))
		# 100 files of b bytes each, cut from the blob at a per-dir offset
		tail -c +$((d * 4096 + 1)) "$W/blob" | head -c $((100 * b)) |
			split -a 3 -b "$b" - "$D/dir$d/f"
	done
	rm -f "$W/blob"
	sync
	files=$(find "$UP" -type f | wc -l)
	bytes=$(find "$UP" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
	find "$UP" -type f -print0 | xargs -0 cat >/dev/null # the page cache warm
	echo "upperdir: $files files, $bytes bytes ($(gib "$bytes") GiB)"
	# the capture is checked once, untimed: a bag that verifies, the layer in it
	"$CONTAIN" capture "$FSCID" -o "$W/check" --no-memory --no-pcap --no-quarantine >/dev/null 2>&1 ||
		{ echo "bench_capture: the capture failed"; exit 1; }
	"$CONTAIN" verify "$W/check" >/dev/null || { echo "bench_capture: the bag does not verify"; exit 1; }
	n=$(jq '[.. | objects | select(.type? == "file")] | length' "$W/check/data/fs/files.json" 2>/dev/null)
	echo "check: the bag verifies; files.json lists $n regular files"
	rm -rf "$W/check"
fi
if want fs; then
	echo "-- fs layer as a stream (-o - >/dev/null) vs tar -cf - . | sha256sum"
	bench_alternate \
		tar "$(cpu tar "tar -C '$UP' -cf - . 2>/dev/null | sha256sum >/dev/null; [ \${PIPESTATUS[0]} -eq 0 ]")" \
		capture "$(cpu capture "'$CONTAIN' capture '$FSCID' -o - --no-memory --no-pcap --no-quarantine >/dev/null 2>&1")"
	echo "cpu seconds (user+sys, median): tar | sha256sum $(cpu_med tar), capture $(cpu_med capture)"
	echo "tar | sha256sum: ${MED[tar]} s ($(mbs "$bytes" "${MED[tar]}") MB/s); capture: ${MED[capture]} s ($(mbs "$bytes" "${MED[capture]}") MB/s)"
	echo "floor: every byte is hashed twice (each file for files.json, the layer tar for the" \
		"bag's manifest), both on the layer's writer thread in one pass: two SHA-256 states" \
		"interleaved on one core (sha256x_update2, about 0.75x the one-state rate per state" \
		"here): about $(awk -v b="$bytes" -v s="$SHA" 'BEGIN {printf "%.2f", b / (0.75 * s)}') s" \
		"on that thread, so at most about 0.75x the one-core rate; the reads (a page-cache" \
		"copy), the walk and the headers run on the other core, the sizing pass before"
	bench_goal "fs capture stream vs tar|sha256sum (times faster)" "$(bench_ratio "${MED[tar]}" "${MED[capture]}")" ">=" 3 x
	bench_goal "fs capture stream rate / one-core SHA rate" \
		"$(awk -v b="$bytes" -v t="${MED[capture]}" -v s="$SHA" 'BEGIN {print b / t / s}')" ">=" 0.9 x
fi
if want bag; then
	echo "-- fs layer into a bag directory (durable) vs cp -r + sync -f"
	BENCH_BETWEEN="rm -rf '$W/bag' '$W/cp'; sync"
	bench_alternate \
		cp "$(cpu cp "cp -r '$UP' '$W/cp' && sync -f '$W/cp'")" \
		capture "$(cpu capture "'$CONTAIN' capture '$FSCID' -o '$W/bag' --no-memory --no-pcap --no-quarantine >/dev/null 2>&1")"
	echo "cpu seconds (user+sys, median): cp -r + sync -f $(cpu_med cp), capture $(cpu_med capture)"
	BENCH_BETWEEN=
	rm -rf "$W/bag" "$W/cp"
	echo "cp -r + sync -f: ${MED[cp]} s; capture into a bag directory: ${MED[capture]} s"
	bench_goal "fs capture into a bag dir / cp -r + sync -f (time)" "$(bench_ratio "${MED[capture]}" "${MED[cp]}")" "<=" 1.2 x
fi
if want fs || want bag; then
	runc_cleanup "bench-cap-fs-$$"
fi

# ---- memory ---------------------------------------------------------------
if want mem; then
	echo "-- memory of one 1 GiB process into a bag directory vs gcore"
	cat >"$W/extra1" <<'X'
#!/bin/sh
/usr/bin/memtarget --alloc 1024 --addr-file /tmp/mt0.addr >/dev/null 2>&1 &
wait
X
	runc_run "bench-cap-m1-$$" --extra "$W/extra1" >/dev/null || { echo "bench_capture: cannot start a runc container"; exit 1; }
	wait_mt "$CMERGED" 1 || exit 1
	M1CID=$CID
	CG2=$(cg2_root)/contain-test/bench-cap-m1-$$
	P=""
	for p in $(cat "$CG2/cgroup.procs"); do
		case "$(readlink "/proc/$p/exe")" in */memtarget) P=$p ;; esac
	done
	[ -n "$P" ] || { echo "bench_capture: no memtarget pid"; exit 1; }
	"$CONTAIN" capture "$M1CID" -o "$W/check" --no-fs --no-pcap --no-quarantine >/dev/null 2>&1 ||
		{ echo "bench_capture: the memory capture failed"; exit 1; }
	"$CONTAIN" verify "$W/check" >/dev/null || { echo "bench_capture: the bag does not verify"; exit 1; }
	mb=$(core_bytes "$W/check")
	echo "memtarget pid $P: VmRSS $(awk '/^VmRSS/ {print $2}' "/proc/$P/status") kB; the bag's cores: $mb bytes"
	rm -rf "$W/check"
	BENCH_BETWEEN="rm -rf '$W/bag' '$W/gc'* '$W/dd'; sync"
	# the disk's floor: the same bytes written and made durable by dd,
	# neither read nor hashed: 4 MiB O_DIRECT writes (buffered writes into
	# fresh page cache cost 0.4-1.7 s of CPU a GiB in this VM, run to run)
	bench_alternate \
		gcore "$(cpu gcore "gcore -o '$W/gc' $P >/dev/null 2>&1")" \
		gcoresync "gcore -o '$W/gc' $P >/dev/null 2>&1 && sync -f '$W/gc.$P'" \
		ddsync "dd if=/dev/zero of='$W/dd' bs=4M count=$(((mb + 4194303) / 4194304)) oflag=direct conv=fdatasync 2>/dev/null" \
		capture "$(cpu capture "'$CONTAIN' capture '$M1CID' -o '$W/bag' --no-fs --no-pcap --no-quarantine >/dev/null 2>&1")"
	echo "cpu seconds (user+sys, median): gcore $(cpu_med gcore), capture $(cpu_med capture)"
	BENCH_BETWEEN=
	rm -rf "$W/bag" "$W/gc"* "$W/dd"
	echo "gcore: ${MED[gcore]} s; gcore + sync -f: ${MED[gcoresync]} s; capture --no-fs into a bag directory: ${MED[capture]} s ($(mbs "$mb" "${MED[capture]}") MB/s)"
	echo "disk floor (dd oflag=direct conv=fdatasync of the same bytes): ${MED[ddsync]} s ($(mbs "$mb" "${MED[ddsync]}") MB/s:" \
		"$(awk -v b="$mb" -v t="${MED[ddsync]}" -v s="$SHA" 'BEGIN {printf "%.2f", b / t / s}')x the one-core SHA rate at most," \
		"$(bench_ratio "${MED[ddsync]}" "${MED[gcore]}")x gcore at least); capture / floor: $(bench_ratio "${MED[capture]}" "${MED[ddsync]}")x"
	bench_goal "memory 1 GiB rate / one-core SHA rate" \
		"$(awk -v b="$mb" -v t="${MED[capture]}" -v s="$SHA" 'BEGIN {print b / t / s}')" ">=" 0.85 x
	bench_goal "memory 1 GiB / gcore (time)" "$(bench_ratio "${MED[capture]}" "${MED[gcore]}")" "<=" 1.0 x
	bench_goal "memory 1 GiB / gcore + sync -f (time)" "$(bench_ratio "${MED[capture]}" "${MED[gcoresync]}")" "<=" 1.0 x
	runc_cleanup "bench-cap-m1-$$"
fi
if want mem8; then
	echo "-- memory of 8 processes x 128 MiB as a stream (-o - >/dev/null)"
	{
		echo '#!/bin/sh'
		for i in 0 1 2 3 4 5 6 7; do
			echo "/usr/bin/memtarget --alloc 128 --addr-file /tmp/mt$i.addr >/dev/null 2>&1 &"
		done
		echo wait
	} >"$W/extra8"
	runc_run "bench-cap-m8-$$" --extra "$W/extra8" >/dev/null || { echo "bench_capture: cannot start a runc container"; exit 1; }
	wait_mt "$CMERGED" 8 || exit 1
	M8CID=$CID
	"$CONTAIN" capture "$M8CID" -o "$W/check" --no-fs --no-pcap --no-quarantine >/dev/null 2>&1 ||
		{ echo "bench_capture: the memory capture failed"; exit 1; }
	"$CONTAIN" verify "$W/check" >/dev/null || { echo "bench_capture: the bag does not verify"; exit 1; }
	mb=$(core_bytes "$W/check")
	echo "the bag's cores: $mb bytes"
	rm -rf "$W/check"
	BENCH_BETWEEN="rm -rf '$W/bag'; sync"
	bench_alternate \
		capture "$(cpu capture "'$CONTAIN' capture '$M8CID' -o - --no-fs --no-pcap --no-quarantine >/dev/null 2>&1")" \
		bagdir "'$CONTAIN' capture '$M8CID' -o '$W/bag' --no-fs --no-pcap --no-quarantine >/dev/null 2>&1"
	BENCH_BETWEEN=
	echo "cpu seconds (user+sys, median): capture -o - $(cpu_med capture)"
	rm -rf "$W/bag"
	echo "capture -o -: ${MED[capture]} s ($(mbs "$mb" "${MED[capture]}") MB/s); into a bag directory (durable): ${MED[bagdir]} s ($(mbs "$mb" "${MED[bagdir]}") MB/s)"
	echo "floor: a tar stream takes one core file at a time and each is hashed by one thread" \
		"(SHA-256 is serial): at most the one-core rate, 0.50x the two-core rate"
	bench_goal "memory 8 x 128 MiB stream rate / two-core SHA rate" \
		"$(awk -v b="$mb" -v t="${MED[capture]}" -v s="$SHA" 'BEGIN {print b / t / (2 * s)}')" ">=" 0.8 x
	runc_cleanup "bench-cap-m8-$$"
fi

# ---- growth ---------------------------------------------------------------
if want growth; then
	echo "-- growth: capture (memory on, bag directory, --no-fs --no-pcap --no-quarantine)"
	printf '%-10s %10s %12s %12s %14s %10s %14s\n' processes seconds 's/process' 'core GiB' 's/GiB' 'cpu s' 'cpu s/process'
	for n in 20 200; do
		{
			echo '#!/bin/sh'
			echo "i=1; while [ \$i -lt $n ]; do sleep 100000 & i=\$((i + 1)); done"
			echo wait
		} >"$W/extrag"
		runc_run "bench-cap-g$n-$$" --extra "$W/extrag" >/dev/null || { echo "bench_capture: cannot start a runc container"; exit 1; }
		CG2=$(cg2_root)/contain-test/bench-cap-g$n-$$
		for _ in $(seq 300); do [ "$(wc -l <"$CG2/cgroup.procs")" -ge "$n" ] && break; sleep 0.1; done
		np=$(wc -l <"$CG2/cgroup.procs")
		BENCH_BETWEEN="rm -rf '$W/bag'; sync"
		bench_alternate capture "$(cpu capture "'$CONTAIN' capture '$CID' -o '$W/bag' --no-fs --no-pcap --no-quarantine >/dev/null 2>&1")"
		c=$(cpu_med capture)
		BENCH_BETWEEN=
		rm -rf "$W/bag"
		"$CONTAIN" capture "$CID" -o "$W/bag" --no-fs --no-pcap --no-quarantine >/dev/null 2>&1 ||
			{ echo "bench_capture: the capture failed"; exit 1; }
		mb=$(core_bytes "$W/bag")
		rm -rf "$W/bag"
		t=${MED[capture]}
		awk -v n="$np" -v t="$t" -v b="$mb" -v c="$c" 'BEGIN {printf "%-10d %10.3f %12.4f %12.3f %14.2f %10.2f %14.4f\n",
			n, t, t / n, b / 1073741824, (b > 0) ? t / (b / 1073741824) : 0, c, c / n}'
		runc_cleanup "bench-cap-g$n-$$"
	done
fi
bench_load after

#!/usr/bin/env bash
# tests/bench/blk_bench.sh - virtio-blk throughput and IOPS from the guest
# (the blk-bench workload: sequential and random reads and writes of 4 KiB,
# 64 KiB and 1 MiB) beside fio on the same image file on the host, the
# limit, as a table with the ratio. `make bench` runs it (tests/tests.mk
# BENCH_SCRIPTS).
#
# Both sides run buffered I/O on an image that is in the host page cache
# (fio --invalidate=0, as the guest's reads find it), for the same time and
# queue depth. The host figure is the better of fio's pvsync2 (one thread,
# one request at a time: what the device's I/O thread does) and io_uring
# (the whole queue depth in flight). The machine is shared, so the two
# sides alternate for several rounds and each keeps its best round.
#
# Goals (issue 10): 1 MiB sequential >= 80% of the host's throughput; 4 KiB
# random with 32 in flight >= 50% of the host's IOPS.
#
#   BLK_BENCH_SECS=N   seconds per case and side (default 1)
#   BLK_BENCH_ROUNDS=N rounds, the best of which counts (default 3)
#   BLK_BENCH_MIB=N    image size (default 256)
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
# shellcheck source=tests/bench/bench_goal.sh
. "$(dirname "$0")/bench_goal.sh"
SECS=${BLK_BENCH_SECS:-1}
ROUNDS=${BLK_BENCH_ROUNDS:-3}
MIB=${BLK_BENCH_MIB:-256}
TMP=$(mktemp -d /var/tmp/blk-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
IMG=$TMP/disk.img

if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "blk bench: SKIPPED (no usable /dev/kvm)"
	exit 0
fi
if ! command -v fio >/dev/null; then
	echo "blk bench: SKIPPED (no fio: scripts/install-deps.sh --bench)"
	exit 0
fi

# Real data (a sparse file would read its holes without the page cache).
head -c $((MIB << 20)) /dev/urandom >"$IMG"
cat "$IMG" >/dev/null

# guest_round: one run of the blk-bench workload, appending
# "rw bs qd iops" lines to guest.cases.
guest_round() {
	local rc
	"$VMM" run --mem 512M --timeout 600 --disk "$IMG" \
		--cmdline "workload=blk-bench blk-bench.secs=$SECS blk-bench.mib=$MIB" \
		"$GUEST" >"$TMP/guest.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q '^blk-bench: done' "$TMP/guest.log"; then
		echo "blk bench: the guest failed (exit $rc):"
		cat "$TMP/guest.log"
		exit 1
	fi
	sed -n 's/^blk-bench: rw=\([a-z]*\) bs=\([0-9]*\) qd=\([0-9]*\) iops=\([0-9]*\) .*$/\1 \2 \3 \4/p' \
		"$TMP/guest.log" >>"$TMP/guest.cases"
}

# fio_iops RW BS QD ENGINE: the host's IOPS for one case.
fio_iops() {
	fio --name=host --filename="$IMG" --rw="$1" --bs="$2" --iodepth="$3" \
		--ioengine="$4" --direct=0 --invalidate=0 --time_based \
		--runtime="$SECS" --size="${MIB}M" --output-format=terse \
		--terse-version=3 --output="$TMP/fio.out" >/dev/null 2>&1 ||
		{ echo 0; return; }
	# terse v3: field 8 read IOPS, field 49 write IOPS.
	awk -F';' '/^3;/ { printf "%d\n", $8 + $49; exit }' "$TMP/fio.out"
}

# host_round: every case of the guest's list on fio, both engines, appending
# "rw bs qd iops engine" lines to host.cases.
host_round() {
	local rw bs qd e
	sort -u -k1,3 "$TMP/guest.cases" | while read -r rw bs qd _; do
		for e in pvsync2 io_uring; do
			echo "$rw $bs $qd $(fio_iops "$rw" "$bs" "$qd" "$e") $e"
		done
	done >>"$TMP/host.cases"
}

: >"$TMP/guest.cases"
: >"$TMP/host.cases"
for _ in $(seq "$ROUNDS"); do
	guest_round
	host_round
done

printf '%-10s %8s %4s | %10s %9s | %10s %9s %-8s | %6s\n' \
	rw bs qd 'guest MB/s' 'IOPS' 'host MB/s' 'IOPS' engine ratio
# Best round of each side per case, in the guest's order.
awk 'FNR == NR {
	k = $1 " " $2 " " $3
	if (!(k in g)) order[n++] = k
	if ($4 > g[k]) g[k] = $4
	next
}
{
	k = $1 " " $2 " " $3
	if ($4 > h[k]) { h[k] = $4; e[k] = $5 }
}
END {
	for (i = 0; i < n; i++) {
		k = order[i]
		split(k, f, " ")
		printf "%-10s %8d %4d | %10.1f %9d | %10.1f %9d %-8s | %5.0f%%\n",
			f[1], f[2], f[3], g[k] * f[2] / 1e6, g[k],
			h[k] * f[2] / 1e6, h[k], e[k], h[k] ? 100 * g[k] / h[k] : 0
	}
}' "$TMP/guest.cases" "$TMP/host.cases" | tee "$TMP/table"
echo "(best of $ROUNDS rounds of $SECS s per case; load average now" \
	"$(cut -d' ' -f1-3 /proc/loadavg))"

# The goals, from the table: one line per case with a goal.
echo
awk '
$1 ~ /^(read|write)$/ && $2 == 1048576 { print "1 MiB sequential " $1 "|" $NF "|80" }
$1 ~ /^rand/ && $2 == 4096 && $3 == 32 { print "4 KiB " $1 ", 32 in flight|" $NF "|50" }
' "$TMP/table" | while IFS='|' read -r what pct goal; do
	printf '%-32s %6s of the host  %s\n' "$what" "$pct" \
		"$(bench_goal "${pct%\%}" '>=' "$goal" '%')"
done

#!/usr/bin/env bash
# tests/bench/seccomp_bench.sh - what the seccomp filters cost (docs/vmm.md
# "Least privilege"): the same runs with the filters (the default) and with
# --no-seccomp, alternated, medians and the ratio.
#   - boot: exec to exit of `vmm run` (workload hello), which includes
#     building the eight filters and installing one per thread;
#   - one VM exit: the pvmem doorbell round trip of workload=pvbench at
#     batch 1 (two exits per page, each an ioctl(KVM_RUN) return and entry
#     through the vCPU's filter), as the guest measures it;
#   - virtio-blk: 4 KiB random reads from the guest (blk-bench), whose I/O
#     thread runs preadv and KVM_IRQ_LINE through its filter.
# Goal: each ratio (with / without) <= 1.05. Uses $BUILD (default build).
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
RUNS=${SECCOMP_BENCH_RUNS:-7}
# shellcheck source=tests/bench/bench_goal.sh
. "$(dirname "$0")/bench_goal.sh"

if ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; then
	echo "!!! seccomp_bench: /dev/kvm is missing or not accessible: SKIPPED !!!"
	exit 0
fi
TMP=$(mktemp -d /tmp/buddyvm-seccomp-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
truncate -s 64M "$TMP/disk.img"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run ARGS...: one vmm run; its output in $out (fails the bench otherwise).
run() {
	out=$("$VMM" run --timeout 300 "$@" "$GUEST" 2>&1)
	local status=$?
	if [ $status -ne 0 ]; then
		echo "seccomp_bench: vmm run $* exited $status" >&2
		echo "$out" >&2
		exit 1
	fi
}

# One sample of each figure per mode; the modes alternate so that a load
# change on this shared machine hits both alike.
for _ in $(seq "$RUNS"); do
	for mode in on off; do
		opt=()
		[ $mode = off ] && opt=(--no-seccomp)
		for _ in 1 2 3; do # boots are short: three samples each
			t0=$EPOCHREALTIME
			run "${opt[@]}"
			t1=$EPOCHREALTIME
			awk -v a="$t0" -v b="$t1" \
				'BEGIN { printf "%.2f\n", (b - a) * 1000 }' >>"$TMP/boot.$mode"
		done
		run "${opt[@]}" --cmdline 'workload=pvbench pvmem.rings=0'
		sed -nE 's/^pvbench: interface +batch +1: +([0-9.]+) ns\/page.*/\1/p' \
			<<<"$out" | awk '{ printf "%.2f\n", $1 / 2000 }' >>"$TMP/exit.$mode"
		run "${opt[@]}" --disk "$TMP/disk.img" --cmdline \
			'workload=blk-bench blk-bench.rw=randread blk-bench.bs=4096 blk-bench.secs=1'
		sed -nE 's/^blk-bench: rw=randread bs=4096 .*iops=([0-9]+).*/\1/p' \
			<<<"$out" | head -1 >>"$TMP/blk.$mode"
	done
done

row() { # NAME UNIT FILE-STEM HIGHER-IS-BETTER
	local on off ratio
	on=$(median <"$TMP/$3.on")
	off=$(median <"$TMP/$3.off")
	if [ -z "$on" ] || [ -z "$off" ]; then
		printf '%-28s %12s %12s %8s  %s\n' "$1 ($2)" '?' '?' '?' \
			"$(bench_goal x '<=' 1.05 x)"
		return
	fi
	# The cost as a ratio >= 1 means slower with the filters.
	ratio=$(awk -v a="$on" -v b="$off" -v h="$4" \
		'BEGIN { printf "%.3f", h ? b / a : a / b }')
	printf '%-28s %12s %12s %8s  %s\n' "$1 ($2)" "$on" "$off" "$ratio" \
		"$(bench_goal "$ratio" '<=' 1.05 x)"
}

echo "seccomp filters: medians of $RUNS alternated runs each (boot: $((RUNS * 3))), with and without (--no-seccomp)"
printf '%-28s %12s %12s %8s  %s\n' figure 'filters on' 'off' 'cost' 'goal (cost = on/off, or off/on for IOPS)'
row "boot, exec to exit" ms boot 0
row "doorbell exit round trip" us exit 0
row "blk 4K random read" IOPS blk 1

#!/usr/bin/env bash
# tests/bench/contig_bench.sh - one 64 MiB contiguous DMA buffer in a
# fragmented 2 GiB guest (workload=fragment: a page cache of movable
# buffers with holes, slab objects, one unmovable page kept in every other
# pageblock), timed by the guest from the request to the zeroed buffer,
# migration of the movable frames in the way included. Both memory models,
# 3 runs each (a fresh guest per run); the table row gives the median and
# the worst. `make bench` runs it (tests/tests.mk BENCH_SCRIPTS).
#
# Goal: <= 100 ms (issue 9). Reproduce one run:
#   build/vmm run --mem 2G --cmdline 'workload=fragment fragment.sizes=64
#   fragment.reps=1' build/guest.elf
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
# shellcheck source=tests/bench/bench_goal.sh
. "$(dirname "$0")/bench_goal.sh"
RUNS=${CONTIG_BENCH_RUNS:-3}

if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "contig bench: SKIPPED (no usable /dev/kvm)"
	exit 0
fi

# One run: "latency_us migrated_frames status", or nothing if it failed.
one_run() {
	timeout 300 "$VMM" run --mem 2G --memory-model "$1" --timeout 240 \
		--cmdline 'workload=fragment fragment.sizes=64 fragment.reps=1' \
		"$GUEST" 2>&1 |
		sed -nE 's/^fragment: dma size_mib 64 try 0 status (-?[0-9]+) us ([0-9]+) migrated_frames ([0-9]+).*/\2 \3 \1/p'
}

echo "contig: one 64 MiB DMA buffer in a fragmented 2 GiB guest (goal <= 100 ms)"
printf '%-8s %10s %10s %16s %8s  %s\n' model median_ms worst_ms migrated_frames \
	status 'goal (on the median)'
rc=0
for model in hosted native; do
	lat=() mig=0 st=0
	for _ in $(seq "$RUNS"); do
		read -r us frames status < <(one_run "$model")
		if [ -z "${us:-}" ] || [ "$status" -ne 0 ]; then
			st=${status:-fail}
			rc=1
			continue
		fi
		lat+=("$us")
		mig=$frames
	done
	if [ ${#lat[@]} -eq 0 ]; then
		printf '%-8s %10s %10s %16s %8s  %s\n' "$model" - - - "$st" \
			"$(bench_goal - '<=' 100 ms)"
		continue
	fi
	mapfile -t sorted < <(printf '%s\n' "${lat[@]}" | sort -n)
	med=${sorted[$(((${#sorted[@]} - 1) / 2))]}
	awk -v m="$model" -v med="$med" \
		-v worst="${sorted[-1]}" -v mig="$mig" -v st="$st" 'BEGIN {
		printf "%-8s %10.1f %10.1f %16d %8s  ", m, med / 1000,
			worst / 1000, mig, st }'
	bench_goal "$(awk -v u="$med" 'BEGIN { printf "%.1f", u / 1000 }')" \
		'<=' 100 ms
done
exit $rc

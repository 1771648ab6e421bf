#!/usr/bin/env bash
# tests/bench/hosted_bench.sh - the hosted memory model end to end, under KVM:
# pages per second through the pvmem interface as the guest measures them
# (workload=pvbench, rdtsc calibrated on the LAPIC timer), and host RSS of
# guest RAM against what the guest still holds after it freed 128 MiB
# (vmm --stats). Prints a table with the goals. Uses $BUILD (default build).
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf

if ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; then
	echo "!!! hosted_bench: /dev/kvm is missing or not accessible: SKIPPED !!!"
	exit 0
fi

out=$("$VMM" run --mem 256M --stats --check --timeout 120 \
	--cmdline workload=pvbench "$GUEST" 2>&1)
status=$?
if [ $status -ne 0 ]; then
	echo "hosted_bench: vmm exited $status" >&2
	echo "$out" >&2
	exit 1
fi

field() { awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"; }

echo "hosted memory: guest-measured cost per order-0 page (ALLOC + FREE)"
grep '^pvbench: TSC' <<<"$out"
printf '%-11s %6s %12s %12s %14s  %s\n' path batch 'ns/page' 'of it FREE' \
	'doorbells/page' 'goal <= 100 ns'
sed -nE 's/^pvbench: (interface|page cache) +batch +([0-9]+): +([0-9.]+) ns\/page \(alloc\+free; free ([0-9.]+)\), ([0-9.]+) doorbells\/page/\1|\2|\3|\4|\5/p' <<<"$out" |
	while IFS='|' read -r path batch ns fns db; do
		met=$(awk -v n="$ns" 'BEGIN { print (n <= 100) ? "met" : "NOT met" }')
		printf '%-11s %6s %12s %12s %14s  %s\n' "${path/ /-}" "$batch" \
			"$ns" "$fns" "$db" "$met"
	done

rss=$(field ram_resident_bytes)
held=$(field guest_held_bytes)
reserved=$(field reserved_bytes)
echo
echo "host RSS of guest RAM after the guest touched and freed 128 MiB"
awk -v rss="$rss" -v held="$held" -v res="$reserved" 'BEGIN {
	h = held + res; limit = h * 1.02 + 4 * 1048576
	printf "%-28s %10.1f MiB\n", "guest holds (pages + image)", h / 1048576
	printf "%-28s %10.1f MiB\n", "host RSS of guest RAM", rss / 1048576
	printf "%-28s %10.1f MiB  %s\n", "goal: <= held x 1.02 + 4 MiB",
		limit / 1048576, (rss <= limit) ? "met" : "NOT met"
}'

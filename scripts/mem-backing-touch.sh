#!/usr/bin/env bash
# scripts/mem-backing-touch.sh - the table in docs/vmm.md "Guest RAM
# backing": touching and releasing 1 GiB on each host backing, by the host
# itself and by the guest (workload=balloon balloon.touch=1024 times its own
# allocate-and-write loop with the TSC), in both memory models.
#
#   BUILD=build scripts/mem-backing-touch.sh [RUNS]   (default 3; medians)
#
# The host part is tests/bench/host_touch.c, built into $BUILD/mem_touch
# here: it maps 1 GiB as vmm/guest_mem.c does for each backing, writes one
# byte per 4 KiB page, then releases it all as guest_mem_discard() does;
# twice, and reports the second (warm) round. Runs
# alternate between backings, so a load change hits all of them alike.
set -euo pipefail

BUILD=${BUILD:-build}
RUNS=${1:-3}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
TOUCH=$BUILD/mem_touch
BACKINGS=(anon anon-4k memfd)

cc -O2 -o "$TOUCH" "$(dirname "$0")/../tests/bench/host_touch.c"

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# guest_touch BACKING MODEL: ms the guest took to allocate and write 1 GiB.
guest_touch() {
	timeout 300 "$VMM" run --mem 2G --mem-backing "$1" --memory-model "$2" \
		--cmdline 'workload=balloon balloon.touch=1024 balloon.ms=1' \
		"$GUEST" 2>&1 | sed -n 's/^balloon: touched 1024 MiB in \([0-9]*\) ms$/\1/p'
}

declare -A host_touch host_release guest_native guest_hosted
for _ in $(seq "$RUNS"); do
	for b in "${BACKINGS[@]}"; do
		read -r t r < <("$TOUCH" "$b")
		host_touch[$b]+="$t "
		host_release[$b]+="$r "
		guest_native[$b]+="$(guest_touch "$b" native) "
		guest_hosted[$b]+="$(guest_touch "$b" hosted) "
	done
done

echo "| backing | host touch 1 GiB | host release 1 GiB | guest touch 1 GiB, native | guest touch 1 GiB, hosted |"
echo "| --- | --- | --- | --- | --- |"
for b in "${BACKINGS[@]}"; do
	m() { tr ' ' '\n' <<<"$1" | grep . | median; }
	echo "| $b | $(m "${host_touch[$b]}") ms | $(m "${host_release[$b]}") ms |" \
		"$(m "${guest_native[$b]}") ms | $(m "${guest_hosted[$b]}") ms |"
done
echo "(medians of $RUNS runs; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"

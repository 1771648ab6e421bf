# tests/integration/mem_backing.tests.sh - guest RAM on each host backing
# (vmm run --mem-backing), sourced by run.sh after balloon.tests.sh (uses
# its bal_start, bal_wait_ready, bal_json, bal_stop).

HUGETLB_FREE=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages

# mb_anon_huge_kib PID: AnonHugePages (KiB) of the VMM under `timeout` PID.
mb_anon_huge_kib() {
	local vmm_pid
	vmm_pid=$(pgrep -P "$1" | head -1)
	awk '/^AnonHugePages:/ { print $2 }' "/proc/$vmm_pid/smaps_rollup" \
		2>/dev/null || echo 0
}

# mb_thp_usable: the host gives transparent huge pages to MADV_HUGEPAGE.
mb_thp_usable() {
	! grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled \
		2>/dev/null
}

# mb_inflate BACKING: boot 512M on BACKING, touch it all, inflate 256M: the
# host's RSS of guest RAM falls by >= 90% of it, --stats names the backing,
# --check is clean. On anon, the touched RAM sits on huge pages (when the
# host has THP).
mb_inflate() {
	local backing=$1 before after huge want=$((256 << 20))
	bal_start --mem 512M --mem-backing "$backing" --stats --check \
		--cmdline 'workload=balloon balloon.touch=100000' || return 1
	bal_wait_ready || return 1
	before=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	huge=$(mb_anon_huge_kib "$bal_pid")
	bal_target 256M 60 || return 1
	after=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	bal_stop
	echo "  $backing: rss $((before >> 20)) MiB -> $((after >> 20)) MiB," \
		"AnonHugePages $((huge >> 10)) MiB"
	# hugetlbfs pages cannot be split: RSS falls because the host releases
	# a 2 MiB page once all of it is in the balloon (docs/ballooning.md).
	if [ "$before" -lt $((400 << 20)) ] ||
		[ $((before - after)) -lt $((want * 9 / 10)) ]; then
		why="guest RSS $before -> $after, want a fall >= 90% of $want"
		return 1
	fi
	case $backing in
	anon) mb_thp_usable && [ "$huge" -lt $((256 << 10)) ] &&
		why="only $huge KiB of AnonHugePages with THP backing" &&
		return 1 ;;
	*) [ "$huge" -ne 0 ] &&
		why="$huge KiB of AnonHugePages on $backing" && return 1 ;;
	esac
	expect 0 "^ram_backing $backing\$" 'at target: target 65536 actual 65536' \
		'^balloon_huge_released [1-9][0-9]+$'
}

test_mem_backing_anon() { mb_inflate anon; }
test_mem_backing_anon_4k() { mb_inflate anon-4k; }
test_mem_backing_memfd() { mb_inflate memfd; }
test_mem_backing_hugetlbfs() { mb_inflate hugetlbfs; }

# Native model on 4K pages: free page reporting releases as on THP.
test_mem_backing_anon_4k_native() {
	local after
	bal_start --mem 512M --mem-backing anon-4k --memory-model native \
		--stats --check --cmdline \
		'workload=balloon balloon.touch=300 balloon.drop=1 balloon.report_ms=1000' ||
		return 1
	bal_wait_ready || return 1
	bal_wait_for 'balloon: reported [0-9]+ pages free' || return 1
	after=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	bal_stop
	if [ "$after" -gt $((100 << 20)) ]; then
		why="guest RSS $after after reporting"
		return 1
	fi
	expect 0 '^ram_backing anon-4k$' 'balloon_failures 0'
}

# Without a pool big enough, hugetlbfs fails at once and says what to do.
test_mem_backing_hugetlbfs_no_pool() {
	run_vmm run --mem 64G --mem-backing hugetlbfs "$GUEST"
	expect 1 'hugetlbfs: the host.s pool of 2 MiB huge pages has [0-9]+ free, the guest needs 32768' \
		'nr_hugepages' 'or use --mem-backing anon'
}

check mem-backing-anon kvm test_mem_backing_anon
check mem-backing-anon-4k kvm test_mem_backing_anon_4k
check mem-backing-memfd kvm test_mem_backing_memfd
check mem-backing-anon-4k-native kvm test_mem_backing_anon_4k_native
check mem-backing-hugetlbfs-no-pool nokvm test_mem_backing_hugetlbfs_no_pool
# mb_hugetlb_pool_grow: as root, grow the host's hugetlb pool by what the
# 512M test needs (the caller puts the old size back); 0 when it has it.
mb_hugetlb_pool_old=''
mb_hugetlb_pool_grow() {
	local nr=/proc/sys/vm/nr_hugepages free
	free=$(cat "$HUGETLB_FREE" 2>/dev/null || echo 0)
	[ "$free" -ge 256 ] && return 0
	[ -w $nr ] || return 1
	mb_hugetlb_pool_old=$(cat $nr)
	echo $((mb_hugetlb_pool_old + 256 - free)) >$nr 2>/dev/null
	[ "$(cat "$HUGETLB_FREE" 2>/dev/null || echo 0)" -ge 256 ]
}
mb_hugetlb_pool_restore() {
	[ -n "$mb_hugetlb_pool_old" ] &&
		echo "$mb_hugetlb_pool_old" >/proc/sys/vm/nr_hugepages
	mb_hugetlb_pool_old=''
}

if [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]}" == *backing* ]] ||
	[[ " ${selected[*]}" == *hugetlb* ]]; then
	if [ $kvm_usable -eq 0 ] || mb_hugetlb_pool_grow; then
		check mem-backing-hugetlbfs kvm test_mem_backing_hugetlbfs
	else
		echo "${YELLOW}SKIP (host hugetlb pool has $(cat "$HUGETLB_FREE" 2>/dev/null || echo 0) free 2 MiB pages, need 256, and cannot grow it): mem-backing-hugetlbfs${RESET}"
		skipped=$((skipped + 1))
	fi
	mb_hugetlb_pool_restore
fi

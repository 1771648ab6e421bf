# tests/integration/hosted.sh - integration tests of the hosted memory model
# (pvmem device, guest page cache, slab/kmalloc/mempool, --mem-limit,
# --stats, --check). Sourced by run.sh, which provides run_vmm, expect,
# usage_test and check; hosted_checks registers the tests.

test_hosted_slab() {
	run_vmm run --check --stats --vcpus 2 --timeout 30 \
		--cmdline 'workload=slab slab.ops=100000' "$GUEST"
	expect 0 'slab: every object checked, caches destroyed' \
		'^task_struct +[0-9]+ +[0-9]+ +3648 ' '^inode_cache ' '^dentry ' \
		'^== buddyinfo ==' '^== zoneinfo ==' '^== pagetypeinfo ==' \
		'^== frames ==' '^== pvmem ==' '^ram_resident_bytes [0-9]+' \
		'^== guest \(publications: 1\) ==' '^slabinfo - version: 2.1' \
		'^== kmalloc ==' '^kmalloc-8k +8192 '
}

test_hosted_kmalloc() {
	run_vmm run --check --timeout 30 --cmdline workload=kmalloc "$GUEST"
	expect 0 'kmalloc: 100000 ops \([0-9]+ krealloc\)' \
		'kmalloc: every buffer checked and freed' '^kmalloc-8k '
}

test_hosted_mempool() {
	run_vmm run --check --mem-limit 16M --timeout 30 \
		--cmdline workload=mempool "$GUEST"
	expect 0 'refused page [0-9]+ with -122 \(EDQUOT, page limit\)' \
		'served 16 pages and 32 objects from the reserves' \
		'allocator serves again' '^bio +'
}

# console=debug: no virtio-console DMA blocks, so every charged page is the
# workload's but the vCPU's page ring (16 FRAME_DMA frames, charged): guest
# == tot_pages - 16 exactly. The ring's supply holds nothing when full: the
# page limit took it back for the doorbell ALLOCs.
test_hosted_pressure_limit() {
	run_vmm run --check --stats --mem-limit 64M --timeout 30 \
		--cmdline 'workload=pressure console=debug' "$GUEST"
	expect 0 'order 9 refused with -122' 'order 4 refused with -122' \
		'order 0 refused with -122' \
		'full +free [0-9]+ guest 16368 tot_pages 16384 max_pages 16384' \
		'all returned, host released the backing' '^max_pages 16384' \
		'^edquot [1-9]'
}

test_hosted_pressure_nomem() {
	run_vmm run --check --mem 64M --timeout 30 --cmdline workload=pressure \
		"$GUEST"
	expect 0 'order 0 refused with -12 ' 'all returned'
}

test_hosted_hostile() {
	run_vmm run --check --stats --timeout 30 --cmdline workload=hostile \
		"$GUEST"
	expect 0 'hostile: all 32 malformed requests refused with the right code' \
		'^tot_pages [0-9]+' '^bad_blocks [1-9]' || return 1
	if grep -q 'WRONG' <<<"$out"; then
		why='a case was not refused as expected'
		return 1
	fi
}

# Reports after free: host RSS of guest RAM follows what the guest holds.
test_hosted_rss_released() {
	run_vmm run --check --stats --mem 256M --timeout 60 \
		--cmdline 'workload=pvbench pvbench.pages=8192' "$GUEST"
	expect 0 'touched and freed 128 MiB' || return 1
	local rss held
	rss=$(awk '$1 == "ram_resident_bytes" { print $2 }' <<<"$out")
	held=$(awk '$1 == "guest_held_bytes" { print $2 }' <<<"$out")
	if [ -z "$rss" ] || [ "$rss" -gt $((held + 16 * 1048576)) ]; then
		why="RSS $rss bytes, guest holds $held: backing not released"
		return 1
	fi
}

# The page rings carry the page cache's traffic: exits per 1000 pages from
# the guest's counters (doorbells + kicks), and the host's ring counters.
# Counters, not time: pvbench's ns figures are not looked at.
pvbench_exits() { # WAVE: exits/1000 pages of that wave's line
	sed -nE "s/^pvbench: page cache wave +$1: .* ([0-9.]+) exits\/1000 pages.*/\1/p" <<<"$out"
}
test_hosted_ring() {
	run_vmm run --check --stats --mem 256M --timeout 120 \
		--cmdline 'workload=pvbench pvbench.pages=65536' "$GUEST"
	expect 0 'page cache wave +512: .* 0\.0 exits/1000 pages \(0 kicks\), ring on' \
		'page cache wave +4096: .* ring on' '^ring_rings 1$' \
		'^ring_taken [1-9][0-9]{4,}$' '^ring_returned [1-9][0-9]{4,}$' \
		'^ring_errors 0$' '^ring_supply_frames 0$' '^op_ring_setup ok 1 err 0$' \
		'^ring_takes [1-9]' || return 1
	local e
	e=$(pvbench_exits 4096)
	if ! awk -v e="$e" 'BEGIN { exit !(e != "" && e <= 5) }'; then
		why="wave 4096: $e exits per 1000 pages, expected <= 5"
		return 1
	fi
	echo "  rings: wave 512 0.0, wave 4096 $e exits/1000 pages"
	run_vmm run --check --stats --mem 256M --timeout 120 \
		--cmdline 'workload=pvbench pvbench.pages=65536 pvmem.rings=0' "$GUEST"
	expect 0 'page cache wave +4096: .* ring off' '^ring_rings 0$' \
		'^op_ring_setup ok 0 err 0$' || return 1
	e=$(pvbench_exits 4096)
	echo "  doorbells: wave 4096 $e exits/1000 pages"
}

test_args_mem_limit_bad() { usage_test "--mem-limit: '12Q' is not a size" --mem-limit 12Q "$GUEST"; }
test_args_mem_limit_unaligned() { usage_test "--mem-limit: '1000' is not a nonzero multiple of 4K" --mem-limit 1000 "$GUEST"; }
test_args_mem_limit_zero() { usage_test "--mem-limit: '0' is not a nonzero" --mem-limit 0 "$GUEST"; }
test_args_mem_limit_above() { usage_test "--mem-limit: .* is more than --mem" --mem 64M --mem-limit 128M "$GUEST"; }
test_args_mem_limit_native() { usage_test "--mem-limit applies to the hosted memory model only" --memory-model native --mem-limit 8M "$GUEST"; }

test_help_hosted() {
	run_vmm run --help
	expect 0 '--mem-limit SIZE' '--stats' '--check'
}

hosted_checks() {
	check hosted-slab kvm test_hosted_slab
	check hosted-kmalloc kvm test_hosted_kmalloc
	check hosted-mempool kvm test_hosted_mempool
	check hosted-pressure-limit kvm test_hosted_pressure_limit
	check hosted-pressure-nomem kvm test_hosted_pressure_nomem
	check hosted-hostile kvm test_hosted_hostile
	check hosted-rss-released kvm test_hosted_rss_released
	check hosted-ring kvm test_hosted_ring
	check args-mem-limit-bad nokvm test_args_mem_limit_bad
	check args-mem-limit-unaligned nokvm test_args_mem_limit_unaligned
	check args-mem-limit-zero nokvm test_args_mem_limit_zero
	check args-mem-limit-above nokvm test_args_mem_limit_above
	check args-mem-limit-native nokvm test_args_mem_limit_native
	check help-hosted nokvm test_help_hosted
}
